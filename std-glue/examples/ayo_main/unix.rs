//! The example itself (Unix only; see `main.rs`).

use std::time::Duration;

use minirt::main_scope::{MainExit, MainScope};
use minirt::time::sleep;

/// Prints when a worker is dropped, however it ends.
struct Cleanup(u32);

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("worker {} cleaned up", self.0);
    }
}

pub fn main() -> MainExit {
    let slow_cleanup = std::env::args().nth(1).as_deref() == Some("slow-cleanup");
    MainScope::new()
        .on_starting(|| async {
            println!("starting");
            Ok(())
        })
        .on_stopping(|| async {
            println!("stopping");
            Ok(())
        })
        .on_stopped(|| async {
            for n in (1..=3).rev() {
                println!("exiting in {n}");
                sleep(Duration::from_millis(10)).await;
            }
            Ok(())
        })
        .run(move |scope| async move {
            for id in 0..2 {
                let cleanup = Cleanup(id);
                scope.spawn(async move {
                    let _cleanup = cleanup;
                    loop {
                        sleep(Duration::from_secs(3600)).await;
                    }
                });
            }
            if slow_cleanup {
                // Work the first signal cannot cancel: the root scope waits.
                scope.spawn(minirt::shield(std::future::pending::<()>()));
            }
            println!("ready");
        })
}
