//! TCP behaviour over loopback: echo, concurrency, half-close, resets, errors, splitting.

mod common;

use std::io;
use std::net::SocketAddr;

use common::{block_on, join, join_all, pattern, BoxFuture, Rt};
use minirt_reactor::io::{copy, AsyncReadExt, AsyncWriteExt};
use minirt_reactor::net::{TcpListener, TcpStream};

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Echoes one connection until end of file, then half-closes.
async fn echo_one(mut stream: TcpStream) -> io::Result<u64> {
    let (mut reader, mut writer) = stream.split();
    let n = copy(&mut reader, &mut writer).await?;
    writer.shutdown().await?;
    Ok(n)
}

/// Sends `data`, half-closes, and reads everything echoed back — concurrently,
/// so payloads larger than the socket buffers cannot deadlock.
async fn send_and_collect(stream: &mut TcpStream, data: &[u8]) -> io::Result<Vec<u8>> {
    let (mut reader, mut writer) = stream.split();
    let send = async {
        writer.write_all(data).await?;
        writer.shutdown().await
    };
    let mut echoed = Vec::new();
    let (sent, received) = join(send, reader.read_to_end(&mut echoed)).await;
    sent?;
    received?;
    Ok(echoed)
}

#[test]
fn echo_round_trips_from_one_byte_to_one_mebibyte() {
    block_on(async {
        let (listener, addr) = listener().await;
        for (i, &len) in [1usize, 2, 100, 4096, 65_537, 1 << 20].iter().enumerate() {
            let data = pattern(len, i as u8);
            let server = async {
                let (stream, _) = listener.accept().await?;
                echo_one(stream).await
            };
            let client = async {
                let mut stream = TcpStream::connect(addr).await?;
                send_and_collect(&mut stream, &data).await
            };
            let (echoed_count, echoed) = join(server, client).await;
            assert_eq!(echoed_count.expect("server") as usize, len);
            let echoed = echoed.expect("client");
            assert_eq!(echoed.len(), len, "length of echo for {len} bytes");
            assert!(echoed == data, "echo of {len} bytes differs");
        }
    });
}

#[test]
fn several_concurrent_connections() {
    const CLIENTS: usize = 8;
    let mut rt = Rt::new();
    let handle = rt.handle();
    rt.block_on(async {
        let (listener, addr) = listener().await;
        let server = async {
            let mut handlers: Vec<BoxFuture<'_, io::Result<u64>>> = Vec::new();
            for _ in 0..CLIENTS {
                let (stream, _) = listener.accept().await?;
                handlers.push(Box::pin(echo_one(stream)));
            }
            let results = join_all(handlers).await;
            results.into_iter().collect::<io::Result<Vec<u64>>>()
        };
        let clients: Vec<BoxFuture<'_, io::Result<Vec<u8>>>> = (0..CLIENTS)
            .map(|i| {
                Box::pin(async move {
                    let mut stream = TcpStream::connect(addr).await?;
                    send_and_collect(&mut stream, &pattern(10_000 + i, i as u8)).await
                }) as BoxFuture<'_, _>
            })
            .collect();
        let (served, echoed) = join(server, join_all(clients)).await;
        assert_eq!(served.expect("server").len(), CLIENTS);
        for (i, echo) in echoed.into_iter().enumerate() {
            assert_eq!(echo.expect("client"), pattern(10_000 + i, i as u8));
        }
    });
    assert_eq!(
        handle.registrations(),
        0,
        "every socket deregistered on drop"
    );
}

#[test]
fn half_close_peer_reads_eof_and_still_writes_back() {
    block_on(async {
        let (listener, addr) = listener().await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();

        client.write_all(b"request").await.unwrap();
        client.shutdown().await.unwrap();

        let mut request = Vec::new();
        server.read_to_end(&mut request).await.unwrap();
        assert_eq!(
            request, b"request",
            "server saw EOF after the whole request"
        );

        server.write_all(b"response").await.unwrap();
        drop(server);
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        assert_eq!(response, "response");
    });
}

