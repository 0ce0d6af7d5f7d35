//! `minirt::select!`: wait on several futures at once, run the handler of
//! the first to finish, cancel the rest — tokio's macro, with tokio's
//! grammar and meaning.
//!
//! # How the expansion works
//!
//! [`__select_parse!`](crate::__select_parse) munches the branches one at a
//! time (so 64 branches stay within the default recursion limit). Each step
//! writes two fresh identifiers, `fut` and `out`: `macro_rules!` hygiene
//! makes the ones of each step distinct, so the final expansion can give
//! every branch its own pinned stack slot and its own output slot without
//! counting tokens. A branch's index is the constant expression `0 + 1 +
//! ...` with one `+ 1` per branch before it.
//!
//! The expansion then
//!
//! 1. evaluates every precondition (`, if cond`), marking the false ones
//!    disabled in a `u64` bitmask;
//! 2. evaluates every future expression, pinning each on the stack (no
//!    boxing);
//! 3. at each poll (unless the task's cooperative budget is spent:
//!    [`__select_budget`]), polls the enabled ones, starting at a random
//!    branch drawn anew each time ([`__select_start`]: from the runtime's
//!    seed when it has one) or at the first (`biased;`), wrapping around. A future that completes is
//!    disabled; if its output does not match the branch's pattern the select
//!    goes on with the others. To test the pattern without moving the
//!    output, it is matched with a guard that records the match and then
//!    fails: in a guard, bindings are only borrowed (so the user's pattern
//!    is used exactly as written, `mut` and `ref` included, without the
//!    pattern rewriting tokio does in a proc macro);
//! 4. drops every future (the losers are cancelled here), then runs the
//!    winner's handler outside the polling closure — so `break`, `continue`,
//!    `return` and `?` in a handler act on the code around the `select!`;
//! 5. if every branch is disabled, runs `else`, or panics without one.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::task::{Context, Poll};

use crate::runtime::{context, SchedulerHandle};

