//! The task header and the per-type vtable: the type-erased front of every
//! task allocation.

use core::panic::Location;
use core::ptr::NonNull;
use core::task::Waker;

use super::state::State;
use super::trace::IdPolls;
use crate::loom::UnsafeCell;
use core::sync::atomic::AtomicU32;

/// The first field of every task allocation; a `NonNull<Header>` is what
/// wakers, handles and queues hold.
#[repr(C)]
pub(crate) struct Header {
    /// Flags and reference count (see `state.rs`).
    pub(crate) state: State,
    /// Functions monomorphized for this task's future and scheduler types.
    pub(crate) vtable: &'static Vtable,
    /// Intrusive link for lock-free run queues. Written only by the thread
    /// that pushes the task, while it holds the task's `Notified`.
    pub(crate) queue_next: UnsafeCell<Option<NonNull<Header>>>,
    /// The task's key in its owned-task list (`owned.rs`): written once by
    /// the list before the task is first queued, read only by the list
    /// afterwards (the queue's release/acquire publishes the write).
    pub(crate) owner_key: UnsafeCell<u32>,
    /// The runtime's coarse clock when the task was last polled (see
    /// `trace.rs`); beside `owner_key` so the two share one word.
    pub(crate) last_poll: AtomicU32,
    /// Waker of the task awaiting the `JoinHandle`. Owned by the handle
    /// while `JOIN_WAKER` is clear, readable by the task side while it is set.
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    /// The caller of `spawn`, for task dumps (`trace.rs`).
    pub(crate) spawned_at: &'static Location<'static>,
    /// The task's id and poll count, for task dumps (`trace.rs`).
    pub(crate) id_polls: IdPolls,
}

/// Operations that need the concrete future and scheduler types.
pub(crate) struct Vtable {
    /// Runs one poll (or the cancellation) of a notified task; consumes the
    /// `Notified` reference.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Hands a `Notified` reference to the task's scheduler.
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the allocation; called when the reference count reaches zero.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Moves the output into `*dst` (a `Poll<Result<T, JoinError>>`) if the
    /// task is complete, else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The `JoinHandle` drop path; consumes the handle's reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// Runtime shutdown: cancel now if idle; consumes one reference.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}
