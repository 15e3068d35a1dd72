//! The command line: modes and options (SPEC §2), parsed with clap.
//!
//! Values are checked here, before anything starts: a bad value ends the
//! program with a one-line error and status 2.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::command::is_valid_id;
use crate::engine::{Config, ConfigError, Engine, Strategy};
use crate::messages::Lang;

/// The most operators `--operators N` may ask for.
pub const MAX_OPERATORS: usize = 1_000_000;

/// A simulated call-center queue on a hand-written, Twisted-style reactor.
#[derive(Debug, Parser)]
#[command(
    name = "callcenter",
    version,
    about,
    args_conflicts_with_subcommands = true,
    propagate_version = true
)]
pub struct Cli {
    /// The mode; standalone when omitted.
    #[command(subcommand)]
    pub mode: Option<Mode>,
    /// Standalone options, when no mode is named.
    #[command(flatten)]
    pub standalone: QueueOptions,
}

/// The three ways to run.
#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Read commands on stdin, print results on stdout (the default).
    Standalone(QueueOptions),
    /// The queue manager: a TCP server taking JSON commands.
    Server(ServerOptions),
    /// The command interpreter: reads stdin, sends JSON to a server.
    Client(ClientOptions),
    /// A load generator: measures a server's throughput and latency.
    Bench(BenchOptions),
    /// The event monitor: prints every event of a server live, with the local time.
    Monitor(MonitorOptions),
    /// The echo peer of `bench --baseline` (internal).
    #[command(hide = true)]
    LoopbackEcho,
}

/// Options of the modes that own a queue (standalone and server).
#[derive(Debug, Clone, Args)]
pub struct QueueOptions {
    /// Operator ids in priority order (A,B,C), or a count N (A..Z, AA, AB, ...).
    #[arg(long, value_name = "LIST|N", default_value = "A,B", value_parser = parse_operators)]
    pub operators: OperatorList,
    /// Seconds a call may ring before it is ignored; decimals allowed; 0 turns it off.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "10",
        allow_negative_numbers = true,
        value_parser = parse_ring_timeout
    )]
    pub ring_timeout: RingTimeout,
    /// Language of every message.
    #[arg(long, value_name = "pt|en", default_value = "pt")]
    pub lang: Lang,
    /// Serve the wallboard, metrics and live events over HTTP on this
    /// address (off by default).
    #[arg(long, value_name = "ADDR", value_parser = parse_address)]
    pub http: Option<String>,
    /// Append every queue event to FILE in Asterisk's queue_log format;
    /// SIGHUP reopens it.
    #[arg(long, value_name = "FILE")]
    pub queue_log: Option<std::path::PathBuf>,
    /// The queue's name in the queue log.
    #[arg(long, value_name = "NAME", default_value = "callcenter", value_parser = parse_queue_name)]
    pub queue_name: String,
    /// How the queue distributes (strategy, wrap-up, caps).
    #[command(flatten)]
    pub acd: AcdOptions,
}

/// Checks `--queue-name`: a non-empty name that cannot break a queue-log
/// line apart.
pub fn parse_queue_name(text: &str) -> Result<String, String> {
    if text.is_empty() || text.contains(|c: char| c == '|' || c.is_control()) {
        Err("expected a name without '|' or control characters".to_string())
    } else {
        Ok(text.to_string())
    }
}

impl QueueOptions {
    /// The engine these options describe: the operators, all logged in,
    /// distributing as the ACD options say.
    pub fn engine(&self) -> Result<Engine, ConfigError> {
        Engine::with_config(&self.operators.0, self.acd.config())
    }
}

/// The ACD's options (SPEC §9.2), for standalone and server. Their
/// defaults keep the seed's behaviour.
#[derive(Debug, Clone, Args)]
pub struct AcdOptions {
    /// Which available operator a call rings: linear, round-robin,
    /// longest-idle, fewest-calls, random or ring-all.
    #[arg(long, value_name = "NAME", default_value = "linear")]
    pub strategy: Strategy,
    /// Seed of the random strategy (the same seed and input give the same
    /// output); taken from the clock when omitted.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Seconds an operator stays in wrap-up after a call; decimals allowed.
    #[arg(long, value_name = "SECS", default_value = "0", allow_negative_numbers = true, value_parser = parse_seconds)]
    pub wrap_up: Duration,
    /// Pause an operator after this many ring timeouts in a row; 0 never does.
    #[arg(
        long,
        value_name = "N",
        default_value = "0",
        allow_negative_numbers = true
    )]
    pub max_no_answer: u32,
    /// Seconds within which an answer counts for the service level in stats.
    #[arg(long, value_name = "SECS", default_value = "20", allow_negative_numbers = true, value_parser = parse_seconds)]
    pub service_level: Duration,
    /// Most calls that may wait in the queue; 0 is no limit.
    #[arg(
        long,
        value_name = "N",
        default_value = "0",
        allow_negative_numbers = true
    )]
    pub max_calls: usize,
}

