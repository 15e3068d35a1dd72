//! The client/server wire protocol: framing, requests and replies (SPEC §6).
//!
//! Sans-I/O: bytes in, frames and values out. Used by the server, the client
//! and the load generator alike.
//!
//! # Framing
//!
//! One JSON object per line is the protocol, but some clients (Twisted ones
//! writing bare `json.dumps(...)`) send objects back to back with no newline,
//! and then wait for the reply. A line splitter would never see the end of
//! such a message, so [`Framer`] finds the end of each object itself: it
//! counts brackets outside strings, and a newline always ends a message (a
//! raw newline cannot occur inside a valid single-line JSON text), so one
//! malformed line never swallows the next. Anything that does not start
//! with `{` or `[` runs to the end of its line and is reported malformed.
//! Each message (not each line) is limited to [`MAX_MESSAGE`] bytes.

use std::borrow::Cow;

use serde::Deserialize;

use crate::command::{CommandError, Request, Verb, shown_word};

mod acd;
#[cfg(test)]
mod fast_path_tests;
mod field;

use field::Field;

pub use acd::{encode_command, encode_report_reply};

/// The longest message accepted, in bytes (delimiter excluded).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// What the framer found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A complete bracketed JSON text (not yet validated).
    Message(&'a [u8]),
    /// A line, or the rest of one, that cannot be a JSON object.
    Malformed,
    /// A message grew past [`MAX_MESSAGE`]; the framer ignores all further input.
    TooLong,
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

/// Cuts a byte stream into JSON messages; see the module docs.
///
/// State persists between chunks, so every byte is examined once however
/// the input is split (1-byte chunks included).
#[derive(Debug)]
pub struct Framer {
    state: State,
    /// Bracket depth inside the current message.
    depth: u32,
    in_string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// Bytes of the current message or garbage run so far.
    length: usize,
    /// The part of the current message that arrived in earlier chunks.
    carried: Vec<u8>,
}

impl Default for Framer {
    fn default() -> Framer {
        Framer::new()
    }
}

impl Framer {
    /// A framer between messages.
    pub fn new() -> Framer {
        Framer {
            state: State::Idle,
            depth: 0,
            in_string: false,
            escaped: false,
            length: 0,
            carried: Vec::new(),
        }
    }

    /// End of input: what was left unfinished (a message without its end,
    /// or the start of a line that is not JSON) is malformed. Returns that
    /// frame, if any; the framer is then between messages.
    pub fn finish(&mut self) -> Option<Frame<'static>> {
        let pending = matches!(self.state, State::Json | State::Garbage);
        if self.state != State::Dead {
            self.state = State::Idle;
        }
        self.carried.clear();
        pending.then_some(Frame::Malformed)
    }

    /// Feeds `data`, calling `on_frame` for each frame found, in order.
    /// `on_frame` returns `false` to stop; the rest of `data` is dropped.
    pub fn feed(&mut self, data: &[u8], mut on_frame: impl FnMut(Frame<'_>) -> bool) {
        let mut start = 0;
        let mut index = 0;
        while index < data.len() {
            let byte = data[index];
            match self.state {
                State::Dead => return,
                State::Idle => match byte {
                    b' ' | b'\t' | b'\r' | b'\n' => {}
                    b'{' | b'[' => {
                        self.state = State::Json;
                        self.depth = 1;
                        self.in_string = false;
                        self.escaped = false;
                        self.length = 1;
                        start = index;
                    }
                    _ => {
                        self.state = State::Garbage;
                        self.length = 1;
                    }
                },
                State::Garbage => {
                    if byte == b'\n' {
                        self.state = State::Idle;
                        if !on_frame(Frame::Malformed) {
                            return;
                        }
                    } else {
                        self.length += 1;
                        if self.length > MAX_MESSAGE {
                            self.state = State::Dead;
                            on_frame(Frame::TooLong);
                            return;
                        }
                    }
                }
                State::Json => {
                    if !self.escaped {
                        // Most bytes change nothing: skip them in one step.
                        let run = plain_run(&data[index..], self.in_string);
                        if run > 0 {
                            self.length += run;
                            if self.length > MAX_MESSAGE {
                                self.state = State::Dead;
                                self.carried = Vec::new();
                                on_frame(Frame::TooLong);
                                return;
                            }
                            index += run;
                            continue;
                        }
                    }
                    self.length += 1;
                    let mut complete = false;
                    if byte == b'\n' {
                        // A message never spans lines: this one is broken.
                        self.state = State::Idle;
                        self.carried.clear();
                        if !on_frame(Frame::Malformed) {
                            return;
                        }
                        index += 1;
                        continue;
                    } else if self.in_string {
                        if self.escaped {
                            self.escaped = false;
                        } else if byte == b'\\' {
                            self.escaped = true;
                        } else if byte == b'"' {
                            self.in_string = false;
                        }
                    } else {
                        match byte {
                            b'"' => self.in_string = true,
                            b'{' | b'[' => self.depth += 1,
                            b'}' | b']' => {
                                self.depth -= 1;
                                complete = self.depth == 0;
                            }
                            _ => {}
                        }
                    }
                    if self.length > MAX_MESSAGE {
                        self.state = State::Dead;
                        self.carried = Vec::new();
                        on_frame(Frame::TooLong);
                        return;
                    }
                    if complete {
                        self.state = State::Idle;
                        let go_on = if self.carried.is_empty() {
                            on_frame(Frame::Message(&data[start..=index]))
                        } else {
                            self.carried.extend_from_slice(&data[..=index]);
                            let message = std::mem::take(&mut self.carried);
                            let go_on = on_frame(Frame::Message(&message));
                            // Keep the allocation for the next split message.
                            self.carried = message;
                            self.carried.clear();
                            go_on
                        };
                        if !go_on {
                            return;
                        }
                    }
                }
            }
            index += 1;
        }
        if self.state == State::Json {
            // Keep the unfinished message for the next chunk (`start` is 0
            // when it began in an earlier one).
            self.carried.extend_from_slice(&data[start..]);
        }
    }
}

/// Bytes that matter to the framer outside a string, and inside one.
const SPECIAL_OUTSIDE: [bool; 256] = byte_set(b"\"{}[]\n");
const SPECIAL_INSIDE: [bool; 256] = byte_set(b"\"\\\n");

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut index = 0;
    while index < bytes.len() {
        set[bytes[index] as usize] = true;
        index += 1;
    }
    set
}

