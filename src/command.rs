//! The command language typed on stdin: parsing and validation.
//!
//! One parser serves standalone and client alike, so both accept and refuse
//! exactly the same lines with exactly the same errors. It reads bytes, not
//! `str`: input may be any bytes, and invalid UTF-8 is an error, not a panic.

use crate::engine::Priority;

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
    /// `pause <op> [reason]`: an operator takes no new call.
    Pause,
    /// `unpause <op>`: an operator's pause ends.
    Unpause,
    /// `login <op>`: an operator joins (or returns to) distribution.
    Login,
    /// `logout <op>`: an operator leaves distribution.
    Logout,
    /// `status`: the queue and every operator, now.
    Status,
    /// `stats`: counters since start.
    Stats,
    /// `help [cmd]`: lists or describes commands.
    Help,
    /// `exit`: leaves.
    Exit,
}

impl Verb {
    /// Every verb, in the order `help` lists them.
    pub const ALL: [Verb; 12] = [
        Verb::Call,
        Verb::Answer,
        Verb::Reject,
        Verb::Hangup,
        Verb::Pause,
        Verb::Unpause,
        Verb::Login,
        Verb::Logout,
        Verb::Status,
        Verb::Stats,
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
            Verb::Pause => "pause",
            Verb::Unpause => "unpause",
            Verb::Login => "login",
            Verb::Logout => "logout",
            Verb::Status => "status",
            Verb::Stats => "stats",
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
            Verb::Pause => &["pausar"],
            Verb::Unpause => &["retomar"],
            Verb::Login => &["conectar"],
            Verb::Logout => &["desconectar"],
            Verb::Status => &["estado"],
            Verb::Stats => &["estatisticas", "estatísticas"],
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

    /// The verbs that travel over the wire (all but `help` and `exit`),
    /// by their canonical word only.
    pub fn from_wire(word: &str) -> Option<Verb> {
        Verb::ALL
            .into_iter()
            .find(|verb| verb.word() == word && verb.is_queue_command())
    }

    /// Whether the queue runs it (everything but `help` and `exit`, which
    /// the console handles itself).
    pub fn is_queue_command(self) -> bool {
        !matches!(self, Verb::Help | Verb::Exit)
    }

    /// Whether it names an operator or a call (`status` and `stats` take no
    /// argument).
    pub fn takes_id(self) -> bool {
        self.is_queue_command() && !matches!(self, Verb::Status | Verb::Stats)
    }
}

/// A queue command with its validated arguments, as typed or as it
/// travels on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// What to do (never `help` or `exit`).
    pub verb: Verb,
    /// The call or operator id; empty for `status` and `stats`.
    pub id: String,
    /// The caller's priority (`call` only; 0 otherwise).
    pub priority: Priority,
    /// The pause's reason (`pause` only).
    pub reason: Option<String>,
}

impl Request {
    /// A request with no priority and no reason: `call`/`answer`/... `id`.
    pub fn new(verb: Verb, id: impl Into<String>) -> Request {
        Request {
            verb,
            id: id.into(),
            priority: Priority::default(),
            reason: None,
        }
    }
}

/// Parses a priority argument: one of `0` to `9`.
pub fn parse_priority(text: &[u8]) -> Option<Priority> {
    match text {
        [digit @ b'0'..=b'9'] => Priority::new(digit - b'0'),
        _ => None,
    }
}

/// Whether `reason` is a valid pause reason: the rules of an id (1 to 64
/// bytes, no blanks, controls, format characters or noncharacters), since
/// it is echoed to every client as ids are.
pub fn is_valid_reason(reason: &str) -> bool {
    is_valid_id(reason)
}

/// A parsed, valid command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A queue command with its validated arguments.
    Queue(Request),
    /// `help`, optionally about one verb.
    Help(Option<Verb>),
    /// `exit`, `quit` or `sair`.
    Exit,
}

/// A command line the parser refuses; each has a one-line message per language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// The first word is not a command.
    UnknownCommand(String),
    /// Missing, extra or invalid argument for this verb.
    Usage(Verb),
}

