//! Scheduled calls on a scope (ayo's `after` / `at` / `every`, aiotools'
//! `create_timer`): a timer attached to the scope that starts a child per
//! firing, cancelled with the scope, and a [`ScheduledCall`] handle to
//! unschedule it.
//!
//! The timers are side tasks of the scope (see `side.rs`): `after` and `at`
//! hold the scope open until their call has fired and finished — like a
//! child that sleeps first — while an `every` timer, which never ends by
//! itself, is a daemon: it fires until it is unscheduled or until the
//! scope's other work is done, and then it and the runs it started are
//! cancelled together.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::clock::{self, Instant};
use super::handle::ScopeHandle;
use super::node::CancelNode;
use super::side::{Kind, SideKey};
use crate::time::{interval_at, MissedTickBehavior};

/// What an [`every`](ScopeHandle::every) timer does when a firing comes
/// while the previous run of the callback is still going (it overran its
/// period) — aiotools' `TimerDelayPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overrun {
    /// Start the new run anyway: runs overlap and accumulate, and all of
    /// them are cancelled when the timer is (aiotools' default).
    #[default]
    Keep,
    /// Skip the firing: at most one run at a time, the next one at the
    /// first tick after it ended (ticks stay on the original schedule).
    Skip,
    /// Cancel the overrunning run at the tick, wait until its future was
    /// dropped (its destructors ran), then start the new one — at the same
    /// instant (aiotools' `TimerDelayPolicy.CANCEL`).
    Cancel,
}

/// A handle to a scheduled call: [`cancel`](Self::cancel) unschedules it.
///
/// Dropping the handle does not unschedule anything (like dropping a
/// `JoinHandle` detaches, it does not abort). It is `Send`, `Sync` and
/// `'static`, whatever the scope's children borrow.
///
/// ```
/// use std::time::Duration;
/// use minirt::scope::Scope;
/// use minirt::time::{Clock, Instant};
///
/// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let scope = Scope::<()>::new();
///     let reminder = scope.after(Duration::from_secs(60), || async { unreachable!() });
///     scope.after(Duration::from_secs(5), move || async move { reminder.cancel() });
///     scope.join().await.unwrap();
///     assert_eq!(start.elapsed(), Duration::from_secs(5)); // nothing left to wait for
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ScheduledCall {
    /// `None` if the scope refused the call (finished or cancelled).
    timer: Option<(Arc<CancelNode>, SideKey)>,
}

impl ScheduledCall {
    /// Unschedules the call: no firing happens after this, and a run of the
    /// callback still going is cancelled (its future dropped at its
    /// `.await`, soon after this returns — at once if it is idle). For an
    /// [`every`](ScopeHandle::every) timer that is every run it started.
    /// Does nothing once the call has finished.
    pub fn cancel(&self) {
        if let Some((node, key)) = &self.timer {
            node.side.abort(*key);
        }
    }

    /// Whether the call is over: fired and finished (`after`, `at`),
    /// unscheduled and dropped, stopped with its scope, or never scheduled
    /// because the scope had finished or was cancelled.
    pub fn is_finished(&self) -> bool {
        match &self.timer {
            Some((node, key)) => !node.side.is_alive(*key),
            None => true,
        }
    }
}

