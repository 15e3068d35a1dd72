//! The server side of HTTP/1.1, sans-I/O: bytes in, requests out; responses
//! out as bytes. The Rust twin of the request half of `twisted.web.http`
//! (`HTTPChannel` parsing heads, `Request` writing a response), with the
//! parsing itself done by `httparse`, never by hand.
//!
//! What this server accepts (SPEC §10.3), and why:
//! - request heads up to [`MAX_HEAD`] bytes (`431` above, then close): the
//!   head is held in memory until complete, so it must be bounded;
//! - no request bodies: the server is read-only. A request that announces one
//!   (`Content-Length` above 0 or any `Transfer-Encoding`) gets `413` when its
//!   method is `GET`/`HEAD` and `405` otherwise, and the connection closes,
//!   because the body is never read and its bytes would be taken for the next
//!   request;
//! - anything `httparse` rejects, or a bad `Content-Length`: `400`, then close;
//! - methods other than `GET` and `HEAD`: `405` with `Allow: GET, HEAD` on any
//!   path (nothing here is writable), keep-alive kept when there is no body.

use std::fmt::Write as _;

/// The largest request head (request line plus headers plus the blank line)
/// accepted, in bytes; a longer one is answered `431` and the connection closes.
pub const MAX_HEAD: usize = 8 * 1024;

/// How many header lines a head may carry; more is treated as a head too large.
pub const MAX_HEADERS: usize = 64;

/// A request's method, as far as routing cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: the same response as `GET` without its body.
    Head,
    /// Any other method (answered `405`); the name is kept for logs.
    Other(String),
}

/// One complete request head, ready to route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The path without its query string (`/status?x=1` gives `/status`).
    pub path: String,
    /// Whether the connection stays open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// Whether the request announced a body; such a request is answered with
    /// an error and the connection closes (see the module doc).
    pub has_body: bool,
}

impl Request {
    /// Whether the response carries no body (`HEAD`).
    pub fn head_only(&self) -> bool {
        self.method == Method::Head
    }
}

/// Why the bytes cannot be a request; the connection is answered with
/// [`HttpError::status`] and then closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// Not HTTP/1.x, or a bad `Content-Length`: `400 Bad Request`.
    Malformed,
    /// The head passed [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines:
    /// `431 Request Header Fields Too Large`.
    HeadTooLarge,
}

impl HttpError {
    /// The status this error is answered with.
    pub fn status(self) -> Status {
        match self {
            HttpError::Malformed => Status::BadRequest,
            HttpError::HeadTooLarge => Status::HeadTooLarge,
        }
    }
}

/// Turns a stream of bytes, arriving in any chunks, into requests: the twin
/// of `twisted.web.http.HTTPChannel`'s line and header parsing. Feed bytes
/// with [`RequestParser::feed`], then call [`RequestParser::next_request`]
/// until it returns `None` (incomplete, an expected state, not an error).
/// After an error it yields nothing more: the caller answers and closes.
#[derive(Debug, Default)]
pub struct RequestParser {
    /// Bytes received and not yet consumed as a request: at most one partial
    /// head (bounded by [`MAX_HEAD`]) plus whatever pipelined requests the
    /// caller has not drained yet.
    buffer: Vec<u8>,
    /// Set once an error was returned: the stream cannot be resynchronised.
    failed: bool,
}

impl RequestParser {
    /// A parser with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes as they came off the socket (any chunking).
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// The next complete request, an error, or `None` when more bytes are
    /// needed (or after an error was returned).
    pub fn next_request(&mut self) -> Option<Result<Request, HttpError>> {
        if self.failed {
            return None;
        }
        let result = self.parse_one();
        if let Some(Err(_)) = result {
            self.failed = true;
            self.buffer = Vec::new();
        }
        result
    }

