//! `minirt::select!`: tokio's grammar and meaning, on both runtimes.

use std::future::{pending, ready, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use minirt::sync::{mpsc, oneshot};
use minirt::time::sleep;
use minirt::Builder;
use minirt_tests::{bounded, each_runtime_and_clock, named_runtimes, DropCounter};

const LIMIT: Duration = Duration::from_secs(60);

/// A future that never completes but counts its drop.
fn pending_counted(drops: &Arc<AtomicUsize>) -> impl Future<Output = ()> {
    let counter = DropCounter(drops.clone());
    async move {
        let _counter = counter;
        pending::<()>().await
    }
}

#[test]
fn the_first_ready_branch_wins_and_the_losers_are_dropped_before_its_handler() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let drops = Arc::new(AtomicUsize::new(0));
            let got = rt.block_on(async {
                minirt::select! {
                    _ = pending_counted(&drops) => unreachable!(),
                    v = async { minirt::yield_now().await; 7 } => {
                        // Both losers were dropped before this handler runs.
                        assert_eq!(drops.load(SeqCst), 2, "{name}");
                        v
                    }
                    _ = pending_counted(&drops) => unreachable!(),
                }
            });
            assert_eq!(got, 7, "{name}");
            assert_eq!(drops.load(SeqCst), 2, "{name}: each loser dropped once");
        }
    });
}

#[test]
fn a_timer_beats_a_future_that_never_completes_on_every_runtime_and_clock() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let drops = Arc::new(AtomicUsize::new(0));
            let out = case.rt.block_on(async {
                minirt::select! {
                    _ = pending_counted(&drops) => "pending",
                    _ = sleep(Duration::from_millis(20)) => "timer",
                }
            });
            assert_eq!(out, "timer", "{}", case.label);
            assert_eq!(drops.load(SeqCst), 1, "{}", case.label);
        });
    });
}

#[test]
fn a_spawned_sender_wins_over_a_long_sleep() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let got = case.rt.block_on(async {
                let (tx, rx) = oneshot::channel::<u32>();
                minirt::spawn(async move {
                    sleep(Duration::from_millis(5)).await;
                    let _ = tx.send(11);
                });
                minirt::select! {
                    Ok(v) = rx => v,
                    _ = sleep(Duration::from_secs(3600)) => 0,
                }
            });
            assert_eq!(got, 11, "{}", case.label);
        });
    });
}

#[test]
fn a_false_precondition_disables_the_branch_without_polling_it() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let created = Arc::new(AtomicUsize::new(0));
            let got = rt.block_on(async {
                let c = created.clone();
                minirt::select! {
                    _ = async { panic!("a disabled branch was polled") }, if false => 0,
                    _ = { c.fetch_add(1, SeqCst); async { panic!("polled") } }, if 1 + 1 == 3 => 1,
                    v = ready(2), if true => v,
                }
            });
            assert_eq!(got, 2, "{name}");
            // Like tokio: a disabled branch's future expression is still evaluated.
            assert_eq!(created.load(SeqCst), 1, "{name}");
        }
    });
}

#[test]
fn a_branch_whose_output_does_not_match_is_disabled_and_the_select_goes_on() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let got = rt.block_on(async {
                minirt::select! {
                    biased;
                    Some(v) = ready(None::<u32>) => v,
                    Ok(v) = async { minirt::yield_now().await; Err::<u32, ()>(()) } => v,
                    v = async { minirt::yield_now().await; minirt::yield_now().await; 3 } => v,
                }
            });
            assert_eq!(got, 3, "{name}");
        }
    });
}

#[test]
fn else_runs_when_every_branch_is_disabled() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let got = rt.block_on(async {
                minirt::select! {
                    Some(v) = ready(None::<u32>) => v,
                    _ = pending::<()>(), if false => 1,
                    else => 99,
                }
            });
            assert_eq!(got, 99, "{name}");
            let all_false = rt.block_on(async {
                minirt::select! {
                    _ = pending::<()>(), if false => 1,
                    else => 5,
                }
            });
            assert_eq!(all_false, 5, "{name}");
        }
    });
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn no_else_panics_with_tokios_message_on_current_thread() {
    bounded(LIMIT, || {
        Builder::current_thread().build().unwrap().block_on(async {
            minirt::select! {
                Some(v) = ready(None::<u32>) => v,
                _ = pending::<()>(), if false => 1,
            }
        })
    });
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn no_else_panics_with_tokios_message_on_multi_thread() {
    bounded(LIMIT, || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let task = rt.spawn(async {
            minirt::select! {
                Some(v) = async { minirt::yield_now().await; None::<u32> } => v,
            }
        });
        // The task's panic comes back through its JoinHandle.
        match rt.block_on(task) {
            Ok(v) => v,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    });
}

#[test]
fn biased_polls_in_the_order_written() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            rt.block_on(async {
                for _ in 0..100 {
                    let winner = minirt::select! {
                        biased;
                        a = ready(0) => a,
                        b = ready(1) => b,
                        c = ready(2) => c,
                    };
                    assert_eq!(winner, 0, "{name}");
                }
            });
        }
    });
}

