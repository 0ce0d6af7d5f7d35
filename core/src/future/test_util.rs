//! Small futures for the combinators' unit tests.

use alloc::boxed::Box;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use std::rc::Rc;

use super::yield_now;

/// Yields `n` times, then completes.
pub(crate) async fn yield_times(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// A future-side door the test opens by hand.
#[derive(Clone, Default)]
pub(crate) struct Gate(Rc<GateState>);

#[derive(Default)]
struct GateState {
    open: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    /// Live `GateWait` futures.
    waiters: Cell<usize>,
}

impl Gate {
    pub(crate) fn new() -> Self {
        Gate::default()
    }

    /// Opens the gate and wakes the waiting future.
    pub(crate) fn open(&self) {
        self.0.open.set(true);
        let waker = self.0.waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// `true` while a future from [`wait_then`](Self::wait_then) is alive.
    pub(crate) fn has_waiter(&self) -> bool {
        self.0.waiters.get() > 0
    }

    /// A future that completes with `value` once the gate is open.
    pub(crate) fn wait_then<T: Unpin>(&self, value: T) -> GateWait<T> {
        self.0.waiters.set(self.0.waiters.get() + 1);
        GateWait {
            gate: self.clone(),
            value: Some(value),
        }
    }
}

pub(crate) struct GateWait<T> {
    gate: Gate,
    value: Option<T>,
}

impl<T: Unpin> Future for GateWait<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.gate.0.open.get() {
            Poll::Ready(self.value.take().expect("polled after completion"))
        } else {
            *self.gate.0.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl<T> Drop for GateWait<T> {
    fn drop(&mut self) {
        let state = &self.gate.0;
        state.waiters.set(state.waiters.get() - 1);
    }
}

/// Counts polls of the futures it wraps.
#[derive(Clone, Default)]
pub(crate) struct PollCounter(Rc<Cell<usize>>);

impl PollCounter {
    pub(crate) fn new() -> Self {
        PollCounter::default()
    }

    pub(crate) fn get(&self) -> usize {
        self.0.get()
    }

    pub(crate) fn wrap<F: Future>(&self, future: F) -> Counted<F> {
        Counted {
            inner: Box::pin(future),
            polls: self.0.clone(),
        }
    }
}

pub(crate) struct Counted<F> {
    inner: Pin<Box<F>>,
    polls: Rc<Cell<usize>>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// Counts drops of the guards it hands out.
#[derive(Clone, Default)]
pub(crate) struct DropCounter(Rc<Cell<usize>>);

impl DropCounter {
    pub(crate) fn new() -> Self {
        DropCounter::default()
    }

    pub(crate) fn get(&self) -> usize {
        self.0.get()
    }

    pub(crate) fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }
}

pub(crate) struct DropGuard(Rc<Cell<usize>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}
