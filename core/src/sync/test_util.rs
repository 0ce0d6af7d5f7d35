//! Helpers for the unit tests of the sync primitives: a waker that counts
//! its wake-ups, and a `block_on` that parks the calling thread.

use core::future::Future;
use core::pin::{pin, Pin};
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll, Waker};

use alloc::sync::Arc;
use alloc::task::Wake;

/// A waker that counts how often it was woken.
pub(crate) struct CountingWaker {
    wakes: AtomicUsize,
}

impl CountingWaker {
    /// A new counter and a waker that bumps it.
    pub(crate) fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(Self {
            wakes: AtomicUsize::new(0),
        });
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// Wake-ups so far.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Polls `fut` once with `waker`.
pub(crate) fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once with a no-op waker.
pub(crate) fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    poll_with(fut, Waker::noop())
}

/// Wakes a parked thread.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` to completion on this thread, parking while it is pending.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
