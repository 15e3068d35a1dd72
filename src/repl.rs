//! What standalone and client share at the console: the prompt, the line
//! limit, the error for a longer line, and how a failed standard I/O ends.
//!
//! Both read commands with a [`LineReceiver`](crate::reactor::LineReceiver)
//! on [`standard_io`](crate::reactor::standard_io) (Python's `cmd.Cmd` as a
//! line protocol); this module keeps them agreeing byte for byte.

use std::io;

use crate::command::{Command, CommandError, Verb, parse_line};
use crate::error::RunError;
use crate::reactor::ConnectionLost;

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
