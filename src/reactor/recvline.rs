//! The line editor of the interactive terminal: key bytes in, screen bytes
//! and actions out.
//!
//! Mirrors `twisted.conch.recvline.HistoricRecvLine` over
//! `twisted.conch.insults`: a buffer, a cursor and a history, edited by
//! keys and redrawn with VT100 sequences. Like it, [`LineEditor`] knows
//! nothing of calls and does no I/O: the caller feeds it the bytes read
//! from a terminal in raw mode ([`LineEditor::data_received`]), pulls
//! [`EditorAction`]s ([`LineEditor::next_action`]), and writes the screen bytes
//! the editor appended to its output buffer. Messages from elsewhere go
//! through [`LineEditor::print_above`], which draws them above the line
//! being typed (Twisted's `Manhole.addOutput(data, isAsync=True)`).
//!
//! The cursor moves by grapheme cluster and columns are counted by display
//! width, so `ç`, `ã`, combining marks and emoji keep the cursor right;
//! lines longer than the terminal wrap, and the cursor is placed across the
//! wrapped rows.
//!
//! ```
//! use callcenter::reactor::{EditorAction, LineEditor};
//!
//! let mut editor = LineEditor::new("> ", 80);
//! let mut screen = Vec::new();
//! editor.show(&mut screen);
//! editor.data_received(b"cal\x1b[Dl\x7f\r");
//! assert_eq!(editor.next_action(&mut screen), Some(EditorAction::Line("cal".into())));
//! assert_eq!(editor.next_action(&mut screen), None);
//! ```

mod keys;
#[cfg(test)]
mod tests;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use keys::{Key, KeyDecoder};

/// What the editor asks its caller to do; the screen is already drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorAction {
    /// Enter: a whole line, without its line end (Twisted's
    /// `RecvLine.lineReceived`). The cursor is on a fresh row and the
    /// editor is hidden until [`LineEditor::show`] or the next key.
    Line(String),
    /// Ctrl-C: the line was dropped, `^C` written, and a fresh prompt drawn
    /// on a new row (Twisted's `Manhole.handle_INT`). Nothing to do.
    Cancel,
    /// Ctrl-D on an empty line: end of input (Twisted's
    /// `Manhole.handle_EOF`). The cursor is on a fresh row.
    Eof,
    /// Ctrl-Z: the caller should restore the terminal and stop the process
    /// (SIGTSTP), then after SIGCONT set raw mode again and call
    /// [`LineEditor::show`]. The partial line is kept; the cursor is on a
    /// fresh row.
    Suspend,
}

/// Candidates for Tab completion, supplied by the caller. Twisted's
/// `RecvLine` has no completion (its `handle_TAB` inserts a tab); this is
/// readline's completion function.
pub trait Completer {
    /// Words that could replace `word`, the word before the cursor;
    /// `before` is the line up to that word (empty or blank when `word` is
    /// the command word). Candidates not starting with `word` are ignored.
    fn complete(&mut self, before: &str, word: &str) -> Vec<String>;
}

impl<F: FnMut(&str, &str) -> Vec<String>> Completer for F {
    fn complete(&mut self, before: &str, word: &str) -> Vec<String> {
        self(before, word)
    }
}

/// Lines kept in the history; the oldest go first.
const HISTORY_LIMIT: usize = 1000;

/// A row and column on the screen, counted from the prompt's first cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cell {
    /// Rows below the prompt's row.
    row: usize,
    /// Columns from the left edge; equal to the width only at a line end
    /// that filled its row (the terminal's pending wrap).
    col: usize,
}

/// Where the prompt and the line put the cursor and the end.
struct Layout {
    /// Where the cursor is drawn.
    cursor: Cell,
    /// Just after the last character, before any pending wrap.
    end: Cell,
}

