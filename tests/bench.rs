//! `callcenter bench` is correct (not fast: speed is measured, never asserted).
//!
//! A short run against a real server sends exactly the commands asked,
//! gets every reply it expects, and reports them in its JSON; a server
//! speaking another language makes every reply unexpected, which proves
//! the replies are really checked.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_callcenter");

/// A server child, killed when the test ends.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["server", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = send.send(line);
    });
    let line = receive
        .recv_timeout(Duration::from_secs(10))
        .expect("the Listening line");
    let addr = line
        .trim_end()
        .strip_prefix("Listening on ")
        .unwrap_or_else(|| panic!("not a Listening line: {line:?}"))
        .to_string();
    Server { child, addr }
}

/// Runs the bench; returns its exit success and its JSON report.
fn bench(server: &Server, args: &[&str]) -> (bool, serde_json::Value) {
    let output = Command::new(BIN)
        .args(["bench", "--connect", &server.addr, "--json"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("bench runs");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.success(), report)
}

/// The counts of a report, in a fixed order, for whole-value comparison.
fn counts(report: &serde_json::Value) -> [u64; 6] {
    [
        "commands",
        "errors",
        "unexpected",
        "queued",
        "events",
        "connection_failures",
    ]
    .map(|key| report[key].as_u64().unwrap_or(u64::MAX))
}

#[test]
fn a_synchronous_run_sends_exactly_the_commands_asked_and_all_replies_are_right() {
    let server = server(&["--ring-timeout", "0", "--lang", "en"]);
    let (ok, report) = bench(&server, &["--commands", "300", "--lang", "en"]);
    assert!(ok, "{report}");
    assert_eq!(counts(&report), [300, 0, 0, 0, 0, 0]);
    let latency = &report["latency_us"];
    let (min, p50, max) = (
        latency["min"].as_f64().unwrap(),
        latency["p50"].as_f64().unwrap(),
        latency["max"].as_f64().unwrap(),
    );
    assert!(0.0 < min && min <= p50 && p50 <= max, "{latency}");
}

#[test]
fn pipelined_clients_in_both_patterns_are_exact_too() {
    let server = server(&["--ring-timeout", "0", "--operators", "100"]);
    for pattern in ["call-answer-hangup", "call-hangup"] {
        let (ok, report) = bench(
            &server,
            &[
                "--commands",
                "2000",
                "--clients",
                "4",
                "--pipeline",
                "8",
                "--pattern",
                pattern,
            ],
        );
        assert!(ok, "{pattern}: {report}");
        assert_eq!(counts(&report), [2000, 0, 0, 0, 0, 0], "{pattern}");
    }
}

#[test]
fn calls_that_queue_are_counted_and_hung_up() {
    // One operator and a window of 4: at most one call rings, the rest wait.
    let server = server(&["--ring-timeout", "0", "--operators", "1"]);
    let (ok, report) = bench(
        &server,
        &[
            "--commands",
            "400",
            "--pipeline",
            "4",
            "--pattern",
            "call-hangup",
        ],
    );
    assert!(ok, "{report}");
    let [commands, errors, unexpected, queued, events, failures] = counts(&report);
    assert_eq!(
        (commands, errors, unexpected, events, failures),
        (400, 0, 0, 0, 0)
    );
    assert!(queued > 0, "{report}");
}

#[test]
fn idle_connections_are_held_while_the_load_runs() {
    let server = server(&["--ring-timeout", "0"]);
    let (ok, report) = bench(&server, &["--commands", "200", "--idle", "50"]);
    assert!(ok, "{report}");
    assert_eq!(counts(&report), [200, 0, 0, 0, 0, 0]);
}

#[test]
fn replies_in_another_language_are_all_unexpected() {
    let server = server(&["--ring-timeout", "0", "--lang", "pt"]);
    let (ok, report) = bench(&server, &["--commands", "90", "--lang", "en"]);
    assert!(!ok, "a wrong transcript must fail the run: {report}");
    let [commands, errors, unexpected, ..] = counts(&report);
    // Every `call` reply is wrong; its call is then hung up (also wrong).
    assert_eq!((commands, errors, unexpected), (90, 0, 90));
}

#[test]
fn the_baseline_measures_a_loopback_ping_pong() {
    let output = Command::new(BIN)
        .args(["bench", "--baseline", "--duration", "0.2", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("bench runs");
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let [commands, errors, unexpected, ..] = counts(&report);
    assert!(commands > 0, "{report}");
    assert_eq!((errors, unexpected), (0, 0));
}
