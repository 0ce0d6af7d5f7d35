//! The `sigaction` handler: async-signal-safe, chains to a previous handler.
//!
//! Only these happen inside the handler: atomic loads/stores, one `write(2)`
//! to the self-pipe, a call to the previous handler (if it was a function),
//! and saving/restoring `errno` around them.

use std::io;
use std::mem::MaybeUninit;
use std::os::raw::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::self_pipe::PIPE_WRITE_FD;
use super::table::{MAX_SIGNUM, SLOTS};

/// The disposition minirt found when it installed its handler, per signal.
struct Previous {
    /// The previous handler's address; 0 when it was `SIG_DFL`/`SIG_IGN` (not chained).
    handler: AtomicUsize,
    /// Whether the previous handler takes `(signum, siginfo, context)` (`SA_SIGINFO`).
    siginfo: AtomicBool,
}

static PREVIOUS: [Previous; MAX_SIGNUM + 1] = [const {
    Previous {
        handler: AtomicUsize::new(0),
        siginfo: AtomicBool::new(false),
    }
}; MAX_SIGNUM + 1];

/// A handler taking `(signum, siginfo, context)`.
type SiginfoHandler = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
/// A classic handler taking `(signum)`.
type PlainHandler = extern "C" fn(c_int);

/// Installs [`on_signal`] for `signum`, remembering the previous disposition.
pub(super) fn install(signum: c_int) -> io::Result<()> {
    // Record the current disposition *before* installing ours, so that a
    // delivery right after installation already chains correctly.
    let current = query(signum)?;
    remember(signum, &current);

    let mut action = zeroed_sigaction();
    action.sa_sigaction = on_signal as SiginfoHandler as usize;
    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
    let mut replaced = zeroed_sigaction();
    // SAFETY: `action.sa_mask` is a valid, writable sigset_t inside a live local.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: both pointers are to live, properly initialised sigaction structs;
    // `on_signal` is an `extern "C"` function with the SA_SIGINFO signature.
    if unsafe { libc::sigaction(signum, &action, &mut replaced) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // Someone changed it between our query and install: chain to what we replaced.
    if replaced.sa_sigaction != current.sa_sigaction {
        remember(signum, &replaced);
    }
    Ok(())
}

fn zeroed_sigaction() -> libc::sigaction {
    // SAFETY: `sigaction` is a plain C struct for which all-zero bytes is a valid
    // value (SIG_DFL handler, empty flags, zeroed mask).
    unsafe { MaybeUninit::<libc::sigaction>::zeroed().assume_init() }
}

fn query(signum: c_int) -> io::Result<libc::sigaction> {
    let mut current = zeroed_sigaction();
    // SAFETY: a null new action only queries; `current` is a live, writable struct.
    if unsafe { libc::sigaction(signum, std::ptr::null(), &mut current) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(current)
}

fn remember(signum: c_int, action: &libc::sigaction) {
    let previous = &PREVIOUS[signum as usize];
    let handler = action.sa_sigaction;
    let chain = handler != libc::SIG_DFL
        && handler != libc::SIG_IGN
        && handler != on_signal as SiginfoHandler as usize;
    previous
        .siginfo
        .store(action.sa_flags & libc::SA_SIGINFO != 0, Ordering::SeqCst);
    previous
        .handler
        .store(if chain { handler } else { 0 }, Ordering::SeqCst);
}

/// minirt's signal handler. Async-signal-safe: see the module docs.
extern "C" fn on_signal(signum: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let saved_errno = errno::get();
    let index = signum as usize;
    if index <= MAX_SIGNUM {
        SLOTS[index].pending.store(true, Ordering::SeqCst);
        let fd = PIPE_WRITE_FD.load(Ordering::SeqCst);
        if fd >= 0 {
            let byte = 1u8;
            // SAFETY: `fd` is the self-pipe's write end, which is never closed;
            // `byte` is a live one-byte buffer. A full pipe (EAGAIN) is fine: the
            // pending flag is already set and the reader will wake anyway.
            let _ = unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
        }
        let previous = &PREVIOUS[index];
        let handler = previous.handler.load(Ordering::SeqCst);
        if handler != 0 {
            if previous.siginfo.load(Ordering::SeqCst) {
                // SAFETY: `handler` was read from the `sa_sigaction` of a disposition
                // whose flags had SA_SIGINFO and which was neither SIG_DFL nor SIG_IGN,
                // so it is the address of a function with this signature.
                let chained: SiginfoHandler = unsafe { std::mem::transmute(handler) };
                chained(signum, info, context);
            } else {
                // SAFETY: as above, for a disposition without SA_SIGINFO: the
                // address of a classic one-argument handler.
                let chained: PlainHandler = unsafe { std::mem::transmute(handler) };
                chained(signum);
            }
        }
    }
    errno::set(saved_errno);
}

/// Saving and restoring `errno`, which `write` may change under the interrupted code.
mod errno {
    use std::os::raw::c_int;

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn location() -> *mut c_int {
        // SAFETY: returns the calling thread's errno address; always valid.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn location() -> *mut c_int {
        // SAFETY: returns the calling thread's errno address; always valid.
        unsafe { libc::__error() }
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    fn location() -> *mut c_int {
        std::ptr::null_mut()
    }

    pub(super) fn get() -> c_int {
        let ptr = location();
        if ptr.is_null() {
            0
        } else {
            // SAFETY: non-null errno location of this thread.
            unsafe { *ptr }
        }
    }

    pub(super) fn set(value: c_int) {
        let ptr = location();
        if !ptr.is_null() {
            // SAFETY: non-null errno location of this thread.
            unsafe { *ptr = value }
        }
    }
}
