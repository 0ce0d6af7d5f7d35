//! Files and directories, without blocking the runtime: tokio's `fs` API
//! on minirt's blocking pool, batched so that it costs close to `std::fs`.
//!
//! # Why a blocking pool, and why batching
//!
//! Regular files are always "ready" to the OS's readiness APIs (epoll,
//! kqueue), so an async runtime cannot wait for them the way it waits for
//! sockets; a read that misses the page cache simply blocks the thread.
//! So every file operation here runs on the runtime's blocking pool
//! ([`spawn_blocking`](crate::spawn_blocking)), and the task waits for it.
//!
//! That hop — queue a job, wake a pool thread, wake the task back — costs
//! several microseconds, far more than a `read` of a cached file. tokio
//! users measure small reads through `tokio::fs::File` at 10x the cost of
//! `std::fs` (tokio issues #2994, #3664) because every small read is a
//! hop. minirt pays one hop per *job*, not per call:
//!
//! - the whole-file helpers ([`read`], [`read_to_string`], [`write`](fn@write),
//!   [`copy`], [`metadata`], ...) do the entire job — open, read or write
//!   everything, close — in ONE hop;
//! - [`File`] reads ahead 64 KiB per hop and serves small reads from its
//!   buffer (during a sequential read the next hop already runs while the
//!   caller consumes this one), and buffers small writes behind, draining
//!   them in one hop per 64 KiB or at `flush`;
//! - [`ReadDir`] fetches [`BATCH`] entries (and their file types) per hop.
//!
//! Errors are `std`'s with the operation and path in the message
//! ("reading `config.toml`: No such file or directory"), same
//! [`kind()`](std::io::Error::kind); a write-behind error is returned by the
//! next operation on the file, never dropped (see [`File`]).
//!
//! # Making the hop itself cheap
//!
//! Fewer hops is half of it; the other half is what one hop costs. A task
//! awaiting a hop usually has nothing else to do, and its thread used to
//! go to sleep in `epoll_wait` and be woken by an eventfd write when the
//! result came: two kernel round trips per hop, many microseconds on a
//! loaded machine. Now a runtime thread about to sleep while a blocking job
//! of its runtime is in flight (one, or one per worker; more come back in a
//! row anyway) spins for up to 50 µs first, and a result
//! that arrives meanwhile costs no system call at all; the pool thread
//! likewise spins for its next job, and counts as on its way back while it
//! hands a result over, so the next job waits for it rather than waking a
//! second thread. (Details in `driver/spin.rs` and `blocking/state.rs`.)
//!
//! # Why not run small operations inline
//!
//! A future cannot know whether its poller may block: a minirt worker
//! drives every other task too, and "small" files on a network file system
//! or a cold disk take milliseconds. So nothing here runs inline on a
//! runtime thread. (A blocking closure that wants files should simply call
//! `std::fs` — it is already off the runtime.)
//!
//! # Mock clock
//!
//! A runtime with the mock clock does not jump virtual time while blocking
//! work is queued or running, so `timeout(d, fs::read(p))` completes the
//! read rather than timing out in zero real time.
//!
//! # Panics
//!
//! Like `spawn_blocking`, these must be called inside a minirt runtime.
//!
//! ```
//! use minirt::io::{AsyncBufReadExt, BufReader};
//!
//! # minirt::block_on(async {
//! let dir = std::env::temp_dir().join("minirt-doc-fs");
//! minirt::fs::create_dir_all(&dir).await?;
//! minirt::fs::write(dir.join("names.txt"), "ada\ngrace\n").await?;
//!
//! let file = minirt::fs::File::open(dir.join("names.txt")).await?;
//! let mut lines = BufReader::new(file);
//! let mut first = String::new();
//! lines.read_line(&mut first).await?;
//! assert_eq!(first, "ada\n");
//! minirt::fs::remove_dir_all(&dir).await?;
//! # Ok::<(), std::io::Error>(()) }).unwrap();
//! ```

mod file;
mod file_buffer;
mod file_state;
mod hop;
mod open_options;
mod path_error;
mod read_dir;
mod whole_file;

pub use file::File;
pub use file_buffer::{BUFFER_SIZE, MAX_HOP};
pub use open_options::OpenOptions;
pub use read_dir::{read_dir, DirEntry, ReadDir, BATCH};
pub use whole_file::{
    canonicalize, copy, create_dir, create_dir_all, metadata, read, read_to_string, remove_dir,
    remove_dir_all, remove_file, rename, symlink_metadata, try_exists, write,
};
