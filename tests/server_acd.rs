//! The ACD on the wire (SPEC §9.7), against the real server over raw TCP:
//!
//! - `status` and `stats` replies carry the text in `response` and the same
//!   facts as JSON beside it, with exactly the documented fields;
//! - the new requests with their optional fields (`priority`, `reason`) and
//!   their usage errors;
//! - a wrap-up's end and an auto-pause are events sent to every client, like
//!   a ring timeout (short real timers, 0.2 s: the only timing in this file).
//!
//! Every reply line is compared whole, except `since_s` (how long an
//! operator has been in its state), which depends on the test's speed and is
//! checked for range instead.

mod support;

use serde_json::{Value, json};
use support::{Server, error, event, ok};

const EN: [&str; 4] = ["--lang", "en", "--ring-timeout", "0"];

/// Splits a report reply into its raw text part and its JSON, checking
/// the line is exactly `{"response": "...", "<key>": {...}}`.
fn report(line: &str, key: &str) -> (String, Value) {
    let value: Value = serde_json::from_str(line).expect("a JSON reply");
    let object = value.as_object().expect("an object");
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected_keys = vec!["response", key];
    expected_keys.sort();
    assert_eq!(keys, expected_keys, "{line}");
    let text = value["response"].as_str().expect("a text").to_string();
    let prefix = format!(
        "{{\"response\": {}, \"{key}\": ",
        serde_json::to_string(&text).unwrap()
    );
    assert!(line.starts_with(&prefix), "{line}");
    (text, value[key].clone())
}

