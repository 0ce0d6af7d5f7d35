//! Whole-file and whole-path operations: each does its entire job in ONE
//! blocking hop (open, read everything, close), so reading a small file
//! costs one trip to the blocking pool and back — not one per chunk.
//!
//! Every function's error names the operation and the path (see
//! `path_error.rs`) and keeps the `std::fs` error's kind.
//!
//! Cancel safety (all of them): dropping the future before it completes
//! does not stop the operation once the pool has started it; it runs to
//! the end on its own (a `write` writes the whole file, a `rename`
//! renames) and only its result is lost.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use super::hop;
use super::path_error::on_path;

/// Runs `f(path)` in one hop, naming `path` in its error.
async fn on_owned_path<T, F>(operation: &'static str, path: &Path, f: F) -> io::Result<T>
where
    F: FnOnce(&Path) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path: PathBuf = path.to_path_buf();
    hop::run(move || on_path(operation, &path, f(&path))).await
}

/// Reads the whole file at `path` into a vector ([`std::fs::read`]).
///
/// One blocking hop. Errors name the path: a missing file is
/// `NotFound` with the message "reading `path`: ...".
///
/// ```
/// # minirt::block_on(async {
/// let manifest = minirt::fs::read("Cargo.toml").await?;
/// assert!(manifest.starts_with(b"["));
/// let err = minirt::fs::read("no-such-file").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().contains("no-such-file"));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_owned_path("reading", path.as_ref(), |p| std::fs::read(p)).await
}

/// Reads the whole file at `path` as UTF-8 text ([`std::fs::read_to_string`]).
///
/// One blocking hop; invalid UTF-8 is an `InvalidData` error.
///
/// ```
/// # minirt::block_on(async {
/// let text = minirt::fs::read_to_string("Cargo.toml").await?;
/// assert!(text.contains("[package]"));
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_owned_path("reading", path.as_ref(), |p| std::fs::read_to_string(p)).await
}

/// Writes `contents` as the whole file at `path`, creating it or
/// truncating it first ([`std::fs::write`]).
///
/// One blocking hop (the bytes are copied once to move them to the pool).
/// Only an `Ok` means every byte reached the OS; it is not an `fsync`
/// (open a [`File`](super::File) and call `sync_all` for that).
///
/// ```
/// # minirt::block_on(async {
/// let path = std::env::temp_dir().join("minirt-doc-write.txt");
/// minirt::fs::write(&path, "hello").await?;
/// assert_eq!(minirt::fs::read_to_string(&path).await?, "hello");
/// minirt::fs::remove_file(&path).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let contents = contents.as_ref().to_vec();
    on_owned_path("writing", path.as_ref(), move |p| {
        std::fs::write(p, contents)
    })
    .await
}

/// Copies the contents and permissions of file `from` to `to`, returning
/// the number of bytes copied ([`std::fs::copy`], which uses the kernel's
/// copy where there is one).
///
/// ```
/// # minirt::block_on(async {
/// let to = std::env::temp_dir().join("minirt-doc-copy.toml");
/// let copied = minirt::fs::copy("Cargo.toml", &to).await?;
/// assert_eq!(copied, std::fs::metadata("Cargo.toml")?.len());
/// minirt::fs::remove_file(&to).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let to = to.as_ref().to_path_buf();
    on_owned_path("copying", from.as_ref(), move |from| {
        std::fs::copy(from, &to).map_err(|e| super::path_error::with_path("to", &to, e))
    })
    .await
}

/// Renames `from` to `to`, replacing `to` if it exists ([`std::fs::rename`]).
///
/// ```
/// # minirt::block_on(async {
/// let dir = std::env::temp_dir();
/// minirt::fs::write(dir.join("minirt-doc-a"), "x").await?;
/// minirt::fs::rename(dir.join("minirt-doc-a"), dir.join("minirt-doc-b")).await?;
/// assert_eq!(minirt::fs::read(dir.join("minirt-doc-b")).await?, b"x");
/// minirt::fs::remove_file(dir.join("minirt-doc-b")).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let to = to.as_ref().to_path_buf();
    on_owned_path("renaming", from.as_ref(), move |from| {
        std::fs::rename(from, &to).map_err(|e| super::path_error::with_path("to", &to, e))
    })
    .await
}

