//! Key bytes in, exact screen bytes and actions out: no terminal needed.

use super::*;

/// Feeds `bytes` and pulls every action: the screen bytes written and the
/// actions, in order.
fn feed(editor: &mut LineEditor, bytes: &[u8]) -> (String, Vec<EditorAction>) {
    editor.data_received(bytes);
    let mut out = Vec::new();
    let mut actions = Vec::new();
    while let Some(action) = editor.next_action(&mut out) {
        actions.push(action);
    }
    (
        String::from_utf8(out).expect("the editor writes UTF-8"),
        actions,
    )
}

/// Only the screen bytes of `feed`, checking that no action came.
fn keys(editor: &mut LineEditor, bytes: &[u8]) -> String {
    let (screen, actions) = feed(editor, bytes);
    assert_eq!(actions, [], "unexpected actions for {bytes:?}");
    screen
}

/// An editor `width` columns wide with the prompt `> ` already drawn.
fn shown(width: usize) -> LineEditor {
    let mut editor = LineEditor::new("> ", width);
    let mut out = Vec::new();
    editor.show(&mut out);
    assert_eq!(out, b"> ");
    editor
}

/// An editor holding `text`, cursor at its end.
fn typed(width: usize, text: &str) -> LineEditor {
    let mut editor = shown(width);
    assert_eq!(keys(&mut editor, text.as_bytes()), text);
    editor
}

fn line(text: &str) -> EditorAction {
    EditorAction::Line(text.to_owned())
}

#[test]
fn the_first_key_draws_the_prompt() {
    let mut editor = LineEditor::new("(callcenter) ", 80);
    assert!(!editor.is_shown());
    assert_eq!(keys(&mut editor, b"c"), "(callcenter) c");
    assert!(editor.is_shown());
}

#[test]
fn enter_submits_the_line_and_hides_the_editor() {
    let mut editor = shown(80);
    let (screen, actions) = feed(&mut editor, b"ab\r");
    assert_eq!(screen, "ab\r\n");
    assert_eq!(actions, [line("ab")]);
    assert!(!editor.is_shown());
    assert_eq!(editor.line(), "");
}

#[test]
fn crlf_is_one_enter_however_it_is_chunked() {
    let mut editor = shown(80);
    assert_eq!(
        feed(&mut editor, b"a\r\nb\n"),
        ("a\r\n> b\r\n".into(), vec![line("a"), line("b")])
    );
    assert_eq!(
        feed(&mut editor, b"c\r"),
        ("> c\r\n".into(), vec![line("c")])
    );
    assert_eq!(feed(&mut editor, b"\n"), (String::new(), vec![]));
    let (screen, actions) = feed(&mut editor, b"\r\r\n");
    assert_eq!(screen, "> \r\n> \r\n");
    assert_eq!(actions, [line(""), line("")]);
}

#[test]
fn each_action_stops_the_pull_so_output_can_come_between() {
    let mut editor = shown(80);
    editor.data_received(b"a\rb");
    let mut out = Vec::new();
    assert_eq!(editor.next_action(&mut out), Some(line("a")));
    editor.print_above("Chamada a recebida", &mut out);
    assert_eq!(editor.next_action(&mut out), None);
    assert_eq!(out, b"a\r\nChamada a recebida\r\n> b");
}

