//! The state machine of a [`File`](super::File): idle with its buffer, or
//! busy with one blocking hop that owns the buffer.
//!
//! ```text
//!            start(hop)                      hop done
//!   Idle(buffer) ───────────▶ Busy(JoinHandle) ─────────▶ Idle(buffer)
//!      │    ▲
//!      │    │ caller's buffer empty: the next one takes its place;
//!      │    │ any other operation: its bytes join the buffer
//!      ▼    │
//!   Idle(buffer) + ahead(JoinHandle)
//!        second full read in a row
//! ```
//!
//! # Reading ahead while the caller reads
//!
//! A file read from start to end in small pieces costs one hop per 64 KiB,
//! and with one hop at a time the caller waits for every one of them:
//! the read and the copy to the caller never overlap (smol's `async-fs`,
//! which streams through a pipe from a background thread, was 4x faster on
//! a 256 MiB read). So once two read hops in a row have filled the buffer,
//! the next read hop starts right away, into a second buffer (`ahead`),
//! while the caller consumes the first. When the first is used up, the
//! second takes its place and the next one starts.
//!
//! Only regular files read ahead (known from an `fstat` when the file is
//! opened; a `File::from_std` does not): a read ahead on a pipe or a
//! terminal could wait forever for input the caller never asked for, and
//! every later write or seek would wait with it.
//!
//! The `ahead` hop moves the OS cursor like any read, so no other hop may
//! run beside it: every other operation first waits for it and appends
//! its bytes to the buffer (they are read-ahead like any other, so a write
//! or seek then rewinds over them as usual). `start_seek`, which cannot
//! wait, records the seek (`pending_seek`) and the next poll starts it
//! once `ahead` is done. An `ahead` hop that fails or is cancelled
//! delivered nothing and moved no cursor: it is forgotten, and a later
//! read at that position does the read again (and reports its error).
//!
//! Every operation first waits for the hop in flight, if any
//! ([`Inner::poll_idle`]), whoever started it: a read or write whose future
//! was dropped still completes, and its outcome goes to the next operation.
//! An outcome the next operation was not waiting for is dropped — unless it
//! carries an error, which is kept in `error` and returned by the next
//! operation instead of its own work. That is how an error of a
//! write-behind hop (which nobody awaits: `poll_write` returned as soon as
//! the bytes were buffered) always reaches the caller.

use std::fs::File as StdFile;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::mem;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use minirt_core::task::JoinHandle;

use super::file_buffer::{Buffer, Command, Outcome, BUFFER_SIZE, MAX_HOP};
use super::hop;
use super::path_error::with_path;

/// Which outcome an operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// None: the caller only needs the file idle.
    Nothing,
    /// A read hop's.
    Read,
    /// A seek hop's.
    Seek,
    /// A [`Command`]'s.
    Command,
}

impl Outcome {
    fn is(&self, wanted: Wanted) -> bool {
        matches!(
            (self, wanted),
            (Outcome::Read(_), Wanted::Read)
                | (Outcome::Seek(_), Wanted::Seek)
                | (Outcome::Done(_) | Outcome::Cloned(_), Wanted::Command)
        )
    }

    /// The error of an outcome nobody waits for, named after its operation.
    fn into_error(self) -> Option<(&'static str, io::Error)> {
        match self {
            Outcome::Read(r) => r.err().map(|e| ("reading", e)),
            Outcome::Write(r) => r.err().map(|e| ("writing", e)),
            Outcome::Seek(r) => r.err().map(|e| ("seeking in", e)),
            Outcome::Done(r) => r.err().map(|e| ("syncing or resizing", e)),
            Outcome::Cloned(r) => r.err().map(|e| ("cloning the handle of", e)),
        }
    }
}

#[derive(Debug)]
enum State {
    Idle(Buffer),
    Busy(JoinHandle<(Buffer, Outcome)>),
}

/// Read hops in a row that filled the buffer before the next one is
/// started ahead of the caller (see the module docs): one full read may be
/// all a caller wants (a header); two look like a file read to the end.
const FULL_READS_BEFORE_AHEAD: u8 = 2;

