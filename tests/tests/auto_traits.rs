//! Compile-time checks that public types are `Send`/`Sync` where a user
//! would expect them to be (and a runtime can be shared across threads).

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn public_types_have_the_expected_auto_traits() {
    send_sync::<minirt::Runtime>();
    send_sync::<minirt::Handle>();
    send_sync::<minirt::JoinHandle<u8>>();
    send_sync::<minirt::AbortHandle>();
    send_sync::<minirt::JoinError>();
    send_sync::<minirt::Builder>();
    send_sync::<minirt::blocking::BlockingPool>();
    send_sync::<minirt::sync::Semaphore>();
    send_sync::<minirt::time::Sleep>();
    send_sync::<minirt::time::Interval>();
    send_sync::<minirt::time::Elapsed>();
    send::<minirt::sync::mpsc::Sender<u8>>();
    send::<minirt::sync::oneshot::Receiver<u8>>();
    send::<minirt::net::TcpStream>();
    // `ctrl_c` can be awaited inside a spawned (Send) task on every platform.
    fn send_value<T: Send>(_: &T) {}
    send_value(&minirt::signal::ctrl_c());
    #[cfg(unix)]
    {
        send_sync::<minirt::net::UnixStream>();
        send_sync::<minirt::signal::Signal>();
    }
    // `?` from a JoinError into the usual boxed error type.
    fn _convert(e: minirt::JoinError) -> Box<dyn std::error::Error + Send + Sync> {
        e.into()
    }
}