/// Waits on several futures at once and runs the handler of the first one
/// to complete, cancelling (dropping) the others.
///
/// Why: a task often waits for whichever comes first — a message or a
/// timeout, a request or a shutdown signal. `select!` races the futures on
/// the task itself: no task is spawned, nothing is boxed.
///
/// ```text
/// minirt::select! {
///     <pattern> = <future> (, if <precondition>)? => <handler>,
///     ...
///     (else => <expression>)?
/// }
/// ```
///
/// Each branch's future is polled until one completes with an output that
/// matches its pattern; that branch's handler runs with the pattern's
/// bindings, and its value is the value of the `select!`. Before that, every
/// other future is dropped — a losing branch is cancelled at its current
/// `.await`, its destructors run.
///
/// - A branch whose **precondition** is false is disabled: its future is
///   still created, but never polled.
/// - A branch whose future completes with an output that **does not match**
///   the pattern is disabled too, and the select goes on with the others.
/// - If every branch is disabled, the **`else`** expression runs; without an
///   `else`, the select panics with "all branches are disabled and there is
///   no else branch".
/// - The branches are polled starting at a **random branch** each time the
///   task is polled, so that one always-ready branch cannot starve the others. On a
///   runtime built with [`Builder::seed`](crate::Builder::seed) (or
///   `#[minirt::test(seed = N)]`), that order comes from the seed, so a run
///   replays exactly. Start the branches with **`biased;`** to poll them in
///   the order written instead (first ready wins).
/// - Handlers run outside the polling, in the code around the `select!`:
///   `break`, `continue`, `return` and `?` in a handler work as they would
///   there.
/// - At most 64 branches (as tokio).
///
/// `select!` must be used inside an `async` block or function.
///
/// # Cancellation safety
///
/// `select!` drops the losing futures, so every future in a loop of
/// `select!`s must be cancellation safe, or be created once outside the
/// loop and passed as `&mut fut` (pinned) so it survives the loss. Channel
/// receives (`recv()`) and sleeps are cancellation safe.
///
/// # Examples
///
/// The first to finish wins; a timeout with a fallback:
///
/// ```
/// use std::time::Duration;
/// use minirt::sync::oneshot;
///
/// minirt::block_on(async {
///     let (tx, rx) = oneshot::channel::<u32>();
///     minirt::spawn(async move {
///         let _ = tx.send(7);
///     });
///     let got = minirt::select! {
///         Ok(v) = rx => v,
///         _ = minirt::time::sleep(Duration::from_secs(5)) => 0,
///     };
///     assert_eq!(got, 7);
/// });
/// ```
///
/// A loop over two channels with preconditions, ending through `else` once
/// both are closed (a closed channel's `None` does not match `Some(v)`, so
/// that branch is disabled):
///
/// ```
/// use minirt::sync::mpsc;
///
/// minirt::block_on(async {
///     let (tx_a, mut a) = mpsc::channel::<u32>(8);
///     let (tx_b, mut b) = mpsc::channel::<u32>(8);
///     for i in 0..3 {
///         tx_a.try_send(i).unwrap();
///         tx_b.try_send(10 + i).unwrap();
///     }
///     drop((tx_a, tx_b));
///     let (mut a_open, mut b_open) = (true, true);
///     let mut sum = 0;
///     loop {
///         minirt::select! {
///             v = a.recv(), if a_open => match v {
///                 Some(v) => sum += v,
///                 None => a_open = false,
///             },
///             Some(v) = b.recv(), if b_open => sum += v,
///             else => break,
///         }
///     }
///     assert_eq!(sum, 0 + 1 + 2 + 10 + 11 + 12);
/// });
/// ```
///
/// `biased;` polls in order, so with both ready the first wins:
///
/// ```
/// minirt::block_on(async {
///     let winner = minirt::select! {
///         biased;
///         a = async { "first" } => a,
///         b = async { "second" } => b,
///     };
///     assert_eq!(winner, "first");
/// });
/// ```
///
/// # Misuse is a compile error
///
/// A branch needs `=>` before its handler:
///
/// ```compile_fail
/// minirt::block_on(async {
///     minirt::select! {
///         v = async { 1 }, v
///     }
/// });
/// ```
///
/// `else` must be the last branch:
///
/// ```compile_fail
/// minirt::block_on(async {
///     minirt::select! {
///         v = async { 1 } => v,
///         else => 0,
///         w = async { 2 } => w,
///     }
/// });
/// ```
///
/// There must be at least one branch:
///
/// ```compile_fail
/// minirt::block_on(async {
///     let _: () = minirt::select! {};
/// });
/// ```
///
/// ```compile_fail
/// minirt::block_on(async {
///     let _: u32 = minirt::select! { else => 0 };
/// });
/// ```
///
/// `biased;` comes first, with its semicolon:
///
/// ```compile_fail
/// minirt::block_on(async {
///     minirt::select! {
///         v = async { 1 } => v,
///         biased;
///     }
/// });
/// ```
///
/// and no more than 64 branches:
///
/// ```compile_fail
/// minirt::block_on(async {
///     minirt::select! {
///         _ = async {} => 0, _ = async {} => 1, _ = async {} => 2, _ = async {} => 3,
///         _ = async {} => 4, _ = async {} => 5, _ = async {} => 6, _ = async {} => 7,
///         _ = async {} => 8, _ = async {} => 9, _ = async {} => 10, _ = async {} => 11,
///         _ = async {} => 12, _ = async {} => 13, _ = async {} => 14, _ = async {} => 15,
///         _ = async {} => 16, _ = async {} => 17, _ = async {} => 18, _ = async {} => 19,
///         _ = async {} => 20, _ = async {} => 21, _ = async {} => 22, _ = async {} => 23,
///         _ = async {} => 24, _ = async {} => 25, _ = async {} => 26, _ = async {} => 27,
///         _ = async {} => 28, _ = async {} => 29, _ = async {} => 30, _ = async {} => 31,
///         _ = async {} => 32, _ = async {} => 33, _ = async {} => 34, _ = async {} => 35,
///         _ = async {} => 36, _ = async {} => 37, _ = async {} => 38, _ = async {} => 39,
///         _ = async {} => 40, _ = async {} => 41, _ = async {} => 42, _ = async {} => 43,
///         _ = async {} => 44, _ = async {} => 45, _ = async {} => 46, _ = async {} => 47,
///         _ = async {} => 48, _ = async {} => 49, _ = async {} => 50, _ = async {} => 51,
///         _ = async {} => 52, _ = async {} => 53, _ = async {} => 54, _ = async {} => 55,
///         _ = async {} => 56, _ = async {} => 57, _ = async {} => 58, _ = async {} => 59,
///         _ = async {} => 60, _ = async {} => 61, _ = async {} => 62, _ = async {} => 63,
///         _ = async {} => 64,
///     }
/// });
/// ```
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)*) => {
        $crate::__select_parse!(@{ biased [] [] } $($branches)*)
    };
    ($($branches:tt)*) => {
        $crate::__select_parse!(@{ random [] [] } $($branches)*)
    };
}