/// A line editor: Twisted's `HistoricRecvLine`, fed key bytes.
pub struct LineEditor {
    /// Drawn before the line.
    prompt: String,
    /// The line being edited.
    line: String,
    /// Byte offset of the cursor in `line`, on a grapheme boundary.
    cursor: usize,
    /// Lines entered in this session, oldest first (`historyLines`).
    history: Vec<String>,
    /// Which history line is shown; `history.len()` for the new line
    /// (`historyPosition`).
    history_at: usize,
    /// The new line, kept while browsing the history.
    draft: String,
    /// Terminal columns.
    width: usize,
    /// Longest line accepted, in bytes.
    max_length: usize,
    /// Input bytes waiting to become keys.
    keys: KeyDecoder,
    /// Supplies Tab completions.
    completer: Option<Box<dyn Completer>>,
    /// Whether the prompt and the line are on the screen.
    shown: bool,
    /// Where the terminal's cursor is, while shown.
    at: Cell,
    /// The last key was a Tab that left several candidates: the next Tab
    /// lists them.
    tab_pending: bool,
}

impl LineEditor {
    /// An editor for a terminal `width` columns wide, hidden until the
    /// first key or [`show`](Self::show). Lines are limited to 64 KiB.
    pub fn new(prompt: &str, width: usize) -> LineEditor {
        LineEditor {
            prompt: prompt.to_owned(),
            line: String::new(),
            cursor: 0,
            history: Vec::new(),
            history_at: 0,
            draft: String::new(),
            width: width.max(1),
            max_length: 64 * 1024,
            keys: KeyDecoder::default(),
            completer: None,
            shown: false,
            at: Cell::default(),
            tab_pending: false,
        }
    }

    /// Uses `completer` for Tab (without one, Tab rings the bell).
    pub fn set_completer(&mut self, completer: impl Completer + 'static) {
        self.completer = Some(Box::new(completer));
    }

    /// Limits lines to `bytes`; a key that would pass it rings the bell.
    pub fn set_max_length(&mut self, bytes: usize) {
        self.max_length = bytes;
    }

    /// Mirrors `RecvLine.terminalSize`: the terminal is now `cols` wide.
    /// Call [`redraw`](Self::redraw) after it (on SIGWINCH).
    pub fn set_width(&mut self, cols: usize) {
        self.width = cols.max(1);
    }

    /// Changes the prompt, redrawing the line if it is shown (Twisted's
    /// `Manhole.ps`).
    pub fn set_prompt(&mut self, prompt: &str, out: &mut Vec<u8>) {
        if self.shown {
            self.erase(out);
            self.prompt = prompt.to_owned();
            self.draw(out);
        } else {
            self.prompt = prompt.to_owned();
        }
    }

    /// The line being edited.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The cursor's byte offset in [`line`](Self::line).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The lines entered in this session, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Whether the prompt and the line are on the screen.
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// Mirrors `insults.ServerProtocol.dataReceived`: bytes read from the
    /// terminal, in any chunks; a key cut between chunks waits for the rest.
    /// [`next_action`](Self::next_action) decodes them.
    pub fn data_received(&mut self, bytes: &[u8]) {
        self.keys.push(bytes);
    }

    /// Handles the keys received so far, appending what the screen needs to
    /// `out`, up to and including the next key that ends in an action. Call
    /// it until `None`: stopping at each action lets the caller print a
    /// line's results before the keys typed after it are echoed.
    pub fn next_action(&mut self, out: &mut Vec<u8>) -> Option<EditorAction> {
        while let Some(key) = self.keys.next_key() {
            if let Some(action) = self.key_received(key, out) {
                return Some(action);
            }
        }
        None
    }

    /// Mirrors `Manhole.addOutput(data, isAsync=True)`: erases the prompt
    /// and the line, writes `text` (a missing final line end is added,
    /// `\n` becomes `\r\n`), then draws them again with the cursor where it
    /// was. When hidden, only writes `text`.
    pub fn print_above(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let shown = self.shown;
        if shown {
            self.erase(out);
        }
        let mut previous = 0;
        for &byte in text.as_bytes() {
            if byte == b'\n' && previous != b'\r' {
                out.push(b'\r');
            }
            out.push(byte);
            previous = byte;
        }
        if previous != b'\n' {
            out.extend_from_slice(b"\r\n");
        }
        if shown {
            self.draw(out);
        }
    }

    /// Mirrors `RecvLine.drawInputLine`: draws the prompt and the line, with
    /// the cursor where it was, if they are not on the screen. Assumes the
    /// terminal's cursor is at the start of an empty row.
    pub fn show(&mut self, out: &mut Vec<u8>) {
        if !self.shown {
            self.draw(out);
        }
    }

