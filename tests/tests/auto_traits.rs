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
    send_sync::<minirt::UnhandledPanic>();
    send_sync::<minirt::runtime::UnhandledPanic>();
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
    lock_types_have_the_auto_traits_of_tokios();
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

#[test]
fn python_helper_types_have_the_expected_auto_traits() {
    // A scheduled call's handle can go to any thread, whatever the scope's
    // children borrow.
    send_sync::<minirt::scope::ScheduledCall>();
    send_sync::<minirt::scope::Overrun>();
    #[cfg(unix)]
    {
        send_sync::<minirt::main_scope::MainExit>();
        send::<minirt::main_scope::MainScope>();
    }
    // A server is built on one thread and served from another; its handle
    // is shared; a `Worker` stays on its worker's thread (its connection
    // tasks are local tasks), which the compile_fail doc below checks.
    #[cfg(unix)]
    {
        send_sync::<minirt::server::Server>();
        send_sync::<minirt::server::ServerBuilder>();
        send_sync::<minirt::server::ShutdownHandle>();
        send_sync::<minirt::server::ServeReport>();
        send_sync::<minirt::server::WorkerReport>();
    }
}

/// The locks, their guards and futures are `Send`/`Sync` exactly where
/// tokio's are, so code moves between the two unchanged.
fn lock_types_have_the_auto_traits_of_tokios() {
    use minirt::sync::*;
    fn send_val<T: Send>(_: &T) {}
    send_sync::<Mutex<u8>>();
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<MappedMutexGuard<'static, u8>>();
    send_sync::<OwnedMutexGuard<u8>>();
    send_sync::<RwLock<u8>>();
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockWriteGuard<'static, u8>>();
    send_sync::<RwLockMappedWriteGuard<'static, u8>>();
    send_sync::<OwnedRwLockReadGuard<u8>>();
    send_sync::<OwnedRwLockWriteGuard<u8>>();
    send_sync::<Barrier>();
    send_sync::<BarrierWait<'static>>();
    send_sync::<BarrierWaitResult>();
    send_sync::<OnceCell<u8>>();
    send_sync::<TryLockError>();
    send_sync::<SetError<u8>>();
    // A guard of a `Send`-only value may move to another worker with its
    // task (tokio's bounds), but is not `Sync` (see `MutexGuard`'s
    // compile-fail doc test).
    send::<Mutex<std::cell::Cell<u8>>>();
    send::<MutexGuard<'static, std::cell::Cell<u8>>>();
    // The futures are `Send`, so tasks awaiting them can be spawned.
    let mutex = std::sync::Arc::new(Mutex::new(0u8));
    send_val(&mutex.lock());
    send_val(&mutex.clone().lock_owned());
    let rwlock = std::sync::Arc::new(RwLock::new(0u8));
    send_val(&rwlock.read());
    send_val(&rwlock.write());
    send_val(&rwlock.clone().read_owned());
    send_val(&rwlock.clone().write_owned());
    let cell = OnceCell::<u8>::new();
    send_val(&cell.get_or_init(|| async { 1 }));
    send_val(&cell.get_or_try_init(|| async { Ok::<u8, ()>(1) }));
    send_val(&Barrier::new(1).wait());
}

/// tokio's process types are `Send + Sync` on every platform; so are
/// minirt's (on Windows the exit watch holds a thread-pool wait handle).
#[test]
fn process_types_are_send_and_sync() {
    send_sync::<minirt::process::Command>();
    send_sync::<minirt::process::Child>();
    send_sync::<minirt::process::ChildStdin>();
    send_sync::<minirt::process::ChildStdout>();
    send_sync::<minirt::process::ChildStderr>();
}
