//! The `RawWakerVTable` of minirt tasks.
//!
//! A waker is a counted reference to the task: `clone` takes a reference,
//! `drop` releases one, `wake` consumes its own, `wake_by_ref` takes a new one
//! only if the task must be queued. None of them allocates or locks.

use core::ptr::NonNull;
use core::task::{RawWaker, RawWakerVTable, Waker};

use super::header::Header;
use super::state::TransitionToNotified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// The id of the minirt task `waker` wakes, if it is a task waker (what a
/// task dump uses to say which task waits in a timer or a socket).
pub(crate) fn task_id(waker: &Waker) -> Option<super::Id> {
    if !core::ptr::eq(waker.vtable(), &VTABLE) {
        return None;
    }
    // SAFETY: a waker with our vtable points at a task header and holds a
    // reference to it, so the header is alive while `waker` is.
    Some(super::trace::id_of(unsafe { header(waker.data()) }))
}

/// Notes on the minirt task `waker` wakes, if it is a task waker, that its
/// running poll waits in `kind` (see `trace::WaitKind`).
#[inline]
pub(crate) fn note_wait(waker: &Waker, kind: super::WaitKind) {
    if !core::ptr::eq(waker.vtable(), &VTABLE) {
        return;
    }
    // SAFETY: as in `task_id`.
    unsafe { header(waker.data()) }.state.note_wait(kind as u8);
}

/// A waker for the task at `header` that does **not** own a reference; the
/// caller must not drop it (wrap it in `ManuallyDrop`).
///
/// # Safety
///
/// The task must stay alive while the waker is in use; clones made from it
/// are ordinary owned wakers.
pub(crate) unsafe fn borrowed(header: NonNull<Header>) -> Waker {
    // SAFETY: the pointer is a live task header and VTABLE's functions
    // expect exactly that.
    unsafe { Waker::from_raw(RawWaker::new(header.as_ptr() as *const (), &VTABLE)) }
}

/// # Safety
///
/// `ptr` is the header of a live task.
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: the caller's waker holds a reference to the task.
    unsafe { &*(ptr as *const Header) }
}

/// The waker's pointer as a task pointer for the task's vtable.
///
/// It must be derived from `ptr` itself, never from a `&Header`: a
/// reference only carries provenance over the header's bytes, and the
/// vtable functions cast it back to the whole `Cell` to reach the
/// scheduler and stage — undefined behaviour that Miri reports (Stacked
/// Borrows) for a pointer made with `NonNull::from(&header)`.
///
/// # Safety
///
/// `ptr` is the header of a live task (so it is non-null).
unsafe fn task_ptr(ptr: *const ()) -> NonNull<Header> {
    // SAFETY: wakers are only built from non-null task pointers.
    unsafe { NonNull::new_unchecked(ptr.cast_mut().cast()) }
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    // SAFETY: called through a live waker.
    unsafe { header(ptr) }.state.ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    // SAFETY: called through a live waker, whose reference we consume.
    let header_ref = unsafe { header(ptr) };
    // SAFETY: as above.
    let nn = unsafe { task_ptr(ptr) };
    match header_ref.state.transition_to_notified_by_val() {
        // SAFETY: our reference became the queue reference.
        TransitionToNotified::Submit => unsafe { (header_ref.vtable.schedule)(nn) },
        // SAFETY: ours was the last reference.
        TransitionToNotified::Dealloc => unsafe { (header_ref.vtable.dealloc)(nn) },
        TransitionToNotified::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: called through a live waker.
    let header_ref = unsafe { header(ptr) };
    match header_ref.state.transition_to_notified_by_ref() {
        // SAFETY: the transition took a new reference for the queue.
        TransitionToNotified::Submit => unsafe { (header_ref.vtable.schedule)(task_ptr(ptr)) },
        TransitionToNotified::DoNothing => {}
        TransitionToNotified::Dealloc => unreachable!("wake_by_ref never releases a reference"),
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: called through a live waker, whose reference we release.
    let header_ref = unsafe { header(ptr) };
    if header_ref.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header_ref.vtable.dealloc)(task_ptr(ptr)) }
    }
}
