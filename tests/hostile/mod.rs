//! Shared helpers of the hostile test suite (`tests/hostile_*.rs`).
//!
//! Every case runs the real `callcenter server` binary, attacks it over raw
//! sockets (or through its process: signals, descriptor limits, closed
//! standard streams), then checks three things:
//!
//! 1. the server process is still alive;
//! 2. a client connected *before* the attack is still served correctly;
//! 3. the queue state is intact: the seed's script, run on that client and
//!    on a fresh connection, gives exactly the seed's transcript, reply by
//!    reply (it ends in the state it started from, so it can run twice).
//!
//! Nothing waits forever: every read has a deadline, every child process is
//! killed when its guard drops, even when the test fails. Servers listen on
//! `127.0.0.1:0` and speak English (`--lang en`).
#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_callcenter");

/// Deadline of every wait: a broken server fails a test instead of hanging it.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The seed's script and its expected English transcript.
pub const SEED_CMDS: &str = include_str!("../fixtures/seed.cmds");
pub const SEED_EN: &str = include_str!("../fixtures/seed.en.out");

/// The error reply to anything that is not a request.
pub const INVALID: &str = r#"{"response": "Invalid request: expected {\"command\": \"<command>\", \"id\": \"<id>\"}", "error": true}"#;

/// The error reply to a message over 64 KiB (the connection closes after it).
pub const TOO_LONG: &str = r#"{"response": "Message too long (over 65536 bytes): closing the connection", "error": true, "closing": true}"#;

/// The longest message the server accepts, in bytes (newline excluded).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// `text` as a JSON string, exactly as the server encodes it.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string encodes")
}

/// The reply line (no newline) of a command that succeeded.
pub fn ok(text: &str) -> String {
    format!("{{\"response\": {}}}", json_string(text))
}

/// The reply line of a command that failed.
pub fn error(text: &str) -> String {
    format!("{{\"response\": {}, \"error\": true}}", json_string(text))
}

/// An event line (what a ring timeout caused, sent to every client).
pub fn event(text: &str) -> String {
    format!("{{\"response\": {}, \"event\": true}}", json_string(text))
}

/// The refusal past `--max-clients`: not a reply to any command, the
/// server closes the connection after it.
pub fn server_full(max_clients: u32) -> String {
    format!(
        "{{\"response\": {}, \"error\": true, \"closing\": true}}",
        json_string(&format!(
            "Server full (limit {max_clients}): try again later"
        ))
    )
}

/// The usage error of `verb`.
pub fn usage(verb: &str) -> String {
    error(&format!("Usage: {verb} <id>"))
}

/// The request line (no newline) for `verb id`, as the client sends it.
pub fn request(verb: &str, id: &str) -> String {
    format!(
        "{{\"command\": {}, \"id\": {}}}",
        json_string(verb),
        json_string(id)
    )
}

/// A request line padded (with an ignored field) to exactly `len` bytes.
pub fn padded_request(verb: &str, id: &str, len: usize) -> Vec<u8> {
    let head = format!(
        "{{\"command\": {}, \"id\": {}, \"pad\": \"",
        json_string(verb),
        json_string(id)
    );
    let tail = "\"}";
    assert!(len >= head.len() + tail.len(), "{len} is too short");
    let mut line = head.into_bytes();
    line.resize(len - tail.len(), b'x');
    line.extend_from_slice(tail.as_bytes());
    assert_eq!(line.len(), len);
    line
}

/// Whether a transcript line is the first message of the seed command `verb id`.
fn starts_reply(verb: &str, id: &str, line: &str) -> bool {
    match verb {
        "call" => line == format!("Call {id} received"),
        "answer" => line.ends_with(&format!(" answered by operator {id}")),
        "reject" => line.ends_with(&format!(" rejected by operator {id}")),
        "hangup" => {
            line == format!("Call {id} missed")
                || line.starts_with(&format!("Call {id} finished and operator "))
        }
        _ => panic!("unexpected seed verb {verb:?}"),
    }
}

