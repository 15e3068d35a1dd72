//! TCP: listening, accepting and connecting.
//!
//! Mirrors `reactor.listenTCP` and `reactor.connectTCP`. Accepting drains
//! the backlog until it would block (epoll is edge-triggered). When the
//! process runs out of descriptors (EMFILE, ENFILE) accepting pauses on a
//! timer with a growing delay instead of retrying at once, which would spin:
//! the refused connection stays in the backlog and keeps the socket ready.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::time::Duration;

use log::{debug, warn};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use rustix::io::Errno;

use super::descriptor::{Descriptor, Sub};
use super::protocol::{AfterEof, ConnectionLost, Factory, Protocol};
use super::timer::DelayedCall;
use super::transport::Transport;
use super::{Entry, Inner, Reactor, Source, make_token};

/// Connections the kernel may queue before we accept them. Mirrors the
/// `backlog` argument of `listenTCP`; mio's default (128) would make a
/// burst of clients wait a second for a SYN retry.
const LISTEN_BACKLOG: i32 = 1024;

/// First pause after running out of descriptors; doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Makes the protocol of an outgoing connection and hears how it ends.
///
/// Mirrors `twisted.internet.protocol.ClientFactory`.
pub trait ClientFactory {
    /// Mirrors `ClientFactory.buildProtocol`: the protocol for the connection
    /// to `addr`, once it is established.
    fn build_protocol(&mut self, addr: SocketAddr) -> Box<dyn Protocol>;

    /// Mirrors `ClientFactory.clientConnectionFailed`: the connection could
    /// not be made (refused, unreachable, ...).
    fn client_connection_failed(&mut self, error: io::Error);

    /// Mirrors `ClientFactory.clientConnectionLost`: an established
    /// connection ended (after the protocol's `connection_lost`).
    fn client_connection_lost(&mut self, reason: &ConnectionLost) {
        let _ = reason;
    }
}

/// A listening socket in the slab.
pub(crate) struct ListenerState {
    listener: TcpListener,
    factory: Rc<RefCell<dyn Factory>>,
    /// Pending retry after running out of descriptors; events are ignored meanwhile.
    backoff: Option<DelayedCall>,
    /// The delay of the next backoff.
    next_backoff: Duration,
}

/// A connection being established, in the slab.
pub(crate) struct ConnectingState {
    stream: TcpStream,
    addr: SocketAddr,
    factory: Rc<RefCell<dyn ClientFactory>>,
}

/// A listening port. Mirrors `twisted.internet.interfaces.IListeningPort`.
#[derive(Clone)]
pub struct Listener {
    reactor: Weak<Inner>,
    token: Token,
    addr: SocketAddr,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Listener {
    /// The bound address, port included (useful after binding port 0).
    /// Mirrors `IListeningPort.getHost`.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listening socket; open connections are not affected.
    /// Mirrors `IListeningPort.stopListening`.
    pub fn stop_listening(&self) {
        let Some(inner) = self.reactor.upgrade() else {
            return;
        };
        let reactor = Reactor { inner };
        if let Some(Source::Listener(mut state)) = reactor.remove(self.token) {
            let _ = reactor.inner.registry.deregister(&mut state.listener);
            if let Some(backoff) = state.backoff.take() {
                let _ = backoff.cancel();
            }
        }
    }
}

/// Wraps a client's protocol to tell its factory when the connection ends.
struct ClientProtocol {
    protocol: Box<dyn Protocol>,
    factory: Rc<RefCell<dyn ClientFactory>>,
}

impl Protocol for ClientProtocol {
    fn connection_made(&mut self, transport: Transport) {
        self.protocol.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        self.protocol.data_received(data);
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.protocol.read_connection_lost()
    }

    fn resume_producing(&mut self) {
        self.protocol.resume_producing();
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        // As in Twisted: the protocol hears first, then its factory.
        self.protocol.connection_lost(reason.clone());
        self.factory.borrow_mut().client_connection_lost(&reason);
    }
}

impl Reactor {
    /// Listens on `addr` and gives each accepted connection a protocol from
    /// `factory`. Mirrors `reactor.listenTCP`. Port 0 picks a free port:
    /// read it back with [`Listener::local_addr`].
    pub fn listen_tcp<F: Factory + 'static>(
        &self,
        addr: SocketAddr,
        factory: F,
    ) -> io::Result<Listener> {
        let mut listener = TcpListener::bind(addr)?;
        // Listening again on a listening socket only changes its backlog.
        rustix::net::listen(&listener, LISTEN_BACKLOG)?;
        let local = listener.local_addr()?;
        let mut sources = self.inner.sources.borrow_mut();
        let (key, generation) = self.vacant(&sources)?;
        let token = make_token(key, generation, Sub::Main);
        self.inner
            .registry
            .register(&mut listener, token, Interest::READABLE)?;
        sources.insert(Entry {
            generation,
            source: Source::Listener(ListenerState {
                listener,
                factory: Rc::new(RefCell::new(factory)),
                backoff: None,
                next_backoff: FIRST_BACKOFF,
            }),
        });
        Ok(Listener {
            reactor: Rc::downgrade(&self.inner),
            token,
            addr: local,
        })
    }

