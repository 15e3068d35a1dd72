//! The line editor on a real terminal (SPEC §11), standalone, through a
//! pseudo-terminal (`tests/support/pty.rs`): editing keys, history, Tab
//! completion, a ring timeout printed above a half-typed line, Ctrl-C,
//! Ctrl-D, Ctrl-Z with `fg` and SIGSTOP with SIGCONT, each checked on the
//! screen's bytes and on what ran. Every test ends with the terminal's
//! modes as they were before the program started. The client's turn is in
//! `tests/terminal_client.rs`.

#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

use pty::{DEADLINE, SHELL_PROMPT, Terminal};
use rustix::process::Signal;

const PROMPT: &str = "(callcenter) ";

/// Erases from the start of the prompt's row: how a redraw begins.
const ERASE: &str = "\r\x1b[J";

/// The program in English on an 80x24 terminal, its prompt shown.
fn started(extra: &[&str]) -> Terminal {
    let mut args = vec!["--lang", "en"];
    args.extend_from_slice(extra);
    let mut terminal = Terminal::spawn(&args, 80, 24);
    assert_eq!(terminal.expect(PROMPT), PROMPT);
    terminal
}

/// Types `exit`, checks the status and that the terminal is as it was.
fn exit_cleanly(mut terminal: Terminal) {
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.flags(), terminal.initial_flags());
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn left_right_home_end_backspace_and_delete_edit_the_line() {
    let mut terminal = started(&[]);
    // `cal 1`, left twice (before the space), `l`: `call 1`.
    terminal.send(b"cal 1\x1b[D\x1b[Dl\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!(
            "cal 1\x1b[1D\x1b[1D{ERASE}{PROMPT}call 1\x1b[2D\x1b[2C\r\n\
             Call 1 received\r\nCall 1 ringing for operator A\r\n{PROMPT}"
        )
    );
    // `all 22`, Home, `c`, End, Backspace, Ctrl-A, right x4, Delete (the
    // space), End, ` 3`: `call2 3`, an unknown command.
    terminal.send(b"all 22\x1b[Hc\x1bOF\x7f\x01\x1b[C\x1b[C\x1b[C\x1b[C\x1b[3~\x1b[F 3\r");
    assert_eq!(
        terminal.expect(&format!("call2\r\n{PROMPT}")),
        format!(
            "all 22\x1b[6D{ERASE}{PROMPT}call 22\x1b[6D\x1b[6C{ERASE}{PROMPT}call 2\
             \x1b[6D\x1b[1C\x1b[1C\x1b[1C\x1b[1C{ERASE}{PROMPT}call2\x1b[1D\x1b[1C 3\r\n\
             Unknown command: call2\r\n{PROMPT}"
        )
    );
    exit_cleanly(terminal);
}

#[test]
fn ctrl_u_k_and_w_cut_the_line() {
    let mut terminal = started(&[]);
    // Ctrl-U cuts before the cursor, Ctrl-K after it, Ctrl-W one word.
    terminal.send(b"junk\x15call 5 tail\x1b[D\x1b[D\x1b[D\x1b[D\x0b\x7f\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!(
            "junk{ERASE}{PROMPT}call 5 tail\x1b[1D\x1b[1D\x1b[1D\x1b[1D\
             {ERASE}{PROMPT}call 5 {ERASE}{PROMPT}call 5\r\n\
             Call 5 received\r\nCall 5 ringing for operator A\r\n{PROMPT}"
        )
    );
    terminal.send(b"call wrong\x176\r");
    assert_eq!(
        terminal.expect(&format!("operator B\r\n{PROMPT}")),
        format!(
            "call wrong{ERASE}{PROMPT}call 6\r\nCall 6 received\r\nCall 6 ringing for operator B\r\n{PROMPT}"
        )
    );
    exit_cleanly(terminal);
}

