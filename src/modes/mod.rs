//! The modes: the engine and the reactor wired together.
//!
//! [`service`] is the part standalone and server share (the engine, its ring
//! timers and its messages); each mode adds its own I/O around it.

pub mod bench;
pub mod client;
pub mod server;
pub mod service;
pub mod standalone;
