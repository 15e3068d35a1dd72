//! `GET /metrics`: the queue in Prometheus text exposition format 0.0.4.
//!
//! The service fills a plain [`MetricsSnapshot`] (counters it keeps, gauges
//! read from the engine, two [`Histogram`]s it feeds as calls are answered
//! and finished) and [`render`] writes the text. Names follow Prometheus's
//! rules: a `callcenter_` prefix, base units (`_seconds`), `_total` on
//! counters, one `# HELP` and one `# TYPE` per family.

use std::fmt::Write as _;

/// Upper bounds (seconds) of the wait-time buckets: from "answered at once"
/// to ten minutes, dense around the usual 20 s service-level threshold.
pub const WAIT_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// Upper bounds (seconds) of the talk-time buckets: ten seconds to an hour.
pub const TALK_BUCKETS: &[f64] = &[
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

/// A Prometheus histogram of seconds: counts per bucket, their sum and count.
/// Fixed memory: one counter per bound plus one for `+Inf`.
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Upper bounds of the finite buckets, ascending.
    bounds: &'static [f64],
    /// Observations per bucket, not cumulative; the last one is above every bound.
    counts: Vec<u64>,
    /// The sum of every observation.
    sum: f64,
    /// How many observations.
    count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending, finite).
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// An empty histogram with the [`WAIT_BUCKETS`].
    pub fn wait() -> Self {
        Self::new(WAIT_BUCKETS)
    }

    /// An empty histogram with the [`TALK_BUCKETS`].
    pub fn talk() -> Self {
        Self::new(TALK_BUCKETS)
    }

    /// Records one observation in seconds; a negative or non-finite value
    /// (a clock gone backwards) counts as 0 rather than poisoning the sum.
    pub fn observe(&mut self, seconds: f64) {
        let seconds = if seconds.is_finite() && seconds > 0.0 {
            seconds
        } else {
            0.0
        };
        let bucket = self.bounds.partition_point(|bound| *bound < seconds);
        self.counts[bucket] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// The cumulative buckets as Prometheus sees them: `(le, count of
    /// observations <= le)`, ending with `(+Inf, count)`.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut running = 0;
        let mut buckets = Vec::with_capacity(self.counts.len());
        for (index, count) in self.counts.iter().enumerate() {
            running += count;
            let bound = self.bounds.get(index).copied().unwrap_or(f64::INFINITY);
            buckets.push((bound, running));
        }
        buckets
    }

    /// The sum of the observations, in seconds.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }
}

/// Operators by what the wallboard shows for them (`callcenter_operators{state}`).
/// Each logged-in or logged-out operator counts once: a paused operator counts
/// as `paused` unless it is ringing or on a call (then under that activity),
/// so the values add up to the number of operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperatorCounts {
    /// Dispatchable: logged in, idle, not paused.
    pub idle: u64,
    /// A call is offered to it.
    pub ringing: u64,
    /// On an answered call.
    pub on_call: u64,
    /// In wrap-up after a call, not paused.
    pub wrap_up: u64,
    /// Paused and neither ringing nor on a call.
    pub paused: u64,
    /// Logged out.
    pub logged_out: u64,
}

/// Everything `/metrics` shows, gathered by the service at request time.
#[derive(Debug, Clone, Copy)]
pub struct MetricsSnapshot<'a> {
    /// Calls received since start.
    pub calls_received: u64,
    /// Calls answered since start.
    pub calls_answered: u64,
    /// Calls finished since start.
    pub calls_finished: u64,
    /// Calls missed (hung up before an answer) since start.
    pub calls_missed: u64,
    /// Rings rejected since start.
    pub rings_rejected: u64,
    /// Rings ignored (timed out) since start.
    pub rings_ignored: u64,
    /// Calls waiting now.
    pub queue_waiting: u64,
    /// How long the head of the queue has waited, seconds (0 when empty).
    pub queue_longest_wait_seconds: f64,
    /// Operators by state now.
    pub operators: OperatorCounts,
    /// Wait (received to answered) of every answered call.
    pub wait_seconds: &'a Histogram,
    /// Talk (answered to finished) of every finished call.
    pub talk_seconds: &'a Histogram,
    /// TCP and HTTP connections open now.
    pub clients_connected: u64,
    /// Commands that succeeded since start.
    pub commands_ok: u64,
    /// Commands answered with an error since start.
    pub commands_error: u64,
    /// Queue-log writes that failed since start.
    pub queue_log_write_errors: u64,
}

/// Formats a sample value as Prometheus reads it (`+Inf`, `-Inf`, `NaN`).
fn value(number: f64) -> String {
    if number.is_nan() {
        "NaN".to_string()
    } else if number == f64::INFINITY {
        "+Inf".to_string()
    } else if number == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{number}")
    }
}

