//! The multi-thread runtime's shape: one thread parks in the driver while
//! another polls the tasks, so every wake-up crosses threads.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Instant;

use common::{join, pattern};
use minirt_reactor::io::{AsyncReadExt, AsyncWriteExt};
use minirt_reactor::net::{TcpListener, TcpStream};
use minirt_reactor::Driver;

struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Polls `fut` on this thread while a second thread parks in the driver.
fn block_on_with_driver_thread<F: Future>(fut: F) -> F::Output {
    let mut driver = Driver::new().unwrap();
    let handle = driver.handle();
    let stop = Arc::new(AtomicBool::new(false));
    let driver_thread = {
        let stop = stop.clone();
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                driver.park(None).unwrap();
            }
        })
    };

    let state = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(true),
    });
    let waker = Waker::from(state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    let deadline = Instant::now() + common::DEADLINE;
    let output = handle.enter(|| loop {
        if state.woken.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                break out;
            }
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "cross-thread test still pending at its deadline (lost wake-up?)"
        );
        thread::park_timeout(deadline - now);
    });

    stop.store(true, Ordering::SeqCst);
    handle.unpark();
    driver_thread.join().unwrap();
    output
}

#[test]
fn echo_with_wakeups_from_the_driver_thread() {
    block_on_with_driver_thread(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for round in 0..20u8 {
            let data = pattern(64 * 1024 + round as usize, round);
            let server = async {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut got = Vec::new();
                stream.read_to_end(&mut got).await.unwrap();
                stream.write_all(&got).await.unwrap();
            };
            let client = async {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.write_all(&data).await.unwrap();
                stream.shutdown().await.unwrap();
                let mut echoed = Vec::new();
                stream.read_to_end(&mut echoed).await.unwrap();
                echoed
            };
            let ((), echoed) = join(server, client).await;
            assert!(echoed == data, "round {round}");
        }
    });
}
