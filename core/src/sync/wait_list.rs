//! `WaitList`: a FIFO queue of waiters kept in a [`Slab`], linked by index.
//!
//! Why: a fair semaphore and `Notify` must serve waiters in arrival order,
//! let a cancelled waiter leave from the middle of the queue in O(1), and not
//! allocate per wait once warmed up. A slab reuses freed slots, so after the
//! first few waits the queue never allocates; the future that waits keeps
//! only its slot's key, which makes it `Unpin` and needs no unsafe code.
//!
//! How: each slot holds the waiter's data and its [`Link`]. A queued node is
//! part of a doubly-linked list (`prev`/`next` are slab keys). A node can be
//! *detached* — taken out of the queue while keeping its slot — when it has
//! been served (granted permits, notified, closed) but its future has not yet
//! looked. The future then [`remove`](WaitList::remove)s it, which frees the
//! slot. A user may also free a served node itself (the semaphore frees a
//! granted node at once); its future must then recognise its node by more
//! than the key, since the key may be reused (the semaphore's grant tickets).

use slab::Slab;

/// Where a node stands in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// In the queue, between `prev` and `next` (`None` at the ends).
    Queued {
        prev: Option<usize>,
        next: Option<usize>,
    },
    /// Out of the queue; the slot stays until its owner removes it.
    Detached,
}

/// One waiter's slot.
struct Node<T> {
    /// The primitive's data about this waiter.
    value: T,
    /// Its place in the queue, if any.
    link: Link,
}

/// A FIFO queue of `T`s in slab slots, with O(1) removal by key.
pub(crate) struct WaitList<T> {
    /// All nodes, queued or detached.
    nodes: Slab<Node<T>>,
    /// Oldest queued node.
    head: Option<usize>,
    /// Newest queued node.
    tail: Option<usize>,
}

impl<T> WaitList<T> {
    /// Creates an empty list; allocates nothing until the first push.
    pub(crate) const fn new() -> Self {
        Self {
            nodes: Slab::new(),
            head: None,
            tail: None,
        }
    }

    /// Whether no node is queued (detached nodes do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// The key of the oldest queued node.
    pub(crate) fn front(&self) -> Option<usize> {
        self.head
    }

    /// Queues `value` at the back and returns its key.
    pub(crate) fn push_back(&mut self, value: T) -> usize {
        let prev = self.tail;
        let key = self.nodes.insert(Node {
            value,
            link: Link::Queued { prev, next: None },
        });
        match prev {
            Some(prev) => self.set_next(prev, Some(key)),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        key
    }

    /// The data of node `key`. Panics if `key` is not a live node.
    pub(crate) fn get(&self, key: usize) -> &T {
        &self.nodes[key].value
    }

    /// The data of node `key`, or `None` if no node lives under `key`.
    pub(crate) fn try_get(&self, key: usize) -> Option<&T> {
        self.nodes.get(key).map(|node| &node.value)
    }

    /// The data of node `key`, mutably. Panics if `key` is not a live node.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].value
    }

    /// Whether node `key` is still in the queue.
    #[cfg(test)]
    pub(crate) fn is_queued(&self, key: usize) -> bool {
        matches!(self.nodes[key].link, Link::Queued { .. })
    }

    /// Takes node `key` out of the queue but keeps its slot.
    pub(crate) fn detach(&mut self, key: usize) -> &mut T {
        if let Link::Queued { prev, next } = self.nodes[key].link {
            match prev {
                Some(prev) => self.set_next(prev, next),
                None => self.head = next,
            }
            match next {
                Some(next) => self.set_prev(next, prev),
                None => self.tail = prev,
            }
            self.nodes[key].link = Link::Detached;
        }
        &mut self.nodes[key].value
    }

    /// Detaches the oldest queued node and returns its key.
    pub(crate) fn detach_front(&mut self) -> Option<usize> {
        let key = self.head?;
        self.detach(key);
        Some(key)
    }

    /// Frees node `key` (detaching it first if queued) and returns its data.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        self.detach(key);
        self.nodes.remove(key).value
    }

    /// Sets the `next` link of queued node `key`.
    fn set_next(&mut self, key: usize, to: Option<usize>) {
        match &mut self.nodes[key].link {
            Link::Queued { next, .. } => *next = to,
            Link::Detached => unreachable!("WaitList: node {key} is linked but detached"),
        }
    }

    /// Sets the `prev` link of queued node `key`.
    fn set_prev(&mut self, key: usize, to: Option<usize>) {
        match &mut self.nodes[key].link {
            Link::Queued { prev, .. } => *prev = to,
            Link::Detached => unreachable!("WaitList: node {key} is linked but detached"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::WaitList;
    use alloc::vec::Vec;

    fn drain(list: &mut WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(key) = list.detach_front() {
            out.push(list.remove(key));
        }
        out
    }

    #[test]
    fn keeps_fifo_order_and_removes_from_the_middle() {
        let mut list = WaitList::new();
        let keys: Vec<usize> = (0..5).map(|v| list.push_back(v)).collect();
        assert_eq!(list.remove(keys[2]), 2);
        assert_eq!(list.remove(keys[0]), 0);
        assert_eq!(list.remove(keys[4]), 4);
        list.push_back(5);
        assert_eq!(drain(&mut list), [1, 3, 5]);
        assert!(list.is_empty());
    }

    #[test]
    fn detached_nodes_keep_their_slot_but_leave_the_queue() {
        let mut list = WaitList::new();
        let a = list.push_back(1);
        let b = list.push_back(2);
        list.detach(a);
        assert!(!list.is_queued(a));
        assert!(list.is_queued(b));
        assert_eq!(list.front(), Some(b));
        assert_eq!(*list.get(a), 1);
        *list.get_mut(a) = 7;
        assert_eq!(list.remove(a), 7);
        assert_eq!(drain(&mut list), [2]);
    }

    #[test]
    fn reuses_slots_without_growing() {
        let mut list = WaitList::new();
        let first = list.push_back(0);
        list.remove(first);
        for i in 0..100 {
            let key = list.push_back(i);
            assert_eq!(key, first, "a freed slot is reused");
            list.remove(key);
        }
    }
}
