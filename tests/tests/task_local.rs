//! `minirt::task_local!`: values that follow a task across awaits and
//! workers, nest, are restored after panics, and are not inherited by
//! spawned tasks or scope children.

use std::collections::HashSet;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use minirt::scope::Scope;
use minirt::task::AccessError;
use minirt::Builder;
use minirt_tests::{bounded, named_runtimes};

const LIMIT: Duration = Duration::from_secs(60);

minirt::task_local! {
    static NUMBER: u32;
    /// A non-`Copy` value: `get` clones.
    pub static NAME: String;
}

mod declared_elsewhere {
    minirt::task_local! {
        pub static PUBLIC: u8;
    }
}

fn number() -> Result<u32, AccessError> {
    NUMBER.try_with(|n| *n)
}

#[test]
fn scope_sets_the_value_across_awaits_on_both_runtimes() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let seen = rt.block_on(NUMBER.scope(7, async {
                let mut seen = vec![NUMBER.get()];
                for _ in 0..10 {
                    minirt::yield_now().await;
                    minirt::time::sleep(Duration::from_millis(1)).await;
                    seen.push(NUMBER.get());
                }
                seen
            }));
            assert_eq!(seen, vec![7; 11], "{name}");
            assert!(number().is_err(), "{name}: not set after the scope");
        }
    });
}

#[test]
fn get_with_try_with_and_sync_scope() {
    bounded(LIMIT, || {
        assert!(NAME.try_with(|_| ()).is_err());
        let len = NAME.sync_scope("ada".to_owned(), || {
            assert_eq!(NAME.get(), "ada");
            NAME.with(|n| n.len())
        });
        assert_eq!(len, 3);
        assert!(NAME.try_with(|_| ()).is_err());
        assert_eq!(
            declared_elsewhere::PUBLIC.sync_scope(2, || declared_elsewhere::PUBLIC.get()),
            2
        );
        assert_eq!(
            AccessError::to_string(&number().unwrap_err()),
            "task-local value not set"
        );
    });
}

#[test]
#[should_panic(expected = "cannot access a task-local storage value without setting it first")]
fn with_outside_a_scope_panics() {
    NUMBER.with(|_| ());
}

#[test]
#[should_panic(
    expected = "cannot enter a task-local scope while the task-local storage is borrowed"
)]
fn entering_a_scope_inside_with_of_the_same_key_panics() {
    NUMBER.sync_scope(1, || NUMBER.with(|_| NUMBER.sync_scope(2, || ())));
}

#[test]
fn nested_scopes_of_the_same_key() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let seen = rt.block_on(NUMBER.scope(1, async {
                let outer = NUMBER.get();
                let inner = NUMBER
                    .scope(2, async {
                        minirt::yield_now().await;
                        let two = NUMBER.get();
                        let three = NUMBER.sync_scope(3, || NUMBER.get());
                        minirt::yield_now().await;
                        (two, three, NUMBER.get())
                    })
                    .await;
                minirt::yield_now().await;
                (outer, inner, NUMBER.get())
            }));
            assert_eq!(seen, (1, (2, 3, 2), 1), "{name}");
        }
    });
}

#[test]
fn tasks_interleaving_on_one_thread_each_see_their_own_value() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let all = rt.block_on(async {
                let tasks: Vec<_> = (0..8u32)
                    .map(|i| {
                        minirt::spawn(NUMBER.scope(i, async move {
                            for _ in 0..20 {
                                minirt::yield_now().await;
                                assert_eq!(NUMBER.get(), i);
                            }
                            NUMBER.get()
                        }))
                    })
                    .collect();
                // The block_on future is outside every scope meanwhile.
                assert!(number().is_err());
                let mut all = Vec::new();
                for t in tasks {
                    all.push(t.await.unwrap());
                }
                all
            });
            assert_eq!(all, (0..8).collect::<Vec<_>>(), "{name}");
        }
    });
}

