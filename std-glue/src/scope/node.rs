//! `CancelNode`: the part of a scope that cancellation, deadlines and
//! shields need, kept free of the children's output type so it can be shared
//! with `'static` helpers (the deadline watchdog, shielded tasks) even when
//! the children borrow from a stack frame.
//!
//! Nodes form a tree through `parent`: a scope created while one of another
//! scope's children is being polled hangs below that scope. The tree is what
//! makes deadlines nest (a node's effective deadline is the earliest on its
//! path to the root) and lets shielded work, and nested scopes still
//! dropping their children, hold every enclosing scope open.
//! Cancellation flows down the tree by ownership: cancelling a scope aborts
//! its children, dropping a child drops the scopes it owns, and a dropped
//! scope aborts its own children.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use minirt_core::task::AbortHandle;

use super::clock::Instant;
use super::outcome::StopReason;
use super::side::SideTasks;

thread_local! {
    /// The scope whose child is being polled on this thread right now.
    static CURRENT: Cell<*const CancelNode> = const { Cell::new(std::ptr::null()) };
}

/// Cancellation, deadline and shield bookkeeping of one scope.
pub(crate) struct CancelNode {
    /// The scope this one was created in (from inside one of its children).
    parent: Option<Arc<CancelNode>>,
    /// The earliest deadline on the path to the root.
    effective_deadline: Option<Instant>,
    /// Set once `inner.reason` is; lets hot paths check without locking.
    cancelled: AtomicBool,
    inner: Mutex<NodeInner>,
    /// Daemon children and scheduled calls (see `side.rs`).
    pub(crate) side: SideTasks,
}

struct NodeInner {
    /// Why the scope stopped early, once it did.
    reason: Option<StopReason>,
    /// Children by spawn index (indices past the end are `Unattached`).
    aborts: Vec<ChildEntry>,
    /// Work that holds the scope open although it is not a child: shielded
    /// tasks started inside it (or below it), and nested scopes abandoned by
    /// their owner whose children are still being dropped.
    holds: usize,
    /// The owner waiting for the scope to finish.
    waker: Option<Waker>,
}

/// What the node knows of one child. A child's task is spawned, then its
/// abort handle attached; it may finish in between, so `detach` leaves a
/// tombstone that tells the late `attach` to drop the handle.
enum ChildEntry {
    /// Spawned (or about to be) but its abort handle is not stored yet.
    Unattached,
    /// Running: abort it to cancel it.
    Running(AbortHandle),
    /// Finished; nothing to abort.
    Finished,
}

impl ChildEntry {
    /// The abort handle of a running child, leaving `Finished` in its place;
    /// other entries stay as they are (an `Unattached` child is aborted by
    /// its late `attach`, which sees the cancellation).
    fn take_running(&mut self) -> Option<AbortHandle> {
        if !matches!(self, ChildEntry::Running(_)) {
            return None;
        }
        match core::mem::replace(self, ChildEntry::Finished) {
            ChildEntry::Running(abort) => Some(abort),
            _ => unreachable!("checked above"),
        }
    }
}

impl NodeInner {
    /// The entry of child `index`, growing the vector if needed. Children
    /// are numbered densely from 0, so a vector indexed by child number is
    /// the map (no hashing on this per-child path).
    fn entry(&mut self, index: usize) -> &mut ChildEntry {
        if self.aborts.len() <= index {
            self.aborts
                .resize_with(index + 1, || ChildEntry::Unattached);
        }
        &mut self.aborts[index]
    }
}

