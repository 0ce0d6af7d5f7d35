//! Registration-level tests of the driver that need its internals.

use std::net::{TcpListener as StdTcpListener, TcpStream as StdTcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::ready::{Direction, Ready};
use super::token;
use super::Driver;

struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A connected pair of non-blocking sockets (loopback TCP, so that these
/// tests run on Windows too).
fn mio_pair() -> (mio::net::TcpStream, mio::net::TcpStream) {
    let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let a = StdTcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (b, _) = listener.accept().expect("accept");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (
        mio::net::TcpStream::from_std(a),
        mio::net::TcpStream::from_std(b),
    )
}

#[test]
fn stale_token_is_not_delivered_to_slot_reuser() {
    let driver = Driver::new().unwrap();
    let inner = driver.handle().inner;

    let (mut old_source, _old_peer) = mio_pair();
    let old = inner.add(&mut old_source, mio::Interest::READABLE).unwrap();
    let old_token = token::pack(old.key(), old.generation());
    inner.deregister(&mut old_source).unwrap();
    inner.remove(&old);

    let (mut new_source, _new_peer) = mio_pair();
    let new = inner.add(&mut new_source, mio::Interest::READABLE).unwrap();
    assert_eq!(new.key(), old.key(), "the slab must reuse the freed slot");
    assert_ne!(new.generation(), old.generation());

    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    assert!(new
        .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        .is_pending());

    // The event the old owner would have received arrives late.
    assert!(!inner.dispatch(old_token, Ready::READABLE, 1));
    assert_eq!(
        counter.0.load(Ordering::SeqCst),
        0,
        "new owner woken by a stale event"
    );
    assert!(new.readiness().is_empty());

    // Its own token still works.
    let new_token = token::pack(new.key(), new.generation());
    assert!(inner.dispatch(new_token, Ready::READABLE, 2));
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    inner.deregister(&mut new_source).unwrap();
    inner.remove(&new);
}

#[test]
fn real_readiness_reaches_the_registration_through_park() {
    let mut driver = Driver::new().unwrap();
    let inner = driver.handle().inner;
    let (mut source, peer) = mio_pair();
    let io = inner.add(&mut source, mio::Interest::READABLE).unwrap();
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());

    use std::io::Write;
    (&peer).write_all(b"x").unwrap();
    let mut dispatched = false;
    for _ in 0..100 {
        if driver
            .park(Some(std::time::Duration::from_secs(5)))
            .unwrap()
        {
            dispatched = true;
            break;
        }
    }
    assert!(dispatched);
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert!(matches!(
        io.poll_ready(&mut cx, Direction::Read),
        Poll::Ready(Ok(_))
    ));
    inner.deregister(&mut source).unwrap();
    inner.remove(&io);
    assert_eq!(driver.handle().registrations(), 0);
}

#[test]
fn dropping_the_driver_fails_live_registrations() {
    let driver = Driver::new().unwrap();
    let inner = driver.handle().inner;
    let (mut source, _peer) = mio_pair();
    let io = inner.add(&mut source, mio::Interest::READABLE).unwrap();
    drop(driver);
    let waker = Waker::from(Arc::new(CountingWaker(AtomicUsize::new(0))));
    assert!(matches!(
        io.poll_ready(&mut Context::from_waker(&waker), Direction::Read),
        Poll::Ready(Err(_))
    ));
    let (mut other, _) = mio_pair();
    assert!(inner.add(&mut other, mio::Interest::READABLE).is_err());
    inner.remove(&io);
}

/// `add` puts the entry in before the `epoll_ctl` and takes it back out if
/// that fails: a failed registration leaves no entry behind, and the slot
/// goes to the next registration.
#[cfg(unix)]
#[test]
fn a_failed_registration_leaves_no_entry() {
    use std::os::fd::AsRawFd;

    let driver = Driver::new().unwrap();
    let inner = driver.handle().inner;
    // epoll refuses regular files (EPERM).
    let file = std::fs::File::open("/proc/self/exe")
        .or_else(|_| std::fs::File::open(std::env::current_exe().unwrap()))
        .unwrap();
    let fd = file.as_raw_fd();
    let err = inner
        .add(&mut mio::unix::SourceFd(&fd), mio::Interest::READABLE)
        .map(|_| ())
        .expect_err("epoll registered a regular file");
    assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}");
    assert_eq!(inner.live_registrations(), 0, "the failed entry stayed");

    let (mut source, _peer) = mio_pair();
    let io = inner.add(&mut source, mio::Interest::READABLE).unwrap();
    assert_eq!(io.key(), 0, "the freed slot is reused");
    assert_eq!(inner.live_registrations(), 1);
}
