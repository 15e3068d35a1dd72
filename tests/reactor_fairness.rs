//! The reactor's fairness and its callback boundary, over real TCP on
//! `127.0.0.1:0`: two flooding peers take turns, one bounded read each per
//! turn (issue 10 item 1), and a panicking protocol or timer loses only
//! itself (Twisted's "Unhandled Error"; issue 10 item 5), and the
//! observers of unhandled errors hear of each panic as the loop goes on.
use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use callcenter::reactor::{ConnectionLost, Factory, Protocol, Reactor, Transport};

mod support;
use support::in_process::*;

// ---------------------------------------------------------------------------
// Read budget (fairness)
// ---------------------------------------------------------------------------

/// Logs `(connection number, bytes)` for every chunk it is given.
struct Recorder {
    id: usize,
    log: Rc<RefCell<Vec<(usize, usize)>>>,
}

impl Protocol for Recorder {
    fn data_received(&mut self, data: &[u8]) {
        self.log.borrow_mut().push((self.id, data.len()));
    }
}

struct RecorderFactory {
    /// Connections accepted so far; the last one's number.
    next: Rc<Cell<usize>>,
    log: Rc<RefCell<Vec<(usize, usize)>>>,
}

impl Factory for RecorderFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        self.next.set(self.next.get() + 1);
        Some(Box::new(Recorder {
            id: self.next.get(),
            log: self.log.clone(),
        }))
    }
}

/// Writes what the socket takes without blocking; returns how much.
fn fill(stream: &mut TcpStream, total: usize) -> usize {
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        match stream.write(&chunk[..chunk.len().min(total - sent)]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    sent
}

#[test]
fn two_flooding_peers_take_turns_one_read_each() {
    let reactor = Reactor::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let accepted = Rc::new(Cell::new(0));
    let listener = reactor
        .listen_tcp(
            localhost(),
            RecorderFactory {
                next: accepted.clone(),
                log: log.clone(),
            },
        )
        .unwrap();
    let mut peers = [
        connect_client(listener.local_addr()),
        connect_client(listener.local_addr()),
    ];
    drive(&reactor, "both connections", || accepted.get() == 2);
    // Both peers' bytes are queued in the kernel before the loop turns. A
    // loop that read a source until it would block would hand whichever
    // peer it serves first all of its bytes before the other gets any.
    let flooded = peers.each_mut().map(|peer| fill(peer, 4 * 64 * 1024));
    assert!(
        flooded.iter().all(|&n| n > 2 * 64 * 1024),
        "only {flooded:?} bytes queued"
    );
    let mut turns = 0;
    let second = loop {
        let ids: Vec<usize> = log.borrow().iter().map(|&(id, _)| id).collect();
        if let Some(second) = ids.iter().position(|&id| id != ids[0]) {
            break second;
        }
        assert!(turns < 100, "one peer was never read: {:?}", log.borrow());
        reactor.iterate(Some(ms(50))).unwrap();
        turns += 1;
    };
    let log = log.borrow().clone();
    let first_id = log[0].0;
    let before: usize = log[..second].iter().map(|&(_, n)| n).sum();
    // At most one chunk per turn for the first peer, however many wait.
    assert!(
        before <= turns * 64 * 1024 && before < flooded[first_id - 1],
        "peer {first_id} got {before} of {flooded:?} bytes in {turns} turn(s) before the other's first: {log:?}"
    );
}

// ---------------------------------------------------------------------------
// Panic boundary
// ---------------------------------------------------------------------------

/// Panics on `boom`; echoes anything else.
struct Fragile {
    transport: Option<Transport>,
    log: Log,
}

impl Protocol for Fragile {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        assert!(data != b"boom", "test-only panic in data_received");
        self.transport.as_ref().unwrap().write(data);
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.log
            .borrow_mut()
            .push(format!("lost {}", reason_name(&reason)));
    }
}

struct FragileFactory(Log);

impl Factory for FragileFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Fragile {
            transport: None,
            log: self.0.clone(),
        }))
    }
}

#[test]
fn a_panicking_protocol_loses_only_its_connection_and_a_panicking_timer_only_itself() {
    let reactor = Reactor::new().unwrap();
    let log = new_log();
    let listener = reactor
        .listen_tcp(localhost(), FragileFactory(log.clone()))
        .unwrap();
    let mut victim = connect_client(listener.local_addr());
    let mut survivor = connect_client(listener.local_addr());
    victim.write_all(b"boom").unwrap();
    let mut gone = Vec::new();
    drive(&reactor, "the panicking connection to close", || {
        read_some(&mut victim, &mut gone, usize::MAX) == ReadState::Eof
    });
    assert_eq!(logged(&log), strings(&["lost Aborted"]));

    let fired = Rc::new(Cell::new(false));
    reactor.call_later(Duration::ZERO, || panic!("test-only panic in a timer"));
    let flag = fired.clone();
    reactor.call_later(Duration::ZERO, move || flag.set(true));
    survivor.write_all(b"still here").unwrap();
    let mut echoed = Vec::new();
    drive(&reactor, "the other connection's echo", || {
        read_some(&mut survivor, &mut echoed, usize::MAX);
        echoed == b"still here"
    });
    assert!(fired.get(), "the timer after the panicking one did not run");
    assert_eq!(logged(&log), strings(&["lost Aborted"]));
}

#[test]
fn observers_of_unhandled_errors_hear_of_each_caught_panic_and_the_loop_goes_on() {
    let reactor = Reactor::new().unwrap();
    let heard = new_log();
    let ears = heard.clone();
    reactor.on_unhandled_error(move |place, message| {
        ears.borrow_mut().push(format!("{place}: {message}"));
    });
    // A failing observer is logged, and the next one is still told.
    reactor.on_unhandled_error(|_, _| panic!("test-only panic in an observer"));
    let also = new_log();
    let second = also.clone();
    reactor.on_unhandled_error(move |place, _| second.borrow_mut().push(place.to_string()));

    let lost = new_log();
    let listener = reactor
        .listen_tcp(localhost(), FragileFactory(lost.clone()))
        .unwrap();
    let mut victim = connect_client(listener.local_addr());
    victim.write_all(b"boom").unwrap();
    let mut gone = Vec::new();
    drive(&reactor, "the panicking connection to close", || {
        read_some(&mut victim, &mut gone, usize::MAX) == ReadState::Eof
    });
    assert_eq!(logged(&lost), strings(&["lost Aborted"]));
    assert_eq!(
        logged(&heard),
        strings(&["data_received: test-only panic in data_received"])
    );

    reactor.call_later(Duration::ZERO, || panic!("test-only panic in a timer"));
    let fired = Rc::new(Cell::new(false));
    let flag = fired.clone();
    reactor.call_later(Duration::ZERO, move || flag.set(true));
    assert_eq!(reactor.run_due_timers(), 2);
    assert!(fired.get(), "the timer after the panicking one did not run");
    assert_eq!(
        logged(&heard),
        strings(&[
            "data_received: test-only panic in data_received",
            "a timed call: test-only panic in a timer",
        ])
    );
    assert_eq!(logged(&also), strings(&["data_received", "a timed call"]));
}
