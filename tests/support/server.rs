//! A running `callcenter server` on a free port of 127.0.0.1, found by the
//! one line it prints first, `Listening on ADDR`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::conn::{Conn, Next};
use super::process::{Pipe, Proc, TIMEOUT, command, deadline};
use super::wire::{error, request, server_full};

/// The server's standard streams, when not the usual ones (stdin
/// `/dev/null`, stdout and stderr read).
#[derive(Clone, Copy, Debug, Default)]
pub struct Streams {
    /// stdin is a pipe whose write end is closed at once.
    pub stdin_closed_pipe: bool,
    /// stderr is a pipe whose read end is closed at once.
    pub stderr_closed: bool,
    /// stdout's read end is closed right after the `Listening on` line.
    pub stdout_closed_after_banner: bool,
}

/// A running server, killed when dropped (unless stopped).
pub struct Server {
    /// The server process.
    pub proc: Proc,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `callcenter server --listen 127.0.0.1:0 args`, stdin `/dev/null`.
    pub fn start(args: &[&str]) -> Server {
        Server::launch(Server::command(args), Streams::default())
    }

    /// The command of [`start`](Server::start), to adjust before launching.
    pub fn command(args: &[&str]) -> Command {
        let mut all = vec!["server", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        command(&all)
    }

    /// Spawns `command` (which must run a server on `127.0.0.1:0` that
    /// prints `Listening on ADDR`, directly or through `exec`) with the
    /// standard streams `streams` asks for, and waits for that line.
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
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr = if streams.stderr_closed {
            drop(stderr);
            None
        } else {
            Some(Pipe::new("stderr", stderr))
        };
        // The banner is read on a thread (a server that never prints it
        // fails at the deadline), which hands the pipe back: it is then
        // read on, or closed.
        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let result = reader.read_line(&mut line).map(|_| line);
            let _ = sender.send((result, reader));
        });
        let mut proc = Proc::adopt(child, Pipe::closed("stdout"), stderr);
        let (line, reader) = match receiver.recv_timeout(TIMEOUT) {
            Ok((Ok(line), reader)) => (line, reader),
            Ok((Err(error), _)) => fail(&mut proc, &format!("reading its stdout: {error}")),
            Err(_) => fail(&mut proc, "no `Listening on` line in time"),
        };
        let Some(addr) = line
            .strip_suffix('\n')
            .and_then(|line| line.strip_prefix("Listening on "))
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
        else {
            fail(
                &mut proc,
                &format!("not a `Listening on ADDR` line: {line:?}"),
            )
        };
        assert_eq!(addr.ip().to_string(), "127.0.0.1", "{line}");
        assert_ne!(addr.port(), 0, "{line}");
        if streams.stdout_closed_after_banner {
            drop(reader);
        } else {
            // What the reader buffered past the banner is read first.
            let buffered = reader.buffer().to_vec();
            let rest = std::io::Cursor::new(buffered).chain(reader.into_inner());
            proc.stdout = Pipe::new("stdout", rest);
        }
        Server { proc, addr }
    }

    /// The address as the client's `--connect` takes it.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The server's process id.
    pub fn pid(&self) -> i32 {
        self.proc.pid() as i32
    }

    /// A new connection to the server.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Panics with what the server printed on stderr so far (the process
    /// is killed when the server drops).
    #[track_caller]
    pub fn fail(&mut self, why: &str) -> ! {
        fail(&mut self.proc, why)
    }

    /// Everything the server wrote to stderr so far (not taken: it is
    /// still part of what [`Proc::finish`] returns).
    pub fn stderr_text(&mut self) -> String {
        match &mut self.proc.stderr {
            Some(pipe) => pipe.so_far(),
            None => String::new(),
        }
    }

    /// Connects as soon as the server has room (closed connections are
    /// noticed asynchronously): retries while it answers "Server full",
    /// until the deadline. The connection has been served once.
    #[track_caller]
    pub fn connect_when_room(&mut self, max_clients: u32) -> Conn {
        let full = server_full(max_clients);
        let deadline = deadline();
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
        if !self.proc.running() {
            let status = self.proc.wait(deadline());
            self.fail(&format!("exited with {status}"));
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
    pub fn signal(&self, signal: libc::c_int) {
        self.proc.signal(signal);
    }

    /// Waits for the server to exit (at most `timeout`) and returns its status.
    #[track_caller]
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.proc.wait(Instant::now() + timeout)
    }

    /// The whole health check after an attack: alive, the client connected
    /// before it still served (the seed's script, exact replies), and the
    /// queue state intact (the seed's script again, on a fresh connection).
    /// Needs operators `A,B`, English, and no ring timeout firing during
    /// the script.
    #[track_caller]
    pub fn check_healthy(&mut self, bystander: &mut Conn) {
        self.assert_alive();
        bystander.run_seed();
        let mut fresh = self.connect();
        fresh.run_seed();
        self.assert_alive();
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

/// Fails the test with `why` and what `proc` wrote on stderr so far.
#[track_caller]
fn fail(proc: &mut Proc, why: &str) -> ! {
    let stderr = match &mut proc.stderr {
        Some(pipe) => pipe.so_far(),
        None => String::new(),
    };
    panic!("server: {why}; stderr:\n{stderr}");
}
