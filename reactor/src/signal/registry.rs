//! The process-wide signal table: pending flags, delivery counters,
//! listeners, and the self-pipe.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Context, Waker};

use slab::Slab;

use super::handler;

/// Signals 1..=MAX_SIGNUM can be listened for (covers the real-time range on Linux).
pub(super) const MAX_SIGNUM: usize = 64;

/// Everything minirt knows about one signal number.
pub(super) struct SignalSlot {
    /// Set by the handler, cleared by the pump that accounts for it.
    pub(super) pending: AtomicBool,
    /// Number of deliveries the pump has accounted for.
    deliveries: AtomicU64,
    /// Whether minirt's handler is installed (guards installation).
    installed: Mutex<bool>,
    /// Wakers of listeners waiting in `recv` (`None` = subscribed, not waiting).
    listeners: Mutex<Slab<Option<Waker>>>,
}

impl SignalSlot {
    const fn new() -> SignalSlot {
        SignalSlot {
            pending: AtomicBool::new(false),
            deliveries: AtomicU64::new(0),
            installed: Mutex::new(false),
            listeners: Mutex::new(Slab::new()),
        }
    }

    fn lock_listeners(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // Only inserts/removes/takes; never inconsistent after a panic.
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Index = signal number.
pub(super) static SLOTS: [SignalSlot; MAX_SIGNUM + 1] =
    [const { SignalSlot::new() }; MAX_SIGNUM + 1];

/// Write end of the self-pipe, for the handler (-1 until created).
pub(super) static PIPE_WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe: (read end, write end). Both ends live for the whole process.
static PIPE: OnceLock<Result<(UnixStream, UnixStream), (io::ErrorKind, String)>> = OnceLock::new();

/// Creates the self-pipe on first use; returns its read end's descriptor.
fn pipe() -> io::Result<RawFd> {
    let pipe = PIPE.get_or_init(|| {
        let create = || -> io::Result<(UnixStream, UnixStream)> {
            let (read, write) = UnixStream::pair()?;
            read.set_nonblocking(true)?;
            write.set_nonblocking(true)?;
            Ok((read, write))
        };
        match create() {
            Ok((read, write)) => {
                PIPE_WRITE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
                Ok((read, write))
            }
            Err(err) => Err((err.kind(), err.to_string())),
        }
    });
    match pipe {
        Ok((read, _)) => Ok(read.as_raw_fd()),
        Err((kind, message)) => Err(io::Error::new(
            *kind,
            format!("could not create the signal self-pipe: {message}"),
        )),
    }
}

/// The read end of the self-pipe, if it exists.
pub(super) fn pipe_read_fd() -> Option<RawFd> {
    match PIPE.get() {
        Some(Ok((read, _))) => Some(read.as_raw_fd()),
        _ => None,
    }
}

/// Checks that `signum` may be listened for; returns it as a table index.
pub(super) fn validate(signum: c_int) -> io::Result<usize> {
    const FORBIDDEN: [c_int; 6] = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGSEGV,
        libc::SIGBUS,
    ];
    if signum <= 0 || signum as usize > MAX_SIGNUM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("signal number {signum} is out of range 1..={MAX_SIGNUM}"),
        ));
    }
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {signum} cannot be listened for (SIGKILL/SIGSTOP cannot be caught; \
                 SIGILL/SIGFPE/SIGSEGV/SIGBUS must be handled synchronously)"
            ),
        ));
    }
    Ok(signum as usize)
}

/// Makes sure the pipe exists and minirt's handler is installed for `signum`;
/// returns the pipe's read end.
pub(super) fn install(signum: usize) -> io::Result<RawFd> {
    let read_fd = pipe()?;
    let slot = &SLOTS[signum];
    let mut installed = slot
        .installed
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !*installed {
        handler::install(signum as c_int)?;
        *installed = true;
    }
    Ok(read_fd)
}

/// Adds a listener for `signum`; returns its key and the current delivery count.
pub(super) fn subscribe(signum: usize) -> (usize, u64) {
    let slot = &SLOTS[signum];
    let key = slot.lock_listeners().insert(None);
    (key, slot.deliveries.load(Ordering::Acquire))
}

/// Removes a listener.
pub(super) fn unsubscribe(signum: usize, key: usize) {
    SLOTS[signum].lock_listeners().try_remove(key);
}

/// `Some(count)` if the delivery count moved past `seen`; otherwise stores the
/// waker and returns `None`. The count is re-read after the waker is stored, so
/// a pump running concurrently either sees the waker or is seen here.
pub(super) fn poll_delivery(
    signum: usize,
    key: usize,
    seen: u64,
    cx: &mut Context<'_>,
) -> Option<u64> {
    let slot = &SLOTS[signum];
    let now = slot.deliveries.load(Ordering::Acquire);
    if now != seen {
        return Some(now);
    }
    {
        let mut listeners = slot.lock_listeners();
        if let Some(entry) = listeners.get_mut(key) {
            match entry {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => *entry = Some(cx.waker().clone()),
            }
        }
    }
    let now = slot.deliveries.load(Ordering::Acquire);
    (now != seen).then_some(now)
}

/// Called by a driver when the self-pipe is readable: drains the pipe, then
/// accounts for every pending signal and wakes its listeners.
pub(crate) fn pump_pipe() {
    if let Some(Ok((read, _))) = PIPE.get() {
        let mut sink = [0u8; 128];
        loop {
            match (&*read).read(&mut sink) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: drained. Any other error: nothing more to read now.
                Err(_) => break,
            }
        }
    }
    // Flags are read after draining: a signal arriving in between leaves a
    // byte in the pipe and is accounted for on the next wake-up, never lost.
    for slot in SLOTS.iter() {
        if slot.pending.swap(false, Ordering::AcqRel) {
            slot.deliveries.fetch_add(1, Ordering::AcqRel);
            let wakers: Vec<Waker> = slot
                .lock_listeners()
                .iter_mut()
                .filter_map(|(_, waker)| waker.take())
                .collect();
            for waker in wakers {
                waker.wake();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_rejects_uncatchable_and_out_of_range() {
        for bad in [0, -1, 65, libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV] {
            let err = validate(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "signal {bad}");
        }
        assert_eq!(validate(libc::SIGTERM).unwrap(), libc::SIGTERM as usize);
    }
}
