//! JSON framing: finding where each message ends in a byte stream.
//!
//! One JSON object per line is the protocol, but some clients (Twisted ones
//! writing bare `json.dumps(...)`) send objects back to back with no newline,
//! and then wait for the reply. A line splitter would never see the end of
//! such a message, so [`JsonDecoder`] finds the end of each object itself: it
//! counts brackets outside strings, and a newline always ends a message (a
//! raw newline cannot occur inside a valid single-line JSON text), so one
//! malformed line never swallows the next. Anything that does not start
//! with `{` or `[` runs to the end of its line and is reported malformed.
//! Each message (not each line) is limited to [`MAX_MESSAGE`] bytes.
//!
//! It is a [`Decoder`], as [`LineDecoder`](crate::reactor::LineDecoder) is:
//! the server, the client, the monitor and the load generator each run it
//! in a [`Framed`](crate::reactor::Framed) protocol.

use super::byte_set;
use crate::reactor::Decoder;

/// The longest message accepted, in bytes (delimiter excluded).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A frame of [`JsonDecoder`].
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete bracketed JSON text (not yet validated).
    Message(&'a [u8]),
    /// A line, or the rest of one, that cannot be a JSON object.
    Malformed,
    /// A message grew past [`MAX_MESSAGE`]; the decoder ignores all further input.
    TooLong,
    /// At the end of input ([`Decoder::finish`]): a message without its
    /// end, or the start of a line that is not JSON. The server answers it
    /// as malformed; readers of replies drop it, as Twisted's receivers
    /// drop a partial buffer when the connection is lost.
    Unfinished,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between messages: whitespace is skipped.
    Idle,
    /// Inside a bracketed message.
    Json,
    /// Inside something that is not JSON: skip to the end of the line.
    Garbage,
    /// After `TooLong`: the connection is being closed.
    Dead,
}

/// Cuts a byte stream into JSON messages; see the module docs. Sans-I/O:
/// [`receive`](Decoder::receive) bytes, then take frames with
/// [`next_frame`](Decoder::next_frame) until it returns `None`.
///
/// State persists between chunks, so every byte is examined once however
/// the input is split (1-byte chunks included).
#[derive(Debug)]
pub struct JsonDecoder {
    /// Where the scan is; copied to locals while scanning.
    scan: Scan,
    /// Received bytes not yet dropped: the current message from
    /// `scan.start`, and what is not examined yet from `position`.
    buffer: Vec<u8>,
    /// The next byte to examine.
    position: usize,
}

/// The scanner's state between bytes.
#[derive(Debug, Clone, Copy)]
struct Scan {
    state: State,
    /// Bracket depth inside the current message.
    depth: u32,
    in_string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// Bytes of the current message or garbage run so far.
    length: usize,
    /// Where the current message starts in the buffer (in `Json`).
    start: usize,
}

/// What a scan stopped at.
enum Found {
    /// The end of the bytes received.
    Nothing,
    Malformed,
    TooLong,
    /// A message: its first and last index in the buffer.
    Message(usize, usize),
}

impl Default for JsonDecoder {
    fn default() -> JsonDecoder {
        JsonDecoder::new()
    }
}

