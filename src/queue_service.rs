//! The queue service: the engine wired to the reactor's clock and to its
//! ring and wrap-up timers, and rendered in one language. Standalone and server both run exactly this,
//! so they cannot disagree on a rule or a message.
//!
//! A [`QueueService`] is a cheap handle (clones share one queue). Messages no
//! command caused (a ring timeout, a wrap-up's end, an auto-pause, and what
//! follows them) go to every
//! [`subscribe`](QueueService::subscribe)d sink: a connection subscribes
//! when it is made and its [`Subscription`] ends with it. A monitor (SPEC
//! §10.2) asks for every event instead ([`Subscription::follow_all`]): it
//! also gets the messages of every other subscriber's commands.
//!
//! Every event also goes to the service's [`Observer`] (the counters of
//! `/metrics`, each call's times, the queue log).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::command::{Request, Verb};
use crate::engine::{
    Effect, Engine, EngineError, OfferId, OperatorIndex, SequenceMap, StatsSnapshot,
    StatusSnapshot, WrapUpId,
};
use crate::messages::Lang;
use crate::observer::{Observer, QueueLog};
use crate::reactor::{DelayedCall, LoopingCall, Reactor};
use crate::web::history::{SAMPLE_INTERVAL_SECS, WaitingHistory};

/// Above this much unsent output, stop reading a connection's requests.
/// Every connection that follows the queue gets the same limits, a TCP
/// client as an HTTP one: replies stop here, since no request is read.
pub const HIGH_WATER: usize = 256 * 1024;

/// Above this much unsent output, drop the connection: only broadcast
/// events can get there (a slow `/events` reader, a client that stopped
/// reading), and nobody else waits for it.
pub const OUTPUT_CAP: usize = 4 * 1024 * 1024;

/// Receives the messages no command caused, as complete lines ending in `\n`.
pub type EventSink = Box<dyn FnMut(&str)>;

/// Why the service refused a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceError {
    /// `help` or `exit`: not queue commands (rendered as their usage).
    NotAQueueCommand(Verb),
    /// The queue refused it.
    Engine(EngineError),
}

/// What `status` and `stats` report besides their text: the same facts as
/// data, for the wire's JSON (SPEC §9.7).
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// The reply to `status`.
    Status(StatusSnapshot),
    /// The reply to `stats`.
    Stats(StatsSnapshot),
}

/// The engine, its ring timers, and its messages.
#[derive(Clone)]
pub struct QueueService {
    state: Rc<RefCell<State>>,
}

/// A registered event sink; dropping it (or the connection holding it)
/// unsubscribes.
pub struct Subscription {
    state: Weak<RefCell<State>>,
    key: u64,
}

impl Subscription {
    /// From now on, also receive the messages other subscribers' commands
    /// cause (the monitor's `subscribe`).
    pub fn follow_all(&self) {
        if let Some(state) = self.state.upgrade()
            && let Ok(mut state) = state.try_borrow_mut()
            && state.subscribers.contains_key(&self.key)
        {
            state.monitors.insert(self.key);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade()
            && let Ok(mut state) = state.try_borrow_mut()
        {
            state.subscribers.remove(&self.key);
            state.monitors.remove(&self.key);
        }
    }
}

struct State {
    engine: Engine,
    lang: Lang,
    /// `None`: calls ring until answered, rejected or hung up.
    ring_timeout: Option<Duration>,
    /// The pending ring timer of each offer that has one.
    ring_timers: SequenceMap<OfferId, DelayedCall>,
    /// The pending timer of each wrap-up.
    wrap_up_timers: SequenceMap<WrapUpId, DelayedCall>,
    /// Reused for every command, so commands do not allocate it.
    effects: Vec<Effect>,
    reactor: Reactor,
    /// Where timer-caused messages go, in subscription order.
    subscribers: BTreeMap<u64, Subscriber>,
    /// The keys of the subscribers that follow every event (monitors): a
    /// command's text goes to these alone, so a command costs nothing per
    /// ordinary connection.
    monitors: BTreeSet<u64>,
    next_key: u64,
    /// Counters, call times, queue log.
    observer: Observer,
    /// A queue-log flush is scheduled for the end of this loop turn.
    flush_scheduled: bool,
    /// Calls waiting, sampled every few seconds for the chart.
    history: WaitingHistory,
    /// What takes those samples, once started.
    history_sampler: Option<LoopingCall>,
}

/// A subscriber's sink, shared so it can run once the service is released.
struct Subscriber {
    sink: Rc<RefCell<EventSink>>,
}

impl QueueService {
    /// A service for `engine`, its ring timers on `reactor`.
    pub fn new(
        engine: Engine,
        lang: Lang,
        ring_timeout: Option<Duration>,
        reactor: Reactor,
    ) -> QueueService {
        QueueService {
            state: Rc::new(RefCell::new(State {
                engine,
                lang,
                ring_timeout,
                ring_timers: SequenceMap::default(),
                wrap_up_timers: SequenceMap::default(),
                effects: Vec::new(),
                reactor,
                subscribers: BTreeMap::new(),
                monitors: BTreeSet::new(),
                next_key: 0,
                observer: Observer::new(None),
                flush_scheduled: false,
                history: WaitingHistory::new(),
                history_sampler: None,
            })),
        }
    }

