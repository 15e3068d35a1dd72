//! Monitor mode: every event of a server, live (SPEC §10.2).
//!
//! Connects, sends `{"command": "subscribe"}`, and prints each event line
//! the server sends from then on, prefixed by the local time
//! (`HH:MM:SS.mmm `), or, with `--json`, the raw reply lines for `jq`. It
//! is the AMI event stream of our protocol. Ends with status 0 on SIGINT or
//! SIGTERM, 1 (one line on stderr) when the server goes away.
//!
//! Standard output is a transport on the loop like any other, so a pipe
//! nobody reads never blocks it (signals still end the monitor): past
//! [`STDOUT_HIGH_WATER`] unprinted bytes the monitor stops reading the
//! server, whose own output cap then drops it if events keep coming, and it
//! reads again once stdout drains.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use log::debug;

use crate::cli::MonitorOptions;
use crate::command::escape_for_terminal;
use crate::error::{ClientError, ConnectFailure, RunError};
use crate::messages::{Lang, Localized};
use crate::reactor::{
    AfterEof, BufferLimits, ClientFactory, ConnectionLost, FrameHandler, Framed, LoopingCall, Next,
    Protocol, Reactor, Transport, standard_io,
};
use crate::repl::stdio_failure;
use crate::sys::{local_utc_offset, write_stderr};
use crate::wire::{Frame, JsonDecoder, decode_reply};

/// Above this many unprinted bytes, stop reading the server; read again
/// below half of it.
pub const STDOUT_HIGH_WATER: usize = 256 * 1024;

/// How often a paused monitor looks whether stdout drained.
const DRAIN_CHECK: std::time::Duration = std::time::Duration::from_millis(20);

/// The request that turns a connection into a monitor.
pub const SUBSCRIBE_REQUEST: &[u8] = b"{\"command\": \"subscribe\"}\n";

/// `HH:MM:SS.mmm ` for `since_epoch` at `utc_offset_secs` from UTC.
pub fn timestamp(since_epoch: std::time::Duration, utc_offset_secs: i64) -> String {
    let local = since_epoch.as_secs() as i64 + utc_offset_secs;
    let of_day = local.rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}.{:03} ",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// Appends the lines to print for one reply `message` to `out`: nothing
/// for the server's own replies (the `subscribe` acknowledgement), each
/// line of an event with `stamp` before it, or the raw line with `json`.
/// `Err` for what is no reply, or an error reply (a server without
/// `subscribe`), with the text to say.
pub fn format_message(
    message: &[u8],
    json: bool,
    stamp: &str,
    out: &mut String,
) -> Result<(), Option<String>> {
    let reply = decode_reply(message).ok_or(None)?;
    if reply.error {
        return Err(Some(escape_for_terminal(&reply.response).into_owned()));
    }
    if !reply.event {
        return Ok(());
    }
    if json {
        out.push_str(&String::from_utf8_lossy(message));
        out.push('\n');
        return Ok(());
    }
    for line in escape_for_terminal(&reply.response).lines() {
        out.push_str(stamp);
        out.push_str(line);
        out.push('\n');
    }
    Ok(())
}

/// The monitor's state.
struct Monitor {
    lang: Lang,
    json: bool,
    reactor: Reactor,
    /// Ended with an error (status 1).
    failed: bool,
    /// Standard output failed.
    failure: Option<RunError>,
    /// Reused for each message's lines.
    text: String,
    /// Standard output, on the loop.
    stdout: Option<Transport>,
    /// The connection to the server.
    server: Option<Transport>,
    /// The server is not read while stdout is full.
    holding: Rc<Cell<bool>>,
    /// The local zone's offset from UTC, and the minute it was asked at.
    utc_offset: Option<(u64, i64)>,
}

impl Monitor {
    fn fail(&mut self, error: &dyn Localized) {
        let mut text = String::new();
        error.write_in(self.lang, &mut text);
        text.push('\n');
        self.fail_with(&text);
    }

