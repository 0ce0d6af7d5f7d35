//! Task-local storage: `minirt::task_local!`, [`LocalKey`] and the
//! [`TaskLocalFuture`] that carries a value with a task.
//!
//! See [`LocalKey`] for how a value follows its task, and what does not
//! inherit it.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::LocalKey as ThreadLocalKey;

/// Declares task-local keys: values that follow a task across `.await`s
/// and worker threads, visible to the code running inside a
/// [`LocalKey::scope`] (or [`LocalKey::sync_scope`]).
///
/// Why: some context (a request id, a tracing span, a deadline) is needed
/// deep in a call stack that should not pass it through every function; a
/// thread-local does not work because a task hops between threads.
///
/// The syntax is tokio's: any number of `static NAME: Type;` lines, each
/// with optional attributes and visibility.
///
/// ```
/// minirt::task_local! {
///     /// The id of the request being served.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// minirt::block_on(REQUEST_ID.scope(7, async {
///     minirt::yield_now().await;
///     assert_eq!(REQUEST_ID.get(), 7);
///     USER.sync_scope("ada".to_owned(), || {
///         USER.with(|user| assert_eq!(user, "ada"));
///     });
///     assert!(USER.try_with(|_| ()).is_err());
/// }));
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

/// One key of [`task_local!`](crate::task_local); not a public API.
///
/// ```
/// minirt::__task_local_inner!(KEY, u8);
/// assert_eq!(KEY.sync_scope(3, || KEY.get()), 3);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static SLOT: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&SLOT)
        };
    };
}

