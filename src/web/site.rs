//! The HTTP side on the reactor (SPEC §10.3): a [`Protocol`] per connection
//! that feeds [`RequestParser`] and answers from the [`QueueService`].
//!
//! The twin of `twisted.web.server.Site`: [`SiteFactory`] is the `Site` (a
//! factory of channels sharing one resource tree), [`HttpChannel`] the
//! `HTTPChannel`, [`route`] the resource lookup. `/events` is a `Request`
//! that never finishes: each event is a `Request.write`, and the
//! transport's [`BufferLimits`] play the producer a slow reader needs (past
//! the cap the reader is dropped, as a TCP client is).

use std::cell::Cell;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use log::{debug, info};

use crate::messages::Lang;
use crate::queue_service::{HIGH_WATER, OUTPUT_CAP, QueueService, Subscription};
use crate::reactor::{
    BufferLimits, ConnectionLost, Factory, LoopingCall, Protocol, Reactor, Transport,
};
use crate::web::http::{
    CONTENT_TYPE_HTML, CONTENT_TYPE_JSON, CONTENT_TYPE_METRICS, RequestParser, Route, Status,
    route, write_error, write_refusal, write_response, write_sse_event, write_sse_head,
    write_sse_ping, write_sse_retry,
};
use crate::web::wallboard_page;

/// How long the browser waits before reconnecting to `/events`.
pub const RETRY_MILLIS: u64 = 1000;

/// An idle `/events` stream gets a comment this often, so proxies keep it.
pub const PING_INTERVAL: Duration = Duration::from_secs(15);

/// Open connections, TCP and HTTP together, against one `--max-clients`.
/// Clones share the count.
#[derive(Clone, Debug, Default)]
pub struct Connections(Rc<Cell<usize>>);

impl Connections {
    /// No connection open.
    pub fn new() -> Connections {
        Connections::default()
    }

    /// The number open now.
    pub fn len(&self) -> usize {
        self.0.get()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.0.get() == 0
    }

    /// One more is open.
    pub fn opened(&self) {
        self.0.set(self.0.get() + 1);
    }

