//! Replies: encoding what the server sends (JSON strings escaped a run
//! of plain characters at a time) and decoding what the client reads.

use std::borrow::Cow;

use serde::Deserialize;

use super::byte_set;

/// Which kind of reply a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// The reply to a command that succeeded.
    Ok,
    /// The reply to a command that failed (`"error": true`).
    Error,
    /// Messages no command of this connection caused (`"event": true`).
    Event,
    /// An error after which the server closes the connection
    /// (`"error": true, "closing": true`): a message too long (the reply to
    /// it), or a refusal when the server is full (a reply to nothing).
    Closing,
}

/// Appends one reply line: `{"response": "<text>"}` plus the kind's flag.
/// `text` is the messages joined by `\n`, without a final newline.
pub fn encode_reply(out: &mut Vec<u8>, text: &str, kind: ReplyKind) {
    out.extend_from_slice(b"{\"response\": ");
    push_json_string(out, text);
    out.extend_from_slice(match kind {
        ReplyKind::Ok => b"}\n".as_slice(),
        ReplyKind::Error => b", \"error\": true}\n",
        ReplyKind::Event => b", \"event\": true}\n",
        ReplyKind::Closing => b", \"error\": true, \"closing\": true}\n",
    });
}

/// Bytes a JSON string must escape.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut set = byte_set(b"\"\\");
    let mut byte = 0;
    while byte < 0x20 {
        set[byte] = true;
        byte += 1;
    }
    set
};

/// Appends `text` as a JSON string. Runs of plain characters are found
/// eight bytes at a time and copied in one step; only quotes, backslashes
/// and control characters are escaped.
pub(super) fn push_json_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = text.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    loop {
        let plain = find_special(rest, &NEEDS_ESCAPE, |w| {
            has_below(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\')
        });
        out.extend_from_slice(&rest[..plain]);
        let Some(&byte) = rest.get(plain) else {
            break;
        };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(byte >> 4) as usize],
                HEX[(byte & 0xf) as usize],
            ]),
        }
        rest = &rest[plain + 1..];
    }
    out.push(b'"');
}

// Eight bytes at a time ("SWAR"): whether a word holds a given byte, or a
// byte below a bound, with a few integer operations instead of eight
// comparisons. Exact for "any byte in the word", which is all we ask.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

fn has_below(word: u64, bound: u8) -> bool {
    word.wrapping_sub(ONES * bound as u64) & !word & HIGHS != 0
}

fn has_byte(word: u64, byte: u8) -> bool {
    has_below(word ^ (ONES * byte as u64), 1)
}

/// The index of the first byte of `data` in `set`, or `data.len()`;
/// `word_has_any` tells whether a little-endian word may hold one.
fn find_special(data: &[u8], set: &[bool; 256], word_has_any: impl Fn(u64) -> bool) -> usize {
    let mut from = 0;
    for chunk in data.chunks_exact(8) {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(chunk);
        if word_has_any(u64::from_le_bytes(bytes)) {
            break;
        }
        from += 8;
    }
    data[from..]
        .iter()
        .position(|&byte| set[byte as usize])
        .map_or(data.len(), |offset| from + offset)
}

/// A reply as the client reads it. The text borrows from the message
/// when it has no escapes (a one-line reply), so reading costs no copy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reply<'a> {
    /// The messages, joined by `\n`.
    #[serde(borrow)]
    pub response: Cow<'a, str>,
    /// The command failed: print to stderr.
    #[serde(default)]
    pub error: bool,
    /// Not a reply: messages caused by a timer, sent to every client.
    #[serde(default)]
    pub event: bool,
    /// The server closes the connection after this error (it is full, or
    /// a message was too long).
    #[serde(default)]
    pub closing: bool,
    /// Beside a `status` reply's text, its facts (SPEC §9.7): of them a
    /// client reads only the operators' ids. A `status` of another shape
    /// (another server's) is ignored, never an invalid reply.
    #[serde(borrow, default, deserialize_with = "status_ids_or_none")]
    pub status: Option<StatusIds<'a>>,
}

/// Reads `status` as [`StatusIds`] when it has that shape, else `None`:
/// a client must keep working against servers that say other things there.
fn status_ids_or_none<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<StatusIds<'a>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<'a> {
        Ids(#[serde(borrow)] StatusIds<'a>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Ids(ids) => Some(ids),
        Either::Other(_) => None,
    })
}

/// The part of a `status` reply's JSON a client uses: who the operators
/// are (the client completes their ids at the prompt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StatusIds<'a> {
    /// Every operator, logged out ones included, in priority order.
    #[serde(borrow, default)]
    pub operators: Vec<OperatorId<'a>>,
}

/// One operator of a `status` reply, by id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OperatorId<'a> {
    /// The operator's id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
}

/// Decodes one reply message.
pub fn decode_reply(message: &[u8]) -> Option<Reply<'_>> {
    serde_json::from_slice(message).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json_and_read_back_the_same() {
        let text = "plain \"quoted\" back\\slash\n\r\t\u{0}\u{1f}\u{7f} ünï 😀";
        let mut out = Vec::new();
        push_json_string(&mut out, text);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\"plain \\\"quoted\\\" back\\\\slash\\n\\r\\t\\u0000\\u001f\u{7f} ünï 😀\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, text);
    }

    #[test]
    fn a_status_reply_gives_its_operator_ids_and_other_replies_none() {
        let status = br#"{"response": "Queue: 0 waiting", "status": {"waiting": 0, "operators": [{"id": "A", "state": "idle"}, {"id": "B\u00e9", "state": "logged-out"}]}}"#;
        let reply = decode_reply(status).unwrap();
        let status = reply.status.unwrap();
        let ids: Vec<&str> = status.operators.iter().map(|op| &*op.id).collect();
        assert_eq!(ids, ["A", "B\u{e9}"]);
        let plain = decode_reply(br#"{"response": "Call 1 received"}"#).unwrap();
        assert_eq!(plain.status, None);
        // Another server's `status` of another shape is no reason to quit.
        for other in [
            r#"{"response": "ok", "status": "ok"}"#,
            r#"{"response": "ok", "status": {"operators": [{"name": "A"}]}}"#,
            r#"{"response": "ok", "status": [1, 2]}"#,
        ] {
            let reply = decode_reply(other.as_bytes()).expect(other);
            assert_eq!((&*reply.response, reply.status), ("ok", None), "{other}");
        }
    }
}