    /// Sends timer-caused messages to `sink` until the returned
    /// [`Subscription`] is dropped.
    pub fn subscribe(&self, sink: EventSink) -> Subscription {
        let mut state = self.state.borrow_mut();
        let key = state.next_key;
        state.next_key += 1;
        let subscriber = Subscriber {
            sink: Rc::new(RefCell::new(sink)),
        };
        state.subscribers.insert(key, subscriber);
        Subscription {
            state: Rc::downgrade(&self.state),
            key,
        }
    }

    /// The language messages are rendered in.
    pub fn lang(&self) -> Lang {
        self.state.borrow().lang
    }

    /// Runs `f` on the engine, to inspect it.
    pub fn inspect<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        f(&self.state.borrow().engine)
    }

    /// The number of ring timers pending.
    pub fn pending_ring_timers(&self) -> usize {
        self.state.borrow().ring_timers.len()
    }

    /// Sends every event to `sink` (see [`Subscription::follow_all`]).
    pub fn subscribe_all(&self, sink: EventSink) -> Subscription {
        let subscription = self.subscribe(sink);
        subscription.follow_all();
        subscription
    }

    /// Writes the queue log from now on (`QUEUESTART` first).
    pub fn set_queue_log(&self, log: QueueLog) {
        let mut state = self.state.borrow_mut();
        state.observer.set_log(log);
        state.schedule_flush(&self.state);
    }

    /// `--queue-log FILE --queue-name NAME`: opens (creates) `path` for
    /// appending and writes the queue log there from now on. Failing to open
    /// it is an error at startup, naming the file.
    pub fn open_queue_log(
        &self,
        path: &std::path::Path,
        queue_name: &str,
    ) -> Result<(), crate::error::RunError> {
        let writer = crate::queue_log::QueueLogWriter::open(path).map_err(|error| {
            crate::error::RunError::QueueLog {
                path: path.to_path_buf(),
                error,
            }
        })?;
        self.set_queue_log(QueueLog::start(writer, queue_name.to_string()));
        Ok(())
    }

    /// Writes the queue log's pending lines now (at shutdown).
    pub fn flush_queue_log(&self) {
        if let Some(log) = self.state.borrow_mut().observer.log_mut() {
            log.writer.flush();
        }
    }

    /// SIGHUP: flushes the queue log and opens its file again by name.
    pub fn reopen_queue_log(&self) {
        if let Some(log) = self.state.borrow_mut().observer.log_mut() {
            log.writer.reopen();
        }
    }

    /// Counts a command the service never saw (a line or request refused
    /// before it, `subscribe`), for `callcenter_commands_total`.
    pub fn count_command(&self, ok: bool) {
        self.state.borrow_mut().observer.command(ok);
    }

    /// The `/metrics` text, with `clients_connected` open connections.
    pub fn metrics(&self, clients_connected: u64) -> String {
        let state = self.state.borrow();
        let now = state.reactor.now();
        state
            .observer
            .metrics(&state.engine, now, clients_connected)
    }

    /// The `/history` JSON: calls waiting, sampled every
    /// [`SAMPLE_INTERVAL_SECS`] since [`start_history`](Self::start_history).
    pub fn history_json(&self) -> String {
        self.state.borrow().history.to_json()
    }

    /// Times calls from now on for the wait and talk histograms of
    /// `/metrics` (the HTTP side asks for it when it starts).
    pub fn time_calls(&self) {
        self.state.borrow_mut().observer.time_calls();
    }

    /// Samples the queue length now and then every [`SAMPLE_INTERVAL_SECS`],
    /// for as long as the service lives: Twisted's
    /// `task.LoopingCall(f).start(interval)`.
    pub fn start_history(&self) {
        let this = Rc::downgrade(&self.state);
        let reactor = self.state.borrow().reactor.clone();
        let interval = Duration::from_secs(SAMPLE_INTERVAL_SECS);
        let sampler = LoopingCall::start(&reactor, interval, true, move || sample_history(&this));
        if let Some(old) = self.state.borrow_mut().history_sampler.replace(sampler) {
            old.stop();
        }
    }

