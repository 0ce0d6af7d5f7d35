//! The off-by-default `futures-io` feature: sockets usable through `futures_io` traits.
#![cfg(feature = "futures-io")]

mod common;

use std::pin::Pin;

use common::block_on;
use minirt_reactor::net::UnixStream;

#[test]
fn unix_stream_through_futures_io_traits() {
    block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let n = std::future::poll_fn(|cx| {
            futures_io::AsyncWrite::poll_write(Pin::new(&mut a), cx, b"interop")
        })
        .await
        .unwrap();
        assert_eq!(n, 7);
        std::future::poll_fn(|cx| futures_io::AsyncWrite::poll_close(Pin::new(&mut a), cx))
            .await
            .unwrap();
        let mut buf = [0u8; 16];
        let mut got = Vec::new();
        loop {
            let n = std::future::poll_fn(|cx| {
                futures_io::AsyncRead::poll_read(Pin::new(&mut b), cx, &mut buf)
            })
            .await
            .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"interop");
    });
}
