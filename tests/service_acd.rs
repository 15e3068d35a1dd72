//! The ACD's timers through the queue service, on a [`ManualClock`] (no
//! sleeps: the clock is advanced, then `run_due_timers` runs what is due):
//!
//! - wrap-up (SPEC §9.2): the operator rests exactly `--wrap-up`, then
//!   *available* goes to every subscriber and the queue is dispatched; a
//!   wrap-up that ends while paused prints nothing; a logout cancels it; a
//!   stale wrap-up timer never ends a later wrap-up;
//! - auto-pause: after `--max-no-answer` ring timeouts in a row the operator
//!   is paused (`no answer`), the message between *ignored* and the
//!   re-dispatch, singular for a count of 1; an answer resets the count;
//! - engine time comes from the reactor's clock: `status` and `stats` show
//!   the seconds the manual clock moved.
//!
//! Every text is compared whole: command output and timer-caused output
//! (the event subscribers) separately.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use callcenter::command::{Command, parse_line};
use callcenter::engine::{Config, Engine};
use callcenter::messages::Lang;
use callcenter::queue_service::{QueueService, Report, Subscription};
use callcenter::reactor::{ManualClock, Reactor};

/// A service on a manual clock, and what its event sinks received.
struct Rig {
    service: QueueService,
    /// Keep both sinks subscribed: events go to every subscriber.
    _subscriptions: [Subscription; 2],
    reactor: Reactor,
    clock: ManualClock,
    events: [Rc<RefCell<String>>; 2],
}

impl Rig {
    fn new(operators: &[&str], lang: Lang, ring_timeout: Option<Duration>, config: Config) -> Rig {
        let clock = ManualClock::new();
        let reactor = Reactor::with_clock(Rc::new(clock.clone())).expect("reactor");
        let engine = Engine::with_config(operators.iter().copied(), config).expect("engine");
        let service = QueueService::new(engine, lang, ring_timeout, reactor.clone());
        let events = [Rc::default(), Rc::default()];
        let subscriptions = events.clone().map(|sink: Rc<RefCell<String>>| {
            service.subscribe(Box::new(move |text: &str| sink.borrow_mut().push_str(text)))
        });
        Rig {
            service,
            _subscriptions: subscriptions,
            reactor,
            clock,
            events,
        }
    }

    /// Runs typed lines that must all succeed; returns what they printed.
    fn type_lines(&self, lines: &str) -> String {
        let mut out = String::new();
        for line in lines.lines() {
            let Ok(Some(Command::Queue(request))) = parse_line(line.as_bytes()) else {
                panic!("not a queue command: {line:?}");
            };
            self.service
                .run(&request, &mut out)
                .unwrap_or_else(|e| panic!("{line}: {e:?}"));
        }
        out
    }

    /// Moves the clock and runs the due timers; returns how many ran and
    /// what every subscriber received (the same), then forgets it.
    fn advance(&self, by: Duration) -> (usize, String) {
        let ran = self.clock.advance(by);
        let first = std::mem::take(&mut *self.events[0].borrow_mut());
        let second = std::mem::take(&mut *self.events[1].borrow_mut());
        assert_eq!(first, second, "every subscriber gets the same events");
        (ran, first)
    }
}

