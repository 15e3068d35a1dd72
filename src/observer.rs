//! What the queue service records about its events for observability
//! (SPEC §10): the counters and histograms of `/metrics`, each call's
//! times, and the Asterisk-format queue log.
//!
//! The service hands every engine [`Event`] to [`Observer::event`] as it
//! happens, with the reactor clock's time: no engine change, and the engine
//! keeps no clock. Pure bookkeeping; the only I/O is the optional
//! [`QueueLogWriter`], flushed by the service once per loop turn.

use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::engine::{Engine, Event, OperatorStatus};
use crate::queue_log::{NONE, QueueLogEvent, QueueLogWriter, UniqueIds};
use crate::web::metrics::{Histogram, MetricsSnapshot, OperatorCounts, render};

/// The queue log and what its lines need beyond the event.
pub struct QueueLog {
    /// The file.
    pub writer: QueueLogWriter,
    /// `--queue-name`.
    pub queue: String,
    /// Uniqueids for calls and for operators' legs.
    pub ids: UniqueIds,
    /// What the log's lines need of each live call (only kept with a log:
    /// without one a waiting call costs the engine's bytes alone).
    calls: HashMap<Rc<str>, CallRecord>,
}

impl QueueLog {
    /// A log on `writer` for the queue `queue`, its uniqueids prefixed by
    /// the current epoch second; writes `QUEUESTART`.
    pub fn start(writer: QueueLogWriter, queue: String) -> QueueLog {
        let epoch = epoch_now();
        let mut log = QueueLog {
            writer,
            queue,
            ids: UniqueIds::new(epoch),
            calls: HashMap::new(),
        };
        log.push(NONE, &QueueLogEvent::QueueStart);
        log
    }

    fn push(&mut self, uniqueid: &str, event: &QueueLogEvent<'_>) {
        self.writer.push(epoch_now(), uniqueid, &self.queue, event);
    }

