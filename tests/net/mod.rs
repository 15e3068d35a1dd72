//! Helpers for the end-to-end tests of server and client (`tests/server.rs`,
//! `tests/client.rs`): they run the real `callcenter` binary.
//!
//! Nothing here can hang a test: every read from a child has a deadline (a
//! reader thread per pipe, and `recv_timeout` on its channel), every socket
//! has read and write timeouts, and every child is killed and reaped when its
//! [`Proc`] is dropped, even when the test fails. No sleeps: a thread blocks
//! in `waitid(WNOWAIT)` to learn when a child exits (leaving it unreaped, so
//! its pid cannot be reused while we may still signal it). When a test fails,
//! what its children printed and had not been read yet is shown.

#![allow(dead_code)]

#[path = "../support/exit.rs"]
mod exit;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Generous: a broken program fails a test after this long instead of hanging it.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The deadline [`TIMEOUT`] from now.
pub fn deadline() -> Instant {
    Instant::now() + TIMEOUT
}

/// A `Command` for the binary under test, without the environment
/// variables that would change what it prints.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_callcenter"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLICOLOR_FORCE");
    command
}

/// The bytes as text; fails the test if they are not UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec())
        .unwrap_or_else(|_| panic!("not UTF-8: {:?}", String::from_utf8_lossy(bytes)))
}

/// The read end of a child's pipe, read by a thread.
pub struct Pipe {
    name: &'static str,
    chunks: Receiver<Vec<u8>>,
    /// Received and not yet returned.
    buffer: Vec<u8>,
    eof: bool,
}

