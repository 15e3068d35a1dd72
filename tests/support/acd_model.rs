//! The reference model of the ACD engine for `tests/engine_model_acd.rs`:
//! the rules of SPEC §9 written as plainly as possible (a `Vec` for the
//! queue kept in dispatch order, linear scans to choose an operator).

use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::time::Duration;

use callcenter::engine::*;

#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    Idle,
    Ringing { call: String, offer: u64 },
    OnCall { call: String },
    WrapUp { id: u64 },
    LoggedOut,
}

#[derive(Clone, Debug)]
pub struct Op {
    pub name: String,
    pub act: Act,
    pub pause: Option<Option<String>>,
    pub since: Duration,
    pub idle_order: u64,
    pub unanswered: u32,
    pub answered: u64,
    pub rejected: u64,
    pub ignored: u64,
    pub talk: Duration,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub priority: u8,
    pub arrival: Duration,
    /// `Some` once answered.
    pub answered_at: Option<Duration>,
}

/// The reference model of the whole engine.
#[derive(Debug)]
pub struct Model {
    pub config: Config,
    pub ops: Vec<Op>,
    pub calls: HashMap<String, Call>,
    /// Waiting calls, head first (higher priorities ahead, FIFO within one).
    pub queue: Vec<String>,
    /// Ringing calls and the operators they ring.
    pub ringing: HashMap<String, BTreeSet<usize>>,
    pub next_offer: u64,
    pub next_wrap_up: u64,
    pub order: u64,
    pub last_rung: Option<usize>,
    pub now: Duration,
    pub received: u64,
    pub answered: u64,
    pub finished: u64,
    pub missed: u64,
    pub rejected: u64,
    pub ignored: u64,
    pub waits: Vec<Duration>,
    /// `random`: the operators the engine rang, in order, for the model to
    /// check and follow.
    pub random_picks: Vec<String>,
}

fn event(e: Event) -> Effect {
    Effect::Event(e)
}

fn rc(s: &str) -> Rc<str> {
    Rc::from(s)
}

impl Model {
    pub fn new(names: &[&str], config: Config) -> Model {
        let mut model = Model {
            config,
            ops: Vec::new(),
            calls: HashMap::new(),
            queue: Vec::new(),
            ringing: HashMap::new(),
            next_offer: 0,
            next_wrap_up: 0,
            order: 0,
            last_rung: None,
            now: Duration::ZERO,
            received: 0,
            answered: 0,
            finished: 0,
            missed: 0,
            rejected: 0,
            ignored: 0,
            waits: Vec::new(),
            random_picks: Vec::new(),
        };
        for name in names {
            model.add(name, 0);
        }
        model
    }

    pub fn add(&mut self, name: &str, idle_order: u64) -> usize {
        self.ops.push(Op {
            name: name.to_string(),
            act: Act::Idle,
            pause: None,
            since: self.now,
            idle_order,
            unanswered: 0,
            answered: 0,
            rejected: 0,
            ignored: 0,
            talk: Duration::ZERO,
        });
        self.ops.len() - 1
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.ops.iter().position(|o| o.name == name)
    }

    pub fn set(&mut self, i: usize, act: Act) {
        self.ops[i].act = act;
        self.ops[i].since = self.now;
    }

    pub fn dispatchable(&self) -> Vec<usize> {
        (0..self.ops.len())
            .filter(|&i| self.ops[i].act == Act::Idle && self.ops[i].pause.is_none())
            .collect()
    }

    /// Who a call rings, by the strategy, skipping `avoid` unless it is the
    /// only one dispatchable.
    pub fn choose(&mut self, avoid: Option<usize>) -> Vec<usize> {
        let all = self.dispatchable();
        let others: Vec<usize> = all.iter().copied().filter(|&o| Some(o) != avoid).collect();
        let candidates = if others.is_empty() { all } else { others };
        let Some(&first) = candidates.first() else {
            return Vec::new();
        };
        let pick = match self.config.strategy {
            Strategy::Linear => first,
            Strategy::RingAll => return candidates,
            Strategy::RoundRobin => {
                let start = self.last_rung.map_or(0, |last| last + 1);
                candidates
                    .iter()
                    .copied()
                    .find(|&o| o >= start)
                    .unwrap_or(first)
            }
            Strategy::LongestIdle => *candidates
                .iter()
                .min_by_key(|&&o| (self.ops[o].idle_order, o))
                .unwrap(),
            Strategy::FewestCalls => *candidates
                .iter()
                .min_by_key(|&&o| (self.ops[o].answered, o))
                .unwrap(),
            Strategy::Random => {
                assert!(
                    !self.random_picks.is_empty(),
                    "the model rings more than the engine"
                );
                let name = self.random_picks.remove(0);
                let pick = self.find(&name).expect("the engine rang a known operator");
                assert!(
                    candidates.contains(&pick),
                    "random rang {name}, not in {candidates:?}"
                );
                pick
            }
        };
        vec![pick]
    }

