//! Line framing: turns a byte stream into lines.
//!
//! Mirrors `twisted.protocols.basic.LineReceiver`: a [`Protocol`] that
//! buffers input, cuts it at the delimiter (`\n`; a `\r` before it is
//! dropped too, so `\r\n` works), and hands each line to a [`LineHandler`].
//! Lines are bounded by `max_length`, the partial line in the buffer too, so
//! a peer that never sends a delimiter cannot grow memory. Each byte is
//! scanned for the delimiter once, however the input is chunked.
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

use super::protocol::{AfterEof, ConnectionLost, Protocol};
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

/// A protocol that splits its input into lines for a [`LineHandler`].
///
/// Mirrors `twisted.protocols.basic.LineReceiver` (`delimiter`, `MAX_LENGTH`).
pub struct LineReceiver<H> {
    /// Receives the lines.
    pub handler: H,
    /// The line delimiter. Mirrors `LineReceiver.delimiter` (one byte here).
    pub delimiter: u8,
    /// The longest line accepted, in bytes, delimiter excluded.
    /// Mirrors `LineReceiver.MAX_LENGTH`.
    pub max_length: usize,
    /// Set in `connection_made`; asked whether to go on delivering.
    transport: Option<Transport>,
    /// The partial line carried over from earlier chunks.
    buffer: Vec<u8>,
    /// Dropping input up to the next delimiter after an over-long line.
    discarding: bool,
    /// Input not yet cut into lines because reading is paused (see
    /// `Transport::reading_paused`): handed out when input resumes.
    held: Vec<u8>,
    /// End of input was reached: deliver what is held without pausing.
    at_eof: bool,
}

impl<H: LineHandler> LineReceiver<H> {
    /// Lines end with `\n`; the default maximum is 16 KiB, as in Twisted.
    pub fn new(handler: H) -> LineReceiver<H> {
        LineReceiver {
            handler,
            delimiter: b'\n',
            max_length: 16 * 1024,
            transport: None,
            buffer: Vec::new(),
            discarding: false,
            held: Vec::new(),
            at_eof: false,
        }
    }

    /// Sets [`max_length`](LineReceiver::max_length), as a Twisted subclass
    /// sets `MAX_LENGTH`.
    pub fn with_max_length(mut self, max_length: usize) -> LineReceiver<H> {
        self.max_length = max_length;
        self
    }

    fn paused(&self) -> bool {
        !self.at_eof
            && self
                .transport
                .as_ref()
                .is_some_and(Transport::reading_paused)
    }

    fn stopped(&self) -> bool {
        self.transport
            .as_ref()
            .is_some_and(Transport::disconnecting)
    }

    /// Delivers one complete line (delimiter removed). Returns false to stop.
    fn deliver(&mut self, mut line: &[u8]) -> bool {
        if self.stopped() {
            return false;
        }
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.len() > self.max_length {
            return self.exceeded(line, false);
        }
        self.handler.line_received(line);
        true
    }

    /// Handles an over-long line; `partial` if its delimiter has not arrived.
    fn exceeded(&mut self, line: &[u8], partial: bool) -> bool {
        match self.handler.line_length_exceeded(line) {
            Overflow::Disconnect => {
                if let Some(transport) = &self.transport {
                    transport.lose_connection();
                }
                false
            }
            Overflow::Discard => {
                self.discarding = partial;
                true
            }
        }
    }

    /// Whether a partial line can no longer become a valid one.
    fn partial_too_long(&self, partial: &[u8]) -> bool {
        let content = match partial {
            [rest @ .., b'\r'] => rest,
            _ => partial,
        };
        content.len() > self.max_length
    }

    /// Cuts `data` into lines; returns the unterminated tail, or `None` if
    /// delivery stopped.
    fn split<'a>(&mut self, mut data: &'a [u8]) -> Option<&'a [u8]> {
        while let Some(end) = data.iter().position(|&b| b == self.delimiter) {
            if self.paused() {
                // Keep the rest for when reading resumes (as Twisted's
                // `LineReceiver` stops its loop while `paused`).
                self.held.extend_from_slice(data);
                return None;
            }
            if !self.deliver(&data[..end]) {
                return None;
            }
            data = &data[end + 1..];
        }
        Some(data)
    }
}

impl<H: LineHandler> Protocol for LineReceiver<H> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport.clone());
        self.handler.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if self.held.is_empty() {
            self.cut(data);
        } else {
            let mut held = std::mem::take(&mut self.held);
            held.extend_from_slice(data);
            self.cut(&held);
        }
    }

    fn resume_producing(&mut self) {
        let held = std::mem::take(&mut self.held);
        self.cut(&held);
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        // Lines held while paused come first, all of them: nothing more
        // will be read, so there is nothing left to hold back.
        self.at_eof = true;
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.cut(&held);
        }
        // A last line without a delimiter still counts (as a typed script
        // whose final newline is missing would be expected to).
        if !self.buffer.is_empty() && !self.discarding {
            let line = std::mem::take(&mut self.buffer);
            self.deliver(&line);
        }
        self.handler.read_connection_lost()
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.handler.connection_lost(reason);
    }
}

impl<H: LineHandler> LineReceiver<H> {
    /// Cuts a chunk into lines, keeping the partial last one.
    fn cut(&mut self, mut data: &[u8]) {
        if self.discarding {
            match data.iter().position(|&b| b == self.delimiter) {
                None => return,
                Some(end) => {
                    self.discarding = false;
                    data = &data[end + 1..];
                }
            }
        }
        if !self.buffer.is_empty() {
            // Complete the carried-over line; only the new bytes are scanned.
            match data.iter().position(|&b| b == self.delimiter) {
                None => {
                    self.buffer.extend_from_slice(data);
                    if self.partial_too_long(&self.buffer) {
                        let partial = std::mem::take(&mut self.buffer);
                        self.exceeded(&partial, true);
                    }
                    return;
                }
                Some(end) => {
                    let mut line = std::mem::take(&mut self.buffer);
                    line.extend_from_slice(&data[..end]);
                    data = &data[end + 1..];
                    let go_on = self.deliver(&line);
                    // Keep the allocation for the next partial line.
                    line.clear();
                    self.buffer = line;
                    if !go_on {
                        return;
                    }
                }
            }
        }
        let Some(tail) = self.split(data) else {
            return;
        };
        if self.partial_too_long(tail) {
            self.exceeded(tail, true);
        } else {
            self.buffer.extend_from_slice(tail);
        }
    }
}