#[test]
fn unbiased_select_starts_at_random_branches() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let wins = rt.block_on(async {
                let mut wins = [0u32; 4];
                for _ in 0..400 {
                    let w = minirt::select! {
                        a = ready(0) => a,
                        b = ready(1) => b,
                        c = ready(2) => c,
                        d = ready(3) => d,
                    };
                    wins[w] += 1;
                }
                wins
            });
            // Each branch wins ~100 times; 0 wins has odds (3/4)^400.
            assert!(wins.iter().all(|&w| w > 0), "{name}: {wins:?}");
        }
    });
}

/// The winners of 64 selects over 8 always-ready branches on a runtime
/// seeded with `seed`.
fn winners(seed: u64) -> Vec<u8> {
    let rt = Builder::current_thread().seed(seed).build().unwrap();
    rt.block_on(async {
        let mut winners = Vec::new();
        for _ in 0..64 {
            winners.push(minirt::select! {
                v = ready(0u8) => v, v = ready(1u8) => v, v = ready(2u8) => v, v = ready(3u8) => v,
                v = ready(4u8) => v, v = ready(5u8) => v, v = ready(6u8) => v, v = ready(7u8) => v,
            });
        }
        winners
    })
}

#[test]
fn a_seeded_runtime_replays_the_same_start_branches() {
    bounded(LIMIT, || {
        assert_eq!(winners(1), winners(1));
        assert_eq!(winners(42), winners(42));
        assert_ne!(winners(1), winners(42), "different seeds, different orders");
        // Seeded in a task too, not only in the block_on future.
        let in_task = |seed| {
            let rt = Builder::current_thread().seed(seed).build().unwrap();
            rt.block_on(async {
                minirt::spawn(async {
                    let mut w = Vec::new();
                    for _ in 0..32 {
                        w.push(minirt::select! { a = ready(0) => a, b = ready(1) => b, c = ready(2) => c });
                    }
                    w
                })
                .await
                .unwrap()
            })
        };
        assert_eq!(in_task(9), in_task(9));
    });
}

#[test]
fn a_seeded_select_does_not_change_the_task_order() {
    bounded(LIMIT, || {
        let order = |with_select: bool| {
            let rt = Builder::current_thread().seed(5).build().unwrap();
            rt.block_on(async move {
                let log = Arc::new(std::sync::Mutex::new(Vec::new()));
                let tasks: Vec<_> = (0..8)
                    .map(|i| {
                        let log = log.clone();
                        minirt::spawn(async move { log.lock().unwrap().push(i) })
                    })
                    .collect();
                if with_select {
                    minirt::select! { a = ready(0) => a, b = ready(1) => b };
                }
                for t in tasks {
                    t.await.unwrap();
                }
                let v = log.lock().unwrap().clone();
                v
            })
        };
        assert_eq!(order(false), order(true));
    });
}

#[test]
fn handlers_can_break_continue_and_use_question_mark() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            let result: Result<u32, String> = rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u32>(8);
                for i in 1..=5 {
                    tx.try_send(i).unwrap();
                }
                drop(tx);
                let mut sum = 0;
                loop {
                    minirt::select! {
                        v = rx.recv() => match v {
                            Some(2) => continue,
                            Some(v) => sum += v,
                            None => break,
                        },
                    }
                }
                let parsed: u32 = minirt::select! {
                    s = ready("10") => s.parse::<u32>().map_err(|e| e.to_string())?,
                };
                Ok(sum + parsed)
            });
            assert_eq!(result, Ok(1 + 3 + 4 + 5 + 10), "{name}");
        }
    });
}

