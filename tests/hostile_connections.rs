//! Hostile connections: thousands of clients at once, clients that connect
//! and vanish, resets in the middle of a line, half-closed connections,
//! clients that never read (their own replies, or broadcast events), and
//! connections beyond `--max-clients`. Every case then checks that the
//! server is alive, that a client connected before the attack is still
//! served, and that the queue state is intact (see `hostile/mod.rs`).

mod support;

use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use support::{
    Conn, INVALID, Next, Server, TIMEOUT, connect_with_small_rcvbuf, error, ok, raise_fd_limit,
    request, reset, server_full, wait_peer_closed, wait_writable,
};

fn server(args: &[&str]) -> Server {
    let mut all = vec!["--lang", "en", "--ring-timeout", "0"];
    all.extend_from_slice(args);
    Server::start(&all)
}

#[test]
fn two_thousand_clients_at_once_are_all_served() {
    // The test holds every client socket: it needs the descriptors.
    let limit = raise_fd_limit() as usize;
    let clients = 2000.min(limit.saturating_sub(100));
    if clients < 2000 {
        eprintln!("open-file limit {limit}: only {clients} clients");
    }
    let mut server = server(&["--max-clients", "5000"]);
    let mut bystander = server.connect();
    let addr = server.addr;
    let threads = 4;
    let barrier = Arc::new(Barrier::new(threads));
    let (done, results) = mpsc::channel();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let barrier = barrier.clone();
            let done = done.clone();
            thread::spawn(move || {
                let ids: Vec<String> = (t..clients)
                    .step_by(threads)
                    .map(|n| format!("c{n}"))
                    .collect();
                let mut conns: Vec<Conn> = ids.iter().map(|_| Conn::connect(addr)).collect();
                // Every client is connected before any sends.
                barrier.wait();
                for (conn, id) in conns.iter_mut().zip(&ids) {
                    conn.send(format!("{}\n", request("call", id)).as_bytes());
                }
                let replies: Vec<String> = conns.iter_mut().map(Conn::line).collect();
                done.send((ids, replies, conns)).unwrap();
            })
        })
        .collect();
    drop(done);
    let mut everyone = Vec::new();
    let (mut on_a, mut on_b, mut queued) = (Vec::new(), Vec::new(), 0);
    for (ids, replies, conns) in results.iter() {
        for ((id, reply), conn) in ids.into_iter().zip(replies).zip(conns) {
            if reply == ok(&format!("Call {id} received\nCall {id} waiting in queue")) {
                queued += 1;
            } else if reply
                == ok(&format!(
                    "Call {id} received\nCall {id} ringing for operator A"
                ))
            {
                on_a.push(id.clone());
            } else if reply
                == ok(&format!(
                    "Call {id} received\nCall {id} ringing for operator B"
                ))
            {
                on_b.push(id.clone());
            } else {
                panic!("unexpected reply to call {id}: {reply}");
            }
            everyone.push((id, conn));
        }
    }
    for worker in workers {
        worker.join().expect("a client thread failed");
    }
    assert_eq!(everyone.len(), clients);
    assert_eq!((on_a.len(), on_b.len(), queued), (1, 1, clients - 2));
    server.assert_alive();
    // Every client is still connected and served: each hangs up its call,
    // the queued ones first (missed, nothing to dispatch), then the two
    // ringing ones (missed; the queue is empty by then).
    let ringing = [on_a[0].clone(), on_b[0].clone()];
    let (waiting, rung): (Vec<_>, Vec<_>) = everyone
        .into_iter()
        .partition(|(id, _)| !ringing.contains(id));
    let mut chunks: Vec<Vec<(String, Conn)>> = Vec::new();
    let mut waiting = waiting;
    while !waiting.is_empty() {
        let rest = waiting.split_off(waiting.len().min(500));
        chunks.push(std::mem::replace(&mut waiting, rest));
    }
    let hangers: Vec<_> = chunks
        .into_iter()
        .map(|mut chunk| {
            thread::spawn(move || {
                for (id, conn) in &mut chunk {
                    conn.send(format!("{}\n", request("hangup", id)).as_bytes());
                }
                for (id, conn) in &mut chunk {
                    assert_eq!(conn.line(), ok(&format!("Call {id} missed")));
                }
                chunk
            })
        })
        .collect();
    for hanger in hangers {
        hanger.join().expect("a hangup thread failed");
    }
    for (id, mut conn) in rung {
        conn.expect(&request("hangup", &id), &ok(&format!("Call {id} missed")));
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn clients_that_connect_and_vanish_leave_no_trace() {
    const MAX: u32 = 8;
    let mut server = server(&["--max-clients", "8"]);
    let mut bystander = server.connect();
    let addr = server.addr;
    let half = b"{\"command\": \"call\", \"id\": \"half";
    let whole = format!("{}\n", request("hangup", "gone"));
    for n in 0..500 {
        let mut stream = TcpStream::connect(addr).unwrap();
        // Writes may fail: past --max-clients the server closes at once.
        match n % 6 {
            0 => drop(stream),
            1 => {
                let _ = stream.write_all(half);
                drop(stream);
            }
            2 => {
                let _ = stream.write_all(whole.as_bytes());
                drop(stream);
            }
            3 => reset(stream),
            4 => {
                let _ = stream.write_all(half);
                reset(stream);
            }
            _ => {
                let _ = stream.shutdown(Shutdown::Write);
                drop(stream);
            }
        }
    }
    server.assert_alive();
    bystander.expect_nothing_pending();
    // The half line never ran.
    bystander.expect(&request("hangup", "half"), &error("Call half not found"));
    // No slot leaked: MAX - 1 more clients fit (once the server has seen
    // every close), and the next one is refused.
    let mut others: Vec<Conn> = (1..MAX).map(|_| server.connect_when_room(MAX)).collect();
    let mut refused = server.connect();
    assert_eq!(refused.line(), server_full(MAX));
    refused.expect_eof();
    for conn in &mut others {
        conn.expect_nothing_pending();
    }
    drop(others);
    server.assert_alive();
    bystander.run_seed();
    server.connect_when_room(MAX).run_seed();
}

#[test]
fn resets_mid_line_and_mid_reply_are_harmless() {
    let mut server = server(&[]);
    let mut bystander = server.connect();
    let addr = server.addr;
    // Half a request, then a reset: it never runs.
    for n in 0..100 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .write_all(format!("{{\"command\": \"call\", \"id\": \"rst{n}").as_bytes())
            .unwrap();
        reset(stream);
    }
    // A request split across two writes, the second never coming.
    for n in 0..100 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        stream.write_all(b"{\"command\": \"call\", ").unwrap();
        stream
            .write_all(format!("\"id\": \"split{n}\"").as_bytes())
            .unwrap();
        reset(stream);
    }
    // Resets while the server writes replies nobody reads: 10 clients at
    // once, each 2,000 requests, reset right after sending.
    let lots: Vec<u8> = (0..2000)
        .flat_map(|n| format!("{}\n", request("hangup", &format!("r{n}"))).into_bytes())
        .collect();
    let resetters: Vec<_> = (0..10)
        .map(|_| {
            let lots = lots.clone();
            thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                stream.write_all(&lots).unwrap();
                reset(stream);
            })
        })
        .collect();
    for resetter in resetters {
        resetter.join().unwrap();
    }
    server.assert_alive();
    for n in [0, 50, 99] {
        bystander.expect(
            &request("hangup", &format!("rst{n}")),
            &error(&format!("Call rst{n} not found")),
        );
        bystander.expect(
            &request("hangup", &format!("split{n}")),
            &error(&format!("Call split{n} not found")),
        );
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn half_close_after_sending_still_gets_every_reply() {
    let mut server = server(&[]);
    let mut bystander = server.connect();
    let script = [
        (
            request("call", "h1"),
            ok("Call h1 received\nCall h1 ringing for operator A"),
        ),
        (request("answer", "A"), ok("Call h1 answered by operator A")),
        (
            request("call", "h2"),
            ok("Call h2 received\nCall h2 ringing for operator B"),
        ),
        (
            request("reject", "B"),
            ok("Call h2 rejected by operator B\nCall h2 ringing for operator B"),
        ),
        ("not json".to_string(), INVALID.to_string()),
        (request("answer", "Z"), error("Operator Z not found")),
        (
            request("call", "h3"),
            ok("Call h3 received\nCall h3 waiting in queue"),
        ),
        (
            request("hangup", "h1"),
            ok("Call h1 finished and operator A available\nCall h3 ringing for operator A"),
        ),
        (request("hangup", "h2"), ok("Call h2 missed")),
        (request("hangup", "h3"), ok("Call h3 missed")),
    ];
    let mut conn = server.connect();
    let all: String = script.iter().map(|(line, _)| format!("{line}\n")).collect();
    conn.send(all.as_bytes());
    conn.stream.shutdown(Shutdown::Write).unwrap();
    for (line, reply) in &script {
        assert_eq!(&conn.line(), reply, "the reply to {line}");
    }
    conn.expect_eof();
    // The last request complete but with no newline; back to back.
    let mut conn = server.connect();
    conn.send(format!("{}{}", request("hangup", "x"), request("hangup", "y")).as_bytes());
    conn.stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(conn.line(), error("Call x not found"));
    assert_eq!(conn.line(), error("Call y not found"));
    conn.expect_eof();
    // Fifty clients at once, each half-closing after 200 requests.
    let addr = server.addr;
    let closers: Vec<_> = (0..50)
        .map(|c| {
            thread::spawn(move || {
                let mut conn = Conn::connect(addr);
                let ids: Vec<String> = (0..200).map(|n| format!("hc{c}-{n}")).collect();
                let all: String = ids
                    .iter()
                    .map(|id| format!("{}\n", request("hangup", id)))
                    .collect();
                conn.send(all.as_bytes());
                conn.stream.shutdown(Shutdown::Write).unwrap();
                for id in &ids {
                    assert_eq!(conn.line(), error(&format!("Call {id} not found")));
                }
                conn.expect_eof();
            })
        })
        .collect();
    for closer in closers {
        closer.join().expect("a half-closing client failed");
    }
    server.check_healthy(&mut bystander);
}

/// SPEC §7: "every bad input gets a clear one-line error"; standalone runs
/// a last line that has no newline. A client that half-closes after an
/// unfinished line (or unbalanced JSON) gets no reply at all: the framer's
/// pending bytes are dropped at end of input.
#[test]
fn unterminated_input_before_a_half_close_gets_an_error_reply() {
    let mut server = server(&[]);
    let mut bystander = server.connect();
    for pending in [
        &b"hello"[..],
        b"{\"command\": \"hang",
        b"{\"command\": \"hangup\", \"id\": \"x\"",
        b"[[[",
    ] {
        let mut conn = server.connect();
        conn.send(pending);
        conn.stream.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            conn.next_within(TIMEOUT),
            Next::Line(INVALID.to_string()),
            "for {:?}",
            String::from_utf8_lossy(pending)
        );
        conn.expect_eof();
    }
    server.check_healthy(&mut bystander);
}

