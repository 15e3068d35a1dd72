//! The interactive terminal, driven through a pseudo-terminal
//! (`tests/support/pty.rs`): what a person at a terminal sees, to the byte.
//!
//! These pinned what the program did on a terminal before the line editor
//! was wired in (issue 12): the prompt, the echo and the messages keep these
//! exact bytes now that the editor echoes the keys (in raw mode) and prints
//! a line's messages before drawing the next prompt. Every way out leaves
//! the terminal's modes, and the blocking mode of the standard input it
//! shares with its parent, as they were before it started. The editing
//! keys, history, completion, redraws and job control are in
//! `tests/terminal_editing.rs`.

#[path = "support/pty.rs"]
mod pty;

use pty::{DEADLINE, SHELL_PROMPT, Terminal};
use rustix::process::Signal;

const PROMPT: &str = "(callcenter) ";

/// The program in English on an 80x24 terminal, its prompt shown.
fn started() -> Terminal {
    let mut terminal = Terminal::spawn(&["--lang", "en"], 80, 24);
    assert_eq!(terminal.expect(PROMPT), PROMPT);
    terminal
}

#[test]
fn the_prompt_is_shown_on_a_terminal() {
    let mut terminal = started();
    assert!(
        terminal.initial_flags().cooked(),
        "a fresh pty is in cooked mode"
    );
    assert!(
        !terminal.flags().cooked(),
        "the editor reads keys in raw mode"
    );
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.screen(), "(callcenter) exit\r\n");
}

#[test]
fn commands_print_their_messages_and_errors_before_the_next_prompt() {
    let mut terminal = started();
    terminal.send(b"call 1\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "call 1\r\nCall 1 received\r\nCall 1 ringing for operator A\r\n(callcenter) "
    );
    terminal.send(b"answr A\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "answr A\r\nUnknown command: answr\r\n(callcenter) "
    );
    terminal.send(b"answer A\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "answer A\r\nCall 1 answered by operator A\r\n(callcenter) "
    );
    terminal.send(b"call \xc3\xa7\xc3\xa3o\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "call ção\r\nCall ção received\r\nCall ção ringing for operator B\r\n(callcenter) "
    );
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
}

#[test]
fn ctrl_d_on_an_empty_line_leaves_with_status_0() {
    let mut terminal = started();
    let before = terminal.initial_flags();
    terminal.send(b"\x04");
    let status = terminal.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0));
    assert_eq!(terminal.screen(), "(callcenter) \r\n");
    assert_eq!(terminal.flags(), before);
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn sigterm_and_sigint_from_outside_end_it_with_status_0() {
    for signal in [Signal::TERM, Signal::INT] {
        let mut terminal = started();
        let before = terminal.initial_flags();
        terminal.send(b"call 7\r");
        terminal.expect(PROMPT);
        terminal.signal(signal);
        let status = terminal.wait_exit(DEADLINE);
        assert_eq!(status.code(), Some(0), "{signal:?}");
        assert_eq!(terminal.flags(), before, "{signal:?}");
        assert!(!terminal.stdin_nonblocking(), "{signal:?}");
    }
}

#[test]
fn the_terminal_modes_are_the_same_after_exit_as_before() {
    let mut terminal = Terminal::spawn(&["--lang", "en"], 80, 24);
    let before = terminal.initial_flags();
    terminal.expect(PROMPT);
    terminal.send(b"call 1\r");
    terminal.expect(PROMPT);
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.flags(), before);
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn run_from_a_shell_it_hands_the_terminal_back_unchanged() {
    let mut terminal = Terminal::spawn_in_shell(&["--lang", "en"], 80, 24, PROMPT);
    assert_ne!(terminal.pid(), terminal.child_pid(), "a job of its own");
    terminal.send(b"call 1\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "call 1\r\nCall 1 received\r\nCall 1 ringing for operator A\r\n(callcenter) "
    );
    terminal.send(b"exit\r");
    // The shell says "turning off NDELAY mode" if its input was left
    // non-blocking; here it only prompts again.
    assert_eq!(terminal.expect(SHELL_PROMPT), "exit\r\nsh$ ");
    assert_eq!(terminal.flags(), terminal.shell_flags());
    assert!(!terminal.stdin_nonblocking());
    terminal.send(b"echo \"status=$?\"\r");
    assert_eq!(
        terminal.expect(SHELL_PROMPT),
        "echo \"status=$?\"\r\nstatus=0\r\nsh$ "
    );
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
}
