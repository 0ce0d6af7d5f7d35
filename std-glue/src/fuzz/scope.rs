//! A byte-coded model check of the scope state machine — spawn, complete,
//! panic, cancel, timeout, nesting — for `cargo fuzz` (target `scope`) and a
//! pseudo-random unit test.
//!
//! Why: a scope's guarantees (results in spawn order, fail-fast or
//! supervisor, a concurrency limit, timeouts that fire exactly at the
//! deadline, nested scopes held open and cancelled with their parent, every
//! child dropped before `join` returns) interact in more ways than tests
//! written by hand cover.
//!
//! How: each program drives a real [`Scope`] on a current-thread runtime
//! with the mock clock, whose children are probes that only do what the
//! program tells them (stay pending, complete, panic, sleep, cancel their
//! scope, open a nested scope). After every step the driver lets the runtime
//! go idle, then runs the same step in a model of the documented behaviour
//! and checks that both agree: every child's state, outcome and the virtual
//! times it started and ended, `is_cancelled`, `deadline`,
//! `current_deadline`, `spawn`'s return value, `next_completed` and what
//! `join`, `outcomes` or `try_join` return — for the nested scopes too.
//!
//! Timers that fire at the same virtual instant may run in any order, which
//! the docs leave open; so probes pick sleep deadlines (and nested scopes
//! their own deadlines) that no other timer uses, bumping them by a
//! millisecond if needed. The only ties left are a nested scope's deadline
//! inherited from an enclosing one, where the outer cancellation drops the
//! inner scope whatever the order.

use std::any::Any;
use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::{install_panic_hook, PLANNED};
use crate::scope::{
    current_deadline, Options, Outcome, Report, Scope, ScopeHandle, StopReason, Stopped,
    TryJoinError,
};
use crate::time::{self, Instant};
use crate::Builder;

/// What every child returns: `Err` is a failure in a `try` scope (built with
/// `build_try`), an ordinary value otherwise.
type Val = Result<u32, u32>;

/// Most probes the program spawns (more spawn steps are skipped).
const MAX_PROBES: usize = 24;

/// Nested scopes go at most this deep (the top scope is depth 0).
const MAX_DEPTH: usize = 2;

/// Virtual time after which the final `join` counts as hung (longer than
/// any program can advance the clock).
const HANG: Duration = Duration::from_secs(10 * 3600);

/// The bytes of a program; reads past the end give `None` (or 0).
struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn next(&mut self) -> Option<u8> {
        let b = self.data.get(self.pos).copied();
        self.pos += 1;
        b
    }

    fn arg(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }
}

/// How the owner of a scope ends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JoinKind {
    Join,
    Outcomes,
    TryJoin,
}

/// A scope's settings, decoded from one byte (and a timeout byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ScopeOpts {
    max: Option<usize>,
    /// Relative, in virtual ms (at least 1, so it never fires at creation).
    timeout: Option<u64>,
    supervise: bool,
    try_: bool,
    join: JoinKind,
}

impl ScopeOpts {
    /// Bits 0-1: `max_concurrency` (0 = none); bit 2: supervisor; bit 3:
    /// `build_try`; bit 4: a timeout (the next byte + 1 ms); bits 5-6: how
    /// the owner ends it (join, outcomes, try_join; 3 = join for nested
    /// scopes, dropping the `Scope` for the top one).
    fn decode(b: u8, bytes: &mut Bytes<'_>) -> ScopeOpts {
        let timeout = (b & 16 != 0).then(|| 1 + u64::from(bytes.arg()));
        ScopeOpts {
            max: match b & 3 {
                0 => None,
                n => Some(usize::from(n)),
            },
            timeout,
            supervise: b & 4 != 0,
            try_: b & 8 != 0,
            join: match (b >> 5) & 3 {
                1 => JoinKind::Outcomes,
                2 => JoinKind::TryJoin,
                _ => JoinKind::Join,
            },
        }
    }

    fn limit(&self) -> usize {
        self.max.unwrap_or(usize::MAX)
    }

    /// Builds the scope, with `timeout` in place of `self.timeout` (a
    /// nested scope may have bumped its deadline off a taken instant).
    fn build(&self, timeout: Option<u64>) -> Scope<Val> {
        let mut options = Options::new();
        if let Some(n) = self.max {
            options = options.max_concurrency(n);
        }
        if let Some(ms) = timeout {
            options = options.timeout(Duration::from_millis(ms));
        }
        if self.supervise {
            options = options.supervisor();
        }
        if self.try_ {
            options.build_try()
        } else {
            options.build()
        }
    }
}

/// What a probe does at its first poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Nothing: waits to be told.
    Pend,
    ReadyOk,
    ReadyErr,
    Panic,
    /// Sleeps this many virtual ms, then completes with `Ok` (unless told
    /// otherwise first).
    Sleep(u64),
    /// Opens a nested scope (published for the program to spawn into and
    /// cancel); when told to complete, ends it the way its options say and
    /// completes with `Ok` if that gave no error, `Err` if it did.
    Nested(ScopeOpts),
}

/// What the program tells a probe; each probe is told at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tell {
    /// Complete with `Ok` (a nested probe: end its scope).
    Ok,
    /// Complete with `Err` (a nested probe: end its scope).
    Err,
    Panic,
    /// Cancel the probe's own scope from inside, then complete (as `Ok`) in
    /// the same poll or stay pending (and be cancelled).
    Cancel {
        then_complete: bool,
    },
}

/// How a probe ended, as it saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fin {
    Returned(Val),
    Panicked,
    /// Dropped after it started, before it finished: cancelled.
    Dropped,
}

/// What the owner of a scope got from ending it, in a comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Summary {
    /// `join`: `Ok`.
    Values(Vec<Val>),
    /// `join`: `Err(Stopped)`.
    Stopped(StopReason, Vec<Option<Val>>),
    /// `outcomes`.
    Report(Vec<MOut>, Option<StopReason>),
    /// `try_join`: `Ok`.
    TryValues(Vec<u32>),
    /// `try_join`: `Err(Failed)`.
    TryFailed(u32),
    /// `try_join`: `Err(Stopped)`.
    TryStopped(StopReason, Vec<Option<Val>>),
    /// The call resumed the panic of this probe.
    Resumed(usize),
}

/// A child's outcome; a panic is named by the probe that panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
enum MOut {
    Completed(Val),
    Panicked(usize),
    Cancelled,
}

fn val(ok: bool, id: usize) -> Val {
    let id = u32::try_from(id).expect("few probes");
    if ok {
        Ok(id)
    } else {
        Err(id)
    }
}

/// The probe whose planned panic this payload is (`usize::MAX` if none).
fn payload_id(payload: &(dyn Any + Send)) -> usize {
    payload
        .downcast_ref::<String>()
        .and_then(|s| s.strip_prefix(PLANNED))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(usize::MAX)
}

