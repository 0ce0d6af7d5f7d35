//! [`AsyncSeek`]: moving the cursor of a file-like object whose seek may
//! have to wait (a file whose operations run on a blocking pool), and the
//! `.await`-able [`AsyncSeekExt::seek`].
//!
//! The trait has tokio's two-step shape rather than one `poll_seek`: the
//! target is handed over once with [`start_seek`](AsyncSeek::start_seek),
//! then [`poll_complete`](AsyncSeek::poll_complete) is polled until the new
//! position is known. An implementation that must hand the seek to another
//! thread then never has to remember an argument between polls that a
//! caller might change.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Seeks asynchronously: [`std::io::Seek`] in two steps.
///
/// Call [`start_seek`](AsyncSeek::start_seek) once, then
/// [`poll_complete`](AsyncSeek::poll_complete) until it is ready; it
/// resolves to the new position from the start of the stream. Most users
/// call [`AsyncSeekExt::seek`] instead.
///
/// ```
/// use minirt_reactor::io::{AsyncSeek, AsyncSeekExt};
/// use std::io::{Cursor, SeekFrom};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let mut cursor = Cursor::new(vec![0u8; 10]);
/// let at = block_on(cursor.seek(SeekFrom::End(-3)))?;
/// assert_eq!(at, 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncSeek {
    /// Starts moving the cursor to `position`.
    ///
    /// # Errors
    ///
    /// An implementation may refuse a new seek while a previous operation
    /// is still in flight (call `poll_complete` until ready first; the
    /// [`seek`](AsyncSeekExt::seek) future does).
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()>;

    /// Waits for the seek started by `start_seek` and returns the new
    /// position. Without a seek started, returns the current position where
    /// the implementation knows it.
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>>;
}

impl<T: AsyncSeek + Unpin + ?Sized> AsyncSeek for &mut T {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pin::new(&mut **self).start_seek(position)
    }
    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self).poll_complete(cx)
    }
}

impl<T: AsyncSeek + Unpin + ?Sized> AsyncSeek for Box<T> {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        Pin::new(&mut **self).start_seek(position)
    }
    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Pin::new(&mut **self).poll_complete(cx)
    }
}

/// Seeks in memory; never pending.
impl<T: AsRef<[u8]> + Unpin> AsyncSeek for io::Cursor<T> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        io::Seek::seek(self.get_mut(), position).map(drop)
    }
    fn poll_complete(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.get_mut().position()))
    }
}

/// Extension methods for [`AsyncSeek`]: `seek`, `rewind`, `stream_position`.
///
/// ```
/// use minirt_reactor::io::AsyncSeekExt;
/// use std::io::{Cursor, SeekFrom};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let mut f = std::pin::pin!(f);
/// #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let mut cursor = Cursor::new(b"hello".to_vec());
/// assert_eq!(block_on(cursor.seek(SeekFrom::Start(2)))?, 2);
/// assert_eq!(block_on(cursor.stream_position())?, 2);
/// assert_eq!(block_on(cursor.rewind())?, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves the cursor to `position`; resolves to the new position from
    /// the start.
    ///
    /// Cancel safety: if dropped after the seek started, the seek still
    /// takes effect (the next operation on the object waits for it); the
    /// new position is just not reported.
    fn seek(&mut self, position: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek {
            seeker: self,
            position: Some(position),
        }
    }

    /// Moves the cursor back to the start (`seek(SeekFrom::Start(0))`).
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The current position (`seek(SeekFrom::Current(0))`).
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

/// The future of [`AsyncSeekExt::seek`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Seek<'a, S: ?Sized> {
    seeker: &'a mut S,
    /// The target, until the seek has been started.
    position: Option<SeekFrom>,
}

impl<S: AsyncSeek + Unpin + ?Sized> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = &mut *self;
        if let Some(position) = this.position {
            // Let whatever is in flight finish before starting ours.
            ready!(Pin::new(&mut *this.seeker).poll_complete(cx))?;
            this.position = None;
            Pin::new(&mut *this.seeker).start_seek(position)?;
        }
        Pin::new(&mut *this.seeker).poll_complete(cx)
    }
}