    fn fail_with(&mut self, text: &str) {
        if !self.failed {
            self.failed = true;
            write_stderr(text);
        }
        self.reactor.stop();
    }

    /// Stops reading the server until stdout drains below half the mark,
    /// looking every [`DRAIN_CHECK`] (a `LoopingCall` that stops itself).
    fn hold_server(&mut self) {
        let (Some(server), Some(stdout)) = (self.server.clone(), self.stdout.clone()) else {
            return;
        };
        if self.holding.replace(true) {
            return;
        }
        server.pause_producing();
        let holding = self.holding.clone();
        let this_call: Rc<RefCell<Option<LoopingCall>>> = Rc::default();
        let stop = this_call.clone();
        let check = LoopingCall::start(&self.reactor, DRAIN_CHECK, false, move || {
            if stdout.buffered() <= STDOUT_HIGH_WATER / 2 {
                server.resume_producing();
                holding.set(false);
                if let Some(call) = stop.borrow_mut().take() {
                    call.stop();
                }
            }
        });
        *this_call.borrow_mut() = Some(check);
    }

    /// Handles one reply; returns whether to go on.
    fn message(&mut self, message: &[u8]) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        // The zone's offset changes at most at whole minutes (DST): ask
        // the C library once a minute, not once an event.
        let minute = now.as_secs() / 60;
        let offset = match self.utc_offset {
            Some((at, offset)) if at == minute => offset,
            _ => {
                let offset = local_utc_offset(now.as_secs() as i64).unwrap_or(0);
                self.utc_offset = Some((minute, offset));
                offset
            }
        };
        let stamp = timestamp(now, offset);
        self.text.clear();
        match format_message(message, self.json, &stamp, &mut self.text) {
            Ok(()) => {
                if let Some(stdout) = &self.stdout {
                    stdout.write(self.text.as_bytes());
                    if stdout.buffered() > STDOUT_HIGH_WATER {
                        self.hold_server();
                    }
                }
                true
            }
            Err(Some(refusal)) => {
                self.fail_with(&format!("{refusal}\n"));
                false
            }
            Err(None) => {
                self.fail(&ClientError::InvalidReply);
                false
            }
        }
    }
}

/// The connection to the server, framed by a [`JsonDecoder`].
struct Watcher {
    monitor: Rc<RefCell<Monitor>>,
}

impl FrameHandler<JsonDecoder> for Watcher {
    fn connection_made(&mut self, transport: Transport) {
        transport.write(SUBSCRIBE_REQUEST);
        self.monitor.borrow_mut().server = Some(transport);
    }

    fn frame_received(&mut self, frame: Frame<'_>) -> Next {
        let mut monitor = self.monitor.borrow_mut();
        let go_on = match frame {
            Frame::Message(message) => monitor.message(message),
            Frame::Malformed | Frame::TooLong => {
                monitor.fail(&ClientError::InvalidReply);
                false
            }
            // A reply cut short by the server's close: `connection_lost`
            // says the server is gone.
            Frame::Unfinished => true,
        };
        if go_on {
            Next::Continue
        } else {
            Next::Disconnect
        }
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("server connection closed: {reason}");
        if matches!(reason, ConnectionLost::Shutdown) {
            // SIGINT or SIGTERM stopped the loop: a clean end.
            return;
        }
        self.monitor.borrow_mut().fail(&ClientError::ServerGone);
    }
}

/// Standard output (and stdin, which the monitor does not read for
/// anything but its end): `twisted.internet.stdio.StandardIO` with a
/// protocol that only writes.
struct Output {
    monitor: Rc<RefCell<Monitor>>,
}

impl Protocol for Output {
    fn connection_made(&mut self, transport: Transport) {
        // Never dropped for being slow: the server is held instead.
        transport.set_buffer_limits(BufferLimits {
            high_water: STDOUT_HIGH_WATER,
            hard_cap: usize::MAX,
        });
        self.monitor.borrow_mut().stdout = Some(transport);
    }

