//! End-to-end tests of the standalone mode: the real `callcenter` binary run
//! as a subprocess, its complete stdout and stderr compared byte for byte
//! (separately, or merged as `2>&1` where their relative order matters), and
//! its exit status checked.
//!
//! Covered, by section of `docs/spec.md`:
//! - §8 the seed's script, both languages, stdin a pipe and a regular file,
//!   with and without the `standalone` subcommand;
//! - §5 the names `--operators 28` gives (AA, AB after Z);
//! - §4 errors and messages in their order on one pipe (`2>&1`);
//! - §3 `help`, blank lines, `\r\n`, a last line without newline,
//!   `exit`/`quit`/`sair` (also with stdin still open), EOF, `/dev/null`,
//!   invalid UTF-8, NUL bytes, 100 KiB lines (pipe and regular file);
//! - §2 options: bad values (status 2, one line on stderr), `--help`, `--version`;
//! - §7 SIGTERM and SIGINT while waiting on an open stdin.
//!
//! The distribution rules, the errors and the aliases are fixture
//! transcripts, checked in standalone mode and through client and server
//! (`tests/transcripts.rs`); the ring timeout is `tests/standalone_ring_timeout.rs`.
//!
//! No test sleeps: timed behaviour is awaited by reading stdout lines, with
//! a generous deadline so that a broken program fails instead of hanging.

mod support;

use std::fs::File;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Proc, assert_output, check, deadline, lines, run, run_with_stdin};

const SEED_CMDS: &[u8] = include_bytes!("fixtures/seed.cmds");
const SEED_EN: &str = include_str!("fixtures/seed.en.out");
const SEED_PT: &str = include_str!("fixtures/seed.pt.out");
const SEED_CMDS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.cmds");

const EN: &[&str] = &["--lang", "en"];
const PT: &[&str] = &["--lang", "pt"];

/// `help` in English, as the program prints it (its documented output).
const HELP_EN: &[&str] = &[
    "Commands:",
    "  call <id> [priority] a call with id <id> arrives; priority 0-9, higher first (default 0) (aliases: ligar, ligue)",
    "  answer <id>    operator <id> answers the call ringing for it (aliases: atender, resposta)",
    "  reject <id>    operator <id> rejects the call ringing for it (aliases: rejeitar)",
    "  hangup <id>    call <id> ends (aliases: desligar)",
    "  pause <op> [reason] operator <op> takes no new call until unpaused (aliases: pausar)",
    "  unpause <op>   operator <op> ends its pause (aliases: retomar)",
    "  login <op>     operator <op> joins the distribution (a new one at the end) (aliases: conectar)",
    "  logout <op>    operator <op> leaves the distribution (not while ringing or on a call) (aliases: desconectar)",
    "  status         shows the queue and every operator (aliases: estado)",
    "  stats          shows the counters since start (aliases: estatisticas, estatísticas)",
    "  help [cmd]     lists the commands, or describes one (aliases: ajuda)",
    "  exit           leaves (end of input does too) (aliases: quit, sair)",
];

/// `help` in Portuguese, as the program prints it.
const HELP_PT: &[&str] = &[
    "Comandos:",
    "  call <id> [priority] chega uma chamada com o id <id>; prioridade 0-9, maior primeiro (padrão 0) (sinônimos: ligar, ligue)",
    "  answer <id>    o operador <id> atende a chamada que toca para ele (sinônimos: atender, resposta)",
    "  reject <id>    o operador <id> rejeita a chamada que toca para ele (sinônimos: rejeitar)",
    "  hangup <id>    a chamada <id> termina (sinônimos: desligar)",
    "  pause <op> [reason] o operador <op> não recebe novas chamadas até sair da pausa (sinônimos: pausar)",
    "  unpause <op>   o operador <op> sai da pausa (sinônimos: retomar)",
    "  login <op>     o operador <op> entra na distribuição (um novo, no fim) (sinônimos: conectar)",
    "  logout <op>    o operador <op> sai da distribuição (não enquanto toca ou atende) (sinônimos: desconectar)",
    "  status         mostra a fila e cada operador (sinônimos: estado)",
    "  stats          mostra os contadores desde o início (sinônimos: estatisticas, estatísticas)",
    "  help [cmd]     lista os comandos, ou descreve um (sinônimos: ajuda)",
    "  exit           sai (o fim da entrada também) (sinônimos: quit, sair)",
];

