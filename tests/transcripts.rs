//! The engine's rules seen from outside: fixture transcripts
//! (`tests/fixtures/transcripts/*.txt`), commands in, exact stdout and
//! stderr out, in each language a fixture gives. Each is checked twice, on
//! the same bytes: in standalone mode, and through `client` against a fresh
//! `server` (standalone = client, SPEC §6).
//!
//! A fixture reads:
//!
//! ```text
//! # why (comment lines start with `#`)
//! options: --operators C,A,B     (queue options, for standalone and server; optional)
//! input:
//! call 1                         (one command a line; `\xHH`, `\\` escape bytes)
//! en stdout:
//! Call 1 received
//! Call 1 ringing for operator C
//! en stderr:
//! pt stdout:
//! ...
//! pt stderr:
//! ```
//!
//! Every section's lines end with `\n`; an empty section expects nothing.

mod support;

use support::{Server, assert_output, run};

/// One fixture, parsed.
struct Transcript {
    /// Queue options (`--operators`, `--ring-timeout`).
    options: Vec<String>,
    /// What goes to stdin.
    input: Vec<u8>,
    /// Per language: its code, the whole stdout and the whole stderr.
    expected: Vec<(String, String, String)>,
}

/// `line` with its `\xHH` and `\\` escapes turned into bytes.
fn unescape(line: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut rest = line.as_bytes();
    while let Some((&byte, after)) = rest.split_first() {
        match (byte, after) {
            (b'\\', [b'\\', tail @ ..]) => {
                bytes.push(b'\\');
                rest = tail;
            }
            (b'\\', [b'x', high, low, tail @ ..]) => {
                let hex = std::str::from_utf8(&[*high, *low])
                    .expect("ASCII hex")
                    .to_string();
                bytes.push(u8::from_str_radix(&hex, 16).expect("`\\xHH` takes two hex digits"));
                rest = tail;
            }
            (b'\\', _) => panic!("unknown escape in {line:?}"),
            _ => {
                bytes.push(byte);
                rest = after;
            }
        }
    }
    bytes
}

/// Parses a fixture (see the module docs).
fn parse(name: &str, fixture: &str) -> Transcript {
    let mut options = Vec::new();
    let mut input = Vec::new();
    let mut expected: Vec<(String, String, String)> = Vec::new();
    // Which section the following lines belong to.
    enum Section {
        None,
        Input,
        Stdout,
        Stderr,
    }
    let mut section = Section::None;
    for line in fixture.lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(list) = line.strip_prefix("options: ") {
            options = list.split(' ').map(str::to_string).collect();
            continue;
        }
        if line == "input:" {
            section = Section::Input;
            continue;
        }
        if let Some(lang) = line.strip_suffix(" stdout:") {
            expected.push((lang.to_string(), String::new(), String::new()));
            section = Section::Stdout;
            continue;
        }
        if let Some(lang) = line.strip_suffix(" stderr:") {
            let last = expected.last().map(|(last, _, _)| last.as_str());
            assert_eq!(
                last,
                Some(lang),
                "{name}: `{lang} stderr:` after its stdout"
            );
            section = Section::Stderr;
            continue;
        }
        match section {
            Section::None => panic!("{name}: {line:?} is in no section"),
            Section::Input => {
                input.extend(unescape(line));
                input.push(b'\n');
            }
            Section::Stdout => expected
                .last_mut()
                .unwrap()
                .1
                .push_str(&format!("{line}\n")),
            Section::Stderr => expected
                .last_mut()
                .unwrap()
                .2
                .push_str(&format!("{line}\n")),
        }
    }
    assert!(!input.is_empty(), "{name}: no input");
    assert!(!expected.is_empty(), "{name}: no expected transcript");
    Transcript {
        options,
        input,
        expected,
    }
}

/// Checks the fixture `name` in standalone mode and through client and
/// server, in each of its languages.
fn check(name: &str, fixture: &str) {
    let transcript = parse(name, fixture);
    let options: Vec<&str> = transcript.options.iter().map(String::as_str).collect();
    for (lang, stdout, stderr) in &transcript.expected {
        let lang_args = ["--lang", lang.as_str()];
        let standalone_args = [&lang_args[..], &options].concat();
        let standalone = run(&standalone_args, &transcript.input, false);
        assert_output(&standalone, 0, stdout, stderr);

        let server = Server::start(&[&options[..], &lang_args].concat());
        let address = server.address();
        let client_args = [&["client", "--connect", &address][..], &lang_args].concat();
        let through = run(&client_args, &transcript.input, false);
        server.stop();
        assert_output(&through, 0, stdout, stderr);
    }
}

