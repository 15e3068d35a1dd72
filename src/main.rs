//! The `callcenter` binary: parses the command line and starts a mode.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use callcenter::cli::{Cli, Mode};
use callcenter::modes;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            if error.kind() == ErrorKind::DisplayVersion {
                // The same line whichever mode it was asked of.
                println!("callcenter {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            if error.kind() == ErrorKind::DisplayHelp {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            // One line, as every error of ours: clap's first line says it all.
            let text = error.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let result = match cli.mode {
        None => modes::standalone::run(&cli.standalone).map(|()| ExitCode::SUCCESS),
        Some(Mode::Standalone(options)) => {
            modes::standalone::run(&options).map(|()| ExitCode::SUCCESS)
        }
        Some(Mode::Server(options)) => modes::server::run(&options).map(|()| ExitCode::SUCCESS),
        Some(Mode::Client(options)) => modes::client::run(&options),
        Some(Mode::Bench(options)) => modes::bench::run(&options),
        Some(Mode::LoopbackEcho) => modes::bench::loopback_echo().map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("callcenter: {error}");
            ExitCode::FAILURE
        }
    }
}
