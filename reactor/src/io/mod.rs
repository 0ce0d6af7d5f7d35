//! Asynchronous byte I/O: the [`AsyncRead`] / [`AsyncWrite`] / [`AsyncSeek`] traits, their
//! `.await`-able extension methods, [`copy`] and [`BufReader`].
//!
//! Why minirt has its own traits: the reading side takes a plain `&mut [u8]`,
//! so implementing a reader needs no special buffer type (callers that read
//! into uninitialized memory use the provided
//! [`AsyncRead::poll_read_buf`] with a [`ReadBuf`]), and every
//! extension method returns a named future type (no boxing), so the traits work
//! the same in `no_std`-leaning code and hot loops. The optional `futures-io`
//! feature implements the `futures-io` traits for the socket types, for interop
//! with that ecosystem.
//!
//! ```
//! use minirt_reactor::io::{AsyncReadExt, AsyncWriteExt};
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! block_on(async {
//!     let mut out = Vec::new();
//!     out.write_all(b"hello").await?;
//!     let mut reader: &[u8] = &out;
//!     let mut text = String::new();
//!     reader.read_to_string(&mut text).await?;
//!     assert_eq!(text, "hello");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod buf_read_ext;
mod buf_reader;
#[cfg(feature = "futures-io")]
mod compat;
mod copy;
mod read_buf;
mod read_ext;
mod seek;
mod traits;
mod write_ext;

#[cfg(unix)]
mod async_fd;

/// Unix only: [`AsyncFd`](unix::AsyncFd), any non-blocking file descriptor
/// driven by the reactor (pipes, `pidfd`s, `eventfd`s, terminals).
#[cfg(unix)]
pub mod unix {
    pub use super::async_fd::{AsyncFd, Interest};
}

pub use buf_read_ext::{AsyncBufReadExt, ReadLine, ReadUntil};
pub use buf_reader::BufReader;
#[cfg(feature = "futures-io")]
pub use compat::Compat;
pub use copy::{copy, Copy};
pub use read_buf::ReadBuf;
pub use read_ext::{AsyncReadExt, Read, ReadBufVec, ReadExact, ReadToEnd, ReadToString};
pub use seek::{AsyncSeek, AsyncSeekExt, Seek};
pub use traits::{AsyncBufRead, AsyncRead, AsyncWrite};
pub use write_ext::{AsyncWriteExt, Flush, Shutdown, Write, WriteAll};
