//! The live scopes of a runtime, for task dumps: which scope each task is a
//! child of, which task waits on a scope's join, and how scopes nest.
//!
//! A scope lists itself here when it is created and leaves when its state
//! is dropped ([`ScopeListing`]): one lock and one slab slot per scope, not
//! per child, so the cost is per scope (a scope already takes a few
//! allocations). The entry holds a weak reference to the scope's
//! [`CancelNode`], which knows its parent, its running children and its
//! owner's waker.

use std::panic::Location;
use std::sync::{Arc, Mutex, Weak};

use minirt_core::task::Id;
use slab::Slab;

use crate::scope::CancelNode;

/// One listed scope.
struct Entry {
    node: Weak<CancelNode>,
    created_at: &'static Location<'static>,
}

/// Every live scope of one runtime. On a cache line of its own: creating
/// a scope writes its lock, and the rest of the `Tracer` is read at every
/// poll.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct ScopeRegistry {
    scopes: Mutex<Slab<Entry>>,
}

/// Keeps a scope listed; unlists it when dropped.
pub(crate) struct ScopeListing {
    registry: Arc<super::Tracer>,
    key: usize,
}

impl Drop for ScopeListing {
    fn drop(&mut self) {
        let mut scopes = self
            .registry
            .scopes
            .scopes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        scopes.try_remove(self.key);
    }
}

/// What a dump shows of one scope.
#[derive(Clone, Debug)]
pub struct ScopeDump {
    pub(crate) created_at: &'static Location<'static>,
    pub(crate) owner: Option<Id>,
    pub(crate) children: Vec<Id>,
    pub(crate) cancelled: bool,
    /// Index of the enclosing scope in [`Dump::scopes`](super::Dump::scopes).
    pub(crate) parent: Option<usize>,
}

impl ScopeDump {
    /// Where the scope was created (`Scope::new`, `minirt::scope`, ...).
    pub fn created_at(&self) -> &'static Location<'static> {
        self.created_at
    }

    /// The task waiting for the scope to finish (awaiting `join`,
    /// `outcomes`, `next_completed`), if a task is waiting right now.
    pub fn owner(&self) -> Option<Id> {
        self.owner
    }

    /// Its running children, in spawn order.
    pub fn children(&self) -> &[Id] {
        &self.children
    }

    /// Whether it was cancelled (or timed out).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// The index, in the same dump's [`scopes`](super::Dump::scopes), of
    /// the scope this one was created in (from one of its children).
    pub fn parent(&self) -> Option<usize> {
        self.parent
    }
}

impl ScopeRegistry {
    /// Lists a scope created at `created_at`.
    pub(crate) fn list(
        tracer: &Arc<super::Tracer>,
        node: Weak<CancelNode>,
        created_at: &'static Location<'static>,
    ) -> ScopeListing {
        let key = tracer
            .scopes
            .scopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(Entry { node, created_at });
        ScopeListing {
            registry: tracer.clone(),
            key,
        }
    }

    /// Every live scope, parents linked by index.
    pub(crate) fn snapshot(&self) -> Vec<ScopeDump> {
        let nodes: Vec<(Arc<CancelNode>, &'static Location<'static>)> = self
            .scopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(_, e)| Some((e.node.upgrade()?, e.created_at)))
            .collect();
        let addrs: Vec<usize> = nodes.iter().map(|(n, _)| Arc::as_ptr(n) as usize).collect();
        nodes
            .iter()
            .map(|(node, created_at)| {
                let view = node.view();
                ScopeDump {
                    created_at,
                    owner: view.owner,
                    children: view.children,
                    cancelled: view.cancelled,
                    parent: view.parent.and_then(|p| addrs.iter().position(|&a| a == p)),
                }
            })
            .collect()
    }
}

/// What a scope's node tells a dump.
pub(crate) struct NodeView {
    pub(crate) owner: Option<Id>,
    pub(crate) children: Vec<Id>,
    pub(crate) cancelled: bool,
    /// The parent node's address.
    pub(crate) parent: Option<usize>,
}
