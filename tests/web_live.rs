//! The wallboard in a real headless Chromium against the real server
//! (`--http 127.0.0.1:0`), commands sent over TCP: within a couple of
//! seconds an operator's tile turns to on call with the call's id, the
//! waiting count changes and the events appear; the chart draws the
//! server's history; the page shows when the server is gone and recovers
//! when it restarts on the same port. The screenshot of the busy queue is
//! the README's `docs/wallboard.png`.

mod support;

#[path = "support/browser.rs"]
mod browser;

use std::net::SocketAddr;
use std::time::Duration;

use browser::Browser;
use support::{Server, deadline, ok, request};

const DESCRIBE: &str = "return {connection: document.body.dataset.connection, \
    tiles: Array.from(document.querySelectorAll('[data-operator]')).map(t => t.dataset.operator + ':' + t.dataset.state + ':' + t.dataset.call), \
    waiting: document.getElementById('waiting').textContent, \
    chart: document.getElementById('chart-line').getAttribute('points'), \
    events: Array.from(document.querySelectorAll('#events li')).map(li => li.textContent)};";

/// Within this the page must show what the server did.
const SOON: Duration = Duration::from_secs(3);

/// A server with `--http http_addr`; its HTTP address from the second line.
fn start(http_addr: &str) -> (Server, SocketAddr) {
    // A long wrap-up, so an operator whose call ends stays in it.
    let mut server = Server::start(&[
        "--lang",
        "en",
        "--operators",
        "A,B,C",
        "--wrap-up",
        "600",
        "--http",
        http_addr,
    ]);
    let line = server.proc.stdout.expect_line(deadline());
    let http = line
        .strip_prefix("HTTP listening on ")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| server.fail(&format!("not an HTTP banner: {line:?}")));
    (server, http)
}