/// `callcenter --help`, as the program prints it. It lists every mode: update
/// it when a mode is added or described differently.
const USAGE_HELP: &str = "\
A simulated call-center queue (ACD) on a hand-written, Twisted-style reactor on mio

Usage: callcenter [OPTIONS]
       callcenter <COMMAND>

Commands:
  standalone  Read commands on stdin, print results on stdout (the default)
  server      The queue manager: a TCP server taking JSON commands
  client      The command interpreter: reads stdin, sends JSON to a server
  bench       A load generator: measures a server's throughput and latency
  monitor     The event monitor: prints every event of a server live, with the local time
  help        Print this message or the help of the given subcommand(s)

Options:
      --operators <LIST|N>    Operator ids in priority order (A,B,C), or a count N (A..Z, AA, AB, ...) [default: A,B]
      --ring-timeout <SECS>   Seconds a call may ring before it is ignored; decimals allowed; 0 turns it off [default: 10]
      --lang <pt|en>          Language of every message [default: pt]
      --http <ADDR>           Serve the wallboard, metrics and live events over HTTP on this address (off by default)
      --queue-log <FILE>      Append every queue event to FILE in Asterisk's queue_log format; SIGHUP reopens it
      --queue-name <NAME>     The queue's name in the queue log [default: callcenter]
      --strategy <NAME>       Which available operator a call rings: linear, round-robin, longest-idle, fewest-calls, random or ring-all [default: linear]
      --seed <N>              Seed of the random strategy (the same seed and input give the same output); taken from the clock when omitted
      --wrap-up <SECS>        Seconds an operator stays in wrap-up after a call; decimals allowed [default: 0]
      --max-no-answer <N>     Pause an operator after this many ring timeouts in a row; 0 never does [default: 0]
      --service-level <SECS>  Seconds within which an answer counts for the service level in stats [default: 20]
      --max-calls <N>         Most calls that may wait in the queue; 0 is no limit [default: 0]
  -h, --help                  Print help
  -V, --version               Print version
";

/// `callcenter standalone --help`, as the program prints it.
const STANDALONE_USAGE_HELP: &str = "\
Read commands on stdin, print results on stdout (the default)

Usage: callcenter standalone [OPTIONS]

Options:
      --operators <LIST|N>    Operator ids in priority order (A,B,C), or a count N (A..Z, AA, AB, ...) [default: A,B]
      --ring-timeout <SECS>   Seconds a call may ring before it is ignored; decimals allowed; 0 turns it off [default: 10]
      --lang <pt|en>          Language of every message [default: pt]
      --http <ADDR>           Serve the wallboard, metrics and live events over HTTP on this address (off by default)
      --queue-log <FILE>      Append every queue event to FILE in Asterisk's queue_log format; SIGHUP reopens it
      --queue-name <NAME>     The queue's name in the queue log [default: callcenter]
      --strategy <NAME>       Which available operator a call rings: linear, round-robin, longest-idle, fewest-calls, random or ring-all [default: linear]
      --seed <N>              Seed of the random strategy (the same seed and input give the same output); taken from the clock when omitted
      --wrap-up <SECS>        Seconds an operator stays in wrap-up after a call; decimals allowed [default: 0]
      --max-no-answer <N>     Pause an operator after this many ring timeouts in a row; 0 never does [default: 0]
      --service-level <SECS>  Seconds within which an answer counts for the service level in stats [default: 20]
      --max-calls <N>         Most calls that may wait in the queue; 0 is no limit [default: 0]
  -h, --help                  Print help
  -V, --version               Print version
";

const VERSION: &str = concat!("callcenter ", env!("CARGO_PKG_VERSION"), "\n");

// ---------------------------------------------------------------- helpers

/// `args` followed by `extra`.
fn with(args: &[&str], extra: &[&str]) -> Vec<String> {
    args.iter()
        .chain(extra)
        .map(|arg| arg.to_string())
        .collect()
}

