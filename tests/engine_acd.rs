//! The ACD of SPEC §9 through whole transcripts: each script runs on the
//! engine with time as an argument, timers fired by hand, every event and
//! error rendered through `messages` in the language given, and the whole
//! text compared. Errors are shown as `! ` lines (stderr in the modes).

use std::time::Duration;

use callcenter::engine::*;
use callcenter::messages::Lang;

/// Runs `script` (one command a line; `at SECS` sets the time; `timeout OP`
/// and `wrapup OP` fire that operator's pending timer) and returns the text.
fn run(operators: &[&str], config: Config, lang: Lang, script: &str) -> String {
    let mut engine = Engine::with_config(operators.iter().copied(), config).unwrap();
    let mut now = Duration::ZERO;
    let mut text = String::new();
    let mut wrap_ups = std::collections::HashMap::new();
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut out = Vec::new();
        let arg = words.get(1).copied().unwrap_or("");
        let result = match words[0] {
            "at" => {
                now = Duration::from_secs_f64(arg.parse().unwrap());
                continue;
            }
            "call" => {
                let p = words.get(2).map_or(0, |p| p.parse().unwrap());
                engine.call_at(arg, Priority::new(p).unwrap(), now, &mut out)
            }
            "answer" => engine.answer_at(arg, now, &mut out),
            "reject" => engine.reject_at(arg, now, &mut out),
            "hangup" => engine.hangup_at(arg, now, &mut out),
            "pause" => engine.pause(arg, words.get(2).copied(), now, &mut out),
            "unpause" => engine.unpause(arg, now, &mut out),
            "login" => engine.login(arg, now, &mut out),
            "logout" => engine.logout(arg, now, &mut out),
            "timeout" => {
                let index = engine.operator_position(arg).unwrap();
                let Some(OperatorStatus::Ringing { offer, .. }) = engine.operator_status(index)
                else {
                    panic!("{arg} is not ringing");
                };
                assert!(engine.ring_timeout_at(index, offer, now, &mut out));
                Ok(())
            }
            "wrapup" => {
                let index = engine.operator_position(arg).unwrap();
                let id = wrap_ups.remove(&index).expect("a wrap-up timer");
                engine.wrap_up_over(index, id, now, &mut out);
                Ok(())
            }
            "status" => {
                lang.write_status(&engine.status(now), &mut text);
                continue;
            }
            "stats" => {
                lang.write_stats(&engine.stats(), &mut text);
                continue;
            }
            other => panic!("unknown script command {other}"),
        };
        if let Err(error) = result {
            assert!(out.is_empty());
            text.push_str("! ");
            lang.write_error(&error, &mut text);
            text.push('\n');
        }
        for effect in &out {
            match effect {
                Effect::Event(event) => {
                    lang.write_event(event, &mut text);
                    text.push('\n');
                }
                Effect::StartWrapUpTimer {
                    operator, wrap_up, ..
                } => {
                    wrap_ups.insert(*operator, *wrap_up);
                }
                Effect::CancelWrapUpTimer { wrap_up } => {
                    wrap_ups.retain(|_, w| w != wrap_up);
                }
                _ => {}
            }
        }
        engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    text
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn pause_unpause_login_logout_and_their_errors_in_english() {
    let script = "
        pause A lunch
        pause A
        call 1
        unpause A
        unpause A
        pause Z
        logout B
        pause B
        login B
        answer A
        logout A
        login C
        call 2
        hangup 1
        logout B
        pause B
    ";
    let expected = "\
Operator A paused (lunch)
! Operator A already paused
Call 1 received
Call 1 ringing for operator B
Operator A unpaused
! Operator A not paused
! Operator Z not found
! Operator B is busy
Operator B paused
! Operator B already logged in
! Operator A has no ringing call
Operator A logged out
Operator C logged in
Call 2 received
Call 2 ringing for operator C
Call 1 missed
Operator B logged out
! Operator B not logged in
";
    assert_eq!(
        run(&["A", "B"], Config::default(), Lang::En, script),
        expected
    );
}

#[test]
fn wrap_up_auto_pause_and_paused_finish_in_portuguese() {
    let config = Config {
        wrap_up: secs(5),
        max_no_answer: 1,
        ..Config::default()
    };
    let script = "
        call 1
        answer A
        at 3
        hangup 1
        call 2
        at 8
        wrapup A
        timeout B
        answer A
        pause A
        hangup 2
        unpause A
    ";
    let expected = "\
Chamada 1 recebida
Chamada 1 tocando para o operador A
Chamada 1 atendida pelo operador A
Chamada 1 concluída e operador A em pós-atendimento
Chamada 2 recebida
Chamada 2 tocando para o operador B
Operador A disponível
Chamada 2 ignorada pelo operador B
Operador B em pausa após 1 chamada não atendida
Chamada 2 tocando para o operador A
Chamada 2 atendida pelo operador A
Operador A em pausa
Chamada 2 concluída e operador A em pausa
Operador A saiu da pausa
";
    assert_eq!(run(&["A", "B"], config, Lang::Pt, script), expected);
}

/// A declined call returns to the head of its own priority: the priority-5
/// call that arrived meanwhile stays ahead of it.
#[test]
fn priorities_max_calls_status_and_stats() {
    let config = Config {
        max_calls: 2,
        max_no_answer: 2,
        ..Config::default()
    };
    let script = "
        call 1
        call 2
        call 3 5
        call 4
        at 12.7
        status
        reject A
        answer A
        at 20
        hangup 3
        at 30
        answer A
        stats
    ";
    let expected = "\
Call 1 received
Call 1 ringing for operator A
Call 2 received
Call 2 waiting in queue
Call 3 received
Call 3 waiting in queue
! Call 4 refused: queue full
Queue: 2 waiting, longest wait 12 s
Operator A: ringing call 1
Waiting: 3, 2
Call 1 rejected by operator A
Call 3 ringing for operator A
Call 3 answered by operator A
Call 3 finished and operator A available
Call 1 ringing for operator A
Call 1 answered by operator A
Calls: 3 received, 2 answered, 1 finished, 0 missed
Rings: 1 rejected, 0 ignored
Wait: average 21.4 s, longest 30.0 s
Service level: 50.0% within 20 s
Operator A: 2 answered, 1 rejected, 0 ignored, talk 7.3 s
";
    assert_eq!(run(&["A"], config, Lang::En, script), expected);
}

#[test]
fn status_and_stats_in_portuguese_with_a_decimal_comma() {
    let script = "
        status
        call 1
        at 2.5
        answer A
        pause B almoço
        call 2
        call 3
        at 10
        status
        hangup 1
        stats
    ";
    let expected = "\
Fila: 0 aguardando, maior espera 0 s
Operador A: livre
Operador B: livre
Chamada 1 recebida
Chamada 1 tocando para o operador A
Chamada 1 atendida pelo operador A
Operador B em pausa (almoço)
Chamada 2 recebida
Chamada 2 aguardando na fila
Chamada 3 recebida
Chamada 3 aguardando na fila
Fila: 2 aguardando, maior espera 7 s
Operador A: em atendimento da chamada 1
Operador B: livre, em pausa (almoço)
Aguardando: 2, 3
Chamada 1 concluída e operador A disponível
Chamada 2 tocando para o operador A
Chamadas: 3 recebidas, 1 atendidas, 1 concluídas, 0 perdidas
Toques: 0 rejeitados, 0 ignorados
Espera: média 2,5 s, máxima 2,5 s
Nível de serviço: 100,0% em até 20 s
Operador A: 1 atendidas, 0 rejeitadas, 0 ignoradas, conversa 7,5 s
Operador B: 0 atendidas, 0 rejeitadas, 0 ignoradas, conversa 0,0 s
";
    assert_eq!(
        run(&["A", "B"], Config::default(), Lang::Pt, script),
        expected
    );
}

#[test]
fn ring_all_rings_everyone_and_the_first_answer_takes_it() {
    let config = Config {
        strategy: Strategy::RingAll,
        ..Config::default()
    };
    let script = "
        call 1
        reject B
        answer A
        call 2
        timeout B
        hangup 2
    ";
    let expected = "\
Call 1 received
Call 1 ringing for operator A
Call 1 ringing for operator B
Call 1 ringing for operator C
Call 1 rejected by operator B
Call 1 answered by operator A
Call 2 received
Call 2 ringing for operator B
Call 2 ringing for operator C
Call 2 ignored by operator B
Call 2 missed
";
    assert_eq!(run(&["A", "B", "C"], config, Lang::En, script), expected);
}

#[test]
fn round_robin_longest_idle_and_fewest_calls_choose_by_order_of_events() {
    let rr = Config {
        strategy: Strategy::RoundRobin,
        ..Config::default()
    };
    let text = run(
        &["A", "B", "C"],
        rr,
        Lang::En,
        "call 1\nhangup 1\ncall 2\nhangup 2\ncall 3\nhangup 3\ncall 4",
    );
    let rung: Vec<&str> = text.lines().filter(|l| l.contains("ringing")).collect();
    assert_eq!(
        rung,
        [
            "Call 1 ringing for operator A",
            "Call 2 ringing for operator B",
            "Call 3 ringing for operator C",
            "Call 4 ringing for operator A"
        ]
    );
    let idle = Config {
        strategy: Strategy::LongestIdle,
        ..Config::default()
    };
    let text = run(
        &["A", "B"],
        idle,
        Lang::En,
        "call 1\nanswer A\nhangup 1\ncall 2",
    );
    assert!(text.ends_with("Call 2 ringing for operator B\n"), "{text}");
    let fewest = Config {
        strategy: Strategy::FewestCalls,
        ..Config::default()
    };
    let text = run(
        &["A", "B"],
        fewest,
        Lang::En,
        "call 1\nanswer A\nhangup 1\ncall 2\nanswer B\nhangup 2\ncall 3",
    );
    assert!(text.ends_with("Call 3 ringing for operator A\n"), "{text}");
}

#[test]
fn random_is_reproducible_with_a_seed() {
    let script = "call 1\ncall 2\ncall 3\nhangup 1\nhangup 2\nhangup 3\ncall 4\ncall 5";
    let config = |seed| Config {
        strategy: Strategy::Random,
        seed,
        ..Config::default()
    };
    let a = run(&["A", "B", "C", "D", "E"], config(42), Lang::En, script);
    assert_eq!(
        a,
        run(&["A", "B", "C", "D", "E"], config(42), Lang::En, script)
    );
    let differ =
        (0..20u64).any(|s| run(&["A", "B", "C", "D", "E"], config(s), Lang::En, script) != a);
    assert!(differ, "the seed must matter");
}
