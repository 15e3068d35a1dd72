//! Framing: turning a byte stream into messages, pull-based.
//!
//! A [`Decoder`] is sans-I/O: it is given bytes as they arrive
//! ([`receive`](Decoder::receive)) and asked for the frames it can cut
//! from them ([`next_frame`](Decoder::next_frame)), like h11's
//! `next_event` or mini-redis's `parse_frame`. One protocol adapter,
//! [`Framed`], drives any decoder on a connection and hands each frame to
//! a [`FrameHandler`]: it mirrors what Twisted's `protocols/basic.py`
//! receivers (`LineReceiver`, `NetstringReceiver`, `IntNStringReceiver`)
//! share, each a `dataReceived` loop over one format. Lines are
//! [`LineDecoder`](super::line::LineDecoder); the wire protocol's JSON
//! messages are [`JsonDecoder`](crate::wire::JsonDecoder).
//!
//! The adapter stops handing out frames once the transport is
//! disconnecting, and holds them while reading is paused (the decoder
//! keeps the bytes), handing them out when reading resumes, as Twisted's
//! `LineReceiver` does while `paused`.

use super::protocol::{AfterEof, ConnectionLost, Protocol};
use super::transport::Transport;

/// Cuts a byte stream into frames. Sans-I/O: it never reads or writes.
///
/// Mirrors the parsing half of a Twisted `basic.py` receiver, pulled
/// rather than pushed: feed bytes with [`receive`](Decoder::receive), then
/// call [`next_frame`](Decoder::next_frame) until it returns `None`.
pub trait Decoder {
    /// One frame, borrowing from the decoder's buffer until the next call.
    type Frame<'a>
    where
        Self: 'a;

    /// Takes bytes as they arrive (any chunking).
    fn receive(&mut self, bytes: &[u8]);

    /// The next complete frame, if the bytes received so far hold one.
    fn next_frame(&mut self) -> Option<Self::Frame<'_>>;

    /// End of input: a last frame the format allows without its end
    /// marker (such as a last line without its delimiter), if any.
    fn finish(&mut self) -> Option<Self::Frame<'_>> {
        None
    }
}

/// What [`Framed`] does after handing out a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Go on with the next frame.
    Continue,
    /// Close the connection once its output drains, and hand out no more
    /// frames (`transport.loseConnection()` in a Twisted receiver).
    Disconnect,
}

/// What a framed protocol implements: the frame-level callbacks of a
/// Twisted `basic.py` receiver subclass.
pub trait FrameHandler<D: Decoder> {
    /// Mirrors `Protocol.connectionMade`.
    fn connection_made(&mut self, transport: Transport) {
        let _ = transport;
    }

    /// One frame (`lineReceived`, `stringReceived`). Not called once the
    /// transport is disconnecting.
    fn frame_received(&mut self, frame: D::Frame<'_>) -> Next;

    /// Mirrors `IHalfCloseableProtocol.readConnectionLost`: end of input,
    /// after every frame, the decoder's last one included.
    fn read_connection_lost(&mut self) -> AfterEof {
        AfterEof::Close
    }

    /// Mirrors `Protocol.connectionLost`.
    fn connection_lost(&mut self, reason: ConnectionLost) {
        let _ = reason;
    }
}

/// A protocol that cuts its input with a [`Decoder`] and hands each frame
/// to a [`FrameHandler`]. Mirrors the shared loop of Twisted's `basic.py`
/// receivers. [`LineReceiver`](super::line::LineReceiver) is `Framed`
/// over lines.
pub struct Framed<D, H> {
    decoder: D,
    handler: H,
    /// Set in `connection_made`; asked whether to go on delivering.
    transport: Option<Transport>,
    /// End of input was reached: deliver what is held without pausing.
    at_eof: bool,
}

impl<D: Decoder, H: FrameHandler<D>> Framed<D, H> {
    /// `handler` fed by `decoder`.
    pub fn with_decoder(decoder: D, handler: H) -> Framed<D, H> {
        Framed {
            decoder,
            handler,
            transport: None,
            at_eof: false,
        }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, to change.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The decoder (its settings, such as a maximum length).
    pub fn decoder(&self) -> &D {
        &self.decoder
    }

    /// The decoder, to change its settings.
    pub fn decoder_mut(&mut self) -> &mut D {
        &mut self.decoder
    }

    /// Whether the transport is closing: no more frames.
    fn stopped(&self) -> bool {
        self.transport
            .as_ref()
            .is_some_and(Transport::disconnecting)
    }

    /// Whether frames wait because reading is paused (never at the end of
    /// input: nothing more will be read, so nothing is held back).
    fn paused(&self) -> bool {
        !self.at_eof
            && self
                .transport
                .as_ref()
                .is_some_and(Transport::reading_paused)
    }

    /// Acts on a handler's answer; returns whether to go on.
    fn carry_out(&self, next: Next) -> bool {
        match next {
            Next::Continue => true,
            Next::Disconnect => {
                if let Some(transport) = &self.transport {
                    transport.lose_connection();
                }
                false
            }
        }
    }

    /// Hands out every frame the decoder has, unless paused or stopped.
    fn deliver_frames(&mut self) {
        while !self.stopped() && !self.paused() {
            let Some(frame) = self.decoder.next_frame() else {
                return;
            };
            let next = self.handler.frame_received(frame);
            if !self.carry_out(next) {
                return;
            }
        }
    }
}

impl<D: Decoder, H: FrameHandler<D>> Protocol for Framed<D, H> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport.clone());
        self.handler.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.decoder.receive(data);
        self.deliver_frames();
    }

    fn resume_producing(&mut self) {
        self.deliver_frames();
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.at_eof = true;
        self.deliver_frames();
        if !self.stopped() {
            let next = match self.decoder.finish() {
                Some(frame) => self.handler.frame_received(frame),
                None => Next::Continue,
            };
            self.carry_out(next);
        }
        self.handler.read_connection_lost()
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.handler.connection_lost(reason);
    }
}
