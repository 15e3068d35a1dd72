//! The server's replies, byte for byte, and the seed script as the wire
//! carries it: a test compares whole lines built here.

/// The seed's script (`tests/fixtures/seed.cmds`).
pub const SEED_CMDS: &str = include_str!("../fixtures/seed.cmds");
/// The seed's English transcript (`--lang en`).
pub const SEED_EN: &str = include_str!("../fixtures/seed.en.out");
/// The seed's Portuguese transcript (the default language).
pub const SEED_PT: &str = include_str!("../fixtures/seed.pt.out");

/// The error reply to anything that is not a request.
pub const INVALID: &str = r#"{"response": "Invalid request: expected {\"command\": \"<command>\", \"id\": \"<id>\"}", "error": true}"#;

/// The error reply to a message over 64 KiB (the connection closes after it).
pub const TOO_LONG: &str = r#"{"response": "Message too long (over 65536 bytes): closing the connection", "error": true, "closing": true}"#;

/// The longest message the server accepts, in bytes (newline excluded).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// `text` as a JSON string, exactly as the server encodes it.
pub fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string encodes")
}

/// The reply line (no newline) of a command that succeeded.
pub fn ok(text: &str) -> String {
    format!("{{\"response\": {}}}", json_string(text))
}

/// The reply line of a command that failed.
pub fn error(text: &str) -> String {
    format!("{{\"response\": {}, \"error\": true}}", json_string(text))
}

/// An event line (what a ring timeout caused, sent to every client).
pub fn event(text: &str) -> String {
    format!("{{\"response\": {}, \"event\": true}}", json_string(text))
}

/// The refusal past `--max-clients`: not a reply to any command, the
/// server closes the connection after it.
pub fn server_full(max_clients: u32) -> String {
    format!(
        "{{\"response\": {}, \"error\": true, \"closing\": true}}",
        json_string(&format!(
            "Server full (limit {max_clients}): try again later"
        ))
    )
}

/// The usage error of `verb`.
pub fn usage(verb: &str) -> String {
    match verb {
        "call" => error("Usage: call <id> [priority]"),
        _ => error(&format!("Usage: {verb} <id>")),
    }
}

/// The request line (no newline) for `verb id`, as the client sends it.
pub fn request(verb: &str, id: &str) -> String {
    format!(
        "{{\"command\": {}, \"id\": {}}}",
        json_string(verb),
        json_string(id)
    )
}

/// A request line padded (with an ignored field) to exactly `len` bytes.
pub fn padded_request(verb: &str, id: &str, len: usize) -> Vec<u8> {
    let head = format!(
        "{{\"command\": {}, \"id\": {}, \"pad\": \"",
        json_string(verb),
        json_string(id)
    );
    let tail = "\"}";
    assert!(len >= head.len() + tail.len(), "{len} is too short");
    let mut line = head.into_bytes();
    line.resize(len - tail.len(), b'x');
    line.extend_from_slice(tail.as_bytes());
    assert_eq!(line.len(), len);
    line
}

/// Whether a transcript line is the first message of the seed command `verb id`.
fn starts_reply(verb: &str, id: &str, line: &str) -> bool {
    match verb {
        "call" => line == format!("Call {id} received"),
        "answer" => line.ends_with(&format!(" answered by operator {id}")),
        "reject" => line.ends_with(&format!(" rejected by operator {id}")),
        "hangup" => {
            line == format!("Call {id} missed")
                || line.starts_with(&format!("Call {id} finished and operator "))
        }
        _ => panic!("unexpected seed verb {verb:?}"),
    }
}

/// The seed's script as (request line, exact reply line) pairs, the
/// replies cut out of `seed.en.out` (each command's messages start with
/// the message naming it: *received*, *answered*, ...).
pub fn seed_steps() -> Vec<(String, String)> {
    let commands: Vec<(&str, &str)> = SEED_CMDS
        .lines()
        .map(|line| line.split_once(' ').expect("`verb id`"))
        .collect();
    let transcript: Vec<&str> = SEED_EN.lines().collect();
    let mut steps = Vec::new();
    let mut at = 0;
    for (index, (verb, id)) in commands.iter().enumerate() {
        assert!(
            starts_reply(verb, id, transcript[at]),
            "seed line {at} does not start the reply to {verb} {id}"
        );
        let mut end = at + 1;
        while end < transcript.len()
            && !commands
                .get(index + 1)
                .is_some_and(|(verb, id)| starts_reply(verb, id, transcript[end]))
        {
            end += 1;
        }
        steps.push((request(verb, id), ok(&transcript[at..end].join("\n"))));
        at = end;
    }
    assert_eq!(at, transcript.len(), "the seed transcript was not all used");
    steps
}