/// The seed's script as (request line, exact reply line) pairs, the
/// replies cut out of `seed.en.out` (each command's messages start with
/// the message naming it: *received*, *answered*, ...).
pub fn seed_steps() -> Vec<(String, String)> {
    let commands: Vec<(&str, &str)> = SEED_CMDS
        .lines()
        .map(|line| line.split_once(' ').expect("`verb id`"))
        .collect();
    let transcript: Vec<&str> = SEED_EN.lines().collect();
    let mut steps = Vec::new();
    let mut at = 0;
    for (index, (verb, id)) in commands.iter().enumerate() {
        assert!(
            starts_reply(verb, id, transcript[at]),
            "seed line {at} does not start the reply to {verb} {id}"
        );
        let mut end = at + 1;
        while end < transcript.len()
            && !commands
                .get(index + 1)
                .is_some_and(|(verb, id)| starts_reply(verb, id, transcript[end]))
        {
            end += 1;
        }
        steps.push((request(verb, id), ok(&transcript[at..end].join("\n"))));
        at = end;
    }
    assert_eq!(at, transcript.len(), "the seed transcript was not all used");
    steps
}

/// A tiny deterministic PRNG (SplitMix64): the same seed, the same attack.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Kills (and reaps) a child process when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `callcenter server`, killed when dropped.
pub struct Server {
    child: KillOnDrop,
    addr: SocketAddr,
    /// Everything the server wrote to stderr so far.
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Gets what followed the `Listening on` line at end of file (when
    /// stdout is drained): the process is exiting.
    stdout_closed: Option<Receiver<Vec<u8>>>,
}

/// The server's standard streams, when not the usual ones (stdin
/// `/dev/null`, stdout drained, stderr captured).
#[derive(Clone, Copy, Debug, Default)]
pub struct Streams {
    /// stdin is a pipe whose write end is closed at once.
    pub stdin_closed_pipe: bool,
    /// stderr is a pipe whose read end is closed at once.
    pub stderr_closed: bool,
    /// stdout's read end is closed right after the `Listening on` line.
    pub stdout_closed_after_banner: bool,
}

impl Server {
    /// `callcenter server --listen 127.0.0.1:0 --lang en ARGS`, stdin `/dev/null`.
    pub fn start(args: &[&str]) -> Server {
        Server::launch(Server::command(args), Streams::default())
    }

    /// The command of [`start`](Server::start), to adjust before launching.
    pub fn command(args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(["server", "--listen", "127.0.0.1:0", "--lang", "en"])
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("CLICOLOR_FORCE");
        command
    }

    /// Spawns `command` (which must run a server that prints `Listening on
    /// ADDR`, directly or through `exec`) with the standard streams
    /// `streams` asks for, and waits for that line.
    pub fn launch(mut command: Command, streams: Streams) -> Server {
        let stdin = if streams.stdin_closed_pipe {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = command
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        // Dropping our end of a pipe closes it: the server's stdin reads
        // end of file at once, its stderr writes fail with EPIPE.
        drop(child.stdin.take());
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr_pipe = child.stderr.take();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        match stderr_pipe {
            Some(pipe) if streams.stderr_closed => drop(pipe),
            Some(mut pipe) => {
                let sink = stderr.clone();
                thread::spawn(move || {
                    let mut chunk = [0u8; 4096];
                    while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                        sink.lock().unwrap().extend_from_slice(&chunk[..n]);
                    }
                });
            }
            None => {}
        }
        let mut server = Server {
            child: KillOnDrop(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr,
            stdout_closed: None,
        };
        // Read the first line on a thread: a server that never prints it
        // fails the test at the deadline instead of hanging it.
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let result = reader.read_line(&mut line).map(|_| line);
            let _ = sender.send((result, reader));
        });
        let (line, mut reader) = match receiver.recv_timeout(TIMEOUT) {
            Ok((Ok(line), reader)) => (line, reader),
            Ok((Err(error), _)) => server.fail(&format!("reading its stdout failed: {error}")),
            Err(_) => server.fail("no `Listening on` line in time"),
        };
        let Some(addr) = line
            .strip_suffix('\n')
            .and_then(|line| line.strip_prefix("Listening on "))
            .and_then(|addr| addr.parse().ok())
        else {
            server.fail(&format!("unexpected first line {line:?}"))
        };
        server.addr = addr;
        if !streams.stdout_closed_after_banner {
            // Drain the rest on a thread; its end of file tells when the
            // process is gone (see `wait_exit`).
            let (sender, receiver) = mpsc::channel();
            thread::spawn(move || {
                let mut rest = Vec::new();
                let _ = reader.read_to_end(&mut rest);
                let _ = sender.send(rest);
            });
            server.stdout_closed = Some(receiver);
        }
        server
    }

