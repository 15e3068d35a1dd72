//! The line editor in the client (SPEC §11), through a pseudo-terminal
//! (`tests/support/pty.rs`) against a server on 127.0.0.1:0: replies print
//! below the line typed, events above a half-typed line, history and
//! completion work as in standalone (operator ids: those typed in this
//! session and those a `status` reply listed), and every way out leaves the
//! terminal as it was.

#[path = "support/pty.rs"]
mod pty;
mod support;

use pty::{DEADLINE, Terminal};
use rustix::process::Signal;
use support::Server;

const PROMPT: &str = "(callcenter) ";

/// Erases from the start of the prompt's row: how a redraw begins.
const ERASE: &str = "\r\x1b[J";

/// A client of `server` in English on an 80x24 terminal, its prompt shown.
fn client_of(server: &Server) -> Terminal {
    let address = server.address();
    let mut terminal = Terminal::spawn(&["client", "--connect", &address, "--lang", "en"], 80, 24);
    assert_eq!(terminal.expect(PROMPT), PROMPT);
    assert!(
        !terminal.flags().cooked(),
        "the editor reads keys in raw mode"
    );
    terminal
}

#[test]
fn replies_history_completion_and_ctrl_c_in_the_client() {
    let server = Server::start(&["--lang", "en"]);
    let mut terminal = client_of(&server);
    terminal.send(b"cal\t1\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!("call 1\r\nCall 1 received\r\nCall 1 ringing for operator A\r\n{PROMPT}")
    );
    // No operator typed yet: nothing to complete (the bell).
    terminal.send(b"answer \tA\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!("answer \x07A\r\nCall 1 answered by operator A\r\n{PROMPT}")
    );
    // Now `A` is known; Ctrl-C drops the line (not kept in the history),
    // and Up brings back the last line entered. Errors print like replies.
    terminal.send(b"reject \t\x03");
    assert_eq!(
        terminal.expect(&format!("^C\r\n{PROMPT}")),
        format!("reject A ^C\r\n{PROMPT}")
    );
    terminal.send(b"\x1b[A\r");
    assert_eq!(
        terminal.expect(&format!("ringing call\r\n{PROMPT}")),
        format!("{ERASE}{PROMPT}answer A\r\nOperator A has no ringing call\r\n{PROMPT}")
    );
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.flags(), terminal.initial_flags());
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn an_event_mid_line_prints_above_and_redraws_the_line() {
    let server = Server::start(&["--lang", "en", "--ring-timeout", "0.2"]);
    let mut terminal = client_of(&server);
    terminal.send(b"call 1\r");
    terminal.expect(&format!("operator A\r\n{PROMPT}"));
    terminal.send(b"ans");
    assert_eq!(
        terminal.expect(&format!("{PROMPT}ans")),
        format!(
            "ans{ERASE}Call 1 ignored by operator A\r\n\
             Call 1 ringing for operator B\r\n{PROMPT}ans"
        )
    );
    terminal.send(b"wer B\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "wer B\r\nCall 1 answered by operator B\r\n(callcenter) "
    );
    terminal.send(b"\x04");
    assert_eq!(terminal.wait_exit(DEADLINE).code(), Some(0));
    assert!(terminal.screen().ends_with("(callcenter) \r\n"));
    assert_eq!(terminal.flags(), terminal.initial_flags());
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn signals_from_outside_end_the_client_with_the_terminal_restored() {
    let server = Server::start(&["--lang", "en"]);
    for signal in [Signal::TERM, Signal::INT] {
        let mut terminal = client_of(&server);
        terminal.send(b"hang");
        terminal.expect("hang");
        terminal.signal(signal);
        assert_eq!(terminal.wait_exit(DEADLINE).code(), Some(0), "{signal:?}");
        // The line typed stays; the shell's prompt gets a row of its own.
        assert!(
            terminal.screen().ends_with("(callcenter) hang\r\n"),
            "{signal:?}"
        );
        assert_eq!(terminal.flags(), terminal.initial_flags(), "{signal:?}");
        assert!(!terminal.stdin_nonblocking(), "{signal:?}");
    }
}

#[test]
fn a_status_reply_teaches_the_client_every_operator_id() {
    let server = Server::start(&["--lang", "en", "--operators", "Ana,Bia"]);
    let mut terminal = client_of(&server);
    // Before any `status`, nothing to complete: the bell.
    terminal.send(b"answer B\t\x03");
    assert_eq!(
        terminal.expect(&format!("^C\r\n{PROMPT}")),
        format!("answer B\x07^C\r\n{PROMPT}")
    );
    terminal.send(b"status\r");
    assert_eq!(
        terminal.expect(&format!("Bia: idle\r\n{PROMPT}")),
        format!(
            "status\r\nQueue: 0 waiting, longest wait 0 s\r\n\
             Operator Ana: idle\r\nOperator Bia: idle\r\n{PROMPT}"
        )
    );
    // Now both are known, though neither was typed.
    terminal.send(b"answer B\t\r");
    assert_eq!(
        terminal.expect(&format!("ringing call\r\n{PROMPT}")),
        format!("answer Bia \r\nOperator Bia has no ringing call\r\n{PROMPT}")
    );
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.flags(), terminal.initial_flags());
}
