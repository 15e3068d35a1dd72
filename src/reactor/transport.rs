//! The write side of a connection: a buffer that never blocks.
//!
//! `write` only appends to the buffer and asks the reactor to flush it; the
//! reactor writes as much as the operating system takes, then waits for the
//! descriptor to become writable again. So a slow reader never blocks the
//! loop, and nothing written is lost while the connection lives.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::time::Instant;

use log::debug;
use mio::Registry;

use super::descriptor::{Channel, Descriptor};

/// A run of bytes for one channel, partly sent.
struct Segment {
    channel: Channel,
    data: Vec<u8>,
    /// How much of `data` the operating system has taken.
    sent: usize,
}

/// Output waiting to be written, in write order.
#[derive(Default)]
pub(crate) struct OutputBuffer {
    /// Consecutive writes to one channel share a segment.
    segments: VecDeque<Segment>,
    /// Unsent bytes in all segments (kept to answer `len` in O(1)).
    len: usize,
    /// A drained segment's allocation, reused for the next one.
    spare: Vec<u8>,
}

impl OutputBuffer {
    fn push(&mut self, channel: Channel, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.len += data.len();
        if let Some(last) = self.segments.back_mut()
            && last.channel == channel
        {
            last.data.extend_from_slice(data);
            return;
        }
        let mut buffer = std::mem::take(&mut self.spare);
        buffer.extend_from_slice(data);
        self.segments.push_back(Segment {
            channel,
            data: buffer,
            sent: 0,
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn front(&self) -> Option<(Channel, &[u8])> {
        self.segments
            .front()
            .map(|segment| (segment.channel, &segment.data[segment.sent..]))
    }

    pub(crate) fn consume(&mut self, amount: usize) {
        let Some(front) = self.segments.front_mut() else {
            return;
        };
        front.sent += amount;
        self.len -= amount;
        if front.sent == front.data.len()
            && let Some(mut drained) = self.segments.pop_front()
        {
            drained.data.clear();
            // Keep a modest allocation for reuse; let a huge one go.
            if drained.data.capacity() <= 1 << 20 {
                self.spare = drained.data;
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.segments.clear();
        self.len = 0;
    }

    /// Every unsent byte of `channel`, in order.
    fn collect(&self, channel: Option<Channel>) -> Vec<u8> {
        let mut all = Vec::new();
        for segment in &self.segments {
            if channel.is_none_or(|c| c == segment.channel) {
                all.extend_from_slice(&segment.data[segment.sent..]);
            }
        }
        all
    }
}

/// How a flush ended.
pub(crate) enum Flushed {
    /// Everything was written.
    Drained,
    /// The operating system took no more; wait until `Channel` is writable.
    Blocked(Channel),
    /// Writing failed; the connection is unusable.
    Failed(io::Error),
}

/// A transport's state, shared by the protocol's handle and the reactor.
pub(crate) struct TransportState {
    pub(crate) descriptor: Descriptor,
    pub(crate) output: OutputBuffer,
    /// `lose_connection` was called: close once the output drains.
    pub(crate) disconnecting: bool,
    /// `abort_connection` was called: close at once, dropping the output.
    pub(crate) aborting: bool,
    /// The connection is closed; writes are dropped.
    pub(crate) closed: bool,
    /// The peer reached end of input (we keep writing if the protocol asked to).
    pub(crate) read_closed: bool,
    /// Reading is paused by the protocol; see `pause_producing`.
    pub(crate) paused: bool,
    /// Reading is paused because the output passed the high-water mark.
    pub(crate) throttled: bool,
    /// Output bounds, if set; see `set_buffer_limits`.
    pub(crate) limits: Option<BufferLimits>,
    /// Already in the reactor's list of transports to flush.
    pub(crate) flush_queued: bool,
    /// Already in the reactor's list of transports to read next turn.
    pub(crate) read_queued: bool,
    /// Reading resumed after a pause: call the protocol's `resume_producing`.
    pub(crate) resumed_from_pause: bool,
    /// The reactor's lists to join for a flush or a read; empty for
    /// in-memory transports.
    pub(crate) reactor: Weak<WorkLists>,
    /// The remote address (TCP only).
    pub(crate) peer: Option<SocketAddr>,
    /// The reactor's token for this connection, once registered.
    pub(crate) token: Option<mio::Token>,
}

impl TransportState {
    /// Writes buffered output until it is drained or the OS would block.
    pub(crate) fn flush(&mut self) -> Flushed {
        loop {
            let Some((channel, data)) = self.output.front() else {
                return Flushed::Drained;
            };
            // Nothing consumes an in-memory transport's output: tests read it.
            let Some(written) = self.descriptor.write(channel, data) else {
                return Flushed::Drained;
            };
            match written {
                Ok(0) => return Flushed::Failed(io::ErrorKind::WriteZero.into()),
                Ok(amount) => self.output.consume(amount),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Flushed::Blocked(channel);
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Flushed::Failed(error),
            }
        }
    }

    /// Reads what is available into `buffer`.
    pub(crate) fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.descriptor.read(buffer)
    }

    /// At exit, reads and drops what a TCP peer already sent and nobody
    /// read (at most `limit` bytes, never waiting): closing a socket with
    /// unread input makes the kernel reset the connection instead of
    /// closing it, and the peer would see an error where it should see an
    /// end. Other descriptors are left alone (stdin is the shell's).
    pub(crate) fn discard_unread_input(&mut self, buffer: &mut [u8], limit: usize) {
        if !matches!(self.descriptor, Descriptor::Tcp(_)) || self.read_closed {
            return;
        }
        let mut dropped = 0;
        while dropped < limit {
            match self.descriptor.read(buffer) {
                Ok(0) | Err(_) => return,
                Ok(amount) => dropped += amount,
            }
        }
    }

    /// The last flush at exit, for raw descriptors (such as stdout): writes
    /// everything, waiting for the reader until `deadline` at most, then
    /// releases them. Sockets are left to the usual non-blocking flush.
    pub(crate) fn flush_before_exit(&mut self, registry: &Registry, deadline: Instant) {
        let Descriptor::Fds(fds) = &mut self.descriptor else {
            return;
        };
        // Still non-blocking: a reader that never reads cannot hold us past
        // the deadline.
        fds.deregister(registry);
        while let Some((channel, data)) = self.output.front() {
            let amount = data.len();
            if let Err(error) = fds.write_all_until(channel, data, deadline) {
                debug!("output lost at exit: {error}");
                self.output.clear();
                break;
            }
            self.output.consume(amount);
        }
        fds.release(registry);
    }

    /// Whether the reactor should read from this transport now.
    pub(crate) fn wants_read(&self) -> bool {
        !(self.closed
            || self.disconnecting
            || self.aborting
            || self.read_closed
            || self.paused
            || self.throttled)
    }

    /// After a flush: ends a throttle once the output has drained to half
    /// the high-water mark. Returns whether reading should resume.
    pub(crate) fn unthrottle(&mut self) -> bool {
        match self.limits {
            Some(limits) if self.throttled && self.output.len() <= limits.high_water / 2 => {
                self.throttled = false;
                !self.paused
            }
            _ => false,
        }
    }
}

/// Bounds on a transport's unsent output (backpressure).
///
/// Mirrors Twisted's producer/consumer flow control: past `high_water` bytes
/// the transport stops reading from its peer (as if `pauseProducing` were
/// called) so a peer that does not read its replies cannot make us queue
/// more; reading resumes when the output drains to half of it. Past
/// `hard_cap` (output no read can stop, such as broadcast events) the
/// connection is aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    /// Stop reading from the peer above this many unsent bytes.
    pub high_water: usize,
    /// Drop the connection above this many unsent bytes.
    pub hard_cap: usize,
}

/// The handle a protocol writes through.
///
/// Mirrors `twisted.internet.interfaces.ITransport`: [`write`](Transport::write)
/// never blocks and never loses data; [`lose_connection`](Transport::lose_connection)
/// closes after the buffer drains. Clones refer to the same connection.
#[derive(Clone)]
pub struct Transport {
    /// Shared with the reactor, which flushes and closes it.
    pub(crate) state: Rc<RefCell<TransportState>>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("Transport")
            .field("buffered", &state.output.len())
            .field("disconnecting", &state.disconnecting)
            .field("closed", &state.closed)
            .finish()
    }
}

impl Transport {
    pub(crate) fn new(
        descriptor: Descriptor,
        reactor: Weak<WorkLists>,
        peer: Option<SocketAddr>,
    ) -> Transport {
        Transport {
            state: Rc::new(RefCell::new(TransportState {
                descriptor,
                output: OutputBuffer::default(),
                disconnecting: false,
                aborting: false,
                closed: false,
                read_closed: false,
                paused: false,
                throttled: false,
                limits: None,
                flush_queued: false,
                read_queued: false,
                resumed_from_pause: false,
                reactor,
                peer,
                token: None,
            })),
        }
    }

    /// An in-memory transport that keeps everything written, for tests.
    ///
    /// Mirrors `twisted.internet.testing.StringTransport`: read what a
    /// protocol wrote with [`written`](Transport::written).
    pub fn memory() -> Transport {
        Transport::new(Descriptor::Memory, Weak::new(), None)
    }

    /// Queues `data` for the main output. Mirrors `ITransport.write`.
    ///
    /// Never blocks. Dropped once the connection is closing or closed.
    pub fn write(&self, data: &[u8]) {
        self.write_to(Channel::Out, data);
    }

    /// Queues `data` for the error output: stderr on standard I/O, ordered
    /// with stdout. On TCP it is the same as [`write`](Transport::write).
    /// Twisted has no counterpart (see [`Channel`]).
    pub fn write_err(&self, data: &[u8]) {
        self.write_to(Channel::Err, data);
    }

    /// Queues `data` for `channel`: [`write`](Transport::write) or
    /// [`write_err`](Transport::write_err) chosen at run time (Twisted has
    /// only `write`).
    pub fn write_to(&self, channel: Channel, data: &[u8]) {
        let mut state = self.state.borrow_mut();
        if state.closed || state.disconnecting || state.aborting {
            return;
        }
        let channel = state.descriptor.channel_for(channel);
        state.output.push(channel, data);
        if let Some(limits) = state.limits {
            let buffered = state.output.len();
            if buffered > limits.hard_cap {
                log::warn!(
                    "dropping {:?}: {buffered} bytes unsent (cap {})",
                    state.peer,
                    limits.hard_cap
                );
                drop(state);
                self.abort_connection();
                return;
            }
            if buffered > limits.high_water {
                state.throttled = true;
            }
        }
        drop(state);
        self.request_flush();
    }

    /// Bounds the unsent output; see [`BufferLimits`]. Mirrors the
    /// high-water mark Twisted applies when a producer is registered with
    /// `registerProducer`.
    pub fn set_buffer_limits(&self, limits: BufferLimits) {
        self.state.borrow_mut().limits = Some(limits);
    }

    /// Closes the connection once everything written has been sent.
    /// Mirrors `ITransport.loseConnection`. Reading stops at once.
    pub fn lose_connection(&self) {
        let mut state = self.state.borrow_mut();
        if state.closed || state.disconnecting {
            return;
        }
        state.disconnecting = true;
        drop(state);
        self.request_flush();
    }

    /// Closes the connection now, discarding unsent output.
    /// Mirrors `ITCPTransport.abortConnection`.
    pub fn abort_connection(&self) {
        let mut state = self.state.borrow_mut();
        if state.closed || state.aborting {
            return;
        }
        state.aborting = true;
        state.output.clear();
        drop(state);
        self.request_flush();
    }

    /// Whether the connection is closing or closed: no more input will be delivered.
    /// Mirrors Twisted's `transport.disconnecting`.
    pub fn disconnecting(&self) -> bool {
        let state = self.state.borrow();
        state.disconnecting || state.aborting || state.closed
    }

    /// Whether the connection has closed (after `connection_lost`).
    /// Mirrors `not transport.connected`.
    pub fn closed(&self) -> bool {
        self.state.borrow().closed
    }

    /// Bytes written but not yet taken by the operating system. Twisted
    /// keeps them in `FileDescriptor.dataBuffer`.
    pub fn buffered(&self) -> usize {
        self.state.borrow().output.len()
    }

    /// The remote address of a TCP connection. Mirrors `ITransport.getPeer`.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.state.borrow().peer
    }

    /// Stops delivering input until [`resume_producing`](Transport::resume_producing).
    /// Mirrors `IProducer.pauseProducing` on a connection (backpressure).
    pub fn pause_producing(&self) {
        self.state.borrow_mut().paused = true;
    }

    /// Delivers input again after [`pause_producing`](Transport::pause_producing).
    /// Mirrors `IPushProducer.resumeProducing`.
    pub fn resume_producing(&self) {
        let mut state = self.state.borrow_mut();
        if !state.paused {
            return;
        }
        state.paused = false;
        drop(state);
        // Edge-triggered polling will not report data that arrived while
        // paused: ask the reactor to read now.
        let reactor = self.state.borrow().reactor.upgrade();
        if let Some(reactor) = reactor {
            reactor.resume_reading(self);
        }
    }

    /// Whether input is held back: paused by the protocol, or throttled
    /// because the output passed its high-water mark (see [`BufferLimits`]).
    /// A framing adapter stops handing out frames while this holds, as
    /// Twisted's `LineReceiver` does while `paused`, and goes on when the
    /// reactor calls its `Protocol::resume_producing` after reading resumes.
    pub fn reading_paused(&self) -> bool {
        let state = self.state.borrow();
        state.paused || state.throttled
    }

    /// Whether reading is paused by [`pause_producing`](Transport::pause_producing).
    /// Twisted shows it as the descriptor having stopped reading.
    pub fn paused(&self) -> bool {
        self.state.borrow().paused
    }

    /// What was written to `channel` and not yet sent. On an in-memory
    /// transport, that is everything written: mirrors Twisted's
    /// `StringTransport.value()`.
    pub fn written(&self, channel: Channel) -> Vec<u8> {
        self.state.borrow().output.collect(Some(channel))
    }

    /// Everything written and not yet sent, both channels in write order:
    /// Twisted's `StringTransport.value()` over both outputs.
    pub fn written_all(&self) -> Vec<u8> {
        self.state.borrow().output.collect(None)
    }

    /// Forgets what an in-memory transport holds. Mirrors `StringTransport.clear`.
    pub fn clear(&self) {
        self.state.borrow_mut().output.clear();
    }

    fn request_flush(&self) {
        let mut state = self.state.borrow_mut();
        if state.flush_queued {
            return;
        }
        let Some(reactor) = state.reactor.upgrade() else {
            return;
        };
        state.flush_queued = true;
        drop(state);
        reactor.dirty.borrow_mut().push(self.clone());
    }
}

/// The reactor's lists of transports with work for the next step of the
/// loop. Transports add themselves (they hold this weakly), so a write
/// never calls back into the reactor: it only joins a list.
#[derive(Default)]
pub(crate) struct WorkLists {
    /// Transports with output to flush or a close to carry out.
    pub(crate) dirty: RefCell<Vec<Transport>>,
    /// Transports to read next turn even without a new event: resumed
    /// after a pause, not yet drained, or continuously polled.
    pub(crate) read_next: RefCell<Vec<Transport>>,
}

impl WorkLists {
    /// Reads a transport again on the next turn after a pause or throttle
    /// ended, first letting its protocol hand out what it held back.
    pub(crate) fn resume_reading(&self, transport: &Transport) {
        transport.state.borrow_mut().resumed_from_pause = true;
        self.read_again(transport);
    }

    /// Reads a transport again on the next turn (it may have more to read).
    pub(crate) fn read_again(&self, transport: &Transport) {
        let mut state = transport.state.borrow_mut();
        if state.read_queued {
            return;
        }
        state.read_queued = true;
        drop(state);
        self.read_next.borrow_mut().push(transport.clone());
    }
}
