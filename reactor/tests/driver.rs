//! The driver contract the runtimes rely on: park/unpark, enter/current, registrations.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::Rt;
use minirt_reactor::net::TcpListener;
use minirt_reactor::{Driver, Handle};

#[test]
fn unpark_from_another_thread_ends_a_park_without_reporting_io() {
    let mut driver = Driver::new().unwrap();
    let handle = driver.handle();
    let (parking_tx, parking_rx) = mpsc::channel::<()>();
    let waker = thread::spawn(move || {
        parking_rx.recv().unwrap();
        handle.unpark();
    });
    parking_tx.send(()).unwrap();
    // Whether the unpark lands before or during this park, park returns early;
    // a lost unpark would only end at the (far) timeout.
    let budget = Duration::from_secs(30);
    let start = Instant::now();
    assert!(!driver.park(Some(budget)).unwrap());
    assert!(
        start.elapsed() < budget,
        "park ran to its timeout: the unpark was lost"
    );
    waker.join().unwrap();
}

#[test]
fn zero_timeout_park_just_checks() {
    let mut driver = Driver::new().unwrap();
    assert!(!driver.park(Some(Duration::ZERO)).unwrap());
}

#[test]
fn enter_nests_and_restores() {
    assert!(Handle::try_current().is_none());
    let outer = Driver::new().unwrap();
    let inner = Driver::new().unwrap();
    let bind = || TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    outer.handle().enter(|| {
        inner.handle().enter(|| {
            let _l = bind().unwrap();
            assert_eq!(inner.handle().registrations(), 1);
            assert_eq!(outer.handle().registrations(), 0);
        });
        let _l = bind().unwrap();
        assert_eq!(
            outer.handle().registrations(),
            1,
            "outer restored after the inner enter"
        );
    });
    assert!(Handle::try_current().is_none());
    // A panic inside `enter` restores the previous reactor too.
    outer.handle().enter(|| {
        let inner = inner.handle();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.enter(|| panic!("inside"))
        }));
        assert!(caught.is_err());
        let _l = bind().unwrap();
        assert_eq!(
            outer.handle().registrations(),
            1,
            "outer restored after a panic"
        );
    });
    assert!(Handle::try_current().is_none());
}

#[test]
fn handle_is_send_sync_and_driver_is_send() {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send<T: Send>() {}
    send_sync::<Handle>();
    send::<Driver>();
}

#[test]
fn sockets_deregister_on_drop() {
    let mut rt = Rt::new();
    let handle = rt.handle();
    rt.block_on(async {
        let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let b = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(Handle::current().registrations(), 2);
        drop(a);
        assert_eq!(Handle::current().registrations(), 1);
        drop(b);
    });
    assert_eq!(handle.registrations(), 0);
}

#[test]
fn io_after_the_driver_is_dropped_fails_instead_of_hanging() {
    let mut rt = Rt::new();
    let listener = rt.block_on(async { TcpListener::bind("127.0.0.1:0").await.unwrap() });
    let handle = rt.handle();
    drop(rt);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match handle.enter(|| listener.poll_accept(&mut cx)) {
        std::task::Poll::Ready(Err(err)) => assert!(err.to_string().contains("shut down")),
        other => panic!(
            "expected a shutdown error, got {:?}",
            other.map(|r| r.map(|_| ()))
        ),
    }
}

#[test]
fn sockets_and_their_futures_can_move_between_worker_threads() {
    use minirt_reactor::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UdpSocket};
    use minirt_reactor::signal;
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<UdpSocket>();
    send_sync::<OwnedReadHalf<TcpStream>>();
    send_sync::<OwnedWriteHalf<TcpStream>>();
    #[cfg(unix)]
    {
        use minirt_reactor::net::{UnixDatagram, UnixListener, UnixStream};
        use minirt_reactor::signal::{Signal, SignalKind};
        send_sync::<UnixListener>();
        send_sync::<UnixStream>();
        send_sync::<UnixDatagram>();
        send_sync::<Signal>();
        let _ = SignalKind::terminate();
    }
    // Futures are only built here, never polled.
    send(&TcpStream::connect("127.0.0.1:1"));
    send(&TcpListener::bind("127.0.0.1:0"));
    send(&UdpSocket::bind("127.0.0.1:0"));
    send(&signal::ctrl_c());
}
