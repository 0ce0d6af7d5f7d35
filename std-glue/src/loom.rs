//! The one place the runtime's model-checked parts take their atomics,
//! locks, threads, thread-locals and parkers from.
//!
//! Building with `RUSTFLAGS="--cfg minirt_loom"` swaps std's (and the
//! `parking` crate's) types for loom's, so the multi-thread worker loop that
//! loom explores (see `runtime/multi_thread/worker_loom.rs`) is the code that
//! ships. Only modules on that path import from here; the rest of the
//! runtime uses std directly.
//!
//! | item | normally | under `minirt_loom` |
//! | --- | --- | --- |
//! | `atomic`, `Mutex`, `MutexGuard` | `std::sync` | `loom::sync` |
//! | `thread` (spawn, `Builder`, `current`) | `std::thread` | `loom::thread` |
//! | `thread_local!` | std's | loom's: loom runs every model thread as a coroutine on one OS thread, so a std thread-local would be shared by all of them |
//! | `parking` (`Parker`, `Unparker`, `pair`) | the `parking` crate | [a token behind a loom `Mutex`/`Condvar`](imp::parking) |
//!
//! The cfg is `minirt_loom`, not `loom`: `--cfg loom` alone also switches
//! the `parking` crate to its loom build, which lacks `park_timeout`, so the
//! runtime would not compile. (`minirt-core` keeps plain `cfg(loom)`.)
//! Under `minirt_loom` the `parking` crate is not used, so both cfgs may be
//! given together, which puts `minirt-core`'s atomics under loom as well.

pub(crate) use imp::*;

#[cfg(not(minirt_loom))]
mod imp {
    pub(crate) use ::parking;
    pub(crate) use std::sync::{atomic, Mutex, MutexGuard};
    pub(crate) use std::thread;
    pub(crate) use std::thread_local;
}

#[cfg(minirt_loom)]
mod imp {
    pub(crate) use loom::sync::{atomic, Mutex, MutexGuard};
    pub(crate) use loom::thread;

    /// `loom::thread_local!` for declarations written with std's
    /// `const { .. }` initializer, which loom's macro does not parse: it
    /// drops the `const` (loom initializes lazily anyway).
    macro_rules! loom_thread_local {
        ($($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };)*) => {
            $(loom::thread_local!($(#[$attr])* $vis static $name: $t = $init);)*
        };
    }
    pub(crate) use loom_thread_local as thread_local;

    /// A stand-in for the `parking` crate with the same API, built on loom.
    ///
    /// Like `parking`, it holds one token: an `unpark` before the `park` is
    /// not lost, and several unparks leave one token.
    ///
    /// **Timeouts.** loom has no time. `park_timeout(Duration::ZERO)` takes
    /// the token if there is one and never waits, exactly as the real one.
    /// A nonzero timeout is treated as [`Parker::park`]: it waits for the
    /// token. That is the sound choice for finding lost wake-ups: a wake-up
    /// the protocol relies on must then come from an unpark, so one that
    /// only a timeout would paper over shows up as a loom deadlock instead
    /// of hiding. What it leaves out (the timeout elapsing first) only adds
    /// a spurious return, and every caller loops and looks for work again
    /// after any return. Treating it as an immediate spurious return
    /// instead would turn every timed wait into a spin loop, which loom
    /// cannot explore to the end. (In the models no timer is registered and
    /// no I/O source exists, so the real code passes no nonzero timeout.)
    pub(crate) mod parking {
        use std::sync::Arc;
        use std::time::Duration;

        use loom::sync::{Condvar, Mutex};

        struct Inner {
            token: Mutex<bool>,
            cond: Condvar,
        }

        /// Waits for the token.
        pub(crate) struct Parker {
            inner: Arc<Inner>,
        }

        /// Hands out the token; cloned freely.
        #[derive(Clone)]
        pub(crate) struct Unparker {
            inner: Arc<Inner>,
        }

        /// A parker and its unparker.
        pub(crate) fn pair() -> (Parker, Unparker) {
            let inner = Arc::new(Inner {
                token: Mutex::new(false),
                cond: Condvar::new(),
            });
            (
                Parker {
                    inner: inner.clone(),
                },
                Unparker { inner },
            )
        }

        impl Parker {
            /// Waits until the token is there, and takes it.
            pub(crate) fn park(&self) {
                let mut token = self.inner.token.lock().unwrap();
                while !*token {
                    token = self.inner.cond.wait(token).unwrap();
                }
                *token = false;
            }

            /// Zero: takes the token if present. Nonzero: as `park` (see the
            /// module docs). Returns whether a token was taken.
            pub(crate) fn park_timeout(&self, timeout: Duration) -> bool {
                if timeout.is_zero() {
                    return std::mem::replace(&mut *self.inner.token.lock().unwrap(), false);
                }
                self.park();
                true
            }
        }

        impl Unparker {
            /// Leaves the token and wakes the parked thread. Returns whether
            /// the token was not already there (as `parking` does).
            pub(crate) fn unpark(&self) -> bool {
                let was = std::mem::replace(&mut *self.inner.token.lock().unwrap(), true);
                self.inner.cond.notify_one();
                !was
            }
        }
    }
}
