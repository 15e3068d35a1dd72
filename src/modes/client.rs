//! Client mode: the command interpreter, talking to a server (SPEC §6).
//!
//! Stdin is one more connection on the reactor ([`standard_io`](crate::reactor::standard_io)), as the
//! assignment's bonus asks: no thread runs a blocking `cmdloop`. Each valid
//! command is sent at once (commands are pipelined); replies come back in
//! command order. What the client prints itself (help, errors found
//! locally) waits behind the replies still due, so the output reads exactly
//! as standalone's would for the same input.
//!
//! Backpressure: above [`MAX_IN_FLIGHT`] replies due, stdin is paused
//! (`pause_producing`) and resumed once half of them have arrived; above
//! [`STDOUT_HIGH_WATER`] bytes not yet printed, stdin is not read either. So
//! however fast input comes (`yes 'hangup x' | callcenter client`), memory
//! stays bounded.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

use log::debug;

use crate::cli::ClientOptions;
use crate::command::{Command, escape_for_terminal, is_valid_id, parse_line};
use crate::error::{ClientError, ConnectFailure, RunError};
use crate::messages::{Lang, Localized};
use crate::reactor::{
    AfterEof, BufferLimits, Channel, ClientFactory, ConnectionLost, FrameHandler, Framed,
    LineHandler, Next, Overflow, Protocol, Reactor, Transport,
};
use crate::repl::{
    KnownIds, Screen, command_completer, console_io, overlong_line_error, stdio_failure,
    takes_operator,
};
use crate::sys::write_stderr;
use crate::wire::{Frame, JsonDecoder, decode_reply, encode_command};

/// Above this many replies due, stop reading commands; resume at half.
pub const MAX_IN_FLIGHT: usize = 1024;

/// Above this much output not yet printed, stop reading commands (resumed
/// by the transport once half of it is out).
pub const STDOUT_HIGH_WATER: usize = 256 * 1024;

/// Something to print, in command order.
enum Pending {
    /// The reply to a command sent to the server.
    Reply,
    /// Text the client produced itself, held until the replies before it arrive.
    Local(Channel, String),
}

/// The client's state, shared by the stdin side and the server side.
struct Client {
    lang: Lang,
    reactor: Reactor,
    /// Where replies and messages go; shows the prompt on a terminal.
    screen: Screen,
    /// Operator ids typed in this session, for Tab completion.
    known_ids: KnownIds,
    stdio: Option<Transport>,
    server: Option<Transport>,
    /// What is due to be printed, in command order.
    pending: VecDeque<Pending>,
    /// Replies due (the `Reply` entries of `pending`).
    in_flight: usize,
    /// Reading commands is paused: too many replies due.
    input_paused: bool,
    /// No more commands: end of input or `exit`.
    input_done: bool,
    /// Closing down: nothing more is read or printed.
    finished: bool,
    /// The exit status.
    failed: bool,
    /// Standard I/O failed: said by `main`, as in standalone.
    failure: Option<RunError>,
    /// Reused for each request.
    request: Vec<u8>,
}

impl Client {
    fn print(&self, channel: Channel, text: &str) {
        if self.stdio.is_some() {
            self.screen.print(channel, text);
        }
    }

    /// Prints a message's lines, if it has any, ending with a newline.
    fn print_line(&self, channel: Channel, text: &str) {
        if !text.is_empty() {
            self.print(channel, &format!("{text}\n"));
        }
    }

    /// Prints now if nothing is due before it, else queues it.
    fn emit_local(&mut self, channel: Channel, text: String) {
        if self.pending.is_empty() {
            self.print(channel, &text);
        } else {
            self.pending.push_back(Pending::Local(channel, text));
        }
    }

    fn error_text(&self, error: &dyn Localized) -> String {
        let mut text = String::new();
        error.write_in(self.lang, &mut text);
        text.push('\n');
        text
    }

