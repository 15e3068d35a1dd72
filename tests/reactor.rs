//! Tests of the hand-written reactor (`callcenter::reactor`).
//!
//! - Timers on a [`ManualClock`] (never a sleep): deadline order, scheduling
//!   order for equal deadlines, `cancel`/`reset`/`delay`/`active`/`time` and
//!   their errors, calls scheduled by a callback waiting for the next round,
//!   `pending_calls` and the count `run_due_timers` returns.
//! - [`LineReceiver`] on an in-memory [`Transport`]: framing that does not
//!   depend on how the input is chunked (whole, 1-byte, deterministic random
//!   chunkings, and a fixed-seed proptest against a naive reference model),
//!   `\r\n`, `max_length`, the partial-line limit, both [`Overflow`] policies
//!   and the last unterminated line at end of input.
//! - [`Transport::memory`]: channels, ordering, writes after closing.
//! - TCP on a real reactor bound to `127.0.0.1:0`, driven by `iterate` in a
//!   bounded loop: echo, close after the output drains, a refusing factory,
//!   `connect_tcp` (success and refusal), `stop_listening`, pause/resume,
//!   abort, half-close, a reset by the peer, and an 8 MiB write to a slow
//!   reader that never blocks the loop.
//! - `run` returning after `stop` (from a timer) and closing what is open.

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use callcenter::reactor::{
    AfterEof, Channel, ClientFactory, ConnectionLost, DelayedCall, Factory, LineHandler,
    LineReceiver, ManualClock, Overflow, Protocol, Reactor, TimerError, Transport,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

type Log = Rc<RefCell<Vec<String>>>;

fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn logged(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A reactor on a manual clock, and the clock.
fn manual_reactor() -> (Reactor, ManualClock) {
    let clock = ManualClock::new();
    let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
    (reactor, clock)
}

/// Schedules a call that appends `name` to `log`.
fn schedule(reactor: &Reactor, log: &Log, delay: Duration, name: &str) -> DelayedCall {
    let log = log.clone();
    let name = name.to_string();
    reactor.call_later(delay, move || log.borrow_mut().push(name))
}

/// A short name for a `ConnectionLost`, so logs compare as whole values.
fn reason_name(reason: &ConnectionLost) -> String {
    match reason {
        ConnectionLost::Done => "Done".to_string(),
        ConnectionLost::Aborted => "Aborted".to_string(),
        ConnectionLost::Error(error) => format!("Error({:?})", error.kind()),
        ConnectionLost::Shutdown => "Shutdown".to_string(),
    }
}

/// Turns the loop until `done` holds; fails after a few seconds.
fn drive(reactor: &Reactor, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        reactor.iterate(Some(ms(50))).expect("iterate");
    }
}

/// What a non-blocking read of a test-side socket found.
#[derive(Debug, PartialEq, Eq)]
enum ReadState {
    Open,
    Eof,
}

/// Reads what is available (at most `limit` bytes) into `into`.
fn read_some(stream: &mut TcpStream, into: &mut Vec<u8>, limit: usize) -> ReadState {
    let mut buffer = vec![0; 64 * 1024];
    let mut taken = 0;
    while taken < limit {
        let want = buffer.len().min(limit - taken);
        match stream.read(&mut buffer[..want]) {
            Ok(0) => return ReadState::Eof,
            Ok(n) => {
                into.extend_from_slice(&buffer[..n]);
                taken += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadState::Open,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("test socket read failed: {e}"),
        }
    }
    ReadState::Open
}

/// A non-blocking client socket connected to `addr`.
fn connect_client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nonblocking(true).expect("non-blocking");
    stream
}

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

#[test]
fn timers_fire_in_deadline_order() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, secs(3), "c");
    schedule(&reactor, &log, secs(1), "a");
    schedule(&reactor, &log, secs(5), "e");
    schedule(&reactor, &log, secs(2), "b");
    schedule(&reactor, &log, secs(4), "d");
    assert_eq!(reactor.pending_calls(), 5);

    assert_eq!(reactor.run_due_timers(), 0);
    clock.advance(ms(2500));
    assert_eq!(reactor.run_due_timers(), 2);
    assert_eq!(logged(&log), strings(&["a", "b"]));
    assert_eq!(reactor.pending_calls(), 3);

    clock.advance(secs(10));
    assert_eq!(reactor.run_due_timers(), 3);
    assert_eq!(logged(&log), strings(&["a", "b", "c", "d", "e"]));
    assert_eq!(reactor.pending_calls(), 0);
    assert_eq!(reactor.run_due_timers(), 0);
}

#[test]
fn equal_deadlines_fire_in_scheduling_order() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    for name in ["1", "2", "3", "4", "5", "6"] {
        schedule(&reactor, &log, secs(7), name);
    }
    // Scheduled later for the same instant: still after the others.
    clock.advance(secs(2));
    schedule(&reactor, &log, secs(5), "7");
    clock.advance(secs(5));
    assert_eq!(reactor.run_due_timers(), 7);
    assert_eq!(logged(&log), strings(&["1", "2", "3", "4", "5", "6", "7"]));
}

#[test]
fn a_timer_fires_exactly_at_its_deadline() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, ms(1500), "due");
    clock.advance(ms(1499));
    assert_eq!(reactor.run_due_timers(), 0);
    assert_eq!(logged(&log), Vec::<String>::new());
    clock.advance(ms(1));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["due"]));
}

