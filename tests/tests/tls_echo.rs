//! TLS over loopback with futures-rustls on minirt (feature `futures-io`):
//! the way to HTTPS. minirt's `TcpStream` implements the futures-io traits,
//! so futures-rustls runs its handshake on it directly; the TLS stream it
//! hands back is wrapped in `minirt::io::Compat`, and from there minirt's own
//! `copy`, `BufReader` and extension traits do the echoing.
//!
//! On every runtime kind (current-thread, multi-thread with 1 and with 2
//! workers): several lines and a 1 MiB payload (many TLS records) come back
//! byte for byte; a client that does not trust the server's certificate gets
//! an error, never a stream, and the server keeps serving the clients before
//! and after it; close is clean both ways (close_notify, then EOF).
//!
//! Linux only, like the futures-rustls and rcgen dev-dependencies (ring's
//! build compiles C for the target; CI's Windows and macOS cross builds have
//! no compiler for that). The certificate is made at run time with rcgen.

#![cfg(target_os = "linux")]

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_rustls::client::TlsStream as ClientTls;
use futures_rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use minirt::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, Compat,
};
use minirt::net::{TcpListener, TcpStream};
use minirt::task::JoinHandle;
use minirt_tests::{bounded, each_case, note_step, ClockKind, FLAVORS};

const LIMIT: Duration = Duration::from_secs(120);

/// Crosses many TLS records (at most 16 KiB of plaintext each) and many
/// 8 KiB `copy` buffers; sent and received at once, as the echo of a stream
/// larger than the socket buffers must be.
const LARGE: usize = 1 << 20;

const LINES: [&str; 4] = [
    "hello over TLS\n",
    "a second line\n",
    "\n",
    "the last line, longer than the others so the buffers are exercised\n",
];

/// A TLS stream on minirt TCP, with minirt's I/O traits.
type ClientStream = Compat<ClientTls<TcpStream>>;

