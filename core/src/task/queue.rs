//! `NotifiedQueue`: a lock-free, allocation-free queue of woken tasks that any
//! thread (or interrupt handler) can push to and one consumer drains.
//!
//! Pushing is a Treiber-stack CAS on `head` using the task's intrusive
//! `queue_next` link; the consumer takes the whole stack with one `swap` and
//! reverses it, so tasks come out in the order they were pushed. Because the
//! consumer never pops single nodes, there is no ABA problem, and because
//! `NOTIFIED` guarantees a task is queued at most once, one link per task is
//! enough.

use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use super::header::Header;
use super::Notified;
use crate::loom::atomic::{AtomicPtr, Ordering::*};

/// A multi-producer, single-consumer queue of [`Notified`] tasks.
///
/// ```
/// # use minirt_core::task::{self, Notified, NotifiedQueue, Schedule, Task};
/// # struct Nop;
/// # impl Schedule for Nop {
/// #     fn schedule(&self, _: Notified<Self>) {}
/// #     fn release(&self, _: &Task<Self>) -> Option<Task<Self>> { None }
/// # }
/// let queue = NotifiedQueue::new();
/// let (_t1, n1, _h1) = task::spawn(async { 1 }, Nop);
/// let (_t2, n2, _h2) = task::spawn(async { 2 }, Nop);
/// let (a, b) = (n1.addr(), n2.addr());
/// queue.push(n1);
/// queue.push(n2);
/// let order: Vec<usize> = queue.take_all().map(|n| n.addr()).collect();
/// assert_eq!(order, [a, b]);
/// ```
pub struct NotifiedQueue<S: 'static> {
    /// The most recently pushed task, linked to older ones by `queue_next`.
    head: AtomicPtr<Header>,
    _tasks: PhantomData<Notified<S>>,
}

// SAFETY: the queue owns `Notified` references, which are Send + Sync; all
// shared access goes through the atomic head.
unsafe impl<S> Send for NotifiedQueue<S> {}
// SAFETY: as above.
unsafe impl<S> Sync for NotifiedQueue<S> {}

impl<S: 'static> Default for NotifiedQueue<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: 'static> NotifiedQueue<S> {
    /// An empty queue.
    pub fn new() -> Self {
        NotifiedQueue {
            head: AtomicPtr::new(ptr::null_mut()),
            _tasks: PhantomData,
        }
    }

    /// Appends `task`; lock-free and safe to call from any thread. Returns
    /// `true` if the queue was empty, which is when a consumer may need a
    /// wake-up.
    pub fn push(&self, task: Notified<S>) -> bool {
        let node = task.into_raw();
        let mut head = self.head.load(Relaxed);
        loop {
            // SAFETY: we own the task's queue reference, so `queue_next` is
            // ours to write until the push is published.
            unsafe {
                node.as_ref()
                    .queue_next
                    .with_mut(|p| *p = NonNull::new(head));
            }
            match self
                .head
                .compare_exchange_weak(head, node.as_ptr(), Release, Relaxed)
            {
                Ok(_) => return head.is_null(),
                Err(actual) => head = actual,
            }
        }
    }

    /// Whether the queue looks empty right now.
    pub fn is_empty(&self) -> bool {
        self.head.load(Relaxed).is_null()
    }

    /// Takes every queued task, oldest first.
    pub fn take_all(&self) -> Drain<S> {
        let mut node = NonNull::new(self.head.swap(ptr::null_mut(), Acquire));
        // Reverse the stack into push order.
        let mut reversed: Option<NonNull<Header>> = None;
        while let Some(n) = node {
            // SAFETY: the swap gave us exclusive ownership of every node on
            // the stack and the Acquire pairs with the pushers' Release.
            unsafe {
                node = n.as_ref().queue_next.with(|p| *p);
                n.as_ref().queue_next.with_mut(|p| *p = reversed);
            }
            reversed = Some(n);
        }
        Drain {
            next: reversed,
            _tasks: PhantomData,
        }
    }
}

impl<S: 'static> Drop for NotifiedQueue<S> {
    fn drop(&mut self) {
        drop(self.take_all());
    }
}

/// The tasks taken by [`NotifiedQueue::take_all`], oldest first. Dropping it
/// releases the tasks it still holds without running them.
pub struct Drain<S: 'static> {
    next: Option<NonNull<Header>>,
    _tasks: PhantomData<Notified<S>>,
}

// SAFETY: it owns `Notified` references, which are Send.
unsafe impl<S> Send for Drain<S> {}

impl<S: 'static> Iterator for Drain<S> {
    type Item = Notified<S>;

    fn next(&mut self) -> Option<Notified<S>> {
        let node = self.next?;
        // SAFETY: the drain owns every node in its list.
        unsafe {
            self.next = node.as_ref().queue_next.with(|p| *p);
            Some(Notified::from_raw(node))
        }
    }
}

impl<S: 'static> Drop for Drain<S> {
    fn drop(&mut self) {
        for task in self.by_ref() {
            drop(task);
        }
    }
}
