//! The ACD's requests and replies on the wire (SPEC §9.7): a call's
//! priority, a pause's reason, `status` and `stats` without an id, and the
//! replies that carry their facts as JSON beside the text.

use std::borrow::Cow;

use super::{Field, WireError, push_json_string};
use crate::command::{CommandError, Request, Verb, is_valid_id, is_valid_reason};
use crate::engine::Priority;
use crate::queue_service::Report;

/// The optional fields of a request besides `command` and `id`.
#[derive(Default)]
pub(super) struct Extras<'a> {
    /// `priority` (`call` only; ignored on the others, as any extra field).
    pub(super) priority: Option<Field<'a>>,
    /// `reason` (`pause` only).
    pub(super) reason: Option<Field<'a>>,
}

/// Checks a decoded request's arguments as the command line checks a
/// typed one, with the same usage errors.
pub(super) fn build_request(
    verb: Verb,
    id: Option<Field<'_>>,
    extras: Extras<'_>,
) -> Result<Request, WireError> {
    let usage = || WireError::Command(CommandError::Usage(verb));
    if !verb.takes_id() {
        // `status` and `stats` take no argument, typed or sent.
        return match id {
            None => Ok(Request::new(verb, "")),
            Some(_) => Err(usage()),
        };
    }
    let id = match id {
        Some(Field::Text(id)) => id,
        Some(Field::Number(id)) => Cow::Owned(id),
        Some(Field::Other) | None => return Err(usage()),
    };
    if !is_valid_id(&id) {
        return Err(usage());
    }
    let mut request = Request::new(verb, id.into_owned());
    match (verb, extras.priority, extras.reason) {
        (Verb::Call, Some(priority), _) => {
            request.priority = match priority {
                Field::Number(number) => number.parse::<u8>().ok().and_then(Priority::new),
                Field::Text(_) | Field::Other => None,
            }
            .ok_or_else(usage)?;
        }
        (Verb::Pause, _, Some(reason)) => match reason {
            Field::Text(reason) if is_valid_reason(&reason) => {
                request.reason = Some(reason.into_owned());
            }
            _ => return Err(usage()),
        },
        _ => {}
    }
    Ok(request)
}

/// Appends the request line for any queue command: `{"command": "call",
/// "id": "1"}`, with `"priority"` when it is not 0, `"reason"` when given,
/// and no `id` for `status` and `stats`. A plain command is written exactly
/// as [`encode_request`](super::encode_request) writes it.
pub fn encode_command(out: &mut Vec<u8>, request: &Request) {
    if request.verb.takes_id() && request.priority.get() == 0 && request.reason.is_none() {
        super::encode_request(out, request.verb, &request.id);
        return;
    }
    out.extend_from_slice(b"{\"command\": \"");
    out.extend_from_slice(request.verb.word().as_bytes());
    out.push(b'"');
    if request.verb.takes_id() {
        out.extend_from_slice(b", \"id\": ");
        push_json_string(out, &request.id);
    }
    if request.priority.get() != 0 {
        out.extend_from_slice(format!(", \"priority\": {}", request.priority.get()).as_bytes());
    }
    if let Some(reason) = &request.reason {
        out.extend_from_slice(b", \"reason\": ");
        push_json_string(out, reason);
    }
    out.extend_from_slice(b"}\n");
}

