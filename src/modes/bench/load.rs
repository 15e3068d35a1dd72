//! The load: `--clients` connections on the reactor, each keeping
//! `--pipeline` commands in flight, every reply checked.
//!
//! Each in-flight command belongs to a *slot* that walks one call through
//! its pattern (`call`, `answer` with the operator read from the reply,
//! `hangup`; or `call`, `hangup`), then starts the next call. A reply is
//! checked against templates of the messages split once at start, so the
//! check costs a few comparisons and no formatting.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::report::Report;
use crate::cli::{BenchOptions, Pattern};
use crate::command::Verb;
use crate::engine::Event;
use crate::messages::Lang;
use crate::reactor::{
    ClientFactory, ConnectionLost, FrameHandler, Framed, Next, Protocol, Reactor, Transport,
};
use crate::wire::{Frame, JsonDecoder, decode_reply, encode_request};

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
enum CallStep {
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
    step: CallStep,
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
            CallStep::Call => encode_request(&mut self.request, Verb::Call, &state.call),
            CallStep::Answer(operator) => encode_request(&mut self.request, Verb::Answer, operator),
            CallStep::Hangup(_) => encode_request(&mut self.request, Verb::Hangup, &state.call),
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
        self.slots[slot].step = CallStep::Call;
        self.send(slot);
    }

    /// Checks a reply against the slot's step; returns the next step, or
    /// `None` when the call is over. Wrong replies count as unexpected.
    fn check(&mut self, slot: usize, response: &str) -> Option<CallStep> {
        let step = std::mem::replace(&mut self.slots[slot].step, CallStep::Call);
        let call = self.slots[slot].call.as_str();
        let mut run = self.run.borrow_mut();
        let run = &mut *run;
        let templates = &run.templates;
        let mut lines = response.split('\n');
        let first = lines.next().unwrap_or("");
        match step {
            CallStep::Call => {
                let second = lines.next().unwrap_or("");
                if !templates.received.matches(first, call) || lines.next().is_some() {
                    run.report.unexpected += 1;
                    return Some(CallStep::Hangup(None));
                }
                if templates.queued.matches(second, call) {
                    run.report.queued += 1;
                    return (run.pattern != Pattern::Call).then_some(CallStep::Hangup(None));
                }
                match templates.ringing.operator(second, call) {
                    Some(operator) => match run.pattern {
                        Pattern::CallAnswerHangup => Some(CallStep::Answer(operator.to_string())),
                        Pattern::CallHangup => Some(CallStep::Hangup(None)),
                        Pattern::Call => None,
                    },
                    None => {
                        run.report.unexpected += 1;
                        Some(CallStep::Hangup(None))
                    }
                }
            }
            CallStep::Answer(operator) => {
                if templates.answered.operator(first, call) == Some(operator.as_str())
                    && lines.next().is_none()
                {
                    Some(CallStep::Hangup(Some(operator)))
                } else {
                    run.report.unexpected += 1;
                    Some(CallStep::Hangup(None))
                }
            }
            CallStep::Hangup(answered_by) => {
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

/// Replies come framed by a [`JsonDecoder`].
impl FrameHandler<JsonDecoder> for BenchConnection {
    fn connection_made(&mut self, transport: Transport) {
        self.transport = Some(transport);
        for slot in 0..self.slots.len() {
            self.start_call(slot);
        }
        self.finish_if_idle();
    }

    fn frame_received(&mut self, frame: Frame<'_>) -> Next {
        match frame {
            Frame::Message(message) => self.reply(message),
            Frame::Malformed | Frame::TooLong => self.run.borrow_mut().report.unexpected += 1,
            // A reply cut short by the server's close: `connection_lost`
            // counts the failure.
            Frame::Unfinished => {}
        }
        Next::Continue
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
        let connection = BenchConnection {
            run: self.run.clone(),
            index: self.index,
            transport: None,
            in_flight: VecDeque::with_capacity(self.pipeline),
            slots: vec![
                Slot {
                    call: String::new(),
                    step: CallStep::Call
                };
                self.pipeline
            ],
            next_call: 0,
            request: Vec::with_capacity(64),
            finished: false,
        };
        Box::new(Framed::with_decoder(JsonDecoder::new(), connection))
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
