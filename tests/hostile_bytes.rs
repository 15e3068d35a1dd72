//! Hostile bytes: what arrives on a connection is not what the protocol
//! expects. Random binary, invalid UTF-8, NUL bytes, lone carriage returns,
//! lines at and past the 64 KiB limit (in one write and byte by byte), an
//! endless unterminated stream, deep nesting, huge numbers, duplicate keys,
//! ids of the wrong JSON type, non-objects, and ids at the 64-byte limit.
//!
//! Every case then checks that the server is alive, that a client connected
//! before the attack is still served, and that the queue state is intact
//! (see `hostile/mod.rs`). Operators `A,B`, no ring timeout.

mod support;

use std::io::{ErrorKind, Write};
use std::thread;

use support::{
    INVALID, MAX_MESSAGE, Next, Rng, Server, TIMEOUT, TOO_LONG, error, ok, padded_request, request,
    usage,
};

/// A server with operators A and B and no ring timer.
fn server() -> Server {
    Server::start(&["--lang", "en", "--ring-timeout", "0"])
}

/// How many frames (so error replies) the server should find in `bytes`:
/// an independent model of SPEC §6 framing. Between messages blanks are
/// skipped; `{` or `[` starts a JSON text that ends when its brackets
/// (outside strings) balance, or at a newline; anything else runs to the
/// end of its line. Fails on a run over 64 KiB (the generator avoids them)
/// and on anything that could be a request (the generator cannot make one:
/// it would need a `"command"` key).
fn expected_frames(bytes: &[u8]) -> usize {
    #[derive(PartialEq)]
    enum State {
        Idle,
        Json {
            depth: usize,
            in_string: bool,
            escaped: bool,
            start: usize,
        },
        Garbage {
            start: usize,
        },
    }
    let mut state = State::Idle;
    let mut frames = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        state = match state {
            State::Idle => match byte {
                b' ' | b'\t' | b'\r' | b'\n' => State::Idle,
                b'{' | b'[' => State::Json {
                    depth: 1,
                    in_string: false,
                    escaped: false,
                    start: index,
                },
                _ => State::Garbage { start: index },
            },
            State::Garbage { start } => {
                assert!(index - start < MAX_MESSAGE, "a run over 64 KiB");
                if byte == b'\n' {
                    frames += 1;
                    State::Idle
                } else {
                    State::Garbage { start }
                }
            }
            State::Json {
                mut depth,
                mut in_string,
                mut escaped,
                start,
            } => {
                assert!(index - start < MAX_MESSAGE, "a message over 64 KiB");
                if byte == b'\n' {
                    frames += 1;
                    State::Idle
                } else {
                    if in_string {
                        if escaped {
                            escaped = false;
                        } else if byte == b'\\' {
                            escaped = true;
                        } else if byte == b'"' {
                            in_string = false;
                        }
                    } else {
                        match byte {
                            b'"' => in_string = true,
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => depth -= 1,
                            _ => {}
                        }
                    }
                    if depth == 0 {
                        let message = &bytes[start..=index];
                        assert!(
                            !message.windows(9).any(|w| w == b"\"command\""),
                            "the generator made something like a request"
                        );
                        frames += 1;
                        State::Idle
                    } else {
                        State::Json {
                            depth,
                            in_string,
                            escaped,
                            start,
                        }
                    }
                }
            }
        };
    }
    assert!(state == State::Idle, "the bytes must end between frames");
    frames
}

