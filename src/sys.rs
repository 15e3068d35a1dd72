//! The few operating-system calls the modes make, in one place.
//!
//! Each goes through a safe wrapper (`rustix`, or `std`), except the local
//! time zone's offset ([`local_utc_offset`]), which only the C library
//! knows: that one `unsafe` block is the crate's only one. Diagnostics go through [`write_stderr`], which
//! never panics: `eprintln!` panics when stderr is `/dev/full` or a closed
//! pipe, and a program that cannot say why it failed must still exit with
//! the status it documents.

use std::io::{self, Write};
use std::sync::{Mutex, Once};

use rustix::process::{Resource, Rlimit, Signal, getrlimit, setrlimit};
use rustix::termios::{
    InputModes, LocalModes, OptionalActions, OutputModes, SpecialCodeIndex, Termios, tcgetattr,
    tcsetattr,
};

/// Writes `text` to stderr, ignoring failure (there is nowhere left to
/// report it). Unlike `eprint!`, never panics.
pub fn write_stderr(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Writes `text` to stdout and flushes it. Unlike `print!`, returns the
/// error (a full disk, a closed pipe) instead of panicking.
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Raises the soft limit on open files to the hard limit, so a server (or a
/// bench holding idle connections) can use as many descriptors as the
/// system allows a process (the soft limit is often 1024). Returns the
/// limit in force, `None` when it is unlimited or cannot be read.
pub fn raise_open_file_limit() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return raised.current;
        }
    }
    limit.current
}

/// Resolves `--listen`/`--connect` (a host name is allowed: `server:5678`)
/// to its first address; `None` when the name has none.
pub fn resolve(addr: &str) -> std::io::Result<Option<std::net::SocketAddr>> {
    use std::net::ToSocketAddrs;
    Ok(addr.to_socket_addrs()?.next())
}

/// The address an option's `text` names, or why there is none, in the
/// program's words ([`RunError::NoAddress`](crate::error::RunError)).
pub fn address(text: &str) -> Result<std::net::SocketAddr, crate::error::RunError> {
    resolve(text)?.ok_or_else(|| crate::error::RunError::NoAddress(text.to_string()))
}

/// The local time zone's offset from UTC, in seconds, at `epoch_secs`
/// (from `TZ` or `/etc/localtime`, as `date` sees it); `None` when the C
/// library cannot tell. The monitor prints local times with it.
///
/// Neither `std` nor `rustix` exposes the time-zone database, so this asks
/// the C library that `std` already links (`localtime_r`), the one `unsafe`
/// call of the crate.
#[cfg(target_pointer_width = "64")]
pub fn local_utc_offset(epoch_secs: i64) -> Option<i64> {
    use std::ffi::{c_char, c_int, c_long};
    /// `struct tm` of glibc and musl on Linux.
    #[repr(C)]
    struct Tm {
        tm_sec: c_int,
        tm_min: c_int,
        tm_hour: c_int,
        tm_mday: c_int,
        tm_mon: c_int,
        tm_year: c_int,
        tm_wday: c_int,
        tm_yday: c_int,
        tm_isdst: c_int,
        tm_gmtoff: c_long,
        tm_zone: *const c_char,
    }
    unsafe extern "C" {
        fn tzset();
        fn localtime_r(time: *const i64, result: *mut Tm) -> *mut Tm;
    }
    let mut tm = Tm {
        tm_sec: 0,
        tm_min: 0,
        tm_hour: 0,
        tm_mday: 0,
        tm_mon: 0,
        tm_year: 0,
        tm_wday: 0,
        tm_yday: 0,
        tm_isdst: 0,
        tm_gmtoff: 0,
        tm_zone: std::ptr::null(),
    };
    // SAFETY: `tzset` takes nothing; `localtime_r` reads one `time_t` (an
    // i64 on the 64-bit Linux targets this builds for) and fills the
    // `struct tm` we own, laid out as the C library declares it; it keeps
    // neither pointer.
    let filled = unsafe {
        tzset();
        localtime_r(&epoch_secs, &mut tm)
    };
    // `c_long` is `i64` here, `i32` on 32-bit targets.
    #[allow(clippy::useless_conversion)]
    let offset = i64::from(tm.tm_gmtoff);
    (!filled.is_null()).then_some(offset)
}

/// Elsewhere `time_t` may not be 64 bits: the monitor prints UTC rather
/// than risk a wrong call.
#[cfg(not(target_pointer_width = "64"))]
pub fn local_utc_offset(_epoch_secs: i64) -> Option<i64> {
    None
}

