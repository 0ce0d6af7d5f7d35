//! A byte-coded model check of the current-thread scheduler, for
//! `cargo fuzz` (target `scheduler`).
//!
//! Why: the interleavings of wakes, aborts, handle drops and panics that
//! break a scheduler (lost or duplicate polls, a poll after completion, a
//! wrong `JoinHandle` result, a leaked task) are too many to write by hand.
//! Each program drives a real current-thread [`Runtime`](crate::Runtime)
//! beside a small model of what every task must do, and checks after each
//! step that they agree.
//!
//! How: every task is a [`Probe`] future that only does what the program
//! told it (stay pending, complete, panic) and asserts it is never polled
//! after completing nor without having been woken. The program holds the
//! probes' wakers, join handles and abort handles. At the end everything is
//! dropped with the runtime; the fuzz target's counting allocator then
//! checks that no allocation is left.

use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};

use crate::{AbortHandle, Builder, JoinError, JoinHandle};

mod scope;

pub use scope::fuzz_scope;

/// Most tasks a program may spawn (keeps one `run` step a single pass).
const MAX_TASKS: usize = 16;

/// Prefix of the panics programs ask for, which the panic hook ignores.
const PLANNED: &str = "minirt fuzz: planned";

/// What one probe task has been told, shared with the program.
#[derive(Default)]
struct Control {
    /// Complete on the next poll.
    ready: bool,
    /// Panic on the next poll.
    panic_in_poll: bool,
    /// Panic when dropped.
    panic_in_drop: bool,
    /// Woken since its last poll (or never polled yet).
    woken: bool,
    /// Returned `Ready` (or panicked in poll).
    done: bool,
    /// Wakers the program holds (pushed by every pending poll).
    wakers: Vec<Waker>,
    /// At the next poll, start sleeping this many (virtual) milliseconds and
    /// complete when the sleep fires.
    sleep_next_poll: Option<u64>,
    /// Set by the probe when it started that sleep: its length, for the
    /// model to turn into a deadline.
    sleep_started: Option<u64>,
}

/// A task that does only what its `Control` says.
struct Probe(Arc<Mutex<Control>>, Option<crate::time::Sleep>);

impl Future for Probe {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let this = self.get_mut();
        // A fired timer is a legitimate reason to be polled.
        let timer_fired = match &mut this.1 {
            Some(sleep) => Pin::new(sleep).poll(cx).is_ready(),
            None => false,
        };
        let mut c = this.0.lock().unwrap();
        assert!(!c.done, "a task was polled after it completed");
        assert!(c.woken || timer_fired, "a task was polled without a wake");
        c.woken = false;
        if c.panic_in_poll {
            c.done = true;
            drop(c);
            panic!("{PLANNED} in poll");
        }
        if c.ready || timer_fired {
            c.done = true;
            return Poll::Ready(7);
        }
        if let Some(ms) = c.sleep_next_poll.take() {
            let mut sleep = crate::time::sleep(std::time::Duration::from_millis(ms));
            c.sleep_started = Some(ms);
            if Pin::new(&mut sleep).poll(cx).is_ready() {
                c.done = true;
                return Poll::Ready(7);
            }
            this.1 = Some(sleep);
        }
        c.wakers.push(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let panic_in_drop = {
            let mut c = self.0.lock().unwrap();
            // Wakers held in the control block would keep the task alive.
            c.wakers.clear();
            c.panic_in_drop
        };
        if panic_in_drop {
            panic!("{PLANNED} in drop");
        }
    }
}

/// How the model says a task ended.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Ok,
    Cancelled,
    Panicked,
}

/// The program's view of one task.
struct Slot {
    control: Arc<Mutex<Control>>,
    handle: Option<JoinHandle<u32>>,
    abort: AbortHandle,
    /// The wakers the program took out of the control block.
    wakers: Vec<Waker>,
    aborted: bool,
    /// Set by the model when the task must have finished.
    outcome: Option<Outcome>,
    /// The handle already returned its result.
    joined: bool,
    /// Virtual time (ms) at which its sleep fires, once it started one.
    deadline: Option<u64>,
}

fn outcome_of(result: &Result<u32, JoinError>) -> Outcome {
    match result {
        Ok(v) => {
            assert_eq!(*v, 7);
            Outcome::Ok
        }
        Err(e) if e.is_cancelled() => Outcome::Cancelled,
        Err(e) => {
            assert!(e.is_panic());
            Outcome::Panicked
        }
    }
}

/// Lets planned panics through silently; anything else reaches the
/// previous hook (libFuzzer's, which reports a crash).
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.starts_with(PLANNED) {
                previous(info);
            }
        }));
    });
}

