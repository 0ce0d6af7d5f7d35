//! The counters and queue shared by a pool's threads, behind one mutex.
//!
//! Every field is read and written with the pool's mutex held, so the
//! invariants below hold whenever a thread holds the lock:
//!
//! 1. `idle + notified` equals the number of threads blocked in the idle wait
//!    (inside `Condvar::wait_timeout` or about to re-enter it).
//! 2. `idle + notified + starting + spinning <= live <= max_threads`, and
//!    `spinning <= 1`.
//! 3. `live <= unfinished`: a thread stops counting as `live` the moment it
//!    decides to leave, but stays `unfinished` until its `on_thread_stop` hook
//!    has returned.
//! 4. `in_shutdown <= unfinished`.
//! 5. once `shutting_down` is set it is never cleared, and `queue` stays empty.
//! 6. the hand-off rule: while `queue` is not empty, either a thread is on its
//!    way to it (`notified + starting + spinning + returning > 0`; a started
//!    thread counts as `starting` until its start hook has returned), or no
//!    idle thread is left and `live == max_threads`. So a queued job waits only for a thread that is
//!    waking up or starting, never for a busy one while the pool may grow.
//!
//! # Why one thread on its way, not one per job
//!
//! A burst of short jobs (sixteen `spawn_blocking` calls in a row, say) used
//! to claim and wake one idle thread per job: sixteen futex wake-ups from the
//! submitting (often async) thread, sixteen threads scheduled onto a couple of
//! cores to run a microsecond of work each. Now the submitter wakes one
//! thread; that thread, as it takes a job and sees more queued, wakes the next
//! one (a chain), and any thread that finishes its job takes the next queued
//! one itself. Short jobs are then drained by the first one or two threads,
//! and long jobs still each get a thread — the `k`-th job of a burst waits
//! for `k - 1` wake-up hops (tens of microseconds each), not for a busy job.
//!
//! # Why one thread spins before it sleeps
//!
//! Async code often submits one short job at a time, each as soon as the
//! last one's result arrived (a loop of small `fs::read`s). Every job then
//! paid for two sleeps and two wake-ups: the submitter's `notify_one` (a
//! `futex` system call even for a waiter that is only about to sleep) and
//! the pool thread's trip through the scheduler. So a thread that finds the
//! queue empty first spins for a few tens of microseconds
//! (`worker::SPIN_FOR`), outside the lock, counted in `spinning`: like a
//! notified thread it is on its way to the queue, so a submitter neither
//! wakes nor starts another thread for the next job and only bumps the
//! counter the spinner watches. Only one thread spins at a time, and none
//! on a single-core machine, where it would hold the core the submitter
//! needs; a spinning thread counts as idle in the pool's metrics.
//!
//! # Why a thread handing over a result is on its way too
//!
//! The result of a `spawn_blocking` job reaches its task while the pool
//! thread is still inside the job: completing the task wakes the awaiting
//! task, whose next job can be submitted before the pool thread is back at
//! the queue. That submitter used to find no idle or spinning thread and
//! wake (or start) a second one, and the two threads took turns, each job
//! paying a `futex` wake-up of a sleeping thread. So a job tells its thread
//! when its work is done and only the hand-over of its result is left
//! (`worker::job_work_done`, called by blocking tasks): the thread counts in
//! `returning` (an atomic in `Shared`, which the caller of
//! [`State::dispatch`] reads under the lock) until it has the lock again,
//! and a submitter meanwhile only queues. Handing over a result is a wake-up
//! and never waits for a job, so this is waiting for a thread on its way,
//! not for a busy one.

use std::collections::VecDeque;

