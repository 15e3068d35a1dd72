//! The client/server wire protocol: framing, requests and replies (SPEC §6).
//!
//! Sans-I/O: bytes in, frames and values out. Used by the server, the client,
//! the monitor and the load generator alike.
//!
//! - Framing: [`JsonDecoder`] finds where each message ends; it is a
//!   [`Decoder`](crate::reactor::Decoder) for
//!   [`Framed`](crate::reactor::Framed), as lines are.
//! - Requests: [`decode_request`] (with a fast path for the usual shape),
//!   [`encode_request`] and [`encode_command`].
//! - Replies: [`encode_reply`], [`encode_report_reply`] and
//!   [`decode_reply`].
//!
//! # Framing
//!
//! One JSON object per line, or objects back to back: a newline always
//! ends a message, garbage to the end of its line is malformed, and each
//! message is limited to [`MAX_MESSAGE`] bytes. See [`JsonDecoder`].

mod acd;
#[cfg(test)]
mod fast_path_tests;
mod field;
mod framing;
mod reply;
mod request;

pub use acd::{encode_command, encode_report_reply};
pub use framing::{Frame, JsonDecoder, MAX_MESSAGE};
pub use reply::{OperatorId, Reply, ReplyKind, StatusIds, decode_reply, encode_reply};
pub use request::{WireError, asks_to_subscribe, decode_request, encode_request};

use field::Field;
use reply::push_json_string;

/// The set of `bytes`, as a table indexed by byte: what the decoder and
/// the string escaper look up.
const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut index = 0;
    while index < bytes.len() {
        set[bytes[index] as usize] = true;
        index += 1;
    }
    set
}
