//! Line framing: turns a byte stream into lines.
//!
//! Mirrors `twisted.protocols.basic.LineReceiver`. [`LineDecoder`] cuts
//! input at the delimiter (`\n`; a `\r` before it is dropped too, so
//! `\r\n` works); [`LineReceiver`] is the [`Framed`] protocol that drives
//! it and hands each line to a [`LineHandler`]. Lines are bounded by
//! `max_length`, the partial line in the buffer too, so a peer that never
//! sends a delimiter cannot grow memory. Each byte is scanned for the
//! delimiter once, however the input is chunked.
//!
//! ```
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use callcenter::reactor::{LineHandler, LineReceiver, Protocol, Transport};
//!
//! struct Collect(Rc<RefCell<Vec<String>>>);
//!
//! impl LineHandler for Collect {
//!     fn line_received(&mut self, line: &[u8]) {
//!         self.0.borrow_mut().push(String::from_utf8_lossy(line).into_owned());
//!     }
//! }
//!
//! let lines = Rc::new(RefCell::new(Vec::new()));
//! let mut receiver = LineReceiver::new(Collect(lines.clone()));
//! receiver.connection_made(Transport::memory());
//! for chunk in [&b"call 1\r"[..], b"\nansw", b"er A\nhang"] {
//!     receiver.data_received(chunk);
//! }
//! assert_eq!(*lines.borrow(), ["call 1", "answer A"]);
//! ```

use super::framing::{Decoder, FrameHandler, Framed, Next};
use super::protocol::{AfterEof, ConnectionLost};
use super::transport::Transport;

/// What to do after a line longer than the maximum.
///
/// In Twisted, `lineLengthExceeded` acts itself (its default calls
/// `transport.loseConnection()`); here the handler returns its decision and
/// the `LineReceiver` carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Close the connection (after the output drains): Twisted's default.
    Disconnect,
    /// Drop the long line up to its delimiter and go on with the next one.
    Discard,
}

/// What a line-based protocol implements: Twisted's `LineReceiver` subclass
/// methods.
pub trait LineHandler {
    /// Mirrors `Protocol.connectionMade` on a `LineReceiver` subclass.
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Mirrors `LineReceiver.lineReceived`: one line, without its delimiter
    /// (nor a `\r` before it). Not called once the transport is disconnecting.
    fn line_received(&mut self, line: &[u8]);

    /// Mirrors `LineReceiver.lineLengthExceeded`: a line (or the partial line
    /// buffered so far) is longer than the maximum. `line` holds at least the
    /// first `max_length` bytes. The default closes the connection.
    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        let _ = line;
        Overflow::Disconnect
    }

    /// Mirrors `IHalfCloseableProtocol.readConnectionLost`: end of input.
    /// A partial last line without a delimiter has already been delivered.
    fn read_connection_lost(&mut self) -> AfterEof {
        AfterEof::Close
    }

    /// Mirrors `Protocol.connectionLost`.
    fn connection_lost(&mut self, reason: ConnectionLost) {
        let _ = reason;
    }
}

