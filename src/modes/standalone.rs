//! Standalone mode: commands on stdin, messages on stdout, errors on stderr.
//!
//! The assignment's "basic implementation", as a line protocol on
//! [`standard_io`]: no thread waits on stdin, so ring timeouts fire while the
//! program waits for input, and print at once.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use log::debug;

use crate::cli::QueueOptions;
use crate::command::{Command, UserError, parse_line};
use crate::engine::Engine;
use crate::messages::Lang;
use crate::modes::service::QueueService;
use crate::reactor::{
    AfterEof, ConnectionLost, LineHandler, LineReceiver, Overflow, Reactor, Transport, standard_io,
    stdin_is_terminal,
};

/// The prompt shown when stdin is a terminal (as Python's `cmd` shows one).
pub const PROMPT: &str = "(callcenter) ";

/// Longest command line accepted; longer ones get an error and are skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// The error for a command line over [`MAX_LINE`], judged by how it
/// starts: a long id is a usage error, a long unknown word an unknown command.
pub fn overlong_line_error(line: &[u8]) -> UserError {
    match parse_line(&line[..line.len().min(MAX_LINE)]) {
        Err(error) => error,
        Ok(Some(Command::Queue(verb, _))) => UserError::Usage(verb),
        Ok(Some(Command::Help(_))) => UserError::Usage(crate::command::Verb::Help),
        Ok(Some(Command::Exit)) => UserError::Usage(crate::command::Verb::Exit),
        Ok(None) => UserError::UnknownCommand(String::new()),
    }
}

/// The interactive interpreter: Python's `cmd.Cmd` as a line handler.
pub struct Repl {
    service: Rc<RefCell<QueueService>>,
    lang: Lang,
    /// Show a prompt (stdin is a terminal).
    interactive: bool,
    reactor: Reactor,
    transport: Option<Transport>,
    /// Reused output buffer.
    text: String,
    /// Why standard I/O failed, if it did (the exit status says so).
    failure: Rc<RefCell<Option<io::Error>>>,
}

impl Repl {
    /// An interpreter over `service`. `interactive` shows the prompt.
    pub fn new(service: Rc<RefCell<QueueService>>, reactor: Reactor, interactive: bool) -> Repl {
        let lang = service.borrow().lang();
        Repl {
            service,
            lang,
            interactive,
            reactor,
            transport: None,
            text: String::new(),
            failure: Rc::default(),
        }
    }

    fn prompt(&self) {
        if let Some(transport) = &self.transport
            && self.interactive
            && !transport.disconnecting()
        {
            transport.write(PROMPT.as_bytes());
        }
    }

    fn report(&mut self, error: &UserError) {
        self.text.clear();
        self.lang.write_error(error, &mut self.text);
        self.text.push('\n');
        if let Some(transport) = &self.transport {
            transport.write_err(self.text.as_bytes());
        }
    }

    /// Runs one line, writing its messages (stdout) or error (stderr).
    pub fn run_line(&mut self, line: &[u8]) {
        let Some(transport) = self.transport.clone() else {
            return;
        };
        match parse_line(line) {
            Ok(None) => {}
            Ok(Some(Command::Queue(verb, id))) => {
                self.text.clear();
                let result = self.service.borrow_mut().execute(verb, &id, &mut self.text);
                match result {
                    Ok(()) => transport.write(self.text.as_bytes()),
                    Err(error) => self.report(&error),
                }
            }
            Ok(Some(Command::Help(topic))) => {
                self.text.clear();
                self.lang.write_help(topic, &mut self.text);
                transport.write(self.text.as_bytes());
            }
            Ok(Some(Command::Exit)) => transport.lose_connection(),
            Err(error) => self.report(&error),
        }
    }
}

impl LineHandler for Repl {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport.clone());
        // Messages caused by a timer go straight out; on a terminal they
        // start on a fresh line and the prompt is shown again after them.
        let interactive = self.interactive;
        self.service
            .borrow_mut()
            .set_event_sink(Box::new(move |text| {
                if interactive {
                    transport.write(b"\n");
                }
                transport.write(text.as_bytes());
                if interactive {
                    transport.write(PROMPT.as_bytes());
                }
            }));
        self.prompt();
    }

    fn line_received(&mut self, line: &[u8]) {
        self.run_line(line);
        self.prompt();
    }

    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        self.report(&overlong_line_error(line));
        Overflow::Discard
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        // Ctrl-D at the prompt: leave the shell's prompt on a line of its own.
        if self.interactive
            && let Some(transport) = &self.transport
        {
            transport.write(b"\n");
        }
        AfterEof::Close
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        debug!("standard input closed: {reason}");
        if let ConnectionLost::Error(error) = &reason
            && error.kind() != io::ErrorKind::BrokenPipe
        {
            // A reader that went away (`| head`) is a normal end; a disk
            // full or an unreadable input is not.
            *self.failure.borrow_mut() = Some(io::Error::new(
                error.kind(),
                format!("standard input/output failed: {error}"),
            ));
        }
        self.reactor.stop();
    }
}

/// Runs standalone mode until `exit`, end of input, SIGINT or SIGTERM.
pub fn run(options: &QueueOptions) -> io::Result<()> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let engine = Engine::new(&options.operators.0).map_err(io::Error::other)?;
    let service = QueueService::new(
        engine,
        options.lang,
        options.ring_timeout.0,
        reactor.clone(),
        Box::new(|_| {}),
    );
    let repl = Repl::new(service, reactor.clone(), stdin_is_terminal());
    let failure = repl.failure.clone();
    standard_io(&reactor, LineReceiver::new(repl).with_max_length(MAX_LINE))?;
    reactor.run()?;
    match failure.borrow_mut().take() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
