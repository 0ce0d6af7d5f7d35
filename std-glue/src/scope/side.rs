//! Side tasks: work attached to a scope that is not one of its result
//! children — [daemon children](super::ScopeHandle::spawn_daemon), the
//! timers of [scheduled calls](super::ScopeHandle::after) and their runs.
//!
//! A side task has output `()` and no slot in the scope's results. It is
//! cancelled with the scope (`CancelNode::cancel` calls
//! [`SideTasks::cancel_all`]) and, like shielded work, holds the scope open
//! with a [`Hold`] until its future has been dropped: so when a scope
//! finishes, no side task's future exists any more, which is what lets side
//! tasks of the sync-boundary scope borrow from its caller (same argument as
//! for children, see the [module docs](super)).
//!
//! Two kinds:
//!
//! - [`Kind::Holding`] keeps the scope going like a child does (a pending
//!   `after`/`at` call);
//! - [`Kind::Daemon`] does not: once the owner waits for the end, no regular
//!   child is running or queued and no holding side task is left, the owner
//!   calls [`SideTasks::stop_daemons_when_idle`], which aborts every daemon.
//!   Their holds go as they are dropped, and the scope ends.
//!
//! # Entries
//!
//! Each side task has an entry in a slab, with a unique `id` so a stale
//! [`SideKey`] (held by a `ScheduledCall` after its task ended and the slot
//! was reused) never aborts somebody else's task. As for children, the task
//! is spawned and then its abort handle attached; it may finish in between,
//! so finishing an unattached entry leaves a tombstone for `attach` to
//! remove, and aborting an unattached one leaves a note for `attach` to act
//! on.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use minirt_core::task::{AbortHandle, PanicPayload};
use slab::Slab;

use super::node::{self, CancelNode, Hold};
use super::outcome::StopReason;
use super::state::{BoxFuture, State};

/// Whether a side task keeps its scope going.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Holds the scope open until it ends (a pending scheduled call).
    Holding,
    /// Stopped once nothing else keeps the scope going.
    Daemon,
}

/// Names one side task: its slab slot and its unique id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SideKey {
    slot: usize,
    id: u64,
}

/// The side tasks of one scope (a field of its [`CancelNode`]).
pub(crate) struct SideTasks {
    book: Mutex<SideBook>,
}

struct SideBook {
    entries: Slab<Entry>,
    next_id: u64,
    /// Live entries of kind `Holding`.
    holding: usize,
    /// Set once the daemons were stopped: new daemons are refused.
    daemons_stopped: bool,
    /// Set when the scope was cancelled: every new side task is refused.
    cancelled: bool,
    /// The first side task's panic, resumed in the owner.
    panic: Option<PanicPayload>,
}

struct Entry {
    id: u64,
    kind: Kind,
    task: Task,
}

enum Task {
    /// Spawned, abort handle not stored yet; `abort` says whether it must be
    /// aborted as soon as it is.
    Unattached {
        abort: bool,
    },
    Running(AbortHandle),
    /// Finished before its handle was attached.
    Finished,
}

