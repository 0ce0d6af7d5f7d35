//! [`read_dir`]: a directory's entries as they come, a batch per hop.
//!
//! tokio's `ReadDir` fetches 32 entries per blocking hop; so does this one
//! ([`BATCH`]), and it also fetches each entry's file type in the same hop
//! (free on Linux, where the kernel returns it with the name), so the
//! common `entry.file_type().await?.is_dir()` costs no hop of its own.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use minirt_core::task::JoinHandle;

use super::hop;
use super::path_error::{on_path, with_path};

/// Entries fetched per blocking hop.
pub const BATCH: usize = 32;

/// A batch of entries, the iterator to continue from, and whether it ended.
// The std iterator is boxed: on Windows it holds a whole `WIN32_FIND_DATAW`
// (~600 bytes), which would make every `ReadDir` future that large.
type Batch = (VecDeque<io::Result<DirEntry>>, Box<std::fs::ReadDir>, bool);

/// Opens the directory at `path` for iterating over its entries
/// ([`std::fs::read_dir`]).
///
/// Opening is one hop; [`ReadDir::next_entry`] then fetches [`BATCH`]
/// entries per hop. The entries `.` and `..` are skipped; the order is the
/// file system's.
///
/// ```
/// # minirt::block_on(async {
/// let mut entries = minirt::fs::read_dir(".").await?;
/// let mut names = Vec::new();
/// while let Some(entry) = entries.next_entry().await? {
///     names.push(entry.file_name());
/// }
/// assert!(names.iter().any(|n| n == "Cargo.toml"));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path: Arc<Path> = Arc::from(path.as_ref());
    let opened = path.clone();
    let std =
        hop::run(move || on_path("reading directory", &opened, std::fs::read_dir(&opened))).await?;
    Ok(ReadDir {
        path,
        state: State::Idle(Some((VecDeque::new(), Box::new(std), false))),
    })
}

/// The entries of a directory; created by [`read_dir`].
///
/// Cancel safety: [`next_entry`](ReadDir::next_entry) is cancel safe.
/// A batch being fetched when its future is dropped is kept, and the next
/// call takes its entries; none is lost or repeated.
#[derive(Debug)]
pub struct ReadDir {
    /// The directory, for error messages.
    path: Arc<Path>,
    state: State,
}

#[derive(Debug)]
enum State {
    /// Entries ready to hand out, or `None` after an error ended the batch.
    Idle(Option<Batch>),
    /// A hop fetching the next batch.
    Fetching(JoinHandle<Batch>),
}

impl ReadDir {
    /// The next entry, or `None` when the directory has no more.
    ///
    /// An error for one entry is returned in its place; iterating may go
    /// on after it. Cancel safe (see [`ReadDir`]).
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let mut entries = minirt::fs::read_dir(".").await?;
    /// let first = entries.next_entry().await?;
    /// assert!(first.is_some());
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Poll form of [`next_entry`](ReadDir::next_entry): `Ready(Ok(None))`
    /// at the end.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(batch) => {
                    let Some((entries, _, done)) = batch.as_mut() else {
                        return Poll::Ready(Ok(None));
                    };
                    if let Some(entry) = entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    if *done {
                        return Poll::Ready(Ok(None));
                    }
                    let (entries, std, _) = batch.take().expect("checked above");
                    let path = self.path.clone();
                    self.state = State::Fetching(crate::spawn_blocking(move || {
                        fetch_batch(&path, entries, std)
                    }));
                }
                State::Fetching(handle) => {
                    let joined = ready!(Pin::new(handle).poll(cx));
                    match joined {
                        Ok(batch) => self.state = State::Idle(Some(batch)),
                        Err(error) => {
                            self.state = State::Idle(None);
                            return Poll::Ready(Err(hop::join_error(error)));
                        }
                    }
                }
            }
        }
    }
}

/// Fills `entries` with up to [`BATCH`] entries of `std` (on the pool).
fn fetch_batch(
    dir: &Path,
    mut entries: VecDeque<io::Result<DirEntry>>,
    mut std: Box<std::fs::ReadDir>,
) -> Batch {
    for _ in 0..BATCH {
        match std.next() {
            None => return (entries, std, true),
            Some(Ok(entry)) => {
                let file_type = entry.file_type();
                entries.push_back(Ok(DirEntry {
                    file_type: file_type.ok(),
                    std: Arc::new(entry),
                }));
            }
            Some(Err(error)) => {
                entries.push_back(Err(with_path("reading directory", dir, error)));
            }
        }
    }
    (entries, std, false)
}

/// An entry of a directory, from [`ReadDir::next_entry`].
///
/// ```
/// # minirt::block_on(async {
/// let mut entries = minirt::fs::read_dir(".").await?;
/// while let Some(entry) = entries.next_entry().await? {
///     if entry.file_name() == "Cargo.toml" {
///         assert!(entry.file_type().await?.is_file());
///         assert!(entry.metadata().await?.len() > 0);
///         assert!(entry.path().ends_with("Cargo.toml"));
///     }
/// }
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// Fetched in the same hop as the entry (`None` if that failed).
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The full path: the directory given to [`read_dir`] joined with
    /// [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name within its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number ([`std::os::unix::fs::DirEntryExt::ino`]).
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's type, not following a symbolic link. Usually known
    /// already (fetched with the entry); a hop otherwise.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        hop::run(move || on_path("reading file type of", &std.path(), std.file_type())).await
    }

    /// The entry's metadata, not following a symbolic link (one hop).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        hop::run(move || on_path("reading metadata of", &std.path(), std.metadata())).await
    }
}