#[test]
fn left_right_and_insert_in_the_middle() {
    let mut editor = typed(80, "abc");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x1b[C"), "\x1b[1C");
    assert_eq!(keys(&mut editor, b"\x1b[D\x02"), "\x1b[1D\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x06"), "\x1b[1C");
    assert_eq!(keys(&mut editor, b"X"), "\r\x1b[J> abXc\x1b[1D");
    assert_eq!((editor.line(), editor.cursor()), ("abXc", 3));
    // Already at the ends: nothing moves.
    assert_eq!(keys(&mut editor, b"\x1b[C\x1b[C"), "\x1b[1C");
    assert_eq!(keys(&mut editor, b"\x01\x1b[D"), "\x1b[4D");
}

#[test]
fn home_and_end_in_every_encoding() {
    let homes: [&[u8]; 6] = [
        b"\x1b[H",
        b"\x1bOH",
        b"\x1b[1~",
        b"\x1b[7~",
        b"\x01",
        b"\x1b[1;2H",
    ];
    let ends: [&[u8]; 6] = [
        b"\x1b[F",
        b"\x1bOF",
        b"\x1b[4~",
        b"\x1b[8~",
        b"\x05",
        b"\x1b[1;2F",
    ];
    let mut editor = typed(80, "abc");
    for (home, end) in homes.iter().zip(ends) {
        assert_eq!(keys(&mut editor, home), "\x1b[3D", "{home:?}");
        assert_eq!(editor.cursor(), 0);
        assert_eq!(keys(&mut editor, end), "\x1b[3C", "{end:?}");
        assert_eq!(editor.cursor(), 3);
    }
}

#[test]
fn backspace_in_both_encodings_and_delete() {
    let mut editor = typed(80, "abcd");
    assert_eq!(keys(&mut editor, b"\x7f"), "\r\x1b[J> abc");
    assert_eq!(keys(&mut editor, b"\x08"), "\r\x1b[J> ab");
    assert_eq!(keys(&mut editor, b"\x01\x7f"), "\x1b[2D");
    assert_eq!(keys(&mut editor, b"\x1b[3~"), "\r\x1b[J> b\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x05\x1b[3~"), "\x1b[1C");
    assert_eq!(editor.line(), "b");
}

#[test]
fn ctrl_u_k_and_w_kill_parts_of_the_line() {
    let mut editor = typed(80, "abc");
    assert_eq!(
        keys(&mut editor, b"\x1b[D\x15"),
        "\x1b[1D\r\x1b[J> c\x1b[1D"
    );
    assert_eq!(editor.line(), "c");

    let mut editor = typed(80, "abc");
    assert_eq!(
        keys(&mut editor, b"\x01\x1b[C\x0b"),
        "\x1b[3D\x1b[1C\r\x1b[J> a"
    );

    let mut editor = typed(80, "answer B  ");
    assert_eq!(keys(&mut editor, b"\x17"), "\r\x1b[J> answer ");
    assert_eq!(keys(&mut editor, b"\x17"), "\r\x1b[J> ");
    assert_eq!(keys(&mut editor, b"\x17"), "");
}

#[test]
fn escape_sequences_split_across_chunks() {
    let mut editor = typed(80, "abc");
    assert_eq!(keys(&mut editor, b"\x1b"), "");
    assert_eq!(keys(&mut editor, b"["), "");
    assert_eq!(keys(&mut editor, b"D"), "\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x1b[3"), "");
    assert_eq!(keys(&mut editor, b"~"), "\r\x1b[J> ab");
    assert_eq!(keys(&mut editor, b"\x1bO"), "");
    assert_eq!(keys(&mut editor, b"H"), "\x1b[2D");
    for byte in b"\x1b[1;5C" {
        keys(&mut editor, &[*byte]);
    }
    assert_eq!(editor.cursor(), 1);
}

#[test]
fn unknown_sequences_and_control_keys_are_dropped() {
    let mut editor = typed(80, "ab");
    let noise = b"\x1bOP\x1b[15~\x1bx\x1b[200~\x00\x1c\x07\x1b[Z";
    assert_eq!(keys(&mut editor, noise), "");
    let mut endless = b"\x1b[".to_vec();
    endless.extend([b'1'; 20]);
    assert_eq!(keys(&mut editor, &endless), "");
    assert_eq!(keys(&mut editor, b"c"), "c");
    assert_eq!(editor.line(), "abc");
}