/// What the pool knows about its jobs and threads.
pub(super) struct State<J> {
    /// Jobs submitted but not yet taken by a thread, oldest first.
    pub(super) queue: VecDeque<J>,
    /// Threads that will still take jobs: started and not yet decided to exit.
    /// This, not `unfinished`, is what the growth rule compares to the maximum,
    /// so a thread busy running its stop hook never blocks a new one.
    pub(super) live: usize,
    /// Threads waiting for a job that no submitter has claimed yet.
    pub(super) idle: usize,
    /// Idle threads claimed by a submitter (`notify_one` sent) that have not
    /// woken up yet. Lets a waking thread tell a real hand-off from a spurious
    /// or timed-out wakeup.
    pub(super) notified: usize,
    /// Threads started by the growth rule that have not yet looked at the
    /// queue. Like `notified` threads, they are on their way to a job.
    pub(super) starting: usize,
    /// The thread (0 or 1) spinning outside the lock before it goes idle
    /// (see "Why one thread spins before it sleeps"); on its way to a job.
    pub(super) spinning: usize,
    /// Threads started and not yet completely finished (stop hook included).
    /// `shutdown` waits for this to reach zero.
    pub(super) unfinished: usize,
    /// Unfinished pool threads that called `shutdown` on this pool from inside
    /// a job. They will exit as soon as that job returns, so a `shutdown` on
    /// one of them must not wait for them (it would wait for itself).
    pub(super) in_shutdown: usize,
    /// Set by `shutdown`; no job is accepted afterwards.
    pub(super) shutting_down: bool,
    /// Number given to the next thread's name.
    pub(super) next_thread_number: u64,
}

/// What must be done for the queue after a job was queued or taken (see
/// [`State::dispatch`]).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Dispatch {
    /// An idle thread was claimed; wake exactly one waiter.
    HandToIdle,
    /// No idle thread and room to grow: start a thread with this number.
    StartThread(u64),
    /// Nothing to do: the queue is empty, or a thread that was woken or
    /// started is on its way to it (it takes the next job and dispatches
    /// again for the rest).
    OnItsWay,
    /// No idle thread and already at `max_threads`: the jobs wait in the
    /// queue for the first thread that finishes its current job.
    QueueForBusy,
}

/// Why a thread came back from its idle wait.
#[must_use]
pub(super) enum IdleWake {
    /// A submitter claimed this thread (or another waiter's claim, which is
    /// the same): look at the queue again.
    Claimed,
    /// Nothing to do and either the keep-alive ran out or the pool is shutting
    /// down: the thread leaves the idle set and exits.
    Exit,
    /// Spurious wakeup: keep waiting until the same deadline.
    KeepWaiting,
}

impl<J> State<J> {
    pub(super) fn new() -> Self {
        State {
            queue: VecDeque::new(),
            live: 0,
            idle: 0,
            notified: 0,
            starting: 0,
            spinning: 0,
            unfinished: 0,
            in_shutdown: 0,
            shutting_down: false,
            next_thread_number: 0,
        }
    }

    /// Queues `job` and dispatches for it (see [`State::dispatch`]).
    pub(super) fn transition_to_queued(
        &mut self,
        job: J,
        max_threads: usize,
        returning: usize,
    ) -> Dispatch {
        debug_assert!(!self.shutting_down, "job queued after shutdown began");
        self.queue.push_back(job);
        self.dispatch(max_threads, returning)
    }

    /// The growth rule, applied whenever the queue gained a job or a thread
    /// on its way to the queue arrived (invariant 6):
    ///
    /// * queue empty, or a thread already on its way (woken, starting,
    ///   spinning, or `returning` from a job whose work is done) → nothing;
    /// * an idle thread exists → claim one (no thread is started);
    /// * otherwise, fewer than `max_threads` live → start a thread;
    /// * otherwise → the jobs wait in the queue.
    ///
    /// A job never waits for a *busy* thread while the pool may still grow:
    /// blocking jobs can run for an unbounded time, and one job may wait for
    /// another that is still queued, so waiting for a busy thread could
    /// deadlock or serialize unrelated work.
    pub(super) fn dispatch(&mut self, max_threads: usize, returning: usize) -> Dispatch {
        if self.queue.is_empty() || self.notified + self.starting + self.spinning + returning > 0 {
            Dispatch::OnItsWay
        } else if self.idle > 0 {
            self.idle -= 1;
            self.notified += 1;
            Dispatch::HandToIdle
        } else if self.live < max_threads {
            self.live += 1;
            self.starting += 1;
            self.unfinished += 1;
            let number = self.next_thread_number;
            self.next_thread_number += 1;
            Dispatch::StartThread(number)
        } else {
            Dispatch::QueueForBusy
        }
    }

    /// For a thread started by `Dispatch::StartThread`, before its start
    /// hook: if more jobs are queued than the one it will take, and no other
    /// thread is on its way, dispatches for them (the chain goes on while the
    /// hook runs). The thread itself stays counted in `starting`.
    pub(super) fn dispatch_ahead_of_starting_thread(
        &mut self,
        max_threads: usize,
        returning: usize,
    ) -> Dispatch {
        debug_assert!(self.starting > 0);
        if self.queue.len() <= 1 {
            return Dispatch::OnItsWay;
        }
        self.starting -= 1;
        let dispatch = self.dispatch(max_threads, returning);
        self.starting += 1;
        dispatch
    }

