//! English texts (the original English assignment's wording).

use std::fmt::{self, Write};

use crate::command::{CommandError, Verb};
use crate::engine::{EngineError, Event};
use crate::error::{ClientError, ConnectFailure, RunError, ServerError};
use crate::wire::WireError;

pub(super) const HELP_INTRO: &str = "Commands:";

pub(super) fn event(event: &Event, out: &mut String) -> fmt::Result {
    match event {
        Event::Received { call } => write!(out, "Call {call} received"),
        Event::Ringing { call, operator } => {
            write!(out, "Call {call} ringing for operator {operator}")
        }
        Event::Answered { call, operator } => {
            write!(out, "Call {call} answered by operator {operator}")
        }
        Event::Rejected { call, operator } => {
            write!(out, "Call {call} rejected by operator {operator}")
        }
        Event::Finished { call, operator } => {
            write!(
                out,
                "Call {call} finished and operator {operator} available"
            )
        }
        Event::Queued { call } => write!(out, "Call {call} waiting in queue"),
        Event::Missed { call } => write!(out, "Call {call} missed"),
        Event::Ignored { call, operator } => {
            write!(out, "Call {call} ignored by operator {operator}")
        }
        // The ACD's events (SPEC §9) live in acd.rs.
        other => super::acd::event(super::Lang::En, other, out),
    }
}

pub(super) fn command_error(error: &CommandError, out: &mut String) -> fmt::Result {
    match error {
        CommandError::UnknownCommand(word) => write!(out, "Unknown command: {word}"),
        CommandError::Usage(verb) => write!(out, "Usage: {}", super::usage(*verb)),
    }
}

pub(super) fn engine_error(error: &EngineError, out: &mut String) -> fmt::Result {
    match error {
        EngineError::CallExists(call) => {
            write!(out, "Call {call} already exists")
        }
        EngineError::CallNotFound(call) => write!(out, "Call {call} not found"),
        EngineError::OperatorNotFound(op) => {
            write!(out, "Operator {op} not found")
        }
        EngineError::NotRinging(op) => {
            write!(out, "Operator {op} has no ringing call")
        }
        // The ACD's errors (SPEC §9.2) live in acd.rs.
        other => super::acd::error(super::Lang::En, other, out),
    }
}

pub(super) fn wire_error(error: &WireError, out: &mut String) -> fmt::Result {
    match error {
        WireError::Command(error) => command_error(error, out),
        WireError::InvalidRequest => write!(
            out,
            "Invalid request: expected {{\"command\": \"<command>\", \"id\": \"<id>\"}}"
        ),
        WireError::MessageTooLong => write!(
            out,
            "Message too long (over {} bytes): closing the connection",
            crate::wire::MAX_MESSAGE
        ),
    }
}

pub(super) fn server_error(error: &ServerError, out: &mut String) -> fmt::Result {
    match error {
        ServerError::Full(max) => write!(out, "Server full (limit {max}): try again later"),
    }
}

pub(super) fn client_error(error: &ClientError, out: &mut String) -> fmt::Result {
    match error {
        ClientError::CannotConnect { addr, reason } => {
            write!(out, "Cannot connect to {addr}: ")?;
            connect_failure(reason, out)
        }
        ClientError::ServerGone => write!(out, "Connection to the server lost"),
        ClientError::InvalidReply => write!(out, "Invalid reply from the server"),
    }
}

fn connect_failure(reason: &ConnectFailure, out: &mut String) -> fmt::Result {
    match reason {
        ConnectFailure::Os(text) => out.write_str(text),
        ConnectFailure::NoAddress => out.write_str("no address found"),
    }
}

pub(super) fn run_error(error: &RunError, out: &mut String) -> fmt::Result {
    match error {
        RunError::Stdio(error) => write!(out, "standard input/output failed: {error}"),
        RunError::Os(error) => write!(out, "{error}"),
        RunError::NoAddress(addr) => write!(out, "no address for {addr}"),
        RunError::QueueLog { path, error } => {
            write!(out, "cannot open the queue log {}: {error}", path.display())
        }
    }
}

pub(super) fn describe(verb: Verb) -> (&'static str, &'static str) {
    let text = match verb {
        Verb::Call => "a call with id <id> arrives; priority 0-9, higher first (default 0)",
        Verb::Answer => "operator <id> answers the call ringing for it",
        Verb::Reject => "operator <id> rejects the call ringing for it",
        Verb::Hangup => "call <id> ends",
        Verb::Pause => "operator <op> takes no new call until unpaused",
        Verb::Unpause => "operator <op> ends its pause",
        Verb::Login => "operator <op> joins the distribution (a new one at the end)",
        Verb::Logout => "operator <op> leaves the distribution (not while ringing or on a call)",
        Verb::Status => "shows the queue and every operator",
        Verb::Stats => "shows the counters since start",
        Verb::Help => "lists the commands, or describes one",
        Verb::Exit => "leaves (end of input does too)",
    };
    (super::usage(verb), text)
}