fn outcome_of(outcome: Outcome<Val>) -> MOut {
    match outcome {
        Outcome::Completed(v) => MOut::Completed(v),
        Outcome::Panicked(p) => MOut::Panicked(payload_id(&*p)),
        Outcome::Cancelled => MOut::Cancelled,
    }
}

fn summarize_join(r: Result<Vec<Val>, Stopped<Val>>) -> Summary {
    match r {
        Ok(values) => Summary::Values(values),
        Err(stopped) => Summary::Stopped(stopped.reason, stopped.results),
    }
}

fn summarize_report(r: Report<Val>) -> Summary {
    Summary::Report(r.outcomes.into_iter().map(outcome_of).collect(), r.stopped)
}

fn summarize_try(r: Result<Vec<u32>, TryJoinError<u32, u32>>) -> Summary {
    match r {
        Ok(values) => Summary::TryValues(values),
        Err(TryJoinError::Failed(e)) => Summary::TryFailed(e),
        Err(TryJoinError::Stopped(s)) => Summary::TryStopped(s.reason, s.results),
    }
}

/// What a nested probe returns once it ended its scope.
fn value_after(summary: &Summary, owner: usize) -> MOut {
    match summary {
        Summary::Resumed(p) => MOut::Panicked(*p),
        Summary::Values(_) | Summary::Report(..) | Summary::TryValues(_) => {
            MOut::Completed(val(true, owner))
        }
        Summary::Stopped(..) | Summary::TryFailed(_) | Summary::TryStopped(..) => {
            MOut::Completed(val(false, owner))
        }
    }
}