#[test]
fn up_and_down_walk_this_sessions_history() {
    let mut terminal = started(&[]);
    terminal.send(b"call 1\r");
    terminal.expect(PROMPT);
    terminal.send(b"hangup 1\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "hangup 1\r\nCall 1 missed\r\n(callcenter) "
    );
    // Up twice: `call 1`; down once: `hangup 1`; down again: the draft.
    terminal.send(b"dra\x1b[A\x1b[A\x1b[B\x1b[B");
    terminal.send(b"!");
    assert_eq!(
        terminal.expect("dra!"),
        format!(
            "dra{ERASE}{PROMPT}hangup 1{ERASE}{PROMPT}call 1\
             {ERASE}{PROMPT}hangup 1{ERASE}{PROMPT}dra!"
        )
    );
    terminal.send(b"\x15\x1b[A\x1b[A\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!(
            "{ERASE}{PROMPT}{ERASE}{PROMPT}hangup 1{ERASE}{PROMPT}call 1\r\n\
             Call 1 received\r\nCall 1 ringing for operator A\r\n{PROMPT}"
        )
    );
    exit_cleanly(terminal);
}

#[test]
fn tab_completes_command_words_aliases_and_operator_ids() {
    let mut terminal = started(&["--operators", "Alice,Bob"]);
    terminal.send(b"cal\t1\r");
    assert_eq!(
        terminal.expect(&format!("operator Alice\r\n{PROMPT}")),
        format!("call 1\r\nCall 1 received\r\nCall 1 ringing for operator Alice\r\n{PROMPT}")
    );
    // Several candidates: the first Tab rings, the second lists them above.
    terminal.send(b"a\t\t");
    assert_eq!(
        terminal.expect(&format!("atender\r\n{PROMPT}a")),
        format!("a\x07{ERASE}ajuda  answer  atender\r\n{PROMPT}a")
    );
    terminal.send(b"ns\tAl\t\r");
    assert_eq!(
        terminal.expect(&format!("operator Alice\r\n{PROMPT}")),
        format!("nswer Alice \r\nCall 1 answered by operator Alice\r\n{PROMPT}")
    );
    exit_cleanly(terminal);
}

#[test]
fn a_ring_timeout_mid_line_prints_above_and_redraws_the_line() {
    let mut terminal = started(&["--ring-timeout", "0.2"]);
    terminal.send(b"call 1\r");
    terminal.expect(PROMPT);
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
    exit_cleanly(terminal);
}

#[test]
fn ctrl_c_drops_the_line_and_shows_a_fresh_prompt() {
    let mut terminal = started(&[]);
    terminal.send(b"call 9\x03");
    assert_eq!(terminal.expect(PROMPT), "call 9^C\r\n(callcenter) ");
    terminal.send(b"call 8\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "call 8\r\nCall 8 received\r\nCall 8 ringing for operator A\r\n(callcenter) "
    );
    exit_cleanly(terminal);
}

#[test]
fn ctrl_d_deletes_on_a_line_and_leaves_on_an_empty_one() {
    let mut terminal = started(&[]);
    terminal.send(b"callx\x1b[D\x04 4\r");
    assert_eq!(
        terminal.expect(&format!("operator A\r\n{PROMPT}")),
        format!(
            "callx\x1b[1D{ERASE}{PROMPT}call 4\r\n\
             Call 4 received\r\nCall 4 ringing for operator A\r\n{PROMPT}"
        )
    );
    terminal.send(b"\x04");
    assert_eq!(terminal.wait_exit(DEADLINE).code(), Some(0));
    assert!(terminal.screen().ends_with("(callcenter) \r\n"));
    assert_eq!(terminal.flags(), terminal.initial_flags());
    assert!(!terminal.stdin_nonblocking());
}

