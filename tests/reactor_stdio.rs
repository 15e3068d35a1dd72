//! Standard I/O on the real process, where only a process shows it:
//! backpressure from stdout to stdin (`yes help | callcenter` prints at once
//! and stays small), a bounded final flush when stdout is a full pipe nobody
//! reads, and reads of stdin that never block whatever its flags.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Standalone mode with piped standard I/O.
fn standalone() -> Child {
    Command::new(env!("CARGO_BIN_EXE_callcenter"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn callcenter")
}

/// The resident memory of `pid`, in KiB (Linux `/proc`).
fn resident_kib(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS: {status}"))
}

/// Writes `line` to the child's stdin for ever (until the pipe breaks);
/// counts the bytes written.
fn flood(child: &mut Child, line: &'static [u8]) -> Arc<AtomicUsize> {
    let mut stdin = child.stdin.take().unwrap();
    let written = Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    thread::spawn(move || {
        let block = line.repeat(4096 / line.len());
        while stdin.write_all(&block).is_ok() {
            counter.fetch_add(block.len(), Ordering::Relaxed);
        }
    });
    written
}

#[test]
fn a_fast_producer_on_stdin_is_throttled_by_an_unread_stdout() {
    let mut child = standalone();
    let written = flood(&mut child, b"help\n");
    // Nobody reads stdout: once its pipe and our high-water mark are full,
    // the program must stop reading stdin, so the writer stalls. Without
    // backpressure it reads on, queueing help text without bound.
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) && written.load(Ordering::Relaxed) < 64 << 20 {
        thread::sleep(Duration::from_millis(20));
    }
    let taken = written.load(Ordering::Relaxed);
    let resident = resident_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(taken < 8 << 20, "stdin kept being read: {taken} bytes");
    assert!(
        resident < 32 * 1024,
        "resident memory grew to {resident} KiB"
    );
}

#[test]
fn yes_help_prints_at_once_while_input_keeps_coming() {
    let mut child = standalone();
    let written = flood(&mut child, b"help\n");
    let mut stdout = child.stdout.take().unwrap();
    let (sender, received) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut buffer = vec![0; 1 << 20];
        let mut total = 0;
        while total < 4 << 20 {
            match stdout.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        // Hand stdout back rather than close it: a closed pipe would end
        // the program before its memory is measured.
        let _ = sender.send((total, stdout));
    });
    let got = received
        .recv_timeout(Duration::from_secs(5))
        .map(|(total, stdout)| (total, Some(stdout)));
    let resident = resident_kib(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    let got = got.map(|(total, _stdout)| total);
    assert!(
        got.is_ok_and(|total| total >= 4 << 20),
        "4 MiB of output did not come promptly: {got:?}"
    );
    assert!(written.load(Ordering::Relaxed) > 0);
    assert!(
        resident < 32 * 1024,
        "resident memory grew to {resident} KiB"
    );
}

/// Waits up to `limit` for the child to exit; its status, or `None`.
fn exits_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        thread::sleep(Duration::from_millis(10));
    }
    None
}

fn terminate(child: &Child) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
}

#[test]
fn sigterm_ends_the_program_even_when_stdout_is_a_full_pipe_nobody_reads() {
    let mut child = standalone();
    let written = flood(&mut child, b"help\n");
    // Wait until stdout's pipe is full and input has stalled.
    let start = Instant::now();
    let mut last = usize::MAX;
    loop {
        thread::sleep(Duration::from_millis(100));
        let now = written.load(Ordering::Relaxed);
        if now == last || start.elapsed() > Duration::from_secs(2) {
            break;
        }
        last = now;
    }
    terminate(&child);
    let status = exits_within(&mut child, Duration::from_secs(5));
    if status.is_none() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(status.is_some(), "still running 5 s after SIGTERM");
}

#[test]
fn stdin_whose_o_nonblock_was_cleared_never_blocks_the_loop() {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let (read_end, write_end) = rustix::pipe::pipe().unwrap();
    // Our copy of the read end shares its file description (and flags)
    // with the child's stdin, as a shell shares a terminal.
    let shared = read_end.try_clone().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_callcenter"))
        .stdin(Stdio::from(read_end))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = std::fs::File::from(write_end);
    let mut stdout = child.stdout.take().unwrap();
    input.write_all(b"help\n").unwrap();
    // Once it answered, it has made stdin non-blocking.
    let mut first = [0; 1];
    stdout.read_exact(&mut first).unwrap();
    thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let flags = fcntl_getfl(&shared).unwrap();
    assert!(flags.contains(OFlags::NONBLOCK));
    // What a shell does to a shared terminal after Ctrl-Z and `fg`.
    fcntl_setfl(&shared, flags - OFlags::NONBLOCK).unwrap();
    // A full read buffer's worth: the reactor reads again next turn, and
    // that read finds the pipe empty.
    input.write_all(&[b'\n'; 64 * 1024]).unwrap();
    thread::sleep(Duration::from_millis(100));
    terminate(&child);
    let status = exits_within(&mut child, Duration::from_secs(3));
    if status.is_none() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(status.is_some(), "blocked in a read of stdin");
    drop(input);
}
