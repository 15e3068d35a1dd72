//! Ring timers and offers (a fresh `OfferId` on every ring, the right
//! `CancelRingTimer`, stale timeouts that do nothing), and the seed script of
//! SPEC §8 rendered in English and Portuguese and compared with the exact
//! expected transcripts (copied here, never read at run time).

mod support;

use std::collections::HashSet;

use callcenter::engine::*;
use callcenter::messages::Lang;
use support::engine::*;

// ---------------------------------------------------------------------------
// Timers and offers
// ---------------------------------------------------------------------------

#[test]
fn every_ring_starts_a_timer_with_a_fresh_offer() {
    let mut h = Harness::new(&["A", "B"]);
    let mut offers = Vec::new();
    let mut collect = |fx: Vec<Effect>| {
        for effect in fx {
            if let Effect::StartRingTimer { offer, .. } = effect {
                offers.push(offer);
            }
        }
    };
    collect(h.call("1"));
    collect(h.call("2"));
    collect(h.reject("A"));
    collect(h.reject("B"));
    collect(h.reject("A"));
    let offer = h.offer(0);
    collect(h.timeout(0, offer).1);
    collect(h.hangup("1"));
    collect(h.call("1"));
    collect(h.call("3"));
    collect(h.hangup("2"));
    assert_eq!(offers.len(), 8);
    let unique: HashSet<_> = offers.iter().collect();
    assert_eq!(unique.len(), offers.len(), "offers reused: {offers:?}");
}

#[test]
fn the_right_timer_is_cancelled() {
    let mut h = Harness::new(&["A", "B", "C"]);
    h.call("1");
    h.call("2");
    h.call("3");
    let (a, b, c) = (h.offer(0), h.offer(1), h.offer(2));
    assert_eq!(h.answer("B"), vec![cancel(b), answered("2", "B")]);
    assert_eq!(h.hangup("3"), vec![cancel(c), missed("3")]);
    let fx = h.reject("A");
    assert_eq!(
        fx,
        vec![
            cancel(a),
            rejected("1", "A"),
            ringing("1", "C"),
            start(2, h.offer(2))
        ]
    );
}

#[test]
fn a_timeout_after_answer_is_stale() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    let offer = h.offer(0);
    h.answer("A");
    assert_eq!(h.timeout(0, offer), (false, vec![]));
    assert_eq!(h.status(0), busy("1"));
}

#[test]
fn a_timeout_after_reject_is_stale() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    let offer = h.offer(0);
    h.reject("A"); // now ringing B with a new offer
    assert_eq!(h.timeout(0, offer), (false, vec![]));
    // Nor does the old offer act on the operator now ringing the call.
    assert_eq!(h.timeout(1, offer), (false, vec![]));
    assert_eq!(h.engine.call_status("1"), Some(CallStatus::Ringing(1)));
}

#[test]
fn a_timeout_after_hangup_is_stale() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let offer = h.offer(0);
    h.hangup("1");
    assert_eq!(h.timeout(0, offer), (false, vec![]));
    assert_eq!(h.status(0), OperatorStatus::Available);
}

#[test]
fn a_timeout_that_already_fired_is_stale() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let offer = h.offer(0);
    assert!(h.timeout(0, offer).0);
    assert_eq!(h.timeout(0, offer), (false, vec![]));
}

#[test]
fn an_old_offer_does_not_expire_the_same_call_ringing_again() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let old = h.offer(0);
    h.reject("A"); // the same call rings the same operator, new offer
    let new = h.offer(0);
    assert_eq!(h.timeout(0, old), (false, vec![]));
    assert_eq!(h.status(0), ringing_status("1", new));
    let (applied, fx) = h.timeout(0, new);
    assert!(applied);
    assert_eq!(
        fx,
        vec![ignored("1", "A"), ringing("1", "A"), start(0, h.offer(0))]
    );
}

#[test]
fn an_old_offer_does_not_expire_another_call_on_the_same_operator() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let old = h.offer(0);
    h.call("2");
    h.hangup("1"); // 2 rings A with a new offer
    let new = h.offer(0);
    assert_eq!(h.timeout(0, old), (false, vec![]));
    assert_eq!(h.status(0), ringing_status("2", new));
}

#[test]
fn an_old_offer_does_not_expire_a_new_call_with_the_same_id() {
    let mut h = Harness::new(&["A"]);
    h.call("1");
    let old = h.offer(0);
    h.hangup("1");
    h.call("1"); // same id, same operator, new offer
    let new = h.offer(0);
    assert_eq!(h.timeout(0, old), (false, vec![]));
    assert_eq!(h.status(0), ringing_status("1", new));
}

#[test]
fn a_timeout_naming_the_wrong_operator_does_nothing() {
    let mut h = Harness::new(&["A", "B"]);
    h.call("1");
    h.call("2");
    let (a, b) = (h.offer(0), h.offer(1));
    assert_eq!(h.timeout(1, a), (false, vec![]));
    assert_eq!(h.timeout(0, b), (false, vec![]));
    assert_eq!(h.timeout(2, a), (false, vec![]));
    assert_eq!(h.timeout(usize::MAX, a), (false, vec![]));
    assert_eq!(h.status(0), ringing_status("1", a));
    assert_eq!(h.status(1), ringing_status("2", b));
}

