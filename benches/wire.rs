//! Micro-benchmarks of the wire protocol (`src/wire/`): framing, request
//! decoding and reply encoding, each next to the plain way of doing the same
//! work, so that `docs/performance.md` can say whether each fast path pays.
//!
//! Run with `cargo bench --bench wire`. Figures and verdicts are in
//! `docs/performance.md`, section "Micro-benchmarks".

use callcenter::reactor::Decoder;
use callcenter::wire::{Frame, JsonDecoder, MAX_MESSAGE, ReplyKind, decode_request, encode_reply};
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// How many bytes of requests each framing benchmark feeds.
const STREAM_BYTES: usize = 64 * 1024;

/// Requests as our client writes them (`encode_request`), cycling through
/// the four queue commands with ids of 1 to 7 digits.
fn typical_requests(separator: &str) -> Vec<u8> {
    let mut stream = Vec::with_capacity(STREAM_BYTES + 64);
    let mut number: u64 = 0;
    while stream.len() < STREAM_BYTES {
        let command = ["call", "answer", "hangup", "reject"][(number % 4) as usize];
        let id = if command == "answer" || command == "reject" {
            format!("op{}", number % 1000)
        } else {
            (number * 7919 % 10_000_000).to_string()
        };
        stream.extend_from_slice(
            format!("{{\"command\": \"{command}\", \"id\": \"{id}\"}}{separator}").as_bytes(),
        );
        number += 1;
    }
    stream
}

/// Counts the messages `decoder` finds in `stream` received `chunk` bytes
/// at a time, taking the frames after each chunk (and their bytes, so
/// nothing is optimized away).
fn frame_all<D>(decoder: &mut D, stream: &[u8], chunk: usize) -> (usize, usize)
where
    D: for<'a> Decoder<Frame<'a> = Frame<'a>>,
{
    let (mut messages, mut bytes) = (0, 0);
    for piece in stream.chunks(chunk) {
        decoder.receive(piece);
        while let Some(frame) = decoder.next_frame() {
            if let Frame::Message(message) = frame {
                messages += 1;
                bytes += message.len();
            }
        }
    }
    (messages, bytes)
}

/// Framing: `JsonDecoder` over 64 KiB of typical requests, one per line or
/// back to back without newlines, received in one 64 KiB chunk or a byte
/// at a time; and the same state machine without the run skip, for
/// comparison.
#[divan::bench_group]
mod framing {
    use super::*;

    const CHUNKS: [usize; 2] = [1, STREAM_BYTES];

    fn run(bencher: Bencher, separator: &str, chunk: usize) {
        let stream = typical_requests(separator);
        let expected = frame_all(&mut JsonDecoder::new(), &stream, stream.len());
        let mut decoder = JsonDecoder::new();
        bencher
            .counter(BytesCount::of_slice(&stream))
            .bench_local(|| {
                let found = frame_all(&mut decoder, black_box(&stream), chunk);
                assert_eq!(found, expected);
                found
            });
    }

    /// One request per line (what our client and `json.dumps` + `\n` send).
    #[divan::bench(args = CHUNKS, sample_count = 300)]
    fn lines(bencher: Bencher, chunk: usize) {
        run(bencher, "\n", chunk);
    }

    /// Requests back to back with no newline (bare `json.dumps` clients).
    #[divan::bench(args = CHUNKS, sample_count = 300)]
    fn back_to_back(bencher: Bencher, chunk: usize) {
        run(bencher, "", chunk);
    }

    /// The same framing rules without `plain_run` (every byte goes through
    /// the state machine): what the run skip is measured against.
    #[divan::bench(args = CHUNKS, sample_count = 300)]
    fn lines_byte_by_byte_baseline(bencher: Bencher, chunk: usize) {
        let stream = typical_requests("\n");
        let expected = frame_all(&mut JsonDecoder::new(), &stream, stream.len());
        let mut decoder = ByteDecoder::new();
        bencher
            .counter(BytesCount::of_slice(&stream))
            .bench_local(|| {
                let found = frame_all(&mut decoder, black_box(&stream), chunk);
                assert_eq!(found, expected);
                found
            });
    }
}

/// `JsonDecoder` as it is in `src/wire/framing.rs`, line for line, with the
/// run skip (`plain_run`) taken out: every byte of a message goes through
/// the state machine. The difference from `JsonDecoder` is what the skip
/// buys.
struct ByteDecoder {
    scan: Scan,
    buffer: Vec<u8>,
    position: usize,
}

#[derive(Debug, Clone, Copy)]
struct Scan {
    state: State,
    depth: u32,
    in_string: bool,
    escaped: bool,
    length: usize,
    start: usize,
}

