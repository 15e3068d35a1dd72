//! The one test harness of the end-to-end tests, as Twisted's
//! `twisted.internet.testing` is for its own: everything a test needs to
//! drive the real `callcenter` binary from outside.
//!
//! - [`process`]: run the binary (stdin bytes in; stdout, stderr and exit
//!   status out), or keep it running as a [`Proc`] to talk to;
//! - [`server`]: a [`Server`] on `127.0.0.1:0`, found by its
//!   `Listening on ADDR` line;
//! - [`conn`]: a [`Conn`], a raw TCP client reading JSON lines with deadlines;
//! - [`sockets`]: what the standard library does not offer on sockets
//!   (resets, small windows, waiting for the peer without reading);
//! - [`wire`]: the exact reply lines, and the seed script as request/reply pairs;
//! - [`rng`]: a seeded [`Rng`], the same script on every run;
//! - [`expect`]: whole-transcript assertions;
//! - [`engine`] and [`acd_model`]: the engine tests' helpers and the
//!   reference model the ACD's property test checks the engine against;
//! - [`in_process`]: a manual-clock reactor, a log, a bounded `drive` loop,
//!   for tests of the reactor itself;
//! - [`exit`]: learning when a child exits without reaping it;
//! - [`python`]: a Python script as a checker (the Prometheus parser).
//!
//! Nothing here waits forever and nothing sleeps to wait: every read has a
//! deadline ([`TIMEOUT`]), and every child is killed and reaped when its
//! guard drops, even when the test fails (what it printed is shown then).
//!
//! Each test file includes it with `mod support;`; not every file uses every
//! piece, hence `dead_code` is allowed.

#![allow(dead_code, unused_imports)]

pub mod acd_model;
pub mod conn;
pub mod engine;
pub mod exit;
pub mod expect;
pub mod in_process;
pub mod process;
pub mod python;
pub mod rng;
pub mod server;
pub mod sockets;
pub mod wire;

pub use conn::{Conn, Next};
pub use expect::{assert_output, check, lines};
pub use process::{Outcome, Pipe, Proc, TIMEOUT, command, deadline, run, run_with_stdin, text};
pub use rng::Rng;
pub use server::{Server, Streams};
pub use sockets::*;
pub use wire::*;