    /// Parses the head at the start of the buffer and consumes it.
    fn parse_one(&mut self) -> Option<Result<Request, HttpError>> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let head_len = match parsed.parse(&self.buffer) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                if self.buffer.len() > MAX_HEAD {
                    return Some(Err(HttpError::HeadTooLarge));
                }
                return None;
            }
            Err(httparse::Error::TooManyHeaders) => return Some(Err(HttpError::HeadTooLarge)),
            Err(_) => return Some(Err(HttpError::Malformed)),
        };
        if head_len > MAX_HEAD {
            return Some(Err(HttpError::HeadTooLarge));
        }
        let request = build_request(&parsed);
        self.buffer.drain(..head_len);
        Some(request)
    }
}

/// The request's facts from a complete `httparse` head.
fn build_request(parsed: &httparse::Request<'_, '_>) -> Result<Request, HttpError> {
    let method = match parsed.method.unwrap_or("") {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        other => Method::Other(other.to_string()),
    };
    let target = parsed.path.unwrap_or("");
    let path = target.split(['?', '#']).next().unwrap_or("").to_string();
    let http_11 = parsed.version == Some(1);
    let mut close = false;
    let mut keep_alive_token = false;
    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    for header in parsed.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("connection") {
            let value = std::str::from_utf8(header.value).map_err(|_| HttpError::Malformed)?;
            for token in value.split(',').map(str::trim) {
                close |= token.eq_ignore_ascii_case("close");
                keep_alive_token |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let value = std::str::from_utf8(header.value).map_err(|_| HttpError::Malformed)?;
            let length: u64 = value.trim().parse().map_err(|_| HttpError::Malformed)?;
            // Two different lengths are a smuggling attempt, not a request.
            if content_length.is_some_and(|seen| seen != length) {
                return Err(HttpError::Malformed);
            }
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
    }
    let keep_alive = if http_11 {
        !close
    } else {
        keep_alive_token && !close
    };
    Ok(Request {
        method,
        path,
        keep_alive,
        has_body: chunked || content_length.unwrap_or(0) > 0,
    })
}

/// The statuses this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// `200 OK`.
    Ok,
    /// `400 Bad Request`: malformed head.
    BadRequest,
    /// `404 Not Found`: a path not in the route table.
    NotFound,
    /// `405 Method Not Allowed`: anything but `GET` and `HEAD`.
    MethodNotAllowed,
    /// `413 Content Too Large`: a `GET`/`HEAD` that carries a body.
    ContentTooLarge,
    /// `431 Request Header Fields Too Large`: head above [`MAX_HEAD`].
    HeadTooLarge,
    /// `503 Service Unavailable`: a connection past `--max-clients`.
    ServiceUnavailable,
}

impl Status {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::ContentTooLarge => 413,
            Status::HeadTooLarge => 431,
            Status::ServiceUnavailable => 503,
        }
    }

    /// The reason phrase of the status line.
    pub fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::ContentTooLarge => "Content Too Large",
            Status::HeadTooLarge => "Request Header Fields Too Large",
            Status::ServiceUnavailable => "Service Unavailable",
        }
    }
}

/// Where a request goes (SPEC §10.3): the twin of `twisted.web.resource`'s
/// `getChildWithDefault` lookup, as a plain value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/`: the wallboard page (`text/html`).
    Wallboard,
    /// `/status`: the §9.7 `status` object (`application/json`).
    Status,
    /// `/stats`: the §9.7 `stats` object (`application/json`).
    Stats,
    /// `/metrics`: Prometheus text format 0.0.4.
    Metrics,
    /// `/history`: calls waiting over the last 10 minutes, for the chart
    /// (`application/json`, see [`crate::web::history`]).
    History,
    /// `/events`: the event stream (`text/event-stream`).
    Events,
    /// Any other path: `404`.
    NotFound,
    /// Any method but `GET`/`HEAD`, on any path: `405`.
    MethodNotAllowed,
}

/// Routes a method and path (no query string) to what answers it.
pub fn route(method: &Method, path: &str) -> Route {
    if let Method::Other(_) = method {
        return Route::MethodNotAllowed;
    }
    match path {
        "/" => Route::Wallboard,
        "/status" => Route::Status,
        "/stats" => Route::Stats,
        "/metrics" => Route::Metrics,
        "/history" => Route::History,
        "/events" => Route::Events,
        _ => Route::NotFound,
    }
}