    fn prompt(&self) {
        if !self.input_done && self.pending.is_empty() {
            self.screen.prompt();
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.input_done || self.finished {
            return;
        }
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(Command::Queue(request))) => {
                if takes_operator(request.verb) {
                    self.known_ids.insert(&request.id);
                }
                self.request.clear();
                encode_command(&mut self.request, &request);
                if let Some(server) = &self.server {
                    server.write(&self.request);
                }
                self.pending.push_back(Pending::Reply);
                self.in_flight += 1;
                if self.in_flight >= MAX_IN_FLIGHT && !self.input_paused {
                    self.input_paused = true;
                    if let Some(stdio) = &self.stdio {
                        stdio.pause_producing();
                    }
                }
            }
            Ok(Some(Command::Help(topic))) => {
                let mut text = String::new();
                self.lang.write_help(topic, &mut text);
                self.emit_local(Channel::Out, text);
            }
            Ok(Some(Command::Exit)) => self.input_done = true,
            Err(error) => {
                let text = self.error_text(&error);
                self.emit_local(Channel::Err, text);
            }
        }
        self.prompt();
        self.finish_if_done();
    }

    /// Prints a message from the server.
    fn reply(&mut self, message: &[u8]) {
        let Some(reply) = decode_reply(message) else {
            self.fail(&ClientError::InvalidReply);
            return;
        };
        let channel = if reply.error {
            Channel::Err
        } else {
            Channel::Out
        };
        // A `status` names every operator: Tab completes them from now on.
        if let Some(status) = &reply.status {
            // Only what could be typed: a hostile server's escapes never
            // reach the line being edited.
            for operator in status.operators.iter().filter(|op| is_valid_id(&op.id)) {
                self.known_ids.insert(&operator.id);
            }
        }
        // Some servers end each response with a newline: one line, not two.
        let text = escape_for_terminal(reply.response.trim_end_matches('\n'));
        if reply.closing {
            // The server refused us (it is full): say why, then leave.
            let text = format!("{text}\n");
            self.fail_with(&text);
            return;
        }
        // A reply with nothing in flight is news nobody asked for (some
        // servers send ring timeouts that way): print it as an event.
        if reply.event || self.in_flight == 0 {
            if !reply.event {
                debug!("a reply with nothing in flight: printed as an event");
            }
            // Above the prompt and the line being typed, if they are shown.
            self.print_line(channel, &text);
            return;
        }
        // Replies come in command order: the first entry is this one's.
        self.pending.pop_front();
        self.in_flight -= 1;
        self.print_line(channel, &text);
        while let Some(Pending::Local(..)) = self.pending.front() {
            if let Some(Pending::Local(channel, text)) = self.pending.pop_front() {
                self.print(channel, &text);
            }
        }
        if self.input_paused && self.in_flight <= MAX_IN_FLIGHT / 2 {
            self.input_paused = false;
            if let Some(stdio) = &self.stdio {
                stdio.resume_producing();
            }
        }
        self.prompt();
        self.finish_if_done();
    }

    /// Leaves once input is over and every reply has been printed.
    fn finish_if_done(&mut self) {
        if self.input_done && self.pending.is_empty() && !self.finished {
            self.finished = true;
            self.close_stdio();
        }
    }

    /// Ends with an error line and exit status 1.
    fn fail(&mut self, error: &ClientError) {
        let text = self.error_text(error);
        self.fail_with(&text);
    }

    /// Ends with `text` on stderr and exit status 1.
    fn fail_with(&mut self, text: &str) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.failed = true;
        self.print(Channel::Err, text);
        if let Some(server) = &self.server {
            server.abort_connection();
        }
        self.close_stdio();
    }

    /// Flushes standard output; its `connection_lost` stops the reactor.
    fn close_stdio(&self) {
        match &self.stdio {
            Some(stdio) => stdio.lose_connection(),
            None => self.reactor.stop(),
        }
    }
}

/// The stdin side: lines typed by the user.
struct Console {
    client: Rc<RefCell<Client>>,
}

impl LineHandler for Console {
    fn connection_made(&mut self, transport: Transport) {
        // Replies pile up in stdout's buffer when nobody reads it: stop
        // reading commands then (never drop the connection for it).
        transport.set_buffer_limits(BufferLimits {
            high_water: STDOUT_HIGH_WATER,
            hard_cap: usize::MAX,
        });
        let mut client = self.client.borrow_mut();
        client.stdio = Some(transport);
        client.prompt();
    }

