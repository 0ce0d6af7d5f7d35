//! Resolving `impl ToSocketAddrs` and trying each address in turn.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` (blocking for DNS names) into a non-empty list.
pub(crate) fn resolve<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address did not resolve to any socket address",
        ));
    }
    Ok(addrs)
}

/// Runs `op` on each address until one succeeds; otherwise returns the last error.
pub(crate) fn first_ok<T>(
    addrs: &[SocketAddr],
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_err = None;
    for &addr in addrs {
        match op(addr) {
            Ok(value) => return Ok(value),
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err.expect("resolve() never returns an empty list"))
}
