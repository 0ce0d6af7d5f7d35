//! [`OpenOptions`]: `std`'s builder, opening in one blocking hop.

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::hop;
use super::path_error::on_path;
use super::File;

/// How to open a file: [`std::fs::OpenOptions`] whose
/// [`open`](OpenOptions::open) is `async` (tokio's `OpenOptions`).
///
/// ```
/// use minirt::fs::OpenOptions;
/// use minirt::io::AsyncWriteExt;
///
/// # minirt::block_on(async {
/// let path = std::env::temp_dir().join("minirt-doc-open-options.log");
/// # let _ = std::fs::remove_file(&path);
/// let mut log = OpenOptions::new().append(true).create(true).open(&path).await?;
/// log.write_all(b"line\n").await?;
/// log.flush().await?;
/// assert_eq!(std::fs::read(&path)?, b"line\n");
///
/// let err = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
/// # minirt::fs::remove_file(&path).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions(std::fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Every option off (as [`std::fs::OpenOptions::new`]).
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Open for appending: every write goes to the end.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Truncate an existing file to 0 bytes (needs `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a created file, before the umask
    /// ([`std::os::unix::fs::OpenOptionsExt::mode`]).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Extra `open(2)` flags ([`std::os::unix::fs::OpenOptionsExt::custom_flags`]).
    #[cfg(unix)]
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut self.0, flags);
        self
    }

    /// Opens the file at `path` with these options, in one hop.
    ///
    /// Errors are `std`'s with the path in the message ("opening `path`:
    /// ..."), same kind. Cancel safety: dropped mid-way, the file may still
    /// be opened (and created) and is then closed again.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let options = self.0.clone();
        let path: Arc<Path> = Arc::from(path.as_ref());
        let opened = path.clone();
        let (std, regular) = hop::run(move || {
            let std = on_path("opening", &opened, options.open(&opened))?;
            // Whether `File` may read ahead (see there); one `fstat`.
            let regular = std.metadata().is_ok_and(|m| m.is_file());
            Ok((std, regular))
        })
        .await?;
        Ok(File::with_path(std, Some(path), regular))
    }
}

impl From<std::fs::OpenOptions> for OpenOptions {
    /// Wraps `std` options.
    fn from(options: std::fs::OpenOptions) -> Self {
        OpenOptions(options)
    }
}
