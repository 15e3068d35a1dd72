//! callcenter: a simulated call-center queue on a hand-written, Twisted-style reactor.
//!
//! Operators answer, reject or ignore calls; calls wait in a FIFO queue; every
//! step prints an exact message (Portuguese or English). The program runs
//! standalone (commands on stdin), as a TCP server taking JSON commands, as
//! the matching client, or as a load generator. Everything runs on one
//! single-threaded event loop written here on `mio`, shaped like Twisted's
//! reactor, so the code doubles as a reference for how such a loop works.
//!
//! # Layout
//!
//! [`reactor`] is the event loop and nothing else: `Reactor` (`run`, `stop`,
//! `call_later`), `Protocol`/`Factory`/`ClientFactory`, `Transport` (buffered,
//! never-blocking writes with backpressure), pull-based framing (`Decoder`,
//! `Framed`, `LineReceiver`), `standard_io`,
//! TCP listening and connecting, `LoopingCall`, and the `Clock` that tests
//! drive by hand. It
//! knows nothing of calls: the examples in `examples/` use it alone.
//!
//! [`engine`] is the queue: a pure state machine with no I/O and no clock.
//! Commands go in, events and ring-timer effects come out as values; every
//! command costs O(log n) whatever the number of operators and waiting calls.
//!
//! [`command`] parses the command lines people type; [`messages`] holds every
//! user-facing text, one file per language; [`wire`] is the client/server
//! protocol (framing of JSON messages, requests, replies), also sans-I/O.
//!
//! [`queue_service`] is the engine plus its ring timers, rendered in one
//! language; connections subscribe to its events. [`repl`] is what
//! standalone and client share at the console (prompt, line limit, the
//! overlong-line error, and on a terminal the line editor in raw mode);
//! [`error`] holds the server's, client's and
//! program's errors (each layer has its own error type; [`messages`]
//! renders them all); [`sys`] the few OS calls, each behind a safe
//! function (the crate's one raw C call, the time-zone lookup, is there).
//!
//! [`modes`] wires those together on the reactor: `standalone`, `server`,
//! `client` and `bench`, each importing only from the layers above, never
//! from another mode. [`cli`] declares the command line and checks its
//! values; `main.rs` only parses it and starts a mode. [`histogram`] keeps
//! the bench's latencies in fixed memory.
//!
//! # Reading guides
//!
//! The reactor is written to be read by a Twisted programmer. Start with
//! [`reactor`]'s own page, which links each of its parts to the Twisted
//! piece it mirrors; then, in the repository:
//!
//! - `docs/twisted-to-rust.md`: every Twisted idea the program uses
//!   (`reactor.run`, `callLater`, `task.Clock`, `LoopingCall`, `Protocol`,
//!   `LineReceiver`, `StandardIO`, producers, `twistd`, `cmd.Cmd`) next to
//!   its counterpart here, quoting the code exactly;
//! - `examples/`: `timers.rs`, `echo_server.rs` and `stdin_lines.rs`, small
//!   programs on the reactor alone (`cargo run --example echo_server`);
//! - `docs/architecture.md`: how the layers fit and the walk of one command.
//!
//! # A first taste
//!
//! The engine on its own, as the standalone mode drives it:
//!
//! ```
//! use callcenter::engine::Engine;
//! use callcenter::messages::Lang;
//!
//! let mut engine = Engine::new(["A", "B"]).unwrap();
//! let mut effects = Vec::new();
//! engine.call("1", &mut effects).unwrap();
//! let mut text = String::new();
//! for effect in &effects {
//!     if let callcenter::engine::Effect::Event(event) = effect {
//!         Lang::En.write_event(event, &mut text);
//!         text.push('\n');
//!     }
//! }
//! assert_eq!(text, "Call 1 received\nCall 1 ringing for operator A\n");
//! ```

#![warn(missing_docs)]

pub mod cli;
pub mod command;
pub mod engine;
pub mod error;
pub mod histogram;
pub mod messages;
pub mod modes;
pub mod observer;
pub mod queue_log;
pub mod queue_service;
pub mod reactor;
pub mod repl;
pub mod sys;
pub mod web;
pub mod wire;
