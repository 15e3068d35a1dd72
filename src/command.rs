//! The command language typed on stdin: parsing and validation.
//!
//! One parser serves standalone and client alike, so both accept and refuse
//! exactly the same lines with exactly the same errors. It reads bytes, not
//! `str`: input may be any bytes, and invalid UTF-8 is an error, not a panic.

use crate::engine::EngineError;

/// Longest id accepted, in bytes (call and operator ids alike).
pub const MAX_ID_BYTES: usize = 64;

/// The commands, by their canonical (English) word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// `call <id>`: a call arrives.
    Call,
    /// `answer <op>`: an operator answers.
    Answer,
    /// `reject <op>`: an operator rejects.
    Reject,
    /// `hangup <id>`: a call ends.
    Hangup,
    /// `help [cmd]`: lists or describes commands.
    Help,
    /// `exit`: leaves.
    Exit,
}

impl Verb {
    /// Every verb, in the order `help` lists them.
    pub const ALL: [Verb; 6] = [
        Verb::Call,
        Verb::Answer,
        Verb::Reject,
        Verb::Hangup,
        Verb::Help,
        Verb::Exit,
    ];

    /// The canonical English word, as sent on the wire and shown in usage errors.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Call => "call",
            Verb::Answer => "answer",
            Verb::Reject => "reject",
            Verb::Hangup => "hangup",
            Verb::Help => "help",
            Verb::Exit => "exit",
        }
    }

    /// The other words accepted for this verb (from the assignment's Portuguese text).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Verb::Call => &["ligar", "ligue"],
            Verb::Answer => &["atender", "resposta"],
            Verb::Reject => &["rejeitar"],
            Verb::Hangup => &["desligar"],
            Verb::Help => &["ajuda"],
            Verb::Exit => &["quit", "sair"],
        }
    }

    /// Looks a word up among the canonical words and the aliases (case-sensitive).
    pub fn from_word(word: &str) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|verb| verb.word() == word || verb.aliases().contains(&word))
    }

    /// The four verbs that change the queue (and travel over the wire).
    pub fn from_wire(word: &str) -> Option<Verb> {
        match word {
            "call" => Some(Verb::Call),
            "answer" => Some(Verb::Answer),
            "reject" => Some(Verb::Reject),
            "hangup" => Some(Verb::Hangup),
            _ => None,
        }
    }
}

/// A parsed, valid command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A queue command with its (validated) id.
    Queue(Verb, String),
    /// `help`, optionally about one verb.
    Help(Option<Verb>),
    /// `exit`, `quit` or `sair`.
    Exit,
}

/// Everything the user can get wrong; each has a one-line message per language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserError {
    /// The first word is not a command.
    UnknownCommand(String),
    /// Missing, extra or invalid argument for this verb.
    Usage(Verb),
    /// The queue refused the command.
    Engine(EngineError),
    /// A wire message that is not a JSON object with a string `command`.
    InvalidRequest,
    /// A wire message longer than the limit; the server closes the connection.
    MessageTooLong,
    /// The server already has its maximum number of clients.
    ServerFull(u32),
    /// The client could not reach the server.
    CannotConnect {
        /// The address tried.
        addr: String,
        /// What the operating system said.
        reason: String,
    },
    /// The server closed the connection or it broke.
    ServerGone,
    /// The server sent something that is not a reply.
    InvalidReply,
}

impl From<EngineError> for UserError {
    fn from(error: EngineError) -> UserError {
        UserError::Engine(error)
    }
}

/// Whether `id` is a valid call or operator id: 1 to 64 bytes of UTF-8 with
/// no whitespace and no control characters.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_BYTES
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Parses one line (without its delimiter; a trailing `\r` is ignored).
///
/// Returns `Ok(None)` for a blank line.
pub fn parse_line(line: &[u8]) -> Result<Option<Command>, UserError> {
    let mut words = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty());
    let Some(first) = words.next() else {
        return Ok(None);
    };
    let verb = std::str::from_utf8(first)
        .ok()
        .and_then(Verb::from_word)
        .ok_or_else(|| UserError::UnknownCommand(shown_word(first)))?;
    let argument = words.next();
    if words.next().is_some() {
        return Err(UserError::Usage(verb));
    }
    match verb {
        Verb::Exit => match argument {
            None => Ok(Some(Command::Exit)),
            Some(_) => Err(UserError::Usage(verb)),
        },
        Verb::Help => match argument {
            None => Ok(Some(Command::Help(None))),
            Some(topic) => std::str::from_utf8(topic)
                .ok()
                .and_then(Verb::from_word)
                .map(|topic| Some(Command::Help(Some(topic))))
                .ok_or_else(|| UserError::UnknownCommand(shown_word(topic))),
        },
        Verb::Call | Verb::Answer | Verb::Reject | Verb::Hangup => {
            let id = argument
                .and_then(|arg| std::str::from_utf8(arg).ok())
                .filter(|id| is_valid_id(id))
                .ok_or(UserError::Usage(verb))?;
            Ok(Some(Command::Queue(verb, id.to_string())))
        }
    }
}