#[test]
fn a_client_that_never_reads_is_throttled_and_loses_nothing() {
    let mut server = server(&[]);
    let mut bystander = server.connect();
    let before = server.rss_kib();
    // 200,000 requests (about 13 MiB), whose replies (as much) it does not
    // read; a small receive buffer so the replies back up at the server.
    // (Ids of digits need no JSON escaping: lines are built directly.)
    let ids: Vec<String> = (0..200_000).map(|n| format!("{n:0>40}")).collect();
    let mut requests = Vec::with_capacity(ids.len() * 72);
    for id in &ids {
        requests.extend_from_slice(b"{\"command\": \"hangup\", \"id\": \"");
        requests.extend_from_slice(id.as_bytes());
        requests.extend_from_slice(b"\"}\n");
    }
    let slow = connect_with_small_rcvbuf(server.addr, 4096);
    slow.set_nonblocking(true).unwrap();
    let mut written = 0;
    while written < requests.len() {
        match (&slow).write(&requests[written..]) {
            Ok(n) => written += n,
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                // Not writable for half a second: the server stopped reading.
                if !wait_writable(&slow, Duration::from_millis(500)) {
                    break;
                }
            }
            Err(error) => panic!("write failed: {error}"),
        }
    }
    assert!(
        written < requests.len(),
        "the server read all {written} bytes without pushing back"
    );
    let during = server.rss_kib();
    assert!(
        during < 64 * 1024 && during < before + 16 * 1024,
        "server memory grew from {before} KiB to {during} KiB"
    );
    // Meanwhile the others are served as usual.
    bystander.expect_nothing_pending();
    // Now it reads: every reply arrives, in order, none lost; the rest of
    // the requests go out as the server resumes reading.
    slow.set_nonblocking(false).unwrap();
    let mut writer = slow.try_clone().unwrap();
    let rest = requests[written..].to_vec();
    let sender = thread::spawn(move || writer.write_all(&rest).unwrap());
    let mut conn = Conn::new(slow);
    for id in &ids {
        let line = conn.line();
        let expected = format!("{{\"response\": \"Call {id} not found\", \"error\": true}}");
        assert!(line == expected, "{line:?} != {expected:?}");
    }
    sender.join().unwrap();
    conn.expect_nothing_pending();
    server.check_healthy(&mut bystander);
}