#[test]
fn ctrl_c_drops_the_line_and_draws_a_fresh_prompt() {
    let mut editor = typed(80, "abc");
    let (screen, actions) = feed(&mut editor, b"\x1b[D\x03");
    assert_eq!(screen, "\x1b[1D\x1b[1C^C\r\n> ");
    assert_eq!(actions, [EditorAction::Cancel]);
    assert_eq!(editor.line(), "");
    assert!(editor.is_shown());
    assert_eq!(editor.history(), [] as [String; 0]);
}

#[test]
fn ctrl_d_ends_input_only_on_an_empty_line() {
    let mut editor = typed(80, "ab");
    assert_eq!(keys(&mut editor, b"\x01\x04"), "\x1b[2D\r\x1b[J> b\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x04"), "\r\x1b[J> ");
    let (screen, actions) = feed(&mut editor, b"\x04");
    assert_eq!(screen, "\r\n");
    assert_eq!(actions, [EditorAction::Eof]);
    assert!(!editor.is_shown());
}

#[test]
fn ctrl_z_asks_to_suspend_and_show_brings_the_line_back() {
    let mut editor = typed(80, "abc");
    let (screen, actions) = feed(&mut editor, b"\x1b[D\x1a");
    assert_eq!(screen, "\x1b[1D\x1b[1C\r\n");
    assert_eq!(actions, [EditorAction::Suspend]);
    let mut out = Vec::new();
    editor.show(&mut out);
    assert_eq!(out, b"> abc\x1b[1D");
    editor.show(&mut out);
    assert_eq!(out, b"> abc\x1b[1D", "already shown: nothing more");
}

#[test]
fn ctrl_l_clears_the_screen_and_redraws() {
    let mut editor = typed(80, "abc");
    assert_eq!(
        keys(&mut editor, b"\x1b[D\x0c"),
        "\x1b[1D\x1b[H\x1b[2J> abc\x1b[1D"
    );
}

#[test]
fn history_browses_and_keeps_the_line_being_typed() {
    let mut editor = shown(80);
    feed(&mut editor, b"one\rtwo\r\r  \rtwo\r");
    assert_eq!(editor.history(), ["one", "two"]);
    assert_eq!(keys(&mut editor, b"dr"), "> dr");
    assert_eq!(keys(&mut editor, b"\x1b[A"), "\r\x1b[J> two");
    assert_eq!(keys(&mut editor, b"\x10"), "\r\x1b[J> one");
    assert_eq!(keys(&mut editor, b"\x1b[A"), "", "no older line");
    assert_eq!(keys(&mut editor, b"\x1b[B"), "\r\x1b[J> two");
    assert_eq!(keys(&mut editor, b"\x0e"), "\r\x1b[J> dr");
    assert_eq!(keys(&mut editor, b"\x1b[B"), "", "no newer line");
    // A recalled line is submitted as it is, and becomes the newest.
    keys(&mut editor, b"\x15\x1bOA\x1bOA");
    let (_, actions) = feed(&mut editor, b"!\r");
    assert_eq!(actions, [line("one!")]);
    assert_eq!(editor.history(), ["one", "two", "one!"]);
    assert_eq!(keys(&mut editor, b"\x1b[A"), "> \r\x1b[J> one!");
}

#[test]
fn history_forgets_the_oldest_lines_past_its_limit() {
    let mut editor = shown(80);
    for number in 0..=HISTORY_LIMIT {
        feed(&mut editor, format!("{number}\r").as_bytes());
    }
    assert_eq!(editor.history().len(), HISTORY_LIMIT);
    assert_eq!(editor.history()[0], "1");
}

/// A completer over a few command words and operator ids that records
/// what it was asked.
fn completing(width: usize) -> (LineEditor, std::rc::Rc<std::cell::RefCell<Vec<String>>>) {
    let asked = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = asked.clone();
    let mut editor = shown(width);
    editor.set_completer(move |before: &str, word: &str| {
        log.borrow_mut().push(format!("{before}|{word}"));
        let words: &[&str] = if before.trim().is_empty() {
            &["answer", "atender", "ajuda", "call", "answer"]
        } else {
            &["Ana", "Antônio", "Bia"]
        };
        words.iter().map(|word| word.to_string()).collect()
    });
    (editor, asked)
}

