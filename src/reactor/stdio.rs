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
use std::os::fd::{BorrowedFd, RawFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::OFlags;
use rustix::io::Errno;

use super::protocol::Protocol;
use super::timer::DelayedCall;
use super::transport::{BufferLimits, Channel, Sink, Transport};
use super::{Reactor, Sub};

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;
const STDERR: RawFd = 2;

/// The longest the last flush at exit may wait for a reader: past it the
/// rest of the output is dropped and the program exits (a full pipe nobody
/// reads must not keep a stopped program alive).
const FINAL_FLUSH_LIMIT: Duration = Duration::from_millis(1500);

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
    saved_flags: [Option<OFlags>; 3],
    /// The pending chunk read, in `Scheduled` mode.
    pub(crate) reader: Option<DelayedCall>,
    /// Deregistered and restored.
    released: bool,
}

/// Standard descriptor `fd` (0, 1 or 2), borrowed for a call.
fn standard(fd: RawFd) -> BorrowedFd<'static> {
    match fd {
        STDIN => rustix::stdio::stdin(),
        STDOUT => rustix::stdio::stdout(),
        _ => rustix::stdio::stderr(),
    }
}

fn fd_of(channel: Channel) -> RawFd {
    match channel {
        Channel::Out => STDOUT,
        Channel::Err => STDERR,
    }
}

fn get_flags(fd: RawFd) -> Option<OFlags> {
    rustix::fs::fcntl_getfl(standard(fd)).ok()
}

fn set_flags(fd: RawFd, flags: OFlags) {
    let _ = rustix::fs::fcntl_setfl(standard(fd), flags);
}

/// Puts O_NONBLOCK back on `fd` if someone cleared it.
///
/// A terminal's flags belong to the file description the shell shares
/// with us: after Ctrl-Z and `fg` the shell may have cleared O_NONBLOCK,
/// and a read or write would then block the whole loop (no timers, no
/// signals). Checking before each call costs one cheap system call.
fn ensure_nonblocking(fd: RawFd) {
    if let Some(flags) = get_flags(fd)
        && !flags.contains(OFlags::NONBLOCK)
    {
        set_flags(fd, flags | OFlags::NONBLOCK);
    }
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
        Err(error) if error.raw_os_error() == Some(Errno::PERM.raw_os_error()) => Ok(false),
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
                set_flags(fd as RawFd, flags | OFlags::NONBLOCK);
            }
        }
        Ok(fds)
    }

    /// Writes to stdout or stderr, never blocking on a polled descriptor.
    pub(crate) fn write(&mut self, channel: Channel, data: &[u8]) -> io::Result<usize> {
        let fd = fd_of(channel);
        if self.output_polled[(channel == Channel::Err) as usize] {
            ensure_nonblocking(fd);
        }
        Ok(rustix::io::write(standard(fd), data)?)
    }

    /// Reads from stdin, never blocking on a polled descriptor (see
    /// `ensure_nonblocking`); files and `/dev/null` never block anyway.
    pub(crate) fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.input == InputMode::Polled {
            ensure_nonblocking(STDIN);
        }
        Ok(rustix::io::read(standard(STDIN), buffer)?)
    }

    /// The last flush at exit: writes `data`, waiting for the reader until
    /// `deadline` at most. The descriptor stays non-blocking (flags are
    /// restored afterwards), so a full pipe nobody reads cannot hold us.
    pub(crate) fn write_all_until(
        &mut self,
        channel: Channel,
        mut data: &[u8],
        deadline: Instant,
    ) -> io::Result<()> {
        while !data.is_empty() {
            match self.write(channel, data) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(amount) => data = &data[amount..],
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    let timeout = Timespec::try_from(left).unwrap_or(Timespec {
                        tv_sec: 1,
                        tv_nsec: 0,
                    });
                    let fd = standard(fd_of(channel));
                    let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
                    match rustix::event::poll(&mut fds, Some(&timeout)) {
                        Ok(_) | Err(Errno::INTR) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// Deregisters the descriptors, keeping their flags (see `restore_flags`).
    pub(crate) fn deregister(&mut self, registry: &Registry) {
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
    }

    /// Deregisters the descriptors and restores their flags. Idempotent.
    pub(crate) fn release(&mut self, registry: &Registry) {
        if self.released {
            return;
        }
        self.released = true;
        self.deregister(registry);
        self.output_polled = [false, false];
        self.restore_flags();
    }

    /// Gives the descriptors their original flags back.
    pub(crate) fn restore_flags(&mut self) {
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

/// When the last flush at exit gives up; see [`FINAL_FLUSH_LIMIT`].
pub(crate) fn final_flush_deadline() -> Instant {
    Instant::now() + FINAL_FLUSH_LIMIT
}

/// Standard I/O's output bounds: stop reading stdin above 64 KiB of unsent
/// output, resume at half of it; never drop output (no hard cap).
pub const STDIO_LIMITS: BufferLimits = BufferLimits {
    high_water: 64 * 1024,
    hard_cap: usize::MAX,
};
