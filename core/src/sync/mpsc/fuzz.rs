//! A byte-coded model check of the bounded channel, for `cargo fuzz` and for
//! a pseudo-random unit test.
//!
//! Why: the channel's guarantees — FIFO order across the buffer and the
//! queue of waiting senders, cancel-safety (a dropped send loses nothing and
//! delivers nothing; a granted one passes its position on or has it
//! skipped), no lost wake-ups, and every value delivered, returned or
//! dropped exactly once — rest on a lock-free ring, a waiter queue and
//! several flags that must agree. That is easy to break and hard to cover by
//! hand. Every program here runs the real channel side by side with a
//! trivial model (a `VecDeque` of ring positions and a FIFO list of send
//! futures) and checks after each step that both agree on every result,
//! every wake-up, every drop of a value, `capacity()` and `is_closed()`.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll, Waker};

use crate::coop;
use crate::loom::atomic::{AtomicUsize, Ordering};

use super::{channel_at, Receiver, SendError, Sender, TryRecvError, TrySendError, STEP};

/// Counts wake-ups of one future.
struct WakeCounter(AtomicUsize);

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl WakeCounter {
    /// A fresh counter and a waker that bumps it.
    fn new() -> (Arc<WakeCounter>, Waker) {
        let counter = Arc::new(WakeCounter(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    /// Wake-ups so far.
    fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// How often each value was dropped, by id.
struct DropLog {
    /// Drops of value `id`, at index `id`.
    counts: RefCell<Vec<u8>>,
    /// All drops so far.
    total: Cell<usize>,
}

/// A message: a distinct id, recorded in the log when dropped.
struct Msg {
    /// Its id; ids increase in the order values are created.
    id: u32,
    /// Where its drop is counted.
    log: Rc<DropLog>,
}

impl Drop for Msg {
    fn drop(&mut self) {
        let count = {
            let mut counts = self.log.counts.borrow_mut();
            let count = &mut counts[self.id as usize];
            *count += 1;
            *count
        };
        self.log.total.set(self.log.total.get() + 1);
        assert_eq!(count, 1, "value {} dropped twice", self.id);
    }
}

/// A send future, boxed: it owns a reference to its sender handle, so
/// handles can be dropped while sends that use them are pending.
type SendFut = Pin<Box<dyn Future<Output = Result<(), SendError<Msg>>>>>;

/// What the model says about one send future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Not yet past its first real poll (that one was refused by a spent
    /// budget): it has claimed nothing and is not queued.
    Fresh,
    /// Queued for room; must be pending.
    Waiting,
    /// A position was claimed on its behalf; must resolve to `Ok`.
    Granted,
    /// Failed by `close`; must resolve to `Err` with its value.
    Closed,
}

/// One live send future and its model.
struct Pending {
    /// The real future.
    fut: SendFut,
    /// The id of the value it sends.
    id: u32,
    /// Its wake-ups so far.
    wakes: Arc<WakeCounter>,
    /// The waker it is always polled with (so it is never replaced).
    waker: Waker,
    /// Wake-ups the model predicts so far.
    expect_wakes: usize,
    /// What the model predicts.
    expect: Expect,
    /// Its place in the queue of waiting senders, once `Waiting` (a send
    /// first refused by the budget queues later than it was created).
    ticket: usize,
}

/// One ring position between the receiver's head and the tail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Holds value `id`.
    Value(u32),
    /// Claimed for the send future of value `id`, not yet written.
    Reserved(u32),
    /// Claimed for a cancelled send; the receiver steps over it.
    Skipped,
}

/// The reference model. The FIFO queue of waiting senders is the
/// `Waiting` entries of the `Pending` list, by ticket.
struct Model {
    /// The channel's capacity.
    cap: usize,
    /// Positions from the head to the tail, oldest first.
    ring: VecDeque<Slot>,
    /// `close` ran (or the receiver was dropped).
    closed: bool,
    /// The receiver registered its waker and was not woken since.
    rx_waiting: bool,
    /// Wake-ups of the receiver the model predicts so far.
    rx_wakes: usize,
    /// Every sender handle is gone.
    senders_gone: bool,
    /// Values dropped so far (anywhere).
    dropped: usize,
    /// The ticket of the next sender to queue.
    next_ticket: usize,
}

/// What a poll of a send future should return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SendResult {
    /// `Pending`.
    Pending,
    /// `Ready(Ok(()))`.
    Sent,
    /// `Ready(Err(SendError(value)))`.
    Failed,
}

/// The whole test bench: the real channel, its handles and futures, and the
/// model.
struct Bench {
    /// The model.
    model: Model,
    /// Live send futures, in creation order.
    futs: Vec<Pending>,
    /// Sender handles not yet dropped by the program; futures hold clones
    /// of these `Rc`s, so a handle lives on while its sends are pending.
    handles: Vec<Rc<Sender<Msg>>>,
    /// The receiver, until the program drops it.
    rx: Option<Receiver<Msg>>,
    /// The receiver's wake-ups.
    rx_counter: Arc<WakeCounter>,
    /// The waker every receive is polled with.
    rx_waker: Waker,
    /// Drops of every value.
    log: Rc<DropLog>,
    /// The id of the next value.
    next_id: u32,
}

/// Runs one byte-coded program against the bounded [`channel`](super::channel)
/// and a `VecDeque` model, panicking on any disagreement.
///
/// The first byte `b` sets the capacity, `(b & 7) + 1`, plus 32 if bits 3
/// and 4 are both set (a ring of two chunks), and the start position:
/// `b >> 5` positions before the counter wraps (0: no wrap). Then each pair
/// of bytes is an operation byte and an argument `a` (which handle or
/// future, by `a % len`). The operation is the low 4 bits of its byte; if
/// the top 4 bits are all set, the polls it makes (ops 0, 1, 5, 11) run
/// with the task's [cooperative budget](crate::coop) already spent, and
/// otherwise with no budget. The operations that end most of the game
/// (close, dropping the receiver or the last handle) need a multiple of 16
/// or 32 as argument, so that random programs do not end them early.
///
/// | op | what |
/// |----|------|
/// | 0, 12 | start `send` of a new value on handle `a`, poll it once |
/// | 1, 14 | poll pending send `a` once |
/// | 2  | cancel (drop) pending send `a` |
/// | 3, 13 | `try_send` a new value on handle `a` |
/// | 4  | `try_recv` |
/// | 5  | poll a `recv` future once |
/// | 6  | clone handle `a` |
/// | 7  | drop handle `a` (if it is not the last one, or `a % 16 == 0`) |
/// | 8  | `close` the receiver (if `a % 16 == 0`) |
/// | 9  | drop the receiver (if `a % 32 == 0`) |
/// | 10 | `try_recv` until it returns no value (if `a % 4 == 0`) |
/// | 11, 15 | poll every pending send once, oldest first |
///
/// Checked after every step: each result (values arrive in FIFO order of
/// their positions; `Full`, `Closed`, `Empty`, `Disconnected` exactly when
/// the model says), each future's and the receiver's wake-ups (a waiting
/// sender is woken exactly when it is granted a position, handed one by a
/// cancelled sender, or failed by `close`; the receiver exactly when a value
/// or skip is published or the last sender leaves while it is registered;
/// every future refused by a spent budget is woken), the number of values
/// dropped, `capacity()` and `is_closed()`. At the end everything is dropped
/// and every value must have been dropped exactly once: received, returned
/// in an error, or dropped with its cancelled send or with the channel.
pub fn fuzz_mpsc(data: &[u8]) {
    let Some((&first, program)) = data.split_first() else {
        return;
    };
    // Outside any executor the budget is unconstrained already; say so, in
    // case a caller runs this inside a task.
    coop::with_unconstrained(|| run(first, program));
}

/// [`fuzz_mpsc`] after the first byte was split off.
fn run(first: u8, program: &[u8]) {
    let cap = usize::from(first & 7) + 1 + if first & 0x18 == 0x18 { 32 } else { 0 };
    let start = (usize::from(first >> 5) * STEP).wrapping_neg();
    let (tx, rx) = channel_at(cap, start);
    let (rx_counter, rx_waker) = WakeCounter::new();
    let mut bench = Bench {
        model: Model {
            cap,
            ring: VecDeque::new(),
            closed: false,
            rx_waiting: false,
            rx_wakes: 0,
            senders_gone: false,
            dropped: 0,
            next_ticket: 0,
        },
        futs: Vec::new(),
        handles: alloc::vec![Rc::new(tx)],
        rx: Some(rx),
        rx_counter,
        rx_waker,
        log: Rc::new(DropLog {
            counts: RefCell::new(Vec::new()),
            total: Cell::new(0),
        }),
        next_id: 0,
    };
    for step in program.chunks_exact(2) {
        let (op, arg) = (step[0] & 0x0F, usize::from(step[1]));
        let starved = step[0] & 0xF0 == 0xF0;
        bench.step(op, arg, starved);
        bench.check();
    }
    bench.finish();
}

impl Bench {
    /// Runs one operation on the channel and the model.
    fn step(&mut self, op: u8, arg: usize, starved: bool) {
        match op {
            0 | 12 if !self.handles.is_empty() => self.start_send(arg, starved),
            1 | 14 if !self.futs.is_empty() => {
                self.poll_send(arg % self.futs.len(), starved);
            }
            2 if !self.futs.is_empty() => self.cancel(arg % self.futs.len()),
            3 | 13 if !self.handles.is_empty() => self.try_send(arg),
            4 => {
                self.try_recv();
            }
            5 => self.poll_recv(starved),
            6 if !self.handles.is_empty() => {
                let tx = Sender::clone(&self.handles[arg % self.handles.len()]);
                self.handles.push(Rc::new(tx));
            }
            7 if self.handles.len() > 1 || (!self.handles.is_empty() && arg % 16 == 0) => {
                drop(self.handles.remove(arg % self.handles.len()));
                self.senders_maybe_gone();
            }
            8 if arg % 16 == 0 => {
                if let Some(rx) = self.rx.as_mut() {
                    rx.close();
                    self.model.close(&mut self.futs);
                }
            }
            9 if arg % 32 == 0 => self.drop_rx(),
            10 if arg % 4 == 0 => while self.try_recv() {},
            11 | 15 => {
                let mut i = 0;
                while i < self.futs.len() {
                    if !self.poll_send(i, starved) {
                        i += 1;
                    }
                }
            }
            _ => {}
        }
    }

    /// A new value, with its drop counter.
    fn new_msg(&mut self) -> Msg {
        let id = self.next_id;
        self.next_id += 1;
        self.log.counts.borrow_mut().push(0);
        Msg {
            id,
            log: Rc::clone(&self.log),
        }
    }

    /// Starts a `send` of a new value on handle `arg` and polls it once.
    fn start_send(&mut self, arg: usize, starved: bool) {
        let tx = Rc::clone(&self.handles[arg % self.handles.len()]);
        let msg = self.new_msg();
        let id = msg.id;
        let (wakes, waker) = WakeCounter::new();
        self.futs.push(Pending {
            fut: Box::pin(async move { tx.send(msg).await }),
            id,
            wakes,
            waker,
            expect_wakes: 0,
            expect: Expect::Fresh,
            ticket: 0,
        });
        self.poll_send(self.futs.len() - 1, starved);
    }

    /// Polls send future `i` once (with a spent budget if `starved`);
    /// returns whether it completed (and was removed).
    fn poll_send(&mut self, i: usize, starved: bool) -> bool {
        let (expected, got) = with_budget(starved, |starved| {
            let expected = self.model.poll_send(&mut self.futs, i, starved);
            let f = &mut self.futs[i];
            let got = f.fut.as_mut().poll(&mut Context::from_waker(&f.waker));
            (expected, got)
        });
        let id = self.futs[i].id;
        match (expected, got) {
            (SendResult::Pending, Poll::Pending) => return false,
            (SendResult::Sent, Poll::Ready(Ok(()))) => {}
            (SendResult::Failed, Poll::Ready(Err(SendError(msg)))) => {
                assert_eq!(msg.id, id, "a failed send returned another value");
                drop(msg);
                self.model.dropped += 1;
            }
            (expected, got) => panic!(
                "send of {id} ({:?}): expected {expected:?}, got {:?}",
                self.futs[i].expect,
                got.map(|r| r.map_err(|e| e.0.id))
            ),
        }
        self.check_wakes();
        drop(self.futs.remove(i));
        self.senders_maybe_gone();
        true
    }

    /// Drops send future `i`.
    fn cancel(&mut self, i: usize) {
        self.model.cancel(&mut self.futs, i);
        let f = self.futs.remove(i);
        let id = f.id;
        drop(f);
        assert_eq!(
            self.log.counts.borrow()[id as usize],
            1,
            "the value of a cancelled send was not dropped"
        );
        self.senders_maybe_gone();
    }

    /// `try_send` of a new value on handle `arg`.
    fn try_send(&mut self, arg: usize) {
        let msg = self.new_msg();
        let id = msg.id;
        let expected = self.model.try_send(&self.futs, id);
        let got = self.handles[arg % self.handles.len()].try_send(msg);
        let got = match got {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg)) => Err((TrySendError::Full(()), msg)),
            Err(TrySendError::Closed(msg)) => Err((TrySendError::Closed(()), msg)),
        };
        match (expected, got) {
            (Ok(()), Ok(())) => {}
            (Err(want), Err((err, msg))) if want == err => {
                assert_eq!(msg.id, id, "try_send returned another value");
                drop(msg);
                self.model.dropped += 1;
            }
            (expected, got) => panic!(
                "try_send({id}): expected {expected:?}, got {:?}",
                got.map_err(|(e, _)| e)
            ),
        }
    }

    /// `try_recv`, if the receiver is alive; returns whether it got a value.
    fn try_recv(&mut self) -> bool {
        let Some(rx) = self.rx.as_mut() else {
            return false;
        };
        let expected = self.model.try_recv(&mut self.futs);
        let got = rx.try_recv().map(|msg| {
            let id = msg.id;
            drop(msg);
            id
        });
        assert_eq!(got, expected, "try_recv disagrees with the model");
        if got.is_ok() {
            self.model.dropped += 1;
        }
        got.is_ok()
    }

    /// Polls a fresh `recv` future once, if the receiver is alive.
    fn poll_recv(&mut self, starved: bool) {
        let Some(rx) = self.rx.as_mut() else { return };
        let model = &mut self.model;
        let futs = &mut self.futs;
        let waker = &self.rx_waker;
        let (expected, got) = with_budget(starved, |starved| {
            let expected = if starved {
                // Refused by the budget: woken, nothing else happens.
                model.rx_wakes += 1;
                None
            } else {
                match model.try_recv(futs) {
                    Ok(id) => Some(Some(id)),
                    Err(TryRecvError::Disconnected) => Some(None),
                    Err(TryRecvError::Empty) => {
                        model.rx_waiting = true;
                        None
                    }
                }
            };
            let got = pin!(rx.recv()).poll(&mut Context::from_waker(waker));
            (expected, got)
        });
        let got = match got {
            Poll::Ready(msg) => Some(msg.map(|msg| {
                let id = msg.id;
                drop(msg);
                self.model.dropped += 1;
                id
            })),
            Poll::Pending => None,
        };
        assert_eq!(got, expected, "poll_recv disagrees with the model");
    }

    /// Drops the receiver, if it is alive.
    fn drop_rx(&mut self) {
        let Some(rx) = self.rx.take() else { return };
        let dropped = self.model.drop_rx(&mut self.futs);
        drop(rx);
        self.check_dropped(dropped, "the receiver's drop");
        self.maybe_chan_dropped();
    }

    /// If the receiver and every sender are gone, the channel was dropped,
    /// and with it the values still in the ring.
    fn maybe_chan_dropped(&mut self) {
        if self.rx.is_none() && self.model.senders_gone && !self.model.ring.is_empty() {
            let dropped = self.model.drop_chan();
            self.check_dropped(dropped, "the channel's drop");
        }
    }

    /// Values `ids` were dropped, once.
    fn check_dropped(&self, ids: Vec<u32>, by: &str) {
        let counts = self.log.counts.borrow();
        for id in ids {
            assert_eq!(counts[id as usize], 1, "{by} did not drop value {id}");
        }
    }

    /// Tells the model when the last sender went (every future holds a
    /// handle, so that is when no handle and no future is left).
    fn senders_maybe_gone(&mut self) {
        if !self.model.senders_gone && self.handles.is_empty() && self.futs.is_empty() {
            self.model.senders_gone = true;
            self.model.publish();
            self.maybe_chan_dropped();
        }
    }

    /// Each future was woken as often as the model says.
    fn check_wakes(&self) {
        for f in &self.futs {
            assert_eq!(
                f.wakes.get(),
                f.expect_wakes,
                "send of {} ({:?}) woken {} times, expected {}",
                f.id,
                f.expect,
                f.wakes.get(),
                f.expect_wakes
            );
        }
    }

    /// The checks after every step.
    fn check(&self) {
        let m = &self.model;
        let queued = m.queued(&self.futs);
        assert!(
            !queued || (!m.closed && m.ring.len() == m.cap),
            "model: senders queue while there is room or after close"
        );
        assert!(m.ring.len() <= m.cap, "model: ring over capacity");
        self.check_wakes();
        assert_eq!(
            self.rx_counter.get(),
            m.rx_wakes,
            "receiver woken {} times, expected {}",
            self.rx_counter.get(),
            m.rx_wakes
        );
        assert_eq!(self.log.total.get(), m.dropped, "values dropped");
        if let Some(tx) = self.handles.first() {
            let free = if queued { 0 } else { m.cap - m.ring.len() };
            assert_eq!(tx.capacity(), free, "capacity disagrees with the model");
            assert_eq!(tx.is_closed(), m.closed, "is_closed disagrees");
        }
    }

    /// Drops everything, still checking, and then that every value was
    /// dropped exactly once.
    fn finish(mut self) {
        while !self.futs.is_empty() {
            self.cancel(0);
            self.check();
        }
        self.drop_rx();
        self.check();
        // The last handle takes the channel, and any values still in it.
        self.handles.clear();
        let counts = self.log.counts.borrow();
        for (id, &count) in counts.iter().enumerate() {
            assert_eq!(count, 1, "value {id} dropped {count} times");
        }
        assert_eq!(self.log.total.get(), counts.len());
    }
}

