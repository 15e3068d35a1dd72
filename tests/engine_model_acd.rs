//! The ACD against a reference model (proptest, fixed seed, plus a long
//! deterministic walk): every command (call with a priority, answer, reject,
//! hangup, pause with or without a reason, unpause, login, logout), ring
//! and wrap-up timers (live and stale), the passing of time, and every
//! strategy, with wrap-up, auto-pause and the queue cap on or off.
//!
//! The model is deliberately naive: a `Vec` for the queue kept in dispatch
//! order, linear scans to choose an operator, the rules of SPEC §9 written
//! as plainly as possible. After every step the effects (events and timers,
//! in order), the errors, and the whole `status` and `stats` snapshots must
//! be equal. `random` cannot be predicted by a naive model: there it checks
//! that each operator rung is one the rules allow, and follows the engine.

mod support;

use std::time::Duration;

use callcenter::engine::*;
use proptest::prelude::{ProptestConfig, Strategy as _, prop_oneof, proptest};
use proptest::test_runner::RngSeed;
use support::acd_model::{Act, Model};

/// Operator names: the first ones may be given at start, any may log in;
/// the last never exists.
const NAMES: [&str; 7] = ["A", "B", "C", "D", "E", "F", "Z"];
/// Call ids: few, so that collisions and reuse happen often.
const CALL_IDS: [&str; 6] = ["1", "2", "3", "4", "5", "6"];
const REASONS: [Option<&str>; 3] = [None, Some("lunch"), Some(NO_ANSWER_REASON)];

#[derive(Clone, Debug)]
enum Cmd {
    Call(usize, u8),
    /// Operator indices name `NAMES` (the last never exists).
    Answer(usize),
    Reject(usize),
    Hangup(usize),
    Pause(usize, usize),
    Unpause(usize),
    Login(usize),
    Logout(usize),
    /// The timer of one of the currently ringing offers expires.
    TimeoutRinging(usize),
    /// The timer of any offer ever made (mostly stale) expires.
    TimeoutAny(usize),
    /// The timer of one of the current wrap-ups expires.
    WrapUpLive(usize),
    /// The timer of any wrap-up ever started (mostly stale) expires.
    WrapUpAny(usize),
    /// Time passes (milliseconds).
    Advance(u64),
}

struct Checker {
    engine: Engine,
    model: Model,
    /// Every offer and wrap-up ever started: (operator, id).
    offers: Vec<(usize, u64)>,
    wrap_ups: Vec<(usize, u64)>,
}

impl Checker {
    fn new(initial: usize, config: Config) -> Checker {
        let names = &NAMES[..initial];
        Checker {
            engine: Engine::with_config(names.iter().copied(), config.clone()).unwrap(),
            model: Model::new(names, config),
            offers: Vec::new(),
            wrap_ups: Vec::new(),
        }
    }

