//! The driver: the one place where a runtime waits.
//!
//! # Why one driver
//!
//! Parking, the timer wheel, the clock and "is anybody still busy" used to be
//! wired separately into every place a thread waits: the current-thread
//! loop, the multi-thread workers, `block_on` threads and the sync scope.
//! Each copy got one seam slightly wrong (the mock clock never moved again
//! after a blocking job ended; a sync scope's closure was not counted as
//! busy). Now the schedulers only say whether they have work, and every
//! park-until-ready loop is [`Driver::park`] (or [`BlockOnThread::park`] for
//! a thread that cannot sleep in I/O).
//!
//! # What it owns
//!
//! - the `mio` poller ([`io::IoPoller`]) behind a lock: an idle thread that
//!   wins `try_lock` sleeps in it, with the next timer deadline as timeout;
//!   the others sleep on their own `parking::Parker`;
//! - the timer wheel and the clock ([`TimeDriver`]);
//! - the busy count ([`busy`]), and with it mock-clock auto-advance.
//!
//! # When virtual time moves
//!
//! With [`Clock::mock`](crate::time::Clock::mock) and auto-advance on, time
//! jumps to the next timer deadline exactly when all of these hold, checked
//! together under one lock so that two idle threads cannot both jump:
//!
//! 1. nothing is busy: no worker or core thread is awake, no `block_on`
//!    future is being polled or was woken, no blocking job is queued or
//!    running, no sync-scope closure is running;
//! 2. no task is runnable (the scheduler's `has_work` says so);
//! 3. **real I/O has had its chance**: if any I/O source (socket, listener)
//!    is registered with the runtime, the runtime has first been idle for the
//!    clock's [`autojump threshold`](crate::time::Clock::autojump_threshold)
//!    of *real* time with no I/O event (trio's `autojump_threshold`). Data
//!    that a peer sends 100 ms from now therefore arrives before a 10 s
//!    virtual timeout fires, while a read that never gets data still times
//!    out after that short real wait.
//!
//! The thread that jumps takes a busy unit before it lets go of the lock
//! and fires the timers that became due, so the next idle thread sees the
//! woken tasks (or this thread busy) and does not jump again.
//!
//! # Busy threads still look at timers and I/O
//!
//! A thread that always has tasks never parks, so the schedulers call
//! [`Driver::maintain`] every 61 scheduler ticks: it fires due timers and
//! polls I/O without sleeping (if no other thread sleeps in the poller).

pub(crate) mod busy;
pub(crate) mod io;
pub(crate) mod spin;

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::loom::atomic::{fence, AtomicUsize, Ordering::SeqCst};
use crate::loom::{parking, Mutex, MutexGuard};
use crate::time::driver::TimeDriver;
use crate::time::Clock;
use busy::{BlockOnWaker, Busy, ThreadWaker};
use io::{IoPoller, IoUnparker};
use spin::InFlight;

/// "Nobody sleeps in the poller" in [`Driver::io_holder`].
const NO_HOLDER: usize = usize::MAX;

/// A runtime's driver; see the [module docs](self).
pub(crate) struct Driver {
    /// The `mio` poller; whoever holds the lock may sleep in it.
    io: Mutex<IoPoller>,
    /// Wakes whoever sleeps in the poller.
    unparker: IoUnparker,
    /// The [`Sleeper::id`] of the thread sleeping in the poller, or
    /// `NO_HOLDER`.
    io_holder: AtomicUsize,
    /// Timers and the clock.
    pub(crate) time: Arc<TimeDriver>,
    /// Work running right now (tracked for the auto-advancing mock clock).
    pub(crate) busy: Busy,
    /// Serializes the decision to move virtual time.
    advance: Mutex<()>,
    /// Real idle time required before jumping while I/O sources exist.
    autojump_threshold: Duration,
    /// Blocking jobs of this runtime not yet returned: while there are a few,
    /// a thread spins briefly before it sleeps (see [`spin`]).
    pub(crate) blocking: InFlight,
}

/// How a thread that parks through [`Driver::park`] is woken.
pub(crate) struct Sleeper<'a> {
    /// Names the thread to [`Driver::unpark_sleeper`] (a worker's index).
    pub(crate) id: usize,
    /// Its own parker; `None` for a thread woken only through the I/O
    /// unparker (the current-thread core).
    pub(crate) parker: Option<&'a parking::Parker>,
}

/// What [`Driver::try_auto_advance`] did.
enum Advance {
    /// Time moved and timers fired; the caller holds a busy unit again.
    Jumped,
    /// It waited in I/O for the autojump threshold and something happened;
    /// the caller should look for work again.
    Woke,
    /// Time may not (or need not) move now.
    NotNow,
}

