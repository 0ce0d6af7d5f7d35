//! `State`: the bookkeeping shared by a scope's owner, its handles and its
//! children — results in spawn order, the queue of children waiting for a
//! concurrency slot, and the count of children still alive.
//!
//! # The invariant everything rests on
//!
//! `active` counts children whose task exists and whose future has not yet
//! been dropped. A child is counted *before* its task is created and
//! uncounted only after its future (and every queued child that its report
//! cancelled) has been dropped. The owner finishes only when `active` is
//! zero and the queue is empty, so when it finishes no future or closure of
//! the scope exists any more. This is what lets the sync-boundary scope hand
//! out futures that borrow from its caller's stack.

use std::collections::VecDeque;
use std::future::Future;
use std::mem;
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use minirt_core::task::AbortHandle;

use super::child::Child;
use super::clock::{self, Instant};
use super::node::{self, CancelNode, Hold};
use super::outcome::{Finished, Outcome, StopReason};
use crate::runtime::trace::{ScopeListing, ScopeRegistry};
use crate::runtime::Handle;

/// A child's future, boxed so children of different types share a scope.
pub(crate) type BoxFuture<'env, T> = Pin<Box<dyn Future<Output = T> + Send + 'env>>;

/// A child not started yet: either its future, or the closure that makes it
/// (called in the child's first poll, so queued children hold no future).
pub(crate) enum Body<'env, T> {
    Ready(BoxFuture<'env, T>),
    Lazy(Box<dyn FnOnce() -> BoxFuture<'env, T> + Send + 'env>),
}

/// Settings fixed when a scope is created.
pub(crate) struct Config<T> {
    pub(crate) max_concurrency: usize,
    pub(crate) supervise: bool,
    /// Which completed outputs count as failures (`Result::is_err` for
    /// `try` scopes).
    pub(crate) fail_on: Option<fn(&T) -> bool>,
    /// This scope's own deadline, before nesting is applied.
    pub(crate) deadline: Option<Instant>,
}

pub(crate) struct State<'env, T> {
    /// Keeps the scope in its runtime's list for dumps until dropped.
    _listed: ScopeListing,
    pub(crate) node: Arc<CancelNode>,
    pub(crate) handle: Handle,
    config: Config<T>,
    book: BookLock<'env, T>,
    /// The task that cancels the scope at its deadline.
    watchdog: Mutex<Option<AbortHandle>>,
    /// Set once the owner consumes completions one by one
    /// (`next_completed`); until then it is only woken at the end.
    wake_each: AtomicBool,
    /// Keeps the enclosing scope (if any) open until this one is over —
    /// finished, or abandoned and every child dropped — so an outer `join`
    /// also waits for the children of scopes nested in it.
    parent_hold: Mutex<Option<Hold>>,
}

/// The book's lock, on a cache line of its own (128 bytes: x86 prefetches
/// lines in pairs). Every child's launch and report takes this lock, on
/// whichever worker the child runs; beside `node`, `handle` and `config`,
/// which every spawn and report reads, each lock took those reads' line
/// from the other worker (`scope_fanout`: 179 → 146 ms for 50 iterations,
/// `perf` had the lock's compare-and-swap and unlock as the hottest
/// instructions of `report`).
#[repr(align(128))]
struct BookLock<'env, T>(Mutex<Book<'env, T>>);

struct Book<'env, T> {
    /// One slot per child, in spawn order.
    results: Vec<Slot<T>>,
    /// Children waiting for a concurrency slot.
    /// Queued children: spawn index, body, and spawn site (for dumps).
    pending: VecDeque<(usize, Body<'env, T>, &'static Location<'static>)>,
    /// See the module docs.
    active: usize,
    /// Indices of finished children not yet taken by `next_completed`.
    completions: VecDeque<usize>,
    /// Whether `next_completed` handed out a `Cancelled` outcome: the scope
    /// was still cut short, though that child's slot is `Taken`.
    cancelled_taken: bool,
    /// The child whose failure stopped a fail-fast scope.
    failure: Option<usize>,
    /// Set when the owner finished (or gave up): spawning is refused.
    closed: bool,
}

enum Slot<T> {
    Waiting,
    Done(Outcome<T>),
    Taken,
}