#[test]
fn cancel_drops_the_call_and_refuses_a_second_time() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let keep = schedule(&reactor, &log, secs(1), "keep");
    let drop_it = schedule(&reactor, &log, secs(1), "cancelled");
    assert_eq!(reactor.pending_calls(), 2);

    assert_eq!(drop_it.cancel(), Ok(()));
    assert!(!drop_it.active());
    assert_eq!(drop_it.time(), None);
    assert_eq!(reactor.pending_calls(), 1);
    assert_eq!(drop_it.cancel(), Err(TimerError::AlreadyCancelled));
    assert_eq!(drop_it.reset(secs(1)), Err(TimerError::AlreadyCancelled));
    assert_eq!(drop_it.delay(secs(1)), Err(TimerError::AlreadyCancelled));

    clock.advance(secs(1));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["keep"]));
    assert!(!keep.active());
    assert_eq!(keep.time(), None);
    assert_eq!(keep.cancel(), Err(TimerError::AlreadyCalled));
    assert_eq!(keep.reset(secs(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(keep.delay(secs(1)), Err(TimerError::AlreadyCalled));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn cancelling_frees_the_callback_captures() {
    let (reactor, _clock) = manual_reactor();
    let captured = Rc::new(());
    let inside = captured.clone();
    let call = reactor.call_later(secs(1), move || drop(inside));
    assert_eq!(Rc::strong_count(&captured), 2);
    call.cancel().unwrap();
    assert_eq!(Rc::strong_count(&captured), 1);
}

#[test]
fn dropping_the_handle_does_not_cancel() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    drop(schedule(&reactor, &log, secs(1), "still runs"));
    clock.advance(secs(1));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["still runs"]));
}

#[test]
fn reset_moves_a_call_later() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let call = schedule(&reactor, &log, secs(5), "moved");
    assert_eq!(call.time(), Some(secs(5)));
    clock.advance(secs(2));
    // From now, not from the old deadline.
    assert_eq!(call.reset(secs(10)), Ok(()));
    assert_eq!(call.time(), Some(secs(12)));
    assert!(call.active());
    assert_eq!(reactor.pending_calls(), 1);

    clock.advance(secs(3)); // t = 5: the old deadline.
    assert_eq!(reactor.run_due_timers(), 0);
    clock.advance(ms(6999)); // t = 11.999
    assert_eq!(reactor.run_due_timers(), 0);
    assert_eq!(logged(&log), Vec::<String>::new());
    clock.advance(ms(1)); // t = 12
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["moved"]));
}

#[test]
fn reset_moves_a_call_earlier() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, secs(3), "other");
    let call = schedule(&reactor, &log, secs(10), "moved");
    clock.advance(secs(1));
    assert_eq!(call.reset(secs(1)), Ok(()));
    assert_eq!(call.time(), Some(secs(2)));
    clock.advance(secs(1)); // t = 2
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["moved"]));
    clock.advance(secs(8)); // t = 10: nothing left at the old deadline.
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["moved", "other"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn delay_postpones_from_the_current_deadline() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let call = schedule(&reactor, &log, secs(5), "delayed");
    clock.advance(secs(1));
    assert_eq!(call.delay(secs(3)), Ok(()));
    assert_eq!(call.time(), Some(secs(8)));
    assert_eq!(call.delay(ms(500)), Ok(()));
    assert_eq!(call.time(), Some(ms(8500)));
    assert_eq!(reactor.pending_calls(), 1);
    clock.advance(ms(7499)); // t = 8.499
    assert_eq!(reactor.run_due_timers(), 0);
    clock.advance(ms(1));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["delayed"]));
}

#[test]
fn active_and_time_follow_the_life_of_a_call() {
    let (reactor, clock) = manual_reactor();
    assert_eq!(reactor.now(), Duration::ZERO);
    clock.advance(secs(4));
    assert_eq!(reactor.now(), secs(4));

    // (active, time) as seen from inside the callback.
    type Seen = Option<(bool, Option<Duration>)>;
    let seen: Rc<Cell<Seen>> = Rc::new(Cell::new(None));
    let slot: Rc<RefCell<Option<DelayedCall>>> = Rc::new(RefCell::new(None));
    let (seen_in, slot_in) = (seen.clone(), slot.clone());
    let call = reactor.call_later(secs(6), move || {
        // Inside its own callback the call is no longer pending.
        let me = slot_in.borrow().clone().unwrap();
        seen_in.set(Some((me.active(), me.time())));
        assert_eq!(me.cancel(), Err(TimerError::AlreadyCalled));
    });
    *slot.borrow_mut() = Some(call.clone());
    assert!(call.active());
    assert_eq!(call.time(), Some(secs(10)));

    clock.advance(secs(6));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(seen.get(), Some((false, None)));
    assert!(!call.active());
    assert_eq!(call.time(), None);
}