impl Driver {
    /// A driver on `clock` with one timer wheel per polling thread
    /// (`pollers`: 1 for a current-thread runtime, else the worker count).
    pub(crate) fn new(clock: &Clock, pollers: usize) -> std::io::Result<Arc<Driver>> {
        let (io, unparker) = IoPoller::new()?;
        let time = Arc::new(TimeDriver::new(clock, unparker.clone(), pollers));
        let tracked = time.clock.auto_advance();
        Ok(Arc::new(Driver {
            io: Mutex::new(io),
            busy: Busy::new(tracked, unparker.clone()),
            unparker,
            io_holder: AtomicUsize::new(NO_HOLDER),
            time,
            advance: Mutex::new(()),
            autojump_threshold: clock.autojump_threshold_or_default(),
            blocking: InFlight::new(pollers),
        }))
    }

    /// Wakes the thread sleeping in the poller (or makes its next sleep
    /// return at once).
    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
    }

    /// The reactor that sockets register with.
    pub(crate) fn io_handle(&self) -> &minirt_reactor::Handle {
        self.unparker.io()
    }

    /// Wakes the thread `id`, wherever it sleeps: on `unparker` (its own
    /// parker) or in the poller. The fence pairs with the one in `sleep`:
    /// either we see the thread registered as the poller's holder (and wake
    /// the poller), or it sees our parker token before it waits.
    pub(crate) fn unpark_sleeper(&self, id: usize, unparker: &parking::Unparker) {
        unparker.unpark();
        fence(SeqCst);
        if self.io_holder.load(SeqCst) == id {
            self.unparker.unpark();
        }
    }

    /// A busy thread's periodic look: fire due timers, and poll I/O without
    /// sleeping unless another thread sleeps in the poller already. Returns
    /// the clock's tick it read.
    pub(crate) fn maintain(&self) -> u64 {
        let (_, now) = self.time.process_at_now();
        if let Ok(mut io) = self.io.try_lock() {
            io.park(Some(Duration::ZERO));
        }
        now
    }

    /// The one wait of a scheduler thread that found no work.
    ///
    /// The caller holds a busy unit (it is awake); it gives it back while it
    /// is idle and holds one again when this returns. Returns after timers
    /// fired, an I/O event, an unpark, or virtual time moved: the caller
    /// then looks for work again (a spurious return is harmless). Returns
    /// the clock's tick as of the return (read anyway to fire timers).
    pub(crate) fn park(&self, sleeper: &Sleeper<'_>, has_work: &dyn Fn() -> bool) -> u64 {
        let (fired, now) = self.time.process_at_now();
        if fired > 0 {
            return now;
        }
        self.busy.release(false);
        match self.try_auto_advance(Some(sleeper), has_work) {
            Advance::Jumped => return self.time.clock.now_tick(),
            Advance::Woke => {}
            Advance::NotNow => self.sleep(sleeper, self.time.park_timeout()),
        }
        self.busy.acquire();
        self.time.process_at_now().1
    }

    /// Sleeps in the poller if it is free, else on the sleeper's parker.
    fn sleep(&self, sleeper: &Sleeper<'_>, timeout: Option<Duration>) {
        let Ok(mut io) = self.io.try_lock() else {
            match (sleeper.parker, timeout) {
                (Some(parker), Some(t)) => {
                    parker.park_timeout(t);
                }
                (Some(parker), None) => parker.park(),
                // Woken only through the poller, which someone holds for a
                // moment (a `maintain` call): look again.
                (None, _) => std::thread::yield_now(),
            }
            return;
        };
        self.io_holder.store(sleeper.id, SeqCst);
        fence(SeqCst);
        // A wake that came before we registered as holder left a token.
        let woken = sleeper
            .parker
            .is_some_and(|p| p.park_timeout(Duration::ZERO));
        // A blocking job's result is likely on its way: wait for it awake.
        let woken = woken || (self.blocking.worth_spinning(timeout) && io.spin_for_notify());
        if !woken {
            io.park(timeout);
        }
        self.io_holder.store(NO_HOLDER, SeqCst);
    }

    /// Moves virtual time to the next deadline if everything is idle; see
    /// the module docs for the rule. The caller has given back its busy
    /// unit. `sleeper` is `None` for a thread that cannot wait in the
    /// poller (it then leaves the I/O grace wait to the scheduler threads).
    fn try_auto_advance(
        &self,
        sleeper: Option<&Sleeper<'_>>,
        has_work: &dyn Fn() -> bool,
    ) -> Advance {
        if !self.time.clock.auto_advance() {
            return Advance::NotNow;
        }
        {
            let _decide = self.lock_advance();
            if self.busy.count() > 0 || has_work() {
                return Advance::NotNow;
            }
            if self.io_handle().registrations() == 0 {
                return self.jump();
            }
        }
        // I/O sources exist: give real I/O the threshold of real time first.
        let Some(sleeper) = sleeper else {
            return Advance::NotNow;
        };
        let start = std::time::Instant::now();
        self.sleep(sleeper, Some(self.autojump_threshold));
        if start.elapsed() < self.autojump_threshold {
            // Woken: by I/O, a wake-up or an unpark. Not idle after all.
            return Advance::Woke;
        }
        let _decide = self.lock_advance();
        if self.busy.count() > 0 || has_work() {
            return Advance::Woke;
        }
        match self.jump() {
            Advance::NotNow => Advance::Woke,
            jumped => jumped,
        }
    }

    /// Under the advance lock, with everything idle: jump to the next
    /// deadline and fire what is due, holding a busy unit from here on.
    fn jump(&self) -> Advance {
        if self.time.next_expiration().is_none() {
            return Advance::NotNow;
        }
        self.busy.acquire();
        self.time.jump_to_next_timer();
        Advance::Jumped
    }

    fn lock_advance(&self) -> MutexGuard<'_, ()> {
        self.advance.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves a mock clock forward by `by` and fires what became due
    /// (`minirt::time::advance`).
    pub(crate) fn advance(&self, by: Duration) {
        self.time.clock.advance(by);
        self.time.process();
    }
}

