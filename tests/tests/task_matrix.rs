//! The panic/abort/drop matrix: every combination of
//!
//! - runtime kind (current-thread, multi-thread with 2 workers),
//! - where the task panics (nowhere, in `poll`, in its destructor, both),
//! - whether its output panics when dropped,
//! - when the `JoinHandle` is dropped (never: it is awaited; before the task
//!   completes; after),
//! - whether and how it is aborted (not at all; before its first poll; while
//!   it waits; by itself during its poll; from another thread during its
//!   final poll),
//!
//! ends as predicted (`Ok`, cancelled, or the right panic), never aborts the
//! process, drops the future exactly once, and drops the output exactly once
//! if one was produced. Steps are ordered with counters and channels.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use minirt::{AbortHandle, Builder, JoinError, Runtime};
use minirt_tests::bounded;

#[derive(Clone, Copy, Debug, PartialEq)]
enum PanicAt {
    Nowhere,
    Poll,
    Drop,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum HandleDrop {
    Never,
    BeforeCompletion,
    AfterCompletion,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Abort {
    Never,
    BeforeFirstPoll,
    WhileIdle,
    ByItselfDuringPoll,
    FromAnotherThreadDuringPoll,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    panic_at: PanicAt,
    output_panics: bool,
    handle_drop: HandleDrop,
    abort: Abort,
}

/// How the task must end.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok,
    Cancelled,
    Panic(&'static str),
}

impl Case {
    fn panics_in_poll(self) -> bool {
        matches!(self.panic_at, PanicAt::Poll | PanicAt::Both)
    }

    fn panics_in_drop(self) -> bool {
        matches!(self.panic_at, PanicAt::Drop | PanicAt::Both)
    }

    /// Whether the task is released to run its final poll.
    fn is_released(self) -> bool {
        matches!(
            self.abort,
            Abort::Never | Abort::ByItselfDuringPoll | Abort::FromAnotherThreadDuringPoll
        )
    }

    /// The predicted outcome, and whether an output value is produced.
    fn predict(self) -> (Outcome, bool) {
        match self.abort {
            Abort::BeforeFirstPoll | Abort::WhileIdle => {
                if self.panics_in_drop() {
                    (Outcome::Panic("matrix: drop"), false)
                } else {
                    (Outcome::Cancelled, false)
                }
            }
            Abort::ByItselfDuringPoll => {
                // It aborts itself, then panics or returns Pending: the
                // abort takes effect when the poll ends.
                if self.panics_in_poll() {
                    (Outcome::Panic("matrix: poll"), false)
                } else if self.panics_in_drop() {
                    (Outcome::Panic("matrix: drop"), false)
                } else {
                    (Outcome::Cancelled, false)
                }
            }
            // An abort that lands during the poll that completes the task is
            // too late: the task finishes normally.
            Abort::Never | Abort::FromAnotherThreadDuringPoll => {
                if self.panics_in_poll() {
                    (Outcome::Panic("matrix: poll"), false)
                } else if self.panics_in_drop() {
                    // The future returned its output, then its destructor
                    // panicked: the output is made, then dropped.
                    (Outcome::Panic("matrix: drop"), true)
                } else {
                    (Outcome::Ok, true)
                }
            }
        }
    }
}

/// What a case's task shares with the test.
#[derive(Default)]
struct Shared {
    started: AtomicBool,
    released: AtomicBool,
    waker: Mutex<Option<Waker>>,
    future_drops: AtomicUsize,
    outputs_made: AtomicUsize,
    output_drops: AtomicUsize,
    /// Only for `ByItselfDuringPoll`: taken (so no cycle remains) and used.
    own_abort: Mutex<Option<AbortHandle>>,
    /// Only for `FromAnotherThreadDuringPoll`: "abort now" and its ack.
    abort_now: Mutex<Option<mpsc::Sender<()>>>,
    aborted: Mutex<Option<mpsc::Receiver<()>>>,
}

/// The task under test: waits until released, then behaves as its case says.
struct Subject {
    case: Case,
    shared: Arc<Shared>,
}

/// The task's output; counts (and maybe panics on) its drop.
struct Output(Arc<Shared>, bool);

impl Drop for Output {
    fn drop(&mut self) {
        self.0.output_drops.fetch_add(1, SeqCst);
        if self.1 {
            panic!("matrix: output drop");
        }
    }
}

impl Future for Subject {
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let shared = &self.shared;
        if !shared.released.load(SeqCst) {
            // Store the waker *before* announcing `started` and looking at
            // `released` again: the test releases the task by setting
            // `released` and then taking the waker, so either it finds our
            // waker or we see `released` here (checking only before storing
            // the waker lost that wake-up now and then).
            *shared.waker.lock().unwrap() = Some(cx.waker().clone());
            shared.started.store(true, SeqCst);
            if !shared.released.load(SeqCst) {
                return Poll::Pending;
            }
        }
        shared.started.store(true, SeqCst);
        match self.case.abort {
            Abort::ByItselfDuringPoll => {
                let own = shared.own_abort.lock().unwrap().take();
                let own = own.expect("polled again after aborting itself");
                own.abort();
                drop(own);
                if self.case.panics_in_poll() {
                    panic!("matrix: poll");
                }
                return Poll::Pending;
            }
            Abort::FromAnotherThreadDuringPoll => {
                let now = shared.abort_now.lock().unwrap().take().unwrap();
                now.send(()).unwrap();
                let ack = shared.aborted.lock().unwrap().take().unwrap();
                ack.recv().unwrap();
            }
            _ => {}
        }
        if self.case.panics_in_poll() {
            panic!("matrix: poll");
        }
        shared.outputs_made.fetch_add(1, SeqCst);
        Poll::Ready(Output(Arc::clone(shared), self.case.output_panics))
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        self.shared.future_drops.fetch_add(1, SeqCst);
        if self.case.panics_in_drop() {
            panic!("matrix: drop");
        }
    }
}

/// Keeps the expected panics of this file out of the test output.
fn quiet_expected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
            if !msg.starts_with("matrix: ") {
                default(info);
            }
        }));
    });
}