/// Whether `id` is a valid call or operator id: 1 to 64 bytes of UTF-8 with
/// no whitespace, no control characters, no format characters and no
/// noncharacters. Ids are broadcast to every client's terminal: an invisible
/// or direction-changing character (U+202E, U+2066, U+200B, U+FEFF) would
/// let one client make lines on others' terminals read as something else.
pub fn is_valid_id(id: &str) -> bool {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return false;
    }
    // The usual id is ASCII, where only blanks and controls are refused
    // (ASCII has no format characters or noncharacters): checked by byte,
    // without the tables.
    if id.is_ascii() {
        return id.bytes().all(|byte| byte.is_ascii_graphic());
    }
    !id.chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_format(c) || is_noncharacter(c))
}

/// The characters of general category Cf (format), as ranges, from the
/// Unicode Character Database 15.1, `extracted/DerivedGeneralCategory.txt`
/// (its `Cf` section). The standard library has no category lookup, and
/// this short table spares a dependency.
const FORMAT_RANGES: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0600}', '\u{0605}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{06DD}', '\u{06DD}'),
    ('\u{070F}', '\u{070F}'),
    ('\u{0890}', '\u{0891}'),
    ('\u{08E2}', '\u{08E2}'),
    ('\u{180E}', '\u{180E}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{2064}'),
    ('\u{2066}', '\u{206F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFF9}', '\u{FFFB}'),
    ('\u{110BD}', '\u{110BD}'),
    ('\u{110CD}', '\u{110CD}'),
    ('\u{13430}', '\u{1343F}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0001}', '\u{E0001}'),
    ('\u{E0020}', '\u{E007F}'),
];

/// Whether `c` is a format character (general category Cf).
pub fn is_format(c: char) -> bool {
    FORMAT_RANGES
        .iter()
        .any(|&(first, last)| (first..=last).contains(&c))
}

