//! The buffer a [`File`](super::File) reads ahead into and writes behind
//! from, and the blocking hops that fill and drain it.
//!
//! One buffer, in one of two modes:
//!
//! - **reading**: `data[pos..]` are bytes read ahead of the caller. The OS
//!   cursor is `data.len() - pos` bytes past the file's logical position.
//! - **writing**: `data` holds bytes the caller wrote that have not reached
//!   the OS yet (`pos` is 0). The OS cursor is `data.len()` bytes before
//!   the logical position.
//!
//! Read-ahead that is thrown away (the caller writes, seeks, truncates)
//! leaves the OS cursor too far ahead; rather than a hop just to move it
//! back, the distance is remembered in `rewind` and the next hop, whatever
//! it is, seeks back by it first.
//!
//! While a hop runs, it owns the buffer (moved into the closure and back),
//! so no lock is needed and a hop abandoned by a cancelled caller still
//! has it: the next operation waits for the hop and gets it back.

use std::fs::File as StdFile;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes read ahead per hop, and written-behind bytes buffered before a hop
/// drains them: large enough that a loop of small reads or writes costs
/// one hop per 64 KiB, small enough to be cheap per open file.
pub const BUFFER_SIZE: usize = 64 * 1024;

/// Largest single hop for a caller's large read or write (tokio's limit):
/// bigger requests are served in pieces.
pub const MAX_HOP: usize = 2 * 1024 * 1024;

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Buffer {
    /// Read-ahead or written-behind bytes.
    pub(crate) data: Vec<u8>,
    /// Reading: how much of `data` the caller has consumed. Writing: 0.
    pub(crate) pos: usize,
    /// The mode: `data` is written-behind bytes, not read-ahead.
    pub(crate) writing: bool,
    /// How far the OS cursor is past where the next hop must start.
    pub(crate) rewind: u64,
}

/// What a finished hop reports.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Read into the buffer; `Ok(0)` is end of file.
    Read(io::Result<usize>),
    /// Drained the written-behind bytes (on error, what is left of them
    /// stays in the buffer).
    Write(io::Result<()>),
    /// Moved the cursor; the new position.
    Seek(io::Result<u64>),
    /// `sync_all`, `sync_data` or `set_len`.
    Done(io::Result<()>),
    /// `try_clone`: a second handle to the same open file.
    Cloned(io::Result<StdFile>),
}

/// A hop other than read, write and seek; each first settles the cursor
/// (drains written-behind bytes, drops read-ahead).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Command {
    /// `File::sync_all`.
    SyncAll,
    /// `File::sync_data`.
    SyncData,
    /// `File::set_len`.
    SetLen(u64),
    /// `File::try_clone`.
    TryClone,
    /// `File::into_std`: only settle the cursor.
    Settle,
}

impl Buffer {
    /// Read-ahead not yet consumed.
    pub(crate) fn unread(&self) -> &[u8] {
        if self.writing {
            &[]
        } else {
            &self.data[self.pos..]
        }
    }

    /// Written-behind bytes not yet drained.
    pub(crate) fn unwritten(&self) -> usize {
        if self.writing {
            self.data.len()
        } else {
            0
        }
    }

    /// Throws the read-ahead away (remembering to move the OS cursor back)
    /// and switches to writing.
    pub(crate) fn discard_read_ahead(&mut self) {
        if !self.writing {
            self.rewind += (self.data.len() - self.pos) as u64;
            self.data.clear();
            self.pos = 0;
            self.writing = true;
        }
    }

    /// On the pool: moves the OS cursor back by `rewind`.
    fn apply_rewind(&mut self, file: &StdFile) -> io::Result<()> {
        if self.rewind > 0 {
            let back = i64::try_from(self.rewind).map_err(io::Error::other)?;
            (&*file).seek(SeekFrom::Current(-back))?;
            self.rewind = 0;
        }
        Ok(())
    }

