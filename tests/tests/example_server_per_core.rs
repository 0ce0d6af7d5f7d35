//! The `echo_server_per_core` example (`minirt::server`) as a real process
//! with 2 workers: connections are spread over both workers, `SIGTERM`
//! stops accepting while conversations in flight finish within the grace
//! period, one that does not finish is aborted at its end, and the server
//! exits with status 0 after reporting each worker's drain; a second signal
//! during the drain exits at once with 128 + its number.
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples` (same profile as the tests). When it is
//! missing these tests print why and pass without checking anything.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::time::Duration;

use minirt_tests::bounded;

/// Connections made to see both workers. Linux hashes each connection's
/// addresses and ports to pick the listener, so with 2 workers the chance
/// that 64 connections all land on one is 2 × 2⁻⁶⁴: never, in practice.
const SPREAD_CONNECTIONS: usize = 64;

fn binary() -> Option<PathBuf> {
    minirt_tests::built_example("echo_server_per_core")
}

/// A running server, killed if the test fails.
struct Server {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: BufReader<ChildStderr>,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: PathBuf, grace_seconds: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["127.0.0.1:0", "2", grace_seconds])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start echo_server_per_core");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let line = read_line(&mut stdout);
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line should be `listening on ADDR`, got {line:?}"))
            .parse()
            .expect("the announced address is IP:PORT");
        Server {
            child,
            stdout,
            stderr,
            addr,
        }
    }

    /// Connects and reads the greeting: the index of the accepting worker.
    fn connect(&self) -> (TcpStream, usize) {
        let stream = TcpStream::connect(self.addr).expect("connect");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let greeting = read_line(&mut reader);
        let index = greeting
            .strip_prefix("worker ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("greeting should be `worker N`, got {greeting:?}"));
        (stream, index)
    }

    fn terminate(&mut self) {
        // SAFETY: `kill` has no memory-safety preconditions; the child has
        // not been waited for, so its pid still names it.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
        let line = read_line(&mut self.stderr);
        assert!(
            line.starts_with("minirt::server: SIGTERM received, draining"),
            "stderr after SIGTERM: {line:?}"
        );
    }

    /// Waits for exit 0 and returns the drain report: `(in flight, aborted)` by worker.
    fn finish(mut self) -> BTreeMap<usize, (usize, usize)> {
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "echo_server_per_core exited with {status}"
        );
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let mut report = BTreeMap::new();
        for line in rest.lines() {
            // "worker N: M in flight, K aborted"
            let words: Vec<&str> = line
                .split([' ', ':', ','])
                .filter(|w| !w.is_empty())
                .collect();
            assert!(
                matches!(words[..], ["worker", _, _, "in", "flight", _, "aborted"]),
                "unexpected report line {line:?}"
            );
            let number = |i: usize| words[i].parse::<usize>().unwrap();
            report.insert(number(1), (number(2), number(5)));
        }
        assert_eq!(report.len(), 2, "one line per worker:\n{rest}");
        report
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

fn round_trip(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut reply = vec![0; message.len()];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, message);
}

/// Closes our side and waits for the server to close its side (so the
/// connection task has ended before the test goes on).
fn close(mut stream: TcpStream) {
    stream.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"", "nothing left to echo");
}

#[test]
fn connections_spread_over_workers_and_sigterm_drains_them() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = binary() else { return };
        let mut server = Server::start(binary, "30");
        let mut seen = BTreeMap::new();
        for i in 0..SPREAD_CONNECTIONS {
            let (mut stream, index) = server.connect();
            round_trip(&mut stream, format!("ping {i}").as_bytes());
            close(stream);
            *seen.entry(index).or_insert(0) += 1;
        }
        assert_eq!(
            seen.keys().copied().collect::<Vec<_>>(),
            [0, 1],
            "both workers accept connections: {seen:?}"
        );

        // Three conversations in flight when the signal comes.
        let mut open: Vec<(TcpStream, usize)> = (0..3).map(|_| server.connect()).collect();
        for (stream, _) in &mut open {
            round_trip(stream, b"before");
        }
        server.terminate();
        // The workers stop accepting: soon connecting is refused. A probe
        // that races a listener closing is either reset (it was queued) or
        // accepted just before (then it is a conversation in flight too).
        let mut probes_accepted = BTreeMap::new();
        loop {
            match TcpStream::connect(server.addr) {
                Err(err) if err.kind() == ErrorKind::ConnectionRefused => break,
                // Queued on a listener that closed under it.
                Err(err) if err.kind() == ErrorKind::ConnectionReset => continue,
                Err(err) => panic!("connect after SIGTERM: {err}"),
                Ok(stream) => {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut greeting = String::new();
                    if let Ok(1..) = reader.read_line(&mut greeting) {
                        let index: usize = greeting.trim_end()["worker ".len()..].parse().unwrap();
                        *probes_accepted.entry(index).or_insert(0) += 1;
                        close(stream);
                    }
                }
            }
            std::thread::yield_now();
        }
        // The conversations in flight go on, without losing a reply.
        let mut expected = BTreeMap::new();
        for (mut stream, index) in open {
            round_trip(&mut stream, b"after the signal");
            close(stream);
            expected.entry(index).or_insert((0, 0)).0 += 1;
        }
        let report = server.finish();
        for index in [0, 1] {
            let kept_open = expected.get(&index).map_or(0, |(n, _)| *n);
            let probes = probes_accepted.get(&index).copied().unwrap_or(0);
            let (in_flight, aborted) = report[&index];
            assert!(
                (kept_open..=kept_open + probes).contains(&in_flight),
                "worker {index}: {in_flight} in flight, expected the {kept_open} kept open \
                 (+ up to {probes} late probes): {report:?}"
            );
            assert_eq!(aborted, 0, "nobody outlasted the grace period: {report:?}");
        }
    });
}

#[test]
fn a_conversation_that_outlasts_the_grace_period_is_aborted() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = binary() else { return };
        let mut server = Server::start(binary, "0.2");
        let (mut stream, index) = server.connect();
        round_trip(&mut stream, b"hello");
        server.terminate();
        // We never close: after 0.2 s the server aborts the connection.
        let mut rest = Vec::new();
        match stream.read_to_end(&mut rest) {
            Ok(_) => assert_eq!(rest, b""),
            Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionReset),
        }
        let report = server.finish();
        assert_eq!(report[&index], (1, 1), "{report:?}");
        assert_eq!(report[&(1 - index)], (0, 0), "{report:?}");
    });
}

#[test]
fn a_second_signal_during_the_drain_exits_at_once() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = binary() else { return };
        // A 60 s grace period the test would notice if it were waited out.
        let mut server = Server::start(binary, "60");
        let (mut stream, _) = server.connect();
        round_trip(&mut stream, b"hello");
        server.terminate();
        // SAFETY: `kill` has no memory-safety preconditions; the child has
        // not been waited for, so its pid still names it.
        let rc = unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGINT) };
        assert_eq!(rc, 0);
        let status = server.child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + libc::SIGINT), "{status}");
        let line = read_line(&mut server.stderr);
        assert_eq!(
            line,
            "minirt::server: second signal (SIGINT) while draining, exiting now"
        );
        drop(stream);
    });
}
