//! Unix: the process-wide self-pipe that carries signals from the handler to
//! a reactor, and installing minirt's handler for a signal.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::handler;
use super::table::{self, MAX_SIGNUM};

/// Whether minirt's handler is installed, per signal (guards installation).
static INSTALLED: [Mutex<bool>; MAX_SIGNUM + 1] = [const { Mutex::new(false) }; MAX_SIGNUM + 1];

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
    let mut installed = INSTALLED[signum]
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !*installed {
        handler::install(signum as c_int)?;
        *installed = true;
    }
    Ok(read_fd)
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
    table::deliver_pending();
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
