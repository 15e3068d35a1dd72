//! The queue service: the engine wired to the reactor's timers and rendered
//! in one language. Standalone and server both run exactly this, so they
//! cannot disagree on a rule or a message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::command::{UserError, Verb};
use crate::engine::{Effect, Engine, OfferId, OperatorIndex};
use crate::messages::Lang;
use crate::reactor::{DelayedCall, Reactor};

/// Receives the messages no command caused (a ring timeout and what follows),
/// as complete lines ending in `\n`.
pub type EventSink = Box<dyn FnMut(&str)>;

/// The engine, its ring timers, and its messages.
pub struct QueueService {
    engine: Engine,
    lang: Lang,
    /// `None`: calls ring until answered, rejected or hung up.
    ring_timeout: Option<Duration>,
    /// The pending ring timer of each offer that has one.
    ring_timers: HashMap<OfferId, DelayedCall>,
    /// Reused for every command, so commands do not allocate it.
    effects: Vec<Effect>,
    reactor: Reactor,
    /// Where timer-caused messages go (taken out while it runs).
    on_event: Option<EventSink>,
    /// This service, for the timer callbacks it schedules.
    this: Weak<RefCell<QueueService>>,
}

impl QueueService {
    /// A service for `engine`; timer-caused messages go to `on_event`.
    pub fn new(
        engine: Engine,
        lang: Lang,
        ring_timeout: Option<Duration>,
        reactor: Reactor,
        on_event: EventSink,
    ) -> Rc<RefCell<QueueService>> {
        Rc::new_cyclic(|this| {
            RefCell::new(QueueService {
                engine,
                lang,
                ring_timeout,
                ring_timers: HashMap::new(),
                effects: Vec::new(),
                reactor,
                on_event: Some(on_event),
                this: this.clone(),
            })
        })
    }

    /// Replaces where timer-caused messages go.
    pub fn set_event_sink(&mut self, on_event: EventSink) {
        self.on_event = Some(on_event);
    }

    /// The language messages are rendered in.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The engine, to inspect.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The number of ring timers pending.
    pub fn pending_ring_timers(&self) -> usize {
        self.ring_timers.len()
    }

    /// Runs one queue command and appends its messages to `out`, one line
    /// each, every line ending in `\n`. On error nothing changed and nothing
    /// was appended.
    pub fn execute(&mut self, verb: Verb, id: &str, out: &mut String) -> Result<(), UserError> {
        let command = match verb {
            Verb::Call => Engine::call,
            Verb::Answer => Engine::answer,
            Verb::Reject => Engine::reject,
            Verb::Hangup => Engine::hangup,
            // Not queue commands: the parser never hands them here.
            Verb::Help | Verb::Exit => return Err(UserError::Usage(verb)),
        };
        let mut effects = std::mem::take(&mut self.effects);
        let result = command(&mut self.engine, id, &mut effects);
        self.apply(&mut effects, out);
        self.effects = effects;
        result.map_err(UserError::Engine)
    }

    /// Renders events into `out` and carries out the timer effects.
    fn apply(&mut self, effects: &mut Vec<Effect>, out: &mut String) {
        for effect in effects.drain(..) {
            match effect {
                Effect::Event(event) => {
                    self.lang.write_event(&event, out);
                    out.push('\n');
                }
                Effect::StartRingTimer { operator, offer } => {
                    self.start_ring_timer(operator, offer)
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

    fn start_ring_timer(&mut self, operator: OperatorIndex, offer: OfferId) {
        let Some(delay) = self.ring_timeout else {
            return;
        };
        let this = self.this.clone();
        let timer = self.reactor.call_later(delay, move || {
            if let Some(service) = this.upgrade() {
                QueueService::ring_timer_fired(&service, operator, offer);
            }
        });
        self.ring_timers.insert(offer, timer);
    }

    /// A ring timer expired: the engine decides whether it still applies.
    /// The event sink runs after the service is released, so it may use it.
    fn ring_timer_fired(service: &RefCell<QueueService>, operator: OperatorIndex, offer: OfferId) {
        let mut out = String::new();
        let mut sink = {
            let mut this = service.borrow_mut();
            this.ring_timers.remove(&offer);
            let mut effects = std::mem::take(&mut this.effects);
            if this.engine.ring_timeout(operator, offer, &mut effects) {
                this.apply(&mut effects, &mut out);
            }
            this.effects = effects;
            if out.is_empty() {
                return;
            }
            match this.on_event.take() {
                Some(sink) => sink,
                None => return,
            }
        };
        sink(&out);
        // Put it back, unless the sink installed another meanwhile.
        service.borrow_mut().on_event.get_or_insert(sink);
    }
}

impl Drop for QueueService {
    fn drop(&mut self) {
        // Timers would fire into nothing; cancel them with their service.
        for (_, timer) in self.ring_timers.drain() {
            let _ = timer.cancel();
        }
    }
}
