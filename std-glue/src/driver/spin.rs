//! Waiting for a blocking job's result without sleeping in the kernel.
//!
//! # Why
//!
//! A task that awaits a short blocking job (`fs::read` of a small cached
//! file takes a few microseconds) hands it to a pool thread and, with
//! nothing else to run, its scheduler thread goes to sleep in `epoll_wait`.
//! The job's result then costs an eventfd write to wake it, the kernel's
//! wake-up of the sleeping thread, and the `epoll_wait` return: on a loaded
//! 2-core machine that round trip is many times the job itself, and it is
//! most of what one `fs::read` costs (tokio #2994, #3664). The pool thread
//! already spins a little for its next job (`blocking::worker`); this is the
//! other half.
//!
//! # What
//!
//! The driver counts the blocking jobs of its runtime that are queued or
//! running ([`InFlight`]). A thread about to sleep while that count is
//! between one and the number of threads that drive the runtime (1 for a
//! current-thread runtime, the worker count otherwise) first spins for at
//! most [`SPIN_FOR`], watching its wake flag. A wake-up that comes meanwhile only flips the flag
//! (the unparker sees the thread not yet parked and skips the eventfd
//! write, see `io.rs`), and the thread goes back to its tasks with no
//! system call at all. With no job in flight, a timer due sooner than the
//! spin, or a single-core machine (where spinning holds the core the job
//! needs), it sleeps at once as before.
//!
//! Why an upper bound: with many jobs in flight (sixteen `spawn_blocking`
//! calls, then sixteen awaits) the results come one after another, and a
//! thread that sleeps takes several of them per wake-up, while a spinning
//! one wakes for each and fights the pool thread for the task's cache
//! lines: spinning made that benchmark row (`spawn_blocking`) about 1.5x
//! slower. One job per driving thread is the "a task waits for its one
//! result" case this is for (a loop of `fs::read`s, a `File`'s hops).
//!
//! The cost is bounded: at most `SPIN_FOR` of CPU per park, only while a
//! blocking job of this runtime is outstanding, only by the one thread that
//! holds the poller; I/O readiness and timers are looked at when the spin
//! ends, so they wait at most `SPIN_FOR` longer.

use std::time::{Duration, Instant};

use crate::loom::atomic::{AtomicUsize, Ordering};

/// How long a thread about to sleep waits, awake, for a blocking job's
/// result: a few times a small file read, far below any timer a program
/// sets, and the same as a pool thread's spin for its next job.
pub(crate) const SPIN_FOR: Duration = Duration::from_micros(50);

/// The count of a runtime's blocking jobs queued or running, and whether
/// this machine may spin at all.
pub(crate) struct InFlight {
    jobs: AtomicUsize,
    /// The most jobs in flight for which a thread still spins: the number
    /// of threads that drive the runtime.
    spin_up_to: usize,
    may_spin: bool,
}

impl InFlight {
    /// For a runtime driven by `pollers` threads.
    pub(crate) fn new(pollers: usize) -> InFlight {
        InFlight {
            jobs: AtomicUsize::new(0),
            spin_up_to: pollers.max(1),
            // Under loom there is no real time to spin for.
            may_spin: !cfg!(minirt_loom)
                && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1),
        }
    }

    /// A blocking job of this runtime was queued.
    pub(crate) fn started(&self) {
        self.jobs.fetch_add(1, Ordering::Relaxed);
    }

    /// That job returned (or was dropped unstarted).
    pub(crate) fn finished(&self) {
        let before = self.jobs.fetch_sub(1, Ordering::Relaxed);
        debug_assert!(before > 0, "blocking job count underflow");
    }

    /// Should a thread about to sleep for `timeout` spin first?
    pub(crate) fn worth_spinning(&self, timeout: Option<Duration>) -> bool {
        self.may_spin
            && (1..=self.spin_up_to).contains(&self.jobs.load(Ordering::Relaxed))
            && timeout.is_none_or(|t| t > SPIN_FOR)
    }
}

/// Spins until `woken()` or [`SPIN_FOR`] is over; returns whether it was
/// woken.
pub(crate) fn spin_until(woken: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if woken() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= SPIN_FOR {
            return false;
        }
    }
}

