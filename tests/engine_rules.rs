//! The engine's distribution rules (SPEC §5), one test each comparing the
//! complete `Vec<Effect>` of a command, and every `EngineError`, checking
//! that a refused command pushes nothing and changes nothing.

mod support;

use std::rc::Rc;

use callcenter::engine::*;
use support::engine::*;

// ---------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------

#[test]
fn new_keeps_the_priority_order_and_refuses_bad_lists() {
    let engine = Engine::new(["B", "A", "C"]).unwrap();
    assert_eq!(engine.operator_count(), 3);
    assert_eq!(engine.operator_id(0), Some("B"));
    assert_eq!(engine.operator_id(1), Some("A"));
    assert_eq!(engine.operator_id(2), Some("C"));
    assert_eq!(engine.operator_id(3), None);
    assert_eq!(engine.operator_status(3), None);
    for i in 0..3 {
        assert_eq!(engine.operator_status(i), Some(OperatorStatus::Available));
    }
    assert_eq!(engine.live_calls(), 0);
    assert_eq!(engine.queued_calls(), Vec::<Rc<str>>::new());
    engine.check_invariants().unwrap();

    assert_eq!(
        Engine::new(Vec::<String>::new()).unwrap_err(),
        ConfigError::NoOperators
    );
    assert_eq!(
        Engine::new(["A", "B", "A"]).unwrap_err(),
        ConfigError::DuplicateOperator("A".into())
    );
    // Operator ids are case-sensitive: `a` and `A` are two operators.
    assert!(Engine::new(["a", "A"]).is_ok());
}

// ---------------------------------------------------------------------------
// SPEC §5: distribution rules, one test each
// ---------------------------------------------------------------------------

#[test]
fn call_rings_the_first_available_operator_in_priority_order() {
    let mut h = Harness::new(&["A", "B", "C"]);
    let fx = h.call("1");
    assert_eq!(
        fx,
        vec![received("1"), ringing("1", "A"), start(0, h.offer(0))]
    );
    let fx = h.call("2");
    assert_eq!(
        fx,
        vec![received("2"), ringing("2", "B"), start(1, h.offer(1))]
    );
    let fx = h.call("3");
    assert_eq!(
        fx,
        vec![received("3"), ringing("3", "C"), start(2, h.offer(2))]
    );
    h.answer("A");
    h.answer("B");
    h.answer("C");
    // C, then A become available: the next call takes A, the higher priority.
    assert_eq!(h.hangup("3"), vec![finished("3", "C")]);
    assert_eq!(h.hangup("1"), vec![finished("1", "A")]);
    let fx = h.call("4");
    assert_eq!(
        fx,
        vec![received("4"), ringing("4", "A"), start(0, h.offer(0))]
    );
    let fx = h.call("5");
    assert_eq!(
        fx,
        vec![received("5"), ringing("5", "C"), start(2, h.offer(2))]
    );
    assert_eq!(h.engine.call_status("4"), Some(CallStatus::Ringing(0)));
    assert_eq!(h.engine.call_status("5"), Some(CallStatus::Ringing(2)));
    assert_eq!(h.status(1), busy("2"));
}

#[test]
fn call_waits_at_the_tail_when_nobody_is_available() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    assert_eq!(h.call("2"), vec![received("2"), queued("2")]);
    assert_eq!(h.call("3"), vec![received("3"), queued("3")]);
    assert_eq!(h.queue(), strs(&["2", "3"]));
    assert_eq!(h.engine.call_status("2"), Some(CallStatus::Queued));
    assert_eq!(h.engine.live_calls(), 3);
    // Busy (not only ringing) operators are not available either.
    h.answer("A");
    assert_eq!(h.call("4"), vec![received("4"), queued("4")]);
    assert_eq!(h.queue(), strs(&["2", "3", "4"]));
}

#[test]
fn answer_makes_the_operator_busy_and_cancels_the_ring_timer() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    let offer = h.offer(0);
    assert_eq!(h.answer("A"), vec![cancel(offer), answered("1", "A")]);
    assert_eq!(h.status(0), busy("1"));
    assert_eq!(h.engine.call_status("1"), Some(CallStatus::Active(0)));
    assert_eq!(h.status(1), OperatorStatus::Available);
    // The next call skips the busy operator.
    let fx = h.call("2");
    assert_eq!(
        fx,
        vec![received("2"), ringing("2", "B"), start(1, h.offer(1))]
    );
}

