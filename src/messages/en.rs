//! English texts (the original English assignment's wording).

use std::fmt::{self, Write};

use crate::command::{UserError, Verb};
use crate::engine::{EngineError, Event};

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

pub(super) fn error(error: &UserError, out: &mut String) -> fmt::Result {
    match error {
        UserError::UnknownCommand(word) => write!(out, "Unknown command: {word}"),
        UserError::Usage(verb) => write!(out, "Usage: {}", super::usage(*verb)),
        UserError::Engine(EngineError::CallExists(call)) => {
            write!(out, "Call {call} already exists")
        }
        UserError::Engine(EngineError::CallNotFound(call)) => write!(out, "Call {call} not found"),
        UserError::Engine(EngineError::OperatorNotFound(op)) => {
            write!(out, "Operator {op} not found")
        }
        UserError::Engine(EngineError::NotRinging(op)) => {
            write!(out, "Operator {op} has no ringing call")
        }
        // The ACD's errors (SPEC §9.2) live in acd.rs.
        UserError::Engine(other) => super::acd::error(super::Lang::En, other, out),
        UserError::InvalidRequest => write!(
            out,
            "Invalid request: expected {{\"command\": \"<command>\", \"id\": \"<id>\"}}"
        ),
        UserError::MessageTooLong => write!(
            out,
            "Message too long (over {} bytes): closing the connection",
            crate::wire::MAX_MESSAGE
        ),
        UserError::ServerFull(max) => write!(out, "Server full (limit {max}): try again later"),
        UserError::CannotConnect { addr, reason } => {
            write!(out, "Cannot connect to {addr}: {reason}")
        }
        UserError::ServerGone => write!(out, "Connection to the server lost"),
        UserError::InvalidReply => write!(out, "Invalid reply from the server"),
    }
}

pub(super) fn describe(verb: Verb) -> (&'static str, &'static str) {
    let text = match verb {
        Verb::Call => "a call with id <id> arrives",
        Verb::Answer => "operator <id> answers the call ringing for it",
        Verb::Reject => "operator <id> rejects the call ringing for it",
        Verb::Hangup => "call <id> ends",
        Verb::Help => "lists the commands, or describes one",
        Verb::Exit => "leaves (end of input does too)",
    };
    (super::usage(verb), text)
}
