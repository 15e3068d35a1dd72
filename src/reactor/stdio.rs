//! Standard input and output as one more connection on the loop.
//!
//! Mirrors `twisted.internet.stdio.StandardIO`: a reader on standard input
//! and a writer on standard output (and here a second one on standard
//! error, ordered with it in one buffer), given to the reactor as the
//! descriptors of one transport. Nothing here is special to the loop: the
//! reactor reads and writes them as any descriptors, polled when epoll
//! accepts them (terminal, pipe, socket) and continuously when it refuses
//! them (a regular file, `/dev/null`); see [`descriptor`](super::descriptor).

use std::cell::RefCell;
use std::io::{self, IsTerminal};
use std::rc::Rc;

use super::Reactor;
use super::descriptor::{Descriptor, Fds};
use super::protocol::Protocol;
use super::transport::{BufferLimits, Transport};

/// Whether standard input is a terminal (an interactive user, who wants a
/// prompt). Mirrors `sys.stdin.isatty()`.
pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// Connects `protocol` to the process's standard input and outputs.
///
/// Mirrors `twisted.internet.stdio.StandardIO(protocol)`. The protocol gets a
/// transport whose [`write`](Transport::write) goes to stdout and
/// [`write_err`](Transport::write_err) to stderr, in one ordered buffer;
/// input arrives in `data_received`; end of input calls
/// `read_connection_lost`. Only one may be open at a time.
///
/// Input is throttled by the output ([`STDIO_LIMITS`]): while more than
/// its high-water mark waits for stdout or stderr, stdin is not read, so a
/// fast producer (`yes help | callcenter`) cannot grow memory and output
/// flows while input is still coming (Twisted's producer/consumer pairing
/// of stdin with stdout). Output no read can stop (timers) is never dropped.
pub fn standard_io<P: Protocol + 'static>(reactor: &Reactor, protocol: P) -> io::Result<Transport> {
    let protocol: Rc<RefCell<dyn Protocol>> = Rc::new(RefCell::new(protocol));
    let transport = reactor.add_connection(protocol, |registry, token| {
        let fds = Fds::open(
            registry,
            token,
            rustix::stdio::stdin(),
            [rustix::stdio::stdout(), rustix::stdio::stderr()],
        )?;
        Ok((Descriptor::Fds(fds), None))
    })?;
    transport.set_buffer_limits(STDIO_LIMITS);
    Ok(transport)
}

/// Standard I/O's output bounds: stop reading stdin above 64 KiB of unsent
/// output, resume at half of it; never drop output (no hard cap).
pub const STDIO_LIMITS: BufferLimits = BufferLimits {
    high_water: 64 * 1024,
    hard_cap: usize::MAX,
};