#[test]
fn a_call_scheduled_by_a_callback_waits_for_the_next_round() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let (inner_reactor, inner_log) = (reactor.clone(), log.clone());
    reactor.call_later(secs(1), move || {
        inner_log.borrow_mut().push("outer".into());
        let again = inner_log.clone();
        inner_reactor.call_later(Duration::ZERO, move || {
            again.borrow_mut().push("inner".into())
        });
    });
    schedule(&reactor, &log, secs(1), "sibling");
    clock.advance(secs(1));
    assert_eq!(reactor.run_due_timers(), 2);
    assert_eq!(logged(&log), strings(&["outer", "sibling"]));
    assert_eq!(reactor.pending_calls(), 1);
    // The clock did not move: the zero-delay call is due in the next round.
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(logged(&log), strings(&["outer", "sibling", "inner"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn a_self_rescheduling_call_runs_once_per_round() {
    let (reactor, _clock) = manual_reactor();
    let count = Rc::new(Cell::new(0));
    fn tick(reactor: Reactor, count: Rc<Cell<u32>>) {
        count.set(count.get() + 1);
        let next = reactor.clone();
        reactor.call_later(Duration::ZERO, move || tick(next, count));
    }
    let (r, c) = (reactor.clone(), count.clone());
    reactor.call_later(Duration::ZERO, move || tick(r, c));
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(reactor.run_due_timers(), 1);
    assert_eq!(count.get(), 3);
    assert_eq!(reactor.pending_calls(), 1);
}

#[test]
fn a_callback_can_cancel_another_due_call() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    let victim_slot: Rc<RefCell<Option<DelayedCall>>> = Rc::new(RefCell::new(None));
    let (slot, first_log) = (victim_slot.clone(), log.clone());
    reactor.call_later(secs(1), move || {
        first_log.borrow_mut().push("first".into());
        let victim = slot.borrow().clone().unwrap();
        assert_eq!(victim.cancel(), Ok(()));
    });
    *victim_slot.borrow_mut() = Some(schedule(&reactor, &log, secs(1), "victim"));
    schedule(&reactor, &log, secs(1), "last");
    clock.advance(secs(1));
    assert_eq!(reactor.run_due_timers(), 2);
    assert_eq!(logged(&log), strings(&["first", "last"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn pending_calls_counts_scheduled_minus_run_and_cancelled() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    assert_eq!(reactor.pending_calls(), 0);
    let calls: Vec<DelayedCall> = (1..=10)
        .map(|i| schedule(&reactor, &log, secs(i), &i.to_string()))
        .collect();
    assert_eq!(reactor.pending_calls(), 10);
    calls[0].cancel().unwrap();
    calls[9].cancel().unwrap();
    assert_eq!(reactor.pending_calls(), 8);
    // Resetting or delaying does not add entries.
    calls[4].reset(secs(100)).unwrap();
    calls[5].delay(secs(100)).unwrap();
    calls[4].reset(secs(1)).unwrap();
    assert_eq!(reactor.pending_calls(), 8);
    clock.advance(secs(4));
    assert_eq!(reactor.run_due_timers(), 4); // 2, 3, 4 and the reset 5.
    assert_eq!(logged(&log), strings(&["5", "2", "3", "4"]));
    assert_eq!(reactor.pending_calls(), 4);
}

#[test]
fn iterate_runs_the_due_timers_without_waiting_for_them() {
    let (reactor, clock) = manual_reactor();
    let log = new_log();
    schedule(&reactor, &log, secs(1), "due");
    clock.advance(secs(1));
    let started = Instant::now();
    reactor.iterate(Some(Duration::ZERO)).unwrap();
    assert!(started.elapsed() < secs(1));
    assert_eq!(logged(&log), strings(&["due"]));
}

#[test]
fn a_huge_delay_does_not_panic() {
    let (reactor, clock) = manual_reactor();
    clock.advance(secs(1));
    let call = reactor.call_later(Duration::MAX, || {});
    assert_eq!(call.time(), Some(Duration::MAX));
    assert_eq!(call.delay(secs(1)), Ok(()));
    assert_eq!(call.reset(Duration::MAX), Ok(()));
    clock.advance(secs(3600));
    assert_eq!(reactor.run_due_timers(), 0);
    assert_eq!(reactor.pending_calls(), 1);
}

// ---------------------------------------------------------------------------
// Transport::memory
// ---------------------------------------------------------------------------

#[test]
fn memory_transport_keeps_channels_apart_and_in_order() {
    let transport = Transport::memory();
    transport.write(b"out 1\n");
    transport.write_err(b"err 1\n");
    transport.write(b"out 2\n");
    transport.write(b"");
    transport.write_to(Channel::Err, b"err 2\n");
    transport.write_to(Channel::Out, b"out 3\n");
    assert_eq!(transport.written(Channel::Out), b"out 1\nout 2\nout 3\n");
    assert_eq!(transport.written(Channel::Err), b"err 1\nerr 2\n");
    assert_eq!(
        transport.written_all(),
        b"out 1\nerr 1\nout 2\nerr 2\nout 3\n"
    );
    assert_eq!(transport.buffered(), 30);
    assert_eq!(transport.peer_addr(), None);
    assert!(!transport.disconnecting());
    assert!(!transport.closed());

    transport.clear();
    assert_eq!(transport.written_all(), b"");
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn memory_transport_drops_writes_after_lose_connection() {
    let transport = Transport::memory();
    let clone = transport.clone();
    transport.write(b"before\n");
    transport.write_err(b"warn\n");
    clone.lose_connection();
    assert!(transport.disconnecting());
    assert!(!transport.closed());
    transport.write(b"after\n");
    transport.write_err(b"after err\n");
    assert_eq!(transport.written(Channel::Out), b"before\n");
    assert_eq!(transport.written(Channel::Err), b"warn\n");
    assert_eq!(transport.written_all(), b"before\nwarn\n");
}

#[test]
fn memory_transport_abort_discards_output() {
    let transport = Transport::memory();
    transport.write(b"unsent");
    transport.abort_connection();
    assert!(transport.disconnecting());
    transport.write(b"more");
    assert_eq!(transport.written_all(), b"");
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn memory_transport_pause_and_resume() {
    let transport = Transport::memory();
    assert!(!transport.paused());
    transport.pause_producing();
    assert!(transport.paused());
    transport.resume_producing();
    assert!(!transport.paused());
}

// ---------------------------------------------------------------------------
// LineReceiver
// ---------------------------------------------------------------------------

type Lines = Rc<RefCell<Vec<Vec<u8>>>>;

/// A `LineHandler` that records what it is given.
struct Collector {
    lines: Lines,
    exceeded: Lines,
    overflow: Overflow,
    read_lost: Rc<Cell<u32>>,
}

impl LineHandler for Collector {
    fn line_received(&mut self, line: &[u8]) {
        self.lines.borrow_mut().push(line.to_vec());
    }

    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        self.exceeded.borrow_mut().push(line.to_vec());
        self.overflow
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.read_lost.set(self.read_lost.get() + 1);
        AfterEof::KeepWriting
    }
}

/// A connected line receiver and what its handler saw.
struct Rig {
    receiver: LineReceiver<Collector>,
    transport: Transport,
    lines: Lines,
    exceeded: Lines,
    read_lost: Rc<Cell<u32>>,
}

impl Rig {
    fn new(max_length: usize, overflow: Overflow) -> Rig {
        let lines: Lines = Rc::default();
        let exceeded: Lines = Rc::default();
        let read_lost = Rc::new(Cell::new(0));
        let mut receiver = LineReceiver::new(Collector {
            lines: lines.clone(),
            exceeded: exceeded.clone(),
            overflow,
            read_lost: read_lost.clone(),
        })
        .with_max_length(max_length);
        let transport = Transport::memory();
        receiver.connection_made(transport.clone());
        Rig {
            receiver,
            transport,
            lines,
            exceeded,
            read_lost,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        self.receiver.data_received(data);
    }

    /// Feeds `input` cut into chunks of the given sizes (cycled), stopping
    /// once the transport disconnects, as the reactor stops reading then.
    fn feed_chunked(&mut self, input: &[u8], sizes: &[usize]) {
        let mut rest = input;
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() && !self.transport.disconnecting() {
            let size = (*sizes.next().unwrap()).clamp(1, rest.len());
            let (chunk, tail) = rest.split_at(size);
            self.receiver.data_received(chunk);
            rest = tail;
        }
    }

    fn lines(&self) -> Vec<Vec<u8>> {
        self.lines.borrow().clone()
    }

    fn exceeded(&self) -> Vec<Vec<u8>> {
        self.exceeded.borrow().clone()
    }
}

fn byte_lines(lines: &[&str]) -> Vec<Vec<u8>> {
    lines.iter().map(|l| l.as_bytes().to_vec()).collect()
}

/// A small deterministic PRNG (xorshift64*), for chunkings.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const MIXED: &[u8] = b"call 1\nanswer A\r\n\nhangup\t1\r\n\r\na\rb\n  spaced  \nx\r\r\nlast";
const MIXED_LINES: &[&str] = &[
    "call 1",
    "answer A",
    "",
    "hangup\t1",
    "",
    "a\rb",
    "  spaced  ",
    "x\r",
];

#[test]
fn lines_split_the_same_however_the_input_is_chunked() {
    let mut chunkings: Vec<Vec<usize>> = vec![vec![MIXED.len()], vec![1], vec![2], vec![3, 1]];
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    for _ in 0..200 {
        let count = 1 + rng.below(12);
        chunkings.push((0..count).map(|_| 1 + rng.below(9)).collect());
    }
    for sizes in &chunkings {
        let mut rig = Rig::new(64, Overflow::Disconnect);
        rig.feed_chunked(MIXED, sizes);
        assert_eq!(
            rig.lines(),
            byte_lines(MIXED_LINES),
            "chunk sizes {sizes:?}"
        );
        assert_eq!(rig.receiver.read_connection_lost(), AfterEof::KeepWriting);
        let mut all = byte_lines(MIXED_LINES);
        all.push(b"last".to_vec());
        assert_eq!(rig.lines(), all, "chunk sizes {sizes:?}");
        assert_eq!(rig.exceeded(), Vec::<Vec<u8>>::new());
        assert_eq!(rig.read_lost.get(), 1);
    }
}

#[test]
fn crlf_split_across_chunks_is_one_delimiter() {
    let mut rig = Rig::new(64, Overflow::Disconnect);
    rig.feed(b"one\r");
    assert_eq!(rig.lines(), Vec::<Vec<u8>>::new());
    rig.feed(b"\ntwo\r");
    rig.feed(b"\n");
    rig.feed(b"\r");
    rig.feed(b"\r\n");
    assert_eq!(rig.lines(), byte_lines(&["one", "two", "\r"]));
}

#[test]
fn a_line_exactly_at_the_maximum_is_delivered() {
    for sizes in [vec![100], vec![1]] {
        let mut rig = Rig::new(5, Overflow::Disconnect);
        rig.feed_chunked(b"12345\n12345\r\nabc\n", &sizes);
        assert_eq!(rig.lines(), byte_lines(&["12345", "12345", "abc"]));
        assert_eq!(rig.exceeded(), Vec::<Vec<u8>>::new());
        assert!(!rig.transport.disconnecting());
    }
}

#[test]
fn a_line_one_over_the_maximum_is_exceeded() {
    let mut rig = Rig::new(5, Overflow::Discard);
    rig.feed(b"ok\n123456\nnext\n");
    assert_eq!(rig.lines(), byte_lines(&["ok", "next"]));
    assert_eq!(rig.exceeded(), byte_lines(&["123456"]));
    assert!(!rig.transport.disconnecting());
}

#[test]
fn a_long_partial_line_is_exceeded_once_before_its_delimiter() {
    let mut rig = Rig::new(8, Overflow::Discard);
    for _ in 0..8 {
        rig.feed(b"x");
    }
    // Eight bytes could still become a valid line, and so could a `\r` after them.
    rig.feed(b"\r");
    assert_eq!(rig.exceeded(), Vec::<Vec<u8>>::new());
    rig.feed(b"y");
    assert_eq!(rig.exceeded(), byte_lines(&["xxxxxxxx\ry"]));
    for _ in 0..1000 {
        rig.feed(b"z");
    }
    assert_eq!(rig.exceeded(), byte_lines(&["xxxxxxxx\ry"]));
    assert_eq!(rig.lines(), Vec::<Vec<u8>>::new());
    // Discard: the rest of the long line is skipped, then lines resume.
    rig.feed(b"zz\nafter\n");
    assert_eq!(rig.lines(), byte_lines(&["after"]));
    assert_eq!(rig.exceeded(), byte_lines(&["xxxxxxxx\ry"]));
}

#[test]
fn a_long_partial_line_in_one_chunk_is_exceeded_at_once() {
    let mut rig = Rig::new(4, Overflow::Discard);
    rig.feed(b"a\nbcdefgh");
    assert_eq!(rig.lines(), byte_lines(&["a"]));
    assert_eq!(rig.exceeded(), byte_lines(&["bcdefgh"]));
    rig.feed(b"ijk");
    rig.feed(b"lm\nnop\n");
    assert_eq!(rig.lines(), byte_lines(&["a", "nop"]));
    assert_eq!(rig.exceeded(), byte_lines(&["bcdefgh"]));
}

#[test]
fn discard_skips_to_the_next_delimiter_then_continues() {
    for sizes in [vec![1000], vec![1], vec![2, 3, 5]] {
        let mut rig = Rig::new(3, Overflow::Discard);
        rig.feed_chunked(b"abc\ntoo long\ndef\nalso too long\r\n\nxyz\n", &sizes);
        assert_eq!(
            rig.lines(),
            byte_lines(&["abc", "def", "", "xyz"]),
            "{sizes:?}"
        );
        assert_eq!(rig.exceeded().len(), 2, "{sizes:?}");
        assert!(!rig.transport.disconnecting());
    }
}

#[test]
fn disconnect_stops_delivering_lines() {
    for sizes in [vec![1000], vec![1]] {
        let mut rig = Rig::new(3, Overflow::Disconnect);
        rig.feed_chunked(b"one\ntoolong\ntwo\n", &sizes);
        assert!(rig.transport.disconnecting());
        assert_eq!(rig.lines(), byte_lines(&["one"]), "{sizes:?}");
        assert_eq!(rig.exceeded().len(), 1, "{sizes:?}");
        // Whatever still arrives is not delivered.
        rig.feed(b"three\nfor\n");
        rig.receiver.read_connection_lost();
        assert_eq!(rig.lines(), byte_lines(&["one"]), "{sizes:?}");
    }
}

#[test]
fn the_default_overflow_is_disconnect() {
    struct Plain(Lines);
    impl LineHandler for Plain {
        fn line_received(&mut self, line: &[u8]) {
            self.0.borrow_mut().push(line.to_vec());
        }
    }
    let lines: Lines = Rc::default();
    let mut receiver = LineReceiver::new(Plain(lines.clone())).with_max_length(2);
    let transport = Transport::memory();
    receiver.connection_made(transport.clone());
    receiver.data_received(b"ab\nabc\nde\n");
    assert!(transport.disconnecting());
    assert_eq!(*lines.borrow(), byte_lines(&["ab"]));
}

#[test]
fn lose_connection_from_line_received_stops_the_rest_of_the_chunk() {
    struct Quitter {
        lines: Lines,
        transport: Option<Transport>,
    }
    impl LineHandler for Quitter {
        fn connection_made(&mut self, transport: Transport) {
            self.transport = Some(transport);
        }
        fn line_received(&mut self, line: &[u8]) {
            self.lines.borrow_mut().push(line.to_vec());
            if line == b"quit" {
                self.transport.as_ref().unwrap().lose_connection();
            }
        }
    }
    let lines: Lines = Rc::default();
    let mut receiver = LineReceiver::new(Quitter {
        lines: lines.clone(),
        transport: None,
    });
    receiver.connection_made(Transport::memory());
    receiver.data_received(b"a\nquit\nb\nc\n");
    receiver.data_received(b"d\n");
    assert_eq!(*lines.borrow(), byte_lines(&["a", "quit"]));
}

#[test]
fn read_connection_lost_delivers_the_last_unterminated_line() {
    let mut rig = Rig::new(64, Overflow::Disconnect);
    rig.feed(b"first\nsec");
    rig.feed(b"ond\r");
    assert_eq!(rig.lines(), byte_lines(&["first"]));
    assert_eq!(rig.receiver.read_connection_lost(), AfterEof::KeepWriting);
    assert_eq!(rig.lines(), byte_lines(&["first", "second"]));
    assert_eq!(rig.read_lost.get(), 1);

    // Nothing buffered: nothing more delivered.
    let mut rig = Rig::new(64, Overflow::Disconnect);
    rig.feed(b"only\n");
    rig.receiver.read_connection_lost();
    assert_eq!(rig.lines(), byte_lines(&["only"]));

    // A long line being discarded is not delivered at the end.
    let mut rig = Rig::new(3, Overflow::Discard);
    rig.feed(b"ok\nabcdef");
    rig.receiver.read_connection_lost();
    assert_eq!(rig.lines(), byte_lines(&["ok"]));
    assert_eq!(rig.exceeded(), byte_lines(&["abcdef"]));
}

/// What a line receiver must do with `input`: the lines, the number of
/// over-long lines, and whether it disconnected. Deliberately naive.
fn line_model(input: &[u8], max: usize, overflow: Overflow) -> (Vec<Vec<u8>>, usize, bool) {
    let strip = |line: &[u8]| -> Vec<u8> {
        match line {
            [rest @ .., b'\r'] => rest.to_vec(),
            _ => line.to_vec(),
        }
    };
    let mut lines = Vec::new();
    let mut exceeded = 0;
    let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    let tail = pieces.pop().unwrap();
    for piece in pieces {
        let line = strip(piece);
        if line.len() > max {
            exceeded += 1;
            if overflow == Overflow::Disconnect {
                return (lines, exceeded, true);
            }
        } else {
            lines.push(line);
        }
    }
    if !tail.is_empty() {
        let line = strip(tail);
        if line.len() > max {
            exceeded += 1;
            return (lines, exceeded, overflow == Overflow::Disconnect);
        }
        lines.push(line);
    }
    (lines, exceeded, false)
}

fn line_proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x11e5_0f11),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(line_proptest_config())]

    #[test]
    fn line_receiver_matches_the_model_for_any_chunking(
        input in proptest::collection::vec(
            prop_oneof![4 => Just(b'a'), 1 => Just(b'\r'), 2 => Just(b'\n')],
            0..120,
        ),
        max in 0usize..8,
        sizes in proptest::collection::vec(1usize..16, 1..12),
        discard in any::<bool>(),
    ) {
        let overflow = if discard { Overflow::Discard } else { Overflow::Disconnect };
        let (lines, exceeded, disconnected) = line_model(&input, max, overflow);
        for sizes in [vec![input.len().max(1)], vec![1], sizes] {
            let mut rig = Rig::new(max, overflow);
            rig.feed_chunked(&input, &sizes);
            if !rig.transport.disconnecting() {
                rig.receiver.read_connection_lost();
            }
            prop_assert_eq!(&rig.lines(), &lines, "chunk sizes {:?}", sizes);
            prop_assert_eq!(rig.exceeded().len(), exceeded, "chunk sizes {:?}", sizes);
            prop_assert_eq!(rig.transport.disconnecting(), disconnected);
        }
    }
}

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

/// Echoes everything; logs its life.
struct Echo {
    log: Log,
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.log.borrow_mut().push("made".into());
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.transport.as_ref().unwrap().write(data);
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct EchoFactory {
    log: Log,
    peers: Rc<RefCell<Vec<SocketAddr>>>,
}

impl Factory for EchoFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        self.peers.borrow_mut().push(addr);
        Some(Box::new(Echo {
            log: self.log.clone(),
            transport: None,
        }))
    }
}

fn echo_server(reactor: &Reactor) -> (SocketAddr, Log, Rc<RefCell<Vec<SocketAddr>>>) {
    let log = new_log();
    let peers = Rc::new(RefCell::new(Vec::new()));
    let listener = reactor
        .listen_tcp(
            localhost(),
            EchoFactory {
                log: log.clone(),
                peers: peers.clone(),
            },
        )
        .expect("listen");
    let addr = listener.local_addr();
    assert_eq!(addr.ip(), localhost().ip());
    assert_ne!(addr.port(), 0);
    (addr, log, peers)
}

#[test]
fn tcp_echo_of_data_sent_in_pieces_then_a_clean_close() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, peers) = echo_server(&reactor);
    let mut client = connect_client(addr);

    let pieces: [&[u8]; 5] = [b"hello ", b"wor", b"ld\n", &[0, 255, 10, 13], b"last piece"];
    let mut expected = Vec::new();
    let mut received = Vec::new();
    for piece in pieces {
        client.write_all(piece).unwrap();
        expected.extend_from_slice(piece);
        drive(&reactor, "the echo", || {
            read_some(&mut client, &mut received, usize::MAX);
            received.len() >= expected.len()
        });
    }
    assert_eq!(received, expected);
    assert_eq!(*peers.borrow(), vec![client.local_addr().unwrap()]);
    assert_eq!(logged(&log), strings(&["made"]));

    // End of input: the default `read_connection_lost` closes once drained.
    client.shutdown(Shutdown::Write).unwrap();
    let mut state = ReadState::Open;
    drive(&reactor, "the server's close", || {
        state = read_some(&mut client, &mut received, usize::MAX);
        state == ReadState::Eof
    });
    assert_eq!(received, expected);
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
}

#[test]
fn tcp_serves_several_clients_at_once() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut clients: Vec<TcpStream> = (0..5).map(|_| connect_client(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i}\n").as_bytes())
            .unwrap();
    }
    let mut received = vec![Vec::new(); clients.len()];
    drive(&reactor, "every echo", || {
        for (client, into) in clients.iter_mut().zip(received.iter_mut()) {
            read_some(client, into, usize::MAX);
        }
        received.iter().all(|r| r.ends_with(b"\n"))
    });
    let expected: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("client {i}\n").into_bytes())
        .collect();
    assert_eq!(received, expected);
    assert_eq!(logged(&log), strings(&["made"; 5]));
}