/// The terminal on standard input, in raw mode for the line editor while
/// this lives (SPEC §11); its modes as they were before come back when it
/// is dropped, on [`restore`](RawTerminal::restore), and on a panic.
///
/// Raw here means what a byte-fed editor needs and no more: no canonical
/// lines, no echo, no signals from keys (Ctrl-C, Ctrl-Z and Ctrl-\ arrive
/// as bytes), no `IEXTEN` (Ctrl-V, Ctrl-O), no CR-to-NL on input and no
/// XON/XOFF; reads return each byte as it comes (`VMIN` 1, `VTIME` 0).
/// Output processing stays on (`OPOST`, `ONLCR`), so a `\n` written by
/// anyone still starts its row at the left edge.
pub struct RawTerminal {
    /// The modes to give back.
    saved: Termios,
}

/// The modes a panic must give back, while a [`RawTerminal`] lives.
static SAVED_MODES: Mutex<Option<Termios>> = Mutex::new(None);

/// Installs the panic hook once per process.
///
/// The hook restores the saved modes on every panic, caught or not: it
/// cannot know whether one will be caught (under `panic = "abort"`, or for
/// a panic while unwinding, none is), and a terminal left raw by a program
/// that ended is the worse fault. A part that goes on after a caught panic
/// puts raw mode back itself (the line editor does, told by
/// `Reactor::on_unhandled_error`).
static PANIC_HOOK: Once = Once::new();

impl RawTerminal {
    /// Puts standard input's terminal in raw mode. `None` when stdin is not
    /// a terminal, or its modes cannot be read or set (the caller then
    /// keeps to lines in cooked mode).
    pub fn enter() -> Option<RawTerminal> {
        let stdin = rustix::stdio::stdin();
        if !rustix::termios::isatty(stdin) {
            return None;
        }
        let saved = tcgetattr(stdin).ok()?;
        let terminal = RawTerminal { saved };
        terminal.set_raw().ok()?;
        if let Ok(mut slot) = SAVED_MODES.lock() {
            *slot = Some(terminal.saved.clone());
        }
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_saved_modes();
                previous(info);
            }));
        });
        Some(terminal)
    }

    /// Sets raw mode (again: after SIGCONT the shell may have put its own
    /// modes back).
    pub fn set_raw(&self) -> io::Result<()> {
        let mut raw = self.saved.clone();
        raw.local_modes -=
            LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG | LocalModes::IEXTEN;
        raw.input_modes -= InputModes::ICRNL | InputModes::IXON;
        raw.special_codes[SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[SpecialCodeIndex::VTIME] = 0;
        Ok(tcsetattr(
            rustix::stdio::stdin(),
            OptionalActions::Now,
            &raw,
        )?)
    }

    /// Gives the terminal its modes back (before exiting or stopping).
    pub fn restore(&self) {
        let _ = tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, &self.saved);
    }

    /// Whether the terminal turns each `\n` written into `\r\n` (`ONLCR`
    /// under `OPOST`), so a `\r` before it is not needed.
    pub fn adds_carriage_returns(&self) -> bool {
        self.saved.output_modes.contains(OutputModes::OPOST)
            && self.saved.output_modes.contains(OutputModes::ONLCR)
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        self.restore();
        if let Ok(mut slot) = SAVED_MODES.lock() {
            *slot = None;
        }
    }
}

/// The panic hook's half: the modes a live [`RawTerminal`] saved. Never
/// blocks (a panic while the lock is held skips it: the guard's drop
/// restores them then).
fn restore_saved_modes() {
    if let Ok(slot) = SAVED_MODES.try_lock()
        && let Some(saved) = slot.as_ref()
    {
        let _ = tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, saved);
    }
}

/// The width of standard input's terminal in columns, if it says.
pub fn terminal_width() -> Option<usize> {
    let size = rustix::termios::tcgetwinsize(rustix::stdio::stdin()).ok()?;
    (size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// Makes the standard descriptors that are terminals blocking or not. A
/// terminal's flags belong to the open file its shell shares: before
/// stopping, O_NONBLOCK is cleared so the shell reads its input as usual.
pub fn set_terminal_nonblocking(nonblocking: bool) {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let fds = [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ];
    for fd in fds {
        if !rustix::termios::isatty(fd) {
            continue;
        }
        if let Ok(flags) = fcntl_getfl(fd) {
            let wanted = if nonblocking {
                flags | OFlags::NONBLOCK
            } else {
                flags - OFlags::NONBLOCK
            };
            if wanted != flags {
                let _ = fcntl_setfl(fd, wanted);
            }
        }
    }
}

/// Stops this process as Ctrl-Z would in cooked mode: SIGTSTP with its
/// default action (the caller restores the terminal first, and does not
/// handle SIGTSTP). Returns once the process is continued (SIGCONT).
pub fn stop_self() {
    let _ = rustix::process::kill_process(rustix::process::getpid(), Signal::TSTP);
}