/// Runs `input` with `--lang en` and `--lang pt` (plus `extra` options) and
/// checks each language's whole transcript.
fn check_langs(
    extra: &[&str],
    input: impl AsRef<[u8]>,
    en: (&[&str], &[&str]),
    pt: (&[&str], &[&str]),
) {
    for (lang, (stdout, stderr)) in [(EN, en), (PT, pt)] {
        let args = with(lang, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        check(&args, input.as_ref(), stdout, stderr);
    }
}

/// A regular file holding `bytes`, opened for reading, as a stdin. (The
/// file is removed at once: the open descriptor keeps its data.)
fn regular_file(name: &str, bytes: &[u8]) -> Stdio {
    let path = format!(
        "{}/standalone-{name}-{}.cmds",
        env!("CARGO_TARGET_TMPDIR"),
        std::process::id()
    );
    std::fs::write(&path, bytes).expect("write the input file");
    let file = File::open(&path).expect("open the input file");
    std::fs::remove_file(&path).expect("remove the input file");
    Stdio::from(file)
}

/// A bad option: status 2, exactly one line on stderr, nothing on stdout
/// (even with commands on stdin).
fn check_bad_option(args: &[&str], error: &str) {
    let output = run(args, b"call 1\n", false);
    assert_output(&output, 2, "", &format!("{error}\n"));
}

// ------------------------------------------------------- §8 the seed script

#[test]
fn seed_script_on_a_pipe_in_english() {
    let output = run(EN, SEED_CMDS, false);
    assert_output(&output, 0, SEED_EN, "");
}

#[test]
fn seed_script_on_a_pipe_in_portuguese_by_default() {
    let output = run(&[], SEED_CMDS, false);
    assert_output(&output, 0, SEED_PT, "");
}

#[test]
fn seed_script_on_a_pipe_with_lang_pt() {
    let output = run(PT, SEED_CMDS, false);
    assert_output(&output, 0, SEED_PT, "");
}

#[test]
fn seed_script_from_a_regular_file_in_english() {
    let file = File::open(SEED_CMDS_PATH).expect("open seed.cmds");
    let output = run_with_stdin(EN, Stdio::from(file));
    assert_output(&output, 0, SEED_EN, "");
}

#[test]
fn seed_script_from_a_regular_file_in_portuguese_by_default() {
    let file = File::open(SEED_CMDS_PATH).expect("open seed.cmds");
    let output = run_with_stdin(&[], Stdio::from(file));
    assert_output(&output, 0, SEED_PT, "");
}

#[test]
fn seed_script_with_the_standalone_subcommand_is_the_same() {
    let plain = run(EN, SEED_CMDS, false);
    let named = run(&["standalone", "--lang", "en"], SEED_CMDS, false);
    assert_output(&named, 0, SEED_EN, "");
    assert_output(&plain, 0, SEED_EN, "");
    let named_pt = run(&["standalone"], SEED_CMDS, false);
    assert_output(&named_pt, 0, SEED_PT, "");
}

// --------------------------------------------------- §5 distribution rules

#[test]
fn rule_operators_28_names_go_on_with_aa_ab() {
    let mut names: Vec<String> = ('A'..='Z').map(String::from).collect();
    names.extend(["AA".to_string(), "AB".to_string()]);
    let mut input = String::new();
    let mut expected = Vec::new();
    for (n, name) in (1..).zip(&names) {
        input.push_str(&format!("call {n}\n"));
        expected.push(format!("Call {n} received"));
        expected.push(format!("Call {n} ringing for operator {name}"));
    }
    input.push_str("call 29\nanswer AB\nanswer AC\n");
    expected.push("Call 29 received".to_string());
    expected.push("Call 29 waiting in queue".to_string());
    expected.push("Call 28 answered by operator AB".to_string());
    let output = run(
        &["--lang", "en", "--operators", "28"],
        input.as_bytes(),
        false,
    );
    assert_output(
        &output,
        0,
        &lines(&expected),
        &lines(&["Operator AC not found"]),
    );
}

// ------------------------------------------------------------- §4 errors

#[test]
fn errors_come_in_order_with_the_messages() {
    // stdout and stderr on one pipe, as `2>&1`.
    let output = run(
        EN,
        b"call 1\ndance\ncall 2\nhangup 9\ncall 1\ncall 3\nanswer Z\ncall\n",
        true,
    );
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Unknown command: dance",
            "Call 2 received",
            "Call 2 ringing for operator B",
            "Call 9 not found",
            "Call 1 already exists",
            "Call 3 received",
            "Call 3 waiting in queue",
            "Operator Z not found",
            "Usage: call <id> [priority]",
        ]),
        "",
    );
}