    /// The number of wrap-up timers pending.
    pub fn pending_wrap_up_timers(&self) -> usize {
        self.state.borrow().wrap_up_timers.len()
    }

    /// Runs one queue command with no priority or reason (see
    /// [`QueueService::run`]).
    pub fn execute(&self, verb: Verb, id: &str, out: &mut String) -> Result<(), ServiceError> {
        self.run(&Request::new(verb, id), out).map(|_| ())
    }

    /// Runs one queue command at the reactor clock's now and appends its
    /// messages to `out`, one line each, every line ending in `\n`. `status`
    /// and `stats` also return their facts as a [`Report`]. On error nothing
    /// changed and nothing was appended.
    pub fn run(&self, request: &Request, out: &mut String) -> Result<Option<Report>, ServiceError> {
        self.run_from(None, request, out)
    }

    /// [`run`](Self::run) for the holder of `origin`: the messages also go,
    /// as events, to every subscriber following all events but `origin`
    /// (whose reply already carries them).
    pub fn run_from(
        &self,
        origin: Option<&Subscription>,
        request: &Request,
        out: &mut String,
    ) -> Result<Option<Report>, ServiceError> {
        let start = out.len();
        let result = self.run_command(request, out);
        // A snapshot is an answer to its asker, not an event of the queue.
        let Some(text) = out
            .get(start..)
            .filter(|text| !text.is_empty() && !matches!(result, Ok(Some(_))))
        else {
            return result;
        };
        let origin = origin.map(|origin| origin.key);
        let sinks: Vec<Rc<RefCell<EventSink>>> = {
            let state = self.state.borrow();
            if state.monitors.is_empty() {
                return result;
            }
            state
                .monitors
                .iter()
                .filter(|&&key| Some(key) != origin)
                .filter_map(|key| state.subscribers.get(key))
                .map(|subscriber| subscriber.sink.clone())
                .collect()
        };
        for sink in sinks {
            if let Ok(mut sink) = sink.try_borrow_mut() {
                (*sink)(text);
            }
        }
        result
    }

    fn run_command(
        &self,
        request: &Request,
        out: &mut String,
    ) -> Result<Option<Report>, ServiceError> {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let now = state.reactor.now();
        let lang = state.lang;
        let id = request.id.as_str();
        if request.verb == Verb::Hangup {
            state.observer.before_hangup(&state.engine, id);
        }
        let mut effects = std::mem::take(&mut state.effects);
        let engine = &mut state.engine;
        let result = match request.verb {
            Verb::Call => engine.call_at(id, request.priority, now, &mut effects),
            Verb::Answer => engine.answer_at(id, now, &mut effects),
            Verb::Reject => engine.reject_at(id, now, &mut effects),
            Verb::Hangup => engine.hangup_at(id, now, &mut effects),
            Verb::Pause => engine.pause(id, request.reason.as_deref(), now, &mut effects),
            Verb::Unpause => engine.unpause(id, now, &mut effects),
            Verb::Login => engine.login(id, now, &mut effects),
            Verb::Logout => engine.logout(id, now, &mut effects),
            Verb::Status => {
                let status = engine.status(now);
                lang.write_status(&status, out);
                state.effects = effects;
                state.observer.command(true);
                return Ok(Some(Report::Status(status)));
            }
            Verb::Stats => {
                let stats = engine.stats();
                lang.write_stats(&stats, out);
                state.effects = effects;
                state.observer.command(true);
                return Ok(Some(Report::Stats(stats)));
            }
            // Not queue commands: the parser never hands them here.
            Verb::Help | Verb::Exit => {
                state.effects = effects;
                return Err(ServiceError::NotAQueueCommand(request.verb));
            }
        };
        state.apply(&self.state, now, &mut effects, out);
        state.effects = effects;
        state.observer.command(result.is_ok());
        result.map(|()| None).map_err(ServiceError::Engine)
    }
}

