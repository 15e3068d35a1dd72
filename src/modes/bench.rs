//! Bench mode: a load generator speaking the wire protocol (SPEC §6).
//!
//! It runs on the same reactor as everything else: `--clients` connections,
//! each keeping `--pipeline` commands in flight. Every reply is checked
//! against what the protocol says it must be (a benchmark that counted wrong
//! answers as throughput would be worthless): the call is received, rings
//! an operator or waits, is answered by that operator, finishes or is
//! missed. Latency goes into a [`Histogram`], not a vector of samples.
//!
//! Each in-flight command belongs to a *slot* that walks one call through
//! its pattern (`call`, `answer` with the operator read from the reply,
//! `hangup`; or `call`, `hangup`), then starts the next call. Run the server
//! with `--ring-timeout 0` and at least `clients × pipeline` operators for
//! calls to ring at once; calls that queue anyway are hung up and counted.
//!
//! `--baseline` measures the floor instead: a plain blocking TCP ping-pong
//! over loopback against a child echo process, timed the same way.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, ExitCode, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::cli::{BenchOptions, Pattern};
use crate::command::Verb;
use crate::engine::Event;
use crate::histogram::Histogram;
use crate::messages::Lang;
use crate::reactor::{ClientFactory, ConnectionLost, Protocol, Reactor, Transport};
use crate::sys::resolve;
use crate::wire::{Frame, Framer, decode_reply, encode_request};

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Commands answered (replies received for commands sent).
    pub commands: u64,
    /// Wall time from the first connection to the last reply.
    pub elapsed: Duration,
    /// Replies flagged `"error": true`.
    pub errors: u64,
    /// Replies that were not what the protocol says (wrong text, wrong order).
    pub unexpected: u64,
    /// Calls that waited in the queue instead of ringing.
    pub queued: u64,
    /// Unsolicited event messages received.
    pub events: u64,
    /// Connections that failed or broke.
    pub connection_failures: u64,
    /// Round-trip latency of each command, in nanoseconds.
    pub latency: Histogram,
}

impl Report {
    fn new() -> Report {
        Report {
            commands: 0,
            elapsed: Duration::ZERO,
            errors: 0,
            unexpected: 0,
            queued: 0,
            events: 0,
            connection_failures: 0,
            latency: Histogram::new(),
        }
    }

    /// Commands per second.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.commands as f64 / seconds
        } else {
            0.0
        }
    }

    /// Whether every reply was right and every connection held.
    pub fn clean(&self) -> bool {
        self.errors == 0 && self.unexpected == 0 && self.connection_failures == 0
    }

    fn latency_json(&self) -> String {
        let us = |ns: u64| ns as f64 / 1000.0;
        let h = &self.latency;
        format!(
            "{{\"min\": {:.1}, \"p50\": {:.1}, \"p90\": {:.1}, \"p99\": {:.1}, \"p99_9\": {:.1}, \"max\": {:.1}, \"mean\": {:.1}}}",
            us(h.min()),
            us(h.percentile(50.0)),
            us(h.percentile(90.0)),
            us(h.percentile(99.0)),
            us(h.percentile(99.9)),
            us(h.max()),
            h.mean() / 1000.0
        )
    }

    /// The report as one JSON object (latencies in microseconds).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"commands\": {}, \"seconds\": {:.3}, \"rate\": {:.0}, \"errors\": {}, \"unexpected\": {}, \"queued\": {}, \"events\": {}, \"connection_failures\": {}, \"latency_us\": {}}}",
            self.commands,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.errors,
            self.unexpected,
            self.queued,
            self.events,
            self.connection_failures,
            self.latency_json()
        )
    }

    /// The report for people, one figure per line.
    pub fn to_text(&self, heading: &str) -> String {
        let us = |ns: u64| format!("{:.1} µs", ns as f64 / 1000.0);
        let h = &self.latency;
        let mut text = String::new();
        let _ = writeln!(text, "{heading}");
        let _ = writeln!(
            text,
            "commands     {} in {:.2} s: {:.0}/s",
            self.commands,
            self.elapsed.as_secs_f64(),
            self.rate()
        );
        let _ = writeln!(
            text,
            "latency      min {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            us(h.min()),
            us(h.percentile(50.0)),
            us(h.percentile(90.0)),
            us(h.percentile(99.0)),
            us(h.percentile(99.9)),
            us(h.max())
        );
        let _ = writeln!(
            text,
            "errors       {}  unexpected {}  queued {}  events {}  connection failures {}",
            self.errors, self.unexpected, self.queued, self.events, self.connection_failures
        );
        text
    }
}