    /// On the pool: writes the written-behind bytes, keeping what is left
    /// of them if that fails (so a retry or a later flush writes them, and
    /// a failing disk keeps failing rather than reporting success).
    fn drain(&mut self, file: &StdFile) -> io::Result<()> {
        let mut written = 0;
        let result = loop {
            if written == self.data.len() {
                break Ok(());
            }
            match (&*file).write(&self.data[written..]) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.data.drain(..written);
        if self.data.is_empty() {
            self.writing = false;
        }
        result
    }

    /// On the pool: gets the OS cursor to the logical position — drains
    /// written-behind bytes, or drops read-ahead and rewinds.
    fn settle(&mut self, file: &StdFile) -> io::Result<()> {
        // Written-behind bytes belong where the cursor was before any
        // discarded read-ahead, so rewind first, then drain.
        self.discard_read_ahead();
        self.apply_rewind(file)?;
        self.drain(file)
    }

    /// On the pool: one `read` of up to `want` bytes into the emptied
    /// buffer (a short read is fine; 0 is end of file).
    pub(crate) fn hop_read(mut self, file: &StdFile, want: usize) -> (Buffer, Outcome) {
        debug_assert!(self.unread().is_empty() && self.unwritten() == 0);
        let result = self.apply_rewind(file).and_then(|()| {
            self.writing = false;
            self.pos = 0;
            // Not cleared first: the bytes left from the last read are
            // overwritten (and truncated away below), so only growth is
            // zeroed, not 64 KiB per hop.
            self.data.resize(want, 0);
            loop {
                match (&*file).read(&mut self.data) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            }
        });
        self.data.truncate(*result.as_ref().unwrap_or(&0));
        (self, Outcome::Read(result))
    }

    /// On the pool: drains the written-behind bytes.
    pub(crate) fn hop_write(mut self, file: &StdFile) -> (Buffer, Outcome) {
        let result = self.apply_rewind(file).and_then(|()| self.drain(file));
        (self, Outcome::Write(result))
    }

    /// On the pool: settles the cursor, then seeks.
    pub(crate) fn hop_seek(mut self, file: &StdFile, to: SeekFrom) -> (Buffer, Outcome) {
        let result = self.settle(file).and_then(|()| (&*file).seek(to));
        (self, Outcome::Seek(result))
    }

    /// On the pool: settles the cursor, then runs `command`.
    pub(crate) fn hop_command(mut self, file: &StdFile, command: Command) -> (Buffer, Outcome) {
        let settled = self.settle(file);
        let outcome = match command {
            Command::SyncAll => Outcome::Done(settled.and_then(|()| file.sync_all())),
            Command::SyncData => Outcome::Done(settled.and_then(|()| file.sync_data())),
            Command::SetLen(len) => Outcome::Done(settled.and_then(|()| file.set_len(len))),
            Command::Settle => Outcome::Done(settled),
            Command::TryClone => Outcome::Cloned(settled.and_then(|()| file.try_clone())),
        };
        (self, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(contents: &[u8]) -> StdFile {
        let path = std::env::temp_dir().join(format!(
            "minirt-file-buffer-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, contents).unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).ok();
        file
    }

    #[test]
    fn discarded_read_ahead_is_rewound_by_the_next_hop() {
        let file = temp_file(b"0123456789");
        let (mut buffer, outcome) = Buffer::default().hop_read(&file, 8);
        assert!(matches!(outcome, Outcome::Read(Ok(8))));
        buffer.pos = 3; // the caller consumed "012"
        buffer.discard_read_ahead();
        assert_eq!(buffer.rewind, 5);
        buffer.data.extend_from_slice(b"ab");
        let (buffer, outcome) = buffer.hop_write(&file);
        assert!(matches!(outcome, Outcome::Write(Ok(()))));
        assert_eq!(buffer.rewind, 0);
        let (_, outcome) = buffer.hop_seek(&file, SeekFrom::Current(0));
        assert!(matches!(outcome, Outcome::Seek(Ok(5))));
        let mut all = Vec::new();
        (&file).seek(SeekFrom::Start(0)).unwrap();
        (&file).read_to_end(&mut all).unwrap();
        assert_eq!(all, b"012ab56789");
    }
}