    /// Erases the prompt and the line and leaves the cursor at the start
    /// of the row the prompt was on (for a clean exit). The line is kept.
    pub fn hide(&mut self, out: &mut Vec<u8>) {
        if self.shown {
            self.erase(out);
        }
    }

    /// Leaves the prompt and the line on the screen and puts the cursor at
    /// the start of the row below them, as Enter would (for an exit while a
    /// line is being typed, so the shell's prompt starts on a fresh row).
    /// The editor is hidden; the line is kept.
    pub fn leave(&mut self, out: &mut Vec<u8>) {
        if self.shown {
            self.leave_line(out);
        }
    }

    /// Draws the prompt and the line afresh (after SIGCONT or
    /// [`set_width`](Self::set_width)); when shown, erases them first.
    pub fn redraw(&mut self, out: &mut Vec<u8>) {
        self.hide(out);
        self.draw(out);
    }

    /// Mirrors `RecvLine.keystrokeReceived`: one decoded key.
    fn key_received(&mut self, key: Key, out: &mut Vec<u8>) -> Option<EditorAction> {
        if !self.shown {
            self.draw(out);
        }
        let after_tab = std::mem::take(&mut self.tab_pending);
        match key {
            Key::Char(character) => self.insert(character.encode_utf8(&mut [0; 4]), out),
            Key::Enter => {
                self.leave_line(out);
                let line = std::mem::take(&mut self.line);
                self.cursor = 0;
                self.remember(&line);
                return Some(EditorAction::Line(line));
            }
            Key::Backspace => {
                let start = self.previous_boundary();
                self.remove(start..self.cursor, out);
            }
            Key::Delete => self.remove(self.cursor..self.next_boundary(), out),
            Key::Left => self.move_to(self.previous_boundary(), out),
            Key::Right => self.move_to(self.next_boundary(), out),
            Key::Home => self.move_to(0, out),
            Key::End => self.move_to(self.line.len(), out),
            Key::Up => self.browse_older(out),
            Key::Down => self.browse_newer(out),
            Key::Tab => self.complete(after_tab, out),
            Key::Control('c') => {
                self.move_to(self.line.len(), out);
                out.extend_from_slice(b"^C\r\n");
                self.shown = false;
                self.line.clear();
                self.cursor = 0;
                self.history_at = self.history.len();
                self.draft.clear();
                self.draw(out);
                return Some(EditorAction::Cancel);
            }
            Key::Control('d') if self.line.is_empty() => {
                self.leave_line(out);
                return Some(EditorAction::Eof);
            }
            Key::Control('d') => self.remove(self.cursor..self.next_boundary(), out),
            Key::Control('k') => self.remove(self.cursor..self.line.len(), out),
            Key::Control('u') => self.remove(0..self.cursor, out),
            Key::Control('w') => {
                let start = self.word_start(true);
                self.remove(start..self.cursor, out);
            }
            Key::Control('l') => {
                out.extend_from_slice(b"\x1b[H\x1b[2J");
                self.draw(out);
            }
            Key::Control('z') => {
                self.leave_line(out);
                return Some(EditorAction::Suspend);
            }
            Key::Control(_) | Key::Ignored => {}
        }
        None
    }

    /// Mirrors `RecvLine.characterReceived` in insert mode.
    fn insert(&mut self, text: &str, out: &mut Vec<u8>) {
        if self.line.len() + text.len() > self.max_length {
            out.push(0x07);
            return;
        }
        let at_end = self.cursor == self.line.len();
        self.line.insert_str(self.cursor, text);
        self.cursor += text.len();
        self.snap_cursor();
        let layout = self.layout();
        // Typing at the end of a row only needs the echo, as a terminal in
        // cooked mode would give; anything else redraws the line.
        let simple = at_end
            && layout.end.row == self.at.row
            && layout.end.col < self.width
            && layout.end.col == self.at.col + text.width();
        if simple {
            out.extend_from_slice(text.as_bytes());
            self.at = layout.end;
        } else {
            self.refresh(out);
        }
    }

