//! Reading from a stream socket into uninitialized memory: the primitive
//! under `poll_read_buf` of the socket types and their `hyper::rt::Read`.
//!
//! Why: `std::io::Read` wants an initialized `&mut [u8]`, so a caller with a
//! large uninitialized buffer would have to zero it before every read. The
//! kernel's `recv(2)` writes into any memory, so on Unix it is called
//! directly on the socket's descriptor. Elsewhere (Windows) the memory is
//! zeroed and read through `std::io::Read`: correct, just not zero-copy-free.

use std::io;
use std::mem::MaybeUninit;

/// Reads into `buf`; on `Ok(n)` its first `n` bytes are initialized.
#[cfg(unix)]
pub(crate) fn read_uninit<S: std::os::fd::AsRawFd>(
    socket: &S,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the whole
    // call, and `recv` writes at most that many (initialized) bytes into it;
    // the descriptor is open because `socket` is borrowed.
    let n = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    // `n` is non-negative and at most `buf.len()`.
    Ok(n as usize)
}

/// Reads into `buf`; on `Ok(n)` its first `n` bytes are initialized.
#[cfg(not(unix))]
pub(crate) fn read_uninit<'a, S>(socket: &'a S, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize>
where
    &'a S: io::Read,
{
    for byte in buf.iter_mut() {
        byte.write(0);
    }
    // SAFETY: every byte was just initialized; same layout as `u8`.
    let buf = unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) };
    io::Read::read(&mut { socket }, buf)
}
