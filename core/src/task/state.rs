//! The task's atomic state word and every transition it can make.
//!
//! One `usize` holds six flag bits, a 4-bit wait note and, above them, the
//! reference count:
//!
//! | bit | name | set while |
//! | --- | --- | --- |
//! | 0 | `RUNNING` | some thread has exclusive access to the stage (polling it, or dropping it to cancel) |
//! | 1 | `COMPLETE` | the future is gone and the stage holds (or held) the output; final |
//! | 2 | `NOTIFIED` | the task sits in a run queue, or must be put back there when its poll ends |
//! | 3 | `CANCELLED` | `abort()` or shutdown asked for the future to be dropped instead of polled |
//! | 4 | `JOIN_INTEREST` | a `JoinHandle` exists; it owns the output once `COMPLETE` |
//! | 5 | `JOIN_WAKER` | the join waker slot holds a waker the task side may read |
//! | 6–9 | wait note | what the task's latest poll waits on ([`WaitKind`](super::WaitKind), 0: nothing noted); a statistic for task dumps |
//! | 10.. | refcount | one per `Task`, `Notified`, `JoinHandle`, `AbortHandle` and `Waker` |
//!
//! The wait note orders nothing and takes part in no transition: a
//! primitive sets it while the task is polled ([`State::note_wait`], from
//! `minirt_core::task::note_wait`), and `transition_to_running` clears it as
//! the next poll starts, in the compare-and-swap it makes anyway. It lives
//! here, rather than in a field of its own, because that clearing is then
//! free: every poll already rewrites this word.
//!
//! A new task starts as `NOTIFIED | JOIN_INTEREST` with three references: the
//! scheduler's owned-list [`Task`](super::Task), the run-queue
//! [`Notified`](super::Notified) and the [`JoinHandle`](super::JoinHandle).
//! While a task is polled, the popped `Notified`'s reference is the *poll's
//! reference*.
//!
//! # Who changes the word, and what they return
//!
//! Nothing outside this file writes the word; other code reads it only through
//! [`State::load`] and the [`Snapshot`] getters. The methods below are of three
//! kinds.
//!
//! **Lifecycle transitions**, the `transition_*` methods, are the arrows of
//! the diagram below: each changes `RUNNING`, `COMPLETE`, `NOTIFIED`,
//! `CANCELLED` or `JOIN_INTEREST`, taking or releasing a reference in the same
//! atomic operation where the arrow needs one. (Two arrows only release
//! references, a stale queue entry's at (11) and a completed task's last ones
//! at (12), and one, (9), only reports what it found.) Each returns what the
//! caller now owes, in a value the compiler will not let it ignore:
//!
//! - a `#[must_use]` enum or struct where there are several outcomes:
//!   [`TransitionToRunning`], [`TransitionToIdle`], [`TransitionToNotified`]
//!   (both wake flavours) and [`JoinHandleDropped`];
//! - a `#[must_use]` `bool` where there are two: `transition_to_notified_and_cancel`
//!   (submit the new `Notified`?), `transition_to_shutdown` (do we own the stage
//!   now?) and `transition_to_terminal` (deallocate?);
//! - the previous [`Snapshot`], `#[must_use]`, from `transition_to_complete`,
//!   which cannot fail: the caller reads `JOIN_INTEREST` and `JOIN_WAKER` from it.
//!
//! **The join-waker handshake** (`set_join_waker`, `unset_join_waker`,
//! `unset_join_waker_after_complete`) moves only `JOIN_WAKER`: it lends the join
//! waker slot to the task side or takes it back (rule 3 in
//! [`task`](super#ownership-who-may-touch-what-when)); the task's lifecycle does
//! not change, so these are not `transition_*` methods. The handle's two can
//! fail only because the task completed first, so they return
//! `Result<Snapshot, Snapshot>` (`#[must_use]` like every `Result`), whose `Err`
//! means "complete: take the output". The task side's cannot fail and returns
//! the new word, `#[must_use]`, because the caller must check whether the handle
//! went away meanwhile.
//!
//! **Reference counting** (`ref_inc`, `ref_dec`) never touches a flag, so it
//! needs no compare-and-swap loop and has no state to report. `ref_inc` returns
//! nothing (it panics rather than let the count overflow); `ref_dec` returns a
//! `#[must_use]` `bool`, `true` when it released the last reference and the
//! caller must free the task.
//!
//! # Lifecycle
//!
//! Each arrow names the method here that makes the change and the function in
//! `harness.rs`, `join.rs`, `waker.rs` or `mod.rs` that calls it. Boxes show
//! the flags that are set, leaving out `JOIN_*`; "idle" is none of them.
//!
//! ```text
//!     +------+
//!     | idle |<--------------------------------------------------------------------+
//!     +------+                                                                     |
//!        |                                                                         |
//!        | (4) transition_to_notified_by_{val,ref} = Submit, in waker.rs           |
//!        |     wake / wake_by_ref, which then call the vtable `schedule`           |
//!        v                                                                         |
//!   +----------+                                                                   |
//!   | NOTIFIED |<-- (1) State::new, in Cell::allocate (from spawn_unchecked)       |
//!   +----------+                                                                   |
//!      |    ^                                                                      |
//!      |    | (6) transition_to_idle = OkNotified, in Harness::poll_running,       |
//!      |    |     which hands the task to Schedule::yield_now                      |
//!      |    +-----------------------------------------------+                      |
//!      |                                                    |                      |
//!      | (2) transition_to_running = Success, in            |                      |
//!      |     Harness::poll (the vtable `poll`, from         |                      |
//!      |     Notified::run)                                 |                      |
//!      v                                                    |                      |
//!   +---------+                                    +------------------+            |
//!   | RUNNING |----------------------------------->| RUNNING|NOTIFIED |            |
//!   +---------+  (5) transition_to_notified_by_    +------------------+            |
//!     |    |         {val,ref} = DoNothing, in              |                      |
//!     |    |         waker.rs wake / wake_by_ref            |                      |
//!     |    |                                                |                      |
//!     |    +--- (3) transition_to_idle = Ok ----------------|----------------------+
//!     |             (OkDealloc for the last reference),     |
//!     |             in Harness::poll_running                |
//!     |                                                     |
//!     | (10) transition_to_complete, in Harness::complete   | (10)
//!     v                                                     |
//!   +----------+                                            |
//!   | COMPLETE |<-------------------------------------------+
//!   +----------+
//!     |
//!     | (12) transition_to_terminal = true, in Harness::complete
//!     v
//!   refcount 0: Harness::dealloc frees the cell (Placement::deallocate)
//!
//!  A wake of a NOTIFIED or COMPLETE task changes no flag:
//!  transition_to_notified_by_{val,ref} = DoNothing, in waker.rs wake / wake_by_ref
//!  (by value, it releases the waker's reference: Dealloc if that was the last).
//!
//!  Cancellation; [X] marks a flag that may or may not be set.
//!
//!   idle --(7a)--> NOTIFIED|CANCELLED --(8)--> RUNNING|CANCELLED ------------(10)--> COMPLETE
//!   NOTIFIED --(7b)--> NOTIFIED|CANCELLED                                               ^ ^
//!   RUNNING[|NOTIFIED] --(7c)--> RUNNING|NOTIFIED|CANCELLED --(9), then (10)------------+ |
//!   idle, NOTIFIED[|CANCELLED] --(S1)--> RUNNING|CANCELLED[|NOTIFIED] --------------(10)--+
//!   RUNNING[...], COMPLETE[...] --(S2)--> the same, plus CANCELLED
//!   a queued Notified of a RUNNING or COMPLETE task --(11)--> its reference released
//!
//!   (7)  transition_to_notified_and_cancel, in join.rs abort (JoinHandle::abort,
//!        AbortHandle::abort). 7a returns true: it took a reference for a new
//!        Notified, which abort hands to the vtable `schedule`. 7b and 7c return
//!        false; so does a COMPLETE or already CANCELLED task, which it leaves alone.
//!   (8)  transition_to_running = Cancelled, in Harness::poll, which calls
//!        Harness::cancel_and_complete: drop the future, then (10).
//!   (9)  transition_to_idle = Cancelled, in Harness::poll_running, after (7c) or
//!        (S2): the word is left as it is (RUNNING stays ours) and poll_running
//!        calls cancel_and_complete.
//!   (S1) transition_to_shutdown = true, in harness.rs `shutdown` (the vtable's,
//!        from Task::shutdown), which calls cancel_and_complete, its reference
//!        serving as the poll's.
//!   (S2) transition_to_shutdown = false, in harness.rs `shutdown`, which then
//!        releases its reference (ref_dec).
//!   (10) transition_to_complete, in Harness::complete (called by poll_running on
//!        Ready or a panic, and by cancel_and_complete). It swaps RUNNING for
//!        COMPLETE and leaves NOTIFIED and CANCELLED as they were.
//!   (11) transition_to_running = Failed, or Dealloc for the last reference, in
//!        Harness::poll. Only (S1) leaves such a Notified behind: NOTIFIED allows
//!        one queue entry at most, and S1 claims the task while it is queued.
//!
//!  The join bits (J = JOIN_INTEREST, W = JOIN_WAKER), alongside the above:
//!
//!              (J1)                 before COMPLETE:
//!       J ------------> J|W           J[|W] --(J4)--> neither
//!         <------------               (the handle takes W back)
//!              (J2)                 after COMPLETE:
//!                                     COMPLETE|J|W --(J3)--> COMPLETE|J --(J4)--> COMPLETE
//!                                     COMPLETE|J|W --(J4)--> COMPLETE|W --(J3)--> COMPLETE
//!                                     COMPLETE|J --(J4)--> COMPLETE
//!
//!   (J1) set_join_waker, in join.rs can_read_output (from JoinHandle::poll via
//!        the vtable `try_read_output`), after it wrote the slot. Err (completed
//!        meanwhile): it empties the slot again and takes the output.
//!   (J2) unset_join_waker, in can_read_output, to replace a waker that would
//!        not wake the new one. Err (completed meanwhile): take the output.
//!   (J3) unset_join_waker_after_complete, in Harness::complete, after (10) saw
//!        J|W and it woke the join waker; if J is gone by then, complete empties
//!        the slot itself. (Without J at (10), complete drops the output.)
//!   (J4) transition_to_join_handle_dropped, in harness.rs drop_join_handle (the
//!        vtable's, from JoinHandle::drop): it owes drop_output if COMPLETE and
//!        drop_waker if W is now clear, then releases its reference (ref_dec).
//!
//!  The reference count:
//!
//!   +1   ref_inc, in waker.rs clone, join.rs JoinHandle::abort_handle and
//!        AbortHandle::clone; and inside (4) by_ref and (7a), for the new Notified.
//!   -1   ref_dec, in waker.rs drop_waker, join.rs AbortHandle::drop, mod.rs
//!        Task::drop (so also a dropped Notified), harness.rs drop_join_handle
//!        (J4) and shutdown (S2); and inside (3), (11), any by-value wake but
//!        (4) (the waker's own reference), and (12), which releases the poll's
//!        reference and the owned-list Task if Schedule::release returned it.
//!   0    whoever released the last reference (ref_dec = true, Dealloc,
//!        OkDealloc, (12) = true) frees the task with Harness::dealloc: directly
//!        in harness.rs, through the vtable `dealloc` everywhere else.
//! ```