/// A message with one call id: the text before and after it.
struct CallTemplate {
    before: String,
    after: String,
}

impl CallTemplate {
    fn new(lang: Lang, event: impl Fn(Rc<str>) -> Event) -> CallTemplate {
        let mut text = String::new();
        lang.write_event(&event(Rc::from(CALL_MARK)), &mut text);
        let (before, after) = text.split_once(CALL_MARK).unwrap_or((&text, ""));
        CallTemplate {
            before: before.to_string(),
            after: after.to_string(),
        }
    }

    fn matches(&self, line: &str, call: &str) -> bool {
        line.strip_prefix(self.before.as_str())
            .and_then(|rest| rest.strip_prefix(call))
            == Some(self.after.as_str())
    }
}

/// A message with a call id then an operator id: the text around them.
struct CallOperatorTemplate {
    before: String,
    between: String,
    after: String,
}

impl CallOperatorTemplate {
    fn new(lang: Lang, event: impl Fn(Rc<str>, Rc<str>) -> Event) -> CallOperatorTemplate {
        let mut text = String::new();
        lang.write_event(
            &event(Rc::from(CALL_MARK), Rc::from(OPERATOR_MARK)),
            &mut text,
        );
        let (before, rest) = text.split_once(CALL_MARK).unwrap_or((&text, ""));
        let (between, after) = rest.split_once(OPERATOR_MARK).unwrap_or((rest, ""));
        CallOperatorTemplate {
            before: before.to_string(),
            between: between.to_string(),
            after: after.to_string(),
        }
    }

    /// The operator id, if `line` is this message about `call`.
    fn operator<'l>(&self, line: &'l str, call: &str) -> Option<&'l str> {
        line.strip_prefix(self.before.as_str())?
            .strip_prefix(call)?
            .strip_prefix(self.between.as_str())?
            .strip_suffix(self.after.as_str())
            .filter(|operator| !operator.is_empty())
    }
}

/// Stand-ins for the ids while splitting a rendered message.
const CALL_MARK: &str = "\u{1}";
const OPERATOR_MARK: &str = "\u{2}";

/// Every message a benchmarked call can get, split once at start so each
/// reply is checked with a few comparisons and no formatting.
struct Templates {
    received: CallTemplate,
    queued: CallTemplate,
    missed: CallTemplate,
    ringing: CallOperatorTemplate,
    answered: CallOperatorTemplate,
    finished: CallOperatorTemplate,
}

impl Templates {
    fn new(lang: Lang) -> Templates {
        Templates {
            received: CallTemplate::new(lang, |call| Event::Received { call }),
            queued: CallTemplate::new(lang, |call| Event::Queued { call }),
            missed: CallTemplate::new(lang, |call| Event::Missed { call }),
            ringing: CallOperatorTemplate::new(lang, |call, operator| Event::Ringing {
                call,
                operator,
            }),
            answered: CallOperatorTemplate::new(lang, |call, operator| Event::Answered {
                call,
                operator,
            }),
            finished: CallOperatorTemplate::new(lang, |call, operator| Event::Finished {
                call,
                operator,
            }),
        }
    }
}

/// Where a slot's call is in its pattern.
#[derive(Debug, Clone)]
enum Step {
    /// `call` sent.
    Call,
    /// `answer` sent to this operator.
    Answer(String),
    /// `hangup` sent; the call was answered by this operator (if any).
    Hangup(Option<String>),
}

/// One call walking through the pattern.
#[derive(Debug, Clone)]
struct Slot {
    call: String,
    step: Step,
}

/// Shared by every connection of a run.
struct Run {
    /// The expected messages, in the server's language.
    templates: Templates,
    pattern: Pattern,
    /// Commands left to send, when `--commands` bounds the run.
    budget: Option<u64>,
    /// Set when `--duration` is over: slots stop at their next call boundary.
    stopping: bool,
    /// Connections still running.
    active: usize,
    report: Report,
    started: Instant,
    reactor: Reactor,
    /// Commands answered at the last progress line.
    last_progress: u64,
    /// A unique prefix for call ids, so runs do not collide on one server.
    id_prefix: String,
    /// Idle connections not yet connected (or failed); the load waits for them.
    idle_pending: usize,
}

impl Run {
    /// Takes one command from the budget; false when the run is over.
    fn take_budget(&mut self) -> bool {
        match &mut self.budget {
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
            None => true,
        }
    }

    fn connection_done(&mut self) {
        self.active -= 1;
        if self.active == 0 {
            self.report.elapsed = self.started.elapsed();
            self.reactor.stop();
        }
    }
}