/// Writes a family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes one histogram family.
fn histogram(out: &mut String, name: &str, help: &str, data: &Histogram) {
    family(out, name, "histogram", help);
    for (bound, count) in data.cumulative() {
        let _ = writeln!(out, "{name}_bucket{{le=\"{}\"}} {count}", value(bound));
    }
    let _ = writeln!(out, "{name}_sum {}", value(data.sum()));
    let _ = writeln!(out, "{name}_count {}", data.count());
}

/// The whole `/metrics` body for `snapshot`.
pub fn render(snapshot: &MetricsSnapshot<'_>) -> String {
    let mut out = String::with_capacity(4096);
    let name = "callcenter_calls_total";
    family(
        &mut out,
        name,
        "counter",
        "Calls by what happened to them since start.",
    );
    for (event, count) in [
        ("received", snapshot.calls_received),
        ("answered", snapshot.calls_answered),
        ("finished", snapshot.calls_finished),
        ("missed", snapshot.calls_missed),
    ] {
        let _ = writeln!(out, "{name}{{event=\"{event}\"}} {count}");
    }
    let name = "callcenter_rings_total";
    family(
        &mut out,
        name,
        "counter",
        "Rings that did not end in an answer, by result.",
    );
    for (result, count) in [
        ("rejected", snapshot.rings_rejected),
        ("ignored", snapshot.rings_ignored),
    ] {
        let _ = writeln!(out, "{name}{{result=\"{result}\"}} {count}");
    }
    let name = "callcenter_queue_waiting";
    family(&mut out, name, "gauge", "Calls waiting in the queue.");
    let _ = writeln!(out, "{name} {}", snapshot.queue_waiting);
    let name = "callcenter_queue_longest_wait_seconds";
    family(
        &mut out,
        name,
        "gauge",
        "How long the call at the head of the queue has waited.",
    );
    let _ = writeln!(out, "{name} {}", value(snapshot.queue_longest_wait_seconds));
    let name = "callcenter_operators";
    family(&mut out, name, "gauge", "Operators by state.");
    let counts = snapshot.operators;
    for (state, count) in [
        ("idle", counts.idle),
        ("ringing", counts.ringing),
        ("on-call", counts.on_call),
        ("wrap-up", counts.wrap_up),
        ("paused", counts.paused),
        ("logged-out", counts.logged_out),
    ] {
        let _ = writeln!(out, "{name}{{state=\"{state}\"}} {count}");
    }
    histogram(
        &mut out,
        "callcenter_wait_seconds",
        "Time from received to answered of answered calls.",
        snapshot.wait_seconds,
    );
    histogram(
        &mut out,
        "callcenter_talk_seconds",
        "Time from answered to finished of finished calls.",
        snapshot.talk_seconds,
    );
    let name = "callcenter_clients_connected";
    family(
        &mut out,
        name,
        "gauge",
        "Open client connections, TCP and HTTP.",
    );
    let _ = writeln!(out, "{name} {}", snapshot.clients_connected);
    let name = "callcenter_commands_total";
    family(&mut out, name, "counter", "Commands handled, by result.");
    let _ = writeln!(out, "{name}{{result=\"ok\"}} {}", snapshot.commands_ok);
    let _ = writeln!(
        out,
        "{name}{{result=\"error\"}} {}",
        snapshot.commands_error
    );
    let name = "callcenter_queue_log_write_errors_total";
    family(&mut out, name, "counter", "Queue log writes that failed.");
    let _ = writeln!(out, "{name} {}", snapshot.queue_log_write_errors);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_inf() {
        let mut data = Histogram::new(&[1.0, 5.0]);
        for seconds in [0.5, 1.0, 3.0, 9.0, -2.0, f64::NAN] {
            data.observe(seconds);
        }
        assert_eq!(
            data.cumulative(),
            vec![(1.0, 4), (5.0, 5), (f64::INFINITY, 6)]
        );
        assert_eq!(data.count(), 6);
        assert_eq!(data.sum(), 13.5);
        let mut out = String::new();
        histogram(&mut out, "x_seconds", "Help.", &data);
        assert_eq!(
            out,
            "# HELP x_seconds Help.\n# TYPE x_seconds histogram\n\
             x_seconds_bucket{le=\"1\"} 4\nx_seconds_bucket{le=\"5\"} 5\n\
             x_seconds_bucket{le=\"+Inf\"} 6\nx_seconds_sum 13.5\nx_seconds_count 6\n"
        );
    }

    #[test]
    fn values_use_prometheus_spellings() {
        assert_eq!(value(2.5), "2.5");
        assert_eq!(value(3.0), "3");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(value(f64::NAN), "NaN");
    }
}
