//! [`File`]: an open file whose reads and writes run on the blocking pool,
//! read ahead and written behind in one buffer so that many small calls
//! cost one hop.

use std::fmt;
use std::fs::{File as StdFile, Metadata, Permissions};
use std::io::{self, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use minirt_core::sync::Mutex;
use minirt_reactor::io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::file_buffer::{Command, Outcome};
use super::file_state::Inner;
use super::hop;
use super::OpenOptions;

/// An open file, read and written through minirt's
/// [`AsyncRead`] / [`AsyncWrite`] / [`AsyncSeek`] (tokio's `File`).
///
/// The operating system has no readiness notifications for regular files,
/// so every operation that touches the file runs on the blocking pool. A
/// hop to the pool and back costs far more than a small `read` system
/// call, so `File` keeps one 64 KiB buffer
/// ([`BUFFER_SIZE`](super::BUFFER_SIZE)):
///
/// - **read-ahead**: a read hop reads up to 64 KiB (more if the caller asks
///   for more), and later small reads are served from the buffer without a
///   hop. Once two read hops in a row have filled the buffer (a file read
///   from start to end), the next one starts right away, into a second
///   buffer, while the caller consumes the first: reading and copying to
///   the caller overlap, as with smol's `async-fs`. Only for regular files
///   opened through minirt (a pipe or terminal read ahead of the caller
///   could wait forever; a [`from_std`](File::from_std) file is not
///   checked);
/// - **write-behind**: writes are copied into the buffer and return at once;
///   when it fills, one hop writes it while the caller goes on, and the
///   next operation waits for that hop;
/// - **seek** drops the read-ahead (moving the OS cursor back to where the
///   caller is) or first writes the written-behind bytes, in the seek's own
///   hop.
///
/// # Errors are never lost
///
/// A write-behind hop's error cannot be returned by the `write` that
/// buffered the bytes (it already returned `Ok`). It is returned by the
/// **next operation** on the file — a write, read, seek, `flush`,
/// `sync_all` — and the bytes not written stay in the buffer, so a later
/// `flush` tries them again (and on a full disk fails again rather than
/// reporting success). Errors name the path the file was opened with.
///
/// # Flush before drop
///
/// [`flush`](minirt_reactor::io::AsyncWriteExt::flush) (or `shutdown`) hands
/// every buffered byte to the OS; [`sync_all`](File::sync_all) also makes it
/// durable. A `File` dropped with bytes still buffered writes them in a
/// detached blocking job, best effort (tokio behaves the same): its error
/// cannot be reported to anyone, and if the runtime is shutting down the
/// job may not run at all. Flush to know.
///
/// # Cancel safety
///
/// A read, write, seek or `sync_*` whose future is dropped while its hop
/// runs does not stop the hop: the hop keeps the buffer, the next operation
/// waits for it, reads its data from the buffer (a read's) or reports its
/// error (any's). Nothing is read twice or skipped.
///
/// ```
/// use minirt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
/// use std::io::SeekFrom;
///
/// # minirt::block_on(async {
/// let path = std::env::temp_dir().join("minirt-doc-file.txt");
/// let mut file = minirt::fs::File::create(&path).await?;
/// file.write_all(b"hello, ").await?;
/// file.write_all(b"world").await?;
/// file.flush().await?;
///
/// let mut file = minirt::fs::File::open(&path).await?;
/// file.seek(SeekFrom::Start(7)).await?;
/// let mut rest = String::new();
/// file.read_to_string(&mut rest).await?;
/// assert_eq!(rest, "world");
/// # minirt::fs::remove_file(&path).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub struct File {
    std: Arc<StdFile>,
    /// Boxed: minirt's async mutex is cache-line padded, and a `File`
    /// should stay small to move around.
    inner: Box<Mutex<Inner>>,
}