// Eight bytes at a time ("SWAR"): whether a word holds a given byte, or a
// byte below a bound, with a few integer operations instead of eight
// comparisons. Exact for "any byte in the word", which is all we ask.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

fn has_below(word: u64, bound: u8) -> bool {
    word.wrapping_sub(ONES * bound as u64) & !word & HIGHS != 0
}

fn has_byte(word: u64, byte: u8) -> bool {
    has_below(word ^ (ONES * byte as u64), 1)
}

/// The index of the first byte of `data` in `set`, or `data.len()`;
/// `word_has_any` tells whether a little-endian word may hold one.
fn find_special(data: &[u8], set: &[bool; 256], word_has_any: impl Fn(u64) -> bool) -> usize {
    let mut from = 0;
    for chunk in data.chunks_exact(8) {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(chunk);
        if word_has_any(u64::from_le_bytes(bytes)) {
            break;
        }
        from += 8;
    }
    data[from..]
        .iter()
        .position(|&byte| set[byte as usize])
        .map_or(data.len(), |offset| from + offset)
}

/// How many leading bytes of `data` the framer can skip without looking.
/// (A byte loop: in requests the special bytes are a few bytes apart, too
/// close for the eight-at-a-time scan to pay.)
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

/// A request as it arrives: other fields are ignored.
#[derive(Deserialize)]
struct RawRequest<'a> {
    #[serde(borrow, default)]
    command: Option<Field<'a>>,
    #[serde(borrow, default)]
    id: Option<Field<'a>>,
    #[serde(borrow, default)]
    priority: Option<Field<'a>>,
    #[serde(borrow, default)]
    reason: Option<Field<'a>>,
}

/// A request the server refuses before it reaches the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// A well-formed request whose command or id the parser refuses
    /// (the same errors a typed line gets).
    Command(CommandError),
    /// A message that is not a JSON object with a string `command`.
    InvalidRequest,
    /// A message longer than [`MAX_MESSAGE`]; the server closes the connection.
    MessageTooLong,
}

