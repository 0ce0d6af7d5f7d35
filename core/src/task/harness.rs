//! The task allocation (`Cell`) and the monomorphized functions of its
//! vtable: polling, completing, cancelling, handing the output over.

use core::future::Future;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll, Waker};

use super::error::JoinError;
use super::header::{Header, Vtable};
use super::placement::Placement;
use super::state::{State, TransitionToIdle, TransitionToRunning};
use super::{trace, waker, Notified, Schedule, Task};
use crate::loom::UnsafeCell;

/// A task's cell: all of its one heap allocation, or (with
/// `Schedule::ISOLATE_TASKS`) the cache-line-aligned part carved out of it
/// (`placement.rs`). `repr(C)` puts the header first so a `NonNull<Header>`
/// and a `NonNull<Cell<F, S>>` are the same address.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    /// The executor handle the task reschedules itself through.
    scheduler: S,
    /// The future, then its output, then nothing.
    stage: UnsafeCell<Stage<F>>,
}

/// What the stage slot holds. The future and its output share the slot, so
/// the allocation is `max(future, output)`, not their sum.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The vtable of tasks with future `F` and scheduler `S`, as a constant so
/// `&VtableFor::<F, S>::VTABLE` is promoted to a `'static` reference.
struct VtableFor<F, S>(PhantomData<(F, S)>);

