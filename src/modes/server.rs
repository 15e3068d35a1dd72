//! Server mode: the queue manager, taking JSON commands over TCP (SPEC §6).
//!
//! One [`QueueService`] serves every connection, so commands apply in the
//! order they arrive, whoever sends them. Each command gets exactly one
//! reply, to its sender; what a ring timer causes goes to every client as an
//! event. Each connection's output is bounded (see [`BufferLimits`]): a
//! client that stops reading is first no longer read from, then dropped if
//! events keep piling up; nobody else waits for it.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use log::{debug, info};

use crate::cli::ServerOptions;
use crate::error::{RunError, ServerError};
use crate::messages::{Lang, Localized};
use crate::queue_service::{HIGH_WATER, OUTPUT_CAP, QueueService, Report, Subscription};
use crate::reactor::{
    BufferLimits, ConnectionLost, Factory, FrameHandler, Framed, Next, Protocol, Reactor, Transport,
};
use crate::sys::address;
use crate::web::site::{Connections, Site, listen_http};
use crate::wire::{
    Frame, JsonDecoder, ReplyKind, WireError, asks_to_subscribe, decode_request, encode_reply,
    encode_report_reply,
};

/// State shared by every connection.
struct Shared {
    service: QueueService,
    lang: Lang,
    /// Open connections, TCP and HTTP, counted against `max_clients`.
    clients: Connections,
    max_clients: u32,
}

/// One client's requests and replies: the handler of a [`Framed`]
/// protocol over a [`JsonDecoder`], as a Twisted protocol subclassing one
/// of the `basic.py` receivers would be.
struct ClientSession {
    shared: Rc<RefCell<Shared>>,
    transport: Option<Transport>,
    /// Counted in `Shared::clients` (until lost).
    counted: bool,
    /// Ring-timeout events for this client, while it is connected.
    events: Option<Subscription>,
    /// Reused for each command's messages.
    text: String,
    /// Reused for each reply.
    reply: Vec<u8>,
}

impl ClientSession {
    fn send(&mut self, kind: ReplyKind) {
        self.reply.clear();
        encode_reply(&mut self.reply, self.text.trim_end_matches('\n'), kind);
        if let Some(transport) = &self.transport {
            transport.write(&self.reply);
        }
    }

    /// Sends the reply to `status` or `stats`: the text and its JSON.
    fn send_report(&mut self, report: &Report) {
        self.reply.clear();
        encode_report_reply(&mut self.reply, self.text.trim_end_matches('\n'), report);
        if let Some(transport) = &self.transport {
            transport.write(&self.reply);
        }
    }

    /// Sends `error` as an error reply (`Error`, or `Closing` before a close).
    fn send_error(&mut self, error: &dyn Localized, kind: ReplyKind) {
        let lang = self.shared.borrow().lang;
        self.text.clear();
        error.write_in(lang, &mut self.text);
        self.send(kind);
    }
}

impl FrameHandler<JsonDecoder> for ClientSession {
    fn connection_made(&mut self, transport: Transport) {
        transport.set_buffer_limits(BufferLimits {
            high_water: HIGH_WATER,
            hard_cap: OUTPUT_CAP,
        });
        let service = {
            let shared = self.shared.borrow();
            shared.clients.opened();
            self.counted = true;
            shared.service.clone()
        };
        // Events go to every client, each in its own reply.
        let events = transport.clone();
        let mut event = Vec::new();
        self.events = Some(service.subscribe(Box::new(move |text| {
            event.clear();
            encode_reply(&mut event, text.trim_end_matches('\n'), ReplyKind::Event);
            // Writing only queues bytes (a client over its cap is aborted
            // later, from the loop).
            events.write(&event);
        })));
        debug!("client {:?} connected", transport.peer_addr());
        self.transport = Some(transport);
    }

