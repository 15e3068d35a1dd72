//! Standalone mode: commands on stdin, messages on stdout, errors on stderr.
//!
//! The assignment's "basic implementation", as a line protocol on
//! [`standard_io`]: no thread waits on stdin, so ring timeouts fire while the
//! program waits for input, and print at once.

use std::cell::RefCell;
use std::rc::Rc;

use log::debug;

use crate::cli::QueueOptions;
use crate::command::{Command, parse_line};
use crate::error::RunError;
use crate::messages::{Lang, Localized};
use crate::queue_service::{QueueService, Subscription};
use crate::reactor::{
    AfterEof, ConnectionLost, LineHandler, LineReceiver, Overflow, Reactor, Transport, standard_io,
    stdin_is_terminal,
};
use crate::repl::{MAX_LINE, PROMPT, overlong_line_error, stdio_failure};

/// The interactive interpreter: Python's `cmd.Cmd` as a line handler.
pub struct Console {
    service: QueueService,
    lang: Lang,
    /// Show a prompt (stdin is a terminal).
    interactive: bool,
    reactor: Reactor,
    transport: Option<Transport>,
    /// Ring-timeout messages, printed as they happen, while the console lasts.
    events: Option<Subscription>,
    /// Reused output buffer.
    text: String,
    /// Why standard I/O failed, if it did (the exit status says so).
    failure: Rc<RefCell<Option<RunError>>>,
}

impl Console {
    /// An interpreter over `service`. `interactive` shows the prompt.
    pub fn new(service: QueueService, reactor: Reactor, interactive: bool) -> Console {
        let lang = service.lang();
        Console {
            service,
            lang,
            interactive,
            reactor,
            transport: None,
            events: None,
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

    fn report(&mut self, error: &dyn Localized) {
        self.text.clear();
        error.write_in(self.lang, &mut self.text);
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
            Ok(Some(Command::Queue(request))) => {
                self.text.clear();
                match self.service.run(&request, &mut self.text) {
                    Ok(_) => transport.write(self.text.as_bytes()),
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

impl LineHandler for Console {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport.clone());
        // Messages caused by a timer go straight out; on a terminal they
        // start on a fresh line and the prompt is shown again after them.
        let interactive = self.interactive;
        self.events = Some(self.service.subscribe(Box::new(move |text| {
            if interactive {
                transport.write(b"\n");
            }
            transport.write(text.as_bytes());
            if interactive {
                transport.write(PROMPT.as_bytes());
            }
        })));
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
        self.events = None;
        if let Some(failure) = stdio_failure(&reason) {
            *self.failure.borrow_mut() = Some(failure);
        }
        self.reactor.stop();
    }
}

/// Runs standalone mode until `exit`, end of input, SIGINT or SIGTERM.
pub fn run(options: &QueueOptions) -> Result<(), RunError> {
    let reactor = Reactor::new()?;
    reactor.install_signal_handlers()?;
    let engine = options.engine().map_err(std::io::Error::other)?;
    let service = QueueService::new(
        engine,
        options.lang,
        options.ring_timeout.0,
        reactor.clone(),
    );
    let console = Console::new(service, reactor.clone(), stdin_is_terminal());
    let failure = console.failure.clone();
    standard_io(
        &reactor,
        LineReceiver::new(console).with_max_length(MAX_LINE),
    )?;
    reactor.run()?;
    match failure.borrow_mut().take() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
