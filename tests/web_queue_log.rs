//! The queue log: each event's line, appends, reopen after logrotate's
//! rename, and a failing disk counted and logged once.

use callcenter::queue_log::{NONE, QueueLogEvent, QueueLogWriter, UniqueIds, format_line};
use std::sync::Mutex;

fn line(uniqueid: &str, event: QueueLogEvent<'_>) -> String {
    let mut out = String::new();
    format_line(&mut out, 1_700_000_000, uniqueid, "callcenter", &event);
    out
}

#[test]
fn every_event_has_asterisks_fields() {
    let cases = [
        (
            line(NONE, QueueLogEvent::QueueStart),
            "1700000000|NONE|NONE|NONE|QUEUESTART|\n",
        ),
        (
            line("1699999990.1", QueueLogEvent::EnterQueue { call_id: "42" }),
            "1700000000|1699999990.1|callcenter|NONE|ENTERQUEUE||42\n",
        ),
        (
            line(
                "1699999990.1",
                QueueLogEvent::Connect {
                    agent: "A",
                    hold_secs: 12,
                    bridged_uniqueid: "1699999990.2",
                    ring_secs: 3,
                },
            ),
            "1700000000|1699999990.1|callcenter|A|CONNECT|12|1699999990.2|3\n",
        ),
        (
            line(
                "1699999990.1",
                QueueLogEvent::RingNoAnswer {
                    agent: "B",
                    ring_millis: 15000,
                },
            ),
            "1700000000|1699999990.1|callcenter|B|RINGNOANSWER|15000\n",
        ),
        (
            line(
                "1699999990.1",
                QueueLogEvent::CompleteCaller {
                    agent: "A",
                    hold_secs: 12,
                    call_secs: 41,
                    orig_position: 2,
                },
            ),
            "1700000000|1699999990.1|callcenter|A|COMPLETECALLER|12|41|2\n",
        ),
        (
            line(
                "1699999990.3",
                QueueLogEvent::Abandon {
                    position: 1,
                    orig_position: 3,
                    wait_secs: 9,
                },
            ),
            "1700000000|1699999990.3|callcenter|NONE|ABANDON|1|3|9\n",
        ),
        (
            line(
                NONE,
                QueueLogEvent::Pause {
                    agent: "C",
                    reason: Some("lunch"),
                },
            ),
            "1700000000|NONE|callcenter|C|PAUSE|lunch\n",
        ),
        (
            line(
                NONE,
                QueueLogEvent::Pause {
                    agent: "C",
                    reason: None,
                },
            ),
            "1700000000|NONE|callcenter|C|PAUSE|\n",
        ),
        (
            line(NONE, QueueLogEvent::Unpause { agent: "C" }),
            "1700000000|NONE|callcenter|C|UNPAUSE|\n",
        ),
        (
            line(NONE, QueueLogEvent::AddMember { agent: "D" }),
            "1700000000|NONE|callcenter|D|ADDMEMBER|\n",
        ),
        (
            line(NONE, QueueLogEvent::RemoveMember { agent: "D" }),
            "1700000000|NONE|callcenter|D|REMOVEMEMBER|\n",
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
    }
}

#[test]
fn ids_cannot_break_a_line_apart() {
    assert_eq!(
        line("1.1", QueueLogEvent::EnterQueue { call_id: "a|b\nc" }),
        "1700000000|1.1|callcenter|NONE|ENTERQUEUE||a_b_c\n"
    );
}

#[test]
fn unique_ids_start_with_the_start_epoch_and_count() {
    let mut ids = UniqueIds::new(1_700_000_000);
    assert_eq!(ids.next_id(), "1700000000.1");
    assert_eq!(ids.next_id(), "1700000000.2");
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("callcenter-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn lines_are_appended_at_flush_and_reopen_follows_a_rename() {
    let dir = temp_dir("queue-log-rotate");
    let path = dir.join("queue_log");
    std::fs::write(&path, "earlier line\n").unwrap();
    let mut log = QueueLogWriter::open(&path).unwrap();
    log.push(1, NONE, "q", &QueueLogEvent::QueueStart);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "earlier line\n",
        "buffered until flush"
    );
    log.flush();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "earlier line\n1|NONE|NONE|NONE|QUEUESTART|\n"
    );

    // logrotate: rename, then SIGHUP.
    let rotated = dir.join("queue_log.1");
    std::fs::rename(&path, &rotated).unwrap();
    log.push(2, NONE, "q", &QueueLogEvent::AddMember { agent: "A" });
    log.reopen();
    log.push(3, NONE, "q", &QueueLogEvent::RemoveMember { agent: "A" });
    log.flush();
    assert_eq!(
        std::fs::read_to_string(&rotated).unwrap(),
        "earlier line\n1|NONE|NONE|NONE|QUEUESTART|\n2|NONE|q|A|ADDMEMBER|\n",
        "lines pushed before the reopen go to the old file"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "3|NONE|q|A|REMOVEMEMBER|\n"
    );
    assert_eq!(log.write_errors(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Records every log line so the test can count them.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn a_full_disk_is_counted_every_time_and_logged_once_per_run_of_failures() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let mut log = QueueLogWriter::open("/dev/full").unwrap();
    for epoch in 0..3 {
        log.push(epoch, NONE, "q", &QueueLogEvent::QueueStart);
        log.flush();
    }
    log.flush(); // nothing pending: not a write, not an error
    assert_eq!(log.write_errors(), 3);
    // Other tests run in parallel and may log about their own files.
    let lines: Vec<String> = CAPTURE
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("/dev/full"))
        .cloned()
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("ERROR queue log: cannot write to /dev/full: "),
        "{lines:?}"
    );
}

#[test]
fn a_reopen_that_fails_is_counted_and_later_writes_too() {
    let dir = temp_dir("queue-log-gone");
    let path = dir.join("queue_log");
    let mut log = QueueLogWriter::open(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    log.reopen();
    assert_eq!(log.write_errors(), 1);
    log.push(1, NONE, "q", &QueueLogEvent::QueueStart);
    log.flush();
    assert_eq!(log.write_errors(), 2);
    // The directory comes back: the next reopen works and lines flow again.
    std::fs::create_dir_all(&dir).unwrap();
    log.reopen();
    log.push(2, NONE, "q", &QueueLogEvent::QueueStart);
    log.flush();
    assert_eq!(log.write_errors(), 2);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "2|NONE|NONE|NONE|QUEUESTART|\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
