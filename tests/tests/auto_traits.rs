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
    send_sync::<minirt::sync::mpsc::UnboundedSender<u8>>();
    send_sync::<minirt::sync::mpsc::UnboundedReceiver<u8>>();
    send_sync::<minirt::sync::mpsc::WeakUnboundedSender<u8>>();
    send_sync::<minirt::sync::watch::Sender<u8>>();
    send_sync::<minirt::sync::watch::Receiver<u8>>();
    send_sync::<minirt::sync::watch::error::SendError<u8>>();
    send_sync::<minirt::sync::watch::error::RecvError>();
    send_sync::<minirt::sync::broadcast::Sender<u8>>();
    send_sync::<minirt::sync::broadcast::Receiver<u8>>();
    send_sync::<minirt::sync::broadcast::error::RecvError>();
    send_sync::<minirt::sync::broadcast::error::TryRecvError>();
    // A `watch::Ref` holds a read guard: shareable, but it must stay on the
    // thread that took it (like `std::sync::RwLockReadGuard`).
    fn _ref_is_sync(r: minirt::sync::watch::Ref<'_, u8>) -> impl Sync + '_ {
        r
    }
    send_sync::<minirt::task::LocalKey<std::cell::Cell<u8>>>();
    send::<minirt::task::TaskLocalFuture<String, std::future::Ready<u8>>>();
    send_sync::<minirt::task::AccessError>();
    // `?` from a JoinError into the usual boxed error type.
    fn _convert(e: minirt::JoinError) -> Box<dyn std::error::Error + Send + Sync> {
        e.into()
    }
}

#[test]
fn python_helper_types_have_the_expected_auto_traits() {
    // A scheduled call's handle can go to any thread, whatever the scope's
    // children borrow.
    send_sync::<minirt::scope::ScheduledCall>();
    send_sync::<minirt::scope::Overrun>();
    send_sync::<minirt::main_scope::MainExit>();
    send::<minirt::main_scope::MainScope>();
}