/// One connection of the load.
struct BenchConnection {
    run: Rc<RefCell<Run>>,
    index: usize,
    transport: Option<Transport>,
    framer: Framer,
    /// Commands sent and not yet answered: the slot and when it was sent.
    in_flight: VecDeque<(usize, Instant)>,
    slots: Vec<Slot>,
    next_call: u64,
    request: Vec<u8>,
    finished: bool,
}

impl BenchConnection {
    /// Gives `slot` a fresh call id, reusing its string.
    fn new_call(&mut self, slot: usize) {
        self.next_call += 1;
        let call = &mut self.slots[slot].call;
        call.clear();
        let _ = write!(
            call,
            "{}{}-{}",
            self.run.borrow().id_prefix,
            self.index,
            self.next_call
        );
    }

    /// Sends the slot's current command, if the run allows one more.
    fn send(&mut self, slot: usize) -> bool {
        if !self.run.borrow_mut().take_budget() {
            return false;
        }
        let Some(transport) = &self.transport else {
            return false;
        };
        let state = &self.slots[slot];
        self.request.clear();
        match &state.step {
            Step::Call => encode_request(&mut self.request, Verb::Call, &state.call),
            Step::Answer(operator) => encode_request(&mut self.request, Verb::Answer, operator),
            Step::Hangup(_) => encode_request(&mut self.request, Verb::Hangup, &state.call),
        }
        transport.write(&self.request);
        self.in_flight.push_back((slot, Instant::now()));
        true
    }

    /// Starts a fresh call in `slot`, unless the run is stopping.
    fn start_call(&mut self, slot: usize) {
        if self.run.borrow().stopping {
            return;
        }
        self.new_call(slot);
        self.slots[slot].step = Step::Call;
        self.send(slot);
    }

    /// Checks a reply against the slot's step; returns the next step, or
    /// `None` when the call is over. Wrong replies count as unexpected.
    fn check(&mut self, slot: usize, response: &str) -> Option<Step> {
        let step = std::mem::replace(&mut self.slots[slot].step, Step::Call);
        let call = self.slots[slot].call.as_str();
        let mut run = self.run.borrow_mut();
        let run = &mut *run;
        let templates = &run.templates;
        let mut lines = response.split('\n');
        let first = lines.next().unwrap_or("");
        match step {
            Step::Call => {
                let second = lines.next().unwrap_or("");
                if !templates.received.matches(first, call) || lines.next().is_some() {
                    run.report.unexpected += 1;
                    return Some(Step::Hangup(None));
                }
                if templates.queued.matches(second, call) {
                    run.report.queued += 1;
                    return (run.pattern != Pattern::Call).then_some(Step::Hangup(None));
                }
                match templates.ringing.operator(second, call) {
                    Some(operator) => match run.pattern {
                        Pattern::CallAnswerHangup => Some(Step::Answer(operator.to_string())),
                        Pattern::CallHangup => Some(Step::Hangup(None)),
                        Pattern::Call => None,
                    },
                    None => {
                        run.report.unexpected += 1;
                        Some(Step::Hangup(None))
                    }
                }
            }
            Step::Answer(operator) => {
                if templates.answered.operator(first, call) == Some(operator.as_str())
                    && lines.next().is_none()
                {
                    Some(Step::Hangup(Some(operator)))
                } else {
                    run.report.unexpected += 1;
                    Some(Step::Hangup(None))
                }
            }
            Step::Hangup(answered_by) => {
                // Further lines are other calls the freed operator now rings.
                let expected = match &answered_by {
                    Some(operator) => {
                        templates.finished.operator(first, call) == Some(operator.as_str())
                    }
                    None => templates.missed.matches(first, call),
                };
                if !expected {
                    run.report.unexpected += 1;
                }
                None
            }
        }
    }

    fn reply(&mut self, message: &[u8]) {
        let Some(reply) = decode_reply(message) else {
            self.run.borrow_mut().report.unexpected += 1;
            return;
        };
        if reply.event {
            self.run.borrow_mut().report.events += 1;
            return;
        }
        let Some((slot, sent)) = self.in_flight.pop_front() else {
            self.run.borrow_mut().report.unexpected += 1;
            return;
        };
        {
            let mut run = self.run.borrow_mut();
            run.report.commands += 1;
            run.report.latency.record(sent.elapsed().as_nanos() as u64);
            if reply.error {
                run.report.errors += 1;
            }
        }
        let next = if reply.error {
            // The call's state is unknown: abandon it and start another.
            None
        } else {
            self.check(slot, &reply.response)
        };
        match next {
            Some(step) => {
                self.slots[slot].step = step;
                self.send(slot);
            }
            None => self.start_call(slot),
        }
        self.finish_if_idle();
    }

