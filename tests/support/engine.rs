//! What the engine tests share: effect constructors, and [`Harness`], an
//! engine plus the bookkeeping a reactor would do with its timers. After each
//! command the harness checks `check_invariants`, that each started ring
//! timer has a never-seen offer, that only live timers are cancelled, that
//! the live timers are exactly the ringing offers, and that a refused command
//! left everything unchanged.

use std::collections::HashSet;
use std::rc::Rc;

use callcenter::engine::*;

// ---------------------------------------------------------------------------
// Effect constructors
// ---------------------------------------------------------------------------

pub fn rc(s: &str) -> Rc<str> {
    Rc::from(s)
}

pub fn received(c: &str) -> Effect {
    Effect::Event(Event::Received { call: rc(c) })
}

pub fn ringing(c: &str, o: &str) -> Effect {
    Effect::Event(Event::Ringing {
        call: rc(c),
        operator: rc(o),
    })
}

pub fn answered(c: &str, o: &str) -> Effect {
    Effect::Event(Event::Answered {
        call: rc(c),
        operator: rc(o),
    })
}

pub fn rejected(c: &str, o: &str) -> Effect {
    Effect::Event(Event::Rejected {
        call: rc(c),
        operator: rc(o),
    })
}

pub fn finished(c: &str, o: &str) -> Effect {
    Effect::Event(Event::Finished {
        call: rc(c),
        operator: rc(o),
    })
}

pub fn queued(c: &str) -> Effect {
    Effect::Event(Event::Queued { call: rc(c) })
}

pub fn missed(c: &str) -> Effect {
    Effect::Event(Event::Missed { call: rc(c) })
}

pub fn ignored(c: &str, o: &str) -> Effect {
    Effect::Event(Event::Ignored {
        call: rc(c),
        operator: rc(o),
    })
}

pub fn start(operator: OperatorIndex, offer: OfferId) -> Effect {
    Effect::StartRingTimer { operator, offer }
}

pub fn cancel(offer: OfferId) -> Effect {
    Effect::CancelRingTimer { offer }
}

pub fn strs(ids: &[&str]) -> Vec<Rc<str>> {
    ids.iter().map(|id| rc(id)).collect()
}

// ---------------------------------------------------------------------------
// Harness: an engine plus the bookkeeping a reactor would do with its timers
// ---------------------------------------------------------------------------

/// Everything observable about an engine, for "nothing changed" checks.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub operators: Vec<OperatorStatus>,
    pub queue: Vec<Rc<str>>,
    pub live: usize,
    pub calls: Vec<(String, Option<CallStatus>)>,
}

pub fn snapshot<'a>(engine: &Engine, ids: impl IntoIterator<Item = &'a String>) -> Snapshot {
    let mut calls: Vec<_> = ids
        .into_iter()
        .map(|id| (id.clone(), engine.call_status(id)))
        .collect();
    calls.sort_by(|a, b| a.0.cmp(&b.0));
    Snapshot {
        operators: (0..engine.operator_count())
            .map(|i| engine.operator_status(i).expect("operator in range"))
            .collect(),
        queue: engine.queued_calls(),
        live: engine.live_calls(),
        calls,
    }
}

/// The offers currently ringing, read from the operators' statuses.
pub fn ringing_offers(engine: &Engine) -> HashSet<OfferId> {
    (0..engine.operator_count())
        .filter_map(|i| match engine.operator_status(i) {
            Some(OperatorStatus::Ringing { offer, .. }) => Some(offer),
            _ => None,
        })
        .collect()
}

pub struct Harness {
    pub engine: Engine,
    /// Every offer ever started: a new one must never be among them.
    pub seen_offers: HashSet<OfferId>,
    /// Timers started and not yet cancelled or expired.
    pub live_timers: HashSet<OfferId>,
    /// Every call id ever used, for snapshots.
    pub ids: HashSet<String>,
    /// Wrap-up timers started and not yet cancelled or expired.
    pub live_wrap_ups: HashSet<WrapUpId>,
}

impl Harness {
    pub fn new(operators: &[&str]) -> Harness {
        let engine = Engine::new(operators.iter().copied()).expect("valid operators");
        let harness = Harness {
            engine,
            seen_offers: HashSet::new(),
            live_timers: HashSet::new(),
            ids: HashSet::new(),
            live_wrap_ups: HashSet::new(),
        };
        harness.check();
        harness
    }

