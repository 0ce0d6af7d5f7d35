//! [`UnixStream`]: a Unix domain stream socket connection.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

/// A connected Unix domain stream socket; the local-machine counterpart of
/// [`TcpStream`](super::TcpStream), with the same reading, writing and splitting.
///
/// Unix only (Linux, macOS, the BSDs): it does not exist on Windows.
///
/// ```no_run
/// use minirt_reactor::io::AsyncWriteExt;
/// use minirt_reactor::net::UnixStream;
///
/// async fn notify() -> std::io::Result<()> {
///     let mut stream = UnixStream::connect("/run/my-daemon.sock").await?;
///     stream.write_all(b"reload\n").await
/// }
/// ```
pub struct UnixStream {
    pub(super) io: PollEvented<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` if no socket file exists, `ConnectionRefused` if nobody listens.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.io.poll_ready(cx, Direction::Write))?;
            let socket = self.io.get_ref();
            if let Some(err) = socket.take_error()? {
                return Poll::Ready(Err(err));
            }
            match socket.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(err)
                    if err.kind() == io::ErrorKind::NotConnected
                        && !event.ready.is_write_closed() =>
                {
                    self.io.clear_readiness(event);
                }
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }

    /// A pair of connected sockets (`socketpair`).
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Wraps a connected std stream (made non-blocking here) in the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    pub(crate) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

super::split::impl_stream!(UnixStream);
super::impl_as_fd!(UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}
