//! A small, fast stress run for valgrind / sanitizers:
//! `valgrind --leak-check=full --error-exitcode=1 target/debug/stress`.
//!
//! Spawns, wakes, aborts and panics tasks on both runtime kinds, drops the
//! runtimes with tasks still pending, and checks every task's future was
//! dropped; valgrind checks that no memory leaked or was misused.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use minirt::sync::Semaphore;
use minirt::{Builder, Runtime};

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn exercise(rt: Runtime, tasks: usize) {
    let drops = Arc::new(AtomicUsize::new(0));
    let sem = Arc::new(Semaphore::new(2));
    let mut handles = Vec::new();
    for i in 0..tasks {
        let guard = DropCount(Arc::clone(&drops));
        let sem = Arc::clone(&sem);
        handles.push(rt.spawn(async move {
            let _guard = guard;
            let _permit = sem.acquire().await.unwrap();
            minirt::yield_now().await;
            if i % 7 == 0 {
                panic!("stress: planned panic");
            }
            i
        }));
    }
    for h in handles.iter().skip(1).step_by(5) {
        h.abort();
    }
    let finished = rt.block_on(async move {
        let mut n = 0;
        for h in handles {
            if h.await.is_ok() {
                n += 1;
            }
        }
        n
    });
    assert!(finished > 0);
    // Tasks left pending at shutdown must be freed too.
    for _ in 0..tasks / 4 {
        let guard = DropCount(Arc::clone(&drops));
        drop(rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
    }
    drop(rt);
    assert_eq!(
        drops.load(SeqCst),
        tasks + tasks / 4,
        "every future dropped"
    );
    assert_eq!(sem.available_permits(), 2, "permits conserved");
}

fn main() {
    std::panic::set_hook(Box::new(|info| {
        let planned = info
            .payload()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.starts_with("stress: "));
        if !planned {
            eprintln!("{info}");
        }
    }));
    // On a thread of its own, so that the thread-locals std and
    // crossbeam-epoch keep for the calling thread are freed when it exits
    // (valgrind would otherwise report them as "possibly lost" at exit).
    std::thread::spawn(|| {
        for _ in 0..3 {
            exercise(Builder::current_thread().build().unwrap(), 200);
            exercise(
                Builder::multi_thread().worker_threads(2).build().unwrap(),
                200,
            );
        }
    })
    .join()
    .expect("stress run failed");
    println!("stress: ok");
}