fn wrap_up(seconds: u64) -> Config {
    Config {
        wrap_up: Duration::from_secs(seconds),
        ..Config::default()
    }
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn wrap_up_ends_exactly_on_time_and_serves_the_queue() {
    let rig = Rig::new(&["A"], Lang::En, None, wrap_up(30));
    assert_eq!(
        rig.type_lines("call 1\nanswer A\nhangup 1\ncall 2"),
        "Call 1 received\nCall 1 ringing for operator A\nCall 1 answered by operator A\n\
         Call 1 finished and operator A in wrap-up\nCall 2 received\nCall 2 waiting in queue\n"
    );
    assert_eq!(rig.service.pending_wrap_up_timers(), 1);
    assert_eq!(
        rig.advance(Duration::from_secs(30) - MS),
        (0, String::new())
    );
    assert_eq!(
        rig.advance(MS),
        (
            1,
            "Operator A available\nCall 2 ringing for operator A\n".to_string()
        )
    );
    assert_eq!(rig.service.pending_wrap_up_timers(), 0);
    assert_eq!(rig.reactor.pending_calls(), 0);
}

#[test]
fn wrap_up_in_portuguese() {
    let rig = Rig::new(&["A"], Lang::Pt, None, wrap_up(5));
    assert_eq!(
        rig.type_lines("call 1\nanswer A\nhangup 1"),
        "Chamada 1 recebida\nChamada 1 tocando para o operador A\n\
         Chamada 1 atendida pelo operador A\n\
         Chamada 1 concluída e operador A em pós-atendimento\n"
    );
    assert_eq!(
        rig.advance(Duration::from_secs(5)),
        (1, "Operador A disponível\n".to_string())
    );
}

#[test]
fn a_wrap_up_ending_while_paused_prints_nothing_and_unpause_serves() {
    let rig = Rig::new(&["A"], Lang::En, None, wrap_up(10));
    rig.type_lines("call 1\nanswer A\nhangup 1\ncall 2");
    assert_eq!(rig.type_lines("pause A"), "Operator A paused\n");
    assert_eq!(rig.advance(Duration::from_secs(10)), (1, String::new()));
    assert_eq!(
        rig.type_lines("status"),
        "Queue: 1 waiting, longest wait 10 s\nOperator A: idle, paused\nWaiting: 2\n"
    );
    assert_eq!(
        rig.type_lines("unpause A"),
        "Operator A unpaused\nCall 2 ringing for operator A\n"
    );
}

#[test]
fn logout_cancels_the_wrap_up_and_a_later_one_is_not_ended_early() {
    let rig = Rig::new(&["A"], Lang::En, None, wrap_up(10));
    rig.type_lines("call 1\nanswer A\nhangup 1");
    rig.advance(Duration::from_secs(4));
    assert_eq!(rig.type_lines("logout A"), "Operator A logged out\n");
    assert_eq!(rig.service.pending_wrap_up_timers(), 0);
    assert_eq!(rig.reactor.pending_calls(), 0);
    rig.type_lines("login A\ncall 2\nanswer A\nhangup 2");
    // The first wrap-up's deadline (10 s) passes: the second (14 s) goes on.
    assert_eq!(rig.advance(Duration::from_secs(6)), (0, String::new()));
    assert_eq!(
        rig.type_lines("status"),
        "Queue: 0 waiting, longest wait 0 s\nOperator A: in wrap-up\n"
    );
    assert_eq!(
        rig.advance(Duration::from_secs(4)),
        (1, "Operator A available\n".to_string())
    );
}

#[test]
fn auto_pause_after_n_unanswered_rings_comes_before_the_redispatch() {
    let config = Config {
        max_no_answer: 2,
        ..Config::default()
    };
    let rig = Rig::new(&["A", "B"], Lang::En, Some(Duration::from_secs(5)), config);
    rig.type_lines("call 1");
    assert_eq!(
        rig.advance(Duration::from_secs(5)),
        (
            1,
            "Call 1 ignored by operator A\nCall 1 ringing for operator B\n".to_string()
        )
    );
    rig.type_lines("answer B\nhangup 1\ncall 2\nreject A");
    // A rejection is not a timeout: A's count stays at 1 (then it rings B).
    assert_eq!(
        rig.type_lines("hangup 2\ncall 3"),
        "Call 2 missed\nCall 3 received\nCall 3 ringing for operator A\n"
    );
    assert_eq!(
        rig.advance(Duration::from_secs(5)),
        (
            1,
            "Call 3 ignored by operator A\nOperator A paused after 2 unanswered calls\n\
             Call 3 ringing for operator B\n"
                .to_string()
        )
    );
    assert_eq!(
        rig.type_lines("status"),
        "Queue: 0 waiting, longest wait 0 s\nOperator A: idle, paused (no answer)\n\
         Operator B: ringing call 3\n"
    );
}

#[test]
fn auto_pause_after_one_call_is_singular_and_an_answer_resets_the_count() {
    let config = Config {
        max_no_answer: 1,
        ..Config::default()
    };
    let rig = Rig::new(
        &["A"],
        Lang::Pt,
        Some(Duration::from_secs(2)),
        config.clone(),
    );
    rig.type_lines("call 1");
    assert_eq!(
        rig.advance(Duration::from_secs(2)),
        (
            1,
            "Chamada 1 ignorada pelo operador A\nOperador A em pausa após 1 chamada não atendida\n"
                .to_string()
        )
    );
    let rig = Rig::new(&["A"], Lang::En, Some(Duration::from_secs(2)), config);
    rig.type_lines("call 1");
    assert_eq!(
        rig.advance(Duration::from_secs(2)).1,
        "Call 1 ignored by operator A\nOperator A paused after 1 unanswered call\n"
    );
    let limit = Config {
        max_no_answer: 2,
        ..Config::default()
    };
    let rig = Rig::new(&["A"], Lang::En, Some(Duration::from_secs(2)), limit);
    rig.type_lines("call 1");
    rig.advance(Duration::from_secs(2));
    rig.type_lines("answer A\nhangup 1\ncall 2");
    // The answer reset the count: one more timeout does not pause.
    assert_eq!(
        rig.advance(Duration::from_secs(2)).1,
        "Call 2 ignored by operator A\nCall 2 ringing for operator A\n"
    );
}

#[test]
fn status_and_stats_count_the_seconds_of_the_reactor_clock() {
    let rig = Rig::new(&["A", "B"], Lang::En, None, Config::default());
    rig.type_lines("call 1\ncall 2\ncall 3");
    rig.advance(Duration::from_millis(2_500));
    rig.type_lines("answer A");
    rig.advance(Duration::from_millis(35_700));
    let mut out = String::new();
    let status = parse_line(b"status").unwrap().unwrap();
    let Command::Queue(status) = status else {
        panic!("status is a queue command");
    };
    let Some(Report::Status(snapshot)) = rig.service.run(&status, &mut out).unwrap() else {
        panic!("status reports its facts");
    };
    assert_eq!(
        out,
        "Queue: 1 waiting, longest wait 38 s\nOperator A: on call 1\nOperator B: ringing call 2\n\
         Waiting: 3\n"
    );
    assert_eq!(snapshot.longest_wait_s, 38.2);
    assert_eq!(snapshot.operators[0].since_s, 35.7);
    rig.type_lines("hangup 1\nanswer B");
    assert_eq!(
        rig.type_lines("stats"),
        "Calls: 3 received, 2 answered, 1 finished, 0 missed\nRings: 0 rejected, 0 ignored\n\
         Wait: average 20.4 s, longest 38.2 s\nService level: 50.0% within 20 s\n\
         Operator A: 1 answered, 0 rejected, 0 ignored, talk 35.7 s\n\
         Operator B: 1 answered, 0 rejected, 0 ignored, talk 0.0 s\n"
    );
}