#[test]
fn tab_completes_a_single_candidate_and_adds_a_space() {
    let (mut editor, asked) = completing(80);
    assert_eq!(keys(&mut editor, b"an\t"), "answer ");
    assert_eq!(keys(&mut editor, b"B\t"), "Bia ");
    assert_eq!(editor.line(), "answer Bia ");
    assert_eq!(*asked.borrow(), ["|an", "answer |B"]);
}

#[test]
fn tab_completes_the_common_prefix_then_lists_on_the_second_tab() {
    let (mut editor, _) = completing(80);
    assert_eq!(keys(&mut editor, b"answer A\t"), "answer An");
    assert_eq!(
        keys(&mut editor, b"\t"),
        "\r\x1b[JAna  Antônio\r\n> answer An"
    );
    assert_eq!(keys(&mut editor, b"t\t"), "tônio ");

    let (mut editor, _) = completing(80);
    assert_eq!(keys(&mut editor, b"a\t"), "a\x07");
    assert_eq!(
        keys(&mut editor, b"\t"),
        "\r\x1b[Jajuda  answer  atender\r\n> a"
    );
    assert_eq!(
        keys(&mut editor, b"\x1b[D\x1b[C\t"),
        "\x1b[1D\x1b[1C\x07",
        "not right after a Tab"
    );
}

#[test]
fn tab_without_candidates_or_completer_rings_the_bell() {
    let (mut editor, _) = completing(80);
    assert_eq!(keys(&mut editor, b"x\t"), "x\x07");
    let mut editor = typed(80, "an");
    assert_eq!(keys(&mut editor, b"\t"), "\x07");
    assert_eq!(editor.line(), "an");
}

#[test]
fn tab_completes_the_word_before_the_cursor() {
    let (mut editor, asked) = completing(80);
    keys(&mut editor, b"call x\x01\x1b[C\x1b[C");
    // As readline does, only the text before the cursor is completed.
    assert_eq!(keys(&mut editor, b"\t"), "\r\x1b[J> call ll x\x1b[4D");
    assert_eq!(*asked.borrow(), ["|ca"]);
    assert_eq!(editor.line(), "call ll x");
}

#[test]
fn multibyte_characters_move_the_cursor_by_column() {
    let mut editor = typed(80, "ação");
    assert_eq!(editor.line().len(), 6);
    assert_eq!(keys(&mut editor, b"\x1b[D\x1b[D"), "\x1b[1D\x1b[1D");
    assert_eq!(editor.cursor(), 3);
    assert_eq!(keys(&mut editor, b"\x7f"), "\r\x1b[J> aão\x1b[2D");
}

#[test]
fn a_combining_mark_joins_its_letter() {
    let mut editor = typed(80, "e\u{301}x");
    assert_eq!(keys(&mut editor, b"\x1b[D\x1b[D"), "\x1b[1D\x1b[1D");
    assert_eq!(editor.cursor(), 0);
    assert_eq!(keys(&mut editor, b"\x1b[3~"), "\r\x1b[J> x\x1b[1D");
    assert_eq!(editor.line(), "x");
}

