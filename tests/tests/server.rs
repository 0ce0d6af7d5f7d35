//! `minirt::server` in-process: misuse errors, the spread over workers,
//! shutdown through a `ShutdownHandle`, a failing worker stopping the others,
//! a worker panic re-raised from `serve`. Signals are tested with a real
//! process in `example_server_per_core.rs`.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use minirt::io::AsyncWriteExt;
use minirt::server::Server;
use minirt_tests::bounded;

#[test]
fn zero_workers_is_refused_with_a_clear_error() {
    let err = Server::builder()
        .workers(0)
        .bind("127.0.0.1:0")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("at least one worker"), "{err}");
}

#[test]
fn a_bind_failure_names_the_address() {
    // A port held by a socket without SO_REUSEPORT cannot be shared.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = Server::builder().workers(2).bind(addr).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn an_unresolvable_address_is_an_error() {
    let err = Server::builder().bind("not an address").unwrap_err();
    assert!(err.to_string().contains("not an address"), "{err}");
}

#[test]
fn every_worker_gets_connections_and_the_handle_drains_them() {
    bounded(Duration::from_secs(60), || {
        let server = Server::builder().workers(2).bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr();
        let handle = server.shutdown_handle();
        let (ready_tx, ready) = mpsc::channel();
        let serving = std::thread::spawn(move || {
            server.serve(move |worker| {
                let ready_tx = ready_tx.clone();
                async move {
                    ready_tx.send(worker.index()).unwrap();
                    loop {
                        let (mut stream, _) = worker.listener().accept().await?;
                        let index = worker.index();
                        worker.spawn(async move {
                            let _ = stream.write_all(&[index as u8]).await;
                        });
                    }
                }
            })
        });
        let started: BTreeSet<usize> = (0..2).map(|_| ready.recv().unwrap()).collect();
        assert_eq!(started, BTreeSet::from([0, 1]));
        // See example_server_per_core.rs for why 64 is enough.
        let mut seen = BTreeSet::new();
        for _ in 0..64 {
            let mut stream = TcpStream::connect(addr).unwrap();
            let mut index = Vec::new();
            stream.read_to_end(&mut index).unwrap();
            assert_eq!(index.len(), 1);
            seen.insert(index[0]);
        }
        assert_eq!(seen, BTreeSet::from([0, 1]));
        handle.shutdown();
        let report = serving.join().unwrap().unwrap();
        assert_eq!(report.signal, None);
        assert_eq!(report.workers.len(), 2);
        assert_eq!(report.aborted(), 0);
    });
}

#[test]
fn a_failing_worker_stops_the_others_and_serve_returns_its_error() {
    bounded(Duration::from_secs(60), || {
        let server = Server::builder().workers(3).bind("127.0.0.1:0").unwrap();
        let err = server
            .serve(|worker| async move {
                if worker.index() == 1 {
                    return Err(std::io::Error::other("worker 1 has no configuration"));
                }
                // The others would serve forever; the failure stops them.
                worker.shutdown_signal().await;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(err.to_string(), "worker 1 has no configuration");
    });
}

#[test]
fn connections_outlasting_the_grace_period_are_aborted() {
    bounded(Duration::from_secs(60), || {
        let server = Server::builder()
            .workers(2)
            .grace(Duration::from_millis(50))
            .bind("127.0.0.1:0")
            .unwrap();
        let handle = server.shutdown_handle();
        let (dropped_tx, dropped) = mpsc::channel::<usize>();
        let report = server
            .serve(move |worker| {
                let handle = handle.clone();
                let dropped_tx = dropped_tx.clone();
                async move {
                    struct Dropped(usize, mpsc::Sender<usize>);
                    impl Drop for Dropped {
                        fn drop(&mut self) {
                            let _ = self.1.send(self.0);
                        }
                    }
                    let guard = Dropped(worker.index(), dropped_tx);
                    worker.spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    });
                    // A connection that finishes within the grace period.
                    let stop = worker.shutdown_signal();
                    worker.spawn(stop);
                    handle.shutdown();
                    std::future::pending::<()>().await;
                    Ok(())
                }
            })
            .unwrap();
        for worker in &report.workers {
            assert_eq!((worker.in_flight, worker.aborted), (2, 1), "{report:?}");
        }
        let mut dropped: Vec<usize> = dropped.try_iter().collect();
        dropped.sort();
        assert_eq!(dropped, [0, 1], "aborted tasks are dropped");
    });
}

#[test]
fn a_worker_panic_is_raised_from_serve_after_the_others_stop() {
    bounded(Duration::from_secs(60), || {
        let server = Server::builder().workers(2).bind("127.0.0.1:0").unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            server.serve(|worker| async move {
                if worker.index() == 0 {
                    panic!("worker 0 broke");
                }
                worker.shutdown_signal().await;
                Ok(())
            })
        }));
        let payload = result.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"worker 0 broke"));
    });
}

#[cfg(target_os = "linux")]
#[test]
fn pinned_workers_report_their_cpu() {
    bounded(Duration::from_secs(60), || {
        let server = Server::builder()
            .workers(2)
            .pin_to_cores(true)
            .bind("127.0.0.1:0")
            .unwrap();
        let (tx, rx) = mpsc::channel();
        server
            .serve(move |worker| {
                let tx = tx.clone();
                async move {
                    // SAFETY: `sched_getcpu` has no preconditions.
                    let here = unsafe { libc::sched_getcpu() };
                    tx.send((worker.cpu(), here)).unwrap();
                    Ok(())
                }
            })
            .unwrap();
        for (cpu, here) in rx.try_iter() {
            assert_eq!(cpu, Some(here as usize));
        }
    });
}
