//! End-to-end tests of `callcenter client` (SPEC §6): the real binary against
//! the real server (or against a hand-written fake server, to see exactly
//! what it sends and how it reads replies).
//!
//! Whole transcripts are compared: stdout and stderr separately, and with
//! `2>&1` semantics (one pipe for both). The central check is parity: for
//! any script, `client` against a fresh server prints exactly what
//! `standalone` prints. Every child is killed when its test ends; every read
//! has a deadline; servers listen on `127.0.0.1:0`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::thread;

use support::{Outcome, Proc, Rng, SEED_CMDS, SEED_EN, SEED_PT, Server, TIMEOUT, deadline, run};

/// Runs `callcenter client --connect ADDR extra` on `input` to its end.
fn client(server: &Server, extra: &[&str], input: &[u8], merged: bool) -> Outcome {
    let address = server.address();
    let mut args = vec!["client", "--connect", &address];
    args.extend_from_slice(extra);
    run(&args, input, merged)
}

/// A client with stdin held open (a pipe), stdout and stderr separate.
fn interactive_client(address: &str, extra: &[&str]) -> Proc {
    let mut args = vec!["client", "--connect", address];
    args.extend_from_slice(extra);
    Proc::spawn(&args, Stdio::piped(), false)
}

fn success(stdout: &str) -> Outcome {
    Outcome {
        code: Some(0),
        stdout: stdout.to_string(),
        stderr: String::new(),
    }
}

#[test]
fn the_seed_through_client_and_server_gives_the_seed_output() {
    let cases: [(&[&str], &str); 3] = [
        (&["--lang", "en"], SEED_EN),
        (&["--lang", "pt"], SEED_PT),
        // Portuguese is the default.
        (&[], SEED_PT),
    ];
    for (lang, expected) in cases {
        let server = Server::start(lang);
        assert_eq!(
            client(&server, lang, SEED_CMDS.as_bytes(), false),
            success(expected),
            "{lang:?}"
        );
        server.stop();
    }
}

#[test]
fn five_hundred_commands_piped_at_once_then_eof_get_every_reply() {
    const CALLS: usize = 250;
    let mut input = String::new();
    let mut expected = String::new();
    for i in 0..CALLS {
        input.push_str(&format!("call {i}\n"));
        expected.push_str(&format!("Call {i} received\n"));
        match i {
            0 => expected.push_str("Call 0 ringing for operator A\n"),
            1 => expected.push_str("Call 1 ringing for operator B\n"),
            _ => expected.push_str(&format!("Call {i} waiting in queue\n")),
        }
    }
    // Each hangup ends a ringing call; the operator it freed takes the head
    // of the queue.
    for i in 0..CALLS {
        input.push_str(&format!("hangup {i}\n"));
        expected.push_str(&format!("Call {i} missed\n"));
        if i + 2 < CALLS {
            let operator = if i % 2 == 0 { "A" } else { "B" };
            expected.push_str(&format!("Call {} ringing for operator {operator}\n", i + 2));
        }
    }
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    assert_eq!(
        client(&server, &["--lang", "en"], input.as_bytes(), false),
        success(&expected)
    );
    server.stop();
}

