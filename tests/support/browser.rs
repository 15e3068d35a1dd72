//! A headless Chromium driven over WebDriver (chromedriver): plain HTTP and
//! JSON on a `std::net::TcpStream`, no extra crates. Include it with
//! `#[path = "support/browser.rs"] mod browser;`.
//!
//! Debian's `chromium` and `chromium-driver` packages provide the binaries;
//! `.ci/run` installs them when missing. A missing browser fails the test.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium binary Debian installs.
const CHROMIUM: &str = "/usr/bin/chromium";

/// One browser session; dropping it ends the session and the driver.
pub struct Browser {
    /// The chromedriver process, killed on drop.
    driver: Child,
    /// The port chromedriver listens on (loopback).
    port: u16,
    /// The WebDriver session id.
    session: String,
    /// A fresh profile directory, removed on drop.
    profile: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium with a
    /// phone-sized window (390x844) and a throwaway profile.
    pub fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian package chromium-driver; .ci/run installs it)");
        let profile =
            std::env::temp_dir().join(format!("callcenter-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser.request("GET", "/status", None);
            if ready.is_ok_and(|status| status["value"]["ready"] == json!(true)) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let args = [
            "--headless=new".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-quic".to_string(),
            "--no-first-run".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--window-size=390,844".to_string(),
            format!("--user-data-dir={}", browser.profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                // A phone's viewport, whatever the smallest headless window is.
                "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 1.0}},
            },
        }}});
        let reply = browser
            .request("POST", "/session", Some(&capabilities))
            .expect("a WebDriver session");
        browser.session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"))
            .to_string();
        browser
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.command("POST", "url", json!({ "url": url }));
    }

    /// Runs `script` (a function body: `return ...;`) in the page and returns
    /// its result.
    pub fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "execute/sync",
            json!({ "script": script, "args": [] }),
        )
    }

    /// Evaluates `script` until it returns `true`, failing after `within`
    /// with `what` and the last value of `describe` (a script too).
    pub fn wait_until(&self, what: &str, script: &str, describe: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if self.eval(script) == json!(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not within {within:?}; the page shows {}",
                    self.eval(describe)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a PNG screenshot of the window to `path`.
    pub fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "screenshot", Value::Null);
        let bytes = decode_base64(encoded.as_str().expect("base64 PNG"));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("screenshot directory");
        }
        std::fs::write(path, bytes).expect("screenshot written");
    }

    /// A session command; panics with the driver's error.
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let full = format!("/session/{}/{path}", self.session);
        let body = (method == "POST").then_some(&body);
        let reply = self
            .request(method, &full, body)
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"));
        if reply["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    /// One HTTP/1.1 request to chromedriver, the connection closed after it.
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        // Read the head, then exactly Content-Length bytes: the driver may
        // keep the connection open whatever we ask.
        let mut reply = Vec::new();
        let mut chunk = [0u8; 8192];
        let (split, length) = loop {
            let read = stream.read(&mut chunk)?;
            if read == 0 {
                return Err(std::io::Error::other("the driver closed before replying"));
            }
            reply.extend_from_slice(&chunk[..read]);
            if let Some(split) = reply.windows(4).position(|window| window == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&reply[..split]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok())
                    .ok_or_else(|| std::io::Error::other("no Content-Length"))?;
                break (split, length);
            }
        };
        while reply.len() < split + 4 + length {
            let read = stream.read(&mut chunk)?;
            if read == 0 {
                return Err(std::io::Error::other("the driver closed mid-reply"));
            }
            reply.extend_from_slice(&chunk[..read]);
        }
        serde_json::from_slice(&reply[split + 4..split + 4 + length]).map_err(std::io::Error::other)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Decodes standard base64 (padding optional, whitespace ignored).
fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut accumulator = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        accumulator = (accumulator << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((accumulator >> bits) as u8);
        }
    }
    out
}
