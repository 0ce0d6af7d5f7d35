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
