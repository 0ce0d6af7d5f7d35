//! [`Handle`]: the shareable side of a [`Driver`](super::Driver).
//!
//! Why: sockets live on many threads, but only one thread at a time parks in
//! the driver. Everything a socket needs — registering with mio, the slab of
//! readiness entries, the waker that interrupts a park — sits behind one
//! `Arc` that every handle and socket shares, while the `mio::Poll` and its
//! event buffer stay in the `!Sync` driver.

use std::fmt;
use std::io;
#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mio::event::Source;
use mio::{Interest, Registry, Token, Waker};
use slab::Slab;

use super::context;
use super::ready::Ready;
use super::scheduled_io::ScheduledIo;
use super::token::{self, GENERATION_MASK, MAX_KEY};

/// A cheap, cloneable, `Send + Sync` reference to a reactor.
///
/// It registers I/O resources, interrupts a parked driver ([`Handle::unpark`])
/// and is what sockets find through [`Handle::current`].
///
/// ```
/// use minirt_reactor::{Driver, Handle};
///
/// let driver = Driver::new()?;
/// let handle = driver.handle();
/// handle.enter(|| assert!(Handle::try_current().is_some()));
/// assert!(Handle::try_current().is_none());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

/// The state shared between a driver, its handles and its registrations.
pub(crate) struct Inner {
    /// A clone of the driver's registry (same epoll/kqueue instance).
    registry: Registry,
    /// Interrupts a `Driver::park` from any thread.
    waker: Waker,
    /// Live registrations, keyed by the low bits of their token.
    entries: Mutex<Entries>,
    /// Whether the process-wide signal pipe has been registered with this driver
    /// (Unix only: Windows delivers Ctrl-C without a pipe).
    #[cfg(unix)]
    signal_pipe_registered: AtomicBool,
}

/// The slab and the counter that makes each registration's token unique.
struct Entries {
    /// One entry per live registration.
    slab: Slab<Arc<ScheduledIo>>,
    /// Generation given to the next registration (wraps at `GENERATION_MASK`).
    next_generation: usize,
    /// Set (under this lock) when the driver is dropped: no new registrations.
    is_shutdown: bool,
}

impl Inner {
    pub(crate) fn new(registry: Registry, waker: Waker) -> Inner {
        Inner {
            registry,
            waker,
            entries: Mutex::new(Entries {
                slab: Slab::new(),
                next_generation: 0,
                is_shutdown: false,
            }),
            #[cfg(unix)]
            signal_pipe_registered: AtomicBool::new(false),
        }
    }

    fn lock_entries(&self) -> MutexGuard<'_, Entries> {
        // Every critical section leaves the slab consistent before any call that could panic.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `source` with mio and allocates its readiness entry.
    pub(crate) fn add<S: Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        // The entry goes in first and the system call (`epoll_ctl`) comes
        // after, outside the lock: the driver thread dispatches events under
        // this lock, and holding it across a system call made every accept
        // of a connection burst wait on it (`c10k_idle`: a contended lock,
        // ~2 futex calls, per connection). No event can name the token
        // before the registration exists, so the entry is there for it.
        let io = {
            let mut entries = self.lock_entries();
            if entries.is_shutdown {
                return Err(io::Error::other(
                    "the minirt reactor has shut down (its runtime was dropped); \
                     create I/O objects inside a running runtime",
                ));
            }
            let generation = entries.next_generation;
            let vacant = entries.slab.vacant_entry();
            let key = vacant.key();
            if key > MAX_KEY {
                return Err(io::Error::other(format!(
                    "too many I/O resources registered with one minirt reactor (limit {})",
                    MAX_KEY + 1
                )));
            }
            let io = Arc::new(ScheduledIo::new(key, generation));
            vacant.insert(io.clone());
            entries.next_generation = generation.wrapping_add(1) & GENERATION_MASK;
            io
        };
        let token = token::pack(io.key(), io.generation());
        if let Err(err) = self.registry.register(source, token, interest) {
            // Nothing was registered, so no event can name the entry.
            self.remove(&io);
            return Err(err);
        }
        Ok(io)
    }

    /// Removes `io`'s slab entry; the token it had is dead from now on.
    pub(crate) fn remove(&self, io: &Arc<ScheduledIo>) {
        let mut entries = self.lock_entries();
        let matches = entries
            .slab
            .get(io.key())
            .is_some_and(|current| Arc::ptr_eq(current, io));
        debug_assert!(matches, "registration {} removed twice", io.key());
        if matches {
            entries.slab.remove(io.key());
        }
    }

    /// How many registrations hold an entry (for the Unix-only test).
    #[cfg(all(test, unix))]
    pub(crate) fn live_registrations(&self) -> usize {
        self.lock_entries().slab.len()
    }

    /// Deregisters `source` from mio (before its file descriptor is closed).
    pub(crate) fn deregister<S: Source + ?Sized>(&self, source: &mut S) -> io::Result<()> {
        self.registry.deregister(source)
    }

    /// Delivers `ready` to the registration named by `token` if it is still the
    /// one the token was issued to. Returns whether a registration received it.
    pub(crate) fn dispatch(&self, token: Token, ready: Ready, tick: u16) -> bool {
        let (key, generation) = token::unpack(token);
        let io = {
            let entries = self.lock_entries();
            match entries.slab.get(key) {
                Some(io) if io.generation() & GENERATION_MASK == generation => io.clone(),
                // Stale: the slot was freed, and maybe reused by someone else.
                _ => return false,
            }
        };
        io.set_readiness(tick, ready);
        true
    }

    /// Marks the reactor shut down and fails every live registration.
    pub(crate) fn shutdown(&self) {
        let live: Vec<Arc<ScheduledIo>> = {
            let mut entries = self.lock_entries();
            entries.is_shutdown = true;
            entries.slab.iter().map(|(_, io)| io.clone()).collect()
        };
        for io in live {
            io.shutdown();
        }
    }

    /// Registers the signal pipe's read end with this driver, once (Unix only:
    /// Windows delivers Ctrl-C without a pipe).
    #[cfg(unix)]
    pub(crate) fn register_signal_pipe(&self, fd: std::os::fd::RawFd) -> io::Result<()> {
        if self.signal_pipe_registered.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let result = self.registry.register(
            &mut mio::unix::SourceFd(&fd),
            token::SIGNAL_TOKEN,
            Interest::READABLE,
        );
        if result.is_err() {
            self.signal_pipe_registered.store(false, Ordering::Release);
        }
        result
    }
}

