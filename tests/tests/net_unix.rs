//! Unix domain sockets through the public API, on both runtimes: a stream
//! listener with concurrent clients, a stream pair split across tasks, and
//! datagrams over a pair and over bound paths.
#![cfg(unix)]

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{UnixDatagram, UnixListener, UnixStream};
use minirt_tests::{bounded, named_runtimes as runtimes};

/// A socket path unique to this process and call, removed when dropped.
struct TempSocketPath(PathBuf);

impl TempSocketPath {
    fn new(tag: &str) -> TempSocketPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "minirt-net-unix-{}-{tag}-{n}.sock",
            std::process::id()
        ));
        // A stale file from an earlier, killed run with the same pid would make bind fail.
        let _ = std::fs::remove_file(&path);
        TempSocketPath(path)
    }
}

impl Drop for TempSocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn stream_listener_echoes_for_concurrent_clients() {
    const CLIENTS: usize = 16;
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(30), || {
            let path = TempSocketPath::new("stream");
            rt.block_on(async {
                let listener = UnixListener::bind(&path.0).unwrap();
                let server = minirt::spawn(async move {
                    let mut connections = Vec::new();
                    for _ in 0..CLIENTS {
                        let (mut stream, _) = listener.accept().await?;
                        connections.push(minirt::spawn(async move {
                            let (mut reader, mut writer) = stream.split();
                            minirt::io::copy(&mut reader, &mut writer).await?;
                            stream.shutdown().await
                        }));
                    }
                    for connection in connections {
                        connection.await.unwrap()?;
                    }
                    Ok::<_, io::Error>(())
                });
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|i| {
                        let path = path.0.clone();
                        minirt::spawn(async move {
                            let stream = UnixStream::connect(&path).await?;
                            let (mut reader, mut writer) = stream.into_split();
                            let sent: Vec<u8> =
                                (0..64 * 1024 + i).map(|b| (b % 253) as u8).collect();
                            let to_send = sent.clone();
                            let sending = minirt::spawn(async move {
                                writer.write_all(&to_send).await?;
                                writer.shutdown().await
                            });
                            let mut echoed = Vec::new();
                            reader.read_to_end(&mut echoed).await?;
                            sending.await.unwrap()?;
                            Ok::<_, io::Error>(echoed == sent)
                        })
                    })
                    .collect();
                for (i, client) in clients.into_iter().enumerate() {
                    assert!(
                        client.await.unwrap().unwrap(),
                        "{name}: client {i} got other bytes back"
                    );
                }
                server.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn connecting_to_a_missing_path_fails_with_not_found() {
    bounded(Duration::from_secs(60), || {
        for (name, rt) in runtimes() {
            let path = TempSocketPath::new("missing");
            rt.block_on(async {
                let err = UnixStream::connect(&path.0).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::NotFound, "{name}: {err}");
            });
        }
    });
}

#[test]
fn stream_pair_halves_talk_from_two_tasks() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let (left, right) = UnixStream::pair().unwrap();
                let (mut left_read, mut left_write) = left.into_split();
                let (mut right_read, mut right_write) = right.into_split();
                // Both sides write and read at once: each direction is independent.
                let a = minirt::spawn(async move {
                    left_write.write_all(&[1; 200_000]).await?;
                    left_write.shutdown().await
                });
                let b = minirt::spawn(async move {
                    right_write.write_all(&[2; 200_000]).await?;
                    right_write.shutdown().await
                });
                let mut from_right = Vec::new();
                let mut from_left = Vec::new();
                let (r1, r2) = minirt::join!(
                    left_read.read_to_end(&mut from_right),
                    right_read.read_to_end(&mut from_left)
                );
                r1.unwrap();
                r2.unwrap();
                a.await.unwrap().unwrap();
                b.await.unwrap().unwrap();
                assert!(
                    from_right.len() == 200_000 && from_right.iter().all(|&x| x == 2),
                    "{name}"
                );
                assert!(
                    from_left.len() == 200_000 && from_left.iter().all(|&x| x == 1),
                    "{name}"
                );
            });
        });
    }
}

#[test]
fn datagram_pair_ping_pong() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let (a, b) = UnixDatagram::pair().unwrap();
                let echoing = minirt::spawn(async move {
                    let mut buf = [0; 16];
                    for _ in 0..100 {
                        let n = b.recv(&mut buf).await?;
                        b.send(&buf[..n]).await?;
                    }
                    Ok::<_, io::Error>(())
                });
                let mut buf = [0; 16];
                for round in 0u32..100 {
                    a.send(&round.to_be_bytes()).await.unwrap();
                    let n = a.recv(&mut buf).await.unwrap();
                    assert_eq!(&buf[..n], round.to_be_bytes(), "{name}");
                }
                echoing.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn datagrams_between_bound_paths_carry_the_sender_address() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            let server_path = TempSocketPath::new("dgram-server");
            let client_path = TempSocketPath::new("dgram-client");
            rt.block_on(async {
                let server = UnixDatagram::bind(&server_path.0).unwrap();
                let client = UnixDatagram::bind(&client_path.0).unwrap();
                client.send_to(b"hello", &server_path.0).await.unwrap();
                let mut buf = [0; 16];
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"hello", "{name}");
                let from = from.as_pathname().expect("the client is bound to a path");
                assert_eq!(from, client_path.0.as_path(), "{name}");
                server.send_to(b"welcome", from).await.unwrap();
                let (n, _) = client.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"welcome", "{name}");
            });
        });
    }
}
