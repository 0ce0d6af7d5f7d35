//! The orphan queue: children whose `Child` is gone before they exited.
//!
//! Why: a process that has exited stays a zombie until its parent reaps it.
//! A `Child` dropped while its process runs normally leaves a reaper task on
//! its runtime (see `Child`'s `Drop`), but that task can itself be dropped
//! (the runtime shuts down first), and a `Child` can be dropped where there
//! is no runtime at all. Those processes' ids land here, and every later
//! [`Command::spawn`](super::Command::spawn), every `SIGCHLD` that a waiting
//! child sees and every wait that completes reaps the ones that have exited
//! since.
//!
//! Only ids of our own unreaped children are queued, so `waitpid` on them
//! cannot touch anyone else's process: the id stays reserved (as a zombie)
//! until exactly this reap.

use std::sync::Mutex;

/// Ids of our children that nobody waits for, not yet reaped.
static ORPHANS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

/// Queues `pid` for reaping and tries once right away.
pub(super) fn adopt(pid: libc::pid_t) {
    lock().push(pid);
    reap_exited();
}

/// Reaps every queued child that has exited; cheap when the queue is empty.
pub(super) fn reap_exited() {
    let mut orphans = lock();
    orphans.retain(|&pid| {
        let mut status = 0;
        // SAFETY: `waitpid` only writes the status through the valid pointer.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        // 0: still running. -1 (`ECHILD`): already reaped by someone else's
        // `waitpid(-1)`; nothing more to do for it either way.
        got == 0
    });
}

fn lock() -> std::sync::MutexGuard<'static, Vec<libc::pid_t>> {
    ORPHANS.lock().unwrap_or_else(|e| e.into_inner())
}
