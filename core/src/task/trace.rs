//! What a task dump can read of a task without stopping it: its id, where
//! it was spawned, how often it was polled and when last.
//!
//! Why in the header: a dump must work on a runtime that is running, from
//! any thread, without the runtime having kept anything else per task. The
//! header already has to exist; these fields add 16 bytes to it (64 bytes
//! in all on 64-bit targets) and no allocation.
//!
//! | field | written | read |
//! | --- | --- | --- |
//! | `spawned_at` | once, at allocation (`#[track_caller]` down the spawn path) | by dumps |
//! | `id_polls` | the id at allocation; the poll count by the thread about to poll it ([`Notified::record_poll`](super::Notified::record_poll)) | by dumps |
//! | `last_poll` | by the thread about to poll it, with the runtime's coarse clock | by dumps |
//!
//! The poll count and the last-poll time are statistics: they are plain
//! relaxed loads and stores, never read-modify-write, because only the
//! holder of the task's `Notified` writes them. The id takes the high 40
//! bits of `id_polls` and the poll count the low 24, so both fit the header
//! budget: ids are unique until the process has spawned 2^40 tasks (12
//! days at a sustained million spawns a second, 35 years at a thousand),
//! and the count stops at
//! [`TaskInfo::MAX_POLLS`].

use core::panic::Location;

use super::header::Header;
use super::state::Snapshot;
// Plain atomics even under loom: these are statistics that never order
// anything, and loom versions would only multiply the models' interleavings
// (every poll would add branch points).
use core::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// Bits of `id_polls` that hold the poll count.
const POLL_BITS: u32 = 24;
const POLL_MASK: u64 = (1 << POLL_BITS) - 1;
/// Largest id that fits.
#[cfg(target_has_atomic = "64")]
const MAX_ID: u64 = (1 << (64 - POLL_BITS)) - 1;

/// The id and poll count word. 64-bit targets keep it in one atomic; others
/// (the `no_std` thumbv7m build) in two 32-bit halves, the id's high bits
/// then being 0.
#[cfg(target_has_atomic = "64")]
pub(crate) struct IdPolls(core::sync::atomic::AtomicU64);

#[cfg(not(target_has_atomic = "64"))]
pub(crate) struct IdPolls {
    id: u32,
    polls: AtomicU32,
}

#[cfg(target_has_atomic = "64")]
impl IdPolls {
    #[inline]
    pub(crate) fn new(id: u64) -> IdPolls {
        IdPolls(core::sync::atomic::AtomicU64::new(
            (id & MAX_ID) << POLL_BITS,
        ))
    }
    fn load(&self) -> (u64, u32) {
        let word = self.0.load(Relaxed);
        (word >> POLL_BITS, (word & POLL_MASK) as u32)
    }
    #[inline]
    fn count_poll(&self) {
        let word = self.0.load(Relaxed);
        if word & POLL_MASK != POLL_MASK {
            self.0.store(word + 1, Relaxed);
        }
    }
}

#[cfg(not(target_has_atomic = "64"))]
impl IdPolls {
    #[inline]
    pub(crate) fn new(id: u64) -> IdPolls {
        IdPolls {
            id: id as u32,
            polls: AtomicU32::new(0),
        }
    }
    fn load(&self) -> (u64, u32) {
        (u64::from(self.id), self.polls.load(Relaxed))
    }
    #[inline]
    fn count_poll(&self) {
        let polls = self.polls.load(Relaxed);
        if u64::from(polls) != POLL_MASK {
            self.polls.store(polls + 1, Relaxed);
        }
    }
}

/// Records one poll about to happen at `now` (the runtime's coarse clock).
#[inline]
pub(crate) fn record_poll(header: &Header, now: u32) {
    header.id_polls.count_poll();
    header.last_poll.store(now, Relaxed);
}

/// A fresh last-poll field.
pub(crate) fn new_last_poll() -> AtomicU32 {
    AtomicU32::new(0)
}

/// A task's id, as task dumps show it: unique among the live and past
/// tasks of minirt's runtimes in one process (0 for executors that do not
/// number tasks, such as `LocalExecutor`). tokio's `task::Id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u64);

impl Id {
    /// The number.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// An id from its number, for runtimes that pass ids between threads
    /// as integers (minirt's long-poll detector); not a way to find a task.
    #[doc(hidden)]
    pub fn from_u64(n: u64) -> Id {
        Id(n)
    }
}