    fn finish_if_idle(&mut self) {
        if self.in_flight.is_empty() && !self.finished {
            self.finished = true;
            if let Some(transport) = &self.transport {
                transport.lose_connection();
            }
            self.run.borrow_mut().connection_done();
        }
    }
}

impl Protocol for BenchConnection {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        for slot in 0..self.slots.len() {
            self.start_call(slot);
        }
        self.finish_if_idle();
    }

    fn data_received(&mut self, data: &[u8]) {
        let mut framer = std::mem::take(&mut self.framer);
        framer.feed(data, |frame| {
            match frame {
                Frame::Message(message) => self.reply(message),
                Frame::Malformed | Frame::TooLong => self.run.borrow_mut().report.unexpected += 1,
            }
            true
        });
        self.framer = framer;
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        if !self.finished {
            log::warn!("bench connection {} lost: {reason}", self.index);
            self.finished = true;
            let mut run = self.run.borrow_mut();
            run.report.connection_failures += 1;
            run.connection_done();
        }
    }
}

/// Opens connection `index` of the run.
struct BenchConnector {
    run: Rc<RefCell<Run>>,
    index: usize,
    pipeline: usize,
}

impl ClientFactory for BenchConnector {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Box<dyn Protocol> {
        Box::new(BenchConnection {
            run: self.run.clone(),
            index: self.index,
            transport: None,
            framer: Framer::new(),
            in_flight: VecDeque::with_capacity(self.pipeline),
            slots: vec![
                Slot {
                    call: String::new(),
                    step: Step::Call
                };
                self.pipeline
            ],
            next_call: 0,
            request: Vec::with_capacity(64),
            finished: false,
        })
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        log::warn!("bench connection {} failed: {error}", self.index);
        let mut run = self.run.borrow_mut();
        run.report.connection_failures += 1;
        run.connection_done();
    }
}

/// Prints a progress line to stderr every second while the run lasts.
fn schedule_progress(run: &Rc<RefCell<Run>>) {
    let weak = Rc::downgrade(run);
    let reactor = run.borrow().reactor.clone();
    reactor.call_later(Duration::from_secs(1), move || {
        let Some(run) = weak.upgrade() else {
            return;
        };
        {
            let mut state = run.borrow_mut();
            if state.active == 0 {
                return;
            }
            let done = state.report.commands;
            crate::sys::write_stderr(&format!(
                "[{:>4.0} s] {} commands/s, {} in all, p99 {:.1} µs\n",
                state.started.elapsed().as_secs_f64(),
                done - state.last_progress,
                done,
                state.report.latency.percentile(99.0) as f64 / 1000.0
            ));
            state.last_progress = done;
        }
        schedule_progress(&run);
    });
}

/// Runs a load against a server on `reactor`; returns when every connection
/// is done. With `--idle N`, N connections are opened first and held open
/// (doing nothing) while the load runs.
pub fn load(
    reactor: &Reactor,
    addr: SocketAddr,
    options: &BenchOptions,
    progress: bool,
) -> io::Result<Report> {
    let run = Rc::new(RefCell::new(Run {
        templates: Templates::new(options.lang),
        pattern: options.pattern,
        budget: options.commands,
        stopping: false,
        active: options.clients as usize,
        report: Report::new(),
        started: Instant::now(),
        reactor: reactor.clone(),
        last_progress: 0,
        id_prefix: format!("b{}-", std::process::id()),
        idle_pending: options.idle as usize,
    }));
    let start = Rc::new(LoadStart {
        run: run.clone(),
        addr,
        options: options.clone(),
        progress,
    });
    if options.idle == 0 {
        start.start();
    }
    for _ in 0..options.idle {
        reactor.connect_tcp(
            addr,
            IdleConnector {
                run: run.clone(),
                start: start.clone(),
            },
        );
    }
    reactor.run()?;
    let report = run.borrow().report.clone();
    Ok(report)
}

/// What starts the measured load, once the idle connections are up.
struct LoadStart {
    run: Rc<RefCell<Run>>,
    addr: SocketAddr,
    options: BenchOptions,
    progress: bool,
}

