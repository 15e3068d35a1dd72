//! What a transport reads and writes: a socket, raw descriptors, or memory.
//!
//! Mirrors the descriptor half of Twisted's `abstract.FileDescriptor`: the
//! reactor reads a descriptor when it is readable and writes it when it is
//! writable (`addReader`, `addWriter`). It knows nothing of what the
//! descriptors are: [`standard_io`](super::stdio::standard_io) hands it the
//! process's standard ones, built on what is here.
//!
//! # Descriptors epoll refuses
//!
//! epoll accepts terminals, pipes and sockets, but refuses regular files and
//! `/dev/null` with `EPERM`: they are always ready, so there is nothing to
//! wait for. Twisted's epoll reactor catches that in `addReader` and hands
//! such descriptors to its `_ContinuousPolling`, which reads them once per
//! loop turn. Ours does the same: such a descriptor is `Watch::Continuous`,
//! and the reactor reads it one chunk per turn without waiting for an event,
//! so timers and other connections still get their turns. Output to such a
//! file is written directly (it never blocks).
//!
//! Descriptors switched to non-blocking mode get their original flags back
//! when the connection closes, or when this is dropped: a terminal's flags
//! are shared with the shell that started us.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::OFlags;
use rustix::io::Errno;

/// Which output of a connection a write goes to.
///
/// Twisted's `StandardIO` transport writes stdout only; programs write
/// errors with `sys.stderr.write`, which blocks and is not ordered with the
/// transport's buffer. Here both go through one buffer.
///
/// A TCP connection has one output; standard I/O has two (stdout, stderr)
/// that share one ordered buffer, so `2>&1` shows them in the order written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The main output: the socket, or stdout.
    Out,
    /// The error output: stderr for standard I/O (the socket for TCP).
    Err,
}

/// Which descriptor of a source an event is for: tokens carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sub {
    /// The source's own descriptor (socket, listener, input, signals).
    Main = 0,
    /// A separate descriptor for [`Channel::Out`] (such as stdout).
    Out = 1,
    /// A separate descriptor for [`Channel::Err`] (such as stderr).
    Err = 2,
}

/// How the reactor learns that a descriptor is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// Registered with epoll: acted on when an event reports it ready.
    Polled,
    /// Refused by epoll (`EPERM`): always ready, read once per loop turn.
    /// Mirrors the epoll reactor's `_ContinuousPolling`.
    Continuous,
}

/// Where a transport's bytes come from and go.
pub(crate) enum Descriptor {
    /// Nowhere: an in-memory transport for tests keeps everything written.
    Memory,
    /// A TCP connection.
    Tcp(TcpStream),
    /// Raw descriptors: one to read, one per output channel.
    Fds(Fds),
}

impl Descriptor {
    /// Reads what is available into `buffer`.
    pub(crate) fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Descriptor::Memory => Ok(0),
            Descriptor::Tcp(stream) => stream.read(buffer),
            Descriptor::Fds(fds) => fds.read(buffer),
        }
    }

    /// Writes to `channel`; `None` for memory, which nothing consumes.
    pub(crate) fn write(&mut self, channel: Channel, data: &[u8]) -> Option<io::Result<usize>> {
        match self {
            Descriptor::Memory => None,
            Descriptor::Tcp(stream) => Some(stream.write(data)),
            Descriptor::Fds(fds) => Some(fds.write(channel, data)),
        }
    }

    /// The channel a write to `channel` really goes to: a socket has one.
    pub(crate) fn channel_for(&self, channel: Channel) -> Channel {
        match self {
            Descriptor::Tcp(_) => Channel::Out,
            Descriptor::Memory | Descriptor::Fds(_) => channel,
        }
    }

    /// How the input is watched.
    pub(crate) fn input_watch(&self) -> Watch {
        match self {
            Descriptor::Fds(fds) => fds.input,
            Descriptor::Memory | Descriptor::Tcp(_) => Watch::Polled,
        }
    }

    /// Whether a blocked write to `channel` will be reported by a writable
    /// event (otherwise the reactor retries from a timer).
    pub(crate) fn output_polled(&self, channel: Channel) -> bool {
        match self {
            Descriptor::Fds(fds) => fds.output_polled[channel as usize],
            Descriptor::Memory | Descriptor::Tcp(_) => true,
        }
    }

    /// Deregisters the descriptors and gives them their flags back; the
    /// caller then drops them (a socket closes with it).
    pub(crate) fn release(&mut self, registry: &Registry) {
        match self {
            Descriptor::Memory => {}
            Descriptor::Tcp(stream) => {
                let _ = registry.deregister(stream);
            }
            Descriptor::Fds(fds) => fds.release(registry),
        }
    }
}