// ------------------------------------------------ §3 the command language

#[test]
fn exit_quit_and_sair_stop_before_the_later_lines() {
    for word in ["exit", "quit", "sair", "exit\r", "  sair  "] {
        check(
            EN,
            format!("call 1\n{word}\ncall 2\nanswer Z\n"),
            &["Call 1 received", "Call 1 ringing for operator A"],
            &[],
        );
    }
}

#[test]
fn exit_stops_before_the_later_lines_of_a_regular_file() {
    let output = run_with_stdin(EN, regular_file("exit", b"call 1\nexit\ncall 2\n"));
    assert_output(
        &output,
        0,
        &lines(&["Call 1 received", "Call 1 ringing for operator A"]),
        "",
    );
}

#[test]
fn exit_stops_even_with_stdin_still_open() {
    let mut session = Proc::session(EN);
    session.write(b"call 1\nexit\ncall 2\n");
    // stdin is not closed: `exit` alone must end the program.
    let output = session.outcome(deadline());
    assert_output(
        &output,
        0,
        &lines(&["Call 1 received", "Call 1 ringing for operator A"]),
        "",
    );
}

#[test]
fn help_lists_every_command_in_english() {
    check(EN, "help\n", HELP_EN, &[]);
    check(EN, "ajuda\n", HELP_EN, &[]);
}

#[test]
fn help_lists_every_command_in_portuguese() {
    check(&[], "help\n", HELP_PT, &[]);
    check(PT, "ajuda\n", HELP_PT, &[]);
}

#[test]
fn help_describes_one_command() {
    let call_en = HELP_EN[1];
    let call_pt = HELP_PT[1];
    assert_eq!(
        call_en,
        "  call <id> [priority] a call with id <id> arrives; priority 0-9, higher first (default 0) (aliases: ligar, ligue)"
    );
    check(EN, "help call\najuda ligar\n", &[call_en, call_en], &[]);
    check(&[], "help call\najuda ligar\n", &[call_pt, call_pt], &[]);
    check(
        EN,
        "help exit\nhelp sair\n",
        &[HELP_EN[12], HELP_EN[12]],
        &[],
    );
}

#[test]
fn help_changes_no_state() {
    check(
        EN,
        "call 1\nhelp hangup\ncall 2\n",
        &[
            "Call 1 received",
            "Call 1 ringing for operator A",
            HELP_EN[4],
            "Call 2 received",
            "Call 2 ringing for operator B",
        ],
        &[],
    );
}

#[test]
fn blank_lines_extra_blanks_and_crlf_line_endings() {
    check(
        EN,
        "\n\n   \n\r\n\t \r\ncall 1\r\n  answer\tA  \r\n\r\nhangup   1\r\n\n",
        &[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
            "Call 1 finished and operator A available",
        ],
        &[],
    );
}

#[test]
fn a_last_line_without_newline_still_runs() {
    check(
        EN,
        "call 1\nanswer A",
        &[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 1 answered by operator A",
        ],
        &[],
    );
    check(
        EN,
        "call 1\r",
        &["Call 1 received", "Call 1 ringing for operator A"],
        &[],
    );
}

#[test]
fn end_of_input_exits_0() {
    check(
        EN,
        "call 1\ncall 2\ncall 3\n",
        &[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 2 received",
            "Call 2 ringing for operator B",
            "Call 3 received",
            "Call 3 waiting in queue",
        ],
        &[],
    );
    check(EN, "", &[], &[]);
}