/// The certificates and keys of one test: a server for "localhost", a client
/// config that trusts it, and one that trusts only another certificate.
struct Pki {
    acceptor: TlsAcceptor,
    trusting: TlsConnector,
    untrusting: TlsConnector,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A fresh self-signed certificate for "localhost", named `name` (its
/// subject and issuer), and its key.
fn self_signed(name: &str) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("certificate names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key_pair = rcgen::KeyPair::generate().expect("generating a key");
    let cert = params
        .self_signed(&key_pair)
        .expect("signing the certificate");
    let key = PrivatePkcs8KeyDer::from(key_pair.serialize_der());
    (cert.der().clone(), key.into())
}

fn connector_trusting(cert: CertificateDer<'static>) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    roots.add(cert).expect("adding the root");
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn pki() -> Pki {
    let (cert, key) = self_signed("minirt test server");
    // Another name, so the client finds no issuer at all (with the same
    // name it would try this certificate and report a bad signature).
    let (other_cert, _) = self_signed("someone else");
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server certificate");
    Pki {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        trusting: connector_trusting(cert),
        untrusting: connector_trusting(other_cert),
    }
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// One handle of a stream shared by a reader and a writer, for the APIs that
/// take them as two `&mut` (`minirt::io::copy`, or a read and a write in one
/// `join!`). A TLS stream cannot be split like a socket: reading and writing
/// share the session. Both handles must be polled from the same task (as
/// `copy` and `join!` do), so the lock is never contended and a wake-up for
/// either direction reaches the task that waits on it.
struct Shared<T>(Arc<Mutex<T>>);

fn shared<T>(stream: T) -> (Shared<T>, Shared<T>) {
    let stream = Arc::new(Mutex::new(stream));
    (Shared(stream.clone()), Shared(stream))
}

impl<T> Shared<T> {
    /// The stream back, once the other handle is dropped.
    fn into_inner(self) -> T {
        let Ok(stream) = Arc::try_unwrap(self.0) else {
            panic!("the other handle is still alive")
        };
        stream.into_inner().unwrap()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Shared<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Shared<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.lock().unwrap()).poll_shutdown(cx)
    }
}

/// What the server saw on one connection.
#[derive(Debug)]
struct Served {
    /// Bytes echoed (`copy`'s count), or the handshake's or echo's error.
    echoed: io::Result<u64>,
    /// What a raw read of the TCP stream gave after the TLS close: `Ok(0)`
    /// when the client's close shut its TCP write side too (no bytes after
    /// close_notify).
    tcp_after_close: Option<io::Result<usize>>,
}

/// One connection: TLS handshake, echo with `minirt::io::copy` through
/// `Compat`, then close (close_notify and the TCP write side).
///
/// rustls keeps TLS bytes its socket would not take yet until the next
/// write or flush; `copy` flushes whenever its reader has nothing for now,
/// so a client may wait for its whole reply without closing first
/// ([`reply_before_close`]).
async fn serve_one(acceptor: TlsAcceptor, tcp: TcpStream) -> Served {
    let tls = match acceptor.accept(tcp).await {
        Ok(tls) => tls,
        Err(err) => {
            return Served {
                echoed: Err(err),
                tcp_after_close: None,
            }
        }
    };
    let (mut reader, mut writer) = shared(Compat::new(tls));
    let echoed = async {
        let n = minirt::io::copy(&mut reader, &mut writer).await?;
        writer.shutdown().await?;
        Ok(n)
    }
    .await;
    if echoed.is_err() {
        return Served {
            echoed,
            tcp_after_close: None,
        };
    }
    drop(reader);
    let (mut tcp, _session) = writer.into_inner().into_inner().into_inner();
    let tcp_after_close = Some(tcp.read(&mut [0; 64]).await);
    Served {
        echoed,
        tcp_after_close,
    }
}

/// A TLS echo server on `127.0.0.1:0` that accepts `connections` clients,
/// each served by its own task; resolves to what it saw on each, in accept
/// order. A failed handshake ends only that client's task.
async fn start_server(
    acceptor: TlsAcceptor,
    connections: usize,
) -> (SocketAddr, JoinHandle<Vec<Served>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = minirt::spawn(async move {
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let (tcp, _) = listener.accept().await.unwrap();
            tasks.push(minirt::spawn(serve_one(acceptor.clone(), tcp)));
        }
        let mut served = Vec::new();
        for task in tasks {
            served.push(task.await.unwrap());
        }
        served
    });
    (addr, server)
}

async fn connect(connector: &TlsConnector, addr: SocketAddr) -> io::Result<ClientStream> {
    let tcp = TcpStream::connect(addr).await?;
    Ok(Compat::new(connector.connect(localhost(), tcp).await?))
}

/// Sends each of [`LINES`] and reads its echo with `BufReader::read_line`
/// before sending the next; then closes and expects a clean EOF.
async fn echo_lines(stream: ClientStream, label: &str) -> u64 {
    let mut stream = BufReader::new(stream);
    for line in LINES {
        stream.write_all(line.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        let mut got = String::new();
        let n = stream.read_line(&mut got).await.unwrap();
        assert_eq!((n, got.as_str()), (line.len(), line), "{label}");
    }
    close_and_expect_eof(stream, label).await;
    LINES.iter().map(|line| line.len() as u64).sum()
}

/// Closes the write side (`poll_shutdown` → futures-io `poll_close`: TLS
/// close_notify, then TCP shutdown) and reads to the end: nothing more, and
/// EOF rather than an error (rustls reports a peer that vanished without
/// close_notify as `UnexpectedEof`).
async fn close_and_expect_eof<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, label: &str) {
    stream.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let n = stream.read_to_end(&mut rest).await.unwrap();
    assert_eq!(n, 0, "{label}: bytes after the echo: {rest:?}");
    // And EOF stays EOF.
    assert_eq!(stream.read(&mut [0; 16]).await.unwrap(), 0, "{label}");
}

/// A payload whose bytes depend on their position, so a lost, repeated or
/// reordered chunk shows.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
        .collect()
}

/// Sends `data` and receives its echo at the same time, both with
/// `minirt::io::copy` (slice → TLS, TLS → `Vec`), in one task; the write
/// side is closed once all is sent, and the server closes after echoing.
async fn echo_large(stream: ClientStream, data: &[u8], label: &str) -> u64 {
    let (mut reader, mut writer) = shared(stream);
    let mut received = Vec::with_capacity(data.len());
    let (sent, got) = minirt::join!(
        async {
            let mut source = data;
            let n = minirt::io::copy(&mut source, &mut writer).await?;
            writer.shutdown().await?;
            Ok::<_, io::Error>(n)
        },
        minirt::io::copy(&mut reader, &mut received),
    );
    assert_eq!(sent.unwrap(), data.len() as u64, "{label}");
    assert_eq!(got.unwrap(), data.len() as u64, "{label}");
    assert!(
        received == data,
        "{label}: the echo differs from what was sent"
    );
    drop(writer);
    close_and_expect_eof(reader.into_inner(), label).await;
    data.len() as u64
}

/// Sends `data` and reads its whole echo back *before* closing, as a
/// request/reply client does: the server's `copy` must push out the last
/// of the echo (held by rustls when the socket was full) while it waits for
/// more, not only at end of file. (Loopback's socket buffers are large,
/// so this rarely fills one; the flush itself is checked by `copy`'s unit
/// test in `reactor/src/io/copy.rs`.)
async fn reply_before_close(stream: ClientStream, data: &[u8], label: &str) -> u64 {
    let (mut reader, mut writer) = shared(stream);
    let mut received = vec![0; data.len()];
    let (sent, got) = minirt::join!(
        async {
            writer.write_all(data).await?;
            writer.flush().await
        },
        reader.read_exact(&mut received),
    );
    sent.unwrap();
    got.unwrap_or_else(|err| panic!("{label}: reading the echo back: {err}"));
    assert!(
        received == data,
        "{label}: the echo differs from what was sent"
    );
    drop(writer);
    close_and_expect_eof(reader.into_inner(), label).await;
    data.len() as u64
}

fn assert_clean(served: &Served, expected: u64, label: &str) {
    match &served.echoed {
        Ok(n) => assert_eq!(*n, expected, "{label}: bytes echoed"),
        Err(err) => panic!("{label}: the server failed: {err}"),
    }
    match &served.tcp_after_close {
        Some(Ok(0)) => {}
        other => panic!("{label}: TCP after close_notify gave {other:?}, not EOF"),
    }
}

/// Runs `body` on every runtime kind (real clock: certificate validity is
/// checked against the system time, not the runtime's clock).
fn on_every_runtime(mut body: impl FnMut(&minirt::Runtime, &str)) {
    bounded(LIMIT, || {
        each_case(&FLAVORS, &[ClockKind::Real], |case| {
            body(&case.rt, &case.label)
        })
    });
}

#[test]
fn lines_and_a_large_payload_echo_exactly_and_close_cleanly() {
    let data = payload(LARGE);
    on_every_runtime(|rt, label| {
        let pki = pki();
        rt.block_on(async {
            let (addr, server) = start_server(pki.acceptor.clone(), 3).await;

            note_step(format!("{label}: lines"));
            let stream = connect(&pki.trusting, addr).await.unwrap();
            let (_, session) = stream.get_ref().get_ref();
            assert!(!session.is_handshaking(), "{label}");
            let lines = echo_lines(stream, label).await;

            note_step(format!("{label}: 1 MiB"));
            let stream = connect(&pki.trusting, addr).await.unwrap();
            let large = echo_large(stream, &data, label).await;

            note_step(format!("{label}: 1 MiB, read back before closing"));
            let stream = connect(&pki.trusting, addr).await.unwrap();
            let replied = reply_before_close(stream, &data, label).await;

            note_step(format!("{label}: the server's side"));
            let served = server.await.unwrap();
            assert_eq!(served.len(), 3, "{label}");
            assert_clean(&served[0], lines, label);
            assert_clean(&served[1], large, label);
            assert_clean(&served[2], replied, label);
        });
    });
}

#[test]
fn a_client_that_does_not_trust_the_certificate_fails_and_the_server_keeps_serving() {
    on_every_runtime(|rt, label| {
        let pki = pki();
        rt.block_on(async {
            let (addr, server) = start_server(pki.acceptor.clone(), 3).await;

            // A good client connects first and stays connected while the
            // untrusting one fails.
            note_step(format!("{label}: first good client"));
            let mut first = BufReader::new(connect(&pki.trusting, addr).await.unwrap());
            first.write_all(b"before\n").await.unwrap();
            first.flush().await.unwrap();
            let mut line = String::new();
            first.read_line(&mut line).await.unwrap();
            assert_eq!(line, "before\n", "{label}");

            note_step(format!("{label}: untrusting client"));
            let err = match connect(&pki.untrusting, addr).await {
                Ok(_) => panic!("{label}: a client that does not trust the certificate connected"),
                Err(err) => err,
            };
            assert_eq!(err.kind(), ErrorKind::InvalidData, "{label}: {err}");
            let cause = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>());
            assert!(
                matches!(
                    cause,
                    Some(rustls::Error::InvalidCertificate(
                        rustls::CertificateError::UnknownIssuer
                    ))
                ),
                "{label}: not an unknown-issuer error: {err:?}"
            );

            // The open connection is undisturbed...
            note_step(format!("{label}: first good client again"));
            first.write_all(b"after\n").await.unwrap();
            first.flush().await.unwrap();
            line.clear();
            first.read_line(&mut line).await.unwrap();
            assert_eq!(line, "after\n", "{label}");
            close_and_expect_eof(first, label).await;

            // ...and the next client is served.
            note_step(format!("{label}: next good client"));
            let next = connect(&pki.trusting, addr).await.unwrap();
            let lines = echo_lines(next, label).await;

            note_step(format!("{label}: the server's side"));
            let served = server.await.unwrap();
            assert_eq!(served.len(), 3, "{label}");
            assert_clean(&served[0], b"before\nafter\n".len() as u64, label);
            // The server's handshake with the untrusting client failed too:
            // the client's alert (or, had it been lost, the EOF after it).
            match &served[1].echoed {
                Err(err) => {
                    let cause = err
                        .get_ref()
                        .and_then(|e| e.downcast_ref::<rustls::Error>());
                    assert!(
                        matches!(cause, Some(rustls::Error::AlertReceived(_)))
                            || err.kind() == ErrorKind::UnexpectedEof,
                        "{label}: unexpected server-side error {err:?}"
                    );
                }
                Ok(n) => panic!("{label}: the server echoed {n} bytes to an untrusting client"),
            }
            assert_clean(&served[2], lines, label);
        });
    });
}

