//! The thread-local "current runtime" context.
//!
//! `minirt::spawn`, sockets and timers find their runtime here. A thread is
//! *entered* while it drives a runtime (inside `block_on`, or as a worker);
//! `block_on` refuses to nest on an entered thread, because blocking a thread
//! that other tasks depend on would deadlock them.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use super::{Handle, HandleInner};

crate::loom::thread_local! {
    /// The shared state of the runtime this thread is inside, or null.
    /// Non-null only while [`enter_handle`]'s closure runs; see there for why
    /// it is a borrowed pointer.
    static CURRENT: Cell<*const HandleInner> = const { Cell::new(std::ptr::null()) };
    static ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// The handle of the runtime this thread is inside, if any.
pub(crate) fn try_current() -> Option<Handle> {
    with_current(|handle| handle.cloned())
}

/// Runs `f` with the current handle without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return f(None);
    }
    // `ManuallyDrop`: this temporary `Handle` must not release a reference
    // it does not own.
    let borrowed = ManuallyDrop::new(Handle {
        // SAFETY: a non-null pointer was stored by `enter_handle` from an
        // `Arc<HandleInner>` that its caller borrows until the closure returns;
        // `enter_handle` calls nest strictly (each restores its predecessor on
        // return or unwind), so the `Arc` behind the pointer is alive for all of
        // `f`. `f` only gets a borrow of it.
        inner: unsafe { Arc::from_raw(ptr) },
    });
    f(Some(&borrowed))
}

/// Whether this thread is driving a runtime right now.
pub(crate) fn is_entered() -> bool {
    ENTERED.with(|e| e.get())
}

/// Runs `f` with `handle` as this thread's current runtime, and its I/O
/// driver as the thread's current reactor (so sockets created inside register
/// with it); restores the previous ones afterwards, also when `f` unwinds.
///
/// Why a closure and a borrowed pointer: every `block_on` makes its runtime
/// current, and storing an owned `Handle` would cost an `Arc` increment and
/// decrement per call (two atomic read-modify-writes, on the path of a
/// `block_on` that has nothing to wait for). A closure, unlike a guard,
/// cannot be leaked or ended out of order, so the pointer never outlives the
/// borrow it was taken from.
#[inline]
pub(crate) fn enter_handle<R>(handle: &Handle, f: impl FnOnce() -> R) -> R {
    /// Puts the previous runtime back on drop, so an unwinding `f` restores
    /// it too.
    struct Restore(*const HandleInner);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let ours = Arc::as_ptr(&handle.inner);
    let prev = CURRENT
        .try_with(|c| c.replace(ours))
        .unwrap_or(std::ptr::null());
    let _restore = Restore(prev);
    handle.inner.driver.io_handle().enter(f)
}

/// Marks the thread as driving a runtime.
///
/// # Panics
///
/// If the thread already drives one, with `what` naming the caller.
#[track_caller]
#[inline]
pub(crate) fn enter_runtime(what: &str) -> EnterRuntimeGuard {
    if ENTERED.with(|e| e.replace(true)) {
        nested_block_on(what);
    }
    EnterRuntimeGuard { _private: () }
}

/// The panic of [`enter_runtime`], out of line (it is on every `block_on`).
#[track_caller]
#[cold]
#[inline(never)]
fn nested_block_on(what: &str) -> ! {
    panic!(
        "{what} was called from inside a minirt runtime. Blocking a thread that \
         drives tasks would stall them. Use `.await` instead, or move the blocking \
         part to `minirt::spawn_blocking`."
    );
}

/// Clears the entered flag on drop.
pub(crate) struct EnterRuntimeGuard {
    _private: (),
}

impl Drop for EnterRuntimeGuard {
    #[inline]
    fn drop(&mut self) {
        ENTERED.with(|e| e.set(false));
    }
}
