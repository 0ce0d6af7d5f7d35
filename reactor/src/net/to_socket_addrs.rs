//! [`ToSocketAddrs`]: the addresses a socket call accepts, resolved without
//! blocking a worker.
//!
//! Why minirt has its own trait and does not take `std::net::ToSocketAddrs`:
//! std's trait resolves host names inside `to_socket_addrs()`, a blocking
//! `getaddrinfo` call that can take seconds with a slow resolver — on a
//! worker thread that stalls every task behind it. minirt's trait (tokio's
//! name and meaning) is sealed and implemented for the same types as tokio's:
//! socket addresses and IP/port pairs resolve on the spot, and only a host
//! name is sent to the blocking pool (see [`lookup_host`](super::lookup_host)).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Anything a minirt socket can bind or connect to: a [`SocketAddr`] (or its
/// V4/V6 forms), an `(IpAddr, u16)` pair, a `"host:port"` string, a
/// `(host, port)` pair, or a slice of socket addresses.
///
/// Literal addresses (`"127.0.0.1:8080"`, `"[::1]:80"`) are parsed in place;
/// a host name (`"example.com:443"`, `("localhost", 80)`) is resolved on the
/// runtime's blocking pool, so a slow resolver never blocks a worker.
///
/// The trait is sealed: it cannot be implemented outside minirt. To use a
/// type that implements only `std::net::ToSocketAddrs`, resolve it yourself
/// (for example inside `spawn_blocking`) and pass the `SocketAddr`s.
///
/// ```no_run
/// use std::net::{Ipv4Addr, SocketAddr};
/// use minirt_reactor::net::TcpListener;
///
/// async fn listeners() -> std::io::Result<()> {
///     let a = TcpListener::bind("127.0.0.1:0").await?;
///     let b = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
///     let c = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
///     let d = TcpListener::bind(("localhost", 0)).await?; // resolved on the pool
///     # drop((a, b, c, d));
///     Ok(())
/// }
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

pub(crate) mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// How an address is resolved.
    #[derive(Debug)]
    pub enum Resolution {
        /// Already known: no lookup needed.
        Ready(Vec<SocketAddr>),
        /// A host name and port that need a (blocking) lookup.
        Lookup(String, u16),
        /// A `"host:port"` string that needs a (blocking) lookup.
        LookupHostPort(String),
        /// The input cannot name an address (`"no-port"`).
        Invalid(io::Error),
    }

    /// The private half of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        #[doc(hidden)]
        fn resolution(&self) -> Resolution;
    }
}

pub(crate) use sealed::Resolution;
use sealed::ToSocketAddrsPriv;

macro_rules! ready_addr {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn resolution(&self) -> Resolution {
                Resolution::Ready(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

ready_addr!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn resolution(&self) -> Resolution {
        Resolution::Ready(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn resolution(&self) -> Resolution {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Resolution::Ready(vec![addr]);
        }
        // std's rule: the port follows the last colon.
        match self.rsplit_once(':') {
            Some((_, port)) if port.parse::<u16>().is_ok() => {
                Resolution::LookupHostPort(self.to_owned())
            }
            _ => Resolution::Invalid(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid socket address {self:?}: expected \"host:port\""),
            )),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn resolution(&self) -> Resolution {
        self.as_str().resolution()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn resolution(&self) -> Resolution {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Resolution::Ready(vec![SocketAddr::new(ip, port)]),
            Err(_) => Resolution::Lookup(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn resolution(&self) -> Resolution {
        (self.0.as_str(), self.1).resolution()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn resolution(&self) -> Resolution {
        (**self).resolution()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(addr: &(impl ToSocketAddrs + ?Sized)) -> Vec<SocketAddr> {
        match addr.resolution() {
            Resolution::Ready(addrs) => addrs,
            other => panic!("expected an address, got {other:?}"),
        }
    }

    #[test]
    fn literals_resolve_in_place() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(ready("127.0.0.1:80"), [v4]);
        assert_eq!(ready(&String::from("[::1]:80")), [v6]);
        assert_eq!(ready(&("127.0.0.1", 80)), [v4]);
        assert_eq!(ready(&("::1", 80)), [v6]);
        assert_eq!(ready(&(Ipv4Addr::LOCALHOST, 80)), [v4]);
        assert_eq!(ready(&v4), [v4]);
        assert_eq!(ready(&[v4, v6][..]), [v4, v6]);
    }

    #[test]
    fn names_need_a_lookup() {
        assert!(matches!(
            "localhost:80".resolution(),
            Resolution::LookupHostPort(s) if s == "localhost:80"
        ));
        assert!(matches!(
            ("example.local", 8).resolution(),
            Resolution::Lookup(h, 8) if h == "example.local"
        ));
    }

    #[test]
    fn a_string_without_a_port_is_invalid_input_and_named() {
        for bad in ["localhost", "localhost:http", "", "1.2.3.4"] {
            match bad.resolution() {
                Resolution::Invalid(err) => {
                    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
                    assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
                }
                other => panic!("{bad:?}: expected invalid input, got {other:?}"),
            }
        }
    }
}
