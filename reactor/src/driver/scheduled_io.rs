//! The readiness state of one registration, shared by the driver and the socket.
//!
//! Why: mio reports readiness edge-triggered, once per change. The driver must
//! remember it until the task that needs it has tried its operation, and the
//! task must forget it only when the operation proved it stale (returned
//! `WouldBlock`). If the task cleared readiness unconditionally, an event that
//! arrived *between* the failed operation and the clear would be lost and the
//! task would sleep forever. So every dispatch stamps the state with the
//! driver's *tick* (one per `park`), a task's snapshot carries the tick it saw,
//! and [`ScheduledIo::clear_readiness`] clears only if the tick is unchanged.
//!
//! State word layout (`AtomicUsize`):
//!
//! | bits       | meaning                                              |
//! | ---------- | ---------------------------------------------------- |
//! | `0 .. 5`   | [`Ready`] bits                                       |
//! | `5`        | `SHUTDOWN`: the driver is gone; operations fail      |
//! | `16 .. 32` | tick of the last dispatch that touched this resource |
//!
//! Waking protocol (no lost wake-up): the driver first updates the state word,
//! then locks the waiter slots and takes the wakers. A task first checks the
//! state word, then stores its waker *under the lock* and checks the word again.
//! Whichever order the two interleave in, either the task sees the readiness or
//! the driver sees the waker.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::ready::{Direction, Ready};

/// Set when the driver that owns this registration has been dropped.
const SHUTDOWN: usize = 1 << 5;
/// Position of the tick in the state word.
const TICK_SHIFT: u32 = 16;
/// Mask of the tick once shifted down.
const TICK_MASK: usize = 0xFFFF;

/// A readiness snapshot handed to a task: what was ready, and at which tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyEvent {
    /// Driver tick at which this readiness was last updated.
    pub(crate) tick: u16,
    /// Readiness bits relevant to the direction that was polled.
    pub(crate) ready: Ready,
}

/// The tasks waiting on a resource: at most one per direction.
#[derive(Default)]
struct Waiters {
    /// Woken by read-side readiness (readable, read-closed, error).
    reader: Option<Waker>,
    /// Woken by write-side readiness (writable, write-closed, error).
    writer: Option<Waker>,
}

/// Readiness and waiters of one registered resource.
pub(crate) struct ScheduledIo {
    /// Slab key of this entry (the low bits of its token).
    key: usize,
    /// Generation stamped into the token; never changes for this allocation.
    generation: usize,
    /// Ready bits, shutdown bit and tick; see the module docs.
    state: AtomicUsize,
    /// Waker slots, one per direction.
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    /// A fresh entry with no readiness.
    pub(crate) fn new(key: usize, generation: usize) -> ScheduledIo {
        ScheduledIo {
            key,
            generation,
            state: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Calls `f` with each direction's waiting waker, under the slot lock.
    pub(crate) fn for_each_waiter(&self, mut f: impl FnMut(&'static str, &Waker)) {
        let waiters = self.lock_waiters();
        if let Some(w) = &waiters.reader {
            f("read", w);
        }
        if let Some(w) = &waiters.writer {
            f("write", w);
        }
    }

    /// Slab key of this entry.
    pub(crate) fn key(&self) -> usize {
        self.key
    }

    /// Generation of this entry (unmasked).
    pub(crate) fn generation(&self) -> usize {
        self.generation
    }

    /// Called by the driver: adds `ready`, stamps `tick`, wakes the affected waiters.
    pub(crate) fn set_readiness(&self, tick: u16, ready: Ready) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                let bits = (current & Ready::ALL.0) | ready.0;
                Some((current & SHUTDOWN) | bits | ((tick as usize) << TICK_SHIFT))
            });
        self.wake(ready);
    }

    /// Called when the driver goes away: every current and future poll fails.
    pub(crate) fn shutdown(&self) {
        self.state.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.wake(Ready::ALL);
    }

