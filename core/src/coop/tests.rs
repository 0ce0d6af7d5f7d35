//! Unit tests of the budget (the thread-local version: `cfg(test)` has std).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::*;

/// Counts wake-ups.
#[derive(Default)]
struct CountWakes(AtomicUsize);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountWakes>, Waker) {
    let counter = Arc::new(CountWakes::default());
    (counter.clone(), Waker::from(counter))
}

/// Spends one unit as a completing operation would; `false` if it yielded.
fn spend(cx: &mut Context<'_>) -> bool {
    match poll_proceed(cx) {
        Poll::Ready(restore) => {
            restore.made_progress();
            true
        }
        Poll::Pending => false,
    }
}

fn current() -> Option<Budget> {
    current::with(|cell| cell.get())
}

#[test]
fn outside_a_budget_nothing_is_counted() {
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..10_000 {
        assert!(spend(&mut cx));
    }
    assert!(has_budget_remaining());
    assert_eq!(current(), Some(Budget::unconstrained()));
    assert_eq!(wakes.0.load(SeqCst), 0);
}

#[test]
fn a_budget_allows_initial_operations_then_yields_woken() {
    let (wakes, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    budget(|| {
        for _ in 0..INITIAL {
            assert!(has_budget_remaining());
            assert!(spend(&mut cx));
        }
        assert!(!has_budget_remaining());
        assert_eq!(wakes.0.load(SeqCst), 0);
        assert!(!spend(&mut cx));
        assert!(!spend(&mut cx));
        // Each refusal woke the task, so it is polled again.
        assert_eq!(wakes.0.load(SeqCst), 2);
    });
    // A new poll, a new budget.
    budget(|| assert!(spend(&mut cx)));
}

#[test]
fn a_guard_dropped_without_progress_gives_the_unit_back() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    budget(|| {
        for _ in 0..1000 {
            let Poll::Ready(restore) = poll_proceed(&mut cx) else {
                panic!("a restored unit was lost");
            };
            assert_eq!(current(), Some(Budget(Some(INITIAL - 1))));
            drop(restore);
            assert_eq!(current(), Some(Budget::initial()));
        }
    });
}

#[test]
fn poll_budgeted_spends_only_when_ready() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    budget(|| {
        for _ in 0..1000 {
            assert_eq!(
                poll_budgeted(&mut cx, |_| Poll::<()>::Pending),
                Poll::Pending
            );
        }
        assert_eq!(current(), Some(Budget::initial()));
        let mut calls = 0;
        while poll_budgeted(&mut cx, |_| {
            calls += 1;
            Poll::Ready(())
        })
        .is_ready()
        {}
        // The refused poll did not call the closure.
        assert_eq!(calls, usize::from(INITIAL));
    });
}

#[test]
fn budgets_nest_and_restore() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    budget(|| {
        assert!(spend(&mut cx));
        budget(|| {
            assert_eq!(current(), Some(Budget::initial()));
            assert!(spend(&mut cx));
        });
        assert_eq!(current(), Some(Budget(Some(INITIAL - 1))));
        with_unconstrained(|| {
            for _ in 0..1000 {
                assert!(spend(&mut cx));
            }
            assert_eq!(current(), Some(Budget::unconstrained()));
        });
        assert_eq!(current(), Some(Budget(Some(INITIAL - 1))));
    });
    assert_eq!(current(), Some(Budget::unconstrained()));
}

#[test]
fn a_panic_restores_the_previous_budget() {
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    budget(|| {
        assert!(spend(&mut cx));
        let caught = std::panic::catch_unwind(|| {
            budget(|| {
                let _taken = poll_proceed(&mut Context::from_waker(Waker::noop()));
                panic!("inside a budget");
            })
        });
        assert!(caught.is_err());
        assert_eq!(current(), Some(Budget(Some(INITIAL - 1))));
        let caught = std::panic::catch_unwind(|| with_unconstrained(|| panic!("unconstrained")));
        assert!(caught.is_err());
        assert_eq!(current(), Some(Budget(Some(INITIAL - 1))));
    });
    assert_eq!(current(), Some(Budget::unconstrained()));
}
