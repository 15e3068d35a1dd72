//! Byte-level tests of the HTTP parser, router and encoders.

use super::*;

fn get(path: &str, keep_alive: bool) -> Request {
    Request {
        method: Method::Get,
        path: path.to_string(),
        keep_alive,
        has_body: false,
    }
}

fn drain(parser: &mut RequestParser) -> Vec<Result<Request, HttpError>> {
    std::iter::from_fn(|| parser.next_request()).collect()
}

#[test]
fn pipelined_requests_in_one_chunk_come_out_in_order() {
    let mut parser = RequestParser::new();
    parser.feed(
        b"GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET /stats?x=1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nConnection: close\r\n\r\nGET /met",
    );
    let requests = drain(&mut parser);
    assert_eq!(
        requests,
        vec![
            Ok(get("/status", true)),
            Ok(get("/stats", true)),
            Ok(Request {
                method: Method::Head,
                path: "/".to_string(),
                keep_alive: false,
                has_body: false
            }),
        ]
    );
    parser.feed(b"rics HTTP/1.0\r\n\r\n");
    assert_eq!(drain(&mut parser), vec![Ok(get("/metrics", false))]);
}

#[test]
fn one_byte_chunks_give_the_same_requests() {
    let bytes = b"GET /events HTTP/1.1\r\nConnection: Keep-Alive, Upgrade\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    let mut parser = RequestParser::new();
    let mut requests = Vec::new();
    for byte in bytes {
        parser.feed(std::slice::from_ref(byte));
        requests.extend(drain(&mut parser));
    }
    assert_eq!(requests, vec![Ok(get("/events", true)), Ok(get("/", true))]);
}

#[test]
fn a_head_over_8_kib_is_431_even_before_it_ends() {
    let mut parser = RequestParser::new();
    parser.feed(b"GET / HTTP/1.1\r\nX-Long: ");
    parser.feed(&vec![b'a'; MAX_HEAD]);
    assert_eq!(drain(&mut parser), vec![Err(HttpError::HeadTooLarge)]);
    parser.feed(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    assert_eq!(drain(&mut parser), vec![], "nothing after an error");

    let mut complete = b"GET / HTTP/1.1\r\nX-Long: ".to_vec();
    complete.extend(vec![b'a'; MAX_HEAD]);
    complete.extend(b"\r\n\r\n");
    let mut parser = RequestParser::new();
    parser.feed(&complete);
    assert_eq!(drain(&mut parser), vec![Err(HttpError::HeadTooLarge)]);
    assert_eq!(HttpError::HeadTooLarge.status().code(), 431);
}

#[test]
fn a_head_just_under_the_limit_is_accepted() {
    let prefix = b"GET / HTTP/1.1\r\nX-Long: ";
    let filler = MAX_HEAD - prefix.len() - 4;
    let mut bytes = prefix.to_vec();
    bytes.extend(vec![b'a'; filler]);
    bytes.extend(b"\r\n\r\n");
    assert_eq!(bytes.len(), MAX_HEAD);
    let mut parser = RequestParser::new();
    parser.feed(&bytes);
    assert_eq!(drain(&mut parser), vec![Ok(get("/", true))]);
}

#[test]
fn too_many_headers_is_431() {
    let mut bytes = b"GET / HTTP/1.1\r\n".to_vec();
    for n in 0..=MAX_HEADERS {
        bytes.extend(format!("X-{n}: 1\r\n").as_bytes());
    }
    bytes.extend(b"\r\n");
    let mut parser = RequestParser::new();
    parser.feed(&bytes);
    assert_eq!(drain(&mut parser), vec![Err(HttpError::HeadTooLarge)]);
}

#[test]
fn bad_bytes_are_400_and_stop_the_parser() {
    for bad in [
        &b"\x00\x01\x02 garbage\r\n\r\n"[..],
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: ten\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"{\"command\": \"status\"}\n",
    ] {
        let mut parser = RequestParser::new();
        parser.feed(bad);
        assert_eq!(
            drain(&mut parser),
            vec![Err(HttpError::Malformed)],
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(HttpError::Malformed.status().code(), 400);
}

#[test]
fn routes_follow_the_table() {
    let get = Method::Get;
    assert_eq!(route(&get, "/"), Route::Wallboard);
    assert_eq!(route(&get, "/status"), Route::Status);
    assert_eq!(route(&get, "/stats"), Route::Stats);
    assert_eq!(route(&get, "/metrics"), Route::Metrics);
    assert_eq!(route(&get, "/history"), Route::History);
    assert_eq!(route(&get, "/events"), Route::Events);
    assert_eq!(route(&Method::Head, "/status"), Route::Status);
    assert_eq!(route(&get, "/status/"), Route::NotFound);
    assert_eq!(route(&get, "/nope"), Route::NotFound);
    let post = Method::Other("POST".to_string());
    assert_eq!(route(&post, "/status"), Route::MethodNotAllowed);
    assert_eq!(route(&post, "/nope"), Route::MethodNotAllowed);
}

#[test]
fn a_get_response_has_every_header_and_the_body() {
    let mut out = Vec::new();
    write_response(&mut out, Status::Ok, CONTENT_TYPE_JSON, b"{}", false, true);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
         Connection: keep-alive\r\nCache-Control: no-store\r\n\r\n{}"
    );
}

#[test]
fn head_gets_the_same_headers_and_no_body() {
    let mut out = Vec::new();
    write_response(
        &mut out,
        Status::Ok,
        CONTENT_TYPE_HTML,
        b"<html>",
        true,
        false,
    );
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 6\r\n\
         Connection: close\r\nCache-Control: no-store\r\n\r\n"
    );
}

#[test]
fn unknown_paths_are_404_and_keep_the_connection() {
    let request = get("/nope", true);
    let mut out = Vec::new();
    let keep = write_refusal(&mut out, &request, route(&request.method, &request.path));
    assert_eq!(keep, Some(true));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\
         Connection: keep-alive\r\nCache-Control: no-store\r\n\r\n404 Not Found\n"
    );
}

