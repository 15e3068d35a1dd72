//! Server mode: the queue manager, taking JSON commands over TCP (SPEC §6).
//!
//! One [`QueueService`] serves every connection, so commands apply in the
//! order they arrive, whoever sends them. Each command gets exactly one
//! reply, to its sender; what a ring timer causes goes to every client as an
//! event. Each connection's output is bounded (see [`BufferLimits`]): a
//! client that stops reading is first no longer read from, then dropped if
//! events keep piling up; nobody else waits for it.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;

use log::{debug, info};
use slab::Slab;

use crate::cli::ServerOptions;
use crate::command::UserError;
use crate::engine::Engine;
use crate::messages::Lang;
use crate::modes::service::QueueService;
use crate::reactor::{
    AfterEof, BufferLimits, ConnectionLost, Factory, Protocol, Reactor, Transport,
};
use crate::wire::{Frame, Framer, ReplyKind, decode_request, encode_reply};

/// Above this much unsent output, stop reading a client's commands.
pub const HIGH_WATER: usize = 256 * 1024;

/// Above this much unsent output, drop the client.
pub const OUTPUT_CAP: usize = 4 * 1024 * 1024;

/// State shared by every connection.
struct Shared {
    service: Rc<RefCell<QueueService>>,
    lang: Lang,
    /// Connected clients' transports, for events; a protocol keeps its key.
    clients: Slab<Transport>,
    max_clients: u32,
}

/// One client connection.
struct ServerProtocol {
    framer: Framer,
    connection: Connection,
}

/// The parts of a connection the framer's callback needs.
struct Connection {
    shared: Rc<RefCell<Shared>>,
    transport: Option<Transport>,
    /// This client's key in `Shared::clients`.
    key: Option<usize>,
    /// Reused for each command's messages.
    text: String,
    /// Reused for each reply.
    reply: Vec<u8>,
}

impl Connection {
    fn send(&mut self, kind: ReplyKind) {
        self.reply.clear();
        encode_reply(&mut self.reply, self.text.trim_end_matches('\n'), kind);
        if let Some(transport) = &self.transport {
            transport.write(&self.reply);
        }
    }

    /// Sends `error` as an error reply (`Error`, or `Closing` before a close).
    fn send_error(&mut self, error: &UserError, kind: ReplyKind) {
        let lang = self.shared.borrow().lang;
        self.text.clear();
        lang.write_error(error, &mut self.text);
        self.send(kind);
    }

    /// Handles one frame; returns whether to go on with the next.
    fn frame(&mut self, frame: Frame<'_>) -> bool {
        if self.transport.as_ref().is_none_or(Transport::disconnecting) {
            return false;
        }
        match frame {
            Frame::Message(message) => match decode_request(message) {
                Ok((verb, id)) => {
                    self.text.clear();
                    let service = self.shared.borrow().service.clone();
                    let result = service.borrow_mut().execute(verb, &id, &mut self.text);
                    match result {
                        Ok(()) => self.send(ReplyKind::Ok),
                        Err(error) => self.send_error(&error, ReplyKind::Error),
                    }
                }
                Err(error) => self.send_error(&error, ReplyKind::Error),
            },
            Frame::Malformed => self.send_error(&UserError::InvalidRequest, ReplyKind::Error),
            Frame::TooLong => {
                self.send_error(&UserError::MessageTooLong, ReplyKind::Closing);
                if let Some(transport) = &self.transport {
                    transport.lose_connection();
                }
                return false;
            }
        }
        true
    }
}