#[test]
fn stdin_dev_null_exits_0_with_no_output() {
    let output = run_with_stdin(&[], Stdio::null());
    assert_output(&output, 0, "", "");
    let output = run_with_stdin(EN, Stdio::null());
    assert_output(&output, 0, "", "");
}

#[test]
fn invalid_utf8_and_nul_bytes_get_one_error_line_each() {
    check_langs(
        &[],
        b"\xff\xfe 1\ncall \xff\ncall a\x00b\n\x00\ncall 1\n".as_slice(),
        (
            &["Call 1 received", "Call 1 ringing for operator A"],
            &[
                "Unknown command: \u{fffd}\u{fffd}",
                "Usage: call <id> [priority]",
                "Usage: call <id> [priority]",
                "Unknown command: \\0",
            ],
        ),
        (
            &["Chamada 1 recebida", "Chamada 1 tocando para o operador A"],
            &[
                "Comando desconhecido: \u{fffd}\u{fffd}",
                "Uso: call <id> [priority]",
                "Uso: call <id> [priority]",
                "Comando desconhecido: \\0",
            ],
        ),
    );
}

/// 100 KiB lines: a long id, a long unknown word, and one without a final
/// newline; one error each, and the program goes on.
fn long_lines_input() -> Vec<u8> {
    let mut input = Vec::new();
    input.extend(b"call ");
    input.extend(vec![b'x'; 100 * 1024]);
    input.extend(b"\ncall 1\n");
    input.extend(vec![b'y'; 100 * 1024]);
    input.extend(b"\nanswer A\nhangup ");
    input.extend(vec![b'z'; 100 * 1024]);
    input
}

const LONG_LINES_STDOUT: &[&str] = &[
    "Call 1 received",
    "Call 1 ringing for operator A",
    "Call 1 answered by operator A",
];

fn long_lines_stderr() -> Vec<String> {
    vec![
        "Usage: call <id> [priority]".to_string(),
        format!("Unknown command: {}…", "y".repeat(64)),
        "Usage: hangup <id>".to_string(),
    ]
}

#[test]
fn a_100_kib_line_gets_one_error_and_the_program_goes_on() {
    let output = run(EN, &long_lines_input(), false);
    assert_output(
        &output,
        0,
        &lines(LONG_LINES_STDOUT),
        &lines(&long_lines_stderr()),
    );
}

#[test]
fn a_100_kib_line_in_a_regular_file() {
    let output = run_with_stdin(EN, regular_file("long-lines", &long_lines_input()));
    assert_output(
        &output,
        0,
        &lines(LONG_LINES_STDOUT),
        &lines(&long_lines_stderr()),
    );
}

// --------------------------------------------------------- §2 options

#[test]
fn bad_operators_values_exit_2_with_one_line() {
    check_bad_option(
        &["--operators", "A,A"],
        "error: invalid value 'A,A' for '--operators <LIST|N>': duplicate operator id A",
    );
    check_bad_option(
        &["--operators", ""],
        "error: invalid value '' for '--operators <LIST|N>': \
         invalid operator id \"\" (1 to 64 bytes, no blanks or control characters)",
    );
    // `--operators 0` starts with nobody (they `login`): only too many is refused.
    check_bad_option(
        &["--operators", "1000001"],
        "error: invalid value '1000001' for '--operators <LIST|N>': \
         the count must be between 0 and 1000000",
    );
    check_bad_option(
        &["--operators", "A,,B"],
        "error: invalid value 'A,,B' for '--operators <LIST|N>': \
         invalid operator id \"\" (1 to 64 bytes, no blanks or control characters)",
    );
    check_bad_option(
        &["standalone", "--operators", "A,A"],
        "error: invalid value 'A,A' for '--operators <LIST|N>': duplicate operator id A",
    );
}