    fn frame_received(&mut self, frame: Frame<'_>) -> Next {
        let service = self.shared.borrow().service.clone();
        match frame {
            Frame::Message(message) => match decode_request(message) {
                Ok(request) => {
                    self.text.clear();
                    let result = service.run_from(self.events.as_ref(), &request, &mut self.text);
                    match result {
                        Ok(None) => self.send(ReplyKind::Ok),
                        Ok(Some(report)) => self.send_report(&report),
                        Err(error) => self.send_error(&error, ReplyKind::Error),
                    }
                }
                Err(error) if asks_to_subscribe(&error) => {
                    // The monitor (SPEC §10.2): every event from now on.
                    if let Some(events) = &self.events {
                        events.follow_all();
                    }
                    service.count_command(true);
                    self.text.clear();
                    service.lang().write_monitoring(&mut self.text);
                    self.send(ReplyKind::Ok);
                }
                Err(error) => {
                    service.count_command(false);
                    self.send_error(&error, ReplyKind::Error)
                }
            },
            // A client that half-closes after an unfinished message still
            // gets its error reply before the connection closes.
            Frame::Malformed | Frame::Unfinished => {
                service.count_command(false);
                self.send_error(&WireError::InvalidRequest, ReplyKind::Error)
            }
            Frame::TooLong => {
                service.count_command(false);
                self.send_error(&WireError::MessageTooLong, ReplyKind::Closing);
                return Next::Disconnect;
            }
        }
        Next::Continue
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.events = None;
        if std::mem::take(&mut self.counted) {
            self.shared.borrow().clients.closed();
        }
        debug!(
            "client {:?} gone: {reason}",
            self.transport.as_ref().and_then(Transport::peer_addr)
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

/// Builds the server's protocol for each connection, or a refusal past
/// `--max-clients`: Twisted's `protocol.Factory` for the queue.
///
/// [`listen`] gives it to the reactor; tests build it themselves to run its
/// protocols over [`Transport::memory()`] (Twisted's `StringTransport`
/// idiom), calling [`Factory::build_protocol`] as the reactor does on accept.
pub struct ServerFactory {
    shared: Rc<RefCell<Shared>>,
}

impl ServerFactory {
    /// A factory whose connections all share `service` (replies in its
    /// language), accepting at most `max_clients` at once.
    pub fn new(service: QueueService, max_clients: u32) -> ServerFactory {
        ServerFactory::sharing(service, max_clients, Connections::new())
    }

    /// As [`new`](ServerFactory::new), counting `max_clients` over
    /// `connections`, which the HTTP side shares.
    pub fn sharing(
        service: QueueService,
        max_clients: u32,
        connections: Connections,
    ) -> ServerFactory {
        let lang = service.lang();
        ServerFactory {
            shared: Rc::new(RefCell::new(Shared {
                service,
                lang,
                clients: connections,
                max_clients,
            })),
        }
    }
}

impl Factory for ServerFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        let shared = self.shared.borrow();
        if shared.clients.len() >= shared.max_clients as usize {
            info!("refusing {addr}: {} clients already", shared.clients.len());
            let mut text = String::new();
            shared
                .lang
                .write_error(&ServerError::Full(shared.max_clients), &mut text);
            let mut reply = Vec::new();
            encode_reply(&mut reply, &text, ReplyKind::Closing);
            return Some(Box::new(Refusal { reply }));
        }
        drop(shared);
        let session = ClientSession {
            shared: self.shared.clone(),
            transport: None,
            counted: false,
            events: None,
            text: String::new(),
            reply: Vec::new(),
        };
        Some(Box::new(Framed::with_decoder(JsonDecoder::new(), session)))
    }
}

/// What [`start`] bound, and the queue it serves.
pub struct Bound {
    /// The TCP protocol's address.
    pub addr: SocketAddr,
    /// The HTTP side's address, with `--http`.
    pub http: Option<SocketAddr>,
    /// The queue (its queue log is reopened on SIGHUP).
    pub service: QueueService,
}

/// A server on `reactor`, listening as `options` say. Returns the bound address.
pub fn listen(reactor: &Reactor, options: &ServerOptions) -> Result<SocketAddr, RunError> {
    Ok(start(reactor, options)?.addr)
}

/// A server on `reactor` as `options` say: the queue (with its queue log),
/// the TCP protocol, and the HTTP side when asked for.
pub fn start(reactor: &Reactor, options: &ServerOptions) -> Result<Bound, RunError> {
    let engine = options.queue.engine().map_err(io::Error::other)?;
    let service = QueueService::new(
        engine,
        options.queue.lang,
        options.queue.ring_timeout.0,
        reactor.clone(),
    );
    if let Some(path) = &options.queue.queue_log {
        service.open_queue_log(path, &options.queue.queue_name)?;
    }
    let connections = Connections::new();
    let listener = reactor.listen_tcp(
        address(&options.listen)?,
        ServerFactory::sharing(service.clone(), options.max_clients, connections.clone()),
    )?;
    let http = match &options.queue.http {
        Some(text) => {
            let site = Site {
                service: service.clone(),
                lang: options.queue.lang,
                reactor: reactor.clone(),
                connections,
                max_clients: options.max_clients as usize,
            };
            Some(listen_http(reactor, address(text)?, site)?)
        }
        None => None,
    };
    Ok(Bound {
        addr: listener.local_addr(),
        http,
        service,
    })
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(options: &ServerOptions) -> Result<(), RunError> {
    if let Some(limit) = crate::sys::raise_open_file_limit() {
        info!("open file limit: {limit}");
    }
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let bound = start(&reactor, options)?;
    let service = bound.service.clone();
    // logrotate renames the file, then sends SIGHUP: reopen it by name.
    reactor.on_sighup(move || service.reopen_queue_log())?;
    // Scripts and tests read the port from this line: print it and flush
    // before serving anyone.
    let mut banner = format!("Listening on {}\n", bound.addr);
    if let Some(http) = bound.http {
        banner.push_str(&format!("HTTP listening on {http}\n"));
    }
    crate::sys::write_stdout(&banner).map_err(RunError::Stdio)?;
    info!("listening on {}", bound.addr);
    let result = reactor.run();
    // The lines of the last loop turn.
    bound.service.flush_queue_log();
    Ok(result?)
}