/// Whether `line` is an event a ring timeout causes here: the call is
/// ignored, then rings some operator again.
fn is_ring_event(line: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return false;
    };
    let Some(text) = value["response"].as_str() else {
        return false;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    support::event(text) == line
        && lines.len() == 2
        && lines[0].starts_with("Call ")
        && lines[0].contains(" ignored by operator ")
        && lines[1].contains(" ringing for operator ")
}

#[test]
fn a_client_that_never_reads_events_is_dropped_and_nobody_else_suffers() {
    // 100 operators with 64-byte ids, each with a call ringing and timing
    // out every 5 ms: about 20,000 events a second, of about 340 bytes,
    // sent to every client.
    let operators: Vec<String> = (0..100).map(|n| format!("operator-{n:0>55}")).collect();
    let list = operators.join(",");
    let mut server = Server::start(&[
        "--lang",
        "en",
        "--ring-timeout",
        "0.005",
        "--operators",
        &list,
    ]);
    let before = server.rss_kib();
    // The bystander reads everything, on a thread.
    let bystander = server.connect();
    let mut to_bystander = bystander.stream.try_clone().unwrap();
    let (lines, from_bystander) = mpsc::channel();
    thread::spawn(move || {
        let mut bystander = bystander;
        loop {
            match bystander.next_within(TIMEOUT) {
                Next::Line(line) => {
                    if lines.send(line).is_err() {
                        return;
                    }
                }
                Next::TimedOut => {}
                Next::Eof | Next::Reset | Next::Truncated(_) => return,
            }
        }
    });
    // Sends `requests` (pipelined) and returns their replies, in order,
    // skipping the events (each checked to be one).
    let mut replies = |requests: &[String]| -> Vec<String> {
        let all: String = requests.iter().map(|line| format!("{line}\n")).collect();
        to_bystander.write_all(all.as_bytes()).unwrap();
        let mut replies = Vec::new();
        while replies.len() < requests.len() {
            let line = from_bystander
                .recv_timeout(TIMEOUT)
                .expect("a reply for the bystander");
            if !line.ends_with(", \"event\": true}") {
                replies.push(line);
            } else {
                assert!(is_ring_event(&line), "unexpected event {line}");
            }
        }
        replies
    };
    // The slow client: a small receive buffer, and it never reads. It
    // makes 150 calls (100 ring, 50 wait), then sends harmless requests
    // until the server stops reading them: its replies and the events
    // fill its output past the high-water mark.
    let call_id = |n: usize| format!("call-{n:0>59}");
    let calls: Vec<String> = (0..150).map(|n| request("call", &call_id(n))).collect();
    let slow = connect_with_small_rcvbuf(server.addr, 4096);
    (&slow)
        .write_all(
            calls
                .iter()
                .map(|c| format!("{c}\n"))
                .collect::<String>()
                .as_bytes(),
        )
        .unwrap();
    let padding = format!("{}\n", request("hangup", "nope")).repeat(1000);
    let padding = padding.as_bytes();
    slow.set_nonblocking(true).unwrap();
    let (mut offset, mut written) = (0, 0);
    loop {
        match (&slow).write(&padding[offset..]) {
            Ok(n) => {
                offset = (offset + n) % padding.len();
                written += n;
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => break,
            // Dropped already, while we were still sending.
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                ) =>
            {
                break;
            }
            Err(error) => panic!("write failed: {error}"),
        }
        assert!(written < 256 << 20, "the server never pushed back");
    }
    // It is dropped once the events pile up past the cap (the server
    // closes it with input unread, so we see a reset); memory stays low.
    let start = Instant::now();
    let mut peak = server.rss_kib();
    while !wait_peer_closed(&slow, Duration::from_millis(50)) {
        peak = peak.max(server.rss_kib());
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not dropped after 30 s (server RSS {peak} KiB)"
        );
        server.assert_alive();
    }
    peak = peak.max(server.rss_kib());
    assert!(
        peak < 64 * 1024,
        "server memory peaked at {peak} KiB (from {before} KiB)"
    );
    drop(slow);
    // The bystander was never dropped: it is served, between events.
    assert_eq!(
        replies(&[request("answer", "nobody")]),
        [error("Operator nobody not found")]
    );
    // The queue is as the slow client left it: 100 calls ringing (a call
    // that times out rings its operator again: no other is available) and
    // 50 waiting. Hanging up in order: each of the first 50 frees an
    // operator who takes the head of the queue; the rest are just missed.
    let hangups: Vec<String> = (0..150).map(|n| request("hangup", &call_id(n))).collect();
    let expected: Vec<String> = (0..150)
        .map(|n| {
            let id = call_id(n);
            if n < 50 {
                ok(&format!(
                    "Call {id} missed\nCall {} ringing for operator {}",
                    call_id(100 + n),
                    operators[n]
                ))
            } else {
                ok(&format!("Call {id} missed"))
            }
        })
        .collect();
    assert_eq!(replies(&hangups), expected);
    // No call is left, so nothing rings and no operator is busy...
    let gone: Vec<String> = (0..150)
        .map(|n| error(&format!("Call {} not found", call_id(n))))
        .collect();
    assert_eq!(replies(&hangups), gone);
    let answers: Vec<String> = operators.iter().map(|op| request("answer", op)).collect();
    let idle: Vec<String> = operators
        .iter()
        .map(|op| error(&format!("Operator {op} has no ringing call")))
        .collect();
    assert_eq!(replies(&answers), idle);
    // ... and the first operator in priority order takes the next call.
    assert_eq!(
        replies(&[request("call", "probe"), request("hangup", "probe")]),
        [
            ok(&format!(
                "Call probe received\nCall probe ringing for operator {}",
                operators[0]
            )),
            ok("Call probe missed")
        ]
    );
    server.assert_alive();
}