    fn step(&mut self, cmd: &Cmd) {
        let (e, m) = (&mut self.engine, &mut self.model);
        let now = m.now;
        let mut ef = Vec::new();
        let mut mf = Vec::new();
        // Runs the engine first, so that `random` knows whom it rang.
        macro_rules! both {
            ($engine:expr, $model:expr) => {{
                let engine_result = $engine;
                m.random_picks = ringing_names(&ef);
                let model_result = $model;
                if m.config.strategy == Strategy::Random {
                    assert!(m.random_picks.is_empty(), "{cmd:?}: the engine rang more");
                }
                m.random_picks.clear();
                (engine_result, model_result)
            }};
        }
        let (engine_result, model_result) = match *cmd {
            Cmd::Call(c, p) => both!(
                e.call_at(CALL_IDS[c], Priority::new(p).unwrap(), now, &mut ef),
                m.call(CALL_IDS[c], p, &mut mf)
            ),
            Cmd::Answer(o) => both!(
                e.answer_at(NAMES[o], now, &mut ef),
                m.answer(NAMES[o], &mut mf)
            ),
            Cmd::Reject(o) => both!(
                e.reject_at(NAMES[o], now, &mut ef),
                m.reject(NAMES[o], &mut mf)
            ),
            Cmd::Hangup(c) => both!(
                e.hangup_at(CALL_IDS[c], now, &mut ef),
                m.hangup(CALL_IDS[c], &mut mf)
            ),
            Cmd::Pause(o, r) => both!(
                e.pause(NAMES[o], REASONS[r], now, &mut ef),
                m.pause(NAMES[o], REASONS[r], &mut mf)
            ),
            Cmd::Unpause(o) => both!(
                e.unpause(NAMES[o], now, &mut ef),
                m.unpause(NAMES[o], &mut mf)
            ),
            Cmd::Login(o) => both!(e.login(NAMES[o], now, &mut ef), m.login(NAMES[o], &mut mf)),
            Cmd::Logout(o) => both!(
                e.logout(NAMES[o], now, &mut ef),
                m.logout(NAMES[o], &mut mf)
            ),
            Cmd::TimeoutRinging(pick) | Cmd::TimeoutAny(pick) => {
                let live: Vec<(usize, u64)> = (0..m.ops.len())
                    .filter_map(|i| match m.ops[i].act {
                        Act::Ringing { offer, .. } => Some((i, offer)),
                        _ => None,
                    })
                    .collect();
                let pool = if matches!(cmd, Cmd::TimeoutRinging(_)) {
                    &live
                } else {
                    &self.offers
                };
                let Some(&(op, offer)) = pool.get(pick % pool.len().max(1)) else {
                    return self.check();
                };
                let (applied, expected) = both!(
                    e.ring_timeout_at(op, OfferId(offer), now, &mut ef),
                    m.ring_timeout(op, offer, &mut mf)
                );
                assert_eq!(applied, expected, "{cmd:?}");
                (Ok(()), Ok(()))
            }
            Cmd::WrapUpLive(pick) | Cmd::WrapUpAny(pick) => {
                let live: Vec<(usize, u64)> = (0..m.ops.len())
                    .filter_map(|i| match m.ops[i].act {
                        Act::WrapUp { id } => Some((i, id)),
                        _ => None,
                    })
                    .collect();
                let pool = if matches!(cmd, Cmd::WrapUpLive(_)) {
                    &live
                } else {
                    &self.wrap_ups
                };
                let Some(&(op, id)) = pool.get(pick % pool.len().max(1)) else {
                    return self.check();
                };
                let (applied, expected) = both!(
                    e.wrap_up_over(op, WrapUpId(id), now, &mut ef),
                    m.wrap_up_over(op, id, &mut mf)
                );
                assert_eq!(applied, expected, "{cmd:?}");
                (Ok(()), Ok(()))
            }
            Cmd::Advance(ms) => {
                m.now += Duration::from_millis(ms);
                (Ok(()), Ok(()))
            }
        };
        assert_eq!(engine_result, model_result, "{cmd:?}");
        if engine_result.is_err() {
            assert_eq!(ef, vec![], "{cmd:?}: an error pushed effects");
        }
        assert_eq!(ef, mf, "{cmd:?}");
        for effect in &ef {
            match *effect {
                Effect::StartRingTimer { operator, offer } => self.offers.push((operator, offer.0)),
                Effect::StartWrapUpTimer {
                    operator, wrap_up, ..
                } => self.wrap_ups.push((operator, wrap_up.0)),
                _ => {}
            }
        }
        self.check();
    }

    fn check(&self) {
        self.engine
            .check_invariants()
            .unwrap_or_else(|e| panic!("invariant broken: {e}"));
        assert_eq!(self.engine.status(self.model.now), self.model.status());
        assert_eq!(self.engine.stats(), self.model.stats());
        for (i, op) in self.model.ops.iter().enumerate() {
            assert_eq!(self.engine.is_paused(i), op.pause.is_some());
        }
    }
}

/// The operators rung, in order, by a list of effects.
fn ringing_names(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(Event::Ringing { operator, .. }) => Some(operator.to_string()),
            _ => None,
        })
        .collect()
}

fn command() -> impl proptest::strategy::Strategy<Value = Cmd> {
    let call = 0..CALL_IDS.len();
    let operator = 0..NAMES.len();
    prop_oneof![
        5 => (call.clone(), 0..=9u8).prop_map(|(c, p)| Cmd::Call(c, p % 3 * 4)),
        4 => operator.clone().prop_map(Cmd::Answer),
        2 => operator.clone().prop_map(Cmd::Reject),
        4 => call.prop_map(Cmd::Hangup),
        1 => (operator.clone(), 0..REASONS.len()).prop_map(|(o, r)| Cmd::Pause(o, r)),
        1 => operator.clone().prop_map(Cmd::Unpause),
        1 => (0..NAMES.len() - 1).prop_map(Cmd::Login),
        1 => operator.prop_map(Cmd::Logout),
        2 => (0..1024usize).prop_map(Cmd::TimeoutRinging),
        1 => (0..1024usize).prop_map(Cmd::TimeoutAny),
        2 => (0..1024usize).prop_map(Cmd::WrapUpLive),
        1 => (0..1024usize).prop_map(Cmd::WrapUpAny),
        2 => (0..30_000u64).prop_map(Cmd::Advance),
    ]
}