/// Everything of a file that operations change, behind the file's lock.
#[derive(Debug)]
pub(crate) struct Inner {
    state: State,
    /// A read hop started ahead of the caller; only while `Idle` in
    /// reading mode with nothing to rewind (see the module docs).
    ahead: Option<JoinHandle<(Buffer, Outcome)>>,
    /// The size of that hop's read.
    ahead_want: usize,
    /// The size of the read hop in flight, if it is one.
    hop_want: usize,
    /// Read hops in a row that filled the buffer.
    full_reads: u8,
    /// A buffer to read ahead into (the one the last `ahead` replaced).
    spare: Option<Buffer>,
    /// A seek `start_seek` could not start while `ahead` was in flight.
    pending_seek: Option<SeekFrom>,
    /// Whether reading ahead is safe: a regular file, whose reads never
    /// wait for a writer (a pipe or terminal read ahead of the caller
    /// could block a later write or seek forever).
    may_read_ahead: bool,
    /// An error of a hop nobody waited for, for the next operation.
    error: Option<io::Error>,
    /// The position the last seek reported (`poll_complete` when idle).
    last_seek: u64,
    /// The path the file was opened with, for error messages.
    path: Option<Arc<Path>>,
}

impl Inner {
    /// `may_read_ahead`: the file is known to be a regular file.
    pub(crate) fn new(path: Option<Arc<Path>>, may_read_ahead: bool) -> Inner {
        Inner {
            state: State::Idle(Buffer::default()),
            ahead: None,
            ahead_want: 0,
            hop_want: 0,
            full_reads: 0,
            spare: None,
            pending_seek: None,
            may_read_ahead,
            error: None,
            last_seek: 0,
            path,
        }
    }

    /// `error`, named after `operation` and the path if known.
    fn named(&self, operation: &'static str, error: io::Error) -> io::Error {
        match &self.path {
            Some(path) => with_path(operation, path, error),
            None => error,
        }
    }

    /// Waits for the hop in flight, and for a read-ahead hop (whose bytes
    /// join the buffer), then starts a pending seek and waits for it too.
    /// Returns the outcome of the hop waited for if it is the `wanted`
    /// kind; an error kept from earlier (or of an unwanted outcome) is
    /// returned instead, once.
    pub(crate) fn poll_idle(
        &mut self,
        file: &Arc<StdFile>,
        cx: &mut Context<'_>,
        wanted: Wanted,
    ) -> Poll<io::Result<Option<Outcome>>> {
        ready!(self.poll_absorb_ahead(cx));
        if let Some(to) = self.pending_seek.take() {
            self.start(file, move |buffer, file| buffer.hop_seek(file, to));
        }
        self.poll_hop(cx, wanted)
    }

    /// Waits for the `ahead` hop, if any, and appends what it read to the
    /// buffer; its failure is forgotten (see the module docs).
    fn poll_absorb_ahead(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(ahead) = &mut self.ahead else {
            return Poll::Ready(());
        };
        let joined = ready!(Pin::new(ahead).poll(cx));
        self.ahead = None;
        self.full_reads = 0;
        if let Ok((read, Outcome::Read(Ok(n)))) = joined {
            if n > 0 {
                let buffer = self.buffer();
                if buffer.unread().is_empty() {
                    debug_assert_eq!(buffer.rewind, 0);
                    self.spare = Some(mem::replace(buffer, read));
                } else {
                    let mut read = read;
                    buffer.data.extend_from_slice(read.unread());
                    read.data.clear();
                    read.pos = 0;
                    self.spare = Some(read);
                }
            }
        }
        Poll::Ready(())
    }

    /// Waits for the hop in flight (not `ahead`); see [`poll_idle`](Self::poll_idle).
    fn poll_hop(
        &mut self,
        cx: &mut Context<'_>,
        wanted: Wanted,
    ) -> Poll<io::Result<Option<Outcome>>> {
        let mut result = None;
        if let State::Busy(handle) = &mut self.state {
            let joined = ready!(Pin::new(handle).poll(cx));
            match joined {
                Ok((buffer, outcome)) => {
                    self.state = State::Idle(buffer);
                    if outcome.is(wanted) {
                        result = Some(outcome);
                    } else if let Some((operation, error)) = outcome.into_error() {
                        // Keep the first error; later ones are consequences.
                        if self.error.is_none() {
                            self.error = Some(self.named(operation, error));
                        }
                    }
                }
                Err(join_error) => {
                    // The hop was dropped unstarted (runtime shutting
                    // down) and its buffer with it: say so.
                    self.state = State::Idle(Buffer::default());
                    let error = self.named("operating on", hop::join_error(join_error));
                    self.error.get_or_insert(error);
                }
            }
        }
        if let Some(error) = self.error.take() {
            return Poll::Ready(Err(error));
        }
        Poll::Ready(Ok(result))
    }