/// One test per entry: the test's name, then its fixtures' names.
macro_rules! transcripts {
    ($($test:ident => [$($fixture:literal),+ $(,)?]),+ $(,)?) => {
        /// Every fixture file, so that none is left without a test.
        const FIXTURES: &[&str] = &[$($($fixture),+),+];
        $(
            #[test]
            fn $test() {
                $(check(
                    $fixture,
                    include_str!(concat!("fixtures/transcripts/", $fixture, ".txt")),
                );)+
            }
        )+
    };
}

transcripts! {
    // SPEC §5: distribution rules.
    rule_a_call_rings_the_first_available_operator_in_the_given_order =>
        ["rule_a_call_rings_the_first_available_operator_in_the_given_order"],
    rule_a_call_waits_in_queue_when_no_operator_is_available =>
        ["rule_a_call_waits_in_queue_when_no_operator_is_available"],
    rule_the_queue_is_first_in_first_out => ["rule_the_queue_is_first_in_first_out"],
    rule_a_rejected_call_rings_another_available_operator =>
        ["rule_a_rejected_call_rings_another_available_operator"],
    rule_a_rejected_call_goes_back_to_the_head_of_the_queue =>
        ["rule_a_rejected_call_goes_back_to_the_head_of_the_queue"],
    rule_a_rejected_call_rings_the_same_operator_when_it_is_the_only_one_available => [
        "rule_a_rejected_call_rings_the_same_operator_when_it_is_the_only_one_available",
        "rule_a_rejected_call_rings_the_same_operator_when_it_is_the_only_one_available_solo",
    ],
    rule_hangup_of_an_answered_call_finishes_it_and_frees_the_operator =>
        ["rule_hangup_of_an_answered_call_finishes_it_and_frees_the_operator"],
    rule_hangup_of_a_ringing_call_is_missed_and_frees_the_operator =>
        ["rule_hangup_of_a_ringing_call_is_missed_and_frees_the_operator"],
    rule_hangup_of_a_queued_call_is_missed_and_leaves_the_queue =>
        ["rule_hangup_of_a_queued_call_is_missed_and_leaves_the_queue"],
    rule_messages_of_one_command_come_in_causal_order =>
        ["rule_messages_of_one_command_come_in_causal_order"],
    rule_the_id_of_an_ended_call_can_be_reused => ["rule_the_id_of_an_ended_call_can_be_reused"],
    rule_operators_3_gives_a_b_c => ["rule_operators_3_gives_a_b_c"],
    utf8_call_and_operator_ids_are_printed_as_given =>
        ["utf8_call_and_operator_ids_are_printed_as_given"],
    // SPEC §4: errors.
    error_unknown_command => ["error_unknown_command"],
    error_usage_for_a_missing_or_extra_argument =>
        ["error_usage_for_a_missing_or_extra_argument"],
    error_usage_for_an_invalid_id => ["error_usage_for_an_invalid_id"],
    error_call_already_exists => ["error_call_already_exists"],
    error_call_not_found => ["error_call_not_found"],
    error_operator_not_found => ["error_operator_not_found"],
    error_operator_has_no_ringing_call => ["error_operator_has_no_ringing_call"],
    // SPEC §3: the command language.
    aliases_do_what_their_command_does => ["aliases_do_what_their_command_does"],
    // SPEC §9: the ACD (operator states, strategies, priorities, status, stats).
    acd_caller_priorities => ["acd_caller_priorities"],
    acd_login_and_logout => ["acd_login_and_logout"],
    acd_login_and_logout_errors => ["acd_login_and_logout_errors"],
    acd_max_calls_refuses_a_call_when_the_queue_is_full => ["acd_max_calls_refuses_a_call_when_the_queue_is_full"],
    acd_pause_errors => ["acd_pause_errors"],
    acd_pause_with_and_without_a_reason_and_unpause => ["acd_pause_with_and_without_a_reason_and_unpause"],
    acd_status_and_stats => ["acd_status_and_stats"],
    acd_status_with_few_waiting_and_a_paused_ringing_operator => ["acd_status_with_few_waiting_and_a_paused_ringing_operator"],
    acd_strategy_fewest_calls => ["acd_strategy_fewest_calls"],
    acd_strategy_longest_idle => ["acd_strategy_longest_idle"],
    acd_strategy_random_with_a_seed => ["acd_strategy_random_with_a_seed"],
    acd_strategy_ring_all => ["acd_strategy_ring_all"],
    acd_strategy_round_robin => ["acd_strategy_round_robin"],
    acd_usage_errors_name_each_commands_form => ["acd_usage_errors_name_each_commands_form"],
    acd_wrap_up_after_a_call => ["acd_wrap_up_after_a_call"],
}

#[test]
fn every_fixture_file_has_a_test() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transcripts");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("the fixtures folder")
        .map(|entry| entry.expect("an entry").file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut listed: Vec<String> = FIXTURES.iter().map(|name| format!("{name}.txt")).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn escapes_give_the_bytes_they_name() {
    assert_eq!(unescape(r"call a\x01b \\ \xff"), b"call a\x01b \\ \xff");
}
