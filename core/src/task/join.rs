//! `JoinHandle` and `AbortHandle`: the spawner's side of a task.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll, Waker};

use super::error::JoinError;
use super::header::Header;
use super::trace::Id;

/// An owned permission to await a task's output; `Drop` detaches the task.
///
/// Awaiting it yields `Ok(output)`, or a [`JoinError`] if the task was
/// cancelled or panicked. Dropping it does **not** cancel the task; call
/// [`abort`](JoinHandle::abort) for that.
///
/// Cancellation behaves like unwinding: after `abort()`, the task is never
/// polled again, its future is dropped (running destructors at the suspended
/// `.await`), and only then does the handle resolve to
/// `Err(JoinError::cancelled())`. So "abort, then await the handle" is a
/// synchronization point: every guard the task held has been released.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
///
/// let ex = LocalExecutor::new();
/// let handle = ex.spawn(async { 6 * 7 });
/// assert_eq!(ex.block_on(handle, || {}).unwrap(), 42);
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves `T` out of the task (so `T: Send` is needed
// to send the handle) and all shared state is behind the atomic state word.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state word and can request an abort.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    ///
    /// `raw` is a task whose output type is `T`, and the caller gives the
    /// handle the task's join reference.
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Self {
        JoinHandle {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle holds a reference, so the task is alive.
        unsafe { self.raw.as_ref() }
    }

    /// Asks the task to stop: it will not be polled again and its future is
    /// dropped on the executor (on its own thread for local tasks).
    ///
    /// A task that already completed keeps its output; a task that is being
    /// polled right now is dropped as soon as that poll returns `Pending`.
    /// Calling it twice is harmless.
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// Whether the task has finished (completed, panicked or was cancelled).
    /// After `true`, awaiting the handle returns without waiting.
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is_complete()
    }

    /// The task's id, as task dumps and long-poll reports show it (tokio's
    /// `JoinHandle::id`).
    pub fn id(&self) -> Id {
        super::trace::id_of(self.header())
    }

    /// A handle that can abort the task but not await it; it can be cloned
    /// and sent to other threads regardless of the output type.
    pub fn abort_handle(&self) -> AbortHandle {
        self.header().state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    /// One budgeted operation (see [`coop`](crate::coop)): with the task's
    /// budget spent it yields before looking, even if the task finished.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::coop::poll_budgeted(cx, |cx| {
            let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
            // SAFETY: we are the task's JoinHandle and `out` has the output
            // type the task was created with.
            unsafe {
                (self.header().vtable.try_read_output)(
                    self.raw,
                    &mut out as *mut Poll<Result<T, JoinError>> as *mut (),
                    cx.waker(),
                );
            }
            // No wait note: awaiting a JoinHandle is on the spawn-and-join
            // hot path, and the note would not say which task it awaits.
            out
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: we are the JoinHandle and give up our reference.
        unsafe { (self.header().vtable.drop_join_handle)(self.raw) }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without being able to await it.
///
/// Obtained from [`JoinHandle::abort_handle`]; `Clone + Send + Sync` for any
/// task, so a supervisor on another thread can hold one per child.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
///
/// let ex = LocalExecutor::new();
/// let handle = ex.spawn(core::future::pending::<()>());
/// let abort = handle.abort_handle();
/// abort.abort();
/// assert!(ex.block_on(handle, || {}).unwrap_err().is_cancelled());
/// assert!(abort.is_finished());
/// ```
pub struct AbortHandle {
    raw: NonNull<Header>,
}

// SAFETY: an AbortHandle never touches the stage, only the atomic state word
// and the scheduler's thread-safe `schedule`.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Same as [`JoinHandle::abort`].
    pub fn abort(&self) {
        abort(self.raw);
    }

    /// Same as [`JoinHandle::is_finished`].
    pub fn is_finished(&self) -> bool {
        // SAFETY: we hold a reference.
        unsafe { self.raw.as_ref() }.state.load().is_complete()
    }

    /// Same as [`JoinHandle::id`].
    pub fn id(&self) -> Id {
        // SAFETY: we hold a reference.
        super::trace::id_of(unsafe { self.raw.as_ref() })
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        // SAFETY: we hold a reference, so the task is alive.
        unsafe { self.raw.as_ref() }.state.ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: we hold a reference, so the task is alive.
        let header = unsafe { self.raw.as_ref() };
        if header.state.ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (header.vtable.dealloc)(self.raw) }
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

fn abort(raw: NonNull<Header>) {
    // SAFETY: called by a handle holding a reference.
    let header = unsafe { raw.as_ref() };
    if header.state.transition_to_notified_and_cancel() {
        // SAFETY: the transition took a queue reference for us to hand over.
        unsafe { (header.vtable.schedule)(raw) }
    }
}

/// Whether the `JoinHandle` may take the output now; otherwise stores `waker`
/// so the task wakes it on completion.
///
/// # Safety
///
/// Only the task's `JoinHandle` may call this.
pub(crate) unsafe fn can_read_output(header: &Header, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.is_join_waker_set() {
        // The task side may be reading the slot; only look.
        // SAFETY: while JOIN_WAKER is set nobody writes the slot.
        let same = header
            .join_waker
            .with(|p| unsafe { &*p }.as_ref().is_some_and(|w| w.will_wake(waker)));
        if same {
            return false;
        }
        if header.state.unset_join_waker().is_err() {
            // Completed meanwhile; the slot is the task's until it clears it.
            return true;
        }
    }
    // JOIN_WAKER is clear: the slot is ours.
    // SAFETY: the handle owns the slot while JOIN_WAKER is clear.
    header
        .join_waker
        .with_mut(|p| unsafe { *p = Some(waker.clone()) });
    match header.state.set_join_waker() {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            // SAFETY: the set failed, so the slot is still ours.
            header.join_waker.with_mut(|p| unsafe { *p = None });
            true
        }
    }
}
