//! Listening sockets that share one port (`SO_REUSEPORT`), one per worker.
//!
//! std's `TcpListener::bind` cannot set an option *before* `bind`, and
//! `SO_REUSEPORT` only works when every socket sharing the port set it before
//! binding. So the socket is made by hand: `socket`, `setsockopt`, `bind`,
//! `listen`, then handed to std (and later to minirt's reactor).

use std::io;
use std::mem;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Pending connections the kernel queues per listener (std uses 128; a
/// server under load wants more, and the kernel caps it at `somaxconn`).
const BACKLOG: libc::c_int = 1024;

/// `n` listeners on `addr`, all with `SO_REUSEPORT` so the kernel spreads
/// incoming connections over them. Port 0 picks a free port for the first;
/// the others join it.
pub(super) fn bind_reuse_port(addr: SocketAddr, n: usize) -> io::Result<Vec<TcpListener>> {
    let first = bind_one(addr)?;
    let shared = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..n {
        listeners.push(bind_one(shared)?);
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpListener> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: `socket` takes plain integers and returns a new descriptor or -1.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by `socket` and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let fd = socket.as_raw_fd();
    // Not inherited by programs this process starts.
    // SAFETY: `fd` is an open descriptor owned by `socket`.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) })?;
    set_flag(fd, libc::SO_REUSEADDR)?;
    set_flag(fd, libc::SO_REUSEPORT)?;
    match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: `sockaddr_in` is plain old data; all zeroes is valid.
            let mut raw: libc::sockaddr_in = unsafe { mem::zeroed() };
            raw.sin_family = libc::AF_INET as libc::sa_family_t;
            raw.sin_port = v4.port().to_be();
            raw.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            set_len_v4(&mut raw);
            // SAFETY: `raw` is a valid `sockaddr_in` and the length says so.
            check(unsafe {
                libc::bind(
                    fd,
                    (&raw as *const libc::sockaddr_in).cast(),
                    mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            })?;
        }
        SocketAddr::V6(v6) => {
            // SAFETY: `sockaddr_in6` is plain old data; all zeroes is valid.
            let mut raw: libc::sockaddr_in6 = unsafe { mem::zeroed() };
            raw.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            raw.sin6_port = v6.port().to_be();
            raw.sin6_flowinfo = v6.flowinfo();
            raw.sin6_addr.s6_addr = v6.ip().octets();
            raw.sin6_scope_id = v6.scope_id();
            set_len_v6(&mut raw);
            // SAFETY: `raw` is a valid `sockaddr_in6` and the length says so.
            check(unsafe {
                libc::bind(
                    fd,
                    (&raw as *const libc::sockaddr_in6).cast(),
                    mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            })?;
        }
    }
    // SAFETY: `fd` is a bound stream socket owned by `socket`.
    check(unsafe { libc::listen(fd, BACKLOG) })?;
    Ok(TcpListener::from(socket))
}

fn set_flag(fd: libc::c_int, option: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `fd` is open; the value points to a `c_int` of the given size.
    check(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&on as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
fn set_len_v4(raw: &mut libc::sockaddr_in) {
    raw.sin_len = mem::size_of::<libc::sockaddr_in>() as u8;
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
fn set_len_v4(_raw: &mut libc::sockaddr_in) {}

#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
fn set_len_v6(raw: &mut libc::sockaddr_in6) {
    raw.sin6_len = mem::size_of::<libc::sockaddr_in6>() as u8;
}

#[cfg(not(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
fn set_len_v6(_raw: &mut libc::sockaddr_in6) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_share_one_port() {
        let listeners = bind_reuse_port("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        let port = listeners[0].local_addr().unwrap().port();
        assert_ne!(port, 0);
        for listener in &listeners {
            assert_eq!(listener.local_addr().unwrap().port(), port);
        }
        // A plain socket (without SO_REUSEPORT) cannot join them.
        assert!(TcpListener::bind(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn ipv6_binds_too_when_available() {
        if let Ok(listeners) = bind_reuse_port("[::1]:0".parse().unwrap(), 2) {
            let a = listeners[0].local_addr().unwrap();
            assert!(a.is_ipv6());
            assert_eq!(a, listeners[1].local_addr().unwrap());
        }
    }
}