#[test]
fn client_that_connects_and_vanishes_gives_eof() {
    block_on(async {
        let (listener, addr) = listener().await;
        drop(TcpStream::connect(addr).await.unwrap());
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0);

        // The listener is unaffected and serves the next client.
        let mut next = TcpStream::connect(addr).await.unwrap();
        let (mut served, _) = listener.accept().await.unwrap();
        next.write_all(b"ok").await.unwrap();
        let mut got = [0u8; 2];
        served.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ok");
    });
}

/// `SO_LINGER` with a zero timeout: closing the socket then sends RST, not FIN.
#[cfg(unix)]
fn set_linger_zero(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid fd owned by `stream`; `linger` is a live value of the size passed.
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
}

/// `SO_LINGER` with a zero timeout: closing the socket then sends RST, not FIN.
#[cfg(windows)]
fn set_linger_zero(stream: &TcpStream) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{setsockopt, LINGER, SOL_SOCKET, SO_LINGER};
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid socket owned by `stream`; `linger` is a live value of the size passed.
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
}

#[test]
fn peer_reset_mid_read_is_connection_reset() {
    block_on(async {
        let (listener, addr) = listener().await;
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        set_linger_zero(&client);
        drop(client); // sends RST instead of FIN
        let mut buf = [0u8; 64];
        let err = server.read(&mut buf).await.expect_err("read after RST");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
    });
}

#[test]
fn binding_a_port_in_use_is_addr_in_use() {
    block_on(async {
        let (_listener, addr) = listener().await;
        let err = TcpListener::bind(addr).await.expect_err("second bind");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
    });
}

#[test]
fn connecting_to_a_closed_port_is_connection_refused() {
    block_on(async {
        let addr = {
            let (listener, addr) = listener().await;
            drop(listener);
            addr
        };
        let err = TcpStream::connect(addr).await.expect_err("connect");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn owned_halves_used_from_two_futures_and_reunited() {
    block_on(async {
        let (listener, addr) = listener().await;
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let server_task = echo_one(server);

        let client_task = async {
            let (mut read_half, mut write_half) = client.into_split();
            const MESSAGES: usize = 200;
            let writer = async {
                for i in 0..MESSAGES {
                    write_half.write_all(&pattern(512, i as u8)).await?;
                }
                io::Result::Ok(())
            };
            let reader = async {
                let mut buf = vec![0u8; 512];
                for i in 0..MESSAGES {
                    read_half.read_exact(&mut buf).await?;
                    assert_eq!(buf, pattern(512, i as u8), "message {i}");
                }
                io::Result::Ok(())
            };
            let (w, r) = join(writer, reader).await;
            w.unwrap();
            r.unwrap();

            let mut stream = read_half.reunite(write_half).expect("same stream");
            stream.shutdown().await.unwrap();
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            MESSAGES * 512
        };
        let (served, sent) = join(server_task, client_task).await;
        assert_eq!(served.unwrap(), sent as u64);
    });
}

#[test]
fn reuniting_halves_of_different_streams_fails() {
    block_on(async {
        let (listener, addr) = listener().await;
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (a_read, _a_write) = a.into_split();
        let (_b_read, b_write) = b.into_split();
        let err = a_read.reunite(b_write).expect_err("different streams");
        assert!(err.to_string().contains("not from the same stream"));
        drop(listener);
    });
}

#[test]
fn peek_does_not_consume_and_options_round_trip() {
    block_on(async {
        let (listener, addr) = listener().await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), addr);

        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());

        client.write_all(b"peekaboo").await.unwrap();
        let mut peeked = [0u8; 4];
        assert_eq!(server.peek(&mut peeked).await.unwrap(), 4);
        assert_eq!(&peeked, b"peek");
        let mut all = [0u8; 8];
        server.read_exact(&mut all).await.unwrap();
        assert_eq!(&all, b"peekaboo");
    });
}

#[test]
fn std_conversions_keep_the_connection() {
    block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let std_server = server.into_std().unwrap();
        let mut server = TcpStream::from_std(std_server).unwrap();
        let mut client = client;
        client.write_all(b"x").await.unwrap();
        let mut b = [0u8; 1];
        server.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"x");
    });
}

#[test]
#[should_panic(expected = "must be created inside a minirt runtime")]
fn creating_a_socket_outside_a_runtime_panics_with_guidance() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _ = TcpListener::from_std(std_listener);
}