impl AcdOptions {
    /// The engine configuration; a missing seed comes from the clock.
    pub fn config(&self) -> Config {
        let seed = self.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64)
        });
        Config {
            strategy: self.strategy,
            seed,
            wrap_up: self.wrap_up,
            max_no_answer: self.max_no_answer,
            service_level: self.service_level,
            max_calls: self.max_calls,
        }
    }
}

/// Parses a number of seconds, 0 or more, decimals allowed (`--wrap-up`,
/// `--service-level`).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("not a number of seconds: {text:?}"))?;
    if !(0.0..=1e9).contains(&seconds) {
        return Err("must be between 0 and 1000000000 seconds".to_string());
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Options of `callcenter server`.
#[derive(Debug, Clone, Args)]
pub struct ServerOptions {
    /// Queue options, as for standalone.
    #[command(flatten)]
    pub queue: QueueOptions,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5678", value_parser = parse_address)]
    pub listen: String,
    /// Connections beyond this many are refused.
    #[arg(long, value_name = "N", default_value = "1024", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_clients: u32,
}

/// Options of `callcenter client`.
#[derive(Debug, Clone, Args)]
pub struct ClientOptions {
    /// Server to connect to (host:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5678", value_parser = parse_address)]
    pub connect: String,
    /// Language of the client's own errors and help (the server's replies
    /// come in the server's language).
    #[arg(long, value_name = "pt|en", default_value = "pt")]
    pub lang: Lang,
}

/// Options of `callcenter monitor`.
#[derive(Debug, Clone, Args)]
pub struct MonitorOptions {
    /// Server to watch (host:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5678", value_parser = parse_address)]
    pub connect: String,
    /// Print the raw JSON lines instead (for jq).
    #[arg(long)]
    pub json: bool,
    /// Language of the monitor's own errors.
    #[arg(long, value_name = "pt|en", default_value = "pt")]
    pub lang: Lang,
}

/// Options of `callcenter bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchOptions {
    /// Server to load (host:port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5678", value_parser = parse_address)]
    pub connect: String,
    /// Concurrent connections.
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub clients: u32,
    /// Seconds to run (the default is 5 unless --commands is given).
    #[arg(long, value_name = "SECS", value_parser = parse_positive_seconds)]
    pub duration: Option<f64>,
    /// Total commands to send, then stop.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    pub commands: Option<u64>,
    /// Commands in flight per connection (1: wait for each reply).
    #[arg(long, value_name = "W", default_value = "1", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub pipeline: u32,
    /// What each call does.
    #[arg(long, value_enum, default_value = "call-answer-hangup")]
    pub pattern: Pattern,
    /// Language the server speaks (to check its replies).
    #[arg(long, value_name = "pt|en", default_value = "pt")]
    pub lang: Lang,
    /// Idle connections to open (and hold) before the load starts.
    #[arg(long, value_name = "N", default_value = "0")]
    pub idle: u32,
    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Measure the floor instead: a blocking TCP ping-pong over loopback.
    #[arg(long)]
    pub baseline: bool,
}

/// The command sequence of each benchmarked call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pattern {
    /// `call`, `answer` (the operator from the reply), `hangup`.
    CallAnswerHangup,
    /// `call`, `hangup` (a missed call).
    CallHangup,
    /// `call` only: calls stay (to fill the queue before another run).
    Call,
}

impl Pattern {
    /// The pattern as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::CallAnswerHangup => "call-answer-hangup",
            Pattern::CallHangup => "call-hangup",
            Pattern::Call => "call",
        }
    }
}

