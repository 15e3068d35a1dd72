//! Tests of the queue service (`callcenter::queue_service::QueueService`):
//! the engine wired to the reactor's timers, on a [`ManualClock`] (never a
//! sleep: advancing the clock runs what fell due, as `task.Clock.advance` does).
//!
//! - The ring timeout of SPEC §5: an ignored call is offered to another
//!   operator, or to the same one when nobody else is free, exactly at the
//!   deadline and not a millisecond before.
//! - `answer`, `reject` and `hangup` of a ringing call cancel its timer (the
//!   service's and the reactor's counts drop, and nothing fires later).
//! - A stale timer never acts on a later offer of the same call.
//! - No ring timeout: no timers at all.
//! - The seed script of SPEC §8 through `parse_line` + `execute`, compared
//!   with the exact expected transcripts in `tests/fixtures/`.
//!
//! Every message is compared as a whole string: command output (`out`) and
//! timer-caused output (the event subscribers) separately.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use callcenter::command::{Command, Verb, parse_line};
use callcenter::engine::{Engine, EngineError};
use callcenter::messages::Lang;
use callcenter::queue_service::{QueueService, ServiceError, Subscription};
use callcenter::reactor::{ManualClock, Reactor};

const TEN_SECONDS: Option<Duration> = Some(Duration::from_secs(10));

/// A service on a manual clock, and what its event sink received.
struct Rig {
    service: QueueService,
    /// Keeps `events` subscribed.
    subscription: Subscription,
    reactor: Reactor,
    clock: ManualClock,
    events: Rc<RefCell<String>>,
}

impl Rig {
    fn new(operators: &[&str], lang: Lang, ring_timeout: Option<Duration>) -> Rig {
        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
        let events = Rc::new(RefCell::new(String::new()));
        let sink = events.clone();
        let service = QueueService::new(
            Engine::new(operators.iter().copied()).expect("engine"),
            lang,
            ring_timeout,
            reactor.clone(),
        );
        let subscription =
            service.subscribe(Box::new(move |text: &str| sink.borrow_mut().push_str(text)));
        Rig {
            service,
            subscription,
            reactor,
            clock,
            events,
        }
    }

    /// English, operators A and B, 10 s ring timeout.
    fn standard() -> Rig {
        Rig::new(&["A", "B"], Lang::En, TEN_SECONDS)
    }

    /// Runs a command that must succeed; returns what it printed.
    fn run(&self, verb: Verb, id: &str) -> String {
        let mut out = String::new();
        self.service
            .execute(verb, id, &mut out)
            .unwrap_or_else(|e| panic!("{verb:?} {id}: {e:?}"));
        out
    }

    /// Moves the clock, which runs the due timers; returns how many ran
    /// and what the event sink received meanwhile (then forgets it).
    fn advance(&self, by: Duration) -> (usize, String) {
        let ran = self.clock.advance(by);
        (ran, self.events.take())
    }

    /// (ring timers of the service, pending calls of the reactor).
    fn timers(&self) -> (usize, usize) {
        (
            self.service.pending_ring_timers(),
            self.reactor.pending_calls(),
        )
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

const NOTHING: (usize, String) = (0, String::new());

fn fired(text: &str) -> (usize, String) {
    (1, text.to_string())
}

#[test]
fn an_ignored_call_is_offered_to_another_operator() {
    let rig = Rig::standard();
    assert_eq!(
        rig.run(Verb::Call, "1"),
        "Call 1 received\nCall 1 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (1, 1));

    assert_eq!(rig.advance(ms(9999)), NOTHING);
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(
        rig.advance(ms(1)),
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator B\n")
    );
    // B's ring has its own timer, 10 s from the ignore.
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(ms(9999)), NOTHING);
    assert_eq!(
        rig.advance(ms(1)),
        fired("Call 1 ignored by operator B\nCall 1 ringing for operator A\n")
    );
    assert_eq!(rig.timers(), (1, 1));
    rig.service
        .inspect(|engine| engine.check_invariants())
        .unwrap();
}

#[test]
fn with_one_free_operator_the_ignored_call_rings_it_again() {
    let rig = Rig::new(&["A"], Lang::En, TEN_SECONDS);
    assert_eq!(
        rig.run(Verb::Call, "1"),
        "Call 1 received\nCall 1 ringing for operator A\n"
    );
    assert_eq!(
        rig.advance(secs(10)),
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator A\n")
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(ms(9999)), NOTHING);
    assert_eq!(
        rig.advance(ms(1)),
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator A\n")
    );
    assert_eq!(rig.timers(), (1, 1));
}

#[test]
fn the_other_operator_busy_means_the_same_operator_again() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.run(Verb::Call, "2");
    assert_eq!(
        rig.run(Verb::Answer, "B"),
        "Call 2 answered by operator B\n"
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(
        rig.advance(secs(10)),
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator A\n")
    );
}

#[test]
fn two_ringing_calls_time_out_in_order_in_one_round() {
    let rig = Rig::new(&["A", "B", "C"], Lang::En, TEN_SECONDS);
    rig.run(Verb::Call, "1");
    rig.run(Verb::Call, "2");
    assert_eq!(rig.timers(), (2, 2));
    let (ran, text) = rig.advance(secs(10));
    assert_eq!(ran, 2);
    assert_eq!(
        text,
        "Call 1 ignored by operator A\nCall 1 ringing for operator C\n\
         Call 2 ignored by operator B\nCall 2 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (2, 2));
}

#[test]
fn answer_cancels_the_ring_timer() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    assert_eq!(rig.timers(), (1, 1));
    rig.clock.advance(secs(9));
    assert_eq!(
        rig.run(Verb::Answer, "A"),
        "Call 1 answered by operator A\n"
    );
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.advance(secs(3600)), NOTHING);
}

#[test]
fn reject_cancels_the_ring_timer_of_the_rejected_offer() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.clock.advance(secs(4));
    assert_eq!(
        rig.run(Verb::Reject, "A"),
        "Call 1 rejected by operator A\nCall 1 ringing for operator B\n"
    );
    // Only B's new timer is left: the old one is cancelled, not merely stale.
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(secs(6)), NOTHING); // t = 10: A's old deadline.
    assert_eq!(rig.advance(ms(3999)), NOTHING); // t = 13.999
    assert_eq!(
        rig.advance(ms(1)),
        fired("Call 1 ignored by operator B\nCall 1 ringing for operator A\n")
    );
}

