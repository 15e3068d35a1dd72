//! The queue engine: a pure state machine for automatic call distribution.
//!
//! It does no I/O and reads no clock (the sans-I/O style of h11 and
//! quinn-proto). Commands come in as method calls; what happened comes out as
//! [`Effect`] values pushed onto a caller-provided vector: the [`Event`]s to
//! print, in causal order, and the ring timers to start or cancel. The caller
//! (a mode, wired to the reactor) owns the timers and reports their expiry
//! with [`Engine::ring_timeout`].
//!
//! Every ring is a distinct *offer* ([`OfferId`]): a timer carries the offer
//! it was started for, and an expiry whose offer is no longer ringing is
//! ignored. So a stale timer can never expire a later call, even one that
//! rings the same operator again.
//!
//! # Costs
//!
//! Every command is O(log n) in the number of operators and calls:
//! operators and calls are found through hash maps; the available operators
//! are an ordered set of priority indices (the first available one is its
//! minimum); the queue is an ordered map from a position to the call, so a
//! call can join the tail, return to the head, or leave from the middle
//! without a scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::rc::Rc;

use slab::Slab;

/// An operator's place in the priority order (0 is tried first).
pub type OperatorIndex = usize;

/// Identifies one ring of one call on one operator.
///
/// A new offer is made every time a call rings, so a ring timer started for
/// one offer cannot act on a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OfferId(pub u64);

