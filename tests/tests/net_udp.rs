//! UDP through the public API, on both runtimes: ping-pong between two
//! sockets, addressed (`send_to`/`recv_from`) and connected (`send`/`recv`).

use std::io;
use std::time::Duration;

use minirt::net::UdpSocket;
use minirt_tests::{bounded, named_runtimes as runtimes};

/// Ping-pong rounds per test; each waits for the previous reply, so every
/// round exercises a wake-up from the reactor.
const ROUNDS: u32 = 200;

#[test]
fn ping_pong_with_send_to_and_recv_from() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let pinger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let ponger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let pinger_addr = pinger.local_addr().unwrap();
                let ponger_addr = ponger.local_addr().unwrap();
                // The ponger answers each ping to whoever sent it.
                let answering = minirt::spawn(async move {
                    let mut buf = [0; 64];
                    for _ in 0..ROUNDS {
                        let (n, from) = ponger.recv_from(&mut buf).await?;
                        assert_eq!(from, pinger_addr);
                        let ping = std::str::from_utf8(&buf[..n]).unwrap();
                        let pong = ping.replace("ping", "pong");
                        ponger.send_to(pong.as_bytes(), from).await?;
                    }
                    Ok::<_, io::Error>(())
                });
                let mut buf = [0; 64];
                for round in 0..ROUNDS {
                    let ping = format!("ping {round}");
                    let sent = pinger.send_to(ping.as_bytes(), ponger_addr).await.unwrap();
                    assert_eq!(sent, ping.len());
                    let (n, from) = pinger.recv_from(&mut buf).await.unwrap();
                    assert_eq!(from, ponger_addr, "{name}");
                    assert_eq!(&buf[..n], format!("pong {round}").as_bytes(), "{name}");
                }
                answering.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn ping_pong_on_connected_sockets() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                a.connect(b.local_addr().unwrap()).await.unwrap();
                b.connect(a.local_addr().unwrap()).await.unwrap();
                assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
                let echoing = minirt::spawn(async move {
                    let mut buf = [0; 8];
                    for _ in 0..ROUNDS {
                        let n = b.recv(&mut buf).await?;
                        b.send(&buf[..n]).await?;
                    }
                    Ok::<_, io::Error>(())
                });
                let mut buf = [0; 8];
                for round in 0..ROUNDS {
                    a.send(&round.to_le_bytes()).await.unwrap();
                    let n = a.recv(&mut buf).await.unwrap();
                    assert_eq!(&buf[..n], round.to_le_bytes(), "{name}");
                }
                echoing.await.unwrap().unwrap();
            });
        });
    }
}

#[test]
fn datagram_boundaries_are_kept() {
    for (name, rt) in runtimes() {
        bounded(Duration::from_secs(20), || {
            rt.block_on(async {
                let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let to = b.local_addr().unwrap();
                for len in [0usize, 1, 1400, 8000] {
                    a.send_to(&vec![len as u8; len], to).await.unwrap();
                }
                let mut buf = vec![0; 9000];
                for len in [0usize, 1, 1400, 8000] {
                    let (n, _) = b.recv_from(&mut buf).await.unwrap();
                    assert_eq!(n, len, "{name}: one recv returns one whole datagram");
                    assert!(buf[..n].iter().all(|&x| x == len as u8), "{name}");
                }
            });
        });
    }
}
