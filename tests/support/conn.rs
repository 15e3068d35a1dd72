//! A raw TCP client of the server, as a hand-written one would be: it sends
//! bytes as they are and reads replies line by line, each read with a
//! deadline.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::TIMEOUT;
use super::wire::{error, request, seed_steps};

/// What a read on a connection found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A complete line (newline removed).
    Line(String),
    /// The server closed the connection (FIN).
    Eof,
    /// The connection was reset (RST).
    Reset,
    /// Nothing complete arrived before the deadline.
    TimedOut,
    /// The connection ended (end of file) in the middle of this line.
    Truncated(String),
}

/// A raw client connection, reading line by line with deadlines.
pub struct Conn {
    /// The socket, for writing and for socket options.
    pub stream: TcpStream,
    buffer: Vec<u8>,
}

impl Conn {
    /// Connects to `addr`, with Nagle off and a write timeout (a read has
    /// its own deadline).
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect to the server");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn::new(stream)
    }

    /// Wraps a connected `stream` as it is.
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buffer: Vec::new(),
        }
    }

    /// Writes all of `bytes`; panics if the connection is broken.
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|error| panic!("write failed: {error}"));
    }

    /// Writes `bytes` one byte per write (with Nagle off, one per segment).
    #[track_caller]
    pub fn send_bytewise(&mut self, bytes: &[u8]) {
        self.stream.set_nodelay(true).unwrap();
        for byte in bytes.chunks(1) {
            self.send(byte);
        }
    }

    /// The next line, end of file, reset, or nothing within `timeout`.
    pub fn next_within(&mut self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8(line[..end].to_vec()).unwrap_or_else(|_| {
                    panic!("the server sent a line that is not UTF-8: {line:?}")
                });
                return Next::Line(line);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::TimedOut;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) if self.buffer.is_empty() => return Next::Eof,
                Ok(0) => {
                    let rest = std::mem::take(&mut self.buffer);
                    return Next::Truncated(String::from_utf8_lossy(&rest).into_owned());
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Next::TimedOut;
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::ConnectionReset => return Next::Reset,
                Err(error) => panic!("read failed: {error}"),
            }
        }
    }

    /// The next line; panics on end of file, reset or timeout.
    #[track_caller]
    pub fn line(&mut self) -> String {
        match self.next_within(TIMEOUT) {
            Next::Line(line) => line,
            other => panic!("expected a reply line, got {other:?}"),
        }
    }

    /// Sends `line` plus a newline and returns the reply.
    #[track_caller]
    pub fn request(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes());
        self.line()
    }

    /// Sends `line` plus a newline and checks the reply, whole.
    #[track_caller]
    pub fn expect(&mut self, line: &str, reply: &str) {
        assert_eq!(self.request(line), reply, "the reply to {line}");
    }

    /// Sends raw `bytes` and checks the replies they get, whole and in order.
    #[track_caller]
    pub fn expect_raw(&mut self, bytes: &[u8], replies: &[&str]) {
        self.send(bytes);
        for (index, reply) in replies.iter().enumerate() {
            assert_eq!(
                self.line(),
                *reply,
                "reply {index} to {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// Proves that nothing else is pending: a harmless request gets its own
    /// reply first (replies come in order, so a stray reply would be first).
    #[track_caller]
    pub fn expect_nothing_pending(&mut self) {
        self.expect(
            &request("hangup", "sentinel"),
            &error("Call sentinel not found"),
        );
    }

    /// The server closed the connection cleanly: end of file, nothing more.
    #[track_caller]
    pub fn expect_eof(&mut self) {
        assert_eq!(self.next_within(TIMEOUT), Next::Eof);
    }

    /// Runs the seed's script, checking every reply whole.
    #[track_caller]
    pub fn run_seed(&mut self) {
        for (request, reply) in seed_steps() {
            self.expect(&request, &reply);
        }
    }
}
