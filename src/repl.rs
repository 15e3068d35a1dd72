//! What standalone and client share at the console: the prompt, the line
//! limit, the error for a longer line, how a failed standard I/O ends, and
//! the interactive terminal (SPEC §11).
//!
//! Both read commands with [`console_io`]: a [`LineHandler`] gets each
//! command line (Python's `cmd.Cmd` as a line protocol) and prints through
//! a [`Screen`]. When stdin is not a terminal the lines come from a
//! [`LineReceiver`] and the screen writes straight to standard I/O, as
//! before any terminal support. When it is a terminal, the terminal goes
//! to raw mode and a [`LineEditor`] turns the keys into lines; whatever is
//! printed while a line is being typed goes above it, and the prompt and
//! the partial line are drawn again (the `twisted.conch.manhole` way: an
//! editor shown under output that comes from elsewhere). This module keeps
//! both modes agreeing byte for byte.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{self, IsTerminal};
use std::rc::Rc;
use std::time::Duration;

use log::debug;

use crate::command::{Command, CommandError, Verb, parse_line};
use crate::error::RunError;
use crate::reactor::{
    AfterEof, Channel, ConnectionLost, EditorAction, LineEditor, LineHandler, LineReceiver,
    Overflow, Protocol, Reactor, Transport, standard_io, stdin_is_terminal,
};
use crate::sys::{RawTerminal, set_terminal_nonblocking, stop_self, terminal_width, write_stdout};

/// The prompt shown when stdin is a terminal (as Python's `cmd` shows one).
pub const PROMPT: &str = "(callcenter) ";

/// Longest command line accepted; longer ones get an error and are skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// The error for a command line over [`MAX_LINE`], judged by how it
/// starts: a long id is a usage error, a long unknown word an unknown command.
pub fn overlong_line_error(line: &[u8]) -> CommandError {
    match parse_line(&line[..line.len().min(MAX_LINE)]) {
        Err(error) => error,
        Ok(Some(Command::Queue(request))) => CommandError::Usage(request.verb),
        Ok(Some(Command::Help(_))) => CommandError::Usage(Verb::Help),
        Ok(Some(Command::Exit)) => CommandError::Usage(Verb::Exit),
        Ok(None) => CommandError::UnknownCommand(String::new()),
    }
}

/// Whether standard I/O ending for `reason` is a failure, and which. A
/// reader that went away (`| head`) is a normal end; a full disk or an
/// unreadable input (a directory) is not.
pub fn stdio_failure(reason: &ConnectionLost) -> Option<RunError> {
    match reason {
        ConnectionLost::Error(error) if error.kind() != io::ErrorKind::BrokenPipe => Some(
            RunError::Stdio(io::Error::new(error.kind(), error.to_string())),
        ),
        _ => None,
    }
}

/// Columns assumed when the terminal does not say.
const DEFAULT_WIDTH: usize = 80;

/// Operator ids the client remembers for completion, at most.
const MAX_KNOWN_IDS: usize = 1024;

/// Whether `verb`'s argument is an operator id (completed from the known
/// operators; other ids are call ids, which are not completed).
pub fn takes_operator(verb: Verb) -> bool {
    matches!(verb, Verb::Answer | Verb::Reject)
}