/// Something that happened, in the order it happened; each has one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new call arrived.
    Received {
        /// The call's id.
        call: Rc<str>,
    },
    /// A call was offered to an operator, who is now ringing.
    Ringing {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// The ringing operator answered; the operator is busy.
    Answered {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// The ringing operator rejected the call; it returns to the queue's head.
    Rejected {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// An answered call ended; the operator is available again.
    Finished {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
    /// No operator was available; the call waits at the queue's tail.
    Queued {
        /// The call's id.
        call: Rc<str>,
    },
    /// A call ended before anyone answered it (ringing or queued).
    Missed {
        /// The call's id.
        call: Rc<str>,
    },
    /// The ring timer expired; treated as a rejection.
    Ignored {
        /// The call's id.
        call: Rc<str>,
        /// The operator's id.
        operator: Rc<str>,
    },
}

/// An output of the engine: an event to report, or a timer to manage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Report this event.
    Event(Event),
    /// Start the ring timer for this offer; on expiry call
    /// [`Engine::ring_timeout`] with these two values.
    StartRingTimer {
        /// The operator being rung.
        operator: OperatorIndex,
        /// The offer the timer belongs to.
        offer: OfferId,
    },
    /// The offer ended (answered, rejected, hung up): its timer is no longer needed.
    CancelRingTimer {
        /// The offer whose timer to cancel.
        offer: OfferId,
    },
}

/// Why a command was refused. The state is unchanged when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineError {
    /// `call` with the id of a call that is still live.
    CallExists(String),
    /// `hangup` of a call that is not live.
    CallNotFound(String),
    /// `answer`/`reject` naming an operator that does not exist.
    OperatorNotFound(String),
    /// `answer`/`reject` for an operator that has no ringing call.
    NotRinging(String),
}

/// Why an engine could not be built from a list of operators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The list was empty.
    NoOperators,
    /// The same operator id appeared twice.
    DuplicateOperator(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoOperators => write!(f, "at least one operator is needed"),
            ConfigError::DuplicateOperator(id) => write!(f, "duplicate operator id: {id}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// What an operator is doing, as seen from outside (for tests and probes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperatorStatus {
    /// Idle: the next call may ring here.
    Available,
    /// A call is ringing here.
    Ringing {
        /// The ringing call's id.
        call: Rc<str>,
        /// The current offer.
        offer: OfferId,
    },
    /// Talking on an answered call.
    Busy {
        /// The answered call's id.
        call: Rc<str>,
    },
}

/// Where a live call is, as seen from outside (for tests and probes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStatus {
    /// Waiting in the queue.
    Queued,
    /// Ringing for this operator.
    Ringing(OperatorIndex),
    /// Answered by this operator.
    Active(OperatorIndex),
}

#[derive(Debug)]
enum OperatorState {
    Available,
    Ringing { call: CallKey, offer: OfferId },
    Busy { call: CallKey },
}

#[derive(Debug)]
struct Operator {
    /// Shared with every event that names this operator.
    id: Rc<str>,
    state: OperatorState,
}

type CallKey = usize;

#[derive(Debug)]
enum CallState {
    /// `position` is its key in [`Engine::queue`].
    Queued {
        position: i64,
    },
    Ringing {
        operator: OperatorIndex,
        offer: OfferId,
    },
    Active {
        operator: OperatorIndex,
    },
}

#[derive(Debug)]
struct Call {
    /// Shared with every event that names this call, and the key in `call_keys`.
    id: Rc<str>,
    state: CallState,
}

/// The call-center queue: operators in priority order, live calls, a FIFO queue.
#[derive(Debug)]
pub struct Engine {
    /// Operators in priority order; the index is the priority.
    operators: Vec<Operator>,
    /// Operator id to index, for `answer`/`reject`.
    operator_index: HashMap<Rc<str>, OperatorIndex>,
    /// Indices of the available operators: the minimum is the first in priority.
    available: BTreeSet<OperatorIndex>,
    /// Live calls (queued, ringing or active).
    calls: Slab<Call>,
    /// Call id to its key in `calls`.
    call_keys: HashMap<Rc<str>, CallKey>,
    /// Waiting calls by position: the smallest position is the head.
    queue: BTreeMap<i64, CallKey>,
    /// Next position at the tail (grows up) ...
    next_tail: i64,
    /// ... and at the head (grows down), for calls that return to the head.
    next_head: i64,
    /// Source of fresh offer ids.
    next_offer: u64,
}

impl Engine {
    /// Builds an engine with these operators, in priority order.
    pub fn new<I, S>(operator_ids: I) -> Result<Engine, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut operators = Vec::new();
        let mut operator_index = HashMap::new();
        for id in operator_ids {
            let id: Rc<str> = Rc::from(id.as_ref());
            if operator_index.contains_key(&id) {
                return Err(ConfigError::DuplicateOperator(id.to_string()));
            }
            operator_index.insert(id.clone(), operators.len());
            operators.push(Operator {
                id,
                state: OperatorState::Available,
            });
        }
        if operators.is_empty() {
            return Err(ConfigError::NoOperators);
        }
        Ok(Engine {
            available: (0..operators.len()).collect(),
            operators,
            operator_index,
            calls: Slab::new(),
            call_keys: HashMap::new(),
            queue: BTreeMap::new(),
            next_tail: 0,
            next_head: -1,
            next_offer: 0,
        })
    }

    /// A call with id `id` arrives: it rings the first available operator, or
    /// waits at the tail of the queue.
    pub fn call(&mut self, id: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        if self.call_keys.contains_key(id) {
            return Err(EngineError::CallExists(id.to_string()));
        }
        let id: Rc<str> = Rc::from(id);
        let key = self.calls.insert(Call {
            id: id.clone(),
            // Replaced just below, before anything can observe it.
            state: CallState::Queued { position: 0 },
        });
        self.call_keys.insert(id.clone(), key);
        out.push(Effect::Event(Event::Received { call: id.clone() }));
        // Invariant: an operator is available only while the queue is empty,
        // so a new call never overtakes a waiting one.
        match self.available.first().copied() {
            Some(operator) => self.ring(key, operator, out),
            None => {
                self.enqueue_tail(key);
                out.push(Effect::Event(Event::Queued { call: id }));
            }
        }
        Ok(())
    }

    /// Operator `operator` answers the call ringing for it.
    pub fn answer(&mut self, operator: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let (index, call, offer) = self.ringing_operator(operator)?;
        self.operators[index].state = OperatorState::Busy { call };
        self.calls[call].state = CallState::Active { operator: index };
        out.push(Effect::CancelRingTimer { offer });
        out.push(Effect::Event(Event::Answered {
            call: self.calls[call].id.clone(),
            operator: self.operators[index].id.clone(),
        }));
        Ok(())
    }

    /// Operator `operator` rejects the call ringing for it: the call returns to
    /// the head of the queue and is offered again, preferably to someone else.
    pub fn reject(&mut self, operator: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let (index, call, offer) = self.ringing_operator(operator)?;
        out.push(Effect::CancelRingTimer { offer });
        out.push(Effect::Event(Event::Rejected {
            call: self.calls[call].id.clone(),
            operator: self.operators[index].id.clone(),
        }));
        self.requeue_declined(index, call, out);
        Ok(())
    }

    /// The ring timer of `offer` on `operator` expired. If that offer is still
    /// ringing, the call is *ignored*, then handled as a rejection; a stale
    /// timer (the offer was answered, rejected or hung up) does nothing.
    /// Returns whether the timer applied.
    pub fn ring_timeout(
        &mut self,
        operator: OperatorIndex,
        offer: OfferId,
        out: &mut Vec<Effect>,
    ) -> bool {
        let call = match self.operators.get(operator).map(|o| &o.state) {
            Some(OperatorState::Ringing {
                call,
                offer: current,
            }) if *current == offer => *call,
            _ => return false,
        };
        out.push(Effect::Event(Event::Ignored {
            call: self.calls[call].id.clone(),
            operator: self.operators[operator].id.clone(),
        }));
        self.requeue_declined(operator, call, out);
        true
    }

    /// Call `id` ends: *finished* if answered, *missed* if ringing or queued.
    pub fn hangup(&mut self, id: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let Some(&key) = self.call_keys.get(id) else {
            return Err(EngineError::CallNotFound(id.to_string()));
        };
        let call = self.calls.remove(key);
        self.call_keys.remove(id);
        match call.state {
            CallState::Active { operator } => {
                self.make_available(operator);
                out.push(Effect::Event(Event::Finished {
                    call: call.id,
                    operator: self.operators[operator].id.clone(),
                }));
                self.dispatch(None, out);
            }
            CallState::Ringing { operator, offer } => {
                self.make_available(operator);
                out.push(Effect::CancelRingTimer { offer });
                out.push(Effect::Event(Event::Missed { call: call.id }));
                self.dispatch(None, out);
            }
            CallState::Queued { position } => {
                self.queue.remove(&position);
                out.push(Effect::Event(Event::Missed { call: call.id }));
            }
        }
        Ok(())
    }

    /// The number of operators.
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// The id of the operator at `index` in priority order.
    pub fn operator_id(&self, index: OperatorIndex) -> Option<&str> {
        self.operators.get(index).map(|o| &*o.id)
    }

    /// What the operator at `index` is doing.
    pub fn operator_status(&self, index: OperatorIndex) -> Option<OperatorStatus> {
        let operator = self.operators.get(index)?;
        Some(match operator.state {
            OperatorState::Available => OperatorStatus::Available,
            OperatorState::Ringing { call, offer } => OperatorStatus::Ringing {
                call: self.calls[call].id.clone(),
                offer,
            },
            OperatorState::Busy { call } => OperatorStatus::Busy {
                call: self.calls[call].id.clone(),
            },
        })
    }

    /// Where the live call `id` is, or `None` if it is not live.
    pub fn call_status(&self, id: &str) -> Option<CallStatus> {
        let key = *self.call_keys.get(id)?;
        Some(match self.calls[key].state {
            CallState::Queued { .. } => CallStatus::Queued,
            CallState::Ringing { operator, .. } => CallStatus::Ringing(operator),
            CallState::Active { operator } => CallStatus::Active(operator),
        })
    }

    /// The number of live calls (queued, ringing or active).
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// The ids of the waiting calls, head first. O(n): for tests and probes.
    pub fn queued_calls(&self) -> Vec<Rc<str>> {
        self.queue
            .values()
            .map(|&key| self.calls[key].id.clone())
            .collect()
    }

    /// Checks every internal invariant; for tests. O(n).
    ///
    /// An operator holds at most one call and that call points back to it;
    /// every live call is in exactly one place; an operator is available only
    /// while the queue is empty; the indexes agree with the data.
    pub fn check_invariants(&self) -> Result<(), String> {
        if self.call_keys.len() != self.calls.len() {
            return Err("call index and call table differ in size".into());
        }
        for (key, call) in &self.calls {
            if self.call_keys.get(&call.id) != Some(&key) {
                return Err(format!("call {} is not indexed", call.id));
            }
            let ok = match call.state {
                CallState::Queued { position } => self.queue.get(&position) == Some(&key),
                CallState::Ringing { operator, offer } => matches!(
                    self.operators[operator].state,
                    OperatorState::Ringing { call, offer: o } if call == key && o == offer
                ),
                CallState::Active { operator } => matches!(
                    self.operators[operator].state,
                    OperatorState::Busy { call } if call == key
                ),
            };
            if !ok {
                return Err(format!("call {} is not where its state says", call.id));
            }
        }
        for (&position, &key) in &self.queue {
            match self.calls.get(key).map(|c| &c.state) {
                Some(CallState::Queued { position: p }) if *p == position => {}
                _ => return Err(format!("queue position {position} is stale")),
            }
        }
        for (index, operator) in self.operators.iter().enumerate() {
            let is_available = matches!(operator.state, OperatorState::Available);
            if is_available != self.available.contains(&index) {
                return Err(format!("operator {} availability is stale", operator.id));
            }
        }
        if !self.available.is_empty() && !self.queue.is_empty() {
            return Err("an operator is available while calls wait".into());
        }
        Ok(())
    }

    /// Finds `operator` and the call ringing for it, or the matching error.
    fn ringing_operator(
        &self,
        operator: &str,
    ) -> Result<(OperatorIndex, CallKey, OfferId), EngineError> {
        let Some(&index) = self.operator_index.get(operator) else {
            return Err(EngineError::OperatorNotFound(operator.to_string()));
        };
        match self.operators[index].state {
            OperatorState::Ringing { call, offer } => Ok((index, call, offer)),
            _ => Err(EngineError::NotRinging(operator.to_string())),
        }
    }

    /// After a reject or an ignore: the operator is free, the call goes back to
    /// the head of the queue, and the queue is dispatched with that call
    /// preferring anyone but the operator who declined it.
    fn requeue_declined(&mut self, operator: OperatorIndex, call: CallKey, out: &mut Vec<Effect>) {
        self.make_available(operator);
        let position = self.next_head;
        self.next_head -= 1;
        self.queue.insert(position, call);
        self.calls[call].state = CallState::Queued { position };
        self.dispatch(Some((call, operator)), out);
    }

    /// While calls wait and operators are available, the head of the queue
    /// rings the first available operator in priority order. `avoid` is a
    /// call just declined by an operator, who gets it back only when nobody
    /// else is available.
    fn dispatch(&mut self, avoid: Option<(CallKey, OperatorIndex)>, out: &mut Vec<Effect>) {
        while let Some((&position, &call)) = self.queue.first_key_value() {
            let Some(&first) = self.available.first() else {
                break;
            };
            let operator = match avoid {
                Some((declined, by)) if declined == call && first == by => {
                    self.available.range(by + 1..).next().copied().unwrap_or(by)
                }
                _ => first,
            };
            self.queue.remove(&position);
            self.ring(call, operator, out);
        }
    }

    /// Offers `call` to the available `operator` with a fresh offer id.
    fn ring(&mut self, call: CallKey, operator: OperatorIndex, out: &mut Vec<Effect>) {
        let offer = OfferId(self.next_offer);
        self.next_offer += 1;
        self.available.remove(&operator);
        self.operators[operator].state = OperatorState::Ringing { call, offer };
        self.calls[call].state = CallState::Ringing { operator, offer };
        out.push(Effect::Event(Event::Ringing {
            call: self.calls[call].id.clone(),
            operator: self.operators[operator].id.clone(),
        }));
        out.push(Effect::StartRingTimer { operator, offer });
    }

    fn enqueue_tail(&mut self, call: CallKey) {
        let position = self.next_tail;
        self.next_tail += 1;
        self.queue.insert(position, call);
        self.calls[call].state = CallState::Queued { position };
    }

    fn make_available(&mut self, operator: OperatorIndex) {
        self.operators[operator].state = OperatorState::Available;
        self.available.insert(operator);
    }
}
