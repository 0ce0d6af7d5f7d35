//! The off-by-default `futures-io` feature: sockets usable through `futures_io` traits.
#![cfg(feature = "futures-io")]

mod common;

use std::pin::Pin;

use common::block_on;
use futures_io::{AsyncRead, AsyncWrite};

/// Writes through `a`'s `futures_io` traits, closes it, and reads it all back from `b`.
async fn interop_round_trip<S: AsyncRead + AsyncWrite + Unpin>(mut a: S, mut b: S) {
    let n = std::future::poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"interop"))
        .await
        .unwrap();
    assert_eq!(n, 7);
    std::future::poll_fn(|cx| Pin::new(&mut a).poll_close(cx))
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let mut got = Vec::new();
    loop {
        let n = std::future::poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, b"interop");
}

#[test]
#[cfg(unix)]
fn unix_stream_through_futures_io_traits() {
    block_on(async {
        let (a, b) = minirt_reactor::net::UnixStream::pair().unwrap();
        interop_round_trip(a, b).await;
    });
}

#[test]
fn tcp_stream_through_futures_io_traits() {
    use minirt_reactor::net::{TcpListener, TcpStream};
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let a = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (b, _) = listener.accept().await.unwrap();
        interop_round_trip(a, b).await;
    });
}
