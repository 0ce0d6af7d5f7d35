//! hyper 1.x on minirt (feature `hyper`): an [`Executor`] that spawns on
//! minirt, a [`Timer`] on minirt's clock, and [`Io`] for any other stream.
//!
//! Why: hyper is runtime-neutral and asks the runtime for three things —
//! I/O (`hyper::rt::Read`/`Write`, implemented directly for
//! [`TcpStream`](crate::net::TcpStream) and `UnixStream`), a way to spawn
//! background tasks (HTTP/2) and timers (timeouts, keep-alive). With these
//! no hand-written adapter is needed, and hyper's timeouts follow a mock
//! clock in tests.
//!
//! ```no_run
//! use minirt::hyper::{Executor, Timer};
//! let _ = (Executor::new(), Timer::new());
//! ```

mod executor;
mod io;
mod timer;

pub use executor::Executor;
pub use io::Io;
pub use timer::Timer;
