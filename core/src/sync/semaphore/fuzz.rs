//! A byte-coded model check of the semaphore, for `cargo fuzz` and for a
//! pseudo-random unit test.
//!
//! Why: fairness and permit conservation under cancellation are easy to
//! break and hard to cover by hand. Every program here runs the real
//! semaphore side by side with a trivial model (a counter and a FIFO queue of
//! request sizes) and checks after each step that both agree on which
//! futures are ready, which were woken, and how many permits are free.

use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::loom::atomic::{AtomicUsize, Ordering};

use super::{Acquire, Semaphore, SemaphorePermit, TryAcquireError};

/// Counts wake-ups of one future.
struct WakeCounter(AtomicUsize);

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the model says about one acquire future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Queued, must be pending and not woken.
    Waiting,
    /// Permits assigned; must have been woken and resolve to `Ok`.
    Granted,
    /// Failed by `close`; must have been woken and resolve to `Err`.
    Closed,
}

/// One live acquire future and its model.
struct Pending<'a> {
    /// The real future.
    fut: Acquire<'a>,
    /// Permits it asked for.
    needed: u32,
    /// Its wake-ups so far.
    wakes: Arc<WakeCounter>,
    /// The waker it is always polled with (so it is never replaced).
    waker: Waker,
    /// What the model predicts.
    expect: Expect,
}

/// The reference model: counters; the FIFO queue is the order of the
/// `Pending` list itself.
struct Model {
    /// Permits nobody holds and nobody was granted.
    free: usize,
    /// `close` was called.
    closed: bool,
    /// Permits that exist (free, held, or granted but uncollected).
    total: usize,
}

/// Runs one byte-coded program against [`Semaphore`] and a counter model,
/// panicking on any disagreement.
///
/// The first byte sets the initial permits; then each pair of bytes is an
/// operation and its argument: start an acquire of `n`, poll, cancel,
/// release a permit, forget a permit, close, add permits, or `try_acquire`.
/// Checked: permits are conserved, waiters are served in FIFO order (a large
/// request blocks later small ones), only served futures are woken, and after
/// `close` pending and new acquires fail.
pub fn fuzz_semaphore(data: &[u8]) {
    let Some((&first, program)) = data.split_first() else {
        return;
    };
    let initial = usize::from(first % 8);
    let sem = Semaphore::new(initial);
    let mut model = Model {
        free: initial,
        closed: false,
        total: initial,
    };
    let mut futs: Vec<Pending<'_>> = Vec::new();
    let mut permits: Vec<SemaphorePermit<'_>> = Vec::new();

    for step in program.chunks_exact(2) {
        let (op, arg) = (step[0] % 8, step[1]);
        match op {
            0 => {
                let needed = u32::from(arg % 5);
                let wakes = Arc::new(WakeCounter(AtomicUsize::new(0)));
                let waker = Waker::from(Arc::clone(&wakes));
                let mut fut = sem.acquire_many(needed);
                let ready = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker));
                let fits = model.free >= needed as usize
                    && futs.iter().all(|f| f.expect != Expect::Waiting);
                match ready {
                    Poll::Ready(Err(_)) => assert!(model.closed, "acquire failed while open"),
                    Poll::Ready(Ok(p)) => {
                        assert!(
                            !model.closed && (needed == 0 || fits),
                            "acquire({needed}) jumped the queue"
                        );
                        model.free -= needed as usize;
                        permits.push(p);
                    }
                    Poll::Pending => {
                        assert!(
                            !model.closed && needed > 0 && !fits,
                            "acquire({needed}) waited needlessly"
                        );
                        futs.push(Pending {
                            fut,
                            needed,
                            wakes,
                            waker,
                            expect: Expect::Waiting,
                        });
                    }
                }
            }
            1 if !futs.is_empty() => {
                let i = usize::from(arg) % futs.len();
                let f = &mut futs[i];
                let woken = f.wakes.0.load(Ordering::Relaxed);
                let ready = Pin::new(&mut f.fut).poll(&mut Context::from_waker(&f.waker));
                match (f.expect, ready) {
                    (Expect::Waiting, Poll::Pending) => {
                        assert_eq!(woken, 0, "waiting future woken")
                    }
                    (Expect::Granted, Poll::Ready(Ok(p))) => {
                        assert!(woken > 0, "granted future not woken");
                        assert_eq!(p.num_permits(), f.needed);
                        permits.push(p);
                        futs.remove(i);
                    }
                    (Expect::Closed, Poll::Ready(Err(_))) => {
                        assert!(woken > 0, "closed future not woken");
                        futs.remove(i);
                    }
                    (expect, ready) => {
                        panic!("expected {expect:?}, got {:?}", ready.map(|r| r.is_ok()))
                    }
                }
            }
            2 if !futs.is_empty() => {
                let f = futs.remove(usize::from(arg) % futs.len());
                if f.expect == Expect::Granted {
                    model.free += f.needed as usize;
                }
                drop(f);
                model.grant(&mut futs);
            }
            3 if !permits.is_empty() => {
                let p = permits.swap_remove(usize::from(arg) % permits.len());
                model.free += p.num_permits() as usize;
                drop(p);
                model.grant(&mut futs);
            }
            4 if !permits.is_empty() => {
                let p = permits.swap_remove(usize::from(arg) % permits.len());
                model.total -= p.num_permits() as usize;
                p.forget();
            }
            5 => {
                sem.close();
                model.closed = true;
                for f in futs.iter_mut().filter(|f| f.expect == Expect::Waiting) {
                    f.expect = Expect::Closed;
                }
            }
            6 => {
                let added = usize::from(arg % 4);
                sem.add_permits(added);
                model.free += added;
                model.total += added;
                model.grant(&mut futs);
            }
            7 => {
                let needed = u32::from(arg % 4);
                let queued = futs.iter().any(|f| f.expect == Expect::Waiting);
                let expected = if model.closed {
                    Err(TryAcquireError::Closed)
                } else if needed == 0 || (!queued && model.free >= needed as usize) {
                    Ok(needed)
                } else {
                    Err(TryAcquireError::NoPermits)
                };
                let got = sem.try_acquire_many(needed);
                assert_eq!(
                    got.as_ref().map(|p| p.num_permits()),
                    expected.as_ref().map(|n| *n)
                );
                if let Ok(p) = got {
                    model.free -= needed as usize;
                    permits.push(p);
                }
            }
            _ => {}
        }
        assert_eq!(
            sem.available_permits(),
            model.free,
            "free permits disagree with the model"
        );
        assert_eq!(sem.is_closed(), model.closed);
        let held: usize = permits.iter().map(|p| p.num_permits() as usize).sum();
        let granted: usize = futs
            .iter()
            .filter(|f| f.expect == Expect::Granted)
            .map(|f| f.needed as usize)
            .sum();
        assert_eq!(
            model.free + held + granted,
            model.total,
            "permits not conserved"
        );
    }
    drop(futs);
    drop(permits);
    assert_eq!(
        sem.available_permits(),
        model.total,
        "permits leaked at the end"
    );
}

impl Model {
    /// Grants waiting futures in FIFO order (their order in `futs`) while the
    /// head fits.
    fn grant(&mut self, futs: &mut [Pending<'_>]) {
        for f in futs.iter_mut().filter(|f| f.expect == Expect::Waiting) {
            if f.needed as usize > self.free {
                return;
            }
            self.free -= f.needed as usize;
            f.expect = Expect::Granted;
        }
    }
}
