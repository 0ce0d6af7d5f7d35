//! Connecting with a timeout (`minirt::time::timeout` around
//! `TcpStream::connect`), on loopback only.

use std::time::Duration;

use minirt::net::TcpStream;
use minirt::time::timeout;
use minirt_tests::bounded;

#[test]
fn connect_within_the_timeout_succeeds() {
    bounded(Duration::from_secs(60), || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stream = minirt::block_on(async {
            timeout(Duration::from_secs(10), TcpStream::connect(addr)).await
        });
        assert!(stream.unwrap().is_ok());
    });
}

// Unix only: the backlog trick needs `libc`, and Windows answers a full
// backlog with a refusal instead of silence.
#[cfg(unix)]
#[test]
fn connect_to_a_listener_that_never_accepts_times_out() {
    bounded(Duration::from_secs(60), || {
        // A listener whose backlog is full drops further SYNs on Linux, so the
        // next connect stays pending until the timeout cancels it.
        let listener = socket_with_backlog(1);
        let addr = listener.local_addr().unwrap();
        let _fill: Vec<_> = (0..8)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
            })
            .collect();
        let rt = minirt::Runtime::new().unwrap();
        let result = rt.block_on(async {
            let mut timed_out = 0;
            for _ in 0..4 {
                if timeout(Duration::from_millis(100), TcpStream::connect(addr))
                    .await
                    .is_err()
                {
                    timed_out += 1;
                }
            }
            timed_out
        });
        assert!(
            result >= 1,
            "no connect attempt was left pending; the backlog did not fill"
        );
    });
}

#[cfg(unix)]
fn socket_with_backlog(backlog: i32) -> std::net::TcpListener {
    use std::os::fd::FromRawFd;
    // SAFETY: plain libc socket calls on a fresh fd we own; errors are
    // checked, and the fd is handed to TcpListener exactly once.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        assert_eq!(
            libc::bind(fd, &addr as *const _ as *const libc::sockaddr, len),
            0
        );
        assert_eq!(libc::listen(fd, backlog), 0);
        std::net::TcpListener::from_raw_fd(fd)
    }
}