    fn data_received(&mut self, _data: &[u8]) {}

    fn read_connection_lost(&mut self) -> AfterEof {
        // Nothing is read from stdin: its end changes nothing.
        AfterEof::KeepWriting
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        if matches!(reason, ConnectionLost::Shutdown) {
            return;
        }
        // Nobody reads any more (`| head`: a normal end) or stdout failed
        // (a full disk: status 1): either way there is no one to tell.
        let mut monitor = self.monitor.borrow_mut();
        if let Some(failure) = stdio_failure(&reason) {
            monitor.failure = Some(failure);
            monitor.failed = true;
        }
        monitor.reactor.stop();
    }
}

/// Connects, then hands the connection to a [`Watcher`].
struct Connector {
    monitor: Rc<RefCell<Monitor>>,
    addr: String,
}

impl ClientFactory for Connector {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Box<dyn Protocol> {
        let watcher = Watcher {
            monitor: self.monitor.clone(),
        };
        Box::new(Framed::with_decoder(JsonDecoder::new(), watcher))
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        self.monitor.borrow_mut().fail(&ClientError::CannotConnect {
            addr: self.addr.clone(),
            reason: ConnectFailure::Os(error.to_string()),
        });
    }
}

/// Runs the monitor until a signal, or until the server goes away.
pub fn run(options: &MonitorOptions) -> Result<ExitCode, RunError> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let monitor = Rc::new(RefCell::new(Monitor {
        lang: options.lang,
        json: options.json,
        reactor: reactor.clone(),
        failed: false,
        failure: None,
        text: String::new(),
        stdout: None,
        server: None,
        holding: Rc::default(),
        utc_offset: None,
    }));
    standard_io(
        &reactor,
        Output {
            monitor: monitor.clone(),
        },
    )?;
    let addr = match ClientError::resolve_server(&options.connect) {
        Ok(addr) => addr,
        Err(error) => {
            monitor.borrow_mut().fail(&error);
            return Ok(ExitCode::FAILURE);
        }
    };
    reactor.connect_tcp(
        addr,
        Connector {
            monitor: monitor.clone(),
            addr: options.connect.clone(),
        },
    );
    reactor.run()?;
    let mut monitor = monitor.borrow_mut();
    if let Some(failure) = monitor.failure.take() {
        return Err(failure);
    }
    Ok(if monitor.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_local_hours_minutes_seconds_and_millis() {
        let at = Duration::from_millis(86_400_000 * 3 + 3_723_045);
        assert_eq!(timestamp(at, 0), "01:02:03.045 ");
        assert_eq!(timestamp(at, -2 * 3600), "23:02:03.045 ");
        assert_eq!(timestamp(at, 3600 + 1800), "02:32:03.045 ");
    }

    #[test]
    fn events_are_stamped_line_by_line_and_replies_skipped() {
        let mut out = String::new();
        let event =
            br#"{"response": "Call 1 received\nCall 1 ringing for operator A", "event": true}"#;
        format_message(event, false, "T ", &mut out).unwrap();
        assert_eq!(out, "T Call 1 received\nT Call 1 ringing for operator A\n");
        out.clear();
        format_message(
            br#"{"response": "Monitoring all events"}"#,
            false,
            "T ",
            &mut out,
        )
        .unwrap();
        assert_eq!(out, "");
        format_message(event, true, "T ", &mut out).unwrap();
        assert_eq!(out, format!("{}\n", String::from_utf8_lossy(event)));
    }

    #[test]
    fn an_error_reply_or_garbage_ends_the_monitor() {
        let mut out = String::new();
        let refused = br#"{"response": "Unknown command: subscribe", "error": true}"#;
        assert_eq!(
            format_message(refused, false, "", &mut out),
            Err(Some("Unknown command: subscribe".to_string()))
        );
        assert_eq!(format_message(b"[1]", false, "", &mut out), Err(None));
        assert_eq!(out, "");
    }
}
