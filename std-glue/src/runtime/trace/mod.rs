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
//! - a **coarse clock** per polling thread: the runtime's clock in
//!   milliseconds (virtual for a mock clock), taken from the readings the
//!   run loops make anyway to fire timers (after parking, and every
//!   `EVENT_INTERVAL` polls), and stamped on each task as it is polled with
//!   one relaxed load and store. A dump's "since last poll" is therefore
//!   exact to within one such interval;
//! - **task ids** from a per-thread block of a process-wide counter, so
//!   numbering tasks takes no shared atomic per spawn;
//! - with [`Builder::on_long_poll`](crate::Builder::on_long_poll) only, a
//!   **poll slot** per runtime thread (which task it is polling, and a
//!   sequence number) and a watcher thread that samples the slots; without
//!   it, a poll pays for one never-taken branch.
//!
//! One function, [`Tracer::run`], is where both runtimes poll a task, so
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
    /// The coarse clock, one per polling thread (a worker, or the
    /// current-thread core holder) on a cache line of its own: the
    /// runtime's clock in milliseconds (its timer tick, virtual for a mock
    /// clock), plus one (0 means "never polled" in a task's header), set
    /// with [`set_clock`](Self::set_clock) from readings the run loops make
    /// anyway. One clock for all had every worker's refresh invalidate the
    /// line every other worker reads at each poll, and reading the clock
    /// again after each park cost `ping_pong_mt` about 15%.
    clocks: Box<[SlotClock]>,
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
            clocks: (0..pollers.max(1))
                .map(|_| SlotClock(AtomicU32::new(1)))
                .collect(),
            watch: long_poll.map(|config| Watch::new(config, pollers, multi_thread)),
            scopes: ScopeRegistry::default(),
        }
    }

    /// The coarse clock's value for clock tick `tick` (ms of the runtime's
    /// clock): `tick + 1`, stopping short of `u32::MAX` (after 49 days).
    pub(crate) fn scale(tick: u64) -> u32 {
        u32::try_from(tick)
            .unwrap_or(u32::MAX - 1)
            .min(u32::MAX - 1)
            + 1
    }

    /// Sets poller `slot`'s coarse clock to clock tick `tick`.
    pub(crate) fn set_clock(&self, slot: usize, tick: u64) {
        if let Some(clock) = self.clocks.get(slot) {
            clock.0.store(Self::scale(tick), Relaxed);
        }
    }

    /// Poller `slot`'s coarse clock.
    #[inline]
    pub(crate) fn now(&self, slot: usize) -> u32 {
        match self.clocks.get(slot) {
            Some(clock) => clock.0.load(Relaxed),
            None => 0,
        }
    }

    /// How long before `now` (a [`scale`](Self::scale)d clock reading) the
    /// coarse clock read `then`; `None` for 0 (never).
    pub(crate) fn since(now: u32, then: u32) -> Option<std::time::Duration> {
        if then == 0 {
            return None;
        }
        Some(std::time::Duration::from_millis(u64::from(
            now.saturating_sub(then),
        )))
    }

    /// Polls `task` on poller thread `slot`: the one place both runtimes
    /// poll a task.
    #[inline]
    pub(crate) fn run<S: 'static>(&self, slot: usize, task: Notified<S>) {
        task.record_poll(self.now(slot));
        match &self.watch {
            None => task.run(),
            Some(watch) => watch.run(slot, task),
        }
    }
}

/// One poller's coarse clock, alone on its cache line (128 bytes: adjacent
/// lines are prefetched in pairs on x86).
#[repr(align(128))]
struct SlotClock(AtomicU32);

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
        let tracer = Tracer::new(None, 2, true);
        assert_eq!((tracer.now(0), tracer.now(1), tracer.now(2)), (1, 1, 0));
        tracer.set_clock(1, 41);
        assert_eq!((tracer.now(0), tracer.now(1)), (1, 42));
        assert_eq!(Tracer::since(Tracer::scale(50), 0), None);
        assert_eq!(
            Tracer::since(Tracer::scale(50), tracer.now(1)),
            Some(std::time::Duration::from_millis(9))
        );
        assert_eq!(Tracer::scale(u64::MAX), u32::MAX);
    }
}
