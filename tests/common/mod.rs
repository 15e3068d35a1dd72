//! Shared helpers for end-to-end tests: run the real `callcenter` binary as a
//! subprocess, feed its stdin, collect its stdout, stderr and exit status.
//!
//! Nothing here waits forever: every wait has a deadline, after which the
//! child is killed and the test fails with what it printed so far. No sleeps:
//! a helper thread blocks in `waitid(WNOWAIT)` (which leaves the child
//! unreaped, so its pid cannot be reused while we may still signal it) and
//! another reads stdout line by line, so tests can wait for a given line.

#![allow(dead_code)]

#[path = "../support/exit.rs"]
mod exit;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Generous overall deadline: a broken program fails a test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// A `Command` for the binary under test, with `args`, and with the
/// environment variables that would change its output removed.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_callcenter"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    command
}

/// Runs the binary with `args`, writes `input` to its stdin (a pipe) and
/// closes it, and returns everything it printed once it has exited.
pub fn run(args: &[&str], input: &[u8]) -> Output {
    let mut session = Session::spawn(args);
    let stdin = session.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // A thread, so that a large input cannot deadlock against the output.
    // Write errors are ignored: the program may stop reading (e.g. `exit`).
    let writer = thread::spawn(move || {
        let mut stdin = stdin;
        let _ = stdin.write_all(&input);
    });
    let output = session.wait(DEADLINE);
    writer.join().expect("the stdin writer panicked");
    output
}

/// Runs the binary with `args` and the given stdin (a file, `Stdio::null()`,
/// ...) and returns everything it printed once it has exited.
pub fn run_with_stdin(args: &[&str], stdin: Stdio) -> Output {
    Session::start(command(args), stdin, false).wait(DEADLINE)
}

/// Runs the binary like [`run`], but with stdout and stderr on one pipe (as
/// `2>&1`): the returned `stdout` holds both, in the order written, and
/// `stderr` is empty.
pub fn run_merged(args: &[&str], input: &[u8]) -> Output {
    let mut session = Session::start(command(args), Stdio::piped(), true);
    let mut stdin = session.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = session.wait(DEADLINE);
    writer.join().expect("the stdin writer panicked");
    output
}

/// The bytes as text, failing the test if they are not UTF-8 (everything the
/// program prints must be).
pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_else(|error| {
        panic!(
            "output is not UTF-8 ({error}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// A running child: stdin held open until closed or the child exits.
pub struct Session {
    child: Child,
    /// The write end of the child's stdin (when piped and not yet closed).
    pub stdin: Option<ChildStdin>,
    /// Stdout, one line (with its `\n`) per message; closed at EOF.
    lines: Receiver<Vec<u8>>,
    /// Every stdout byte received so far.
    stdout: Vec<u8>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// Signalled when the child has exited (it is still unreaped then).
    exited: Receiver<()>,
}

impl Session {
    /// Starts the binary with `args`, stdin a pipe held open.
    pub fn spawn(args: &[&str]) -> Session {
        Session::start(command(args), Stdio::piped(), false)
    }

    /// Starts the binary with `args`, stdin a pipe held open, stdout and
    /// stderr on one pipe (as `2>&1`).
    pub fn spawn_merged(args: &[&str]) -> Session {
        Session::start(command(args), Stdio::piped(), true)
    }

    /// Starts `command` with `stdin`; stdout and stderr are piped (the same
    /// pipe when `merged`).
    pub fn start(mut command: Command, stdin: Stdio, merged: bool) -> Session {
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
        let stdout: Box<dyn Read + Send> = match merged_reader {
            Some(reader) => Box::new(reader),
            None => Box::new(child.stdout.take().expect("stdout is piped")),
        };
        let stderr = child.stderr.take();

        let (line_tx, lines) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if line_tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let stderr = stderr.map(|mut stderr| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = stderr.read_to_end(&mut bytes);
                bytes
            })
        });

        let exited = exit::watch_exit(child.id());

        Session {
            stdin: child.stdin.take(),
            child,
            lines,
            stdout: Vec::new(),
            stderr,
            exited,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `bytes` to the child's stdin (which stays open).
    pub fn write(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is closed");
        stdin.write_all(bytes).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes the child's stdin (EOF).
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Waits (at most `within`) for the next stdout line and returns it,
    /// `\n` included. Fails the test on timeout or EOF.
    pub fn read_line(&mut self, within: Duration) -> String {
        match self.lines.recv_timeout(within) {
            Ok(line) => {
                self.stdout.extend_from_slice(&line);
                String::from_utf8(line).expect("stdout line is not UTF-8")
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "no stdout line within {within:?}; stdout so far: {:?}",
                String::from_utf8_lossy(&self.stdout)
            ),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "stdout closed while waiting for a line; stdout so far: {:?}",
                String::from_utf8_lossy(&self.stdout)
            ),
        }
    }

    /// Sends `signal` to the child (it is never reaped before `wait`, so the
    /// pid cannot belong to another process).
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        let result = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        assert_eq!(result, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits (at most `within`) for the child to exit, without closing its
    /// stdin first, and returns all it printed (stdout lines already read
    /// with `read_line` included). Fails the test on timeout.
    pub fn wait(mut self, within: Duration) -> Output {
        if self.exited.recv_timeout(within).is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            panic!(
                "callcenter did not exit within {within:?}; stdout so far: {:?}",
                String::from_utf8_lossy(&self.stdout)
            );
        }
        let status = self.child.wait().expect("reap the child");
        self.close_stdin();
        loop {
            match self.lines.recv_timeout(within) {
                Ok(line) => self.stdout.extend_from_slice(&line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout still open after exit"),
            }
        }
        let stderr = match self.stderr.take() {
            Some(handle) => handle.join().expect("stderr reader panicked"),
            None => Vec::new(),
        };
        Output {
            status,
            stdout: std::mem::take(&mut self.stdout),
            stderr,
        }
    }
}

impl Drop for Session {
    /// A test that fails half-way leaves no process behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
