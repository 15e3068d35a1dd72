//! Hostile protocol: well-formed JSON that asks for the wrong thing. Every
//! command with a missing, empty, too long or blank id; answer and reject
//! for operators that do not exist, are available or are busy; hangup of
//! unknown, finished, queued and ringing calls; duplicate call ids; the
//! same operator answering twice; words the wire does not take. Every
//! reply is compared whole; the state is checked afterwards (see
//! `hostile/mod.rs`). Operators `A,B`, no ring timeout unless said.

mod support;

use support::{Server, TIMEOUT, error, event, ok, request, usage};

const VERBS: [&str; 4] = ["call", "answer", "reject", "hangup"];

fn server() -> Server {
    Server::start(&["--lang", "en", "--ring-timeout", "0"])
}

#[test]
fn every_command_refuses_missing_empty_long_or_blank_ids() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let long = "x".repeat(65);
    for verb in VERBS {
        // Missing.
        conn.expect(&format!(r#"{{"command": "{verb}"}}"#), &usage(verb));
        conn.expect(
            &format!(r#"{{"command": "{verb}", "other": "A"}}"#),
            &usage(verb),
        );
        // Empty, too long, blank or with blanks.
        for id in [
            "", &long, " ", "\t", "\n", "\r", " A", "A ", "a b", "a\tb", "a\nb", "\u{a0}",
        ] {
            conn.expect(&request(verb, id), &usage(verb));
        }
    }
    // 64 bytes is the limit, not an error.
    let id = "x".repeat(64);
    conn.expect(
        &request("call", &id),
        &ok(&format!(
            "Call {id} received\nCall {id} ringing for operator A"
        )),
    );
    conn.expect(
        &request("answer", &id),
        &error(&format!("Operator {id} not found")),
    );
    conn.expect(
        &request("reject", &id),
        &error(&format!("Operator {id} not found")),
    );
    conn.expect(&request("hangup", &id), &ok(&format!("Call {id} missed")));
    server.check_healthy(&mut bystander);
}

#[test]
fn answer_and_reject_for_missing_available_and_busy_operators() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let script: &[(&str, &str, String)] = &[
        // Operators that do not exist (ids are case-sensitive).
        ("answer", "Z", error("Operator Z not found")),
        ("reject", "Z", error("Operator Z not found")),
        ("answer", "a", error("Operator a not found")),
        ("reject", "b", error("Operator b not found")),
        ("answer", "AB", error("Operator AB not found")),
        // Available operators have nothing ringing.
        ("answer", "A", error("Operator A has no ringing call")),
        ("reject", "B", error("Operator B has no ringing call")),
        (
            "call",
            "1",
            ok("Call 1 received\nCall 1 ringing for operator A"),
        ),
        // B is still available while A rings.
        ("answer", "B", error("Operator B has no ringing call")),
        ("reject", "B", error("Operator B has no ringing call")),
        ("answer", "A", ok("Call 1 answered by operator A")),
        // The same operator answering twice; rejecting while busy.
        ("answer", "A", error("Operator A has no ringing call")),
        ("reject", "A", error("Operator A has no ringing call")),
        (
            "call",
            "2",
            ok("Call 2 received\nCall 2 ringing for operator B"),
        ),
        // B is the only one available: the rejected call rings B again.
        (
            "reject",
            "B",
            ok("Call 2 rejected by operator B\nCall 2 ringing for operator B"),
        ),
        (
            "reject",
            "B",
            ok("Call 2 rejected by operator B\nCall 2 ringing for operator B"),
        ),
        ("answer", "B", ok("Call 2 answered by operator B")),
        ("answer", "B", error("Operator B has no ringing call")),
        // Both busy: a new call waits; answering does not take it.
        ("call", "3", ok("Call 3 received\nCall 3 waiting in queue")),
        ("answer", "A", error("Operator A has no ringing call")),
        (
            "hangup",
            "1",
            ok("Call 1 finished and operator A available\nCall 3 ringing for operator A"),
        ),
        // A rejects 3; B is busy, so it rings A again.
        (
            "reject",
            "A",
            ok("Call 3 rejected by operator A\nCall 3 ringing for operator A"),
        ),
        (
            "hangup",
            "2",
            ok("Call 2 finished and operator B available"),
        ),
        // Now B is available: a call A rejects goes to B.
        (
            "reject",
            "A",
            ok("Call 3 rejected by operator A\nCall 3 ringing for operator B"),
        ),
        ("answer", "A", error("Operator A has no ringing call")),
        ("hangup", "3", ok("Call 3 missed")),
        ("reject", "B", error("Operator B has no ringing call")),
    ];
    for (verb, id, reply) in script {
        conn.expect(&request(verb, id), reply);
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn hangup_of_unknown_finished_queued_and_ringing_calls() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let script: &[(&str, &str, String)] = &[
        ("hangup", "9", error("Call 9 not found")),
        // Operator ids are not call ids.
        ("hangup", "A", error("Call A not found")),
        (
            "call",
            "1",
            ok("Call 1 received\nCall 1 ringing for operator A"),
        ),
        (
            "call",
            "2",
            ok("Call 2 received\nCall 2 ringing for operator B"),
        ),
        ("call", "3", ok("Call 3 received\nCall 3 waiting in queue")),
        ("call", "4", ok("Call 4 received\nCall 4 waiting in queue")),
        ("call", "5", ok("Call 5 received\nCall 5 waiting in queue")),
        // A queued call in the middle of the queue leaves it; twice: not found.
        ("hangup", "4", ok("Call 4 missed")),
        ("hangup", "4", error("Call 4 not found")),
        ("answer", "A", ok("Call 1 answered by operator A")),
        // A finished call: its operator takes the head of the queue.
        (
            "hangup",
            "1",
            ok("Call 1 finished and operator A available\nCall 3 ringing for operator A"),
        ),
        ("hangup", "1", error("Call 1 not found")),
        // A ringing call: missed, and its operator takes the next one.
        (
            "hangup",
            "2",
            ok("Call 2 missed\nCall 5 ringing for operator B"),
        ),
        ("hangup", "2", error("Call 2 not found")),
        ("hangup", "3", ok("Call 3 missed")),
        ("hangup", "5", ok("Call 5 missed")),
        ("hangup", "5", error("Call 5 not found")),
        ("answer", "A", error("Operator A has no ringing call")),
        ("answer", "B", error("Operator B has no ringing call")),
    ];
    for (verb, id, reply) in script {
        conn.expect(&request(verb, id), reply);
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn duplicate_call_ids_are_refused_while_live_from_any_connection() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut one = server.connect();
    let mut two = server.connect();
    one.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    // Ringing: exists, whoever asks.
    one.expect(&request("call", "1"), &error("Call 1 already exists"));
    two.expect(&request("call", "1"), &error("Call 1 already exists"));
    one.expect(
        &request("call", "2"),
        &ok("Call 2 received\nCall 2 ringing for operator B"),
    );
    two.expect(
        &request("call", "3"),
        &ok("Call 3 received\nCall 3 waiting in queue"),
    );
    // Queued: exists.
    one.expect(&request("call", "3"), &error("Call 3 already exists"));
    two.expect(
        &request("answer", "A"),
        &ok("Call 1 answered by operator A"),
    );
    // Active: exists; the number 1 is the same id as the string "1".
    two.expect(&request("call", "1"), &error("Call 1 already exists"));
    two.expect(
        r#"{"command": "call", "id": 1}"#,
        &error("Call 1 already exists"),
    );
    // Ended: the id may be used again, at once.
    one.expect(
        &request("hangup", "1"),
        &ok("Call 1 finished and operator A available\nCall 3 ringing for operator A"),
    );
    two.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 waiting in queue"),
    );
    one.expect(&request("hangup", "1"), &ok("Call 1 missed"));
    one.expect(
        r#"{"command": "call", "id": 1}"#,
        &ok("Call 1 received\nCall 1 waiting in queue"),
    );
    two.expect(r#"{"command": "hangup", "id": 1}"#, &ok("Call 1 missed"));
    // Escapes name the same id as the plain text.
    two.expect(
        r#"{"command": "call", "id": "\u0031"}"#,
        &ok("Call 1 received\nCall 1 waiting in queue"),
    );
    one.expect(&request("call", "1"), &error("Call 1 already exists"));
    one.expect(&request("hangup", "1"), &ok("Call 1 missed"));
    one.expect(&request("hangup", "2"), &ok("Call 2 missed"));
    two.expect(&request("hangup", "3"), &ok("Call 3 missed"));
    server.check_healthy(&mut bystander);
}

#[test]
fn the_wire_takes_only_the_four_canonical_lower_case_commands() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    for word in [
        "CALL", "Call", "ligar", "ligue", "atender", "resposta", "rejeitar", "desligar", "help",
        "ajuda", "exit", "quit", "sair", "dance", "call ", " call", "call\t", "",
    ] {
        let shown = word.replace('\t', "\\t");
        conn.expect(
            &request(word, "1"),
            &error(&format!("Unknown command: {shown}")),
        );
    }
    // An unknown command is reported before a bad or missing id.
    conn.expect(r#"{"command": "exit"}"#, &error("Unknown command: exit"));
    conn.expect(
        r#"{"command": "dance", "id": null}"#,
        &error("Unknown command: dance"),
    );
    // A long word is cut after 64 bytes.
    conn.expect(
        &request(&"w".repeat(1000), "1"),
        &error(&format!("Unknown command: {}…", "w".repeat(64))),
    );
    // Extra fields and any key order are fine.
    conn.expect(
        r#"{"id": "x", "extra": [1, {"command": "call"}], "command": "hangup"}"#,
        &error("Call x not found"),
    );
    server.check_healthy(&mut bystander);
}

#[test]
fn ring_timeout_events_go_to_every_client_between_replies() {
    // 0.3 s: long enough to answer after the event, short enough to wait for.
    let mut server = Server::start(&["--lang", "en", "--ring-timeout", "0.3"]);
    let mut bystander = server.connect();
    let mut conn = server.connect();
    conn.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    let ignored = event("Call 1 ignored by operator A\nCall 1 ringing for operator B");
    // Both clients get the event, the caller too: it is not a reply.
    assert_eq!(conn.line(), ignored);
    assert_eq!(bystander.line(), ignored);
    conn.expect(
        &request("answer", "A"),
        &error("Operator A has no ringing call"),
    );
    conn.expect(
        &request("answer", "B"),
        &ok("Call 1 answered by operator B"),
    );
    conn.expect(
        &request("hangup", "1"),
        &ok("Call 1 finished and operator B available"),
    );
    // Nothing else is pending on either connection.
    conn.expect_nothing_pending();
    bystander.expect_nothing_pending();
    assert_eq!(
        bystander.next_within(TIMEOUT / 100),
        support::Next::TimedOut,
        "no further event"
    );
    server.check_healthy(&mut bystander);
}
