//! Pull-based framing: [`LineDecoder`] on its own (receive bytes, then pull
//! frames, as h11's `next_event`), and the generic [`Framed`] adapter over
//! a toy fixed-size decoder on an in-memory transport: frames held while
//! reading is paused, none once disconnecting, `Next::Disconnect` carried
//! out, and the decoder's last frame at end of input.
use std::cell::RefCell;
use std::rc::Rc;

use callcenter::reactor::{
    AfterEof, Decoder, FrameHandler, Framed, Line, LineDecoder, Next, Protocol, Transport,
};

/// Pulls every frame the decoder has now, as owned text.
fn pull(decoder: &mut LineDecoder) -> Vec<String> {
    let mut frames = Vec::new();
    while let Some(frame) = decoder.next_frame() {
        frames.push(match frame {
            Line::Complete(line) => format!("line {}", String::from_utf8_lossy(line)),
            Line::TooLong(line) => format!("too long {}", String::from_utf8_lossy(line)),
        });
    }
    frames
}

#[test]
fn a_line_decoder_hands_out_lines_only_when_asked() {
    let mut decoder = LineDecoder::new();
    decoder.receive(b"call 1\r\nansw");
    decoder.receive(b"er A\nhang");
    assert_eq!(pull(&mut decoder), ["line call 1", "line answer A"]);
    assert_eq!(pull(&mut decoder), Vec::<String>::new());
    decoder.receive(b"up 1\n\n");
    assert_eq!(pull(&mut decoder), ["line hangup 1", "line "]);
    decoder.receive(b"last\r");
    assert_eq!(pull(&mut decoder), Vec::<String>::new());
    assert_eq!(decoder.finish(), Some(Line::Complete(b"last")));
    assert_eq!(decoder.finish(), None);
}

#[test]
fn a_long_partial_line_is_reported_once_and_dropped_to_its_delimiter() {
    let mut decoder = LineDecoder::new();
    decoder.max_length = 4;
    decoder.receive(b"ok\nabcd\r");
    // `abcd\r` may still end as the valid line `abcd`.
    assert_eq!(pull(&mut decoder), ["line ok"]);
    decoder.receive(b"ef");
    assert_eq!(pull(&mut decoder), ["too long abcd\ref"]);
    decoder.receive(b"ghij");
    assert_eq!(pull(&mut decoder), Vec::<String>::new());
    decoder.receive(b"kl\nnext\nlonger\n");
    assert_eq!(pull(&mut decoder), ["line next", "too long longer"]);
    // Nothing is left to finish: the long line was dropped, not kept.
    assert_eq!(decoder.finish(), None);
}

#[test]
fn a_line_decoder_with_another_delimiter() {
    let mut decoder = LineDecoder::new();
    decoder.delimiter = b';';
    decoder.receive(b"a;b\n;c");
    assert_eq!(pull(&mut decoder), ["line a", "line b\n"]);
    assert_eq!(decoder.finish(), Some(Line::Complete(b"c")));
}

/// Frames of exactly `size` bytes: a format unlike lines, to show the
/// adapter is generic.
struct Fixed {
    size: usize,
    buffer: Vec<u8>,
    start: usize,
}

impl Decoder for Fixed {
    type Frame<'a> = &'a [u8];

    fn receive(&mut self, bytes: &[u8]) {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(bytes);
    }

    fn next_frame(&mut self) -> Option<&[u8]> {
        let end = self.start + self.size;
        if end > self.buffer.len() {
            return None;
        }
        let frame = &self.buffer[self.start..end];
        self.start = end;
        Some(frame)
    }

    fn finish(&mut self) -> Option<&[u8]> {
        let rest = &self.buffer[self.start..];
        self.start = self.buffer.len();
        (!rest.is_empty()).then_some(rest)
    }
}

type Log = Rc<RefCell<Vec<String>>>;

/// Logs frames; answers `Disconnect` to the frame `quit`.
struct Record(Log);

impl FrameHandler<Fixed> for Record {
    fn frame_received(&mut self, frame: &[u8]) -> Next {
        self.0
            .borrow_mut()
            .push(String::from_utf8_lossy(frame).into_owned());
        if frame == b"quit" {
            Next::Disconnect
        } else {
            Next::Continue
        }
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.0.borrow_mut().push("eof".to_string());
        AfterEof::KeepWriting
    }
}

fn fixed(size: usize) -> (Framed<Fixed, Record>, Transport, Log) {
    let log: Log = Rc::default();
    let decoder = Fixed {
        size,
        buffer: Vec::new(),
        start: 0,
    };
    let mut framed = Framed::with_decoder(decoder, Record(log.clone()));
    let transport = Transport::memory();
    framed.connection_made(transport.clone());
    (framed, transport, log)
}

#[test]
fn framed_holds_frames_while_paused_and_hands_them_out_on_resume() {
    let (mut framed, transport, log) = fixed(2);
    framed.data_received(b"aab");
    transport.pause_producing();
    framed.data_received(b"bccd");
    assert_eq!(*log.borrow(), ["aa"]);
    transport.resume_producing();
    framed.resume_producing();
    assert_eq!(*log.borrow(), ["aa", "bb", "cc"]);
    assert_eq!(framed.decoder().size, 2);
    // End of input: the decoder's last, short frame, then the handler.
    assert_eq!(framed.read_connection_lost(), AfterEof::KeepWriting);
    assert_eq!(*log.borrow(), ["aa", "bb", "cc", "d", "eof"]);
}

#[test]
fn framed_carries_out_disconnect_and_then_hands_out_nothing() {
    let (mut framed, transport, log) = fixed(4);
    framed.data_received(b"stepquitmore");
    assert!(transport.disconnecting());
    assert_eq!(*log.borrow(), ["step", "quit"]);
    framed.data_received(b"even");
    framed.read_connection_lost();
    assert_eq!(*log.borrow(), ["step", "quit", "eof"]);
}
