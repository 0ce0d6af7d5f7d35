//! Seeing inside a running runtime: task dumps ([`Dump`]) and the long-poll
//! detector ([`LongPoll`]).
//!
//! # Why here, and what it costs
//!
//! A task that blocks its worker, or waits for a wake-up that never comes,
//! is the most common way an async program goes wrong, and the hardest to
//! see from outside. minirt owns every layer, so it keeps what a dump needs
//! in the task header itself (`minirt_core::task::TaskInfo`: id, spawn
//! site, poll count, last-poll time; 16 bytes, no allocation) and in one
//! small [`Tracer`] per runtime:
//!
//! - a **coarse clock** per polling thread ([`PollClock`]): the runtime's
//!   clock in milliseconds (virtual for a mock clock), taken from the
//!   readings the run loops make anyway to fire timers (after parking, and
//!   every `EVENT_INTERVAL` polls), read once per batch of polls and
//!   stamped on each task as it is polled. A dump's "since last poll" is
//!   therefore exact to within one such interval;
//! - **task ids** from a per-thread block of a process-wide counter, so
//!   numbering tasks takes no shared atomic per spawn;
//! - with [`Builder::on_long_poll`](crate::Builder::on_long_poll) only, a
//!   **poll slot** per runtime thread (which task it is polling, and a
//!   sequence number) and a watcher thread that samples the slots; without
//!   it, a poll pays for one never-taken branch.
//!
//! One function, [`Poller::run`], is where both runtimes poll a task, so
//! the statistics and the slots are kept in one place.

mod dump;
mod long_poll;
mod scopes;

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

use minirt_core::task::Notified;

pub(crate) use dump::DumpBuilder;
pub use dump::{Dump, TaskDump, TaskKind, WaitsOn};
pub use long_poll::LongPoll;
pub(crate) use long_poll::{eprint_hook, LongPollConfig, Watch, Watcher};
pub use scopes::ScopeDump;
pub(crate) use scopes::{NodeView, ScopeListing, ScopeRegistry};

/// Per-runtime tracing state, shared by the run loops, dumps and the
/// long-poll watcher.
pub(crate) struct Tracer {
    /// The long-poll detector's slots, if one was configured.
    pub(crate) watch: Option<Watch>,
    /// The runtime's live scopes.
    pub(crate) scopes: ScopeRegistry,
}

impl Tracer {
    /// A tracer for a runtime with `pollers` threads that poll tasks (its
    /// workers, for a multi-thread runtime; else 1).
    pub(crate) fn new(
        long_poll: Option<&LongPollConfig>,
        pollers: usize,
        multi_thread: bool,
    ) -> Tracer {
        Tracer {
            watch: long_poll.map(|config| Watch::new(config, pollers, multi_thread)),
            scopes: ScopeRegistry::default(),
        }
    }

    /// How long before `now` (a [`PollClock`] reading) the coarse clock
    /// read `then`; `None` for 0 (never).
    pub(crate) fn since(now: u32, then: u32) -> Option<std::time::Duration> {
        if then == 0 {
            return None;
        }
        Some(std::time::Duration::from_millis(u64::from(
            now.saturating_sub(then),
        )))
    }

    /// A poller for one batch of polls on poller thread `slot` (a worker's
    /// index; 0 for a current-thread runtime), stamping tasks with `now`
    /// (its [`PollClock`]'s reading; the clock only moves between batches).
    /// What a poll needs is looked up once per batch, not per poll.
    #[inline]
    pub(crate) fn poller(&self, slot: usize, now: u32) -> Poller<'_> {
        Poller {
            now,
            slot,
            watch: self.watch.as_ref(),
        }
    }
}

/// Polls tasks for one batch: the one place both runtimes poll a task, so
/// the statistics and the long-poll slots are kept in one place.
pub(crate) struct Poller<'a> {
    now: u32,
    slot: usize,
    watch: Option<&'a Watch>,
}

impl Poller<'_> {
    /// Polls `task`, counting the poll and stamping its time first.
    #[inline]
    pub(crate) fn run<S: 'static>(&self, task: Notified<S>) {
        task.record_poll(self.now);
        match self.watch {
            None => task.run(),
            Some(watch) => watch.run(self.slot, task),
        }
    }
}

/// A polling thread's coarse clock: the runtime's clock in milliseconds
/// (its timer tick, virtual for a mock clock), plus one (0 means "never
/// polled" in a task's header).
///
/// It is set from the readings the run loops make anyway to fire timers
/// (after parking, and every `EVENT_INTERVAL` polls) and read once per
/// batch of polls, so stamping a task costs one relaxed load and two
/// stores in its header and nothing shared. Only its poller reads and
/// writes it: a worker keeps its own; a current-thread runtime keeps one
/// for whichever thread holds the core (hence the atomic). Reading the
/// clock again after each park cost `ping_pong_mt` about 15%; one clock
/// shared by all workers had each worker's refresh invalidate a line every
/// other worker read at each poll.
pub(crate) struct PollClock(AtomicU32);

impl PollClock {
    /// A clock that has not been set yet (it reads 1: tick 0).
    pub(crate) fn new() -> PollClock {
        PollClock(AtomicU32::new(1))
    }

    /// The clock's value for clock tick `tick` (ms of the runtime's
    /// clock): `tick + 1`, stopping short of `u32::MAX` (after 49 days).
    pub(crate) fn scale(tick: u64) -> u32 {
        u32::try_from(tick)
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1)
            + 1
    }

    /// Sets the clock to clock tick `tick`.
    #[inline]
    pub(crate) fn set(&self, tick: u64) {
        self.0.store(Self::scale(tick), Relaxed);
    }

    /// The clock's value.
    #[inline]
    pub(crate) fn get(&self) -> u32 {
        self.0.load(Relaxed)
    }
}

/// How many ids a thread takes from the process-wide counter at a time.
const ID_BLOCK: u64 = 1024;

/// The next unused block of ids.
static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's ids: the next one and the end of its block.
    static IDS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A task id unique in the process (what `Schedule::task_id` returns for
/// minirt's runtimes). Ids are handed out in blocks, so they grow per
/// thread, not globally.
#[inline]
pub(crate) fn next_task_id() -> u64 {
    IDS.try_with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = NEXT_ID_BLOCK.fetch_add(ID_BLOCK, Relaxed);
            end = next + ID_BLOCK;
        }
        ids.set((next + 1, end));
        next
    })
    // A spawn from a thread-local destructor: take one id on its own.
    .unwrap_or_else(|_| NEXT_ID_BLOCK.fetch_add(1, Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_threads() {
        let mut ids: Vec<u64> = (0..3000).map(|_| next_task_id()).collect();
        let other = std::thread::spawn(|| (0..3000).map(|_| next_task_id()).collect::<Vec<_>>());
        ids.extend(other.join().unwrap());
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(ids[0] >= 1);
    }

    #[test]
    fn the_coarse_clock_starts_at_one_and_since_zero_is_never() {
        let clock = PollClock::new();
        assert_eq!(clock.get(), 1);
        clock.set(41);
        assert_eq!(clock.get(), 42);
        assert_eq!(Tracer::since(PollClock::scale(50), 0), None);
        assert_eq!(
            Tracer::since(PollClock::scale(50), clock.get()),
            Some(std::time::Duration::from_millis(9))
        );
        assert_eq!(PollClock::scale(u64::MAX), u32::MAX);
    }
}