#[test]
fn a_peer_that_closes_tcp_without_close_notify_is_an_error_not_eof() {
    on_every_runtime(|rt, label| {
        let pki = pki();
        rt.block_on(async {
            let (addr, server) = start_server(pki.acceptor.clone(), 1).await;
            let stream = connect(&pki.trusting, addr).await.unwrap();
            let mut stream = BufReader::new(stream);
            stream.write_all(b"cut\n").await.unwrap();
            stream.flush().await.unwrap();
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            assert_eq!(line, "cut\n", "{label}");
            // Shut the TCP write side down under TLS: no close_notify.
            let (tcp, _) = stream.get_mut().get_mut().get_mut();
            tcp.shutdown().await.unwrap();
            let served = server.await.unwrap();
            match &served[0].echoed {
                Err(err) => assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{label}: {err}"),
                Ok(n) => panic!("{label}: a truncated stream counted as clean ({n} bytes)"),
            }
        });
    });
}

/// The `tls_echo` example as a real process (built by `cargo build
/// --workspace --examples`; skipped, saying so, when it was not).
#[test]
fn the_tls_echo_example_prints_its_echoes() {
    bounded(LIMIT, || {
        let Some(binary) = minirt_tests::built_example("tls_echo") else {
            return;
        };
        let output = Command::new(&binary).output().expect("run tls_echo");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "tls_echo exited with {}: {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout,
            "connected to localhost over TLSv1_3\n\
             echoed: hello, TLS\n\
             echoed: minirt speaks futures-io\n\
             echoed: through io::Compat\n\
             closed cleanly\n"
        );
    });
}