impl File {
    /// Opens the file at `path` for reading (one hop).
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let file = minirt::fs::File::open("Cargo.toml").await?;
    /// assert!(file.metadata().await?.is_file());
    /// let err = minirt::fs::File::open("missing.txt").await.unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// assert!(err.to_string().contains("missing.txt"));
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens the file at `path` for writing, creating it or truncating it
    /// (one hop).
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-create.txt");
    /// let file = minirt::fs::File::create(&path).await?;
    /// assert_eq!(file.metadata().await?.len(), 0);
    /// # minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// A new [`OpenOptions`], for the other ways to open a file.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-options.txt");
    /// let file = minirt::fs::File::options().append(true).create(true).open(&path).await?;
    /// # drop(file); minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std` file. Its cursor is where `std` left it.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let std = std::fs::File::open("Cargo.toml")?;
    /// let file = minirt::fs::File::from_std(std);
    /// assert!(file.metadata().await?.len() > 0);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn from_std(std: StdFile) -> File {
        // Not known to be a regular file (no hop here to ask): no
        // read-ahead pipeline (see "read-ahead" above).
        File::with_path(std, None, false)
    }

    /// The std file inside (for the handle of a child's pipe on Windows).
    #[cfg(windows)]
    pub(crate) fn std_file(&self) -> &StdFile {
        &self.std
    }

    /// `regular`: the file is known to be a regular file.
    pub(crate) fn with_path(std: StdFile, path: Option<Arc<Path>>, regular: bool) -> File {
        File {
            std: Arc::new(std),
            inner: Box::new(Mutex::new(Inner::new(path, regular))),
        }
    }

    /// Writes every buffered byte, then `fsync`s data and metadata: when
    /// this returns `Ok`, what was written survives a crash. One hop.
    ///
    /// Cancel safety: dropped mid-way, the sync still happens; its error,
    /// if any, is returned by the next operation.
    ///
    /// ```
    /// use minirt::io::AsyncWriteExt;
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-sync.txt");
    /// let mut file = minirt::fs::File::create(&path).await?;
    /// file.write_all(b"durable").await?;
    /// file.sync_all().await?;
    /// assert_eq!(std::fs::read(&path)?, b"durable");
    /// # minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn sync_all(&self) -> io::Result<()> {
        self.done(Command::SyncAll, "syncing").await
    }

    /// Like [`sync_all`](File::sync_all) but may skip metadata that is not
    /// needed to read the data back (`fdatasync`).
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-sync-data.txt");
    /// let file = minirt::fs::File::create(&path).await?;
    /// file.sync_data().await?;
    /// # minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn sync_data(&self) -> io::Result<()> {
        self.done(Command::SyncData, "syncing").await
    }

    /// Truncates or extends the file to `size` bytes, after writing the
    /// buffered bytes; the cursor does not move. One hop.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-set-len.txt");
    /// let file = minirt::fs::File::create(&path).await?;
    /// file.set_len(10).await?;
    /// assert_eq!(file.metadata().await?.len(), 10);
    /// # minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.done(Command::SetLen(size), "resizing").await
    }

    async fn done(&self, command: Command, operation: &'static str) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        match inner.run(&self.std, command).await? {
            Outcome::Done(result) => result.map_err(|e| inner.name_error(operation, e)),
            other => unreachable!("{command:?} gave {other:?}"),
        }
    }

    /// The file's metadata (one hop). Bytes still written behind are not
    /// counted in its length until a `flush`.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let file = minirt::fs::File::open("Cargo.toml").await?;
    /// assert_eq!(file.metadata().await?.len(), std::fs::metadata("Cargo.toml")?.len());
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        hop::run(move || std.metadata()).await
    }

    /// Changes the file's permissions (one hop).
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let path = std::env::temp_dir().join("minirt-doc-perm.txt");
    /// let file = minirt::fs::File::create(&path).await?;
    /// let mut permissions = file.metadata().await?.permissions();
    /// permissions.set_readonly(true);
    /// file.set_permissions(permissions).await?;
    /// assert!(file.metadata().await?.permissions().readonly());
    /// # minirt::fs::remove_file(&path).await?;
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn set_permissions(&self, permissions: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        hop::run(move || std.set_permissions(permissions)).await
    }

    /// A second `File` for the same open file (sharing its cursor), after
    /// the buffered bytes are written and the read-ahead dropped, so both
    /// start at this one's position. One hop.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let file = minirt::fs::File::open("Cargo.toml").await?;
    /// let other = file.try_clone().await?;
    /// assert_eq!(other.metadata().await?.len(), file.metadata().await?.len());
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn try_clone(&self) -> io::Result<File> {
        let mut inner = self.inner.lock().await;
        match inner.run(&self.std, Command::TryClone).await? {
            Outcome::Cloned(result) => result
                .map(|std| File::with_path(std, None, inner.may_read_ahead()))
                .map_err(|e| inner.name_error("cloning the handle of", e)),
            other => unreachable!("try_clone gave {other:?}"),
        }
    }

    /// The `std` file, after waiting for the hop in flight, writing the
    /// buffered bytes and moving the cursor back over unread read-ahead, so
    /// `std` continues exactly where this `File` was.
    ///
    /// tokio's signature: it cannot fail, so an error writing the
    /// buffered bytes is lost here. Call
    /// [`flush`](minirt_reactor::io::AsyncWriteExt::flush) first to see it.
    ///
    /// ```
    /// use std::io::Read;
    /// use minirt::io::AsyncReadExt;
    /// # minirt::block_on(async {
    /// let mut file = minirt::fs::File::open("Cargo.toml").await?;
    /// let mut first = [0u8; 1];
    /// file.read_exact(&mut first).await?; // reads ahead 64 KiB
    /// let mut std = file.into_std().await;
    /// let mut rest = Vec::new();
    /// std.read_to_end(&mut rest)?;
    /// assert_eq!(rest, std::fs::read("Cargo.toml")?[1..]);
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub async fn into_std(self) -> StdFile {
        // The settling hop (try_clone's, minus the clone).
        let mut inner = self.inner.lock().await;
        let _ = inner.run(&self.std, Command::Settle).await;
        drop(inner);
        // Nothing is buffered now, so dropping `self` writes nothing.
        let std = self.std.clone();
        drop(self);
        Arc::try_unwrap(std).unwrap_or_else(|shared| {
            // Only a hop holds another reference, and none is in flight.
            unreachable!("minirt::fs::File::into_std: file still shared ({shared:?})")
        })
    }

    /// The `std` file without waiting, if no hop is in flight and nothing
    /// is buffered (no read-ahead, no written-behind bytes); otherwise
    /// `self` back.
    ///
    /// ```
    /// # minirt::block_on(async {
    /// let file = minirt::fs::File::open("Cargo.toml").await?;
    /// assert!(file.try_into_std().is_ok());
    /// # Ok::<(), std::io::Error>(()) }).unwrap();
    /// ```
    pub fn try_into_std(mut self) -> Result<StdFile, File> {
        if !self.inner.get_mut().is_clean() {
            return Err(self);
        }
        let std = self.std.clone();
        drop(self);
        Arc::try_unwrap(std).map_err(|std| File {
            std,
            inner: Box::new(Mutex::new(Inner::new(None, false))),
        })
    }
}

