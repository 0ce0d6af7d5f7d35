//! What a scope hands back: per-child [`Outcome`]s, and the [`Stopped`]
//! error that says a scope was cut short while keeping what did complete.

use std::fmt;

use minirt_core::task::PanicPayload;

/// How one child of a scope ended.
pub enum Outcome<T> {
    /// It ran to completion with this output.
    Completed(T),
    /// It panicked; the payload can be inspected or resumed.
    Panicked(PanicPayload),
    /// It was cancelled (or never started) because the scope stopped.
    Cancelled,
}

impl<T> Outcome<T> {
    /// The output, if the child completed.
    pub fn completed(self) -> Option<T> {
        match self {
            Outcome::Completed(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the child panicked.
    pub fn is_panicked(&self) -> bool {
        matches!(self, Outcome::Panicked(_))
    }

    /// Whether the child was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Outcome::Cancelled)
    }
}

impl<T: fmt::Debug> fmt::Debug for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed(v) => f.debug_tuple("Completed").field(v).finish(),
            Outcome::Panicked(_) => f.write_str("Panicked(..)"),
            Outcome::Cancelled => f.write_str("Cancelled"),
        }
    }
}

/// Why a scope stopped before all of its children completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// Its deadline (or an enclosing scope's) passed.
    TimedOut,
    /// `cancel()` was called, the owner was dropped, or the runtime shut down.
    Cancelled,
    /// A child failed (panicked, or returned `Err` in a `try` scope) and the
    /// scope is fail-fast.
    Failed,
}

/// A scope that was cut short: why, and the outputs of the children that
/// did complete, in spawn order (`None` for the others).
///
/// ```
/// # use minirt::scope::{Stopped, StopReason};
/// fn report(stopped: &Stopped<u32>) -> String {
///     let done = stopped.results.iter().flatten().count();
///     format!("{:?} after {done} of {} children", stopped.reason, stopped.results.len())
/// }
/// ```
pub struct Stopped<T> {
    /// Why the scope stopped.
    pub reason: StopReason,
    /// One entry per child in spawn order: `Some(output)` if it completed.
    pub results: Vec<Option<T>>,
}

impl<T> Stopped<T> {
    /// Whether the scope hit its deadline.
    pub fn timed_out(&self) -> bool {
        self.reason == StopReason::TimedOut
    }

    /// The outputs of the children that completed, in spawn order.
    pub fn completed(self) -> impl Iterator<Item = T> {
        self.results.into_iter().flatten()
    }
}

impl<T> fmt::Debug for Stopped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stopped")
            .field("reason", &self.reason)
            .field("completed", &self.results.iter().flatten().count())
            .field("children", &self.results.len())
            .finish()
    }
}

impl<T> fmt::Display for Stopped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.reason {
            StopReason::TimedOut => "timed out",
            StopReason::Cancelled => "was cancelled",
            StopReason::Failed => "stopped after a child failed",
        };
        let done = self.results.iter().flatten().count();
        write!(
            f,
            "scope {what}; {done} of {} children completed",
            self.results.len()
        )
    }
}

impl<T> std::error::Error for Stopped<T> {}

/// Why a `try` scope did not return every child's `Ok` value.
pub enum TryJoinError<V, E> {
    /// The `Err` of the child whose failure stopped a fail-fast scope (its
    /// siblings were cancelled); in a supervisor (or a scope built without
    /// `build_try`, where `Err` is no failure), the first `Err` in spawn
    /// order (not necessarily the first one returned).
    Failed(E),
    /// The scope timed out or was cancelled first.
    Stopped(Stopped<Result<V, E>>),
}

impl<V, E: fmt::Debug> fmt::Debug for TryJoinError<V, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryJoinError::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            TryJoinError::Stopped(s) => f.debug_tuple("Stopped").field(s).finish(),
        }
    }
}

/// Every child's outcome in spawn order, for supervisors.
pub struct Report<T> {
    /// One entry per child, in spawn order.
    pub outcomes: Vec<Outcome<T>>,
    /// Why the scope stopped early, if it did.
    pub stopped: Option<StopReason>,
}