/// A long script mixing every command and alias, valid and invalid lines,
/// help, blank lines, odd ids (JSON escapes, UTF-8), an overlong line, and
/// `sair` near the end with lines after it (never run).
fn generated_script(seed: u64, commands: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let operators = ["A", "B", "C", "D"];
    let strangers = ["E", "Z", "a", "AA", "0"];
    let odd_ids = ["a\"b", "back\\slash", "{}", "é", "😀", "[1]", "x,y", "1.5"];
    // Mostly fresh ids for calls, and mostly live ones for hangups, so that
    // calls go through every state; sometimes a clash or an unknown id.
    let mut fresh = 0;
    let mut live: Vec<String> = Vec::new();
    let mut some_id = |rng: &mut Rng| -> String {
        match rng.below(10) {
            0 => rng.pick(&odd_ids).to_string(),
            1 | 2 => (1 + rng.below(fresh.max(1))).to_string(),
            _ => {
                fresh += 1;
                fresh.to_string()
            }
        }
    };
    let mut script: Vec<u8> = Vec::new();
    for _ in 0..commands {
        let line = match rng.below(100) {
            0..=21 => {
                let id = some_id(&mut rng);
                live.push(id.clone());
                format!("{} {id}", rng.pick(&["call", "ligar", "ligue"]))
            }
            22..=35 => {
                let verb = rng.pick(&["answer", "atender", "resposta"]);
                let op = if rng.below(6) == 0 {
                    rng.pick(&strangers)
                } else {
                    rng.pick(&operators)
                };
                format!("{verb} {op}")
            }
            36..=45 => {
                let verb = rng.pick(&["reject", "rejeitar"]);
                let op = if rng.below(6) == 0 {
                    rng.pick(&strangers)
                } else {
                    rng.pick(&operators)
                };
                format!("{verb} {op}")
            }
            46..=63 => {
                let id = match rng.below(4) {
                    _ if live.is_empty() => some_id(&mut rng),
                    0 => some_id(&mut rng),
                    1 => live.swap_remove(rng.below(live.len())),
                    // The oldest: most likely answered or ringing.
                    _ => live.remove(0),
                };
                format!("{} {id}", rng.pick(&["hangup", "desligar"]))
            }
            64..=65 => rng
                .pick(&["help", "ajuda", "help ", " ajuda\t"])
                .to_string(),
            66..=68 => format!(
                "{} {}",
                rng.pick(&["help", "ajuda"]),
                rng.pick(&[
                    "call", "ligar", "answer", "resposta", "reject", "hangup", "desligar", "help",
                    "exit", "sair", "quit", "dance", "Call",
                ])
            ),
            69..=73 => rng
                .pick(&[
                    "dance",
                    "Call 1",
                    "CALL 2",
                    "xyz",
                    "ligação 3",
                    "answerA",
                    "--help",
                    "#comment",
                ])
                .to_string(),
            74..=77 => rng
                .pick(&[
                    "call", "answer", "reject", "hangup", "ligar", "desligar", "atender",
                ])
                .to_string(),
            78..=81 => rng
                .pick(&[
                    "call 1 2",
                    "answer A B",
                    "reject A extra",
                    "hangup 1 1",
                    "help call x",
                    "exit now",
                    "quit please",
                    "sair já",
                ])
                .to_string(),
            82..=84 => rng.pick(&["", "   ", "\t", " \t "]).to_string(),
            85..=86 => format!("{} {}", rng.pick(&["call", "hangup"]), "x".repeat(65)),
            87..=89 => format!(
                "{}{} {}{}",
                rng.pick(&["  ", "\t", ""]),
                rng.pick(&["call", "hangup", "answer"]),
                if rng.below(2) == 0 {
                    some_id(&mut rng)
                } else {
                    rng.pick(&operators).to_string()
                },
                rng.pick(&["\r", "  ", "\t\r", ""])
            ),
            _ => format!(
                "{} {}",
                rng.pick(&["hangup", "desligar"]),
                rng.pick(&["nope", "99", "0"])
            ),
        };
        script.extend_from_slice(line.as_bytes());
        script.push(b'\n');
        if rng.below(100) == 0 {
            // Bytes that are not UTF-8 (as a word and as an id), and a
            // control character in an id.
            script.extend_from_slice(b"\xff\xfe 1\ncall \xc3\x28\nhangup a\x01b\n");
        }
    }
    // An overlong line (judged by how it starts), then more work.
    script.extend_from_slice(format!("call {}\n", "y".repeat(70 * 1024)).as_bytes());
    script.extend_from_slice(b"call 1\ncall 2\nhelp\n");
    // `sair` ends the session: what follows is never run.
    script.extend_from_slice(b"sair\ncall after-exit\nhangup 1\nbogus\n");
    script
}

/// Client against a fresh server versus standalone, on the same options
/// and input: stdout, stderr and exit status equal, and equal under `2>&1`.
fn assert_parity(queue: &[&str], lang: &[&str], input: &[u8]) {
    let mut standalone_args = vec!["standalone"];
    standalone_args.extend_from_slice(queue);
    standalone_args.extend_from_slice(lang);
    let mut server_args = queue.to_vec();
    server_args.extend_from_slice(lang);
    for merged in [false, true] {
        let standalone = run(&standalone_args, input, merged);
        assert_eq!(standalone.code, Some(0));
        assert!(!standalone.stdout.is_empty());
        assert_eq!(standalone.stderr.is_empty(), merged);
        let server = Server::start(&server_args);
        let through = client(&server, lang, input, merged);
        server.stop();
        assert_eq!(
            through.code, standalone.code,
            "exit status (merged: {merged})"
        );
        assert_eq!(
            through.stdout, standalone.stdout,
            "stdout (merged: {merged})"
        );
        assert_eq!(
            through.stderr, standalone.stderr,
            "stderr (merged: {merged})"
        );
    }
}

