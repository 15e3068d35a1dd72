//! Scale, by counting rather than timing: a million waiting calls (200,000
//! in unoptimized builds, see [`WAITING`]) and a hundred thousand operators.

mod support;

use callcenter::engine::*;
use support::engine::*;

// ---------------------------------------------------------------------------
// Scale, by counting (these use the engine directly: the harness's O(n)
// checks after every command would be quadratic)
// ---------------------------------------------------------------------------

/// Waiting calls in `a_million_waiting_calls`: a million in release builds
/// (`cargo test --release`, about 3 s here). An unoptimized build takes about
/// 6 µs a call plus 2.5 µs a call for `check_invariants` (9.5 s in all for a
/// million, measured), so debug builds use 200,000 (about 2 s).
const WAITING: usize = if cfg!(debug_assertions) {
    200_000
} else {
    1_000_000
};

#[test]
fn a_million_waiting_calls() {
    let mut engine = Engine::new(["A"]).unwrap();
    let mut out = Vec::new();
    engine.call("head-ringing", &mut out).unwrap();
    engine.answer("A", &mut out).unwrap();
    out.clear();
    let ids: Vec<String> = (0..WAITING).map(|i| i.to_string()).collect();
    for id in &ids {
        engine.call(id, &mut out).unwrap();
        // Received and Queued, nothing else.
        assert_eq!(out.len(), 2);
        out.clear();
    }
    assert_eq!(engine.live_calls(), WAITING + 1);

    // One in the middle leaves.
    let middle = &ids[WAITING / 2];
    engine.hangup(middle, &mut out).unwrap();
    assert_eq!(out, vec![missed(middle)]);
    out.clear();
    // The head leaves.
    engine.hangup(&ids[0], &mut out).unwrap();
    assert_eq!(out, vec![missed(&ids[0])]);
    out.clear();
    // One joins at the tail.
    engine.call("tail", &mut out).unwrap();
    assert_eq!(out, vec![received("tail"), queued("tail")]);
    out.clear();
    assert_eq!(engine.live_calls(), WAITING);
    engine.check_invariants().unwrap();

    let queue = engine.queued_calls();
    assert_eq!(queue.len(), WAITING - 1);
    assert_eq!(&*queue[0], "1");
    assert_eq!(&*queue[WAITING / 2 - 2], ids[WAITING / 2 - 1].as_str());
    assert_eq!(&*queue[WAITING / 2 - 1], ids[WAITING / 2 + 1].as_str());
    assert_eq!(&*queue[WAITING - 3], ids[WAITING - 1].as_str());
    assert_eq!(&*queue[WAITING - 2], "tail");
    drop(queue);

    // The new head (call 1) is the one dispatched when A frees up.
    engine.hangup("head-ringing", &mut out).unwrap();
    let offer = match engine.operator_status(0) {
        Some(OperatorStatus::Ringing { offer, .. }) => offer,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        out,
        vec![
            finished("head-ringing", "A"),
            ringing("1", "A"),
            start(0, offer)
        ]
    );
    out.clear();
    // It rejects: call 1 goes back to the head, and rings A again.
    engine.reject("A", &mut out).unwrap();
    let again = match engine.operator_status(0) {
        Some(OperatorStatus::Ringing { offer, .. }) => offer,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        out,
        vec![
            cancel(offer),
            rejected("1", "A"),
            ringing("1", "A"),
            start(0, again)
        ]
    );
    assert_eq!(engine.live_calls(), WAITING - 1);
}

/// Operators in `a_hundred_thousand_operators`.
const OPERATORS: usize = 100_000;

#[test]
fn a_hundred_thousand_operators() {
    let names: Vec<String> = (0..OPERATORS).map(|i| format!("op{i}")).collect();
    let mut engine = Engine::new(&names).unwrap();
    assert_eq!(engine.operator_count(), OPERATORS);
    let mut out = Vec::new();
    // Each call rings the first available operator: the i-th one.
    for (i, name) in names.iter().enumerate() {
        engine.call(&format!("c{i}"), &mut out).unwrap();
        match out.as_slice() {
            [
                Effect::Event(Event::Received { .. }),
                Effect::Event(Event::Ringing { operator, .. }),
                Effect::StartRingTimer {
                    operator: index, ..
                },
            ] => {
                assert_eq!(**operator, **name);
                assert_eq!(*index, i);
            }
            other => panic!("call {i}: {other:?}"),
        }
        out.clear();
    }
    engine.check_invariants().unwrap();
    // Everyone is ringing: the next call waits.
    engine.call("waiting", &mut out).unwrap();
    assert_eq!(out, vec![received("waiting"), queued("waiting")]);
    out.clear();

    // The call ringing in the middle hangs up: the waiting call rings there.
    let mid = OPERATORS / 2;
    let old = match engine.operator_status(mid) {
        Some(OperatorStatus::Ringing { offer, .. }) => offer,
        other => panic!("{other:?}"),
    };
    engine.hangup(&format!("c{mid}"), &mut out).unwrap();
    let new = match engine.operator_status(mid) {
        Some(OperatorStatus::Ringing { offer, .. }) => offer,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        out,
        vec![
            cancel(old),
            missed(&format!("c{mid}")),
            ringing("waiting", &names[mid]),
            start(mid, new)
        ]
    );
    out.clear();

    // Free the last operator, then one near the front: a new call takes
    // the near-front one (priority), the next one the last.
    let last = OPERATORS - 1;
    engine.hangup(&format!("c{last}"), &mut out).unwrap();
    engine.hangup("c3", &mut out).unwrap();
    out.clear();
    engine.call("x", &mut out).unwrap();
    assert!(matches!(
        out.as_slice(),
        [_, _, Effect::StartRingTimer { operator: 3, .. }]
    ));
    out.clear();
    engine.call("y", &mut out).unwrap();
    assert!(matches!(
        out.as_slice(),
        [_, _, Effect::StartRingTimer { operator, .. }] if *operator == last
    ));
    out.clear();
    // The last operator rejects: nobody else is free, so it rings there again.
    engine
        .reject(&names[last], &mut out)
        .expect("last operator is ringing");
    assert_eq!(out.len(), 4);
    assert_eq!(out[2], ringing("y", &names[last]));
    engine.check_invariants().unwrap();
    assert_eq!(engine.live_calls(), OPERATORS);
}
