//! `minirt::fs` when things go wrong: missing files, a full disk
//! (`/dev/full`), a file truncated under a reader, misuse. Each gives a
//! clear error naming the path, and no partial success is reported as
//! success.

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

#[cfg(target_os = "linux")]
use minirt::fs::OpenOptions;
use minirt::fs::{self, File};
use minirt::io::{AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWriteExt};
use minirt_tests::{bounded, named_runtimes, note_step};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("minirt-fs-faults")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[track_caller]
fn assert_not_found_naming(error: std::io::Error, path: &Path) {
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&*path.to_string_lossy()),
        "the error does not name {}: {message}",
        path.display()
    );
}

#[test]
fn a_missing_file_is_not_found_and_named() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("missing-{flavour}"));
            let missing = dir.join("no-such-file.txt");
            rt.block_on(async {
                assert_not_found_naming(fs::read(&missing).await.unwrap_err(), &missing);
                assert_not_found_naming(fs::read_to_string(&missing).await.unwrap_err(), &missing);
                assert_not_found_naming(File::open(&missing).await.unwrap_err(), &missing);
                assert_not_found_naming(fs::metadata(&missing).await.unwrap_err(), &missing);
                assert_not_found_naming(fs::remove_file(&missing).await.unwrap_err(), &missing);
                assert_not_found_naming(fs::read_dir(&missing).await.err().unwrap(), &missing);
                assert_not_found_naming(
                    fs::copy(&missing, dir.join("to")).await.unwrap_err(),
                    &missing,
                );
                assert_not_found_naming(
                    fs::rename(&missing, dir.join("to")).await.unwrap_err(),
                    &missing,
                );
                let nested = dir.join("no/such/dir/file");
                assert_not_found_naming(fs::write(&nested, b"x").await.unwrap_err(), &nested);
                assert!(!fs::try_exists(&missing).await.unwrap());
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// A file truncated while it is being read: the reader sees the shorter
/// file — `read_exact` of the old length fails with `UnexpectedEof`, and
/// `read_to_end` returns only the bytes that still exist. Its read-ahead
/// (already fetched) is served, nothing past it is invented.
#[test]
fn a_file_truncated_mid_read_gives_a_short_read_not_success() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("truncate-{flavour}"));
            let path = dir.join("shrinking.bin");
            let data: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
            std::fs::write(&path, &data).unwrap();
            rt.block_on(async {
                let mut file = File::open(&path).await.unwrap();
                let mut head = [0u8; 1000];
                file.read_exact(&mut head).await.unwrap();
                // Someone else truncates it to 200 000 bytes.
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(200_000)
                    .unwrap();
                let mut rest = vec![0u8; data.len() - 1000];
                let error = file.read_exact(&mut rest).await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::UnexpectedEof, "{flavour}: {error}");

                let mut file = File::open(&path).await.unwrap();
                file.read_exact(&mut head).await.unwrap();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(100_000)
                    .unwrap();
                let mut rest = Vec::new();
                file.read_to_end(&mut rest).await.unwrap();
                // The 64 KiB read ahead before the truncation, then nothing
                // past the new end.
                let got = 1000 + rest.len();
                assert!(
                    got <= 200_000,
                    "{flavour}: read {got} bytes of a 100 000-byte file"
                );
                assert_eq!(rest[..], data[1000..got]);
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// `/dev/full` fails every write with `ENOSPC`: buffered writes return
/// `Ok` (nothing has been written yet), but `flush` — and every `flush`
/// after it, since the bytes are kept — gives `StorageFull`, never `Ok`.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_fails_flush_and_keeps_failing() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            rt.block_on(async {
                let full = Path::new("/dev/full");
                let mut file = OpenOptions::new().write(true).open(full).await.unwrap();
                file.write_all(b"small").await.unwrap();
                for _ in 0..3 {
                    let error = file.flush().await.unwrap_err();
                    assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");
                    assert!(error.to_string().contains("/dev/full"), "{error}");
                }
                let error = file.sync_all().await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");
                let error = file.shutdown().await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");

                let error = fs::write(full, b"x").await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");
                assert!(error.to_string().contains("/dev/full"), "{error}");
            });
        }
    });
}

/// A write-behind hop's error (the hop started when the buffer filled,
/// after `write` had returned `Ok`) is returned by the next operation —
/// here the next write, a read, or a seek.
#[cfg(target_os = "linux")]
#[test]
fn a_write_behind_error_is_reported_by_the_next_operation() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            rt.block_on(async {
                let big = vec![7u8; 200_000];
                // Next write.
                let mut file = OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .await
                    .unwrap();
                let n = file.write(&big).await.unwrap();
                assert!(n > 0, "the first write is buffered and accepted");
                let error = file.write(b"more").await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");

                // Next seek.
                let mut file = OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .await
                    .unwrap();
                file.write(&big).await.unwrap();
                let error = file.seek(SeekFrom::Start(0)).await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");

                // Next read (a read-write handle).
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/full")
                    .await
                    .unwrap();
                file.write(&big).await.unwrap();
                let mut buf = [0u8; 4];
                let error = file.read(&mut buf).await.unwrap_err();
                assert_eq!(error.kind(), ErrorKind::StorageFull, "{flavour}: {error}");

                // write_all of more than a buffer: fails, never Ok.
                let mut file = OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .await
                    .unwrap();
                let result = async {
                    file.write_all(&big).await?;
                    file.write_all(&big).await?;
                    file.flush().await
                }
                .await;
                assert_eq!(result.unwrap_err().kind(), ErrorKind::StorageFull);
            });
        }
    });
}

/// Starting a seek while another operation is in flight is refused with a
/// message saying what to do; the `seek` future waits instead.
#[test]
fn start_seek_while_busy_is_refused_with_a_clear_error() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("busy-seek-{flavour}"));
            let path = dir.join("data.bin");
            rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                // Fills the buffer: a write-behind hop is now in flight.
                file.write_all(&vec![1u8; 64 * 1024]).await.unwrap();
                let error = Pin::new(&mut file)
                    .start_seek(SeekFrom::Start(0))
                    .unwrap_err();
                assert!(error.to_string().contains("poll_complete"), "{error}");
                assert_eq!(file.seek(SeekFrom::Start(10)).await.unwrap(), 10);
                file.flush().await.unwrap();
            });
            assert_eq!(std::fs::read(&path).unwrap().len(), 64 * 1024);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
#[should_panic(expected = "spawn_blocking")]
fn fs_outside_a_runtime_panics_with_a_clear_message() {
    let future = fs::read("Cargo.toml");
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = std::future::Future::poll(future.as_mut(), &mut cx);
}