#[test]
fn client_and_server_print_what_standalone_prints_on_a_long_script() {
    let script = generated_script(0x00C0_FFEE, 700);
    assert_parity(
        &["--operators", "4", "--ring-timeout", "0"],
        &["--lang", "en"],
        &script,
    );
}

#[test]
fn client_and_server_print_what_standalone_prints_in_portuguese_too() {
    let script = generated_script(42, 400);
    assert_parity(
        &["--operators", "A,B,C,D", "--ring-timeout", "0"],
        &[],
        &script,
    );
}

#[test]
fn local_errors_and_help_keep_their_place_among_the_replies() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let input = "call 1\nbogus\nhangup 9\nhelp hangup\ncall\nanswer A\n";
    let expected = "Call 1 received\n\
                    Call 1 ringing for operator A\n\
                    Unknown command: bogus\n\
                    Call 9 not found\n  \
                    hangup <id>    call <id> ends (aliases: desligar)\n\
                    Usage: call <id> [priority]\n\
                    Call 1 answered by operator A\n";
    assert_eq!(
        client(&server, &["--lang", "en"], input.as_bytes(), true),
        success(expected)
    );
    server.stop();
}

#[test]
fn exit_waits_for_the_replies_due_and_sends_nothing_after_it() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0"]);
    let input = "call 1\ncall 2\nexit\ncall 3\n";
    let expected = "Call 1 received\nCall 1 ringing for operator A\n\
                    Call 2 received\nCall 2 ringing for operator B\n";
    assert_eq!(
        client(&server, &["--lang", "en"], input.as_bytes(), false),
        success(expected)
    );
    // Call 3 never reached the server.
    let mut conn = server.connect();
    assert_eq!(
        conn.request(r#"{"command": "hangup", "id": "3"}"#),
        r#"{"response": "Call 3 not found", "error": true}"#
    );
    drop(conn);
    server.stop();
}

#[test]
fn stdin_dev_null_connects_and_exits_0_silently() {
    let server = Server::start(&[]);
    let address = server.address();
    let mut proc = Proc::spawn(&["client", "--connect", &address], Stdio::null(), false);
    assert_eq!(
        proc.finish(deadline()),
        (Some(0), String::new(), String::new())
    );
    server.stop();
}

#[test]
fn connection_refused_is_one_line_and_exit_1() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    for (lang, message) in [
        ("en", "Cannot connect to"),
        ("pt", "Não foi possível conectar a"),
    ] {
        assert_eq!(
            run(
                &["client", "--connect", &address, "--lang", lang],
                b"call 1\n",
                false
            ),
            Outcome {
                code: Some(1),
                stdout: String::new(),
                stderr: format!("{message} {address}: Connection refused (os error 111)\n"),
            }
        );
    }
}

/// A session is going on (stdin open) when the server goes away: the client
/// says so in one line and exits 1.
fn server_lost(signal: libc::c_int) {
    let server = Server::start(&["--lang", "en"]);
    let mut proc = interactive_client(&server.address(), &["--lang", "en"]);
    proc.write(b"call 1\n");
    let soon = deadline();
    assert_eq!(
        [proc.stdout.expect_line(soon), proc.stdout.expect_line(soon)],
        ["Call 1 received", "Call 1 ringing for operator A"]
    );
    server.signal(signal);
    assert_eq!(
        proc.finish(deadline()),
        (
            Some(1),
            String::new(),
            "Connection to the server lost\n".to_string()
        )
    );
}

#[test]
fn server_killed_mid_session_is_one_line_and_exit_1() {
    server_lost(libc::SIGKILL);
}

#[test]
fn server_stopped_mid_session_is_one_line_and_exit_1() {
    server_lost(libc::SIGTERM);
}

#[test]
fn an_event_is_printed_while_the_client_waits_for_input() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0.2"]);
    let mut proc = interactive_client(&server.address(), &["--lang", "en"]);
    proc.write(b"call 1\n");
    let soon = deadline();
    let lines: Vec<String> = (0..4).map(|_| proc.stdout.expect_line(soon)).collect();
    assert_eq!(
        lines,
        [
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 ignored by operator A",
            "Call 1 ringing for operator B",
        ]
    );
    proc.write(b"hangup 1\n");
    proc.close_stdin();
    let (code, rest, stderr) = proc.finish(deadline());
    // More ring timeouts may fire before the hangup arrives: exactly the
    // ones due, then the hangup's message.
    let mut expected = String::new();
    let mut ringing = "B";
    while expected.len() < rest.len() && rest[expected.len()..] != *"Call 1 missed\n" {
        let next = if ringing == "A" { "B" } else { "A" };
        expected.push_str(&format!(
            "Call 1 ignored by operator {ringing}\nCall 1 ringing for operator {next}\n"
        ));
        ringing = next;
    }
    expected.push_str("Call 1 missed\n");
    assert_eq!((code, rest, stderr), (Some(0), expected, String::new()));
    server.stop();
}