/// Whether `c` is one of the 66 noncharacters (Unicode §23.7): U+FDD0 to
/// U+FDEF, and the last two code points of every plane (U+FFFE, U+FFFF,
/// U+1FFFE, ...).
pub fn is_noncharacter(c: char) -> bool {
    let code = u32::from(c);
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Text from elsewhere (a server's reply), made safe to print on a
/// terminal: control characters other than the newline, format characters
/// and noncharacters are escaped (`\u{1b}`, `\u{202e}`), as unknown words
/// are in errors, so nothing moves the cursor or turns the line around.
pub fn escape_for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| (c.is_control() && c != '\n') || is_format(c) || is_noncharacter(c);
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Parses one line (without its delimiter; a trailing `\r` is ignored).
///
/// Returns `Ok(None)` for a blank line.
pub fn parse_line(line: &[u8]) -> Result<Option<Command>, CommandError> {
    let mut words = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty());
    let Some(first) = words.next() else {
        return Ok(None);
    };
    let verb = std::str::from_utf8(first)
        .ok()
        .and_then(Verb::from_word)
        .ok_or_else(|| CommandError::UnknownCommand(shown_word(first)))?;
    let argument = words.next();
    let second = words.next();
    if words.next().is_some() {
        return Err(CommandError::Usage(verb));
    }
    let usage = CommandError::Usage(verb);
    // Only `call` and `pause` take a second argument.
    if second.is_some() && !matches!(verb, Verb::Call | Verb::Pause) {
        return Err(usage);
    }
    match verb {
        Verb::Exit => match argument {
            None => Ok(Some(Command::Exit)),
            Some(_) => Err(CommandError::Usage(verb)),
        },
        Verb::Help => match argument {
            None => Ok(Some(Command::Help(None))),
            Some(topic) => std::str::from_utf8(topic)
                .ok()
                .and_then(Verb::from_word)
                .map(|topic| Some(Command::Help(Some(topic))))
                .ok_or_else(|| CommandError::UnknownCommand(shown_word(topic))),
        },
        Verb::Status | Verb::Stats => match argument {
            None => Ok(Some(Command::Queue(Request::new(verb, "")))),
            Some(_) => Err(usage),
        },
        Verb::Call
        | Verb::Answer
        | Verb::Reject
        | Verb::Hangup
        | Verb::Pause
        | Verb::Unpause
        | Verb::Login
        | Verb::Logout => {
            let id = argument
                .and_then(|arg| std::str::from_utf8(arg).ok())
                .filter(|id| is_valid_id(id))
                .ok_or(usage.clone())?;
            let mut request = Request::new(verb, id);
            match (verb, second) {
                (_, None) => {}
                (Verb::Call, Some(priority)) => {
                    request.priority = parse_priority(priority).ok_or(usage)?;
                }
                (_, Some(reason)) => {
                    let reason = std::str::from_utf8(reason)
                        .ok()
                        .filter(|reason| is_valid_reason(reason))
                        .ok_or(usage)?;
                    request.reason = Some(reason.to_string());
                }
            }
            Ok(Some(Command::Queue(request)))
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

    fn queue(verb: Verb, id: &str) -> Result<Option<Command>, CommandError> {
        Ok(Some(Command::Queue(Request::new(verb, id))))
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
        let unknown = |w: &str| Err(CommandError::UnknownCommand(w.to_string()));
        assert_eq!(parse_line(b"Call 1"), unknown("Call"));
        assert_eq!(parse_line(b"dance"), unknown("dance"));
        assert_eq!(parse_line(b"help dance"), unknown("dance"));
        assert_eq!(parse_line(b"\xff 1"), unknown("\u{fffd}"));
        assert_eq!(parse_line(b"call"), Err(CommandError::Usage(Verb::Call)));
        assert_eq!(
            parse_line(b"call 1 2 3"),
            Err(CommandError::Usage(Verb::Call))
        );
        assert_eq!(
            parse_line(b"answer A B"),
            Err(CommandError::Usage(Verb::Answer))
        );
        assert_eq!(
            parse_line(b"hangup \xff"),
            Err(CommandError::Usage(Verb::Hangup))
        );
        assert_eq!(
            parse_line(b"call a\x01b"),
            Err(CommandError::Usage(Verb::Call))
        );
        assert_eq!(
            parse_line(b"exit now"),
            Err(CommandError::Usage(Verb::Exit))
        );
        assert_eq!(
            parse_line(b"help a b"),
            Err(CommandError::Usage(Verb::Help))
        );
    }

    #[test]
    fn acd_commands_take_their_own_arguments() {
        let with = |verb, id: &str, priority: u8, reason: Option<&str>| {
            Ok(Some(Command::Queue(Request {
                verb,
                id: id.to_string(),
                priority: Priority::new(priority).unwrap(),
                reason: reason.map(str::to_string),
            })))
        };
        assert_eq!(parse_line(b"call 1 9"), with(Verb::Call, "1", 9, None));
        assert_eq!(parse_line(b"ligar 1 0"), with(Verb::Call, "1", 0, None));
        assert_eq!(parse_line(b"pause A"), with(Verb::Pause, "A", 0, None));
        assert_eq!(
            parse_line(b"pausar A almo\xc3\xa7o"),
            with(Verb::Pause, "A", 0, Some("almoço"))
        );
        assert_eq!(parse_line(b"retomar A"), queue(Verb::Unpause, "A"));
        assert_eq!(parse_line(b"conectar Z"), queue(Verb::Login, "Z"));
        assert_eq!(parse_line(b"desconectar Z"), queue(Verb::Logout, "Z"));
        assert_eq!(parse_line(b"status"), queue(Verb::Status, ""));
        assert_eq!(parse_line(b"estado"), queue(Verb::Status, ""));
        assert_eq!(parse_line(b"estatisticas"), queue(Verb::Stats, ""));
        assert_eq!(
            parse_line("estatísticas".as_bytes()),
            queue(Verb::Stats, "")
        );
        let usage = |verb| Err(CommandError::Usage(verb));
        for (line, verb) in [
            (&b"call 1 10"[..], Verb::Call),
            (b"call 1 -1", Verb::Call),
            (b"call 1 x", Verb::Call),
            (b"call 1 \xd9\xa3", Verb::Call),
            (b"pause", Verb::Pause),
            (b"pause A a b", Verb::Pause),
            (b"pause A a\x01", Verb::Pause),
            (b"pause A a\xe2\x80\xaeb", Verb::Pause),
            (b"unpause A x", Verb::Unpause),
            (b"login", Verb::Login),
            (b"logout A B", Verb::Logout),
            (b"status x", Verb::Status),
            (b"stats x", Verb::Stats),
            (b"answer A 1", Verb::Answer),
        ] {
            assert_eq!(parse_line(line), usage(verb), "{line:?}");
        }
        let long = format!("pause A {}", "r".repeat(65));
        assert_eq!(parse_line(long.as_bytes()), usage(Verb::Pause));
        let longest = format!("pause A {}", "r".repeat(64));
        assert!(parse_line(longest.as_bytes()).is_ok());
    }

    #[test]
    fn only_queue_commands_travel_on_the_wire() {
        for verb in Verb::ALL {
            let expected = (verb != Verb::Help && verb != Verb::Exit).then_some(verb);
            assert_eq!(Verb::from_wire(verb.word()), expected);
        }
        assert_eq!(Verb::from_wire("pausar"), None);
        assert_eq!(Verb::from_wire("estado"), None);
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
            Err(CommandError::Usage(Verb::Call))
        );
    }

    #[test]
    fn ids_refuse_format_characters_and_noncharacters() {
        for c in [
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{AD}',
            '\u{E0001}',
            '\u{FFFF}',
            '\u{FFFE}',
            '\u{FDD0}',
            '\u{FDEF}',
            '\u{1FFFE}',
            '\u{10FFFF}',
        ] {
            let id = format!("a{c}b");
            assert!(!is_valid_id(&id), "{c:?} accepted");
            assert_eq!(
                parse_line(format!("call {id}").as_bytes()),
                Err(CommandError::Usage(Verb::Call))
            );
        }
        // Their neighbours are ordinary characters.
        for id in [
            "a\u{2065}b",
            "\u{FDCF}",
            "\u{FFFD}",
            "\u{1F600}",
            "é",
            "日本",
        ] {
            assert!(is_valid_id(id), "{id:?} refused");
        }
    }

    #[test]
    fn text_for_the_terminal_escapes_what_would_move_or_hide_things() {
        assert_eq!(
            escape_for_terminal("Call 1 received\nok"),
            "Call 1 received\nok"
        );
        assert_eq!(
            escape_for_terminal("a\u{1b}[2J\0\r\u{202E}b\u{FFFF}"),
            "a\\u{1b}[2J\\u{0}\\u{d}\\u{202e}b\\u{ffff}"
        );
    }

    #[test]
    fn long_unknown_words_are_cut_in_the_error() {
        let word = "é".repeat(100);
        let Err(CommandError::UnknownCommand(shown)) = parse_line(word.as_bytes()) else {
            panic!("not an unknown command");
        };
        assert_eq!(shown, format!("{}…", "é".repeat(32)));
        assert_eq!(
            parse_line(b"a\x1b[2J\x00"),
            Err(CommandError::UnknownCommand("a\\u{1b}[2J\\0".into()))
        );
    }

    #[test]
    fn ascii_ids_take_the_byte_path_with_the_same_answers() {
        for byte in 0u8..=0x7f {
            let id = format!("a{}b", byte as char);
            let by_chars = !id.chars().any(|c| c.is_whitespace() || c.is_control());
            assert_eq!(is_valid_id(&id), by_chars, "byte {byte:#04x}");
        }
        assert!(is_valid_id("A"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"x".repeat(MAX_ID_BYTES + 1)));
        assert!(is_valid_id("ção"));
        assert!(!is_valid_id("a\u{202e}b"));
    }
}
