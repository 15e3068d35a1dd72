//! TCP on a real reactor bound to `127.0.0.1:0`, driven by `iterate` in a
//! bounded loop: echo, close after the output drains, a refusing factory,
//! `connect_tcp` (success and refusal), `stop_listening`, pause/resume,
//! abort, half-close, a reset by the peer, and an 8 MiB write to a slow
//! reader that never blocks the loop; `run` returning after `stop` (from a
//! timer) and closing what is open. The read budget and the panic boundary
//! are in `reactor_fairness.rs`.
use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use callcenter::reactor::{
    AfterEof, ClientFactory, ConnectionLost, Factory, Protocol, Reactor, Transport,
};

mod support;
use support::in_process::*;

// ---------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------

/// Echoes everything; logs its life.
struct Echo {
    log: Log,
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.log.borrow_mut().push("made".into());
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.transport.as_ref().unwrap().write(data);
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct EchoFactory {
    log: Log,
    peers: Rc<RefCell<Vec<SocketAddr>>>,
}

impl Factory for EchoFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        self.peers.borrow_mut().push(addr);
        Some(Box::new(Echo {
            log: self.log.clone(),
            transport: None,
        }))
    }
}

fn echo_server(reactor: &Reactor) -> (SocketAddr, Log, Rc<RefCell<Vec<SocketAddr>>>) {
    let log = new_log();
    let peers = Rc::new(RefCell::new(Vec::new()));
    let listener = reactor
        .listen_tcp(
            localhost(),
            EchoFactory {
                log: log.clone(),
                peers: peers.clone(),
            },
        )
        .expect("listen");
    let addr = listener.local_addr();
    assert_eq!(addr.ip(), localhost().ip());
    assert_ne!(addr.port(), 0);
    (addr, log, peers)
}

#[test]
fn tcp_echo_of_data_sent_in_pieces_then_a_clean_close() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, peers) = echo_server(&reactor);
    let mut client = connect_client(addr);

    let pieces: [&[u8]; 5] = [b"hello ", b"wor", b"ld\n", &[0, 255, 10, 13], b"last piece"];
    let mut expected = Vec::new();
    let mut received = Vec::new();
    for piece in pieces {
        client.write_all(piece).unwrap();
        expected.extend_from_slice(piece);
        drive(&reactor, "the echo", || {
            read_some(&mut client, &mut received, usize::MAX);
            received.len() >= expected.len()
        });
    }
    assert_eq!(received, expected);
    assert_eq!(*peers.borrow(), vec![client.local_addr().unwrap()]);
    assert_eq!(logged(&log), strings(&["made"]));

    // End of input: the default `read_connection_lost` closes once drained.
    client.shutdown(Shutdown::Write).unwrap();
    let mut state = ReadState::Open;
    drive(&reactor, "the server's close", || {
        state = read_some(&mut client, &mut received, usize::MAX);
        state == ReadState::Eof
    });
    assert_eq!(received, expected);
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
}

#[test]
fn tcp_serves_several_clients_at_once() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut clients: Vec<TcpStream> = (0..5).map(|_| connect_client(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(format!("client {i}\n").as_bytes())
            .unwrap();
    }
    let mut received = vec![Vec::new(); clients.len()];
    drive(&reactor, "every echo", || {
        for (client, into) in clients.iter_mut().zip(received.iter_mut()) {
            read_some(client, into, usize::MAX);
        }
        received.iter().all(|r| r.ends_with(b"\n"))
    });
    let expected: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("client {i}\n").into_bytes())
        .collect();
    assert_eq!(received, expected);
    assert_eq!(logged(&log), strings(&["made"; 5]));
}

/// Writes `payload` on connection, then `lose_connection`; logs its life.
struct Sender {
    payload: Rc<Vec<u8>>,
    log: Log,
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Protocol for Sender {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(&self.payload);
        transport.lose_connection();
        // Writes after lose_connection are dropped.
        transport.write(b"dropped");
        *self.transport.borrow_mut() = Some(transport);
        self.log.borrow_mut().push("made".into());
    }

