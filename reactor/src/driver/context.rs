//! The thread-local "current reactor" that sockets register with.
//!
//! Why: `TcpStream::connect(addr)` takes no runtime argument, as users expect;
//! the runtime enters its reactor's [`Handle`] on each thread that polls tasks
//! and the socket constructors look it up here.

use std::cell::RefCell;
use std::marker::PhantomData;

use super::handle::Handle;

thread_local! {
    /// The handle entered most recently on this thread, if any.
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Keeps a reactor current on this thread; restores the previous one on drop.
///
/// Returned by [`Handle::enter`]. It is `!Send`: it must be dropped on the thread
/// that created it.
#[must_use = "the reactor stops being current as soon as the guard is dropped"]
pub struct EnterGuard {
    /// What was current before this guard; put back on drop.
    previous: Option<Handle>,
    /// Thread-bound: restoring must happen on the thread that entered.
    _not_send: PhantomData<*const ()>,
}

pub(crate) fn enter(handle: Handle) -> EnterGuard {
    // During thread teardown (a runtime dropped by a thread-local
    // destructor) the slot may be gone; entering is then a no-op.
    let previous = CURRENT
        .try_with(|current| current.borrow_mut().replace(handle))
        .ok()
        .flatten();
    EnterGuard {
        previous,
        _not_send: PhantomData,
    }
}

pub(crate) fn current() -> Option<Handle> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // During thread teardown the slot may already be destroyed; nothing to restore then.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

impl std::fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