fn config() -> impl proptest::strategy::Strategy<Value = Config> {
    (
        0..Strategy::ALL.len(),
        proptest::num::u64::ANY,
        0..2u64,
        0..3u32,
        0..4usize,
        0..3u64,
    )
        .prop_map(|(s, seed, wrap, max_no_answer, max_calls, level)| Config {
            strategy: Strategy::ALL[s],
            seed,
            wrap_up: Duration::from_secs(wrap * 5),
            max_no_answer,
            service_level: Duration::from_millis(level * 7_500),
            max_calls,
        })
}

/// Deterministic by default (a fixed seed, no regression files written);
/// `PROPTEST_RNG_SEED` and `PROPTEST_CASES` still override it to explore.
fn proptest_config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(0xacd_5eed);
    }
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 512;
    }
    config.failure_persistence = None;
    config
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn the_acd_matches_the_reference_model(
        initial in 0..=4usize,
        config in config(),
        cmds in proptest::collection::vec(command(), 1..150),
    ) {
        let mut checker = Checker::new(initial, config);
        checker.check();
        for cmd in &cmds {
            checker.step(cmd);
        }
    }
}

/// A long deterministic walk (xorshift) per strategy, for long histories.
#[test]
fn a_long_walk_per_strategy_matches_the_reference_model() {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for strategy in Strategy::ALL {
        let config = Config {
            strategy,
            seed: 42,
            wrap_up: Duration::from_secs(3),
            max_no_answer: 2,
            service_level: Duration::from_secs(20),
            max_calls: 4,
        };
        let mut checker = Checker::new(3, config);
        for _ in 0..3_000 {
            let cmd = match next(24) {
                0..=3 => Cmd::Call(next(CALL_IDS.len()), next(10) as u8),
                4..=6 => Cmd::Answer(next(NAMES.len())),
                7..=8 => Cmd::Reject(next(NAMES.len())),
                9..=11 => Cmd::Hangup(next(CALL_IDS.len())),
                12 => Cmd::Pause(next(NAMES.len()), next(REASONS.len())),
                13 => Cmd::Unpause(next(NAMES.len())),
                14 => Cmd::Login(next(NAMES.len() - 1)),
                15 => Cmd::Logout(next(NAMES.len())),
                16..=17 => Cmd::TimeoutRinging(next(1 << 20)),
                18 => Cmd::TimeoutAny(next(1 << 20)),
                19..=20 => Cmd::WrapUpLive(next(1 << 20)),
                21 => Cmd::WrapUpAny(next(1 << 20)),
                _ => Cmd::Advance(next(20_000) as u64),
            };
            checker.step(&cmd);
        }
    }
}

/// Found by the property test: two calls ring at once, the older is
/// declined first and the newer last, so the newer waits at the head; the
/// longest wait must still be the older one's.
#[test]
fn a_newer_call_declined_last_does_not_hide_the_longest_wait() {
    use Cmd::*;
    let config = Config {
        strategy: Strategy::RingAll,
        wrap_up: Duration::from_secs(5),
        max_no_answer: 1,
        service_level: Duration::ZERO,
        max_calls: 3,
        ..Config::default()
    };
    let mut checker = Checker::new(4, config);
    for cmd in [
        Call(2, 0),
        Call(4, 0),
        Call(5, 0),
        Call(1, 0),
        Reject(0),
        Login(4),
        TimeoutRinging(391),
        Hangup(1),
        Advance(1),
        Call(0, 0),
        Answer(2),
        TimeoutRinging(92),
        TimeoutAny(34),
    ] {
        checker.step(&cmd);
    }
    assert_eq!(checker.model.queue, ["1", "6"]);
    assert_eq!(
        checker.engine.status(checker.model.now).longest_wait,
        Duration::from_millis(1)
    );
}
