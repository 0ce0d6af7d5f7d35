//! # minirt-reactor
//!
//! minirt's readiness-based I/O driver on top of `mio`, with the socket types,
//! the async read/write traits and signals built on it.
//!
//! Why a separate crate: the runtimes in `minirt` decide *when* a thread
//! sleeps; this crate decides *what wakes it*. A runtime owns one [`Driver`]
//! and, when it has nothing to run, calls [`Driver::park`] with its next timer
//! deadline; the driver waits in mio, marks the sockets that became ready and
//! wakes their tasks. Other threads end a park early with [`Handle::unpark`].
//! Sockets find the driver through the thread-local [`Handle::current`], which
//! the runtime sets with [`Handle::enter`]. Users normally reach all of this
//! through `minirt::{net, io, signal}`.
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::sync::Arc;
//! use std::task::{Context, Poll, Wake, Waker};
//! use minirt_reactor::{io::{AsyncReadExt, AsyncWriteExt}, net::{TcpListener, TcpStream}, Driver, Handle};
//!
//! // A minimal executor: poll, and park in the driver while pending.
//! struct Unpark(Handle);
//! impl Wake for Unpark {
//!     fn wake(self: Arc<Self>) { self.0.unpark() }
//! }
//! fn block_on<F: Future>(driver: &mut Driver, fut: F) -> F::Output {
//!     let handle = driver.handle();
//!     let waker = Waker::from(Arc::new(Unpark(handle.clone())));
//!     let mut fut = pin!(fut);
//!     handle.enter(|| loop {
//!         if let Poll::Ready(out) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
//!             return out;
//!         }
//!         driver.park(None).expect("park");
//!     })
//! }
//!
//! let mut driver = Driver::new()?;
//! block_on(&mut driver, async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Integrating the driver into a runtime
//!
//! 1. Create one [`Driver`] per runtime (`Driver::new()`); keep its
//!    [`Handle`] (cheap to clone, `Send + Sync`) in the runtime's shared state.
//! 2. On every thread that polls tasks, poll inside `handle.enter(|| ...)`, so
//!    sockets and signals created by tasks register with this driver.
//! 3. When a thread has no task to run, the one thread that owns the driver
//!    (e.g. the worker that wins a `try_lock` on it) calls
//!    `driver.park(timeout)` with `timeout` = time until the next timer
//!    deadline (`None` if there is none, `Some(Duration::ZERO)` for a
//!    non-blocking check between task batches). `park` wakes the tasks whose
//!    sockets became ready; the runtime then runs them. Other idle workers park
//!    on their own primitive (`parking`), not on the driver.
//! 4. Whenever a task is scheduled from outside while the driver may be
//!    parked (a waker fired on another thread, a task spawned from outside,
//!    shutdown), call [`Handle::unpark`]; it makes the current or next `park`
//!    return at once.
//! 5. Signals need no extra work: on Unix the self-pipe is registered with
//!    the driver of any runtime in which a `signal::Signal` is created or
//!    polled, and `park` pumps it like any other readiness event; on Windows
//!    the console handler wakes `signal::ctrl_c` listeners directly.
//! 6. Dropping the driver fails the remaining I/O objects with an error
//!    instead of leaving their tasks asleep forever.
//!
//! One waker slot per direction: at most one task should wait to *read* and
//! one to *write* on a given socket at a time (the halves of
//! `into_split` do exactly that). If two tasks wait in the same direction on
//! one socket, only the one that polled last is woken.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod driver;
pub mod io;
pub mod net;
mod registration;
pub mod signal;

pub use driver::{Driver, Handle};