#[test]
fn reject_with_nobody_else_free_cancels_the_timer_too() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.run(Verb::Call, "2");
    assert_eq!(rig.timers(), (2, 2));
    rig.run(Verb::Answer, "B");
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(
        rig.run(Verb::Reject, "A"),
        "Call 1 rejected by operator A\nCall 1 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(
        rig.run(Verb::Answer, "A"),
        "Call 1 answered by operator A\n"
    );
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.advance(secs(3600)), NOTHING);
}

#[test]
fn hangup_of_a_ringing_call_cancels_its_timer() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.run(Verb::Call, "2");
    assert_eq!(rig.timers(), (2, 2));
    rig.clock.advance(secs(5));
    assert_eq!(rig.run(Verb::Hangup, "1"), "Call 1 missed\n");
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.run(Verb::Hangup, "2"), "Call 2 missed\n");
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.advance(secs(3600)), NOTHING);
}

#[test]
fn hangup_of_a_ringing_call_leaves_the_other_timer_alone() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.clock.advance(secs(2));
    rig.run(Verb::Call, "2");
    assert_eq!(rig.run(Verb::Hangup, "1"), "Call 1 missed\n");
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(secs(8)), NOTHING); // t = 10: call 1's old deadline.
    assert_eq!(
        rig.advance(secs(2)),
        fired("Call 2 ignored by operator B\nCall 2 ringing for operator A\n")
    );
}

#[test]
fn a_queued_call_gets_its_timer_when_it_starts_ringing() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    rig.run(Verb::Call, "2");
    rig.run(Verb::Answer, "A");
    rig.run(Verb::Answer, "B");
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(
        rig.run(Verb::Call, "3"),
        "Call 3 received\nCall 3 waiting in queue\n"
    );
    assert_eq!(rig.timers(), (0, 0));
    rig.clock.advance(secs(30));
    assert_eq!(
        rig.run(Verb::Hangup, "1"),
        "Call 1 finished and operator A available\nCall 3 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(ms(9999)), NOTHING);
    assert_eq!(
        rig.advance(ms(1)),
        fired("Call 3 ignored by operator A\nCall 3 ringing for operator A\n")
    );
}

#[test]
fn a_stale_timer_never_fires_on_a_later_offer() {
    let rig = Rig::new(&["A"], Lang::En, TEN_SECONDS);
    rig.run(Verb::Call, "1"); // t = 0: offer 1, due at 10.
    rig.clock.advance(secs(5));
    assert_eq!(
        rig.run(Verb::Reject, "A"), // t = 5: offer 2, due at 15.
        "Call 1 rejected by operator A\nCall 1 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(secs(5)), NOTHING); // t = 10
    assert_eq!(rig.advance(ms(4999)), NOTHING); // t = 14.999
    assert_eq!(
        rig.advance(ms(1)), // t = 15
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator A\n")
    );
}

#[test]
fn a_reused_call_id_is_not_timed_out_by_the_old_calls_timer() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1"); // Due at 10.
    rig.clock.advance(secs(6));
    rig.run(Verb::Hangup, "1");
    assert_eq!(
        rig.run(Verb::Call, "1"), // A new call 1, due at 16.
        "Call 1 received\nCall 1 ringing for operator A\n"
    );
    assert_eq!(rig.timers(), (1, 1));
    assert_eq!(rig.advance(secs(4)), NOTHING); // t = 10
    assert_eq!(
        rig.advance(secs(6)), // t = 16
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator B\n")
    );
}