    fn line_received(&mut self, line: &[u8]) {
        self.client.borrow_mut().line(line);
    }

    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        let mut client = self.client.borrow_mut();
        if client.input_done || client.finished {
            // After `exit` nothing more is read, long lines included.
            return Overflow::Discard;
        }
        let text = client.error_text(&overlong_line_error(line));
        client.emit_local(Channel::Err, text);
        Overflow::Discard
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        let mut client = self.client.borrow_mut();
        // Ctrl-D at the prompt: leave the shell's prompt on a line of its own.
        client.screen.end_of_input();
        client.input_done = true;
        client.finish_if_done();
        // Replies may still be due: keep stdout open until they are printed.
        AfterEof::KeepWriting
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("standard I/O closed: {reason}");
        let mut client = self.client.borrow_mut();
        if let Some(failure) = stdio_failure(&reason)
            && !client.failed
        {
            // Nothing more can be printed: `main` says why, on stderr.
            client.failure = Some(failure);
            client.failed = true;
            client.finished = true;
            if let Some(server) = &client.server {
                server.abort_connection();
            }
        }
        client.reactor.stop();
    }
}

/// The server side: replies and events, framed by a [`JsonDecoder`].
struct ServerSide {
    client: Rc<RefCell<Client>>,
}

impl FrameHandler<JsonDecoder> for ServerSide {
    fn connection_made(&mut self, transport: Transport) {
        let reactor = {
            let mut client = self.client.borrow_mut();
            client.server = Some(transport);
            client.reactor.clone()
        };
        // Read commands only once they can be sent.
        let console = Console {
            client: self.client.clone(),
        };
        let screen = self.client.borrow().screen.clone();
        if let Err(error) = console_io(&reactor, &screen, console) {
            let mut client = self.client.borrow_mut();
            client.failure = Some(RunError::Stdio(error));
            client.failed = true;
            client.finished = true;
            client.reactor.stop();
        }
    }

    fn frame_received(&mut self, frame: Frame<'_>) -> Next {
        let mut client = self.client.borrow_mut();
        match frame {
            Frame::Message(message) => client.reply(message),
            Frame::Malformed | Frame::TooLong => client.fail(&ClientError::InvalidReply),
            // A reply cut short by the server's close: `connection_lost`
            // says the server is gone.
            Frame::Unfinished => {}
        }
        if client.finished && client.failed {
            Next::Disconnect
        } else {
            Next::Continue
        }
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("server connection closed: {reason}");
        let mut client = self.client.borrow_mut();
        if matches!(reason, ConnectionLost::Shutdown) {
            // The loop stopped (SIGINT, SIGTERM, or our own end): a clean
            // end, not a lost server.
            client.finished = true;
            return;
        }
        if !client.finished {
            client.fail(&ClientError::ServerGone);
        }
    }
}

/// Connects, then hands the connection to a [`ServerSide`] (framed).
struct Connector {
    client: Rc<RefCell<Client>>,
    addr: String,
}

impl ClientFactory for Connector {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Box<dyn Protocol> {
        let server_side = ServerSide {
            client: self.client.clone(),
        };
        Box::new(Framed::with_decoder(JsonDecoder::new(), server_side))
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        let mut client = self.client.borrow_mut();
        let text = client.error_text(&ClientError::CannotConnect {
            addr: self.addr.clone(),
            reason: ConnectFailure::Os(error.to_string()),
        });
        // Standard I/O is not open yet: nothing else is buffered before this.
        write_stderr(&text);
        client.failed = true;
        client.finished = true;
        client.reactor.stop();
    }
}

/// Runs the client until end of input (and every reply), `exit`, a signal,
/// or failure.
pub fn run(options: &ClientOptions) -> Result<ExitCode, RunError> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let screen = Screen::for_stdin();
    let known_ids = KnownIds::default();
    let typed = known_ids.clone();
    screen.set_completer(command_completer(move || typed.list()));
    let client = Rc::new(RefCell::new(Client {
        lang: options.lang,
        reactor: reactor.clone(),
        screen: screen.clone(),
        known_ids,
        stdio: None,
        server: None,
        pending: VecDeque::new(),
        in_flight: 0,
        input_paused: false,
        input_done: false,
        finished: false,
        failed: false,
        failure: None,
        request: Vec::new(),
    }));
    let addr = match ClientError::resolve_server(&options.connect) {
        Ok(addr) => addr,
        Err(error) => {
            let text = client.borrow().error_text(&error);
            screen.finish();
            write_stderr(&text);
            return Ok(ExitCode::FAILURE);
        }
    };
    reactor.connect_tcp(
        addr,
        Connector {
            client: client.clone(),
            addr: options.connect.clone(),
        },
    );
    let result = reactor.run();
    // The terminal's modes come back on every way out, errors included.
    screen.finish();
    result?;
    let mut client = client.borrow_mut();
    if let Some(failure) = client.failure.take() {
        return Err(failure);
    }
    Ok(if client.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
