//! Reading lines from stdin without blocking: Twisted's `stdin.py` example.
//!
//! ```python
//! class Echo(basic.LineReceiver):
//!     delimiter = b'\n'
//!     def connectionMade(self):
//!         self.transport.write(b'>>> ')
//!     def lineReceived(self, line):
//!         self.sendLine(b'Echo: ' + line)
//!         self.transport.write(b'>>> ')
//!
//! stdio.StandardIO(Echo())
//! reactor.run()
//! ```
//!
//! Run: `cargo run --example stdin_lines`, type lines, end with Ctrl-D.
//! A timer ticks every 2 seconds meanwhile, to show that waiting for input
//! blocks nothing: stdin is just one more source on the loop. The prompt
//! is shown only on a terminal, so piped input gives a clean transcript.

use std::time::Duration;

use callcenter::reactor::{
    ConnectionLost, LineHandler, LineReceiver, Reactor, Transport, standard_io, stdin_is_terminal,
};

/// Mirrors the `Echo(basic.LineReceiver)` of `stdin.py`.
struct Echo {
    transport: Option<Transport>,
    reactor: Reactor,
    prompt: bool,
}

impl Echo {
    fn prompt(&self) {
        if let (true, Some(transport)) = (self.prompt, &self.transport) {
            transport.write(b">>> ");
        }
    }
}

impl LineHandler for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        self.prompt();
    }

    fn line_received(&mut self, line: &[u8]) {
        if let Some(transport) = &self.transport {
            // Mirrors `sendLine`: the line and its delimiter.
            transport.write(b"Echo: ");
            transport.write(line);
            transport.write(b"\n");
        }
        self.prompt();
    }

    fn connection_lost(&mut self, _reason: ConnectionLost) {
        // End of input: nothing more to do.
        self.reactor.stop();
    }
}

/// Prints a tick every two seconds, forever (until the reactor stops).
fn tick(reactor: Reactor, transport: Transport, count: u32) {
    let next = reactor.clone();
    reactor.call_later(Duration::from_secs(2), move || {
        transport.write_err(format!("(tick {count})\n").as_bytes());
        tick(next, transport, count + 1);
    });
}

fn main() -> std::io::Result<()> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let echo = Echo {
        transport: None,
        reactor: reactor.clone(),
        prompt: stdin_is_terminal(),
    };
    let transport = standard_io(&reactor, LineReceiver::new(echo))?;
    tick(reactor.clone(), transport, 1);
    reactor.run()
}
