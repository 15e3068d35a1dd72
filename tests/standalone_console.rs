//! The standalone console in-process (SPEC §4, §5), as Twisted tests a
//! protocol over `StringTransport`: the [`Console`] runs as the protocol
//! standard I/O runs ([`Console::into_protocol`]) over
//! [`Transport::memory()`], which keeps stdout and stderr apart and in
//! order. Ring timers run on a [`ManualClock`], never a sleep.
//!
//! - Messages on stdout, errors on stderr, in the order written, whether a
//!   line comes whole or a byte at a time; the seed gives the seed's transcript.
//! - On a terminal: the prompt after each line, and a ring timeout's
//!   messages on a fresh line with the prompt again; Ctrl-D ends the line.
//! - `exit` (and `sair`) ends the session: later lines are not run.
//! - A line over 64 KiB is one error and is skipped; the next line runs.
//!
//! What only a process shows (exit codes, signals, terminals) stays in
//! `tests/standalone.rs` and its neighbours.

mod support;

use std::rc::Rc;
use std::time::Duration;

use callcenter::engine::Engine;
use callcenter::messages::Lang;
use callcenter::modes::standalone::Console;
use callcenter::queue_service::QueueService;
use callcenter::reactor::{
    AfterEof, Channel, ConnectionLost, ManualClock, Protocol, Reactor, Transport,
};
use callcenter::repl::Screen;
use support::{SEED_CMDS, SEED_EN, SEED_PT};

const RING_TIMEOUT: Duration = Duration::from_secs(10);
const PROMPT: &str = "(callcenter) ";

/// A console on a manual clock, made on an in-memory transport.
struct Rig {
    protocol: Box<dyn Protocol>,
    transport: Transport,
    reactor: Reactor,
    clock: ManualClock,
}

impl Rig {
    fn new(lang: Lang, ring_timeout: Option<Duration>, interactive: bool) -> Rig {
        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
        let service = QueueService::new(
            Engine::new(["A", "B"]).expect("engine"),
            lang,
            ring_timeout,
            reactor.clone(),
        );
        let screen = if interactive {
            Screen::cooked()
        } else {
            Screen::plain()
        };
        let mut protocol = Console::new(service, reactor.clone(), screen).into_protocol();
        let transport = Transport::memory();
        protocol.connection_made(transport.clone());
        Rig {
            protocol,
            transport,
            reactor,
            clock,
        }
    }

    fn en() -> Rig {
        Rig::new(Lang::En, None, false)
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.protocol.data_received(bytes);
    }

    fn feed_bytewise(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.protocol.data_received(std::slice::from_ref(byte));
        }
    }

    /// What went to stdout and to stderr so far, and forgets it.
    fn take(&self) -> (String, String) {
        let text = |channel| String::from_utf8(self.transport.written(channel)).expect("UTF-8");
        let taken = (text(Channel::Out), text(Channel::Err));
        self.transport.clear();
        taken
    }

    /// Both outputs in the order written (what `2>&1` shows), and forgets them.
    fn take_merged(&self) -> String {
        let merged = String::from_utf8(self.transport.written_all()).expect("UTF-8");
        self.transport.clear();
        merged
    }

    /// Moves the clock on by `amount` and runs what fell due.
    fn advance(&self, amount: Duration) {
        self.clock.advance(amount);
        self.reactor.run_due_timers();
    }
}

fn out(text: &str) -> (String, String) {
    (text.to_string(), String::new())
}

#[test]
fn a_command_prints_its_messages_whole_or_fed_a_byte_at_a_time() {
    let mut whole = Rig::en();
    assert_eq!(whole.take(), out(""), "no prompt off a terminal");
    whole.feed(b"call 1\n");
    let expected = out("Call 1 received\nCall 1 ringing for operator A\n");
    assert_eq!(whole.take(), expected);
    let mut bytewise = Rig::en();
    bytewise.feed_bytewise(b"ligar 1\r\n");
    assert_eq!(bytewise.take(), expected);
    // A line without its newline waits for it.
    bytewise.feed(b"answer A");
    assert_eq!(bytewise.take(), out(""));
    bytewise.feed(b"\n");
    assert_eq!(bytewise.take(), out("Call 1 answered by operator A\n"));
}

#[test]
fn the_seed_gives_the_seed_transcript_in_both_languages() {
    for (lang, transcript) in [(Lang::En, SEED_EN), (Lang::Pt, SEED_PT)] {
        let mut rig = Rig::new(lang, None, false);
        rig.feed(SEED_CMDS.as_bytes());
        assert_eq!(rig.take(), out(transcript), "{lang:?}");
    }
}

