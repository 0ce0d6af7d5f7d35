//! Task dumps of a current-thread runtime, from any thread.
//!
//! Why a protocol: the `Send` tasks the core holder spawned, and every local
//! task, sit in lists that only one thread may read (they have no lock; see
//! the module docs). So a dump reads the locked list of remotely spawned
//! tasks itself, and for the rest:
//!
//! 1. on the core holder's thread (a task dumping its own runtime), reads
//!    them directly;
//! 2. when no thread holds the core, takes it for the moment of the read
//!    (a [`DumpCore`]: no busy unit, no local set adopted, nothing run);
//! 3. otherwise asks the core holder, which answers between two scheduling
//!    rounds, and waits up to [`ANSWER_TIMEOUT`]; a holder stuck in one poll
//!    cannot answer, and the dump then says so (the long-poll detector, if
//!    set, says which task holds it).
//!
//! Local tasks of a thread are listed only when that thread is the one
//! reading (cases 1 and 2, or answering in case 3).

use std::sync::atomic::{AtomicBool, Ordering::*};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use minirt_core::task::TaskInfo;

use super::{Shared, CORE_OF};
use crate::runtime::trace::DumpBuilder;
use crate::runtime::{Dump, TaskKind};

/// How long a dump waits for a busy core holder.
const ANSWER_TIMEOUT: Duration = Duration::from_millis(100);

/// What the core holder collected for a waiting dump.
struct Answer {
    tasks: Vec<(TaskInfo, TaskKind)>,
    unlisted: Vec<String>,
}

/// Dumps asked of the core holder.
#[derive(Default)]
pub(super) struct DumpRequests {
    /// Set by a waiting dump; the core holder checks it once per round.
    pub(super) wanted: AtomicBool,
    /// The answer, and who waits for it.
    answer: Mutex<Option<Answer>>,
    answered: Condvar,
    /// One asking dump at a time.
    asking: Mutex<()>,
}

/// The core, held by a dump for the moment of reading the core's lists.
struct DumpCore<'a> {
    shared: &'a Shared,
    prev: *const Shared,
}

impl<'a> DumpCore<'a> {
    fn take(shared: &'a Shared) -> Option<DumpCore<'a>> {
        if shared.core_taken.swap(true, Acquire) {
            return None;
        }
        let prev = CORE_OF.with(|c| c.replace(shared));
        Some(DumpCore { shared, prev })
    }
}

impl Drop for DumpCore<'_> {
    fn drop(&mut self) {
        CORE_OF.with(|c| c.set(self.prev));
        self.shared.core_taken.store(false, Release);
    }
}

impl Shared {
    /// A snapshot of every task this thread can see (see the module docs).
    pub(crate) fn dump(self: &Arc<Self>) -> Dump {
        let mut dump = DumpBuilder::new(&self.tracer, &self.driver, "current_thread");
        self.remote_owned
            .for_each_info(|info| dump.push(info, TaskKind::Send));
        let answer = if self.is_core_thread() {
            Some(self.list_core_tasks())
        } else if let Some(_core) = DumpCore::take(self) {
            Some(self.list_core_tasks())
        } else {
            self.ask_core_holder()
        };
        match answer {
            Some(answer) => {
                for (info, kind) in answer.tasks {
                    dump.push(info, kind);
                }
                for why in answer.unlisted {
                    dump.unlisted(why);
                }
            }
            None => dump.unlisted(format!(
                "the tasks spawned on the runtime's own thread and its local tasks: the \
                 thread driving it did not answer within {ANSWER_TIMEOUT:?} (a task blocking \
                 it in one poll? `Builder::on_long_poll` names it)"
            )),
        }
        dump.finish(&self.driver)
    }

    /// Called by the core holder between rounds when a dump is waiting.
    pub(super) fn answer_dump(&self) {
        if !self.dumps.wanted.swap(false, Acquire) {
            return;
        }
        let answer = self.list_core_tasks();
        *self.dumps.answer.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
        self.dumps.answered.notify_all();
    }

    /// Case 3 of the module docs.
    fn ask_core_holder(self: &Arc<Self>) -> Option<Answer> {
        let _asking = self.dumps.asking.lock().unwrap_or_else(|e| e.into_inner());
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut answer = self.dumps.answer.lock().unwrap_or_else(|e| e.into_inner());
        *answer = None;
        self.dumps.wanted.store(true, Release);
        self.driver.unpark();
        loop {
            if let Some(got) = answer.take() {
                return Some(got);
            }
            // The holder may have given the core back without answering.
            if !self.core_taken.load(Acquire) {
                if let Some(_core) = DumpCore::take(self) {
                    self.dumps.wanted.store(false, Relaxed);
                    return Some(self.list_core_tasks());
                }
            }
            let now = Instant::now();
            if now >= deadline {
                self.dumps.wanted.store(false, Relaxed);
                return None;
            }
            // Woken by the answer, or every millisecond to retry the core.
            let wait = (deadline - now).min(Duration::from_millis(1));
            answer = self
                .dumps
                .answered
                .wait_timeout(answer, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The lists only the core holder may read. The caller holds the core.
    fn list_core_tasks(&self) -> Answer {
        debug_assert!(self.is_core_thread());
        let mut answer = Answer {
            tasks: Vec::new(),
            unlisted: Vec::new(),
        };
        match self.local.try_borrow() {
            Ok(local) => local
                .owned
                .for_each_info(|info| answer.tasks.push((info, TaskKind::Send))),
            Err(_) => answer.unlisted.push(
                "the tasks spawned on the runtime's own thread: the dump was taken while the \
                 scheduler itself was using their list"
                    .to_owned(),
            ),
        }
        let sets = self
            .local_sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut others = 0;
        for set in &sets {
            let listed = set.for_each_info(|info| answer.tasks.push((info, TaskKind::Local)));
            if listed.is_none() {
                others += 1;
            }
        }
        if others > 0 {
            answer.unlisted.push(format!(
                "the local tasks of {others} other thread{} (only a thread itself may read \
                 its local tasks: dump from that thread to see them)",
                if others == 1 { "" } else { "s" }
            ));
        }
        answer
    }
}
