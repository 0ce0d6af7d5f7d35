//! Unix domain stream and datagram sockets.
#![cfg(unix)]

mod common;

use std::path::PathBuf;

use common::{block_on, join, pattern};
use minirt_reactor::io::{AsyncReadExt, AsyncWriteExt};
use minirt_reactor::net::{UnixDatagram, UnixListener, UnixStream};

/// A fresh socket path in the temp directory, unique per test and process.
fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("minirt-{}-{name}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn stream_echo_through_a_listener() {
    let path = socket_path("stream-echo");
    block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let data = pattern(200_000, 3);
        let server = async {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            stream.read_to_end(&mut received).await.unwrap();
            stream.write_all(&received).await.unwrap();
            received.len()
        };
        let client = async {
            let mut stream = UnixStream::connect(&path).await.unwrap();
            let (mut r, mut w) = stream.split();
            let send = async {
                w.write_all(&data).await.unwrap();
                w.shutdown().await.unwrap();
            };
            let mut echoed = Vec::new();
            let (_, n) = join(send, r.read_to_end(&mut echoed)).await;
            n.unwrap();
            echoed
        };
        let (served, echoed) = join(server, client).await;
        assert_eq!(served, data.len());
        assert!(echoed == data);
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn connecting_to_a_missing_path_is_not_found() {
    block_on(async {
        let err = UnixStream::connect(socket_path("missing"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn stream_pair_owned_halves() {
    block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (mut a_read, mut a_write) = a.into_split();
        a_write.write_all(b"to b").await.unwrap();
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        b.write_all(b"to a").await.unwrap();
        a_read.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
    });
}

#[test]
fn datagram_pair_and_bound_send_to() {
    let path_a = socket_path("dgram-a");
    let path_b = socket_path("dgram-b");
    block_on(async {
        let (x, y) = UnixDatagram::pair().unwrap();
        let mut buf = [0u8; 32];
        let (sent, got) = join(x.send(b"hello"), y.recv(&mut buf)).await;
        assert_eq!(sent.unwrap(), 5);
        assert_eq!(&buf[..got.unwrap()], b"hello");

        let a = UnixDatagram::bind(&path_a).unwrap();
        let b = UnixDatagram::bind(&path_b).unwrap();
        a.send_to(b"from a", &path_b).await.unwrap();
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"from a");
        assert_eq!(from.as_pathname(), Some(path_a.as_path()));
    });
    std::fs::remove_file(&path_a).unwrap();
    std::fs::remove_file(&path_b).unwrap();
}
