//! Shared helpers for minirt integration tests.

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use minirt::time::Clock;
use minirt::{Builder, Runtime};

/// The binary of example `name`, built beside this test binary by
/// `cargo build --workspace --examples` (as `.ci/run` does before the
/// tests); `None`, after printing why, when it was not built, so a plain
/// `cargo test` still passes.
pub fn built_example(name: &str) -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let binary = exe
        .parent()?
        .parent()?
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        Some(binary)
    } else {
        eprintln!(
            "SKIPPED: {} not found; run `cargo build --workspace --examples` first",
            binary.display()
        );
        None
    }
}

/// Both runtime kinds: current-thread, and multi-thread with 2 workers.
///
/// Under Miri too: there the multi-thread runtime's run queues are a
/// mutex-protected stand-in for crossbeam's deques (see
/// `std-glue/src/runtime/multi_thread/queue.rs` for why).
pub fn runtimes() -> Vec<Runtime> {
    named_runtimes().into_iter().map(|(_, rt)| rt).collect()
}

/// [`runtimes`], each with its flavour's name for assertion messages.
pub fn named_runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Builder::current_thread().build().unwrap()),
        (
            "multi_thread",
            Builder::multi_thread().worker_threads(2).build().unwrap(),
        ),
    ]
}

/// Runs `body()` to completion on each of [`named_runtimes`] in turn, the
/// whole under [`bounded`]`(limit)`, with the runtime's name as the step a
/// hang reports.
pub fn on_each_runtime<F: std::future::Future<Output = ()>>(limit: Duration, body: impl Fn() -> F) {
    bounded(limit, || {
        for (name, rt) in named_runtimes() {
            note_step(name);
            rt.block_on(body());
        }
    });
}

/// Runs `f`, aborting the whole test binary if it takes longer than `limit`:
/// a lost wake-up or signal must fail CI, not hang it.
///
/// The abort message names the test and, if the test called [`note_step`],
/// the step it was in (a matrix case, say). It is written to the process's
/// stderr directly: the test harness's output capture, which `eprintln!`
/// goes through, is lost when the process aborts.
///
/// Under Miri `f` just runs: Miri's clock does not follow real time, and Miri
/// reports a deadlock itself when every thread is blocked.
pub fn bounded<T>(limit: Duration, f: impl FnOnce() -> T) -> T {
    let watchdog = Watchdog::start(limit);
    let outer = STEP.with(|s| s.replace(Some(watchdog.step.clone())));
    // Put the outer step back even if `f` panics (`#[should_panic]` tests).
    struct Restore(Option<Arc<Mutex<String>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            STEP.with(|s| s.replace(outer));
        }
    }
    let _restore = Restore(outer);
    let out = f();
    drop(watchdog);
    out
}

/// [`bounded`] as a guard, for a test whose body is not a closure (an
/// `async fn` under `#[minirt::test]`): aborts the test binary unless the
/// guard is dropped within `limit`.
///
/// ```
/// let _watchdog = minirt_tests::watchdog(std::time::Duration::from_secs(60));
/// // ... the test ...
/// ```
pub fn watchdog(limit: Duration) -> Watchdog {
    Watchdog::start(limit)
}

/// The guard of [`watchdog`]; see [`bounded`].
pub struct Watchdog {
    /// Dropped with the guard: tells the watchdog thread the test finished.
    _done: Option<mpsc::Sender<()>>,
    /// What the test is doing, for the abort message (see [`note_step`]).
    step: Arc<Mutex<String>>,
}

impl Watchdog {
    fn start(limit: Duration) -> Watchdog {
        let step = Arc::new(Mutex::new(String::new()));
        if cfg!(miri) {
            return Watchdog { _done: None, step };
        }
        let (done, finished) = mpsc::channel::<()>();
        let name = std::thread::current()
            .name()
            .unwrap_or("a test")
            .to_string();
        let watched = step.clone();
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                let step = watched.lock().map(|s| s.clone()).unwrap_or_default();
                let at = if step.is_empty() {
                    String::new()
                } else {
                    format!(" (in {step})")
                };
                let _ = writeln!(
                    std::io::stderr(),
                    "{name} still running after {limit:?}{at}: aborting (lost wake-up?)"
                );
                std::process::abort();
            }
        });
        Watchdog {
            _done: Some(done),
            step,
        }
    }
}

thread_local! {
    /// What the test running on this thread is doing, for [`bounded`]'s
    /// abort message.
    static STEP: RefCell<Option<Arc<Mutex<String>>>> = const { RefCell::new(None) };
}