    /// A thread started by `Dispatch::StartThread` has run its start hook
    /// and is about to take a job: it is no longer on its way.
    pub(super) fn transition_to_started(&mut self) {
        debug_assert!(self.starting > 0);
        self.starting -= 1;
    }

    /// Undoes the bookkeeping of `Dispatch::StartThread` after the OS refused
    /// to start the thread.
    pub(super) fn thread_start_failed(&mut self) {
        debug_assert!(self.live > 0 && self.unfinished > 0 && self.starting > 0);
        self.live -= 1;
        self.starting -= 1;
        self.unfinished -= 1;
    }

    /// A thread with nothing to run, and the queue empty, starts spinning
    /// if no other thread does; `false`: it goes idle instead.
    pub(super) fn transition_to_spinning(&mut self) -> bool {
        debug_assert!(self.queue.is_empty() && !self.shutting_down);
        if self.spinning > 0 {
            return false;
        }
        self.spinning = 1;
        true
    }

    /// The spinning thread stops spinning (it saw a new job, or its time
    /// ran out) and looks at the queue again under the lock.
    pub(super) fn transition_from_spinning(&mut self) {
        debug_assert_eq!(self.spinning, 1);
        self.spinning = 0;
    }

    /// Threads a submitter would not wait for: idle ones and the spinning
    /// one (what the metrics call idle).
    pub(super) fn idle_or_spinning(&self) -> usize {
        self.idle + self.spinning
    }

    /// A thread with nothing to run enters the idle set.
    pub(super) fn transition_to_idle(&mut self) {
        debug_assert!(
            self.idle + self.notified + self.starting + self.spinning < self.live,
            "idle {} + notified {} + starting {} + spinning {} must stay below live {} before a thread goes idle",
            self.idle,
            self.notified,
            self.starting,
            self.spinning,
            self.live
        );
        self.idle += 1;
    }

    /// Decides what an idle thread does after a wakeup. A pending claim is
    /// honoured before anything else, so a job handed to the idle set is never
    /// stranded by the thread that was woken for it timing out instead.
    pub(super) fn transition_from_idle(&mut self, keep_alive_expired: bool) -> IdleWake {
        if self.notified > 0 {
            self.notified -= 1;
            IdleWake::Claimed
        } else if self.shutting_down || keep_alive_expired {
            debug_assert!(self.idle > 0, "an unclaimed waiter must be counted idle");
            self.idle -= 1;
            IdleWake::Exit
        } else {
            IdleWake::KeepWaiting
        }
    }

    /// A thread stops taking jobs. Must be called with the lock held at the
    /// moment the thread sees nothing to do, so a submitter never counts it.
    pub(super) fn transition_to_leaving(&mut self) {
        debug_assert!(self.live > 0);
        self.live -= 1;
    }

    /// A thread has finished completely (stop hook included).
    pub(super) fn transition_to_finished(&mut self, was_in_shutdown: bool) {
        debug_assert!(
            self.unfinished > self.live,
            "a finishing thread must have left `live`"
        );
        self.unfinished -= 1;
        if was_in_shutdown {
            self.in_shutdown -= 1;
        }
    }

    /// A pool thread called `shutdown` from inside a job (counted once per
    /// thread): waiters stop waiting for it.
    pub(super) fn pool_thread_entered_shutdown(&mut self) {
        self.in_shutdown += 1;
        debug_assert!(self.in_shutdown <= self.unfinished);
    }

    /// How many threads a `shutdown` call still has to wait for. A caller on
    /// one of the pool's own threads does not wait for the threads (itself
    /// included) that are inside `shutdown` too; they exit once their job
    /// returns, which cannot happen while they wait for each other.
    pub(super) fn threads_to_wait_for(&self, caller_is_pool_thread: bool) -> usize {
        if caller_is_pool_thread {
            self.unfinished - self.in_shutdown
        } else {
            self.unfinished
        }
    }

    /// Stops accepting jobs; returns the queued ones for the caller to drop
    /// outside the lock (their destructors may do anything).
    pub(super) fn transition_to_shutting_down(&mut self) -> VecDeque<J> {
        self.shutting_down = true;
        std::mem::take(&mut self.queue)
    }
}