#[test]
fn the_wallboard_follows_the_real_server_and_survives_its_restart() {
    let (server, http) = start("127.0.0.1:0");
    let browser = Browser::start();
    browser.goto(&format!("http://{http}/"));
    browser.wait_until(
        "the page connects, draws the history samples and shows three idle operators",
        // One sample per 5 s since the server started: how many depends on
        // how long the browser took to start, so at least one.
        "return document.body.dataset.connection === 'online' && \
         document.getElementById('chart-line').getAttribute('points').trim() !== '' && \
         Array.from(document.querySelectorAll('[data-operator]')).map(t => t.dataset.operator + ':' + t.dataset.state).join() === 'A:idle,B:idle,C:idle' && \
         document.getElementById('waiting').textContent === '0';",
        DESCRIBE,
        Duration::from_secs(10),
    );
    let mut client = server.connect();
    client.expect(
        &request("call", "7"),
        &ok("Call 7 received\nCall 7 ringing for operator A"),
    );
    client.expect(
        &request("answer", "A"),
        &ok("Call 7 answered by operator A"),
    );
    browser.wait_until(
        "A's tile turns to on call with call 7 and the three events are listed, newest first",
        "const items = Array.from(document.querySelectorAll('#events li')).map(li => li.textContent); \
         const a = document.querySelector('[data-operator=\"A\"]'); \
         return items.length === 3 && items[0].endsWith('Call 7 answered by operator A') && \
         items[1].endsWith('Call 7 ringing for operator A') && items[2].endsWith('Call 7 received') && \
         a.dataset.state === 'on-call' && a.dataset.call === '7' && \
         a.querySelector('.state').textContent === 'on call' && a.querySelector('.call').textContent === 'call 7' && \
         document.getElementById('answered').textContent === '1';",
        DESCRIBE,
        SOON,
    );

    // Every operator busy, then two calls wait and one of them gives up.
    for (verb, id, reply) in [
        (
            "call",
            "8",
            "Call 8 received\nCall 8 ringing for operator B",
        ),
        ("answer", "B", "Call 8 answered by operator B"),
        (
            "call",
            "9",
            "Call 9 received\nCall 9 ringing for operator C",
        ),
        ("call", "10", "Call 10 received\nCall 10 waiting in queue"),
        ("call", "11", "Call 11 received\nCall 11 waiting in queue"),
        ("call", "12", "Call 12 received\nCall 12 waiting in queue"),
        ("hangup", "12", "Call 12 missed"),
    ] {
        client.expect(&request(verb, id), &ok(reply));
    }
    browser.wait_until(
        "two calls waiting, C ringing with call 9, one missed, the miss listed",
        "const c = document.querySelector('[data-operator=\"C\"]'); \
         return document.getElementById('waiting').textContent === '2' && \
         c.dataset.state === 'ringing' && c.dataset.call === '9' && \
         document.querySelector('[data-operator=\"B\"]').dataset.state === 'on-call' && \
         document.getElementById('missed').textContent === '1' && \
         document.querySelector('#events li').textContent.endsWith('Call 12 missed');",
        DESCRIBE,
        SOON,
    );
    // Most states an operator can show: a call ends into wrap-up, two
    // operators join (one answers), one pauses and gives its call back.
    for (verb, id, reply) in [
        ("hangup", "7", "Call 7 finished and operator A in wrap-up"),
        (
            "login",
            "D",
            "Operator D logged in\nCall 10 ringing for operator D",
        ),
        ("answer", "D", "Call 10 answered by operator D"),
    ] {
        client.expect(&request(verb, id), &ok(reply));
    }
    client.expect(
        r#"{"command": "pause", "id": "C", "reason": "lunch"}"#,
        &ok("Operator C paused (lunch)"),
    );
    for (verb, id, reply) in [
        ("reject", "C", "Call 9 rejected by operator C"),
        (
            "login",
            "E",
            "Operator E logged in\nCall 9 ringing for operator E",
        ),
    ] {
        client.expect(&request(verb, id), &ok(reply));
    }
    browser.wait_until(
        "A in wrap-up, C paused for lunch, D on call 10, E ringing call 9, one call waiting",
        "const tiles = Array.from(document.querySelectorAll('[data-operator]')); \
         const c = document.querySelector('[data-operator=\"C\"]'); \
         return tiles.map(t => t.dataset.operator + ':' + t.dataset.state).join() === \
           'A:wrap-up,B:on-call,C:paused,D:on-call,E:ringing' && \
         c.querySelector('.state').textContent === 'paused (lunch)' && \
         document.querySelector('[data-operator=\"E\"]').dataset.call === '9' && \
         document.getElementById('waiting').textContent === '1';",
        DESCRIBE,
        SOON,
    );
    // The README's picture: a busy queue, as a phone shows it.
    let screenshot =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wallboard-live.png");
    browser.screenshot(&screenshot);
    assert!(
        std::fs::read(&screenshot)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );

    // The server goes away: the banner shows.
    drop(client);
    drop(server);
    browser.wait_until(
        "the offline banner shows",
        "return document.body.dataset.connection === 'offline' && \
         document.getElementById('offline').offsetParent !== null;",
        DESCRIBE,
        SOON,
    );

    // It restarts on the same port: the page reconnects by itself and
    // follows the new server's events.
    let (server, again) = start(&http.to_string());
    assert_eq!(again, http);
    browser.wait_until(
        "the banner clears and the new server's idle operators and empty queue show",
        "return document.body.dataset.connection === 'online' && \
         document.getElementById('offline').offsetParent === null && \
         Array.from(document.querySelectorAll('[data-operator]')).map(t => t.dataset.operator + ':' + t.dataset.state).join() === 'A:idle,B:idle,C:idle' && \
         document.getElementById('waiting').textContent === '0';",
        DESCRIBE,
        Duration::from_secs(5),
    );
    server.connect().expect(
        &request("call", "8"),
        &ok("Call 8 received\nCall 8 ringing for operator A"),
    );
    browser.wait_until(
        "the new server's events are listed",
        "return document.querySelector('#events li').textContent.endsWith('Call 8 ringing for operator A');",
        DESCRIBE,
        SOON,
    );
}
