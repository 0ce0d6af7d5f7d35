//! `fs_small_reads`, `fs_seq_read_256m`, `fs_seq_write_256m`: file I/O
//! through minirt's `fs`, `tokio::fs` and smol's `async-fs`, plus plain
//! `std::fs` as the floor ([`std_runner`], printed by the `fs_std` binary:
//! the comparison table has one column per runtime).
//!
//! Why: every async runtime runs file I/O on a blocking pool, and a hop to
//! it costs more than a small read of a cached file; tokio users measure
//! small reads at 10x `std::fs` (tokio #2994, #3664). These rows show what
//! each runtime's batching (or lack of it) costs against `std`.
//!
//! Every side does the same work on one thread's runtime (current-thread
//! for minirt and tokio, `futures_lite::future::block_on` for smol — all
//! three with their blocking pools): reads and writes go through the
//! runtime's `File` with an [`CHUNK`]-byte buffer, the size a `BufReader`
//! or `io::copy` uses. Files live in a scratch directory next to the
//! binary (under `target/`), created outside the timed part and removed
//! when the run ends. The sequential rows move [`seq_bytes`] per iteration:
//! 256 MiB, or 32 MiB in quick mode so CI stays fast.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::workloads::{Runner, Runtime};

/// Files read by one `fs_small_reads` iteration.
pub const SMALL_FILES: usize = 1_000;
/// Size of each of those files.
pub const SMALL_FILE_BYTES: usize = 1_024;
/// The caller's buffer for sequential reads and writes.
pub const CHUNK: usize = 8 * 1024;

/// Bytes per sequential read or write iteration.
pub fn seq_bytes() -> usize {
    if crate::params::quick() {
        32 << 20
    } else {
        256 << 20
    }
}

/// The code for `id` (one of the `fs_*` rows) on `runtime`.
pub(crate) fn runner(runtime: Runtime, id: &str) -> Option<Runner> {
    let run: fn(u64) -> Duration = match (runtime, id) {
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "fs_small_reads") => minirt_side::small_reads,
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "fs_seq_read_256m") => minirt_side::seq_read,
        #[cfg(feature = "minirt")]
        (Runtime::Minirt, "fs_seq_write_256m") => minirt_side::seq_write,
        (Runtime::Tokio, "fs_small_reads") => tokio_side::small_reads,
        (Runtime::Tokio, "fs_seq_read_256m") => tokio_side::seq_read,
        (Runtime::Tokio, "fs_seq_write_256m") => tokio_side::seq_write,
        (Runtime::Smol, "fs_small_reads") => smol_side::small_reads,
        (Runtime::Smol, "fs_seq_read_256m") => smol_side::seq_read,
        (Runtime::Smol, "fs_seq_write_256m") => smol_side::seq_write,
        _ => return None,
    };
    Some(Runner::Time(run))
}

/// The same rows with plain blocking `std::fs`, for the `fs_std` binary.
pub fn std_runner(id: &str) -> Option<fn(u64) -> Duration> {
    match id {
        "fs_small_reads" => Some(std_side::small_reads),
        "fs_seq_read_256m" => Some(std_side::seq_read),
        "fs_seq_write_256m" => Some(std_side::seq_write),
        _ => None,
    }
}

/// A scratch directory under `target/`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let base = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_else(std::env::temp_dir);
        let dir = base
            .join("minirt-bench-fs")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the bench scratch directory");
        Scratch(dir)
    }

    /// `SMALL_FILES` files of `SMALL_FILE_BYTES` bytes; their paths.
    fn small_files(&self) -> Vec<PathBuf> {
        (0..SMALL_FILES)
            .map(|i| {
                let path = self.0.join(format!("small-{i:04}"));
                std::fs::write(&path, vec![i as u8; SMALL_FILE_BYTES])
                    .expect("writing a small file");
                path
            })
            .collect()
    }

    /// One file of `seq_bytes()` bytes; its path.
    fn big_file(&self) -> PathBuf {
        let path = self.0.join("big");
        let chunk = vec![0x5Au8; 1 << 20];
        let mut file = std::fs::File::create(&path).expect("creating the big file");
        for _ in 0..seq_bytes() >> 20 {
            std::io::Write::write_all(&mut file, &chunk).expect("writing the big file");
        }
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Checks a written file's size, outside the timed part.
fn check_written(path: &Path) {
    let len = std::fs::metadata(path).expect("the written file").len();
    assert_eq!(
        len as usize,
        seq_bytes(),
        "bytes lost writing {}",
        path.display()
    );
}

/// Times `iters` runs of `body` (which gets the iteration number).
fn timed(iters: u64, mut body: impl FnMut(u64)) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        body(i);
    }
    start.elapsed()
}

#[cfg(feature = "minirt")]
mod minirt_side {
    use super::*;
    use minirt::io::{AsyncReadExt, AsyncWriteExt};

    fn runtime() -> minirt::Runtime {
        minirt::Builder::current_thread()
            .build()
            .expect("minirt runtime")
    }

    pub(super) fn small_reads(iters: u64) -> Duration {
        let scratch = Scratch::new("minirt-small");
        let files = scratch.small_files();
        let rt = runtime();
        timed(iters, |_| {
            rt.block_on(async {
                for path in &files {
                    let bytes = minirt::fs::read(path).await.expect("read");
                    assert_eq!(black_box(bytes).len(), SMALL_FILE_BYTES);
                }
            })
        })
    }