    /// Deletes `range` of the line and leaves the cursor at its start.
    fn remove(&mut self, range: std::ops::Range<usize>, out: &mut Vec<u8>) {
        if range.is_empty() {
            return;
        }
        self.cursor = range.start;
        self.line.replace_range(range, "");
        self.snap_cursor();
        self.refresh(out);
    }

    /// Moves the cursor to byte `offset` of the line.
    fn move_to(&mut self, offset: usize, out: &mut Vec<u8>) {
        self.cursor = offset;
        let target = self.layout().cursor;
        move_cursor(out, self.at, target);
        self.at = target;
    }

    /// Mirrors `HistoricRecvLine.handle_UP`; the new line is kept aside.
    fn browse_older(&mut self, out: &mut Vec<u8>) {
        if self.history_at == 0 {
            return;
        }
        if self.history_at == self.history.len() {
            self.draft = std::mem::take(&mut self.line);
        }
        self.history_at -= 1;
        self.line = self.history[self.history_at].clone();
        self.cursor = self.line.len();
        self.refresh(out);
    }

    /// Mirrors `HistoricRecvLine.handle_DOWN`; past the newest line comes
    /// back the line that was being typed.
    fn browse_newer(&mut self, out: &mut Vec<u8>) {
        if self.history_at >= self.history.len() {
            return;
        }
        self.history_at += 1;
        self.line = if self.history_at == self.history.len() {
            std::mem::take(&mut self.draft)
        } else {
            self.history[self.history_at].clone()
        };
        self.cursor = self.line.len();
        self.refresh(out);
    }

    /// Adds an entered line to the history (not blank lines, nor the same
    /// line twice in a row) and goes back to a new line.
    fn remember(&mut self, line: &str) {
        if !line.trim().is_empty() && self.history.last().is_none_or(|last| last != line) {
            if self.history.len() == HISTORY_LIMIT {
                self.history.remove(0);
            }
            self.history.push(line.to_owned());
        }
        self.history_at = self.history.len();
        self.draft.clear();
    }

    /// Tab: one candidate completes the word and adds a space; several
    /// complete their common prefix, and a second Tab lists them above.
    fn complete(&mut self, after_tab: bool, out: &mut Vec<u8>) {
        let start = self.word_start(false);
        let word = self.line[start..self.cursor].to_owned();
        let mut candidates = match self.completer.as_mut() {
            Some(completer) => completer.complete(&self.line[..start], &word),
            None => Vec::new(),
        };
        candidates.retain(|candidate| candidate.starts_with(&word) && *candidate != word);
        candidates.sort();
        candidates.dedup();
        match candidates.as_slice() {
            [] => out.push(0x07),
            [only] => {
                let rest = format!("{} ", &only[word.len()..]);
                self.insert(&rest, out);
            }
            several => {
                let common = common_prefix(several);
                self.tab_pending = true;
                if common.len() > word.len() {
                    let rest = common[word.len()..].to_owned();
                    self.insert(&rest, out);
                } else if after_tab {
                    self.print_above(&several.join("  "), out);
                } else {
                    out.push(0x07);
                }
            }
        }
    }

    /// Start of the word before the cursor. With `skip_blanks` (Ctrl-W),
    /// blanks just before the cursor belong to the word.
    fn word_start(&self, skip_blanks: bool) -> usize {
        let before = &self.line[..self.cursor];
        let mut chars = before.char_indices().rev().peekable();
        if skip_blanks {
            while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        }
        while chars.next_if(|(_, c)| !c.is_whitespace()).is_some() {}
        chars.next().map_or(0, |(index, c)| index + c.len_utf8())
    }

