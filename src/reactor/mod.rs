//! A single-threaded reactor on `mio`, shaped like Twisted's.
//!
//! Mirrors `twisted.internet.reactor`: one loop owns every source of events
//! (descriptors to read and write, TCP listeners, signals) and every timer.
//! It knows readers and writers, and the descriptors epoll refuses, which
//! it polls continuously (see [`descriptor`]); what a descriptor is (a
//! socket, standard input) is for the modules built on it ([`tcp`],
//! [`stdio`]).
//! Each turn of [`Reactor::run`] does three things, as Twisted's
//! `mainLoop` does: run the timers that are due, compute how long to wait
//! (until the next timer), and poll; then it dispatches what the poll
//! reported to the protocols and flushes what they wrote.
//!
//! Protocols ([`Protocol`], [`Factory`]) know nothing of sockets: the reactor
//! calls them, and they answer through their [`Transport`]. The reactor is
//! a cheap, clonable handle (`Rc`), the way Twisted code reaches the global
//! `reactor`: protocols and timer callbacks keep a clone to schedule calls
//! or stop the loop.
//!
//! # Time in tests
//!
//! A reactor built on a [`ManualClock`] only moves when the test moves it,
//! as with Twisted's `task.Clock`:
//!
//! ```
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//! use callcenter::reactor::{ManualClock, Reactor};
//!
//! let clock = ManualClock::new();
//! let reactor = Reactor::with_clock(Rc::new(clock.clone())).unwrap();
//! let fired = Rc::new(Cell::new(false));
//! let flag = fired.clone();
//! let call = reactor.call_later(Duration::from_secs(10), move || flag.set(true));
//!
//! assert_eq!(clock.advance(Duration::from_secs(9)), 0);
//! assert!(!fired.get() && call.active());
//!
//! assert_eq!(clock.advance(Duration::from_secs(1)), 1);
//! assert!(fired.get() && !call.active());
//! ```
//!
//! # The pieces
//!
//! Each submodule mirrors a piece of Twisted and explains itself:
//! [`timer`] (`callLater`, `DelayedCall`), [`clock`] (`task.Clock`),
//! [`looping`] (`task.LoopingCall`), [`protocol`] (`Protocol`, `Factory`),
//! [`transport`] (`ITransport`, `StringTransport`, flow control),
//! [`framing`] (the `basic.py` receivers, as a pull-based `Decoder` and
//! one `Framed` adapter), [`line`](mod@line) (`basic.LineReceiver`, with an
//! example over [`Transport::memory`]), [`descriptor`] (what is read and
//! written, and the fallback for the files epoll refuses), [`tcp`]
//! (`listenTCP`, `connectTCP`) and [`stdio`] (`StandardIO`).
//!
//! Two guides live outside the code: `docs/twisted-to-rust.md` walks
//! through each Twisted idea next to its counterpart here, quoting the
//! code; `examples/` holds small programs on this reactor alone
//! (`cargo run --example timers`, `echo_server`, `stdin_lines`), each
//! starting with the Twisted program it mirrors.
//!
//! # Tokens
//!
//! Sources live in a slab. A source's `mio::Token` packs its slab key with
//! a generation number that changes every time a slot is reused, so an
//! event still queued for a closed source can never reach the new source in
//! its slot: it is logged and dropped.

pub mod clock;
pub mod descriptor;
pub mod framing;
pub mod line;
pub mod looping;
pub mod protocol;
pub mod recvline;
mod signals;
pub mod stdio;
pub mod tcp;
pub mod timer;
pub mod transport;
mod unhandled;

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use log::{debug, warn};
use mio::{Events, Poll, Registry, Token};
use slab::Slab;

pub use clock::{Clock, ManualClock, RealClock};
pub use descriptor::Channel;
pub use framing::{Decoder, FrameHandler, Framed, Next};
pub use line::{Line, LineDecoder, LineHandler, LineReceiver, Overflow};
pub use looping::LoopingCall;
pub use protocol::{AfterEof, ConnectionLost, Factory, Protocol};
pub use recvline::{Completer, EditorAction, LineEditor};
pub use stdio::{STDIO_LIMITS, standard_io, stdin_is_terminal};
pub use tcp::{ClientFactory, Listener};
pub use timer::{DelayedCall, TimerError};
pub use transport::{BufferLimits, Transport};

use descriptor::{Descriptor, Sub, Watch};
use tcp::{ConnectingState, ListenerState};
use transport::{Flushed, WorkLists};
use unhandled::{UnhandledErrors, guarded};