/// Writes `payload` on connection, then `lose_connection`; logs its life.
struct Sender {
    payload: Rc<Vec<u8>>,
    log: Log,
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Protocol for Sender {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(&self.payload);
        transport.lose_connection();
        // Writes after lose_connection are dropped.
        transport.write(b"dropped");
        *self.transport.borrow_mut() = Some(transport);
        self.log.borrow_mut().push("made".into());
    }

    fn data_received(&mut self, _data: &[u8]) {
        self.log.borrow_mut().push("data".into());
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct SenderFactory {
    payload: Rc<Vec<u8>>,
    log: Log,
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Factory for SenderFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Sender {
            payload: self.payload.clone(),
            log: self.log.clone(),
            transport: self.transport.clone(),
        }))
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn tcp_lose_connection_closes_after_the_output_drains() {
    let reactor = Reactor::new().unwrap();
    let payload = Rc::new(pattern(200_000));
    let log = new_log();
    let slot = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            SenderFactory {
                payload: payload.clone(),
                log: log.clone(),
                transport: slot.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    let mut received = Vec::new();
    drive(&reactor, "everything, then end of input", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert!(received == *payload, "received {} bytes", received.len());
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
    let transport = slot.borrow().clone().unwrap();
    assert!(transport.closed());
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn tcp_large_write_to_a_slow_reader_does_not_block_the_loop() {
    const SIZE: usize = 8 * 1024 * 1024;
    let reactor = Reactor::new().unwrap();
    let payload = Rc::new(pattern(SIZE));
    let log = new_log();
    let slot: Rc<RefCell<Option<Transport>>> = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            SenderFactory {
                payload: payload.clone(),
                log: log.clone(),
                transport: slot.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    drive(&reactor, "the connection", || slot.borrow().is_some());
    let transport = slot.borrow().clone().unwrap();

    // The reader has read nothing: most of the payload waits in the buffer,
    // yet the loop goes on turning and running timers.
    let buffered_at_first = transport.buffered();
    assert!(
        buffered_at_first > 0,
        "the kernel took all {SIZE} bytes at once"
    );
    let timer_saw: Rc<Cell<Option<usize>>> = Rc::new(Cell::new(None));
    let (seen, watched) = (timer_saw.clone(), transport.clone());
    reactor.call_later(Duration::ZERO, move || seen.set(Some(watched.buffered())));
    for _ in 0..3 {
        let started = Instant::now();
        reactor.iterate(Some(ms(10))).unwrap();
        assert!(started.elapsed() < secs(2), "iterate blocked");
    }
    assert!(matches!(timer_saw.get(), Some(n) if n > 0));
    assert!(!transport.closed());
    assert_eq!(logged(&log), strings(&["made"]));

    // Read slowly: at most 1 MiB per turn of the loop.
    let mut received = Vec::with_capacity(SIZE);
    let mut max_buffered = buffered_at_first;
    drive(&reactor, "the whole payload", || {
        max_buffered = max_buffered.max(transport.buffered());
        read_some(&mut client, &mut received, 1024 * 1024) == ReadState::Eof
    });
    assert_eq!(received.len(), SIZE);
    assert!(received == *payload, "the payload arrived corrupted");
    assert!(max_buffered > 0);
    assert_eq!(transport.buffered(), 0);
    assert!(transport.closed());
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
}

/// Refuses every connection.
struct Refuser {
    peers: Rc<RefCell<Vec<SocketAddr>>>,
}

impl Factory for Refuser {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        self.peers.borrow_mut().push(addr);
        None
    }
}

#[test]
fn tcp_a_factory_returning_none_closes_the_connection_at_once() {
    let reactor = Reactor::new().unwrap();
    let peers = Rc::new(RefCell::new(Vec::new()));
    let listener = reactor
        .listen_tcp(
            localhost(),
            Refuser {
                peers: peers.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    let mut received = Vec::new();
    drive(&reactor, "the refusal", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
    assert_eq!(*peers.borrow(), vec![client.local_addr().unwrap()]);
}

#[test]
fn tcp_stop_listening_refuses_new_connections() {
    let reactor = Reactor::new().unwrap();
    let log = new_log();
    let listener = reactor
        .listen_tcp(
            localhost(),
            EchoFactory {
                log: log.clone(),
                peers: Rc::default(),
            },
        )
        .unwrap();
    let addr = listener.local_addr();
    listener.stop_listening();
    listener.stop_listening(); // Idempotent.
    let refused = TcpStream::connect(addr).map(|_| ()).map_err(|e| e.kind());
    assert_eq!(refused, Err(io::ErrorKind::ConnectionRefused));
    reactor.iterate(Some(ms(10))).unwrap();
    assert_eq!(logged(&log), Vec::<String>::new());
}

/// A client protocol that logs its life and what it reads.
struct Client {
    log: Log,
}

impl Protocol for Client {
    fn connection_made(&mut self, transport: Transport) {
        self.log
            .borrow_mut()
            .push(format!("made {:?}", transport.peer_addr()));
    }

    fn data_received(&mut self, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {}", String::from_utf8_lossy(data)));
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

/// Logs what the reactor tells a client factory. The protocol logs to
/// `protocol_log` (which may be the same log).
struct Connector {
    log: Log,
    protocol_log: Log,
}

impl ClientFactory for Connector {
    fn build_protocol(&mut self, addr: SocketAddr) -> Box<dyn Protocol> {
        self.log.borrow_mut().push(format!("build {addr}"));
        Box::new(Client {
            log: self.protocol_log.clone(),
        })
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        self.log
            .borrow_mut()
            .push(format!("failed {:?}", error.kind()));
    }

    fn client_connection_lost(&mut self, reason: &ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("factory lost {}", reason_name(reason)));
    }
}

/// A listener on the test side, non-blocking.
fn test_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind(localhost()).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Accepts the one connection the reactor makes to `listener`.
fn accept_one(reactor: &Reactor, listener: &TcpListener) -> TcpStream {
    let mut accepted = None;
    drive(reactor, "the connection to arrive", || {
        match listener.accept() {
            Ok((stream, _)) => accepted = Some(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        accepted.is_some()
    });
    let stream = accepted.unwrap();
    stream.set_nonblocking(true).unwrap();
    stream
}

#[test]
fn connect_tcp_builds_the_protocol_and_calls_connection_made() {
    let reactor = Reactor::new().unwrap();
    let (listener, addr) = test_listener();
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    let mut server_side = accept_one(&reactor, &listener);
    drive(&reactor, "connection_made", || {
        !protocol_log.borrow().is_empty()
    });
    assert_eq!(logged(&factory_log), vec![format!("build {addr}")]);
    assert_eq!(logged(&protocol_log), vec![format!("made Some({addr})")]);

    server_side.write_all(b"hi").unwrap();
    drive(&reactor, "the data", || protocol_log.borrow().len() == 2);
    server_side.shutdown(Shutdown::Write).unwrap();
    drive(&reactor, "connection_lost", || {
        protocol_log.borrow().len() == 3
    });
    assert_eq!(
        logged(&protocol_log),
        vec![
            format!("made Some({addr})"),
            "data hi".into(),
            "lost Done".into()
        ]
    );
    assert_eq!(
        logged(&factory_log),
        vec![format!("build {addr}"), "factory lost Done".into()]
    );
    let mut rest = Vec::new();
    drive(&reactor, "the client's close", || {
        read_some(&mut server_side, &mut rest, usize::MAX) == ReadState::Eof
    });
    assert_eq!(rest, b"");
}

#[test]
fn client_connection_lost_comes_after_the_protocols_connection_lost() {
    let reactor = Reactor::new().unwrap();
    let (listener, addr) = test_listener();
    let log = new_log();
    reactor.connect_tcp(
        addr,
        Connector {
            log: log.clone(),
            protocol_log: log.clone(),
        },
    );
    let server_side = accept_one(&reactor, &listener);
    drive(&reactor, "connection_made", || log.borrow().len() == 2);
    server_side.shutdown(Shutdown::Write).unwrap();
    drive(&reactor, "the close", || log.borrow().len() == 4);
    assert_eq!(
        logged(&log),
        vec![
            format!("build {addr}"),
            format!("made Some({addr})"),
            "lost Done".into(),
            "factory lost Done".into(),
        ]
    );
}

#[test]
fn connect_tcp_to_a_closed_port_calls_client_connection_failed() {
    let reactor = Reactor::new().unwrap();
    let addr = {
        let (listener, addr) = test_listener();
        drop(listener);
        addr
    };
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    // Reported from the loop, never from inside connect_tcp.
    assert_eq!(logged(&factory_log), Vec::<String>::new());
    drive(&reactor, "the failure", || !factory_log.borrow().is_empty());
    assert_eq!(logged(&factory_log), strings(&["failed ConnectionRefused"]));
    assert_eq!(logged(&protocol_log), Vec::<String>::new());
}

#[test]
fn connect_tcp_to_the_reactors_own_listener() {
    let reactor = Reactor::new().unwrap();
    let (addr, server_log, _peers) = echo_server(&reactor);
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    drive(&reactor, "both ends", || {
        protocol_log.borrow().len() == 1 && server_log.borrow().len() == 1
    });
    assert_eq!(logged(&factory_log), vec![format!("build {addr}")]);
    assert_eq!(logged(&protocol_log), vec![format!("made Some({addr})")]);
    assert_eq!(logged(&server_log), strings(&["made"]));
}

/// What the next protocols do, chosen per test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Pauses reading on a chunk containing `pause`.
    PauseOnRequest,
    /// Writes, then aborts, on the first data.
    AbortOnData,
    /// On end of input, keeps writing: a timer writes `bye`, then closes.
    HalfClose,
}

/// A protocol whose behaviour is chosen by the test; logs everything.
struct Scripted {
    behaviour: Behaviour,
    reactor: Reactor,
    log: Log,
    slot: Rc<RefCell<Option<Transport>>>,
}

impl Scripted {
    fn transport(&self) -> Transport {
        self.slot.borrow().clone().unwrap()
    }
}

impl Protocol for Scripted {
    fn connection_made(&mut self, transport: Transport) {
        *self.slot.borrow_mut() = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {}", String::from_utf8_lossy(data)));
        match self.behaviour {
            Behaviour::PauseOnRequest if data == b"pause" => self.transport().pause_producing(),
            Behaviour::AbortOnData => {
                let transport = self.transport();
                transport.write(b"never sent");
                transport.abort_connection();
            }
            _ => {}
        }
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.log.borrow_mut().push("eof".into());
        if self.behaviour != Behaviour::HalfClose {
            return AfterEof::Close;
        }
        let transport = self.transport();
        self.reactor.call_later(Duration::ZERO, move || {
            transport.write(b"bye");
            transport.lose_connection();
        });
        AfterEof::KeepWriting
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct ScriptedFactory {
    behaviour: Behaviour,
    reactor: Reactor,
    log: Log,
    slot: Rc<RefCell<Option<Transport>>>,
}

impl Factory for ScriptedFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Scripted {
            behaviour: self.behaviour,
            reactor: self.reactor.clone(),
            log: self.log.clone(),
            slot: self.slot.clone(),
        }))
    }
}

/// A listener whose protocols behave as `behaviour`; a connected client;
/// the protocols' log; the server side's transport, once accepted.
fn scripted_server(
    reactor: &Reactor,
    behaviour: Behaviour,
) -> (TcpStream, Log, Rc<RefCell<Option<Transport>>>) {
    let log = new_log();
    let slot = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            ScriptedFactory {
                behaviour,
                reactor: reactor.clone(),
                log: log.clone(),
                slot: slot.clone(),
            },
        )
        .unwrap();
    let client = connect_client(listener.local_addr());
    drive(reactor, "the connection", || slot.borrow().is_some());
    (client, log, slot)
}

#[test]
fn tcp_paused_reading_resumes_with_what_arrived_meanwhile() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, slot) = scripted_server(&reactor, Behaviour::PauseOnRequest);
    let transport = slot.borrow().clone().unwrap();
    client.write_all(b"pause").unwrap();
    drive(&reactor, "the pause", || transport.paused());
    // Data and end of input arrive while paused: neither is delivered.
    client.write_all(b"more").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    for _ in 0..5 {
        reactor.iterate(Some(ms(10))).unwrap();
    }
    assert_eq!(logged(&log), strings(&["data pause"]));
    assert!(!transport.closed());

    transport.resume_producing();
    assert!(!transport.paused());
    drive(&reactor, "the close", || transport.closed());
    assert_eq!(
        logged(&log),
        strings(&["data pause", "data more", "eof", "lost Done"])
    );
    let mut received = Vec::new();
    drive(&reactor, "end of input", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
}

#[test]
fn tcp_abort_connection_closes_at_once_and_drops_the_output() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, slot) = scripted_server(&reactor, Behaviour::AbortOnData);
    client.write_all(b"x").unwrap();
    let mut received = Vec::new();
    drive(&reactor, "the abort", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
    assert_eq!(logged(&log), strings(&["data x", "lost Aborted"]));
    let transport = slot.borrow().clone().unwrap();
    assert!(transport.closed());
    assert!(transport.disconnecting());
    assert_eq!(transport.buffered(), 0);
    transport.write(b"after close");
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn tcp_half_close_keeps_writing_until_lose_connection() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, _slot) = scripted_server(&reactor, Behaviour::HalfClose);
    client.write_all(b"hello").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut received = Vec::new();
    drive(&reactor, "the goodbye", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"bye");
    assert_eq!(logged(&log), strings(&["data hello", "eof", "lost Done"]));
}

#[test]
fn tcp_a_reset_by_the_peer_is_an_error() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut client = connect_client(addr);
    client.write_all(b"ping").unwrap();
    let mut peeked = [0; 4];
    drive(&reactor, "the echo", || {
        matches!(client.peek(&mut peeked), Ok(4))
    });
    // Closing with unread input makes the kernel send a reset.
    drop(client);
    drive(&reactor, "connection_lost", || log.borrow().len() == 2);
    assert_eq!(
        logged(&log),
        strings(&["made", "lost Error(ConnectionReset)"])
    );
}

// ---------------------------------------------------------------------------
// run / stop
// ---------------------------------------------------------------------------

#[test]
fn stop_from_a_timer_makes_run_return() {
    let reactor = Reactor::new().unwrap();
    let log = new_log();
    assert!(!reactor.running());
    let (r, l) = (reactor.clone(), log.clone());
    reactor.call_later(Duration::ZERO, move || {
        l.borrow_mut().push(format!("running {}", r.running()))
    });
    let (r, l) = (reactor.clone(), log.clone());
    reactor.call_later(ms(10), move || {
        l.borrow_mut().push("stop".into());
        r.stop();
    });
    reactor.run().unwrap();
    assert!(!reactor.running());
    assert_eq!(logged(&log), strings(&["running true", "stop"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn run_closes_open_connections_when_stopped() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut client = connect_client(addr);
    let r = reactor.clone();
    reactor.call_later(ms(20), move || r.stop());
    reactor.run().unwrap();
    assert_eq!(logged(&log), strings(&["made", "lost Shutdown"]));
    // The reactor is gone: wait on the socket itself, with a bound.
    client.set_nonblocking(false).unwrap();
    client.set_read_timeout(Some(secs(5))).unwrap();
    let mut buffer = [0; 16];
    assert_eq!(client.read(&mut buffer).map_err(|e| e.kind()), Ok(0));
}