impl LoadStart {
    fn start(&self) {
        let reactor = {
            let mut run = self.run.borrow_mut();
            run.started = Instant::now();
            run.reactor.clone()
        };
        let duration = match (self.options.duration, self.options.commands) {
            (Some(seconds), _) => Some(Duration::from_secs_f64(seconds)),
            (None, Some(_)) => None,
            (None, None) => Some(Duration::from_secs(5)),
        };
        if let Some(duration) = duration {
            let weak = Rc::downgrade(&self.run);
            reactor.call_later(duration, move || {
                if let Some(run) = weak.upgrade() {
                    run.borrow_mut().stopping = true;
                }
            });
        }
        if self.progress {
            schedule_progress(&self.run);
        }
        for index in 0..self.options.clients as usize {
            reactor.connect_tcp(
                self.addr,
                BenchConnector {
                    run: self.run.clone(),
                    index,
                    pipeline: self.options.pipeline as usize,
                },
            );
        }
    }

    /// One idle connection is up or failed; the last one starts the load.
    fn idle_settled(&self) {
        let ready = {
            let mut run = self.run.borrow_mut();
            run.idle_pending -= 1;
            run.idle_pending == 0
        };
        if ready {
            self.start();
        }
    }
}

/// An idle connection: it connects, then only listens.
struct IdleConnection {
    run: Rc<RefCell<Run>>,
    start: Rc<LoadStart>,
}

impl Protocol for IdleConnection {
    fn connection_made(&mut self, _transport: Transport) {
        self.start.idle_settled();
    }

    fn data_received(&mut self, _data: &[u8]) {
        // Idle connections send nothing: anything but events is wrong
        // (such as a "server full" refusal).
        self.run.borrow_mut().report.unexpected += 1;
    }

    fn connection_lost(&mut self, reason: ConnectionLost) {
        let mut run = self.run.borrow_mut();
        if run.active > 0 {
            log::warn!("idle connection lost: {reason}");
            run.report.connection_failures += 1;
        }
    }
}

/// Opens one idle connection.
struct IdleConnector {
    run: Rc<RefCell<Run>>,
    start: Rc<LoadStart>,
}

impl ClientFactory for IdleConnector {
    fn build_protocol(&mut self, _addr: SocketAddr) -> Box<dyn Protocol> {
        Box::new(IdleConnection {
            run: self.run.clone(),
            start: self.start.clone(),
        })
    }

    fn client_connection_failed(&mut self, error: io::Error) {
        log::warn!("idle connection failed: {error}");
        self.run.borrow_mut().report.connection_failures += 1;
        self.start.idle_settled();
    }
}

/// The floor: a blocking ping-pong of 32-byte messages over loopback
/// against a child `callcenter loopback-echo` process, for `duration`.
pub fn baseline(duration: Duration) -> io::Result<Report> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("loopback-echo")
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()?;
    let result = (|| {
        let mut line = String::new();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no child stdout"))?;
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("Listening on ")
            .ok_or_else(|| io::Error::other("the echo process did not start"))?;
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut report = Report::new();
        let message = [b'x'; 32];
        let mut echo = [0u8; 32];
        let started = Instant::now();
        while started.elapsed() < duration {
            let sent = Instant::now();
            stream.write_all(&message)?;
            stream.read_exact(&mut echo)?;
            report.latency.record(sent.elapsed().as_nanos() as u64);
            report.commands += 1;
        }
        report.elapsed = started.elapsed();
        Ok(report)
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// The child side of the baseline: echo one connection, blocking, then exit.
pub fn loopback_echo() -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    crate::sys::write_stdout(&format!("Listening on {}\n", listener.local_addr()?))?;
    let (mut stream, _) = listener.accept()?;
    stream.set_nodelay(true)?;
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        stream.write_all(&buffer[..read])?;
    }
}

/// Runs `callcenter bench`: prints the report (text or JSON) on stdout;
/// exit status 1 if any reply was wrong or a connection failed.
pub fn run(options: &BenchOptions) -> io::Result<ExitCode> {
    let report = if options.baseline {
        let seconds = options.duration.unwrap_or(5.0);
        baseline(Duration::from_secs_f64(seconds))?
    } else {
        // Idle connections need descriptors: as many as the system allows.
        crate::sys::raise_open_file_limit();
        let reactor = Reactor::new()?;
        reactor.install_signal_handlers()?;
        let addr = resolve(&options.connect)?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no address for {}", options.connect),
            )
        })?;
        load(&reactor, addr, options, true)?
    };
    let heading = if options.baseline {
        "loopback ping-pong (blocking, 32-byte messages)".to_string()
    } else {
        format!(
            "{} clients, pipeline {}, pattern {}, {} idle connections, server {}",
            options.clients,
            options.pipeline,
            options.pattern.name(),
            options.idle,
            options.connect
        )
    };
    let mut stdout = io::stdout().lock();
    if options.json {
        writeln!(stdout, "{}", report.to_json())?;
    } else {
        write!(stdout, "{}", report.to_text(&heading))?;
    }
    stdout.flush()?;
    Ok(if report.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