/// Records what the calling test is doing now (e.g. which matrix case), so
/// that if [`bounded`]'s watchdog fires it says where the test hung. A no-op
/// outside `bounded`.
pub fn note_step(step: impl fmt::Display) {
    STEP.with(|s| {
        if let Some(slot) = &*s.borrow() {
            if let Ok(mut slot) = slot.lock() {
                *slot = step.to_string();
            }
        }
    });
}

/// Both runtime kinds with a mock clock (auto-advance on).
pub fn mock_runtimes() -> Vec<Runtime> {
    vec![
        Builder::current_thread().mock_clock().build().unwrap(),
        Builder::multi_thread()
            .worker_threads(2)
            .mock_clock()
            .build()
            .unwrap(),
    ]
}

/// Counts its own drops in the shared counter: put one in a task, a value or
/// a closure to check that it is dropped exactly once.
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The kind of scheduler a [`Case`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `Builder::current_thread()`.
    CurrentThread,
    /// `Builder::multi_thread()` with this many workers.
    MultiThread(usize),
}

/// The kind of clock a [`Case`]'s runtime reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKind {
    /// `Clock::real()`.
    Real,
    /// `Clock::mock()`, auto-advance on.
    Mock,
}

/// Every runtime kind the seams tests cross: current-thread, and
/// multi-thread with 2 workers and with 1 (a lone worker is both the last
/// to go idle and the one that must notice work).
pub const FLAVORS: [Flavor; 3] = [
    Flavor::CurrentThread,
    Flavor::MultiThread(2),
    Flavor::MultiThread(1),
];

/// The multi-thread entries of [`FLAVORS`] (the sync-boundary scope needs one).
pub const MULTI_THREAD: [Flavor; 2] = [Flavor::MultiThread(2), Flavor::MultiThread(1)];

/// Both clocks, real first (so a hang under the mock clock cannot hide how
/// the real clock did).
pub const CLOCKS: [ClockKind; 2] = [ClockKind::Real, ClockKind::Mock];

/// One runtime of the matrix, with its label for assertion messages.
pub struct Case {
    /// E.g. `"multi_thread(2 workers), mock clock"`.
    pub label: String,
    /// The scheduler kind.
    pub flavor: Flavor,
    /// The clock kind.
    pub clock: ClockKind,
    /// A fresh runtime of that kind, dropped after the case.
    pub rt: Runtime,
}

impl Case {
    /// Builds a fresh runtime of `flavor` reading `clock`.
    pub fn new(flavor: Flavor, clock: ClockKind) -> Case {
        let builder = match flavor {
            Flavor::CurrentThread => Builder::current_thread(),
            Flavor::MultiThread(n) => Builder::multi_thread().worker_threads(n),
        };
        let (builder, clock_name) = match clock {
            ClockKind::Real => (builder.clock(Clock::real()), "real clock"),
            ClockKind::Mock => (builder.clock(Clock::mock()), "mock clock"),
        };
        let flavor_name = match flavor {
            Flavor::CurrentThread => "current_thread".to_string(),
            Flavor::MultiThread(1) => "multi_thread(1 worker)".to_string(),
            Flavor::MultiThread(n) => format!("multi_thread({n} workers)"),
        };
        Case {
            label: format!("{flavor_name}, {clock_name}"),
            flavor,
            clock,
            rt: builder.build().expect("building a test runtime"),
        }
    }

    /// Whether the runtime has a mock clock.
    pub fn is_mock(&self) -> bool {
        self.clock == ClockKind::Mock
    }

    /// Whether the runtime is a current-thread one.
    pub fn is_current_thread(&self) -> bool {
        self.flavor == Flavor::CurrentThread
    }
}

/// Runs `body` once per runtime kind in `flavors` and clock kind in
/// `clocks` (clocks outer, so every real-clock case runs first), each on a
/// fresh runtime dropped right after. Each case is announced with
/// [`note_step`], so a hang under [`bounded`] names it.
pub fn each_case(flavors: &[Flavor], clocks: &[ClockKind], mut body: impl FnMut(&Case)) {
    for &clock in clocks {
        for &flavor in flavors {
            let case = Case::new(flavor, clock);
            note_step(&case.label);
            body(&case);
            note_step(format!("dropping the runtime of {}", case.label));
            drop(case);
        }
    }
}

/// [`each_case`] over every runtime kind × both clocks.
pub fn each_runtime_and_clock(body: impl FnMut(&Case)) {
    each_case(&FLAVORS, &CLOCKS, body);
}
