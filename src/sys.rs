//! The few operating-system calls the modes make, in one place.
//!
//! Each goes through a safe wrapper (`rustix`, or `std`), so this crate's
//! modes hold no `unsafe`. Diagnostics go through [`write_stderr`], which
//! never panics: `eprintln!` panics when stderr is `/dev/full` or a closed
//! pipe, and a program that cannot say why it failed must still exit with
//! the status it documents.

use std::io::{self, Write};

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

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

/// The local time zone's offset from UTC, in seconds, at `epoch_secs`
/// (from `TZ` or `/etc/localtime`, as `date` sees it); `None` when the C
/// library cannot tell. The monitor prints local times with it.
///
/// Neither `std` nor `rustix` exposes the time-zone database, so this asks
/// the C library that `std` already links (`localtime_r`), the one `unsafe`
/// call of the crate.
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
