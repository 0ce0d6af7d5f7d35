//! A tiny test executor over the bare driver (the tests must not depend on `minirt`).
//!
//! `Rt::block_on` polls the future, and while it is pending parks in the
//! driver; the waker calls `Handle::unpark`. Every run has a deadline checked
//! in the loop, so a lost wake-up fails the test with a message instead of
//! hanging CI.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use minirt_reactor::{Driver, Handle};

/// Default time budget of one `block_on`.
pub const DEADLINE: Duration = Duration::from_secs(20);

struct Unpark(Handle);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A driver plus the loop that runs a future on it.
pub struct Rt {
    pub driver: Driver,
}

impl Rt {
    pub fn new() -> Rt {
        Rt {
            driver: Driver::new().expect("driver"),
        }
    }

    pub fn handle(&self) -> Handle {
        self.driver.handle()
    }

    pub fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        self.block_on_within(DEADLINE, fut)
    }

    pub fn block_on_within<F: Future>(&mut self, budget: Duration, fut: F) -> F::Output {
        let handle = self.driver.handle();
        let waker = Waker::from(Arc::new(Unpark(handle.clone())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = std::pin::pin!(fut);
        let deadline = Instant::now() + budget;
        handle.enter(|| loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("test future still pending after its {budget:?} deadline (lost wake-up?)");
            }
            self.driver.park(Some(deadline - now)).expect("park");
        })
    }
}

/// Runs `fut` on a fresh driver.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    Rt::new().block_on(fut)
}

/// Polls two futures concurrently; resolves to both outputs.
pub async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let mut out_a = None;
    let mut out_b = None;
    std::future::poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// A boxed future, for `join_all`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Polls all futures concurrently; resolves to their outputs in input order.
pub async fn join_all<'a, T>(futs: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    let mut futs: Vec<Option<BoxFuture<'a, T>>> = futs.into_iter().map(Some).collect();
    let mut outs: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (fut, out) in futs.iter_mut().zip(outs.iter_mut()) {
            if let Some(f) = fut {
                if let Poll::Ready(v) = f.as_mut().poll(cx) {
                    *out = Some(v);
                    *fut = None;
                }
            }
        }
        if futs.iter().all(Option::is_none) {
            Poll::Ready(outs.iter_mut().map(|o| o.take().unwrap()).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Deterministic test data of `len` bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}
