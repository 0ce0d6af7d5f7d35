//! A completion signal fired by the last of N tasks.
//!
//! Several workloads (tokio's `spawn_many_local`, `ping_pong`) end when the
//! last of many tasks finishes. Each task holds an `Arc<Countdown<S>>` and
//! calls [`Countdown::count_down`]; exactly one caller — the last — gets the
//! signal `S` (a runtime's oneshot sender) back and sends on it. The counter
//! is the same for every runtime, so only the runtime's own parts differ.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Hands `signal` to the caller of the `count`-th [`count_down`](Self::count_down).
///
/// ```
/// use minirt_benches::countdown::Countdown;
///
/// let countdown = Countdown::new(2, "done");
/// assert_eq!(countdown.count_down(), None);
/// assert_eq!(countdown.count_down(), Some("done"));
/// ```
pub struct Countdown<S> {
    /// Calls still expected before the signal is handed out.
    remaining: AtomicUsize,
    /// The signal, taken by the last caller.
    signal: Mutex<Option<S>>,
}

impl<S> Countdown<S> {
    /// A countdown that fires after `count` calls.
    pub fn new(count: usize, signal: S) -> Self {
        Countdown {
            remaining: AtomicUsize::new(count),
            signal: Mutex::new(Some(signal)),
        }
    }

    /// Counts one finished task; returns the signal to the last one.
    pub fn count_down(&self) -> Option<S> {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.signal.lock().expect("countdown mutex poisoned").take()
        } else {
            None
        }
    }
}