    /// The buffer; only while idle.
    fn buffer(&mut self) -> &mut Buffer {
        match &mut self.state {
            State::Idle(buffer) => buffer,
            State::Busy(_) => unreachable!("minirt::fs::File: buffer used while a hop owns it"),
        }
    }

    /// Starts `hop` with the buffer on the blocking pool.
    fn start(
        &mut self,
        file: &Arc<StdFile>,
        hop: impl FnOnce(Buffer, &StdFile) -> (Buffer, Outcome) + Send + 'static,
    ) {
        let buffer = mem::take(self.buffer());
        let file = file.clone();
        self.state = State::Busy(crate::spawn_blocking(move || hop(buffer, &file)));
    }

    pub(crate) fn poll_read(
        &mut self,
        file: &Arc<StdFile>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            // A pending seek comes first (and ends the read-ahead); without
            // one, only the hop in flight is waited for and `ahead` runs on.
            let outcome = if self.pending_seek.is_some() {
                ready!(self.poll_idle(file, cx, Wanted::Read))?
            } else {
                ready!(self.poll_hop(cx, Wanted::Read))?
            };
            match outcome {
                Some(Outcome::Read(Err(error))) => {
                    self.full_reads = 0;
                    return Poll::Ready(Err(self.named("reading", error)));
                }
                Some(Outcome::Read(Ok(0))) => {
                    self.full_reads = 0;
                    return Poll::Ready(Ok(0));
                }
                Some(Outcome::Read(Ok(n))) => self.note_full_read(file, n),
                _ => {}
            }
            let buffer = self.buffer();
            let unread = buffer.unread();
            if !unread.is_empty() {
                let n = unread.len().min(dst.len());
                dst[..n].copy_from_slice(&unread[..n]);
                buffer.pos += n;
                return Poll::Ready(Ok(n));
            }
            if buffer.unwritten() > 0 {
                // Written-behind bytes come first, at their position.
                self.start(file, |buffer, file| buffer.hop_write(file));
            } else if let Some(ahead) = self.ahead.take() {
                // The buffer is used up: the hop reading ahead becomes the
                // hop in flight, and the empty buffer the next spare.
                debug_assert_eq!(self.buffer().rewind, 0);
                self.spare = Some(mem::take(self.buffer()));
                self.hop_want = self.ahead_want;
                self.state = State::Busy(ahead);
            } else {
                let want = dst.len().clamp(BUFFER_SIZE, MAX_HOP);
                self.hop_want = want;
                self.start(file, move |buffer, file| buffer.hop_read(file, want));
            }
        }
    }

    /// A read hop of `hop_want` bytes returned `n > 0` into the buffer: on
    /// the second full one in a row, start the next read ahead of the
    /// caller (see the module docs).
    fn note_full_read(&mut self, file: &Arc<StdFile>, n: usize) {
        if n < self.hop_want {
            self.full_reads = 0;
            return;
        }
        self.full_reads = self.full_reads.saturating_add(1);
        if self.full_reads < FULL_READS_BEFORE_AHEAD || self.ahead.is_some() || !self.may_read_ahead
        {
            return;
        }
        let buffer = self.buffer();
        if buffer.writing || buffer.rewind != 0 {
            return;
        }
        let spare = self.spare.take().unwrap_or_default();
        let want = self.hop_want;
        let file = file.clone();
        self.ahead_want = want;
        self.ahead = Some(crate::spawn_blocking(move || spare.hop_read(&file, want)));
    }

    pub(crate) fn poll_write(
        &mut self,
        file: &Arc<StdFile>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            ready!(self.poll_idle(file, cx, Wanted::Nothing))?;
            let buffer = self.buffer();
            buffer.discard_read_ahead();
            let room = BUFFER_SIZE.saturating_sub(buffer.data.len());
            if src.len() < room {
                buffer.data.extend_from_slice(src);
                return Poll::Ready(Ok(src.len()));
            }
            if room == 0 && !buffer.data.is_empty() {
                // Left over from a failed drain that was reported: retry it.
                self.start(file, |buffer, file| buffer.hop_write(file));
                continue;
            }
            // This write fills the buffer: accept what fits and drain it in
            // the background; the next operation waits for that hop.
            let n = if buffer.data.is_empty() {
                src.len().min(MAX_HOP)
            } else {
                room
            };
            buffer.data.extend_from_slice(&src[..n]);
            self.start(file, |buffer, file| buffer.hop_write(file));
            return Poll::Ready(Ok(n));
        }
    }

    pub(crate) fn poll_flush(
        &mut self,
        file: &Arc<StdFile>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_idle(file, cx, Wanted::Nothing))?;
            if self.buffer().unwritten() == 0 {
                return Poll::Ready(Ok(()));
            }
            self.start(file, |buffer, file| buffer.hop_write(file));
        }
    }

    pub(crate) fn start_seek(&mut self, file: &Arc<StdFile>, to: SeekFrom) -> io::Result<()> {
        if matches!(self.state, State::Busy(_)) || self.pending_seek.is_some() {
            return Err(io::Error::other(
                "minirt::fs::File::start_seek: another operation is in flight; \
                 poll_complete until it is ready first (AsyncSeekExt::seek does)",
            ));
        }
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if self.ahead.is_some() {
            // Started by the next poll, once the read-ahead is done.
            self.pending_seek = Some(to);
            return Ok(());
        }
        self.start(file, move |buffer, file| buffer.hop_seek(file, to));
        Ok(())
    }

    pub(crate) fn poll_complete(
        &mut self,
        file: &Arc<StdFile>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<u64>> {
        match ready!(self.poll_idle(file, cx, Wanted::Seek))? {
            Some(Outcome::Seek(Ok(position))) => {
                self.last_seek = position;
                Poll::Ready(Ok(position))
            }
            Some(Outcome::Seek(Err(error))) => Poll::Ready(Err(self.named("seeking in", error))),
            _ => Poll::Ready(Ok(self.last_seek)),
        }
    }

    /// Waits for the hop in flight, then runs `command` in one hop (which
    /// first drains written-behind bytes) and returns its outcome.
    ///
    /// Cancel safety: dropped after the hop started, the command still
    /// runs; its error, if any, goes to the next operation.
    pub(crate) async fn run(
        &mut self,
        file: &Arc<StdFile>,
        command: Command,
    ) -> io::Result<Outcome> {
        std::future::poll_fn(|cx| self.poll_idle(file, cx, Wanted::Nothing)).await?;
        self.start(file, move |buffer, file| buffer.hop_command(file, command));
        let outcome = std::future::poll_fn(|cx| self.poll_idle(file, cx, Wanted::Command)).await?;
        Ok(outcome.expect("the command just started is the hop in flight"))
    }

    /// See [`Inner::new`].
    pub(crate) fn may_read_ahead(&self) -> bool {
        self.may_read_ahead
    }

    /// Names an error of `operation` (for the outcomes of [`run`](Inner::run)).
    pub(crate) fn name_error(&self, operation: &'static str, error: io::Error) -> io::Error {
        self.named(operation, error)
    }

    /// No hop in flight, no error kept, nothing buffered either way.
    pub(crate) fn is_clean(&self) -> bool {
        if self.ahead.is_some() || self.pending_seek.is_some() {
            return false;
        }
        match &self.state {
            State::Idle(buffer) => {
                self.error.is_none()
                    && buffer.unread().is_empty()
                    && buffer.unwritten() == 0
                    && buffer.rewind == 0
            }
            State::Busy(_) => false,
        }
    }

    /// For `Drop`: written-behind bytes nobody flushed.
    pub(crate) fn take_unflushed(&mut self) -> Option<Buffer> {
        match &mut self.state {
            State::Idle(buffer) if buffer.unwritten() > 0 => Some(mem::take(buffer)),
            _ => None,
        }
    }
}
