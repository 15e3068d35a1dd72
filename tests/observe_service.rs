//! The queue service's observability, in process on a [`ManualClock`]:
//! who gets which events (a monitor follows all, a plain connection only
//! the timer-caused ones, nobody gets their own replies twice), the
//! counters and histograms `/metrics` shows, and the queue log's lines
//! with their times and positions.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use callcenter::command::Verb;
use callcenter::engine::Engine;
use callcenter::messages::Lang;
use callcenter::observer::QueueLog;
use callcenter::queue_log::QueueLogWriter;
use callcenter::queue_service::{QueueService, Subscription};
use callcenter::reactor::{ManualClock, Reactor};

struct Rig {
    service: QueueService,
    reactor: Reactor,
    clock: ManualClock,
}

impl Rig {
    fn new(ring_timeout: Option<Duration>) -> Rig {
        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
        let service = QueueService::new(
            Engine::new(["A", "B"]).expect("engine"),
            Lang::En,
            ring_timeout,
            reactor.clone(),
        );
        // As the HTTP side does when it starts: the histograms are tested.
        service.time_calls();
        Rig {
            service,
            reactor,
            clock,
        }
    }

    fn sink(&self, all: bool) -> (Subscription, Rc<RefCell<String>>) {
        let seen = Rc::new(RefCell::new(String::new()));
        let into = seen.clone();
        let sink = Box::new(move |text: &str| into.borrow_mut().push_str(text));
        let subscription = if all {
            self.service.subscribe_all(sink)
        } else {
            self.service.subscribe(sink)
        };
        (subscription, seen)
    }

    fn run(&self, origin: Option<&Subscription>, verb: Verb, id: &str) -> String {
        let mut out = String::new();
        self.service
            .run_from(
                origin,
                &callcenter::command::Request::new(verb, id),
                &mut out,
            )
            .expect("the command succeeds");
        out
    }

    fn advance(&self, seconds: f64) {
        self.clock.advance(Duration::from_secs_f64(seconds));
        self.reactor.run_due_timers();
    }
}

#[test]
fn a_monitor_gets_every_other_clients_messages_and_the_timer_events() {
    let rig = Rig::new(Some(Duration::from_secs(10)));
    let (plain, plain_seen) = rig.sink(false);
    let (monitor, monitor_seen) = rig.sink(true);
    let out = rig.run(Some(&plain), Verb::Call, "1");
    assert_eq!(out, "Call 1 received\nCall 1 ringing for operator A\n");
    assert_eq!(*plain_seen.borrow(), "", "its own reply is not repeated");
    assert_eq!(*monitor_seen.borrow(), out);
    // The monitor's own commands are its replies, not events.
    rig.run(Some(&monitor), Verb::Answer, "A");
    assert_eq!(*monitor_seen.borrow(), out);
    assert_eq!(*plain_seen.borrow(), "");
    rig.run(Some(&plain), Verb::Call, "2");
    rig.advance(10.0);
    let timed = "Call 2 ignored by operator B\nCall 2 ringing for operator B\n";
    assert_eq!(
        *plain_seen.borrow(),
        timed,
        "a timer event goes to everyone"
    );
    assert_eq!(
        *monitor_seen.borrow(),
        format!("{out}Call 2 received\nCall 2 ringing for operator B\n{timed}")
    );
    // Without an origin (standalone's console), every monitor gets it.
    drop(monitor);
    let (_second, second_seen) = rig.sink(true);
    rig.run(None, Verb::Hangup, "2");
    assert_eq!(*second_seen.borrow(), "Call 2 missed\n");
    // A failed command causes nothing.
    let mut out = String::new();
    assert!(rig.service.execute(Verb::Hangup, "9", &mut out).is_err());
    assert_eq!(*second_seen.borrow(), "Call 2 missed\n");
}

#[test]
fn follow_all_upgrades_a_connections_subscription() {
    let rig = Rig::new(None);
    let (plain, _) = rig.sink(false);
    let (other, other_seen) = rig.sink(false);
    rig.run(Some(&plain), Verb::Call, "1");
    assert_eq!(*other_seen.borrow(), "");
    other.follow_all();
    rig.run(Some(&plain), Verb::Call, "2");
    assert_eq!(
        *other_seen.borrow(),
        "Call 2 received\nCall 2 ringing for operator B\n"
    );
}

/// The value of the sample `name` (with its labels) in `text`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
        .parse()
        .expect("a number")
}

#[test]
fn metrics_count_events_times_and_commands() {
    let rig = Rig::new(Some(Duration::from_secs(10)));
    rig.run(None, Verb::Call, "1");
    rig.advance(3.0);
    rig.run(None, Verb::Answer, "A");
    rig.run(None, Verb::Call, "2");
    rig.run(None, Verb::Reject, "B");
    rig.run(None, Verb::Call, "3");
    rig.advance(45.0);
    rig.run(None, Verb::Hangup, "1");
    rig.run(None, Verb::Hangup, "3");
    rig.service.count_command(false);
    let text = rig.service.metrics(4);
    for (name, value) in [
        ("callcenter_calls_total{event=\"received\"}", 3.0),
        ("callcenter_calls_total{event=\"answered\"}", 1.0),
        ("callcenter_calls_total{event=\"finished\"}", 1.0),
        ("callcenter_calls_total{event=\"missed\"}", 1.0),
        ("callcenter_rings_total{result=\"rejected\"}", 1.0),
        // Calls 2 and 3 waited; then 2's rings were ignored while 3 waited.
        ("callcenter_queue_waiting", 0.0),
        ("callcenter_wait_seconds_count", 1.0),
        ("callcenter_wait_seconds_sum", 3.0),
        ("callcenter_wait_seconds_bucket{le=\"2\"}", 0.0),
        ("callcenter_wait_seconds_bucket{le=\"5\"}", 1.0),
        ("callcenter_talk_seconds_count", 1.0),
        ("callcenter_talk_seconds_sum", 45.0),
        ("callcenter_talk_seconds_bucket{le=\"30\"}", 0.0),
        ("callcenter_talk_seconds_bucket{le=\"60\"}", 1.0),
        ("callcenter_clients_connected", 4.0),
        ("callcenter_commands_total{result=\"ok\"}", 7.0),
        ("callcenter_commands_total{result=\"error\"}", 1.0),
        ("callcenter_queue_log_write_errors_total", 0.0),
    ] {
        assert_eq!(sample(&text, name), value, "{name}");
    }
    assert!(sample(&text, "callcenter_rings_total{result=\"ignored\"}") >= 1.0);
}

