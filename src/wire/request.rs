//! Requests: decoding what clients send (with a fast path for the usual
//! shape) and encoding what our client sends.

use std::borrow::Cow;

use serde::Deserialize;

use super::acd;
use super::field::Field;
use super::reply::push_json_string;
use crate::command::{CommandError, Request, Verb, shown_word};

/// A request as it arrives: other fields are ignored.
#[derive(Deserialize)]
struct RawRequest<'a> {
    #[serde(borrow, default)]
    command: Option<Field<'a>>,
    #[serde(borrow, default)]
    id: Option<Field<'a>>,
    #[serde(borrow, default)]
    priority: Option<Field<'a>>,
    #[serde(borrow, default)]
    reason: Option<Field<'a>>,
}

/// A request the server refuses before it reaches the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// A well-formed request whose command or id the parser refuses
    /// (the same errors a typed line gets).
    Command(CommandError),
    /// A message that is not a JSON object with a string `command`.
    InvalidRequest,
    /// A message longer than [`MAX_MESSAGE`](super::MAX_MESSAGE); the
    /// server closes the connection.
    MessageTooLong,
}

impl From<CommandError> for WireError {
    fn from(error: CommandError) -> WireError {
        WireError::Command(error)
    }
}

/// Decodes one request message into a queue command and its arguments.
///
/// Not JSON, not an object, duplicate keys, or no string `command`: invalid
/// request. A command other than the queue commands: unknown command.
/// A missing or invalid `id` (a string or a number is accepted), an `id`
/// given to `status` or `stats`, a `priority` that is not an integer from 0
/// to 9, or an invalid `reason`: usage.
pub fn decode_request(message: &[u8]) -> Result<Request, WireError> {
    let (command, id, extras) = match canonical_request(message) {
        Some((command, id)) => (
            Cow::Borrowed(command),
            Some(Field::Text(Cow::Borrowed(id))),
            acd::Extras::default(),
        ),
        None => parse_request(message)?,
    };
    let verb = Verb::from_wire(&command)
        .ok_or_else(|| CommandError::UnknownCommand(shown_word(command.as_bytes())))?;
    acd::build_request(verb, id, extras)
}

/// Whether [`decode_request`] refused a request because it is the
/// monitor's `subscribe`: the decoder knows only the queue commands, so
/// the server, which also takes `subscribe`, looks at the refusal instead
/// of decoding every request twice.
pub fn asks_to_subscribe(error: &WireError) -> bool {
    matches!(
        error,
        WireError::Command(CommandError::UnknownCommand(word)) if word == "subscribe"
    )
}

/// A request's `command`, its `id` if present, and its other fields.
type Parsed<'a> = (Cow<'a, str>, Option<Field<'a>>, acd::Extras<'a>);

/// The full JSON parse of a request: its `command` string and its fields.
pub(super) fn parse_request(message: &[u8]) -> Result<Parsed<'_>, WireError> {
    // serde would also read a struct from an array (`["call", "1"]`): only
    // an object is a request.
    if message.first() != Some(&b'{') {
        return Err(WireError::InvalidRequest);
    }
    let raw: RawRequest<'_> =
        serde_json::from_slice(message).map_err(|_| WireError::InvalidRequest)?;
    let Some(Field::Text(command)) = raw.command else {
        return Err(WireError::InvalidRequest);
    };
    let extras = acd::Extras {
        priority: raw.priority,
        reason: raw.reason,
    };
    Ok((command, raw.id, extras))
}

/// The fast path for the usual request, exactly as our client and Python's
/// `json.dumps` write it: `{"command": "<word>", "id": "<text>"}`, with or
/// without the blanks, and no escapes in either string. Anything else
/// (escapes, numbers, other keys, other order, other spacing) returns
/// `None` and goes through the full JSON parser, so both paths agree.
pub(super) fn canonical_request(message: &[u8]) -> Option<(&str, &str)> {
    fn literal<'a>(text: &'a [u8], expected: &[u8]) -> Option<&'a [u8]> {
        let text = text.strip_prefix(expected)?;
        Some(text.strip_prefix(b" ").unwrap_or(text))
    }
    fn string(text: &[u8]) -> Option<(&str, &[u8])> {
        let text = text.strip_prefix(b"\"")?;
        let end = text.iter().position(|&byte| byte == b'"')?;
        let (content, rest) = text.split_at(end);
        if content.iter().any(|&byte| byte == b'\\' || byte < 0x20) {
            return None;
        }
        Some((std::str::from_utf8(content).ok()?, &rest[1..]))
    }
    let rest = literal(message, b"{\"command\":")?;
    let (command, rest) = string(rest)?;
    let rest = literal(rest, b",")?;
    let rest = literal(rest, b"\"id\":")?;
    let (id, rest) = string(rest)?;
    (rest == b"}").then_some((command, id))
}

