//! Standalone mode: commands on stdin, messages on stdout, errors on stderr.
//!
//! The assignment's "basic implementation", as a line protocol on
//! [`standard_io`](crate::reactor::standard_io): no thread waits on stdin, so ring timeouts fire while the
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
    AfterEof, Channel, ConnectionLost, LineHandler, Overflow, Protocol, Reactor, Transport,
};
use crate::repl::{
    Screen, command_completer, console_io, overlong_line_error, plain_lines, stdio_failure,
};
use crate::sys::{address, write_stderr};
use crate::web::site::{Connections, Site, listen_http};

/// HTTP connections beyond this many are refused (standalone has no
/// `--max-clients`; the server's default).
pub const MAX_HTTP_CLIENTS: usize = 1024;

/// The interactive interpreter: Python's `cmd.Cmd` as a line handler.
pub struct Console {
    service: QueueService,
    lang: Lang,
    /// Where messages go; shows the prompt on a terminal.
    screen: Screen,
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
    /// An interpreter over `service`, printing on `screen`.
    pub fn new(service: QueueService, reactor: Reactor, screen: Screen) -> Console {
        let lang = service.lang();
        Console {
            service,
            lang,
            screen,
            reactor,
            transport: None,
            events: None,
            text: String::new(),
            failure: Rc::default(),
        }
    }

    fn report(&mut self, error: &dyn Localized) {
        self.text.clear();
        error.write_in(self.lang, &mut self.text);
        self.text.push('\n');
        self.screen.print(Channel::Err, &self.text);
    }

    /// The console as the protocol standard I/O runs: its input framed in
    /// lines of at most [`MAX_LINE`](crate::repl::MAX_LINE) bytes. Tests run it over
    /// [`Transport::memory()`] as the reactor runs it over stdin and stdout.
    pub fn into_protocol(self) -> Box<dyn Protocol> {
        let screen = self.screen.clone();
        Box::new(plain_lines(&screen, self))
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
                    Ok(_) => self.screen.print(Channel::Out, &self.text),
                    Err(error) => self.report(&error),
                }
            }
            Ok(Some(Command::Help(topic))) => {
                self.text.clear();
                self.lang.write_help(topic, &mut self.text);
                self.screen.print(Channel::Out, &self.text);
            }
            Ok(Some(Command::Exit)) => transport.lose_connection(),
            Err(error) => {
                self.service.count_command(false);
                self.report(&error)
            }
        }
    }
}

impl LineHandler for Console {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        // Messages caused by a timer go straight out; on a terminal they
        // go above the prompt and the line being typed.
        let screen = self.screen.clone();
        self.events = Some(
            self.service
                .subscribe(Box::new(move |text| screen.print(Channel::Out, text))),
        );
        self.screen.prompt();
    }

    fn line_received(&mut self, line: &[u8]) {
        self.run_line(line);
        self.screen.prompt();
    }

    fn line_length_exceeded(&mut self, line: &[u8]) -> Overflow {
        self.report(&overlong_line_error(line));
        Overflow::Discard
    }

    fn read_connection_lost(&mut self) -> AfterEof {
        // Ctrl-D at the prompt: leave the shell's prompt on a line of its own.
        self.screen.end_of_input();
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
    if let Some(path) = &options.queue_log {
        service.open_queue_log(path, &options.queue_name)?;
        // logrotate renames the file, then sends SIGHUP: reopen it by name.
        // (Without a log, SIGHUP keeps its default: a closed terminal ends
        // the session.)
        let hangup = service.clone();
        reactor.on_sighup(move || hangup.reopen_queue_log())?;
    }
    if let Some(text) = &options.http {
        let addr = address(text)?;
        let site = Site {
            service: service.clone(),
            lang: options.lang,
            reactor: reactor.clone(),
            connections: Connections::new(),
            max_clients: MAX_HTTP_CLIENTS,
        };
        let bound = listen_http(&reactor, addr, site)?;
        // On stderr: stdout is the session's transcript.
        write_stderr(&format!("HTTP listening on {bound}\n"));
    }
    let screen = Screen::for_stdin();
    let operators = service.clone();
    screen.set_completer(command_completer(move || {
        operators.inspect(|engine| {
            (0..engine.operator_count())
                .filter_map(|index| engine.operator_id(index).map(str::to_owned))
                .collect()
        })
    }));
    let console = Console::new(service.clone(), reactor.clone(), screen.clone());
    let failure = console.failure.clone();
    let result = console_io(&reactor, &screen, console).and_then(|_| reactor.run());
    service.flush_queue_log();
    // The terminal's modes come back on every way out, errors included.
    screen.finish();
    result?;
    match failure.borrow_mut().take() {
        Some(error) => Err(error),
        None => Ok(()),
    }
}