/// A frame of [`LineDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line, without its delimiter (nor a `\r` before it).
    Complete(&'a [u8]),
    /// A line, or the partial line buffered so far, longer than the
    /// maximum: at least its first `max_length` bytes. The rest of a
    /// partial one is dropped, up to its delimiter.
    TooLong(&'a [u8]),
}

/// Cuts a byte stream into lines. Sans-I/O; see [`Decoder`].
///
/// Mirrors the parsing half of `twisted.protocols.basic.LineReceiver`
/// (`delimiter`, `MAX_LENGTH`).
#[derive(Debug, Clone)]
pub struct LineDecoder {
    /// The line delimiter. Mirrors `LineReceiver.delimiter` (one byte here).
    pub delimiter: u8,
    /// The longest line accepted, in bytes, delimiter excluded.
    /// Mirrors `LineReceiver.MAX_LENGTH`.
    pub max_length: usize,
    /// Received bytes; those before `start` are already handed out.
    buffer: Vec<u8>,
    /// Where the next line starts.
    start: usize,
    /// Bytes before this hold no delimiter: never scanned twice.
    scanned: usize,
    /// Dropping input up to the next delimiter after an over-long line.
    discarding: bool,
}

impl Default for LineDecoder {
    fn default() -> LineDecoder {
        LineDecoder::new()
    }
}

impl LineDecoder {
    /// Lines end with `\n`; the default maximum is 16 KiB, as in Twisted.
    pub fn new() -> LineDecoder {
        LineDecoder {
            delimiter: b'\n',
            max_length: 16 * 1024,
            buffer: Vec::new(),
            start: 0,
            scanned: 0,
            discarding: false,
        }
    }

    /// The next delimiter at or after `start`, scanning only new bytes.
    fn find_delimiter(&mut self) -> Option<usize> {
        let from = self.scanned.max(self.start);
        match self.buffer[from..]
            .iter()
            .position(|&b| b == self.delimiter)
        {
            Some(offset) => Some(from + offset),
            None => {
                self.scanned = self.buffer.len();
                None
            }
        }
    }

    /// Hands out `start..end` (the delimiter, if any, at `end`) and moves
    /// past it.
    fn take(&mut self, end: usize, skip: usize) -> &[u8] {
        let line = self.start..end;
        self.start = end + skip;
        self.scanned = self.start;
        &self.buffer[line]
    }
}

/// `line` without one trailing `\r`.
fn content(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

impl Decoder for LineDecoder {
    type Frame<'a> = Line<'a>;

    fn receive(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            // Forget what was handed out; keep the partial line (or the
            // lines held while paused) at the front.
            self.buffer.drain(..self.start);
            self.scanned -= self.start.min(self.scanned);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Option<Line<'_>> {
        if self.discarding {
            match self.find_delimiter() {
                Some(end) => {
                    self.take(end, 1);
                    self.discarding = false;
                }
                None => {
                    let end = self.buffer.len();
                    self.take(end, 0);
                    return None;
                }
            }
        }
        match self.find_delimiter() {
            Some(end) => {
                let max_length = self.max_length;
                let line = content(self.take(end, 1));
                Some(if line.len() > max_length {
                    Line::TooLong(line)
                } else {
                    Line::Complete(line)
                })
            }
            None if content(&self.buffer[self.start..]).len() > self.max_length => {
                // It can no longer become a valid line: report it now
                // rather than buffer it, and drop the rest of it.
                self.discarding = true;
                let end = self.buffer.len();
                Some(Line::TooLong(self.take(end, 0)))
            }
            None => None,
        }
    }

    fn finish(&mut self) -> Option<Line<'_>> {
        // A last line without a delimiter still counts (as a typed script
        // whose final newline is missing would be expected to).
        if self.discarding || self.start == self.buffer.len() {
            return None;
        }
        let max_length = self.max_length;
        let end = self.buffer.len();
        let line = content(self.take(end, 0));
        Some(if line.len() > max_length {
            Line::TooLong(line)
        } else {
            Line::Complete(line)
        })
    }
}

/// Every [`LineHandler`] handles the frames of a [`LineDecoder`].
impl<H: LineHandler> FrameHandler<LineDecoder> for H {
    fn connection_made(&mut self, transport: Transport) {
        LineHandler::connection_made(self, transport);
    }

    fn frame_received(&mut self, frame: Line<'_>) -> Next {
        match frame {
            Line::Complete(line) => {
                self.line_received(line);
                Next::Continue
            }
            Line::TooLong(line) => match self.line_length_exceeded(line) {
                // The decoder already drops the rest of a partial line.
                Overflow::Discard => Next::Continue,
                Overflow::Disconnect => Next::Disconnect,
            },
        }
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        LineHandler::read_connection_lost(self)
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        LineHandler::connection_lost(self, reason);
    }
}

/// A protocol that splits its input into lines for a [`LineHandler`]:
/// [`Framed`] over a [`LineDecoder`].
///
/// Mirrors `twisted.protocols.basic.LineReceiver`. Lines stop coming once
/// the transport is disconnecting, and wait while reading is paused.
pub type LineReceiver<H> = Framed<LineDecoder, H>;

impl<H: LineHandler> Framed<LineDecoder, H> {
    /// Lines of at most 16 KiB ending with `\n`, for `handler`.
    pub fn new(handler: H) -> LineReceiver<H> {
        Framed::with_decoder(LineDecoder::new(), handler)
    }

    /// Sets the decoder's [`max_length`](LineDecoder::max_length), as a
    /// Twisted subclass sets `MAX_LENGTH`.
    pub fn with_max_length(mut self, max_length: usize) -> LineReceiver<H> {
        self.decoder_mut().max_length = max_length;
        self
    }
}