enum Found {
    Nothing,
    Malformed,
    TooLong,
    Message(usize, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Json,
    Garbage,
    Dead,
}

impl ByteDecoder {
    fn new() -> ByteDecoder {
        ByteDecoder {
            scan: Scan {
                state: State::Idle,
                depth: 0,
                in_string: false,
                escaped: false,
                length: 0,
                start: 0,
            },
            buffer: Vec::new(),
            position: 0,
        }
    }
}

impl Decoder for ByteDecoder {
    type Frame<'a> = Frame<'a>;

    fn receive(&mut self, bytes: &[u8]) {
        if self.scan.state == State::Dead {
            // Nothing more is framed: keep no input.
            self.buffer = Vec::new();
            return;
        }
        // Drop what no frame needs any more: all that was examined, but
        // an unfinished message.
        let keep_from = if self.scan.state == State::Json {
            self.scan.start
        } else {
            self.position
        };
        if keep_from == self.buffer.len() {
            self.buffer.clear();
        } else if keep_from > 0 {
            self.buffer.drain(..keep_from);
        }
        self.position -= keep_from;
        self.scan.start = self.scan.start.saturating_sub(keep_from);
        self.buffer.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Option<Frame<'_>> {
        let data = self.buffer.as_slice();
        // In locals (registers) while scanning; stored back at the end.
        let mut scan = self.scan;
        let mut index = self.position;
        let found = loop {
            let Some(&byte) = data.get(index) else {
                break Found::Nothing;
            };
            match scan.state {
                State::Dead => break Found::Nothing,
                State::Idle => match byte {
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    b'{' | b'[' => {
                        scan.state = State::Json;
                        scan.depth = 1;
                        scan.in_string = false;
                        scan.escaped = false;
                        scan.length = 1;
                        scan.start = index;
                    }
                    _ => {
                        scan.state = State::Garbage;
                        scan.length = 1;
                    }
                },
                State::Garbage => {
                    if byte == b'\n' {
                        scan.state = State::Idle;
                        index += 1;
                        break Found::Malformed;
                    }
                    scan.length += 1;
                    if scan.length > MAX_MESSAGE {
                        scan.state = State::Dead;
                        break Found::TooLong;
                    }
                }
                State::Json => {
                    scan.length += 1;
                    let mut complete = false;
                    if byte == b'\n' {
                        // A message never spans lines: this one is broken.
                        scan.state = State::Idle;
                        index += 1;
                        break Found::Malformed;
                    } else if scan.in_string {
                        if scan.escaped {
                            scan.escaped = false;
                        } else if byte == b'\\' {
                            scan.escaped = true;
                        } else if byte == b'"' {
                            scan.in_string = false;
                        }
                    } else {
                        match byte {
                            b'"' => scan.in_string = true,
                            b'{' | b'[' => scan.depth += 1,
                            b'}' | b']' => {
                                scan.depth -= 1;
                                complete = scan.depth == 0;
                            }
                            _ => {}
                        }
                    }
                    if scan.length > MAX_MESSAGE {
                        scan.state = State::Dead;
                        break Found::TooLong;
                    }
                    if complete {
                        scan.state = State::Idle;
                        index += 1;
                        break Found::Message(scan.start, index);
                    }
                }
            }
            index += 1;
        };
        self.scan = scan;
        self.position = index;
        match found {
            Found::Nothing => None,
            Found::Malformed => Some(Frame::Malformed),
            Found::TooLong => Some(Frame::TooLong),
            Found::Message(start, end) => Some(Frame::Message(&data[start..end])),
        }
    }
}

/// Request decoding: one logical request (`call` with id `1234567`) written
/// so that it takes the canonical fast path, and written four other ways
/// that `canonical_request` refuses, so they go through the serde visitor.
/// (`canonical_request` and `parse_request` are private: the slow path is
/// forced through the public `decode_request` by the shape of the input.)
#[divan::bench_group]
mod decode {
    use super::*;