fn min_deadline(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

// ---------------------------------------------------------------------------
// The real side: probes and what they share with the program.
// ---------------------------------------------------------------------------

/// What a probe recorded about itself (the model's observations).
#[derive(Clone, Debug, Default)]
struct Obs {
    /// Virtual ms of its first poll.
    started: Option<u64>,
    /// `current_deadline()` at its first poll (ms).
    seen_deadline: Option<Option<u64>>,
    /// Where its sleep ends (ms), once it started one.
    sleep_deadline: Option<u64>,
    /// The scope it opened (index into `World::scopes`).
    nested: Option<usize>,
    /// That scope's own deadline (ms), if it has a timeout.
    own_deadline: Option<u64>,
    /// How and when (ms) it ended.
    fin: Option<(Fin, u64)>,
    /// Its future (or the closure that makes it) was dropped.
    dropped: bool,
    /// What ending its nested scope gave.
    summary: Option<Summary>,
}

struct Rec {
    scope: usize,
    tell: Option<Tell>,
    waker: Option<Waker>,
    obs: Obs,
}

struct ScopeRec {
    handle: ScopeHandle<'static, Val>,
    /// The probe that opened it (`None` for the top scope).
    owner: Option<usize>,
    limit: usize,
}

/// Shared by the program and every probe. Nothing that may drop a probe
/// (spawning, cancelling, dropping a scope or a waker) is done under its
/// lock: a probe's destructor takes it.
struct World {
    probes: Vec<Rec>,
    scopes: Vec<ScopeRec>,
    /// Every timer deadline in use (ms): sleeps and scope deadlines.
    reserved: BTreeSet<u64>,
    /// Contract violations seen by probes (a panic there would be caught by
    /// the scope and look like a planned one).
    violations: Vec<String>,
}

type Shared = Arc<Mutex<World>>;

fn lock(world: &Shared) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms(start: Instant) -> u64 {
    u64::try_from((Instant::now() - start).as_millis()).unwrap_or(u64::MAX)
}

fn since(start: Instant, t: Instant) -> u64 {
    u64::try_from((t - start).as_millis()).unwrap_or(u64::MAX)
}

/// Counts probes alive: made with a probe (or with the closure of
/// `spawn_with`), marks it dropped when dropped.
struct Token {
    id: usize,
    world: Shared,
    live: Arc<AtomicUsize>,
}

impl Token {
    fn new(id: usize, world: &Shared, live: &Arc<AtomicUsize>) -> Token {
        live.fetch_add(1, SeqCst);
        Token {
            id,
            world: world.clone(),
            live: live.clone(),
        }
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        lock(&self.world).probes[self.id].obs.dropped = true;
        self.live.fetch_sub(1, SeqCst);
    }
}

type JoinFuture = Pin<Box<dyn Future<Output = Summary> + Send>>;

/// A child that does only what its kind and the program's tells say, and
/// records what happened to it.
struct Probe {
    id: usize,
    kind: Kind,
    start: Instant,
    world: Shared,
    started: bool,
    done: bool,
    sleep: Option<time::Sleep>,
    nested: Option<Scope<Val>>,
    join: Option<JoinFuture>,
    /// Last, so it is dropped after the nested scope.
    _token: Token,
}

impl Probe {
    fn new(token: Token, kind: Kind, start: Instant) -> Probe {
        Probe {
            id: token.id,
            kind,
            start,
            world: token.world.clone(),
            started: false,
            done: false,
            sleep: None,
            nested: None,
            join: None,
            _token: token,
        }
    }

    fn violation(&self, what: String) {
        lock(&self.world).violations.push(what);
    }

    fn complete(&mut self, v: Val) -> Poll<Val> {
        let now = now_ms(self.start);
        self.done = true;
        lock(&self.world).probes[self.id].obs.fin = Some((Fin::Returned(v), now));
        Poll::Ready(v)
    }

    fn panic(&mut self) -> ! {
        let now = now_ms(self.start);
        self.done = true;
        lock(&self.world).probes[self.id].obs.fin = Some((Fin::Panicked, now));
        panic!("{PLANNED} {}", self.id);
    }

    /// The first poll: record it, check the concurrency limit, act out the
    /// kind. `Some` if the probe finished.
    fn begin(&mut self) -> Option<Poll<Val>> {
        let now = now_ms(self.start);
        let deadline = current_deadline().map(|d| since(self.start, d));
        {
            let mut w = lock(&self.world);
            let scope = w.probes[self.id].scope;
            let running = w
                .probes
                .iter()
                .filter(|r| r.scope == scope && r.obs.started.is_some() && r.obs.fin.is_none())
                .count();
            let limit = w.scopes[scope].limit;
            if running >= limit {
                let what = format!(
                    "probe {} started at {now} ms while {running} siblings were running \
                     (max_concurrency {limit})",
                    self.id
                );
                w.violations.push(what);
            }
            let obs = &mut w.probes[self.id].obs;
            obs.started = Some(now);
            obs.seen_deadline = Some(deadline);
        }
        match self.kind {
            Kind::Pend => {}
            Kind::ReadyOk => return Some(self.complete(val(true, self.id))),
            Kind::ReadyErr => return Some(self.complete(val(false, self.id))),
            Kind::Panic => self.panic(),
            Kind::Sleep(ms) => {
                let mut w = lock(&self.world);
                let mut at = now + ms;
                while w.reserved.contains(&at) {
                    at += 1;
                }
                w.reserved.insert(at);
                w.probes[self.id].obs.sleep_deadline = Some(at);
                drop(w);
                self.sleep = Some(time::sleep_until(self.start + Duration::from_millis(at)));
            }
            Kind::Nested(opts) => {
                // An own deadline no other timer uses, unless the inherited
                // one is earlier anyway.
                let own = opts.timeout.map(|ms| {
                    let mut w = lock(&self.world);
                    let inherited = deadline.unwrap_or(u64::MAX);
                    let mut at = now + ms;
                    while at < inherited && w.reserved.contains(&at) {
                        at += 1;
                    }
                    if at < inherited {
                        w.reserved.insert(at);
                    }
                    at
                });
                let scope = opts.build(own.map(|at| at - now));
                let handle = scope.handle();
                let mut w = lock(&self.world);
                let sid = w.scopes.len();
                w.scopes.push(ScopeRec {
                    handle,
                    owner: Some(self.id),
                    limit: opts.limit(),
                });
                let obs = &mut w.probes[self.id].obs;
                obs.nested = Some(sid);
                obs.own_deadline = own;
                drop(w);
                self.nested = Some(scope);
            }
        }
        None
    }

    /// Acts on a tell; `Some` if the probe finished.
    fn act(&mut self, tell: Tell, cx: &mut Context<'_>) -> Option<Poll<Val>> {
        match tell {
            Tell::Ok | Tell::Err => {
                let Some(scope) = self.nested.take() else {
                    return Some(self.complete(val(tell == Tell::Ok, self.id)));
                };
                let Kind::Nested(opts) = self.kind else {
                    unreachable!("only nested probes own a scope")
                };
                self.join = Some(match opts.join {
                    JoinKind::Join => Box::pin(async move { summarize_join(scope.join().await) }),
                    JoinKind::Outcomes => {
                        Box::pin(async move { summarize_report(scope.outcomes().await) })
                    }
                    JoinKind::TryJoin => {
                        Box::pin(async move { summarize_try(scope.try_join().await) })
                    }
                });
                self.poll_join(cx)
            }
            Tell::Panic => self.panic(),
            Tell::Cancel { then_complete } => {
                let handle = {
                    let w = lock(&self.world);
                    w.scopes[w.probes[self.id].scope].handle.clone()
                };
                handle.cancel();
                drop(handle);
                if then_complete {
                    self.act(Tell::Ok, cx)
                } else {
                    None
                }
            }
        }
    }

    /// Polls the end of the nested scope; `Some` once it ended.
    fn poll_join(&mut self, cx: &mut Context<'_>) -> Option<Poll<Val>> {
        let join = self.join.as_mut().expect("joining");
        let polled = panic::catch_unwind(AssertUnwindSafe(|| join.as_mut().poll(cx)));
        let (summary, payload) = match polled {
            Ok(Poll::Pending) => return None,
            Ok(Poll::Ready(summary)) => (summary, None),
            Err(payload) => (Summary::Resumed(payload_id(&*payload)), Some(payload)),
        };
        self.join = None;
        self.check_subtree_dropped();
        lock(&self.world).probes[self.id].obs.summary = Some(summary.clone());
        if let Some(payload) = payload {
            let now = now_ms(self.start);
            self.done = true;
            lock(&self.world).probes[self.id].obs.fin = Some((Fin::Panicked, now));
            panic::resume_unwind(payload);
        }
        match value_after(&summary, self.id) {
            MOut::Completed(v) => Some(self.complete(v)),
            other => unreachable!("{other:?}"),
        }
    }

    /// The scope's contract: when its owner's `join` returns, every child
    /// and every child of a scope nested in it has been dropped.
    fn check_subtree_dropped(&self) {
        let w = lock(&self.world);
        let Some(sid) = w.probes[self.id].obs.nested else {
            return;
        };
        let alive: Vec<usize> = (0..w.probes.len())
            .filter(|&p| !w.probes[p].obs.dropped && in_subtree(&w, w.probes[p].scope, sid))
            .collect();
        drop(w);
        if !alive.is_empty() {
            self.violation(format!(
                "the nested scope {sid} of probe {} ended while probes {alive:?} inside it \
                 were alive",
                self.id
            ));
        }
    }
}

/// Whether scope `s` is `root` or nested (at any depth) in it.
fn in_subtree(w: &World, mut s: usize, root: usize) -> bool {
    loop {
        if s == root {
            return true;
        }
        match w.scopes[s].owner {
            Some(p) => s = w.probes[p].scope,
            None => return false,
        }
    }
}

impl Future for Probe {
    type Output = Val;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Val> {
        let this = self.get_mut();
        if this.done {
            let what = format!("probe {} was polled after it completed", this.id);
            this.violation(what);
            return Poll::Pending;
        }
        if !this.started {
            this.started = true;
            if let Some(out) = this.begin() {
                return out;
            }
        }
        if this.join.is_some() {
            // Tells are ignored while the nested scope ends.
            if let Some(out) = this.poll_join(cx) {
                return out;
            }
        } else {
            let tell = lock(&this.world).probes[this.id].tell.take();
            if let Some(tell) = tell {
                if let Some(out) = this.act(tell, cx) {
                    return out;
                }
            }
            if let Some(sleep) = &mut this.sleep {
                if Pin::new(sleep).poll(cx).is_ready() {
                    let id = this.id;
                    return this.complete(val(true, id));
                }
            }
        }
        let old = lock(&this.world).probes[this.id]
            .waker
            .replace(cx.waker().clone());
        drop(old);
        Poll::Pending
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.started && !self.done {
            let now = now_ms(self.start);
            lock(&self.world).probes[self.id].obs.fin = Some((Fin::Dropped, now));
        }
        let waker = lock(&self.world).probes[self.id].waker.take();
        drop(waker);
        // Then the fields: the nested scope (cancelling its children), the
        // token last.
    }
}

/// Polls a future, catching a panic (a resumed child panic in `join`).
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().0.as_mut();
        match panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

// ---------------------------------------------------------------------------
// The model.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PState {
    /// `spawn` returned `None`: dropped unpolled at once.
    Refused,
    /// Waiting for a concurrency slot.
    Queued,
    Running,
    Done,
}

#[derive(Clone, Debug)]
struct MProbe {
    scope: usize,
    kind: Kind,
    state: PState,
    /// A tell not acted on yet.
    tell: Option<Tell>,
    told: bool,
    started_at: Option<u64>,
    /// What `current_deadline()` must say in its first poll.
    expect_deadline: Option<u64>,
    sleep_deadline: Option<u64>,
    nested: Option<usize>,
    joining: bool,
    outcome: Option<MOut>,
    finished_at: Option<u64>,
    /// The step (or timer instant) it finished in: `next_completed` hands
    /// out earlier steps first, a step's completions in any order.
    group: u64,
    /// Taken by `next_completed`.
    taken: bool,
}

