//! `callcenter bench` is correct (not fast: speed is measured, never asserted).
//!
//! A short run against a real server sends exactly the commands asked,
//! gets every reply it expects, and reports them in its JSON; a server
//! speaking another language makes every reply unexpected, which proves
//! the replies are really checked.

mod support;

use std::process::Stdio;

use support::{Server, run_with_stdin};

/// Runs the bench (stdin `/dev/null`, by the harness's deadline); returns
/// its exit success and its JSON report.
fn bench(args: &[&str]) -> (bool, serde_json::Value) {
    let mut all = vec!["bench", "--json"];
    all.extend_from_slice(args);
    let output = run_with_stdin(&all, Stdio::null());
    let report = serde_json::from_str(&output.stdout)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", output.stdout));
    (output.code == Some(0), report)
}

/// Runs the bench against `server`, as [`bench`] does.
fn bench_against(server: &Server, args: &[&str]) -> (bool, serde_json::Value) {
    let address = server.address();
    let mut all = vec!["--connect", &address];
    all.extend_from_slice(args);
    bench(&all)
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
    let server = Server::start(&["--ring-timeout", "0", "--lang", "en"]);
    let (ok, report) = bench_against(&server, &["--commands", "300", "--lang", "en"]);
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
    let server = Server::start(&["--ring-timeout", "0", "--operators", "100"]);
    for pattern in ["call-answer-hangup", "call-hangup"] {
        let (ok, report) = bench_against(
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
    let server = Server::start(&["--ring-timeout", "0", "--operators", "1"]);
    let (ok, report) = bench_against(
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
    let server = Server::start(&["--ring-timeout", "0"]);
    let (ok, report) = bench_against(&server, &["--commands", "200", "--idle", "50"]);
    assert!(ok, "{report}");
    assert_eq!(counts(&report), [200, 0, 0, 0, 0, 0]);
}

#[test]
fn replies_in_another_language_are_all_unexpected() {
    let server = Server::start(&["--ring-timeout", "0", "--lang", "pt"]);
    let (ok, report) = bench_against(&server, &["--commands", "90", "--lang", "en"]);
    assert!(!ok, "a wrong transcript must fail the run: {report}");
    let [commands, errors, unexpected, ..] = counts(&report);
    // Every `call` reply is wrong; its call is then hung up (also wrong).
    assert_eq!((commands, errors, unexpected), (90, 0, 90));
}

#[test]
fn the_baseline_measures_a_loopback_ping_pong() {
    let (ok, report) = bench(&["--baseline", "--duration", "0.2"]);
    assert!(ok, "{report}");
    let [commands, errors, unexpected, ..] = counts(&report);
    assert!(commands > 0, "{report}");
    assert_eq!((errors, unexpected), (0, 0));
}