/// The longest the last flush at exit may wait for a reader: past it the
/// rest of the output is dropped and the program exits (a full pipe nobody
/// reads must not keep a stopped program alive).
const FINAL_FLUSH_LIMIT: Duration = Duration::from_millis(1500);

/// When the last flush at exit gives up; see [`FINAL_FLUSH_LIMIT`].
pub(crate) fn final_flush_deadline() -> Instant {
    Instant::now() + FINAL_FLUSH_LIMIT
}

/// One descriptor of an [`Fds`] and what was done to it.
struct End {
    fd: BorrowedFd<'static>,
    /// Flags before we set O_NONBLOCK, to restore; `None` if untouched.
    saved_flags: Option<OFlags>,
}

/// Raw descriptors a transport reads from and writes to.
///
/// Mirrors the pair of `FileDescriptor`s Twisted's `StandardIO` builds (a
/// `ProcessReader` and a `ProcessWriter`): the input is registered for
/// reading, each output for writing, each watched as epoll allows.
pub(crate) struct Fds {
    input: Watch,
    /// Whether the outputs (by [`Channel`]) are registered for writability.
    output_polled: [bool; 2],
    /// The input, then the outputs by channel.
    ends: [End; 3],
    /// Deregistered and restored.
    released: bool,
}

fn get_flags(fd: BorrowedFd<'_>) -> Option<OFlags> {
    rustix::fs::fcntl_getfl(fd).ok()
}

fn set_flags(fd: BorrowedFd<'_>, flags: OFlags) {
    let _ = rustix::fs::fcntl_setfl(fd, flags);
}

/// Puts O_NONBLOCK back on `fd` if someone cleared it.
///
/// A terminal's flags belong to the file description the shell shares
/// with us: after Ctrl-Z and `fg` the shell may have cleared O_NONBLOCK,
/// and a read or write would then block the whole loop (no timers, no
/// signals). Checking before each call costs one cheap system call.
fn ensure_nonblocking(fd: BorrowedFd<'_>) {
    if let Some(flags) = get_flags(fd)
        && !flags.contains(OFlags::NONBLOCK)
    {
        set_flags(fd, flags | OFlags::NONBLOCK);
    }
}

/// Tries to register `fd`; `Ok(false)` when epoll refuses this kind of file.
fn try_register(
    registry: &Registry,
    fd: BorrowedFd<'_>,
    token: Token,
    interest: Interest,
) -> io::Result<bool> {
    match registry.register(&mut SourceFd(&fd.as_raw_fd()), token, interest) {
        Ok(()) => Ok(true),
        Err(error) if error.raw_os_error() == Some(Errno::PERM.raw_os_error()) => Ok(false),
        Err(error) => Err(error),
    }
}

impl Fds {
    /// Registers what epoll accepts (`input` for reading under
    /// `token(Sub::Main)`, each output for writing under its own token)
    /// and makes those descriptors non-blocking.
    pub(crate) fn open(
        registry: &Registry,
        token: &dyn Fn(Sub) -> Token,
        input: BorrowedFd<'static>,
        outputs: [BorrowedFd<'static>; 2],
    ) -> io::Result<Fds> {
        let fds = [input, outputs[0], outputs[1]];
        // Save every flag first: on a terminal all three share one file
        // description, so changing one changes the others.
        let originals = fds.map(get_flags);
        let mut polled = [false; 3];
        let wanted = [
            (Sub::Main, Interest::READABLE),
            (Sub::Out, Interest::WRITABLE),
            (Sub::Err, Interest::WRITABLE),
        ];
        for (index, (sub, interest)) in wanted.into_iter().enumerate() {
            if originals[index].is_some() {
                polled[index] = try_register(registry, fds[index], token(sub), interest)?;
            }
        }
        let ends = [0, 1, 2].map(|index| {
            let saved_flags = match (polled[index], originals[index]) {
                (true, Some(flags)) => {
                    set_flags(fds[index], flags | OFlags::NONBLOCK);
                    Some(flags)
                }
                _ => None,
            };
            End {
                fd: fds[index],
                saved_flags,
            }
        });
        Ok(Fds {
            input: if polled[0] {
                Watch::Polled
            } else {
                Watch::Continuous
            },
            output_polled: [polled[1], polled[2]],
            ends,
            released: false,
        })
    }

    fn output(&self, channel: Channel) -> BorrowedFd<'static> {
        self.ends[1 + channel as usize].fd
    }