#[derive(Clone, Debug)]
struct MScope {
    owner: Option<usize>,
    depth: usize,
    opts: ScopeOpts,
    /// Effective deadline (ms).
    deadline: Option<u64>,
    /// Probe ids by spawn index.
    children: Vec<usize>,
    queue: VecDeque<usize>,
    reason: Option<StopReason>,
    /// The child whose failure stopped this fail-fast scope.
    failure: Option<usize>,
    /// Its owner waits for the end.
    joining: bool,
    /// Finished or abandoned: spawning is refused.
    closed: bool,
    /// Its owner dropped it before it finished.
    abandoned: bool,
    summary: Option<Summary>,
    finished_at: Option<u64>,
}

impl MScope {
    fn new(owner: Option<usize>, depth: usize, opts: ScopeOpts, deadline: Option<u64>) -> Self {
        MScope {
            owner,
            depth,
            opts,
            deadline,
            children: Vec::new(),
            queue: VecDeque::new(),
            reason: None,
            failure: None,
            joining: false,
            closed: false,
            abandoned: false,
            summary: None,
            finished_at: None,
        }
    }
}

/// What the docs say the runtime does, step by step. Parameters chosen at
/// run time (where a sleep ends, which scope index a nested scope got) are
/// read from `obs`, the probes' records after the real step.
struct Model {
    now: u64,
    group: u64,
    probes: Vec<MProbe>,
    scopes: Vec<Option<MScope>>,
    obs: Vec<Obs>,
}

impl Model {
    fn scope(&mut self, sid: usize) -> &mut MScope {
        self.scopes[sid]
            .as_mut()
            .expect("model: a scope it does not know")
    }

    fn sc(&self, sid: usize) -> &MScope {
        self.scopes[sid]
            .as_ref()
            .expect("model: a scope it does not know")
    }

    fn add_probe(&mut self, scope: usize, kind: Kind) {
        self.probes.push(MProbe {
            scope,
            kind,
            state: PState::Queued,
            tell: None,
            told: false,
            started_at: None,
            expect_deadline: None,
            sleep_deadline: None,
            nested: None,
            joining: false,
            outcome: None,
            finished_at: None,
            group: 0,
            taken: false,
        });
    }

    fn running(&self, sid: usize) -> usize {
        self.sc(sid)
            .children
            .iter()
            .filter(|&&c| self.probes[c].state == PState::Running)
            .count()
    }

    /// `spawn` of probe `id` into scope `sid`: its spawn index, or `None`
    /// once the scope finished (or its owner dropped it).
    fn spawn(&mut self, sid: usize, id: usize) -> Option<usize> {
        if self.sc(sid).closed {
            self.probes[id].state = PState::Refused;
            return None;
        }
        let s = self.scope(sid);
        let index = s.children.len();
        s.children.push(id);
        if s.reason.is_some() {
            // "Spawning into a cancelled scope records the child as
            // cancelled."
            self.done(id, MOut::Cancelled);
        } else if self.running(sid) < self.sc(sid).opts.limit() {
            self.start(id);
        } else {
            self.scope(sid).queue.push_back(id);
        }
        Some(index)
    }

    fn done(&mut self, id: usize, out: MOut) {
        let p = &mut self.probes[id];
        p.state = PState::Done;
        p.outcome = Some(out);
        p.finished_at = Some(self.now);
        p.group = self.group;
    }

    /// The probe's first poll.
    fn start(&mut self, id: usize) {
        let sid = self.probes[id].scope;
        let (deadline, depth) = (self.sc(sid).deadline, self.sc(sid).depth);
        let now = self.now;
        let obs = self.obs[id].clone();
        let p = &mut self.probes[id];
        p.state = PState::Running;
        p.started_at = Some(now);
        p.expect_deadline = deadline;
        match p.kind {
            Kind::Pend => {}
            Kind::ReadyOk => return self.finish(id, MOut::Completed(val(true, id))),
            Kind::ReadyErr => return self.finish(id, MOut::Completed(val(false, id))),
            Kind::Panic => return self.finish(id, MOut::Panicked(id)),
            Kind::Sleep(ms) => {
                let at = obs.sleep_deadline.unwrap_or_else(|| {
                    panic!("probe {id} should have started a sleep at {now} ms")
                });
                assert!(
                    at >= now + ms,
                    "probe {id}: sleep of {ms} ms from {now} ends at {at}"
                );
                p.sleep_deadline = Some(at);
            }
            Kind::Nested(opts) => {
                let n = obs.nested.unwrap_or_else(|| {
                    panic!("probe {id} should have opened a nested scope at {now} ms")
                });
                let own = obs.own_deadline;
                assert_eq!(own.is_some(), opts.timeout.is_some(), "probe {id}");
                if let (Some(at), Some(ms)) = (own, opts.timeout) {
                    assert!(at >= now + ms, "probe {id}: own deadline {at}");
                }
                p.nested = Some(n);
                if self.scopes.len() <= n {
                    self.scopes.resize(n + 1, None);
                }
                assert!(self.scopes[n].is_none(), "scope {n} opened twice");
                let effective = min_deadline(own, deadline);
                self.scopes[n] = Some(MScope::new(Some(id), depth + 1, opts, effective));
            }
        }
        if let Some(tell) = self.probes[id].tell.take() {
            self.act(id, tell);
        }
    }

    /// The program tells probe `id` something (at most once).
    fn tell(&mut self, id: usize, tell: Tell) {
        let p = &mut self.probes[id];
        if p.told {
            return;
        }
        p.told = true;
        match p.state {
            PState::Queued => p.tell = Some(tell),
            PState::Running if !p.joining => self.act(id, tell),
            _ => {}
        }
    }

    fn act(&mut self, id: usize, tell: Tell) {
        match tell {
            Tell::Ok | Tell::Err => match self.probes[id].nested {
                Some(n) => {
                    self.probes[id].joining = true;
                    self.scope(n).joining = true;
                    self.check_finish(n);
                }
                None => self.finish(id, MOut::Completed(val(tell == Tell::Ok, id))),
            },
            Tell::Panic => self.finish(id, MOut::Panicked(id)),
            Tell::Cancel { then_complete } => {
                let sid = self.probes[id].scope;
                assert!(
                    self.sc(sid).reason.is_none(),
                    "model: a running child in a cancelled scope"
                );
                self.cancel(sid, StopReason::Cancelled, Some(id));
                if then_complete {
                    self.act(id, Tell::Ok);
                }
                if self.probes[id].state != PState::Done {
                    // Aborted by its own cancel: dropped after this poll.
                    self.finish(id, MOut::Cancelled);
                }
            }
        }
    }

    /// Probe `id` ended with `out` (its future is dropped).
    fn finish(&mut self, id: usize, out: MOut) {
        self.done(id, out);
        if let Some(n) = self.probes[id].nested {
            if !self.sc(n).closed {
                // Dropping the probe drops the scope it owns.
                self.abandon(n);
            }
        }
        self.report(self.probes[id].scope, id);
    }