impl CancelNode {
    /// A node below `parent` with its own deadline `own` (if any).
    pub(crate) fn new(parent: Option<Arc<CancelNode>>, own: Option<Instant>) -> Arc<CancelNode> {
        let inherited = parent.as_ref().and_then(|p| p.effective_deadline);
        let effective_deadline = match (inherited, own) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Arc::new(CancelNode {
            parent,
            effective_deadline,
            cancelled: AtomicBool::new(false),
            inner: Mutex::new(NodeInner {
                reason: None,
                aborts: Vec::new(),
                holds: 0,
                waker: None,
            }),
            side: SideTasks::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, NodeInner> {
        // Nothing user-supplied runs under this lock; ignore poisoning.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The earliest deadline of this scope and every scope around it.
    pub(crate) fn effective_deadline(&self) -> Option<Instant> {
        self.effective_deadline
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.lock().reason
    }

    /// Stops the scope: every running child is aborted, and the owner is
    /// woken to drop the queued ones. The first reason wins.
    pub(crate) fn cancel(&self, reason: StopReason) {
        let (aborts, waker) = {
            let mut inner = self.lock();
            if inner.reason.is_some() {
                return;
            }
            inner.reason = Some(reason);
            self.cancelled.store(true, Ordering::Release);
            let aborts: Vec<AbortHandle> = inner
                .aborts
                .iter_mut()
                .filter_map(ChildEntry::take_running)
                .collect();
            (aborts, inner.waker.take())
        };
        for abort in aborts {
            abort.abort();
        }
        self.side.cancel_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Stores a just-spawned child's abort handle, or aborts it right away
    /// if the scope was cancelled meanwhile. If the child already finished,
    /// the handle is simply dropped.
    pub(crate) fn attach(&self, index: usize, abort: AbortHandle) {
        let mut inner = self.lock();
        let cancelled = inner.reason.is_some();
        let entry = inner.entry(index);
        match entry {
            ChildEntry::Finished => {}
            ChildEntry::Unattached if !cancelled => *entry = ChildEntry::Running(abort),
            _ => {
                drop(inner);
                abort.abort();
            }
        }
    }

    /// The child finished (completed or was dropped).
    pub(crate) fn detach(&self, index: usize) {
        let previous = core::mem::replace(self.lock().entry(index), ChildEntry::Finished);
        drop(previous);
    }

    /// What a task dump shows of this scope (see `runtime::trace::scopes`).
    pub(crate) fn view(&self) -> crate::runtime::trace::NodeView {
        let inner = self.lock();
        crate::runtime::trace::NodeView {
            owner: inner
                .waker
                .as_ref()
                .and_then(minirt_core::task::id_of_waker),
            children: inner
                .aborts
                .iter()
                .filter_map(|c| match c {
                    ChildEntry::Running(abort) => Some(abort.id()),
                    _ => None,
                })
                .collect(),
            cancelled: inner.reason.is_some(),
            parent: self.parent.as_ref().map(|p| Arc::as_ptr(p) as usize),
        }
    }

    /// Wakes the owner, if it is waiting.
    pub(crate) fn wake_owner(&self) {
        let waker = self.lock().waker.take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether nothing [holds](Self::hold) the scope open; if something
    /// does, `waker` is stored and woken when the last hold is released.
    pub(crate) fn holds_done_or_register(&self, waker: &Waker) -> bool {
        let mut inner = self.lock();
        if inner.holds == 0 {
            return true;
        }
        register(&mut inner.waker, waker);
        false
    }

    /// Stores the owner's waker.
    pub(crate) fn register_owner(&self, waker: &Waker) {
        register(&mut self.lock().waker, waker);
    }

    /// Holds this scope and every enclosing one open until the returned
    /// value is dropped (their owners' `join` waits for it).
    pub(crate) fn hold(self: &Arc<Self>) -> Hold {
        let mut node = Some(self);
        while let Some(n) = node {
            n.lock().holds += 1;
            node = n.parent.as_ref();
        }
        Hold(self.clone())
    }
}

fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(w) if w.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Keeps a scope and its ancestors open until dropped.
pub(crate) struct Hold(Arc<CancelNode>);

impl Drop for Hold {
    fn drop(&mut self) {
        let mut node = Some(&self.0);
        while let Some(n) = node {
            let waker = {
                let mut inner = n.lock();
                inner.holds -= 1;
                if inner.holds == 0 {
                    inner.waker.take()
                } else {
                    None
                }
            };
            if let Some(waker) = waker {
                waker.wake();
            }
            node = n.parent.as_ref();
        }
    }
}

/// The node of the scope whose child is running on this thread.
pub(crate) fn current() -> Option<Arc<CancelNode>> {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer was set by `enter` from an `Arc` that the
    // running child holds (through its scope state) for the whole poll, and
    // is cleared or restored when that poll ends; so the node is alive and
    // we may take one more strong reference to it.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// Makes `node` current for the duration of a child's poll.
///
/// Only a pointer is stored: cloning the `Arc` for every poll of every child
/// made both workers bounce its reference count between their caches.
pub(crate) fn enter(node: &Arc<CancelNode>) -> EnterGuard {
    let prev = CURRENT
        .try_with(|c| c.replace(Arc::as_ptr(node)))
        .unwrap_or(std::ptr::null());
    EnterGuard { prev }
}

/// Restores the previous current node on drop.
pub(crate) struct EnterGuard {
    prev: *const CancelNode,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.prev));
    }
}

#[cfg(all(test, not(minirt_loom)))]
mod tests {
    use super::*;

    /// A current-thread runtime and the abort handles of two idle tasks.
    fn two_idle_tasks() -> (crate::Runtime, [crate::JoinHandle<()>; 2]) {
        let rt = crate::Builder::current_thread().build().unwrap();
        let handles = rt.block_on(async {
            [
                crate::spawn(std::future::pending()),
                crate::spawn(std::future::pending()),
            ]
        });
        (rt, handles)
    }

    #[test]
    fn a_child_that_finished_before_attach_is_not_aborted_later() {
        let (rt, [early, running]) = two_idle_tasks();
        let node = CancelNode::new(None, None);
        // Child 0 finishes before its spawner attaches its handle.
        node.detach(0);
        node.attach(0, early.abort_handle());
        node.attach(1, running.abort_handle());
        node.cancel(StopReason::Cancelled);
        rt.block_on(async {
            crate::yield_now().await;
        });
        assert!(!early.is_finished(), "a finished child's handle was kept");
        assert!(running.is_finished(), "a running child was not aborted");
    }

    #[test]
    fn attach_after_cancel_aborts_at_once() {
        let (rt, [late, _other]) = two_idle_tasks();
        let node = CancelNode::new(None, None);
        node.cancel(StopReason::TimedOut);
        node.attach(0, late.abort_handle());
        rt.block_on(async {
            crate::yield_now().await;
        });
        assert!(late.is_finished());
    }
}