/// Runs one byte-coded program; panics if the runtime and the model
/// disagree. See the module docs.
///
/// Each step is an opcode byte and a task-index byte:
///
/// | op % 14 | step |
/// | --- | --- |
/// | 0 | spawn a task (index byte bit 0: it panics in drop) |
/// | 1 | wake (by value) one held waker |
/// | 2 | `wake_by_ref` one held waker |
/// | 3 | clone a held waker |
/// | 4 | drop a held waker |
/// | 5 | abort |
/// | 6 | drop the `JoinHandle` |
/// | 7 | poll the `JoinHandle` once and check its result |
/// | 8 | tell the task to complete at its next poll |
/// | 9 | tell the task to panic at its next poll |
/// | 10, 11 | run every queued task |
/// | 12 | at its next poll the task sleeps `index byte` ms (mock clock) and then completes |
/// | 13 | advance the mock clock by `index byte` ms, then run every queued task |
pub fn fuzz_scheduler(data: &[u8]) {
    install_panic_hook();
    let rt = Builder::current_thread()
        .clock(crate::time::Clock::mock().auto_advance(false))
        .build()
        .expect("a current-thread runtime");
    let mut slots: Vec<Slot> = Vec::new();
    // The model's virtual clock, in ms.
    let mut now: u64 = 0;

    let run = |slots: &mut Vec<Slot>, now: u64, advance: u64| {
        rt.block_on(async {
            if advance > 0 {
                crate::time::advance(std::time::Duration::from_millis(advance)).await;
            }
            crate::yield_now().await;
            crate::yield_now().await;
        });
        for slot in slots.iter_mut() {
            // Collect the wakers the pending polls left behind.
            let mut c = slot.control.lock().unwrap();
            slot.wakers.append(&mut c.wakers);
            drop(c);
            model_run(slot, now);
        }
    };

    for step in data.chunks_exact(2) {
        let (op, arg) = (step[0] % 14, step[1]);
        if op == 13 {
            now += u64::from(arg);
            run(&mut slots, now, u64::from(arg));
            continue;
        }
        if op == 0 {
            if slots.len() < MAX_TASKS {
                let control = Arc::new(Mutex::new(Control {
                    woken: true, // queued at spawn
                    panic_in_drop: arg & 1 == 1,
                    ..Control::default()
                }));
                let handle = rt.spawn(Probe(Arc::clone(&control), None));
                slots.push(Slot {
                    control,
                    abort: handle.abort_handle(),
                    handle: Some(handle),
                    wakers: Vec::new(),
                    aborted: false,
                    outcome: None,
                    joined: false,
                    deadline: None,
                });
            }
            continue;
        }
        if op == 10 || op == 11 {
            run(&mut slots, now, 0);
            continue;
        }
        if slots.is_empty() {
            continue;
        }
        let i = usize::from(arg) % slots.len();
        let slot = &mut slots[i];
        let finished = slot.outcome.is_some();
        match op {
            1 => {
                if let Some(w) = slot.wakers.pop() {
                    mark_woken(slot, finished);
                    w.wake();
                }
            }
            2 => {
                if let Some(w) = slot.wakers.last().cloned() {
                    mark_woken(slot, finished);
                    w.wake_by_ref();
                }
            }
            3 => {
                if let Some(w) = slot.wakers.last() {
                    let w = w.clone();
                    slot.wakers.push(w);
                }
            }
            4 => drop(slot.wakers.pop()),
            5 => {
                slot.abort.abort();
                if !finished {
                    slot.aborted = true;
                }
            }
            6 => drop(slot.handle.take()),
            7 => {
                if let Some(handle) = slot.handle.as_mut().filter(|_| !slot.joined) {
                    let polled = Pin::new(handle).poll(&mut Context::from_waker(Waker::noop()));
                    match (polled, slot.outcome) {
                        (Poll::Pending, None) => {}
                        (Poll::Ready(result), Some(expected)) => {
                            assert_eq!(outcome_of(&result), expected, "task {i}");
                            slot.joined = true;
                        }
                        (Poll::Pending, Some(expected)) => {
                            panic!("task {i} should have ended {expected:?} but is pending")
                        }
                        (Poll::Ready(result), None) => panic!(
                            "task {i} ended {:?} but the model says it is still running",
                            outcome_of(&result)
                        ),
                    }
                }
            }
            8 => slot.control.lock().unwrap().ready = true,
            9 => slot.control.lock().unwrap().panic_in_poll = true,
            12 => {
                let mut c = slot.control.lock().unwrap();
                if c.sleep_started.is_none() {
                    c.sleep_next_poll = Some(u64::from(arg));
                }
            }
            _ => unreachable!(),
        }
    }

    // Tear down: every handle and waker, then the runtime (which cancels
    // what is left). The fuzz target checks no allocation survives.
    for slot in &mut slots {
        slot.wakers.clear();
    }
    drop(slots);
    drop(rt);
}

/// The model of a wake: only an unfinished task is re-polled.
fn mark_woken(slot: &mut Slot, finished: bool) {
    if !finished {
        slot.control.lock().unwrap().woken = true;
    }
}

/// What one pass of the scheduler (at virtual time `now`) does to `slot`,
/// per the model.
fn model_run(slot: &mut Slot, now: u64) {
    if slot.outcome.is_some() {
        return;
    }
    let c = slot.control.lock().unwrap();
    if slot.deadline.is_none() {
        // A sleep started during this pass started at `now`.
        slot.deadline = c.sleep_started.map(|ms| now + ms);
    }
    if let Some(deadline) = slot.deadline {
        assert!(
            deadline > now || c.done || slot.aborted,
            "a timer due at {deadline} ms did not complete its task by {now} ms (lost timer wake)"
        );
    }
    slot.outcome = if slot.aborted {
        // Dropped instead of polled; a panicking destructor is the result.
        Some(if c.panic_in_drop {
            Outcome::Panicked
        } else {
            Outcome::Cancelled
        })
    } else if !c.done {
        assert!(!c.woken, "a woken task was not polled by `run`");
        None
    } else if c.panic_in_poll || c.panic_in_drop {
        Some(Outcome::Panicked)
    } else {
        Some(Outcome::Ok)
    };
}
