//! The `echo_server` example as a real process: many clients at once, then
//! `SIGTERM` or `SIGINT` while conversations are in flight. The server must
//! stop accepting, let those conversations finish without losing a reply,
//! and exit with status 0; a client that never finishes is cut off after the
//! grace period and the server still exits 0.
//!
//! The example binary is not built by `cargo test`; build it first with
//! `cargo build --workspace --examples` (same profile as the tests). When it is
//! missing these tests print why and pass without checking anything.
//!
//! Unix only: the tests stop the server with `kill(2)`.
#![cfg(unix)]

use minirt_tests::bounded;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// Round trips each client makes before the signal, and again after it.
const ROUNDS: usize = 4;

/// Where `cargo build --examples` puts the example for this test's profile:
/// this test runs as `target/<profile>/deps/example_echo_server-<hash>`.
fn echo_server_binary() -> Option<PathBuf> {
    minirt_tests::built_example("echo_server")
}

/// A running echo server, killed if the test fails or hangs.
struct Server {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
    /// Dropping this tells the watchdog the test is over.
    _watchdog: mpsc::Sender<()>,
}

impl Server {
    /// Starts the server on a free port with `grace_seconds`, and waits for its
    /// `listening on ADDR` line.
    fn start(binary: PathBuf, grace_seconds: &str) -> Server {
        let mut child = Command::new(binary)
            .args(["127.0.0.1:0", grace_seconds])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start echo_server");
        let pid = child.id() as libc::pid_t;
        let (watchdog, finished) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(Duration::from_secs(60)) {
                eprintln!(
                    "echo_server test still running after 60 s: killing the server and aborting"
                );
                // SAFETY: `kill` has no memory-safety preconditions; at worst the pid is gone.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                std::process::abort();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let line = read_line(&mut stdout);
        let addr = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line should be `listening on ADDR`, got {line:?}"))
            .parse()
            .expect("the announced address is IP:PORT");
        Server {
            child,
            stdout,
            addr,
            _watchdog: watchdog,
        }
    }

    fn signal(&self, signum: libc::c_int) {
        // SAFETY: `kill` has no memory-safety preconditions; the child has not
        // been waited for, so its pid still names it.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signum) };
        assert_eq!(rc, 0, "kill({signum}): {}", std::io::Error::last_os_error());
    }

    /// Waits for exit, checks status 0 and that nothing more was printed.
    fn assert_clean_exit(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "echo_server exited with {status}");
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "", "unexpected output after the shutdown line");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // After a failed assertion: do not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

/// Sends `message` and checks that exactly it comes back.
fn round_trip(stream: &mut TcpStream, message: &[u8]) {
    stream.write_all(message).unwrap();
    let mut echoed = vec![0; message.len()];
    stream.read_exact(&mut echoed).unwrap();
    assert!(echoed == message, "the echo differs from what was sent");
}

fn message(client: usize, round: usize) -> Vec<u8> {
    // Up to ~64 KiB, different per client and round.
    let len = 1 + (client * 7919 + round * 104_729) % 65_536;
    (0..len)
        .map(|i| ((i + client + round) % 256) as u8)
        .collect()
}

/// `clients` conversations are mid-way when `signum` arrives; all must complete.
fn in_flight_conversations_survive(signum: libc::c_int, clients: usize) {
    let Some(binary) = echo_server_binary() else {
        return;
    };
    let mut server = Server::start(binary, "30");
    let addr = server.addr;
    // Two meeting points: "every client is mid-conversation" and "the server
    // has begun shutting down".
    let mid_conversation = Arc::new(Barrier::new(clients + 1));
    let shutting_down = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|client| {
            let mid_conversation = mid_conversation.clone();
            let shutting_down = shutting_down.clone();
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                for round in 0..ROUNDS {
                    round_trip(&mut stream, &message(client, round));
                }
                mid_conversation.wait();
                shutting_down.wait();
                for round in ROUNDS..2 * ROUNDS {
                    round_trip(&mut stream, &message(client, round));
                }
                // Our EOF ends the conversation; the server answers with its own.
                stream.shutdown(Shutdown::Write).unwrap();
                let mut tail = Vec::new();
                stream.read_to_end(&mut tail).unwrap();
                assert!(tail.is_empty(), "the server sent bytes nobody asked for");
            })
        })
        .collect();

    mid_conversation.wait();
    server.signal(signum);
    assert_eq!(
        read_line(&mut server.stdout),
        format!("shutting down: {clients} connection(s) in flight")
    );
    // The listener is closed before that line is printed.
    let refused = TcpStream::connect(addr).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");
    shutting_down.wait();
    for thread in threads {
        thread.join().expect("a client's conversation failed");
    }
    server.assert_clean_exit();
}

#[test]
fn sigterm_lets_in_flight_conversations_finish_and_exits_zero() {
    bounded(Duration::from_secs(60), || {
        in_flight_conversations_survive(libc::SIGTERM, 8);
    });
}

#[test]
fn sigint_lets_in_flight_conversations_finish_and_exits_zero() {
    bounded(Duration::from_secs(60), || {
        in_flight_conversations_survive(libc::SIGINT, 2);
    });
}

#[test]
fn a_client_that_never_finishes_is_cut_off_after_the_grace_period() {
    bounded(Duration::from_secs(60), || {
        let Some(binary) = echo_server_binary() else {
            return;
        };
        let mut server = Server::start(binary, "0.2");
        let mut lingering = TcpStream::connect(server.addr).unwrap();
        round_trip(&mut lingering, b"hello");
        server.signal(libc::SIGTERM);
        assert_eq!(
            read_line(&mut server.stdout),
            "shutting down: 1 connection(s) in flight"
        );
        // We never close; the server must close for us once the grace period is over.
        let mut buf = [0; 16];
        match lingering.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("unexpected {n} bytes from the server"),
            Err(err) => assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}"),
        }
        server.assert_clean_exit();
    });
}