#[test]
fn wide_characters_take_two_columns() {
    let mut editor = typed(80, "a😀b");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\x1b[2D");
    assert_eq!(keys(&mut editor, b"Z"), "\r\x1b[J> aZ😀b\x1b[3D");
}

#[test]
fn invalid_utf8_is_dropped_and_split_characters_wait() {
    let mut editor = typed(80, "a");
    assert_eq!(keys(&mut editor, b"\xff\xc3b\x80\xed\xa0\x80"), "b");
    assert_eq!(keys(&mut editor, b"\xc3"), "");
    assert_eq!(keys(&mut editor, b"\xa7"), "ç");
    assert_eq!(keys(&mut editor, b"\xf0\x9f"), "");
    assert_eq!(keys(&mut editor, b"\x98\x80"), "😀");
    assert_eq!(editor.line(), "abç😀");
}

#[test]
fn a_line_that_fills_its_row_puts_the_cursor_on_the_next() {
    let mut editor = typed(10, "abcdefg");
    assert_eq!(keys(&mut editor, b"h"), "\r\x1b[J> abcdefgh\r\n");
    assert_eq!(keys(&mut editor, b"i"), "i");
    assert_eq!(keys(&mut editor, b"\x01"), "\x1b[1A\x1b[1C");
    assert_eq!(keys(&mut editor, b"\x05"), "\x1b[1B\x1b[1D");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\r");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\x1b[1A\x1b[9C");
    let (screen, actions) = feed(&mut editor, b"\r");
    assert_eq!(screen, "\x1b[1B\x1b[8D\r\n");
    assert_eq!(actions, [line("abcdefghi")]);
}

#[test]
fn a_wide_character_that_does_not_fit_starts_the_next_row() {
    let mut editor = typed(10, "abcdefg");
    assert_eq!(keys(&mut editor, "😀".as_bytes()), "\r\x1b[J> abcdefg😀");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\r");
    assert_eq!(keys(&mut editor, b"\x1b[D"), "\x1b[1A\x1b[8C");
    // Erasing from the second row goes up to the prompt first.
    assert_eq!(
        keys(&mut editor, b"\x1b[C\x1b[C\x7f"),
        "\x1b[1B\r\x1b[2C\x1b[1A\r\x1b[J> abcdefg"
    );
}

#[test]
fn enter_on_a_line_ending_at_the_edge_adds_no_blank_row() {
    let mut editor = typed(10, "abcdefg");
    keys(&mut editor, b"h");
    let (screen, actions) = feed(&mut editor, b"\r");
    assert_eq!(screen, "");
    assert_eq!(actions, [line("abcdefgh")]);
}

#[test]
fn print_above_keeps_the_line_and_the_cursor() {
    let mut editor = typed(80, "answer");
    keys(&mut editor, b"\x1b[D\x1b[D");
    let mut out = Vec::new();
    editor.print_above("Chamada 1 ignorada pelo operador A\n", &mut out);
    let expected = "\r\x1b[JChamada 1 ignorada pelo operador A\r\n> answer\x1b[2D";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(keys(&mut editor, b"X"), "\r\x1b[J> answXer\x1b[2D");
}