    /// Accepts every pending connection.
    pub(crate) fn accept_ready(&self, token: Token) {
        loop {
            enum Step {
                Accepted(TcpStream, SocketAddr, Rc<RefCell<dyn Factory>>),
                Stop,
                OutOfDescriptors(io::Error),
            }
            let step = self.lookup(token, |source, _| {
                let Source::Listener(state) = source else {
                    return Step::Stop;
                };
                if state.backoff.is_some() {
                    return Step::Stop;
                }
                loop {
                    match state.listener.accept() {
                        Ok((stream, addr)) => {
                            state.next_backoff = FIRST_BACKOFF;
                            return Step::Accepted(stream, addr, state.factory.clone());
                        }
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                            return Step::Stop;
                        }
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        // The peer gave up before we accepted: try the next one.
                        Err(error)
                            if error.raw_os_error() == Some(Errno::CONNABORTED.raw_os_error()) => {}
                        Err(error) if out_of_descriptors(&error) => {
                            return Step::OutOfDescriptors(error);
                        }
                        Err(error) => {
                            warn!("accept failed: {error}");
                            return Step::Stop;
                        }
                    }
                }
            });
            match step {
                None | Some(Step::Stop) => return,
                Some(Step::OutOfDescriptors(error)) => {
                    self.back_off_accepting(token, error);
                    return;
                }
                Some(Step::Accepted(stream, addr, factory)) => {
                    self.start_accepted(stream, addr, &factory);
                }
            }
        }
    }

    /// Registers a connected socket and starts `protocol` on it.
    fn add_tcp_connection(
        &self,
        mut stream: TcpStream,
        addr: SocketAddr,
        protocol: Rc<RefCell<dyn Protocol>>,
    ) -> io::Result<Transport> {
        // Replies are small and latency matters: do not wait to coalesce them.
        let _ = stream.set_nodelay(true);
        self.add_connection(protocol, |registry, token| {
            registry.register(
                &mut stream,
                token(Sub::Main),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok((Descriptor::Tcp(stream), Some(addr)))
        })
    }

    fn start_accepted(
        &self,
        stream: TcpStream,
        addr: SocketAddr,
        factory: &Rc<RefCell<dyn Factory>>,
    ) {
        let protocol = factory.borrow_mut().build_protocol(addr);
        let Some(protocol) = protocol else {
            debug!("connection from {addr} refused by the factory");
            return;
        };
        let protocol: Rc<RefCell<dyn Protocol>> = Rc::new(RefCell::new(protocol));
        if let Err(error) = self.add_tcp_connection(stream, addr, protocol) {
            warn!("could not add the connection from {addr}: {error}");
        }
    }

    fn back_off_accepting(&self, token: Token, error: io::Error) {
        let reactor = Rc::downgrade(&self.inner);
        self.lookup(token, |source, _| {
            if let Source::Listener(state) = source {
                let delay = state.next_backoff;
                warn!("accept failed ({error}); retrying in {delay:?}");
                state.next_backoff = (delay * 2).min(MAX_BACKOFF);
                state.backoff = Some(self.call_later(delay, move || {
                    let Some(inner) = reactor.upgrade() else {
                        return;
                    };
                    let reactor = Reactor { inner };
                    reactor.lookup(token, |source, _| {
                        if let Source::Listener(state) = source {
                            state.backoff = None;
                        }
                    });
                    reactor.accept_ready(token);
                }));
            }
        });
    }

    /// Connects to `addr` without blocking; `factory` builds the protocol once
    /// connected, or hears why it failed. Mirrors `reactor.connectTCP`.
    pub fn connect_tcp<F: ClientFactory + 'static>(&self, addr: SocketAddr, factory: F) {
        let factory: Rc<RefCell<dyn ClientFactory>> = Rc::new(RefCell::new(factory));
        let started = TcpStream::connect(addr).and_then(|mut stream| {
            let mut sources = self.inner.sources.borrow_mut();
            let (key, generation) = self.vacant(&sources)?;
            self.inner.registry.register(
                &mut stream,
                make_token(key, generation, Sub::Main),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            sources.insert(Entry {
                generation,
                source: Source::Connecting(ConnectingState {
                    stream,
                    addr,
                    factory: factory.clone(),
                }),
            });
            Ok(())
        });
        if let Err(error) = started {
            // Report it from the loop, as a failure found later would be.
            self.call_later(Duration::ZERO, move || {
                factory.borrow_mut().client_connection_failed(error);
            });
        }
    }

    /// A connecting socket became ready: connected, or failed.
    pub(crate) fn connect_ready(&self, token: Token) {
        let outcome = self.lookup(token, |source, _| {
            let Source::Connecting(state) = source else {
                return None;
            };
            // The way to learn a non-blocking connect's result: a pending
            // socket error means failure; otherwise, having a peer means success.
            match state.stream.take_error() {
                Ok(Some(error)) | Err(error) => Some(Err(error)),
                Ok(None) => match state.stream.peer_addr() {
                    Ok(_) => Some(Ok(())),
                    Err(error) if error.kind() == io::ErrorKind::NotConnected => None,
                    Err(error) => Some(Err(error)),
                },
            }
        });
        let Some(Some(result)) = outcome else {
            return;
        };
        let Some(Source::Connecting(state)) = self.remove(token) else {
            return;
        };
        let ConnectingState {
            mut stream,
            addr,
            factory,
        } = state;
        let _ = self.inner.registry.deregister(&mut stream);
        if let Err(error) = result {
            factory.borrow_mut().client_connection_failed(error);
            return;
        }
        let protocol = factory.borrow_mut().build_protocol(addr);
        let protocol: Rc<RefCell<dyn Protocol>> = Rc::new(RefCell::new(ClientProtocol {
            protocol,
            factory: factory.clone(),
        }));
        if let Err(error) = self.add_tcp_connection(stream, addr, protocol) {
            factory.borrow_mut().client_connection_failed(error);
        }
    }
}

/// Whether accepting failed for want of descriptors or memory: retrying at
/// once would spin, so accepting backs off.
fn out_of_descriptors(error: &io::Error) -> bool {
    [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM]
        .iter()
        .any(|errno| error.raw_os_error() == Some(errno.raw_os_error()))
}