#[test]
fn ctrl_z_stops_it_and_fg_resumes_with_the_line_redrawn() {
    let mut terminal =
        Terminal::spawn_in_shell(&["--lang", "en", "--ring-timeout", "0.2"], 80, 24, PROMPT);
    terminal.send(b"call 1\r");
    terminal.expect(PROMPT);
    terminal.send(b"ans\x1a");
    let stopped = terminal.expect(SHELL_PROMPT);
    assert!(stopped.starts_with("ans\r\n"), "{stopped:?}");
    assert!(stopped.contains("Stopped"), "{stopped:?}");
    // Stopped, the terminal is the shell's as it left it, and blocking.
    assert_eq!(terminal.flags(), terminal.shell_flags());
    assert!(!terminal.stdin_nonblocking());
    // What is tested is a timer falling due while the process is stopped:
    // a stopped process has no clock a test could move, so real time must
    // pass (its 0.2 s ring timer). The one sleep of the terminal tests.
    std::thread::sleep(Duration::from_millis(300));
    terminal.send(b"fg\r");
    let resumed = terminal.expect(&format!("{PROMPT}ans"));
    assert!(resumed.starts_with("fg\r\n"), "{resumed:?}");
    // Resumed: raw mode again, and the timer that fell due fires at once.
    assert_eq!(
        terminal.expect("operator B\r\n"),
        format!("{ERASE}Call 1 ignored by operator A\r\nCall 1 ringing for operator B\r\n")
    );
    assert_eq!(
        terminal.expect(&format!("{PROMPT}ans")),
        format!("{PROMPT}ans")
    );
    assert!(!terminal.flags().cooked());
    terminal.send(b"\x15exit\r");
    terminal.expect(SHELL_PROMPT);
    assert_eq!(terminal.flags(), terminal.shell_flags());
    assert!(!terminal.stdin_nonblocking());
    terminal.send(b"exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
}

#[test]
fn sigstop_then_sigcont_resumes_in_raw_mode_and_redraws() {
    let mut terminal = started(&[]);
    terminal.send(b"cal");
    terminal.expect("cal");
    terminal.signal(Signal::STOP);
    terminal.wait_stopped(DEADLINE);
    terminal.signal(Signal::CONT);
    assert_eq!(
        terminal.expect(&format!("{PROMPT}cal")),
        format!("{PROMPT}cal")
    );
    assert!(!terminal.flags().cooked());
    terminal.send(b"l 1\r");
    assert_eq!(
        terminal.expect(PROMPT),
        "l 1\r\nCall 1 received\r\nCall 1 ringing for operator A\r\n(callcenter) "
    );
    exit_cleanly(terminal);
}

#[test]
fn ctrl_z_without_a_shell_to_stop_for_goes_on_in_raw_mode() {
    // A session leader's process group is orphaned: the kernel ignores
    // its SIGTSTP, so the program takes the terminal back at once.
    let mut terminal = started(&[]);
    terminal.send(b"cal\x1a");
    assert_eq!(
        terminal.expect(&format!("{PROMPT}cal")),
        format!("cal\r\n{PROMPT}cal")
    );
    assert!(!terminal.flags().cooked());
    terminal.send(b"\x15exit\r");
    assert!(terminal.wait_exit(DEADLINE).success());
    assert_eq!(terminal.flags(), terminal.initial_flags());
}

#[test]
fn a_resized_terminal_gets_the_line_drawn_for_its_new_width() {
    let mut terminal = Terminal::spawn(&["--lang", "en"], 30, 24);
    assert_eq!(terminal.expect(PROMPT), PROMPT);
    // 13 + 31 columns: on 30 columns, the `l` that fills the first row
    // has the line drawn again with the cursor on the next row (never in
    // the terminal's pending wrap); it ends on the second row, at column 14.
    terminal.send(b"call abcdefghijklmnopqrstuvwxyz");
    assert_eq!(
        terminal.expect("xyz"),
        format!("call abcdefghijk{ERASE}{PROMPT}call abcdefghijkl\r\nmnopqrstuvwxyz")
    );
    // Narrower: up one row to the prompt's, erase, and draw it on three
    // rows of 20 (the cursor after `z`, on the third row at column 4).
    terminal.resize(20, 24);
    assert_eq!(
        terminal.expect("xyz"),
        format!("\x1b[1A{ERASE}{PROMPT}call abcdefghijklmnopqrstuvwxyz")
    );
    // Home moves by the new width's rows: up 2, right 13.
    terminal.send(b"\x1b[H");
    assert_eq!(terminal.expect("C"), "\x1b[2A\x1b[9C");
    // Wider: the cursor (on the prompt's row) stays there; all of it on
    // one row, the cursor back before `call`.
    terminal.resize(80, 24);
    assert_eq!(
        terminal.expect("D"),
        format!("{ERASE}{PROMPT}call abcdefghijklmnopqrstuvwxyz\x1b[31D")
    );
    // Ctrl-K cuts it all; the editor still knows where it is.
    terminal.send(b"\x0b");
    assert_eq!(terminal.expect(PROMPT), format!("{ERASE}{PROMPT}"));
    exit_cleanly(terminal);
}