/// The branch parser and code generator of [`select!`](crate::select); see
/// `std-glue/src/select.rs`. Not a public API.
///
/// ```
/// let v = minirt::block_on(async {
///     minirt::__select_parse!(@{ biased [] [] } v = async { 3 } => v)
/// });
/// assert_eq!(v, 3);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // -- No branches.
    (@{ $mode:ident [] [] }) => {
        ::core::compile_error!(
            "minirt::select! needs at least one branch: `pattern = future => handler,`"
        )
    };
    // -- `else`, which must come last.
    (@{ $mode:ident [] [] } else => $($rest:tt)*) => {
        ::core::compile_error!(
            "minirt::select! needs at least one branch besides `else`: \
             `pattern = future => handler,`"
        )
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] } else => $else:expr $(,)?) => {
        $crate::__select_parse!(@emit $mode [$($count)*] [$($branch)*] $else)
    };
    (@{ $($state:tt)* } else => $($rest:tt)*) => {
        ::core::compile_error!("minirt::select!: the `else` branch must come last")
    };
    (@{ $($state:tt)* } biased; $($rest:tt)*) => {
        ::core::compile_error!("minirt::select!: `biased;` must come before the first branch")
    };

    // -- A branch with a precondition; the handler a block (comma optional)
    // or an expression (comma required unless last).
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f $c $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f $c $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr, if $c:expr => $h:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f $c $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr, if $c:expr => $h:expr) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f $c $h)] })
    };

    // -- A branch without a precondition.
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr => $h:block, $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f true $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr => $h:block $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f true $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr => $h:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f true $h)] } $($rest)*)
    };
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }
        $p:pat = $f:expr => $h:expr) => {
        $crate::__select_parse!(@{ $mode [$($count)* + 1]
            [$($branch)* (fut out [0 $($count)*] $p $f true $h)] })
    };

    // -- All branches read, no `else`.
    (@{ $mode:ident [$($count:tt)*] [$($branch:tt)*] }) => {
        $crate::__select_parse!(@emit $mode [$($count)*] [$($branch)*] (
            ::core::panic!("all branches are disabled and there is no else branch")
        ))
    };

    // -- Where polling starts.
    (@start biased $count:ident) => { 0u32 };
    (@start random $count:ident) => { $crate::__select_start($count) };

    // -- The code. Every `$p`, `$f`, `$c`, `$h` is one token tree here (a
    // fragment captured above).
    (@emit $mode:ident [$($count:tt)*]
        [$( ($fut:ident $out:ident [$($index:tt)*] $p:tt $f:tt $c:tt $h:tt) )*]
        $else:tt) => {{
        const _: () = ::core::assert!(
            (0 $($count)*) <= 64,
            "minirt::select! supports at most 64 branches"
        );
        let count: u32 = 0 $($count)*;
        let all: u64 = if count == 64 { u64::MAX } else { (1u64 << count) - 1 };
        // Step 1: preconditions.
        let mut disabled: u64 = 0;
        $(
            if !$c {
                disabled |= 1u64 << ($($index)*);
            }
        )*
        $( let mut $out = ::core::option::Option::None; )*
        let winner: u32 = {
            // Step 2: the futures, pinned here and dropped at the end of
            // this block, before any handler runs.
            $(
                let mut $fut = ::core::pin::pin!(::core::future::IntoFuture::into_future($f));
            )*
            // Step 3: poll from `start` (drawn at every poll), wrapping
            // around.
            let winner = ::core::future::poll_fn(|cx| {
                if $crate::__select_budget(cx).is_pending() {
                    return ::core::task::Poll::Pending;
                }
                let start: u32 = $crate::__select_parse!(@start $mode count);
                for pass in 0..2u32 {
                    $(
                        let index: u32 = $($index)*;
                        if (pass == 0) == (index >= start) && disabled & (1u64 << index) == 0 {
                            if let ::core::task::Poll::Ready(output) =
                                ::core::future::Future::poll($fut.as_mut(), cx)
                            {
                                disabled |= 1u64 << index;
                                let mut matched = false;
                                match output {
                                    // The guard only borrows the bindings,
                                    // and the arm it guards is never entered
                                    // (its `unreachable!` also tells the
                                    // borrow checker that `output` is whole
                                    // after this `match`).
                                    #[allow(unused_variables, unused_mut)]
                                    $p if {
                                        matched = true;
                                        false
                                    } => ::core::unreachable!(),
                                    _ => {}
                                }
                                if matched {
                                    $out = ::core::option::Option::Some(output);
                                    return ::core::task::Poll::Ready(index);
                                }
                            }
                        }
                    )*
                }
                if disabled == all {
                    ::core::task::Poll::Ready(u32::MAX)
                } else {
                    ::core::task::Poll::Pending
                }
            })
            .await;
            winner
        };
        // Steps 4 and 5: the winner's handler, or `else`.
        match winner {
            $(
                winner if winner == ($($index)*) => match $out {
                    ::core::option::Option::Some($p) => $h,
                    _ => ::core::unreachable!("minirt::select!: the winner's output is stored"),
                },
            )*
            _ => $else,
        }
    }};
}

