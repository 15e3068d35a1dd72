//! An echo server: Twisted's classic `echoserv.py`, on our reactor.
//!
//! ```python
//! class Echo(protocol.Protocol):
//!     def dataReceived(self, data):
//!         self.transport.write(data)
//!
//! factory = protocol.Factory()
//! factory.protocol = Echo
//! reactor.listenTCP(8000, factory)
//! reactor.run()
//! ```
//!
//! Run: `cargo run --example echo_server [ADDR]` (default `127.0.0.1:8000`;
//! port 0 picks a free one), then `telnet 127.0.0.1 8000`. It prints
//! `Listening on ADDR` once bound; SIGINT or SIGTERM stops it.

use std::io::Write;
use std::net::SocketAddr;

use callcenter::reactor::{Factory, Protocol, Reactor, Transport};

/// Mirrors `Echo(protocol.Protocol)`: whatever arrives goes straight back.
struct Echo {
    transport: Option<Transport>,
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if let Some(transport) = &self.transport {
            transport.write(data);
        }
    }
}

/// Mirrors `protocol.Factory()` with `factory.protocol = Echo`.
struct EchoFactory;

impl Factory for EchoFactory {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(Echo { transport: None }))
    }
}

fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".to_string())
        .parse()
        .map_err(std::io::Error::other)?;
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let port = reactor.listen_tcp(addr, EchoFactory)?;
    println!("Listening on {}", port.local_addr());
    std::io::stdout().flush()?;
    reactor.run()
}
