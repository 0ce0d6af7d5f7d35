//! [`TcpListener`]: accepts TCP connections.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use super::ToSocketAddrs;
use std::task::{ready, Context, Poll};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

use super::addr;
use super::TcpStream;

/// A TCP socket server, listening for connections.
///
/// ```no_run
/// use minirt_reactor::io::{copy, AsyncWriteExt};
/// use minirt_reactor::net::TcpListener;
///
/// async fn echo_server() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:8080").await?;
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         let (mut reader, mut writer) = stream.split();
///         copy(&mut reader, &mut writer).await?;
///     }
/// }
/// ```
pub struct TcpListener {
    pub(super) io: PollEvented<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (tries each resolved address in turn; the
    /// last error is returned if none works). Port 0 picks a free port; see
    /// [`local_addr`](TcpListener::local_addr).
    ///
    /// On Unix (Linux, macOS) `SO_REUSEADDR` is set, as std does, so a
    /// restarted server can rebind a port whose old connections are still in
    /// `TIME_WAIT`. On Windows it is not set (there it would let another
    /// socket take over a port in active use). `SO_REUSEPORT` is never set on
    /// any platform: two listeners on one port get `AddrInUse`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if another socket listens on the address, and any other OS error.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let addrs = addr::resolve(addr).await?;
        addr::first_ok(&addrs, |addr| {
            TcpListener::from_mio(mio::net::TcpListener::bind(addr)?)
        })
    }

    /// Wraps a std listener (made non-blocking here) in the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// Deregisters and returns the std listener (left in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        let mio = self.io.into_inner()?;
        Ok(std::net::TcpListener::from(mio))
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new_with_interest(listener, mio::Interest::READABLE)?,
        })
    }

    /// Waits for and accepts the next connection, returning it and the peer's address.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll version of [`accept`](TcpListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let (stream, peer) = ready!(self
            .io
            .poll_io(cx, Direction::Read, |listener| listener.accept()))?;
        Poll::Ready(TcpStream::from_mio(stream).map(|stream| (stream, peer)))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

super::impl_as_fd!(TcpListener);

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