#[cfg(all(test, not(minirt_loom)))]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use crate::{Builder, Runtime};

    /// Every wait in these tests ends: a lost message fails, never hangs.
    const LIMIT: Duration = Duration::from_secs(30);

    fn jobs_in_flight(rt: &Runtime) -> usize {
        rt.handle()
            .inner
            .driver
            .blocking
            .jobs
            .load(super::Ordering::SeqCst)
    }

    fn runtimes() -> [(&'static str, Runtime); 2] {
        [
            ("current_thread", Builder::current_thread().build().unwrap()),
            (
                "multi_thread",
                Builder::multi_thread().worker_threads(2).build().unwrap(),
            ),
        ]
    }

    #[test]
    fn spins_only_for_one_to_pollers_jobs_and_a_timeout_longer_than_the_spin() {
        let mut in_flight = super::InFlight::new(2);
        in_flight.may_spin = true;
        assert!(!in_flight.worth_spinning(None), "nothing in flight");
        in_flight.started();
        assert!(in_flight.worth_spinning(None));
        assert!(in_flight.worth_spinning(Some(Duration::from_secs(1))));
        assert!(
            !in_flight.worth_spinning(Some(super::SPIN_FOR)),
            "timer due first"
        );
        in_flight.started();
        assert!(in_flight.worth_spinning(None), "one job per poller");
        in_flight.started();
        assert!(
            !in_flight.worth_spinning(None),
            "results will come in a row"
        );
        for _ in 0..3 {
            in_flight.finished();
        }
        assert!(!in_flight.worth_spinning(None));
        in_flight.started();
        in_flight.may_spin = false;
        assert!(!in_flight.worth_spinning(None), "single core");
    }

    #[test]
    fn a_job_counts_from_spawn_until_it_has_returned() {
        for (name, rt) in runtimes() {
            let (started_tx, started) = mpsc::channel();
            let (release, release_rx) = mpsc::channel::<()>();
            let job = rt.spawn_blocking(move || {
                started_tx.send(()).unwrap();
                release_rx.recv_timeout(LIMIT).unwrap();
                7
            });
            started.recv_timeout(LIMIT).unwrap();
            assert_eq!(jobs_in_flight(&rt), 1, "{name}: running");
            release.send(()).unwrap();
            assert_eq!(rt.block_on(job).unwrap(), 7);
            assert_eq!(jobs_in_flight(&rt), 0, "{name}: returned");
            // Many short ones awaited from tasks, as `fs` does.
            let sum = rt.block_on(async {
                let mut sum = 0;
                for i in 0..200u32 {
                    sum += crate::spawn_blocking(move || i).await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 199 * 200 / 2);
            assert_eq!(jobs_in_flight(&rt), 0, "{name}: after 200 jobs");
        }
    }

    #[test]
    fn a_panicking_job_and_an_aborted_unstarted_job_are_not_counted_after() {
        for (name, rt) in runtimes() {
            let panicked = rt.spawn_blocking(|| panic!("job"));
            assert!(rt.block_on(panicked).unwrap_err().is_panic(), "{name}");
            assert_eq!(jobs_in_flight(&rt), 0, "{name}: after a panic");
        }
        // A pool of one thread, held by a job, so the next one waits queued.
        let rt = Builder::current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (release, release_rx) = mpsc::channel::<()>();
        let holder = rt.spawn_blocking(move || release_rx.recv_timeout(LIMIT).unwrap());
        let queued = rt.spawn_blocking(|| ());
        assert_eq!(jobs_in_flight(&rt), 2);
        // Aborted while it waits in the queue: the pool drops it unrun
        // once the holder is done.
        queued.abort();
        release.send(()).unwrap();
        assert!(rt.block_on(queued).unwrap_err().is_cancelled());
        rt.block_on(holder).unwrap();
        assert_eq!(jobs_in_flight(&rt), 0, "after an abort");
    }

    #[test]
    fn jobs_dropped_unstarted_at_shutdown_are_not_counted() {
        let rt = Builder::current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (started_tx, started) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let _holder = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv_timeout(LIMIT).unwrap();
        });
        started.recv_timeout(LIMIT).unwrap();
        let queued: Vec<_> = (0..3).map(|_| rt.spawn_blocking(|| ())).collect();
        let driver = rt.handle().inner.driver.clone();
        assert_eq!(driver.blocking.jobs.load(super::Ordering::SeqCst), 4);
        // Shut down without waiting while the holder runs: the queued jobs
        // are dropped unrun, and only the holder is still counted.
        rt.shutdown_timeout(Duration::ZERO);
        for job in queued {
            assert!(crate::block_on(job).unwrap_err().is_cancelled());
        }
        assert_eq!(driver.blocking.jobs.load(super::Ordering::SeqCst), 1);
        // The holder returns on its own thread.
        release.send(()).unwrap();
        let deadline = std::time::Instant::now() + LIMIT;
        while driver.blocking.jobs.load(super::Ordering::SeqCst) != 0 {
            assert!(std::time::Instant::now() < deadline, "holder still counted");
            std::thread::yield_now();
        }
    }
}