/// Appends the request line for a queue command: `{"command": "call", "id": "1"}\n`.
pub fn encode_request(out: &mut Vec<u8>, verb: Verb, id: &str) {
    out.extend_from_slice(b"{\"command\": \"");
    out.extend_from_slice(verb.word().as_bytes());
    out.extend_from_slice(b"\", \"id\": ");
    push_json_string(out, id);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::super::reply::{Reply, ReplyKind, decode_reply, encode_reply};
    use super::*;

    #[test]
    fn requests_decode_with_string_or_number_ids_and_extra_fields() {
        let ok = |text: &str| decode_request(text.as_bytes());
        assert_eq!(
            ok(r#"{"command": "call", "id": "1"}"#),
            Ok(Request::new(Verb::Call, "1"))
        );
        assert_eq!(
            ok(r#"{"command": "answer", "id": "A", "x": [1]}"#),
            Ok(Request::new(Verb::Answer, "A"))
        );
        assert_eq!(
            ok(r#"{"id": 7, "command": "hangup"}"#),
            Ok(Request::new(Verb::Hangup, "7"))
        );
        assert_eq!(
            ok(r#"{"command": "reject", "id": "\u00c9"}"#),
            Ok(Request::new(Verb::Reject, "É"))
        );
        assert_eq!(
            ok(r#"{"command": "call", "id": -2}"#),
            Ok(Request::new(Verb::Call, "-2"))
        );
    }

    #[test]
    fn bad_requests_get_the_matching_error() {
        let bad = |text: &str| decode_request(text.as_bytes()).unwrap_err();
        for text in [
            "not json",
            "[1, 2]",
            r#"["call", "1"]"#,
            "42",
            "{}",
            r#"{"command": 1, "id": "1"}"#,
            r#"{"command": "call", "command": "call", "id": "1"}"#,
            r#"{"command": "call", "id": "1""#,
        ] {
            assert_eq!(bad(text), WireError::InvalidRequest, "{text}");
        }
        assert_eq!(
            bad(r#"{"command": "dance", "id": "1"}"#),
            WireError::Command(CommandError::UnknownCommand("dance".into()))
        );
        assert_eq!(
            bad(r#"{"command": "help", "id": "1"}"#),
            WireError::Command(CommandError::UnknownCommand("help".into()))
        );
        for text in [
            r#"{"command": "call"}"#,
            r#"{"command": "call", "id": ""}"#,
            r#"{"command": "call", "id": "a b"}"#,
            r#"{"command": "call", "id": null}"#,
            r#"{"command": "call", "id": true}"#,
            r#"{"command": "call", "id": {"x": 1}}"#,
            r#"{"command": "call", "id": [1]}"#,
            r#"{"command": "call", "id": 1.5}"#,
            r#"{"command": "call", "id": 1e3}"#,
            r#"{"command": "call", "id": 123456789012345678901234567890}"#,
        ] {
            assert_eq!(
                bad(text),
                WireError::Command(CommandError::Usage(Verb::Call)),
                "{text}"
            );
        }
        let long = format!(r#"{{"command": "call", "id": "{}"}}"#, "x".repeat(65));
        assert_eq!(
            bad(&long),
            WireError::Command(CommandError::Usage(Verb::Call))
        );
    }

    #[test]
    fn replies_and_requests_round_trip() {
        let mut out = Vec::new();
        encode_reply(
            &mut out,
            "Call 1 received\nCall 1 \"ringing\"",
            ReplyKind::Ok,
        );
        encode_reply(&mut out, "Call 9 not found", ReplyKind::Error);
        encode_reply(&mut out, "Call 1 ignored by operator A", ReplyKind::Event);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "{\"response\": \"Call 1 received\\nCall 1 \\\"ringing\\\"\"}\n\
             {\"response\": \"Call 9 not found\", \"error\": true}\n\
             {\"response\": \"Call 1 ignored by operator A\", \"event\": true}\n"
        );
        let replies: Vec<Reply> = out
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| decode_reply(line).unwrap())
            .collect();
        assert_eq!(replies[0].response, "Call 1 received\nCall 1 \"ringing\"");
        assert!(!replies[0].error && !replies[0].event);
        assert!(replies[1].error && replies[2].event);
        let mut request = Vec::new();
        encode_request(&mut request, Verb::Hangup, "a\"b");
        assert_eq!(request, b"{\"command\": \"hangup\", \"id\": \"a\\\"b\"}\n");
        assert_eq!(
            decode_request(&request[..request.len() - 1]),
            Ok(Request::new(Verb::Hangup, "a\"b"))
        );
        assert_eq!(canonical_request(&request[..request.len() - 1]), None);
        let mut plain = Vec::new();
        encode_request(&mut plain, Verb::Call, "b7-1");
        assert_eq!(
            canonical_request(&plain[..plain.len() - 1]),
            Some(("call", "b7-1"))
        );
    }

    #[test]
    fn subscribe_is_recognised_in_every_spelling_and_nothing_else_is() {
        let is_subscribe_request =
            |message: &[u8]| decode_request(message).is_err_and(|error| asks_to_subscribe(&error));
        for yes in [
            r#"{"command": "subscribe"}"#,
            r#"{"command":"subscribe","id":"x"}"#,
            r#"{"id": 1, "command": "subscribe"}"#,
            r#"{"command": "subscrib\u0065"}"#,
        ] {
            assert!(is_subscribe_request(yes.as_bytes()), "{yes}");
        }
        for no in [
            r#"{"command": "call", "id": "1"}"#,
            r#"{"command": "call", "id": "subscribe"}"#,
            r#"{"command": "call", "id": "a\u0062"}"#,
            r#"{"command": "subscribed"}"#,
            "subscribe",
            "",
        ] {
            assert!(!is_subscribe_request(no.as_bytes()), "{no}");
        }
    }
}