    /// A child of `sid` finished: fail fast, start the next queued one.
    fn report(&mut self, sid: usize, id: usize) {
        let s = self.sc(sid);
        let failed = match self.probes[id].outcome {
            Some(MOut::Panicked(_)) => true,
            Some(MOut::Completed(Err(_))) => s.opts.try_,
            _ => false,
        };
        if failed && !s.opts.supervise && s.failure.is_none() {
            self.scope(sid).failure = Some(id);
            self.cancel(sid, StopReason::Failed, None);
        }
        if self.sc(sid).reason.is_none() {
            if let Some(next) = self.scope(sid).queue.pop_front() {
                self.start(next);
            }
        }
        self.check_finish(sid);
    }

    /// Stops `sid` (the first reason wins): queued children are dropped
    /// unstarted, running ones (but `except`, cancelling from inside)
    /// cancelled.
    fn cancel(&mut self, sid: usize, reason: StopReason, except: Option<usize>) {
        let s = self.scope(sid);
        if s.reason.is_some() {
            return;
        }
        s.reason = Some(reason);
        if s.closed {
            return;
        }
        let queued: Vec<usize> = s.queue.drain(..).collect();
        for q in queued {
            self.done(q, MOut::Cancelled);
        }
        let running: Vec<usize> = self
            .sc(sid)
            .children
            .iter()
            .copied()
            .filter(|&c| self.probes[c].state == PState::Running && Some(c) != except)
            .collect();
        for c in running {
            if self.probes[c].state == PState::Running {
                self.finish(c, MOut::Cancelled);
            }
        }
        self.check_finish(sid);
    }

    /// The owner dropped `sid` before it finished.
    fn abandon(&mut self, sid: usize) {
        let s = self.scope(sid);
        s.abandoned = true;
        s.joining = false;
        self.cancel(sid, StopReason::Cancelled, None);
        let s = self.scope(sid);
        s.closed = true;
        assert!(
            s.queue.is_empty(),
            "model: an abandoned scope kept queued children"
        );
    }

    /// If the owner of `sid` waits and nothing is left, the scope ends.
    fn check_finish(&mut self, sid: usize) {
        let s = self.sc(sid);
        if !s.joining || s.closed {
            return;
        }
        let busy = s
            .children
            .iter()
            .any(|&c| matches!(self.probes[c].state, PState::Queued | PState::Running));
        if busy {
            return;
        }
        let summary = self.predict(sid);
        let now = self.now;
        let s = self.scope(sid);
        s.closed = true;
        s.finished_at = Some(now);
        s.summary = Some(summary.clone());
        if let Some(owner) = s.owner {
            self.probes[owner].joining = false;
            self.finish(owner, value_after(&summary, owner));
        }
    }

    /// What ending `sid` returns, per the docs (see the module docs of
    /// `scope` and of `Scope::join`, `outcomes`, `try_join`).
    fn predict(&self, sid: usize) -> Summary {
        let s = self.sc(sid);
        let kept: Vec<(usize, MOut)> = s
            .children
            .iter()
            .filter(|&&c| !self.probes[c].taken)
            .map(|&c| (c, self.probes[c].outcome.clone().expect("finished")))
            .collect();
        // "Why a scope stopped before all of its children completed": a
        // cancellation that cancelled no child did not stop it early.
        let any_cancelled = s
            .children
            .iter()
            .any(|&c| self.probes[c].outcome == Some(MOut::Cancelled));
        let stopped = s.reason.filter(|_| any_cancelled);
        let failed_panic = s.failure.and_then(|f| match self.probes[f].outcome {
            Some(MOut::Panicked(p)) if !self.probes[f].taken => Some(p),
            _ => None,
        });
        // Beyond the failure that stopped a fail-fast scope, "first" is in
        // spawn order (the docs of `join` and `TryJoinError::Failed`).
        let first = |pick: fn(&MOut) -> bool| -> Option<MOut> {
            kept.iter().map(|(_, o)| o).find(|o| pick(o)).cloned()
        };
        let first_panic = first(|o| matches!(o, MOut::Panicked(_))).map(|o| match o {
            MOut::Panicked(p) => p,
            _ => unreachable!(),
        });
        let results = || -> Vec<Option<Val>> {
            kept.iter()
                .map(|(_, o)| match o {
                    MOut::Completed(v) => Some(*v),
                    _ => None,
                })
                .collect()
        };
        match s.opts.join {
            JoinKind::Outcomes => {
                Summary::Report(kept.iter().map(|(_, o)| o.clone()).collect(), stopped)
            }
            JoinKind::Join => {
                if let Some(p) = failed_panic.or(first_panic) {
                    return Summary::Resumed(p);
                }
                match stopped {
                    None => Summary::Values(
                        results()
                            .into_iter()
                            .map(|v| v.expect("completed"))
                            .collect(),
                    ),
                    Some(reason) => Summary::Stopped(reason, results()),
                }
            }
            JoinKind::TryJoin => {
                if let Some(p) = failed_panic {
                    return Summary::Resumed(p);
                }
                if let Some(f) = s.failure.filter(|&f| !self.probes[f].taken) {
                    if let Some(MOut::Completed(Err(e))) = self.probes[f].outcome {
                        return Summary::TryFailed(e);
                    }
                }
                if let Some(reason) = stopped {
                    return match first_panic {
                        Some(p) => Summary::Resumed(p),
                        None => Summary::TryStopped(reason, results()),
                    };
                }
                match first(|o| matches!(o, MOut::Panicked(_) | MOut::Completed(Err(_)))) {
                    Some(MOut::Panicked(p)) => Summary::Resumed(p),
                    Some(MOut::Completed(Err(e))) => Summary::TryFailed(e),
                    Some(other) => unreachable!("{other:?}"),
                    None => Summary::TryValues(
                        kept.iter()
                            .map(|(_, o)| match o {
                                MOut::Completed(Ok(v)) => *v,
                                other => unreachable!("{other:?}"),
                            })
                            .collect(),
                    ),
                }
            }
        }
    }

    /// The next timer that does something: a sleep ending, a deadline of an
    /// open scope not stopped yet.
    fn next_event(&self) -> Option<u64> {
        let sleeps = self
            .probes
            .iter()
            .filter(|p| p.state == PState::Running)
            .filter_map(|p| p.sleep_deadline);
        let deadlines = self
            .scopes
            .iter()
            .flatten()
            .filter(|s| !s.closed && s.reason.is_none())
            .filter_map(|s| s.deadline);
        sleeps.chain(deadlines).min()
    }

