//! `minirt::fs` through the public API, on both runtimes: round trips,
//! read-ahead and write-behind against a `std` reference, `read_dir`,
//! cancellation and the mock clock. Faults are in `fs_faults.rs`.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use minirt::fs::{self, File, OpenOptions};
use minirt::io::{AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWriteExt};
use minirt::Builder;
use minirt_tests::{bounded, mock_runtimes, named_runtimes, note_step};

/// A fresh, empty directory under the target dir, unique per test and runtime.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("minirt-fs")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Deterministic bytes: no two nearby offsets look alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Apart from the round trip because Wine's `CopyFileExW` reports no byte
/// count (`std::fs::copy` returns 0 there; see `.ci/wine.sh`).
#[test]
fn copy_returns_the_bytes_copied() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("copy-count-{flavour}"));
            rt.block_on(async {
                let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
                fs::write(&a, pattern(12_345)).await.unwrap();
                assert_eq!(fs::copy(&a, &b).await.unwrap(), 12_345, "{flavour}");
                let err = fs::copy(dir.join("missing"), &b).await.unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{flavour}");
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
fn whole_file_helpers_round_trip() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("helpers-{flavour}"));
            rt.block_on(async {
                let a = dir.join("sub/deeper/a.bin");
                fs::create_dir_all(a.parent().unwrap()).await.unwrap();
                let data = pattern(200_000);
                fs::write(&a, &data).await.unwrap();
                assert_eq!(fs::read(&a).await.unwrap(), data, "{flavour}");
                assert_eq!(fs::metadata(&a).await.unwrap().len(), 200_000);

                let b = dir.join("b.txt");
                fs::write(&b, "héllo").await.unwrap();
                assert_eq!(fs::read_to_string(&b).await.unwrap(), "héllo");

                let c = dir.join("c.bin");
                fs::copy(&a, &c).await.unwrap(); // the count: see below
                let d = dir.join("d.bin");
                fs::rename(&c, &d).await.unwrap();
                assert!(!fs::try_exists(&c).await.unwrap());
                assert_eq!(fs::read(&d).await.unwrap(), data);
                fs::remove_file(&d).await.unwrap();
                assert!(!fs::try_exists(&d).await.unwrap());

                fs::remove_dir_all(dir.join("sub")).await.unwrap();
                assert!(!dir.join("sub").exists());
                assert!(fs::canonicalize(&b).await.unwrap().is_absolute());
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
fn many_small_writes_then_small_reads_round_trip() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("small-{flavour}"));
            let path = dir.join("small.bin");
            let data = pattern(300_001);
            rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                for piece in data.chunks(7) {
                    file.write_all(piece).await.unwrap();
                }
                file.flush().await.unwrap();
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    data,
                    "{flavour}: after flush"
                );

                let mut file = File::open(&path).await.unwrap();
                let mut back = Vec::new();
                let mut piece = [0u8; 13];
                loop {
                    let n = file.read(&mut piece).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    back.extend_from_slice(&piece[..n]);
                }
                assert_eq!(back, data, "{flavour}: read back");
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// xorshift64*: a reproducible stream of operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random reads, writes and seeks on a `File` and on an in-memory `std`
/// reference: every read and every seek must give the same answer, and the
/// file must end up byte for byte the reference.
#[test]
fn random_reads_writes_and_seeks_match_a_std_reference() {
    bounded(Duration::from_secs(120), || {
        for (flavour, rt) in named_runtimes() {
            for seed in [1u64, 2, 3] {
                note_step(format!("{flavour} seed {seed}"));
                let dir = scratch(&format!("random-{flavour}-{seed}"));
                let path = dir.join("random.bin");
                let initial = pattern(400_000);
                std::fs::write(&path, &initial).unwrap();
                let mut model = Cursor::new(initial);
                let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                rt.block_on(async {
                    let mut file = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(&path)
                        .await
                        .unwrap();
                    for step in 0..400 {
                        let len = model.get_ref().len() as i64;

                        match rng.below(10) {
                            0..=3 => {
                                // Small or large reads, across buffer edges.
                                let n = if rng.below(4) == 0 {
                                    rng.below(200_000)
                                } else {
                                    rng.below(300)
                                } as usize;
                                let mut got = vec![0u8; n];
                                let mut want = vec![0u8; n];
                                let g = file.read(&mut got).await.unwrap();
                                let w = Read::read(&mut model, &mut want).unwrap();
                                // A File may return fewer bytes than std (one
                                // hop, one `read`); the bytes must agree and
                                // the reference is then moved back to match.
                                assert!(g <= w, "step {step}: read {g} > {w}");
                                assert!(g > 0 || w == 0, "step {step}: early EOF");
                                assert_eq!(got[..g], want[..g], "step {step}");
                                Seek::seek(&mut model, SeekFrom::Current(g as i64 - w as i64))
                                    .unwrap();
                            }
                            4..=6 => {
                                let limit = if rng.below(4) == 0 { 150_000 } else { 500 };
                                // Not 0: `Cursor` pads to its position even on
                                // an empty write, a file does not.
                                let n = 1 + rng.below(limit);
                                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                                file.write_all(&bytes).await.unwrap();
                                Write::write_all(&mut model, &bytes).unwrap();
                            }
                            7 => {
                                let to = SeekFrom::Start(rng.below(len as u64 + 10));
                                let got = file.seek(to).await.unwrap();
                                assert_eq!(
                                    got,
                                    Seek::seek(&mut model, to).unwrap(),
                                    "step {step}: {to:?}"
                                );
                            }
                            8 => {
                                let back = rng.below(1000) as i64 - 500;
                                let pos = model.position() as i64;
                                let to = SeekFrom::Current(back.max(-pos));
                                let got = file.seek(to).await.unwrap();
                                assert_eq!(
                                    got,
                                    Seek::seek(&mut model, to).unwrap(),
                                    "step {step}: {to:?}"
                                );
                            }
                            _ => {
                                let to = SeekFrom::End(-(rng.below(len as u64 / 2 + 1) as i64));
                                let got = file.seek(to).await.unwrap();
                                assert_eq!(
                                    got,
                                    Seek::seek(&mut model, to).unwrap(),
                                    "step {step}: {to:?}"
                                );
                            }
                        }
                    }
                    let at = file.stream_position().await.unwrap();
                    assert_eq!(at, model.position());
                    file.flush().await.unwrap();
                });
                assert!(
                    std::fs::read(&path).unwrap() == *model.get_ref(),
                    "{flavour} seed {seed}: the file differs from the reference"
                );
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
    });
}

/// The read-ahead pipeline (a second read hop running while the caller
/// consumes the first; see `fs/file_state.rs`) against a `std` reference:
/// long sequential runs of reads, so the pipeline is running, broken up by
/// writes, seeks, a `start_seek` not followed by `poll_complete`, and
/// `into_std`-free cursor checks. Both runtimes and both clocks.
#[test]
fn sequential_runs_with_read_ahead_match_a_std_reference() {
    bounded(Duration::from_secs(180), || {
        let cases = named_runtimes()
            .into_iter()
            .chain(mock_runtimes().into_iter().map(|rt| ("mock", rt)));
        for (flavour, rt) in cases {
            for seed in [11u64, 12, 13] {
                note_step(format!("{flavour} seed {seed}"));
                let dir = scratch(&format!("ahead-{flavour}-{seed}"));
                let path = dir.join("ahead.bin");
                let initial = pattern(3 << 20);
                std::fs::write(&path, &initial).unwrap();
                let mut model = Cursor::new(initial);
                let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                rt.block_on(async {
                    let mut file = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .open(&path)
                        .await
                        .unwrap();
                    for step in 0..60 {
                        let len = model.get_ref().len() as u64;
                        match rng.below(8) {
                            0..=3 => {
                                // A run long enough to start reading ahead.
                                let run = 1 + rng.below(600_000) as usize;
                                let chunk = 1 + rng.below(20_000) as usize;
                                let mut done = 0;
                                while done < run {
                                    let n = chunk.min(run - done);
                                    let mut got = vec![0u8; n];
                                    let mut want = vec![0u8; n];
                                    let g = file.read(&mut got).await.unwrap();
                                    let w = Read::read(&mut model, &mut want).unwrap();
                                    assert!(g <= w, "step {step}: read {g} > {w}");
                                    assert!(g > 0 || w == 0, "step {step}: early EOF");
                                    assert!(got[..g] == want[..g], "step {step}: bytes differ");
                                    Seek::seek(&mut model, SeekFrom::Current(g as i64 - w as i64))
                                        .unwrap();
                                    if g == 0 {
                                        break;
                                    }
                                    done += g;
                                }
                            }
                            4 => {
                                let n = 1 + rng.below(3000) as usize;
                                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                                file.write_all(&bytes).await.unwrap();
                                Write::write_all(&mut model, &bytes).unwrap();
                            }
                            5 => {
                                let to = SeekFrom::Start(rng.below(len + 10));
                                let got = file.seek(to).await.unwrap();
                                assert_eq!(got, Seek::seek(&mut model, to).unwrap(), "step {step}");
                            }
                            6 => {
                                // `start_seek` then straight to a read: the
                                // read happens at the new position.
                                let to = SeekFrom::Start(rng.below(len));
                                std::pin::Pin::new(&mut file).start_seek(to).unwrap();
                                Seek::seek(&mut model, to).unwrap();
                                let mut got = [0u8; 100];
                                let mut want = [0u8; 100];
                                let g = file.read(&mut got).await.unwrap();
                                let w = Read::read(&mut model, &mut want).unwrap();
                                assert!(g <= w && (g > 0 || w == 0), "step {step}");
                                assert!(got[..g] == want[..g], "step {step}: bytes differ");
                                Seek::seek(&mut model, SeekFrom::Current(g as i64 - w as i64))
                                    .unwrap();
                            }
                            _ => {
                                let at = file.stream_position().await.unwrap();
                                assert_eq!(at, model.position(), "step {step}");
                            }
                        }
                    }
                    let at = file.stream_position().await.unwrap();
                    assert_eq!(at, model.position());
                    // A second `start_seek` before the first is complete is
                    // refused, and the first still completes.
                    let mut pinned = std::pin::Pin::new(&mut file);
                    pinned.as_mut().start_seek(SeekFrom::Start(5)).unwrap();
                    let again = pinned.as_mut().start_seek(SeekFrom::Start(9));
                    assert!(again.is_err(), "a second start_seek was accepted");
                    let done = std::future::poll_fn(|cx| pinned.as_mut().poll_complete(cx));
                    assert_eq!(done.await.unwrap(), 5);
                    file.flush().await.unwrap();
                });
                assert!(
                    std::fs::read(&path).unwrap() == *model.get_ref(),
                    "{flavour} seed {seed}: the file differs from the reference"
                );
                std::fs::remove_dir_all(&dir).unwrap();
            }
        }
    });
}

/// A file read to the end in small pieces, then handed to `std` mid-way
/// through a second pass: every byte arrives once, in order, and `std`
/// continues at the logical position although a read-ahead was in flight.
#[test]
fn a_file_read_to_the_end_with_read_ahead_and_into_std_mid_run() {
    bounded(Duration::from_secs(120), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("ahead-end-{flavour}"));
            let path = dir.join("big.bin");
            let data = pattern((5 << 20) + 12_345);
            std::fs::write(&path, &data).unwrap();
            rt.block_on(async {
                let mut file = File::open(&path).await.unwrap();
                let mut all = Vec::new();
                let mut chunk = vec![0u8; 8 * 1024];
                loop {
                    let n = file.read(&mut chunk).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&chunk[..n]);
                }
                assert!(all == data, "{flavour}: bytes differ");
                assert_eq!(file.read(&mut chunk).await.unwrap(), 0, "EOF again");
                // Second pass: 300 KiB in, a read-ahead is running.
                file.seek(SeekFrom::Start(0)).await.unwrap();
                let mut first = vec![0u8; 300 * 1024];
                file.read_exact(&mut first).await.unwrap();
                assert!(first[..] == data[..first.len()]);
                let mut std = file.into_std().await;
                let mut rest = Vec::new();
                std.read_to_end(&mut rest).unwrap();
                assert!(
                    rest[..] == data[first.len()..],
                    "{flavour}: std resumed elsewhere"
                );
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// What minirt does with bytes still buffered when a `File` is dropped
/// unflushed: it writes them in a detached blocking job. With one blocking
/// thread, a later blocking job runs after it, so the test can wait for it
/// without sleeping.
#[test]
fn dropped_unflushed_file_writes_its_bytes_in_the_background() {
    bounded(Duration::from_secs(60), || {
        let builders = [
            ("current_thread", Builder::current_thread()),
            ("multi_thread", Builder::multi_thread().worker_threads(2)),
        ];
        for (flavour, builder) in builders {
            note_step(flavour);
            let rt = builder.max_blocking_threads(1).build().unwrap();
            let dir = scratch(&format!("drop-{flavour}"));
            let path = dir.join("unflushed.txt");
            rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                file.write_all(b"buffered, never flushed").await.unwrap();
                // Still only in the buffer.
                assert_eq!(std::fs::read(&path).unwrap(), b"");
                drop(file);
                // One pool thread, FIFO: this runs after the drop's job.
                minirt::spawn_blocking(|| ()).await.unwrap();
            });
            assert_eq!(std::fs::read(&path).unwrap(), b"buffered, never flushed");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
fn read_dir_yields_all_1000_entries_once() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("read-dir-{flavour}"));
            for i in 0..1000 {
                std::fs::write(dir.join(format!("entry-{i:04}")), [i as u8]).unwrap();
            }
            std::fs::create_dir(dir.join("a-directory")).unwrap();
            let mut names = rt.block_on(async {
                let mut entries = fs::read_dir(&dir).await.unwrap();
                let mut names = Vec::new();
                while let Some(entry) = entries.next_entry().await.unwrap() {
                    let is_dir = entry.file_type().await.unwrap().is_dir();
                    let name = entry.file_name().into_string().unwrap();
                    assert_eq!(is_dir, name == "a-directory", "{name}");
                    assert_eq!(entry.path(), dir.join(&name));
                    if !is_dir {
                        assert_eq!(entry.metadata().await.unwrap().len(), 1);
                    }
                    names.push(name);
                }
                // The end stays the end.
                assert!(entries.next_entry().await.unwrap().is_none());
                names
            });
            names.sort();
            let mut expected: Vec<String> = (0..1000).map(|i| format!("entry-{i:04}")).collect();
            expected.push("a-directory".to_string());
            expected.sort();
            assert_eq!(names, expected, "{flavour}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// A read whose future is dropped while its hop waits or runs loses
/// nothing: the next read gets the bytes that hop read.
#[test]
fn a_cancelled_read_loses_no_bytes() {
    bounded(Duration::from_secs(60), || {
        let builders = [
            ("current_thread", Builder::current_thread()),
            ("multi_thread", Builder::multi_thread().worker_threads(2)),
        ];
        for (flavour, builder) in builders {
            note_step(flavour);
            let rt = builder.max_blocking_threads(1).build().unwrap();
            let dir = scratch(&format!("cancel-{flavour}"));
            let path = dir.join("data.bin");
            let data = pattern(100_000);
            std::fs::write(&path, &data).unwrap();
            rt.block_on(async {
                let mut file = File::open(&path).await.unwrap();
                let mut buf = [0u8; 10];
                // Hold the only pool thread so the first read's hop must wait.
                let (release, held) = std::sync::mpsc::channel::<()>();
                let gate = minirt::spawn_blocking(move || held.recv().ok());
                assert!(
                    poll_once(file.read(&mut buf)).await.is_none(),
                    "{flavour}: a read with its hop queued was ready"
                );
                release.send(()).unwrap();
                gate.await.unwrap();
                let mut back = Vec::new();
                while back.len() < data.len() {
                    // Poll each read once and drop it unless ready, as a
                    // losing `select!` branch would.
                    let Some(n) = poll_once(file.read(&mut buf)).await else {
                        minirt::yield_now().await;
                        continue;
                    };
                    let n = n.unwrap();
                    assert!(n > 0);
                    back.extend_from_slice(&buf[..n]);
                }
                assert_eq!(back, data, "{flavour}");
                assert_eq!(file.read(&mut buf).await.unwrap(), 0);
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
fn into_std_and_try_clone_continue_at_the_logical_position() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("into-std-{flavour}"));
            let path = dir.join("data.bin");
            let data = pattern(100_000);
            std::fs::write(&path, &data).unwrap();
            rt.block_on(async {
                let mut file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .await
                    .unwrap();
                let mut first = [0u8; 100];
                file.read_exact(&mut first).await.unwrap(); // 64 KiB read ahead
                let mut clone = file.try_clone().await.unwrap();
                let mut next = [0u8; 10];
                clone.read_exact(&mut next).await.unwrap();
                assert_eq!(next, data[100..110], "{flavour}: clone position");

                file.seek(SeekFrom::Start(5)).await.unwrap();
                file.write_all(b"XY").await.unwrap(); // written behind
                let mut std = file.into_std().await;
                assert_eq!(std.stream_position().unwrap(), 7);
                let mut rest = Vec::new();
                std.read_to_end(&mut rest).unwrap();
                assert_eq!(rest, data[7..]);
            });
            let mut expected = data.clone();
            expected[5..7].copy_from_slice(b"XY");
            assert_eq!(std::fs::read(&path).unwrap(), expected);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

#[test]
fn sync_all_set_len_and_metadata_see_written_behind_bytes() {
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("sync-{flavour}"));
            let path = dir.join("data.bin");
            rt.block_on(async {
                let mut file = File::create(&path).await.unwrap();
                file.write_all(b"0123456789").await.unwrap();
                file.sync_all().await.unwrap();
                assert_eq!(file.metadata().await.unwrap().len(), 10, "{flavour}");
                file.write_all(b"abc").await.unwrap();
                file.set_len(4).await.unwrap(); // drains "abc" first, then cuts
                assert_eq!(file.metadata().await.unwrap().len(), 4);
                file.sync_data().await.unwrap();
            });
            assert_eq!(std::fs::read(&path).unwrap(), b"0123");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// The mock clock does not jump while file work is on the blocking pool,
/// so a generous timeout around a read never fires in zero real time.
#[test]
fn fs_works_under_the_mock_clock() {
    bounded(Duration::from_secs(60), || {
        for (i, rt) in mock_runtimes().into_iter().enumerate() {
            note_step(format!("mock runtime {i}"));
            let dir = scratch(&format!("mock-{i}"));
            let path = dir.join("data.bin");
            let data = pattern(50_000);
            rt.block_on(async {
                let started = minirt::time::Instant::now();
                fs::write(&path, &data).await.unwrap();
                let read = minirt::time::timeout(Duration::from_secs(1), fs::read(&path)).await;
                assert_eq!(read.expect("timed out under the mock clock").unwrap(), data);
                let mut file = File::open(&path).await.unwrap();
                let mut back = Vec::new();
                minirt::time::timeout(Duration::from_secs(1), file.read_to_end(&mut back))
                    .await
                    .expect("timed out under the mock clock")
                    .unwrap();
                assert_eq!(back, data);
                // A sleep beside it still jumps.
                minirt::time::sleep(Duration::from_secs(3600)).await;
                assert!(started.elapsed() >= Duration::from_secs(3600));
            });
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}

/// Polls `future` once: its output if ready, `None` (dropping it) if not.
async fn poll_once<F: std::future::Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// A FIFO is not read ahead: once two 64 KiB reads have come back full, a
/// read-ahead would wait for input the writer never sends, and `into_std`
/// (which waits for hops in flight) would wait with it. The writer grows
/// the pipe to 1 MiB (so reads come back full), sends exactly 256 KiB, and
/// holds its end open until the reader is done.
#[cfg(target_os = "linux")]
#[test]
fn a_fifo_is_not_read_ahead() {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    const SENT: usize = 256 * 1024;
    bounded(Duration::from_secs(60), || {
        for (flavour, rt) in named_runtimes() {
            note_step(flavour);
            let dir = scratch(&format!("fifo-{flavour}"));
            let path = dir.join("fifo");
            let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
            // SAFETY: a NUL-terminated path and a mode.
            assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
            let (sent_tx, sent_rx) = std::sync::mpsc::channel::<()>();
            let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
            let writer_path = path.clone();
            let writer = std::thread::spawn(move || {
                let mut fifo = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&writer_path)
                    .unwrap();
                // SAFETY: an open descriptor; F_SETPIPE_SZ takes a size.
                let size = unsafe { libc::fcntl(fifo.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
                assert!(size >= SENT as i32, "pipe size {size}");
                fifo.write_all(&pattern(SENT)).unwrap();
                sent_tx.send(()).unwrap();
                // Keep the write end open: a read past SENT blocks.
                let _ = done_rx.recv_timeout(Duration::from_secs(50));
            });
            rt.block_on(async {
                let mut file = File::open(&path).await.unwrap();
                sent_rx.recv_timeout(Duration::from_secs(30)).unwrap();
                // In 8 KiB pieces, so reads hop 64 KiB at a time.
                let mut got = Vec::new();
                let mut piece = [0u8; 8 * 1024];
                while got.len() < SENT {
                    file.read_exact(&mut piece).await.unwrap();
                    got.extend_from_slice(&piece);
                }
                assert!(got == pattern(SENT), "{flavour}: bytes differ");
                // Returns only if no read is in flight.
                drop(file.into_std().await);
            });
            done_tx.send(()).unwrap();
            writer.join().unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
        }
    });
}
