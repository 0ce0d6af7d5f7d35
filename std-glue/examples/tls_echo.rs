//! A TLS echo over loopback with futures-rustls on minirt: the way to HTTPS.
//!
//! ```text
//! cargo run -p minirt --features futures-io --example tls_echo
//! ```
//!
//! Why this example: minirt has no TLS of its own, and needs none. With the
//! `futures-io` feature its sockets implement the `futures-io` traits, which
//! is what futures-rustls (and so rustls, and HTTPS clients and servers built
//! on it) asks of a transport. The TLS stream futures-rustls hands back
//! speaks only `futures-io`; wrapped in `minirt::io::Compat` it speaks
//! minirt's own `AsyncRead`/`AsyncWrite` too, so `BufReader`, `read_line`,
//! `write_all`, `copy` and the rest work on it unchanged.
//!
//! What it does, with no network and no files: makes a self-signed
//! certificate for `localhost` at run time (rcgen), starts a TLS echo server
//! on `127.0.0.1:0` on a minirt runtime in a background thread, then, from a
//! plain synchronous `main`, connects a client that trusts exactly that
//! certificate, sends a few lines, reads each one back with `read_line` and
//! prints it, and closes (TLS `close_notify`, then EOF from the server).
//!
//! Linux only, like its rustls/ring dev-dependencies (ring's build compiles
//! C for the target, which the Windows and macOS cross-checks cannot);
//! elsewhere it only says so. `minirt::io::Compat` itself works everywhere.

#[cfg(target_os = "linux")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    tls::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("tls_echo: this example is built on Linux only (its ring dependency)");
}

#[cfg(target_os = "linux")]
mod tls {
    use std::error::Error;
    use std::io;
    use std::net::SocketAddr;
    use std::sync::Arc;

    use futures_rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
    use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
    use futures_rustls::{TlsAcceptor, TlsConnector};
    use minirt::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Compat};
    use minirt::net::{TcpListener, TcpStream};

    const LINES: [&str; 3] = [
        "hello, TLS",
        "minirt speaks futures-io",
        "through io::Compat",
    ];

    pub fn main() -> Result<(), Box<dyn Error>> {
        // The certificate is made here, at run time: nothing to ship or expire.
        let rcgen::CertifiedKey { cert, key_pair } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
        let cert: CertificateDer<'static> = cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(key_pair.serialize_der());
        // ring, named explicitly: no process-wide default provider needed.
        let provider = Arc::new(rustls::crypto::ring::default_provider());

        let server_config = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.into())?;
        let addr = start_server(TlsAcceptor::from(Arc::new(server_config)))?;

        // The client trusts exactly the server's certificate.
        let mut roots = RootCertStore::empty();
        roots.add(cert)?;
        let client_config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = TlsConnector::from(Arc::new(client_config));

        minirt::block_on(async move {
            let tcp = TcpStream::connect(addr).await?;
            let tls = connector
                .connect(ServerName::try_from("localhost")?, tcp)
                .await?;
            let version = tls.get_ref().1.protocol_version();
            println!("connected to localhost over {}", display(version));
            // Compat: minirt's traits on the TLS stream, so minirt's
            // BufReader (and its `read_line`) work on it.
            let mut tls = BufReader::new(Compat::new(tls));
            for line in LINES {
                tls.write_all(format!("{line}\n").as_bytes()).await?;
                // rustls may hold written bytes back until a flush.
                tls.flush().await?;
                let mut echoed = String::new();
                tls.read_line(&mut echoed).await?;
                println!("echoed: {}", echoed.trim_end());
            }
            // TLS close_notify, then the TCP write side; the server answers
            // with its own close, which reads as a clean EOF here (a peer that
            // just dropped the connection would be an `UnexpectedEof` error).
            tls.shutdown().await?;
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await?;
            if !rest.is_empty() {
                return Err(format!("{} unexpected bytes after the echo", rest.len()).into());
            }
            println!("closed cleanly");
            Ok(())
        })
    }

    fn display(version: Option<rustls::ProtocolVersion>) -> String {
        version.map_or_else(
            || "an unknown TLS version".to_string(),
            |v| format!("{v:?}"),
        )
    }

    /// Starts the TLS echo server on a minirt runtime in a background thread
    /// (it ends with the process); returns the address it listens on.
    fn start_server(acceptor: TlsAcceptor) -> io::Result<SocketAddr> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            minirt::block_on(async move {
                let listener = match TcpListener::bind("127.0.0.1:0").await {
                    Ok(listener) => listener,
                    Err(err) => return drop(tx.send(Err(err))),
                };
                let _ = tx.send(listener.local_addr());
                while let Ok((tcp, peer)) = listener.accept().await {
                    let acceptor = acceptor.clone();
                    minirt::spawn(async move {
                        if let Err(err) = echo(acceptor, tcp).await {
                            eprintln!("tls_echo: {peer}: {err}");
                        }
                    });
                }
            });
        });
        rx.recv().map_err(io::Error::other)?
    }

    /// One connection: the TLS handshake, then echo every byte until the
    /// client's close_notify, then close our side too.
    async fn echo(acceptor: TlsAcceptor, tcp: TcpStream) -> io::Result<()> {
        // The handshake runs on minirt's TcpStream through its futures-io
        // impls; Compat then gives the TLS stream minirt's traits.
        let mut tls = Compat::new(acceptor.accept(tcp).await?);
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n]).await?;
            tls.flush().await?;
        }
        tls.shutdown().await
    }
}
