//! The thread-local "current runtime" context.
//!
//! `minirt::spawn`, sockets and timers find their runtime here. A thread is
//! *entered* while it drives a runtime (inside `block_on`, or as a worker);
//! `block_on` refuses to nest on an entered thread, because blocking a thread
//! that other tasks depend on would deadlock them.

use std::cell::{Cell, RefCell};

use super::Handle;

crate::loom::thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static ENTERED: Cell<bool> = const { Cell::new(false) };
}

/// The handle of the runtime this thread is inside, if any.
pub(crate) fn try_current() -> Option<Handle> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Runs `f` with the current handle without cloning it.
///
/// During thread teardown, after the context itself was destroyed, `f` sees
/// `None`.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let result = CURRENT.try_with(|c| (f.take().expect("called once"))(c.borrow().as_ref()));
    match result {
        Ok(r) => r,
        Err(_) => (f.take().expect("not called yet"))(None),
    }
}

/// Whether this thread is driving a runtime right now.
pub(crate) fn is_entered() -> bool {
    ENTERED.with(|e| e.get())
}

/// Makes `handle` current until the guard drops; restores the previous one.
/// Does nothing during thread teardown, once the context is gone.
///
/// The runtime's I/O driver becomes the thread's current reactor too, so
/// sockets created here register with it.
pub(crate) fn set_current(handle: Handle) -> SetCurrentGuard {
    let io = handle.inner.driver.io_handle().enter();
    match CURRENT.try_with(|c| c.replace(Some(handle))) {
        Ok(prev) => SetCurrentGuard {
            prev,
            active: true,
            _io: io,
        },
        Err(_) => SetCurrentGuard {
            prev: None,
            active: false,
            _io: io,
        },
    }
}

/// Restores the previous current runtime (and reactor) on drop.
pub(crate) struct SetCurrentGuard {
    prev: Option<Handle>,
    active: bool,
    /// Dropped after `Drop::drop` restored `CURRENT`.
    _io: minirt_reactor::EnterGuard,
}

impl Drop for SetCurrentGuard {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        let prev = self.prev.take();
        // Drop the handle we displace outside the borrow: it may be the last
        // reference to a runtime whose teardown looks at this context.
        let ours = CURRENT.try_with(|c| c.replace(prev)).ok().flatten();
        drop(ours);
    }
}

/// Marks the thread as driving a runtime.
///
/// # Panics
///
/// If the thread already drives one, with `what` naming the caller.
#[track_caller]
pub(crate) fn enter_runtime(what: &str) -> EnterRuntimeGuard {
    if ENTERED.with(|e| e.replace(true)) {
        panic!(
            "{what} was called from inside a minirt runtime. Blocking a thread that \
             drives tasks would stall them. Use `.await` instead, or move the blocking \
             part to `minirt::spawn_blocking`."
        );
    }
    EnterRuntimeGuard { _private: () }
}

/// Clears the entered flag on drop.
pub(crate) struct EnterRuntimeGuard {
    _private: (),
}

impl Drop for EnterRuntimeGuard {
    fn drop(&mut self) {
        ENTERED.with(|e| e.set(false));
    }
}
