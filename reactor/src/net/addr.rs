//! Trying each resolved address in turn.

use std::io;
use std::net::SocketAddr;

pub(crate) use super::lookup::resolve_nonempty as resolve;

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
    Err(last_err.expect("resolve_nonempty() never returns an empty list"))
}
