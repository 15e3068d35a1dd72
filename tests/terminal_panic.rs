//! A panic and the terminal (SPEC §11: the terminal is restored on every
//! way out, a panic included), through a pseudo-terminal
//! (`tests/support/pty.rs`), in-process: the line editor and the reactor
//! as a program builds them, with a panic only a test can cause.
//!
//! Standard input must be the pty, which a test in libtest's threads
//! cannot arrange for itself, so this file has its own `main`: run plain,
//! it is the driver, and it starts its own binary again with
//! `TERMINAL_PANIC_CHILD` naming the program to be (`caught`, `uncaught`),
//! on a pty.
//!
//! - A panic the reactor catches (a timed call) runs the panic hook, which
//!   gives the terminal its cooked modes back; the loop goes on, and the
//!   line editor, told through `Reactor::on_unhandled_error`, takes raw
//!   mode back and draws the half-typed line again below the panic's
//!   message.
//! - A panic nothing catches ends the program with status 101 and the
//!   terminal's modes as they were before, restored by the panic hook alone
//!   (the editor is never dropped).

#[path = "support/pty.rs"]
mod pty;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use callcenter::reactor::{AfterEof, Channel, LineHandler, Reactor, Transport};
use callcenter::repl::{PROMPT, Screen, console_io};
use pty::{DEADLINE, Terminal};
use rustix::process::Signal;

/// Names the program the binary is to be, when it is the child.
const CHILD: &str = "TERMINAL_PANIC_CHILD";

/// The end of the standard panic hook's message, as the terminal shows it.
const PANIC_END: &str =
    "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\r\n";

fn main() {
    match std::env::var(CHILD).as_deref() {
        Ok("caught") => editor_with_a_panicking_timer(),
        Ok("uncaught") => raw_mode_then_a_panic_nothing_catches(),
        _ => {
            let tests: [(&str, fn()); 2] = [
                (
                    "a_caught_panic_leaves_the_editor_in_raw_mode_with_the_line_redrawn",
                    a_caught_panic_leaves_the_editor_in_raw_mode_with_the_line_redrawn,
                ),
                (
                    "an_uncaught_panic_gives_the_terminal_its_modes_back",
                    an_uncaught_panic_gives_the_terminal_its_modes_back,
                ),
            ];
            println!("\nrunning {} tests", tests.len());
            for (name, test) in tests {
                test();
                println!("test {name} ... ok");
            }
            println!();
        }
    }
}

/// The test's binary again, to be the program `child` on a pty.
fn child(child: &str) -> Terminal {
    let mut command = Command::new(std::env::current_exe().expect("the test's own path"));
    command.env(CHILD, child).env_remove("RUST_BACKTRACE");
    Terminal::spawn_command(command, 80, 24)
}

fn a_caught_panic_leaves_the_editor_in_raw_mode_with_the_line_redrawn() {
    let mut terminal = child("caught");
    assert_eq!(terminal.expect(PROMPT), PROMPT);
    assert!(terminal.initial_flags().cooked());
    assert!(!terminal.flags().cooked(), "the editor reads in raw mode");
    terminal.send(b"ab");
    assert_eq!(terminal.expect("ab"), "ab");
    // The program's SIGUSR1 schedules a timed call that panics.
    terminal.signal(Signal::USR1);
    // The standard hook starts its message on a row of its own.
    let message = terminal.expect(PANIC_END);
    assert!(
        message.starts_with("\r\nthread 'main'")
            && message.contains(" panicked at tests/terminal_panic.rs:")
            && message.ends_with(&format!(":\r\ntest-only panic in a timer\r\n{PANIC_END}")),
        "the standard hook's message after the line: {message:?}"
    );
    // Under the message, the prompt and the line, nothing else; the
    // terminal is raw again (it was put back before the line was drawn).
    assert_eq!(terminal.expect("ab"), format!("{PROMPT}ab"));
    assert!(!terminal.flags().cooked(), "raw mode is back");
    // The editor still edits: the key is its echo, Enter its line.
    terminal.send(b"c\x1b[D\x7f\r");
    assert_eq!(
        terminal.expect(&format!("\n{PROMPT}")),
        format!("c\x1b[1D\r\x1b[J{PROMPT}ac\x1b[1D\x1b[1C\r\nline: ac\r\n{PROMPT}")
    );
    terminal.send(b"exit\r");
    assert_eq!(terminal.wait_exit(DEADLINE).code(), Some(0));
    assert_eq!(terminal.flags(), terminal.initial_flags());
    assert!(!terminal.stdin_nonblocking());
}

fn an_uncaught_panic_gives_the_terminal_its_modes_back() {
    let mut terminal = child("uncaught");
    assert_eq!(terminal.expect("raw\r\n"), "raw\r\n");
    assert!(!terminal.flags().cooked(), "the editor put it in raw mode");
    terminal.send(b"x");
    assert_eq!(terminal.wait_exit(DEADLINE).code(), Some(101));
    assert_eq!(terminal.flags(), terminal.initial_flags());
    let screen = terminal.screen();
    assert!(
        screen.ends_with(&format!(":\r\ntest-only uncaught panic\r\n{PANIC_END}")),
        "the panic's message: {screen:?}"
    );
}

/// The child `caught`: the line editor on the reactor, each line printed
/// back; SIGUSR1 schedules a timed call that panics.
fn editor_with_a_panicking_timer() {
    let reactor = Reactor::new().expect("a reactor");
    let screen = Screen::for_stdin();
    let lines = PrintLines {
        screen: screen.clone(),
        reactor: reactor.clone(),
    };
    console_io(&reactor, &screen, lines).expect("standard I/O on the loop");
    let target = reactor.clone();
    reactor
        .on_signals(&[Signal::USR1.as_raw()], move |_| {
            target.call_later(Duration::ZERO, || panic!("test-only panic in a timer"));
        })
        .expect("SIGUSR1 on the loop");
    screen.prompt();
    reactor.run().expect("the loop");
    screen.finish();
}

/// Prints each line back (`line: TEXT`) and prompts again; `exit` or the
/// end of input stops the loop.
struct PrintLines {
    screen: Screen,
    reactor: Reactor,
}

impl LineHandler for PrintLines {
    fn connection_made(&mut self, _transport: Transport) {}

    fn line_received(&mut self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        if line == "exit" {
            self.reactor.stop();
            return;
        }
        self.screen.print(Channel::Out, &format!("line: {line}\n"));
        self.screen.prompt();
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.reactor.stop();
        AfterEof::Close
    }
}

/// The child `uncaught`: raw mode for the editor, then a panic nothing
/// catches once a key comes. The screen is forgotten, never dropped, so
/// only the panic hook can give the terminal its modes back.
fn raw_mode_then_a_panic_nothing_catches() {
    let screen = Screen::for_stdin();
    assert!(screen.is_interactive());
    std::mem::forget(screen);
    let mut stdout = std::io::stdout();
    stdout.write_all(b"raw\n").expect("stdout");
    stdout.flush().expect("stdout");
    let mut key = [0];
    let _ = std::io::stdin().read(&mut key);
    panic!("test-only uncaught panic");
}
