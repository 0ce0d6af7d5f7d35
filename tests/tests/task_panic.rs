//! Panics inside tasks are caught and reported on the JoinHandle; the
//! runtime keeps going.

use minirt_tests::bounded;
use minirt_tests::runtimes;
use std::time::Duration;

#[test]
fn panic_payload_round_trips() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let err = minirt::spawn(async { std::panic::panic_any(42u32) })
                    .await
                    .unwrap_err();
                assert!(err.is_panic() && !err.is_cancelled());
                assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 42);

                let err = minirt::spawn(async { panic!("formatted {}", 7) })
                    .await
                    .unwrap_err();
                assert_eq!(
                    err.to_string(),
                    "task panicked with message \"formatted 7\""
                );
            });
        }
    });
}

#[test]
fn the_runtime_survives_many_panics() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                for _ in 0..50 {
                    assert!(minirt::spawn(async { panic!("x") })
                        .await
                        .unwrap_err()
                        .is_panic());
                }
                assert_eq!(minirt::spawn(async { 1 }).await.unwrap(), 1);
            });
        }
    });
}

#[test]
fn panic_after_an_await_is_caught() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let err = minirt::spawn(async {
                    minirt::yield_now().await;
                    panic!("late");
                })
                .await
                .unwrap_err();
                assert!(err.is_panic());
            });
        }
    });
}

#[test]
fn output_that_panics_on_drop_does_not_escape_join_handle_drop() {
    bounded(Duration::from_secs(60), || {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("output destructor");
            }
        }
        for rt in runtimes() {
            rt.block_on(async {
                let h = minirt::spawn(async { Bomb });
                while !h.is_finished() {
                    minirt::yield_now().await;
                }
                drop(h); // must not panic here
                let detached = minirt::spawn(async { Bomb });
                drop(detached); // the task drops the output itself; must not kill anything
                minirt::yield_now().await;
                minirt::yield_now().await;
            });
        }
    });
}

#[test]
#[should_panic(expected = "into_panic called on a cancelled")]
fn into_panic_on_cancelled_error_panics_clearly() {
    bounded(Duration::from_secs(60), || {
        minirt::block_on(async {
            let h = minirt::spawn(std::future::pending::<()>());
            h.abort();
            let _ = h.await.unwrap_err().into_panic();
        });
    });
}

#[test]
fn blocking_job_panic_is_reported_and_pool_survives() {
    bounded(Duration::from_secs(60), || {
        for rt in runtimes() {
            rt.block_on(async {
                let err = minirt::spawn_blocking(|| panic!("blocking boom"))
                    .await
                    .unwrap_err();
                assert!(err.is_panic());
                assert_eq!(minirt::spawn_blocking(|| 5).await.unwrap(), 5);
            });
        }
    });
}
