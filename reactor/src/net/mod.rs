//! Non-blocking sockets driven by the reactor: TCP, UDP and Unix domain sockets.
//!
//! Why: these are the std socket types with `.await` instead of blocking. Each
//! wraps a mio socket registered with the reactor of the runtime it was
//! created in ([`Handle::current`](crate::Handle::current)); creating one
//! outside a minirt runtime panics with a message saying so.
//!
//! Errors are the operating system's `io::Error`s, never panics: a port in use
//! is `AddrInUse`, a refused connection `ConnectionRefused`, a peer reset
//! mid-read `ConnectionReset`.
//!
//! Addresses are anything [`ToSocketAddrs`] accepts: literal addresses are
//! parsed in place, and host names are resolved on the runtime's blocking
//! pool ([`lookup_host`]), so a slow resolver never blocks a worker.
//!
//! # Portability
//!
//! TCP and UDP work on Linux (epoll), macOS (kqueue) and Windows (mio's
//! IOCP-based readiness emulation, `AFD` polling). The Unix domain socket
//! types (`UnixStream`, `UnixListener`, `UnixDatagram`) exist on Unix
//! only. The sockets implement `AsRawFd`/`AsFd` on Unix and
//! `AsRawSocket`/`AsSocket` on Windows. Listeners set `SO_REUSEADDR` on Unix
//! only (see [`TcpListener::bind`]); minirt never sets `SO_REUSEPORT`.

mod addr;
mod lookup;
mod split;
mod tcp_listener;
mod tcp_stream;
mod to_socket_addrs;
mod udp;
mod uninit_read;
#[cfg(unix)]
mod unix_datagram;
#[cfg(unix)]
mod unix_listener;
#[cfg(unix)]
mod unix_stream;

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "hyper")]
mod hyper_io;

#[doc(hidden)]
pub use lookup::set_blocking_offload;
pub use lookup::{lookup_host, BlockingOffload};
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use to_socket_addrs::ToSocketAddrs;
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix_datagram::UnixDatagram;
#[cfg(unix)]
pub use unix_listener::UnixListener;
#[cfg(unix)]
pub use unix_stream::UnixStream;

/// Implements the platform's handle traits for a socket type whose `io` field
/// is a `PollEvented`: `AsRawFd` and `AsFd` on Unix, `AsRawSocket` and
/// `AsSocket` on Windows.
#[cfg(unix)]
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(self.io.get_ref())
            }
        }
        impl std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                std::os::fd::AsFd::as_fd(self.io.get_ref())
            }
        }
    };
}

/// Implements the platform's handle traits for a socket type whose `io` field
/// is a `PollEvented`: `AsRawFd` and `AsFd` on Unix, `AsRawSocket` and
/// `AsSocket` on Windows.
#[cfg(windows)]
macro_rules! impl_as_fd {
    ($ty:ty) => {
        impl std::os::windows::io::AsRawSocket for $ty {
            fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
                std::os::windows::io::AsRawSocket::as_raw_socket(self.io.get_ref())
            }
        }
        impl std::os::windows::io::AsSocket for $ty {
            fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
                std::os::windows::io::AsSocket::as_socket(self.io.get_ref())
            }
        }
    };
}
pub(crate) use impl_as_fd;
