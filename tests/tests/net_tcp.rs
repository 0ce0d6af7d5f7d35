//! TCP through the public API, on both runtimes: echo round trips from 1 byte
//! to 1 MiB across many concurrent connections, half-close, vanishing and
//! resetting peers, and the errors a user must be able to match on.

use std::io::{self, ErrorKind};
use std::time::Duration;

use minirt::io::{AsyncReadExt, AsyncWriteExt};
use minirt::net::{TcpListener, TcpStream};
use minirt::Builder;
use minirt_tests::{bounded, named_runtimes as runtimes};

/// Payload sizes for the echo test: tiny, around buffer boundaries, and 1 MiB.
const SIZES: [usize; 7] = [1, 2, 1000, 4096, 16 * 1024 + 7, 256 * 1024, 1024 * 1024];

/// How many connections of each size run at once.
const CONNECTIONS_PER_SIZE: usize = 4;

/// A payload whose bytes depend on both position and connection, so swapped
/// or shifted data is caught.
fn payload(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 251) as u8)
        .collect()
}

/// Serves `accepts` connections, echoing each until the client half-closes.
async fn echo_server(listener: TcpListener, accepts: usize) -> io::Result<()> {
    let mut connections = Vec::new();
    for _ in 0..accepts {
        let (mut stream, _) = listener.accept().await?;
        connections.push(minirt::spawn(async move {
            let mut buf = vec![0; 8192];
            loop {
                let n = stream.read(&mut buf).await?;
                if n == 0 {
                    return stream.shutdown().await;
                }
                stream.write_all(&buf[..n]).await?;
            }
        }));
    }
    for connection in connections {
        connection.await.expect("echo task panicked")?;
    }
    Ok(())
}

/// Sends `data` from one task and reads the echo from another (the echo
/// server only reads as fast as we read, so one task doing both would
/// deadlock on large payloads), returning what came back.
async fn round_trip(stream: TcpStream, data: Vec<u8>) -> io::Result<Vec<u8>> {
    let (mut reader, mut writer) = stream.into_split();
    let sender = minirt::spawn(async move {
        writer.write_all(&data).await?;
        writer.shutdown().await
    });
    let mut echoed = Vec::new();
    reader.read_to_end(&mut echoed).await?;
    sender.await.expect("sender task panicked")?;
    Ok(echoed)
}

#[test]
fn echo_round_trips_from_one_byte_to_one_mebibyte_concurrently() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(60), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let total = SIZES.len() * CONNECTIONS_PER_SIZE;
                let server = minirt::spawn(echo_server(listener, total));
                let clients: Vec<_> = (0..total)
                    .map(|i| {
                        let data = payload(SIZES[i % SIZES.len()], i);
                        minirt::spawn(async move {
                            let stream = TcpStream::connect(addr).await?;
                            let echoed = round_trip(stream, data.clone()).await?;
                            Ok::<_, io::Error>((data, echoed))
                        })
                    })
                    .collect();
                for (i, client) in clients.into_iter().enumerate() {
                    let (sent, echoed) = client.await.unwrap().unwrap();
                    assert_eq!(
                        echoed.len(),
                        sent.len(),
                        "{name}: connection {i} got back a different length"
                    );
                    assert!(
                        echoed == sent,
                        "{name}: connection {i} got back other bytes"
                    );
                }
                server.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn half_close_lets_the_peer_answer_after_our_eof() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(async move {
                    let (mut stream, _) = listener.accept().await?;
                    // Read until the client's EOF, then answer on the still-open half.
                    let mut request = Vec::new();
                    stream.read_to_end(&mut request).await?;
                    stream.write_all(b"got ").await?;
                    stream.write_all(&request).await?;
                    stream.shutdown().await
                });
                let mut client = TcpStream::connect(addr).await.unwrap();
                client.write_all(b"question").await.unwrap();
                client.shutdown().await.unwrap();
                let mut answer = String::new();
                client.read_to_string(&mut answer).await.unwrap();
                assert_eq!(answer, "got question", "{name}");
                server.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn a_client_that_connects_and_vanishes_ends_only_its_own_connection() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                drop(TcpStream::connect(addr).await.unwrap());
                let (mut vanished, _) = listener.accept().await.unwrap();
                let mut buf = [0; 16];
                assert_eq!(
                    vanished.read(&mut buf).await.unwrap(),
                    0,
                    "{name}: a peer that closed without sending reads as EOF"
                );
                // The listener keeps serving.
                let mut next = TcpStream::connect(addr).await.unwrap();
                let (mut accepted, _) = listener.accept().await.unwrap();
                next.write_all(b"still here").await.unwrap();
                accepted.read_exact(&mut buf[..10]).await.unwrap();
                assert_eq!(&buf[..10], b"still here", "{name}");
            });
        });
    }
}

