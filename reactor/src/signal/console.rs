//! Windows: Ctrl-C through the console control handler.
//!
//! Why no self-pipe here: Windows does not interrupt a thread to deliver a
//! console event; it starts a new thread in the process and calls the
//! handlers registered with `SetConsoleCtrlHandler` there. That handler may
//! lock and wake like ordinary code, so it marks the event pending and
//! delivers it at once: each listener's waker schedules its task, and
//! scheduling a task from another thread unparks its runtime's reactor (the
//! same path as any cross-thread wake-up).
//!
//! As in tokio, the handler reports the event as handled only while someone
//! listens; otherwise it returns `FALSE` and Windows runs the next handler
//! (by default `ExitProcess`), so Ctrl-C with no live listener still ends the
//! program.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use windows_sys::core::BOOL;
use windows_sys::Win32::System::Console::{SetConsoleCtrlHandler, CTRL_C_EVENT};

use super::table::{self, SLOTS};

/// The delivery-table index of Ctrl-C (`CTRL_C_EVENT`).
pub(super) const CTRL_C: usize = CTRL_C_EVENT as usize;

/// The outcome of registering [`on_console_event`], once per process
/// (`Err` holds the OS error code).
static INSTALLED: OnceLock<Result<(), i32>> = OnceLock::new();

/// Registers minirt's console control handler on first use. It stays
/// registered for the life of the process (it declines events nobody listens for).
pub(super) fn install() -> io::Result<()> {
    let outcome = INSTALLED.get_or_init(|| {
        // SAFETY: `on_console_event` has the `HandlerRoutine` signature, never
        // unwinds, and is a plain function that lives as long as the process.
        if unsafe { SetConsoleCtrlHandler(Some(on_console_event), 1) } != 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error().raw_os_error().unwrap_or(0))
        }
    });
    match outcome {
        Ok(()) => Ok(()),
        Err(code) => {
            let err = io::Error::from_raw_os_error(*code);
            Err(io::Error::new(
                err.kind(),
                format!("could not register minirt's console control handler: {err}"),
            ))
        }
    }
}

/// minirt's console control handler; Windows calls it on a thread of its own.
///
/// Returns `TRUE` (handled) for Ctrl-C while a listener exists, `FALSE` for
/// everything else, which passes the event on to the next handler.
extern "system" fn on_console_event(event: u32) -> BOOL {
    let index = match event {
        CTRL_C_EVENT => CTRL_C,
        _ => return 0,
    };
    let slot = &SLOTS[index];
    if !slot.has_listeners() {
        return 0;
    }
    slot.pending.store(true, Ordering::SeqCst);
    table::deliver_pending();
    1
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use windows_sys::Win32::System::Console::CTRL_BREAK_EVENT;

    use super::*;
    use crate::signal::listener::Listener;

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn ctrl_c_reaches_every_listener_and_is_handled_only_while_one_listens() {
        assert_eq!(on_console_event(CTRL_C_EVENT), 0, "nobody listens yet");

        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let mut first = Listener::subscribe(CTRL_C);
        let mut second = Listener::subscribe(CTRL_C);
        assert_eq!(first.poll(&mut cx), Poll::Pending);
        assert_eq!(second.poll(&mut cx), Poll::Pending);

        assert_eq!(
            on_console_event(CTRL_BREAK_EVENT),
            0,
            "Ctrl-Break is not ctrl_c's"
        );
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);

        assert_eq!(on_console_event(CTRL_C_EVENT), 1, "a listener exists");
        assert_eq!(counter.0.load(Ordering::SeqCst), 2, "both listeners woken");
        assert_eq!(first.poll(&mut cx), Poll::Ready(()));
        assert_eq!(second.poll(&mut cx), Poll::Ready(()));
        assert_eq!(
            first.poll(&mut cx),
            Poll::Pending,
            "one delivery, reported once"
        );

        drop(first);
        drop(second);
        assert_eq!(on_console_event(CTRL_C_EVENT), 0, "every listener is gone");
    }
}