/// Appends the reply to `status` or `stats`: the text in `response` and the
/// same facts beside it (`"status": {...}` or `"stats": {...}`). `text` is
/// the report's lines joined by `\n`, without a final newline.
pub fn encode_report_reply(out: &mut Vec<u8>, text: &str, report: &Report) {
    out.extend_from_slice(b"{\"response\": ");
    push_json_string(out, text);
    let written = match report {
        Report::Status(status) => {
            out.extend_from_slice(b", \"status\": ");
            serde_json::to_writer(&mut *out, status)
        }
        Report::Stats(stats) => {
            out.extend_from_slice(b", \"stats\": ");
            serde_json::to_writer(&mut *out, stats)
        }
    };
    if written.is_err() {
        // Plain data always serializes; should it not, the reply stays JSON.
        out.extend_from_slice(b"null");
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::super::{WireError, decode_request};
    use super::*;

    #[test]
    fn acd_requests_decode_with_their_optional_fields() {
        let decode = |text: &str| decode_request(text.as_bytes());
        let mut call = Request::new(Verb::Call, "1");
        call.priority = crate::engine::Priority::new(5).unwrap();
        assert_eq!(
            decode(r#"{"command": "call", "id": "1", "priority": 5}"#),
            Ok(call)
        );
        assert_eq!(
            decode(r#"{"command": "call", "id": "1", "priority": null}"#),
            Ok(Request::new(Verb::Call, "1"))
        );
        let mut pause = Request::new(Verb::Pause, "A");
        pause.reason = Some("lunch".into());
        assert_eq!(
            decode(r#"{"command": "pause", "id": "A", "reason": "lunch"}"#),
            Ok(pause)
        );
        for (verb, word) in [
            (Verb::Unpause, "unpause"),
            (Verb::Login, "login"),
            (Verb::Logout, "logout"),
        ] {
            let text = format!(r#"{{"command": "{word}", "id": "A"}}"#);
            assert_eq!(decode(&text), Ok(Request::new(verb, "A")));
        }
        assert_eq!(
            decode(r#"{"command": "status"}"#),
            Ok(Request::new(Verb::Status, ""))
        );
        assert_eq!(
            decode(r#"{"command": "stats", "priority": 3}"#),
            Ok(Request::new(Verb::Stats, ""))
        );
        let usage = |verb| Err(WireError::Command(CommandError::Usage(verb)));
        for (text, verb) in [
            (
                r#"{"command": "call", "id": "1", "priority": 10}"#,
                Verb::Call,
            ),
            (
                r#"{"command": "call", "id": "1", "priority": -1}"#,
                Verb::Call,
            ),
            (
                r#"{"command": "call", "id": "1", "priority": "5"}"#,
                Verb::Call,
            ),
            (
                r#"{"command": "call", "id": "1", "priority": 5.5}"#,
                Verb::Call,
            ),
            (
                r#"{"command": "pause", "id": "A", "reason": "a b"}"#,
                Verb::Pause,
            ),
            (
                r#"{"command": "pause", "id": "A", "reason": 7}"#,
                Verb::Pause,
            ),
            (
                r#"{"command": "pause", "id": "A", "reason": ""}"#,
                Verb::Pause,
            ),
            (r#"{"command": "login"}"#, Verb::Login),
            (r#"{"command": "status", "id": "x"}"#, Verb::Status),
            (r#"{"command": "stats", "id": 1}"#, Verb::Stats),
        ] {
            assert_eq!(decode(text), usage(verb), "{text}");
        }
        let unknown = |w: &str| Err(WireError::Command(CommandError::UnknownCommand(w.into())));
        assert_eq!(decode(r#"{"command": "estado"}"#), unknown("estado"));
        assert_eq!(decode(r#"{"command": "help"}"#), unknown("help"));
    }

    #[test]
    fn acd_requests_encode_and_decode_back() {
        let mut call = Request::new(Verb::Call, "1");
        let mut out = Vec::new();
        encode_command(&mut out, &call);
        assert_eq!(out, b"{\"command\": \"call\", \"id\": \"1\"}\n");
        call.priority = crate::engine::Priority::new(7).unwrap();
        let mut pause = Request::new(Verb::Pause, "A");
        pause.reason = Some("caf\u{e9}\"".into());
        let cases = [
            (call, r#"{"command": "call", "id": "1", "priority": 7}"#),
            (
                pause,
                r#"{"command": "pause", "id": "A", "reason": "café\""}"#,
            ),
            (Request::new(Verb::Status, ""), r#"{"command": "status"}"#),
            (Request::new(Verb::Stats, ""), r#"{"command": "stats"}"#),
        ];
        for (request, line) in cases {
            out.clear();
            encode_command(&mut out, &request);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), format!("{line}\n"));
            assert_eq!(decode_request(line.as_bytes()), Ok(request));
        }
    }
}