/// Closes `stream` with an RST instead of a FIN (SO_LINGER with a zero timeout).
#[cfg(unix)]
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the fd is an open socket owned by `stream`, which outlives the call;
    // `linger` is a valid `struct linger` and its exact size is passed.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
    drop(stream);
}

/// Closes `stream` with an RST instead of a FIN (SO_LINGER with a zero timeout).
#[cfg(windows)]
fn reset(stream: TcpStream) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{setsockopt, LINGER, SOL_SOCKET, SO_LINGER};
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: the socket is open and owned by `stream`, which outlives the call;
    // `linger` is a valid `LINGER` and its exact size is passed.
    let rc = unsafe {
        setsockopt(
            stream.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const LINGER).cast(),
            std::mem::size_of::<LINGER>() as i32,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
    drop(stream);
}

#[test]
fn a_reset_peer_is_connection_reset() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let client = TcpStream::connect(addr).await.unwrap();
                let (mut server_side, _) = listener.accept().await.unwrap();
                // Usually the reader is already asleep in `read` when the RST
                // arrives (so it must be woken); either way it must see the reset.
                let reader = minirt::spawn(async move {
                    let mut buf = [0; 16];
                    server_side.read(&mut buf).await
                });
                minirt::yield_now().await;
                reset(client);
                let err = reader.await.unwrap().unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{name}: {err}");
            });
        });
    }
}

#[test]
fn binding_a_port_in_use_is_addr_in_use() {
    bounded(Duration::from_secs(60), || {
        for (name, rt) in runtimes() {
            rt.block_on(async {
                let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let err = TcpListener::bind(first.local_addr().unwrap())
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::AddrInUse, "{name}: {err}");
            });
        }
    });
}

#[test]
fn connecting_where_nobody_listens_is_connection_refused() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                // A port that was just free; nothing listens on it once the listener is gone.
                let addr = {
                    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                    probe.local_addr().unwrap()
                };
                let err = TcpStream::connect(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{name}: {err}");
            });
        });
    }
}

#[test]
fn split_halves_work_from_two_tasks_and_reunite() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(echo_server(listener, 1));
                let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
                const ROUNDS: u8 = 50;
                // The writer sends one numbered message per round; the reader
                // must see them all, in order, while the writer is still busy.
                let writing = minirt::spawn(async move {
                    for round in 0..ROUNDS {
                        writer.write_all(&[round; 100]).await?;
                    }
                    Ok::<_, io::Error>(writer)
                });
                let reading = minirt::spawn(async move {
                    let mut message = [0; 100];
                    for round in 0..ROUNDS {
                        reader.read_exact(&mut message).await?;
                        assert!(message.iter().all(|&b| b == round), "round {round}");
                    }
                    Ok::<_, io::Error>(reader)
                });
                let writer = writing.await.unwrap().unwrap();
                let reader = reading.await.unwrap().unwrap();
                let mut stream = reader.reunite(writer).expect("halves of one stream");
                stream.write_all(b"end").await.unwrap();
                stream.shutdown().await.unwrap();
                let mut tail = Vec::new();
                stream.read_to_end(&mut tail).await.unwrap();
                assert_eq!(tail, b"end", "{name}");
                server.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn halves_of_different_streams_do_not_reunite() {
    bounded(Duration::from_secs(60), || {
        Builder::current_thread().build().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let (read_a, _write_a) = TcpStream::connect(addr).await.unwrap().into_split();
            let (_read_b, write_b) = TcpStream::connect(addr).await.unwrap().into_split();
            assert!(read_a.reunite(write_b).is_err());
        });
    });
}

#[test]
fn short_reads_clear_readiness_and_the_next_message_still_wakes_the_reader() {
    // The server reads into a buffer larger than any message, so every read
    // is short, which clears read readiness without a `WouldBlock` syscall.
    // The next message is sent only after the reply: were its edge lost, the
    // server would never read it and this would hang (the watchdog fails it).
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(60), || {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = minirt::spawn(async move {
                    let (mut stream, _) = listener.accept().await?;
                    let mut buffer = [0u8; 4096];
                    let mut reads = 0usize;
                    loop {
                        let n = stream.read(&mut buffer).await?;
                        if n == 0 {
                            return Ok::<_, io::Error>(reads);
                        }
                        reads += 1;
                        stream.write_all(&buffer[..n]).await?;
                    }
                });
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let mut reply = [0u8; 100];
                for trip in 0..2000 {
                    let message = payload(1 + trip % 100, trip);
                    stream.write_all(&message).await.unwrap();
                    let reply = &mut reply[..message.len()];
                    stream.read_exact(reply).await.unwrap();
                    assert_eq!(&reply[..], &message[..], "{name}: trip {trip}");
                }
                drop(stream);
                let reads = server.await.unwrap().unwrap();
                assert!(reads >= 2000, "{name}: {reads} reads for 2000 messages");
            });
        });
    }
}
