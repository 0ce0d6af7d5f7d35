//! Time without an operating system: the hierarchical timer wheel.
//!
//! Why: sleeps and timeouts need a place to wait that costs O(1) to enter and
//! to leave (most timeouts are cancelled), and that tells the runtime how long
//! it may park. [`TimerWheel`] is that place. It is a plain data structure
//! driven by the caller's notion of "now" in millisecond ticks, so the same
//! code serves a real clock, a mock clock that jumps, and a microcontroller.
//!
//! ```
//! use minirt_core::time::TimerWheel;
//!
//! let mut wheel = TimerWheel::new();
//! let timeout = wheel.insert(30_000, "request timed out");
//! wheel.insert(1_000, "retry");
//!
//! // The runtime parks until the wheel's next expiration, then fires what is
//! // due. A timer beyond 64 ms is first moved closer at the start of its
//! // slot, so it may take a park or two before something fires.
//! let mut fired = Vec::new();
//! while fired.is_empty() {
//!     let park_until = wheel.next_expiration().unwrap();
//!     assert!(park_until <= 1_000);
//!     while let Some((_key, what)) = wheel.poll_expired(park_until) {
//!         fired.push(what); // wake the waker here, outside the wheel
//!     }
//! }
//! assert_eq!((fired, wheel.now()), (vec!["retry"], 1_000));
//!
//! // The request finished in time: its timeout is cancelled in O(1).
//! assert_eq!(wheel.cancel(timeout), Some("request timed out"));
//! ```

mod wheel;

pub use wheel::{TimerKey, TimerWheel};

#[cfg(any(test, fuzzing))]
pub use wheel::fuzz::fuzz_timer_wheel;