#[test]
fn status_replies_carry_the_text_and_the_documented_json() {
    let server = Server::start(&[&EN[..], &["--operators", "A,B,C,D"]].concat());
    let mut conn = server.connect();
    for (request, reply) in [
        (
            r#"{"command": "call", "id": "1"}"#,
            "Call 1 received\nCall 1 ringing for operator A",
        ),
        (
            r#"{"command": "answer", "id": "A"}"#,
            "Call 1 answered by operator A",
        ),
        (
            r#"{"command": "pause", "id": "C", "reason": "lunch"}"#,
            "Operator C paused (lunch)",
        ),
        (
            r#"{"command": "logout", "id": "D"}"#,
            "Operator D logged out",
        ),
        (
            r#"{"command": "call", "id": "2"}"#,
            "Call 2 received\nCall 2 ringing for operator B",
        ),
        (
            r#"{"command": "call", "id": "3"}"#,
            "Call 3 received\nCall 3 waiting in queue",
        ),
        (
            r#"{"command": "call", "id": "4", "priority": 5}"#,
            "Call 4 received\nCall 4 waiting in queue",
        ),
    ] {
        conn.expect(request, &ok(reply));
    }
    let line = conn.request(r#"{"command": "status"}"#);
    let (text, mut status) = report(&line, "status");
    assert_eq!(
        text,
        "Queue: 2 waiting, longest wait 0 s\nOperator A: on call 1\nOperator B: ringing call 2\n\
         Operator C: idle, paused (lunch)\nOperator D: logged out\nWaiting: 4, 3"
    );
    for operator in status["operators"].as_array_mut().unwrap() {
        let since = operator["since_s"].as_f64().expect("since_s is a number");
        assert!((0.0..5.0).contains(&since), "{since}");
        operator["since_s"] = json!(0.0);
    }
    let longest = status["longest_wait_s"].as_f64().unwrap();
    assert!((0.0..5.0).contains(&longest), "{longest}");
    status["longest_wait_s"] = json!(0.0);
    let operator = |id: &str,
                    state: &str,
                    call: Option<&str>,
                    paused: bool,
                    reason: Option<&str>| {
        json!({"id": id, "state": state, "call": call, "paused": paused, "reason": reason, "since_s": 0.0})
    };
    assert_eq!(
        status,
        json!({
            "waiting": 2,
            "longest_wait_s": 0.0,
            "strategy": "linear",
            "operators": [
                operator("A", "on-call", Some("1"), false, None),
                operator("B", "ringing", Some("2"), false, None),
                operator("C", "idle", None, true, Some("lunch")),
                operator("D", "logged-out", None, false, None),
            ],
            "queue": ["4", "3"],
        })
    );
    server.stop();
}

#[test]
fn stats_replies_carry_the_text_and_the_documented_json() {
    let server = Server::start(&[&EN[..], &["--service-level", "7.5"]].concat());
    let mut conn = server.connect();
    for request in [
        r#"{"command": "call", "id": "1"}"#,
        r#"{"command": "reject", "id": "A"}"#,
        r#"{"command": "answer", "id": "B"}"#,
        r#"{"command": "hangup", "id": "1"}"#,
        r#"{"command": "call", "id": "2"}"#,
        r#"{"command": "hangup", "id": "2"}"#,
    ] {
        let reply: Value = serde_json::from_str(&conn.request(request)).unwrap();
        assert_eq!(reply.get("error"), None, "{request}");
    }
    let line = conn.request(r#"{"command": "stats"}"#);
    assert_eq!(
        line,
        r#"{"response": "Calls: 2 received, 1 answered, 1 finished, 1 missed\nRings: 1 rejected, 0 ignored\nWait: average 0.0 s, longest 0.0 s\nService level: 50.0% within 7.5 s\nOperator A: 0 answered, 1 rejected, 0 ignored, talk 0.0 s\nOperator B: 1 answered, 0 rejected, 0 ignored, talk 0.0 s", "stats": {"received":2,"answered":1,"finished":1,"missed":1,"rejected":1,"ignored":0,"wait_avg_s":0.0,"wait_max_s":0.0,"service_level":{"seconds":7.5,"percent":50.0},"operators":[{"id":"A","answered":0,"rejected":1,"ignored":0,"talk_s":0.0},{"id":"B","answered":1,"rejected":0,"ignored":0,"talk_s":0.0}]}}"#
    );
    server.stop();
}

#[test]
fn new_requests_take_their_optional_fields_and_refuse_bad_ones() {
    let server = Server::start(&EN);
    let mut conn = server.connect();
    for (request, reply) in [
        (
            r#"{"command": "call", "id": "1", "priority": 10}"#,
            error("Usage: call <id> [priority]"),
        ),
        (
            r#"{"command": "call", "id": "1", "priority": "9"}"#,
            error("Usage: call <id> [priority]"),
        ),
        (
            r#"{"command": "pause", "id": "A", "reason": "two words"}"#,
            error("Usage: pause <op> [reason]"),
        ),
        (
            r#"{"command": "status", "id": "A"}"#,
            error("Usage: status"),
        ),
        (r#"{"command": "stats", "id": "A"}"#, error("Usage: stats")),
        (r#"{"command": "unpause"}"#, error("Usage: unpause <op>")),
        (r#"{"command": "estado"}"#, error("Unknown command: estado")),
        (
            r#"{"command": "pause", "id": "A", "reason": "café"}"#,
            ok("Operator A paused (café)"),
        ),
        (
            r#"{"command": "pause", "id": "A"}"#,
            error("Operator A already paused"),
        ),
        (
            r#"{"command": "unpause", "id": "A"}"#,
            ok("Operator A unpaused"),
        ),
        (
            r#"{"command": "login", "id": "C"}"#,
            ok("Operator C logged in"),
        ),
        (
            r#"{"command": "login", "id": 7}"#,
            ok("Operator 7 logged in"),
        ),
        (
            r#"{"command": "logout", "id": "B"}"#,
            ok("Operator B logged out"),
        ),
        (
            r#"{"command": "unpause", "id": "B"}"#,
            error("Operator B not logged in"),
        ),
        (
            r#"{"command": "call", "id": "1", "priority": 9, "reason": "ignored"}"#,
            ok("Call 1 received\nCall 1 ringing for operator A"),
        ),
    ] {
        conn.expect(request, &reply);
    }
    server.stop();
}

#[test]
fn a_wrap_up_end_is_an_event_for_every_client() {
    let server = Server::start(&[&EN[..], &["--operators", "A", "--wrap-up", "0.2"]].concat());
    let mut caller = server.connect();
    let mut watcher = server.connect();
    caller.expect(
        r#"{"command": "call", "id": "1"}"#,
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    caller.expect(
        r#"{"command": "answer", "id": "A"}"#,
        &ok("Call 1 answered by operator A"),
    );
    caller.expect(
        r#"{"command": "hangup", "id": "1"}"#,
        &ok("Call 1 finished and operator A in wrap-up"),
    );
    watcher.expect(
        r#"{"command": "call", "id": "2"}"#,
        &ok("Call 2 received\nCall 2 waiting in queue"),
    );
    let expected = event("Operator A available\nCall 2 ringing for operator A");
    assert_eq!(caller.line(), expected);
    assert_eq!(watcher.line(), expected);
    server.stop();
}

#[test]
fn an_auto_pause_is_part_of_the_ring_timeout_event() {
    let server = Server::start(&[
        "--lang",
        "en",
        "--ring-timeout",
        "0.2",
        "--max-no-answer",
        "1",
    ]);
    let mut caller = server.connect();
    let mut watcher = server.connect();
    caller.expect(
        r#"{"command": "call", "id": "1"}"#,
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    let first = event(
        "Call 1 ignored by operator A\nOperator A paused after 1 unanswered call\n\
         Call 1 ringing for operator B",
    );
    assert_eq!(caller.line(), first);
    assert_eq!(watcher.line(), first);
    let second = event("Call 1 ignored by operator B\nOperator B paused after 1 unanswered call");
    assert_eq!(caller.line(), second);
    assert_eq!(watcher.line(), second);
    server.stop();
}