impl Pipe {
    /// Reads `reader` on a thread until EOF.
    pub fn new(name: &'static str, mut reader: impl Read + Send + 'static) -> Pipe {
        let (sender, chunks) = mpsc::channel();
        thread::spawn(move || {
            let mut chunk = vec![0; 64 * 1024];
            loop {
                match reader.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        if sender.send(chunk[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
        Pipe {
            name,
            chunks,
            buffer: Vec::new(),
            eof: false,
        }
    }

    /// Waits for more bytes; false at EOF. Fails the test past `deadline`.
    fn fill(&mut self, deadline: Instant) -> bool {
        if self.eof {
            return false;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.chunks.recv_timeout(left) {
            Ok(chunk) => {
                self.buffer.extend_from_slice(&chunk);
                true
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                false
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "timed out waiting for {}; got so far: {:?}",
                self.name,
                String::from_utf8_lossy(&self.buffer)
            ),
        }
    }

    /// The next line, without its `\n`; `None` at EOF. Fails the test on a
    /// timeout or on an unterminated last line.
    pub fn line(&mut self, deadline: Instant) -> Option<String> {
        loop {
            if let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Some(text(&line[..end]));
            }
            if !self.fill(deadline) {
                assert!(
                    self.buffer.is_empty(),
                    "{}: unterminated last line {:?}",
                    self.name,
                    String::from_utf8_lossy(&self.buffer)
                );
                return None;
            }
        }
    }

    /// The next line, which must exist (not EOF).
    pub fn expect_line(&mut self, deadline: Instant) -> String {
        self.line(deadline)
            .unwrap_or_else(|| panic!("{}: EOF instead of a line", self.name))
    }

    /// Everything up to EOF (what was not returned yet).
    pub fn rest(&mut self, deadline: Instant) -> Vec<u8> {
        while self.fill(deadline) {}
        std::mem::take(&mut self.buffer)
    }
}

/// A child process, killed and reaped when dropped.
pub struct Proc {
    child: Child,
    /// Signalled once the child has exited (it is still unreaped then).
    exited: Receiver<()>,
    /// The child's stdin, when piped and not closed yet.
    pub stdin: Option<ChildStdin>,
    /// Stdout (with stderr too when started merged).
    pub stdout: Pipe,
    /// Stderr, unless merged into stdout.
    pub stderr: Option<Pipe>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `callcenter args` with `stdin`; stdout and stderr are pipes,
    /// one pipe for both when `merged` (as `2>&1`).
    pub fn spawn(args: &[&str], stdin: Stdio, merged: bool) -> Proc {
        let mut command = command(args);
        command.stdin(stdin);
        let merged_reader = if merged {
            let (reader, writer) = std::io::pipe().expect("pipe");
            command
                .stdout(writer.try_clone().expect("dup pipe"))
                .stderr(writer);
            Some(reader)
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            None
        };
        let mut child = command.spawn().expect("cannot start callcenter");
        // Our copies of the pipe's write end must go, or EOF never comes.
        drop(command);
        let stdout = match merged_reader {
            Some(reader) => Pipe::new("stdout+stderr", reader),
            None => Pipe::new("stdout", child.stdout.take().expect("piped")),
        };
        let stderr = child.stderr.take().map(|pipe| Pipe::new("stderr", pipe));
        let exited = exit::watch_exit(child.id());
        Proc {
            stdin: child.stdin.take(),
            child,
            exited,
            stdout,
            stderr,
            status: None,
        }
    }

    /// Writes `bytes` to stdin (which stays open).
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is closed");
        stdin.write_all(bytes).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Writes `input` to stdin from a thread (so a large input cannot
    /// deadlock against the output), then closes it.
    pub fn feed(&mut self, input: Vec<u8>) {
        let mut stdin = self.stdin.take().expect("stdin is piped");
        // Errors are ignored: the program may stop reading (`exit`).
        thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }

    /// Closes stdin: end of input.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Sends `signal` (the child is not reaped yet, so its pid is still its own).
    pub fn signal(&self, signal: libc::c_int) {
        assert!(self.status.is_none(), "the child was already reaped");
        // SAFETY: kill(2) with a pid we own and have not reaped.
        let result = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(result, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits for the child to exit, by `deadline`; fails the test otherwise.
    pub fn wait(&mut self, deadline: Instant) -> ExitStatus {
        if let Some(status) = self.status {
            return status;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match self.exited.recv_timeout(left) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
            Err(RecvTimeoutError::Timeout) => panic!("the child did not exit in time"),
        }
        let status = self.child.wait().expect("wait");
        self.status = Some(status);
        status
    }

    /// Waits for the exit and returns the exit code and what is left of
    /// stdout and stderr (empty stderr when merged).
    pub fn finish(&mut self, deadline: Instant) -> (Option<i32>, String, String) {
        let stdout = text(&self.stdout.rest(deadline));
        let stderr = match &mut self.stderr {
            Some(pipe) => text(&pipe.rest(deadline)),
            None => String::new(),
        };
        let status = self.wait(deadline);
        (status.code(), stdout, stderr)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            self.status = self.child.wait().ok();
        }
        if thread::panicking() {
            // Show what the child said, to explain the failure.
            let soon = Instant::now() + Duration::from_secs(1);
            let pipes = [Some(&mut self.stdout), self.stderr.as_mut()];
            for pipe in pipes.into_iter().flatten() {
                let mut rest = std::mem::take(&mut pipe.buffer);
                while !pipe.eof && Instant::now() < soon {
                    match pipe.chunks.recv_timeout(soon - Instant::now()) {
                        Ok(chunk) => rest.extend_from_slice(&chunk),
                        Err(_) => break,
                    }
                }
                eprintln!(
                    "child {:?} (exit {:?}), unread {}: {:?}",
                    self.child.id(),
                    self.status,
                    pipe.name,
                    String::from_utf8_lossy(&rest)
                );
            }
        }
    }
}

/// What a finished run printed, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Everything on stdout (both outputs when merged).
    pub stdout: String,
    /// Everything on stderr (empty when merged).
    pub stderr: String,
}

/// Runs `callcenter args` with `input` on stdin (then EOF), to its end.
pub fn run(args: &[&str], input: &[u8], merged: bool) -> Outcome {
    let mut proc = Proc::spawn(args, Stdio::piped(), merged);
    proc.feed(input.to_vec());
    let (code, stdout, stderr) = proc.finish(deadline());
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// A running `callcenter server`, listening on a free port of 127.0.0.1.
pub struct Server {
    /// The server process (stdin `/dev/null`).
    pub proc: Proc,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `callcenter server --listen 127.0.0.1:0 args` and reads the
    /// port from its one line, `Listening on 127.0.0.1:PORT`.
    pub fn start(args: &[&str]) -> Server {
        let mut all = vec!["server", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut proc = Proc::spawn(&all, Stdio::null(), false);
        let line = proc.stdout.expect_line(deadline());
        let addr = line
            .strip_prefix("Listening on ")
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("not a `Listening on ADDR` line: {line:?}"));
        assert_eq!(addr.ip().to_string(), "127.0.0.1", "{line}");
        assert_ne!(addr.port(), 0, "{line}");
        Server { proc, addr }
    }

    /// The address as the client's `--connect` takes it.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// A raw connection to the server.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Stops the server with SIGTERM; it must exit 0 promptly, having
    /// printed nothing more on stdout and nothing on stderr.
    pub fn stop(mut self) {
        self.proc.signal(libc::SIGTERM);
        let promptly = Instant::now() + Duration::from_secs(5);
        let (code, stdout, stderr) = self.proc.finish(promptly);
        assert_eq!(code, Some(0), "server exit status");
        assert_eq!(stdout, "", "server stdout after its first line");
        assert_eq!(stderr, "", "server stderr");
    }
}

/// A raw TCP connection to the server, as a hand-written client would make.
pub struct Conn {
    /// The socket, for writing.
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    /// Connects to `addr`, with read and write timeouts.
    pub fn connect(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect to the server");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        let reader = BufReader::new(stream.try_clone().expect("clone socket"));
        Conn { stream, reader }
    }

    /// Sends `bytes` as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send to the server");
        self.stream.flush().expect("flush");
    }

    /// The next line from the server, without its `\n`; `None` at EOF.
    /// Fails the test on a timeout, an error, or an unterminated line.
    pub fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let n = self
            .reader
            .read_until(b'\n', &mut line)
            .unwrap_or_else(|error| panic!("reading a reply: {error}; got {line:?}"));
        if n == 0 {
            return None;
        }
        assert_eq!(
            line.pop(),
            Some(b'\n'),
            "unterminated reply {:?}",
            String::from_utf8_lossy(&line)
        );
        Some(text(&line))
    }

    /// The next line, which must exist.
    pub fn expect_line(&mut self) -> String {
        self.line().expect("EOF instead of a reply")
    }

    /// Sends `request` (a line is added) and returns the next line.
    pub fn request(&mut self, request: &str) -> String {
        self.send(format!("{request}\n").as_bytes());
        self.expect_line()
    }

    /// The server must close the connection now (nothing more to read).
    pub fn expect_eof(&mut self) {
        assert_eq!(self.line(), None, "expected EOF");
    }
}

/// A small deterministic PRNG (SplitMix64), so that generated scripts are
/// the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}