#[test]
fn reject_rings_another_available_operator() {
    let mut h = Harness::new(&["A", "B", "C"]);
    h.call("1");
    let first = h.offer(0);
    let fx = h.reject("A");
    let second = h.offer(1);
    assert_eq!(
        fx,
        vec![
            cancel(first),
            rejected("1", "A"),
            ringing("1", "B"),
            start(1, second)
        ]
    );
    assert_ne!(first, second);
    assert_eq!(h.status(0), OperatorStatus::Available);
    assert_eq!(h.status(2), OperatorStatus::Available);
    assert_eq!(h.queue(), vec![]);
    // B rejects: A and C are available and A comes first in priority order.
    let fx = h.reject("B");
    let third = h.offer(0);
    assert_eq!(
        fx,
        vec![
            cancel(second),
            rejected("1", "B"),
            ringing("1", "A"),
            start(0, third)
        ]
    );
}

#[test]
fn reject_skips_only_the_rejecting_operator_in_priority_order() {
    // B is busy; A rejects while C and D are available: C, the first other one.
    let mut h = Harness::new(&["A", "B", "C", "D"]);
    h.call("1");
    h.call("2");
    h.answer("B");
    h.hangup("1");
    h.call("3");
    assert_eq!(h.engine.call_status("3"), Some(CallStatus::Ringing(0)));
    let offer = h.offer(0);
    let fx = h.reject("A");
    assert_eq!(
        fx,
        vec![
            cancel(offer),
            rejected("3", "A"),
            ringing("3", "C"),
            start(2, h.offer(2))
        ]
    );
    assert_eq!(h.status(3), OperatorStatus::Available);
}

#[test]
fn reject_rings_the_same_operator_when_it_is_the_only_one() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let first = h.offer(0);
    let fx = h.reject("A");
    let second = h.offer(0);
    assert_ne!(first, second);
    assert_eq!(
        fx,
        vec![
            cancel(first),
            rejected("1", "A"),
            ringing("1", "A"),
            start(0, second)
        ]
    );
    assert_eq!(h.engine.call_status("1"), Some(CallStatus::Ringing(0)));
}

#[test]
fn reject_rings_the_same_operator_when_the_others_are_busy() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    h.answer("A");
    h.call("2");
    assert_eq!(h.engine.call_status("2"), Some(CallStatus::Ringing(1)));
    let first = h.offer(1);
    let fx = h.reject("B");
    assert_eq!(
        fx,
        vec![
            cancel(first),
            rejected("2", "B"),
            ringing("2", "B"),
            start(1, h.offer(1))
        ]
    );
}

#[test]
fn rejected_call_goes_to_the_head_before_older_waiting_calls() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    h.call("2");
    h.answer("A");
    h.call("3");
    h.call("4");
    assert_eq!(h.queue(), strs(&["3", "4"]));
    // B rejects 2: 3 and 4 waited longer, but 2 goes back to the head and
    // rings B again (the only available operator).
    let first = h.offer(1);
    let fx = h.reject("B");
    assert_eq!(
        fx,
        vec![
            cancel(first),
            rejected("2", "B"),
            ringing("2", "B"),
            start(1, h.offer(1))
        ]
    );
    assert_eq!(h.queue(), strs(&["3", "4"]));
    // When A frees up, the queue is still in arrival order.
    let fx = h.hangup("1");
    assert_eq!(
        fx,
        vec![finished("1", "A"), ringing("3", "A"), start(0, h.offer(0))]
    );
    assert_eq!(h.queue(), strs(&["4"]));
}

#[test]
fn ring_timeout_ignores_then_rings_another_operator() {
    let mut h = Harness::new(&["A", "B"]);
    let fx = h.call("1");
    let Effect::StartRingTimer { operator, offer } = fx[2] else {
        panic!("no ring timer in {fx:?}");
    };
    assert_eq!(operator, 0);
    let (applied, fx) = h.timeout(operator, offer);
    assert!(applied);
    // No CancelRingTimer: the timer has already fired.
    assert_eq!(
        fx,
        vec![ignored("1", "A"), ringing("1", "B"), start(1, h.offer(1))]
    );
    assert_eq!(h.status(0), OperatorStatus::Available);
    // B ignores it too: back to A.
    let b_offer = h.offer(1);
    let (applied, fx) = h.timeout(1, b_offer);
    assert!(applied);
    assert_eq!(
        fx,
        vec![ignored("1", "B"), ringing("1", "A"), start(0, h.offer(0))]
    );
}

#[test]
fn ring_timeout_rings_the_same_operator_when_it_is_the_only_one() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    h.answer("A");
    h.call("2");
    h.call("3");
    let offer = h.offer(1);
    let (applied, fx) = h.timeout(1, offer);
    assert!(applied);
    let again = h.offer(1);
    assert_ne!(offer, again);
    assert_eq!(
        fx,
        vec![ignored("2", "B"), ringing("2", "B"), start(1, again)]
    );
    assert_eq!(h.queue(), strs(&["3"]));
}