/// Where a [`select!`](crate::select) starts polling: a number in
/// `0..branches`. Called by the macro's expansion; not a public API.
///
/// On a current-thread runtime built with a seed, driven by this thread,
/// the number comes from a generator seeded with the runtime's seed (apart
/// from the one that orders tasks, so selects do not change the task
/// order), so a seeded run replays. Everywhere else it comes from a
/// per-thread generator seeded from std's per-process random keys.
///
/// ```
/// let start = minirt::__select_start(3);
/// assert!(start < 3);
/// ```
#[doc(hidden)]
pub fn __select_start(branches: u32) -> u32 {
    if branches <= 1 {
        return 0;
    }
    let seeded = context::with_current(|handle| match handle.map(|h| &h.inner.scheduler) {
        Some(SchedulerHandle::CurrentThread(ct)) => ct.next_select_random(),
        _ => None,
    });
    let random = seeded.unwrap_or_else(thread_random);
    // Multiply-shift: an unbiased-enough map of 64 random bits onto the range.
    ((u128::from(random) * u128::from(branches)) >> 64) as u32
}

/// Whether a [`select!`](crate::select) may poll its branches now: not when
/// the task's cooperative budget is spent (the task is woken to run again
/// after its siblings), as in tokio — the branches' own budgeted futures
/// would only yield anyway. Called by the macro's expansion; not a public
/// API.
///
/// ```
/// use std::task::{Context, Waker};
/// let mut cx = Context::from_waker(Waker::noop());
/// assert!(minirt::__select_budget(&mut cx).is_ready());
/// ```
#[doc(hidden)]
pub fn __select_budget(cx: &mut Context<'_>) -> Poll<()> {
    if minirt_core::coop::has_budget_remaining() {
        Poll::Ready(())
    } else {
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

thread_local! {
    /// xorshift64 state of [`thread_random`]; 0 until first use.
    static THREAD_RNG: Cell<u64> = const { Cell::new(0) };
}

/// 64 random bits from this thread's generator.
fn thread_random() -> u64 {
    THREAD_RNG
        .try_with(|state| {
            let mut x = state.get();
            if x == 0 {
                x = RandomState::new().build_hasher().finish() | 1;
            }
            x = xorshift(x);
            state.set(x);
            x
        })
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
}

/// One step of xorshift64 (Marsaglia): never maps a non-zero state to 0.
pub(crate) fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}
