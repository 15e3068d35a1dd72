//! Standalone mode's ring timeout (SPEC §5, `--ring-timeout`), end to end:
//! the real binary, with short timeouts (0.2 s) read on its stdout as they
//! fire. Nothing sleeps: a test waits for a line, with a deadline.

mod support;

use std::time::{Duration, Instant};

use support::{Proc, assert_output, check, deadline, lines};

const EN: &[&str] = &["--lang", "en"];

#[test]
fn ring_timeout_offers_an_ignored_call_to_the_next_operator() {
    let mut session = Proc::session(&["--ring-timeout", "0.2", "--lang", "en"]);
    let start = Instant::now();
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Call 1 received\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    assert_eq!(session.read_line(), "Call 1 ignored by operator A\n");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(200),
        "ignored after {elapsed:?}, before the 0.2 s ring timeout"
    );
    assert_eq!(session.read_line(), "Call 1 ringing for operator B\n");
    // Answered well within B's 0.2 s, then no timer is left.
    session.write(b"answer B\nhangup 1\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 ignored by operator A",
            "Call 1 ringing for operator B",
            "Call 1 answered by operator B",
            "Call 1 finished and operator B available",
        ]),
        "",
    );
}

#[test]
fn ring_timeout_with_a_single_operator_rings_it_again() {
    let mut session = Proc::session(&["--ring-timeout", "0.2", "--lang", "en", "--operators", "A"]);
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Call 1 received\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    assert_eq!(session.read_line(), "Call 1 ignored by operator A\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    session.write(b"answer A\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 ignored by operator A",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
        ]),
        "",
    );
}

#[test]
fn ring_timeout_in_portuguese() {
    let mut session = Proc::session(&["--ring-timeout", "0.2"]);
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Chamada 1 recebida\n");
    assert_eq!(session.read_line(), "Chamada 1 tocando para o operador A\n");
    assert_eq!(session.read_line(), "Chamada 1 ignorada pelo operador A\n");
    assert_eq!(session.read_line(), "Chamada 1 tocando para o operador B\n");
    session.write(b"hangup 1\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Chamada 1 recebida",
            "Chamada 1 tocando para o operador A",
            "Chamada 1 ignorada pelo operador A",
            "Chamada 1 tocando para o operador B",
            "Chamada 1 perdida",
        ]),
        "",
    );
}

/// Starts a second program whose own ring timeout of `secs` serves as a
/// clock: returns once its call has been ignored, i.e. more than `secs`
/// seconds after this call.
fn wait_for_a_ring_timeout_elsewhere(secs: &str) {
    let mut clock = Proc::session(&["--ring-timeout", secs, "--lang", "en"]);
    clock.write(b"call 1\n");
    for _ in 0..3 {
        clock.read_line();
    }
    clock.close_stdin();
}

#[test]
fn ring_timeout_zero_never_ignores_a_call() {
    let script = "call 1\ncall 2\ncall 3\nhangup 1\n";
    check(
        &["--ring-timeout", "0", "--lang", "en"],
        script,
        &[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 2 received",
            "Call 2 ringing for operator B",
            "Call 3 received",
            "Call 3 waiting in queue",
            "Call 1 missed",
            "Call 3 ringing for operator A",
        ],
        &[],
    );
    // With stdin open: a call keeps ringing past what a 0.3 s timeout allows.
    let mut session = Proc::session(&["--ring-timeout", "0", "--lang", "en"]);
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Call 1 received\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    wait_for_a_ring_timeout_elsewhere("0.3");
    session.write(b"answer A\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
        ]),
        "",
    );
}

#[test]
fn ring_timeout_stops_when_the_call_is_answered() {
    let mut session = Proc::session(&["--ring-timeout", "0.2", "--lang", "en"]);
    session.write(b"call 1\nanswer A\n");
    for _ in 0..3 {
        session.read_line();
    }
    wait_for_a_ring_timeout_elsewhere("0.3");
    session.write(b"hangup 1\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
            "Call 1 finished and operator A available",
        ]),
        "",
    );
}

#[test]
fn ring_timeout_restarts_for_each_ring() {
    // The 0.4 s timer of the first ring must not fire on the second one.
    let mut session = Proc::session(&["--ring-timeout", "0.4", "--lang", "en", "--operators", "A"]);
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Call 1 received\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    wait_for_a_ring_timeout_elsewhere("0.2");
    let rejected = Instant::now();
    session.write(b"reject A\n");
    assert_eq!(session.read_line(), "Call 1 rejected by operator A\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    assert_eq!(session.read_line(), "Call 1 ignored by operator A\n");
    let elapsed = rejected.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "ignored {elapsed:?} after the new ring, before its 0.4 s ring timeout"
    );
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    session.write(b"answer A\n");
    session.close_stdin();
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 rejected by operator A",
            "Call 1 ringing for operator A",
            "Call 1 ignored by operator A",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
        ]),
        "",
    );
}

#[test]
fn end_of_input_exits_at_once_with_a_call_ringing() {
    // The default 10 s ring timeout is pending: EOF must not wait for it.
    let mut session = Proc::session(EN);
    session.write(b"call 1\n");
    assert_eq!(session.read_line(), "Call 1 received\n");
    assert_eq!(session.read_line(), "Call 1 ringing for operator A\n");
    session.close_stdin();
    let output = session.outcome(Instant::now() + Duration::from_secs(5));
    assert_output(
        &output,
        0,
        &lines(&["Call 1 received", "Call 1 ringing for operator A"]),
        "",
    );
}