/// How an unknown word is echoed in an error: invalid UTF-8 replaced,
/// control characters escaped (`\0`, `\u{1b}`: nothing reaches the terminal
/// raw), and cut after 64 bytes (with `…`) so one error stays one short line.
pub fn shown_word(word: &[u8]) -> String {
    let text = String::from_utf8_lossy(word);
    let mut shown = String::new();
    for c in text.chars() {
        if shown.len() >= MAX_ID_BYTES {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(verb: Verb, id: &str) -> Result<Option<Command>, UserError> {
        Ok(Some(Command::Queue(verb, id.to_string())))
    }

    #[test]
    fn words_aliases_blanks_and_carriage_returns() {
        assert_eq!(parse_line(b"call 1"), queue(Verb::Call, "1"));
        assert_eq!(parse_line(b"  ligar\t7 \r"), queue(Verb::Call, "7"));
        assert_eq!(parse_line(b"ligue 7"), queue(Verb::Call, "7"));
        assert_eq!(parse_line(b"resposta A"), queue(Verb::Answer, "A"));
        assert_eq!(parse_line(b"atender A"), queue(Verb::Answer, "A"));
        assert_eq!(parse_line(b"rejeitar B"), queue(Verb::Reject, "B"));
        assert_eq!(parse_line(b"desligar 3"), queue(Verb::Hangup, "3"));
        assert_eq!(parse_line(b"quit"), Ok(Some(Command::Exit)));
        assert_eq!(parse_line(b"sair"), Ok(Some(Command::Exit)));
        assert_eq!(
            parse_line(b"ajuda ligar"),
            Ok(Some(Command::Help(Some(Verb::Call))))
        );
        assert_eq!(parse_line(b"help"), Ok(Some(Command::Help(None))));
        assert_eq!(parse_line(b""), Ok(None));
        assert_eq!(parse_line(b" \t\r"), Ok(None));
    }

    #[test]
    fn bad_lines_get_the_matching_error() {
        let unknown = |w: &str| Err(UserError::UnknownCommand(w.to_string()));
        assert_eq!(parse_line(b"Call 1"), unknown("Call"));
        assert_eq!(parse_line(b"dance"), unknown("dance"));
        assert_eq!(parse_line(b"help dance"), unknown("dance"));
        assert_eq!(parse_line(b"\xff 1"), unknown("\u{fffd}"));
        assert_eq!(parse_line(b"call"), Err(UserError::Usage(Verb::Call)));
        assert_eq!(
            parse_line(b"answer A B"),
            Err(UserError::Usage(Verb::Answer))
        );
        assert_eq!(
            parse_line(b"hangup \xff"),
            Err(UserError::Usage(Verb::Hangup))
        );
        assert_eq!(
            parse_line(b"call a\x01b"),
            Err(UserError::Usage(Verb::Call))
        );
        assert_eq!(parse_line(b"exit now"), Err(UserError::Usage(Verb::Exit)));
        assert_eq!(parse_line(b"help a b"), Err(UserError::Usage(Verb::Help)));
    }

    #[test]
    fn ids_are_1_to_64_bytes_without_blanks_or_controls() {
        assert!(is_valid_id("a"));
        assert!(is_valid_id(&"x".repeat(64)));
        assert!(!is_valid_id(&"x".repeat(65)));
        // 16 four-byte characters: exactly 64 bytes.
        assert!(is_valid_id(&"😀".repeat(16)));
        assert!(!is_valid_id(&format!("{}x", "😀".repeat(16))));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id("a\u{a0}b"));
        assert!(!is_valid_id("a\u{7f}"));
        let long = "x".repeat(65);
        assert_eq!(
            parse_line(format!("call {long}").as_bytes()),
            Err(UserError::Usage(Verb::Call))
        );
    }

    #[test]
    fn long_unknown_words_are_cut_in_the_error() {
        let word = "é".repeat(100);
        let Err(UserError::UnknownCommand(shown)) = parse_line(word.as_bytes()) else {
            panic!("not an unknown command");
        };
        assert_eq!(shown, format!("{}…", "é".repeat(32)));
        assert_eq!(
            parse_line(b"a\x1b[2J\x00"),
            Err(UserError::UnknownCommand("a\\u{1b}[2J\\0".into()))
        );
    }
}