    fn data_received(&mut self, _data: &[u8]) {
        self.log.borrow_mut().push("data".into());
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct SenderFactory {
    payload: Rc<Vec<u8>>,
    log: Log,
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Factory for SenderFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Sender {
            payload: self.payload.clone(),
            log: self.log.clone(),
            transport: self.transport.clone(),
        }))
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn tcp_lose_connection_closes_after_the_output_drains() {
    let reactor = Reactor::new().unwrap();
    let payload = Rc::new(pattern(200_000));
    let log = new_log();
    let slot = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            SenderFactory {
                payload: payload.clone(),
                log: log.clone(),
                transport: slot.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    let mut received = Vec::new();
    drive(&reactor, "everything, then end of input", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert!(received == *payload, "received {} bytes", received.len());
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
    let transport = slot.borrow().clone().unwrap();
    assert!(transport.closed());
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn tcp_large_write_to_a_slow_reader_does_not_block_the_loop() {
    const SIZE: usize = 8 * 1024 * 1024;
    let reactor = Reactor::new().unwrap();
    let payload = Rc::new(pattern(SIZE));
    let log = new_log();
    let slot: Rc<RefCell<Option<Transport>>> = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            SenderFactory {
                payload: payload.clone(),
                log: log.clone(),
                transport: slot.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    drive(&reactor, "the connection", || slot.borrow().is_some());
    let transport = slot.borrow().clone().unwrap();

    // The reader has read nothing: most of the payload waits in the buffer,
    // yet the loop goes on turning and running timers.
    let buffered_at_first = transport.buffered();
    assert!(
        buffered_at_first > 0,
        "the kernel took all {SIZE} bytes at once"
    );
    let timer_saw: Rc<Cell<Option<usize>>> = Rc::new(Cell::new(None));
    let (seen, watched) = (timer_saw.clone(), transport.clone());
    reactor.call_later(Duration::ZERO, move || seen.set(Some(watched.buffered())));
    for _ in 0..3 {
        let started = Instant::now();
        reactor.iterate(Some(ms(10))).unwrap();
        assert!(started.elapsed() < secs(2), "iterate blocked");
    }
    assert!(matches!(timer_saw.get(), Some(n) if n > 0));
    assert!(!transport.closed());
    assert_eq!(logged(&log), strings(&["made"]));

    // Read slowly: at most 1 MiB per turn of the loop.
    let mut received = Vec::with_capacity(SIZE);
    let mut max_buffered = buffered_at_first;
    drive(&reactor, "the whole payload", || {
        max_buffered = max_buffered.max(transport.buffered());
        read_some(&mut client, &mut received, 1024 * 1024) == ReadState::Eof
    });
    assert_eq!(received.len(), SIZE);
    assert!(received == *payload, "the payload arrived corrupted");
    assert!(max_buffered > 0);
    assert_eq!(transport.buffered(), 0);
    assert!(transport.closed());
    assert_eq!(logged(&log), strings(&["made", "lost Done"]));
}

/// Refuses every connection.
struct Refuser {
    peers: Rc<RefCell<Vec<SocketAddr>>>,
}

impl Factory for Refuser {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        self.peers.borrow_mut().push(addr);
        None
    }
}

#[test]
fn tcp_a_factory_returning_none_closes_the_connection_at_once() {
    let reactor = Reactor::new().unwrap();
    let peers = Rc::new(RefCell::new(Vec::new()));
    let listener = reactor
        .listen_tcp(
            localhost(),
            Refuser {
                peers: peers.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    let mut received = Vec::new();
    drive(&reactor, "the refusal", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
    assert_eq!(*peers.borrow(), vec![client.local_addr().unwrap()]);
}

#[test]
fn tcp_stop_listening_refuses_new_connections() {
    let reactor = Reactor::new().unwrap();
    let log = new_log();
    let listener = reactor
        .listen_tcp(
            localhost(),
            EchoFactory {
                log: log.clone(),
                peers: Rc::default(),
            },
        )
        .unwrap();
    let addr = listener.local_addr();
    listener.stop_listening();
    listener.stop_listening(); // Idempotent.
    let refused = TcpStream::connect(addr).map(|_| ()).map_err(|e| e.kind());
    assert_eq!(refused, Err(io::ErrorKind::ConnectionRefused));
    reactor.iterate(Some(ms(10))).unwrap();
    assert_eq!(logged(&log), Vec::<String>::new());
}

/// A client protocol that logs its life and what it reads.
struct Client {
    log: Log,
}

impl Protocol for Client {
    fn connection_made(&mut self, transport: Transport) {
        self.log
            .borrow_mut()
            .push(format!("made {:?}", transport.peer_addr()));
    }

    fn data_received(&mut self, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {}", String::from_utf8_lossy(data)));
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

/// Logs what the reactor tells a client factory. The protocol logs to
/// `protocol_log` (which may be the same log).
struct Connector {
    log: Log,
    protocol_log: Log,
}

impl ClientFactory for Connector {
    fn build_protocol(&mut self, addr: SocketAddr) -> Box<dyn Protocol> {
        self.log.borrow_mut().push(format!("build {addr}"));
        Box::new(Client {
            log: self.protocol_log.clone(),
        })
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        self.log
            .borrow_mut()
            .push(format!("failed {:?}", error.kind()));
    }

    fn client_connection_lost(&mut self, reason: &ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("factory lost {}", reason_name(reason)));
    }
}

/// A listener on the test side, non-blocking.
fn test_listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind(localhost()).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Accepts the one connection the reactor makes to `listener`.
fn accept_one(reactor: &Reactor, listener: &TcpListener) -> TcpStream {
    let mut accepted = None;
    drive(reactor, "the connection to arrive", || {
        match listener.accept() {
            Ok((stream, _)) => accepted = Some(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        accepted.is_some()
    });
    let stream = accepted.unwrap();
    stream.set_nonblocking(true).unwrap();
    stream
}

#[test]
fn connect_tcp_builds_the_protocol_and_calls_connection_made() {
    let reactor = Reactor::new().unwrap();
    let (listener, addr) = test_listener();
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    let mut server_side = accept_one(&reactor, &listener);
    drive(&reactor, "connection_made", || {
        !protocol_log.borrow().is_empty()
    });
    assert_eq!(logged(&factory_log), vec![format!("build {addr}")]);
    assert_eq!(logged(&protocol_log), vec![format!("made Some({addr})")]);

    server_side.write_all(b"hi").unwrap();
    drive(&reactor, "the data", || protocol_log.borrow().len() == 2);
    server_side.shutdown(Shutdown::Write).unwrap();
    drive(&reactor, "connection_lost", || {
        protocol_log.borrow().len() == 3
    });
    assert_eq!(
        logged(&protocol_log),
        vec![
            format!("made Some({addr})"),
            "data hi".into(),
            "lost Done".into()
        ]
    );
    assert_eq!(
        logged(&factory_log),
        vec![format!("build {addr}"), "factory lost Done".into()]
    );
    let mut rest = Vec::new();
    drive(&reactor, "the client's close", || {
        read_some(&mut server_side, &mut rest, usize::MAX) == ReadState::Eof
    });
    assert_eq!(rest, b"");
}

#[test]
fn client_connection_lost_comes_after_the_protocols_connection_lost() {
    let reactor = Reactor::new().unwrap();
    let (listener, addr) = test_listener();
    let log = new_log();
    reactor.connect_tcp(
        addr,
        Connector {
            log: log.clone(),
            protocol_log: log.clone(),
        },
    );
    let server_side = accept_one(&reactor, &listener);
    drive(&reactor, "connection_made", || log.borrow().len() == 2);
    server_side.shutdown(Shutdown::Write).unwrap();
    drive(&reactor, "the close", || log.borrow().len() == 4);
    assert_eq!(
        logged(&log),
        vec![
            format!("build {addr}"),
            format!("made Some({addr})"),
            "lost Done".into(),
            "factory lost Done".into(),
        ]
    );
}

#[test]
fn connect_tcp_to_a_closed_port_calls_client_connection_failed() {
    let reactor = Reactor::new().unwrap();
    let addr = {
        let (listener, addr) = test_listener();
        drop(listener);
        addr
    };
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    // Reported from the loop, never from inside connect_tcp.
    assert_eq!(logged(&factory_log), Vec::<String>::new());
    drive(&reactor, "the failure", || !factory_log.borrow().is_empty());
    assert_eq!(logged(&factory_log), strings(&["failed ConnectionRefused"]));
    assert_eq!(logged(&protocol_log), Vec::<String>::new());
}

#[test]
fn connect_tcp_to_the_reactors_own_listener() {
    let reactor = Reactor::new().unwrap();
    let (addr, server_log, _peers) = echo_server(&reactor);
    let (factory_log, protocol_log) = (new_log(), new_log());
    reactor.connect_tcp(
        addr,
        Connector {
            log: factory_log.clone(),
            protocol_log: protocol_log.clone(),
        },
    );
    drive(&reactor, "both ends", || {
        protocol_log.borrow().len() == 1 && server_log.borrow().len() == 1
    });
    assert_eq!(logged(&factory_log), vec![format!("build {addr}")]);
    assert_eq!(logged(&protocol_log), vec![format!("made Some({addr})")]);
    assert_eq!(logged(&server_log), strings(&["made"]));
}

/// What the next protocols do, chosen per test.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Pauses reading on a chunk containing `pause`.
    PauseOnRequest,
    /// Writes, then aborts, on the first data.
    AbortOnData,
    /// On end of input, keeps writing: a timer writes `bye`, then closes.
    HalfClose,
}

/// A protocol whose behaviour is chosen by the test; logs everything.
struct Scripted {
    behaviour: Behaviour,
    reactor: Reactor,
    log: Log,
    slot: Rc<RefCell<Option<Transport>>>,
}

impl Scripted {
    fn transport(&self) -> Transport {
        self.slot.borrow().clone().unwrap()
    }
}

impl Protocol for Scripted {
    fn connection_made(&mut self, transport: Transport) {
        *self.slot.borrow_mut() = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.log
            .borrow_mut()
            .push(format!("data {}", String::from_utf8_lossy(data)));
        match self.behaviour {
            Behaviour::PauseOnRequest if data == b"pause" => self.transport().pause_producing(),
            Behaviour::AbortOnData => {
                let transport = self.transport();
                transport.write(b"never sent");
                transport.abort_connection();
            }
            _ => {}
        }
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.log.borrow_mut().push("eof".into());
        if self.behaviour != Behaviour::HalfClose {
            return AfterEof::Close;
        }
        let transport = self.transport();
        self.reactor.call_later(Duration::ZERO, move || {
            transport.write(b"bye");
            transport.lose_connection();
        });
        AfterEof::KeepWriting
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct ScriptedFactory {
    behaviour: Behaviour,
    reactor: Reactor,
    log: Log,
    slot: Rc<RefCell<Option<Transport>>>,
}

impl Factory for ScriptedFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Scripted {
            behaviour: self.behaviour,
            reactor: self.reactor.clone(),
            log: self.log.clone(),
            slot: self.slot.clone(),
        }))
    }
}

/// A listener whose protocols behave as `behaviour`; a connected client;
/// the protocols' log; the server side's transport, once accepted.
fn scripted_server(
    reactor: &Reactor,
    behaviour: Behaviour,
) -> (TcpStream, Log, Rc<RefCell<Option<Transport>>>) {
    let log = new_log();
    let slot = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            ScriptedFactory {
                behaviour,
                reactor: reactor.clone(),
                log: log.clone(),
                slot: slot.clone(),
            },
        )
        .unwrap();
    let client = connect_client(listener.local_addr());
    drive(reactor, "the connection", || slot.borrow().is_some());
    (client, log, slot)
}

#[test]
fn tcp_paused_reading_resumes_with_what_arrived_meanwhile() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, slot) = scripted_server(&reactor, Behaviour::PauseOnRequest);
    let transport = slot.borrow().clone().unwrap();
    client.write_all(b"pause").unwrap();
    drive(&reactor, "the pause", || transport.paused());
    // Data and end of input arrive while paused: neither is delivered.
    client.write_all(b"more").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    for _ in 0..5 {
        reactor.iterate(Some(ms(10))).unwrap();
    }
    assert_eq!(logged(&log), strings(&["data pause"]));
    assert!(!transport.closed());

    transport.resume_producing();
    assert!(!transport.paused());
    drive(&reactor, "the close", || transport.closed());
    assert_eq!(
        logged(&log),
        strings(&["data pause", "data more", "eof", "lost Done"])
    );
    let mut received = Vec::new();
    drive(&reactor, "end of input", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
}

#[test]
fn tcp_abort_connection_closes_at_once_and_drops_the_output() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, slot) = scripted_server(&reactor, Behaviour::AbortOnData);
    client.write_all(b"x").unwrap();
    let mut received = Vec::new();
    drive(&reactor, "the abort", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"");
    assert_eq!(logged(&log), strings(&["data x", "lost Aborted"]));
    let transport = slot.borrow().clone().unwrap();
    assert!(transport.closed());
    assert!(transport.disconnecting());
    assert_eq!(transport.buffered(), 0);
    transport.write(b"after close");
    assert_eq!(transport.buffered(), 0);
}

#[test]
fn tcp_half_close_keeps_writing_until_lose_connection() {
    let reactor = Reactor::new().unwrap();
    let (mut client, log, _slot) = scripted_server(&reactor, Behaviour::HalfClose);
    client.write_all(b"hello").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut received = Vec::new();
    drive(&reactor, "the goodbye", || {
        read_some(&mut client, &mut received, usize::MAX) == ReadState::Eof
    });
    assert_eq!(received, b"bye");
    assert_eq!(logged(&log), strings(&["data hello", "eof", "lost Done"]));
}

#[test]
fn tcp_a_reset_by_the_peer_is_an_error() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut client = connect_client(addr);
    client.write_all(b"ping").unwrap();
    let mut peeked = [0; 4];
    drive(&reactor, "the echo", || {
        matches!(client.peek(&mut peeked), Ok(4))
    });
    // Closing with unread input makes the kernel send a reset.
    drop(client);
    drive(&reactor, "connection_lost", || log.borrow().len() == 2);
    assert_eq!(
        logged(&log),
        strings(&["made", "lost Error(ConnectionReset)"])
    );
}

// ---------------------------------------------------------------------------
// run / stop
// ---------------------------------------------------------------------------

#[test]
fn stop_from_a_timer_makes_run_return() {
    let reactor = Reactor::new().unwrap();
    let log = new_log();
    assert!(!reactor.running());
    let (r, l) = (reactor.clone(), log.clone());
    reactor.call_later(Duration::ZERO, move || {
        l.borrow_mut().push(format!("running {}", r.running()))
    });
    let (r, l) = (reactor.clone(), log.clone());
    reactor.call_later(ms(10), move || {
        l.borrow_mut().push("stop".into());
        r.stop();
    });
    reactor.run().unwrap();
    assert!(!reactor.running());
    assert_eq!(logged(&log), strings(&["running true", "stop"]));
    assert_eq!(reactor.pending_calls(), 0);
}

#[test]
fn run_closes_open_connections_when_stopped() {
    let reactor = Reactor::new().unwrap();
    let (addr, log, _peers) = echo_server(&reactor);
    let mut client = connect_client(addr);
    let r = reactor.clone();
    reactor.call_later(ms(20), move || r.stop());
    reactor.run().unwrap();
    assert_eq!(logged(&log), strings(&["made", "lost Shutdown"]));
    // The reactor is gone: wait on the socket itself, with a bound.
    client.set_nonblocking(false).unwrap();
    client.set_read_timeout(Some(secs(5))).unwrap();
    let mut buffer = [0; 16];
    assert_eq!(client.read(&mut buffer).map_err(|e| e.kind()), Ok(0));
}

/// Holds its connection without reading it.
struct Holder {
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Protocol for Holder {
    fn connection_made(&mut self, transport: Transport) {
        transport.pause_producing();
        *self.transport.borrow_mut() = Some(transport);
    }

    fn data_received(&mut self, _data: &[u8]) {}
}

struct HolderFactory {
    transport: Rc<RefCell<Option<Transport>>>,
}

impl Factory for HolderFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Holder {
            transport: self.transport.clone(),
        }))
    }
}

#[test]
fn at_shutdown_a_connection_with_unread_input_ends_cleanly_not_by_reset() {
    let reactor = Reactor::new().unwrap();
    let slot = Rc::new(RefCell::new(None));
    let listener = reactor
        .listen_tcp(
            localhost(),
            HolderFactory {
                transport: slot.clone(),
            },
        )
        .unwrap();
    let mut client = connect_client(listener.local_addr());
    drive(&reactor, "the connection", || slot.borrow().is_some());
    // Sent, never read by the paused protocol, when the loop ends.
    client.write_all(b"never read\n").unwrap();
    let stopper = reactor.clone();
    reactor.call_later(Duration::ZERO, move || stopper.stop());
    reactor.run().unwrap();
    client.set_nonblocking(false).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(
        client.read(&mut byte).map_err(|error| error.kind()),
        Ok(0),
        "the peer sees an end, not a reset"
    );
}
