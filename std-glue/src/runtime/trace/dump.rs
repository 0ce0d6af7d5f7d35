//! Task dumps: a snapshot of every live task of a runtime, taken while it
//! runs, from any thread.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use std::collections::HashMap;

use minirt_core::task::{id_of_waker, Id, TaskInfo, TaskState, WaitKind};

use super::{PollClock, ScopeDump, Tracer};
use crate::driver::Driver;

/// Whether a task may run on any thread of its runtime or only on the one
/// that spawned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Spawned with `spawn` (or by a scope): `Send`.
    Send,
    /// Spawned with `spawn_local`: stays on its thread.
    Local,
}

/// Something a task waits on, where minirt knows it: the timers and the
/// I/O registrations that hold the task's waker when the dump is taken, the
/// scope whose end it awaits, and the minirt primitive (channel, lock,
/// semaphore, `Notify`, ...) its latest poll waits in.
///
/// A primitive is known when it was polled with the task's own waker: a
/// task awaiting it directly, or through `select!`, `timeout` and the
/// like. Under a combinator that gives each child a waker of its own
/// (`join_all`, `try_join_all`), the primitive cannot tell whose task it
/// is, and the dump shows no [`WaitsOn::Sync`] for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitsOn {
    /// A timer (`sleep`, `timeout`, `interval`, a scope deadline) due in
    /// `due_in` on the runtime's clock (virtual time for a mock clock).
    Timer {
        /// Time left until it fires.
        due_in: Duration,
    },
    /// The end of a scope (awaiting its `join`, `outcomes` or
    /// `next_completed`): the scope at index `scope` of
    /// [`Dump::scopes`].
    ScopeJoin {
        /// Index into [`Dump::scopes`].
        scope: usize,
        /// Where that scope was created.
        created_at: &'static Location<'static>,
    },
    /// A minirt synchronization primitive, named by the API waited in
    /// ([`WaitKind`]: `mpsc::Receiver::recv`, `Mutex::lock`, ...).
    Sync(WaitKind),
    /// Readiness of a socket (or another I/O source) in one direction.
    Io {
        /// The source's key in the reactor (the low bits of its token).
        registration: usize,
        /// `"read"` or `"write"`.
        direction: &'static str,
    },
}

impl fmt::Display for WaitsOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitsOn::Timer { due_in } => write!(f, "timer due in {} ms", due_in.as_millis()),
            WaitsOn::ScopeJoin { scope, created_at } => {
                write!(f, "scope {scope} (created at {created_at})")
            }
            WaitsOn::Io {
                registration,
                direction,
            } => write!(f, "I/O #{registration} ({direction})"),
            WaitsOn::Sync(kind) => f.write_str(kind.as_str()),
        }
    }
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
    waits_on: Vec<WaitsOn>,
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

    /// How long ago its last poll began (`None`: never polled), on the
    /// runtime's clock: virtual time for a mock clock, as timers are. Read
    /// from a coarse clock the run loops refresh when they park and every
    /// 61 polls, so it may count from up to one such interval early.
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    /// Whether it is a `Send` or a local task.
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// What it waits on, where minirt knows (see [`WaitsOn`]): a primitive
    /// first, then the timers, I/O sources and scopes holding its waker;
    /// empty for a task that waits on something else, or on nothing.
    pub fn waits_on(&self) -> &[WaitsOn] {
        &self.waits_on
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
    scopes: Vec<ScopeDump>,
    unlisted: Vec<String>,
}

impl Dump {
    /// Every task the dump saw, in no particular order.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// Every live scope: where it was created, its running children, the
    /// task waiting on it and the scope it is nested in (`Display` prints
    /// them as a tree).
    pub fn scopes(&self) -> &[ScopeDump] {
        &self.scopes
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
                Some(d) => format!("last poll {} ms ago", d.as_millis()),
                None => "never polled".to_owned(),
            };
            let kind = match t.kind {
                TaskKind::Send => "",
                TaskKind::Local => " (local)",
            };
            write!(
                f,
                "  task {:<6} {:<22} polls {:<8} {:<22} spawned at {}{}",
                t.id, state, t.polls, last, t.spawned_at, kind
            )?;
            for (i, w) in t.waits_on.iter().enumerate() {
                write!(f, "{}{w}", if i == 0 { ", waits on " } else { ", " })?;
            }
            writeln!(f)?;
        }
        if !self.scopes.is_empty() {
            writeln!(f, "scopes:")?;
            let roots = (0..self.scopes.len()).filter(|&i| self.scopes[i].parent.is_none());
            for root in roots {
                self.fmt_scope(f, root, 1)?;
            }
        }
        for note in &self.unlisted {
            writeln!(f, "  not listed: {note}")?;
        }
        Ok(())
    }
}

