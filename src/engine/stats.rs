//! Counters since start (SPEC §9.6) and the snapshots `status` and `stats`
//! report (SPEC §9.5, §9.7).
//!
//! The snapshots are plain data with `serde::Serialize`, their field names
//! those of the JSON on the wire; the texts are rendered from them by
//! `messages`. Seconds are `f64` rounded to one decimal, the precision the
//! texts show, so the JSON and the text never disagree past it.

use std::time::Duration;

use serde::{Serialize, Serializer};

/// Counters of the whole queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct QueueCounters {
    pub(crate) received: u64,
    pub(crate) answered: u64,
    pub(crate) finished: u64,
    pub(crate) missed: u64,
    pub(crate) rejected: u64,
    pub(crate) ignored: u64,
    /// Sum and maximum of received-to-answered waits.
    pub(crate) wait_total: Duration,
    pub(crate) wait_max: Duration,
    /// Answered within the service-level threshold.
    pub(crate) answered_in_time: u64,
}

impl QueueCounters {
    /// Counts an answer after `wait`.
    pub(crate) fn answered(&mut self, wait: Duration, threshold: Duration) {
        self.answered += 1;
        self.wait_total += wait;
        self.wait_max = self.wait_max.max(wait);
        if wait <= threshold {
            self.answered_in_time += 1;
        }
    }
}

/// Counters of one operator.
#[derive(Clone, Debug, Default)]
pub(crate) struct OperatorCounters {
    pub(crate) answered: u64,
    pub(crate) rejected: u64,
    pub(crate) ignored: u64,
    /// Total length of its finished calls.
    pub(crate) talk: Duration,
}

/// Seconds rounded to one decimal, as every text and JSON figure shows them.
pub(crate) fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 10.0).round() / 10.0
}

/// What an operator is doing, as `status` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityName {
    /// Logged in and free (possibly paused).
    Idle,
    /// A call is ringing for it.
    Ringing,
    /// On an answered call.
    OnCall,
    /// After a call, for `--wrap-up` seconds.
    WrapUp,
    /// Out of distribution until it logs in.
    LoggedOut,
}

/// One operator in a [`StatusSnapshot`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorState {
    /// The operator's id.
    pub id: String,
    /// What it is doing.
    pub state: ActivityName,
    /// The call ringing for it or answered by it.
    pub call: Option<String>,
    /// Whether it is paused (orthogonal to `state`).
    pub paused: bool,
    /// The pause's reason, if it gave one.
    pub reason: Option<String>,
    /// Seconds in `state`, one decimal.
    pub since_s: f64,
}

/// The facts of `status` (SPEC §9.5), as `"status"` on the wire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusSnapshot {
    /// Calls waiting in the queue.
    pub waiting: usize,
    /// Seconds the longest-waiting call has waited (0 when none), one decimal.
    pub longest_wait_s: f64,
    /// The strategy's name.
    pub strategy: &'static str,
    /// Every operator, in priority order.
    pub operators: Vec<OperatorState>,
    /// The first [`STATUS_QUEUE_IDS`] waiting ids, in dispatch order; the
    /// rest are `waiting - queue.len()`.
    pub queue: Vec<String>,
    /// Exact longest wait, for the text's whole seconds (rounded down, which
    /// `longest_wait_s`'s rounding to a decimal could push up).
    #[serde(skip)]
    pub longest_wait: Duration,
}

/// How many waiting ids `status` lists.
pub const STATUS_QUEUE_IDS: usize = 10;

/// The service level of `stats`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceLevel {
    /// The threshold (`--service-level`), in seconds.
    #[serde(serialize_with = "whole_or_decimal")]
    pub seconds: f64,
    /// Percent of answered-or-missed calls answered within it, one decimal;
    /// `None` (`null`, text `n/a`) before any call was answered or missed.
    pub percent: Option<f64>,
}

/// One operator in a [`StatsSnapshot`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OperatorStats {
    /// The operator's id.
    pub id: String,
    /// Calls it answered.
    pub answered: u64,
    /// Rings it rejected.
    pub rejected: u64,
    /// Rings it let time out.
    pub ignored: u64,
    /// Seconds of its finished calls, one decimal.
    pub talk_s: f64,
}

/// The facts of `stats` (SPEC §9.6), as `"stats"` on the wire.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// Calls received.
    pub received: u64,
    /// Calls answered.
    pub answered: u64,
    /// Answered calls that ended.
    pub finished: u64,
    /// Calls that ended unanswered (ringing or waiting).
    pub missed: u64,
    /// Rings rejected.
    pub rejected: u64,
    /// Rings that timed out.
    pub ignored: u64,
    /// Average received-to-answered wait over answered calls (0 when none).
    pub wait_avg_s: f64,
    /// Longest such wait (0 when none).
    pub wait_max_s: f64,
    /// Share answered within the threshold.
    pub service_level: ServiceLevel,
    /// Every operator, in priority order.
    pub operators: Vec<OperatorStats>,
}

/// `20` for a whole number of seconds (as SPEC §9.7 shows it), `20.5` otherwise.
fn whole_or_decimal<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && *value >= 0.0 && *value < u64::MAX as f64 {
        serializer.serialize_u64(*value as u64)
    } else {
        serializer.serialize_f64(*value)
    }
}

impl QueueCounters {
    /// The queue-wide part of a stats snapshot.
    pub(crate) fn snapshot(
        &self,
        threshold: Duration,
        operators: Vec<OperatorStats>,
    ) -> StatsSnapshot {
        let average = match self.answered {
            0 => Duration::ZERO,
            n => self.wait_total.div_f64(n as f64),
        };
        let judged = self.answered + self.missed;
        let percent = (judged > 0).then(|| {
            let share = self.answered_in_time as f64 * 100.0 / judged as f64;
            (share * 10.0).round() / 10.0
        });
        StatsSnapshot {
            received: self.received,
            answered: self.answered,
            finished: self.finished,
            missed: self.missed,
            rejected: self.rejected,
            ignored: self.ignored,
            wait_avg_s: seconds(average),
            wait_max_s: seconds(self.wait_max),
            service_level: ServiceLevel {
                seconds: (threshold.as_secs_f64() * 1000.0).round() / 1000.0,
                percent,
            },
            operators,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_serialize_with_the_wire_names() {
        let mut counters = QueueCounters {
            received: 2,
            ..QueueCounters::default()
        };
        counters.answered(Duration::from_millis(2500), Duration::from_secs(20));
        counters.missed = 1;
        let snapshot = counters.snapshot(
            Duration::from_secs(20),
            vec![OperatorStats {
                id: "A".into(),
                answered: 1,
                rejected: 0,
                ignored: 0,
                talk_s: 41.2,
            }],
        );
        assert_eq!(
            serde_json::to_string(&snapshot).unwrap(),
            r#"{"received":2,"answered":1,"finished":0,"missed":1,"rejected":0,"ignored":0,"wait_avg_s":2.5,"wait_max_s":2.5,"service_level":{"seconds":20,"percent":50.0},"operators":[{"id":"A","answered":1,"rejected":0,"ignored":0,"talk_s":41.2}]}"#
        );
    }

    #[test]
    fn activity_names_are_kebab_case() {
        let names = [
            ActivityName::Idle,
            ActivityName::Ringing,
            ActivityName::OnCall,
            ActivityName::WrapUp,
            ActivityName::LoggedOut,
        ]
        .map(|a| serde_json::to_string(&a).unwrap());
        assert_eq!(
            names,
            [
                "\"idle\"",
                "\"ringing\"",
                "\"on-call\"",
                "\"wrap-up\"",
                "\"logged-out\""
            ]
        );
    }
}