    /// Ready (with a snapshot) if the resource is ready in `direction`; otherwise
    /// stores the task's waker in that direction's slot and returns `Pending`.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(result) = Self::ready_in(self.state.load(Ordering::Acquire), direction) {
            return Poll::Ready(result);
        }
        let mut waiters = self.lock_waiters();
        let slot = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(existing) if existing.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Checked again under the lock: see "Waking protocol" in the module docs.
        match Self::ready_in(self.state.load(Ordering::Acquire), direction) {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }

    /// Clears the readiness in `event` unless the driver has updated it since
    /// (a newer tick): then the new readiness is kept and the task retries.
    /// Closed bits are never cleared; a closed direction stays closed.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready.without(Ready::CLOSED);
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                if Self::tick_of(current) != event.tick {
                    return None;
                }
                Some(current & !clear.0)
            });
    }

    /// The readiness bits currently recorded (for tests and debugging).
    #[cfg(test)]
    pub(crate) fn readiness(&self) -> Ready {
        Ready(self.state.load(Ordering::Acquire) & Ready::ALL.0)
    }

    fn tick_of(state: usize) -> u16 {
        ((state >> TICK_SHIFT) & TICK_MASK) as u16
    }

    fn ready_in(state: usize, direction: Direction) -> Option<io::Result<ReadyEvent>> {
        if state & SHUTDOWN != 0 {
            return Some(Err(io::Error::other(
                "the minirt reactor this I/O object was registered with has shut down \
                 (its runtime was dropped); create the object again inside a running runtime",
            )));
        }
        let ready = Ready(state).intersection(direction.mask());
        if ready.is_empty() {
            None
        } else {
            Some(Ok(ReadyEvent {
                tick: Self::tick_of(state),
                ready,
            }))
        }
    }

    fn wake(&self, ready: Ready) {
        let (reader, writer) = {
            let mut waiters = self.lock_waiters();
            let reader = if ready.intersection(Direction::Read.mask()).is_empty() {
                None
            } else {
                waiters.reader.take()
            };
            let writer = if ready.intersection(Direction::Write.mask()).is_empty() {
                None
            } else {
                waiters.writer.take()
            };
            (reader, writer)
        };
        // Woken outside the lock: a waker may run arbitrary scheduler code.
        if let Some(waker) = reader {
            wake_catching(waker);
        }
        if let Some(waker) = writer {
            wake_catching(waker);
        }
    }

    fn lock_waiters(&self) -> MutexGuard<'_, Waiters> {
        // The lock only guards two Option<Waker> swaps; a panic cannot leave them inconsistent.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Wakes `waker`, catching a panic of a user's waker (one that polled a
/// socket future with a `Context` of its own). The reactor wakes many
/// wakers per poll: a panic escaping here would skip the other waker of
/// this resource and the rest of the event batch, losing their wake-ups,
/// and take down the thread that drives the reactor. The panic hook has
/// already reported the panic; its payload is dropped (a payload that
/// panics on drop is leaked instead).
fn wake_catching(waker: std::task::Waker) {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || waker.wake()));
    if let Err(payload) = caught {
        if let Err(second) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)))
        {
            std::mem::forget(second);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    #[test]
    fn pending_then_woken_by_matching_direction_only() {
        let io = ScheduledIo::new(0, 0);
        let (reads, read_waker) = counting();
        let (writes, write_waker) = counting();
        assert!(io
            .poll_ready(&mut Context::from_waker(&read_waker), Direction::Read)
            .is_pending());
        assert!(io
            .poll_ready(&mut Context::from_waker(&write_waker), Direction::Write)
            .is_pending());
        io.set_readiness(1, Ready::READABLE);
        assert_eq!(reads.0.load(Ordering::SeqCst), 1);
        assert_eq!(writes.0.load(Ordering::SeqCst), 0);
        io.set_readiness(2, Ready::ERROR);
        assert_eq!(
            writes.0.load(Ordering::SeqCst),
            1,
            "errors wake the writer too"
        );
    }

    #[test]
    fn clear_with_stale_tick_keeps_new_readiness() {
        let io = ScheduledIo::new(0, 0);
        let (_, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        io.set_readiness(1, Ready::READABLE);
        let Poll::Ready(Ok(snapshot)) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("readable state not reported");
        };
        assert_eq!(snapshot.tick, 1);
        // A new event arrives while the task's operation is running...
        io.set_readiness(2, Ready::READABLE);
        // ...so the task's WouldBlock must not erase it.
        io.clear_readiness(snapshot);
        assert!(io.readiness().is_readable());
        let Poll::Ready(Ok(fresh)) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("new readiness lost");
        };
        io.clear_readiness(fresh);
        assert!(!io.readiness().is_readable());
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
    }

    #[test]
    fn closed_bits_survive_clear() {
        let io = ScheduledIo::new(0, 0);
        io.set_readiness(3, Ready::READABLE.union(Ready::READ_CLOSED));
        let (_, waker) = counting();
        let Poll::Ready(Ok(ev)) = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        else {
            panic!("not ready");
        };
        io.clear_readiness(ev);
        assert_eq!(io.readiness(), Ready::READ_CLOSED);
    }

    #[test]
    fn shutdown_fails_waiters() {
        let io = ScheduledIo::new(0, 0);
        let (count, waker) = counting();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        io.shutdown();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            io.poll_ready(&mut cx, Direction::Write),
            Poll::Ready(Err(_))
        ));
    }
}