impl Model {
    /// Whether some sender is queued for room.
    fn queued(&self, futs: &[Pending]) -> bool {
        futs.iter().any(|f| f.expect == Expect::Waiting)
    }

    /// A value or skip was published, or the last sender left: the
    /// receiver is woken if it is registered.
    fn publish(&mut self) {
        if self.rx_waiting {
            self.rx_waiting = false;
            self.rx_wakes += 1;
        }
    }

    /// The oldest waiting sender.
    fn front(futs: &mut [Pending]) -> Option<&mut Pending> {
        futs.iter_mut()
            .filter(|f| f.expect == Expect::Waiting)
            .min_by_key(|f| f.ticket)
    }

    /// Grants positions to waiting senders in FIFO order while there is
    /// room (after the receiver freed a slot).
    fn grant(&mut self, futs: &mut [Pending]) {
        while !self.closed && self.ring.len() < self.cap {
            let Some(f) = Self::front(futs) else { return };
            self.ring.push_back(Slot::Reserved(f.id));
            f.expect = Expect::Granted;
            f.expect_wakes += 1;
        }
    }

    /// The slot reserved for value `id`.
    fn reserved(&mut self, id: u32) -> &mut Slot {
        self.ring
            .iter_mut()
            .find(|s| **s == Slot::Reserved(id))
            .expect("model: granted send has no reserved slot")
    }