/// Tab completion for command lines: the command word (canonical words
/// and aliases), a command word after `help`, and an operator id after a
/// verb that [`takes_operator`], from `operators`.
pub fn command_completer(
    mut operators: impl FnMut() -> Vec<String> + 'static,
) -> impl FnMut(&str, &str) -> Vec<String> + 'static {
    move |before: &str, _word: &str| {
        let mut words = before.split_whitespace();
        match (words.next(), words.next()) {
            (None, _) => command_words(),
            (Some(first), None) => match Verb::from_word(first) {
                Some(Verb::Help) => command_words(),
                Some(verb) if takes_operator(verb) => operators(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// Every command word: the canonical ones and their aliases.
fn command_words() -> Vec<String> {
    Verb::ALL
        .into_iter()
        .flat_map(|verb| std::iter::once(verb.word()).chain(verb.aliases().iter().copied()))
        .map(str::to_owned)
        .collect()
}

/// The operator ids the client knows (its completion): those typed in
/// this session, and every operator a `status` reply listed (its JSON,
/// not its localized text, whose wording would tie the client to it).
/// Before the first `status` the client has no list of the server's.
#[derive(Clone, Default)]
pub struct KnownIds {
    ids: Rc<RefCell<BTreeSet<String>>>,
}

impl KnownIds {
    /// Remembers `id` (up to a bound, so a long session cannot grow it).
    pub fn insert(&self, id: &str) {
        let mut ids = self.ids.borrow_mut();
        if ids.len() < MAX_KNOWN_IDS {
            ids.insert(id.to_owned());
        }
    }

    /// The ids remembered so far, sorted.
    pub fn list(&self) -> Vec<String> {
        self.ids.borrow().iter().cloned().collect()
    }
}

/// How the console shows itself.
enum Kind {
    /// stdin is not a terminal: no prompt, no echo.
    Plain,
    /// A terminal that could not be put in raw mode: the terminal echoes
    /// and edits lines, the prompt is written after each line.
    Cooked {
        /// The prompt is on the screen and nothing was typed after it
        /// that the program has seen.
        prompt_shown: bool,
    },
    /// The line editor, on a terminal in raw mode.
    Editor(Box<Edited>),
}

/// The line editor and the terminal it owns.
struct Edited {
    editor: LineEditor,
    /// Restores the terminal when dropped.
    terminal: RawTerminal,
    /// The terminal writes `\r\n` for `\n` (`ONLCR`): the editor's `\r\n`
    /// go out as `\n`, so the screen gets the bytes it got in cooked mode.
    tty_adds_cr: bool,
    /// A Ctrl-Z stop redrew the line when it returned: the SIGCONT that
    /// continued it need not draw it again.
    redrawn_after_stop: bool,
}

/// The state behind a [`Screen`].
struct ScreenState {
    transport: Option<Transport>,
    kind: Kind,
    /// The editor's screen bytes, reused.
    out: Vec<u8>,
}

/// Where a console prints: standard I/O, under a prompt on a terminal.
///
/// A cheap handle (clones share one screen), kept by everything that
/// prints: the line handler, the queue's event sink, the client's server
/// side. [`print`](Screen::print) writes a line's messages as they are
/// when the prompt is not shown, and above the prompt and the partial line
/// when it is; [`prompt`](Screen::prompt) shows the prompt.
#[derive(Clone)]
pub struct Screen {
    state: Rc<RefCell<ScreenState>>,
}

impl Screen {
    /// The screen for this process's standard I/O: plain when stdin is
    /// not a terminal; else the line editor, with the terminal in raw mode
    /// until [`finish`](Screen::finish) (cooked lines if raw mode cannot
    /// be set).
    pub fn for_stdin() -> Screen {
        let kind = if !stdin_is_terminal() {
            Kind::Plain
        } else {
            match RawTerminal::enter() {
                Some(terminal) => {
                    let mut editor =
                        LineEditor::new(PROMPT, terminal_width().unwrap_or(DEFAULT_WIDTH));
                    editor.set_max_length(MAX_LINE);
                    Kind::Editor(Box::new(Edited {
                        editor,
                        tty_adds_cr: terminal.adds_carriage_returns(),
                        terminal,
                        redrawn_after_stop: false,
                    }))
                }
                None => Kind::Cooked {
                    prompt_shown: false,
                },
            }
        };
        Screen::of_kind(kind)
    }

    /// A screen that is not a terminal: no prompt, no echo (stdin a pipe
    /// or a file, or a test's memory transport).
    pub fn plain() -> Screen {
        Screen::of_kind(Kind::Plain)
    }

    /// A terminal left in its cooked mode: the terminal edits and echoes
    /// lines, the program writes the prompt after each (what a terminal
    /// that refuses raw mode gets; tests use it to see the prompt).
    pub fn cooked() -> Screen {
        Screen::of_kind(Kind::Cooked {
            prompt_shown: false,
        })
    }

    fn of_kind(kind: Kind) -> Screen {
        Screen {
            state: Rc::new(RefCell::new(ScreenState {
                transport: None,
                kind,
                out: Vec::new(),
            })),
        }
    }

    /// Whether stdin is a terminal (a prompt is shown).
    pub fn is_interactive(&self) -> bool {
        !matches!(self.state.borrow().kind, Kind::Plain)
    }

    /// Uses `completer` for Tab (only the line editor completes).
    pub fn set_completer(&self, completer: impl crate::reactor::Completer + 'static) {
        if let Kind::Editor(edited) = &mut self.state.borrow_mut().kind {
            edited.editor.set_completer(completer);
        }
    }

    /// Prints `text` (whole lines) on `channel`: directly, or above the
    /// prompt and the line being typed when they are shown (then drawn
    /// again, the cursor where it was).
    pub fn print(&self, channel: Channel, text: &str) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let Some(transport) = state.transport.clone() else {
            return;
        };
        match &mut state.kind {
            Kind::Plain => transport.write_to(channel, text.as_bytes()),
            Kind::Cooked { prompt_shown } => {
                if *prompt_shown {
                    // Off the prompt's line, then the prompt again.
                    transport.write(b"\n");
                    transport.write_to(channel, text.as_bytes());
                    if !transport.disconnecting() {
                        transport.write(PROMPT.as_bytes());
                    }
                } else {
                    transport.write_to(channel, text.as_bytes());
                }
            }
            Kind::Editor(edited) => {
                if !edited.editor.is_shown() {
                    transport.write_to(channel, text.as_bytes());
                    return;
                }
                match channel {
                    Channel::Out => edited.editor.print_above(text, &mut state.out),
                    Channel::Err => {
                        edited.editor.hide(&mut state.out);
                        send(edited, &mut state.out, &transport);
                        transport.write_err(text.as_bytes());
                        edited.editor.show(&mut state.out);
                    }
                }
                send(edited, &mut state.out, &transport);
            }
        }
    }

    /// Shows the prompt (and the line kept from before, in the editor),
    /// unless standard I/O is closing.
    pub fn prompt(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let Some(transport) = state.transport.clone() else {
            return;
        };
        if transport.disconnecting() {
            return;
        }
        match &mut state.kind {
            Kind::Plain => {}
            Kind::Cooked { prompt_shown } => {
                transport.write(PROMPT.as_bytes());
                *prompt_shown = true;
            }
            Kind::Editor(edited) => {
                edited.editor.show(&mut state.out);
                send(edited, &mut state.out, &transport);
            }
        }
    }

    /// End of input while the prompt is shown (Ctrl-D): leaves the shell's
    /// prompt a row of its own.
    pub fn end_of_input(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let Some(transport) = state.transport.clone() else {
            return;
        };
        match &mut state.kind {
            Kind::Plain => {}
            Kind::Cooked { prompt_shown } => {
                if std::mem::take(prompt_shown) {
                    transport.write(b"\n");
                }
            }
            Kind::Editor(edited) => {
                edited.editor.leave(&mut state.out);
                send(edited, &mut state.out, &transport);
            }
        }
    }

    /// After the loop ended (exit, end of input, a signal): leaves a line
    /// still shown for a fresh row and gives the terminal its modes back.
    pub fn finish(&self) {
        let mut state = self.state.borrow_mut();
        if let Kind::Editor(edited) = &mut state.kind {
            let mut out = Vec::new();
            edited.editor.leave(&mut out);
            if !out.is_empty() {
                let out = for_terminal(&out, edited.tty_adds_cr);
                let _ = write_stdout(&String::from_utf8_lossy(&out));
            }
        }
        // Dropping the editor's terminal restores its modes.
        state.kind = Kind::Plain;
        state.transport = None;
    }

    fn attach(&self, transport: Transport) {
        self.state.borrow_mut().transport = Some(transport);
    }

    /// A line was typed (cooked mode): the prompt is no longer the last
    /// thing on the screen.
    fn line_taken(&self) {
        if let Kind::Cooked { prompt_shown } = &mut self.state.borrow_mut().kind {
            *prompt_shown = false;
        }
    }

    fn feed(&self, data: &[u8]) {
        if let Kind::Editor(edited) = &mut self.state.borrow_mut().kind {
            edited.editor.data_received(data);
        }
    }

    /// The editor's next action, its screen bytes sent.
    fn next_action(&self) -> Option<EditorAction> {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let transport = state.transport.clone()?;
        let Kind::Editor(edited) = &mut state.kind else {
            return None;
        };
        let action = edited.editor.next_action(&mut state.out);
        send(edited, &mut state.out, &transport);
        action
    }

    /// Gets SIGCONT (resume after a stop) and SIGWINCH (a new width) on
    /// the loop.
    fn watch_signals(&self, reactor: &Reactor) -> io::Result<()> {
        let screen = self.clone();
        let target = reactor.clone();
        reactor.on_signals(
            &[signal_hook::consts::SIGCONT, signal_hook::consts::SIGWINCH],
            move |signal| {
                if signal == signal_hook::consts::SIGWINCH {
                    screen.resized();
                } else {
                    screen.resume(&target, false);
                }
            },
        )
    }

    /// Ctrl-Z: stops the process once the editor's last bytes are out
    /// (a timer runs after the loop flushed them).
    fn suspend_soon(&self, reactor: &Reactor) {
        let screen = self.clone();
        let target = reactor.clone();
        reactor.call_later(Duration::ZERO, move || screen.suspend(&target));
    }

    /// Restores the terminal, stops with SIGTSTP's default action, and
    /// once continued takes the terminal back.
    fn suspend(&self, reactor: &Reactor) {
        if let Kind::Editor(edited) = &self.state.borrow().kind {
            edited.terminal.restore();
        } else {
            return;
        }
        set_terminal_nonblocking(false);
        debug!("stopping (Ctrl-Z)");
        stop_self();
        // Continued; or never stopped: an orphaned process group (no
        // shell to resume it) ignores SIGTSTP.
        self.resume(reactor, true);
    }

    /// Back from a stop: raw mode, non-blocking, the line drawn again,
    /// and the timers that fell due meanwhile run at once.
    fn resume(&self, reactor: &Reactor, after_ctrl_z: bool) {
        {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let Some(transport) = state.transport.clone() else {
                return;
            };
            let Kind::Editor(edited) = &mut state.kind else {
                return;
            };
            if let Err(error) = edited.terminal.set_raw() {
                debug!("raw mode after a stop: {error}");
            }
            set_terminal_nonblocking(true);
            let redraw = if after_ctrl_z {
                edited.redrawn_after_stop = true;
                true
            } else {
                !std::mem::take(&mut edited.redrawn_after_stop)
            };
            if redraw {
                if edited.editor.is_shown() {
                    // Stopped from outside while shown: the shell wrote
                    // below it; start on the row the cursor is on.
                    edited.editor.leave(&mut Vec::new());
                }
                edited.editor.show(&mut state.out);
                send(edited, &mut state.out, &transport);
            }
        }
        reactor.run_due_timers();
    }

    /// Takes the terminal back after each panic the loop catches.
    ///
    /// The panic hook (`sys.rs`) gives the terminal its cooked modes back
    /// on every panic, as it must: it cannot tell a panic the reactor will
    /// catch from one that ends the program (`panic = "abort"`, a panic
    /// while unwinding, one outside the loop). When the reactor caught it
    /// and goes on (a timed call, a signal handler, a protocol other than
    /// standard input's), it tells its unhandled-error observers, and this
    /// one puts raw mode back and draws the line again. The reactor knows
    /// nothing of terminals; the editor is the one that cares.
    fn watch_unhandled_errors(&self, reactor: &Reactor) {
        let screen = self.clone();
        reactor.on_unhandled_error(move |_place, _message| screen.after_caught_panic());
    }

    /// Raw mode again and the line redrawn, after the panic hook restored
    /// the terminal and printed the panic on stderr.
    fn after_caught_panic(&self) {
        // Never busy here (a borrow ends as the panic unwinds through it);
        // if it were, there would be no editor state to trust.
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return;
        };
        let state = &mut *state;
        let Some(transport) = state.transport.clone() else {
            return;
        };
        let Kind::Editor(edited) = &mut state.kind else {
            return;
        };
        if let Err(error) = edited.terminal.set_raw() {
            debug!("raw mode after a caught panic: {error}");
        }
        if edited.editor.is_shown() {
            if io::stderr().is_terminal() {
                // The panic's message went below the line and ended its
                // row: draw the line afresh on the row the cursor is on.
                edited.editor.leave(&mut Vec::new());
                edited.editor.show(&mut state.out);
            } else {
                edited.editor.redraw(&mut state.out);
            }
            send(edited, &mut state.out, &transport);
        }
    }

    /// SIGWINCH: the terminal's new width, and the line drawn for it.
    fn resized(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let Some(transport) = state.transport.clone() else {
            return;
        };
        if let Kind::Editor(edited) = &mut state.kind {
            edited
                .editor
                .set_width(terminal_width().unwrap_or(DEFAULT_WIDTH));
            if edited.editor.is_shown() {
                edited.editor.redraw(&mut state.out);
                send(edited, &mut state.out, &transport);
            }
        }
    }
}

/// Writes the editor's screen bytes to stdout and empties `out`.
fn send(edited: &Edited, out: &mut Vec<u8>, transport: &Transport) {
    if !out.is_empty() {
        transport.write(&for_terminal(out, edited.tty_adds_cr));
        out.clear();
    }
}

/// The editor writes `\r\n` to end a row; a terminal that adds the `\r`
/// itself (`ONLCR`) gets `\n` alone, or it would show `\r\r\n`.
fn for_terminal(bytes: &[u8], tty_adds_cr: bool) -> Vec<u8> {
    if !tty_adds_cr {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'\r' && bytes.get(index + 1) == Some(&b'\n') {
            continue;
        }
        out.push(byte);
    }
    out
}

/// Connects `handler` to standard I/O, printing through `screen`: lines
/// from a [`LineReceiver`] (at most [`MAX_LINE`] bytes), or from the line
/// editor when `screen` has one (the terminal's signals SIGCONT and
/// SIGWINCH then watched on `reactor`).
pub fn console_io<H: LineHandler + 'static>(
    reactor: &Reactor,
    screen: &Screen,
    handler: H,
) -> io::Result<Transport> {
    let edited = matches!(screen.state.borrow().kind, Kind::Editor(_));
    if edited {
        screen.watch_signals(reactor)?;
        screen.watch_unhandled_errors(reactor);
        standard_io(
            reactor,
            EditedLines {
                handler,
                screen: screen.clone(),
                reactor: reactor.clone(),
                transport: None,
                ended: false,
            },
        )
    } else {
        standard_io(reactor, plain_lines(screen, handler))
    }
}

/// `handler` as a protocol of lines of at most [`MAX_LINE`] bytes, printing
/// on `screen` without the line editor: what standard I/O runs when stdin
/// is not a terminal, and what tests run over
/// [`Transport::memory()`](crate::reactor::Transport::memory).
pub fn plain_lines<H: LineHandler + 'static>(
    screen: &Screen,
    handler: H,
) -> LineReceiver<impl LineHandler + use<H>> {
    let lines = Lines {
        handler,
        screen: screen.clone(),
    };
    LineReceiver::new(lines).with_max_length(MAX_LINE)
}