impl<T: fmt::Debug> fmt::Debug for Report<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Report")
            .field("outcomes", &self.outcomes)
            .field("stopped", &self.stopped)
            .finish()
    }
}

/// Everything a finished scope knows, before it is shaped for the caller.
pub(crate) struct Finished<T> {
    /// `None` for outcomes already taken by `next_completed`.
    pub(crate) outcomes: Vec<Option<Outcome<T>>>,
    pub(crate) stopped: Option<StopReason>,
    /// Index of the child whose failure stopped a fail-fast scope.
    pub(crate) failure: Option<usize>,
    /// The panic of a daemon child or a scheduled call (see `side.rs`):
    /// it has no slot in the results, so every shape resumes it.
    pub(crate) side_panic: Option<PanicPayload>,
}

impl<T> Finished<T> {
    /// Resumes the failing child's panic in the caller, if there is one.
    pub(crate) fn resume_failed_panic(&mut self) {
        self.resume_side_panic();
        if let Some(i) = self.failure {
            if let Some(Outcome::Panicked(_)) = self.outcomes[i] {
                let Some(Outcome::Panicked(payload)) = self.outcomes[i].take() else {
                    unreachable!()
                };
                // Drop the other outputs before unwinding into the owner.
                self.outcomes.clear();
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// Fail-fast shape: every output, or why not (a panic resumes).
    pub(crate) fn into_result(mut self) -> Result<Vec<T>, Stopped<T>> {
        self.resume_failed_panic();
        // A supervisor's panicked children resume here too: this shape has
        // no place for them (use `outcomes()` to keep them as values).
        if let Some(i) = self
            .outcomes
            .iter()
            .position(|o| matches!(o, Some(Outcome::Panicked(_))))
        {
            let Some(Outcome::Panicked(payload)) = self.outcomes[i].take() else {
                unreachable!()
            };
            self.outcomes.clear();
            std::panic::resume_unwind(payload);
        }
        let results = self.outcomes.into_iter().flatten().map(Outcome::completed);
        match self.stopped {
            None => Ok(results
                .map(|r| r.expect("no child stopped early"))
                .collect()),
            Some(reason) => Err(Stopped {
                reason,
                results: results.collect(),
            }),
        }
    }

    /// Resumes a side task's panic in the caller, if there is one.
    fn resume_side_panic(&mut self) {
        if let Some(payload) = self.side_panic.take() {
            self.outcomes.clear();
            std::panic::resume_unwind(payload);
        }
    }

    /// Supervisor shape: every outcome, nothing resumed (but a side task's
    /// panic, which has no outcome to be kept in).
    pub(crate) fn into_report(mut self) -> Report<T> {
        self.resume_side_panic();
        Report {
            outcomes: self.outcomes.into_iter().flatten().collect(),
            stopped: self.stopped,
        }
    }
}

impl<V, E> Finished<Result<V, E>> {
    /// `try` shape: the `Ok` values, the first `Err`, or why not.
    pub(crate) fn into_try_result(mut self) -> Result<Vec<V>, TryJoinError<V, E>> {
        self.resume_failed_panic();
        if let Some(i) = self.failure {
            if let Some(Outcome::Completed(Err(_))) = self.outcomes[i] {
                let Some(Outcome::Completed(Err(e))) = self.outcomes[i].take() else {
                    unreachable!()
                };
                return Err(TryJoinError::Failed(e));
            }
        }
        if self.stopped.is_none() {
            // A supervisor: report the first `Err` in spawn order, if any.
            let mut values = Vec::with_capacity(self.outcomes.len());
            for outcome in self.outcomes.into_iter().flatten() {
                match outcome {
                    Outcome::Completed(Ok(v)) => values.push(v),
                    Outcome::Completed(Err(e)) => return Err(TryJoinError::Failed(e)),
                    Outcome::Panicked(p) => std::panic::resume_unwind(p),
                    Outcome::Cancelled => {
                        unreachable!("a scope not stopped has no cancelled child")
                    }
                }
            }
            return Ok(values);
        }
        match self.into_result() {
            Ok(_) => unreachable!("stopped scopes give Err"),
            Err(stopped) => Err(TryJoinError::Stopped(stopped)),
        }
    }
}