#[test]
fn random_binary_gets_one_invalid_request_reply_per_frame() {
    let mut server = server();
    let mut bystander = server.connect();
    // Four connections at once, 256 KiB each, in random-sized writes; a
    // writer thread per connection so replies never back up.
    let attackers: Vec<_> = (0..4u64)
        .map(|n| {
            let mut rng = Rng::new(0x5eed_0000 + n);
            let mut bytes = rng.bytes(256 * 1024);
            // End whatever run the last bytes started.
            bytes.push(b'\n');
            let expected = expected_frames(&bytes);
            assert!(expected > 100, "too few frames: {expected}");
            let mut conn = server.connect();
            let mut writer = conn.stream.try_clone().unwrap();
            thread::spawn(move || {
                let sender = thread::spawn(move || {
                    let mut at = 0;
                    while at < bytes.len() {
                        let len = (1 + rng.below(8192)).min(bytes.len() - at);
                        writer.write_all(&bytes[at..at + len]).unwrap();
                        at += len;
                    }
                    let after = format!("{}\n", request("hangup", "after-noise"));
                    writer.write_all(after.as_bytes()).unwrap();
                });
                for index in 0..expected {
                    assert_eq!(conn.line(), INVALID, "reply {index} of {expected}");
                }
                // Then the reply to the request sent after the noise:
                // exactly one reply per frame, nothing more.
                assert_eq!(conn.line(), error("Call after-noise not found"));
                sender.join().unwrap();
                conn.expect_nothing_pending();
            })
        })
        .collect();
    for attacker in attackers {
        attacker.join().expect("an attacker failed");
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn invalid_utf8_is_an_invalid_request_and_the_connection_goes_on() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let cases: [&[u8]; 8] = [
        b"\xff\xfe\xfd\n",
        b"{\"command\": \"call\", \"id\": \"\xff\"}\n",
        b"{\"command\": \"\xc3\x28\", \"id\": \"1\"}\n",
        // A UTF-16 surrogate encoded in UTF-8 (CESU-8), and escaped.
        b"{\"command\": \"call\", \"id\": \"\xed\xa0\x80\"}\n",
        b"{\"command\": \"call\", \"id\": \"\\ud800\"}\n",
        // A truncated four-byte sequence, and an overlong encoding of '/'.
        b"{\"command\": \"call\", \"id\": \"\xf0\x9f\x98\"}\n",
        b"{\"command\": \"call\", \"id\": \"\xc0\xaf\"}\n",
        // Latin-1, as a misconfigured client would send it.
        b"{\"command\": \"call\", \"id\": \"Jos\xe9\"}\n",
    ];
    for case in cases {
        conn.expect_raw(case, &[INVALID]);
    }
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn nul_bytes_and_control_characters() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let hangup_x = error("Call x not found");
    conn.expect_raw(b"\0\n", &[INVALID]);
    conn.expect_raw(
        b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\n",
        &[INVALID],
    );
    // A line that starts with NUL is not JSON, whatever follows.
    conn.expect_raw(b"\0{\"command\": \"hangup\", \"id\": \"x\"}\n", &[INVALID]);
    // NUL after a complete request: the request runs, the rest is garbage.
    conn.expect_raw(
        b"{\"command\": \"hangup\", \"id\": \"x\"}\0\n",
        &[&hangup_x, INVALID],
    );
    // A raw NUL (or other control byte) inside a JSON string is not JSON.
    conn.expect_raw(b"{\"command\": \"call\", \"id\": \"a\0b\"}\n", &[INVALID]);
    conn.expect_raw(b"{\"command\": \"call\", \"id\": \"a\x07b\"}\n", &[INVALID]);
    conn.expect_raw(b"{\"command\":\0\"hangup\", \"id\": \"x\"}\n", &[INVALID]);
    // Escaped, they are valid JSON but not valid ids.
    conn.expect_raw(
        b"{\"command\": \"call\", \"id\": \"a\\u0000b\"}\n",
        &[&usage("call")],
    );
    conn.expect_raw(
        b"{\"command\": \"answer\", \"id\": \"A\\u0007\"}\n",
        &[&usage("answer")],
    );
    conn.expect_raw(
        b"{\"command\": \"hangup\", \"id\": \"\\u007f\"}\n",
        &[&usage("hangup")],
    );
    // ... and a command word with a NUL is unknown (echoed, escaped as `\0`).
    conn.expect_raw(
        b"{\"command\": \"call\\u0000\", \"id\": \"1\"}\n",
        &[&error("Unknown command: call\\0")],
    );
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn lone_carriage_returns_are_blanks_between_messages() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    // A lone `\r`, and a run of them: blank, no reply (the sentinel's reply
    // comes first).
    conn.send(b"\r");
    conn.send(b"\r\r\r\r\n\r\n");
    conn.expect_nothing_pending();
    // `\r` between two requests, and after the last with no newline.
    conn.expect_raw(
        b"{\"command\": \"hangup\", \"id\": \"a\"}\r{\"command\": \"hangup\", \"id\": \"b\"}\r",
        &[&error("Call a not found"), &error("Call b not found")],
    );
    // Inside a JSON text, `\r` is JSON whitespace.
    conn.expect_raw(
        b"{\"command\":\r\"hangup\",\r\"id\":\"c\"\r}\r\n",
        &[&error("Call c not found")],
    );
    // A text line with `\r` is still not JSON; a raw `\r` inside a string
    // is not JSON either; escaped, it is a blank in an id.
    conn.expect_raw(b"hangup x\r\n", &[INVALID]);
    conn.expect_raw(b"\rhangup\rx\r\n", &[INVALID]);
    conn.expect_raw(b"{\"command\": \"hangup\", \"id\": \"x\r\"}\n", &[INVALID]);
    conn.expect_raw(
        b"{\"command\": \"hangup\", \"id\": \"x\\r\"}\n",
        &[&usage("hangup")],
    );
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

/// How a connection may end after the message-too-long error.
#[derive(Clone, Copy, PartialEq)]
enum End {
    /// The server read everything we sent: a clean end of file.
    Eof,
    /// We sent more than the server read before closing: the kernel
    /// resets a socket closed with unread input, so end of file or reset.
    EofOrReset,
}

/// Sends `bytes` (in one write, or byte by byte) and expects the one
/// message-too-long error, then the end of the connection.
fn expect_too_long(server: &Server, bytes: &[u8], bytewise: bool, end: End) {
    let mut conn = server.connect();
    if bytewise {
        conn.send_bytewise(bytes);
    } else {
        conn.send(bytes);
    }
    assert_eq!(conn.line(), TOO_LONG);
    match conn.next_within(TIMEOUT) {
        Next::Eof => {}
        Next::Reset if end == End::EofOrReset => {}
        other => panic!("expected the connection to end, got {other:?}"),
    }
}

#[test]
fn a_request_of_exactly_64_kib_is_served_in_one_write_or_byte_by_byte() {
    let mut server = server();
    let mut bystander = server.connect();
    let line = padded_request("hangup", "long", MAX_MESSAGE);
    let mut conn = server.connect();
    conn.send(&line);
    conn.expect_raw(b"\r\n", &[&error("Call long not found")]);
    conn.send_bytewise(&line);
    conn.expect_raw(b"\n", &[&error("Call long not found")]);
    // A valid command, too: the limit is on the message, not its kind.
    let call = padded_request("call", "big", MAX_MESSAGE);
    conn.send(&call);
    conn.expect_raw(
        b"\n",
        &[&ok("Call big received\nCall big ringing for operator A")],
    );
    conn.expect(&request("hangup", "big"), &ok("Call big missed"));
    // A non-JSON line of exactly 64 KiB is one invalid request.
    let mut garbage = vec![b'x'; MAX_MESSAGE];
    garbage.push(b'\n');
    conn.expect_raw(&garbage, &[INVALID]);
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn one_byte_over_64_kib_gets_one_error_then_the_connection_closes() {
    let mut server = server();
    let mut bystander = server.connect();
    // A non-JSON run of 64 KiB + 1 bytes, no newline: in one write, and
    // byte by byte.
    let garbage = vec![b'x'; MAX_MESSAGE + 1];
    expect_too_long(&server, &garbage, false, End::Eof);
    expect_too_long(&server, &garbage, true, End::Eof);
    // The first 64 KiB + 1 bytes of a longer request: the same.
    let longer = padded_request("hangup", "long", MAX_MESSAGE + 100);
    expect_too_long(&server, &longer[..=MAX_MESSAGE], false, End::Eof);
    expect_too_long(&server, &longer[..=MAX_MESSAGE], true, End::Eof);
    // Complete requests over the limit, with their newline.
    for len in [MAX_MESSAGE + 2, MAX_MESSAGE + 100, 4 * MAX_MESSAGE] {
        let mut line = padded_request("hangup", "long", len);
        line.push(b'\n');
        expect_too_long(&server, &line, false, End::EofOrReset);
    }
    // Two complete requests then a long one, in one write: the first two
    // are served, in order, before the error.
    let mut conn = server.connect();
    let mut bytes = format!(
        "{}{}\n",
        request("hangup", "first"),
        request("hangup", "second")
    )
    .into_bytes();
    bytes.extend_from_slice(&longer);
    conn.send(&bytes);
    assert_eq!(conn.line(), error("Call first not found"));
    assert_eq!(conn.line(), error("Call second not found"));
    assert_eq!(conn.line(), TOO_LONG);
    let end = conn.next_within(TIMEOUT);
    assert!(matches!(end, Next::Eof | Next::Reset), "{end:?}");
    server.check_healthy(&mut bystander);
}

/// A JSON message of exactly 64 KiB + 1 bytes, whose last byte completes
/// it, is too long too (the limit is checked before completion).
#[test]
fn a_complete_json_message_of_64_kib_plus_one_is_too_long() {
    let mut server = server();
    let mut bystander = server.connect();
    let over = padded_request("hangup", "long", MAX_MESSAGE + 1);
    expect_too_long(&server, &over, false, End::Eof);
    expect_too_long(&server, &over, true, End::Eof);
    let mut with_newline = over.clone();
    with_newline.push(b'\n');
    expect_too_long(&server, &with_newline, false, End::EofOrReset);
    server.check_healthy(&mut bystander);
}

#[test]
fn an_endless_unterminated_stream_is_cut_off_without_growing_memory() {
    let mut server = server();
    let mut bystander = server.connect();
    let before = server.rss_kib();
    // Four connections at once, each streaming 10 MiB with no newline:
    // two of plain bytes, two inside one JSON string.
    let streams: Vec<_> = (0..4)
        .map(|n| {
            let mut conn = server.connect();
            let mut writer = conn.stream.try_clone().unwrap();
            thread::spawn(move || {
                let sender = thread::spawn(move || {
                    if n % 2 == 1 {
                        let _ = writer.write_all(b"{\"command\": \"call\", \"id\": \"");
                    }
                    let chunk = vec![b'x'; 64 * 1024];
                    for _ in 0..160 {
                        match writer.write_all(&chunk) {
                            Ok(()) => {}
                            // The server closed: it stopped reading long ago.
                            Err(error)
                                if matches!(
                                    error.kind(),
                                    ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
                                ) =>
                            {
                                return;
                            }
                            Err(error) => panic!("write failed: {error}"),
                        }
                    }
                });
                assert_eq!(conn.line(), TOO_LONG);
                // Closed: end of file, or a reset if it closed with our
                // stream still arriving (unread input makes close send RST).
                let end = conn.next_within(TIMEOUT);
                assert!(matches!(end, Next::Eof | Next::Reset), "{end:?}");
                sender.join().unwrap();
            })
        })
        .collect();
    for stream in streams {
        stream.join().expect("a streamer failed");
    }
    let after = server.rss_kib();
    assert!(
        after < 64 * 1024 && after < before + 16 * 1024,
        "server memory grew from {before} KiB to {after} KiB"
    );
    server.check_healthy(&mut bystander);
}

#[test]
fn deep_nesting_does_not_crash_the_server() {
    let mut server = server();
    let mut bystander = server.connect();
    // 100,000 levels are over 64 KiB: too long, in one write.
    let deep: Vec<u8> = [b"[".repeat(100_000), b"]".repeat(100_000), b"\n".to_vec()].concat();
    expect_too_long(&server, &deep, false, End::EofOrReset);
    let deep: Vec<u8> = [
        b"{\"a\":".repeat(100_000),
        b"1".to_vec(),
        b"}".repeat(100_000),
        b"\n".to_vec(),
    ]
    .concat();
    expect_too_long(&server, &deep, false, End::EofOrReset);
    // ... and byte by byte, up to the byte that crosses the limit.
    expect_too_long(&server, &deep[..=MAX_MESSAGE], true, End::Eof);
    // Just under 64 KiB, far past serde_json's recursion limit (128).
    let mut conn = server.connect();
    let arrays: Vec<u8> = [b"[".repeat(32_000), b"]".repeat(32_000), b"\n".to_vec()].concat();
    conn.expect_raw(&arrays, &[INVALID]);
    let objects: Vec<u8> = [
        b"{\"a\":".repeat(10_000),
        b"1".to_vec(),
        b"}".repeat(10_000),
        b"\n".to_vec(),
    ]
    .concat();
    conn.expect_raw(&objects, &[INVALID]);
    let nested_command: Vec<u8> = [
        b"{\"command\": ".to_vec(),
        b"{\"a\":".repeat(10_000),
        b"1".to_vec(),
        b"}".repeat(10_001),
        b"\n".to_vec(),
    ]
    .concat();
    conn.expect_raw(&nested_command, &[INVALID]);
    // Deep nesting where an id belongs: a bad id.
    let nested_id: Vec<u8> = [
        b"{\"command\": \"call\", \"id\": ".to_vec(),
        b"[".repeat(30_000),
        b"]".repeat(30_000),
        b"}\n".to_vec(),
    ]
    .concat();
    conn.expect_raw(&nested_id, &[&usage("call")]);
    // Deep nesting in an ignored field: skipped without recursion.
    let nested_extra: Vec<u8> = [
        b"{\"command\": \"hangup\", \"id\": \"deep\", \"x\": ".to_vec(),
        b"[".repeat(30_000),
        b"]".repeat(30_000),
        b"}\n".to_vec(),
    ]
    .concat();
    conn.expect_raw(&nested_extra, &[&error("Call deep not found")]);
    // Unbalanced: open brackets cut by the newline, stray closers.
    let open: Vec<u8> = [b"[".repeat(60_000), b"\n".to_vec()].concat();
    conn.expect_raw(&open, &[INVALID]);
    conn.expect_raw(b"]]]]]]\n}}}}\n", &[INVALID, INVALID]);
    conn.expect_raw(b"{\"x\": \"]]]]}}}\", \"y\": [\"[[\"]}\n", &[INVALID]);
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn huge_numbers_are_refused_and_change_nothing() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    let digits = "9".repeat(400);
    for id in [
        "1e999999",
        "-1e999999",
        digits.as_str(),
        &format!("-{digits}"),
    ] {
        for verb in ["call", "answer", "reject", "hangup"] {
            let line = format!("{{\"command\": \"{verb}\", \"id\": {id}}}");
            conn.expect(&line, INVALID);
        }
    }
    // A huge number in the command field is invalid; in an extra field it
    // is ignored, as extra fields are (SPEC §6).
    conn.expect(r#"{"command": 1e999999, "id": "1"}"#, INVALID);
    conn.expect(
        &format!(r#"{{"command": "hangup", "id": "1", "x": {digits}}}"#),
        &error("Call 1 not found"),
    );
    // Ordinary numbers are ids (SPEC §6): exact integers stay as written.
    conn.expect(
        r#"{"command": "call", "id": 18446744073709551615}"#,
        &ok("Call 18446744073709551615 received\nCall 18446744073709551615 ringing for operator A"),
    );
    conn.expect(
        r#"{"command": "hangup", "id": "18446744073709551615"}"#,
        &ok("Call 18446744073709551615 missed"),
    );
    conn.expect(
        r#"{"command": "call", "id": -9223372036854775808}"#,
        &ok("Call -9223372036854775808 received\nCall -9223372036854775808 ringing for operator A"),
    );
    conn.expect(
        r#"{"command": "hangup", "id": -9223372036854775808}"#,
        &ok("Call -9223372036854775808 missed"),
    );
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

/// Two different numeric ids must not name the same call: numbers that
/// are not 64-bit integers (`1.5`, `1e2`, 10^22) are refused rather than
/// rounded through `f64`, where distinct integers collided (a bug found
/// here, fixed meanwhile).
#[test]
fn numbers_that_are_not_64_bit_integers_are_not_ids() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    for id in [
        "12345678901234567890123",
        "12345678901234567890124",
        "18446744073709551616",
        "-9223372036854775809",
        "1.5",
        "1.0",
        "1e2",
        "-0.0",
        "1e-999999",
    ] {
        for verb in ["call", "answer", "reject", "hangup"] {
            conn.expect(
                &format!(r#"{{"command": "{verb}", "id": {id}}}"#),
                &usage(verb),
            );
        }
    }
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn duplicate_keys_are_invalid_requests() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    for line in [
        r#"{"command": "call", "command": "call", "id": "d"}"#,
        r#"{"command": "call", "command": "hangup", "id": "d"}"#,
        r#"{"command": "call", "id": "d", "id": "e"}"#,
        r#"{"command": "call", "id": "d", "id": "d"}"#,
        r#"{"id": "d", "command": "call", "id": null}"#,
    ] {
        conn.expect(line, INVALID);
    }
    // Nothing was called: `d` and `e` do not exist.
    conn.expect(&request("hangup", "d"), &error("Call d not found"));
    conn.expect(&request("hangup", "e"), &error("Call e not found"));
    server.check_healthy(&mut bystander);
}

#[test]
fn ids_of_the_wrong_json_type_are_usage_errors() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    for verb in ["call", "answer", "reject", "hangup"] {
        for id in [
            "null",
            "true",
            "false",
            "{}",
            r#"{"id": "1"}"#,
            "[]",
            "[1]",
            r#"["A"]"#,
        ] {
            let line = format!(r#"{{"command": "{verb}", "id": {id}}}"#);
            conn.expect(&line, &usage(verb));
        }
    }
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

#[test]
fn empty_objects_arrays_and_scalars_are_invalid_requests() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    for line in [
        "{}",
        " { } ",
        r#"{"id": "1"}"#,
        r#"{"command": null, "id": "1"}"#,
        r#"{"command": 1, "id": "1"}"#,
        r#"{"command": ["call"], "id": "1"}"#,
        r#"{"command": {"call": "1"}}"#,
        "[]",
        "[1, 2]",
        "[[]]",
        "42",
        "-1",
        "3.25",
        r#""call 1""#,
        "true",
        "null",
        "call 1",
        r#"{"command": "call", "id": "1""#,
        r#"{"command": "call" "id": "1"}"#,
        r#"{command: "call", id: "1"}"#,
        r#"{'command': 'call', 'id': '1'}"#,
        r#"{"command": "call", "id": "1",}"#,
    ] {
        conn.expect(line, INVALID);
    }
    // Trailing garbage after a request: the request, then an error.
    conn.expect_raw(
        b"{\"command\": \"hangup\", \"id\": \"t\"} and more\n",
        &[&error("Call t not found"), INVALID],
    );
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

/// SPEC §6: "Malformed input (not JSON, not an object, ...): an error
/// reply". A JSON array is not an object (serde's derived `Deserialize`
/// also reads a struct from a sequence: a bug found here, fixed meanwhile).
#[test]
fn json_arrays_are_not_requests() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    conn.expect(r#"["hangup", "x"]"#, INVALID);
    conn.expect(r#"["call"]"#, INVALID);
    conn.expect(r#"["]]]]", "}}}"]"#, INVALID);
    // This one would create a call that nobody asked for with an object.
    conn.expect(r#"["call", "arr"]"#, INVALID);
    conn.expect(&request("hangup", "arr"), &error("Call arr not found"));
    server.check_healthy(&mut bystander);
}

#[test]
fn unicode_ids_at_the_64_byte_limit() {
    let mut server = server();
    let mut bystander = server.connect();
    let mut conn = server.connect();
    // 16 four-byte characters: 64 bytes, valid; raw or escaped.
    let sixteen = "😀".repeat(16);
    conn.expect(
        &request("call", &sixteen),
        &ok(&format!(
            "Call {sixteen} received\nCall {sixteen} ringing for operator A"
        )),
    );
    let escaped = "\\ud83d\\ude00".repeat(16);
    conn.expect(
        &format!(r#"{{"command": "call", "id": "{escaped}"}}"#),
        &error(&format!("Call {sixteen} already exists")),
    );
    conn.expect(
        &format!(r#"{{"command": "hangup", "id": "{escaped}"}}"#),
        &ok(&format!("Call {sixteen} missed")),
    );
    // 17 of them (68 bytes): a usage error, for every command.
    let seventeen = "😀".repeat(17);
    for verb in ["call", "answer", "reject", "hangup"] {
        conn.expect(&request(verb, &seventeen), &usage(verb));
    }
    // Two-byte characters: 32 fit, 33 do not; one straddling the limit.
    let e32 = "é".repeat(32);
    conn.expect(
        &request("call", &e32),
        &ok(&format!(
            "Call {e32} received\nCall {e32} ringing for operator A"
        )),
    );
    conn.expect(&request("hangup", &e32), &ok(&format!("Call {e32} missed")));
    conn.expect(&request("call", &"é".repeat(33)), &usage("call"));
    conn.expect(
        &request("call", &format!("{}é", "x".repeat(63))),
        &usage("call"),
    );
    // Unicode blanks and controls are not allowed in ids.
    for id in ["a\u{a0}b", "a\u{3000}b", "a\u{2028}b", "a\u{85}b", "\u{9f}"] {
        conn.expect(&request("call", id), &usage("call"));
    }
    // Unicode operators that do not exist; a long unknown command is cut.
    conn.expect(&request("answer", "😀"), &error("Operator 😀 not found"));
    conn.expect(
        &request(&"é".repeat(100), "1"),
        &error(&format!("Unknown command: {}…", "é".repeat(32))),
    );
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}