impl Handle {
    /// Interrupts a [`Driver::park`](super::Driver::park) in progress, or makes the
    /// next one return at once. Callable from any thread; cheap (one `write`/`eventfd`).
    pub fn unpark(&self) {
        // Waking can only fail if the poller is gone, and then nobody is parked.
        let _ = self.inner.waker.wake();
    }

    /// Runs `f` with this as the current reactor of the calling thread, and
    /// returns what `f` returns.
    ///
    /// Sockets and signals created inside `f` register with this reactor.
    /// Calls nest: when `f` returns (or panics), whatever was current before
    /// is current again. It is a closure rather than a guard so that entering
    /// needs no reference count: the thread keeps only the address of the
    /// borrowed handle, which no leaked or reordered guard could outlive.
    ///
    /// ```
    /// use minirt_reactor::{Driver, Handle};
    ///
    /// let driver = Driver::new()?;
    /// let handle = driver.handle();
    /// let listener = handle.enter(|| {
    ///     // Registers with `driver`, found through the thread's current reactor.
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     minirt_reactor::net::TcpListener::from_std(std_listener)
    /// })?;
    /// assert_eq!(handle.registrations(), 1);
    /// assert!(Handle::try_current().is_none());
    /// # drop(listener);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        context::enter(self, f)
    }

    /// The reactor of the calling thread, if inside [`Handle::enter`]'s closure.
    pub fn try_current() -> Option<Handle> {
        context::current()
    }

    /// The reactor of the calling thread.
    ///
    /// # Panics
    ///
    /// When called outside a minirt runtime (not inside [`Handle::enter`] on
    /// this thread), with a message saying where sockets must be created.
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "there is no minirt reactor on this thread: sockets, signals and other I/O \
                 objects must be created inside a minirt runtime, i.e. inside the future given \
                 to `minirt::block_on(...)` / `Runtime::block_on`, or in a task spawned on a \
                 `minirt::Runtime`"
            ),
        }
    }

    /// Calls `f` with each registration's key, a direction (`"read"` or
    /// `"write"`) and the waker waiting for readiness in that direction,
    /// under the reactor's locks: `f` must not wake or drop anything, nor
    /// register or deregister. What a task dump reads.
    pub fn for_each_waiter(&self, mut f: impl FnMut(usize, &'static str, &std::task::Waker)) {
        let entries = self.inner.lock_entries();
        for (key, io) in entries.slab.iter() {
            io.for_each_waiter(|direction, waker| f(key, direction, waker));
        }
    }

    /// Number of live registrations (sockets, listeners, ...) on this reactor.
    pub fn registrations(&self) -> usize {
        self.inner.lock_entries().slab.len()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("registrations", &self.registrations())
            .finish()
    }
}