#[test]
fn print_above_a_wrapped_line_with_the_cursor_on_its_first_row() {
    let mut editor = shown(10);
    keys(&mut editor, b"abcdefghi\x01");
    let mut out = Vec::new();
    editor.print_above("one\ntwo\r\nthree", &mut out);
    let expected = "\r\x1b[Jone\r\ntwo\r\nthree\r\n> abcdefghi\x1b[1A\x1b[1C";
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    out = Vec::new();
    keys(&mut editor, b"\x05");
    editor.print_above("four", &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\x1b[1A\r\x1b[Jfour\r\n> abcdefghi"
    );
}

#[test]
fn print_above_while_hidden_only_writes_the_text() {
    let mut editor = LineEditor::new("> ", 80);
    let mut out = Vec::new();
    editor.print_above("a\nb", &mut out);
    editor.print_above("", &mut out);
    assert_eq!(out, b"a\r\nb\r\n");
    assert!(!editor.is_shown());
}

#[test]
fn hide_show_redraw_and_a_new_prompt() {
    let mut editor = typed(80, "abc");
    keys(&mut editor, b"\x1b[D");
    let mut out = Vec::new();
    editor.hide(&mut out);
    assert_eq!(out, b"\r\x1b[J");
    assert!(!editor.is_shown());
    editor.hide(&mut out);
    editor.redraw(&mut out);
    assert_eq!(out, b"\r\x1b[J> abc\x1b[1D");
    out.clear();
    editor.redraw(&mut out);
    assert_eq!(out, b"\r\x1b[J> abc\x1b[1D");
    out.clear();
    editor.set_prompt("$ ", &mut out);
    assert_eq!(out, b"\r\x1b[J$ abc\x1b[1D");
}

#[test]
fn leave_keeps_the_line_and_moves_below_it() {
    let mut editor = shown(10);
    keys(&mut editor, b"abcdefghi\x01");
    let mut out = Vec::new();
    editor.leave(&mut out);
    assert_eq!(out, b"\x1b[1B\x1b[1D\r\n");
    assert!(!editor.is_shown());
    editor.leave(&mut out);
    assert_eq!(out, b"\x1b[1B\x1b[1D\r\n", "hidden: nothing more");
    assert_eq!(editor.line(), "abcdefghi");
}

#[test]
fn a_narrower_terminal_wraps_on_the_next_redraw() {
    let mut editor = typed(80, "abcdef");
    editor.set_width(4);
    let mut out = Vec::new();
    editor.redraw(&mut out);
    assert_eq!(out, b"\r\x1b[J> abcdef\r\n");
    assert_eq!(keys(&mut editor, b"\x01"), "\x1b[2A\x1b[2C");
    editor.set_width(0);
    assert_eq!(
        keys(&mut editor, b"\x05"),
        "\x1b[8B\r",
        "one column: a row per character"
    );
}

#[test]
fn the_maximum_length_rings_the_bell() {
    let mut editor = shown(80);
    editor.set_max_length(3);
    assert_eq!(keys(&mut editor, "abç".as_bytes()), "ab\x07");
    assert_eq!(keys(&mut editor, b"c"), "c");
    assert_eq!(keys(&mut editor, b"d"), "\x07");
}

/// Bytes a terminal sends, mixed with noise: keys, sequences, UTF-8 (whole
/// and broken), control bytes.
fn key_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    let pieces: Vec<&'static [u8]> = vec![
        b"a",
        b"Z",
        b" ",
        b"\r",
        b"\n",
        b"\r\n",
        b"\x7f",
        b"\x08",
        b"\t",
        b"\x1b[D",
        b"\x1b[C",
        b"\x1b[A",
        b"\x1b[B",
        b"\x1b[H",
        b"\x1bOF",
        b"\x1b[3~",
        b"\x1b[1;5C",
        b"\x01",
        b"\x05",
        b"\x03",
        b"\x04",
        b"\x0b",
        b"\x0c",
        b"\x15",
        b"\x17",
        b"\x1a",
        b"\x1b",
        b"\x1bx",
        "ç".as_bytes(),
        "e\u{301}".as_bytes(),
        "😀".as_bytes(),
        b"\xc3",
        b"\xff",
        b"\xa7",
    ];
    prop::collection::vec(prop::sample::select(pieces), 0..60).prop_map(|pieces| pieces.concat())
}

proptest::proptest! {
    #[test]
    fn any_chunking_gives_the_same_screen_and_actions(
        bytes in key_bytes(),
        cuts in proptest::collection::vec(0usize..200, 0..8),
        width in 1usize..24,
    ) {
        let run = |chunks: Vec<&[u8]>| {
            let mut editor = LineEditor::new("> ", width);
            editor.set_completer(|_: &str, _: &str| vec!["abc".to_string(), "abd".to_string()]);
            let mut out = Vec::new();
            let mut actions = Vec::new();
            for chunk in chunks {
                editor.data_received(chunk);
                while let Some(action) = editor.next_action(&mut out) {
                    actions.push(action);
                }
                assert!(editor.line().is_char_boundary(editor.cursor()));
                assert!(editor.cursor() <= editor.line().len());
            }
            (out, actions, editor.line().to_owned())
        };
        let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut.min(bytes.len())).collect();
        cuts.sort();
        let mut chunks = Vec::new();
        let mut start = 0;
        for cut in cuts {
            chunks.push(&bytes[start..cut]);
            start = cut;
        }
        chunks.push(&bytes[start..]);
        proptest::prop_assert_eq!(run(vec![&bytes[..]]), run(chunks));
    }
}
