//! The queue engine: a pure state machine for automatic call distribution.
//!
//! It does no I/O and reads no clock (the sans-I/O style of h11 and
//! quinn-proto). Commands come in as method calls, with the time as an
//! argument (`*_at` methods; the short forms reuse the last time given);
//! what happened comes out as [`Effect`] values pushed onto a caller-provided
//! vector: the [`Event`]s to print, in causal order, and the ring and wrap-up
//! timers to start or cancel. The caller (a mode, wired to the reactor) owns
//! the timers and reports their expiry with [`Engine::ring_timeout`] and
//! [`Engine::wrap_up_over`].
//!
//! Every ring is a distinct *offer* ([`OfferId`]) and every wrap-up a
//! distinct [`WrapUpId`]: a timer carries the one it was started for, and an
//! expiry that no longer matches is ignored. So a stale timer can never act
//! on a later call or a later wrap-up, even on the same operator.
//!
//! # Layout
//!
//! [`queue`](self) (private) keeps the live calls compactly and the waiting
//! queue as one linked list per priority; `strategy` orders the dispatchable
//! operators for the configured [`Strategy`]; `stats` keeps the counters and
//! builds the [`StatusSnapshot`] and [`StatsSnapshot`]; `effect` is the
//! vocabulary in and out; `check` verifies every invariant, for tests.
//!
//! # Costs
//!
//! Every command is O(log n) in the number of operators and calls (a
//! `ring-all` dispatch O(k log n) for the k operators it rings): operators
//! are found through a hash map, calls through an open-addressing index, the
//! dispatchable operators are an ordered set keyed for the strategy, and a
//! call joins the tail, returns to the head or leaves from the middle of the
//! queue in O(1). `status` and `stats` are O(operators).

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;

mod check;
mod effect;
mod hashing;
mod inspect;
mod queue;
mod stats;
mod strategy;

pub use effect::{
    CallStatus, Config, ConfigError, Effect, EngineError, Event, OfferId, OperatorStatus, Priority,
    WrapUpId,
};
pub use hashing::{SequenceHasher, SequenceMap};
pub use stats::{
    ActivityName, OperatorState, OperatorStats, STATUS_QUEUE_IDS, ServiceLevel, StatsSnapshot,
    StatusSnapshot,
};
pub use strategy::Strategy;

use queue::{CallKey, Calls};
use stats::{OperatorCounters, QueueCounters, seconds};
use strategy::Dispatchable;

/// An operator's place in the priority order (0 is tried first).
pub type OperatorIndex = usize;

/// The reason of an automatic pause (SPEC §9.2).
pub const NO_ANSWER_REASON: &str = "no answer";

#[derive(Debug)]
enum Activity {
    Idle,
    Ringing { call: CallKey, offer: OfferId },
    OnCall { call: CallKey },
    WrapUp { wrap_up: WrapUpId },
    LoggedOut,
}

#[derive(Debug)]
struct Operator {
    /// Shared with every event that names this operator.
    id: Rc<str>,
    activity: Activity,
    /// `Some` while paused, with the reason if one was given.
    pause: Option<Option<Rc<str>>>,
    /// When the current activity began (for `status`).
    since: Duration,
    /// Event order of its last finished call (or of joining): the
    /// `longest-idle` key.
    idle_order: u64,
    /// Ring timeouts in a row since its last answer (for auto-pause).
    unanswered: u32,
    counters: OperatorCounters,
}

/// The operators a call is ringing: one, except under `ring-all`. One is
/// kept without a set, so an ordinary ring allocates nothing.
#[derive(Debug)]
enum Ringers {
    One(OperatorIndex),
    Many(BTreeSet<OperatorIndex>),
}

impl Ringers {
    fn insert(&mut self, operator: OperatorIndex) {
        match self {
            Ringers::One(first) if *first == operator => {}
            Ringers::One(first) => *self = Ringers::Many(BTreeSet::from([*first, operator])),
            Ringers::Many(set) => {
                set.insert(operator);
            }
        }
    }

    /// Removes `operator`; returns whether any other still rings.
    fn remove(&mut self, operator: OperatorIndex) -> bool {
        match self {
            Ringers::One(only) => *only != operator,
            Ringers::Many(set) => {
                set.remove(&operator);
                !set.is_empty()
            }
        }
    }

