//! In-process helpers, for tests that run the reactor itself rather than
//! the binary (`tests/reactor_*.rs`): a log of what protocols saw, a
//! manual-clock reactor, a bounded `drive` loop and non-blocking test-side
//! sockets. The in-process half of Twisted's `internet/testing.py`.

use std::cell::RefCell;
use std::io::{self, Read};
use std::net::{SocketAddr, TcpStream};
use std::rc::Rc;
use std::time::{Duration, Instant};

use callcenter::reactor::{ConnectionLost, DelayedCall, ManualClock, Reactor};

pub type Log = Rc<RefCell<Vec<String>>>;

pub fn new_log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

pub fn logged(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// A reactor on a manual clock, and the clock.
pub fn manual_reactor() -> (Reactor, ManualClock) {
    let clock = ManualClock::new();
    let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
    (reactor, clock)
}

/// Schedules a call that appends `name` to `log`.
pub fn schedule(reactor: &Reactor, log: &Log, delay: Duration, name: &str) -> DelayedCall {
    let log = log.clone();
    let name = name.to_string();
    reactor.call_later(delay, move || log.borrow_mut().push(name))
}

/// A short name for a `ConnectionLost`, so logs compare as whole values.
pub fn reason_name(reason: &ConnectionLost) -> String {
    match reason {
        ConnectionLost::Done => "Done".to_string(),
        ConnectionLost::Aborted => "Aborted".to_string(),
        ConnectionLost::Error(error) => format!("Error({:?})", error.kind()),
        ConnectionLost::Shutdown => "Shutdown".to_string(),
    }
}

/// Turns the loop until `done` holds; fails after a few seconds.
pub fn drive(reactor: &Reactor, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        reactor.iterate(Some(ms(50))).expect("iterate");
    }
}

/// What a non-blocking read of a test-side socket found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadState {
    /// More may come.
    Open,
    /// The peer closed.
    Eof,
}

/// Reads what is available (at most `limit` bytes) into `into`.
pub fn read_some(stream: &mut TcpStream, into: &mut Vec<u8>, limit: usize) -> ReadState {
    let mut buffer = vec![0; 64 * 1024];
    let mut taken = 0;
    while taken < limit {
        let want = buffer.len().min(limit - taken);
        match stream.read(&mut buffer[..want]) {
            Ok(0) => return ReadState::Eof,
            Ok(n) => {
                into.extend_from_slice(&buffer[..n]);
                taken += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadState::Open,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => panic!("test socket read failed: {e}"),
        }
    }
    ReadState::Open
}

/// A non-blocking client socket connected to `addr`.
pub fn connect_client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_nonblocking(true).expect("non-blocking");
    stream
}

pub fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}