use core::fmt;

use crate::loom::atomic::{AtomicUsize, Ordering::*};

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;
const WAIT_SHIFT: usize = 6;
const WAIT_MASK: usize = 0b1111 << WAIT_SHIFT;
const REF_SHIFT: usize = 10;
const REF_ONE: usize = 1 << REF_SHIFT;
/// Refcounts above this are a leak of handles; we stop before the word wraps.
const REF_MAX: usize = usize::MAX >> 1;

/// The initial state: queued, awaited, three references.
const INITIAL: usize = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);

/// The atomic state word of one task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the executor must do after trying to start a poll.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// `RUNNING` is ours: poll the future.
    Success,
    /// `RUNNING` is ours, but the task was aborted: drop the future instead.
    Cancelled,
    /// Someone else owns the stage or it is complete; our queue reference was
    /// released and nothing else is to be done.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the executor must do after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The task is idle; the poll's reference was released.
    Ok,
    /// A wake arrived during the poll: the poll's reference now belongs to a
    /// new `Notified` that must be submitted.
    OkNotified,
    /// The task is idle and that was the last reference: deallocate.
    OkDealloc,
    /// Aborted during the poll: we still hold `RUNNING`; drop the future.
    Cancelled,
}

/// What a waker must do after notifying.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing: already queued, running (it will requeue itself) or complete.
    DoNothing,
    /// The task went from idle to queued: submit the `Notified` we now hold.
    Submit,
    /// The waker's reference was the last one: deallocate.
    Dealloc,
}