impl Protocol for ServerProtocol {
    fn connection_made(&mut self, transport: Transport) {
        transport.set_buffer_limits(BufferLimits {
            high_water: HIGH_WATER,
            hard_cap: OUTPUT_CAP,
        });
        let key = self
            .connection
            .shared
            .borrow_mut()
            .clients
            .insert(transport.clone());
        self.connection.key = Some(key);
        debug!("client {:?} connected", transport.peer_addr());
        self.connection.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        let connection = &mut self.connection;
        self.framer.feed(data, |frame| connection.frame(frame));
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        // A client that half-closes after an unfinished message still gets
        // its error reply before the connection closes.
        if let Some(frame) = self.framer.finish() {
            self.connection.frame(frame);
        }
        AfterEof::Close
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        if let Some(key) = self.connection.key.take() {
            self.connection.shared.borrow_mut().clients.try_remove(key);
        }
        debug!(
            "client {:?} gone: {reason}",
            self.connection
                .transport
                .as_ref()
                .and_then(Transport::peer_addr)
        );
    }
}

/// A connection over `--max-clients`: one error reply, then closed.
struct Refusal {
    reply: Vec<u8>,
}

impl Protocol for Refusal {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(&self.reply);
        transport.lose_connection();
    }

    fn data_received(&mut self, _data: &[u8]) {}
}

/// Builds a protocol per connection, or a refusal past the limit.
struct ServerFactory {
    shared: Rc<RefCell<Shared>>,
}

impl Factory for ServerFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        let shared = self.shared.borrow();
        if shared.clients.len() >= shared.max_clients as usize {
            info!("refusing {addr}: {} clients already", shared.clients.len());
            let mut text = String::new();
            shared
                .lang
                .write_error(&UserError::ServerFull(shared.max_clients), &mut text);
            let mut reply = Vec::new();
            encode_reply(&mut reply, &text, ReplyKind::Closing);
            return Some(Box::new(Refusal { reply }));
        }
        drop(shared);
        Some(Box::new(ServerProtocol {
            framer: Framer::new(),
            connection: Connection {
                shared: self.shared.clone(),
                transport: None,
                key: None,
                text: String::new(),
                reply: Vec::new(),
            },
        }))
    }
}

/// Resolves `--listen`/`--connect` (a host name is allowed: `server:5678`).
pub fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no address for {addr}")))
}

/// A server on `reactor`, listening as `options` say. Returns the bound address.
pub fn listen(reactor: &Reactor, options: &ServerOptions) -> io::Result<SocketAddr> {
    let engine = Engine::new(&options.queue.operators.0).map_err(io::Error::other)?;
    let service = QueueService::new(
        engine,
        options.queue.lang,
        options.queue.ring_timeout.0,
        reactor.clone(),
        Box::new(|_| {}),
    );
    let shared = Rc::new(RefCell::new(Shared {
        service: service.clone(),
        lang: options.queue.lang,
        clients: Slab::new(),
        max_clients: options.max_clients,
    }));
    // Events go to every client: encoded once, written to each.
    let clients = Rc::downgrade(&shared);
    let mut event = Vec::new();
    service.borrow_mut().set_event_sink(Box::new(move |text| {
        let Some(shared) = clients.upgrade() else {
            return;
        };
        event.clear();
        encode_reply(&mut event, text.trim_end_matches('\n'), ReplyKind::Event);
        // Writing only queues bytes (a client over its cap is aborted later,
        // from the loop), so the client table can stay borrowed meanwhile.
        for (_, transport) in &shared.borrow().clients {
            transport.write(&event);
        }
    }));
    let listener = reactor.listen_tcp(resolve(&options.listen)?, ServerFactory { shared })?;
    Ok(listener.local_addr())
}

/// Raises the soft limit on open files to the hard limit, so the server can
/// hold as many connections as the system allows a process (the soft limit
/// is often 1024). Returns the limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(options: &ServerOptions) -> io::Result<()> {
    if let Some(limit) = raise_open_file_limit() {
        info!("open file limit: {limit}");
    }
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let addr = listen(&reactor, options)?;
    // Scripts and tests read the port from this line: print it and flush
    // before serving anyone.
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "Listening on {addr}")?;
    stdout.flush()?;
    drop(stdout);
    info!("listening on {addr}");
    reactor.run()
}