    /// Panics with what the server printed on stderr (it is killed by the guard).
    #[track_caller]
    pub fn fail(&mut self, why: &str) -> ! {
        let status = self.child.0.try_wait();
        panic!(
            "server: {why}; status {status:?}; stderr:\n{}",
            self.stderr_text()
        );
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> i32 {
        self.child.0.id() as i32
    }

    /// A new connection to the server.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Connects as soon as the server has room (closed connections are
    /// noticed asynchronously): retries while it answers "Server full",
    /// until the deadline. The connection has been served once.
    #[track_caller]
    pub fn connect_when_room(&mut self, max_clients: u32) -> Conn {
        let full = server_full(max_clients);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let mut conn = self.connect();
            conn.send(format!("{}\n", request("hangup", "room")).as_bytes());
            match conn.next_within(TIMEOUT) {
                Next::Line(line) if line == error("Call room not found") => return conn,
                Next::Line(line) if line == full && Instant::now() < deadline => {
                    // Give the server a moment to notice the closed ones.
                    thread::sleep(Duration::from_millis(5));
                }
                other => self.fail(&format!("no room for a client: {other:?}")),
            }
        }
    }

    /// The server process has not exited.
    #[track_caller]
    pub fn assert_alive(&mut self) {
        match self.child.0.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => self.fail(&format!("exited with {status}")),
            Err(error) => self.fail(&format!("try_wait failed: {error}")),
        }
    }

    /// The server's resident memory, in KiB (from `/proc/PID/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status is readable");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse().ok())
            .expect("a VmRSS line")
    }

    /// How many descriptors the server has open (from `/proc/PID/fd`).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("/proc/PID/fd is readable")
            .count()
    }

    /// CPU time the server has used so far (user + system).
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("/proc/PID/stat is readable");
        // Fields after the command name (which may hold blanks, hence the
        // last ')'): state is field 3, utime field 14, stime field 15.
        let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / per_second)
    }

    /// Sends `signal` to the server.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill only sends a signal; the child is not reaped yet, so
        // its pid cannot have been reused.
        let result = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(result, 0, "kill failed: {}", io::Error::last_os_error());
    }

    /// Waits for the server to exit (at most `timeout`) and returns its status.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        // When stdout is drained, its end of file says the process is gone
        // (or closing): no polling needed until then.
        if let Some(closed) = &self.stdout_closed {
            match closed.recv_timeout(timeout) {
                Ok(_) | Err(RecvTimeoutError::Disconnected) => {}
                Err(RecvTimeoutError::Timeout) => {
                    self.fail(&format!("still running {timeout:?} later"))
                }
            }
        }
        loop {
            match self.child.0.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(2));
                }
                Ok(None) => self.fail(&format!("still running {timeout:?} later")),
                Err(error) => self.fail(&format!("try_wait failed: {error}")),
            }
        }
    }

    /// The whole health check after an attack: alive, the client connected
    /// before it still served (the seed's script, exact replies), and the
    /// queue state intact (the seed's script again, on a fresh connection).
    /// Needs operators `A,B` and no ring timeout firing during the script.
    #[track_caller]
    pub fn check_healthy(&mut self, bystander: &mut Conn) {
        self.assert_alive();
        bystander.run_seed();
        let mut fresh = self.connect();
        fresh.run_seed();
        self.assert_alive();
    }
}

