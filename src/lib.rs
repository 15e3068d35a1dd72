//! callcenter: a simulated call-center queue on a hand-written, Twisted-style reactor.
//!
//! Operators answer, reject or ignore calls; calls wait in a queue by
//! priority, first come first served within one; every step prints an exact
//! message (Portuguese or English). Beyond the assignment it is a small real
//! ACD: operator states, pause, wrap-up, six distribution strategies,
//! `status` and `stats`, an Asterisk-format queue log, a live monitor,
//! Prometheus metrics and a wallboard in the browser. The program runs
//! standalone (commands on stdin), as a TCP server taking JSON commands, as
//! the matching client, as an event monitor, or as a load generator.
//! Everything runs on one single-threaded event loop written here on `mio`,
//! shaped like Twisted's reactor, so the code doubles as a reference for how
//! such a loop works.
//!
//! # Layout
//!
//! [`reactor`] is the event loop and nothing else: `Reactor` (`run`, `stop`,
//! `call_later`, `on_signals`), `Protocol`/`Factory`/`ClientFactory`,
//! `Transport` (buffered, never-blocking writes with backpressure),
//! pull-based framing (`Decoder`, `Framed`, `LineReceiver`), `standard_io`,
//! TCP listening and connecting, `LoopingCall`, the `Clock` that tests drive
//! by hand, and the line editor (`recvline`). It knows nothing of calls: the
//! examples in `examples/` use it alone.
//!
//! [`engine`] is the queue: a pure state machine with no I/O and no clock.
//! Commands (with the time) go in, events and timer effects (ring, wrap-up)
//! come out as values; every command costs O(log n) whatever the number of
//! operators and waiting calls, whatever the strategy.
//!
//! [`command`] parses the command lines people type; [`messages`] holds every
//! user-facing text, one file per language; [`wire`] is the client/server
//! protocol (framing of JSON messages, requests, replies), also sans-I/O.
//!
//! [`queue_service`] is the engine on the reactor: its timers, its
//! subscribers (connections subscribe to its events, monitors to all of
//! them), rendered in one language; its [`observer`] keeps the histograms
//! of `/metrics` and writes the [`queue_log`]. [`web`] is the HTTP side
//! (`twisted.web`'s twin): the request parser on `httparse`, the routes,
//! server-sent events, the metrics text and the wallboard page. [`repl`] is
//! what standalone and client share at the console (prompt, line limit, the
//! overlong-line error, and on a terminal the line editor in raw mode);
//! [`error`] holds the server's, client's and program's errors (each layer
//! has its own error type; [`messages`] renders them all); [`sys`] the few
//! OS calls, each behind a safe function (the crate's one raw C call, the
//! time-zone lookup, is there).
//!
//! [`modes`] wires those together on the reactor: `standalone`, `server`,
//! `client`, `monitor` and `bench`, each importing only from the layers
//! above, never from another mode. [`cli`] declares the command line and
//! checks its values; `main.rs` only parses it and starts a mode.
//! [`histogram`] keeps the bench's latencies in fixed memory.
//!
//! # Reading guides
//!
//! The reactor is written to be read by a Twisted programmer. Start with
//! [`reactor`]'s own page, which links each of its parts to the Twisted
//! piece it mirrors; then, in the repository:
//!
//! - `docs/twisted-to-rust.md`: every Twisted idea the program uses
//!   (`reactor.run`, `callLater`, `task.Clock`, `LoopingCall`, `Protocol`,
//!   `LineReceiver`, `StandardIO`, producers, `twisted.web`, `cmd.Cmd` and
//!   `conch.recvline`, `twistd`) next to its counterpart here, quoting the
//!   code exactly;
//! - `examples/`: `timers.rs`, `echo_server.rs`, `stdin_lines.rs` and
//!   `line_editor.rs`, small programs on the reactor alone
//!   (`cargo run --example echo_server`);
//! - `docs/architecture.md`: how the layers fit and the walk of one command;
//!   `docs/observability.md`: the queue log, monitor, HTTP and wallboard.
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