/// How a thread that does not sleep in the poller waits for its `block_on`
/// future: a `parking::Parker` and the future's waker, which hands the busy
/// unit over when the clock is tracked (see [`BlockOnWaker`]).
pub(crate) struct BlockOnThread {
    /// `Some` until drop, which gives an untracked pair back to the cache.
    pair: Option<(parking::Parker, Waker)>,
    /// `Some` when the busy count is tracked.
    tracked: Option<(Arc<Driver>, Arc<BlockOnWaker>)>,
}

thread_local! {
    /// A parker and its plain waker, made once per thread: a `block_on` on
    /// a runtime with an untracked clock needs no fresh allocation.
    static PLAIN_PAIR: std::cell::Cell<Option<(parking::Parker, Waker)>> =
        const { std::cell::Cell::new(None) };
}

impl BlockOnThread {
    /// The calling thread starts polling a `block_on` future of `driver`'s
    /// runtime; it counts as busy until [`park`](Self::park) or drop.
    pub(crate) fn new(driver: &Arc<Driver>) -> BlockOnThread {
        if driver.busy.is_tracked() {
            let (parker, waker) = BlockOnWaker::new(driver);
            BlockOnThread {
                pair: Some((parker, Waker::from(waker.clone()))),
                tracked: Some((driver.clone(), waker)),
            }
        } else {
            let cached = PLAIN_PAIR.try_with(|c| c.take()).ok().flatten();
            BlockOnThread {
                pair: Some(cached.unwrap_or_else(ThreadWaker::pair)),
                tracked: None,
            }
        }
    }

    fn parker(&self) -> &parking::Parker {
        &self.pair.as_ref().expect("present until drop").0
    }

    /// The waker to poll the future with.
    pub(crate) fn waker(&self) -> &Waker {
        &self.pair.as_ref().expect("present until drop").1
    }

    /// Waits until the future is woken (or `timeout` passes). Virtual time
    /// may move meanwhile if `has_work` says the scheduler is idle too.
    /// With blocking jobs of the runtime in flight (`blocking`), it spins
    /// briefly first (see [`spin`]).
    pub(crate) fn park(
        &self,
        blocking: &InFlight,
        timeout: Option<Duration>,
        has_work: &dyn Fn() -> bool,
    ) {
        let Some((driver, waker)) = &self.tracked else {
            self.wait(blocking, timeout);
            return;
        };
        if !waker.park_idle() {
            // Woken since the last poll: poll again, still holding the unit.
            return;
        }
        if let Advance::Jumped = driver.try_auto_advance(None, has_work) {
            // The jump took a unit for us; the waker may have too.
            waker.resume_with_unit();
            return;
        }
        self.wait(blocking, timeout);
        waker.resume();
    }

    /// Sleeps on the parker until unparked or `timeout`, spinning first
    /// while a blocking job is in flight.
    fn wait(&self, blocking: &InFlight, timeout: Option<Duration>) {
        let parker = self.parker();
        if blocking.worth_spinning(timeout)
            && spin::spin_until(|| parker.park_timeout(Duration::ZERO))
        {
            return;
        }
        match timeout {
            Some(t) => {
                parker.park_timeout(t);
            }
            None => parker.park(),
        }
    }
}

impl Drop for BlockOnThread {
    fn drop(&mut self) {
        match &self.tracked {
            Some((_, waker)) => waker.finish(),
            None => {
                // A wake that came after the last poll may have left a token
                // in the parker; the next user only sees a spurious wake-up.
                // (Not under loom: its objects must not outlive the model
                // execution that made them, and a std thread-local would
                // carry one into the next.)
                if !cfg!(minirt_loom) {
                    let pair = self.pair.take();
                    let _ = PLAIN_PAIR.try_with(|c| c.set(pair));
                }
            }
        }
    }
}