impl SideTasks {
    pub(crate) fn new() -> SideTasks {
        SideTasks {
            book: Mutex::new(SideBook {
                entries: Slab::new(),
                next_id: 0,
                holding: 0,
                daemons_stopped: false,
                cancelled: false,
                panic: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SideBook> {
        // No user code runs under this lock; ignore poisoning.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new entry, or `None` if the scope no longer takes this kind.
    fn register(&self, kind: Kind) -> Option<SideKey> {
        let mut book = self.lock();
        if book.cancelled || (kind == Kind::Daemon && book.daemons_stopped) {
            return None;
        }
        let id = book.next_id;
        book.next_id += 1;
        if kind == Kind::Holding {
            book.holding += 1;
        }
        let slot = book.entries.insert(Entry {
            id,
            kind,
            task: Task::Unattached { abort: false },
        });
        Some(SideKey { slot, id })
    }

    /// Stores the abort handle of the task spawned for `key`.
    fn attach(&self, key: SideKey, abort: AbortHandle) {
        let mut book = self.lock();
        let entry = &mut book.entries[key.slot];
        debug_assert_eq!(entry.id, key.id, "a side slot was reused before attach");
        match entry.task {
            Task::Finished => {
                book.entries.remove(key.slot);
            }
            Task::Unattached { abort: false } => entry.task = Task::Running(abort),
            Task::Unattached { abort: true } => {
                entry.task = Task::Running(abort.clone());
                drop(book);
                abort.abort();
            }
            Task::Running(_) => unreachable!("a side task is attached once"),
        }
    }

    /// The task of `key` ended (its future has been dropped). Returns
    /// whether that was the last holding task, so the owner must look again.
    fn finish(&self, key: SideKey, panic: Option<PanicPayload>) -> bool {
        let mut book = self.lock();
        if let Some(payload) = panic {
            book.panic.get_or_insert(payload);
        }
        let entry = &mut book.entries[key.slot];
        debug_assert_eq!(entry.id, key.id, "a side slot was reused before finish");
        let kind = entry.kind;
        if matches!(entry.task, Task::Unattached { .. }) {
            entry.task = Task::Finished;
        } else {
            book.entries.remove(key.slot);
        }
        if kind == Kind::Holding {
            book.holding -= 1;
            return book.holding == 0;
        }
        false
    }

    /// Aborts the task of `key` if it is still running.
    pub(crate) fn abort(&self, key: SideKey) {
        let mut book = self.lock();
        let abort = match book.entries.get_mut(key.slot) {
            Some(entry) if entry.id == key.id => mark_aborted(entry),
            _ => None,
        };
        drop(book);
        if let Some(abort) = abort {
            abort.abort();
        }
    }

    /// Whether the task of `key` has not ended yet.
    pub(crate) fn is_alive(&self, key: SideKey) -> bool {
        let book = self.lock();
        matches!(book.entries.get(key.slot),
            Some(entry) if entry.id == key.id && !matches!(entry.task, Task::Finished))
    }

    /// The scope was cancelled: abort everything, refuse what comes later.
    pub(crate) fn cancel_all(&self) {
        self.abort_where(|book| {
            book.cancelled = true;
            true
        });
    }

    /// Registers the owner's `waker` on `node`, then — if no holding side
    /// task is left — stops every daemon. Called by the owner once no
    /// regular child is running or queued. (Registering first means a
    /// holding task that ends meanwhile finds the waker and wakes it.)
    pub(crate) fn stop_daemons_when_idle(&self, node: &CancelNode, waker: &Waker) {
        node.register_owner(waker);
        self.abort_where(|book| {
            if book.holding > 0 || book.daemons_stopped {
                return false;
            }
            book.daemons_stopped = true;
            true
        });
    }

    /// If `decide` says so (under the lock), aborts every live daemon — or,
    /// after `cancel_all`'s decision, every live side task.
    fn abort_where(&self, decide: impl FnOnce(&mut SideBook) -> bool) {
        let aborts: Vec<AbortHandle> = {
            let mut book = self.lock();
            if !decide(&mut book) {
                return;
            }
            let all = book.cancelled;
            book.entries
                .iter_mut()
                .filter(|(_, e)| all || e.kind == Kind::Daemon)
                .filter_map(|(_, e)| mark_aborted(e))
                .collect()
        };
        for abort in aborts {
            abort.abort();
        }
    }

    /// The first side task's panic, if one panicked.
    pub(crate) fn take_panic(&self) -> Option<PanicPayload> {
        self.lock().panic.take()
    }
}

/// The handle to abort `entry`'s task with, or a note for `attach` to abort
/// it if it is not attached yet.
fn mark_aborted(entry: &mut Entry) -> Option<AbortHandle> {
    match &mut entry.task {
        Task::Running(abort) => Some(abort.clone()),
        Task::Unattached { abort } => {
            *abort = true;
            None
        }
        Task::Finished => None,
    }
}

impl<'env, T: Send + 'env> State<'env, T> {
    /// Starts a side task of `kind` running `body`; `None` (dropping
    /// `body` unpolled) if the scope finished, was cancelled, or — for a
    /// daemon — already stopped its daemons.
    pub(crate) fn spawn_side(
        self: &Arc<Self>,
        kind: Kind,
        body: BoxFuture<'env, ()>,
        at: &'static std::panic::Location<'static>,
    ) -> Option<SideKey> {
        // Registering and taking the hold under the scope's lock, after
        // checking it is open, means the owner cannot finish in between.
        let started = self.while_open(|| {
            let key = self.node.side.register(kind)?;
            Some((key, self.node.hold()))
        });
        let Some(Some((key, hold))) = started else {
            drop(body);
            return None;
        };
        let task = SideChild {
            body: Some(body),
            reporter: SideReporter {
                node: self.node.clone(),
                key,
                fail_fast: !self.supervises(),
                reported: false,
            },
            _hold: hold,
        };
        // SAFETY: the future may borrow data living for `'env`. It holds the
        // scope open (`_hold`) until it has been dropped — `body` is dropped
        // before `_hold` (declaration order) — and the scope's owner does
        // not finish, nor does the sync-boundary scope's caller return,
        // while a hold is alive (see the module docs and `state.rs`). Its
        // output is `()`.
        let join = unsafe { self.handle.spawn_unchecked(task, at) };
        self.node.side.attach(key, join.abort_handle());
        Some(key)
    }
}

/// The future spawned for each side task.
struct SideChild<'env> {
    /// Dropped first (fields drop in declaration order).
    body: Option<BoxFuture<'env, ()>>,
    reporter: SideReporter,
    /// Released last, once the body is gone and the end was reported.
    _hold: Hold,
}

/// Reports the side task's end, also when it is dropped unfinished.
struct SideReporter {
    node: Arc<CancelNode>,
    key: SideKey,
    fail_fast: bool,
    reported: bool,
}

impl SideReporter {
    fn report(&mut self, panic: Option<PanicPayload>) {
        self.reported = true;
        let panicked = panic.is_some();
        if self.node.side.finish(self.key, panic) {
            self.node.wake_owner();
        }
        if panicked && self.fail_fast {
            self.node.cancel(StopReason::Failed);
        }
    }
}

impl Drop for SideReporter {
    fn drop(&mut self) {
        if !self.reported {
            self.report(None);
        }
    }
}

impl Future for SideChild<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let polled = {
            let _current = node::enter(&this.reporter.node);
            let body = this
                .body
                .as_mut()
                .expect("a side task is not polled after it finished");
            catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx)))
        };
        let mut panic = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(())) => None,
            Err(payload) => Some(payload),
        };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| this.body = None)) {
            panic.get_or_insert(payload);
        }
        this.reporter.report(panic);
        Poll::Ready(())
    }
}