    pub(super) fn seq_read(iters: u64) -> Duration {
        let scratch = Scratch::new("minirt-read");
        let path = scratch.big_file();
        let rt = runtime();
        timed(iters, |_| {
            rt.block_on(async {
                let mut file = minirt::fs::File::open(&path).await.expect("open");
                let mut buf = vec![0u8; CHUNK];
                let mut total = 0;
                loop {
                    let n = file.read(&mut buf).await.expect("read");
                    if n == 0 {
                        break;
                    }
                    total += black_box(n);
                }
                assert_eq!(total, seq_bytes());
            })
        })
    }

    pub(super) fn seq_write(iters: u64) -> Duration {
        let scratch = Scratch::new("minirt-write");
        let path = scratch.path("out");
        let rt = runtime();
        let chunk = vec![0xA5u8; CHUNK];
        let elapsed = timed(iters, |_| {
            rt.block_on(async {
                let mut file = minirt::fs::File::create(&path).await.expect("create");
                for _ in 0..seq_bytes() / CHUNK {
                    file.write_all(&chunk).await.expect("write");
                }
                file.flush().await.expect("flush");
            })
        });
        check_written(&path);
        elapsed
    }
}

mod tokio_side {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio runtime")
    }

    pub(super) fn small_reads(iters: u64) -> Duration {
        let scratch = Scratch::new("tokio-small");
        let files = scratch.small_files();
        let rt = runtime();
        timed(iters, |_| {
            rt.block_on(async {
                for path in &files {
                    let bytes = tokio::fs::read(path).await.expect("read");
                    assert_eq!(black_box(bytes).len(), SMALL_FILE_BYTES);
                }
            })
        })
    }

    pub(super) fn seq_read(iters: u64) -> Duration {
        let scratch = Scratch::new("tokio-read");
        let path = scratch.big_file();
        let rt = runtime();
        timed(iters, |_| {
            rt.block_on(async {
                let mut file = tokio::fs::File::open(&path).await.expect("open");
                let mut buf = vec![0u8; CHUNK];
                let mut total = 0;
                loop {
                    let n = file.read(&mut buf).await.expect("read");
                    if n == 0 {
                        break;
                    }
                    total += black_box(n);
                }
                assert_eq!(total, seq_bytes());
            })
        })
    }

    pub(super) fn seq_write(iters: u64) -> Duration {
        let scratch = Scratch::new("tokio-write");
        let path = scratch.path("out");
        let rt = runtime();
        let chunk = vec![0xA5u8; CHUNK];
        let elapsed = timed(iters, |_| {
            rt.block_on(async {
                let mut file = tokio::fs::File::create(&path).await.expect("create");
                for _ in 0..seq_bytes() / CHUNK {
                    file.write_all(&chunk).await.expect("write");
                }
                file.flush().await.expect("flush");
            })
        });
        check_written(&path);
        elapsed
    }
}

mod smol_side {
    use super::*;
    use futures_lite::future::block_on;
    use futures_lite::{AsyncReadExt, AsyncWriteExt};

    pub(super) fn small_reads(iters: u64) -> Duration {
        let scratch = Scratch::new("smol-small");
        let files = scratch.small_files();
        timed(iters, |_| {
            block_on(async {
                for path in &files {
                    let bytes = async_fs::read(path).await.expect("read");
                    assert_eq!(black_box(bytes).len(), SMALL_FILE_BYTES);
                }
            })
        })
    }

    pub(super) fn seq_read(iters: u64) -> Duration {
        let scratch = Scratch::new("smol-read");
        let path = scratch.big_file();
        timed(iters, |_| {
            block_on(async {
                let mut file = async_fs::File::open(&path).await.expect("open");
                let mut buf = vec![0u8; CHUNK];
                let mut total = 0;
                loop {
                    let n = file.read(&mut buf).await.expect("read");
                    if n == 0 {
                        break;
                    }
                    total += black_box(n);
                }
                assert_eq!(total, seq_bytes());
            })
        })
    }

    pub(super) fn seq_write(iters: u64) -> Duration {
        let scratch = Scratch::new("smol-write");
        let path = scratch.path("out");
        let chunk = vec![0xA5u8; CHUNK];
        let elapsed = timed(iters, |_| {
            block_on(async {
                let mut file = async_fs::File::create(&path).await.expect("create");
                for _ in 0..seq_bytes() / CHUNK {
                    file.write_all(&chunk).await.expect("write");
                }
                file.flush().await.expect("flush");
            })
        });
        check_written(&path);
        elapsed
    }
}

mod std_side {
    use super::*;
    use std::io::{Read, Write};

    pub(super) fn small_reads(iters: u64) -> Duration {
        let scratch = Scratch::new("std-small");
        let files = scratch.small_files();
        timed(iters, |_| {
            for path in &files {
                let bytes = std::fs::read(path).expect("read");
                assert_eq!(black_box(bytes).len(), SMALL_FILE_BYTES);
            }
        })
    }

    pub(super) fn seq_read(iters: u64) -> Duration {
        let scratch = Scratch::new("std-read");
        let path = scratch.big_file();
        timed(iters, |_| {
            let mut file = std::fs::File::open(&path).expect("open");
            let mut buf = vec![0u8; CHUNK];
            let mut total = 0;
            loop {
                let n = file.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                total += black_box(n);
            }
            assert_eq!(total, seq_bytes());
        })
    }

    pub(super) fn seq_write(iters: u64) -> Duration {
        let scratch = Scratch::new("std-write");
        let path = scratch.path("out");
        let chunk = vec![0xA5u8; CHUNK];
        let elapsed = timed(iters, |_| {
            let mut file = std::fs::File::create(&path).expect("create");
            for _ in 0..seq_bytes() / CHUNK {
                file.write_all(&chunk).expect("write");
            }
            file.flush().expect("flush");
        });
        check_written(&path);
        elapsed
    }
}
