//! A line editor on the reactor: Twisted's `HistoricRecvLine` echo shell.
//!
//! ```python
//! class Echo(recvline.HistoricRecvLine):
//!     def lineReceived(self, line):
//!         self.terminal.write(b"Echo: " + line)
//!         self.terminal.nextLine()
//!         self.drawInputLine()
//! ```
//!
//! Run: `cargo run --example line_editor` on a terminal: edit with the
//! arrows, Home/End, Backspace/Delete, Ctrl-U/K/W; Up and Down walk the
//! lines entered; Tab completes `hello`, `help`, `world`, `wonder`; a tick
//! every 3 seconds prints above the line being typed without disturbing
//! it; Ctrl-C drops the line; Ctrl-D on an empty line leaves. The editor
//! knows nothing of what the lines mean: this file is all the wiring.
//!
//! Without a terminal it reads the keys from stdin all the same (`\n` is
//! Enter, `\t` is Tab) and writes the screen's bytes, with no ticks: the
//! same input gives the same output, which `tests/examples.rs` checks.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use callcenter::reactor::{
    ConnectionLost, EditorAction, LineEditor, Protocol, Reactor, Transport, standard_io,
};
use callcenter::sys::{RawTerminal, terminal_width};

/// The words Tab completes.
const WORDS: [&str; 4] = ["hello", "help", "world", "wonder"];

/// The editor, shared by the input side and the ticking timer.
type Shared = Rc<RefCell<LineEditor>>;

/// Mirrors the `Echo(HistoricRecvLine)` above: key bytes to the editor,
/// each line echoed.
struct Echo {
    editor: Shared,
    reactor: Reactor,
    transport: Option<Transport>,
}

impl Echo {
    /// Writes the editor's screen bytes.
    fn send(&self, out: &mut Vec<u8>) {
        if let Some(transport) = &self.transport {
            transport.write(out);
        }
        out.clear();
    }
}

impl Protocol for Echo {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        let mut out = Vec::new();
        self.editor.borrow_mut().show(&mut out);
        self.send(&mut out);
    }

    fn data_received(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        let mut editor = self.editor.borrow_mut();
        editor.data_received(data);
        while let Some(action) = editor.next_action(&mut out) {
            match action {
                EditorAction::Line(line) => {
                    editor.print_above(&format!("Echo: {line}"), &mut out);
                    editor.show(&mut out);
                }
                EditorAction::Eof => {
                    if let Some(transport) = &self.transport {
                        transport.write(&out);
                        transport.lose_connection();
                    }
                    return;
                }
                // `^C` and a fresh prompt are already drawn; this example
                // does not stop itself on Ctrl-Z: it draws the line again.
                EditorAction::Cancel => {}
                EditorAction::Suspend => editor.show(&mut out),
            }
        }
        drop(editor);
        self.send(&mut out);
    }

    fn connection_lost(&mut self, _reason: ConnectionLost) {
        self.reactor.stop();
    }
}

/// Prints a tick above the line every 3 seconds, as output from
/// elsewhere would (Twisted's `Manhole.addOutput`).
fn tick(reactor: &Reactor, editor: Shared, transport: Transport, count: u32) {
    let next = reactor.clone();
    reactor.call_later(Duration::from_secs(3), move || {
        let mut out = Vec::new();
        editor
            .borrow_mut()
            .print_above(&format!("tick {count}"), &mut out);
        transport.write(&out);
        tick(&next, editor, transport, count + 1);
    });
}

fn main() -> std::io::Result<()> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    // Raw mode only on a terminal; restored when `terminal` drops.
    let terminal = RawTerminal::enter();
    let mut editor = LineEditor::new("> ", terminal_width().unwrap_or(80));
    editor.set_completer(|_before: &str, _word: &str| {
        WORDS.iter().map(|word| word.to_string()).collect()
    });
    let editor = Rc::new(RefCell::new(editor));
    let echo = Echo {
        editor: editor.clone(),
        reactor: reactor.clone(),
        transport: None,
    };
    let transport = standard_io(&reactor, echo)?;
    if terminal.is_some() {
        tick(&reactor, editor.clone(), transport, 1);
    }
    let result = reactor.run();
    let mut out = Vec::new();
    editor.borrow_mut().leave(&mut out);
    drop(terminal);
    if !out.is_empty() {
        let _ = callcenter::sys::write_stdout(&String::from_utf8_lossy(&out));
    }
    result
}
