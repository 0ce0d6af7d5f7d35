//! [`Listener`]: one subscription to one event of the delivery table.

use std::task::{Context, Poll};

use super::table;

/// A subscription to one event number: sees every delivery made after it was
/// created; dropping it unsubscribes. The public listeners (`Signal` on Unix,
/// the one inside `ctrl_c` everywhere) wrap it.
pub(super) struct Listener {
    /// Index of the event in the delivery table.
    signum: usize,
    /// This listener's waker slot in the event's listener list.
    key: usize,
    /// The delivery counter value this listener has already reported.
    seen: u64,
}

impl Listener {
    /// Subscribes to `signum` (a valid table index; the caller installed its handler).
    pub(super) fn subscribe(signum: usize) -> Listener {
        let (key, seen) = table::subscribe(signum);
        Listener { signum, key, seen }
    }

    /// Ready once a delivery happened since the last `Ready` (or since `subscribe`).
    pub(super) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match table::poll_delivery(self.signum, self.key, self.seen, cx) {
            Some(now) => {
                self.seen = now;
                Poll::Ready(())
            }
            None => Poll::Pending,
        }
    }

    /// The event number listened for.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(super) fn signum(&self) -> usize {
        self.signum
    }

    /// The delivery count last reported.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(super) fn seen(&self) -> u64 {
        self.seen
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        table::unsubscribe(self.signum, self.key);
    }
}
