//! How a child's exit is noticed on Windows, without a thread per child.
//!
//! A process handle becomes signaled when the process exits.
//! `RegisterWaitForSingleObject` hands that wait to the system thread pool,
//! which waits for many handles per thread and runs a callback when one is
//! signaled; the callback here only sets a flag and wakes the task waiting
//! in [`ExitWatch::poll_exit`], which then reads the status through std's
//! `try_wait`. (This is what tokio does too.) A process handle names one
//! process for as long as it is open, so there is no id-reuse race, and
//! Windows has no zombies to reap: closing the handle is enough.
//!
//! The wait holds its own duplicate of the process handle, closed only
//! after `UnregisterWaitEx` has returned (it waits for a callback that is
//! running, so the callback never sees freed state).
//!
//! Mock clock: like the Unix `SIGCHLD` path, a watched child holds an
//! [`IoAnchor`] (an idle loopback UDP socket registered with the reactor),
//! so that an auto-advancing mock clock treats the child as outside work
//! still pending and waits its autojump threshold of real time first.

use std::ffi::c_void;
use std::io;
use std::os::windows::io::{AsHandle, AsRawHandle, OwnedHandle};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use windows_sys::Win32::Foundation::{HANDLE, INVALID_HANDLE_VALUE};
use windows_sys::Win32::System::Threading::{
    RegisterWaitForSingleObject, UnregisterWaitEx, INFINITE, WT_EXECUTEINWAITTHREAD,
    WT_EXECUTEONLYONCE,
};

/// What tells us that one child exited.
pub(super) struct ExitWatch {
    /// Shared with the thread-pool callback.
    signal: Arc<ExitSignal>,
    /// The registered wait, unregistered on drop.
    wait: WaitHandle,
    /// Our duplicate of the process handle: open until the wait is gone.
    _process: OwnedHandle,
    /// Held only for its registration (see the module docs).
    _anchor: IoAnchor,
}

/// Set by the callback, read by the waiting task.
struct ExitSignal {
    exited: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl ExitSignal {
    fn waker(&self) -> std::sync::MutexGuard<'_, Option<Waker>> {
        self.waker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A wait registered with `RegisterWaitForSingleObject`.
struct WaitHandle(HANDLE);

// SAFETY: the handle is an opaque token of the thread pool's; the only
// thing done with it is `UnregisterWaitEx`, which any thread may call.
unsafe impl Send for WaitHandle {}
// SAFETY: as above; `&WaitHandle` gives no access at all.
unsafe impl Sync for WaitHandle {}

impl ExitWatch {
    /// Starts watching `child` (not yet waited for) on the current runtime.
    pub(super) fn new(child: &std::process::Child) -> io::Result<ExitWatch> {
        let anchor = IoAnchor::new()?;
        let process = child.as_handle().try_clone_to_owned()?;
        let signal = Arc::new(ExitSignal {
            exited: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        let context = Arc::into_raw(signal.clone());
        let mut wait: HANDLE = std::ptr::null_mut();
        // SAFETY: `wait` is a valid out-pointer; `process` is an open
        // process handle that stays open until the wait is unregistered
        // (`Drop`); `context` is a strong reference to `ExitSignal`, which
        // the callback borrows and `Drop` releases after unregistering.
        let ok = unsafe {
            RegisterWaitForSingleObject(
                &mut wait,
                process.as_raw_handle(),
                Some(on_exit),
                context.cast::<c_void>(),
                INFINITE,
                WT_EXECUTEINWAITTHREAD | WT_EXECUTEONLYONCE,
            )
        };
        if ok == 0 {
            let err = io::Error::last_os_error();
            // SAFETY: the registration failed, so no callback holds
            // `context`; this takes back the reference given to it.
            drop(unsafe { Arc::from_raw(context) });
            return Err(err);
        }
        Ok(ExitWatch {
            signal,
            wait: WaitHandle(wait),
            _process: process,
            _anchor: anchor,
        })
    }

    /// Ready with the exit status once `child` has exited.
    pub(super) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        child: &mut std::process::Child,
    ) -> Poll<io::Result<ExitStatus>> {
        if !self.signal.exited.load(Ordering::Acquire) {
            let mut waker = self.signal.waker();
            match &mut *waker {
                Some(old) if old.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            drop(waker);
            // The callback may have run between the first check and the
            // registration of the waker: look again.
            if !self.signal.exited.load(Ordering::Acquire) {
                return Poll::Pending;
            }
        }
        match child.try_wait() {
            Ok(Some(status)) => Poll::Ready(Ok(status)),
            // Signaled means exited; std cannot disagree, but never spin.
            Ok(None) => Poll::Ready(Err(io::Error::other(
                "the process handle was signaled but the process has not exited",
            ))),
            Err(err) => Poll::Ready(Err(err)),
        }
    }
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        // SAFETY: `self.wait` is a registered wait, unregistered only here.
        // `INVALID_HANDLE_VALUE` makes the call wait for a callback that is
        // already running, so none runs after it returns.
        unsafe { UnregisterWaitEx(self.wait.0, INVALID_HANDLE_VALUE) };
        let context = Arc::as_ptr(&self.signal);
        // SAFETY: the reference `new` gave the callback; no callback can
        // run any more, so it is released exactly once, here.
        drop(unsafe { Arc::from_raw(context) });
    }
}

/// The thread pool's callback: the process handle is signaled (the process
/// exited). `context` is the `ExitSignal` reference `ExitWatch::new` gave.
unsafe extern "system" fn on_exit(context: *mut c_void, _timed_out: bool) {
    // SAFETY: `context` came from `Arc::into_raw` in `ExitWatch::new` and
    // is released only after `UnregisterWaitEx` has waited for this call.
    let signal = unsafe { &*context.cast_const().cast::<ExitSignal>() };
    signal.exited.store(true, Ordering::Release);
    let waker = signal.waker().take();
    if let Some(waker) = waker {
        // A user's waker may panic; unwinding out of a system callback
        // would abort the process. The panic hook has reported it.
        let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        if let Err(payload) = woke {
            crate::blocking::worker::drop_panic_payload(payload);
        }
    }
}

/// A registration with the reactor that never fires, held while a child is
/// watched (see the module docs): an idle loopback UDP socket.
pub(super) struct IoAnchor {
    _socket: minirt_reactor::net::UdpSocket,
}

impl IoAnchor {
    fn new() -> io::Result<IoAnchor> {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
        Ok(IoAnchor {
            _socket: minirt_reactor::net::UdpSocket::from_std(socket)?,
        })
    }
}
