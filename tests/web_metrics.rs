//! `/metrics` parsed by a real Prometheus parser: Python's `prometheus_client`
//! (installed by `.ci/run`), which rejects what the exposition format forbids.

mod support;

use callcenter::web::metrics::{Histogram, MetricsSnapshot, OperatorCounts, render};

/// Parses `text` with `prometheus_client.parser` and prints every sample as
/// `family|type|name|labels as k=v,...|value`, sorted labels, one a line.
const PARSE: &str = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
        print(f"{family.name}|{family.type}|{sample.name}|{labels}|{float(sample.value)!r}")
"#;

fn parse_with_prometheus_client(text: &str) -> Vec<String> {
    support::python::python_lines(PARSE, text)
}

#[test]
fn every_family_parses_and_round_trips() {
    let mut wait = Histogram::wait();
    for seconds in [0.4, 3.0, 25.0, 700.0] {
        wait.observe(seconds);
    }
    let mut talk = Histogram::talk();
    talk.observe(41.25);
    let snapshot = MetricsSnapshot {
        calls_received: 7,
        calls_answered: 4,
        calls_finished: 3,
        calls_missed: 2,
        rings_rejected: 1,
        rings_ignored: 0,
        queue_waiting: 2,
        queue_longest_wait_seconds: 35.5,
        operators: OperatorCounts {
            idle: 1,
            ringing: 1,
            on_call: 2,
            wrap_up: 0,
            paused: 1,
            logged_out: 3,
        },
        wait_seconds: &wait,
        talk_seconds: &talk,
        clients_connected: 5,
        commands_ok: 20,
        commands_error: 3,
        queue_log_write_errors: 1,
    };
    let text = render(&snapshot);
    let samples = parse_with_prometheus_client(&text);
    let expected = [
        "callcenter_calls|counter|callcenter_calls_total|event=received|7.0",
        "callcenter_calls|counter|callcenter_calls_total|event=answered|4.0",
        "callcenter_calls|counter|callcenter_calls_total|event=finished|3.0",
        "callcenter_calls|counter|callcenter_calls_total|event=missed|2.0",
        "callcenter_rings|counter|callcenter_rings_total|result=rejected|1.0",
        "callcenter_rings|counter|callcenter_rings_total|result=ignored|0.0",
        "callcenter_queue_waiting|gauge|callcenter_queue_waiting||2.0",
        "callcenter_queue_longest_wait_seconds|gauge|callcenter_queue_longest_wait_seconds||35.5",
        "callcenter_operators|gauge|callcenter_operators|state=idle|1.0",
        "callcenter_operators|gauge|callcenter_operators|state=ringing|1.0",
        "callcenter_operators|gauge|callcenter_operators|state=on-call|2.0",
        "callcenter_operators|gauge|callcenter_operators|state=wrap-up|0.0",
        "callcenter_operators|gauge|callcenter_operators|state=paused|1.0",
        "callcenter_operators|gauge|callcenter_operators|state=logged-out|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=1|1.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=2|1.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=5|2.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=10|2.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=20|2.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=30|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=60|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=120|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=300|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=600|3.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_bucket|le=+Inf|4.0",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_sum||728.4",
        "callcenter_wait_seconds|histogram|callcenter_wait_seconds_count||4.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=10|0.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=30|0.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=60|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=120|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=300|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=600|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=1200|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=1800|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=3600|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_bucket|le=+Inf|1.0",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_sum||41.25",
        "callcenter_talk_seconds|histogram|callcenter_talk_seconds_count||1.0",
        "callcenter_clients_connected|gauge|callcenter_clients_connected||5.0",
        "callcenter_commands|counter|callcenter_commands_total|result=ok|20.0",
        "callcenter_commands|counter|callcenter_commands_total|result=error|3.0",
        "callcenter_queue_log_write_errors|counter|callcenter_queue_log_write_errors_total||1.0",
    ];
    assert_eq!(samples, expected, "rendered:\n{text}");
}

#[test]
fn an_empty_queue_parses_too() {
    let wait = Histogram::wait();
    let talk = Histogram::talk();
    let snapshot = MetricsSnapshot {
        calls_received: 0,
        calls_answered: 0,
        calls_finished: 0,
        calls_missed: 0,
        rings_rejected: 0,
        rings_ignored: 0,
        queue_waiting: 0,
        queue_longest_wait_seconds: 0.0,
        operators: OperatorCounts::default(),
        wait_seconds: &wait,
        talk_seconds: &talk,
        clients_connected: 0,
        commands_ok: 0,
        commands_error: 0,
        queue_log_write_errors: 0,
    };
    let samples = parse_with_prometheus_client(&render(&snapshot));
    assert_eq!(samples.len(), 43);
    assert!(samples.contains(
        &"callcenter_wait_seconds|histogram|callcenter_wait_seconds_count||0.0".to_string()
    ));
}
