//! `--http` end to end, over real sockets to the real binary (SPEC §10.3):
//! the routes and their heads, keep-alive and pipelining, the error codes,
//! `/metrics` through Prometheus's own parser after real traffic, the
//! event stream, `--max-clients` shared with TCP clients, a slow `/events`
//! reader dropped at the output cap, and standalone's `--http`.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;

use support::{
    Proc, Server, TIMEOUT, connect_with_small_rcvbuf, deadline, error, ok, request,
    wait_peer_closed,
};

/// A server with `--http 127.0.0.1:0` and `args`; the HTTP address from its
/// second line.
fn start(args: &[&str]) -> (Server, SocketAddr) {
    let mut all = vec!["--http", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut server = Server::start(&all);
    let line = server.proc.stdout.expect_line(deadline());
    let http = line
        .strip_prefix("HTTP listening on ")
        .and_then(|addr| addr.trim_end().parse().ok())
        .unwrap_or_else(|| server.fail(&format!("not an HTTP banner: {line:?}")));
    (server, http)
}

/// One HTTP response: status line, headers (lower-case names), body.
#[derive(Debug)]
struct Response {
    status: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP connection reading responses by their `Content-Length`.
struct Http {
    reader: BufReader<TcpStream>,
}

impl Http {
    fn connect(addr: SocketAddr) -> Http {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        Http {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    fn get(&mut self, path: &str) -> Response {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        self.response(false)
    }

    /// Reads one response; `head_only` for the answer to a `HEAD`.
    fn response(&mut self, head_only: bool) -> Response {
        let status = self.line();
        let mut headers = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(": ").expect("a header");
            headers.push((name.to_ascii_lowercase(), value.to_string()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if !head_only && let Some(length) = response.header("content-length") {
            let mut body = vec![0; length.parse().expect("a length")];
            self.reader.read_exact(&mut body).expect("the body");
            response.body = body;
        }
        response
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a line");
        line.strip_suffix("\r\n")
            .unwrap_or_else(|| panic!("not a CRLF line: {line:?}"))
            .to_string()
    }

    /// Whether the server closed: the next read ends the stream.
    fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(self.reader.read_to_end(&mut rest), Ok(0))
    }
}

#[test]
fn routes_answer_with_their_types_and_errors_with_theirs() {
    let (_server, http) = start(&["--lang", "pt"]);
    let mut conn = Http::connect(http);
    let page = conn.get("/");
    assert_eq!(page.status, "HTTP/1.1 200 OK");
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("connection"), Some("keep-alive"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.text().contains("<html lang=\"pt\">"));
    let metrics = conn.get("/metrics?x=1");
    assert_eq!(
        metrics.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(metrics.text().contains("callcenter_clients_connected 1\n"));
    let history = conn.get("/history");
    assert_eq!(history.header("content-type"), Some("application/json"));
    assert_eq!(history.text(), r#"{"interval_s":5,"waiting":[0]}"#);
    for path in ["/status", "/stats"] {
        let snapshot = conn.get(path);
        assert_eq!(snapshot.status, "HTTP/1.1 200 OK", "{path}");
        assert_eq!(snapshot.header("content-type"), Some("application/json"));
        assert_eq!(snapshot.header("connection"), Some("keep-alive"));
    }
    let missing = conn.get("/nothing");
    assert_eq!(missing.status, "HTTP/1.1 404 Not Found");
    assert_eq!(missing.text(), "404 Not Found\n");
    conn.send(b"HEAD /metrics HTTP/1.1\r\n\r\n");
    let head = conn.response(true);
    assert_eq!(head.status, "HTTP/1.1 200 OK");
    assert_ne!(head.header("content-length"), Some("0"));
    conn.send(b"DELETE / HTTP/1.1\r\n\r\n");
    let refused = conn.response(false);
    assert_eq!(refused.status, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    // Pipelined, answered in order; the last asks to close.
    conn.send(b"GET /history HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(conn.response(false).status, "HTTP/1.1 200 OK");
    let last = conn.response(false);
    assert_eq!(last.status, "HTTP/1.1 404 Not Found");
    assert_eq!(last.header("connection"), Some("close"));
    assert!(conn.closed());
}

#[test]
fn bad_requests_are_answered_then_closed() {
    let (_server, http) = start(&[]);
    for (bytes, status) in [
        (
            b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            "HTTP/1.1 400 Bad Request",
        ),
        (
            b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
            "HTTP/1.1 413 Content Too Large",
        ),
        (
            format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000)).into_bytes(),
            "HTTP/1.1 431 Request Header Fields Too Large",
        ),
    ] {
        let mut conn = Http::connect(http);
        conn.send(&bytes);
        let response = conn.response(false);
        assert_eq!(response.status, status);
        assert_eq!(response.header("connection"), Some("close"));
        assert!(conn.closed(), "{status}");
    }
}

/// Parses `text` with Python's `prometheus_client` and returns its samples
/// as `name{labels} value` lines.
fn prometheus_samples(text: &str) -> Vec<String> {
    const PARSE: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {float(s.value)!r}")
"#;
    support::python::python_lines(PARSE, text)
}

#[test]
fn metrics_after_real_traffic_parse_and_count_it() {
    let (server, http) = start(&["--lang", "en"]);
    let mut client = server.connect();
    client.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    client.expect(
        &request("answer", "A"),
        &ok("Call 1 answered by operator A"),
    );
    client.expect(
        &request("call", "2"),
        &ok("Call 2 received\nCall 2 ringing for operator B"),
    );
    client.expect(
        &request("reject", "B"),
        &ok("Call 2 rejected by operator B\nCall 2 ringing for operator B"),
    );
    client.expect(&request("hangup", "2"), &ok("Call 2 missed"));
    client.expect(&request("hangup", "9"), &error("Call 9 not found"));
    client.expect("{\"command\": \"subscribe\"}", &ok("Monitoring all events"));
    let samples = prometheus_samples(&Http::connect(http).get("/metrics").text());
    for expected in [
        "callcenter_calls_total{event=received} 2.0",
        "callcenter_calls_total{event=answered} 1.0",
        "callcenter_calls_total{event=missed} 1.0",
        "callcenter_rings_total{result=rejected} 1.0",
        "callcenter_operators{state=on-call} 1.0",
        "callcenter_operators{state=idle} 1.0",
        "callcenter_wait_seconds_count{} 1.0",
        "callcenter_clients_connected{} 2.0",
        "callcenter_commands_total{result=ok} 6.0",
        "callcenter_commands_total{result=error} 1.0",
        "callcenter_queue_log_write_errors_total{} 0.0",
    ] {
        assert!(
            samples.iter().any(|sample| sample == expected),
            "no {expected} in {samples:#?}"
        );
    }
}

/// `text` with the number after each `"key":` replaced by `key`'s name in
/// capitals, and those numbers: the times, which the clock decides.
fn mask_times(text: &str, key: &str) -> (String, Vec<f64>) {
    let pattern = format!("\"{key}\":");
    let mut masked = String::new();
    let mut numbers = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&pattern) {
        let (before, after) = rest.split_at(at + pattern.len());
        masked.push_str(before);
        let end = after
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(after.len());
        numbers.push(after[..end].parse().expect("a number"));
        masked.push_str(&key.to_uppercase());
        rest = &after[end..];
    }
    masked.push_str(rest);
    (masked, numbers)
}

#[test]
fn status_and_stats_are_the_bare_json_objects_of_the_wire() {
    let started = std::time::Instant::now();
    let (server, http) = start(&["--lang", "en"]);
    let mut client = server.connect();
    let mut conn = Http::connect(http);
    let (idle, times) = mask_times(&conn.get("/status").text(), "since_s");
    assert_eq!(
        idle,
        r#"{"waiting":0,"longest_wait_s":0.0,"strategy":"linear","operators":[{"id":"A","state":"idle","call":null,"paused":false,"reason":null,"since_s":SINCE_S},{"id":"B","state":"idle","call":null,"paused":false,"reason":null,"since_s":SINCE_S}],"queue":[]}"#
    );
    assert!(
        times
            .iter()
            .all(|&t| t <= started.elapsed().as_secs_f64() + 0.1),
        "{times:?}"
    );
    for (line, reply) in [
        ("call 1", "Call 1 received\nCall 1 ringing for operator A"),
        ("answer A", "Call 1 answered by operator A"),
        ("call 2", "Call 2 received\nCall 2 ringing for operator B"),
        ("call 3", "Call 3 received\nCall 3 waiting in queue"),
        ("call 4", "Call 4 received\nCall 4 waiting in queue"),
    ] {
        let (verb, id) = line.split_once(' ').unwrap();
        client.expect(&request(verb, id), &ok(reply));
    }
    let since_calls = std::time::Instant::now();
    let body = conn.get("/status").text();
    let (masked, waits) = mask_times(&body, "longest_wait_s");
    let (masked, times) = mask_times(&masked, "since_s");
    assert_eq!(
        masked,
        r#"{"waiting":2,"longest_wait_s":LONGEST_WAIT_S,"strategy":"linear","operators":[{"id":"A","state":"on-call","call":"1","paused":false,"reason":null,"since_s":SINCE_S},{"id":"B","state":"ringing","call":"2","paused":false,"reason":null,"since_s":SINCE_S}],"queue":["3","4"]}"#
    );
    // Counted by the server's clock since the commands: not since its start.
    let bound = since_calls.elapsed().as_secs_f64() + 0.1;
    assert!(
        waits[0] <= bound && times.iter().all(|&t| t <= bound),
        "{body}"
    );

    client.expect(
        &request("hangup", "1"),
        &ok("Call 1 finished and operator A available\nCall 3 ringing for operator A"),
    );
    client.expect(&request("hangup", "4"), &ok("Call 4 missed"));
    client.expect(
        &request("reject", "B"),
        &ok("Call 2 rejected by operator B\nCall 2 ringing for operator B"),
    );
    let body = conn.get("/stats").text();
    let (masked, _) = mask_times(&body, "wait_avg_s");
    let (masked, _) = mask_times(&masked, "wait_max_s");
    let (masked, talk) = mask_times(&masked, "talk_s");
    assert_eq!(
        masked,
        r#"{"received":4,"answered":1,"finished":1,"missed":1,"rejected":1,"ignored":0,"wait_avg_s":WAIT_AVG_S,"wait_max_s":WAIT_MAX_S,"service_level":{"seconds":20,"percent":50.0},"operators":[{"id":"A","answered":1,"rejected":0,"ignored":0,"talk_s":TALK_S},{"id":"B","answered":0,"rejected":1,"ignored":0,"talk_s":TALK_S}]}"#
    );
    // B never talked; A's call lasted no longer than the test.
    assert_eq!(talk[1], 0.0, "{body}");
    assert!(talk[0] <= started.elapsed().as_secs_f64() + 0.1, "{body}");
}

/// Reads SSE lines from `stream` until `count` `data:` lines came.
fn sse_data(reader: &mut BufReader<TcpStream>, count: usize) -> Vec<String> {
    let mut data = Vec::new();
    while data.len() < count {
        let mut line = String::new();
        reader.read_line(&mut line).expect("an SSE line");
        if let Some(text) = line.strip_prefix("data: ") {
            data.push(text.trim_end_matches('\n').to_string());
        }
    }
    data
}

#[test]
fn events_stream_every_line_as_a_message() {
    let (server, http) = start(&["--lang", "en", "--ring-timeout", "0.2"]);
    let mut stream = Http::connect(http);
    stream.send(b"GET /events HTTP/1.1\r\n\r\n");
    let head = stream.response(true);
    assert_eq!(head.status, "HTTP/1.1 200 OK");
    assert_eq!(
        head.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(head.header("content-length"), None);
    let mut reader = stream.reader;
    let mut retry = String::new();
    reader.read_line(&mut retry).unwrap();
    assert_eq!(retry, "retry: 1000\n");
    let mut client = server.connect();
    // The retry hint is written when the stream subscribes: every command
    // from now on shows.
    client.expect(
        &request("call", "1"),
        &ok("Call 1 received\nCall 1 ringing for operator A"),
    );
    assert_eq!(
        sse_data(&mut reader, 4),
        [
            "Call 1 received",
            "Call 1 ringing for operator A",
            // The timer's events, too.
            "Call 1 ignored by operator A",
            "Call 1 ringing for operator B",
        ]
    );
}

#[test]
fn http_and_tcp_connections_share_max_clients() {
    let (mut server, http) = start(&["--lang", "en", "--max-clients", "2"]);
    let mut first = Http::connect(http);
    assert_eq!(first.get("/history").status, "HTTP/1.1 200 OK");
    let _tcp = server.connect_when_room(2);
    let mut third = Http::connect(http);
    let refused = third.response(false);
    assert_eq!(refused.status, "HTTP/1.1 503 Service Unavailable");
    assert!(third.closed());
    let mut fourth = server.connect();
    assert_eq!(fourth.line(), support::server_full(2));
    // One leaves: room again (closed connections are noticed from the loop).
    drop(first);
    let _again = server.connect_when_room(2);
}

#[test]
fn a_slow_event_reader_is_dropped_at_the_output_cap() {
    // 100 operators with long ids, each ringing and timing out every 5 ms:
    // thousands of events a second, none read by the slow stream.
    let operators: Vec<String> = (0..100).map(|n| format!("operator-{n:0>55}")).collect();
    let list = operators.join(",");
    let (mut server, http) = start(&["--ring-timeout", "0.005", "--operators", &list]);
    let mut slow = connect_with_small_rcvbuf(http, 4096);
    slow.write_all(b"GET /events HTTP/1.1\r\n\r\n").unwrap();
    let mut client = server.connect();
    let calls: String = (0..100)
        .map(|n| format!("{}\n", request("call", &format!("call-{n:0>59}"))))
        .collect();
    client.send(calls.as_bytes());
    // A byte now and then: once the server stops reading the stream's
    // connection (its output past the high-water mark), they stay unread,
    // so the drop shows here as a reset rather than a FIN stuck behind
    // the output we never read.
    slow.set_nonblocking(true).unwrap();
    let start = std::time::Instant::now();
    while !wait_peer_closed(&slow, std::time::Duration::from_millis(50)) {
        let _ = (&slow).write(b"x");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the slow reader was not dropped"
        );
        server.assert_alive();
    }
    server.assert_alive();
    // Everyone else is still served.
    let mut fresh = Http::connect(http);
    assert_eq!(fresh.get("/history").status, "HTTP/1.1 200 OK");
}

#[test]
fn standalone_says_where_http_listens_on_stderr_and_keeps_its_transcript() {
    let mut session = Proc::spawn(
        &["--lang", "en", "--http", "127.0.0.1:0"],
        Stdio::piped(),
        false,
    );
    let stderr = session.stderr.as_mut().expect("stderr piped");
    let banner = stderr.expect_line(deadline());
    let http: SocketAddr = banner
        .strip_prefix("HTTP listening on ")
        .and_then(|addr| addr.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP banner: {banner:?}"));
    session.write(b"call 1\n");
    assert_eq!(session.stdout.expect_line(deadline()), "Call 1 received");
    assert_eq!(
        session.stdout.expect_line(deadline()),
        "Call 1 ringing for operator A"
    );
    let metrics = Http::connect(http).get("/metrics").text();
    assert!(metrics.contains("callcenter_calls_total{event=\"received\"} 1\n"));
    session.close_stdin();
    let (code, stdout, stderr) = session.finish(deadline());
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "");
    assert_eq!(stderr, "");
}