    /// Virtual time moves to `target`, firing the timers due on the way.
    fn advance_to(&mut self, target: u64) {
        while let Some(t) = self.next_event().filter(|&t| t <= target) {
            assert!(t > self.now, "model: a timer due at {t} ms fired late");
            self.now = t;
            self.group += 1;
            // Deadlines first, outermost first (an inherited deadline is
            // the one tie the probes cannot avoid; the outer cancellation
            // drops the inner scope either way).
            let mut due: Vec<(usize, usize)> = self
                .scopes
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
                .filter(|(_, s)| !s.closed && s.reason.is_none() && s.deadline == Some(t))
                .map(|(i, s)| (s.depth, i))
                .collect();
            due.sort_unstable();
            for (_, sid) in due {
                self.cancel(sid, StopReason::TimedOut, None);
            }
            let woken: Vec<usize> = (0..self.probes.len())
                .filter(|&p| {
                    self.probes[p].state == PState::Running
                        && self.probes[p].sleep_deadline == Some(t)
                })
                .collect();
            for p in woken {
                if self.probes[p].state == PState::Running && !self.probes[p].joining {
                    self.finish(p, MOut::Completed(val(true, p)));
                }
            }
        }
        self.now = self.now.max(target);
    }
}

// ---------------------------------------------------------------------------
// The program.
// ---------------------------------------------------------------------------

/// How the top scope ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    Join(JoinKind),
    /// Dropping the `Scope` (its owner gave up).
    Drop,
}

struct Driver<'a> {
    bytes: Bytes<'a>,
    world: Shared,
    live: Arc<AtomicUsize>,
    model: Model,
    top: Option<Scope<Val>>,
    start: Instant,
}