    /// Writes to an output, never blocking on a polled descriptor.
    pub(crate) fn write(&mut self, channel: Channel, data: &[u8]) -> io::Result<usize> {
        let fd = self.output(channel);
        if self.output_polled[channel as usize] {
            ensure_nonblocking(fd);
        }
        Ok(rustix::io::write(fd, data)?)
    }

    /// Reads the input, never blocking on a polled descriptor (see
    /// `ensure_nonblocking`); files and `/dev/null` never block anyway.
    pub(crate) fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let fd = self.ends[0].fd;
        if self.input == Watch::Polled {
            ensure_nonblocking(fd);
        }
        Ok(rustix::io::read(fd, buffer)?)
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
                    let fd = self.output(channel);
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
        let registered = [
            self.input == Watch::Polled,
            self.output_polled[0],
            self.output_polled[1],
        ];
        for (end, registered) in self.ends.iter().zip(registered) {
            if registered {
                let _ = registry.deregister(&mut SourceFd(&end.fd.as_raw_fd()));
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
    fn restore_flags(&mut self) {
        for end in &mut self.ends {
            if let Some(flags) = end.saved_flags.take() {
                set_flags(end.fd, flags);
            }
        }
    }
}

impl Drop for Fds {
    fn drop(&mut self) {
        // Even on an early return or a panic, leave the terminal as we found it.
        self.restore_flags();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::Write;
    use std::os::fd::{AsFd, OwnedFd};
    use std::rc::Rc;
    use std::time::Duration;

    use super::{Descriptor, Fds, Watch};
    use crate::reactor::{AfterEof, ManualClock, Protocol, Reactor};

    /// A descriptor that lives as long as the test process (`Fds` borrows
    /// for `'static`, as the standard descriptors are).
    fn leak(fd: impl Into<OwnedFd>) -> std::os::fd::BorrowedFd<'static> {
        let fd: &'static OwnedFd = Box::leak(Box::new(fd.into()));
        fd.as_fd()
    }

    /// Logs each chunk's size and the end of input.
    struct Chunks(Rc<RefCell<Vec<String>>>);

    impl Protocol for Chunks {
        fn data_received(&mut self, data: &[u8]) {
            self.0.borrow_mut().push(data.len().to_string());
        }

        fn read_connection_lost(&mut self) -> AfterEof {
            self.0.borrow_mut().push("eof".to_string());
            AfterEof::Close
        }
    }

    /// A regular file is refused by epoll: it is read one chunk per loop
    /// turn, and a timer due every turn still runs between the chunks.
    #[test]
    fn a_file_epoll_refuses_is_read_one_chunk_per_turn() {
        let path = std::env::temp_dir().join(format!("descriptor-{}", std::process::id()));
        let mut file = std::fs::File::create(&path).expect("create");
        file.write_all(&vec![b'x'; 3 * 65536 + 100]).expect("write");
        let input = leak(std::fs::File::open(&path).expect("open"));
        std::fs::remove_file(&path).expect("remove");
        let (_, out) = rustix::pipe::pipe().expect("pipe");
        let (_, err) = rustix::pipe::pipe().expect("pipe");
        let outputs = [leak(out), leak(err)];

        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock)).expect("reactor");
        let log = Rc::new(RefCell::new(Vec::new()));
        fn tick(reactor: Reactor, log: Rc<RefCell<Vec<String>>>) {
            log.borrow_mut().push("tick".to_string());
            let next = reactor.clone();
            reactor.call_later(Duration::ZERO, move || tick(next, log));
        }
        let (r, l) = (reactor.clone(), log.clone());
        reactor.call_later(Duration::ZERO, move || tick(r, l));

        let protocol: Rc<RefCell<dyn Protocol>> = Rc::new(RefCell::new(Chunks(log.clone())));
        let transport = reactor
            .add_connection(protocol, |registry, token| {
                let fds = Fds::open(registry, token, input, outputs)?;
                assert_eq!(fds.input, Watch::Continuous);
                assert_eq!(fds.output_polled, [true, true]);
                Ok((Descriptor::Fds(fds), None))
            })
            .expect("connection");
        for _ in 0..6 {
            reactor.iterate(Some(Duration::ZERO)).expect("iterate");
        }
        assert_eq!(
            *log.borrow(),
            [
                "tick", "65536", "tick", "65536", "tick", "65536", "tick", "100", "tick", "eof",
                "tick"
            ]
        );
        assert!(transport.closed());
    }
}