#[test]
fn the_value_follows_a_task_between_worker_threads() {
    bounded(LIMIT, || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let threads = Arc::new(Mutex::new(HashSet::new()));
        rt.block_on(async {
            let tasks: Vec<_> = (0..16u32)
                .map(|i| {
                    let threads = threads.clone();
                    minirt::spawn(NUMBER.scope(i, async move {
                        for round in 0..50 {
                            // Every await may resume on the other worker.
                            if round % 5 == 0 {
                                minirt::time::sleep(Duration::from_millis(1)).await;
                            } else {
                                minirt::yield_now().await;
                            }
                            threads.lock().unwrap().insert(std::thread::current().id());
                            assert_eq!(NUMBER.get(), i, "after an await in round {round}");
                        }
                    }))
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // (Whether the tasks did change threads is up to the scheduler; the
        // deterministic hand-over is tested below.)
        assert!(!threads.lock().unwrap().is_empty());
    });
}

/// Polls `future` once with a no-op waker.
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_scope_polled_on_two_threads_sees_its_value_on_both() {
    bounded(LIMIT, || {
        let mut fut = Box::pin(NUMBER.scope(42, async {
            let first = (std::thread::current().id(), NUMBER.get());
            minirt::yield_now().await;
            let second = (std::thread::current().id(), NUMBER.get());
            (first, second)
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        assert!(
            number().is_err(),
            "the value left this thread with the poll"
        );
        let ((t1, v1), (t2, v2)) = std::thread::spawn(move || match poll_once(fut.as_mut()) {
            Poll::Ready(out) => {
                assert!(number().is_err());
                out
            }
            Poll::Pending => panic!("yield_now resolves on the second poll"),
        })
        .join()
        .unwrap();
        assert_ne!(t1, t2);
        assert_eq!((v1, v2), (42, 42));
    });
}

#[test]
fn a_panic_inside_a_scope_restores_the_outer_value() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            NUMBER.sync_scope(1, || {
                let caught = catch_unwind(AssertUnwindSafe(|| {
                    rt.block_on(NUMBER.scope(2, async {
                        minirt::yield_now().await;
                        assert_eq!(NUMBER.get(), 2);
                        panic!("inside the scope");
                    }))
                }));
                assert!(caught.is_err(), "{name}");
                assert_eq!(NUMBER.get(), 1, "{name}: the outer value is back");
                let caught = catch_unwind(AssertUnwindSafe(|| {
                    NUMBER.sync_scope(3, || panic!("inside sync_scope"))
                }));
                assert!(caught.is_err());
                assert_eq!(NUMBER.get(), 1, "{name}: back after sync_scope's panic");
            });
            assert!(number().is_err(), "{name}");
        }
    });
}

#[test]
fn a_task_that_panics_in_a_scope_leaves_its_worker_clean() {
    bounded(LIMIT, || {
        let rt = Builder::multi_thread().worker_threads(1).build().unwrap();
        rt.block_on(async {
            let failed = minirt::spawn(NUMBER.scope(5, async {
                minirt::yield_now().await;
                panic!("task panics with the value set");
            }))
            .await;
            assert!(failed.unwrap_err().is_panic());
            // The same (only) worker runs the next task: nothing left set.
            let after = minirt::spawn(async { number() }).await.unwrap();
            assert!(after.is_err());
        });
    });
}

#[test]
fn spawned_tasks_and_scope_children_do_not_inherit_the_value() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let (spawned, child, blocking) = rt.block_on(NUMBER.scope(9, async {
                let spawned = minirt::spawn(async { number() }).await.unwrap();
                let scope = Scope::new();
                scope.spawn(async { number() });
                let child = scope.join().await.unwrap().pop().unwrap();
                let blocking = minirt::spawn_blocking(number).await.unwrap();
                assert_eq!(NUMBER.get(), 9, "the scope itself still sees it");
                (spawned, child, blocking)
            }));
            assert!(spawned.is_err(), "{name}: spawn inherited the value");
            assert!(child.is_err(), "{name}: a scope child inherited the value");
            assert!(
                blocking.is_err(),
                "{name}: spawn_blocking inherited the value"
            );
        }
        // The sync-boundary scope's children neither.
        let child = NUMBER.sync_scope(3, || {
            minirt::scope(|s| {
                s.spawn(async { number() });
            })
            .unwrap()
        });
        assert!(child[0].is_err());
        // To hand a value on, open a scope in the child.
        let handed = minirt::block_on(NUMBER.scope(4, async {
            let n = NUMBER.get();
            minirt::spawn(NUMBER.scope(n, async { NUMBER.get() }))
                .await
                .unwrap()
        }));
        assert_eq!(handed, 4);
    });
}

/// Records the key's value (or that there was none) when dropped.
struct ReadsOnDrop(Arc<Mutex<Option<Result<u32, AccessError>>>>);

impl Drop for ReadsOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(number());
    }
}

#[test]
fn dropping_a_scope_drops_its_future_with_the_value_set() {
    bounded(LIMIT, || {
        let seen = Arc::new(Mutex::new(None));
        let guard = ReadsOnDrop(seen.clone());
        let mut fut = Box::pin(NUMBER.scope(11, async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        assert!(poll_once(fut.as_mut()).is_pending());
        drop(fut);
        assert_eq!(*seen.lock().unwrap(), Some(Ok(11)));
        assert!(number().is_err());
        // Cancelled as a task (abort) too.
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let seen = Arc::new(Mutex::new(None));
        let guard = ReadsOnDrop(seen.clone());
        rt.block_on(async {
            let task = minirt::spawn(NUMBER.scope(12, async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
            minirt::yield_now().await;
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        });
        assert_eq!(*seen.lock().unwrap(), Some(Ok(12)));
    });
}

#[test]
#[should_panic(expected = "`TaskLocalFuture` polled after completion")]
fn polling_a_completed_scope_panics() {
    let mut fut = Box::pin(NUMBER.scope(1, async {}));
    assert!(poll_once(fut.as_mut()).is_ready());
    let _ = poll_once(fut.as_mut());
}