// ---------------------------------------------------------------------------
// SPEC §8: the seed script
// ---------------------------------------------------------------------------

const SEED_CMDS: &str = "\
call 1
answer A
hangup 1
call 2
call 3
answer A
answer B
call 4
call 5
hangup 3
hangup 2
answer B
reject A
call 6
hangup 5
call 7
hangup 7
hangup 6
hangup 4
";

const SEED_EN: &str = "\
Call 1 received
Call 1 ringing for operator A
Call 1 answered by operator A
Call 1 finished and operator A available
Call 2 received
Call 2 ringing for operator A
Call 3 received
Call 3 ringing for operator B
Call 2 answered by operator A
Call 3 answered by operator B
Call 4 received
Call 4 waiting in queue
Call 5 received
Call 5 waiting in queue
Call 3 finished and operator B available
Call 4 ringing for operator B
Call 2 finished and operator A available
Call 5 ringing for operator A
Call 4 answered by operator B
Call 5 rejected by operator A
Call 5 ringing for operator A
Call 6 received
Call 6 waiting in queue
Call 5 missed
Call 6 ringing for operator A
Call 7 received
Call 7 waiting in queue
Call 7 missed
Call 6 missed
Call 4 finished and operator B available
";

const SEED_PT: &str = "\
Chamada 1 recebida
Chamada 1 tocando para o operador A
Chamada 1 atendida pelo operador A
Chamada 1 concluída e operador A disponível
Chamada 2 recebida
Chamada 2 tocando para o operador A
Chamada 3 recebida
Chamada 3 tocando para o operador B
Chamada 2 atendida pelo operador A
Chamada 3 atendida pelo operador B
Chamada 4 recebida
Chamada 4 aguardando na fila
Chamada 5 recebida
Chamada 5 aguardando na fila
Chamada 3 concluída e operador B disponível
Chamada 4 tocando para o operador B
Chamada 2 concluída e operador A disponível
Chamada 5 tocando para o operador A
Chamada 4 atendida pelo operador B
Chamada 5 rejeitada pelo operador A
Chamada 5 tocando para o operador A
Chamada 6 recebida
Chamada 6 aguardando na fila
Chamada 5 perdida
Chamada 6 tocando para o operador A
Chamada 7 recebida
Chamada 7 aguardando na fila
Chamada 7 perdida
Chamada 6 perdida
Chamada 4 concluída e operador B disponível
";

fn render(lang: Lang, effects: &[Effect], text: &mut String) {
    for effect in effects {
        if let Effect::Event(event) = effect {
            lang.write_event(event, text);
            text.push('\n');
        }
    }
}

/// Runs `cmds` (one `verb id` a line) on operators A and B through the
/// harness, returning the rendered transcript and the harness.
fn run_script(cmds: &str, lang: Lang) -> (String, Harness) {
    let mut h = Harness::new(&["A", "B"]);
    let mut text = String::new();
    for line in cmds.lines() {
        let (verb, id) = line.split_once(' ').expect("verb and id");
        let fx = match verb {
            "call" => h.call(id),
            "answer" => h.answer(id),
            "reject" => h.reject(id),
            "hangup" => h.hangup(id),
            other => panic!("unexpected verb {other}"),
        };
        render(lang, &fx, &mut text);
    }
    (text, h)
}

#[test]
fn seed_script_in_english() {
    let (text, h) = run_script(SEED_CMDS, Lang::En);
    assert_eq!(text, SEED_EN);
    assert_eq!(h.engine.live_calls(), 0);
    assert_eq!(h.status(0), OperatorStatus::Available);
    assert_eq!(h.status(1), OperatorStatus::Available);
    assert!(h.live_timers.is_empty());
}

#[test]
fn seed_script_in_portuguese() {
    let (text, h) = run_script(SEED_CMDS, Lang::Pt);
    assert_eq!(text, SEED_PT);
    assert_eq!(h.engine.live_calls(), 0);
}

#[test]
fn seed_timeout_bonus() {
    // `call 1` then the ring timeout expires: ignored by A, rings B.
    for (lang, expected) in [
        (
            Lang::En,
            "Call 1 received\nCall 1 ringing for operator A\n\
             Call 1 ignored by operator A\nCall 1 ringing for operator B\n",
        ),
        (
            Lang::Pt,
            "Chamada 1 recebida\nChamada 1 tocando para o operador A\n\
             Chamada 1 ignorada pelo operador A\nChamada 1 tocando para o operador B\n",
        ),
    ] {
        let (mut text, mut h) = run_script("call 1", lang);
        let offer = h.offer(0);
        let (applied, fx) = h.timeout(0, offer);
        assert!(applied);
        render(lang, &fx, &mut text);
        assert_eq!(text, expected);
    }
}