impl State {
    /// Renders the events of one command or timer, all of which happened
    /// at `now`, and carries out its timer effects.
    fn apply(
        &mut self,
        this: &Rc<RefCell<State>>,
        now: Duration,
        effects: &mut Vec<Effect>,
        out: &mut String,
    ) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Event(event) => {
                    self.observer.event(&event, now, &self.engine);
                    self.schedule_flush(this);
                    self.lang.write_event(&event, out);
                    out.push('\n');
                }
                Effect::StartRingTimer { operator, offer } => {
                    self.start_ring_timer(this, operator, offer)
                }
                Effect::StartWrapUpTimer {
                    operator,
                    wrap_up,
                    delay,
                } => self.start_wrap_up_timer(this, operator, wrap_up, delay),
                Effect::CancelWrapUpTimer { wrap_up } => {
                    if let Some(timer) = self.wrap_up_timers.remove(&wrap_up) {
                        let _ = timer.cancel();
                    }
                }
                Effect::CancelRingTimer { offer } => {
                    if let Some(timer) = self.ring_timers.remove(&offer) {
                        // It is pending: timers leave the map when they fire.
                        let _ = timer.cancel();
                    }
                }
            }
        }
    }

    /// Writes the queue log's new lines once, at the end of this loop turn
    /// (a zero-delay call runs after the current events are handled).
    fn schedule_flush(&mut self, this: &Rc<RefCell<State>>) {
        if self.flush_scheduled || self.observer.log_mut().is_none() {
            return;
        }
        self.flush_scheduled = true;
        let this = Rc::downgrade(this);
        self.reactor.call_later(Duration::ZERO, move || {
            if let Some(state) = this.upgrade()
                && let Ok(mut state) = state.try_borrow_mut()
            {
                state.flush_scheduled = false;
                if let Some(log) = state.observer.log_mut() {
                    log.writer.flush();
                }
            }
        });
    }

    fn start_ring_timer(
        &mut self,
        this: &Rc<RefCell<State>>,
        operator: OperatorIndex,
        offer: OfferId,
    ) {
        let Some(delay) = self.ring_timeout else {
            return;
        };
        let this = Rc::downgrade(this);
        let timer = self.reactor.call_later(delay, move || {
            if let Some(state) = this.upgrade() {
                ring_timer_fired(&state, operator, offer);
            }
        });
        self.ring_timers.insert(offer, timer);
    }

    fn start_wrap_up_timer(
        &mut self,
        this: &Rc<RefCell<State>>,
        operator: OperatorIndex,
        wrap_up: WrapUpId,
        delay: Duration,
    ) {
        let this = Rc::downgrade(this);
        let timer = self.reactor.call_later(delay, move || {
            if let Some(state) = this.upgrade() {
                timer_fired(&state, |state, now, effects| {
                    state.wrap_up_timers.remove(&wrap_up);
                    state.engine.wrap_up_over(operator, wrap_up, now, effects)
                });
            }
        });
        self.wrap_up_timers.insert(wrap_up, timer);
    }
}

/// A ring timer expired: the engine decides whether it still applies.
fn ring_timer_fired(this: &Rc<RefCell<State>>, operator: OperatorIndex, offer: OfferId) {
    timer_fired(this, |state, now, effects| {
        state.ring_timers.remove(&offer);
        state.engine.ring_timeout_at(operator, offer, now, effects)
    });
}

/// A timer expired: `expire` tells the engine (which ignores a stale
/// timer), and what it caused goes to every subscriber. The sinks run after
/// the service is released, so they may use it.
fn timer_fired(
    this: &Rc<RefCell<State>>,
    expire: impl FnOnce(&mut State, Duration, &mut Vec<Effect>) -> bool,
) {
    let mut out = String::new();
    let sinks: Vec<Rc<RefCell<EventSink>>> = {
        let mut state = this.borrow_mut();
        let now = state.reactor.now();
        let mut effects = std::mem::take(&mut state.effects);
        if expire(&mut state, now, &mut effects) {
            state.apply(this, now, &mut effects, &mut out);
        }
        state.effects = effects;
        if out.is_empty() {
            return;
        }
        state
            .subscribers
            .values()
            .map(|subscriber| subscriber.sink.clone())
            .collect()
    };
    for sink in sinks {
        if let Ok(mut sink) = sink.try_borrow_mut() {
            (*sink)(&out);
        }
    }
}

/// Takes one history sample (the service may be gone, or busy: then none).
fn sample_history(this: &Weak<RefCell<State>>) {
    let Some(state) = this.upgrade() else {
        return;
    };
    let Ok(mut state) = state.try_borrow_mut() else {
        return;
    };
    let waiting = state.engine.waiting_calls() as u64;
    state.history.sample(waiting);
}

impl Drop for State {
    fn drop(&mut self) {
        // Timers would fire into nothing; cancel them with their service.
        for (_, timer) in self.ring_timers.drain() {
            let _ = timer.cancel();
        }
        for (_, timer) in self.wrap_up_timers.drain() {
            let _ = timer.cancel();
        }
        if let Some(sampler) = self.history_sampler.take() {
            sampler.stop();
        }
    }
}