    pub fn check(&self) {
        self.engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("invariant broken: {e}"));
        assert_eq!(
            self.live_timers,
            ringing_offers(&self.engine),
            "live ring timers must be exactly the ringing offers"
        );
        let wrapping: HashSet<WrapUpId> = (0..self.engine.operator_count())
            .filter_map(|i| match self.engine.operator_status(i) {
                Some(OperatorStatus::WrapUp { wrap_up }) => Some(wrap_up),
                _ => None,
            })
            .collect();
        assert_eq!(
            self.live_wrap_ups, wrapping,
            "live wrap-up timers must be exactly the wrap-ups"
        );
    }

    pub fn track_timers(&mut self, out: &[Effect]) {
        for effect in out {
            match effect {
                Effect::StartRingTimer { operator, offer } => {
                    assert!(
                        self.seen_offers.insert(*offer),
                        "offer {offer:?} started twice"
                    );
                    self.live_timers.insert(*offer);
                    assert!(*operator < self.engine.operator_count());
                }
                Effect::CancelRingTimer { offer } => {
                    assert!(
                        self.live_timers.remove(offer),
                        "cancelled {offer:?}, which has no live timer"
                    );
                }
                Effect::StartWrapUpTimer { wrap_up, .. } => {
                    assert!(
                        self.live_wrap_ups.insert(*wrap_up),
                        "{wrap_up:?} started twice"
                    );
                }
                Effect::CancelWrapUpTimer { wrap_up } => {
                    assert!(
                        self.live_wrap_ups.remove(wrap_up),
                        "cancelled {wrap_up:?}, which has no live timer"
                    );
                }
                Effect::Event(_) => {}
            }
        }
    }

    /// Runs one command; on error checks that nothing was pushed or changed.
    pub fn run(
        &mut self,
        command: impl FnOnce(&mut Engine, &mut Vec<Effect>) -> Result<(), EngineError>,
    ) -> Result<Vec<Effect>, EngineError> {
        let before = snapshot(&self.engine, &self.ids);
        let mut out = Vec::new();
        let result = command(&mut self.engine, &mut out);
        if result.is_err() {
            assert_eq!(out, vec![], "a refused command pushed effects");
            assert_eq!(snapshot(&self.engine, &self.ids), before);
        }
        self.track_timers(&out);
        self.check();
        result.map(|()| out)
    }

    pub fn try_call(&mut self, id: &str) -> Result<Vec<Effect>, EngineError> {
        self.ids.insert(id.to_string());
        self.run(|e, out| e.call(id, out))
    }

    pub fn try_answer(&mut self, op: &str) -> Result<Vec<Effect>, EngineError> {
        self.run(|e, out| e.answer(op, out))
    }

    pub fn try_reject(&mut self, op: &str) -> Result<Vec<Effect>, EngineError> {
        self.run(|e, out| e.reject(op, out))
    }

    pub fn try_hangup(&mut self, id: &str) -> Result<Vec<Effect>, EngineError> {
        self.ids.insert(id.to_string());
        self.run(|e, out| e.hangup(id, out))
    }

    pub fn call(&mut self, id: &str) -> Vec<Effect> {
        self.try_call(id).expect("call accepted")
    }

    pub fn answer(&mut self, op: &str) -> Vec<Effect> {
        self.try_answer(op).expect("answer accepted")
    }

    pub fn reject(&mut self, op: &str) -> Vec<Effect> {
        self.try_reject(op).expect("reject accepted")
    }

    pub fn hangup(&mut self, id: &str) -> Vec<Effect> {
        self.try_hangup(id).expect("hangup accepted")
    }

    /// Reports a timer expiry; a stale one must push and change nothing.
    pub fn timeout(&mut self, operator: OperatorIndex, offer: OfferId) -> (bool, Vec<Effect>) {
        let before = snapshot(&self.engine, &self.ids);
        let mut out = Vec::new();
        let applied = self.engine.ring_timeout(operator, offer, &mut out);
        if applied {
            assert!(
                self.live_timers.remove(&offer),
                "an expired timer applied, but {offer:?} had no live timer"
            );
        } else {
            assert_eq!(out, vec![], "a stale timeout pushed effects");
            assert_eq!(snapshot(&self.engine, &self.ids), before);
        }
        self.track_timers(&out);
        self.check();
        (applied, out)
    }

    /// The offer currently ringing on operator `index`.
    pub fn offer(&self, index: OperatorIndex) -> OfferId {
        match self.engine.operator_status(index) {
            Some(OperatorStatus::Ringing { offer, .. }) => offer,
            other => panic!("operator {index} is not ringing: {other:?}"),
        }
    }

    pub fn status(&self, index: OperatorIndex) -> OperatorStatus {
        self.engine.operator_status(index).expect("operator exists")
    }

    pub fn queue(&self) -> Vec<Rc<str>> {
        self.engine.queued_calls()
    }
}

pub fn busy(call: &str) -> OperatorStatus {
    OperatorStatus::Busy { call: rc(call) }
}

pub fn ringing_status(call: &str, offer: OfferId) -> OperatorStatus {
    OperatorStatus::Ringing {
        call: rc(call),
        offer,
    }
}