#[test]
fn connections_beyond_max_clients_are_refused_with_one_line() {
    const MAX: u32 = 3;
    let mut server = server(&["--max-clients", "3"]);
    let mut bystander = server.connect();
    let mut second = server.connect_when_room(MAX);
    let third = server.connect_when_room(MAX);
    let full = server_full(MAX);
    // Twenty at once: each gets exactly the refusal, then end of file.
    let addr = server.addr;
    let refused: Vec<_> = (0..20)
        .map(|n| {
            let full = full.clone();
            thread::spawn(move || {
                let mut conn = Conn::connect(addr);
                if n % 2 == 1 {
                    // Sending first changes nothing, but the close may then
                    // be a reset (our request is left unread).
                    let _ = conn
                        .stream
                        .write_all(format!("{}\n", request("call", "intruder")).as_bytes());
                    assert_eq!(conn.line(), full);
                    let end = conn.next_within(TIMEOUT);
                    assert!(matches!(end, Next::Eof | Next::Reset), "{end:?}");
                } else {
                    assert_eq!(conn.line(), full);
                    conn.expect_eof();
                }
            })
        })
        .collect();
    for refusal in refused {
        refusal.join().expect("a refused client failed");
    }
    // The intruder's call never ran; the three are served.
    bystander.expect(
        &request("hangup", "intruder"),
        &error("Call intruder not found"),
    );
    second.expect_nothing_pending();
    // One leaves: a new client gets its place.
    drop(third);
    let mut fourth = server.connect_when_room(MAX);
    fourth.run_seed();
    drop(fourth);
    drop(second);
    server.assert_alive();
    bystander.run_seed();
    server.connect_when_room(MAX).run_seed();
}
