//! Task dumps: a snapshot of every live task of a runtime, taken while it
//! runs, from any thread.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use minirt_core::task::{Id, TaskInfo, TaskState};

use super::Tracer;

/// Whether a task may run on any thread of its runtime or only on the one
/// that spawned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Spawned with `spawn` (or by a scope): `Send`.
    Send,
    /// Spawned with `spawn_local`: stays on its thread.
    Local,
}

/// One live task in a [`Dump`].
#[derive(Clone, Debug)]
pub struct TaskDump {
    id: Id,
    spawned_at: &'static Location<'static>,
    state: TaskState,
    cancelled: bool,
    polls: u32,
    since_last_poll: Option<Duration>,
    kind: TaskKind,
}

impl TaskDump {
    /// The task's id, unique in the process (the same a
    /// [`LongPoll`](super::LongPoll) report names).
    pub fn id(&self) -> Id {
        self.id
    }

    /// Where it was spawned: the caller of `spawn`, `spawn_local`,
    /// `Handle::spawn` or a scope's `spawn`.
    pub fn spawned_at(&self) -> &'static Location<'static> {
        self.spawned_at
    }

    /// Idle (waiting for a wake-up), scheduled (woken, queued), running
    /// (being polled now) or completing (done, not yet released).
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Whether it was aborted (or its runtime is shutting down) and waits
    /// to be dropped.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// How many times it was polled (it stops counting at
    /// [`TaskInfo::MAX_POLLS`], about 16.7 million).
    pub fn polls(&self) -> u32 {
        self.polls
    }

    /// How long ago its last poll began (`None`: never polled). Read from
    /// the runtime's coarse clock, so up to one scheduling interval (a park,
    /// or 61 polls) late; real time even with a mock clock.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    /// Whether it is a `Send` or a local task.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }
}

/// A snapshot of every live task of a runtime: [`Handle::dump`](crate::Handle::dump).
///
/// Taken while the runtime runs: each task is read from its header as it
/// is, so a task spawned or finished during the dump may or may not be in
/// it, and a task's fields are each true at some instant of the dump, not
/// necessarily the same one. `Display` prints a readable table.
///
/// ```
/// let rt = minirt::Builder::current_thread().build()?;
/// rt.block_on(async {
///     let (_tx, rx) = minirt::sync::oneshot::channel::<()>();
///     let waiting = minirt::spawn(async move { rx.await.ok() });
///     minirt::yield_now().await; // let it run once
///     let dump = minirt::Handle::current().dump();
///     let task = dump.tasks().iter().find(|t| t.id() == waiting.id()).unwrap();
///     assert_eq!(task.state(), minirt::runtime::TaskState::Idle);
///     assert_eq!(task.polls(), 1);
///     println!("{dump}");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    flavor: &'static str,
    tasks: Vec<TaskDump>,
    unlisted: Vec<String>,
}

impl Dump {
    /// Every task the dump saw, in no particular order.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// What the dump could not list, and why (for example the local tasks
    /// of a thread that was not driving the runtime); empty when it saw
    /// every task.
    pub fn unlisted(&self) -> &[String] {
        &self.unlisted
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut tasks: Vec<&TaskDump> = self.tasks.iter().collect();
        tasks.sort_by_key(|t| t.id);
        writeln!(
            f,
            "minirt {} runtime: {} live task{}",
            self.flavor,
            tasks.len(),
            if tasks.len() == 1 { "" } else { "s" }
        )?;
        for t in tasks {
            let state = if t.cancelled {
                format!("{} (cancelled)", t.state)
            } else {
                t.state.to_string()
            };
            let last = match t.since_last_poll {
                Some(d) => format!("last poll {d:.0?} ago"),
                None => "never polled".to_owned(),
            };
            let kind = match t.kind {
                TaskKind::Send => "",
                TaskKind::Local => " (local)",
            };
            writeln!(
                f,
                "  task {:<6} {:<22} polls {:<8} {:<22} spawned at {}{}",
                t.id, state, t.polls, last, t.spawned_at, kind
            )?;
        }
        for note in &self.unlisted {
            writeln!(f, "  not listed: {note}")?;
        }
        Ok(())
    }
}

/// Collects a dump from the lists of one runtime.
pub(crate) struct DumpBuilder<'a> {
    tracer: &'a Tracer,
    dump: Dump,
}

impl<'a> DumpBuilder<'a> {
    pub(crate) fn new(tracer: &'a Tracer, flavor: &'static str) -> DumpBuilder<'a> {
        DumpBuilder {
            tracer,
            dump: Dump {
                flavor,
                tasks: Vec::new(),
                unlisted: Vec::new(),
            },
        }
    }

    /// Adds one task.
    pub(crate) fn push(&mut self, info: TaskInfo, kind: TaskKind) {
        self.dump.tasks.push(TaskDump {
            id: info.id,
            spawned_at: info.spawned_at,
            state: info.state,
            cancelled: info.cancelled,
            polls: info.polls,
            since_last_poll: self.tracer.since(info.last_poll),
            kind,
        });
    }

    /// Records what could not be listed.
    pub(crate) fn unlisted(&mut self, why: String) {
        self.dump.unlisted.push(why);
    }

    pub(crate) fn finish(self) -> Dump {
        self.dump
    }
}
