//! The long-poll detector: a watcher thread that notices a poll which has
//! held a runtime thread longer than a threshold, while it still runs.
//!
//! Why a watcher, not a timer around each poll: a poll that never returns
//! (a `std::thread::sleep`, a blocking `recv`, a busy loop inside `async`)
//! is exactly the one a check made when the poll returns would miss. So
//! each polling thread publishes, in its own slot, the task it is polling
//! and a sequence number that is odd while it polls; the watcher wakes every
//! `threshold / 4` (at least 1 ms), and a slot that shows the same odd number
//! for `threshold` is reported, once per offending poll.
//!
//! Cost on the polling thread, only when a detector is configured: three
//! relaxed stores and one release store around each poll, to a cache line
//! no other poller writes. Without one, [`Tracer::run`](super::Tracer::run)
//! skips all of it on one branch.
//!
//! ```text
//!   slot.seq:   even ──(poll starts)──▶ odd ──(poll ends)──▶ even
//!   watcher:    sees odd n first ─▶ same odd n ≥ threshold later ─▶ report (once)
//! ```

use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::*};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use minirt_core::task::{Id, Notified};

/// The hook [`Builder::on_long_poll`](crate::Builder::on_long_poll) takes.
pub(crate) type LongPollHook = Arc<dyn Fn(&LongPoll) + Send + Sync + 'static>;

/// What the builder recorded.
#[derive(Clone)]
pub(crate) struct LongPollConfig {
    pub(crate) threshold: Duration,
    pub(crate) hook: LongPollHook,
}

/// A poll that has held a runtime thread for longer than the threshold set
/// with [`Builder::on_long_poll`](crate::Builder::on_long_poll), reported
/// while it still runs.
///
/// Its `Display` is one line, what
/// [`Builder::warn_on_long_poll`](crate::Builder::warn_on_long_poll) writes
/// to stderr:
///
/// ```text
/// minirt: task 7 (spawned at src/main.rs:12:5) has been in one poll for 212 ms on worker 1: a blocking call inside async code? (move it to spawn_blocking)
/// ```
#[derive(Clone, Debug)]
pub struct LongPoll {
    task_id: Id,
    spawned_at: &'static Location<'static>,
    elapsed: Duration,
    worker: usize,
    multi_thread: bool,
}

impl LongPoll {
    /// The id of the task being polled, as [`Dump`](super::Dump) shows it.
    pub fn task_id(&self) -> Id {
        self.task_id
    }

    /// Where the task was spawned.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// How long the poll had been running when it was noticed: a lower
    /// bound, at most `threshold / 4` short of the truth.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Which worker of a multi-thread runtime is held (0 on a current-thread
    /// runtime, whose one core is held by whichever thread drives it).
    pub fn worker(&self) -> usize {
        self.worker
    }
}

impl fmt::Display for LongPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "minirt: task {} (spawned at {}) has been in one poll for {} ms ",
            self.task_id,
            self.spawned_at,
            self.elapsed.as_millis()
        )?;
        if self.multi_thread {
            write!(f, "on worker {}", self.worker)?;
        } else {
            write!(f, "on the thread driving its current-thread runtime")?;
        }
        write!(
            f,
            ": a blocking call inside async code? (move it to spawn_blocking)"
        )
    }
}

/// The default hook: one line on stderr.
pub(crate) fn eprint_hook(poll: &LongPoll) {
    eprintln!("{poll}");
}

/// One polling thread's slot, on a cache line of its own.
#[repr(align(128))]
#[derive(Default)]
struct PollSlot {
    /// Odd while a poll runs; bumped at its start and its end.
    seq: AtomicU64,
    /// The task being polled (valid while `seq` is odd).
    task_id: AtomicU64,
    spawned_at: AtomicPtr<Location<'static>>,
}

/// The slots and settings, kept in the runtime's `Tracer`.
pub(crate) struct Watch {
    config: LongPollConfig,
    slots: Box<[PollSlot]>,
    multi_thread: bool,
}

impl Watch {
    /// Slots for `pollers` threads; `multi_thread` says whether they are
    /// workers (reports then name one).
    pub(crate) fn new(config: &LongPollConfig, pollers: usize, multi_thread: bool) -> Watch {
        Watch {
            config: config.clone(),
            slots: (0..pollers.max(1)).map(|_| PollSlot::default()).collect(),
            multi_thread,
        }
    }

    /// Polls `task` with slot `slot` showing it.
    pub(crate) fn run<S: 'static>(&self, slot: usize, task: Notified<S>) {
        let Some(s) = self.slots.get(slot) else {
            return task.run();
        };
        let info = task.info();
        // Only this slot's thread writes it (one worker; for a
        // current-thread runtime, the core holder, one at a time).
        let seq = s.seq.load(Relaxed);
        s.task_id.store(info.id.as_u64(), Relaxed);
        s.spawned_at.store(
            info.spawned_at as *const Location<'static> as *mut _,
            Relaxed,
        );
        s.seq.store(seq.wrapping_add(1), Release);
        task.run();
        s.seq.store(seq.wrapping_add(2), Release);
    }
}

/// The watcher thread; stopped and joined by [`Watcher::stop`] (the
/// runtime's drop).
pub(crate) struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts watching `tracer`'s slots, if it has any.
    pub(crate) fn start(
        tracer: &Arc<super::Tracer>,
        name: &str,
    ) -> std::io::Result<Option<Watcher>> {
        if tracer.watch.is_none() {
            return Ok(None);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::Builder::new()
            .name(format!("{name}-watch"))
            .spawn({
                let tracer = tracer.clone();
                let stop = stop.clone();
                move || watch_loop(&tracer, &stop)
            })?;
        Ok(Some(Watcher {
            stop,
            thread: Some(thread),
        }))
    }

    /// Stops the watcher and waits for it.
    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the watcher remembers of one slot.
#[derive(Clone, Copy)]
struct Seen {
    seq: u64,
    since: Instant,
    reported: bool,
}

fn watch_loop(tracer: &super::Tracer, stop: &AtomicBool) {
    let Some(watch) = &tracer.watch else { return };
    let threshold = watch.config.threshold;
    let interval = (threshold / 4).max(Duration::from_millis(1));
    let start = Instant::now();
    let mut seen: Vec<Seen> = watch
        .slots
        .iter()
        .map(|_| Seen {
            seq: 0,
            since: start,
            reported: false,
        })
        .collect();
    while !stop.load(Acquire) {
        thread::park_timeout(interval);
        let now = Instant::now();
        for (worker, (slot, seen)) in watch.slots.iter().zip(&mut seen).enumerate() {
            let seq = slot.seq.load(Acquire);
            if seq != seen.seq {
                *seen = Seen {
                    seq,
                    since: now,
                    reported: false,
                };
                continue;
            }
            if seq % 2 == 0 || seen.reported || now - seen.since < threshold {
                continue;
            }
            let task_id = Id::from_u64(slot.task_id.load(Relaxed));
            let spawned_at = slot.spawned_at.load(Relaxed);
            // Still the same poll (the fields were written before `seq`)?
            if slot.seq.load(Acquire) != seq || spawned_at.is_null() {
                continue;
            }
            seen.reported = true;
            let report = LongPoll {
                task_id,
                // SAFETY: the slot only ever holds `&'static Location`s.
                spawned_at: unsafe { &*spawned_at },
                elapsed: now - seen.since,
                worker,
                multi_thread: watch.multi_thread,
            };
            // A panicking hook must not end the watching.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| (watch.config.hook)(&report)));
        }
    }
}
