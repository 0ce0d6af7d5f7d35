//! Host-name lookup off the worker threads: [`lookup_host`], and the
//! resolution every socket constructor goes through.
//!
//! Why: `getaddrinfo` blocks, sometimes for seconds. minirt hands each
//! lookup to a *blocking offload* — the runtime's blocking pool, registered
//! by the `minirt` crate when it creates its first runtime (so a lookup also
//! counts as pending work for the mock clock, which then does not jump
//! while the resolver runs). Used without `minirt` (a bare
//! [`Driver`](crate::Driver)), a lookup runs on a short-lived thread of its
//! own. Literal addresses never leave the calling task.
//!
//! Cancellation: dropping a lookup's future abandons the answer; the
//! resolver call already started finishes on its thread and is discarded.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::OnceLock;

use minirt_core::sync::oneshot;

use super::to_socket_addrs::{Resolution, ToSocketAddrs};

/// Runs a blocking job somewhere other than the calling worker.
pub type BlockingOffload = fn(Box<dyn FnOnce() + Send>);

static OFFLOAD: OnceLock<BlockingOffload> = OnceLock::new();

/// Registers where host-name lookups run (the first registration wins).
///
/// `minirt` calls this with its blocking pool; it is public only so that the
/// two crates can meet, and not meant for applications.
#[doc(hidden)]
pub fn set_blocking_offload(offload: BlockingOffload) {
    let _ = OFFLOAD.set(offload);
}

fn offload(job: Box<dyn FnOnce() + Send>) {
    match OFFLOAD.get() {
        Some(offload) => offload(job),
        None => {
            if let Err(err) = std::thread::Builder::new()
                .name("minirt-lookup".into())
                .spawn(job)
            {
                // The job (and its sender) was dropped: the caller sees the
                // lookup fail rather than hang.
                drop(err);
            }
        }
    }
}

/// Looks up `host` ("name:port", `(name, port)`, or any literal address) and
/// returns every socket address it names, in the resolver's order.
///
/// The lookup runs on the runtime's blocking pool (a literal address is
/// parsed in place), so a slow resolver never blocks a worker. Same name and
/// meaning as tokio's `lookup_host`.
///
/// # Errors
///
/// `InvalidInput` for a string without a port; otherwise the resolver's
/// error (a name that does not exist, no network), whose message names the
/// host.
///
/// # Cancel safety
///
/// Dropping the future abandons the answer; nothing else is lost.
///
/// ```no_run
/// use minirt_reactor::net::lookup_host;
///
/// async fn loopback_only() -> std::io::Result<()> {
///     let addrs: Vec<_> = lookup_host("localhost:80").await?.collect();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
///
///     let err = lookup_host("no-port").await.err().unwrap();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
///     Ok(())
/// }
/// ```
///
/// (Run for real, on every runtime and both clocks, in
/// `tests/tests/net_lookup.rs`.)
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    let resolution = host.resolution();
    drop(host);
    Ok(resolve(resolution).await?.into_iter())
}

/// Resolves `addr` into a non-empty list, off the worker if it needs DNS.
pub(crate) async fn resolve_nonempty<A: ToSocketAddrs>(addr: A) -> io::Result<Vec<SocketAddr>> {
    let resolution = addr.resolution();
    drop(addr);
    let addrs = resolve(resolution).await?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address did not resolve to any socket address",
        ));
    }
    Ok(addrs)
}

/// A blocking resolver call.
type Lookup = dyn FnOnce() -> io::Result<Vec<SocketAddr>> + Send;

async fn resolve(resolution: Resolution) -> io::Result<Vec<SocketAddr>> {
    let (name, lookup): (String, Box<Lookup>) = match resolution {
        Resolution::Ready(addrs) => return Ok(addrs),
        Resolution::Invalid(err) => return Err(err),
        Resolution::Lookup(host, port) => (
            format!("{host}:{port}"),
            Box::new(move || Ok((host.as_str(), port).to_socket_addrs()?.collect())),
        ),
        Resolution::LookupHostPort(host_port) => (
            host_port.clone(),
            Box::new(move || Ok(host_port.to_socket_addrs()?.collect())),
        ),
    };
    let (tx, rx) = oneshot::channel();
    offload(Box::new(move || {
        let _ = tx.send(lookup());
    }));
    match rx.await {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(err)) => Err(io::Error::new(
            err.kind(),
            format!("looking up {name:?}: {err}"),
        )),
        Err(_) => Err(io::Error::other(format!(
            "looking up {name:?}: the resolver thread could not run"
        ))),
    }
}