/// Lines from a [`LineReceiver`], for a handler that prints on a screen.
struct Lines<H> {
    handler: H,
    screen: Screen,
}

impl<H: LineHandler> LineHandler for Lines<H> {
    fn connection_made(&mut self, transport: Transport) {
        self.screen.attach(transport.clone());
        self.handler.connection_made(transport);
    }

    fn line_received(&mut self, line: &[u8]) {
        self.screen.line_taken();
        self.handler.line_received(line);
    }

    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        self.screen.line_taken();
        self.handler.line_length_exceeded(line)
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        self.handler.read_connection_lost()
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.handler.connection_lost(reason);
    }
}

/// Lines from the line editor: standard input's key bytes go to the
/// editor, and its actions to the handler (Twisted's `HistoricRecvLine`
/// calling `lineReceived`).
struct EditedLines<H> {
    handler: H,
    screen: Screen,
    reactor: Reactor,
    transport: Option<Transport>,
    /// Ctrl-D or end of input: keys are no longer read.
    ended: bool,
}

impl<H: LineHandler> EditedLines<H> {
    /// Hands out the editor's actions until it needs more keys, reading
    /// pauses (the keys wait in the editor), or input ends.
    fn run_keys(&mut self) {
        let Some(transport) = self.transport.clone() else {
            return;
        };
        while !self.ended && !transport.reading_paused() && !transport.disconnecting() {
            let Some(action) = self.screen.next_action() else {
                return;
            };
            match action {
                EditorAction::Line(line) => self.handler.line_received(line.as_bytes()),
                // The editor drew the `^C` and a fresh prompt.
                EditorAction::Cancel => {}
                EditorAction::Eof => {
                    self.ended = true;
                    if self.handler.read_connection_lost() == AfterEof::Close {
                        transport.lose_connection();
                    }
                }
                EditorAction::Suspend => self.screen.suspend_soon(&self.reactor),
            }
        }
    }
}

impl<H: LineHandler> Protocol for EditedLines<H> {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport.clone());
        self.screen.attach(transport.clone());
        self.handler.connection_made(transport);
    }

    fn data_received(&mut self, data: &[u8]) {
        if !self.ended {
            self.screen.feed(data);
            self.run_keys();
        }
    }

    fn resume_producing(&mut self) {
        self.run_keys();
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        if std::mem::replace(&mut self.ended, true) {
            // Ctrl-D came first: the handler has already been told.
            return AfterEof::KeepWriting;
        }
        self.handler.read_connection_lost()
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        self.handler.connection_lost(reason);
    }
}
