//! A pseudo-terminal driver: the real binary on a terminal, as a person
//! would use it.
//!
//! [`Terminal::spawn`] starts `callcenter` on a fresh pty of a given size,
//! as the leader of its own session with the pty as its controlling
//! terminal (through util-linux's `setsid --ctty`, which `exec`s in place,
//! so the child's pid is the program's). [`Terminal::spawn_in_shell`]
//! starts it from an interactive `sh` instead, as a foreground job: only
//! then do Ctrl-Z and SIGTSTP stop it (the kernel ignores them in a process
//! group with no parent in the session) and `fg` resume it.
//!
//! A thread reads the pty's master side into a channel, so every wait has a
//! deadline and none sleeps. The driver keeps its own descriptor of the
//! pty's slave side: the same open file as the program's standard input,
//! so [`Terminal::flags`] and [`Terminal::stdin_nonblocking`] see what the
//! program left behind, as `stty -a` in the parent shell would.

#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, Signal, WaitId, WaitIdOptions};
use rustix::pty::OpenptFlags;
use rustix::termios::{Termios, Winsize};

/// Generous deadline for anything a test waits for.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The prompt the interactive shell of [`Terminal::spawn_in_shell`] shows.
pub const SHELL_PROMPT: &str = "sh$ ";

/// The terminal's modes, comparable: what `stty -a` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    /// `c_iflag`.
    pub input: rustix::termios::InputModes,
    /// `c_oflag`.
    pub output: rustix::termios::OutputModes,
    /// `c_cflag`.
    pub control: rustix::termios::ControlModes,
    /// `c_lflag`.
    pub local: rustix::termios::LocalModes,
    /// `c_cc`, as its debug text (the type has no `PartialEq`).
    pub special_codes: String,
    /// Input and output speeds.
    pub speeds: (u32, u32),
}

impl Flags {
    fn of(termios: &Termios) -> Flags {
        Flags {
            input: termios.input_modes,
            output: termios.output_modes,
            control: termios.control_modes,
            local: termios.local_modes,
            special_codes: format!("{:?}", termios.special_codes),
            speeds: (termios.input_speed(), termios.output_speed()),
        }
    }

    /// Whether the terminal is in canonical (cooked) mode with echo.
    pub fn cooked(&self) -> bool {
        use rustix::termios::LocalModes;
        self.local
            .contains(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG)
    }
}

/// The program on a pseudo-terminal.
pub struct Terminal {
    /// The master side: keys are written here.
    master: File,
    /// Our descriptor of the slave side (the program's stdin's open file).
    slave: OwnedFd,
    /// `setsid` (which became the program) or the shell.
    child: Child,
    /// The program's pid (the shell's job, in shell mode).
    pid: Option<Pid>,
    /// Chunks read from the master by the reader thread.
    chunks: Receiver<Vec<u8>>,
    /// Everything the terminal showed so far.
    screen: Vec<u8>,
    /// How much of `screen` the `expect` calls have consumed.
    seen: usize,
    /// Signalled once the child has exited (still unreaped).
    exited: Receiver<bool>,
    /// In shell mode, the modes while the shell showed its first prompt.
    shell_flags: Option<Flags>,
    /// The modes of the fresh pty, before anything ran on it.
    initial_flags: Flags,
}

impl Terminal {
    /// Starts `callcenter args` on a `cols` x `rows` terminal, as a session
    /// leader with the pty as its controlling terminal.
    pub fn spawn(args: &[&str], cols: u16, rows: u16) -> Terminal {
        let mut command = Command::new("setsid");
        command
            .arg("--ctty")
            .arg(env!("CARGO_BIN_EXE_callcenter"))
            .args(args);
        let mut terminal = Terminal::start(command, cols, rows);
        terminal.pid = Some(pid_of(&terminal.child));
        terminal
    }

    /// Starts an interactive `sh` on a `cols` x `rows` terminal and runs
    /// `callcenter args` from it as a foreground job (job control on).
    /// Returns once the program has drawn `ready` (its prompt, say), so
    /// its process group is the terminal's foreground one.
    pub fn spawn_in_shell(args: &[&str], cols: u16, rows: u16, ready: &str) -> Terminal {
        let mut command = Command::new("setsid");
        command
            .args(["--ctty", "sh", "-i"])
            .env("PS1", SHELL_PROMPT)
            .env_remove("ENV");
        let mut terminal = Terminal::start(command, cols, rows);
        terminal.expect(SHELL_PROMPT);
        terminal.shell_flags = Some(terminal.flags());
        let mut line = String::from(env!("CARGO_BIN_EXE_callcenter"));
        for arg in args {
            line.push(' ');
            line.push_str(arg);
        }
        line.push('\n');
        terminal.send(line.as_bytes());
        terminal.expect(ready);
        terminal.pid = Some(terminal.foreground());
        terminal
    }