impl fmt::Debug for ScheduledCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduledCall")
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<'env, T: Send + 'env> ScopeHandle<'env, T> {
    /// Calls `call` once, `delay` from now on the runtime's clock (real or
    /// mock), and runs the future it returns as a child of this scope.
    ///
    /// The pending call holds the scope open like a child: `join` waits for
    /// it to fire and finish, unless it is [cancelled](ScheduledCall::cancel)
    /// first. Like a [daemon](Self::spawn_daemon), the call has no slot in
    /// the results and does not take a `max_concurrency` slot; a panic in
    /// it stops a fail-fast scope and resumes in the owner. If the scope has
    /// finished or was cancelled, nothing is scheduled (`call` is dropped
    /// and the handle [is finished](ScheduledCall::is_finished)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use minirt::scope::Scope;
    /// use minirt::time::{Clock, Instant};
    ///
    /// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let (tx, rx) = minirt::sync::oneshot::channel();
    ///     let scope = Scope::<()>::new();
    ///     scope.after(Duration::from_secs(5), move || async move {
    ///         let _ = tx.send(start.elapsed());
    ///     });
    ///     scope.join().await.unwrap();
    ///     assert_eq!(rx.await.unwrap(), Duration::from_secs(5));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn after<M, F>(&self, delay: Duration, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'env,
        F: Future<Output = ()> + Send + 'env,
    {
        let now = clock::now_on(&self.state.handle);
        self.at(now.far_add(delay), call)
    }

    /// Like [`after`](Self::after), at the instant `when` of the runtime's
    /// clock (at once if it has passed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use minirt::scope::Scope;
    /// use minirt::time::{Clock, Instant};
    ///
    /// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let scope = Scope::<()>::new();
    ///     scope.at(start + Duration::from_secs(8), move || async move {
    ///         assert_eq!(start.elapsed(), Duration::from_secs(8));
    ///     });
    ///     scope.join().await.unwrap();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn at<M, F>(&self, when: Instant, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'env,
        F: Future<Output = ()> + Send + 'env,
    {
        let body = Box::pin(async move {
            clock::sleep_until(when).await;
            call().await;
        });
        self.schedule(Kind::Holding, body)
    }

    /// Like [`at`](Self::at) for a wall-clock time (a `SystemTime`, e.g.
    /// "at 03:00 UTC").
    ///
    /// **How the wall clock meets the runtime's clock.** `when` is converted
    /// once, when the call is scheduled, into a deadline on the runtime's
    /// clock: `now on the runtime's clock + (when − SystemTime::now())`, or
    /// now if `when` has passed. So on a real clock the call fires when the
    /// wall clock reads `when` — unless the wall clock is changed after
    /// scheduling (NTP steps, a manual change), which is not followed: the
    /// runtime's clock is monotonic. On a **mock clock** the wall-clock
    /// distance becomes virtual time: a call scheduled for one hour from the
    /// wall clock's now fires after one virtual hour (auto-advance jumps
    /// there at once), measured from the virtual instant it was scheduled at.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use minirt::scope::Scope;
    /// use minirt::time::{Clock, Instant};
    ///
    /// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let scope = Scope::<()>::new();
    ///     let in_an_hour = SystemTime::now() + Duration::from_secs(3600);
    ///     scope.at_system_time(in_an_hour, || async {});
    ///     scope.join().await.unwrap();
    ///     // One virtual hour, less the real time between the two `now()`s.
    ///     let waited = start.elapsed();
    ///     assert!(waited <= Duration::from_secs(3600) && waited > Duration::from_secs(3599));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn at_system_time<M, F>(&self, when: SystemTime, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'env,
        F: Future<Output = ()> + Send + 'env,
    {
        let delay = when
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        self.after(delay, call)
    }

    /// Calls `call` every `period` — the first time at once — and runs each
    /// future it returns as a child of this scope, in parallel with the
    /// timer; `overrun` says what happens when a run is still going at the
    /// next firing.
    ///
    /// Firings stay on the schedule `start + k * period` (`start` being when
    /// `every` was called, on the runtime's clock); a firing the timer could
    /// not make on time (a busy runtime) is dropped, not caught up. The
    /// timer is a [daemon](Self::spawn_daemon): it does not hold the scope
    /// open, and when the scope's other work is done it is cancelled along
    /// with every run it started. [`ScheduledCall::cancel`] does the same
    /// earlier. A panic in a run stops a fail-fast scope and resumes in
    /// the owner.
    ///
    /// # Panics
    ///
    /// If `period` is zero.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use minirt::scope::{Overrun, Scope};
    /// use minirt::time::{self, Clock, Instant};
    ///
    /// let rt = minirt::Builder::current_thread().clock(Clock::mock()).build()?;
    /// let fired = rt.block_on(async {
    ///     let start = Instant::now();
    ///     let fired = Arc::new(Mutex::new(Vec::new()));
    ///     let scope = Scope::new();
    ///     let log = fired.clone();
    ///     scope.every(Duration::from_secs(10), Overrun::Skip, move || {
    ///         log.lock().unwrap().push(start.elapsed().as_secs());
    ///         async { time::sleep(Duration::from_secs(15)).await } // overruns
    ///     });
    ///     // The work the timer lives beside: 50 virtual seconds.
    ///     scope.spawn(time::sleep(Duration::from_secs(50)));
    ///     scope.join().await.unwrap();
    ///     let fired = fired.lock().unwrap().clone();
    ///     fired
    /// });
    /// assert_eq!(fired, [0, 20, 40]); // 10 and 30 came while a run was going
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn every<M, F>(&self, period: Duration, overrun: Overrun, mut call: M) -> ScheduledCall
    where
        M: FnMut() -> F + Send + 'env,
        F: Future<Output = ()> + Send + 'env,
    {
        assert!(
            !period.is_zero(),
            "ScopeHandle::every: the period must be greater than zero"
        );
        let start = clock::now_on(&self.state.handle);
        let scope = self.clone();
        let at = std::panic::Location::caller();
        let body = Box::pin(async move {
            let mut ticks = interval_at(start, period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
            let mut runs = Runs {
                node: scope.state.node.clone(),
                keys: VecDeque::new(),
            };
            loop {
                ticks.tick().await;
                runs.forget_finished();
                match overrun {
                    Overrun::Keep => {}
                    Overrun::Skip if !runs.keys.is_empty() => continue,
                    Overrun::Skip => {}
                    Overrun::Cancel => runs.cancel_all_and_wait().await,
                }
                let run = Box::pin(call());
                match scope.state.spawn_side(Kind::Daemon, run, at) {
                    Some(key) => runs.keys.push_back(key),
                    // The scope is stopping its daemons: this timer is next.
                    None => return,
                }
            }
        });
        self.schedule(Kind::Daemon, body)
    }

    #[track_caller]
    fn schedule(&self, kind: Kind, body: super::state::BoxFuture<'env, ()>) -> ScheduledCall {
        let timer = self
            .state
            .spawn_side(kind, body, std::panic::Location::caller())
            .map(|key| (self.state.node.clone(), key));
        ScheduledCall { timer }
    }
}

