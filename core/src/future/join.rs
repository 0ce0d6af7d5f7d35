//! `join!`: await a fixed set of futures of different types at once.
//!
//! `join_all` needs every future to have the same type; `join!` takes any
//! futures and returns a tuple. It needs no allocation: the futures are
//! pinned on the awaiting future's own state, each wrapped in a
//! [`MaybeDone`](crate::future::MaybeDone) that keeps its output until all
//! are done.
//!
//! The macro munches its arguments one by one, binding each to a local
//! named `future`; macro hygiene makes every recursion level's `future` a
//! distinct variable, so no counting or generated names are needed. Paths
//! go through `$crate`, so it works in `no_std` crates.

/// Awaits all the given futures concurrently and returns a tuple of their
/// outputs, in argument order.
///
/// Use it inside `async` code: it expands to an `.await`. It takes one or
/// more futures (up to the compiler's recursion limit, more than a hundred).
/// All of them are polled on every wake-up of the awaiting task, which is
/// right for a handful of futures; for a large collection use
/// [`join_all`](crate::future::join_all), which polls only the woken ones.
///
/// Dropping the awaiting future drops (cancels) every future that has not
/// finished.
///
/// ```
/// use minirt_core::executor::LocalExecutor;
/// use minirt_core::future::yield_now;
///
/// let (number, text, ()) = LocalExecutor::new().block_on(
///     async {
///         minirt_core::join!(
///             async {
///                 yield_now().await;
///                 1
///             },
///             async { "two" },
///             yield_now(),
///         )
///     },
///     || {},
/// );
/// assert_eq!((number, text), (1, "two"));
/// ```
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::join!(@bind [] $($future,)+)
    };
    // Bind the next future to a fresh (hygienic) local.
    (@bind [$($bound:tt)*] $head:expr, $($rest:expr,)*) => {
        $crate::join!(@bind [$($bound)* (future $head)] $($rest,)*)
    };
    // All bound: poll them until every one is done.
    (@bind [$(($name:ident $future:expr))+]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::future::MaybeDone::new($future));
        )+
        ::core::future::poll_fn(move |cx| {
            let mut all_done = true;
            $(
                all_done &= $name.as_mut().poll_done(cx);
            )+
            if !all_done {
                return ::core::task::Poll::Pending;
            }
            ::core::task::Poll::Ready(($(
                $name
                    .as_mut()
                    .take_output()
                    .expect("`join!` polled after completion"),
            )+))
        })
        .await
    }};
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::executor::LocalExecutor;
    use crate::future::test_util::yield_times;
    use core::cell::Cell;

    #[test]
    fn joins_one() {
        let out = LocalExecutor::new().block_on(async { crate::join!(async { 5 }) }, || {});
        assert_eq!(out, (5,));
    }

    #[test]
    fn joins_two_concurrently() {
        let started = Cell::new(0);
        let task = |n: usize| {
            let started = &started;
            async move {
                started.set(started.get() + 1);
                yield_times(n).await;
                (n, started.get())
            }
        };
        let out = LocalExecutor::new().block_on(async { crate::join!(task(3), task(1)) }, || {});
        // Each saw the other start before it finished.
        assert_eq!(out, ((3, 2), (1, 2)));
    }

    #[test]
    fn joins_twelve_of_different_types_in_order() {
        let finished = Cell::new(0u32);
        let done = |n: usize| {
            let finished = &finished;
            async move {
                yield_times(12 - n).await;
                finished.set(finished.get() + 1);
                finished.get()
            }
        };
        let out = LocalExecutor::new().block_on(
            async {
                crate::join!(
                    done(0),
                    async { "one" },
                    done(2),
                    done(3),
                    async { 4u8 },
                    done(5),
                    done(6),
                    done(7),
                    done(8),
                    done(9),
                    done(10),
                    async {
                        yield_times(2).await;
                        'c'
                    },
                )
            },
            || {},
        );
        // Later arguments yield fewer times, so they finish first; the tuple
        // still follows argument order.
        assert_eq!(out, (9, "one", 8, 7, 4u8, 6, 5, 4, 3, 2, 1, 'c'));
    }

    #[test]
    fn dropping_cancels_all() {
        use crate::future::test_util::DropCounter;
        use core::future::Future;
        use core::pin::pin;
        use core::task::{Context, Waker};

        let drops = DropCounter::new();
        {
            let (g1, g2) = (drops.guard(), drops.guard());
            let joined = pin!(async move {
                crate::join!(
                    async move {
                        let _g = g1;
                        core::future::pending::<()>().await
                    },
                    async move {
                        let _g = g2;
                    },
                )
            });
            let mut cx = Context::from_waker(Waker::noop());
            assert!(joined.poll(&mut cx).is_pending());
            assert_eq!(drops.get(), 1, "the finished one dropped its guard");
        }
        assert_eq!(drops.get(), 2);
    }
}