#[test]
fn other_methods_are_405_with_allow() {
    let mut parser = RequestParser::new();
    parser.feed(b"DELETE /status HTTP/1.1\r\n\r\n");
    let request = parser.next_request().unwrap().unwrap();
    let mut out = Vec::new();
    let keep = write_refusal(&mut out, &request, route(&request.method, &request.path));
    assert_eq!(keep, Some(true));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: 23\r\nConnection: keep-alive\r\nCache-Control: no-store\r\n\
         Allow: GET, HEAD\r\n\r\n405 Method Not Allowed\n"
    );
}

#[test]
fn bodies_are_refused_and_close_the_connection() {
    let mut parser = RequestParser::new();
    parser.feed(b"POST /status HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    let request = parser.next_request().unwrap().unwrap();
    assert!(request.has_body);
    let mut out = Vec::new();
    assert_eq!(
        write_refusal(&mut out, &request, Route::MethodNotAllowed),
        Some(false)
    );
    assert!(out.starts_with(b"HTTP/1.1 405 Method Not Allowed\r\n"));

    let mut parser = RequestParser::new();
    parser
        .feed(b"GET /status HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let request = parser.next_request().unwrap().unwrap();
    let mut out = Vec::new();
    assert_eq!(
        write_refusal(&mut out, &request, Route::Status),
        Some(false)
    );
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 413 Content Too Large\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");

    let mut parser = RequestParser::new();
    parser.feed(b"GET /status HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    let request = parser.next_request().unwrap().unwrap();
    assert_eq!(
        write_refusal(&mut Vec::new(), &request, Route::Status),
        None
    );
}

#[test]
fn sse_events_split_every_kind_of_line_end() {
    let mut out = Vec::new();
    write_sse_head(&mut out);
    write_sse_retry(&mut out, 1000);
    write_sse_event(&mut out, "Call 1 received");
    write_sse_event(&mut out, "a\nb\r\nc\rd");
    write_sse_event(&mut out, "");
    write_sse_ping(&mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\
         Connection: close\r\nCache-Control: no-store\r\n\r\n\
         retry: 1000\n\n\
         data: Call 1 received\n\n\
         data: a\ndata: b\ndata: c\ndata: d\n\n\
         data: \n\n\
         : ping\n\n"
    );
}