impl From<CommandError> for WireError {
    fn from(error: CommandError) -> WireError {
        WireError::Command(error)
    }
}

/// Decodes one request message into a queue command and its arguments.
///
/// Not JSON, not an object, duplicate keys, or no string `command`: invalid
/// request. A command other than the queue commands: unknown command.
/// A missing or invalid `id` (a string or a number is accepted), an `id`
/// given to `status` or `stats`, a `priority` that is not an integer from 0
/// to 9, or an invalid `reason`: usage.
pub fn decode_request(message: &[u8]) -> Result<Request, WireError> {
    let (command, id, extras) = match canonical_request(message) {
        Some((command, id)) => (
            Cow::Borrowed(command),
            Some(Field::Text(Cow::Borrowed(id))),
            acd::Extras::default(),
        ),
        None => parse_request(message)?,
    };
    let verb = Verb::from_wire(&command)
        .ok_or_else(|| CommandError::UnknownCommand(shown_word(command.as_bytes())))?;
    acd::build_request(verb, id, extras)
}

/// Whether `message` is the monitor's request, `{"command": "subscribe"}`
/// (SPEC §10.2); any `id` beside it is ignored. Checked before
/// [`decode_request`], which knows only the queue commands.
pub fn is_subscribe_request(message: &[u8]) -> bool {
    message == br#"{"command": "subscribe"}"#
        || parse_request(message).is_ok_and(|(command, _, _)| command == "subscribe")
}

/// A request's `command`, its `id` if present, and its other fields.
type Parsed<'a> = (Cow<'a, str>, Option<Field<'a>>, acd::Extras<'a>);

/// The full JSON parse of a request: its `command` string and its fields.
fn parse_request(message: &[u8]) -> Result<Parsed<'_>, WireError> {
    // serde would also read a struct from an array (`["call", "1"]`): only
    // an object is a request.
    if message.first() != Some(&b'{') {
        return Err(WireError::InvalidRequest);
    }
    let raw: RawRequest<'_> =
        serde_json::from_slice(message).map_err(|_| WireError::InvalidRequest)?;
    let Some(Field::Text(command)) = raw.command else {
        return Err(WireError::InvalidRequest);
    };
    let extras = acd::Extras {
        priority: raw.priority,
        reason: raw.reason,
    };
    Ok((command, raw.id, extras))
}

/// The fast path for the usual request, exactly as our client and Python's
/// `json.dumps` write it: `{"command": "<word>", "id": "<text>"}`, with or
/// without the blanks, and no escapes in either string. Anything else
/// (escapes, numbers, other keys, other order, other spacing) returns
/// `None` and goes through the full JSON parser, so both paths agree.
fn canonical_request(message: &[u8]) -> Option<(&str, &str)> {
    fn literal<'a>(text: &'a [u8], expected: &[u8]) -> Option<&'a [u8]> {
        let text = text.strip_prefix(expected)?;
        Some(text.strip_prefix(b" ").unwrap_or(text))
    }
    fn string(text: &[u8]) -> Option<(&str, &[u8])> {
        let text = text.strip_prefix(b"\"")?;
        let end = text.iter().position(|&byte| byte == b'"')?;
        let (content, rest) = text.split_at(end);
        if content.iter().any(|&byte| byte == b'\\' || byte < 0x20) {
            return None;
        }
        Some((std::str::from_utf8(content).ok()?, &rest[1..]))
    }
    let rest = literal(message, b"{\"command\":")?;
    let (command, rest) = string(rest)?;
    let rest = literal(rest, b",")?;
    let rest = literal(rest, b"\"id\":")?;
    let (id, rest) = string(rest)?;
    (rest == b"}").then_some((command, id))
}

/// Appends the request line for a queue command: `{"command": "call", "id": "1"}\n`.
pub fn encode_request(out: &mut Vec<u8>, verb: Verb, id: &str) {
    out.extend_from_slice(b"{\"command\": \"");
    out.extend_from_slice(verb.word().as_bytes());
    out.extend_from_slice(b"\", \"id\": ");
    push_json_string(out, id);
    out.extend_from_slice(b"}\n");
}