    /// Writes the line(s) of `event`, which happened at `now` by the
    /// reactor's clock, in `engine` (already past the command);
    /// `position_at_hangup` is where a call hung up while waiting stood.
    fn event(&mut self, event: &Event, now: Duration, engine: &Engine, position_at_hangup: u64) {
        match event {
            Event::Received { call } => {
                let uniqueid = self.ids.next_id();
                self.push(&uniqueid, &QueueLogEvent::EnterQueue { call_id: call });
                self.calls.insert(
                    call.clone(),
                    CallRecord {
                        uniqueid,
                        received: now,
                        ring_started: None,
                        answered: None,
                        orig_position: None,
                    },
                );
            }
            Event::Ringing { call, .. } => {
                if let Some(record) = self.calls.get_mut(call) {
                    record.ring_started = Some(now);
                    record.orig_position.get_or_insert(1);
                }
            }
            Event::Queued { call } => {
                if let Some(record) = self.calls.get_mut(call) {
                    // A new call joins the tail of its priority: behind
                    // every call of that priority or above.
                    let position = engine.joined_position(call).unwrap_or(1);
                    record.orig_position.get_or_insert(position as u64);
                }
            }
            Event::Answered { call, operator } => {
                let Some(record) = self.calls.get_mut(call) else {
                    return;
                };
                record.answered = Some(now);
                let hold = now.saturating_sub(record.received);
                let ring = now.saturating_sub(record.ring_started.unwrap_or(now));
                let bridged = self.ids.next_id();
                let line = QueueLogEvent::Connect {
                    agent: operator,
                    hold_secs: hold.as_secs(),
                    bridged_uniqueid: &bridged,
                    ring_secs: ring.as_secs(),
                };
                self.writer
                    .push(epoch_now(), &record.uniqueid, &self.queue, &line);
            }
            Event::Rejected { call, operator } | Event::Ignored { call, operator } => {
                let Some(record) = self.calls.get_mut(call) else {
                    return;
                };
                let ring = now.saturating_sub(record.ring_started.take().unwrap_or(now));
                let line = QueueLogEvent::RingNoAnswer {
                    agent: operator,
                    ring_millis: ring.as_millis() as u64,
                };
                self.writer
                    .push(epoch_now(), &record.uniqueid, &self.queue, &line);
            }
            Event::Finished { call, operator }
            | Event::FinishedIntoWrapUp { call, operator }
            | Event::FinishedPaused { call, operator } => {
                let Some(record) = self.calls.remove(call) else {
                    return;
                };
                let answered = record.answered.unwrap_or(now);
                let line = QueueLogEvent::CompleteCaller {
                    agent: operator,
                    hold_secs: answered.saturating_sub(record.received).as_secs(),
                    call_secs: now.saturating_sub(answered).as_secs(),
                    orig_position: record.orig_position.unwrap_or(1),
                };
                self.push(&record.uniqueid, &line);
            }
            Event::Missed { call } => {
                let Some(record) = self.calls.remove(call) else {
                    return;
                };
                let line = QueueLogEvent::Abandon {
                    position: position_at_hangup.max(1),
                    orig_position: record.orig_position.unwrap_or(1),
                    wait_secs: now.saturating_sub(record.received).as_secs(),
                };
                self.push(&record.uniqueid, &line);
            }
            Event::Paused { operator, reason } => self.push(
                NONE,
                &QueueLogEvent::Pause {
                    agent: operator,
                    reason: reason.as_deref(),
                },
            ),
            Event::AutoPaused { operator, .. } => self.push(
                NONE,
                &QueueLogEvent::Pause {
                    agent: operator,
                    reason: Some(crate::engine::NO_ANSWER_REASON),
                },
            ),
            Event::Unpaused { operator } => {
                self.push(NONE, &QueueLogEvent::Unpause { agent: operator })
            }
            Event::LoggedIn { operator } => {
                self.push(NONE, &QueueLogEvent::AddMember { agent: operator })
            }
            Event::LoggedOut { operator } => {
                self.push(NONE, &QueueLogEvent::RemoveMember { agent: operator })
            }
            // The end of a wrap-up has no queue_log event in Asterisk.
            Event::Available { .. } => {}
        }
    }
}

/// Seconds since the Unix epoch by the wall clock (the queue log's
/// timestamps; durations come from the reactor's clock).
fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// One live call's times, as the reactor clock saw them, for its queue-log
/// lines.
struct CallRecord {
    /// Its queue-log uniqueid.
    uniqueid: String,
    received: Duration,
    /// When its current ring started.
    ring_started: Option<Duration>,
    answered: Option<Duration>,
    /// Its position when received (1 = rung at once).
    orig_position: Option<u64>,
}

/// Histograms, command counts, call times and the queue log. The call and
/// ring counters are the engine's own (its stats snapshot), not kept twice.
pub struct Observer {
    commands_ok: u64,
    commands_error: u64,
    wait: Histogram,
    talk: Histogram,
    /// When each call now on a call was answered (at most one per
    /// operator), for the talk-time histogram.
    answered_at: HashMap<Rc<str>, Duration>,
    /// Whether calls are timed for the histograms (only when `/metrics`
    /// can show them: with `--http`).
    timing: bool,
    /// Where the call being hung up stood, noted before the command runs.
    position_at_hangup: u64,
    log: Option<QueueLog>,
}

impl Observer {
    /// An observer with nothing counted, writing `log` if given.
    pub fn new(log: Option<QueueLog>) -> Observer {
        Observer {
            commands_ok: 0,
            commands_error: 0,
            wait: Histogram::wait(),
            talk: Histogram::talk(),
            answered_at: HashMap::new(),
            timing: false,
            position_at_hangup: 0,
            log,
        }
    }

    /// Writes `log` from now on; what was counted so far stays.
    pub fn set_log(&mut self, log: QueueLog) {
        self.log = Some(log);
    }

