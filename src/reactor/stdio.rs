//! Standard input and output as one more connection on the loop.
//!
//! Mirrors `twisted.internet.stdio.StandardIO`. Input is polled with epoll
//! when the kernel allows it (terminal, pipe, socket). epoll refuses regular
//! files and `/dev/null` (EPERM); those never block, so they are read in
//! chunks by a zero-delay timer instead, one chunk per loop turn, so timers
//! and other connections still get their turn (Twisted's epoll reactor does
//! the same: `addReader` catches EPERM and hands such descriptors to its
//! continuous poller).
//!
//! Output (stdout and stderr, ordered in one buffer) is written without
//! blocking when the descriptor can be polled; files and `/dev/null` are
//! written directly. Descriptors switched to non-blocking mode get their
//! original flags back when the connection closes, or when this is dropped:
//! a terminal's flags are shared with the shell that started us.

use std::cell::RefCell;
use std::io::{self, IsTerminal};
use std::os::fd::RawFd;
use std::rc::Rc;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

use super::protocol::Protocol;
use super::timer::DelayedCall;
use super::transport::{BufferLimits, Channel, Sink, Transport};
use super::{Reactor, Sub};

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;
const STDERR: RawFd = 2;

/// How input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputMode {
    /// Registered with epoll: read on readiness.
    Polled,
    /// epoll refused it: read a chunk per loop turn from a timer.
    Scheduled,
}

/// The three standard descriptors and what was done to them.
pub(crate) struct StdioFds {
    pub(crate) input: InputMode,
    /// Whether stdout and stderr are registered for writability.
    pub(crate) output_polled: [bool; 2],
    /// Flags of fds 0, 1, 2 before we set O_NONBLOCK, to restore; `None` if untouched.
    saved_flags: [Option<libc::c_int>; 3],
    /// The pending chunk read, in `Scheduled` mode.
    pub(crate) reader: Option<DelayedCall>,
    /// Deregistered and restored.
    released: bool,
}

fn fd_of(channel: Channel) -> RawFd {
    match channel {
        Channel::Out => STDOUT,
        Channel::Err => STDERR,
    }
}

fn get_flags(fd: RawFd) -> Option<libc::c_int> {
    // SAFETY: F_GETFL only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    (flags >= 0).then_some(flags)
}

fn set_flags(fd: RawFd, flags: libc::c_int) {
    // SAFETY: F_SETFL only changes the descriptor's status flags.
    unsafe { libc::fcntl(fd, libc::F_SETFL, flags) };
}

/// Tries to register `fd`; `Ok(false)` when epoll refuses this kind of file.
fn try_register(
    registry: &Registry,
    fd: RawFd,
    token: Token,
    interest: Interest,
) -> io::Result<bool> {
    match registry.register(&mut SourceFd(&fd), token, interest) {
        Ok(()) => Ok(true),
        Err(error) if error.raw_os_error() == Some(libc::EPERM) => Ok(false),
        Err(error) => Err(error),
    }
}

impl StdioFds {
    /// Registers what epoll accepts and makes those descriptors non-blocking.
    fn open(registry: &Registry, token: impl Fn(Sub) -> Token) -> io::Result<StdioFds> {
        let mut fds = StdioFds {
            input: InputMode::Scheduled,
            output_polled: [false, false],
            saved_flags: [None; 3],
            reader: None,
            released: false,
        };
        // Save every flag first: on a terminal all three share one file
        // description, so changing one changes the others.
        let originals = [get_flags(STDIN), get_flags(STDOUT), get_flags(STDERR)];
        if originals[0].is_some()
            && try_register(registry, STDIN, token(Sub::Main), Interest::READABLE)?
        {
            fds.input = InputMode::Polled;
        }
        for (index, fd) in [(0, STDOUT), (1, STDERR)] {
            let sub = if index == 0 { Sub::Stdout } else { Sub::Stderr };
            if originals[fd as usize].is_some()
                && try_register(registry, fd, token(sub), Interest::WRITABLE)?
            {
                fds.output_polled[index] = true;
            }
        }
        let nonblocking = [
            fds.input == InputMode::Polled,
            fds.output_polled[0],
            fds.output_polled[1],
        ];
        for fd in 0..3 {
            if let (true, Some(flags)) = (nonblocking[fd], originals[fd]) {
                fds.saved_flags[fd] = Some(flags);
                set_flags(fd as RawFd, flags | libc::O_NONBLOCK);
            }
        }
        Ok(fds)
    }

    /// Writes to stdout or stderr.
    pub(crate) fn write(&mut self, channel: Channel, data: &[u8]) -> io::Result<usize> {
        // SAFETY: `data` is a valid slice for `data.len()` bytes.
        let written = unsafe { libc::write(fd_of(channel), data.as_ptr().cast(), data.len()) };
        if written < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(written as usize)
        }
    }

    /// Reads from stdin.
    pub(crate) fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buffer` is valid for writes of `buffer.len()` bytes.
        let read = unsafe { libc::read(STDIN, buffer.as_mut_ptr().cast(), buffer.len()) };
        if read < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(read as usize)
        }
    }

    /// Writes `data` completely, waiting if need be: the last flush at exit.
    pub(crate) fn write_all_blocking(
        &mut self,
        channel: Channel,
        mut data: &[u8],
    ) -> io::Result<()> {
        while !data.is_empty() {
            match self.write(channel, data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(amount) => data = &data[amount..],
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    let mut poll_fd = libc::pollfd {
                        fd: fd_of(channel),
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; a bounded wait so a stuck reader
                    // cannot keep us from exiting forever.
                    let ready = unsafe { libc::poll(&mut poll_fd, 1, 5_000) };
                    if ready == 0 {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Deregisters the descriptors and restores their flags. Idempotent.
    pub(crate) fn release(&mut self, registry: &Registry) {
        if self.released {
            return;
        }
        self.released = true;
        if let Some(reader) = self.reader.take() {
            let _ = reader.cancel();
        }
        if self.input == InputMode::Polled {
            let _ = registry.deregister(&mut SourceFd(&STDIN));
        }
        for (index, fd) in [(0, STDOUT), (1, STDERR)] {
            if self.output_polled[index] {
                let _ = registry.deregister(&mut SourceFd(&fd));
            }
        }
        self.output_polled = [false, false];
        self.restore_flags();
    }

    fn restore_flags(&mut self) {
        for (fd, saved) in self.saved_flags.iter_mut().enumerate() {
            if let Some(flags) = saved.take() {
                set_flags(fd as RawFd, flags);
            }
        }
    }
}

impl Drop for StdioFds {
    fn drop(&mut self) {
        // Even on an early return or a panic, leave the terminal as we found it.
        self.restore_flags();
    }
}

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
        Ok((Sink::Stdio(StdioFds::open(registry, token)?), None))
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