/// Size of the buffer each read fills.
const READ_CHUNK: usize = 64 * 1024;

// Tokens pack a 32-bit generation above a 30-bit key: 64-bit targets only.
const _: () = assert!(usize::BITS == 64, "tokens need a 64-bit usize");

fn make_token(key: usize, generation: u32, sub: Sub) -> Token {
    Token(((generation as usize) << 32) | (key << 2) | sub as usize)
}

fn split_token(token: Token) -> (usize, u32, Option<Sub>) {
    let sub = match token.0 & 3 {
        0 => Some(Sub::Main),
        1 => Some(Sub::Out),
        2 => Some(Sub::Err),
        _ => None,
    };
    ((token.0 & 0xffff_ffff) >> 2, (token.0 >> 32) as u32, sub)
}

/// Largest slab key that fits in a token.
const MAX_KEY: usize = (1 << 30) - 1;

/// A connection: its protocol and its transport.
pub(crate) struct Connection {
    pub(crate) protocol: Rc<RefCell<dyn Protocol>>,
    pub(crate) transport: Transport,
}

/// What a slab slot holds.
pub(crate) enum Source {
    Connection(Connection),
    Listener(ListenerState),
    Connecting(ConnectingState),
    /// Signals handed to a callback ([`Reactor::on_signals`]).
    Callback(signals::SignalSource),
}

/// A slab slot: the source and the generation its tokens carry.
pub(crate) struct Entry {
    generation: u32,
    pub(crate) source: Source,
}

/// The shared state behind every [`Reactor`] handle.
pub(crate) struct Inner {
    /// Borrowed mutably only while polling.
    poll: RefCell<Poll>,
    /// A clone of the poll's registry, usable while the poll is borrowed.
    pub(crate) registry: Registry,
    /// Reused between polls.
    events: RefCell<Events>,
    /// Every source, by slab key.
    pub(crate) sources: RefCell<Slab<Entry>>,
    /// Bumped on every insertion; see "Tokens".
    next_generation: Cell<u32>,
    /// Pending `call_later` calls.
    timers: Rc<timer::Timers>,
    /// Told of each panic caught at the loop's boundary.
    pub(crate) unhandled: UnhandledErrors,
    /// Cleared by `stop`.
    running: Cell<bool>,
    /// Transports to flush, and to read next turn; shared (weakly) with
    /// every transport, which adds itself.
    work: Rc<WorkLists>,
    /// `run_due_timers` for a clock that jumps (see `Clock::on_advance`),
    /// which holds it weakly.
    run_due: Rc<dyn Fn() -> usize>,
    /// The read buffer, lent to one read at a time.
    read_buffer: RefCell<Vec<u8>>,
    /// The events of one poll, copied out; reused every turn.
    ready: RefCell<Vec<(Token, bool, bool)>>,
}

/// The event loop. Mirrors `twisted.internet.reactor`.
///
/// A clonable handle: clones drive the same loop. Everything runs on the
/// thread that created it; there are no threads anywhere.
#[derive(Clone)]
pub struct Reactor {
    pub(crate) inner: Rc<Inner>,
}

impl Reactor {
    /// A reactor on the real clock. Twisted installs one global reactor on
    /// import; here a program builds its reactor and hands out clones.
    pub fn new() -> io::Result<Reactor> {
        Reactor::with_clock(Rc::new(RealClock::new()))
    }