#[test]
fn longest_wait_and_operators_are_read_at_request_time() {
    let rig = Rig::new(None);
    rig.run(None, Verb::Call, "1");
    rig.run(None, Verb::Answer, "A");
    rig.run(None, Verb::Call, "2");
    rig.advance(1.0);
    rig.run(None, Verb::Call, "3");
    rig.advance(2.5);
    let text = rig.service.metrics(0);
    assert_eq!(sample(&text, "callcenter_queue_waiting"), 1.0);
    assert_eq!(sample(&text, "callcenter_queue_longest_wait_seconds"), 2.5);
    assert_eq!(
        sample(&text, "callcenter_operators{state=\"on-call\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "callcenter_operators{state=\"ringing\"}"),
        1.0
    );
    assert_eq!(sample(&text, "callcenter_operators{state=\"idle\"}"), 0.0);
}

#[test]
fn the_history_samples_the_queue_every_five_seconds() {
    let rig = Rig::new(None);
    rig.service.start_history();
    rig.run(None, Verb::Call, "1");
    rig.run(None, Verb::Call, "2");
    rig.run(None, Verb::Call, "3");
    rig.advance(4.9);
    assert_eq!(
        rig.service.history_json(),
        r#"{"interval_s":5,"waiting":[0]}"#
    );
    rig.advance(0.1);
    rig.run(None, Verb::Call, "4");
    rig.advance(5.0);
    assert_eq!(
        rig.service.history_json(),
        r#"{"interval_s":5,"waiting":[0,1,2]}"#
    );
}

/// A queue log in a fresh temporary file, and its path.
fn temp_log(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("callcenter-observe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    path
}

/// The log's lines, each split into its fields, the epoch checked and dropped.
fn fields(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).expect("the log exists");
    assert!(text.ends_with('\n'), "{text:?}");
    text.lines()
        .map(|line| {
            let mut fields: Vec<String> = line.split('|').map(str::to_string).collect();
            let epoch: u64 = fields.remove(0).parse().expect("an epoch");
            assert!(epoch > 1_600_000_000, "{line}");
            fields
        })
        .collect()
}

#[test]
fn the_queue_log_records_a_session_field_by_field() {
    let path = temp_log("session.log");
    let rig = Rig::new(Some(Duration::from_secs(10)));
    let writer = QueueLogWriter::open(&path).expect("open");
    rig.service
        .set_queue_log(QueueLog::start(writer, "sales".to_string()));
    rig.run(None, Verb::Call, "c1");
    // Written once per loop turn, not line by line.
    assert_eq!(std::fs::read_to_string(&path).expect("log"), "");
    rig.advance(2.0);
    rig.run(None, Verb::Reject, "A");
    rig.advance(1.5);
    rig.run(None, Verb::Answer, "B");
    rig.run(None, Verb::Call, "c2");
    rig.run(None, Verb::Call, "c3");
    rig.run(None, Verb::Call, "c4");
    rig.advance(10.0);
    rig.run(None, Verb::Hangup, "c4");
    for _ in 0..3 {
        rig.advance(10.0);
    }
    rig.run(None, Verb::Hangup, "c1");
    rig.reactor.run_due_timers();
    let lines = fields(&path);
    let uid = |n: u64| {
        let first = &lines[1][0];
        let (start, _) = first.split_once('.').expect("start.n");
        format!("{start}.{n}")
    };
    let expected: Vec<Vec<String>> = [
        vec!["NONE", "NONE", "NONE", "QUEUESTART", ""],
        vec![&uid(1), "sales", "NONE", "ENTERQUEUE", "", "c1"],
        vec![&uid(1), "sales", "A", "RINGNOANSWER", "2000"],
        vec![&uid(1), "sales", "B", "CONNECT", "3", &uid(2), "1"],
        vec![&uid(3), "sales", "NONE", "ENTERQUEUE", "", "c2"],
        vec![&uid(4), "sales", "NONE", "ENTERQUEUE", "", "c3"],
        vec![&uid(5), "sales", "NONE", "ENTERQUEUE", "", "c4"],
        // c2 rang A for 10 s: ignored, then rings A again.
        vec![&uid(3), "sales", "A", "RINGNOANSWER", "10000"],
        // c4 joined second in the queue (c2 rang at once) and left second.
        vec![&uid(5), "sales", "NONE", "ABANDON", "2", "2", "10"],
        vec![&uid(3), "sales", "A", "RINGNOANSWER", "10000"],
        vec![&uid(3), "sales", "A", "RINGNOANSWER", "10000"],
        vec![&uid(3), "sales", "A", "RINGNOANSWER", "10000"],
        vec![&uid(1), "sales", "B", "COMPLETECALLER", "3", "40", "1"],
    ]
    .iter()
    .map(|line| line.iter().map(|field| field.to_string()).collect())
    .collect();
    assert_eq!(lines, expected);
}