/// Drives `rt` (a current-thread runtime runs tasks only inside `block_on`)
/// until `done` holds.
fn drive_until(rt: &Runtime, done: impl Fn() -> bool) {
    rt.block_on(async {
        while !done() {
            minirt::yield_now().await;
        }
    });
}

fn outcome_of<T>(result: Result<T, JoinError>) -> (Outcome, Option<T>) {
    match result {
        Ok(v) => (Outcome::Ok, Some(v)),
        Err(e) if e.is_cancelled() => (Outcome::Cancelled, None),
        Err(e) => {
            let payload = e.into_panic();
            let msg = payload
                .downcast_ref::<&'static str>()
                .copied()
                .expect("a &str panic payload");
            (Outcome::Panic(msg), None)
        }
    }
}

fn run_case(rt: &Runtime, case: Case) {
    let shared = Arc::new(Shared::default());
    let mut handle = Some(rt.spawn(Subject {
        case,
        shared: Arc::clone(&shared),
    }));
    let abort = handle.as_ref().unwrap().abort_handle();
    let (expected, makes_output) = case.predict();

    if case.handle_drop == HandleDrop::BeforeCompletion {
        drop(handle.take());
    }
    if case.abort == Abort::BeforeFirstPoll {
        abort.abort();
    } else {
        drive_until(rt, || shared.started.load(SeqCst));
    }
    if case.abort == Abort::WhileIdle {
        abort.abort();
    }
    let mut aborter = None;
    if case.abort == Abort::ByItselfDuringPoll {
        *shared.own_abort.lock().unwrap() = Some(abort.clone());
    }
    if case.abort == Abort::FromAnotherThreadDuringPoll {
        let (now_tx, now_rx) = mpsc::channel();
        let (ack_tx, ack_rx) = mpsc::channel();
        *shared.abort_now.lock().unwrap() = Some(now_tx);
        *shared.aborted.lock().unwrap() = Some(ack_rx);
        let abort = abort.clone();
        aborter = Some(thread::spawn(move || {
            now_rx.recv().unwrap();
            abort.abort();
            ack_tx.send(()).unwrap();
        }));
    }
    if case.is_released() {
        shared.released.store(true, SeqCst);
        if let Some(w) = shared.waker.lock().unwrap().take() {
            w.wake();
        }
    }

    drive_until(rt, || abort.is_finished());
    if let Some(t) = aborter {
        t.join().unwrap();
    }
    match (case.handle_drop, handle) {
        (HandleDrop::Never, Some(h)) => {
            let (outcome, value) = outcome_of(rt.block_on(h));
            assert_eq!(outcome, expected, "{case:?}");
            assert_eq!(value.is_some(), outcome == Outcome::Ok);
            let dropped = panic::catch_unwind(AssertUnwindSafe(|| drop(value)));
            assert_eq!(
                dropped.is_err(),
                outcome == Outcome::Ok && case.output_panics,
                "{case:?}"
            );
        }
        (HandleDrop::AfterCompletion, Some(h)) => drop(h),
        (HandleDrop::BeforeCompletion, None) => {}
        _ => unreachable!(),
    }
    drop(abort);

    // The task side may still be finishing on a worker (dropping an output
    // nobody will read); wait for the counts to get there, then check them.
    let outputs = usize::from(makes_output);
    drive_until(rt, || {
        shared.future_drops.load(SeqCst) >= 1 && shared.output_drops.load(SeqCst) >= outputs
    });
    assert_eq!(shared.future_drops.load(SeqCst), 1, "future drops {case:?}");
    assert_eq!(
        shared.outputs_made.load(SeqCst),
        outputs,
        "outputs {case:?}"
    );
    assert_eq!(
        shared.output_drops.load(SeqCst),
        outputs,
        "output drops {case:?}"
    );
    // Every reference to the task is gone once the task side let go of the
    // future: the last `Arc` clones are ours and the `Output`'s (dropped).
    drive_until(rt, || Arc::strong_count(&shared) == 1);
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for panic_at in [
        PanicAt::Nowhere,
        PanicAt::Poll,
        PanicAt::Drop,
        PanicAt::Both,
    ] {
        for output_panics in [false, true] {
            for handle_drop in [
                HandleDrop::Never,
                HandleDrop::BeforeCompletion,
                HandleDrop::AfterCompletion,
            ] {
                for abort in [
                    Abort::Never,
                    Abort::BeforeFirstPoll,
                    Abort::WhileIdle,
                    Abort::ByItselfDuringPoll,
                    Abort::FromAnotherThreadDuringPoll,
                ] {
                    cases.push(Case {
                        panic_at,
                        output_panics,
                        handle_drop,
                        abort,
                    });
                }
            }
        }
    }
    cases
}

#[test]
fn matrix_on_the_current_thread_runtime() {
    quiet_expected_panics();
    let rt = Builder::current_thread().build().unwrap();
    let cases = all_cases();
    assert_eq!(cases.len(), 120);
    bounded(Duration::from_secs(120), || {
        for case in cases {
            run_case(&rt, case);
        }
    });
}

#[test]
fn matrix_on_the_multi_thread_runtime() {
    quiet_expected_panics();
    let rt = Builder::multi_thread().worker_threads(2).build().unwrap();
    bounded(Duration::from_secs(120), || {
        for case in all_cases() {
            run_case(&rt, case);
        }
    });
}