/// What the `JoinHandle` owes after it is dropped.
#[must_use]
pub(crate) struct JoinHandleDropped {
    /// The task is complete, so the handle owns the output and must drop it.
    pub(crate) drop_output: bool,
    /// The join-waker slot belongs to the handle again and must be cleared.
    pub(crate) drop_waker: bool,
}

impl State {
    /// A fresh state word (see [`INITIAL`]).
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    /// Loads the current state.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// Applies `f` in a CAS loop until it returns `None` or succeeds; returns
    /// `f`'s second value from the winning iteration.
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (action, next) = f(curr);
            let Some(next) = next else { return action };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return action,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// An executor popped a `Notified` and wants to poll the task.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|curr| {
            if curr.is_running() || curr.is_complete() {
                // Shutdown claimed the task while it sat in the queue; the
                // queue's reference is ours to release.
                let next = curr.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            debug_assert!(
                curr.is_notified(),
                "polling a task that was not notified: {curr:?}"
            );
            // The new poll starts with no wait noted.
            let next = Snapshot((curr.0 | RUNNING) & !(NOTIFIED | WAIT_MASK));
            let action = if curr.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Notes what the running poll waits on (`note` in 1..16), unless this
    /// poll already noted something: the first note of a poll wins. Called
    /// only on a primitive's `Pending` path, by the polling thread, the
    /// only writer of these bits (so no other note can slip in between the
    /// look and the `fetch_or`; wakers and `abort` change other bits
    /// meanwhile, which the `fetch_or` keeps). Relaxed: the note orders
    /// nothing.
    #[inline]
    pub(crate) fn note_wait(&self, note: u8) {
        if self.val.load(Relaxed) & WAIT_MASK == 0 {
            self.val
                .fetch_or((usize::from(note) << WAIT_SHIFT) & WAIT_MASK, Relaxed);
        }
    }

    /// The poll returned `Pending`; give up `RUNNING`.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(
                curr.is_running(),
                "idle transition while not running: {curr:?}"
            );
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let next = Snapshot(curr.0 & !RUNNING);
            if next.is_notified() {
                // The poll's reference becomes the new queue reference.
                (TransitionToIdle::OkNotified, Some(next))
            } else {
                let next = next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                };
                (action, Some(next))
            }
        })
    }

    /// The output is stored: `RUNNING` -> `COMPLETE`. Returns the state
    /// before the change so the caller can see join interest and waker.
    #[must_use = "the previous state says whether to drop the output or wake the JoinHandle"]
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(
            prev.is_running() && !prev.is_complete(),
            "complete from {prev:?}"
        );
        prev
    }

    /// Releases `count` references at the end of a task's life; returns
    /// `true` if the caller must deallocate.
    #[must_use = "if `true`, the caller must deallocate the task"]
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(
            prev.ref_count() >= count,
            "releasing {count} references of {}",
            prev.ref_count()
        );
        prev.ref_count() == count
    }

    /// A waker is woken by value: its reference is consumed.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|curr| {
            if curr.is_running() {
                // The poller will requeue; it holds a reference, so ours can
                // never be the last.
                let next = Snapshot(curr.0 | NOTIFIED).ref_dec();
                debug_assert!(next.ref_count() > 0);
                (TransitionToNotified::DoNothing, Some(next))
            } else if curr.is_complete() || curr.is_notified() {
                let next = curr.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                };
                (action, Some(next))
            } else {
                // Idle -> queued; our reference moves into the Notified.
                (
                    TransitionToNotified::Submit,
                    Some(Snapshot(curr.0 | NOTIFIED)),
                )
            }
        })
    }

    /// A waker is woken by reference: a new reference is taken if the task
    /// must be queued.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|curr| {
            if curr.is_complete() || curr.is_notified() {
                (TransitionToNotified::DoNothing, None)
            } else if curr.is_running() {
                (
                    TransitionToNotified::DoNothing,
                    Some(Snapshot(curr.0 | NOTIFIED)),
                )
            } else {
                (
                    TransitionToNotified::Submit,
                    Some(Snapshot(curr.0 | NOTIFIED).ref_inc()),
                )
            }
        })
    }

    /// `abort()`: mark cancelled and make sure an executor looks at the task.
    /// Returns `true` if the caller must submit a new `Notified` (a reference
    /// was taken for it).
    #[must_use]
    pub(crate) fn transition_to_notified_and_cancel(&self) -> bool {
        self.fetch_update_action(|curr| {
            if curr.is_complete() || curr.is_cancelled() {
                (false, None)
            } else if curr.is_running() {
                // transition_to_idle will see CANCELLED and drop the future.
                (false, Some(Snapshot(curr.0 | NOTIFIED | CANCELLED)))
            } else if curr.is_notified() {
                // Already queued: the executor will see CANCELLED on pop.
                (false, Some(Snapshot(curr.0 | CANCELLED)))
            } else {
                (
                    true,
                    Some(Snapshot(curr.0 | NOTIFIED | CANCELLED).ref_inc()),
                )
            }
        })
    }

    /// Runtime shutdown: mark cancelled and, if nobody is polling it, claim
    /// `RUNNING` so the caller can drop the future right now. Returns `true`
    /// if the caller now owns the stage.
    #[must_use]
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|curr| {
            if curr.is_running() || curr.is_complete() {
                (false, Some(Snapshot(curr.0 | CANCELLED)))
            } else {
                (true, Some(Snapshot(curr.0 | CANCELLED | RUNNING)))
            }
        })
    }

    /// The `JoinHandle` is being dropped.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> JoinHandleDropped {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested());
            let mut next = curr.0 & !JOIN_INTEREST;
            if !curr.is_complete() {
                // Take the waker slot back; the task will not read it once it
                // sees JOIN_INTEREST gone.
                next &= !JOIN_WAKER;
            }
            let next = Snapshot(next);
            let owed = JoinHandleDropped {
                drop_output: curr.is_complete(),
                drop_waker: !next.is_join_waker_set(),
            };
            (owed, Some(next))
        })
    }

    /// The `JoinHandle` stored a waker and hands the slot to the task side.
    /// Fails with the current state if the task completed meanwhile (the slot
    /// then stays the handle's).
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                (Err(curr), None)
            } else {
                let next = Snapshot(curr.0 | JOIN_WAKER);
                (Ok(next), Some(next))
            }
        })
    }

    /// The `JoinHandle` wants its waker slot back to store a different waker.
    /// Fails if the task completed meanwhile.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && curr.is_join_waker_set());
            if curr.is_complete() {
                (Err(curr), None)
            } else {
                let next = Snapshot(curr.0 & !JOIN_WAKER);
                (Ok(next), Some(next))
            }
        })
    }

    /// After waking the join waker on completion, the task side gives the
    /// slot back. Returns the new state: if `JOIN_INTEREST` is gone, the
    /// handle was dropped meanwhile and the task must clear the slot itself.
    #[must_use = "without JOIN_INTEREST, the caller must clear the join waker slot"]
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// Takes one more reference (cloning a waker or handle).
    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        if prev > REF_MAX {
            // Billions of leaked wakers; continuing would wrap the count and
            // free a live task. Refuse loudly.
            panic!("minirt: task reference count overflow");
        }
    }

    /// Drops one reference; returns `true` if it was the last.
    #[must_use = "if `true`, the caller must deallocate the task"]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1, "reference count underflow: {prev:?}");
        prev.ref_count() == 1
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    /// The wait note (0: none).
    pub(crate) fn wait_note(self) -> u8 {
        ((self.0 & WAIT_MASK) >> WAIT_SHIFT) as u8
    }
    fn ref_inc(self) -> Snapshot {
        Snapshot(self.0 + REF_ONE)
    }
    fn ref_dec(self) -> Snapshot {
        debug_assert!(self.ref_count() > 0, "reference count underflow: {self:?}");
        Snapshot(self.0 - REF_ONE)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("wait_note", &self.wait_note())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn running() -> State {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        s
    }

    #[test]
    fn initial_state() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested());
        assert!(!s.is_running() && !s.is_complete() && !s.is_cancelled());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn a_wait_note_lasts_until_the_next_poll_and_keeps_the_other_bits() {
        let s = running();
        s.note_wait(3);
        s.note_wait(3);
        assert_eq!(s.load().wait_note(), 3);
        s.note_wait(15);
        assert_eq!(s.load().wait_note(), 3, "the first note of a poll wins");
        assert!(s.load().is_running() && s.load().is_join_interested());
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.load().wait_note(), 3, "the note outlives the poll");
        assert_eq!(s.load().ref_count(), 2);
        s.ref_inc();
        assert_eq!(s.load().wait_note(), 3);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::Submit
        );
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.load().wait_note(), 0, "a new poll clears it");
    }

    #[test]
    fn poll_then_idle_releases_the_poll_reference() {
        let s = running();
        assert!(s.load().is_running() && !s.load().is_notified());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(s.load().ref_count(), 2);
    }

    #[test]
    fn wake_while_running_requeues_after_the_poll() {
        let s = running();
        s.ref_inc(); // a waker
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.transition_to_idle(), TransitionToIdle::OkNotified);
        let snap = s.load();
        assert!(snap.is_notified() && !snap.is_running());
        assert_eq!(snap.ref_count(), 3);
    }

    #[test]
    fn wake_by_ref_of_idle_task_takes_a_reference() {
        let s = running();
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::Submit
        );
        assert_eq!(s.load().ref_count(), 3);
        // A second wake while queued is absorbed.
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotified::DoNothing
        );
        assert_eq!(s.load().ref_count(), 3);
    }

    #[test]
    fn wake_after_complete_only_drops_the_waker() {
        let s = running();
        s.ref_inc();
        let prev = s.transition_to_complete();
        assert!(prev.is_join_interested());
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::DoNothing
        );
        assert!(!s.load().is_notified());
    }

    #[test]
    fn last_waker_deallocates_a_complete_task() {
        let s = running();
        s.ref_inc(); // waker
        let _ = s.transition_to_complete();
        let dropped = s.transition_to_join_handle_dropped();
        assert!(dropped.drop_output && dropped.drop_waker);
        assert!(!s.transition_to_terminal(3)); // poll ref + owned ref + handle ref
        assert_eq!(
            s.transition_to_notified_by_val(),
            TransitionToNotified::Dealloc
        );
    }

    #[test]
    fn abort_idle_task_submits_it_once() {
        let s = running();
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert!(s.transition_to_notified_and_cancel());
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancelled);
    }

    #[test]
    fn abort_during_poll_cancels_at_idle() {
        let s = running();
        assert!(!s.transition_to_notified_and_cancel());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Cancelled);
        assert!(s.load().is_running());
    }

    #[test]
    fn abort_after_complete_is_a_no_op() {
        let s = running();
        let _ = s.transition_to_complete();
        assert!(!s.transition_to_notified_and_cancel());
        assert!(!s.load().is_cancelled());
    }

    #[test]
    fn shutdown_claims_idle_and_queued_tasks_only() {
        let queued = State::new();
        assert!(queued.transition_to_shutdown());
        // The stale queue entry then fails to run and releases its ref.
        assert_eq!(queued.transition_to_running(), TransitionToRunning::Failed);

        let busy = running();
        assert!(!busy.transition_to_shutdown());
        assert_eq!(busy.transition_to_idle(), TransitionToIdle::Cancelled);
    }

    #[test]
    fn join_waker_handshake() {
        let s = running();
        assert!(s.set_join_waker().is_ok());
        assert!(s.unset_join_waker().is_ok());
        assert!(s.set_join_waker().is_ok());
        let prev = s.transition_to_complete();
        assert!(prev.is_join_waker_set());
        // The handle can no longer take the slot back.
        assert!(s.unset_join_waker().is_err());
        let after = s.unset_join_waker_after_complete();
        assert!(after.is_join_interested() && !after.is_join_waker_set());
    }

    #[test]
    fn dropping_the_handle_before_completion_reclaims_the_waker_slot() {
        let s = running();
        assert!(s.set_join_waker().is_ok());
        let dropped = s.transition_to_join_handle_dropped();
        assert!(!dropped.drop_output && dropped.drop_waker);
        let prev = s.transition_to_complete();
        assert!(!prev.is_join_interested() && !prev.is_join_waker_set());
    }
}