    pub fn ring(&mut self, call: &str, op: usize, out: &mut Vec<Effect>) {
        let offer = self.next_offer;
        self.next_offer += 1;
        self.last_rung = Some(op);
        self.set(
            op,
            Act::Ringing {
                call: call.into(),
                offer,
            },
        );
        self.ringing.entry(call.into()).or_default().insert(op);
        out.push(event(Event::Ringing {
            call: rc(call),
            operator: rc(&self.ops[op].name),
        }));
        out.push(Effect::StartRingTimer {
            operator: op,
            offer: OfferId(offer),
        });
    }

    pub fn offer(&mut self, call: &str, avoid: Option<usize>, out: &mut Vec<Effect>) {
        for op in self.choose(avoid) {
            self.ring(call, op, out);
        }
    }

    pub fn dispatch(&mut self, declined: Option<(String, usize)>, out: &mut Vec<Effect>) {
        while !self.queue.is_empty() && !self.dispatchable().is_empty() {
            let call = self.queue.remove(0);
            let avoid = declined
                .as_ref()
                .filter(|(c, _)| *c == call)
                .map(|(_, by)| *by);
            self.offer(&call, avoid, out);
        }
    }

    pub fn push_back(&mut self, call: &str) {
        let p = self.calls[call].priority;
        let at = self.queue.iter().position(|c| self.calls[c].priority < p);
        self.queue
            .insert(at.unwrap_or(self.queue.len()), call.into());
    }

    pub fn push_front(&mut self, call: &str) {
        let p = self.calls[call].priority;
        let at = self.queue.iter().position(|c| self.calls[c].priority <= p);
        self.queue
            .insert(at.unwrap_or(self.queue.len()), call.into());
    }

    pub fn call(
        &mut self,
        id: &str,
        priority: u8,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        if self.calls.contains_key(id) {
            return Err(EngineError::CallExists(id.into()));
        }
        if self.config.max_calls > 0 && self.queue.len() >= self.config.max_calls {
            return Err(EngineError::QueueFull(id.into()));
        }
        let call = Call {
            priority,
            arrival: self.now,
            answered_at: None,
        };
        self.calls.insert(id.into(), call);
        self.received += 1;
        out.push(event(Event::Received { call: rc(id) }));
        if self.dispatchable().is_empty() {
            self.push_back(id);
            out.push(event(Event::Queued { call: rc(id) }));
        } else {
            self.offer(id, None, out);
        }
        Ok(())
    }

    pub fn ringing_op(&self, name: &str) -> Result<(usize, String, u64), EngineError> {
        let i = self
            .find(name)
            .ok_or_else(|| EngineError::OperatorNotFound(name.into()))?;
        match &self.ops[i].act {
            Act::Ringing { call, offer } => Ok((i, call.clone(), *offer)),
            _ => Err(EngineError::NotRinging(name.into())),
        }
    }

    pub fn logged_in(&self, name: &str) -> Result<usize, EngineError> {
        let i = self
            .find(name)
            .ok_or_else(|| EngineError::OperatorNotFound(name.into()))?;
        if self.ops[i].act == Act::LoggedOut {
            return Err(EngineError::NotLoggedIn(name.into()));
        }
        Ok(i)
    }

    pub fn answer(&mut self, name: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let (i, call, offer) = self.ringing_op(name)?;
        let ringing = self.ringing.remove(&call).unwrap_or_default();
        let wait = self.now - self.calls[&call].arrival;
        self.waits.push(wait);
        self.answered += 1;
        self.calls.get_mut(&call).unwrap().answered_at = Some(self.now);
        self.ops[i].answered += 1;
        self.ops[i].unanswered = 0;
        self.set(i, Act::OnCall { call: call.clone() });
        out.push(Effect::CancelRingTimer {
            offer: OfferId(offer),
        });
        out.push(event(Event::Answered {
            call: rc(&call),
            operator: rc(name),
        }));
        for &other in ringing.iter().filter(|&&o| o != i) {
            if let Act::Ringing { offer, .. } = self.ops[other].act {
                out.push(Effect::CancelRingTimer {
                    offer: OfferId(offer),
                });
            }
            self.set(other, Act::Idle);
        }
        if ringing.len() > 1 {
            self.dispatch(None, out);
        }
        Ok(())
    }