impl Drop for File {
    /// Writes still-buffered bytes in a detached blocking job, best effort
    /// (see "Flush before drop" on [`File`]).
    fn drop(&mut self) {
        let Some(buffer) = self.inner.get_mut().take_unflushed() else {
            return;
        };
        let file = self.std.clone();
        let job = move || drop(buffer.hop_write(&file));
        match crate::Handle::try_current() {
            Some(handle) => drop(handle.spawn_blocking(job)),
            // No runtime to hand it to (dropped outside one): write here.
            None => job(),
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .finish_non_exhaustive()
    }
}

/// Served from the read-ahead buffer; one hop per 64 KiB (or per large
/// read), the next one already running during a sequential read. A hop's
/// error is returned by the read that waits for it; a failed read-ahead
/// is read again, and its error returned, when the caller gets there.
impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.inner.get_mut().poll_read(&this.std, cx, buf)
    }
}

/// Written behind: `poll_write` returns once the bytes are buffered; a
/// hop drains the buffer when it fills, and `poll_flush` / `poll_shutdown`
/// drain it and wait. Errors of a drain go to the next operation.
impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.inner.get_mut().poll_write(&this.std, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.inner.get_mut().poll_flush(&this.std, cx)
    }

    /// The same as `poll_flush`: a file has no write side to close.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// One hop per seek, which also drains written-behind bytes or drops the
/// read-ahead first. `start_seek` while another operation is in flight is
/// an error (use [`AsyncSeekExt::seek`](minirt_reactor::io::AsyncSeekExt::seek),
/// which waits for it) — except a read-ahead started on the file's own
/// account: then the seek is started by the next `poll_complete` (or read,
/// or write), once that read is done.
impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let this = self.get_mut();
        this.inner.get_mut().start_seek(&this.std, position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        this.inner.get_mut().poll_complete(&this.std, cx)
    }
}
