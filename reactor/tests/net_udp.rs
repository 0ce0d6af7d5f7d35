//! UDP over loopback.

mod common;

use common::{block_on, join};
use minirt_reactor::net::UdpSocket;

#[test]
fn ping_pong_with_send_to_and_recv_from() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let a_addr = a.local_addr().unwrap();
        let b_addr = b.local_addr().unwrap();

        let ponger = async {
            let mut buf = [0u8; 64];
            for _ in 0..10 {
                let (n, from) = b.recv_from(&mut buf).await.unwrap();
                assert_eq!(from, a_addr);
                b.send_to(&buf[..n], from).await.unwrap();
            }
        };
        let pinger = async {
            let mut buf = [0u8; 64];
            for i in 0..10u8 {
                let msg = [b'p', i];
                assert_eq!(a.send_to(&msg, b_addr).await.unwrap(), 2);
                let (n, from) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!((from, &buf[..n]), (b_addr, &msg[..]));
            }
        };
        join(ponger, pinger).await;
    });
}

#[test]
fn connected_sockets_send_and_recv() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

        let mut buf = [0u8; 16];
        let (sent, received) = join(a.send(b"datagram"), b.recv(&mut buf)).await;
        assert_eq!(sent.unwrap(), 8);
        assert_eq!(&buf[..received.unwrap()], b"datagram");

        let mut peeked = [0u8; 16];
        a.send(b"again").await.unwrap();
        let (n, from) = b.peek_from(&mut peeked).await.unwrap();
        assert_eq!(
            (&peeked[..n], from),
            (&b"again"[..], a.local_addr().unwrap())
        );
        assert_eq!(
            b.recv(&mut buf).await.unwrap(),
            5,
            "peek left the datagram queued"
        );
    });
}

#[test]
fn binding_a_udp_port_in_use_is_addr_in_use() {
    block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = UdpSocket::bind(a.local_addr().unwrap())
            .await
            .expect_err("second bind");
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    });
}