    fn contains(&self, operator: OperatorIndex) -> bool {
        match self {
            Ringers::One(only) => *only == operator,
            Ringers::Many(set) => set.contains(&operator),
        }
    }

    /// The first in priority order.
    fn first(&self) -> Option<OperatorIndex> {
        match self {
            Ringers::One(only) => Some(*only),
            Ringers::Many(set) => set.first().copied(),
        }
    }

    /// Every one, in priority order.
    fn to_vec(&self) -> Vec<OperatorIndex> {
        match self {
            Ringers::One(only) => vec![*only],
            Ringers::Many(set) => set.iter().copied().collect(),
        }
    }
}

/// A call out of the queue: ringing some operators, or answered.
#[derive(Debug)]
enum Engaged {
    /// Ringing these operators (more than one only under `ring-all`).
    Ringing(Ringers),
    Active {
        operator: OperatorIndex,
        answered_at: Duration,
    },
}

/// The call-center queue: operators in priority order, live calls, a queue
/// per caller priority.
#[derive(Debug)]
pub struct Engine {
    config: Config,
    /// Operators in priority order; the index is the priority. Never shrinks
    /// (a logged-out operator keeps its place), so indices stay valid.
    operators: Vec<Operator>,
    /// Operator id to index.
    operator_index: HashMap<Rc<str>, OperatorIndex>,
    /// The dispatchable operators, ordered for the strategy.
    dispatchable: Dispatchable,
    /// Live calls and the waiting queue.
    calls: Calls,
    /// Calls ringing or answered, with who holds them.
    engaged: SequenceMap<CallKey, Engaged>,
    /// Each engaged call's id, shared by all its events (ringing, answered,
    /// finished) instead of copied out of its slot for each: kept only
    /// while engaged, at most one per operator.
    engaged_ids: SequenceMap<CallKey, Rc<str>>,
    /// Source of fresh offer ids.
    next_offer: u64,
    /// Source of fresh wrap-up ids.
    next_wrap_up: u64,
    /// Counts events that order operators (finished calls, first logins):
    /// strategies break ties by it, never by the clock.
    order: u64,
    /// The latest time given; time never goes back.
    now: Duration,
    counters: QueueCounters,
}