/// What a read on a connection found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A complete line (newline removed).
    Line(String),
    /// The server closed the connection (FIN).
    Eof,
    /// The connection was reset (RST).
    Reset,
    /// Nothing complete arrived before the deadline.
    TimedOut,
    /// The connection ended (end of file) in the middle of this line.
    Truncated(String),
}

/// A raw client connection, reading line by line with deadlines.
pub struct Conn {
    pub stream: TcpStream,
    buffer: Vec<u8>,
}

impl Conn {
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect to the server");
        Conn::new(stream)
    }

    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buffer: Vec::new(),
        }
    }

    /// Writes all of `bytes`; panics if the connection is broken.
    #[track_caller]
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|error| panic!("write failed: {error}"));
    }

    /// Writes `bytes` one byte per write (with Nagle off, one per segment).
    #[track_caller]
    pub fn send_bytewise(&mut self, bytes: &[u8]) {
        self.stream.set_nodelay(true).unwrap();
        for byte in bytes.chunks(1) {
            self.send(byte);
        }
    }

    /// The next line, end of file, reset, or nothing within `timeout`.
    pub fn next_within(&mut self, timeout: Duration) -> Next {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8(line[..end].to_vec()).unwrap_or_else(|_| {
                    panic!("the server sent a line that is not UTF-8: {line:?}")
                });
                return Next::Line(line);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::TimedOut;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) if self.buffer.is_empty() => return Next::Eof,
                Ok(0) => {
                    let rest = std::mem::take(&mut self.buffer);
                    return Next::Truncated(String::from_utf8_lossy(&rest).into_owned());
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    return Next::TimedOut;
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) if error.kind() == ErrorKind::ConnectionReset => return Next::Reset,
                Err(error) => panic!("read failed: {error}"),
            }
        }
    }

    /// The next line; panics on end of file, reset or timeout.
    #[track_caller]
    pub fn line(&mut self) -> String {
        match self.next_within(TIMEOUT) {
            Next::Line(line) => line,
            other => panic!("expected a reply line, got {other:?}"),
        }
    }

    /// Sends `line` plus a newline and returns the reply.
    #[track_caller]
    pub fn request(&mut self, line: &str) -> String {
        self.send(format!("{line}\n").as_bytes());
        self.line()
    }

    /// Sends `line` plus a newline and checks the reply, whole.
    #[track_caller]
    pub fn expect(&mut self, line: &str, reply: &str) {
        assert_eq!(self.request(line), reply, "the reply to {line}");
    }

    /// Sends raw `bytes` and checks the replies they get, whole and in order.
    #[track_caller]
    pub fn expect_raw(&mut self, bytes: &[u8], replies: &[&str]) {
        self.send(bytes);
        for (index, reply) in replies.iter().enumerate() {
            assert_eq!(
                self.line(),
                *reply,
                "reply {index} to {:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    /// Proves that nothing else is pending: a harmless request gets its own
    /// reply first (replies come in order, so a stray reply would be first).
    #[track_caller]
    pub fn expect_nothing_pending(&mut self) {
        self.expect(
            &request("hangup", "sentinel"),
            &error("Call sentinel not found"),
        );
    }

    /// The server closed the connection cleanly: end of file, nothing more.
    #[track_caller]
    pub fn expect_eof(&mut self) {
        assert_eq!(self.next_within(TIMEOUT), Next::Eof);
    }

    /// Runs the seed's script, checking every reply whole.
    #[track_caller]
    pub fn run_seed(&mut self) {
        for (request, reply) in seed_steps() {
            self.expect(&request, &reply);
        }
    }
}

/// Makes closing `stream` send a reset (RST) instead of a clean FIN.
pub fn set_linger_zero(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt reads `linger` for the given size.
    let result = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(result, 0, "SO_LINGER: {}", io::Error::last_os_error());
}

/// Closes `stream` abruptly: the server sees a reset.
pub fn reset(stream: TcpStream) {
    set_linger_zero(stream.as_raw_fd());
    drop(stream);
}

/// Connects to `addr` with a receive buffer of about `bytes` (set before
/// connecting, so the advertised window is small from the start).
pub fn connect_with_small_rcvbuf(addr: SocketAddr, bytes: i32) -> TcpStream {
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only")
    };
    // SAFETY: plain socket calls on a descriptor we own; the sockaddr is
    // fully initialised for its size.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
        let owned = OwnedFd::from_raw_fd(fd);
        let result = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&bytes as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        );
        assert_eq!(result, 0, "SO_RCVBUF: {}", io::Error::last_os_error());
        let mut sockaddr: libc::sockaddr_in = std::mem::zeroed();
        sockaddr.sin_family = libc::AF_INET as libc::sa_family_t;
        sockaddr.sin_port = v4.port().to_be();
        sockaddr.sin_addr.s_addr = u32::from(*v4.ip()).to_be();
        let result = libc::connect(
            fd,
            (&sockaddr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(result, 0, "connect: {}", io::Error::last_os_error());
        TcpStream::from(owned)
    }
}

/// Waits (at most `timeout`) for the peer to close or reset `stream`,
/// without reading from it. Returns whether it did.
pub fn wait_peer_closed(stream: &TcpStream, timeout: Duration) -> bool {
    let mut poll = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // SAFETY: poll reads and writes the one pollfd passed.
        let ready = unsafe { libc::poll(&mut poll, 1, left.as_millis() as libc::c_int) };
        if ready > 0 {
            return poll.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0;
        }
        if ready == 0 || Instant::now() >= deadline {
            return false;
        }
    }
}

