//! What the engine shows of itself: operators, calls, and the snapshots
//! of `status` and `stats`. Read-only: nothing here changes the queue.

use std::rc::Rc;
use std::time::Duration;

use super::*;

impl Engine {
    /// When live call `id` arrived, on the clock the engine is given.
    pub fn call_arrival(&self, id: &str) -> Option<Duration> {
        self.calls
            .find(id)
            .map(|key| from_nanos(self.calls.arrival_ns(key)))
    }

    /// Where call `id` waits in dispatch order (1 is next), if it waits:
    /// O(priorities) plus O(its place within its priority). The queue log's
    /// `ABANDON` line is the one user, and only for a call hung up while
    /// waiting.
    pub fn queue_position(&self, id: &str) -> Option<usize> {
        let key = self.calls.find(id)?;
        self.calls.is_waiting(key).then(|| self.calls.position(key))
    }

    /// Where waiting call `id` stands if it is the last of its priority, as
    /// a call just queued is: O(priorities). The queue log's original
    /// position.
    pub fn joined_position(&self, id: &str) -> Option<usize> {
        let key = self.calls.find(id)?;
        self.calls
            .is_waiting(key)
            .then(|| self.calls.tail_position(self.calls.priority(key)))
    }

    /// How long the longest-waiting call has waited at `now` (zero when
    /// nobody waits); O(operators), as calls that came back after a
    /// decline are looked at one by one.
    pub fn longest_wait(&self, now: Duration) -> Duration {
        let now = now.max(self.now);
        self.calls
            .oldest_waiting_ns()
            .map_or(Duration::ZERO, |ns| now.saturating_sub(from_nanos(ns)))
    }

    /// The number of operators (logged out ones included).
    pub fn operator_count(&self) -> usize {
        self.operators.len()
    }

    /// The id of the operator at `index` in priority order.
    pub fn operator_id(&self, index: OperatorIndex) -> Option<&str> {
        self.operators.get(index).map(|o| &*o.id)
    }

    /// The index of the operator `id`.
    pub fn operator_position(&self, id: &str) -> Option<OperatorIndex> {
        self.operator_index.get(id).copied()
    }

    /// What the operator at `index` is doing.
    pub fn operator_status(&self, index: OperatorIndex) -> Option<OperatorStatus> {
        let operator = self.operators.get(index)?;
        Some(match operator.activity {
            Activity::Idle => OperatorStatus::Available,
            Activity::Ringing { call, offer } => OperatorStatus::Ringing {
                call: self.calls.shared_id(call),
                offer,
            },
            Activity::OnCall { call } => OperatorStatus::Busy {
                call: self.calls.shared_id(call),
            },
            Activity::WrapUp { wrap_up } => OperatorStatus::WrapUp { wrap_up },
            Activity::LoggedOut => OperatorStatus::LoggedOut,
        })
    }

    /// Whether the operator at `index` is paused (false if there is none).
    pub fn is_paused(&self, index: OperatorIndex) -> bool {
        self.operators.get(index).is_some_and(|o| o.pause.is_some())
    }

    /// The reason of the operator's pause, if it is paused and gave one.
    pub fn pause_reason(&self, index: OperatorIndex) -> Option<Rc<str>> {
        self.operators.get(index)?.pause.clone().flatten()
    }

    /// Where the live call `id` is, or `None` if it is not live.
    pub fn call_status(&self, id: &str) -> Option<CallStatus> {
        let key = self.calls.find(id)?;
        Some(match self.engaged.get(&key) {
            None => CallStatus::Queued,
            Some(Engaged::Ringing(ringers)) => CallStatus::Ringing(ringers.first()?),
            Some(Engaged::Active { operator, .. }) => CallStatus::Active(*operator),
        })
    }

    /// The number of live calls (queued, ringing or active).
    pub fn live_calls(&self) -> usize {
        self.calls.len()
    }

    /// The number of waiting calls.
    pub fn waiting_calls(&self) -> usize {
        self.calls.waiting()
    }

    /// The ids of the waiting calls in dispatch order. O(n): for tests and probes.
    pub fn queued_calls(&self) -> Vec<Rc<str>> {
        self.calls
            .waiting_in_order()
            .map(|key| self.calls.shared_id(key))
            .collect()
    }

    /// The facts of `status` at `now` (SPEC §9.5). O(operators).
    pub fn status(&self, now: Duration) -> StatusSnapshot {
        let now = now.max(self.now);
        let longest_wait = self.longest_wait(now);
        let operators = self
            .operators
            .iter()
            .map(|op| {
                let (state, call) = match op.activity {
                    Activity::Idle => (ActivityName::Idle, None),
                    Activity::Ringing { call, .. } => (ActivityName::Ringing, Some(call)),
                    Activity::OnCall { call } => (ActivityName::OnCall, Some(call)),
                    Activity::WrapUp { .. } => (ActivityName::WrapUp, None),
                    Activity::LoggedOut => (ActivityName::LoggedOut, None),
                };
                OperatorState {
                    id: op.id.to_string(),
                    state,
                    call: call.map(|c| self.calls.id(c).to_string()),
                    paused: op.pause.is_some(),
                    reason: op.pause.clone().flatten().map(|r| r.to_string()),
                    since_s: seconds(now.saturating_sub(op.since)),
                }
            })
            .collect();
        StatusSnapshot {
            waiting: self.calls.waiting(),
            longest_wait_s: seconds(longest_wait),
            strategy: self.config.strategy.name(),
            operators,
            queue: self
                .calls
                .waiting_in_order()
                .take(STATUS_QUEUE_IDS)
                .map(|key| self.calls.id(key).to_string())
                .collect(),
            longest_wait,
        }
    }

    /// The facts of `stats` (SPEC §9.6): counters since start. O(operators).
    pub fn stats(&self) -> StatsSnapshot {
        let operators = self
            .operators
            .iter()
            .map(|op| OperatorStats {
                id: op.id.to_string(),
                answered: op.counters.answered,
                rejected: op.counters.rejected,
                ignored: op.counters.ignored,
                talk_s: seconds(op.counters.talk),
            })
            .collect();
        self.counters.snapshot(self.config.service_level, operators)
    }
}