/// Removes the file at `path` ([`std::fs::remove_file`]).
///
/// ```
/// # minirt::block_on(async {
/// let err = minirt::fs::remove_file("no-such-file").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_owned_path("removing", path.as_ref(), |p| std::fs::remove_file(p)).await
}

/// Removes the empty directory at `path` ([`std::fs::remove_dir`]).
///
/// ```
/// # minirt::block_on(async {
/// let dir = std::env::temp_dir().join("minirt-doc-empty-dir");
/// minirt::fs::create_dir(&dir).await?;
/// minirt::fs::remove_dir(&dir).await?;
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_owned_path("removing directory", path.as_ref(), |p| {
        std::fs::remove_dir(p)
    })
    .await
}

/// Removes the directory at `path` and everything in it, in one hop
/// ([`std::fs::remove_dir_all`]).
///
/// ```
/// # minirt::block_on(async {
/// let dir = std::env::temp_dir().join("minirt-doc-tree");
/// minirt::fs::create_dir_all(dir.join("a/b")).await?;
/// minirt::fs::remove_dir_all(&dir).await?;
/// assert!(!dir.exists());
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_owned_path("removing directory tree", path.as_ref(), |p| {
        std::fs::remove_dir_all(p)
    })
    .await
}

/// Creates the directory at `path`; its parent must exist
/// ([`std::fs::create_dir`]).
///
/// ```
/// # minirt::block_on(async {
/// let err = minirt::fs::create_dir("no/such/parent").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_owned_path("creating directory", path.as_ref(), |p| {
        std::fs::create_dir(p)
    })
    .await
}

/// Creates the directory at `path` and every missing parent, in one hop
/// ([`std::fs::create_dir_all`]); an existing directory is fine.
///
/// ```
/// # minirt::block_on(async {
/// let dir = std::env::temp_dir().join("minirt-doc-create/x/y");
/// minirt::fs::create_dir_all(&dir).await?;
/// minirt::fs::create_dir_all(&dir).await?;
/// assert!(minirt::fs::metadata(&dir).await?.is_dir());
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_owned_path("creating directories", path.as_ref(), |p| {
        std::fs::create_dir_all(p)
    })
    .await
}

/// The metadata of `path`, following symbolic links ([`std::fs::metadata`]).
///
/// ```
/// # minirt::block_on(async {
/// let meta = minirt::fs::metadata("Cargo.toml").await?;
/// assert!(meta.is_file());
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_owned_path("reading metadata of", path.as_ref(), |p| {
        std::fs::metadata(p)
    })
    .await
}

/// The metadata of `path` itself, not following a symbolic link
/// ([`std::fs::symlink_metadata`]).
///
/// ```
/// # minirt::block_on(async {
/// assert!(minirt::fs::symlink_metadata("Cargo.toml").await?.is_file());
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    on_owned_path("reading metadata of", path.as_ref(), |p| {
        std::fs::symlink_metadata(p)
    })
    .await
}

/// Whether `path` exists: `Ok(false)` if it certainly does not, an error if
/// that cannot be known (a permission problem) ([`std::fs::exists`]'s
/// meaning, as tokio's `try_exists`).
///
/// ```
/// # minirt::block_on(async {
/// assert!(minirt::fs::try_exists("Cargo.toml").await?);
/// assert!(!minirt::fs::try_exists("no-such-file").await?);
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    on_owned_path("checking", path.as_ref(), |p| match std::fs::metadata(p) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    })
    .await
}

/// The absolute, normalized form of `path`, with symbolic links resolved
/// ([`std::fs::canonicalize`]).
///
/// ```
/// # minirt::block_on(async {
/// let full = minirt::fs::canonicalize("Cargo.toml").await?;
/// assert!(full.is_absolute());
/// # Ok::<(), std::io::Error>(()) }).unwrap();
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_owned_path("canonicalizing", path.as_ref(), |p| {
        std::fs::canonicalize(p)
    })
    .await
}