impl JsonDecoder {
    /// A decoder between messages.
    pub fn new() -> JsonDecoder {
        JsonDecoder {
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

impl Decoder for JsonDecoder {
    type Frame<'a> = Frame<'a>;

    // Inlined across crates as the generic callback framer was: the
    // per-chunk call is most of the cost when chunks are small.
    #[inline]
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

    #[inline]
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
                    if !scan.escaped {
                        // Most bytes change nothing: skip them in one step.
                        let run = plain_run(&data[index..], scan.in_string);
                        if run > 0 {
                            scan.length += run;
                            if scan.length > MAX_MESSAGE {
                                scan.state = State::Dead;
                                break Found::TooLong;
                            }
                            index += run;
                            continue;
                        }
                    }
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

    /// End of input: what was left unfinished (a message without its end,
    /// or the start of a line that is not JSON) is
    /// [`Unfinished`](Frame::Unfinished). The decoder is then between
    /// messages.
    fn finish(&mut self) -> Option<Frame<'_>> {
        let pending = matches!(self.scan.state, State::Json | State::Garbage);
        if self.scan.state != State::Dead {
            self.scan.state = State::Idle;
        }
        self.buffer.clear();
        self.position = 0;
        self.scan.start = 0;
        pending.then_some(Frame::Unfinished)
    }
}

/// Bytes that matter to the decoder outside a string, and inside one.
const SPECIAL_OUTSIDE: [bool; 256] = byte_set(b"\"{}[]\n");
const SPECIAL_INSIDE: [bool; 256] = byte_set(b"\"\\\n");

/// How many leading bytes of `data` the decoder can skip without looking.
/// (A byte loop: in requests the special bytes are a few bytes apart, too
/// close for the eight-at-a-time scan to pay.)
#[inline]
fn plain_run(data: &[u8], in_string: bool) -> usize {
    let special = if in_string {
        &SPECIAL_INSIDE
    } else {
        &SPECIAL_OUTSIDE
    };
    data.iter()
        .position(|&byte| special[byte as usize])
        .unwrap_or(data.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Describes a frame.
    fn describe(frame: Frame<'_>) -> String {
        match frame {
            Frame::Message(message) => String::from_utf8_lossy(message).into_owned(),
            Frame::Malformed => "<malformed>".to_string(),
            Frame::TooLong => "<too long>".to_string(),
            Frame::Unfinished => "<unfinished>".to_string(),
        }
    }

    /// Receives `chunks`, taking every frame after each, and describes them.
    fn frames(chunks: &[&[u8]]) -> Vec<String> {
        frames_taken_every(chunks, 1)
    }

    /// Receives `chunks`, taking the frames only after every `every`th
    /// chunk and at the end (as when reading is paused in between).
    fn frames_taken_every(chunks: &[&[u8]], every: usize) -> Vec<String> {
        let mut decoder = JsonDecoder::new();
        let mut found = Vec::new();
        for (number, chunk) in chunks.iter().enumerate() {
            decoder.receive(chunk);
            if (number + 1) % every == 0 || number + 1 == chunks.len() {
                while let Some(frame) = decoder.next_frame() {
                    found.push(describe(frame));
                }
            }
        }
        found
    }

    #[test]
    fn messages_by_line_back_to_back_and_byte_by_byte() {
        let input = b"{\"a\": \"}\\\"{\"}\r\n{\"b\": [1, {\"c\": 2}]}{\"d\": 3}\n  [4]\n";
        let expected = [
            "{\"a\": \"}\\\"{\"}",
            "{\"b\": [1, {\"c\": 2}]}",
            "{\"d\": 3}",
            "[4]",
        ];
        assert_eq!(frames(&[input]), expected);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(frames(&bytes), expected);
        let (a, b) = input.split_at(20);
        assert_eq!(frames(&[a, b]), expected);
    }

    #[test]
    fn frames_not_yet_taken_wait_in_the_decoder() {
        // Bytes received while the frames before them are held (reading
        // paused) are kept behind them.
        let mut decoder = JsonDecoder::new();
        decoder.receive(b"{\"a\": 1}\n{\"b\":");
        assert_eq!(decoder.next_frame(), Some(Frame::Message(b"{\"a\": 1}")));
        decoder.receive(b" 2}\nxy");
        decoder.receive(b"z\n[3]");
        let mut rest = Vec::new();
        while let Some(frame) = decoder.next_frame() {
            rest.push(describe(frame));
        }
        assert_eq!(rest, ["{\"b\": 2}", "<malformed>", "[3]"]);
    }

    #[test]
    fn garbage_and_broken_lines_are_malformed_and_the_next_line_works() {
        assert_eq!(
            frames(&[b"hello\n{\"x\": 1\n42\n{\"ok\": 1}\n"]),
            ["<malformed>", "<malformed>", "<malformed>", "{\"ok\": 1}"]
        );
        assert_eq!(
            frames(&[b"{\"x\": 1} trailing\n"]),
            ["{\"x\": 1}", "<malformed>"]
        );
    }

    #[test]
    fn end_of_input_reports_an_unfinished_message() {
        let mut decoder = JsonDecoder::new();
        decoder.receive(b"{\"command\": \"hang");
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.finish(), Some(Frame::Unfinished));
        assert_eq!(decoder.finish(), None);
        decoder.receive(b"hello");
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.finish(), Some(Frame::Unfinished));
        decoder.receive(b"{}\n  ");
        assert_eq!(decoder.next_frame(), Some(Frame::Message(b"{}")));
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn a_message_over_the_limit_is_too_long_and_ends_framing() {
        let mut long = b"{\"id\": \"".to_vec();
        long.resize(MAX_MESSAGE + 10, b'x');
        assert_eq!(frames(&[&long, b"\"}\n{\"a\": 1}\n"]), ["<too long>"]);
        let bytes: Vec<&[u8]> = long.chunks(1).collect();
        assert_eq!(frames(&bytes), ["<too long>"]);
        let garbage = vec![b'x'; MAX_MESSAGE + 1];
        assert_eq!(frames(&[&garbage]), ["<too long>"]);
        let mut one_over = b"{\"id\": \"".to_vec();
        one_over.resize(MAX_MESSAGE - 1, b'x');
        one_over.extend_from_slice(b"\"}");
        assert_eq!(one_over.len(), MAX_MESSAGE + 1);
        assert_eq!(frames(&[&one_over]), ["<too long>"]);
        let mut exact = b"{\"id\": \"".to_vec();
        exact.resize(MAX_MESSAGE - 2, b'x');
        exact.extend_from_slice(b"\"}");
        assert_eq!(frames(&[&exact]).len(), 1);
        assert_ne!(frames(&[&exact])[0], "<too long>");
    }

    #[test]
    fn a_dead_decoder_keeps_no_input() {
        let mut decoder = JsonDecoder::new();
        decoder.receive(&vec![b'x'; MAX_MESSAGE + 1]);
        assert_eq!(decoder.next_frame(), Some(Frame::TooLong));
        decoder.receive(b"{\"a\": 1}\n");
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.buffer.capacity(), 0);
        assert_eq!(decoder.finish(), None);
    }

    /// The framing rules, one byte at a time, with no shortcuts.
    fn reference_frames(input: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        let (mut state, mut depth, mut in_string, mut escaped) = (State::Idle, 0, false, false);
        let mut current = Vec::new();
        for &byte in input {
            match state {
                State::Idle => match byte {
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    b'{' | b'[' => {
                        (state, depth, in_string, escaped) = (State::Json, 1, false, false);
                        current = vec![byte];
                    }
                    _ => state = State::Garbage,
                },
                State::Garbage if byte == b'\n' => {
                    state = State::Idle;
                    found.push("<malformed>".to_string());
                }
                State::Garbage | State::Dead => {}
                State::Json => {
                    current.push(byte);
                    if byte == b'\n' {
                        state = State::Idle;
                        found.push("<malformed>".to_string());
                    } else if in_string {
                        if escaped {
                            escaped = false;
                        } else if byte == b'\\' {
                            escaped = true;
                        } else if byte == b'"' {
                            in_string = false;
                        }
                    } else if byte == b'"' {
                        in_string = true;
                    } else if byte == b'{' || byte == b'[' {
                        depth += 1;
                    } else if byte == b'}' || byte == b']' {
                        depth -= 1;
                        if depth == 0 {
                            state = State::Idle;
                            found.push(String::from_utf8_lossy(&current).into_owned());
                        }
                    }
                }
            }
        }
        found
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn framing_matches_the_byte_by_byte_rules_however_chunked(
            input in proptest::collection::vec(
                proptest::sample::select(b"{}[]\"\\\n\r :ab1".to_vec()), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= input.len()).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&input[from..cut]);
                from = cut;
            }
            chunks.push(&input[from..]);
            let expected = reference_frames(&input);
            proptest::prop_assert_eq!(&frames(&chunks), &expected);
            proptest::prop_assert_eq!(&frames_taken_every(&chunks, 3), &expected);
        }
    }
}