/// A key of task-local storage, declared with
/// [`task_local!`](crate::task_local).
///
/// The value is set for the duration of a [`scope`](LocalKey::scope)
/// (async) or [`sync_scope`](LocalKey::sync_scope) (a closure), and read
/// with [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or
/// [`get`](LocalKey::get).
///
/// # How a value follows its task
///
/// A task may resume on another worker after every `.await`, so the value
/// cannot simply sit in a thread-local. It lives in the [`TaskLocalFuture`]
/// returned by [`LocalKey::scope`]; each time that future is polled it
/// *swaps* its value into the key's thread-local slot, polls the inner
/// future, and swaps it back out — whatever thread the poll runs on, and
/// even if the inner poll panics (a guard does the swap back). The slot
/// therefore holds a value only while code inside the scope runs, and
/// nesting works for free: an inner scope of the same key swaps the outer
/// value out and back.
///
/// # What does not inherit the value
///
/// Work started from inside a scope but run elsewhere — a task from
/// `minirt::spawn`, a child of a [`minirt::scope`](crate::scope()) or [`Scope`](crate::scope::Scope), a
/// `spawn_blocking` closure — does not see the value (tokio does the same).
/// Such work is polled by the runtime on its own, outside the
/// `TaskLocalFuture`'s poll, and it may outlive the scope; the value is
/// the scope's, and is dropped with it. To hand a value on, pass it (or an
/// `Arc` of it) explicitly, or open a scope inside the child.
///
/// ```
/// minirt::task_local! { static DEPTH: u32; }
///
/// async fn depth() -> u32 {
///     DEPTH.get()
/// }
///
/// let d = minirt::block_on(DEPTH.scope(1, async {
///     let outer = depth().await;
///     let inner = DEPTH.scope(outer + 1, depth()).await;
///     (outer, inner, depth().await)
/// }));
/// assert_eq!(d, (1, 2, 1));
/// ```
pub struct LocalKey<T: 'static> {
    /// The slot of the running scope's value, per thread.
    slot: &'static ThreadLocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Used by [`task_local!`](crate::task_local); not a public API.
    ///
    /// ```
    /// std::thread_local! {
    ///     static SLOT: std::cell::RefCell<Option<u8>> = const { std::cell::RefCell::new(None) };
    /// }
    /// static KEY: minirt::task::LocalKey<u8> = minirt::task::LocalKey::__new(&SLOT);
    /// assert!(KEY.try_with(|_| ()).is_err());
    /// ```
    #[doc(hidden)]
    pub const fn __new(slot: &'static ThreadLocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Runs `future` with the key set to `value`: inside it (across every
    /// `.await`, on whatever worker it resumes), [`with`](Self::with) sees
    /// `value`. The value is dropped when the returned future is.
    ///
    /// # Cancellation safety
    ///
    /// Dropping the returned future drops `future` (with the value still
    /// set, so its destructors can read it) and then the value; nothing
    /// else is lost.
    ///
    /// ```
    /// minirt::task_local! { static NAME: &'static str; }
    ///
    /// let rt = minirt::Runtime::new()?;
    /// let seen = rt.block_on(NAME.scope("job-1", async {
    ///     for _ in 0..3 {
    ///         minirt::yield_now().await;
    ///     }
    ///     NAME.get()
    /// }));
    /// assert_eq!(seen, "job-1");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
            _pinned: PhantomPinned,
        }
    }

    /// Runs `f` with the key set to `value`, then drops the value (also if
    /// `f` panics, after which the key's previous value is back).
    ///
    /// # Panics
    ///
    /// If called inside [`with`](Self::with) of the same key (the value is
    /// borrowed), or while the thread is being torn down.
    ///
    /// ```
    /// minirt::task_local! { static LEVEL: u8; }
    ///
    /// let n = LEVEL.sync_scope(3, || LEVEL.get() * 2);
    /// assert_eq!(n, 6);
    /// ```
    #[track_caller]
    pub fn sync_scope<F: FnOnce() -> R, R>(&'static self, value: T, f: F) -> R {
        let mut value = Some(value);
        let swapped = self.enter(&mut value);
        let out = f();
        drop(swapped);
        out
    }

    /// Runs `f` with a reference to the value of the innermost scope.
    ///
    /// # Panics
    ///
    /// Outside any scope of this key; see [`try_with`](Self::try_with).
    ///
    /// ```
    /// minirt::task_local! { static WORDS: Vec<&'static str>; }
    ///
    /// WORDS.sync_scope(vec!["a", "b"], || {
    ///     assert_eq!(WORDS.with(|w| w.len()), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> R {
        match self.try_with(f) {
            Ok(out) => out,
            Err(_) => panic!(
                "cannot access a task-local storage value without setting it first: \
                 call this inside `KEY.scope(value, future)` or `KEY.sync_scope(value, f)`"
            ),
        }
    }

    /// Runs `f` with a reference to the value of the innermost scope, or
    /// returns an [`AccessError`] outside any scope of this key (or during
    /// thread teardown).
    ///
    /// ```
    /// minirt::task_local! { static ID: u32; }
    ///
    /// assert!(ID.try_with(|id| *id).is_err());
    /// assert_eq!(ID.sync_scope(5, || ID.try_with(|id| *id)), Ok(5));
    /// ```
    pub fn try_with<F: FnOnce(&T) -> R, R>(&'static self, f: F) -> Result<R, AccessError> {
        let mut f = Some(f);
        let out = self.slot.try_with(|slot| {
            let slot = slot.try_borrow().ok()?;
            let value = slot.as_ref()?;
            Some((f.take().expect("called once"))(value))
        });
        match out {
            Ok(Some(out)) => Ok(out),
            _ => Err(AccessError { _private: () }),
        }
    }

    /// Swaps `value` into the slot until the guard drops (which swaps it
    /// back, also on unwind).
    #[track_caller]
    fn enter<'a>(&'static self, value: &'a mut Option<T>) -> Swapped<'a, T> {
        let swapped = self.slot.try_with(|slot| match slot.try_borrow_mut() {
            Ok(mut slot) => {
                std::mem::swap(&mut *slot, value);
                Ok(())
            }
            Err(_) => Err(()),
        });
        match swapped {
            Ok(Ok(())) => Swapped { key: self, value },
            Ok(Err(())) => panic!(
                "cannot enter a task-local scope while the task-local storage is borrowed \
                 (inside `with` of the same key)"
            ),
            Err(_) => panic!(
                "cannot enter a task-local scope during or after destruction of the \
                 underlying thread-local"
            ),
        }
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A clone of the value of the innermost scope (tokio's `get`).
    ///
    /// # Panics
    ///
    /// Outside any scope of this key, like [`with`](Self::with).
    ///
    /// ```
    /// minirt::task_local! { static COUNT: u64; }
    ///
    /// assert_eq!(COUNT.sync_scope(9, || COUNT.get()), 9);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// A value swapped into its key's slot; swaps it back out on drop.
struct Swapped<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<T: 'static> Drop for Swapped<'_, T> {
    fn drop(&mut self) {
        // The slot exists (it did when we swapped in) and nothing borrows
        // it: a `with` borrow cannot outlive the code between the swaps.
        let _ = self.key.slot.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                std::mem::swap(&mut *slot, self.value);
            }
        });
    }
}