#[test]
fn errors_go_to_stderr_in_their_place_among_the_messages() {
    let mut rig = Rig::en();
    rig.feed(b"call 1\nbogus\n\ncall 1 2 3\nhelp call\nhangup 9\nhangup 1\n");
    assert_eq!(
        rig.take_merged(),
        "Call 1 received\n\
         Call 1 ringing for operator A\n\
         Unknown command: bogus\n\
         Usage: call <id> [priority]\n  \
         call <id> [priority] a call with id <id> arrives; priority 0-9, higher first (default 0) (aliases: ligar, ligue)\n\
         Call 9 not found\n\
         Call 1 missed\n"
    );
    rig.feed(b"bogus\nanswer A\n");
    assert_eq!(
        rig.take(),
        (
            String::new(),
            "Unknown command: bogus\nOperator A has no ringing call\n".to_string()
        )
    );
}

#[test]
fn a_ring_timeout_prints_at_its_deadline_and_not_before() {
    let mut rig = Rig::new(Lang::En, Some(RING_TIMEOUT), false);
    rig.feed(b"call 1\n");
    rig.take();
    rig.advance(RING_TIMEOUT - Duration::from_millis(1));
    assert_eq!(rig.take(), out(""));
    rig.advance(Duration::from_millis(1));
    assert_eq!(
        rig.take(),
        out("Call 1 ignored by operator A\nCall 1 ringing for operator B\n")
    );
    rig.feed(b"answer B\n");
    assert_eq!(rig.take(), out("Call 1 answered by operator B\n"));
    rig.advance(RING_TIMEOUT * 2);
    assert_eq!(rig.take(), out(""), "an answered call has no timer");
}

#[test]
fn on_a_terminal_the_prompt_follows_each_line_and_each_ring_timeout() {
    let mut rig = Rig::new(Lang::En, Some(RING_TIMEOUT), true);
    assert_eq!(rig.take_merged(), PROMPT);
    rig.feed(b"call 1\n");
    assert_eq!(
        rig.take_merged(),
        format!("Call 1 received\nCall 1 ringing for operator A\n{PROMPT}")
    );
    rig.feed(b"bogus\n");
    assert_eq!(
        rig.take(),
        (PROMPT.to_string(), "Unknown command: bogus\n".to_string())
    );
    // The user is typing at the prompt when the timer fires: its messages
    // start on a fresh line and the prompt comes back after them.
    rig.feed(b"hang");
    rig.advance(RING_TIMEOUT);
    assert_eq!(
        rig.take_merged(),
        format!("\nCall 1 ignored by operator A\nCall 1 ringing for operator B\n{PROMPT}")
    );
    rig.feed(b"up 1\n");
    assert_eq!(rig.take_merged(), format!("Call 1 missed\n{PROMPT}"));
    // Ctrl-D: the shell's prompt goes on a line of its own.
    assert_eq!(rig.protocol.read_connection_lost(), AfterEof::Close);
    assert_eq!(rig.take_merged(), "\n");
}

#[test]
fn exit_ends_the_session_and_later_lines_are_not_run() {
    for (word, interactive) in [("exit", false), ("sair", true)] {
        let mut rig = Rig::new(Lang::En, None, interactive);
        rig.take();
        rig.feed(format!("call 1\n{word}\ncall 2\nbogus\n").as_bytes());
        let prompt = if interactive { PROMPT } else { "" };
        assert_eq!(
            rig.take(),
            out(&format!(
                "Call 1 received\nCall 1 ringing for operator A\n{prompt}"
            )),
            "{word}: no prompt after it, nothing run after it"
        );
        assert!(rig.transport.disconnecting(), "{word}");
        rig.feed(b"call 3\n");
        assert_eq!(rig.take(), out(""), "{word}");
    }
}

#[test]
fn a_line_over_64_kib_is_one_error_and_the_next_line_runs() {
    for bytewise in [false, true] {
        let mut rig = Rig::en();
        let mut input = format!("call {}\n", "y".repeat(70 * 1024)).into_bytes();
        input.extend_from_slice(b"call 1\n");
        if bytewise {
            rig.feed_bytewise(&input);
        } else {
            rig.feed(&input);
        }
        assert_eq!(
            rig.take_merged(),
            "Usage: call <id> [priority]\nCall 1 received\nCall 1 ringing for operator A\n",
            "bytewise: {bytewise}"
        );
    }
}

#[test]
fn once_the_console_is_gone_ring_timeouts_print_nothing() {
    let mut rig = Rig::new(Lang::En, Some(RING_TIMEOUT), false);
    rig.feed(b"call 1\n");
    rig.take();
    rig.protocol.connection_lost(ConnectionLost::Done);
    rig.advance(RING_TIMEOUT);
    assert_eq!(rig.take(), out(""));
}