    /// What polling send `i` returns, updating the model.
    fn poll_send(&mut self, futs: &mut [Pending], i: usize, starved: bool) -> SendResult {
        let queued = self.queued(futs);
        let f = &mut futs[i];
        if starved {
            // The budget refuses the poll before anything else happens.
            f.expect_wakes += 1;
            return SendResult::Pending;
        }
        match f.expect {
            Expect::Fresh if self.closed => SendResult::Failed,
            Expect::Fresh if !queued && self.ring.len() < self.cap => {
                self.ring.push_back(Slot::Value(f.id));
                self.publish();
                SendResult::Sent
            }
            Expect::Fresh => {
                f.expect = Expect::Waiting;
                f.ticket = self.next_ticket;
                self.next_ticket += 1;
                SendResult::Pending
            }
            Expect::Waiting => SendResult::Pending,
            Expect::Granted => {
                let id = f.id;
                *self.reserved(id) = Slot::Value(id);
                self.publish();
                SendResult::Sent
            }
            Expect::Closed => SendResult::Failed,
        }
    }

    /// Send `i` is dropped: its value is dropped, and a granted position
    /// goes to the oldest waiting sender or is skipped.
    fn cancel(&mut self, futs: &mut [Pending], i: usize) {
        self.dropped += 1;
        if futs[i].expect != Expect::Granted {
            return;
        }
        let id = futs[i].id;
        match Self::front(futs) {
            Some(next) => {
                *self.reserved(id) = Slot::Reserved(next.id);
                next.expect = Expect::Granted;
                next.expect_wakes += 1;
            }
            None => {
                *self.reserved(id) = Slot::Skipped;
                self.publish();
            }
        }
    }