#[test]
fn without_a_ring_timeout_there_are_no_timers() {
    let rig = Rig::new(&["A", "B"], Lang::En, None);
    assert_eq!(
        rig.run(Verb::Call, "1"),
        "Call 1 received\nCall 1 ringing for operator A\n"
    );
    rig.run(Verb::Call, "2");
    rig.run(Verb::Reject, "A");
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.advance(secs(365 * 24 * 3600)), NOTHING);
    rig.run(Verb::Answer, "A");
    rig.run(Verb::Hangup, "2");
    assert_eq!(rig.timers(), (0, 0));
}

#[test]
fn a_refused_command_prints_nothing_and_keeps_the_timers() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    let cases = [
        (
            Verb::Call,
            "1",
            ServiceError::Engine(EngineError::CallExists("1".into())),
        ),
        (
            Verb::Answer,
            "B",
            ServiceError::Engine(EngineError::NotRinging("B".into())),
        ),
        (
            Verb::Reject,
            "Z",
            ServiceError::Engine(EngineError::OperatorNotFound("Z".into())),
        ),
        (
            Verb::Hangup,
            "9",
            ServiceError::Engine(EngineError::CallNotFound("9".into())),
        ),
        (Verb::Help, "x", ServiceError::NotAQueueCommand(Verb::Help)),
        (Verb::Exit, "x", ServiceError::NotAQueueCommand(Verb::Exit)),
    ];
    for (verb, id, error) in cases {
        let mut out = String::new();
        let result = rig.service.execute(verb, id, &mut out);
        assert_eq!(result, Err(error));
        assert_eq!(out, "");
        assert_eq!(rig.timers(), (1, 1));
    }
    assert_eq!(
        rig.advance(secs(10)),
        fired("Call 1 ignored by operator A\nCall 1 ringing for operator B\n")
    );
}

#[test]
fn timer_messages_follow_the_language() {
    let rig = Rig::new(&["A", "B"], Lang::Pt, TEN_SECONDS);
    assert_eq!(
        rig.run(Verb::Call, "1"),
        "Chamada 1 recebida\nChamada 1 tocando para o operador A\n"
    );
    assert_eq!(
        rig.advance(secs(10)),
        fired("Chamada 1 ignorada pelo operador A\nChamada 1 tocando para o operador B\n")
    );
}

#[test]
fn every_subscriber_gets_the_events_until_its_subscription_ends() {
    let rig = Rig::standard();
    let other = Rc::new(RefCell::new(String::new()));
    let sink = other.clone();
    let second = rig
        .service
        .subscribe(Box::new(move |text: &str| sink.borrow_mut().push_str(text)));
    rig.run(Verb::Call, "1");
    let both = "Call 1 ignored by operator A\nCall 1 ringing for operator B\n";
    assert_eq!(rig.advance(secs(10)), fired(both));
    assert_eq!(other.take(), both);
    drop(second);
    assert_eq!(
        rig.advance(secs(10)),
        fired("Call 1 ignored by operator B\nCall 1 ringing for operator A\n")
    );
    assert_eq!(*other.borrow(), "");
}

#[test]
fn a_dropped_service_cancels_its_timers() {
    let rig = Rig::standard();
    rig.run(Verb::Call, "1");
    let Rig {
        service,
        subscription,
        reactor,
        clock,
        events,
    } = rig;
    assert_eq!(reactor.pending_calls(), 1);
    drop(service);
    drop(subscription);
    // Its ring timer went with it: nothing is left to fire.
    assert_eq!(reactor.pending_calls(), 0);
    assert_eq!(clock.advance(secs(10)), 0);
    assert_eq!(*events.borrow(), "");
    assert_eq!(reactor.pending_calls(), 0);
}

/// Runs the seed script through `parse_line` and `execute`; returns stdout.
fn run_seed(lang: Lang) -> (String, Rig) {
    let rig = Rig::new(&["A", "B"], lang, TEN_SECONDS);
    let mut out = String::new();
    for line in include_str!("fixtures/seed.cmds").lines() {
        match parse_line(line.as_bytes()) {
            Ok(Some(Command::Queue(request))) => {
                rig.service
                    .run(&request, &mut out)
                    .unwrap_or_else(|e| panic!("{line}: {e:?}"));
            }
            Ok(None) => {}
            other => panic!("unexpected line {line:?}: {other:?}"),
        }
    }
    (out, rig)
}

#[test]
fn the_seed_script_gives_the_exact_english_transcript() {
    let (out, rig) = run_seed(Lang::En);
    assert_eq!(out, include_str!("fixtures/seed.en.out"));
    // Every call ended: no timer is left, nothing was printed by one.
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.advance(secs(3600)), NOTHING);
    assert_eq!(rig.service.inspect(|engine| engine.live_calls()), 0);
    rig.service
        .inspect(|engine| engine.check_invariants())
        .unwrap();
}

#[test]
fn the_seed_script_gives_the_exact_portuguese_transcript() {
    let (out, rig) = run_seed(Lang::Pt);
    assert_eq!(out, include_str!("fixtures/seed.pt.out"));
    assert_eq!(rig.timers(), (0, 0));
    assert_eq!(rig.service.lang(), Lang::Pt);
}