/// Accepts one connection on `listener`, by the deadline.
fn accept(listener: TcpListener) -> TcpStream {
    let (sender, accepted) = mpsc::channel();
    thread::spawn(move || {
        let _ = sender.send(listener.accept().map(|(stream, _)| stream));
    });
    let stream = accepted
        .recv_timeout(TIMEOUT)
        .expect("the client did not connect in time")
        .expect("accept");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

#[test]
fn the_client_sends_the_canonical_requests_and_reads_any_framing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut proc = Proc::spawn(
        &["client", "--connect", &address, "--lang", "en"],
        Stdio::piped(),
        true,
    );
    let stream = accept(listener);
    proc.write(
        "ligar 1\natender A\n\nbogus\nrejeitar A\r\nhelp hangup\ndesligar a\"b\\é\n".as_bytes(),
    );
    let mut requests = BufReader::new(stream.try_clone().unwrap());
    let mut received = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        requests.read_line(&mut line).expect("a request");
        received.push(line);
    }
    // Aliases become the canonical words; local errors and help stay local.
    assert_eq!(
        received,
        [
            "{\"command\": \"call\", \"id\": \"1\"}\n",
            "{\"command\": \"answer\", \"id\": \"A\"}\n",
            "{\"command\": \"reject\", \"id\": \"A\"}\n",
            "{\"command\": \"hangup\", \"id\": \"a\\\"b\\\\é\"}\n",
        ]
    );
    // Replies: two back to back without a newline, an event among them,
    // an error, and the last one written a byte at a time.
    let mut writer = stream.try_clone().unwrap();
    writer
        .write_all(
            b"{\"response\": \"Call 1 received\\nCall 1 ringing for operator A\"}\
              {\"response\": \"Somebody else's news\", \"event\": true}\r\n\
              {\"response\": \"Call 1 answered by operator A\"}\n\
              {\"response\": \"Operator A has no ringing call\", \"error\": true}\n",
        )
        .unwrap();
    for byte in b"{\"response\": \"Call a\\\"b\\\\\\u00e9 not found\", \"error\": true}\n" {
        writer.write_all(&[*byte]).unwrap();
        writer.flush().unwrap();
    }
    proc.close_stdin();
    assert_eq!(
        proc.finish(deadline()),
        (
            Some(0),
            "Call 1 received\n\
             Call 1 ringing for operator A\n\
             Somebody else's news\n\
             Call 1 answered by operator A\n\
             Unknown command: bogus\n\
             Operator A has no ringing call\n  \
             hangup <id>    call <id> ends (aliases: desligar)\n\
             Call a\"b\\é not found\n"
                .to_string(),
            String::new()
        )
    );
    // Done: the client closed the connection.
    let mut rest = String::new();
    assert_eq!(requests.read_line(&mut rest).unwrap(), 0, "{rest:?}");
}

#[test]
fn a_reply_that_is_not_json_is_one_line_and_exit_1() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let mut proc = interactive_client(&address, &["--lang", "en"]);
    let mut stream = accept(listener);
    proc.write(b"call 1\n");
    let mut request = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut request)
        .unwrap();
    assert_eq!(request, "{\"command\": \"call\", \"id\": \"1\"}\n");
    stream.write_all(b"<html>oops</html>\n").unwrap();
    assert_eq!(
        proc.finish(deadline()),
        (
            Some(1),
            String::new(),
            "Invalid reply from the server\n".to_string()
        )
    );
}

#[test]
fn a_full_server_s_refusal_is_shown_by_the_client() {
    let server = Server::start(&["--lang", "en", "--max-clients", "1"]);
    let mut first = server.connect();
    assert_eq!(
        first.request(r#"{"command": "hangup", "id": "x"}"#),
        r#"{"response": "Call x not found", "error": true}"#
    );
    let mut proc = interactive_client(&server.address(), &["--lang", "en"]);
    assert_eq!(
        proc.finish(deadline()),
        (
            Some(1),
            String::new(),
            "Server full (limit 1): try again later\n".to_string()
        )
    );
    drop(first);
    server.stop();
}
