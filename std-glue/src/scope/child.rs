//! `Child`: the future a scope actually spawns for each child. It makes the
//! child's future on first poll (for lazily-created children), polls it with
//! the scope as the thread's current scope (so nested scopes and
//! `current_deadline` find it), catches its panic, and reports the outcome
//! once the child's future has been dropped.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::node;
use super::outcome::Outcome;
use super::state::{Body, State};

pub(crate) struct Child<'env, T: Send + 'env> {
    /// Dropped before `reporter` (fields drop in declaration order, even
    /// while unwinding from a panicking destructor), so a cancelled child is
    /// reported only after its future's destructors ran.
    body: Option<Body<'env, T>>,
    reporter: Reporter<'env, T>,
}

/// Reports the child as cancelled if it is dropped before finishing.
struct Reporter<'env, T: Send + 'env> {
    state: Arc<State<'env, T>>,
    index: usize,
    reported: bool,
}

impl<'env, T: Send + 'env> Child<'env, T> {
    pub(crate) fn new(state: Arc<State<'env, T>>, index: usize, body: Body<'env, T>) -> Self {
        Child {
            body: Some(body),
            reporter: Reporter {
                state,
                index,
                reported: false,
            },
        }
    }

    /// Drops the child's future, then reports `outcome` (a panic while
    /// dropping turns a completion into a panic).
    fn finish(&mut self, mut outcome: Outcome<T>) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| self.body = None)) {
            if !outcome.is_panicked() {
                outcome = Outcome::Panicked(payload);
            }
        }
        self.reporter.reported = true;
        self.reporter.state.report(self.reporter.index, outcome);
    }
}

impl<'env, T: Send + 'env> Future for Child<'env, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let polled = {
            let _current = node::enter(&this.reporter.state.node);
            let body = &mut this.body;
            catch_unwind(AssertUnwindSafe(|| {
                if let Some(Body::Lazy(_)) = body {
                    let Some(Body::Lazy(make)) = body.take() else {
                        unreachable!()
                    };
                    *body = Some(Body::Ready(make()));
                }
                match body {
                    Some(Body::Ready(future)) => future.as_mut().poll(cx),
                    _ => unreachable!("a child is not polled after it finished"),
                }
            }))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => {
                this.finish(Outcome::Completed(value));
                Poll::Ready(())
            }
            Err(payload) => {
                this.finish(Outcome::Panicked(payload));
                Poll::Ready(())
            }
        }
    }
}

impl<'env, T: Send + 'env> Drop for Reporter<'env, T> {
    fn drop(&mut self) {
        if !self.reported {
            self.state.report(self.index, Outcome::Cancelled);
        }
    }
}