#[test]
fn hangup_of_an_answered_call_finishes_then_dispatches_the_queue_head() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    h.call("2");
    h.answer("A");
    h.answer("B");
    h.call("3");
    h.call("4");
    // Causal order: finished, then the ringing of the call that waited.
    let fx = h.hangup("2");
    assert_eq!(
        fx,
        vec![finished("2", "B"), ringing("3", "B"), start(1, h.offer(1))]
    );
    assert_eq!(h.queue(), strs(&["4"]));
    let fx = h.hangup("1");
    assert_eq!(
        fx,
        vec![finished("1", "A"), ringing("4", "A"), start(0, h.offer(0))]
    );
    assert_eq!(h.queue(), vec![]);
    // With nobody waiting, the operator just becomes available.
    h.answer("A");
    assert_eq!(h.hangup("4"), vec![finished("4", "A")]);
    assert_eq!(h.status(0), OperatorStatus::Available);
    assert_eq!(h.engine.call_status("4"), None);
}

#[test]
fn hangup_of_a_ringing_call_is_missed_and_frees_the_operator() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    let offer = h.offer(0);
    // Nobody waiting: missed, timer cancelled, and nothing else.
    assert_eq!(h.hangup("1"), vec![cancel(offer), missed("1")]);
    assert_eq!(h.status(0), OperatorStatus::Available);
    assert_eq!(h.engine.live_calls(), 0);

    // Somebody waiting: the head of the queue rings the freed operator.
    h.call("2");
    h.call("3");
    h.answer("B");
    h.call("4");
    h.call("5");
    assert_eq!(h.queue(), strs(&["4", "5"]));
    let offer = h.offer(0);
    let fx = h.hangup("2");
    assert_eq!(
        fx,
        vec![
            cancel(offer),
            missed("2"),
            ringing("4", "A"),
            start(0, h.offer(0))
        ]
    );
    assert_eq!(h.queue(), strs(&["5"]));
}

#[test]
fn hangup_of_a_waiting_call_is_missed_and_leaves_the_queue() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    h.call("2");
    h.call("3");
    h.call("4");
    let ring = h.status(0);
    assert_eq!(h.hangup("3"), vec![missed("3")]);
    assert_eq!(h.queue(), strs(&["2", "4"]));
    assert_eq!(h.hangup("2"), vec![missed("2")]);
    assert_eq!(h.hangup("4"), vec![missed("4")]);
    assert_eq!(h.queue(), vec![]);
    // The ringing operator is untouched.
    assert_eq!(h.status(0), ring);
    assert_eq!(h.engine.live_calls(), 1);
}

#[test]
fn ids_may_be_reused_after_the_call_ends() {
    let mut h = Harness::new(&["A"]);
    // Ended as a missed ringing call.
    h.call("1");
    h.hangup("1");
    let fx = h.call("1");
    assert_eq!(
        fx,
        vec![received("1"), ringing("1", "A"), start(0, h.offer(0))]
    );
    // Ended as a finished call.
    h.answer("A");
    h.hangup("1");
    let fx = h.call("1");
    assert_eq!(
        fx,
        vec![received("1"), ringing("1", "A"), start(0, h.offer(0))]
    );
    // Ended as a missed waiting call.
    h.call("2");
    assert_eq!(h.hangup("2"), vec![missed("2")]);
    assert_eq!(h.call("2"), vec![received("2"), queued("2")]);
    assert_eq!(h.queue(), strs(&["2"]));
}

#[test]
fn the_queue_is_first_in_first_out() {
    let mut h = Harness::new(&["A"]);
    h.call("0");
    let ids: Vec<String> = (1..=6).map(|i| i.to_string()).collect();
    for id in &ids {
        assert_eq!(h.call(id), vec![received(id), queued(id)]);
    }
    let mut current = "0".to_string();
    for id in &ids {
        h.answer("A");
        let fx = h.hangup(&current);
        assert_eq!(
            fx,
            vec![
                finished(&current, "A"),
                ringing(id, "A"),
                start(0, h.offer(0))
            ]
        );
        current = id.clone();
    }
    h.answer("A");
    assert_eq!(h.hangup(&current), vec![finished(&current, "A")]);
    assert_eq!(h.engine.live_calls(), 0);
}

// ---------------------------------------------------------------------------
// Errors: each refused with no effect and no change
// ---------------------------------------------------------------------------

#[test]
fn call_with_a_live_id_is_refused() {
    let mut h = Harness::new(&["A"]);
    h.call("1"); // ringing
    h.call("2"); // waiting
    let exists = |id: &str| Err(EngineError::CallExists(id.to_string()));
    assert_eq!(h.try_call("1"), exists("1"));
    assert_eq!(h.try_call("2"), exists("2"));
    h.answer("A"); // 1 is active
    assert_eq!(h.try_call("1"), exists("1"));
    assert_eq!(h.queue(), strs(&["2"]));
    assert_eq!(h.engine.live_calls(), 2);
}

