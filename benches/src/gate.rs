//! The "one event" that `memory_per_task`'s 100 000 tasks wait on.
//!
//! The event is the runtime-neutral `event_listener::Event` with a listener
//! pinned inside the task (no heap allocation of its own), so the bytes per
//! task measured are the runtime's task cost and nothing else. Counters let
//! the driver know when every task is parked and when every task is done,
//! without sleeping.

use std::sync::atomic::{AtomicUsize, Ordering};

use event_listener::{listener, Event};

/// An event many tasks wait on, with counts of waiting and released tasks.
///
/// ```
/// use std::sync::Arc;
/// use minirt_benches::gate::Gate;
///
/// let gate = Arc::new(Gate::new());
/// let mut wait = Box::pin(gate.clone().wait());
/// // Not opened yet: the waiter parks.
/// assert!(futures_lite::future::block_on(futures_lite::future::poll_once(&mut wait)).is_none());
/// assert_eq!(gate.waiting(), 1);
/// gate.open();
/// futures_lite::future::block_on(wait);
/// assert_eq!(gate.released(), 1);
/// ```
#[derive(Default)]
pub struct Gate {
    /// Notified once, for all waiters, by [`open`](Self::open).
    event: Event,
    /// Tasks that registered a listener.
    waiting: AtomicUsize,
    /// Tasks that saw the event and finished.
    released: AtomicUsize,
}

impl Gate {
    /// A closed gate with no waiters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits until [`open`](Self::open) is called. Meant to be a task's body.
    pub async fn wait(self: std::sync::Arc<Self>) {
        listener!(self.event => listener);
        self.waiting.fetch_add(1, Ordering::Release);
        listener.await;
        self.released.fetch_add(1, Ordering::Release);
    }

    /// Wakes every waiter, present and future registrations alike.
    pub fn open(&self) {
        self.event.notify(usize::MAX);
    }

    /// How many tasks are parked on the gate (or were).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// How many tasks passed the gate and finished.
    pub fn released(&self) -> usize {
        self.released.load(Ordering::Acquire)
    }
}