impl<F: Future, S: Schedule> VtableFor<F, S> {
    const VTABLE: Vtable = Vtable {
        poll: poll::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        shutdown: shutdown::<F, S>,
    };
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Allocates a task; the returned pointer carries the three initial
    /// references (see `State::new`). `spawned_at` is what task dumps show
    /// as the spawn site.
    #[inline]
    pub(crate) fn allocate(
        future: F,
        scheduler: S,
        spawned_at: &'static core::panic::Location<'static>,
    ) -> NonNull<Header> {
        let id = scheduler.task_id();
        let cell = Placement::of::<S>().allocate::<Self, S>(&scheduler);
        let value = Cell {
            header: Header {
                state: State::new(),
                vtable: &VtableFor::<F, S>::VTABLE,
                queue_next: UnsafeCell::new(None),
                owner_key: UnsafeCell::new(super::owned::NO_KEY),
                last_poll: trace::new_last_poll(),
                join_waker: UnsafeCell::new(None),
                spawned_at,
                id_polls: trace::IdPolls::new(id),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
        };
        // SAFETY: fresh memory sized and aligned for a `Cell<F, S>`.
        unsafe { cell.as_ptr().write(value) };
        cell.cast()
    }
}

/// Typed access to a task from its header pointer.
struct Harness<F: Future, S> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` must point to a live `Cell<F, S>`.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn header_ptr(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    fn header(&self) -> &Header {
        // SAFETY: the cell is live while any reference exists, and the caller
        // of every vtable function holds one.
        unsafe { &self.cell.as_ref().header }
    }

    fn state(&self) -> &State {
        &self.header().state
    }

    fn scheduler(&self) -> &S {
        // SAFETY: as in `header`; the scheduler is never mutated.
        unsafe { &self.cell.as_ref().scheduler }
    }

    fn stage(&self) -> &UnsafeCell<Stage<F>> {
        // SAFETY: as in `header`. Access to the contents is governed by the
        // state bits (RUNNING, or COMPLETE + JOIN_INTEREST).
        unsafe { &self.cell.as_ref().stage }
    }

    // ---- stage access; each caller documents which state bit it holds ----

    /// Polls the future. On `Ready` the future stays in the stage: the
    /// caller drops it under its own panic guard (see `poll_running`).
    ///
    /// # Safety
    ///
    /// The caller holds `RUNNING`.
    unsafe fn poll_stage(&self, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.stage().with_mut(|ptr| {
            // SAFETY: RUNNING gives us exclusive access to the stage.
            let stage = unsafe { &mut *ptr };
            let Stage::Running(future) = stage else {
                unreachable!("minirt: a task was polled after it completed");
            };
            // SAFETY: the future lives in the heap cell and is never moved
            // out of it; it is only dropped in place.
            unsafe { Pin::new_unchecked(future) }.poll(cx)
        })
    }

    /// Drops whatever the stage holds.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to the stage (`RUNNING`, or it owns
    /// the output).
    unsafe fn drop_stage(&self) {
        // SAFETY: exclusive access per the function contract.
        self.stage()
            .with_mut(|ptr| unsafe { *ptr = Stage::Consumed });
    }

    /// # Safety
    ///
    /// The caller holds `RUNNING` and the stage is `Consumed`.
    unsafe fn store_output(&self, output: Result<F::Output, JoinError>) {
        self.stage().with_mut(|ptr| {
            // SAFETY: exclusive access per the function contract; the old
            // value is `Consumed`, so nothing is dropped here.
            let stage = unsafe { &mut *ptr };
            debug_assert!(matches!(stage, Stage::Consumed));
            // Writing without dropping the old value would also be fine, but
            // assignment keeps this obviously correct.
            *stage = Stage::Finished(output);
        });
    }

    /// # Safety
    ///
    /// The task is `COMPLETE` and the caller is the `JoinHandle`.
    unsafe fn take_output(&self) -> Result<F::Output, JoinError> {
        self.stage().with_mut(|ptr| {
            // SAFETY: the JoinHandle owns the output once COMPLETE.
            match mem::replace(unsafe { &mut *ptr }, Stage::Consumed) {
                Stage::Finished(output) => output,
                _ => panic!("JoinHandle polled after it returned the task's output"),
            }
        })
    }

    // ---- transitions of the whole task ----

    fn poll(self) {
        match self.state().transition_to_running() {
            TransitionToRunning::Success => self.poll_running(),
            TransitionToRunning::Cancelled => self.cancel_and_complete(),
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }

    /// We hold `RUNNING` and the poll's reference.
    fn poll_running(self) {
        // SAFETY: the poll's reference keeps the task alive for this call;
        // the waker is borrowed and never dropped (no refcount change).
        let waker = ManuallyDrop::new(unsafe { waker::borrowed(self.header_ptr()) });
        let mut cx = Context::from_waker(&waker);
        // Each poll starts with a fresh cooperative budget. A future that
        // spends it wakes the task during this poll, so the task comes back
        // `OkNotified` below and goes through `Schedule::yield_now`: to the
        // back of the queue, like `yield_now`, not into a LIFO slot.
        let (result, budget_spent) = crate::coop::budget(|| {
            // SAFETY: we hold RUNNING.
            let result = self
                .scheduler()
                .unwind(|| unsafe { self.poll_stage(&mut cx) });
            (result, !crate::coop::has_budget_remaining())
        });
        match result {
            Ok(Poll::Ready(output)) => {
                // Drop the finished future under its own guard. Dropping it
                // inside the poll's guard (as this once did) unwound past the
                // live output when the future's destructor panicked, so an
                // output that also panics on drop panicked during unwinding
                // and aborted the process (found by tests/task_matrix.rs).
                // SAFETY: we hold RUNNING.
                match self.scheduler().unwind(|| unsafe { self.drop_stage() }) {
                    Ok(()) => self.complete(Ok(output)),
                    Err(payload) => {
                        // The destructor's panic is the task's outcome; the
                        // output is dropped, its own panic ignored.
                        let _ = self.scheduler().unwind(move || drop(output));
                        self.scheduler().unhandled_panic();
                        self.complete(Err(JoinError::panic(payload)));
                    }
                }
            }
            Ok(Poll::Pending) => match self.state().transition_to_idle() {
                TransitionToIdle::Ok => {}
                TransitionToIdle::OkDealloc => self.dealloc(),
                TransitionToIdle::OkNotified => {
                    // SAFETY: the transition turned the poll's reference into
                    // a queue reference.
                    let notified = unsafe { Notified::from_raw(self.header_ptr()) };
                    if budget_spent {
                        self.scheduler().yield_spent(notified);
                    } else {
                        self.scheduler().yield_now(notified);
                    }
                }
                TransitionToIdle::Cancelled => self.cancel_and_complete(),
            },
            Err(payload) => {
                // The future is in an unknown state; drop it, ignoring a
                // second panic from its destructor (the first one is the
                // story the JoinHandle tells).
                // SAFETY: we still hold RUNNING.
                let _ = self.scheduler().unwind(|| unsafe { self.drop_stage() });
                self.scheduler().unhandled_panic();
                self.complete(Err(JoinError::panic(payload)));
            }
        }
    }

    /// Drops the future (running destructors at its suspended `.await`, as
    /// unwinding would) and completes with `Cancelled`, or with the panic of
    /// a destructor. We hold `RUNNING` and one reference.
    fn cancel_and_complete(self) {
        // SAFETY: we hold RUNNING.
        let error = match self.scheduler().unwind(|| unsafe { self.drop_stage() }) {
            Ok(()) => JoinError::cancelled(),
            Err(payload) => JoinError::panic(payload),
        };
        self.complete(Err(error));
    }

    /// Stores the output, tells the `JoinHandle`, leaves the executor's
    /// list and releases our reference (and the list's).
    fn complete(self, output: Result<F::Output, JoinError>) {
        // SAFETY: we hold RUNNING and every path here emptied the stage.
        unsafe { self.store_output(output) };
        let prev = self.state().transition_to_complete();
        if !prev.is_join_interested() {
            // Nobody will read the output: drop it here, and do not let a
            // panicking destructor take the executor down.
            // SAFETY: without join interest, the task side owns the output.
            let _ = self.scheduler().unwind(|| unsafe { self.drop_stage() });
        } else if prev.is_join_waker_set() {
            self.header().join_waker.with(|ptr| {
                // SAFETY: JOIN_WAKER is set, so the slot is ours to read and
                // the handle will not write it.
                if let Some(waker) = unsafe { &*ptr } {
                    waker.wake_by_ref();
                }
            });
            let after = self.state().unset_join_waker_after_complete();
            if !after.is_join_interested() {
                // The handle was dropped while we were waking it and left
                // the slot to us.
                // SAFETY: JOIN_WAKER was set when the handle dropped, so it
                // did not touch the slot; nobody else can now.
                self.header()
                    .join_waker
                    .with_mut(|ptr| unsafe { *ptr = None });
            }
        }

        // SAFETY: a borrowed view of our own reference, never dropped.
        let me = ManuallyDrop::new(unsafe { Task::<S>::from_raw(self.header_ptr()) });
        let released = self.scheduler().release(&me);
        let count = match released {
            Some(task) => {
                mem::forget(task);
                2
            }
            None => 1,
        };
        if self.state().transition_to_terminal(count) {
            self.dealloc();
        }
    }

    /// Drops what is left in the cell and frees its memory (into a cell
    /// cache, if the scheduler keeps them), even if a drop panics. The
    /// scheduler is moved out first and dropped last: freeing into a cache
    /// needs it, and it may hold the last reference to the cache.
    fn dealloc(self) {
        /// Frees the memory, then drops the scheduler.
        struct Free<F: Future, S: Schedule> {
            cell: NonNull<Cell<F, S>>,
            scheduler: ManuallyDrop<S>,
        }
        impl<F: Future, S: Schedule> Drop for Free<F, S> {
            fn drop(&mut self) {
                // SAFETY: the cell's other fields are dropped (or their drop
                // unwound); `allocate` got the memory from
                // `Placement::of::<S>()`, a constant, with this scheduler.
                unsafe { Placement::of::<S>().deallocate(self.cell, &*self.scheduler) };
                // SAFETY: moved out of the cell once, dropped once.
                unsafe { ManuallyDrop::drop(&mut self.scheduler) };
            }
        }
        /// Drops the stage, also when dropping the header unwinds.
        struct DropStage<F: Future, S>(*mut Cell<F, S>);
        impl<F: Future, S> Drop for DropStage<F, S> {
            fn drop(&mut self) {
                // SAFETY: the stage is initialised and dropped only here.
                unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*self.0).stage)) };
            }
        }
        let cell = self.cell.as_ptr();
        // SAFETY: the reference count reached zero, so no handle, waker or
        // queue can reach the cell any more: its fields are ours to move
        // out and drop, each once.
        let scheduler = unsafe { ptr::read(ptr::addr_of!((*cell).scheduler)) };
        let free = Free {
            cell: self.cell,
            scheduler: ManuallyDrop::new(scheduler),
        };
        let stage = DropStage(cell);
        // SAFETY: as above.
        unsafe { ptr::drop_in_place(ptr::addr_of_mut!((*cell).header)) };
        drop(stage);
        drop(free);
    }
}

// ---- the vtable functions ----

/// # Safety
///
/// `ptr` is a `Cell<F, S>` and the caller gives up a `Notified` reference.
unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    unsafe { Harness::<F, S>::from_raw(ptr) }.poll();
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>` and the caller gives up a reference that the
/// state machine made a queue reference (`NOTIFIED` was set for it).
unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: forwarded from the caller.
    harness
        .scheduler()
        .schedule(unsafe { Notified::from_raw(ptr) });
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>` whose reference count just reached zero.
unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>`, the caller is its `JoinHandle`, and `dst`
/// points to a `Poll<Result<F::Output, JoinError>>`.
unsafe fn try_read_output<F: Future, S: Schedule>(ptr: NonNull<Header>, dst: *mut (), cx: &Waker) {
    // SAFETY: forwarded from the caller.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    // SAFETY: the caller is the JoinHandle.
    if unsafe { super::join::can_read_output(harness.header(), cx) } {
        // SAFETY: `can_read_output` saw COMPLETE and we are the handle;
        // `dst` has the type the caller promised.
        unsafe {
            let output = harness.take_output();
            *(dst as *mut Poll<Result<F::Output, JoinError>>) = Poll::Ready(output);
        }
    }
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>` and the caller is its `JoinHandle`, giving up
/// its reference.
unsafe fn drop_join_handle<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let owed = harness.state().transition_to_join_handle_dropped();
    if owed.drop_output {
        // A panicking destructor of the output must not escape a `drop`
        // (tokio #4430): it is caught and discarded.
        // SAFETY: COMPLETE with join interest: the output was ours.
        let _ = harness
            .scheduler()
            .unwind(|| unsafe { harness.drop_stage() });
    }
    if owed.drop_waker {
        // SAFETY: JOIN_WAKER is clear, so the slot is the handle's.
        harness
            .header()
            .join_waker
            .with_mut(|p| unsafe { *p = None });
    }
    if harness.state().ref_dec() {
        harness.dealloc();
    }
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>`; the caller gives up one reference, and has
/// already removed the task from the executor's owned list.
unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.state().transition_to_shutdown() {
        // Our reference now serves as the running reference.
        harness.cancel_and_complete();
    } else if harness.state().ref_dec() {
        harness.dealloc();
    }
}
