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
