//! callcenter: a simulated call-center queue on a hand-written, Twisted-style reactor.

#![warn(missing_docs)]

pub mod cli;
pub mod command;
pub mod engine;
pub mod histogram;
pub mod messages;
pub mod modes;
pub mod reactor;
pub mod wire;
