//! The floor: a plain blocking TCP ping-pong over loopback against a child
//! echo process, timed the same way as the load.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::report::Report;

/// The floor: a blocking ping-pong of 32-byte messages over loopback
/// against a child `callcenter loopback-echo` process, for `duration`.
pub fn baseline(duration: Duration) -> io::Result<Report> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("loopback-echo")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()?;
    let result = (|| {
        let mut line = String::new();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no child stdout"))?;
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("Listening on ")
            .ok_or_else(|| io::Error::other("the echo process did not start"))?;
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut report = Report::new();
        let message = [b'x'; 32];
        let mut echo = [0u8; 32];
        let started = Instant::now();
        while started.elapsed() < duration {
            let sent = Instant::now();
            stream.write_all(&message)?;
            stream.read_exact(&mut echo)?;
            report.latency.record(sent.elapsed().as_nanos() as u64);
            report.commands += 1;
        }
        report.elapsed = started.elapsed();
        Ok(report)
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The child side of the baseline: echo one connection, blocking, then exit.
pub fn loopback_echo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    crate::sys::write_stdout(&format!("Listening on {}\n", listener.local_addr()?))?;
    let (mut stream, _) = listener.accept()?;
    stream.set_nodelay(true)?;
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..read])?;
    }
}