    const REQUESTS: [(&str, &str); 5] = [
        ("fast: canonical", r#"{"command": "call", "id": "1234567"}"#),
        (
            "serde: keys swapped",
            r#"{"id": "1234567", "command": "call"}"#,
        ),
        (
            "serde: escape in id",
            r#"{"command": "call", "id": "123456\u0037"}"#,
        ),
        (
            "serde: extra field",
            r#"{"command": "call", "id": "1234567", "x": 1}"#,
        ),
        ("serde: number id", r#"{"command": "call", "id": 1234567}"#),
    ];

    #[divan::bench(args = REQUESTS.map(|(name, _)| name), sample_count = 500, sample_size = 1000)]
    fn request(bencher: Bencher, name: &str) {
        let message = REQUESTS
            .iter()
            .find(|(shape, _)| *shape == name)
            .map(|(_, message)| message.as_bytes())
            .unwrap_or_default();
        let request = decode_request(message).expect("a valid request");
        assert_eq!((request.verb.word(), &*request.id), ("call", "1234567"));
        bencher.counter(ItemsCount::new(1u32)).bench_local(|| {
            let decoded = decode_request(black_box(message));
            decoded.map(|request| (request.verb, request.id.len()))
        });
    }
}

/// Typical replies: one message, several messages (`\n` escaped), and a
/// text full of quotes (a call id with quotes in it); plus a long status
/// text with nothing to escape.
const REPLIES: [(&str, &str); 4] = [
    (
        "short, nothing to escape",
        "Call 1234567 ringing for operator A",
    ),
    (
        "two lines, one escape",
        "Call 1234567 received\nCall 1234567 ringing for operator A",
    ),
    (
        "many quotes",
        "Call \"a\"\"b\"\"c\" received\nCall \"a\"\"b\"\"c\" waiting in queue",
    ),
    (
        "long, nothing to escape",
        "Queue: 1000 waiting, longest wait 125 s. Operators: 12 idle, 30 ringing, \
         450 on a call, 8 in wrap-up, 500 paused; strategy longest-idle; service level \
         93.4 % within 20 s; abandoned 12; answered 45213; rejected 311; ignored 57",
    ),
];

fn reply_text(name: &str) -> &'static str {
    REPLIES
        .iter()
        .find(|(shape, _)| *shape == name)
        .map(|(_, text)| *text)
        .unwrap_or_default()
}

/// Reply encoding: `encode_reply` (plain runs found eight bytes at a time)
/// against the same output built a byte at a time, and against
/// `serde_json`'s own string escaping.
#[divan::bench_group]
mod encode {
    use super::*;

    const SHAPES: [&str; 4] = [REPLIES[0].0, REPLIES[1].0, REPLIES[2].0, REPLIES[3].0];

    #[divan::bench(args = SHAPES, sample_count = 500, sample_size = 1000)]
    fn encode_reply_by_runs(bencher: Bencher, name: &str) {
        let text = reply_text(name);
        let mut out = Vec::with_capacity(512);
        bencher.counter(BytesCount::of_str(text)).bench_local(|| {
            out.clear();
            encode_reply(&mut out, black_box(text), ReplyKind::Ok);
            out.len()
        });
    }

    #[divan::bench(args = SHAPES, sample_count = 500, sample_size = 1000)]
    fn byte_by_byte_baseline(bencher: Bencher, name: &str) {
        let text = reply_text(name);
        let mut expected = Vec::new();
        encode_reply(&mut expected, text, ReplyKind::Ok);
        let mut out = Vec::with_capacity(512);
        encode_byte_by_byte(&mut out, text);
        assert_eq!(out, expected);
        bencher.counter(BytesCount::of_str(text)).bench_local(|| {
            out.clear();
            encode_byte_by_byte(&mut out, black_box(text));
            out.len()
        });
    }

    #[divan::bench(args = SHAPES, sample_count = 500, sample_size = 1000)]
    fn runs_by_byte_scan_baseline(bencher: Bencher, name: &str) {
        let text = reply_text(name);
        let mut expected = Vec::new();
        encode_reply(&mut expected, text, ReplyKind::Ok);
        let mut out = Vec::with_capacity(512);
        encode_runs_by_byte_scan(&mut out, text);
        assert_eq!(out, expected);
        bencher.counter(BytesCount::of_str(text)).bench_local(|| {
            out.clear();
            encode_runs_by_byte_scan(&mut out, black_box(text));
            out.len()
        });
    }

    #[divan::bench(args = SHAPES, sample_count = 500, sample_size = 1000)]
    fn serde_json_baseline(bencher: Bencher, name: &str) {
        let text = reply_text(name);
        let mut out = Vec::with_capacity(512);
        bencher.counter(BytesCount::of_str(text)).bench_local(|| {
            out.clear();
            out.extend_from_slice(b"{\"response\": ");
            serde_json::to_writer(&mut out, black_box(text)).expect("a Vec never fails");
            out.extend_from_slice(b"}\n");
            out.len()
        });
    }
}

/// `encode_reply`'s output for `ReplyKind::Ok`, escaping one byte at a time.
fn encode_byte_by_byte(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"{\"response\": \"");
    for &byte in text.as_bytes() {
        if needs_escape(byte) {
            push_escape(out, byte);
        } else {
            out.push(byte);
        }
    }
    out.extend_from_slice(b"\"}\n");
}

/// `encode_reply`'s output for `ReplyKind::Ok`, copying runs of plain bytes
/// in one step as `encode_reply` does, but finding each run's end with a
/// plain byte loop instead of eight bytes at a time.
fn encode_runs_by_byte_scan(out: &mut Vec<u8>, text: &str) {
    let mut rest = text.as_bytes();
    out.extend_from_slice(b"{\"response\": \"");
    loop {
        let plain = rest
            .iter()
            .position(|&byte| needs_escape(byte))
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..plain]);
        let Some(&byte) = rest.get(plain) else {
            break;
        };
        push_escape(out, byte);
        rest = &rest[plain + 1..];
    }
    out.extend_from_slice(b"\"}\n");
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn push_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(byte >> 4) as usize],
            HEX[(byte & 0xf) as usize],
        ]),
    }
}