    /// What `try_send` of value `id` returns, updating the model.
    fn try_send(&mut self, futs: &[Pending], id: u32) -> Result<(), TrySendError<()>> {
        if self.closed {
            Err(TrySendError::Closed(()))
        } else if self.queued(futs) || self.ring.len() >= self.cap {
            Err(TrySendError::Full(()))
        } else {
            self.ring.push_back(Slot::Value(id));
            self.publish();
            Ok(())
        }
    }

    /// Takes the value at the head, stepping over skipped positions; each
    /// freed position may be granted to a waiting sender.
    fn pop(&mut self, futs: &mut [Pending]) -> Option<u32> {
        loop {
            match self.ring.front() {
                Some(Slot::Skipped) => {
                    self.ring.pop_front();
                    self.grant(futs);
                }
                Some(&Slot::Value(id)) => {
                    self.ring.pop_front();
                    self.grant(futs);
                    return Some(id);
                }
                Some(Slot::Reserved(_)) | None => return None,
            }
        }
    }

    /// What `try_recv` returns, updating the model.
    fn try_recv(&mut self, futs: &mut [Pending]) -> Result<u32, TryRecvError> {
        if let Some(id) = self.pop(futs) {
            return Ok(id);
        }
        if (self.closed && self.ring.is_empty()) || self.senders_gone {
            // Nothing was claimed after the close, and a reserved slot has a
            // live send (so a live sender).
            assert!(self.ring.is_empty(), "model: slots left without senders");
            Err(TryRecvError::Disconnected)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    /// `close`: every waiting sender fails (and is woken).
    fn close(&mut self, futs: &mut [Pending]) {
        self.closed = true;
        for f in futs.iter_mut().filter(|f| f.expect == Expect::Waiting) {
            f.expect = Expect::Closed;
            f.expect_wakes += 1;
        }
    }

    /// The receiver is dropped: it closes, then drops the ready values at
    /// the head (returned). The rest goes with the channel.
    fn drop_rx(&mut self, futs: &mut [Pending]) -> Vec<u32> {
        self.close(futs);
        let mut dropped = Vec::new();
        while let Some(id) = self.pop(futs) {
            dropped.push(id);
        }
        self.dropped += dropped.len();
        dropped
    }

    /// The channel is dropped (no handle is left, so no slot is reserved):
    /// the values still in the ring are dropped (returned).
    fn drop_chan(&mut self) -> Vec<u32> {
        let dropped: Vec<u32> = self
            .ring
            .drain(..)
            .filter_map(|slot| match slot {
                Slot::Value(id) => Some(id),
                Slot::Skipped => None,
                Slot::Reserved(_) => panic!("model: slot reserved without a sender"),
            })
            .collect();
        self.dropped += dropped.len();
        dropped
    }
}

/// Runs `f` with the budget spent if `starved` (telling it whether the
/// budget really is spent: without `std` there is none), else unconstrained.
fn with_budget<R>(starved: bool, f: impl FnOnce(bool) -> R) -> R {
    if !starved {
        return f(false);
    }
    coop::budget(|| {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..coop::INITIAL {
            if let Poll::Ready(restore) = coop::poll_proceed(&mut cx) {
                restore.made_progress();
            }
        }
        f(!coop::has_budget_remaining())
    })
}
