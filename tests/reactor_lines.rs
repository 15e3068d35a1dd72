//! [`LineReceiver`] on an in-memory [`Transport`]: framing that does not
//! depend on how the input is chunked (whole, 1-byte, deterministic random
//! chunkings, and a fixed-seed proptest against a naive reference model),
//! `\r\n`, `max_length`, the partial-line limit, both [`Overflow`] policies
//! and the last unterminated line at end of input; [`Transport::memory`]:
//! channels, ordering, writes after closing.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use callcenter::reactor::{
    AfterEof, Channel, LineHandler, LineReceiver, Overflow, Protocol, Transport,
};

use proptest::prelude::*;
use proptest::test_runner::RngSeed;

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

#[test]
fn lines_wait_while_reading_is_paused_and_come_when_it_resumes() {
    struct Plain(Rc<RefCell<Vec<String>>>);
    impl LineHandler for Plain {
        fn line_received(&mut self, line: &[u8]) {
            self.0
                .borrow_mut()
                .push(String::from_utf8_lossy(line).into_owned());
        }
    }
    let lines = Rc::new(RefCell::new(Vec::new()));
    let transport = Transport::memory();
    let mut receiver = LineReceiver::new(Plain(lines.clone()));
    receiver.connection_made(transport.clone());
    receiver.data_received(b"a\n");
    transport.pause_producing();
    receiver.data_received(b"b\nc\npart");
    assert_eq!(*lines.borrow(), ["a"]);
    transport.resume_producing();
    // The reactor tells a resumed protocol so.
    receiver.resume_producing();
    assert_eq!(*lines.borrow(), ["a", "b", "c"]);
    receiver.data_received(b"ial\n");
    assert_eq!(*lines.borrow(), ["a", "b", "c", "partial"]);
}

#[test]
fn output_past_the_high_water_mark_holds_the_next_lines() {
    use callcenter::reactor::BufferLimits;
    struct Loud(Rc<RefCell<Vec<String>>>, Transport);
    impl LineHandler for Loud {
        fn line_received(&mut self, line: &[u8]) {
            self.0
                .borrow_mut()
                .push(String::from_utf8_lossy(line).into_owned());
            self.1.write(b"123456");
        }
    }
    let lines = Rc::new(RefCell::new(Vec::new()));
    let transport = Transport::memory();
    transport.set_buffer_limits(BufferLimits {
        high_water: 10,
        hard_cap: usize::MAX,
    });
    let mut receiver = LineReceiver::new(Loud(lines.clone(), transport.clone()));
    receiver.connection_made(transport.clone());
    receiver.data_received(b"a\nb\nc\nd\n");
    assert!(transport.reading_paused());
    assert_eq!(*lines.borrow(), ["a", "b"]);
    // End of input delivers what is held: nothing more will be read.
    receiver.read_connection_lost();
    assert_eq!(*lines.borrow(), ["a", "b", "c", "d"]);
}
