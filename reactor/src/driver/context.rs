//! The thread-local "current reactor" that sockets register with.
//!
//! Why: `TcpStream::connect(addr)` takes no runtime argument, as users expect;
//! the runtime enters its reactor's [`Handle`] on each thread that polls tasks
//! and the socket constructors look it up here.
//!
//! Why a borrowed pointer and a closure: a runtime enters its reactor on
//! every `block_on`, and keeping an owned `Handle` here would cost an `Arc`
//! increment and decrement (two atomic read-modify-writes) each time. The
//! slot holds the address of the handle's shared state instead, borrowed for
//! exactly the closure's run. Because entering is a closure, not a guard that
//! could be leaked or dropped out of order, entries nest strictly: whatever
//! the slot points to is borrowed by a frame that is still on this thread's
//! stack.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use super::handle::{Handle, Inner};

thread_local! {
    /// The shared state of the handle entered most recently on this thread,
    /// or null. Non-null only while [`enter`]'s closure runs.
    static CURRENT: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with `handle` as this thread's current reactor; restores the
/// previous one afterwards, also when `f` panics.
pub(crate) fn enter<R>(handle: &Handle, f: impl FnOnce() -> R) -> R {
    /// Puts the previous pointer back on drop, so an unwinding `f` restores
    /// it too.
    struct Restore(*const Inner);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(Arc::as_ptr(&handle.inner))));
    f()
}

/// A clone of the current reactor's handle, if any.
pub(crate) fn current() -> Option<Handle> {
    let ptr = CURRENT.with(Cell::get);
    if ptr.is_null() {
        return None;
    }
    // `ManuallyDrop`: this temporary `Handle` must not release a reference
    // it does not own.
    let borrowed = ManuallyDrop::new(Handle {
        // SAFETY: a non-null pointer was stored by `enter` from an `Arc<Inner>`
        // that `enter`'s caller borrows until the closure returns, and `enter`
        // calls nest (see the module docs), so that `Arc` is alive now.
        inner: unsafe { Arc::from_raw(ptr) },
    });
    Some(Handle::clone(&borrowed))
}