impl core::fmt::Display for Id {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

/// The id stored in `header`.
pub(crate) fn id_of(header: &Header) -> Id {
    Id(header.id_polls.load().0)
}

/// What a task waits on, as the minirt primitive it waits in noted it
/// while the task was polled ([`note_wait`](super::note_wait)). Kept in
/// the task's state word until its next poll starts, so a dump can say
/// "waits on `mpsc::Receiver::recv`" for a task that is idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum WaitKind {
    /// `mpsc::Sender::send` (bounded channel full) or `reserve`.
    MpscSend = 1,
    /// `mpsc::Receiver::recv` or `UnboundedReceiver::recv`.
    MpscRecv,
    /// A `oneshot::Receiver`.
    Oneshot,
    /// `Semaphore::acquire` (and its owned and many-permit forms).
    Semaphore,
    /// `Mutex::lock`.
    Mutex,
    /// `RwLock::read`.
    RwLockRead,
    /// `RwLock::write`.
    RwLockWrite,
    /// `Notify::notified`.
    Notify,
    /// `Barrier::wait`.
    Barrier,
    /// `watch::Receiver::changed`.
    Watch,
    /// `broadcast::Receiver::recv`.
    Broadcast,
}

impl WaitKind {
    /// Every kind, in note order (index + 1 is the note).
    const ALL: [WaitKind; 11] = [
        WaitKind::MpscSend,
        WaitKind::MpscRecv,
        WaitKind::Oneshot,
        WaitKind::Semaphore,
        WaitKind::Mutex,
        WaitKind::RwLockRead,
        WaitKind::RwLockWrite,
        WaitKind::Notify,
        WaitKind::Barrier,
        WaitKind::Watch,
        WaitKind::Broadcast,
    ];

    /// The kind for a state word's wait note (`None` for 0: nothing noted).
    pub(crate) fn from_note(note: u8) -> Option<WaitKind> {
        usize::from(note)
            .checked_sub(1)
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The API it waits in, as a user would search for it:
    /// `"mpsc::Receiver::recv"`, `"Mutex::lock"`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            WaitKind::MpscSend => "mpsc::Sender::send",
            WaitKind::MpscRecv => "mpsc::Receiver::recv",
            WaitKind::Oneshot => "oneshot::Receiver",
            WaitKind::Semaphore => "Semaphore::acquire",
            WaitKind::Mutex => "Mutex::lock",
            WaitKind::RwLockRead => "RwLock::read",
            WaitKind::RwLockWrite => "RwLock::write",
            WaitKind::Notify => "Notify::notified",
            WaitKind::Barrier => "Barrier::wait",
            WaitKind::Watch => "watch::Receiver::changed",
            WaitKind::Broadcast => "broadcast::Receiver::recv",
        }
    }
}

impl core::fmt::Display for WaitKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a task is in its life, as a dump shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Waiting for a wake-up.
    Idle,
    /// Woken, waiting in a run queue for a worker.
    Scheduled,
    /// Being polled right now (or its future being dropped).
    Running,
    /// Its future is done; its owner has not let go of it yet.
    Completing,
}

impl TaskState {
    fn of(snapshot: Snapshot) -> TaskState {
        if snapshot.is_complete() {
            TaskState::Completing
        } else if snapshot.is_running() {
            TaskState::Running
        } else if snapshot.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        }
    }

    /// A lowercase name: `idle`, `scheduled`, `running`, `completing`.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Completing => "completing",
        }
    }
}

impl core::fmt::Display for TaskState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One task as a dump sees it, read from its header while it may be
/// running elsewhere (so the fields need not agree with each other to the
/// instant).
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo {
    /// Its id.
    pub id: Id,
    /// Where it was spawned (the caller of `spawn`).
    pub spawned_at: &'static Location<'static>,
    /// Where it is in its life.
    pub state: TaskState,
    /// Whether `abort` (or shutdown) asked for it to be dropped.
    pub cancelled: bool,
    /// How many times it was polled, up to [`TaskInfo::MAX_POLLS`].
    pub polls: u32,
    /// The minirt primitive its latest poll waits in, if one noted it.
    pub waits_in: Option<WaitKind>,
    /// The runtime's coarse clock at its last poll (0: never polled). Its
    /// unit is the runtime's business (minirt's runtimes: milliseconds
    /// since the runtime started, plus one).
    pub last_poll: u32,
}

impl TaskInfo {
    /// Where the poll count stops.
    pub const MAX_POLLS: u32 = POLL_MASK as u32;

    pub(crate) fn read(header: &Header) -> TaskInfo {
        let (id, polls) = header.id_polls.load();
        let snapshot = header.state.load();
        TaskInfo {
            id: Id(id),
            spawned_at: header.spawned_at,
            state: TaskState::of(snapshot),
            cancelled: snapshot.is_cancelled(),
            polls,
            waits_in: WaitKind::from_note(snapshot.wait_note()),
            last_poll: header.last_poll.load(Relaxed),
        }
    }
}
