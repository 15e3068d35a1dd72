//! Running the binary under test: to its end ([`run`]), or kept running as
//! a [`Proc`] whose output is read line by line with deadlines.
//!
//! Each pipe from a child is read by a thread into a channel, so a read can
//! give up at a deadline; a thread blocked in `waitid(WNOWAIT)` (see
//! [`super::exit`]) tells when the child exits without reaping it, so its pid
//! stays its own while a test may still signal it.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use super::exit;

/// Generous: a broken program fails a test after this long instead of hanging it.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The deadline [`TIMEOUT`] from now.
pub fn deadline() -> Instant {
    Instant::now() + TIMEOUT
}

/// A `Command` for the binary under test, with `args`, without the
/// environment variables that would change what it prints.
pub fn command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_callcenter"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
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
    /// Everything returned so far, in order.
    taken: Vec<u8>,
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
            taken: Vec::new(),
            eof: false,
        }
    }

    /// A pipe that is already at its end (its read end was closed on purpose).
    pub fn closed(name: &'static str) -> Pipe {
        let (_, chunks) = mpsc::channel();
        Pipe {
            name,
            chunks,
            buffer: Vec::new(),
            taken: Vec::new(),
            eof: true,
        }
    }

    /// What arrived so far and was not returned yet, without waiting and
    /// without taking it.
    pub fn so_far(&mut self) -> String {
        while let Ok(chunk) = self.chunks.try_recv() {
            self.buffer.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&self.buffer).into_owned()
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
                self.taken.extend_from_slice(&line);
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
        self.taken.extend_from_slice(&self.buffer);
        std::mem::take(&mut self.buffer)
    }

    /// Everything the pipe carried, up to EOF: what was returned already
    /// (by [`line`](Pipe::line)) and the rest.
    pub fn all(&mut self, deadline: Instant) -> String {
        self.rest(deadline);
        text(&self.taken)
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
        Proc::start(command(args), stdin, merged)
    }

    /// Starts `command` (see [`command`]) with `stdin`; stdout and stderr
    /// are pipes, one pipe for both when `merged` (as `2>&1`).
    pub fn start(mut command: Command, stdin: Stdio, merged: bool) -> Proc {
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
        Proc::adopt(child, stdout, stderr)
    }

    /// Takes charge of a child started by hand, whose output is read by
    /// `stdout` and `stderr` (its stdin stays with it, if piped).
    pub fn adopt(mut child: Child, stdout: Pipe, stderr: Option<Pipe>) -> Proc {
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

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child is still running (once it has exited, it is
    /// reaped and its status kept).
    pub fn running(&mut self) -> bool {
        if self.status.is_some() {
            return false;
        }
        match self.exited.try_recv() {
            Err(TryRecvError::Empty) => true,
            Ok(()) | Err(TryRecvError::Disconnected) => {
                self.status = Some(self.child.wait().expect("wait"));
                false
            }
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

impl Proc {
    /// Starts `callcenter args` with stdin a pipe held open, stdout and
    /// stderr apart: a session to talk to.
    pub fn session(args: &[&str]) -> Proc {
        Proc::spawn(args, Stdio::piped(), false)
    }

    /// The next stdout line, its `\n` included; fails the test at EOF or
    /// past [`TIMEOUT`].
    pub fn read_line(&mut self) -> String {
        format!("{}\n", self.stdout.expect_line(deadline()))
    }

    /// Waits for the exit and returns the whole transcript: all of stdout
    /// and stderr from the start (lines already read included), and the
    /// exit code.
    pub fn outcome(&mut self, deadline: Instant) -> Outcome {
        let stdout = self.stdout.all(deadline);
        let stderr = match &mut self.stderr {
            Some(pipe) => pipe.all(deadline),
            None => String::new(),
        };
        let code = self.wait(deadline).code();
        Outcome {
            code,
            stdout,
            stderr,
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

/// Runs `callcenter args` with `stdin` (a file, `Stdio::null()`, ...), to
/// its end, stdout and stderr apart.
pub fn run_with_stdin(args: &[&str], stdin: Stdio) -> Outcome {
    let (code, stdout, stderr) = Proc::spawn(args, stdin, false).finish(deadline());
    Outcome {
        code,
        stdout,
        stderr,
    }
}