    pub fn decline(&mut self, i: usize, call: String, out: &mut Vec<Effect>) {
        self.set(i, Act::Idle);
        let set = self.ringing.get_mut(&call).unwrap();
        set.remove(&i);
        if set.is_empty() {
            self.ringing.remove(&call);
            self.push_front(&call);
            self.dispatch(Some((call, i)), out);
        } else {
            self.dispatch(None, out);
        }
    }

    pub fn reject(&mut self, name: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let (i, call, offer) = self.ringing_op(name)?;
        self.rejected += 1;
        self.ops[i].rejected += 1;
        out.push(Effect::CancelRingTimer {
            offer: OfferId(offer),
        });
        out.push(event(Event::Rejected {
            call: rc(&call),
            operator: rc(name),
        }));
        self.decline(i, call, out);
        Ok(())
    }

    pub fn ring_timeout(&mut self, i: usize, offer: u64, out: &mut Vec<Effect>) -> bool {
        let call = match self.ops.get(i).map(|o| &o.act) {
            Some(Act::Ringing { call, offer: o }) if *o == offer => call.clone(),
            _ => return false,
        };
        self.ignored += 1;
        let limit = self.config.max_no_answer;
        let op = &mut self.ops[i];
        op.ignored += 1;
        op.unanswered += 1;
        out.push(event(Event::Ignored {
            call: rc(&call),
            operator: rc(&op.name),
        }));
        if limit > 0 && op.unanswered >= limit && op.pause.is_none() {
            op.unanswered = 0;
            op.pause = Some(Some(NO_ANSWER_REASON.into()));
            out.push(event(Event::AutoPaused {
                operator: rc(&op.name),
                count: limit,
            }));
        }
        self.decline(i, call, out);
        true
    }

    pub fn hangup(&mut self, id: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let call = self
            .calls
            .remove(id)
            .ok_or_else(|| EngineError::CallNotFound(id.into()))?;
        let holder =
            (0..self.ops.len()).find(|&i| self.ops[i].act == Act::OnCall { call: id.into() });
        if let Some(i) = holder {
            self.finished += 1;
            self.order += 1;
            self.ops[i].talk += self.now - call.answered_at.unwrap();
            self.ops[i].idle_order = self.order;
            let (c, o) = (rc(id), rc(&self.ops[i].name));
            if self.ops[i].pause.is_some() {
                self.set(i, Act::Idle);
                out.push(event(Event::FinishedPaused {
                    call: c,
                    operator: o,
                }));
            } else if self.config.wrap_up > Duration::ZERO {
                let wrap = self.next_wrap_up;
                self.next_wrap_up += 1;
                self.set(i, Act::WrapUp { id: wrap });
                out.push(event(Event::FinishedIntoWrapUp {
                    call: c,
                    operator: o,
                }));
                out.push(Effect::StartWrapUpTimer {
                    operator: i,
                    wrap_up: WrapUpId(wrap),
                    delay: self.config.wrap_up,
                });
            } else {
                self.set(i, Act::Idle);
                out.push(event(Event::Finished {
                    call: c,
                    operator: o,
                }));
            }
            self.dispatch(None, out);
        } else if let Some(ringing) = self.ringing.remove(id) {
            self.missed += 1;
            for i in ringing {
                if let Act::Ringing { offer, .. } = self.ops[i].act {
                    out.push(Effect::CancelRingTimer {
                        offer: OfferId(offer),
                    });
                }
                self.set(i, Act::Idle);
            }
            out.push(event(Event::Missed { call: rc(id) }));
            self.dispatch(None, out);
        } else {
            self.missed += 1;
            self.queue.retain(|c| c != id);
            out.push(event(Event::Missed { call: rc(id) }));
        }
        Ok(())
    }

    pub fn pause(
        &mut self,
        name: &str,
        reason: Option<&str>,
        out: &mut Vec<Effect>,
    ) -> Result<(), EngineError> {
        let i = self.logged_in(name)?;
        if self.ops[i].pause.is_some() {
            return Err(EngineError::AlreadyPaused(name.into()));
        }
        self.ops[i].pause = Some(reason.map(str::to_string));
        out.push(event(Event::Paused {
            operator: rc(name),
            reason: reason.map(rc),
        }));
        Ok(())
    }

