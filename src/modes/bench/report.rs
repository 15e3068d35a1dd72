//! What a run measured, and its two renderings: text for people and one
//! JSON object (derived with serde) for scripts.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

use crate::histogram::Histogram;

/// What a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Commands answered (replies received for commands sent).
    pub commands: u64,
    /// Wall time from the first connection to the last reply.
    pub elapsed: Duration,
    /// Replies flagged `"error": true`.
    pub errors: u64,
    /// Replies that were not what the protocol says (wrong text, wrong order).
    pub unexpected: u64,
    /// Calls that waited in the queue instead of ringing.
    pub queued: u64,
    /// Unsolicited event messages received.
    pub events: u64,
    /// Connections that failed or broke.
    pub connection_failures: u64,
    /// Round-trip latency of each command, in nanoseconds.
    pub latency: Histogram,
}

impl Report {
    pub(super) fn new() -> Report {
        Report {
            commands: 0,
            elapsed: Duration::ZERO,
            errors: 0,
            unexpected: 0,
            queued: 0,
            events: 0,
            connection_failures: 0,
            latency: Histogram::new(),
        }
    }

    /// Commands per second.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.commands as f64 / seconds
        } else {
            0.0
        }
    }

    /// Whether every reply was right and every connection held.
    pub fn clean(&self) -> bool {
        self.errors == 0 && self.unexpected == 0 && self.connection_failures == 0
    }

    /// The report as one JSON object (latencies in microseconds), its
    /// fields in a fixed order (`commands` first, `latency_us` last), laid
    /// out `{"key": value, ...}`.
    pub fn to_json(&self) -> String {
        let mut bytes = Vec::new();
        let mut serializer = Serializer::with_formatter(&mut bytes, SpacedFormatter);
        // Numbers and plain field names cannot fail to serialize.
        let _ = JsonReport::from(self).serialize(&mut serializer);
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// The report for people, one figure per line.
    pub fn to_text(&self, heading: &str) -> String {
        let us = |ns: u64| format!("{:.1} µs", ns as f64 / 1000.0);
        let h = &self.latency;
        let mut text = String::new();
        let _ = writeln!(text, "{heading}");
        let _ = writeln!(
            text,
            "commands     {} in {:.2} s: {:.0}/s",
            self.commands,
            self.elapsed.as_secs_f64(),
            self.rate()
        );
        let _ = writeln!(
            text,
            "latency      min {}  p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            us(h.min()),
            us(h.percentile(50.0)),
            us(h.percentile(90.0)),
            us(h.percentile(99.0)),
            us(h.percentile(99.9)),
            us(h.max())
        );
        let _ = writeln!(
            text,
            "errors       {}  unexpected {}  queued {}  events {}  connection failures {}",
            self.errors, self.unexpected, self.queued, self.events, self.connection_failures
        );
        text
    }
}

/// Rounds `value` to `digits` decimals, as the report prints it.
fn rounded(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// The JSON report: its fields, in this order, are what scripts read.
#[derive(Serialize)]
struct JsonReport {
    commands: u64,
    /// Wall time, to the millisecond.
    seconds: f64,
    /// Commands per second, rounded.
    rate: u64,
    errors: u64,
    unexpected: u64,
    queued: u64,
    events: u64,
    connection_failures: u64,
    latency_us: JsonLatency,
}

/// Latency percentiles in microseconds, to a tenth.
#[derive(Serialize)]
struct JsonLatency {
    min: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    p99_9: f64,
    max: f64,
    mean: f64,
}

impl From<&Report> for JsonReport {
    fn from(report: &Report) -> JsonReport {
        let h = &report.latency;
        let us = |ns: f64| rounded(ns / 1000.0, 1);
        JsonReport {
            commands: report.commands,
            seconds: rounded(report.elapsed.as_secs_f64(), 3),
            rate: report.rate().round() as u64,
            errors: report.errors,
            unexpected: report.unexpected,
            queued: report.queued,
            events: report.events,
            connection_failures: report.connection_failures,
            latency_us: JsonLatency {
                min: us(h.min() as f64),
                p50: us(h.percentile(50.0) as f64),
                p90: us(h.percentile(90.0) as f64),
                p99: us(h.percentile(99.0) as f64),
                p99_9: us(h.percentile(99.9) as f64),
                max: us(h.max() as f64),
                mean: us(h.mean()),
            },
        }
    }
}

/// serde_json's compact layout with a space after each `:` and `,`, the
/// report's layout since it was first printed.
struct SpacedFormatter;

impl Formatter for SpacedFormatter {
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_report_keeps_its_fields_order_and_layout() {
        let mut report = Report::new();
        report.commands = 3;
        report.elapsed = Duration::from_millis(1500);
        report.unexpected = 1;
        report.latency.record(2_000);
        let json = report.to_json();
        let (counts, latency) = json.split_once("\"latency_us\": ").expect("latency");
        assert_eq!(
            counts,
            "{\"commands\": 3, \"seconds\": 1.5, \"rate\": 2, \"errors\": 0, \
             \"unexpected\": 1, \"queued\": 0, \"events\": 0, \"connection_failures\": 0, "
        );
        let keys: Vec<&str> = latency.split('"').skip(1).step_by(2).collect();
        assert_eq!(keys, ["min", "p50", "p90", "p99", "p99_9", "max", "mean"]);
        assert!(
            latency.starts_with("{\"min\": ") && json.ends_with("}}"),
            "{json}"
        );
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let p50 = value["latency_us"]["p50"].as_f64().expect("a number");
        assert!((1.9..=2.1).contains(&p50), "{json}");
    }
}
