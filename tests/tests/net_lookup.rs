//! Host-name lookup (`minirt::net::lookup_host`, and every socket
//! constructor that takes a name) on every runtime kind and both clocks:
//! names go to the blocking pool, literals never do, a mock clock does not
//! jump while a lookup runs, and bad input is a clear error.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{lookup_host, TcpListener, TcpStream, UdpSocket};
use minirt::time::{self, Instant};
use minirt_tests::{bounded, each_runtime_and_clock};

const LIMIT: Duration = Duration::from_secs(120);

#[test]
fn localhost_resolves_to_loopback_with_the_port() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let addrs: Vec<SocketAddr> = case
                .rt
                .block_on(async { lookup_host("localhost:8080").await.map(Iterator::collect) })
                .unwrap();
            assert!(!addrs.is_empty(), "{}", case.label);
            for addr in &addrs {
                assert!(addr.ip().is_loopback(), "{}: {addr}", case.label);
                assert_eq!(addr.port(), 8080, "{}", case.label);
            }
            let pair: Vec<SocketAddr> = case
                .rt
                .block_on(async { lookup_host(("localhost", 9)).await.map(Iterator::collect) })
                .unwrap();
            assert_eq!(
                pair,
                addrs
                    .iter()
                    .map(|a| SocketAddr::new(a.ip(), 9))
                    .collect::<Vec<_>>()
            );
        });
    });
}

#[test]
fn a_name_lookup_runs_on_the_blocking_pool_and_a_literal_does_not() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            assert_eq!(case.rt.metrics().blocking_threads, 0, "{}", case.label);
            let literal: Vec<_> = case
                .rt
                .block_on(async { lookup_host("127.0.0.1:80").await.map(Iterator::collect) })
                .unwrap();
            assert_eq!(literal, ["127.0.0.1:80".parse::<SocketAddr>().unwrap()]);
            let literal_pair: Vec<_> = case
                .rt
                .block_on(async { lookup_host(("::1", 80)).await.map(Iterator::collect) })
                .unwrap();
            assert_eq!(literal_pair, ["[::1]:80".parse::<SocketAddr>().unwrap()]);
            assert_eq!(
                case.rt.metrics().blocking_threads,
                0,
                "{}: a literal address went to the pool",
                case.label
            );
            case.rt
                .block_on(async { lookup_host("localhost:80").await.unwrap().count() });
            assert!(
                case.rt.metrics().blocking_threads >= 1,
                "{}: a name lookup did not use the pool",
                case.label
            );
        });
    });
}

/// A lookup is pending work: a mock clock must not auto-advance past a
/// timeout while the resolver runs, so the lookup does not "time out" in
/// virtual time it never used.
#[test]
fn a_mock_clock_does_not_jump_while_a_lookup_runs() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            let (result, elapsed) = case.rt.block_on(async {
                let start = Instant::now();
                let result =
                    time::timeout(Duration::from_secs(1), lookup_host("localhost:80")).await;
                (result.map(|r| r.map(|it| it.count())), start.elapsed())
            });
            let count = result
                .unwrap_or_else(|_| panic!("{}: the lookup timed out", case.label))
                .unwrap();
            assert!(count >= 1, "{}", case.label);
            if case.is_mock() {
                assert_eq!(
                    elapsed,
                    Duration::ZERO,
                    "{}: virtual time moved",
                    case.label
                );
            }
        });
    });
}

#[test]
fn connect_and_bind_accept_host_names() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                // Bound on IPv4 only; "localhost" may resolve to ::1 first,
                // and connect must then go on to 127.0.0.1.
                let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
                let port = listener.local_addr().unwrap().port();
                let server = minirt::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    stream.write_all(b"hi").await.unwrap();
                });
                let mut client = TcpStream::connect(("localhost", port)).await.unwrap();
                let mut got = Vec::new();
                client.read_to_end(&mut got).await.unwrap();
                assert_eq!(got, b"hi", "{}", case.label);
                server.await.unwrap();

                let by_name = format!("localhost:{port}");
                let _ = TcpStream::connect(by_name.as_str()).await; // nothing listens: any error
                let udp = UdpSocket::bind("localhost:0").await.unwrap();
                assert!(
                    udp.local_addr().unwrap().ip().is_loopback(),
                    "{}",
                    case.label
                );
                let peer = UdpSocket::bind((IpAddr::from(Ipv4Addr::LOCALHOST), 0))
                    .await
                    .unwrap();
                let peer_port = peer.local_addr().unwrap().port();
                let sent = udp
                    .send_to(b"x", format!("127.0.0.1:{peer_port}"))
                    .await
                    .unwrap();
                assert_eq!(sent, 1);
                let mut buf = [0u8; 4];
                let (n, _) = peer.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"x");
            });
        });
    });
}

#[test]
fn an_address_without_a_port_is_invalid_input_naming_it() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                for bad in ["localhost", "example.com:http", ""] {
                    let err = lookup_host(bad).await.err().expect("must fail");
                    assert_eq!(
                        err.kind(),
                        ErrorKind::InvalidInput,
                        "{}: {bad:?}",
                        case.label
                    );
                    assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
                    let err = TcpStream::connect(bad).await.unwrap_err();
                    assert_eq!(
                        err.kind(),
                        ErrorKind::InvalidInput,
                        "{}: {bad:?}",
                        case.label
                    );
                }
            });
        });
    });
}

/// `.invalid` is reserved (RFC 6761): it never resolves, with or without a
/// network, and the error must name the host.
#[test]
fn a_name_that_does_not_resolve_is_an_error_naming_it() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                let host = "no-such-host.invalid:80";
                let err = lookup_host(host).await.err().expect("must not resolve");
                assert!(err.to_string().contains(host), "{}: {err}", case.label);
                let err = TcpStream::connect(host).await.unwrap_err();
                assert!(err.to_string().contains(host), "{}: {err}", case.label);
            });
        });
    });
}

/// Dropping a lookup before it finishes loses nothing else: the runtime goes
/// on and a later lookup works.
#[test]
fn a_cancelled_lookup_leaves_the_runtime_usable() {
    bounded(LIMIT, || {
        each_runtime_and_clock(|case| {
            case.rt.block_on(async {
                let lookup = minirt::spawn(async { lookup_host("localhost:1").await.map(|_| ()) });
                lookup.abort();
                let _ = lookup.await;
                assert!(lookup_host("localhost:2").await.unwrap().count() >= 1);
            });
        });
    });
}
