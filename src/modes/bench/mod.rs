//! Bench mode: a load generator speaking the wire protocol (SPEC §6).
//!
//! It runs on the same reactor as everything else: `--clients` connections,
//! each keeping `--pipeline` commands in flight. Every reply is checked
//! against what the protocol says it must be (a benchmark that counted wrong
//! answers as throughput would be worthless): the call is received, rings
//! an operator or waits, is answered by that operator, finishes or is
//! missed. Latency goes into a [`Histogram`](crate::histogram::Histogram),
//! not a vector of samples. Run the server with `--ring-timeout 0` and at
//! least `clients × pipeline` operators for calls to ring at once; calls
//! that queue anyway are hung up and counted.
//!
//! Four jobs, one file each: `load.rs` drives the connections ([`load()`]),
//! `report.rs` keeps and prints what was measured ([`Report`]),
//! `baseline.rs` measures the floor, a blocking loopback ping-pong
//! ([`baseline()`]), and [`run`] here picks one and prints its report.

mod baseline;
mod load;
mod report;

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

pub use baseline::{baseline, loopback_echo};
pub use load::load;
pub use report::Report;

use crate::cli::BenchOptions;
use crate::error::RunError;
use crate::reactor::Reactor;
use crate::sys::address;

/// Runs `callcenter bench`: prints the report (text or JSON) on stdout;
/// exit status 1 if any reply was wrong or a connection failed.
pub fn run(options: &BenchOptions) -> Result<ExitCode, RunError> {
    let report = if options.baseline {
        let seconds = options.duration.unwrap_or(5.0);
        baseline(Duration::from_secs_f64(seconds))?
    } else {
        // Idle connections need descriptors: as many as the system allows.
        crate::sys::raise_open_file_limit();
        let reactor = Reactor::new()?;
        reactor.install_signal_handlers()?;
        let addr = address(&options.connect)?;
        load(&reactor, addr, options, true)?
    };
    let heading = if options.baseline {
        "loopback ping-pong (blocking, 32-byte messages)".to_string()
    } else {
        format!(
            "{} clients, pipeline {}, pattern {}, {} idle connections, server {}",
            options.clients,
            options.pipeline,
            options.pattern.name(),
            options.idle,
            options.connect
        )
    };
    let mut stdout = io::stdout().lock();
    if options.json {
        writeln!(stdout, "{}", report.to_json())?;
    } else {
        write!(stdout, "{}", report.to_text(&heading))?;
    }
    stdout.flush()?;
    Ok(if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