#[test]
fn hangup_of_a_call_that_never_existed_is_refused() {
    let mut h = Harness::new(&["A"]);
    assert_eq!(
        h.try_hangup("1"),
        Err(EngineError::CallNotFound("1".into()))
    );
    h.call("1");
    h.call("2");
    assert_eq!(
        h.try_hangup("3"),
        Err(EngineError::CallNotFound("3".into()))
    );
    // Operator ids are not call ids.
    assert_eq!(
        h.try_hangup("A"),
        Err(EngineError::CallNotFound("A".into()))
    );
}

#[test]
fn hangup_of_a_call_that_already_ended_is_refused() {
    let mut h = Harness::new(&["A"]);
    let not_found = |id: &str| Err(EngineError::CallNotFound(id.to_string()));
    h.call("1");
    h.call("2");
    h.call("3");
    h.hangup("3"); // missed while waiting
    assert_eq!(h.try_hangup("3"), not_found("3"));
    h.hangup("1"); // missed while ringing; 2 rings now
    assert_eq!(h.try_hangup("1"), not_found("1"));
    h.answer("A");
    h.hangup("2"); // finished
    assert_eq!(h.try_hangup("2"), not_found("2"));
    assert_eq!(h.engine.live_calls(), 0);
}

#[test]
fn unknown_operators_are_refused() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    let not_found = |op: &str| Err(EngineError::OperatorNotFound(op.to_string()));
    assert_eq!(h.try_answer("Z"), not_found("Z"));
    assert_eq!(h.try_reject("Z"), not_found("Z"));
    // Case-sensitive.
    assert_eq!(h.try_answer("a"), not_found("a"));
    assert_eq!(h.try_reject("a"), not_found("a"));
    // A call id is not an operator id.
    assert_eq!(h.try_answer("1"), not_found("1"));
}

#[test]
fn answer_or_reject_without_a_ringing_call_is_refused() {
    let mut h = Harness::new(&["A", "B"]);
    let not_ringing = |op: &str| Err(EngineError::NotRinging(op.to_string()));
    // Available operator.
    assert_eq!(h.try_answer("A"), not_ringing("A"));
    assert_eq!(h.try_reject("A"), not_ringing("A"));
    h.call("1");
    assert_eq!(h.try_answer("B"), not_ringing("B"));
    assert_eq!(h.try_reject("B"), not_ringing("B"));
    // Busy operator.
    h.answer("A");
    assert_eq!(h.try_answer("A"), not_ringing("A"));
    assert_eq!(h.try_reject("A"), not_ringing("A"));
    // With calls waiting, too.
    h.call("2");
    h.answer("B");
    h.call("3");
    assert_eq!(h.try_answer("B"), not_ringing("B"));
    assert_eq!(h.try_reject("B"), not_ringing("B"));
    assert_eq!(h.queue(), strs(&["3"]));
}

#[test]
fn errors_do_not_disturb_later_commands() {
    // A refused command must not consume or corrupt anything: the same
    // script with every kind of error tried before each step gives the
    // same effects, offers included.
    let script: &[(&str, &str)] = &[
        ("call", "1"),
        ("call", "2"),
        ("reject", "A"),
        ("answer", "B"),
        ("call", "3"),
        ("hangup", "1"),
        ("answer", "A"),
        ("hangup", "3"),
        ("call", "1"),
        ("hangup", "2"),
    ];
    let operators = ["A", "B"];
    let run = |with_errors: bool| {
        let mut h = Harness::new(&operators);
        let mut all = Vec::new();
        for &(verb, id) in script {
            if with_errors {
                let mut refusals = vec![h.try_hangup("9"), h.try_answer("Z"), h.try_reject("Z")];
                for c in ["1", "2", "3"] {
                    refusals.push(match h.engine.call_status(c) {
                        Some(_) => h.try_call(c),
                        None => h.try_hangup(c),
                    });
                }
                for (i, op) in operators.iter().enumerate() {
                    if !matches!(h.status(i), OperatorStatus::Ringing { .. }) {
                        refusals.push(h.try_answer(op));
                        refusals.push(h.try_reject(op));
                    }
                }
                assert!(refusals.iter().all(Result::is_err), "{refusals:?}");
            }
            let fx = match verb {
                "call" => h.try_call(id),
                "answer" => h.try_answer(id),
                "reject" => h.try_reject(id),
                _ => h.try_hangup(id),
            };
            all.push(fx);
        }
        all
    };
    let clean = run(false);
    assert!(clean.iter().all(Result::is_ok), "{clean:?}");
    assert_eq!(run(true), clean);
}