/// `Content-Type` of the wallboard page.
pub const CONTENT_TYPE_HTML: &str = "text/html; charset=utf-8";
/// `Content-Type` of `/status`, `/stats` and `/history`.
pub const CONTENT_TYPE_JSON: &str = "application/json";
/// `Content-Type` of `/metrics` (the exposition format's own).
pub const CONTENT_TYPE_METRICS: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of error bodies.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; charset=utf-8";

/// Appends a whole response: status line, `Content-Type`, `Content-Length`,
/// `Connection`, `Cache-Control: no-store` (the data is live), `Allow` on a
/// `405`, then the body unless `head_only` (a `HEAD` gets the same headers,
/// `Content-Length` included, and no body).
pub fn write_response(
    out: &mut Vec<u8>,
    status: Status,
    content_type: &str,
    body: &[u8],
    head_only: bool,
    keep_alive: bool,
) {
    let mut head = String::with_capacity(160);
    let _ = write!(
        head,
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: {}\r\nCache-Control: no-store\r\n",
        status.code(),
        status.reason(),
        content_type,
        body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    if status == Status::MethodNotAllowed {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    out.extend_from_slice(head.as_bytes());
    if !head_only {
        out.extend_from_slice(body);
    }
}

/// Appends an error response whose body is the status as text
/// (`404 Not Found\n`).
pub fn write_error(out: &mut Vec<u8>, status: Status, head_only: bool, keep_alive: bool) {
    let body = format!("{} {}\n", status.code(), status.reason());
    write_response(
        out,
        status,
        CONTENT_TYPE_TEXT,
        body.as_bytes(),
        head_only,
        keep_alive,
    );
}

/// The answer to a request that never reaches a resource, or `None` when
/// the route must be served. Decides the `405`/`413` of a request with a
/// body (then close), `404`, and a `405` without a body (keep-alive kept).
/// Returns whether the connection stays open.
pub fn write_refusal(out: &mut Vec<u8>, request: &Request, route: Route) -> Option<bool> {
    let head_only = request.head_only();
    let status = match (route, request.has_body) {
        (Route::MethodNotAllowed, _) => Status::MethodNotAllowed,
        (_, true) => Status::ContentTooLarge,
        (Route::NotFound, false) => Status::NotFound,
        _ => return None,
    };
    let keep_alive = request.keep_alive && !request.has_body;
    write_error(out, status, head_only, keep_alive);
    Some(keep_alive)
}

/// Appends the head of an event stream: `200`, `text/event-stream`, no
/// `Content-Length` (the body runs until the connection closes, so
/// `Connection: close`), `Cache-Control: no-store`. `Request.write`
/// streaming in `twisted.web`, with each event sent by [`write_sse_event`].
pub fn write_sse_head(out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
          Connection: close\r\nCache-Control: no-store\r\n\r\n",
    );
}

/// Appends one server-sent event whose data is `text`: a `data:` line per
/// line of text (CR, LF and CRLF all end a line, as the SSE grammar says, so
/// a stray CR cannot forge a field), then the blank line that dispatches it.
pub fn write_sse_event(out: &mut Vec<u8>, text: &str) {
    let mut rest = text;
    loop {
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&rest.as_bytes()[..end]);
        out.push(b'\n');
        if end == rest.len() {
            break;
        }
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        rest = &rest[end + skip..];
    }
    out.push(b'\n');
}

/// Appends a `retry:` hint: how many milliseconds the browser waits before
/// reconnecting after the stream breaks.
pub fn write_sse_retry(out: &mut Vec<u8>, millis: u64) {
    let _ = writeln!(StringSink(out), "retry: {millis}\n");
}

/// Appends a comment line that keeps idle proxies and the browser from
/// timing the stream out; `EventSource` ignores it.
pub fn write_sse_ping(out: &mut Vec<u8>) {
    out.extend_from_slice(b": ping\n\n");
}

/// Lets `write!` append to a byte buffer.
struct StringSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for StringSink<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