/// Waits (at most `timeout`) until `stream` can take more bytes.
pub fn wait_writable(stream: &TcpStream, timeout: Duration) -> bool {
    let mut poll = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: poll reads and writes the one pollfd passed.
    let ready = unsafe { libc::poll(&mut poll, 1, timeout.as_millis() as libc::c_int) };
    ready > 0 && poll.revents & libc::POLLOUT != 0
}

/// Raises this process's soft limit on open files to the hard limit and
/// returns it (tests that open thousands of sockets need it).
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct passed.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max;
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
        }
    }
    limit.rlim_cur
}

/// Runs `callcenter ARGS` with `input` on stdin (a pipe, closed after it)
/// and returns what it printed once it exited; killed at the deadline.
pub fn run(args: &[&str], input: Vec<u8>) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = KillOnDrop(child);
    let mut stdin = child.0.stdin.take().expect("stdin is piped");
    // Threads, so that neither a large input nor a large output can block.
    thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let collect = |mut pipe: Box<dyn Read + Send>| {
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut all = Vec::new();
            let _ = pipe.read_to_end(&mut all);
            let _ = sender.send(all);
        });
        receiver
    };
    let stdout = collect(Box::new(child.0.stdout.take().expect("piped")));
    let stderr = collect(Box::new(child.0.stderr.take().expect("piped")));
    let deadline = Instant::now() + TIMEOUT;
    let wait = |receiver: Receiver<Vec<u8>>| {
        receiver
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("`callcenter {}` did not finish in time", args.join(" ")))
    };
    let stdout = wait(stdout);
    let stderr = wait(stderr);
    let status = child.0.wait().expect("wait for the child");
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Like [`run`], but stdout and stderr share one pipe (as `2>&1`): the
/// returned `stdout` holds both, in the order written; `stderr` is empty.
pub fn run_merged(args: &[&str], input: Vec<u8>) -> Output {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors, which we then own.
    let (read_end, write_end) = unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    let child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::from(write_end.try_clone().expect("dup")))
        .stderr(Stdio::from(write_end))
        .spawn()
        .expect("the binary starts");
    let mut child = KillOnDrop(child);
    let mut stdin = child.0.stdin.take().expect("stdin is piped");
    thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::fs::File::from(read_end).read_to_end(&mut all);
        let _ = sender.send(all);
    });
    let stdout = receiver
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|_| panic!("`callcenter {}` did not finish in time", args.join(" ")));
    let status = child.0.wait().expect("wait for the child");
    Output {
        status,
        stdout,
        stderr: Vec::new(),
    }
}