    /// Starts `command` (a test's own binary, say) with the pty as its
    /// standard input, output and error, in the driver's session: the pty
    /// is not its controlling terminal, so no job control, but its modes
    /// are its to set.
    pub fn spawn_command(command: Command, cols: u16, rows: u16) -> Terminal {
        let mut terminal = Terminal::start(command, cols, rows);
        terminal.pid = Some(pid_of(&terminal.child));
        terminal
    }

    /// Gives the terminal a new size, as a terminal window resized does:
    /// the kernel sends SIGWINCH to the terminal's foreground process
    /// group (the program, when started by [`spawn`](Self::spawn)).
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&self.master, size).expect("set the window size");
    }

    fn start(mut command: Command, cols: u16, rows: u16) -> Terminal {
        let (master, slave) = open_pty(cols, rows);
        let initial_flags = Flags::of(&rustix::termios::tcgetattr(&slave).expect("tcgetattr"));
        let stdio = || Stdio::from(slave.try_clone().expect("dup the pty's slave side"));
        command
            .env_remove("RUST_LOG")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .env("TERM", "xterm")
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio());
        let child = command.spawn().expect("cannot start setsid (util-linux)");
        drop(command);
        let reader = master.try_clone().expect("dup the pty's master side");
        let (sender, chunks) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = File::from(reader);
            let mut buffer = [0; 4096];
            // Ends with EIO once no slave descriptor is left open.
            while let Ok(amount @ 1..) = reader.read(&mut buffer) {
                if sender.send(buffer[..amount].to_vec()).is_err() {
                    break;
                }
            }
        });
        let exited = watch(pid_of(&child), WaitIdOptions::EXITED);
        Terminal {
            master: File::from(master),
            slave,
            child,
            pid: None,
            chunks,
            screen: Vec::new(),
            seen: 0,
            exited,
            shell_flags: None,
            initial_flags,
        }
    }

    /// The program's pid.
    pub fn pid(&self) -> Pid {
        self.pid.expect("the program has started")
    }

    /// The pid of the child the driver started: the program itself, or
    /// the shell.
    pub fn child_pid(&self) -> Pid {
        pid_of(&self.child)
    }

    /// In shell mode, the terminal's modes as the shell had them before it
    /// ran the program.
    pub fn shell_flags(&self) -> Flags {
        self.shell_flags
            .clone()
            .expect("started with spawn_in_shell")
    }

    /// The terminal's modes before the program (or the shell) started:
    /// what it must leave behind.
    pub fn initial_flags(&self) -> Flags {
        self.initial_flags.clone()
    }

    /// The terminal's foreground process group.
    pub fn foreground(&self) -> Pid {
        rustix::termios::tcgetpgrp(&self.master).expect("tcgetpgrp")
    }

    /// Types `bytes` (keys: `b"\x03"` is Ctrl-C, `b"\x1b[A"` arrow up).
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("write to the pty");
    }

    /// Sends `signal` to the program.
    pub fn signal(&self, signal: Signal) {
        rustix::process::kill_process(self.pid(), signal).expect("kill");
    }

    /// Waits until the screen shows `text` after what earlier calls
    /// consumed; returns the screen bytes up to and including it (as text,
    /// invalid UTF-8 replaced). Fails the test with the screen at the
    /// deadline.
    pub fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let rest = &self.screen[self.seen..];
            if let Some(at) = find(rest, text.as_bytes()) {
                let end = self.seen + at + text.len();
                let shown = String::from_utf8_lossy(&self.screen[self.seen..end]).into_owned();
                self.seen = end;
                return shown;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.screen.extend_from_slice(&chunk),
                Err(RecvTimeoutError::Timeout) => panic!(
                    "the terminal did not show {text:?} within {DEADLINE:?}; after {:?} it shows {:?}",
                    String::from_utf8_lossy(&self.screen[..self.seen]),
                    String::from_utf8_lossy(&self.screen[self.seen..]),
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "the terminal closed before showing {text:?}; after {:?} it shows {:?}",
                    String::from_utf8_lossy(&self.screen[..self.seen]),
                    String::from_utf8_lossy(&self.screen[self.seen..]),
                ),
            }
        }
    }

    /// Everything the terminal showed so far (what `expect` consumed and
    /// what it has not looked at yet); after [`wait_exit`](Self::wait_exit),
    /// all it ever showed.
    pub fn screen(&mut self) -> String {
        while let Ok(chunk) = self.chunks.try_recv() {
            self.screen.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&self.screen).into_owned()
    }

    /// The terminal's modes now.
    pub fn flags(&self) -> Flags {
        Flags::of(&rustix::termios::tcgetattr(&self.slave).expect("tcgetattr"))
    }

    /// Whether the program's standard input (an open file it shares with
    /// its parent) is non-blocking now.
    pub fn stdin_nonblocking(&self) -> bool {
        let flags = rustix::fs::fcntl_getfl(&self.slave).expect("fcntl(F_GETFL)");
        flags.contains(OFlags::NONBLOCK)
    }

    /// Waits (at most `within`) for the child started by
    /// [`spawn`](Self::spawn) to exit, and returns its status.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        if self.exited.recv_timeout(within).is_err() {
            let _ = self.child.kill();
            panic!(
                "callcenter did not exit within {within:?}; the terminal shows {:?}",
                self.screen()
            );
        }
        let status = self.child.wait().expect("wait for callcenter");
        self.sync();
        status
    }

    /// Reads everything written to the terminal so far: writes a marker
    /// from the slave side (it arrives after all that was written before)
    /// and reads until it, then drops it from the screen.
    fn sync(&mut self) {
        const MARKER: &[u8] = b"<pty driver sync>";
        let mut slave = File::from(self.slave.try_clone().expect("dup the pty's slave side"));
        slave.write_all(MARKER).expect("write the sync marker");
        let deadline = Instant::now() + DEADLINE;
        while find(&self.screen[self.seen..], MARKER).is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = self
                .chunks
                .recv_timeout(left)
                .expect("the sync marker comes back");
            self.screen.extend_from_slice(&chunk);
        }
        let at = self.seen + find(&self.screen[self.seen..], MARKER).unwrap_or(0);
        self.screen.drain(at..at + MARKER.len());
    }

    /// Waits (at most `within`) until the child started by
    /// [`spawn`](Self::spawn) is stopped (SIGSTOP; the kernel drops SIGTSTP
    /// for a session leader). Fails the test if it is not, or exits.
    pub fn wait_stopped(&mut self, within: Duration) {
        let stopped = watch(
            pid_of(&self.child),
            WaitIdOptions::STOPPED | WaitIdOptions::EXITED,
        );
        match stopped.recv_timeout(within) {
            Ok(true) => {}
            Ok(false) => panic!("callcenter exited instead of stopping"),
            Err(_) => panic!("callcenter was not stopped within {within:?}"),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // A test that failed half-way leaves no process behind.
        if let Ok(None) = self.child.try_wait() {
            if let Some(pid) = self.pid {
                let _ = rustix::process::kill_process(pid, Signal::KILL);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A new pty of `cols` x `rows`: its master and slave sides.
fn open_pty(cols: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags).expect("openpt");
    rustix::pty::grantpt(&master).expect("grantpt");
    rustix::pty::unlockpt(&master).expect("unlockpt");
    let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .expect("open the pty's slave side");
    let size = Winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&slave, size).expect("set the window size");
    (master, slave)
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(child.id() as i32).expect("a child has a positive pid")
}

/// A receiver that gets one message when process `pid` reaches a state
/// `options` names: whether it is stopped. `WNOWAIT` leaves it for its
/// owner to reap.
fn watch(pid: Pid, options: WaitIdOptions) -> Receiver<bool> {
    let (sender, reached) = mpsc::channel();
    thread::spawn(move || {
        loop {
            match rustix::process::waitid(WaitId::Pid(pid), options | WaitIdOptions::NOWAIT) {
                Err(rustix::io::Errno::INTR) => continue,
                Ok(Some(status)) => {
                    let _ = sender.send(status.stopped());
                    return;
                }
                _ => return,
            }
        }
    });
    reached
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
