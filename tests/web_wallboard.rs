//! The wallboard in a real headless Chromium, against a fake server this
//! test controls (threads, std sockets, the crate's own HTTP parser and
//! encoders): the page follows events and status, and shows when the server
//! is gone and recovers when it is back.

#[path = "support/browser.rs"]
mod browser;

use browser::Browser;
use callcenter::messages::Lang;
use callcenter::web::http::{self, Route};
use callcenter::web::wallboard_page;
use serde_json::json;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the fake server answers, changed by the test.
struct Shared {
    /// The `/status` body.
    status: serde_json::Value,
    /// The `/stats` body.
    stats: serde_json::Value,
    /// Open `/events` streams.
    streams: Vec<TcpStream>,
    /// The language the page is served in.
    lang: Lang,
}

/// A server on a fixed loopback port that can be stopped (streams cut,
/// connections refused) and started again.
struct Fake {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    running: Arc<AtomicBool>,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

impl Fake {
    fn start(shared: Arc<Mutex<Shared>>, addr: SocketAddr) -> Fake {
        let listener = TcpListener::bind(addr).expect("bind the fake server");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let acceptor = {
            let (shared, running) = (shared.clone(), running.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (shared, running) = (shared.clone(), running.clone());
                            std::thread::spawn(move || serve(stream, &shared, &running));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Fake {
            addr,
            shared,
            running,
            acceptor: Some(acceptor),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    fn broadcast(&self, text: &str) {
        let mut bytes = Vec::new();
        http::write_sse_event(&mut bytes, text);
        let mut shared = self.shared.lock().unwrap();
        shared
            .streams
            .retain_mut(|stream| stream.write_all(&bytes).is_ok());
    }

    /// Cuts every stream and closes the listener: new connections are refused.
    fn stop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.join().unwrap();
        }
        for stream in self.shared.lock().unwrap().streams.drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves one connection: keep-alive requests until close, or hands an
/// `/events` stream to the broadcaster.
fn serve(mut stream: TcpStream, shared: &Mutex<Shared>, running: &AtomicBool) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut parser = http::RequestParser::new();
    let mut chunk = [0u8; 4096];
    while running.load(Ordering::SeqCst) {
        let read = match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => read,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        };
        parser.feed(&chunk[..read]);
        while let Some(request) = parser.next_request() {
            let mut out = Vec::new();
            let request = match request {
                Ok(request) => request,
                Err(error) => {
                    http::write_error(&mut out, error.status(), false, false);
                    let _ = stream.write_all(&out);
                    return;
                }
            };
            let route = http::route(&request.method, &request.path);
            if let Some(keep_alive) = http::write_refusal(&mut out, &request, route) {
                let _ = stream.write_all(&out);
                if !keep_alive {
                    return;
                }
                continue;
            }
            let (content_type, body) = match route {
                Route::Wallboard => (
                    http::CONTENT_TYPE_HTML,
                    wallboard_page(shared.lock().unwrap().lang),
                ),
                Route::Status => (
                    http::CONTENT_TYPE_JSON,
                    shared.lock().unwrap().status.to_string(),
                ),
                Route::Stats => (
                    http::CONTENT_TYPE_JSON,
                    shared.lock().unwrap().stats.to_string(),
                ),
                Route::History => (
                    http::CONTENT_TYPE_JSON,
                    json!({"interval_s": 5, "waiting": [0, 1, 3, 2, 0]}).to_string(),
                ),
                Route::Events => {
                    http::write_sse_head(&mut out);
                    http::write_sse_retry(&mut out, 200);
                    if stream.write_all(&out).is_ok() {
                        shared.lock().unwrap().streams.push(stream);
                    }
                    return;
                }
                _ => (http::CONTENT_TYPE_TEXT, String::new()),
            };
            http::write_response(
                &mut out,
                http::Status::Ok,
                content_type,
                body.as_bytes(),
                request.head_only(),
                request.keep_alive,
            );
            if stream.write_all(&out).is_err() || !request.keep_alive {
                return;
            }
        }
    }
}

fn operator(id: &str, state: &str, call: Option<&str>, since_s: f64) -> serde_json::Value {
    json!({"id": id, "state": state, "call": call, "paused": false, "reason": null, "since_s": since_s})
}

fn stats(answered: u64, missed: u64, percent: Option<f64>) -> serde_json::Value {
    json!({"received": answered + missed, "answered": answered, "finished": 0, "missed": missed,
           "rejected": 0, "ignored": 0, "wait_avg_s": 0.0, "wait_max_s": 0.0,
           "service_level": {"seconds": 20, "percent": percent}, "operators": []})
}

const DESCRIBE: &str = "return {connection: document.body.dataset.connection, \
    tiles: Array.from(document.querySelectorAll('[data-operator]')).map(t => t.dataset.operator + ':' + t.dataset.state + ':' + t.innerText), \
    waiting: document.getElementById('waiting').textContent, \
    answered: document.getElementById('answered').textContent, \
    events: Array.from(document.querySelectorAll('#events li')).map(li => li.textContent)};";

const SECOND: Duration = Duration::from_secs(3);

#[test]
fn the_wallboard_follows_events_and_recovers_from_a_server_restart() {
    let shared = Arc::new(Mutex::new(Shared {
        status: json!({"waiting": 0, "longest_wait_s": 0.0, "strategy": "linear",
            "operators": [operator("A", "idle", None, 3.0), operator("B", "idle", None, 3.0)], "queue": []}),
        stats: stats(0, 0, None),
        streams: Vec::new(),
        lang: Lang::En,
    }));
    let mut fake = Fake::start(shared.clone(), "127.0.0.1:0".parse().unwrap());
    let browser = Browser::start();
    browser.goto(&fake.url());
    browser.wait_until(
        "the page connects and shows both operators idle",
        "return document.body.dataset.connection === 'online' && \
         document.querySelector('[data-operator=\"A\"]')?.dataset.state === 'idle' && \
         document.querySelector('[data-operator=\"B\"]')?.dataset.state === 'idle' && \
         document.getElementById('service-level').textContent === 'n/a';",
        DESCRIBE,
        Duration::from_secs(10),
    );
    assert_eq!(
        browser.eval("return document.getElementById('offline').offsetParent === null;"),
        json!(true)
    );

    // Call 7 is answered by A while 8 and 9 wait.
    {
        let mut shared = shared.lock().unwrap();
        shared.status = json!({"waiting": 2, "longest_wait_s": 65.0, "strategy": "linear",
            "operators": [operator("A", "on-call", Some("7"), 0.0), operator("B", "ringing", Some("8"), 0.0)],
            "queue": ["8", "9"]});
        shared.stats = stats(1, 0, Some(100.0));
    }
    fake.broadcast("Call 7 answered by operator A");
    browser.wait_until(
        "A's tile turns to on call with call 7, two waiting, the event listed",
        "const a = document.querySelector('[data-operator=\"A\"]'); \
         return a.dataset.state === 'on-call' && a.querySelector('.state').textContent === 'on call' && \
         a.querySelector('.call').textContent === 'call 7' && \
         document.querySelector('[data-operator=\"B\"]').dataset.state === 'ringing' && \
         document.getElementById('waiting').textContent === '2' && \
         document.getElementById('answered').textContent === '1' && \
         document.getElementById('service-level').textContent === '100.0%' && \
         document.querySelector('#events li').textContent.endsWith('Call 7 answered by operator A');",
        DESCRIBE,
        SECOND,
    );
    browser.wait_until(
        "the longest wait ticks past 1:05",
        "const t = document.getElementById('longest-wait').textContent; return t === '1:06' || t === '1:07';",
        "return document.getElementById('longest-wait').textContent;",
        SECOND,
    );
    browser.wait_until(
        "the chart draws the history",
        "return document.getElementById('chart-line').getAttribute('points').split(' ').length === 5;",
        "return document.getElementById('chart-line').getAttribute('points');",
        SECOND,
    );
    let screenshot =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wallboard-fake.png");
    browser.screenshot(&screenshot);
    assert!(
        std::fs::read(&screenshot)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );

    // The server goes away: streams cut, connections refused.
    let addr = fake.addr;
    fake.stop();
    browser.wait_until(
        "the offline banner shows",
        "return document.body.dataset.connection === 'offline' && \
         document.getElementById('offline').offsetParent !== null;",
        DESCRIBE,
        SECOND,
    );

    // It comes back on the same address with the queue emptied.
    {
        let mut shared = shared.lock().unwrap();
        shared.status = json!({"waiting": 0, "longest_wait_s": 0.0, "strategy": "linear",
            "operators": [operator("A", "wrap-up", None, 1.0), operator("B", "idle", None, 1.0)], "queue": []});
    }
    let _fake = Fake::start(shared, addr);
    browser.wait_until(
        "the banner clears and the status is fetched again",
        "return document.body.dataset.connection === 'online' && \
         document.getElementById('offline').offsetParent === null && \
         document.getElementById('waiting').textContent === '0' && \
         document.querySelector('[data-operator=\"A\"]').dataset.state === 'wrap-up';",
        DESCRIBE,
        Duration::from_secs(5),
    );
}

#[test]
fn the_wallboard_speaks_portuguese_when_served_in_pt() {
    let shared = Arc::new(Mutex::new(Shared {
        status: json!({"waiting": 1, "longest_wait_s": 4.0, "strategy": "linear",
            "operators": [operator("A", "on-call", Some("3"), 2.0),
                          json!({"id": "B", "state": "idle", "call": null, "paused": true, "reason": "almoço", "since_s": 1.0})],
            "queue": ["4"]}),
        stats: stats(3, 1, Some(62.5)),
        streams: Vec::new(),
        lang: Lang::Pt,
    }));
    let fake = Fake::start(shared, "127.0.0.1:0".parse().unwrap());
    let browser = Browser::start();
    browser.goto(&fake.url());
    browser.wait_until(
        "labels, states and decimals in Portuguese",
        "const a = document.querySelector('[data-operator=\"A\"]'); \
         const b = document.querySelector('[data-operator=\"B\"]'); \
         return document.documentElement.lang === 'pt' && document.title === 'Central de atendimento' && \
         a?.querySelector('.state').textContent === 'em atendimento' && \
         a.querySelector('.call').textContent === 'chamada 3' && \
         b?.dataset.state === 'paused' && b.querySelector('.state').textContent === 'em pausa (almoço)' && \
         document.querySelector('[data-label=\"waiting\"]').textContent === 'Aguardando' && \
         document.getElementById('service-level').textContent === '62,5%';",
        DESCRIBE,
        Duration::from_secs(10),
    );
}

/// The engine's own `status` at 20 s after: A in wrap-up, B paused in
/// wrap-up, C paused idle, D logged out, E on a call (paused, which waits
/// for its call to end), F ringing, G idle.
fn every_state() -> serde_json::Value {
    use callcenter::engine::{Config, Engine, Priority};
    let config = Config {
        wrap_up: Duration::from_secs(60),
        ..Config::default()
    };
    let mut engine =
        Engine::with_config(["A", "B", "C", "D", "E", "F", "G"], config).expect("an engine");
    let mut out = Vec::new();
    let at = Duration::from_secs;
    let normal = Priority::default();
    engine.call_at("1", normal, at(0), &mut out).unwrap();
    engine.answer_at("A", at(1), &mut out).unwrap();
    engine.call_at("2", normal, at(2), &mut out).unwrap();
    engine.answer_at("B", at(3), &mut out).unwrap();
    engine.hangup_at("1", at(4), &mut out).unwrap();
    engine.hangup_at("2", at(5), &mut out).unwrap();
    engine.pause("B", Some("coffee"), at(6), &mut out).unwrap();
    engine.pause("C", Some("lunch"), at(6), &mut out).unwrap();
    engine.logout("D", at(7), &mut out).unwrap();
    engine.call_at("3", normal, at(8), &mut out).unwrap();
    engine.answer_at("E", at(9), &mut out).unwrap();
    engine.pause("E", None, at(9), &mut out).unwrap();
    engine.call_at("4", normal, at(10), &mut out).unwrap();
    serde_json::to_value(engine.status(at(20))).expect("status as JSON")
}

#[test]
fn the_wallboard_shows_every_state_of_the_engines_own_status() {
    let status = every_state();
    // What the page is given: the real JSON, pause orthogonal to state.
    let states: Vec<String> = status["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            format!(
                "{}:{}:{}:{}",
                op["id"], op["state"], op["paused"], op["reason"]
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            r#""A":"wrap-up":false:null"#,
            r#""B":"wrap-up":true:"coffee""#,
            r#""C":"idle":true:"lunch""#,
            r#""D":"logged-out":false:null"#,
            r#""E":"on-call":true:null"#,
            r#""F":"ringing":false:null"#,
            r#""G":"idle":false:null"#,
        ]
    );
    let shared = Arc::new(Mutex::new(Shared {
        status,
        stats: stats(2, 0, Some(100.0)),
        streams: Vec::new(),
        lang: Lang::En,
    }));
    let fake = Fake::start(shared, "127.0.0.1:0".parse().unwrap());
    let browser = Browser::start();
    browser.goto(&fake.url());
    // Each tile: state attribute | state text | call text.
    browser.wait_until(
        "every tile shows its state, pause reason and call",
        "const tiles = Array.from(document.querySelectorAll('[data-operator]')).map(t => \
           t.dataset.operator + '|' + t.dataset.state + '|' + t.querySelector('.state').textContent + '|' + \
           t.querySelector('.call').textContent).join(';'); \
         return tiles === 'A|wrap-up|wrap-up|;B|paused|paused (coffee)|;C|paused|paused (lunch)|;' + \
           'D|logged-out|logged out|;E|on-call|on call|call 3;F|ringing|ringing|call 4;G|idle|idle|';",
        DESCRIBE,
        Duration::from_secs(10),
    );
    // Time in state from `since_s`: A has been in wrap-up 16 s, D out 13 s.
    browser.wait_until(
        "the times in state tick from since_s",
        "const since = id => document.querySelector('[data-operator=\"' + id + '\"] .since').textContent; \
         return ['0:16', '0:17'].includes(since('A')) && ['0:13', '0:14'].includes(since('D'));",
        "return Array.from(document.querySelectorAll('.since')).map(s => s.textContent);",
        Duration::from_secs(3),
    );
}