    /// A reactor on the given clock: tests pass a [`ManualClock`], where
    /// Twisted tests pass a `task.Clock` in place of the reactor.
    pub fn with_clock(clock: Rc<dyn Clock>) -> io::Result<Reactor> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let inner = Rc::new_cyclic(|this: &std::rc::Weak<Inner>| {
            let this = this.clone();
            let run_due: Rc<dyn Fn() -> usize> = Rc::new(move || match this.upgrade() {
                Some(inner) => Reactor { inner }.run_due_timers(),
                None => 0,
            });
            Inner {
                poll: RefCell::new(poll),
                registry,
                events: RefCell::new(Events::with_capacity(1024)),
                sources: RefCell::new(Slab::new()),
                next_generation: Cell::new(0),
                timers: timer::Timers::new(clock),
                unhandled: UnhandledErrors::default(),
                running: Cell::new(false),
                work: Rc::new(WorkLists::default()),
                read_buffer: RefCell::new(vec![0; READ_CHUNK]),
                ready: RefCell::new(Vec::new()),
                run_due,
            }
        });
        inner.timers.clock.on_advance(Rc::downgrade(&inner.run_due));
        Ok(Reactor { inner })
    }

    /// The current time on the reactor's clock. Mirrors `reactor.seconds`.
    pub fn now(&self) -> Duration {
        self.inner.timers.clock.now()
    }

    /// Runs `callback` once, `delay` from now, on the loop.
    ///
    /// Mirrors `reactor.callLater`. Calls due at the same time run in the
    /// order they were scheduled. The returned handle cancels or moves it.
    pub fn call_later(&self, delay: Duration, callback: impl FnOnce() + 'static) -> DelayedCall {
        self.inner.timers.call_later(delay, Box::new(callback))
    }

    /// The number of pending delayed calls.
    /// Mirrors `len(reactor.getDelayedCalls())`.
    pub fn pending_calls(&self) -> usize {
        self.inner.timers.pending()
    }

    /// Runs the delayed calls that are due, then flushes what they wrote;
    /// returns how many ran. One round, as one turn of the loop runs them
    /// (Twisted's `runUntilCurrent`): calls scheduled meanwhile wait for the
    /// next round. [`ManualClock::advance`] calls it until nothing is due.
    pub fn run_due_timers(&self) -> usize {
        let ran = self.inner.timers.run_due(&self.inner.unhandled);
        self.flush_dirty();
        ran
    }

    /// Calls `observer(place, message)` after each panic the loop catches
    /// (in a protocol, a timed call or a signal handler) and logs as
    /// "Unhandled error in PLACE: MESSAGE", before it goes on.
    ///
    /// Mirrors `twisted.python.log.addObserver` seeing each "Unhandled
    /// Error". The process's panic hook has run by then; an observer puts
    /// back what it changed in its own world (the line editor takes its
    /// terminal back to raw mode and redraws). It runs right after the
    /// catch: a protocol that panicked is still borrowed and not yet
    /// dropped. A panic in an observer is logged and goes no further.
    pub fn on_unhandled_error(&self, observer: impl Fn(&str, &str) + 'static) {
        self.inner.unhandled.add(Rc::new(observer));
    }

    /// Runs the loop until [`stop`](Reactor::stop), then closes every
    /// connection (flushing what it can) and returns. Mirrors `reactor.run`.
    pub fn run(&self) -> io::Result<()> {
        self.inner.running.set(true);
        while self.inner.running.get() {
            self.iterate(None)?;
        }
        self.shutdown();
        Ok(())
    }

    /// Makes [`run`](Reactor::run) return after the current turn.
    /// Mirrors `reactor.stop`.
    pub fn stop(&self) {
        self.inner.running.set(false);
    }

    /// Whether the loop is running (between `run` and `stop`).
    /// Mirrors `reactor.running`.
    pub fn running(&self) -> bool {
        self.inner.running.get()
    }

    /// One turn of the loop: due timers, then a poll that waits at most until
    /// the next timer (and at most `max_wait`, if given), then dispatch and
    /// flush. Mirrors `reactor.iterate`. Outside [`run`](Reactor::run) and
    /// without a `max_wait`, it stops after the timers rather than wait for
    /// ever.
    pub fn iterate(&self, max_wait: Option<Duration>) -> io::Result<()> {
        self.run_due_timers();
        self.read_resumed();
        if !self.inner.running.get() && max_wait.is_none() {
            return Ok(());
        }
        let now = self.now();
        let until_timer = self
            .inner
            .timers
            .next_deadline()
            .map(|deadline| deadline.saturating_sub(now));
        let timeout = match (until_timer, max_wait) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // A source with more to read (see `read_connection`) is served next
        // turn: look for new events without waiting.
        let timeout = if self.inner.work.read_next.borrow().is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let mut events = self.inner.events.borrow_mut();
        match self.inner.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted the wait: an empty wake-up.
            Err(error) if error.kind() == io::ErrorKind::Interrupted => return Ok(()),
            Err(error) => return Err(error),
        }
        // Copy the events out (into a reused vector), so no borrow of the
        // poll's event list is held while protocols run.
        let mut ready = std::mem::take(&mut *self.inner.ready.borrow_mut());
        ready.extend(events.iter().map(|event| {
            (
                event.token(),
                event.is_readable() || event.is_read_closed() || event.is_error(),
                event.is_writable() || event.is_write_closed(),
            )
        }));
        drop(events);
        for &(token, readable, writable) in &ready {
            self.dispatch(token, readable, writable);
        }
        ready.clear();
        *self.inner.ready.borrow_mut() = ready;
        self.flush_dirty();
        Ok(())
    }

    /// Stops the loop on SIGINT or SIGTERM. Mirrors the signal handlers
    /// `reactor.run` installs: the signal is noted by a handler, then acted
    /// on from the loop, where it is safe to do anything.
    pub fn install_signal_handlers(&self) -> io::Result<()> {
        // A weak handle: the handler lives in the reactor's own table.
        let reactor = Rc::downgrade(&self.inner);
        self.on_signals(
            &[signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM],
            move |signal| {
                debug!("signal {signal}: stopping");
                if let Some(inner) = reactor.upgrade() {
                    Reactor { inner }.stop();
                }
            },
        )
    }

    /// Runs `handler` on the loop at each SIGHUP, instead of the default
    /// (the process ends). Servers reopen their logs with it; a shorthand
    /// for [`on_signals`](Reactor::on_signals) with SIGHUP alone.
    pub fn on_sighup(&self, mut handler: impl FnMut() + 'static) -> io::Result<()> {
        self.on_signals(&[signal_hook::consts::SIGHUP], move |_| handler())
    }

    /// The next slot's key and a fresh generation for it.
    fn vacant(&self, sources: &Slab<Entry>) -> io::Result<(usize, u32)> {
        let key = sources.vacant_key();
        if key > MAX_KEY {
            return Err(io::Error::other("too many sources"));
        }
        let generation = self.inner.next_generation.get();
        self.inner.next_generation.set(generation.wrapping_add(1));
        Ok((key, generation))
    }

    /// Adds a connection whose descriptor `open` builds (registering it
    /// under the tokens it is given), then calls `connection_made`.
    /// Mirrors `addReader` plus `addWriter` for one `FileDescriptor`.
    pub(crate) fn add_connection(
        &self,
        protocol: Rc<RefCell<dyn Protocol>>,
        open: impl FnOnce(
            &Registry,
            &dyn Fn(Sub) -> Token,
        ) -> io::Result<(Descriptor, Option<std::net::SocketAddr>)>,
    ) -> io::Result<Transport> {
        let mut sources = self.inner.sources.borrow_mut();
        let (key, generation) = self.vacant(&sources)?;
        let (descriptor, peer) = open(&self.inner.registry, &|sub| {
            make_token(key, generation, sub)
        })?;
        let continuous = descriptor.input_watch() == Watch::Continuous;
        let transport = Transport::new(descriptor, Rc::downgrade(&self.inner.work), peer);
        transport.state.borrow_mut().token = Some(make_token(key, generation, Sub::Main));
        sources.insert(Entry {
            generation,
            source: Source::Connection(Connection {
                protocol: protocol.clone(),
                transport: transport.clone(),
            }),
        });
        drop(sources);
        if continuous {
            // No event will ever come: read it on the next turn, and on
            // every turn after one that got bytes (see `read_connection`).
            self.inner.work.read_again(&transport);
        }
        protocol.borrow_mut().connection_made(transport.clone());
        Ok(transport)
    }

    /// The source a token names, if it is still the one the token was made for.
    fn lookup<T>(&self, token: Token, f: impl FnOnce(&mut Source, Sub) -> T) -> Option<T> {
        let (key, generation, sub) = split_token(token);
        let mut sources = self.inner.sources.borrow_mut();
        match (sources.get_mut(key), sub) {
            (Some(entry), Some(sub)) if entry.generation == generation => {
                Some(f(&mut entry.source, sub))
            }
            _ => None,
        }
    }

    fn dispatch(&self, token: Token, readable: bool, writable: bool) {
        enum Action {
            Connection(Rc<RefCell<dyn Protocol>>, Transport, Sub),
            Listener,
            Connecting,
            Callback(signals::SignalCallback, Vec<i32>),
        }
        let action = self.lookup(token, |source, sub| match source {
            Source::Connection(connection) => Action::Connection(
                connection.protocol.clone(),
                connection.transport.clone(),
                sub,
            ),
            Source::Listener(_) => Action::Listener,
            Source::Connecting(_) => Action::Connecting,
            Source::Callback(source) => {
                let (callback, signals) = source.take_pending();
                Action::Callback(callback, signals)
            }
        });
        match action {
            None => debug!("event for a source that is gone ({token:?}): ignored"),
            Some(Action::Connection(protocol, transport, sub)) => {
                if writable || sub != Sub::Main {
                    self.flush_transport(&transport);
                }
                if readable && sub == Sub::Main {
                    self.read_connection(&protocol, &transport);
                }
            }
            Some(Action::Listener) => self.accept_ready(token),
            Some(Action::Connecting) => self.connect_ready(token),
            Some(Action::Callback(callback, signals)) => self.deliver_signals(callback, signals),
        }
    }

    /// One bounded read (at most [`READ_CHUNK`] bytes), delivered at once.
    ///
    /// Mirrors Twisted's `doRead`: one read per readiness, then back to the
    /// loop, so a peer that floods us gets one chunk per turn like everyone
    /// else. Edge-triggered polling reports readiness once, and a short read
    /// does not prove the source drained (data and end of input may arrive
    /// together), so a read that got bytes puts the source on the `resumed`
    /// list: the next turn reads it again without a new event, until a read
    /// would block or reaches end of input. A descriptor epoll refuses
    /// never blocks, so it is read this way on every turn until its end:
    /// Twisted's `_ContinuousPolling`.
    fn read_connection(&self, protocol: &Rc<RefCell<dyn Protocol>>, transport: &Transport) {
        if !transport.state.borrow().wants_read() {
            return;
        }
        let mut buffer = std::mem::take(&mut *self.inner.read_buffer.borrow_mut());
        let result = loop {
            match transport.state.borrow_mut().read(&mut buffer) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match result {
            Ok(0) => self.end_of_input(protocol, transport),
            Ok(amount) => {
                self.inner.work.read_again(transport);
                if !deliver_data(protocol, &buffer[..amount], &self.inner.unhandled) {
                    self.abort_after_panic(transport);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => self.close(transport, ConnectionLost::Error(Rc::new(error))),
        }
        *self.inner.read_buffer.borrow_mut() = buffer;
    }

    fn end_of_input(&self, protocol: &Rc<RefCell<dyn Protocol>>, transport: &Transport) {
        transport.state.borrow_mut().read_closed = true;
        let after = match protocol.try_borrow_mut() {
            Ok(mut protocol) => protocol.read_connection_lost(),
            Err(_) => AfterEof::Close,
        };
        if after == AfterEof::Close {
            transport.lose_connection();
        }
    }

    /// The protocol of an open connection.
    fn protocol_of(&self, transport: &Transport) -> Option<Rc<RefCell<dyn Protocol>>> {
        let token = transport.state.borrow().token?;
        self.lookup(token, |source, _| match source {
            Source::Connection(connection) => Some(connection.protocol.clone()),
            _ => None,
        })
        .flatten()
    }

    /// Reads, once each, the transports queued by `read_again` since the
    /// last turn (resumed, not yet drained, or continuously polled).
    fn read_resumed(&self) {
        let resumed = std::mem::take(&mut *self.inner.work.read_next.borrow_mut());
        for transport in resumed {
            transport.state.borrow_mut().read_queued = false;
            let Some(protocol) = self.protocol_of(&transport) else {
                continue;
            };
            // Input held back while paused (frames a framing adapter kept)
            // goes first, as Twisted's `LineReceiver.resumeProducing` does.
            let after_pause = std::mem::take(&mut transport.state.borrow_mut().resumed_from_pause);
            if after_pause {
                match protocol.try_borrow_mut() {
                    Ok(mut protocol) => protocol.resume_producing(),
                    Err(_) => warn!("resuming a protocol that is busy: skipped"),
                }
            }
            self.read_connection(&protocol, &transport);
        }
        self.flush_dirty();
    }

    /// Flushes every transport that was written to, closing those that asked
    /// to close once drained. Repeats until no protocol writes any more
    /// (a `connection_lost` may write to other connections).
    pub(crate) fn flush_dirty(&self) {
        loop {
            let dirty = std::mem::take(&mut *self.inner.work.dirty.borrow_mut());
            if dirty.is_empty() {
                return;
            }
            for transport in dirty {
                transport.state.borrow_mut().flush_queued = false;
                self.flush_transport(&transport);
            }
        }
    }

    fn flush_transport(&self, transport: &Transport) {
        let (flushed, disconnecting, aborting, resume) = {
            let mut state = transport.state.borrow_mut();
            if state.closed {
                return;
            }
            let flushed = if state.aborting {
                Flushed::Drained
            } else {
                state.flush()
            };
            let resume = state.unthrottle();
            (flushed, state.disconnecting, state.aborting, resume)
        };
        if resume {
            self.inner.work.resume_reading(transport);
        }
        match flushed {
            Flushed::Failed(error) => self.close(transport, ConnectionLost::Error(Rc::new(error))),
            _ if aborting => self.close(transport, ConnectionLost::Aborted),
            Flushed::Drained if disconnecting => self.close(transport, ConnectionLost::Done),
            Flushed::Drained => {}
            Flushed::Blocked(channel) => self.wait_writable(transport, channel),
        }
    }

    /// The output would block: the next writable event flushes again. Only
    /// a descriptor epoll refused needs a timer for that.
    fn wait_writable(&self, transport: &Transport, channel: Channel) {
        let polled = transport.state.borrow().descriptor.output_polled(channel);
        if !polled {
            let (reactor, target) = (Rc::downgrade(&self.inner), transport.clone());
            self.call_later(Duration::from_millis(10), move || {
                if let Some(inner) = reactor.upgrade() {
                    Reactor { inner }.flush_transport(&target);
                }
            });
        }
    }

    /// Drops a connection whose protocol panicked: its state is unknown.
    fn abort_after_panic(&self, transport: &Transport) {
        transport.abort_connection();
        self.close(transport, ConnectionLost::Aborted);
    }

    /// Closes the connection of `transport` and tells its protocol why.
    pub(crate) fn close(&self, transport: &Transport, reason: ConnectionLost) {
        let protocol = {
            let mut state = transport.state.borrow_mut();
            if state.closed {
                return;
            }
            state.closed = true;
            state.output.clear();
            state.descriptor.release(&self.inner.registry);
            // Drop the socket now: the descriptor closes with it.
            state.descriptor = Descriptor::Memory;
            let token = state.token.take();
            drop(state);
            token.and_then(|token| self.remove(token))
        };
        if let Some(Source::Connection(connection)) = protocol {
            match connection.protocol.try_borrow_mut() {
                Ok(mut protocol) => {
                    guarded("connection_lost", &self.inner.unhandled, || {
                        protocol.connection_lost(reason)
                    });
                }
                Err(_) => warn!("connection lost while its protocol was busy: {reason}"),
            }
        }
    }

    /// Removes the source a token names (if it is still that source).
    pub(crate) fn remove(&self, token: Token) -> Option<Source> {
        let (key, generation, _) = split_token(token);
        let mut sources = self.inner.sources.borrow_mut();
        match sources.get(key) {
            Some(entry) if entry.generation == generation => Some(sources.remove(key).source),
            _ => None,
        }
    }

    /// After `run`: closes every connection, flushing raw descriptors (such
    /// as standard output) completely, within a deadline, and sockets as
    /// far as they take without blocking.
    fn shutdown(&self) {
        self.flush_dirty();
        let transports: Vec<Transport> = self
            .inner
            .sources
            .borrow()
            .iter()
            .filter_map(|(_, entry)| match &entry.source {
                Source::Connection(connection) => Some(connection.transport.clone()),
                _ => None,
            })
            .collect();
        // One deadline for all of it: at most FINAL_FLUSH_LIMIT in total.
        let deadline = descriptor::final_flush_deadline();
        let mut buffer = std::mem::take(&mut *self.inner.read_buffer.borrow_mut());
        for transport in transports {
            {
                let mut state = transport.state.borrow_mut();
                state.discard_unread_input(&mut buffer, 4 * READ_CHUNK);
                state.flush_before_exit(&self.inner.registry, deadline);
            }
            self.flush_transport(&transport);
            self.close(&transport, ConnectionLost::Shutdown);
        }
        *self.inner.read_buffer.borrow_mut() = buffer;
        // Take the listeners and signals out before dropping them, so no
        // borrow of the table is held while their destructors run.
        let rest = std::mem::take(&mut *self.inner.sources.borrow_mut());
        drop(rest);
        // Pending calls and reads never run after the loop ends; dropping
        // them frees what they hold (often a clone of this reactor).
        self.inner.timers.clear();
        self.inner.work.read_next.borrow_mut().clear();
    }
}

/// Calls `data_received`, unless the protocol is somehow already busy
/// (which would be a bug: log it rather than panic on input). Returns
/// false if the protocol panicked (see [`guarded`]).
fn deliver_data(
    protocol: &Rc<RefCell<dyn Protocol>>,
    data: &[u8],
    unhandled: &UnhandledErrors,
) -> bool {
    match protocol.try_borrow_mut() {
        Ok(mut protocol) => guarded("data_received", unhandled, || protocol.data_received(data)),
        Err(_) => {
            warn!("data for a protocol that is busy: dropped");
            true
        }
    }
}
