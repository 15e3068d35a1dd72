//! Client mode: the command interpreter, talking to a server (SPEC §6).
//!
//! Stdin is one more connection on the reactor ([`standard_io`]), as the
//! assignment's bonus asks: no thread runs a blocking `cmdloop`. Each valid
//! command is sent at once (commands are pipelined); replies come back in
//! command order. What the client prints itself (help, errors found
//! locally) waits behind the replies still due, so the output reads exactly
//! as standalone's would for the same input.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;

use log::debug;

use crate::cli::ClientOptions;
use crate::command::{Command, UserError, parse_line};
use crate::messages::Lang;
use crate::modes::server::resolve;
use crate::modes::standalone::{MAX_LINE, PROMPT, overlong_line_error};
use crate::reactor::{
    AfterEof, Channel, ClientFactory, ConnectionLost, LineHandler, LineReceiver, Overflow,
    Protocol, Reactor, Transport, standard_io, stdin_is_terminal,
};
use crate::wire::{Frame, Framer, decode_reply, encode_request};

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
    /// Show a prompt (stdin is a terminal).
    interactive: bool,
    stdio: Option<Transport>,
    server: Option<Transport>,
    /// What is due to be printed, in command order.
    pending: VecDeque<Pending>,
    /// No more commands: end of input or `exit`.
    input_done: bool,
    /// Closing down: nothing more is read or printed.
    finished: bool,
    /// The exit status.
    failed: bool,
    /// Reused for each request.
    request: Vec<u8>,
}

impl Client {
    fn print(&self, channel: Channel, text: &str) {
        if let Some(stdio) = &self.stdio {
            stdio.write_to(channel, text.as_bytes());
        }
    }

    /// Prints a message's lines, if it has any, ending with a newline.
    fn print_line(&self, channel: Channel, text: &str) {
        if !text.is_empty() {
            self.print(channel, text);
            self.print(channel, "\n");
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

    fn error_text(&self, error: &UserError) -> String {
        let mut text = String::new();
        self.lang.write_error(error, &mut text);
        text.push('\n');
        text
    }

    fn prompt(&self) {
        if self.interactive && !self.input_done && self.pending.is_empty() {
            self.print(Channel::Out, PROMPT);
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.input_done || self.finished {
            return;
        }
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(Command::Queue(verb, id))) => {
                self.request.clear();
                encode_request(&mut self.request, verb, &id);
                if let Some(server) = &self.server {
                    server.write(&self.request);
                }
                self.pending.push_back(Pending::Reply);
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
            self.fail(&UserError::InvalidReply);
            return;
        };
        let channel = if reply.error {
            Channel::Err
        } else {
            Channel::Out
        };
        let text = reply.response.trim_end_matches('\n');
        if reply.closing {
            // The server refused us (it is full): say why, then leave.
            let text = format!("{text}\n");
            self.fail_with(&text);
            return;
        }
        if reply.event {
            let prompt_showing = self.interactive && !self.input_done && self.pending.is_empty();
            if prompt_showing {
                self.print(Channel::Out, "\n");
            }
            self.print_line(channel, text);
            if prompt_showing {
                self.prompt();
            }
            return;
        }
        if !matches!(self.pending.pop_front(), Some(Pending::Reply)) {
            debug!("a reply nobody asked for: ignored");
            return;
        }
        self.print_line(channel, text);
        while let Some(Pending::Local(..)) = self.pending.front() {
            if let Some(Pending::Local(channel, text)) = self.pending.pop_front() {
                self.print(channel, &text);
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
    fn fail(&mut self, error: &UserError) {
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
struct Interpreter {
    client: Rc<RefCell<Client>>,
}

impl LineHandler for Interpreter {
    fn connection_made(&mut self, transport: Transport) {
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
        if client.interactive && client.pending.is_empty() {
            // Ctrl-D at the prompt: leave the shell's prompt on a line of its own.
            client.print(Channel::Out, "\n");
        }
        client.input_done = true;
        client.finish_if_done();
        // Replies may still be due: keep stdout open until they are printed.
        AfterEof::KeepWriting
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("standard I/O closed: {reason}");
        self.client.borrow().reactor.stop();
    }
}

/// The server side: replies and events.
struct ServerConnection {
    client: Rc<RefCell<Client>>,
    framer: Framer,
}

impl Protocol for ServerConnection {
    fn connection_made(&mut self, transport: Transport) {
        let reactor = {
            let mut client = self.client.borrow_mut();
            client.server = Some(transport);
            client.reactor.clone()
        };
        // Read commands only once they can be sent.
        let interpreter = Interpreter {
            client: self.client.clone(),
        };
        if let Err(error) = standard_io(
            &reactor,
            LineReceiver::new(interpreter).with_max_length(MAX_LINE),
        ) {
            eprintln!("callcenter: cannot read standard input: {error}");
            let mut client = self.client.borrow_mut();
            client.failed = true;
            client.reactor.stop();
        }
    }

    fn data_received(&mut self, data: &[u8]) {
        let client = &self.client;
        self.framer.feed(data, |frame| {
            let mut client = client.borrow_mut();
            match frame {
                Frame::Message(message) => client.reply(message),
                Frame::Malformed | Frame::TooLong => client.fail(&UserError::InvalidReply),
            }
            !client.finished || !client.failed
        });
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("server connection closed: {reason}");
        let mut client = self.client.borrow_mut();
        if !client.finished {
            client.fail(&UserError::ServerGone);
        }
    }
}

/// Connects, then hands the connection to a [`ServerConnection`].
struct Connector {
    client: Rc<RefCell<Client>>,
    addr: String,
}

impl ClientFactory for Connector {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Box<dyn Protocol> {
        Box::new(ServerConnection {
            client: self.client.clone(),
            framer: Framer::new(),
        })
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        let mut client = self.client.borrow_mut();
        let text = client.error_text(&UserError::CannotConnect {
            addr: self.addr.clone(),
            reason: error.to_string(),
        });
        // Standard I/O is not open yet: nothing else is buffered before this.
        eprint!("{text}");
        client.failed = true;
        client.finished = true;
        client.reactor.stop();
    }
}

/// Runs the client until end of input (and every reply), `exit`, or failure.
pub fn run(options: &ClientOptions) -> io::Result<ExitCode> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let client = Rc::new(RefCell::new(Client {
        lang: options.lang,
        reactor: reactor.clone(),
        interactive: stdin_is_terminal(),
        stdio: None,
        server: None,
        pending: VecDeque::new(),
        input_done: false,
        finished: false,
        failed: false,
        request: Vec::new(),
    }));
    let addr = match resolve(&options.connect) {
        Ok(addr) => addr,
        Err(error) => {
            let text = client.borrow().error_text(&UserError::CannotConnect {
                addr: options.connect.clone(),
                reason: error.to_string(),
            });
            eprint!("{text}");
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
    reactor.run()?;
    let failed = client.borrow().failed;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