#[test]
fn bad_acd_option_values_exit_2_naming_the_option() {
    check_bad_option(
        &["--strategy", "fastest"],
        "error: invalid value 'fastest' for '--strategy <NAME>': unknown strategy \"fastest\" \
         (expected one of: linear, round-robin, longest-idle, fewest-calls, random, ring-all)",
    );
    check_bad_option(
        &["--seed", "-1"],
        "error: invalid value '-1' for '--seed <N>': invalid digit found in string",
    );
    check_bad_option(
        &["--wrap-up", "-1"],
        "error: invalid value '-1' for '--wrap-up <SECS>': must be between 0 and 1000000000 seconds",
    );
    check_bad_option(
        &["--wrap-up", "soon"],
        "error: invalid value 'soon' for '--wrap-up <SECS>': not a number of seconds: \"soon\"",
    );
    check_bad_option(
        &["--max-no-answer", "x"],
        "error: invalid value 'x' for '--max-no-answer <N>': invalid digit found in string",
    );
    check_bad_option(
        &["--service-level", "NaN"],
        "error: invalid value 'NaN' for '--service-level <SECS>': must be between 0 and 1000000000 seconds",
    );
    check_bad_option(
        &["standalone", "--max-calls", "-3"],
        "error: invalid value '-3' for '--max-calls <N>': invalid digit found in string",
    );
}

#[test]
fn bad_ring_timeout_values_exit_2_with_one_line() {
    check_bad_option(
        &["--ring-timeout", "-1"],
        "error: invalid value '-1' for '--ring-timeout <SECS>': \
         must be between 0 and 1000000000 seconds",
    );
    check_bad_option(
        &["--ring-timeout=-1"],
        "error: invalid value '-1' for '--ring-timeout <SECS>': \
         must be between 0 and 1000000000 seconds",
    );
    check_bad_option(
        &["--ring-timeout", "abc"],
        "error: invalid value 'abc' for '--ring-timeout <SECS>': \
         not a number of seconds: \"abc\"",
    );
}

#[test]
fn bad_lang_and_unknown_flags_exit_2_with_one_line() {
    check_bad_option(
        &["--lang", "xx"],
        "error: invalid value 'xx' for '--lang <pt|en>': unknown language \"xx\" (expected pt or en)",
    );
    check_bad_option(&["--bogus"], "error: unexpected argument '--bogus' found");
    check_bad_option(
        &["standalone", "--bogus"],
        "error: unexpected argument '--bogus' found",
    );
}

#[test]
fn help_option_prints_usage_and_exits_0() {
    let output = run(&["--help"], b"call 1\n", false);
    assert_output(&output, 0, USAGE_HELP, "");
}

#[test]
fn help_option_of_the_standalone_subcommand_prints_its_usage_and_exits_0() {
    let output = run(&["standalone", "--help"], b"call 1\n", false);
    assert_output(&output, 0, STANDALONE_USAGE_HELP, "");
}

#[test]
fn version_option_prints_the_version_and_exits_0() {
    let output = run(&["--version"], b"call 1\n", false);
    assert_output(&output, 0, VERSION, "");
    let output = run(&["--lang", "en", "--version"], b"call 1\n", false);
    assert_output(&output, 0, VERSION, "");
}

#[test]
fn version_option_works_after_the_standalone_subcommand() {
    let output = run(&["standalone", "--version"], b"call 1\n", false);
    assert_output(&output, 0, VERSION, "");
}

// ---------------------------------------------------------- §7 signals

fn signal_while_waiting_on_stdin(signal: libc::c_int) {
    // The default 10 s ring timeout is pending: the exit must not wait for it.
    let mut session = Proc::session(EN);
    session.write(b"call 1\ncall 2\ncall 3\n");
    for _ in 0..6 {
        session.read_line();
    }
    session.signal(signal);
    let output = session.outcome(Instant::now() + Duration::from_secs(5));
    assert_output(
        &output,
        0,
        &lines(&[
            "Call 1 received",
            "Call 1 ringing for operator A",
            "Call 2 received",
            "Call 2 ringing for operator B",
            "Call 3 received",
            "Call 3 waiting in queue",
        ]),
        "",
    );
}

#[test]
fn sigterm_while_waiting_on_stdin_exits_0() {
    signal_while_waiting_on_stdin(libc::SIGTERM);
}

#[test]
fn sigint_while_waiting_on_stdin_exits_0() {
    signal_while_waiting_on_stdin(libc::SIGINT);
}