/// The runs an `every` timer started and that may still be going; dropping
/// it (the timer was cancelled) cancels them.
struct Runs {
    node: Arc<CancelNode>,
    keys: VecDeque<SideKey>,
}

impl Runs {
    fn forget_finished(&mut self) {
        let side = &self.node.side;
        self.keys.retain(|key| side.is_alive(*key));
    }

    fn cancel_all(&mut self) {
        for key in self.keys.drain(..) {
            self.node.side.abort(key);
        }
    }
}

impl Runs {
    /// Cancels every run and waits until their futures were dropped, so
    /// the next run starts after the old one's destructors ran (aiotools
    /// awaits the cancelled task too). An aborted task is dropped by its
    /// runtime right away (after its current poll if it is running on
    /// another worker), so this yields only a few times.
    async fn cancel_all_and_wait(&mut self) {
        let cancelled: Vec<SideKey> = self.keys.iter().copied().collect();
        self.cancel_all();
        for key in cancelled {
            while self.node.side.is_alive(key) {
                crate::yield_now().await;
            }
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<T: Send + 'static> super::Scope<T> {
    /// See [`ScopeHandle::after`].
    #[track_caller]
    pub fn after<M, F>(&self, delay: Duration, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle().after(delay, call)
    }

    /// See [`ScopeHandle::at`].
    #[track_caller]
    pub fn at<M, F>(&self, when: Instant, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle().at(when, call)
    }

    /// See [`ScopeHandle::at_system_time`].
    #[track_caller]
    pub fn at_system_time<M, F>(&self, when: SystemTime, call: M) -> ScheduledCall
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle().at_system_time(when, call)
    }

    /// See [`ScopeHandle::every`].
    #[track_caller]
    pub fn every<M, F>(&self, period: Duration, overrun: Overrun, call: M) -> ScheduledCall
    where
        M: FnMut() -> F + Send + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        self.handle().every(period, overrun, call)
    }
}