impl Driver<'_> {
    async fn run(mut self) {
        let b = self.bytes.arg();
        let opts = ScopeOpts::decode(b, &mut self.bytes);
        let ending = match (b >> 5) & 3 {
            3 => Ending::Drop,
            _ => Ending::Join(opts.join),
        };
        let cancel_at_end = b & 0x80 != 0;
        let scope = opts.build(opts.timeout);
        {
            let mut w = lock(&self.world);
            w.reserved.extend(opts.timeout);
            w.scopes.push(ScopeRec {
                handle: scope.handle(),
                owner: None,
                limit: opts.limit(),
            });
        }
        self.model
            .scopes
            .push(Some(MScope::new(None, 0, opts, opts.timeout)));
        self.top = Some(scope);
        self.step().await;
        self.check();

        while let Some(op) = self.bytes.next() {
            self.model.group += 1;
            match op % 9 {
                0 | 8 => self.spawn_op().await,
                1 => self.tell_op(Tell::Ok).await,
                2 => self.tell_op(Tell::Err).await,
                3 => self.tell_op(Tell::Panic).await,
                4 => {
                    self.tell_op(Tell::Cancel {
                        then_complete: false,
                    })
                    .await
                }
                5 => self.cancel_op().await,
                6 => {
                    let ms = u64::from(self.bytes.arg());
                    time::sleep(Duration::from_millis(ms)).await;
                    self.step().await;
                    let target = self.model.now + ms;
                    self.model.advance_to(target);
                }
                _ => self.next_completed_op().await,
            }
            self.check();
        }
        self.end(ending, cancel_at_end).await;
        // Break the cycles probes -> world -> wakers -> tasks.
        let mut w = lock(&self.world);
        let scopes = std::mem::take(&mut w.scopes);
        let wakers: Vec<_> = w.probes.iter_mut().filter_map(|r| r.waker.take()).collect();
        drop(w);
        drop((scopes, wakers));
    }

    /// Lets the runtime run until nothing is left to do, then takes the
    /// probes' records for the model.
    async fn step(&mut self) {
        let handle = crate::runtime::Handle::current();
        let mut rounds = 0;
        loop {
            let before = handle.metrics().polls;
            crate::yield_now().await;
            if handle.metrics().polls == before {
                break;
            }
            rounds += 1;
            assert!(rounds < 100_000, "the runtime never went idle");
        }
        self.model.obs = lock(&self.world)
            .probes
            .iter()
            .map(|r| r.obs.clone())
            .collect();
    }

    fn handle(&self, sid: usize) -> ScopeHandle<'static, Val> {
        lock(&self.world).scopes[sid].handle.clone()
    }

    fn scope_count(&self) -> usize {
        lock(&self.world).scopes.len()
    }

    /// A new probe record (model and world), and its token.
    fn new_probe(&mut self, sid: usize, kind: Kind) -> Token {
        let id = {
            let mut w = lock(&self.world);
            w.probes.push(Rec {
                scope: sid,
                tell: None,
                waker: None,
                obs: Obs::default(),
            });
            w.probes.len() - 1
        };
        self.model.add_probe(sid, kind);
        Token::new(id, &self.world, &self.live)
    }

    /// Spawns a probe into scope `sid` the way `how` says (bit 3: with
    /// `spawn_with`; bit 4: through the `Scope` itself, for the top one).
    fn spawn_probe(&mut self, sid: usize, kind: Kind, how: u8) -> (usize, Option<usize>) {
        let token = self.new_probe(sid, kind);
        let id = token.id;
        let start = self.start;
        let lazy = how & 8 != 0;
        let direct = how & 16 != 0 && sid == 0 && self.top.is_some();
        let handle = self.handle(sid);
        let got = match (lazy, direct) {
            (false, false) => handle.spawn(Probe::new(token, kind, start)),
            (true, false) => handle.spawn_with(move || Probe::new(token, kind, start)),
            (false, true) => self
                .top
                .as_ref()
                .expect("top")
                .spawn(Probe::new(token, kind, start)),
            (true, true) => self
                .top
                .as_ref()
                .expect("top")
                .spawn_with(move || Probe::new(token, kind, start)),
        };
        (id, got)
    }

    async fn spawn_op(&mut self) {
        let sel = usize::from(self.bytes.arg());
        let k = self.bytes.arg();
        let sid = sel % self.scope_count();
        let depth = self.model.sc(sid).depth;
        let kind = match k % 8 {
            0 => Kind::Pend,
            1 => Kind::ReadyOk,
            2 => Kind::ReadyErr,
            3 => Kind::Panic,
            4 | 5 => Kind::Sleep(1 + u64::from(self.bytes.arg())),
            _ => {
                let b = self.bytes.arg();
                let opts = ScopeOpts::decode(b, &mut self.bytes);
                if depth < MAX_DEPTH {
                    Kind::Nested(opts)
                } else {
                    Kind::Pend
                }
            }
        };
        if self.model.probes.len() >= MAX_PROBES {
            return;
        }
        let (id, got) = self.spawn_probe(sid, kind, k);
        if got.is_none() {
            // Refused: dropped at once, unpolled.
            let w = lock(&self.world);
            let obs = &w.probes[id].obs;
            assert!(
                obs.dropped && obs.started.is_none(),
                "a refused spawn kept or polled probe {id}"
            );
        }
        self.step().await;
        let want = self.model.spawn(sid, id);
        assert_eq!(got, want, "spawn of probe {id} into scope {sid}");
    }

    async fn tell_op(&mut self, tell: Tell) {
        let sel = self.bytes.arg();
        let n = self.model.probes.len();
        if n == 0 {
            return;
        }
        let (id, tell) = match tell {
            Tell::Cancel { .. } => (
                usize::from(sel & 0x7f) % n,
                Tell::Cancel {
                    then_complete: sel & 0x80 != 0,
                },
            ),
            _ => (usize::from(sel) % n, tell),
        };
        self.tell(id, tell).await;
    }

    async fn tell(&mut self, id: usize, tell: Tell) {
        let waker = {
            let mut w = lock(&self.world);
            let rec = &mut w.probes[id];
            if self.model.probes[id].told {
                None
            } else {
                rec.tell = Some(tell);
                rec.waker.take()
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        self.step().await;
        self.model.tell(id, tell);
    }

    async fn cancel_op(&mut self) {
        let sel = usize::from(self.bytes.arg());
        let sid = sel % self.scope_count();
        match (&self.top, sid) {
            (Some(top), 0) if sel & 0x80 != 0 => top.cancel(),
            _ => self.handle(sid).cancel(),
        }
        self.step().await;
        self.model.cancel(sid, StopReason::Cancelled, None);
    }

    async fn next_completed_op(&mut self) {
        let Some(top) = self.top.as_mut() else {
            return;
        };
        let polled = {
            let mut next = pin!(top.next_completed());
            next.as_mut().poll(&mut Context::from_waker(Waker::noop()))
        };
        let polled = polled.map(|o| o.map(|(i, out)| (i, outcome_of(out))));
        self.step().await;
        let m = &mut self.model;
        let children = m.sc(0).children.clone();
        let ready: Vec<usize> = (0..children.len())
            .filter(|&i| {
                let p = &m.probes[children[i]];
                p.state == PState::Done && !p.taken
            })
            .collect();
        let first = ready.iter().map(|&i| m.probes[children[i]].group).min();
        let busy = children
            .iter()
            .any(|&c| matches!(m.probes[c].state, PState::Queued | PState::Running));
        match polled {
            Poll::Ready(Some((i, out))) => {
                let c = *children
                    .get(i)
                    .unwrap_or_else(|| panic!("next_completed: index {i}"));
                assert!(
                    ready.contains(&i) && Some(m.probes[c].group) == first,
                    "next_completed gave child {i}; the finished ones not taken are {ready:?}"
                );
                assert_eq!(
                    Some(&out),
                    m.probes[c].outcome.as_ref(),
                    "next_completed: child {i}"
                );
                m.probes[c].taken = true;
            }
            Poll::Ready(None) => assert!(
                ready.is_empty() && !busy,
                "next_completed said no child is left; finished {ready:?}, busy {busy}"
            ),
            Poll::Pending => assert!(
                ready.is_empty() && busy,
                "next_completed was pending; finished {ready:?}, busy {busy}"
            ),
        }
    }

    async fn end(&mut self, ending: Ending, cancel_at_end: bool) {
        let kind = match ending {
            Ending::Drop => {
                self.model.group += 1;
                drop(self.top.take());
                self.step().await;
                self.model.abandon(0);
                self.check();
                assert_eq!(
                    self.live.load(SeqCst),
                    0,
                    "probes alive after the scope was dropped"
                );
                self.spawn_after_end().await;
                return;
            }
            Ending::Join(kind) => kind,
        };
        // Without a deadline, a child nobody tells anything waits forever:
        // tell them (or cancel the scope).
        let top = self.model.sc(0);
        if top.reason.is_none() && top.deadline.is_none() {
            if cancel_at_end {
                self.model.group += 1;
                self.handle(0).cancel();
                self.step().await;
                self.model.cancel(0, StopReason::Cancelled, None);
                self.check();
            } else {
                for id in 0..self.model.probes.len() {
                    let p = &self.model.probes[id];
                    let stuck = matches!(p.state, PState::Queued | PState::Running)
                        && !p.told
                        && matches!(p.kind, Kind::Pend | Kind::Nested(_));
                    if stuck {
                        self.model.group += 1;
                        self.tell(id, Tell::Ok).await;
                        self.check();
                    }
                }
            }
        }
        self.model.group += 1;
        let top = self.top.take().expect("the top scope");
        let ended = async move {
            match kind {
                JoinKind::Join => summarize_join(top.join().await),
                JoinKind::Outcomes => summarize_report(top.outcomes().await),
                JoinKind::TryJoin => summarize_try(top.try_join().await),
            }
        };
        let ended = time::timeout(HANG, CatchUnwind(Box::pin(ended))).await;
        let at = now_ms(self.start);
        let live = self.live.load(SeqCst);
        let summary = match ended {
            Err(_) => panic!("the top scope's join never returned"),
            Ok(Ok(summary)) => summary,
            Ok(Err(payload)) => Summary::Resumed(payload_id(&*payload)),
        };
        assert_eq!(live, 0, "join returned while {live} probes were alive");
        self.step().await;
        self.model.scope(0).joining = true;
        self.model.check_finish(0);
        while !self.model.sc(0).closed {
            let t = self
                .model
                .next_event()
                .expect("model: the top scope never finishes");
            self.model.advance_to(t);
        }
        let s = self.model.sc(0);
        assert_eq!(
            Some(&summary),
            s.summary.as_ref(),
            "the top scope's {kind:?}"
        );
        assert_eq!(
            Some(at),
            s.finished_at,
            "virtual ms at which {kind:?} returned"
        );
        self.model.now = at;
        self.check();
        self.spawn_after_end().await;
    }

    /// Every scope has finished (or was dropped): `spawn` refuses, dropping
    /// the future unpolled.
    async fn spawn_after_end(&mut self) {
        for sid in 0..self.scope_count() {
            let (id, got) = self.spawn_probe(sid, Kind::ReadyOk, 0);
            assert_eq!(got, None, "spawn into scope {sid} after it ended");
            self.step().await;
            assert_eq!(
                self.model.spawn(sid, id),
                None,
                "model: scope {sid} still open"
            );
            self.check();
        }
    }

    /// The real run and the model agree.
    fn check(&self) {
        let m = &self.model;
        let (violations, handles): (Vec<String>, Vec<_>) = {
            let w = lock(&self.world);
            (
                w.violations.clone(),
                w.scopes.iter().map(|s| s.handle.clone()).collect(),
            )
        };
        assert!(violations.is_empty(), "{violations:#?}");
        assert_eq!(now_ms(self.start), m.now, "virtual time (ms)");
        for (id, p) in m.probes.iter().enumerate() {
            let o = &m.obs[id];
            let what = || {
                format!(
                    "probe {id} ({:?}, scope {}, {:?})",
                    p.kind, p.scope, p.state
                )
            };
            assert_eq!(
                o.started,
                p.started_at,
                "{}: virtual ms of its first poll",
                what()
            );
            if p.started_at.is_some() {
                assert_eq!(
                    o.seen_deadline,
                    Some(p.expect_deadline),
                    "{}: current_deadline()",
                    what()
                );
            }
            match p.state {
                PState::Refused | PState::Queued | PState::Running => {
                    assert_eq!(o.fin, None, "{}", what());
                    assert_eq!(o.dropped, p.state == PState::Refused, "{}: dropped", what());
                }
                PState::Done => {
                    assert!(o.dropped, "{}: finished but not dropped", what());
                    let at = p.finished_at;
                    let ok = match (p.outcome.as_ref().expect("done"), o.fin) {
                        (MOut::Completed(v), Some((Fin::Returned(w), t))) => {
                            *v == w && Some(t) == at
                        }
                        (MOut::Panicked(_), Some((Fin::Panicked, t))) => Some(t) == at,
                        (MOut::Cancelled, Some((Fin::Dropped, t))) => Some(t) == at,
                        (MOut::Cancelled, None) => p.started_at.is_none(),
                        _ => false,
                    };
                    assert!(
                        ok,
                        "{}: the model says {:?} at {at:?} ms, the probe saw {:?}",
                        what(),
                        p.outcome,
                        o.fin
                    );
                }
            }
        }
        let alive = m
            .probes
            .iter()
            .filter(|p| matches!(p.state, PState::Queued | PState::Running))
            .count();
        assert_eq!(self.live.load(SeqCst), alive, "probes alive");
        for (sid, handle) in handles.iter().enumerate() {
            let s = m.sc(sid);
            assert_eq!(
                handle.is_cancelled(),
                s.reason.is_some(),
                "scope {sid}: is_cancelled ({:?})",
                s.reason
            );
            assert_eq!(
                handle.deadline().map(|d| since(self.start, d)),
                s.deadline,
                "scope {sid}: deadline"
            );
            if let (Some(owner), Some(summary)) = (s.owner, &s.summary) {
                assert_eq!(
                    m.obs[owner].summary.as_ref(),
                    Some(summary),
                    "scope {sid}: what its owner (probe {owner}) got from ending it"
                );
            }
        }
    }
}

/// Runs one byte-coded program against the model; panics if they disagree.
/// See the module docs.
///
/// The first byte sets the top scope's options (and how it ends):
///
/// | bits | meaning |
/// | --- | --- |
/// | 0-1 | `max_concurrency` (0 = none, else 1..=3) |
/// | 2 | supervisor |
/// | 3 | a `try` scope (`build_try`: `Err` is a failure) |
/// | 4 | a timeout: the next byte + 1 virtual ms |
/// | 5-6 | the ending: `join`, `outcomes`, `try_join`, or dropping the `Scope` |
/// | 7 | without a deadline, cancel the scope before joining instead of telling every waiting child to complete |
///
/// Then steps, an opcode byte and its arguments (missing bytes read as 0):
///
/// | op % 9 | arguments | step |
/// | --- | --- | --- |
/// | 0, 8 | scope, kind, \[param\] | spawn a probe into scope `scope % scopes` (0 = top; nested scopes are numbered as they open) |
/// | 1 | probe | tell probe `probe % probes` to complete with `Ok` (a nested probe ends its scope) |
/// | 2 | probe | ... with `Err` |
/// | 3 | probe | ... to panic |
/// | 4 | probe | ... to cancel its own scope from inside (bit 7: then complete in the same poll) |
/// | 5 | scope | cancel a scope from outside (bit 7: the top one through `Scope::cancel`) |
/// | 6 | ms | advance virtual time: the program sleeps `ms` |
/// | 7 | | poll the top scope's `next_completed` once |
///
/// A probe's kind byte: `kind % 8` = 0 pend, 1 complete `Ok`, 2 complete
/// `Err`, 3 panic (at the first poll), 4-5 sleep `param + 1` ms then
/// complete `Ok`, 6-7 open a nested scope with options `param` (the bits
/// above; bits 5-6 how it is ended once the probe is told to complete: join,
/// outcomes, try_join) — a pending probe beyond depth 2. Bit 3: spawn with
/// `spawn_with`; bit 4: through `Scope::spawn` (top scope) instead of a
/// handle. Each probe is told at most once.
pub fn fuzz_scope(data: &[u8]) {
    install_panic_hook();
    let rt = Builder::current_thread()
        .mock_clock()
        .build()
        .expect("a current-thread runtime");
    let live = Arc::new(AtomicUsize::new(0));
    let l = live.clone();
    rt.block_on(async move {
        let start = Instant::now();
        let world = Arc::new(Mutex::new(World {
            probes: Vec::new(),
            scopes: Vec::new(),
            reserved: BTreeSet::new(),
            violations: Vec::new(),
        }));
        let driver = Driver {
            bytes: Bytes { data, pos: 0 },
            world,
            live: l,
            model: Model {
                now: 0,
                group: 0,
                probes: Vec::new(),
                scopes: Vec::new(),
                obs: Vec::new(),
            },
            top: None,
            start,
        };
        driver.run().await;
    });
    drop(rt);
    assert_eq!(live.load(SeqCst), 0, "a probe outlived the runtime");
}

#[cfg(all(test, not(minirt_loom)))]
mod tests {
    use super::fuzz_scope;

    /// xorshift64*.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn byte(&mut self) -> u8 {
            (self.next() >> 56) as u8
        }

        fn below(&mut self, n: u64) -> u8 {
            u8::try_from(self.next() % n).expect("n <= 256")
        }
    }

    /// A program biased towards what makes scopes interesting: spawns
    /// first, short sleeps and timeouts, tells to existing probes.
    fn program(rng: &mut Rng) -> Vec<u8> {
        // Ending by cancellation (bit 7) in one program of four.
        let mut p = vec![rng.byte() & if rng.below(4) == 0 { 0xff } else { 0x7f }];
        if p[0] & 16 != 0 {
            p.push(rng.below(120));
        }
        let steps = 4 + rng.below(40);
        for _ in 0..steps {
            match rng.below(20) {
                0..=6 => {
                    p.extend([0, rng.byte(), rng.byte()]);
                    let kind = p[p.len() - 1] % 8;
                    if (4..=5).contains(&kind) {
                        p.push(rng.below(60));
                    } else if kind >= 6 {
                        let o = rng.byte();
                        p.push(o);
                        if o & 16 != 0 {
                            p.push(rng.below(80));
                        }
                    }
                }
                7..=9 => p.extend([1, rng.byte()]),
                10 => p.extend([2, rng.byte()]),
                11 => p.extend([3, rng.byte()]),
                12 => p.extend([4, rng.byte()]),
                13 => p.extend([5, rng.byte()]),
                14..=16 => p.extend([6, rng.below(40)]),
                _ => p.push(7),
            }
        }
        p
    }

    #[test]
    fn fuzz_scope_pseudo_random_programs() {
        let programs = if cfg!(miri) { 4 } else { 600 };
        let mut rng = Rng(0x5C0F_E5EE_D000_0001);
        for n in 0..programs {
            let p = program(&mut rng);
            let result = std::panic::catch_unwind(|| fuzz_scope(&p));
            if let Err(e) = result {
                eprintln!("program {n} failed: {p:?}");
                std::panic::resume_unwind(e);
            }
        }
    }
}
