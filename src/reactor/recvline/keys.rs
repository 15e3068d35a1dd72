//! Key decoding: terminal input bytes to keys.
//!
//! Mirrors the input half of `twisted.conch.insults.insults.ServerProtocol`
//! (its `dataReceived` turns escape sequences into key ids for
//! `keystrokeReceived`). Bytes arrive in arbitrary chunks, so a sequence
//! cut between two chunks (`ESC [` then `3~`, or half of a UTF-8
//! character) waits in the buffer for the rest.

/// One key press, as the editor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Key {
    /// A printable character (never a control character).
    Char(char),
    /// CR, LF, or CR LF (counted once).
    Enter,
    /// 0x7f or 0x08: delete the character before the cursor.
    Backspace,
    /// `ESC [ 3 ~`: delete the character under the cursor.
    Delete,
    /// Arrow left (or Ctrl-B).
    Left,
    /// Arrow right (or Ctrl-F).
    Right,
    /// Arrow up (or Ctrl-P): older history.
    Up,
    /// Arrow down (or Ctrl-N): newer history.
    Down,
    /// Home in any of its encodings, or Ctrl-A.
    Home,
    /// End in any of its encodings, or Ctrl-E.
    End,
    /// Tab: completion.
    Tab,
    /// Another control key: Ctrl and this lower-case letter (`c`, `d`,
    /// `k`, `l`, `u`, `w`, `z`, ...).
    Control(char),
    /// A sequence the editor has no use for (F-keys, Alt-keys, invalid
    /// UTF-8): consumed and dropped.
    Ignored,
}

/// Longest escape sequence kept waiting for its final byte; past this the
/// bytes are not a sequence any terminal sends, and are dropped.
const MAX_SEQUENCE: usize = 16;

/// Buffers input bytes and hands out whole keys.
#[derive(Debug, Default)]
pub(super) struct KeyDecoder {
    /// Bytes received and not yet decoded.
    pending: Vec<u8>,
    /// Where decoding resumes in `pending`.
    start: usize,
    /// The last key was a CR: a LF right after it is the same Enter.
    after_cr: bool,
}

impl KeyDecoder {
    /// Appends a chunk of input.
    pub(super) fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        self.pending.extend_from_slice(bytes);
    }

    /// The next whole key, or `None` until more bytes arrive.
    pub(super) fn next_key(&mut self) -> Option<Key> {
        loop {
            let rest = &self.pending[self.start..];
            let (key, used) = decode(rest)?;
            let first = rest[0];
            self.start += used;
            let after_cr = std::mem::replace(&mut self.after_cr, first == b'\r');
            if first == b'\n' && after_cr {
                continue;
            }
            return Some(key);
        }
    }
}

/// Decodes the key at the start of `bytes`: the key and how many bytes it
/// used, or `None` if `bytes` is empty or holds only part of a key.
fn decode(bytes: &[u8]) -> Option<(Key, usize)> {
    let first = *bytes.first()?;
    let key = match first {
        b'\r' | b'\n' => Key::Enter,
        0x7f | 0x08 => Key::Backspace,
        b'\t' => Key::Tab,
        0x1b => return decode_escape(bytes),
        0x01 => Key::Home,
        0x05 => Key::End,
        0x02 => Key::Left,
        0x06 => Key::Right,
        0x10 => Key::Up,
        0x0e => Key::Down,
        0x00..=0x1f => Key::Control((first + b'a' - 1) as char),
        0x20..=0x7e => Key::Char(first as char),
        _ => return decode_utf8(bytes),
    };
    Some((key, 1))
}

/// A multi-byte UTF-8 character; an invalid byte is dropped alone, so
/// the bytes after it are decoded afresh.
fn decode_utf8(bytes: &[u8]) -> Option<(Key, usize)> {
    let length = match bytes[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Some((Key::Ignored, 1)),
    };
    // A byte that is not a continuation ends the character early: invalid.
    let continuations = bytes[1..].iter().take(length - 1);
    if continuations.clone().any(|&byte| byte & 0xc0 != 0x80) {
        return Some((Key::Ignored, 1));
    }
    if bytes.len() < length {
        return None;
    }
    match std::str::from_utf8(&bytes[..length]) {
        Ok(text) => {
            let character = text.chars().next()?;
            let key = if character.is_control() {
                Key::Ignored
            } else {
                Key::Char(character)
            };
            Some((key, length))
        }
        Err(_) => Some((Key::Ignored, 1)),
    }
}

/// `ESC [ ...` (CSI), `ESC O x` (SS3), or ESC with one more byte (an Alt
/// key, ignored).
fn decode_escape(bytes: &[u8]) -> Option<(Key, usize)> {
    match bytes.get(1)? {
        b'[' => decode_csi(bytes),
        b'O' => Some((cursor_key(*bytes.get(2)?).unwrap_or(Key::Ignored), 3)),
        // A lone Escape key followed by another sequence: drop the first.
        0x1b => Some((Key::Ignored, 1)),
        _ => Some((Key::Ignored, 2)),
    }
}

/// The arrows, Home and End by the final byte they share in CSI (`ESC [ A`)
/// and SS3 (`ESC O A`) form.
fn cursor_key(final_byte: u8) -> Option<Key> {
    Some(match final_byte {
        b'A' => Key::Up,
        b'B' => Key::Down,
        b'C' => Key::Right,
        b'D' => Key::Left,
        b'H' => Key::Home,
        b'F' => Key::End,
        _ => return None,
    })
}

/// `ESC [ params final`: parameters and intermediates are bytes 0x20 to
/// 0x3f, the final byte 0x40 to 0x7e.
fn decode_csi(bytes: &[u8]) -> Option<(Key, usize)> {
    let body = &bytes[2..];
    let Some(end) = body.iter().position(|byte| !(0x20..=0x3f).contains(byte)) else {
        if bytes.len() >= MAX_SEQUENCE {
            return Some((Key::Ignored, bytes.len()));
        }
        return None;
    };
    let used = 2 + end + 1;
    let params = &body[..end];
    let key = match body[end] {
        // Modifiers (`ESC [ 1 ; 5 C`) do not change what an arrow does here.
        final_byte @ (b'A' | b'B' | b'C' | b'D' | b'H' | b'F') => {
            cursor_key(final_byte).unwrap_or(Key::Ignored)
        }
        b'~' => {
            let number = params.split(|&byte| byte == b';').next().unwrap_or(&[]);
            match number {
                b"1" | b"7" => Key::Home,
                b"4" | b"8" => Key::End,
                b"3" => Key::Delete,
                _ => Key::Ignored,
            }
        }
        _ => Key::Ignored,
    };
    Some((key, used))
}
