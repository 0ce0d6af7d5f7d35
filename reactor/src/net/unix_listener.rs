//! [`UnixListener`]: accepts Unix domain stream connections.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

use super::UnixStream;

/// A Unix domain socket server.
///
/// Unix only (Linux, macOS, the BSDs): it does not exist on Windows.
///
/// The socket file is not removed when the listener is dropped; remove it
/// yourself if the path is reused.
///
/// ```no_run
/// use minirt_reactor::net::UnixListener;
///
/// async fn serve() -> std::io::Result<()> {
///     let listener = UnixListener::bind("/tmp/example.sock")?;
///     let (_stream, _addr) = listener.accept().await?;
///     Ok(())
/// }
/// ```
pub struct UnixListener {
    pub(super) io: PollEvented<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates a listener bound to `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the file exists, and any other OS error.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        UnixListener::from_mio(mio::net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener (made non-blocking here) in the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: PollEvented::new_with_interest(listener, mio::Interest::READABLE)?,
        })
    }

    /// Waits for and accepts the next connection.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Poll version of [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let (stream, addr) = ready!(self
            .io
            .poll_io(cx, Direction::Read, |listener| listener.accept()))?;
        Poll::Ready(UnixStream::from_mio(stream).map(|stream| (stream, addr)))
    }

    /// The address (path) this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

super::impl_as_fd!(UnixListener);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