impl<'env, T: Send + 'env> State<'env, T> {
    /// A scope on `handle`, nested in the scope whose child is running on
    /// this thread (if any); listed for dumps with its caller as the place
    /// it was created.
    #[track_caller]
    pub(crate) fn new(handle: Handle, config: Config<T>) -> Arc<Self> {
        let created_at = Location::caller();
        assert!(
            config.max_concurrency > 0,
            "scope max_concurrency must be at least 1"
        );
        let parent = node::current();
        let parent_hold = parent.as_ref().map(|p| p.hold());
        let node = CancelNode::new(parent, config.deadline);
        let watchdog = node.effective_deadline().map(|deadline| {
            let node = node.clone();
            handle
                .spawn(async move {
                    clock::sleep_until(deadline).await;
                    node.cancel(StopReason::TimedOut);
                })
                .abort_handle()
        });
        let listed = ScopeRegistry::list(&handle.inner.tracer, Arc::downgrade(&node), created_at);
        Arc::new(State {
            _listed: listed,
            node,
            handle,
            config,
            book: BookLock(Mutex::new(Book {
                results: Vec::new(),
                pending: VecDeque::new(),
                active: 0,
                completions: VecDeque::new(),
                cancelled_taken: false,
                failure: None,
                closed: false,
            })),
            watchdog: Mutex::new(watchdog),
            wake_each: AtomicBool::new(false),
            parent_hold: Mutex::new(parent_hold),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Book<'env, T>> {
        // No user code runs under this lock; ignore poisoning.
        self.book.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a child; returns its spawn index, or `None` (dropping `body`)
    /// if the scope already finished.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        body: Body<'env, T>,
        at: &'static Location<'static>,
    ) -> Option<usize> {
        let mut book = self.lock();
        if book.closed {
            drop(book);
            drop(body);
            return None;
        }
        let index = book.results.len();
        if self.node.is_cancelled() {
            book.results.push(Slot::Done(Outcome::Cancelled));
            book.completions.push_back(index);
            drop(book);
            drop(body);
            return Some(index);
        }
        book.results.push(Slot::Waiting);
        if book.active < self.config.max_concurrency {
            book.active += 1;
            drop(book);
            self.launch(index, body, at);
        } else {
            book.pending.push_back((index, body, at));
        }
        Some(index)
    }

    /// Starts a counted child's task.
    fn launch(self: &Arc<Self>, index: usize, body: Body<'env, T>, at: &'static Location<'static>) {
        let child = Child::new(self.clone(), index, body);
        // SAFETY: the child may borrow data living for `'env`; it is counted
        // in `active` until its future has been dropped, and the owner does
        // not finish — and, for the sync-boundary scope, the borrowing stack
        // frame does not return — before `active` is zero (see the module
        // docs). Its output is `()`. What the task still holds after that is
        // an `Arc<State>` whose drop touches no `'env` data: the results and
        // the queue are emptied when the owner finishes. (The task is the
        // child's only allocation besides its body: no extra box.)
        let join = unsafe { self.handle.spawn_unchecked(child, at) };
        self.node.attach(index, join.abort_handle());
    }

    /// A child finished with `outcome`; its future has been dropped.
    pub(crate) fn report(self: &Arc<Self>, index: usize, outcome: Outcome<T>) {
        self.node.detach(index);
        let failed = match &outcome {
            Outcome::Panicked(_) => true,
            Outcome::Completed(v) => self.config.fail_on.is_some_and(|f| f(v)),
            Outcome::Cancelled => false,
        };
        let externally_cancelled = outcome.is_cancelled() && !self.node.is_cancelled();
        let mut cancel = None;
        let to_drop = {
            let mut book = self.lock();
            book.results[index] = Slot::Done(outcome);
            book.completions.push_back(index);
            if failed && !self.config.supervise && book.failure.is_none() {
                book.failure = Some(index);
                cancel = Some(StopReason::Failed);
            }
            if externally_cancelled {
                // Aborted by a runtime shutdown: the scope cannot go on.
                cancel = Some(StopReason::Cancelled);
            }
            if cancel.is_none() && !self.node.is_cancelled() {
                // The common case, in this one lock: hand our slot straight
                // to the next queued child (`active` stays the same: it
                // counts that child instead of us), or give it up.
                let next = if book.active <= self.config.max_concurrency {
                    book.pending.pop_front()
                } else {
                    None
                };
                if next.is_none() {
                    book.active -= 1;
                }
                let abandoned_and_empty = book.closed && book.active == 0;
                let finished = book.active == 0 && book.pending.is_empty();
                drop(book);
                if let Some((i, body, at)) = next {
                    self.launch(i, body, at);
                }
                self.after_report(finished, abandoned_and_empty);
                return;
            }
            book.drain_pending()
        };
        if let Some(reason) = cancel {
            self.node.cancel(reason);
        }
        // Drop cancelled closures while this child still counts as active,
        // so the owner cannot finish (and invalidate `'env`) before.
        drop(to_drop);
        // Start queued children into the freed slot(s), one lock at a time
        // (no per-completion allocation on this hot path).
        loop {
            let next = {
                let mut book = self.lock();
                // `active` still counts this child, hence `<=`.
                if self.node.is_cancelled()
                    || book.active > self.config.max_concurrency
                    || book.pending.is_empty()
                {
                    None
                } else {
                    let next = book.pending.pop_front().expect("checked non-empty");
                    book.active += 1;
                    Some(next)
                }
            };
            match next {
                Some((i, body, at)) => self.launch(i, body, at),
                None => break,
            }
        }
        let (abandoned_and_empty, finished) = {
            let mut book = self.lock();
            book.active -= 1;
            (
                book.closed && book.active == 0,
                book.active == 0 && book.pending.is_empty(),
            )
        };
        self.after_report(finished, abandoned_and_empty);
    }

    /// The end of `report`: wake the owner if it waits for this, and let
    /// an abandoned scope's parent go once the last child is gone.
    fn after_report(&self, finished: bool, abandoned_and_empty: bool) {
        // An owner in `join` only cares about the end; one consuming
        // `next_completed` wants every completion. Waking it for each of
        // 10 000 children would cost 10 000 polls of the owner.
        if finished || self.wake_each.load(Relaxed) {
            self.node.wake_owner();
        }
        if abandoned_and_empty {
            self.release_parent();
        }
    }

    /// Polls for the end of the scope: every child finished (or cancelled
    /// and dropped), and nothing holds it open (shielded tasks started
    /// inside it, nested scopes still dropping their children).
    pub(crate) fn poll_finish(&self, cx: &mut Context<'_>) -> Poll<Finished<T>> {
        let mut book = self.lock();
        assert!(!book.closed, "a scope was polled after it finished");
        if self.node.is_cancelled() && !book.pending.is_empty() {
            let queued = book.drain_pending();
            drop(book);
            drop(queued);
            book = self.lock();
        }
        if book.active > 0 || !book.pending.is_empty() {
            self.node.register_owner(cx.waker());
            return Poll::Pending;
        }
        // No child left: daemons go now (their holds are released as they
        // are dropped), unless a pending scheduled call still holds on.
        // Outside the lock: an abort may drop a task, and with it user code.
        drop(book);
        self.node
            .side
            .stop_daemons_when_idle(&self.node, cx.waker());
        book = self.lock();
        if book.active > 0 || !book.pending.is_empty() {
            // A daemon spawned a child meanwhile (the waker is registered).
            return Poll::Pending;
        }
        if !self.node.holds_done_or_register(cx.waker()) {
            return Poll::Pending;
        }
        book.closed = true;
        let results = mem::take(&mut book.results);
        let failure = book.failure;
        let cancelled_taken = book.cancelled_taken;
        book.completions.clear();
        drop(book);
        self.stop_watchdog();
        self.release_parent();
        let any_cancelled = cancelled_taken
            || results
                .iter()
                .any(|s| matches!(s, Slot::Done(Outcome::Cancelled)));
        let outcomes = results
            .into_iter()
            .map(|slot| match slot {
                Slot::Done(outcome) => Some(outcome),
                Slot::Taken => None,
                Slot::Waiting => unreachable!("no child is alive"),
            })
            .collect();
        Poll::Ready(Finished {
            outcomes,
            // Cancelling a scope whose children had all completed changes
            // nothing, so it does not count as stopping it.
            stopped: self.node.reason().filter(|_| any_cancelled),
            failure,
            side_panic: self.node.side.take_panic(),
        })
    }

    /// Polls for the next child to finish; `None` once none is left.
    pub(crate) fn poll_next_completed(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(usize, Outcome<T>)>> {
        let mut book = self.lock();
        if self.node.is_cancelled() && !book.pending.is_empty() {
            let queued = book.drain_pending();
            drop(book);
            drop(queued);
            book = self.lock();
        }
        while let Some(index) = book.completions.pop_front() {
            if let Slot::Done(outcome) = mem::replace(&mut book.results[index], Slot::Taken) {
                book.cancelled_taken |= outcome.is_cancelled();
                return Poll::Ready(Some((index, outcome)));
            }
        }
        if book.active == 0 && book.pending.is_empty() {
            return Poll::Ready(None);
        }
        self.wake_each.store(true, Relaxed);
        self.node.register_owner(cx.waker());
        Poll::Pending
    }

    /// Runs `f` under the scope's lock if the owner has not finished yet
    /// (so it cannot finish while `f` runs); `f` must not run user code.
    pub(crate) fn while_open<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let book = self.lock();
        if book.closed {
            return None;
        }
        let out = f();
        drop(book);
        Some(out)
    }

    /// Whether failures leave siblings running (supervisor mode).
    pub(crate) fn supervises(&self) -> bool {
        self.config.supervise
    }

    /// The owner went away before the scope finished: cancel everything.
    pub(crate) fn abandon(&self) {
        let (queued, empty) = {
            let mut book = self.lock();
            if book.closed {
                return;
            }
            book.closed = true;
            (book.drain_pending(), book.active == 0)
        };
        self.node.cancel(StopReason::Cancelled);
        drop(queued);
        self.stop_watchdog();
        if empty {
            // Otherwise the last child to report releases it.
            self.release_parent();
        }
    }

    fn release_parent(&self) {
        let hold = self
            .parent_hold
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(hold);
    }

    fn stop_watchdog(&self) {
        let watchdog = self
            .watchdog
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(w) = watchdog {
            w.abort();
        }
    }
}

impl<'env, T> Book<'env, T> {
    /// Takes every queued child out (to be dropped by the caller, outside
    /// the lock) and records them as cancelled.
    fn drain_pending(&mut self) -> Vec<(usize, Body<'env, T>, &'static Location<'static>)> {
        let queued: Vec<_> = self.pending.drain(..).collect();
        for (index, _, _) in &queued {
            self.results[*index] = Slot::Done(Outcome::Cancelled);
            self.completions.push_back(*index);
        }
        queued
    }
}
