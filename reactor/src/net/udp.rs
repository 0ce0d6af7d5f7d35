//! [`UdpSocket`]: UDP datagrams.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use super::ToSocketAddrs;
use std::task::{Context, Poll};

use crate::driver::ready::Direction;
use crate::registration::PollEvented;

use super::addr;

/// A UDP socket. All methods take `&self`, so one socket can be shared (for
/// example in an `Arc`) by a receiving task and a sending task.
///
/// Only one task should wait to receive (and one to send) at a time: each
/// direction has a single waker slot, so of two tasks blocked in `recv` on
/// the same socket only the last one to poll is woken.
///
/// ```no_run
/// use minirt_reactor::net::UdpSocket;
///
/// async fn pong() -> std::io::Result<()> {
///     let socket = UdpSocket::bind("127.0.0.1:9000").await?;
///     let mut buf = [0u8; 1500];
///     loop {
///         let (n, from) = socket.recv_from(&mut buf).await?;
///         socket.send_to(&buf[..n], from).await?;
///     }
/// }
/// ```
pub struct UdpSocket {
    pub(super) io: PollEvented<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (each resolved address is tried in turn).
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the port is taken, and any other OS error.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        let addrs = addr::resolve(addr).await?;
        addr::first_ok(&addrs, |addr| {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(addr)?)
        })
    }

    /// Wraps a std socket (made non-blocking here) in the current runtime.
    ///
    /// # Panics
    ///
    /// Outside a minirt runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// Deregisters and returns the std socket (left in non-blocking mode).
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let mio = self.io.into_inner()?;
        Ok(std::net::UdpSocket::from(mio))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Sets the default destination for [`send`](UdpSocket::send) and the only
    /// source [`recv`](UdpSocket::recv) accepts.
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let addrs = addr::resolve(addr).await?;
        addr::first_ok(&addrs, |addr| self.io.get_ref().connect(addr))
    }

    /// Sends `buf` to the connected peer; resolves to the bytes sent.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// Poll version of [`send`](UdpSocket::send).
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; excess bytes
    /// of a longer datagram are discarded.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// Poll version of [`recv`](UdpSocket::recv).
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
    }

    /// Sends `buf` to `target` (the first address it resolves to).
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let target = addr::resolve(target).await?[0];
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// Poll version of [`send_to`](UdpSocket::send_to).
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
    }

    /// Receives one datagram and its sender's address.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// Poll version of [`recv_from`](UdpSocket::recv_from).
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
    }

    /// Like [`recv_from`](UdpSocket::recv_from), leaving the datagram queued.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.peek_from(buf))).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Enables or disables sending to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether broadcast is enabled.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
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

super::impl_as_fd!(UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
