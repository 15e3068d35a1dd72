//! The queue service: the engine wired to the reactor's ring timers and
//! rendered in one language. Standalone and server both run exactly this,
//! so they cannot disagree on a rule or a message.
//!
//! A [`QueueService`] is a cheap handle (clones share one queue). Messages no
//! command caused (a ring timeout and what follows) go to every
//! [`subscribe`](QueueService::subscribe)d sink: a connection subscribes
//! when it is made and its [`Subscription`] ends with it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::command::Verb;
use crate::engine::{Effect, Engine, EngineError, OfferId, OperatorIndex};
use crate::messages::Lang;
use crate::reactor::{DelayedCall, Reactor};

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

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade()
            && let Ok(mut state) = state.try_borrow_mut()
        {
            state.subscribers.remove(&self.key);
        }
    }
}

struct State {
    engine: Engine,
    lang: Lang,
    /// `None`: calls ring until answered, rejected or hung up.
    ring_timeout: Option<Duration>,
    /// The pending ring timer of each offer that has one.
    ring_timers: HashMap<OfferId, DelayedCall>,
    /// Reused for every command, so commands do not allocate it.
    effects: Vec<Effect>,
    reactor: Reactor,
    /// Where timer-caused messages go, in subscription order.
    subscribers: BTreeMap<u64, Rc<RefCell<EventSink>>>,
    next_key: u64,
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
                ring_timers: HashMap::new(),
                effects: Vec::new(),
                reactor,
                subscribers: BTreeMap::new(),
                next_key: 0,
            })),
        }
    }

    /// Sends timer-caused messages to `sink` until the returned
    /// [`Subscription`] is dropped.
    pub fn subscribe(&self, sink: EventSink) -> Subscription {
        let mut state = self.state.borrow_mut();
        let key = state.next_key;
        state.next_key += 1;
        state.subscribers.insert(key, Rc::new(RefCell::new(sink)));
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

    /// Runs one queue command and appends its messages to `out`, one line
    /// each, every line ending in `\n`. On error nothing changed and nothing
    /// was appended.
    pub fn execute(&self, verb: Verb, id: &str, out: &mut String) -> Result<(), ServiceError> {
        let command = match verb {
            Verb::Call => Engine::call,
            Verb::Answer => Engine::answer,
            Verb::Reject => Engine::reject,
            Verb::Hangup => Engine::hangup,
            // Not queue commands: the parser never hands them here.
            Verb::Help | Verb::Exit => return Err(ServiceError::NotAQueueCommand(verb)),
        };
        let mut state = self.state.borrow_mut();
        let mut effects = std::mem::take(&mut state.effects);
        let result = command(&mut state.engine, id, &mut effects);
        state.apply(&self.state, &mut effects, out);
        state.effects = effects;
        result.map_err(ServiceError::Engine)
    }
}

impl State {
    /// Renders events into `out` and carries out the timer effects.
    fn apply(&mut self, this: &Rc<RefCell<State>>, effects: &mut Vec<Effect>, out: &mut String) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Event(event) => {
                    self.lang.write_event(&event, out);
                    out.push('\n');
                }
                Effect::StartRingTimer { operator, offer } => {
                    self.start_ring_timer(this, operator, offer)
                }
                // Wrap-up is off (Config::default) until the service wires it.
                Effect::StartWrapUpTimer { .. } | Effect::CancelWrapUpTimer { .. } => {}
                Effect::CancelRingTimer { offer } => {
                    if let Some(timer) = self.ring_timers.remove(&offer) {
                        // It is pending: timers leave the map when they fire.
                        let _ = timer.cancel();
                    }
                }
            }
        }
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
}

/// A ring timer expired: the engine decides whether it still applies. The
/// sinks run after the service is released, so they may use it.
fn ring_timer_fired(this: &Rc<RefCell<State>>, operator: OperatorIndex, offer: OfferId) {
    let mut out = String::new();
    let sinks: Vec<Rc<RefCell<EventSink>>> = {
        let mut state = this.borrow_mut();
        state.ring_timers.remove(&offer);
        let mut effects = std::mem::take(&mut state.effects);
        if state.engine.ring_timeout(operator, offer, &mut effects) {
            state.apply(this, &mut effects, &mut out);
        }
        state.effects = effects;
        if out.is_empty() {
            return;
        }
        state.subscribers.values().cloned().collect()
    };
    for sink in sinks {
        if let Ok(mut sink) = sink.try_borrow_mut() {
            (*sink)(&out);
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // Timers would fire into nothing; cancel them with their service.
        for (_, timer) in self.ring_timers.drain() {
            let _ = timer.cancel();
        }
    }
}
