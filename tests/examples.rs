//! The examples in `examples/` run and do what their docs say.
//!
//! `cargo test` builds the examples before running tests; their binaries
//! sit in `target/<profile>/examples/`, next to this test's own directory.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn example(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        // Built on demand when only this test target was built.
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building example {name}");
    }
    path
}

/// Kills the child when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn timers_fire_in_order_and_cancel_twice_is_an_error() {
    let output = Command::new(example("timers"))
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "hello first\nhello moved\ncancel again: the delayed call was already cancelled\nstopping\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn stdin_lines_echoes_piped_lines() {
    let mut child = Command::new(example("stdin_lines"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"first\r\nsecond\nlast without newline")
        .expect("written");
    let output = child.wait_with_output().expect("ends");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Echo: first\nEcho: second\nEcho: last without newline\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn line_editor_edits_completes_and_recalls_piped_keys() {
    // Without a terminal the keys come from the pipe all the same; the
    // output is the screen's bytes (VT100 moves, `\r\n` row ends).
    let mut child = Command::new(example("line_editor"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        // `wor` Tab Enter; `hel` Tab Tab `p` Enter; Up Up, three
        // Backspaces; end of input with the line still shown.
        .write_all(b"wor\t\nhel\t\tp\n\x1b[A\x1b[A\x08\x08\x08")
        .expect("written");
    let output = child.wait_with_output().expect("ends");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "> world \r\nEcho: world \r\n\
         > hel\x07\r\x1b[Jhello  help\r\n> help\r\nEcho: help\r\n\
         > \r\x1b[J> help\r\x1b[J> world \
         \r\x1b[J> world\r\x1b[J> worl\r\x1b[J> wor\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn stdin_lines_reads_a_regular_file() {
    let path = std::env::temp_dir().join(format!("stdin-lines-{}.txt", std::process::id()));
    std::fs::write(&path, b"one\ntwo\n").expect("written");
    let output = Command::new(example("stdin_lines"))
        .stdin(std::fs::File::open(&path).expect("opened"))
        .output()
        .expect("runs");
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Echo: one\nEcho: two\n"
    );
}

#[test]
fn echo_server_echoes_and_stops_on_sigterm() {
    let mut server = Running(
        Command::new(example("echo_server"))
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("runs"),
    );
    let stdout = server.0.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = lines.send(line);
    });
    let line = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the Listening line");
    let addr = line
        .trim_end()
        .strip_prefix("Listening on ")
        .expect("Listening on ADDR")
        .to_string();

    let mut peer = TcpStream::connect(&addr).expect("connects");
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for piece in [&b"hel"[..], b"lo, ", b"reactor"] {
        peer.write_all(piece).unwrap();
    }
    let mut echoed = vec![0; b"hello, reactor".len()];
    peer.read_exact(&mut echoed).expect("echo");
    assert_eq!(echoed, b"hello, reactor");

    // SAFETY: signalling our own child process.
    unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.0.try_wait().expect("waitable") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
}
