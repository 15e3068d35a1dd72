//! The callbacks a connection's owner implements.
//!
//! As in Twisted, a protocol never reads or writes a socket itself: the
//! reactor calls it when something happened, and it answers through the
//! [`Transport`] it was given in [`Protocol::connection_made`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use super::transport::Transport;

/// Why a connection ended, passed to [`Protocol::connection_lost`].
///
/// Mirrors the `reason` failure Twisted passes (`ConnectionDone` for a clean
/// close, `ConnectionLost` otherwise).
///
/// Cheap to clone (the error is shared), so a protocol and its factory can
/// both be told.
#[derive(Debug, Clone)]
pub enum ConnectionLost {
    /// Closed cleanly: the peer reached end of input, or we called
    /// `lose_connection` and the output drained.
    Done,
    /// `abort_connection` was called: closed at once, output discarded.
    Aborted,
    /// The operating system reported an error.
    Error(Rc<io::Error>),
    /// The reactor stopped while the connection was open.
    Shutdown,
}

impl fmt::Display for ConnectionLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionLost::Done => write!(f, "connection closed"),
            ConnectionLost::Aborted => write!(f, "connection aborted"),
            ConnectionLost::Error(error) => write!(f, "connection lost: {error}"),
            ConnectionLost::Shutdown => write!(f, "reactor stopped"),
        }
    }
}

/// What to do when the peer closes its side (end of input).
///
/// Twisted decides by type: a protocol providing `IHalfCloseableProtocol`
/// gets `readConnectionLost` and keeps writing; any other is disconnected.
/// Here every protocol answers [`Protocol::read_connection_lost`] with one
/// of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterEof {
    /// Flush what is buffered, then close (the usual case).
    Close,
    /// Keep the write side open; the protocol closes it later with
    /// `lose_connection`. Mirrors implementing `IHalfCloseableProtocol`.
    KeepWriting,
}

/// One connection's event handler.
///
/// Mirrors `twisted.internet.protocol.Protocol`. The reactor calls these
/// methods one at a time from its loop. The one exception is deliberate:
/// a callback that opens a connection (say, standard I/O once a server
/// connection is up) sees that connection's `connection_made` run at once.
pub trait Protocol {
    /// Mirrors `Protocol.connectionMade`: called once, when the connection is
    /// ready, with the transport to write to. Keep the transport to use it later.
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// Mirrors `Protocol.dataReceived`: called with bytes as they arrive.
    ///
    /// The chunks are arbitrary: a message may be split across calls, or
    /// several may arrive in one. Frame them (see `LineReceiver`).
    fn data_received(&mut self, data: &[u8]);

    /// Mirrors `IHalfCloseableProtocol.readConnectionLost`: the peer will send
    /// nothing more. The default closes the connection once output drains.
    fn read_connection_lost(&mut self) -> AfterEof {
        AfterEof::Close
    }

    /// Mirrors `LineReceiver.resumeProducing`: reading resumed after a
    /// pause ([`Transport::pause_producing`]) or a throttle (output past its
    /// high-water mark). A protocol that held input back while paused hands
    /// it out now; most protocols hold nothing and ignore it.
    fn resume_producing(&mut self) {}

    /// Mirrors `Protocol.connectionLost`: called once, last, after the
    /// connection closed for `reason`. The transport no longer accepts writes.
    fn connection_lost(&mut self, reason: ConnectionLost) {
        let _ = reason;
    }
}

/// Makes a protocol for each accepted connection.
///
/// Mirrors `twisted.internet.protocol.Factory`.
pub trait Factory {
    /// Mirrors `Factory.buildProtocol(addr)`: a protocol for the connection
    /// from `addr`, or `None` to refuse it (the reactor closes it at once).
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>>;
}

/// A boxed protocol is a protocol: factories hand out `Box<dyn Protocol>`.
impl<P: Protocol + ?Sized> Protocol for Box<P> {
    fn connection_made(&mut self, transport: Transport) {
        (**self).connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        (**self).data_received(data);
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        (**self).read_connection_lost()
    }

    fn resume_producing(&mut self) {
        (**self).resume_producing();
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        (**self).connection_lost(reason);
    }
}
