//! [`TcpStream`]: a TCP connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use super::ToSocketAddrs;
use std::task::{ready, Context, Poll};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

use super::addr;

/// A TCP connection; read and write it with
/// [`AsyncReadExt`](crate::io::AsyncReadExt) / [`AsyncWriteExt`](crate::io::AsyncWriteExt).
///
/// Dropping the stream closes the connection. [`shutdown`](crate::io::AsyncWriteExt::shutdown)
/// closes only the write side (the peer reads end of file; this side can still read).
///
/// For hyper 1.x, enable the `hyper` feature for `hyper::rt::Read`/`Write`
/// on this type (reads fill hyper's buffer without zeroing it).
///
/// ```no_run
/// use minirt_reactor::io::{AsyncReadExt, AsyncWriteExt};
/// use minirt_reactor::net::TcpStream;
///
/// async fn ask() -> std::io::Result<String> {
///     let mut stream = TcpStream::connect("127.0.0.1:8080").await?;
///     stream.write_all(b"hello\n").await?;
///     stream.shutdown().await?;
///     let mut answer = String::new();
///     stream.read_to_string(&mut answer).await?;
///     Ok(answer)
/// }
/// ```
pub struct TcpStream {
    pub(super) io: PollEvented<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn and
    /// returning the last error if none accepts.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` if nothing listens there, and any other OS error.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let addrs = addr::resolve(addr).await?;
        let mut last_err = None;
        for addr in addrs {
            match TcpStream::connect_addr(addr).await {
                Ok(stream) => return Ok(stream),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.expect("resolve() never returns an empty list"))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// Ready once a non-blocking connect has finished (mio's documented recipe:
    /// wait for writability, then check `take_error` and `peer_addr`).
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.io.poll_ready(cx, Direction::Write))?;
            let socket = self.io.get_ref();
            if let Some(err) = socket.take_error()? {
                return Poll::Ready(Err(err));
            }
            match socket.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(err) if is_connect_in_progress(&err) && !event.ready.is_write_closed() => {
                    self.io.clear_readiness(event);
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }

    /// Wraps a connected std stream (made non-blocking here) in the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Deregisters and returns the std stream (left in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        let mio = self.io.into_inner()?;
        Ok(std::net::TcpStream::from(mio))
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Reads into `buf` without consuming the data: the next read sees it again.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_peek(cx, buf)).await
    }

    /// Poll version of [`peek`](TcpStream::peek).
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.peek(buf))
    }

    /// The local address of this connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Enables or disables `TCP_NODELAY` (Nagle's algorithm off when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

super::split::impl_stream!(TcpStream);
/// Whether `peer_addr` failed only because a non-blocking connect has not
/// finished yet. `NotConnected` everywhere; Unix may also report `EINPROGRESS`
/// (mio's recipe), Windows reports only `WSAENOTCONN` (= `NotConnected`).
fn is_connect_in_progress(err: &io::Error) -> bool {
    #[cfg(unix)]
    let in_progress = err.raw_os_error() == Some(libc::EINPROGRESS);
    #[cfg(not(unix))]
    let in_progress = false;
    err.kind() == io::ErrorKind::NotConnected || in_progress
}

super::impl_as_fd!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
