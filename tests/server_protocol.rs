//! The server's per-connection protocol in-process (SPEC §6), as Twisted
//! tests a protocol over `StringTransport`: the [`ServerFactory`] builds each
//! connection's protocol as the reactor does on accept, the test feeds it
//! request bytes over [`Transport::memory()`] and reads back exactly what it
//! wrote. Ring timers run on a [`ManualClock`], never a sleep.
//!
//! - Replies byte for byte, the request whole, pipelined, or a byte at a time.
//! - Bad input: an invalid request gets its error and the session goes on.
//! - Events: a ring timeout reaches every connected client, not a gone one.
//! - Limits: a message over 64 KiB is answered, then the connection closes;
//!   a connection past `--max-clients` is refused and closed, and a client
//!   that leaves makes room.
//!
//! What only a process shows (sockets, signals, exit codes) stays in
//! `tests/server.rs` and the `hostile_*` files.

mod support;

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use callcenter::engine::Engine;
use callcenter::messages::Lang;
use callcenter::modes::server::ServerFactory;
use callcenter::queue_service::QueueService;
use callcenter::reactor::{
    AfterEof, Channel, ConnectionLost, Factory, ManualClock, Protocol, Reactor, Transport,
};
use support::{
    INVALID, MAX_MESSAGE, SEED_CMDS, SEED_EN, TOO_LONG, event, ok, request, server_full,
};

const RING_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's factory on a manual clock: operators A and B, English.
struct Rig {
    factory: ServerFactory,
    reactor: Reactor,
    clock: ManualClock,
}

impl Rig {
    fn new(ring_timeout: Option<Duration>, max_clients: u32) -> Rig {
        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
        let service = QueueService::new(
            Engine::new(["A", "B"]).expect("engine"),
            Lang::En,
            ring_timeout,
            reactor.clone(),
        );
        Rig {
            factory: ServerFactory::new(service, max_clients),
            reactor,
            clock,
        }
    }

    /// Accepts one connection: the factory's protocol, made on a fresh
    /// in-memory transport.
    fn connect(&mut self) -> Session {
        let addr: SocketAddr = "127.0.0.1:40000".parse().expect("address");
        let mut protocol = self
            .factory
            .build_protocol(addr)
            .expect("the factory accepts every connection");
        let transport = Transport::memory();
        protocol.connection_made(transport.clone());
        Session {
            protocol,
            transport,
        }
    }

    /// Moves the clock on by `amount` and runs what fell due.
    fn advance(&self, amount: Duration) {
        self.clock.advance(amount);
        self.reactor.run_due_timers();
    }
}

/// One connection: its protocol and what it wrote.
struct Session {
    protocol: Box<dyn Protocol>,
    transport: Transport,
}

impl Session {
    fn feed(&mut self, bytes: &[u8]) {
        self.protocol.data_received(bytes);
    }

    fn feed_bytewise(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.protocol.data_received(std::slice::from_ref(byte));
        }
    }

    /// Everything written so far, as text, and forgets it.
    fn take(&self) -> String {
        // A TCP connection has one output: nothing may go to the other.
        assert_eq!(self.transport.written(Channel::Err), b"");
        let written = String::from_utf8(self.transport.written_all()).expect("UTF-8");
        self.transport.clear();
        written
    }

    fn lose(&mut self) {
        self.protocol.connection_lost(ConnectionLost::Done);
    }
}

/// `lines`, each ending in a newline.
fn lines<S: AsRef<str>>(lines: &[S]) -> String {
    lines
        .iter()
        .map(|line| format!("{}\n", line.as_ref()))
        .collect()
}

#[test]
fn a_request_gets_its_exact_reply_whole_or_a_byte_at_a_time() {
    let mut rig = Rig::new(None, 10);
    let mut whole = rig.connect();
    assert_eq!(whole.take(), "", "nothing is said on connecting");
    whole.feed(b"{\"command\": \"call\", \"id\": \"1\"}\n");
    assert_eq!(
        whole.take(),
        "{\"response\": \"Call 1 received\\nCall 1 ringing for operator A\"}\n"
    );
    let mut bytewise = rig.connect();
    bytewise.feed_bytewise(b"{\"command\": \"answer\", \"id\": \"A\"}\r\n");
    assert_eq!(
        bytewise.take(),
        "{\"response\": \"Call 1 answered by operator A\"}\n"
    );
    assert_eq!(whole.take(), "", "a reply goes to its sender only");
    assert!(!whole.transport.disconnecting() && !bytewise.transport.disconnecting());
}

#[test]
fn the_seed_script_pipelined_in_one_chunk_gets_its_replies_in_order() {
    let mut rig = Rig::new(None, 10);
    let mut session = rig.connect();
    let mut requests = String::new();
    for line in SEED_CMDS.lines() {
        let (verb, id) = line.split_once(' ').expect("verb id");
        requests.push_str(&request(verb, id));
        requests.push('\n');
    }
    session.feed(requests.as_bytes());
    // The seed's transcript, one reply per command: its lines grouped the
    // way the engine emits them per command.
    let replies: Vec<serde_json::Value> = session
        .take()
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .collect();
    assert_eq!(replies.len(), SEED_CMDS.lines().count());
    let mut transcript = String::new();
    for reply in &replies {
        assert_eq!(reply.as_object().map(|o| o.len()), Some(1), "{reply}");
        transcript.push_str(reply["response"].as_str().expect("text"));
        transcript.push('\n');
    }
    assert_eq!(transcript, SEED_EN);
}