    /// Byte offset of the grapheme boundary before the cursor.
    fn previous_boundary(&self) -> usize {
        let before = &self.line[..self.cursor];
        before
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(index, _)| index)
    }

    /// Byte offset of the grapheme boundary after the cursor.
    fn next_boundary(&self) -> usize {
        let after = &self.line[self.cursor..];
        self.cursor + after.graphemes(true).next().map_or(0, str::len)
    }

    /// Moves the cursor forward to a grapheme boundary: an insertion may
    /// have joined the characters around it into one cluster.
    fn snap_cursor(&mut self) {
        self.cursor = self
            .line
            .grapheme_indices(true)
            .map(|(index, grapheme)| index + grapheme.len())
            .chain([0])
            .filter(|&boundary| boundary >= self.cursor)
            .min()
            .unwrap_or(self.line.len());
    }

    /// Where the cursor and the end fall, wrapping as a terminal does: a
    /// character that does not fit in what is left of a row (a wide one in
    /// the last column) goes to the start of the next.
    fn layout(&self) -> Layout {
        let width = self.width;
        let mut at = Cell::default();
        for grapheme in self.prompt.graphemes(true) {
            at = place(at, grapheme.width(), width);
        }
        let mut cursor = None;
        for (index, grapheme) in self.line.grapheme_indices(true) {
            let columns = grapheme.width();
            if cursor.is_none() && index >= self.cursor {
                cursor = Some(start_of(at, columns.max(1), width));
            }
            at = place(at, columns, width);
        }
        Layout {
            cursor: cursor.unwrap_or_else(|| start_of(at, 1, width)),
            end: at,
        }
    }

    /// Writes the prompt and the line from the start of the prompt's row,
    /// then puts the cursor in place.
    fn draw(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.prompt.as_bytes());
        out.extend_from_slice(self.line.as_bytes());
        let layout = self.layout();
        let end = start_of(layout.end, 1, self.width);
        if end != layout.end {
            // The text filled its last row: move to the next one, so the
            // cursor never rests in the terminal's pending wrap.
            out.extend_from_slice(b"\r\n");
        }
        move_cursor(out, end, layout.cursor);
        self.at = layout.cursor;
        self.shown = true;
    }

    /// Erases the prompt and the line; the cursor ends at the prompt's
    /// first cell.
    fn erase(&mut self, out: &mut Vec<u8>) {
        move_cursor(out, self.at, Cell::default());
        out.extend_from_slice(b"\x1b[J");
        self.at = Cell::default();
        self.shown = false;
    }

    /// Erases and draws again.
    fn refresh(&mut self, out: &mut Vec<u8>) {
        self.erase(out);
        self.draw(out);
    }

    /// Puts the cursor at the start of the row after the line, leaving the
    /// line on the screen, and marks the editor hidden.
    fn leave_line(&mut self, out: &mut Vec<u8>) {
        let layout = self.layout();
        let end = start_of(layout.end, 1, self.width);
        move_cursor(out, self.at, end);
        if end == layout.end {
            out.extend_from_slice(b"\r\n");
        }
        self.at = Cell::default();
        self.shown = false;
    }
}

/// Where a character `columns` wide starts when the previous one ended at
/// `at`.
fn start_of(at: Cell, columns: usize, width: usize) -> Cell {
    if at.col > 0 && at.col + columns > width {
        Cell {
            row: at.row + 1,
            col: 0,
        }
    } else {
        at
    }
}

/// Where a character `columns` wide ends when the previous one ended at
/// `at`.
fn place(at: Cell, columns: usize, width: usize) -> Cell {
    let start = start_of(at, columns, width);
    Cell {
        row: start.row,
        col: start.col + columns,
    }
}

/// Appends the VT100 moves from `from` to `to`.
fn move_cursor(out: &mut Vec<u8>, from: Cell, to: Cell) {
    if to.row < from.row {
        out.extend_from_slice(format!("\x1b[{}A", from.row - to.row).as_bytes());
    } else if to.row > from.row {
        out.extend_from_slice(format!("\x1b[{}B", to.row - from.row).as_bytes());
    }
    if to.col > from.col {
        out.extend_from_slice(format!("\x1b[{}C", to.col - from.col).as_bytes());
    } else if to.col == 0 && from.col > 0 {
        out.push(b'\r');
    } else if to.col < from.col {
        out.extend_from_slice(format!("\x1b[{}D", from.col - to.col).as_bytes());
    }
}

/// The longest prefix every candidate shares, cut on a character boundary.
fn common_prefix(candidates: &[String]) -> &str {
    let first = candidates[0].as_str();
    let mut length = first.len();
    for other in &candidates[1..] {
        length = first
            .char_indices()
            .zip(other.chars())
            .find(|((_, a), b)| a != b)
            .map_or(length.min(other.len()), |((index, _), _)| index)
            .min(length);
    }
    &first[..length]
}