    /// Times calls from now on for the wait and talk histograms. Off until
    /// asked: without `/metrics` nobody reads them, and each answer and end
    /// of call would pay for a lookup.
    pub fn time_calls(&mut self) {
        self.timing = true;
    }

    /// Counts one command by its outcome.
    pub fn command(&mut self, ok: bool) {
        if ok {
            self.commands_ok += 1;
        } else {
            self.commands_error += 1;
        }
    }

    /// The queue log, if there is one.
    pub fn log_mut(&mut self) -> Option<&mut QueueLog> {
        self.log.as_mut()
    }

    /// Before `hangup id` runs: notes where the call stands (1 when ringing
    /// or at the head), for `ABANDON`. O(the call's position in the queue),
    /// so only with a log.
    pub fn before_hangup(&mut self, engine: &Engine, id: &str) {
        use crate::engine::CallStatus;
        if self.log.is_none() {
            return;
        }
        self.position_at_hangup = match engine.call_status(id) {
            Some(CallStatus::Queued) => engine
                .queue_position(id)
                .map_or(0, |position| position as u64),
            Some(CallStatus::Ringing(_)) => 1,
            _ => 0,
        };
    }

    /// Records `event`, which happened at `now` by the reactor's clock, in
    /// `engine` (already past the command that caused it).
    pub fn event(&mut self, event: &Event, now: Duration, engine: &Engine) {
        if let Some(log) = &mut self.log {
            log.event(event, now, engine, self.position_at_hangup);
        }
        if !self.timing {
            return;
        }
        match event {
            Event::Answered { call, .. } => {
                // The engine keeps each live call's arrival: no copy here.
                let received = engine.call_arrival(call).unwrap_or(now);
                self.wait
                    .observe(now.saturating_sub(received).as_secs_f64());
                self.answered_at.insert(call.clone(), now);
            }
            Event::Finished { call, .. }
            | Event::FinishedIntoWrapUp { call, .. }
            | Event::FinishedPaused { call, .. } => {
                if let Some(answered) = self.answered_at.remove(call) {
                    self.talk
                        .observe(now.saturating_sub(answered).as_secs_f64());
                }
            }
            _ => {}
        }
    }

    /// The `/metrics` text at `now`, with `clients_connected` open connections.
    pub fn metrics(&self, engine: &Engine, now: Duration, clients_connected: u64) -> String {
        let mut operators = OperatorCounts::default();
        for index in 0..engine.operator_count() {
            // A paused operator counts as paused unless it is ringing or on
            // a call, so the states add up to the number of operators.
            match engine.operator_status(index) {
                Some(OperatorStatus::Ringing { .. }) => operators.ringing += 1,
                Some(OperatorStatus::Busy { .. }) => operators.on_call += 1,
                Some(OperatorStatus::LoggedOut) => operators.logged_out += 1,
                Some(_) if engine.is_paused(index) => operators.paused += 1,
                Some(OperatorStatus::Available) => operators.idle += 1,
                Some(OperatorStatus::WrapUp { .. }) => operators.wrap_up += 1,
                None => {}
            }
        }
        let stats = engine.stats();
        render(&MetricsSnapshot {
            calls_received: stats.received,
            calls_answered: stats.answered,
            calls_finished: stats.finished,
            calls_missed: stats.missed,
            rings_rejected: stats.rejected,
            rings_ignored: stats.ignored,
            queue_waiting: engine.waiting_calls() as u64,
            queue_longest_wait_seconds: engine.longest_wait(now).as_secs_f64(),
            operators,
            wait_seconds: &self.wait,
            talk_seconds: &self.talk,
            clients_connected,
            commands_ok: self.commands_ok,
            commands_error: self.commands_error,
            queue_log_write_errors: self.log.as_ref().map_or(0, |log| log.writer.write_errors()),
        })
    }
}