impl Engine {
    /// Builds an engine with these operators, in priority order, and the
    /// seed's behaviour. At least one operator is needed.
    pub fn new<I, S>(operator_ids: I) -> Result<Engine, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let engine = Engine::with_config(operator_ids, Config::default())?;
        if engine.operators.is_empty() {
            return Err(ConfigError::NoOperators);
        }
        Ok(engine)
    }

    /// Builds an engine with these operators (possibly none: they may
    /// `login`), all logged in and idle, distributing as `config` says.
    pub fn with_config<I, S>(operator_ids: I, config: Config) -> Result<Engine, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut engine = Engine {
            dispatchable: Dispatchable::new(config.strategy, config.seed),
            config,
            operators: Vec::new(),
            operator_index: HashMap::new(),
            calls: Calls::new(),
            engaged: SequenceMap::default(),
            engaged_ids: SequenceMap::default(),
            next_offer: 0,
            next_wrap_up: 0,
            order: 0,
            now: Duration::ZERO,
            counters: QueueCounters::default(),
        };
        for id in operator_ids {
            let id = id.as_ref();
            if engine.operator_index.contains_key(id) {
                return Err(ConfigError::DuplicateOperator(id.to_string()));
            }
            // Those given at start all joined "before any event": order 0.
            engine.add_operator(id, 0);
        }
        Ok(engine)
    }

    /// The configuration it distributes with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A call with id `id` arrives at the last time given, priority 0.
    pub fn call(&mut self, id: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        self.call_at(id, Priority::default(), self.now, out)
    }

    /// A call with id `id` and `priority` arrives at `now`: it rings a
    /// dispatchable operator chosen by the strategy, or waits at the tail of
    /// its priority. Refused if `id` is live, or if `Config::max_calls`
    /// calls already wait.
    pub fn call_at(
        &mut self,
        id: &str,
        priority: Priority,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let hash = self.calls.hash(id);
        if self.calls.find_hashed(id, hash).is_some() {
            return Err(EngineError::CallExists(id.to_string()));
        }
        if self.config.max_calls > 0 && self.calls.waiting() >= self.config.max_calls {
            return Err(EngineError::QueueFull(id.to_string()));
        }
        self.tick(now);
        let key = self
            .calls
            .insert_hashed(id, hash, priority.get(), nanos(self.now));
        self.counters.received += 1;
        let shared = self.calls.shared_id(key);
        out.push(Effect::Event(Event::Received {
            call: shared.clone(),
        }));
        // Invariant: an operator is dispatchable only while the queue is
        // empty, so a new call never overtakes a waiting one.
        if self.dispatchable.is_empty() {
            self.calls.push_back(key);
            out.push(Effect::Event(Event::Queued { call: shared }));
        } else {
            // It rings at once: its events share this one copy of its id.
            self.engaged_ids.insert(key, shared);
            self.offer(key, None, out);
        }
        Ok(())
    }

    /// Operator `operator` answers the call ringing for it (last time given).
    pub fn answer(&mut self, operator: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        self.answer_at(operator, self.now, out)
    }

    /// Operator `operator` answers the call ringing for it at `now`; under
    /// `ring-all` the others ringing it go idle silently.
    pub fn answer_at(
        &mut self,
        operator: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let (index, call, offer) = self.ringing_operator(operator)?;
        self.tick(now);
        let others = match self.engaged.insert(
            call,
            Engaged::Active {
                operator: index,
                answered_at: self.now,
            },
        ) {
            // Only `ring-all` rings others; `Vec::new` allocates nothing.
            Some(Engaged::Ringing(Ringers::Many(set))) => {
                set.into_iter().filter(|&o| o != index).collect()
            }
            _ => Vec::new(),
        };
        let wait = self
            .now
            .saturating_sub(from_nanos(self.calls.arrival_ns(call)));
        self.counters.answered(wait, self.config.service_level);
        let op = &mut self.operators[index];
        op.counters.answered += 1;
        op.unanswered = 0;
        self.set_activity(index, Activity::OnCall { call });
        out.push(Effect::CancelRingTimer { offer });
        out.push(Effect::Event(Event::Answered {
            call: self.event_id(call),
            operator: self.operators[index].id.clone(),
        }));
        // Under `ring-all` the others go idle and may serve the queue.
        let freed = !others.is_empty();
        for other in others {
            if let Activity::Ringing { offer, .. } = self.operators[other].activity {
                out.push(Effect::CancelRingTimer { offer });
            }
            self.set_activity(other, Activity::Idle);
        }
        if freed {
            self.dispatch(None, out);
        }
        Ok(())
    }

    /// Operator `operator` rejects the call ringing for it (last time given).
    pub fn reject(&mut self, operator: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        self.reject_at(operator, self.now, out)
    }

    /// Operator `operator` rejects the call ringing for it at `now`: the call
    /// returns to the head of its priority (once nobody rings it) and is
    /// offered again, preferably to someone else.
    pub fn reject_at(
        &mut self,
        operator: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let (index, call, offer) = self.ringing_operator(operator)?;
        self.tick(now);
        self.counters.rejected += 1;
        self.operators[index].counters.rejected += 1;
        out.push(Effect::CancelRingTimer { offer });
        out.push(Effect::Event(Event::Rejected {
            call: self.event_id(call),
            operator: self.operators[index].id.clone(),
        }));
        self.decline(index, call, out);
        Ok(())
    }

    /// The ring timer of `offer` on `operator` expired (last time given).
    pub fn ring_timeout(
        &mut self,
        operator: OperatorIndex,
        offer: OfferId,
        out: &mut Vec<Effect>,
    ) -> bool {
        self.ring_timeout_at(operator, offer, self.now, out)
    }

    /// The ring timer of `offer` on `operator` expired at `now`. If that
    /// offer is still ringing, the call is *ignored* (and the operator
    /// auto-paused after `Config::max_no_answer` in a row), then handled as a
    /// rejection; a stale timer does nothing. Returns whether it applied.
    pub fn ring_timeout_at(
        &mut self,
        operator: OperatorIndex,
        offer: OfferId,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> bool {
        let call = match self.operators.get(operator).map(|o| &o.activity) {
            Some(Activity::Ringing {
                call,
                offer: current,
            }) if *current == offer => *call,
            _ => return false,
        };
        self.tick(now);
        self.counters.ignored += 1;
        let id = self.event_id(call);
        let op = &mut self.operators[operator];
        op.counters.ignored += 1;
        op.unanswered += 1;
        out.push(Effect::Event(Event::Ignored {
            call: id,
            operator: op.id.clone(),
        }));
        let limit = self.config.max_no_answer;
        if limit > 0 && op.unanswered >= limit && op.pause.is_none() {
            op.unanswered = 0;
            op.pause = Some(Some(Rc::from(NO_ANSWER_REASON)));
            out.push(Effect::Event(Event::AutoPaused {
                operator: op.id.clone(),
                count: limit,
            }));
        }
        self.decline(operator, call, out);
        true
    }

    /// Call `id` ends (last time given).
    pub fn hangup(&mut self, id: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        self.hangup_at(id, self.now, out)
    }

    /// Call `id` ends at `now`: *finished* if answered (the operator goes
    /// idle, into wrap-up, or stays paused), *missed* if ringing or waiting.
    pub fn hangup_at(
        &mut self,
        id: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let hash = self.calls.hash(id);
        let Some(key) = self.calls.find_hashed(id, hash) else {
            return Err(EngineError::CallNotFound(id.to_string()));
        };
        self.tick(now);
        let call = match self.engaged_ids.remove(&key) {
            Some(id) => id,
            None => self.calls.shared_id(key),
        };
        let engaged = self.engaged.remove(&key);
        self.calls.remove_hashed(key, hash);
        match engaged {
            Some(Engaged::Active {
                operator,
                answered_at,
            }) => {
                self.counters.finished += 1;
                self.order += 1;
                let op = &mut self.operators[operator];
                op.counters.talk += self.now.saturating_sub(answered_at);
                op.idle_order = self.order;
                let operator_id = op.id.clone();
                let event = if op.pause.is_some() {
                    self.set_activity(operator, Activity::Idle);
                    Event::FinishedPaused {
                        call,
                        operator: operator_id,
                    }
                } else if self.config.wrap_up > Duration::ZERO {
                    let wrap_up = WrapUpId(self.next_wrap_up);
                    self.next_wrap_up += 1;
                    self.set_activity(operator, Activity::WrapUp { wrap_up });
                    out.push(Effect::Event(Event::FinishedIntoWrapUp {
                        call,
                        operator: operator_id,
                    }));
                    out.push(Effect::StartWrapUpTimer {
                        operator,
                        wrap_up,
                        delay: self.config.wrap_up,
                    });
                    self.dispatch(None, out);
                    return Ok(());
                } else {
                    self.set_activity(operator, Activity::Idle);
                    Event::Finished {
                        call,
                        operator: operator_id,
                    }
                };
                out.push(Effect::Event(event));
                self.dispatch(None, out);
            }
            Some(Engaged::Ringing(ringing)) => {
                self.counters.missed += 1;
                for operator in ringing.to_vec() {
                    if let Activity::Ringing { offer, .. } = self.operators[operator].activity {
                        out.push(Effect::CancelRingTimer { offer });
                    }
                    self.set_activity(operator, Activity::Idle);
                }
                out.push(Effect::Event(Event::Missed { call }));
                self.dispatch(None, out);
            }
            None => {
                self.counters.missed += 1;
                out.push(Effect::Event(Event::Missed { call }));
            }
        }
        Ok(())
    }

    /// Operator `operator` pauses at `now`, with an optional reason: it takes
    /// no new call; a call ringing or answered is unaffected.
    pub fn pause(
        &mut self,
        operator: &str,
        reason: Option<&str>,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let index = self.logged_in_operator(operator)?;
        if self.operators[index].pause.is_some() {
            return Err(EngineError::AlreadyPaused(operator.to_string()));
        }
        self.tick(now);
        let reason: Option<Rc<str>> = reason.map(Rc::from);
        self.operators[index].pause = Some(reason.clone());
        self.refresh(index);
        out.push(Effect::Event(Event::Paused {
            operator: self.operators[index].id.clone(),
            reason,
        }));
        Ok(())
    }

    /// Operator `operator` ends its pause at `now`; then dispatch runs.
    pub fn unpause(
        &mut self,
        operator: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let index = self.logged_in_operator(operator)?;
        if self.operators[index].pause.is_none() {
            return Err(EngineError::NotPaused(operator.to_string()));
        }
        self.tick(now);
        self.operators[index].pause = None;
        self.refresh(index);
        out.push(Effect::Event(Event::Unpaused {
            operator: self.operators[index].id.clone(),
        }));
        self.dispatch(None, out);
        Ok(())
    }

    /// Operator `operator` logs in at `now`: a new id joins at the end of the
    /// priority order, a logged-out one returns to its old place; then
    /// dispatch runs.
    pub fn login(
        &mut self,
        operator: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let existing = self.operator_index.get(operator).copied();
        if let Some(index) = existing
            && !matches!(self.operators[index].activity, Activity::LoggedOut)
        {
            return Err(EngineError::AlreadyLoggedIn(operator.to_string()));
        }
        self.tick(now);
        let index = match existing {
            Some(index) => {
                self.set_activity(index, Activity::Idle);
                index
            }
            None => {
                self.order += 1;
                self.add_operator(operator, self.order)
            }
        };
        out.push(Effect::Event(Event::LoggedIn {
            operator: self.operators[index].id.clone(),
        }));
        self.dispatch(None, out);
        Ok(())
    }

    /// Operator `operator` logs out at `now`: refused while ringing or on a
    /// call; ends a wrap-up silently and clears a pause.
    pub fn logout(
        &mut self,
        operator: &str,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let index = self.logged_in_operator(operator)?;
        match self.operators[index].activity {
            Activity::Ringing { .. } | Activity::OnCall { .. } => {
                return Err(EngineError::Busy(operator.to_string()));
            }
            Activity::WrapUp { wrap_up } => out.push(Effect::CancelWrapUpTimer { wrap_up }),
            Activity::Idle | Activity::LoggedOut => {}
        }
        self.tick(now);
        self.operators[index].pause = None;
        self.set_activity(index, Activity::LoggedOut);
        out.push(Effect::Event(Event::LoggedOut {
            operator: self.operators[index].id.clone(),
        }));
        Ok(())
    }

    /// The wrap-up timer `wrap_up` of `operator` expired at `now`. If that
    /// wrap-up is still on, the operator becomes idle: *available* and a
    /// dispatch if it is not paused, silently if it is. A stale timer does
    /// nothing. Returns whether it applied.
    pub fn wrap_up_over(
        &mut self,
        operator: OperatorIndex,
        wrap_up: WrapUpId,
        now: Duration,
        out: &mut Vec<Effect>,
    ) -> bool {
        match self.operators.get(operator).map(|o| &o.activity) {
            Some(Activity::WrapUp { wrap_up: current }) if *current == wrap_up => {}
            _ => return false,
        }
        self.tick(now);
        self.set_activity(operator, Activity::Idle);
        if self.operators[operator].pause.is_none() {
            out.push(Effect::Event(Event::Available {
                operator: self.operators[operator].id.clone(),
            }));
            self.dispatch(None, out);
        }
        true
    }

    /// The id of an engaged call for an event: shared, not copied again.
    fn event_id(&self, call: CallKey) -> Rc<str> {
        match self.engaged_ids.get(&call) {
            Some(id) => id.clone(),
            None => self.calls.shared_id(call),
        }
    }

    /// Time never goes back: a command dated earlier than the last one
    /// counts as simultaneous with it.
    fn tick(&mut self, now: Duration) {
        self.now = self.now.max(now);
    }

    fn add_operator(&mut self, id: &str, idle_order: u64) -> OperatorIndex {
        let id: Rc<str> = Rc::from(id);
        let index = self.operators.len();
        self.operator_index.insert(id.clone(), index);
        self.operators.push(Operator {
            id,
            activity: Activity::Idle,
            pause: None,
            since: self.now,
            idle_order,
            unanswered: 0,
            counters: OperatorCounters::default(),
        });
        self.refresh(index);
        index
    }

    /// Finds `operator` and the call ringing for it, or the matching error.
    fn ringing_operator(
        &self,
        operator: &str,
    ) -> Result<(OperatorIndex, CallKey, OfferId), EngineError> {
        let Some(&index) = self.operator_index.get(operator) else {
            return Err(EngineError::OperatorNotFound(operator.to_string()));
        };
        match self.operators[index].activity {
            Activity::Ringing { call, offer } => Ok((index, call, offer)),
            _ => Err(EngineError::NotRinging(operator.to_string())),
        }
    }

    /// Finds `operator`, refusing an unknown or logged-out one.
    fn logged_in_operator(&self, operator: &str) -> Result<OperatorIndex, EngineError> {
        let Some(&index) = self.operator_index.get(operator) else {
            return Err(EngineError::OperatorNotFound(operator.to_string()));
        };
        if matches!(self.operators[index].activity, Activity::LoggedOut) {
            return Err(EngineError::NotLoggedIn(operator.to_string()));
        }
        Ok(index)
    }

    /// Changes what an operator does, and whether it is dispatchable.
    fn set_activity(&mut self, index: OperatorIndex, activity: Activity) {
        let op = &mut self.operators[index];
        op.activity = activity;
        op.since = self.now;
        self.refresh(index);
    }

    /// Puts the operator in or out of the dispatchable set: in when logged
    /// in, not paused and idle.
    fn refresh(&mut self, index: OperatorIndex) {
        let op = &self.operators[index];
        if matches!(op.activity, Activity::Idle) && op.pause.is_none() {
            self.dispatchable
                .insert(index, op.idle_order, op.counters.answered);
        } else {
            self.dispatchable.remove(index);
        }
    }

    /// After a reject or an ignore: the operator is free; once no operator
    /// rings the call any more it goes back to the head of its priority, and
    /// the queue is dispatched with that call preferring anyone but the
    /// operator who declined it.
    fn decline(&mut self, operator: OperatorIndex, call: CallKey, out: &mut Vec<Effect>) {
        self.set_activity(operator, Activity::Idle);
        let still_ringing = match self.engaged.get_mut(&call) {
            Some(Engaged::Ringing(ringers)) => ringers.remove(operator),
            _ => false,
        };
        if still_ringing {
            self.dispatch(None, out);
        } else {
            self.engaged.remove(&call);
            self.engaged_ids.remove(&call);
            self.calls.push_front(call);
            self.dispatch(Some((call, operator)), out);
        }
    }

    /// While calls wait and operators are dispatchable, the head of the
    /// queue rings the operator(s) the strategy chooses. `avoid` is a call
    /// just declined by an operator, who gets it back only when nobody else
    /// is dispatchable.
    fn dispatch(&mut self, avoid: Option<(CallKey, OperatorIndex)>, out: &mut Vec<Effect>) {
        while let Some(call) = self.calls.head() {
            if self.dispatchable.is_empty() {
                break;
            }
            let avoid = avoid
                .filter(|&(declined, _)| declined == call)
                .map(|(_, by)| by);
            self.calls.unlink(call);
            self.offer(call, avoid, out);
        }
    }

    /// Rings an engaged call on the operator(s) the strategy chooses; there
    /// is at least one dispatchable operator.
    fn offer(&mut self, call: CallKey, avoid: Option<OperatorIndex>, out: &mut Vec<Effect>) {
        if self.dispatchable.strategy() == Strategy::RingAll {
            for operator in self.dispatchable.everyone(avoid) {
                self.ring(call, operator, out);
            }
        } else if let Some(operator) = self.dispatchable.choose(avoid) {
            self.ring(call, operator, out);
        }
    }

    /// Offers `call` to the dispatchable `operator` with a fresh offer id.
    fn ring(&mut self, call: CallKey, operator: OperatorIndex, out: &mut Vec<Effect>) {
        let offer = OfferId(self.next_offer);
        self.next_offer += 1;
        self.dispatchable.rung(operator);
        self.set_activity(operator, Activity::Ringing { call, offer });
        match self.engaged.get_mut(&call) {
            Some(Engaged::Ringing(ringers)) => ringers.insert(operator),
            _ => {
                self.engaged
                    .insert(call, Engaged::Ringing(Ringers::One(operator)));
            }
        }
        let id = match self.engaged_ids.get(&call) {
            Some(id) => id.clone(),
            None => {
                let id = self.calls.shared_id(call);
                self.engaged_ids.insert(call, id.clone());
                id
            }
        };
        out.push(Effect::Event(Event::Ringing {
            call: id,
            operator: self.operators[operator].id.clone(),
        }));
        out.push(Effect::StartRingTimer { operator, offer });
    }
}

/// Engine time in nanoseconds (saturating after 584 years).
fn nanos(time: Duration) -> u64 {
    u64::try_from(time.as_nanos()).unwrap_or(u64::MAX)
}

fn from_nanos(ns: u64) -> Duration {
    Duration::from_nanos(ns)
}
