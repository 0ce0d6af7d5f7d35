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
//! Address resolution (`impl ToSocketAddrs`) uses `std::net::ToSocketAddrs`
//! and therefore blocks the calling thread for host names that need DNS; pass a
//! `SocketAddr` or an `"ip:port"` literal to avoid that.

mod addr;
mod split;
mod tcp_listener;
mod tcp_stream;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

#[cfg(feature = "futures-io")]
mod futures_io;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// Implements `AsRawFd` and `AsFd` for a socket type whose `io` field is a `PollEvented`.
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
pub(crate) use impl_as_fd;
