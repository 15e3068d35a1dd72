//! End-to-end tests of `callcenter server` (SPEC §6 wire protocol, §7
//! robustness), run as the real binary and spoken to over raw
//! `std::net::TcpStream`s: every reply is compared whole, byte for byte.
//!
//! Every server listens on `127.0.0.1:0`, has `/dev/null` for stdin, and is
//! killed when its test ends, even on failure; every read has a timeout.

mod support;

use std::collections::HashSet;
use std::io::{ErrorKind, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use support::{Conn, INVALID, SEED_CMDS, SEED_EN, SEED_PT, Server, TOO_LONG, ok, request};

/// Runs the seed's script over one raw connection and returns the replies'
/// texts, each reply checked to be a plain (not error, not event) reply.
fn seed_over_the_wire(conn: &mut Conn) -> String {
    let mut transcript = String::new();
    for line in SEED_CMDS.lines() {
        let (verb, id) = line.split_once(' ').expect("`verb id`");
        let reply = conn.request(&request(verb, id));
        let value: serde_json::Value = serde_json::from_str(&reply).expect("a JSON reply");
        let text = value["response"].as_str().expect("a string response");
        assert_eq!(reply, ok(text), "the reply to {line:?}");
        transcript.push_str(text);
        transcript.push('\n');
    }
    transcript
}

#[test]
fn the_seed_over_a_raw_socket_gives_the_seed_output_in_both_languages() {
    for (lang, expected) in [("en", SEED_EN), ("pt", SEED_PT)] {
        let server = Server::start(&["--lang", lang]);
        let mut conn = server.connect();
        assert_eq!(seed_over_the_wire(&mut conn), expected, "--lang {lang}");
        drop(conn);
        server.stop();
    }
}

#[test]
fn every_reply_shape_numeric_ids_extra_fields_and_error_replies() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    let exchanges: &[(&str, &str)] = &[
        // Error reply: `"error": true`.
        (
            r#"{"command": "hangup", "id": "9"}"#,
            r#"{"response": "Call 9 not found", "error": true}"#,
        ),
        // Reply: several messages joined by `\n`.
        (
            r#"{"command": "call", "id": "1"}"#,
            r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#,
        ),
        // A numeric id, and keys in any order.
        (
            r#"{"id": 7, "command": "call"}"#,
            r#"{"response": "Call 7 received\nCall 7 ringing for operator B"}"#,
        ),
        // Extra fields are ignored.
        (
            r#"{"command": "answer", "id": "A", "extra": [1, {"x": null}], "n": 2}"#,
            r#"{"response": "Call 1 answered by operator A"}"#,
        ),
        (
            r#"{"command": "reject", "id": "B"}"#,
            r#"{"response": "Call 7 rejected by operator B\nCall 7 ringing for operator B"}"#,
        ),
        // JSON escapes in ids travel both ways.
        (
            r#"{"command": "call", "id": "a\"b\\c"}"#,
            r#"{"response": "Call a\"b\\c received\nCall a\"b\\c waiting in queue"}"#,
        ),
        (
            r#"{"command": "call", "id": "\u00e9"}"#,
            r#"{"response": "Call é received\nCall é waiting in queue"}"#,
        ),
        (
            r#"{"command": "call", "id": "7"}"#,
            r#"{"response": "Call 7 already exists", "error": true}"#,
        ),
        (
            r#"{"command": "hangup", "id": 7}"#,
            r#"{"response": "Call 7 missed\nCall a\"b\\c ringing for operator B"}"#,
        ),
        (
            r#"{"command": "answer", "id": "Z"}"#,
            r#"{"response": "Operator Z not found", "error": true}"#,
        ),
        (
            r#"{"command": "reject", "id": "A"}"#,
            r#"{"response": "Operator A has no ringing call", "error": true}"#,
        ),
        (
            r#"{"command": "hangup", "id": "1"}"#,
            r#"{"response": "Call 1 finished and operator A available\nCall é ringing for operator A"}"#,
        ),
        // Unknown commands (help and exit are the client's own business).
        (
            r#"{"command": "dance", "id": "1"}"#,
            r#"{"response": "Unknown command: dance", "error": true}"#,
        ),
        (
            r#"{"command": "help"}"#,
            r#"{"response": "Unknown command: help", "error": true}"#,
        ),
        (
            r#"{"command": "exit"}"#,
            r#"{"response": "Unknown command: exit", "error": true}"#,
        ),
        // Missing or invalid ids.
        (
            r#"{"command": "call"}"#,
            r#"{"response": "Usage: call <id> [priority]", "error": true}"#,
        ),
        (
            r#"{"command": "answer", "id": ""}"#,
            r#"{"response": "Usage: answer <id>", "error": true}"#,
        ),
        (
            r#"{"command": "reject", "id": "a b"}"#,
            r#"{"response": "Usage: reject <id>", "error": true}"#,
        ),
        (
            r#"{"command": "hangup", "id": null}"#,
            r#"{"response": "Usage: hangup <id>", "error": true}"#,
        ),
        (
            r#"{"command": "call", "id": true}"#,
            r#"{"response": "Usage: call <id> [priority]", "error": true}"#,
        ),
        // Not a request at all.
        ("not json", INVALID),
        ("[1, 2]", INVALID),
        ("42", INVALID),
        ("{}", INVALID),
        (r#"{"command": 1, "id": "1"}"#, INVALID),
        (r#"{"id": "1"}"#, INVALID),
        // The state is intact after all that.
        (
            r#"{"command": "hangup", "id": "a\"b\\c"}"#,
            r#"{"response": "Call a\"b\\c missed"}"#,
        ),
        (
            r#"{"command": "hangup", "id": "é"}"#,
            r#"{"response": "Call é missed"}"#,
        ),
    ];
    let mut replies = Vec::new();
    for (request, _) in exchanges {
        replies.push(conn.request(request));
    }
    let expected: Vec<&str> = exchanges.iter().map(|(_, reply)| *reply).collect();
    assert_eq!(replies, expected);
    drop(conn);
    server.stop();
}

#[test]
fn invalid_utf8_in_a_request_gets_an_error_reply() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    conn.send(b"{\"command\": \"call\", \"id\": \"\xff\"}\n");
    assert_eq!(conn.line(), INVALID);
    assert_eq!(
        conn.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    drop(conn);
    server.stop();
}

#[test]
fn a_ring_timeout_is_an_event_reply() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0.2"]);
    let mut conn = server.connect();
    assert_eq!(
        conn.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    assert_eq!(
        conn.line(),
        r#"{"response": "Call 1 ignored by operator A\nCall 1 ringing for operator B", "event": true}"#
    );
    let mut ringing = Ringing::new("1", "B");
    assert_eq!(
        ringing.reply(&mut conn, r#"{"command": "hangup", "id": "1"}"#),
        r#"{"response": "Call 1 missed"}"#
    );
    drop(conn);
    server.stop();
}

/// A call bouncing between operators A and B on ring timeouts.
///
/// Ring timers keep firing while a test talks to the server, so an event
/// may come before the reply the test waits for: [`Ringing::reply`] accepts
/// exactly the events due, in order, then the reply.
struct Ringing {
    call: &'static str,
    /// The operator it rings for now.
    operator: &'static str,
}

impl Ringing {
    fn new(call: &'static str, operator: &'static str) -> Ringing {
        Ringing { call, operator }
    }

    /// The event of the next ring timeout (`--lang en`).
    fn next_event(&mut self) -> String {
        let next = if self.operator == "A" { "B" } else { "A" };
        let event = format!(
            r#"{{"response": "Call {c} ignored by operator {o}\nCall {c} ringing for operator {next}", "event": true}}"#,
            c = self.call,
            o = self.operator,
        );
        self.operator = next;
        event
    }

    /// Reads past the events due (each checked exactly) to the next line that
    /// is not one.
    fn skip_events(&mut self, conn: &mut Conn) -> String {
        loop {
            let line = conn.line();
            if !line.ends_with(r#""event": true}"#) {
                return line;
            }
            assert_eq!(line, self.next_event());
        }
    }

    /// Sends `request` and returns its reply, past the events due.
    fn reply(&mut self, conn: &mut Conn, request: &str) -> String {
        conn.send(format!("{request}\n").as_bytes());
        self.skip_events(conn)
    }
}

#[test]
fn replies_go_to_their_sender_only_and_events_to_every_client() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0.2"]);
    let mut first = server.connect();
    let mut second = server.connect();
    // Both are connected (and served) before anything rings.
    assert_eq!(
        second.request(r#"{"command": "hangup", "id": "x"}"#),
        r#"{"response": "Call x not found", "error": true}"#
    );
    assert_eq!(
        first.request(r#"{"command": "hangup", "id": "y"}"#),
        r#"{"response": "Call y not found", "error": true}"#
    );
    assert_eq!(
        first.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    // The next line each client sees is the event: neither the first's reply
    // reached the second, nor the second's the first.
    let event = r#"{"response": "Call 1 ignored by operator A\nCall 1 ringing for operator B", "event": true}"#;
    assert_eq!(first.line(), event);
    assert_eq!(second.line(), event);
    let mut seen_by_first = Ringing::new("1", "B");
    let mut seen_by_second = Ringing::new("1", "B");
    assert_eq!(
        seen_by_second.reply(&mut second, r#"{"command": "hangup", "id": "1"}"#),
        r#"{"response": "Call 1 missed"}"#
    );
    // The second's reply did not reach the first: its next line (past the
    // events that fired meanwhile, the same the second saw) is its own reply.
    assert_eq!(
        seen_by_first.reply(&mut first, r#"{"command": "hangup", "id": "1"}"#),
        r#"{"response": "Call 1 not found", "error": true}"#
    );
    assert_eq!(seen_by_first.operator, seen_by_second.operator);
    drop((first, second));
    server.stop();
}

#[test]
fn bare_objects_back_to_back_without_newlines() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    conn.send(
        br#"{"command": "call", "id": "1"}{"command": "call", "id": "2"} {"command": "hangup", "id": "1"}"#,
    );
    assert_eq!(
        [conn.line(), conn.line(), conn.line()],
        [
            r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#,
            r#"{"response": "Call 2 received\nCall 2 ringing for operator B"}"#,
            r#"{"response": "Call 1 missed"}"#,
        ]
    );
    // Still no newline: one more object, and its reply is awaited.
    conn.send(br#"{"command": "answer", "id": "B"}"#);
    assert_eq!(
        conn.line(),
        r#"{"response": "Call 2 answered by operator B"}"#
    );
    drop(conn);
    server.stop();
}

#[test]
fn a_client_sending_one_bare_object_gets_its_reply() {
    let server = Server::start(&["--lang", "en"]);
    let mut conn = server.connect();
    conn.send(br#"{"command": "call", "id": "1"}"#);
    assert_eq!(
        conn.line(),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    drop(conn);
    server.stop();
}

#[test]
fn crlf_line_endings_are_accepted() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    conn.send(b"{\"command\": \"call\", \"id\": \"1\"}\r\n{\"command\": \"reject\", \"id\": \"A\"}\r\n\r\n{\"command\": \"hangup\", \"id\": \"1\"}\r\n");
    assert_eq!(
        [conn.line(), conn.line(), conn.line()],
        [
            r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#,
            r#"{"response": "Call 1 rejected by operator A\nCall 1 ringing for operator B"}"#,
            r#"{"response": "Call 1 missed"}"#,
        ]
    );
    drop(conn);
    server.stop();
}

#[test]
fn requests_written_one_byte_at_a_time() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    let input = "{\"command\": \"call\", \"id\": \"\\u00e9\"}\r\n{\"id\": 2, \"command\": \"call\"}{\"command\": \"answer\", \"id\": \"A\"}\nnot json\n{\"command\": \"hangup\", \"id\": \"é\"}";
    for byte in input.as_bytes() {
        conn.stream.write_all(&[*byte]).expect("send");
        conn.stream.flush().expect("flush");
    }
    let replies: Vec<String> = (0..5).map(|_| conn.line()).collect();
    assert_eq!(
        replies,
        [
            r#"{"response": "Call é received\nCall é ringing for operator A"}"#,
            r#"{"response": "Call 2 received\nCall 2 ringing for operator B"}"#,
            r#"{"response": "Call é answered by operator A"}"#,
            INVALID,
            r#"{"response": "Call é finished and operator A available"}"#,
        ]
    );
    drop(conn);
    server.stop();
}

#[test]
fn a_malformed_line_gets_an_error_and_the_next_line_is_served() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    conn.send(b"{\"command\": \"call\", \"id\": \n{\"command\": \"call\", \"id\": \"2\"}\n");
    assert_eq!(conn.line(), INVALID);
    assert_eq!(
        conn.line(),
        r#"{"response": "Call 2 received\nCall 2 ringing for operator A"}"#
    );
    // Garbage after a complete object on the same line is one more error.
    conn.send(b"{\"command\": \"hangup\", \"id\": \"2\"} trailing\n}}}\n");
    assert_eq!(
        [conn.line(), conn.line(), conn.line()],
        [r#"{"response": "Call 2 missed"}"#, INVALID, INVALID]
    );
    assert_eq!(
        conn.request(r#"{"command": "hangup", "id": "2"}"#),
        r#"{"response": "Call 2 not found", "error": true}"#
    );
    drop(conn);
    server.stop();
}

#[test]
fn a_70_kib_line_gets_an_error_then_the_connection_closes() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut bystander = server.connect();
    assert_eq!(
        bystander.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    let mut conn = server.connect();
    let line = format!(
        "{{\"command\": \"call\", \"id\": \"{}\"}}\n",
        "x".repeat(70 * 1024)
    );
    conn.send(line.as_bytes());
    assert_eq!(conn.line(), TOO_LONG);
    conn.expect_eof();
    // Nothing else is affected: the other connection and new ones are served.
    assert_eq!(
        bystander.request(r#"{"command": "answer", "id": "A"}"#),
        r#"{"response": "Call 1 answered by operator A"}"#
    );
    let mut next = server.connect();
    assert_eq!(
        next.request(r#"{"command": "hangup", "id": "1"}"#),
        r#"{"response": "Call 1 finished and operator A available"}"#
    );
    drop((bystander, next));
    server.stop();
}

#[test]
fn a_70_kib_run_of_bytes_without_a_newline_gets_an_error_then_eof() {
    let server = Server::start(&["--lang", "en"]);
    let mut conn = server.connect();
    conn.send("y".repeat(70 * 1024).as_bytes());
    assert_eq!(conn.line(), TOO_LONG);
    conn.expect_eof();
    let mut conn = server.connect();
    conn.send(
        format!(
            "{{\"command\": \"call\", \"id\": \"{}",
            "z".repeat(70 * 1024)
        )
        .as_bytes(),
    );
    assert_eq!(conn.line(), TOO_LONG);
    conn.expect_eof();
    server.stop();
}

#[test]
fn past_max_clients_a_connection_is_refused_until_one_leaves() {
    let server = Server::start(&["--lang", "en", "--max-clients", "2"]);
    let mut first = server.connect();
    let mut second = server.connect();
    for conn in [&mut first, &mut second] {
        assert_eq!(
            conn.request(r#"{"command": "hangup", "id": "x"}"#),
            r#"{"response": "Call x not found", "error": true}"#
        );
    }
    let mut third = server.connect();
    assert_eq!(
        third.line(),
        r#"{"response": "Server full (limit 2): try again later", "error": true, "closing": true}"#
    );
    third.expect_eof();
    // The first leaves; once the server has closed it, a newcomer is served.
    first.stream.shutdown(std::net::Shutdown::Write).unwrap();
    first.expect_eof();
    drop(first);
    let mut fourth = server.connect();
    assert_eq!(
        fourth.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    // Full again.
    let mut fifth = server.connect();
    assert_eq!(
        fifth.line(),
        r#"{"response": "Server full (limit 2): try again later", "error": true, "closing": true}"#
    );
    fifth.expect_eof();
    assert_eq!(
        second.request(r#"{"command": "hangup", "id": "1"}"#),
        r#"{"response": "Call 1 missed"}"#
    );
    drop((second, fourth));
    server.stop();
}

/// Sends `signal` to a server with a connected idle client: it must exit 0
/// at once, print nothing more, and close the connection.
fn stops_promptly_on(signal: libc::c_int) {
    let mut server = Server::start(&["--lang", "en"]);
    let mut conn = server.connect();
    assert_eq!(
        conn.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    server.proc.signal(signal);
    let prompt = Instant::now() + Duration::from_secs(2);
    let (code, stdout, stderr) = server.proc.finish(prompt);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (Some(0), "", ""));
    conn.expect_eof();
}

#[test]
fn sigterm_exits_0_promptly_with_a_client_connected() {
    stops_promptly_on(libc::SIGTERM);
}

#[test]
fn sigint_exits_0_promptly_with_a_client_connected() {
    stops_promptly_on(libc::SIGINT);
}

/// The most a client that never reads may send before the server stops
/// reading it (backpressure); far above what the kernel's socket buffers
/// and the server's high-water mark hold.
const FLOOD_LIMIT: usize = 64 * 1024 * 1024;

#[test]
fn a_client_that_never_reads_does_not_stop_the_others() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut good = server.connect();
    assert_eq!(
        good.request(r#"{"command": "call", "id": "g1"}"#),
        r#"{"response": "Call g1 received\nCall g1 ringing for operator A"}"#
    );
    assert_eq!(
        good.request(r#"{"command": "call", "id": "g2"}"#),
        r#"{"response": "Call g2 received\nCall g2 ringing for operator B"}"#
    );
    // The flood: calls f0, f1, ... (all queued), never reading a reply,
    // until the server stops reading (a write blocks) or the limit.
    let flooder = server.connect();
    flooder
        .stream
        .set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let (blocked_tx, blocked) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let mut stream = flooder.stream.try_clone().unwrap();
    let flood = thread::spawn(move || {
        let mut sent = 0;
        let mut next = 0;
        let outcome = loop {
            if sent >= FLOOD_LIMIT {
                break Err(sent);
            }
            let mut batch = String::new();
            for _ in 0..1000 {
                batch.push_str(&format!("{{\"command\": \"call\", \"id\": \"f{next}\"}}\n"));
                next += 1;
            }
            match stream.write(batch.as_bytes()) {
                Ok(n) if n < batch.len() => break Ok(sent + n),
                Ok(n) => sent += n,
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    break Ok(sent);
                }
                Err(error) => panic!("the server dropped the flooder: {error}"),
            }
        };
        let _ = blocked_tx.send(outcome);
        // Keep the socket open, unread, until the test is done.
        let _ = released.recv_timeout(support::TIMEOUT);
        drop(stream);
    });
    let outcome = blocked
        .recv_timeout(support::TIMEOUT)
        .expect("the flooder neither blocked nor reached its limit in time");
    let sent = outcome.unwrap_or_else(|sent| {
        panic!("the server read {sent} bytes from a client that never reads")
    });
    assert!(sent > 0);
    // Meanwhile the other client is served (each reply within the read
    // timeout), the queue intact.
    assert_eq!(
        good.request(r#"{"command": "call", "id": "g3"}"#),
        r#"{"response": "Call g3 received\nCall g3 waiting in queue"}"#
    );
    assert_eq!(
        good.request(r#"{"command": "hangup", "id": "g3"}"#),
        r#"{"response": "Call g3 missed"}"#
    );
    assert_eq!(
        good.request(r#"{"command": "hangup", "id": "g1"}"#),
        r#"{"response": "Call g1 missed\nCall f0 ringing for operator A"}"#
    );
    // SIGTERM with the flooder still connected, its output stuck: the
    // server flushes what it can and exits 0 at once.
    server.stop();
    release.send(()).unwrap();
    flood.join().unwrap();
    drop((flooder, good));
}

#[test]
fn many_clients_each_get_their_own_replies() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0", "--operators", "3"]);
    let mut conns: Vec<Conn> = (0..20).map(|_| server.connect()).collect();
    // Everyone sends before anyone reads: replies must not cross.
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.send(format!("{}\n", request("hangup", &format!("c{i}"))).as_bytes());
    }
    let mut seen = HashSet::new();
    for (i, conn) in conns.iter_mut().enumerate() {
        let line = conn.line();
        assert_eq!(
            line,
            format!(r#"{{"response": "Call c{i} not found", "error": true}}"#)
        );
        assert!(seen.insert(line));
    }
    drop(conns);
    server.stop();
}

#[test]
fn a_client_that_pipelines_many_commands_gets_every_reply() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    const COUNT: usize = 30_000;
    let mut input = String::new();
    for i in 0..COUNT {
        input.push_str(&format!("{{\"command\": \"hangup\", \"id\": \"x{i}\"}}\n"));
    }
    let mut stream = conn.stream.try_clone().unwrap();
    let writer = thread::spawn(move || stream.write_all(input.as_bytes()));
    for i in 0..COUNT {
        let line = conn.line();
        if line != format!(r#"{{"response": "Call x{i} not found", "error": true}}"#) {
            panic!("reply {i}: {line:?}");
        }
    }
    writer.join().unwrap().unwrap();
    drop(conn);
    server.stop();
}

/// A JSON message of `length` bytes: a call whose id is `x`s.
fn call_message(length: usize) -> String {
    let head = r#"{"command": "call", "id": ""#;
    format!("{head}{}\"}}", "x".repeat(length - head.len() - 2))
}

#[test]
fn a_message_of_exactly_64_kib_is_read() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    // 65536 bytes: a message (its id is too long for an id), then more.
    let exact = call_message(65536);
    assert_eq!(exact.len(), 65536);
    conn.send(format!("{exact}\r\n").as_bytes());
    assert_eq!(
        conn.line(),
        r#"{"response": "Usage: call <id> [priority]", "error": true}"#
    );
    // The same for 65536 bytes that are not JSON.
    conn.send(format!("{}\n", "g".repeat(65536)).as_bytes());
    assert_eq!(conn.line(), INVALID);
    assert_eq!(
        conn.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    // 65537 bytes that are not JSON: too long.
    let mut conn = server.connect();
    conn.send(format!("{}\n", "g".repeat(65537)).as_bytes());
    assert_eq!(conn.line(), TOO_LONG);
    conn.expect_eof();
    server.stop();
}

#[test]
fn a_json_message_of_64_kib_plus_one_byte_is_too_long() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    let message = call_message(65537);
    assert_eq!(message.len(), 65537);
    conn.send(format!("{message}\n").as_bytes());
    assert_eq!(conn.line(), TOO_LONG);
    conn.expect_eof();
    server.stop();
}

#[test]
fn deeply_nested_json_is_an_invalid_request_not_a_crash() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let mut conn = server.connect();
    let deep = format!("{}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    conn.send(deep.as_bytes());
    assert_eq!(conn.line(), INVALID);
    let deep_id = format!(
        "{{\"command\": \"call\", \"id\": {}{}}}\n",
        "{\"a\": ".repeat(5_000),
        "}".repeat(5_000)
    );
    conn.send(deep_id.as_bytes());
    assert_eq!(conn.line(), INVALID);
    assert_eq!(
        conn.request(r#"{"command": "call", "id": "1"}"#),
        r#"{"response": "Call 1 received\nCall 1 ringing for operator A"}"#
    );
    drop(conn);
    server.stop();
}
