use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

/// Lets other tasks run: the first poll wakes itself and returns `Pending`,
/// the second returns `Ready`.
///
/// Executors treat a task that wakes itself during its poll as a yield and
/// put it behind the other ready tasks.
///
/// ```
/// # minirt_core::executor::LocalExecutor::new().block_on(async {
/// minirt_core::future::yield_now().await;
/// # }, || {});
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