    /// One fewer is open.
    pub fn closed(&self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// What every HTTP connection shares.
#[derive(Clone)]
pub struct Site {
    /// The queue answered from.
    pub service: QueueService,
    /// The wallboard's language.
    pub lang: Lang,
    /// The loop (for the `/events` pings).
    pub reactor: Reactor,
    /// The count `max_clients` applies to.
    pub connections: Connections,
    /// Connections beyond this many are answered `503` and closed.
    pub max_clients: usize,
}

/// One HTTP connection: `twisted.web.http.HTTPChannel`.
pub struct HttpChannel {
    site: Site,
    parser: RequestParser,
    transport: Option<Transport>,
    /// Counted in `site.connections` until lost.
    counted: bool,
    /// While streaming `/events`: the service's feed.
    events: Option<Subscription>,
    /// While streaming `/events`: the keep-alive comment every
    /// [`PING_INTERVAL`], stopped with the stream.
    pinger: Option<LoopingCall>,
    /// Reused for each response.
    out: Vec<u8>,
}

impl HttpChannel {
    /// A channel for `site`.
    pub fn new(site: Site) -> HttpChannel {
        HttpChannel {
            site,
            parser: RequestParser::new(),
            transport: None,
            counted: false,
            events: None,
            pinger: None,
            out: Vec::new(),
        }
    }

    /// Answers the complete requests received; stops at an error, at a
    /// request that closes the connection, or when `/events` starts.
    fn serve(&mut self, transport: &Transport) {
        while self.events.is_none() && !transport.disconnecting() {
            let Some(request) = self.parser.next_request() else {
                return;
            };
            self.out.clear();
            let request = match request {
                Ok(request) => request,
                Err(error) => {
                    write_error(&mut self.out, error.status(), false, false);
                    transport.write(&self.out);
                    transport.lose_connection();
                    return;
                }
            };
            let head_only = request.head_only();
            let path = route(&request.method, &request.path);
            let keep_alive = match write_refusal(&mut self.out, &request, path) {
                Some(keep_alive) => keep_alive,
                None => self.respond(path, head_only, request.keep_alive, transport),
            };
            transport.write(&self.out);
            // An event stream stays open until its reader leaves.
            if !keep_alive && self.events.is_none() {
                transport.lose_connection();
            }
        }
    }

    /// Writes the answer of a routed `GET` or `HEAD` into `self.out`;
    /// returns whether the connection stays open.
    fn respond(
        &mut self,
        path: Route,
        head_only: bool,
        keep_alive: bool,
        transport: &Transport,
    ) -> bool {
        let service = &self.site.service;
        let (content_type, body) = match path {
            Route::Wallboard => (CONTENT_TYPE_HTML, wallboard_page(self.site.lang)),
            Route::Metrics => (
                CONTENT_TYPE_METRICS,
                service.metrics(self.site.connections.len() as u64),
            ),
            Route::History => (CONTENT_TYPE_JSON, service.history_json()),
            Route::Events => {
                write_sse_head(&mut self.out);
                if head_only {
                    return false;
                }
                write_sse_retry(&mut self.out, RETRY_MILLIS);
                self.stream_events(transport);
                return false;
            }
            // The bare objects of SPEC §9.7, the wire's `status` and `stats`
            // without the reply around them; times at the reactor's now.
            Route::Status => {
                let now = self.site.reactor.now();
                let snapshot = service.inspect(|engine| engine.status(now));
                (CONTENT_TYPE_JSON, to_json(&snapshot))
            }
            Route::Stats => (
                CONTENT_TYPE_JSON,
                to_json(&service.inspect(|engine| engine.stats())),
            ),
            // `write_refusal` answered 405 already; what is left is unknown.
            Route::NotFound | Route::MethodNotAllowed => {
                write_error(&mut self.out, Status::NotFound, head_only, keep_alive);
                return keep_alive;
            }
        };
        write_response(
            &mut self.out,
            Status::Ok,
            content_type,
            body.as_bytes(),
            head_only,
            keep_alive,
        );
        keep_alive
    }

    /// Subscribes the connection to every event, one SSE message per line,
    /// and starts the pings.
    fn stream_events(&mut self, transport: &Transport) {
        let sink = transport.clone();
        let mut message = Vec::new();
        self.events = Some(self.site.service.subscribe_all(Box::new(move |text| {
            message.clear();
            for line in text.lines() {
                write_sse_event(&mut message, line);
            }
            // Only queues bytes: past the output cap the transport drops
            // the reader from the loop.
            sink.write(&message);
        })));
        let pinged = transport.clone();
        let mut ping = Vec::new();
        write_sse_ping(&mut ping);
        self.pinger = Some(LoopingCall::start(
            &self.site.reactor,
            PING_INTERVAL,
            false,
            move || pinged.write(&ping),
        ));
    }
}

/// A snapshot as JSON. Plain data with string keys cannot fail to
/// serialize; were it to, the body says so rather than the server panicking.
fn to_json(snapshot: &impl serde::Serialize) -> String {
    serde_json::to_string(snapshot).unwrap_or_else(|error| {
        log::error!("cannot serialize a snapshot: {error}");
        String::from("null")
    })
}

impl Protocol for HttpChannel {
    fn connection_made(&mut self, transport: Transport) {
        transport.set_buffer_limits(BufferLimits {
            high_water: HIGH_WATER,
            hard_cap: OUTPUT_CAP,
        });
        self.site.connections.opened();
        self.counted = true;
        debug!("http client {:?} connected", transport.peer_addr());
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        let Some(transport) = self.transport.clone() else {
            return;
        };
        if self.events.is_some() {
            // A stream's client has nothing more to ask.
            return;
        }
        self.parser.feed(data);
        self.serve(&transport);
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.events = None;
        if let Some(pinger) = self.pinger.take() {
            pinger.stop();
        }
        if std::mem::take(&mut self.counted) {
            self.site.connections.closed();
        }
        debug!("http client gone: {reason}");
    }
}

/// A connection over `max_clients`: `503`, then closed.
struct Refusal;

impl Protocol for Refusal {
    fn connection_made(&mut self, transport: Transport) {
        let mut out = Vec::new();
        write_error(&mut out, Status::ServiceUnavailable, false, false);
        transport.write(&out);
        transport.lose_connection();
    }

    fn data_received(&mut self, _data: &[u8]) {}
}

/// Builds an [`HttpChannel`] per connection: `twisted.web.server.Site`.
pub struct SiteFactory {
    site: Site,
}

impl Factory for SiteFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        if self.site.connections.len() >= self.site.max_clients {
            info!(
                "refusing http {addr}: {} clients already",
                self.site.max_clients
            );
            return Some(Box::new(Refusal));
        }
        Some(Box::new(HttpChannel::new(self.site.clone())))
    }
}

/// Serves `site` on `addr`, sampling the chart's history from now on.
/// Returns the bound address.
pub fn listen_http(reactor: &Reactor, addr: SocketAddr, site: Site) -> io::Result<SocketAddr> {
    site.service.start_history();
    site.service.time_calls();
    let listener = reactor.listen_tcp(addr, SiteFactory { site })?;
    Ok(listener.local_addr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_count_up_and_down_and_never_below_zero() {
        let connections = Connections::new();
        let shared = connections.clone();
        connections.opened();
        shared.opened();
        assert_eq!(connections.len(), 2);
        shared.closed();
        shared.closed();
        shared.closed();
        assert_eq!(connections.len(), 0);
    }
}