/// Parses a positive, finite number of seconds.
pub fn parse_positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 1e6 => Ok(seconds),
        _ => Err(format!("not a positive number of seconds: {text:?}")),
    }
}

/// Checks an address option (`--listen`, `--connect`): `HOST:PORT` with a
/// port from 0 to 65535. A host name is allowed (`server:5678`); it is
/// looked up when the mode starts, so a name the resolver does not know is
/// a failure to connect or bind (exit 1), while a value that cannot be an
/// address at all is a bad option value (exit 2), like every other.
pub fn parse_address(text: &str) -> Result<String, String> {
    if text.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(text.to_string());
    }
    let plausible = text.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty()
            && !host.contains(|c: char| c.is_whitespace() || c.is_control() || c == '[' || c == ']')
            && port.parse::<u16>().is_ok()
    });
    if plausible {
        Ok(text.to_string())
    } else {
        Err("expected HOST:PORT, such as 127.0.0.1:5678".to_string())
    }
}

/// Operator ids, in priority order, unique and valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorList(pub Vec<String>);

/// The ring timeout; `None` when turned off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingTimeout(pub Option<Duration>);

/// The name of the `n`th operator (0-based) for `--operators N`:
/// A..Z, then AA, AB, ... (bijective base 26, like spreadsheet columns).
pub fn operator_name(mut n: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Parses `--operators`: a count (0 starts with nobody: operators then
/// `login`), or a comma-separated list.
pub fn parse_operators(text: &str) -> Result<OperatorList, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let count: usize = text
            .parse()
            .map_err(|_| format!("too many operators (at most {MAX_OPERATORS})"))?;
        if count > MAX_OPERATORS {
            return Err(format!("the count must be between 0 and {MAX_OPERATORS}"));
        }
        return Ok(OperatorList((0..count).map(operator_name).collect()));
    }
    let mut ids: Vec<String> = Vec::new();
    for id in text.split(',') {
        if !is_valid_id(id) {
            return Err(format!(
                "invalid operator id {id:?} (1 to 64 bytes, no blanks or control characters)"
            ));
        }
        ids.push(id.to_string());
    }
    let mut sorted: Vec<&String> = ids.iter().collect();
    sorted.sort();
    if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("duplicate operator id {}", pair[0]));
    }
    Ok(OperatorList(ids))
}

/// Parses `--ring-timeout`: non-negative seconds, decimals allowed, 0 = off.
pub fn parse_ring_timeout(text: &str) -> Result<RingTimeout, String> {
    let delay = parse_seconds(text)?;
    Ok(RingTimeout((!delay.is_zero()).then_some(delay)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_count_like_spreadsheet_columns() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(operator_name)
            .collect();
        assert_eq!(names, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn operators_accept_lists_and_counts_and_refuse_the_rest() {
        assert_eq!(parse_operators("A,B").unwrap().0, ["A", "B"]);
        assert_eq!(parse_operators("3").unwrap().0, ["A", "B", "C"]);
        assert_eq!(parse_operators("Ana,Bia,7").unwrap().0, ["Ana", "Bia", "7"]);
        assert_eq!(parse_operators("0").unwrap().0, Vec::<String>::new());
        for bad in [
            "",
            "A,,B",
            "A,A",
            "1000001",
            "A,B C",
            "99999999999999999999",
        ] {
            assert!(parse_operators(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn addresses_need_a_host_and_a_port_that_fits() {
        for good in [
            "127.0.0.1:0",
            "127.0.0.1:65535",
            "[::1]:5678",
            "server:5678",
            "localhost:1",
        ] {
            assert_eq!(parse_address(good).as_deref(), Ok(good), "{good:?}");
        }
        for bad in [
            "nope",
            "127.0.0.1:99999",
            ":5678",
            "host:",
            "host:-1",
            "a b:1",
            "",
            "[::1:5",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn ring_timeout_takes_decimals_and_zero_turns_it_off() {
        assert_eq!(
            parse_ring_timeout("0.2").unwrap().0,
            Some(Duration::from_millis(200))
        );
        assert_eq!(
            parse_ring_timeout("10").unwrap().0,
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_ring_timeout("0").unwrap().0, None);
        for bad in ["-1", "NaN", "inf", "ten", ""] {
            assert!(parse_ring_timeout(bad).is_err(), "{bad:?} accepted");
        }
    }
}