impl Dump {
    /// Prints scope `i` and, indented below it, the scopes nested in it.
    fn fmt_scope(&self, f: &mut fmt::Formatter<'_>, i: usize, depth: usize) -> fmt::Result {
        let scope = &self.scopes[i];
        let pad = "  ".repeat(depth);
        write!(f, "{pad}scope {i} created at {}", scope.created_at)?;
        if scope.cancelled {
            write!(f, " (cancelled)")?;
        }
        match scope.owner {
            Some(owner) => write!(f, ", awaited by task {owner}")?,
            None => write!(f, ", not awaited right now")?,
        }
        let children: Vec<String> = scope.children.iter().map(|c| format!("task {c}")).collect();
        if children.is_empty() {
            writeln!(f, ", no running children")?;
        } else {
            writeln!(f, ", running: {}", children.join(", "))?;
        }
        // Depth-bounded: a scope cannot be its own ancestor, but a dump is
        // no place to loop on a surprise.
        if depth < 64 {
            for child in (0..self.scopes.len()).filter(|&c| self.scopes[c].parent == Some(i)) {
                self.fmt_scope(f, child, depth + 1)?;
            }
        }
        Ok(())
    }
}

/// Collects a dump from the lists of one runtime.
pub(crate) struct DumpBuilder<'a> {
    tracer: &'a Tracer,
    /// The clock reading the dump measures "since last poll" from.
    now: u32,
    dump: Dump,
}

impl<'a> DumpBuilder<'a> {
    pub(crate) fn new(
        tracer: &'a Tracer,
        driver: &Driver,
        flavor: &'static str,
    ) -> DumpBuilder<'a> {
        DumpBuilder {
            tracer,
            now: PollClock::scale(driver.time.clock.now_tick()),
            dump: Dump {
                flavor,
                tasks: Vec::new(),
                scopes: Vec::new(),
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
            since_last_poll: Tracer::since(self.now, info.last_poll),
            kind,
            waits_on: info.waits_in.map(WaitsOn::Sync).into_iter().collect(),
        });
    }

    /// Records what could not be listed.
    pub(crate) fn unlisted(&mut self, why: String) {
        self.dump.unlisted.push(why);
    }

    /// Adds what each task waits on in `driver`'s timers and reactor.
    pub(crate) fn finish(mut self, driver: &Driver) -> Dump {
        let index: HashMap<Id, usize> = self
            .dump
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id, i))
            .collect();
        let mut found: Vec<(usize, WaitsOn)> = Vec::new();
        driver.time.for_each_timer(|due_in, waker| {
            if let Some(&i) = id_of_waker(waker).and_then(|id| index.get(&id)) {
                found.push((i, WaitsOn::Timer { due_in }));
            }
        });
        driver
            .io_handle()
            .for_each_waiter(|registration, direction, waker| {
                if let Some(&i) = id_of_waker(waker).and_then(|id| index.get(&id)) {
                    found.push((
                        i,
                        WaitsOn::Io {
                            registration,
                            direction,
                        },
                    ));
                }
            });
        let scopes = self.tracer.scopes.snapshot();
        for (s, scope) in scopes.iter().enumerate() {
            if let Some(&i) = scope.owner.and_then(|id| index.get(&id)) {
                found.push((
                    i,
                    WaitsOn::ScopeJoin {
                        scope: s,
                        created_at: scope.created_at,
                    },
                ));
            }
        }
        for (i, w) in found {
            self.dump.tasks[i].waits_on.push(w);
        }
        self.dump.scopes = scopes;
        self.dump
    }
}
