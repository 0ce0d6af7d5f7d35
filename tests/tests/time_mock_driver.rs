//! The mock clock at the seams the driver joins: blocking work (virtual
//! time waits for it, then moves again) and real I/O (the autojump
//! threshold lets data that arrives in real time beat a virtual timeout).

use minirt::io::AsyncReadExt;
use minirt::time::{self, Instant};
use minirt_tests::{bounded, mock_runtimes};
use std::time::Duration;

#[test]
fn mock_sleep_beside_blocking() {
    bounded(Duration::from_secs(20), || {
        for rt in mock_runtimes() {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let out = rt.block_on(async move {
                let start = Instant::now();
                let job = minirt::spawn_blocking(move || rx.recv().unwrap());
                let sleeper = minirt::spawn(async move {
                    time::sleep(Duration::from_secs(3600)).await;
                    start.elapsed()
                });
                minirt::yield_now().await;
                tx.send(()).unwrap();
                job.await.unwrap();
                sleeper.await.unwrap()
            });
            assert_eq!(out, Duration::from_secs(3600));
        }
    });
}

#[test]
fn mock_timeout_around_io() {
    bounded(Duration::from_secs(20), || {
        for rt in mock_runtimes() {
            let out = rt.block_on(async {
                let listener = minirt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let t = std::thread::spawn(move || {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    std::thread::sleep(Duration::from_millis(100));
                    use std::io::Write;
                    s.write_all(b"hello").unwrap();
                    s
                });
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                let start = Instant::now();
                let r = time::timeout(Duration::from_secs(10), stream.read_exact(&mut buf)).await;
                let never =
                    time::timeout(Duration::from_secs(1), stream.read_exact(&mut buf)).await;
                let _ = t.join();
                (r.is_ok(), never.is_err(), start.elapsed())
            });
            assert_eq!((out.0, out.1), (true, true));
            assert_eq!(out.2, Duration::from_secs(1));
        }
    });
}

#[test]
fn a_zero_autojump_threshold_jumps_at_once_even_with_io_pending() {
    use minirt::time::Clock;
    bounded(Duration::from_secs(20), || {
        let clock = Clock::mock().autojump_threshold(Duration::ZERO);
        let rts = [
            minirt::Builder::current_thread()
                .clock(clock.clone())
                .build()
                .unwrap(),
            minirt::Builder::multi_thread()
                .worker_threads(2)
                .clock(clock)
                .build()
                .unwrap(),
        ];
        for rt in rts {
            let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
            let elapsed = rt.block_on(async move {
                let listener = minirt::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // The peer writes only after the test saw the timeout fire.
                let peer = std::thread::spawn(move || {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    release_rx.recv().unwrap();
                    use std::io::Write;
                    let _ = s.write_all(b"late");
                });
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4];
                let start = Instant::now();
                let r = time::timeout(Duration::from_secs(10), stream.read_exact(&mut buf)).await;
                assert!(
                    r.is_err(),
                    "with a zero threshold virtual time jumps at once"
                );
                release_tx.send(()).unwrap();
                peer.join().unwrap();
                start.elapsed()
            });
            assert_eq!(elapsed, Duration::from_secs(10));
        }
    });
}

#[test]
fn autojump_threshold_is_only_for_mock_clocks() {
    let err =
        std::panic::catch_unwind(|| minirt::time::Clock::real().autojump_threshold(Duration::ZERO));
    assert!(err.is_err());
}