#[test]
fn an_invalid_request_gets_its_error_and_the_session_goes_on() {
    let mut rig = Rig::new(None, 10);
    let mut session = rig.connect();
    session.feed_bytewise(b"not json\n");
    session.feed(
        b"{\"command\": \"hangup\", \"id\": \"9\"}\n{\"command\": \"bogus\", \"id\": \"1\"}\n",
    );
    assert_eq!(
        session.take(),
        lines(&[
            INVALID.to_string(),
            "{\"response\": \"Call 9 not found\", \"error\": true}".to_string(),
            "{\"response\": \"Unknown command: bogus\", \"error\": true}".to_string(),
        ])
    );
    session.feed(request("call", "1").as_bytes());
    session.feed(b"\n");
    assert_eq!(
        session.take(),
        lines(&[ok("Call 1 received\nCall 1 ringing for operator A")])
    );
    assert!(!session.transport.disconnecting());
}

#[test]
fn a_ring_timeout_is_an_event_to_every_connected_client() {
    let mut rig = Rig::new(Some(RING_TIMEOUT), 10);
    let mut caller = rig.connect();
    let mut bystander = rig.connect();
    let mut gone = rig.connect();
    gone.lose();
    caller.feed(format!("{}\n", request("call", "1")).as_bytes());
    assert_eq!(
        caller.take(),
        lines(&[ok("Call 1 received\nCall 1 ringing for operator A")])
    );
    rig.advance(RING_TIMEOUT - Duration::from_millis(1));
    assert_eq!(
        (caller.take(), bystander.take()),
        (String::new(), String::new())
    );
    rig.advance(Duration::from_millis(1));
    let expected = lines(&[event(
        "Call 1 ignored by operator A\nCall 1 ringing for operator B",
    )]);
    assert_eq!(caller.take(), expected);
    assert_eq!(bystander.take(), expected);
    assert_eq!(gone.take(), "", "a client that left gets no events");
    // The bystander answers for B: the event's call is everyone's.
    bystander.feed(format!("{}\n", request("answer", "B")).as_bytes());
    assert_eq!(
        bystander.take(),
        lines(&[ok("Call 1 answered by operator B")])
    );
    rig.advance(RING_TIMEOUT * 2);
    assert_eq!(
        (caller.take(), bystander.take()),
        (String::new(), String::new())
    );
}

#[test]
fn a_message_over_64_kib_is_answered_then_the_connection_closes() {
    let mut rig = Rig::new(None, 10);
    let mut session = rig.connect();
    let mut message = b"{\"command\": \"call\", \"id\": \"".to_vec();
    message.resize(MAX_MESSAGE + 1, b'x');
    // In pieces, without a newline: the framer never holds more than the limit.
    for piece in message.chunks(4096) {
        session.feed(piece);
    }
    assert_eq!(session.take(), lines(&[TOO_LONG]));
    assert!(session.transport.disconnecting());
    // Nothing more is read from it.
    session.feed(format!("\n{}\n", request("call", "2")).as_bytes());
    assert_eq!(session.take(), "");
    // Its place is free once it is gone; the queue did not change.
    session.lose();
    let mut next = rig.connect();
    next.feed(format!("{}\n", request("call", "2")).as_bytes());
    assert_eq!(
        next.take(),
        lines(&[ok("Call 2 received\nCall 2 ringing for operator A")])
    );
}

#[test]
fn a_message_of_exactly_64_kib_is_served() {
    let mut rig = Rig::new(None, 10);
    let mut session = rig.connect();
    let mut message = support::padded_request("call", "1", MAX_MESSAGE);
    message.push(b'\n');
    session.feed(&message);
    assert_eq!(
        session.take(),
        lines(&[ok("Call 1 received\nCall 1 ringing for operator A")])
    );
    assert!(!session.transport.disconnecting());
}

#[test]
fn an_unfinished_request_at_end_of_input_still_gets_its_error() {
    let mut rig = Rig::new(None, 10);
    let mut session = rig.connect();
    session.feed(b"{\"command\": \"call\", \"id\": ");
    assert_eq!(session.take(), "");
    assert_eq!(session.protocol.read_connection_lost(), AfterEof::Close);
    assert_eq!(session.take(), lines(&[INVALID]));
}

#[test]
fn past_max_clients_a_connection_is_refused_and_closed_until_one_leaves() {
    let mut rig = Rig::new(None, 2);
    let mut first = rig.connect();
    let second = rig.connect();
    let mut refused = rig.connect();
    assert_eq!(refused.take(), lines(&[server_full(2)]));
    assert!(refused.transport.disconnecting());
    // A refused connection runs no commands.
    refused.feed(format!("{}\n", request("call", "1")).as_bytes());
    assert_eq!(refused.take(), "");
    refused.lose();
    // The refusal took no place: still full.
    assert_eq!(rig.connect().take(), lines(&[server_full(2)]));
    first.lose();
    let mut third = rig.connect();
    assert_eq!(third.take(), "");
    third.feed(format!("{}\n", request("call", "1")).as_bytes());
    assert_eq!(
        third.take(),
        lines(&[ok("Call 1 received\nCall 1 ringing for operator A")])
    );
    assert!(!second.transport.disconnecting());
}