/// The future of [`LocalKey::scope`]: runs the inner future with the key
/// set, on every poll.
///
/// It is `Send` when the value and the future are, so a scope can be
/// spawned and move between workers.
///
/// ```
/// minirt::task_local! { static TAG: char; }
///
/// let rt = minirt::Runtime::new()?;
/// let task = rt.spawn(TAG.scope('x', async { TAG.get() }));
/// assert_eq!(rt.block_on(task).unwrap(), 'x');
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TaskLocalFuture<T: 'static, F> {
    key: &'static LocalKey<T>,
    /// The scope's value while the inner future is not being polled
    /// (`None` while it is: it sits in the slot then).
    value: Option<T>,
    /// `None` once it completed.
    future: Option<F>,
    /// `future` is polled in place.
    _pinned: PhantomPinned,
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// The scope's value, taken out (`None` if it was taken already, or
    /// while the inner future is being polled).
    ///
    /// ```
    /// minirt::task_local! { static V: u8; }
    ///
    /// let mut fut = Box::pin(V.scope(4, async {}));
    /// assert_eq!(fut.as_mut().take_value(), Some(4));
    /// assert_eq!(fut.as_mut().take_value(), None);
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        // SAFETY: `value` is not structurally pinned (it is moved in and out
        // of the slot on every poll); nothing here moves `future`.
        unsafe { self.get_unchecked_mut() }.value.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is only ever polled
        // through the `Pin` made below and dropped in place (in `Drop`, or
        // by assigning `None` here); `value` and `key` are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let swapped = this.key.enter(&mut this.value);
        let Some(future) = this.future.as_mut() else {
            drop(swapped);
            panic!("`TaskLocalFuture` polled after completion");
        };
        // SAFETY: see above; `this` is pinned, so is its field.
        let future = unsafe { Pin::new_unchecked(future) };
        let out = future.poll(cx);
        if out.is_ready() {
            // Dropped with the value still set, like the `Drop` below.
            this.future = None;
        }
        drop(swapped);
        out
    }
}

impl<T: 'static, F> Drop for TaskLocalFuture<T, F> {
    fn drop(&mut self) {
        if self.future.is_none() {
            return;
        }
        // Drop the inner future inside the scope, so its destructors see the
        // value; if the slot cannot be entered (thread teardown, or the key
        // borrowed), drop it without.
        let key = self.key;
        let entered = key.slot.try_with(|slot| slot.try_borrow_mut().is_ok());
        if entered == Ok(true) {
            let swapped = key.enter(&mut self.value);
            self.future = None;
            drop(swapped);
        } else {
            self.future = None;
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

/// Returned by [`LocalKey::try_with`] outside any scope of the key.
///
/// ```
/// minirt::task_local! { static K: u8; }
///
/// let err = K.try_with(|_| ()).unwrap_err();
/// assert_eq!(err.to_string(), "task-local value not set");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl Error for AccessError {}
