//! The `callcenter` binary: parses the command line and starts a mode.
//!
//! Exit status: 0 on success (and on SIGINT/SIGTERM), 1 when a mode fails
//! (it says why in one line on stderr), 2 for a bad command line. Nothing
//! here panics on a failed write: a diagnostic that cannot be written is
//! dropped, and the status still says what happened.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use callcenter::cli::{Cli, Mode};
use callcenter::messages::Lang;
use callcenter::modes;
use callcenter::sys::{write_stderr, write_stdout};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            if error.kind() == ErrorKind::DisplayVersion {
                // The same line whichever mode it was asked of.
                let _ = write_stdout(&format!("callcenter {}\n", env!("CARGO_PKG_VERSION")));
                return ExitCode::SUCCESS;
            }
            if error.kind() == ErrorKind::DisplayHelp {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            // One line, as every error of ours: clap's first line says it all.
            let text = error.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            write_stderr(&format!("{first}\n"));
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let lang = match &cli.mode {
        None => cli.standalone.lang,
        Some(Mode::Standalone(options)) => options.lang,
        Some(Mode::Server(options)) => options.queue.lang,
        Some(Mode::Client(options)) => options.lang,
        Some(Mode::Bench(options)) => options.lang,
        Some(Mode::Monitor(options)) => options.lang,
        Some(Mode::LoopbackEcho) => Lang::default(),
    };
    let result = match cli.mode {
        None => modes::standalone::run(&cli.standalone).map(|()| ExitCode::SUCCESS),
        Some(Mode::Standalone(options)) => {
            modes::standalone::run(&options).map(|()| ExitCode::SUCCESS)
        }
        Some(Mode::Server(options)) => modes::server::run(&options).map(|()| ExitCode::SUCCESS),
        Some(Mode::Client(options)) => modes::client::run(&options),
        Some(Mode::Bench(options)) => modes::bench::run(&options),
        Some(Mode::Monitor(options)) => modes::monitor::run(&options),
        Some(Mode::LoopbackEcho) => modes::bench::loopback_echo()
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            let mut text = String::from("callcenter: ");
            lang.write_error(&error, &mut text);
            text.push('\n');
            write_stderr(&text);
            ExitCode::FAILURE
        }
    }
}