#[test]
fn a_future_borrowed_with_mut_survives_a_lost_round() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let rounds = case.rt.block_on(async {
                let (tx, mut rx) = mpsc::channel::<u32>(8);
                minirt::spawn(async move {
                    for i in 0..3 {
                        tx.send(i).await.unwrap();
                    }
                    // Keep the channel open: the deadline ends the loop.
                    pending::<()>().await;
                });
                let mut deadline = pin!(sleep(Duration::from_millis(50)));
                let mut rounds = 0;
                loop {
                    minirt::select! {
                        _ = &mut deadline => break rounds,
                        Some(_) = rx.recv() => rounds += 1,
                    }
                }
            });
            assert_eq!(rounds, 3, "{}", case.label);
        });
    });
}

#[test]
fn patterns_with_mut_and_ref_bindings_move_the_output_into_the_handler() {
    bounded(LIMIT, || {
        minirt::block_on(async {
            let got = minirt::select! {
                Some(mut v) = ready(Some(vec![1, 2])) => {
                    v.push(3);
                    v
                }
            };
            assert_eq!(got, vec![1, 2, 3]);
            let len = minirt::select! {
                (ref s, n) = ready((String::from("abc"), 1)) => s.len() + n,
            };
            assert_eq!(len, 4);
            let or = minirt::select! {
                1 | 2 = ready(2) => "one or two",
                else => "neither",
            };
            assert_eq!(or, "one or two");
        });
    });
}

async fn pending_unless(ready_now: bool) {
    if !ready_now {
        pending::<()>().await;
    }
}