    pub fn unpause(&mut self, name: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let i = self.logged_in(name)?;
        if self.ops[i].pause.take().is_none() {
            return Err(EngineError::NotPaused(name.into()));
        }
        out.push(event(Event::Unpaused { operator: rc(name) }));
        self.dispatch(None, out);
        Ok(())
    }

    pub fn login(&mut self, name: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        match self.find(name) {
            Some(i) if self.ops[i].act != Act::LoggedOut => {
                return Err(EngineError::AlreadyLoggedIn(name.into()));
            }
            Some(i) => self.set(i, Act::Idle),
            None => {
                self.order += 1;
                self.add(name, self.order);
            }
        }
        out.push(event(Event::LoggedIn { operator: rc(name) }));
        self.dispatch(None, out);
        Ok(())
    }

    pub fn logout(&mut self, name: &str, out: &mut Vec<Effect>) -> Result<(), EngineError> {
        let i = self.logged_in(name)?;
        match self.ops[i].act {
            Act::Ringing { .. } | Act::OnCall { .. } => return Err(EngineError::Busy(name.into())),
            Act::WrapUp { id } => out.push(Effect::CancelWrapUpTimer {
                wrap_up: WrapUpId(id),
            }),
            Act::Idle | Act::LoggedOut => {}
        }
        self.ops[i].pause = None;
        self.set(i, Act::LoggedOut);
        out.push(event(Event::LoggedOut { operator: rc(name) }));
        Ok(())
    }

    pub fn wrap_up_over(&mut self, i: usize, id: u64, out: &mut Vec<Effect>) -> bool {
        if self.ops.get(i).map(|o| &o.act) != Some(&Act::WrapUp { id }) {
            return false;
        }
        self.set(i, Act::Idle);
        if self.ops[i].pause.is_none() {
            out.push(event(Event::Available {
                operator: rc(&self.ops[i].name),
            }));
            self.dispatch(None, out);
        }
        true
    }

    pub fn status(&self) -> StatusSnapshot {
        let longest = self
            .queue
            .iter()
            .map(|c| self.now - self.calls[c].arrival)
            .max()
            .unwrap_or_default();
        let operators = self
            .ops
            .iter()
            .map(|o| {
                let (state, call) = match &o.act {
                    Act::Idle => (ActivityName::Idle, None),
                    Act::Ringing { call, .. } => (ActivityName::Ringing, Some(call.clone())),
                    Act::OnCall { call } => (ActivityName::OnCall, Some(call.clone())),
                    Act::WrapUp { .. } => (ActivityName::WrapUp, None),
                    Act::LoggedOut => (ActivityName::LoggedOut, None),
                };
                OperatorState {
                    id: o.name.clone(),
                    state,
                    call,
                    paused: o.pause.is_some(),
                    reason: o.pause.clone().flatten(),
                    since_s: tenths(self.now - o.since),
                }
            })
            .collect();
        StatusSnapshot {
            waiting: self.queue.len(),
            longest_wait_s: tenths(longest),
            strategy: self.config.strategy.name(),
            operators,
            queue: self.queue.iter().take(STATUS_QUEUE_IDS).cloned().collect(),
            longest_wait: longest,
        }
    }

    pub fn stats(&self) -> StatsSnapshot {
        let total: Duration = self.waits.iter().sum();
        let average = match self.answered {
            0 => Duration::ZERO,
            n => total.div_f64(n as f64),
        };
        let threshold = self.config.service_level;
        let in_time = self.waits.iter().filter(|&&w| w <= threshold).count() as f64;
        let judged = self.answered + self.missed;
        let percent = (judged > 0).then(|| (in_time * 100.0 / judged as f64 * 10.0).round() / 10.0);
        StatsSnapshot {
            received: self.received,
            answered: self.answered,
            finished: self.finished,
            missed: self.missed,
            rejected: self.rejected,
            ignored: self.ignored,
            wait_avg_s: tenths(average),
            wait_max_s: tenths(self.waits.iter().max().copied().unwrap_or_default()),
            service_level: ServiceLevel {
                seconds: (threshold.as_secs_f64() * 1000.0).round() / 1000.0,
                percent,
            },
            operators: self
                .ops
                .iter()
                .map(|o| OperatorStats {
                    id: o.name.clone(),
                    answered: o.answered,
                    rejected: o.rejected,
                    ignored: o.ignored,
                    talk_s: tenths(o.talk),
                })
                .collect(),
        }
    }
}

pub fn tenths(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}
