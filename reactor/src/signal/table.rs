//! The process-wide delivery table: per event, a pending flag, a delivery
//! counter and the wakers of the listeners waiting for it.
//!
//! Why one table for every platform: how an event *arrives* differs (a Unix
//! signal handler writes to the self-pipe and a reactor later calls
//! [`deliver_pending`]; a Windows console handler runs on a thread of its own
//! and calls it at once), but how listeners learn of it must not: every
//! listener sees every delivery, and a delivery racing with a listener's poll
//! is never lost. That logic lives here, once.
//!
//! Index = the platform's number for the event: the signal number on Unix,
//! the `CTRL_*_EVENT` code on Windows.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Waker};

use slab::Slab;

/// Events 0..=MAX_SIGNUM have a slot (covers the real-time signals on Linux).
pub(super) const MAX_SIGNUM: usize = 64;

/// Everything minirt knows about one event number.
pub(super) struct SignalSlot {
    /// Set when the event arrives, cleared by the [`deliver_pending`] that accounts for it.
    pub(super) pending: AtomicBool,
    /// Number of deliveries accounted for.
    deliveries: AtomicU64,
    /// Wakers of listeners waiting in `recv` (`None` = subscribed, not waiting).
    listeners: Mutex<Slab<Option<Waker>>>,
}

impl SignalSlot {
    const fn new() -> SignalSlot {
        SignalSlot {
            pending: AtomicBool::new(false),
            deliveries: AtomicU64::new(0),
            listeners: Mutex::new(Slab::new()),
        }
    }

    fn lock_listeners(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // Only inserts/removes/takes; never inconsistent after a panic.
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether any listener is subscribed (waiting in `recv` or not).
    #[cfg_attr(not(windows), allow(dead_code))]
    pub(super) fn has_listeners(&self) -> bool {
        !self.lock_listeners().is_empty()
    }
}

/// Index = event number.
pub(super) static SLOTS: [SignalSlot; MAX_SIGNUM + 1] =
    [const { SignalSlot::new() }; MAX_SIGNUM + 1];

/// Adds a listener for `signum`; returns its key and the current delivery count.
pub(super) fn subscribe(signum: usize) -> (usize, u64) {
    let slot = &SLOTS[signum];
    let key = slot.lock_listeners().insert(None);
    (key, slot.deliveries.load(Ordering::Acquire))
}

/// Removes a listener.
pub(super) fn unsubscribe(signum: usize, key: usize) {
    SLOTS[signum].lock_listeners().try_remove(key);
}

/// `Some(count)` if the delivery count moved past `seen`; otherwise stores the
/// waker and returns `None`. The count is re-read after the waker is stored, so
/// a [`deliver_pending`] running concurrently either sees the waker or is seen here.
pub(super) fn poll_delivery(
    signum: usize,
    key: usize,
    seen: u64,
    cx: &mut Context<'_>,
) -> Option<u64> {
    let slot = &SLOTS[signum];
    let now = slot.deliveries.load(Ordering::Acquire);
    if now != seen {
        return Some(now);
    }
    {
        let mut listeners = slot.lock_listeners();
        if let Some(entry) = listeners.get_mut(key) {
            match entry {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *entry = Some(cx.waker().clone()),
            }
        }
    }
    let now = slot.deliveries.load(Ordering::Acquire);
    (now != seen).then_some(now)
}

/// Accounts for every pending event: clears its flag, bumps its delivery
/// counter and wakes its listeners (wakers work across runtimes and threads).
pub(super) fn deliver_pending() {
    for slot in SLOTS.iter() {
        if slot.pending.swap(false, Ordering::AcqRel) {
            slot.deliveries.fetch_add(1, Ordering::AcqRel);
            let wakers: Vec<Waker> = slot
                .lock_listeners()
                .iter_mut()
                .filter_map(|(_, waker)| waker.take())
                .collect();
            for waker in wakers {
                waker.wake();
            }
        }
    }
}