/// The 64 branches of tokio's limit; branch `ready_at` is the only ready
/// one and branch `disabled_at` has a false precondition.
async fn select64(ready_at: u32, disabled_at: u32) -> u32 {
    minirt::select! {
                _ = pending_unless(0 == ready_at), if 0 != disabled_at => 0u32,
                _ = pending_unless(1 == ready_at), if 1 != disabled_at => 1u32,
                _ = pending_unless(2 == ready_at), if 2 != disabled_at => 2u32,
                _ = pending_unless(3 == ready_at), if 3 != disabled_at => 3u32,
                _ = pending_unless(4 == ready_at), if 4 != disabled_at => 4u32,
                _ = pending_unless(5 == ready_at), if 5 != disabled_at => 5u32,
                _ = pending_unless(6 == ready_at), if 6 != disabled_at => 6u32,
                _ = pending_unless(7 == ready_at), if 7 != disabled_at => 7u32,
                _ = pending_unless(8 == ready_at), if 8 != disabled_at => 8u32,
                _ = pending_unless(9 == ready_at), if 9 != disabled_at => 9u32,
                _ = pending_unless(10 == ready_at), if 10 != disabled_at => 10u32,
                _ = pending_unless(11 == ready_at), if 11 != disabled_at => 11u32,
                _ = pending_unless(12 == ready_at), if 12 != disabled_at => 12u32,
                _ = pending_unless(13 == ready_at), if 13 != disabled_at => 13u32,
                _ = pending_unless(14 == ready_at), if 14 != disabled_at => 14u32,
                _ = pending_unless(15 == ready_at), if 15 != disabled_at => 15u32,
                _ = pending_unless(16 == ready_at), if 16 != disabled_at => 16u32,
                _ = pending_unless(17 == ready_at), if 17 != disabled_at => 17u32,
                _ = pending_unless(18 == ready_at), if 18 != disabled_at => 18u32,
                _ = pending_unless(19 == ready_at), if 19 != disabled_at => 19u32,
                _ = pending_unless(20 == ready_at), if 20 != disabled_at => 20u32,
                _ = pending_unless(21 == ready_at), if 21 != disabled_at => 21u32,
                _ = pending_unless(22 == ready_at), if 22 != disabled_at => 22u32,
                _ = pending_unless(23 == ready_at), if 23 != disabled_at => 23u32,
                _ = pending_unless(24 == ready_at), if 24 != disabled_at => 24u32,
                _ = pending_unless(25 == ready_at), if 25 != disabled_at => 25u32,
                _ = pending_unless(26 == ready_at), if 26 != disabled_at => 26u32,
                _ = pending_unless(27 == ready_at), if 27 != disabled_at => 27u32,
                _ = pending_unless(28 == ready_at), if 28 != disabled_at => 28u32,
                _ = pending_unless(29 == ready_at), if 29 != disabled_at => 29u32,
                _ = pending_unless(30 == ready_at), if 30 != disabled_at => 30u32,
                _ = pending_unless(31 == ready_at), if 31 != disabled_at => 31u32,
                _ = pending_unless(32 == ready_at), if 32 != disabled_at => 32u32,
                _ = pending_unless(33 == ready_at), if 33 != disabled_at => 33u32,
                _ = pending_unless(34 == ready_at), if 34 != disabled_at => 34u32,
                _ = pending_unless(35 == ready_at), if 35 != disabled_at => 35u32,
                _ = pending_unless(36 == ready_at), if 36 != disabled_at => 36u32,
                _ = pending_unless(37 == ready_at), if 37 != disabled_at => 37u32,
                _ = pending_unless(38 == ready_at), if 38 != disabled_at => 38u32,
                _ = pending_unless(39 == ready_at), if 39 != disabled_at => 39u32,
                _ = pending_unless(40 == ready_at), if 40 != disabled_at => 40u32,
                _ = pending_unless(41 == ready_at), if 41 != disabled_at => 41u32,
                _ = pending_unless(42 == ready_at), if 42 != disabled_at => 42u32,
                _ = pending_unless(43 == ready_at), if 43 != disabled_at => 43u32,
                _ = pending_unless(44 == ready_at), if 44 != disabled_at => 44u32,
                _ = pending_unless(45 == ready_at), if 45 != disabled_at => 45u32,
                _ = pending_unless(46 == ready_at), if 46 != disabled_at => 46u32,
                _ = pending_unless(47 == ready_at), if 47 != disabled_at => 47u32,
                _ = pending_unless(48 == ready_at), if 48 != disabled_at => 48u32,
                _ = pending_unless(49 == ready_at), if 49 != disabled_at => 49u32,
                _ = pending_unless(50 == ready_at), if 50 != disabled_at => 50u32,
                _ = pending_unless(51 == ready_at), if 51 != disabled_at => 51u32,
                _ = pending_unless(52 == ready_at), if 52 != disabled_at => 52u32,
                _ = pending_unless(53 == ready_at), if 53 != disabled_at => 53u32,
                _ = pending_unless(54 == ready_at), if 54 != disabled_at => 54u32,
                _ = pending_unless(55 == ready_at), if 55 != disabled_at => 55u32,
                _ = pending_unless(56 == ready_at), if 56 != disabled_at => 56u32,
                _ = pending_unless(57 == ready_at), if 57 != disabled_at => 57u32,
                _ = pending_unless(58 == ready_at), if 58 != disabled_at => 58u32,
                _ = pending_unless(59 == ready_at), if 59 != disabled_at => 59u32,
                _ = pending_unless(60 == ready_at), if 60 != disabled_at => 60u32,
                _ = pending_unless(61 == ready_at), if 61 != disabled_at => 61u32,
                _ = pending_unless(62 == ready_at), if 62 != disabled_at => 62u32,
                _ = pending_unless(63 == ready_at), if 63 != disabled_at => 63u32,
        else => u32::MAX,
    }
}

#[test]
fn sixty_four_branches_work() {
    bounded(LIMIT, || {
        for (name, rt) in named_runtimes() {
            rt.block_on(async {
                for ready_at in [0, 1, 31, 32, 62, 63] {
                    assert_eq!(select64(ready_at, 99).await, ready_at, "{name}");
                }
                // The only ready branch (the 64th: bit 63) disabled: nothing
                // else ever completes... so make sure a disabled ready
                // branch is not polled by racing it against a timer instead.
                let out = minirt::select! {
                    v = select64(63, 63) => v,
                    _ = sleep(Duration::from_millis(10)) => 1000,
                };
                assert_eq!(out, 1000, "{name}");
            });
        }
    });
}

#[test]
fn a_select_in_a_spawned_task_moves_between_workers() {
    bounded(LIMIT, || {
        let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
        let total = rt.block_on(async {
            let tasks: Vec<_> = (0..16u32)
                .map(|i| {
                    minirt::spawn(async move {
                        let mut n = 0;
                        for _ in 0..20 {
                            n += minirt::select! {
                                _ = minirt::yield_now() => 1,
                                _ = sleep(Duration::from_secs(60)) => 1000,
                            };
                        }
                        n + i
                    })
                })
                .collect();
            let mut total = 0;
            for t in tasks {
                total += t.await.unwrap();
            }
            total
        });
        assert_eq!(total, 16 * 20 + (0..16).sum::<u32>());
    });
}