/// Which kind of reply a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// The reply to a command that succeeded.
    Ok,
    /// The reply to a command that failed (`"error": true`).
    Error,
    /// Messages no command of this connection caused (`"event": true`).
    Event,
    /// An error after which the server closes the connection
    /// (`"error": true, "closing": true`): a message too long (the reply to
    /// it), or a refusal when the server is full (a reply to nothing).
    Closing,
}

/// Appends one reply line: `{"response": "<text>"}` plus the kind's flag.
/// `text` is the messages joined by `\n`, without a final newline.
pub fn encode_reply(out: &mut Vec<u8>, text: &str, kind: ReplyKind) {
    out.extend_from_slice(b"{\"response\": ");
    push_json_string(out, text);
    out.extend_from_slice(match kind {
        ReplyKind::Ok => b"}\n".as_slice(),
        ReplyKind::Error => b", \"error\": true}\n",
        ReplyKind::Event => b", \"event\": true}\n",
        ReplyKind::Closing => b", \"error\": true, \"closing\": true}\n",
    });
}

/// Bytes a JSON string must escape.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut set = byte_set(b"\"\\");
    let mut byte = 0;
    while byte < 0x20 {
        set[byte] = true;
        byte += 1;
    }
    set
};

/// Appends `text` as a JSON string. Runs of plain characters are found
/// eight bytes at a time and copied in one step; only quotes, backslashes
/// and control characters are escaped.
fn push_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    loop {
        let plain = find_special(rest, &NEEDS_ESCAPE, |w| {
            has_below(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\')
        });
        out.extend_from_slice(&rest[..plain]);
        let Some(&byte) = rest.get(plain) else {
            break;
        };
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
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

/// A reply as the client reads it. The text borrows from the message
/// when it has no escapes (a one-line reply), so reading costs no copy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reply<'a> {
    /// The messages, joined by `\n`.
    #[serde(borrow)]
    pub response: Cow<'a, str>,
    /// The command failed: print to stderr.
    #[serde(default)]
    pub error: bool,
    /// Not a reply: messages caused by a timer, sent to every client.
    #[serde(default)]
    pub event: bool,
    /// The server closes the connection after this error (it is full, or
    /// a message was too long).
    #[serde(default)]
    pub closing: bool,
}

/// Decodes one reply message.
pub fn decode_reply(message: &[u8]) -> Option<Reply<'_>> {
    serde_json::from_slice(message).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` and describes every frame.
    fn frames(chunks: &[&[u8]]) -> Vec<String> {
        let mut framer = Framer::new();
        let mut found = Vec::new();
        for chunk in chunks {
            framer.feed(chunk, |frame| {
                found.push(match frame {
                    Frame::Message(message) => String::from_utf8_lossy(message).into_owned(),
                    Frame::Malformed => "<malformed>".to_string(),
                    Frame::TooLong => "<too long>".to_string(),
                });
                true
            });
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
        let mut framer = Framer::new();
        framer.feed(b"{\"command\": \"hang", |_| true);
        assert_eq!(framer.finish(), Some(Frame::Malformed));
        assert_eq!(framer.finish(), None);
        framer.feed(b"hello", |_| true);
        assert_eq!(framer.finish(), Some(Frame::Malformed));
        framer.feed(b"{}\n  ", |_| true);
        assert_eq!(framer.finish(), None);
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
    fn requests_decode_with_string_or_number_ids_and_extra_fields() {
        let ok = |text: &str| decode_request(text.as_bytes());
        assert_eq!(
            ok(r#"{"command": "call", "id": "1"}"#),
            Ok(Request::new(Verb::Call, "1"))
        );
        assert_eq!(
            ok(r#"{"command": "answer", "id": "A", "x": [1]}"#),
            Ok(Request::new(Verb::Answer, "A"))
        );
        assert_eq!(
            ok(r#"{"id": 7, "command": "hangup"}"#),
            Ok(Request::new(Verb::Hangup, "7"))
        );
        assert_eq!(
            ok(r#"{"command": "reject", "id": "\u00c9"}"#),
            Ok(Request::new(Verb::Reject, "É"))
        );
        assert_eq!(
            ok(r#"{"command": "call", "id": -2}"#),
            Ok(Request::new(Verb::Call, "-2"))
        );
    }

    #[test]
    fn bad_requests_get_the_matching_error() {
        let bad = |text: &str| decode_request(text.as_bytes()).unwrap_err();
        for text in [
            "not json",
            "[1, 2]",
            r#"["call", "1"]"#,
            "42",
            "{}",
            r#"{"command": 1, "id": "1"}"#,
            r#"{"command": "call", "command": "call", "id": "1"}"#,
            r#"{"command": "call", "id": "1""#,
        ] {
            assert_eq!(bad(text), WireError::InvalidRequest, "{text}");
        }
        assert_eq!(
            bad(r#"{"command": "dance", "id": "1"}"#),
            WireError::Command(CommandError::UnknownCommand("dance".into()))
        );
        assert_eq!(
            bad(r#"{"command": "help", "id": "1"}"#),
            WireError::Command(CommandError::UnknownCommand("help".into()))
        );
        for text in [
            r#"{"command": "call"}"#,
            r#"{"command": "call", "id": ""}"#,
            r#"{"command": "call", "id": "a b"}"#,
            r#"{"command": "call", "id": null}"#,
            r#"{"command": "call", "id": true}"#,
            r#"{"command": "call", "id": {"x": 1}}"#,
            r#"{"command": "call", "id": [1]}"#,
            r#"{"command": "call", "id": 1.5}"#,
            r#"{"command": "call", "id": 1e3}"#,
            r#"{"command": "call", "id": 123456789012345678901234567890}"#,
        ] {
            assert_eq!(
                bad(text),
                WireError::Command(CommandError::Usage(Verb::Call)),
                "{text}"
            );
        }
        let long = format!(r#"{{"command": "call", "id": "{}"}}"#, "x".repeat(65));
        assert_eq!(
            bad(&long),
            WireError::Command(CommandError::Usage(Verb::Call))
        );
    }

    #[test]
    fn replies_and_requests_round_trip() {
        let mut out = Vec::new();
        encode_reply(
            &mut out,
            "Call 1 received\nCall 1 \"ringing\"",
            ReplyKind::Ok,
        );
        encode_reply(&mut out, "Call 9 not found", ReplyKind::Error);
        encode_reply(&mut out, "Call 1 ignored by operator A", ReplyKind::Event);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"response\": \"Call 1 received\\nCall 1 \\\"ringing\\\"\"}\n\
             {\"response\": \"Call 9 not found\", \"error\": true}\n\
             {\"response\": \"Call 1 ignored by operator A\", \"event\": true}\n"
        );
        let replies: Vec<Reply> = out
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| decode_reply(line).unwrap())
            .collect();
        assert_eq!(replies[0].response, "Call 1 received\nCall 1 \"ringing\"");
        assert!(!replies[0].error && !replies[0].event);
        assert!(replies[1].error && replies[2].event);
        let mut request = Vec::new();
        encode_request(&mut request, Verb::Hangup, "a\"b");
        assert_eq!(request, b"{\"command\": \"hangup\", \"id\": \"a\\\"b\"}\n");
        assert_eq!(
            decode_request(&request[..request.len() - 1]),
            Ok(Request::new(Verb::Hangup, "a\"b"))
        );
        assert_eq!(canonical_request(&request[..request.len() - 1]), None);
        let mut plain = Vec::new();
        encode_request(&mut plain, Verb::Call, "b7-1");
        assert_eq!(
            canonical_request(&plain[..plain.len() - 1]),
            Some(("call", "b7-1"))
        );
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
            proptest::prop_assert_eq!(frames(&chunks), reference_frames(&input));
        }
    }

    #[test]
    fn strings_are_escaped_as_json_and_read_back_the_same() {
        let text = "plain \"quoted\" back\\slash\n\r\t\u{0}\u{1f}\u{7f} ünï 😀";
        let mut out = Vec::new();
        push_json_string(&mut out, text);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\"plain \\\"quoted\\\" back\\\\slash\\n\\r\\t\\u0000\\u001f\u{7f} ünï 😀\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }
}
