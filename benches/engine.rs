//! Micro-benchmarks of the queue engine (`src/engine/`), through its public
//! API: `call_at`, `answer_at`, `hangup_at`, `pause`.
//!
//! Run with `cargo bench --bench engine`. Figures are in
//! `docs/performance.md`, section "Micro-benchmarks".

use std::time::Duration;

use callcenter::engine::{Config, Effect, Engine, Priority, Strategy};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};

fn main() {
    divan::main();
}

/// Operator ids `op0`, `op1`, ... in priority order.
fn operator_ids(count: usize) -> Vec<String> {
    (0..count).map(|index| format!("op{index}")).collect()
}

fn engine(operators: usize, strategy: Strategy) -> Engine {
    let config = Config {
        strategy,
        seed: 7,
        ..Config::default()
    };
    Engine::with_config(operator_ids(operators), config).expect("valid operators")
}

/// A time that moves forward by a microsecond per command.
struct Tick(Duration);

impl Tick {
    fn next(&mut self) -> Duration {
        self.0 += Duration::from_micros(1);
        self.0
    }
}

/// Call + hangup churn on a queue holding `queued` waiting calls (its one
/// operator is kept ringing with another call, so every call waits).
///
/// With calls waiting, each iteration hangs up a call from the middle of
/// the queue and calls it again (it joins the tail); the next iteration
/// takes the call after it, so the queue keeps its length and every
/// hang-up leaves from inside it. With none, each iteration calls and
/// hangs up the same id (it is then the whole queue). Either way one
/// iteration is one `call_at` and one `hangup_at`: the throughput line
/// counts both, so its inverse is the time per operation. The sizes in
/// between show where the cost grows: with the queue's memory, not its
/// length (no operation walks the queue).
#[divan::bench(args = [0, 1000, 100_000, 1_000_000], sample_count = 1000, sample_size = 100)]
fn churn_middle_of_queue(bencher: Bencher, queued: usize) {
    let mut engine = engine(1, Strategy::Linear);
    let mut out = Vec::new();
    let mut tick = Tick(Duration::ZERO);
    engine
        .call_at("ringing", Priority::default(), tick.next(), &mut out)
        .expect("first call rings");
    let ids: Vec<String> = (0..queued.max(1)).map(|n| n.to_string()).collect();
    for id in ids.iter().take(queued) {
        engine
            .call_at(id, Priority::default(), tick.next(), &mut out)
            .expect("call queues");
    }
    assert_eq!(engine.waiting_calls(), queued);
    let mut next = queued / 2;
    bencher.counter(ItemsCount::new(2u32)).bench_local(|| {
        let id = &ids[next];
        out.clear();
        if queued == 0 {
            engine
                .call_at(black_box(id), Priority::default(), tick.next(), &mut out)
                .expect("call queues");
            engine
                .hangup_at(black_box(id), tick.next(), &mut out)
                .expect("call is waiting");
        } else {
            engine
                .hangup_at(black_box(id), tick.next(), &mut out)
                .expect("call is waiting");
            engine
                .call_at(black_box(id), Priority::default(), tick.next(), &mut out)
                .expect("call queues");
            next = (next + 1) % queued;
        }
        out.len()
    });
    assert_eq!(engine.waiting_calls(), queued);
}

/// One whole call on an idle operator: `call_at` (it rings), `answer_at`,
/// `hangup_at` (finished; the operator is idle again). Three operations per
/// iteration, with 1 operator or 1,000 (linear: always the first).
#[divan::bench(args = [1, 1000], sample_count = 500, sample_size = 100)]
fn call_answer_hangup(bencher: Bencher, operators: usize) {
    let mut engine = engine(operators, Strategy::Linear);
    let mut out = Vec::new();
    let mut tick = Tick(Duration::ZERO);
    bencher.counter(ItemsCount::new(3u32)).bench_local(|| {
        out.clear();
        engine
            .call_at(
                black_box("1234567"),
                Priority::default(),
                tick.next(),
                &mut out,
            )
            .expect("call rings");
        engine
            .answer_at(black_box("op0"), tick.next(), &mut out)
            .expect("op0 rings");
        engine
            .hangup_at(black_box("1234567"), tick.next(), &mut out)
            .expect("call is answered");
        out.len()
    });
}

/// The operator a call rang, read from the effects of `call_at`.
fn rung_operator(out: &[Effect]) -> usize {
    out.iter()
        .find_map(|effect| match effect {
            Effect::StartRingTimer { operator, .. } => Some(*operator),
            _ => None,
        })
        .expect("the call rang someone")
}

/// Dispatch by each strategy over 1,000 idle operators: one iteration is a
/// call (the strategy picks an operator and rings it), its answer by that
/// operator and its hangup (which updates the strategy's keys: idle order,
/// answered count, last rung). Three operations per iteration.
#[divan::bench(args = [
    Strategy::Linear,
    Strategy::RoundRobin,
    Strategy::LongestIdle,
    Strategy::FewestCalls,
    Strategy::Random,
], sample_count = 500, sample_size = 100)]
fn dispatch_1000_operators(bencher: Bencher, strategy: Strategy) {
    let mut engine = engine(1000, strategy);
    let ids = operator_ids(1000);
    let mut out = Vec::new();
    let mut tick = Tick(Duration::ZERO);
    bencher.counter(ItemsCount::new(3u32)).bench_local(|| {
        out.clear();
        engine
            .call_at(
                black_box("1234567"),
                Priority::default(),
                tick.next(),
                &mut out,
            )
            .expect("call rings");
        let operator = rung_operator(&out);
        engine
            .answer_at(&ids[operator], tick.next(), &mut out)
            .expect("operator rings");
        engine
            .hangup_at(black_box("1234567"), tick.next(), &mut out)
            .expect("call is answered");
        out.len()
    });
}

/// `ring-all` over 1,000 operators of which `rung` are idle (the others
/// paused): a call rings all `rung`, the first answers (the others stop
/// ringing and go idle), then it hangs up. Three operations per iteration;
/// the cost grows with `rung` (O(k log n)).
#[divan::bench(args = [1, 10, 100, 1000], sample_count = 300)]
fn ring_all_1000_operators(bencher: Bencher, rung: usize) {
    let mut engine = engine(1000, Strategy::RingAll);
    let ids = operator_ids(1000);
    let mut out = Vec::new();
    let mut tick = Tick(Duration::ZERO);
    for id in &ids[rung..] {
        engine
            .pause(id, None, tick.next(), &mut out)
            .expect("operator pauses");
    }
    bencher.counter(ItemsCount::new(3u32)).bench_local(|| {
        out.clear();
        engine
            .call_at(
                black_box("1234567"),
                Priority::default(),
                tick.next(),
                &mut out,
            )
            .expect("call rings");
        let ringing = out
            .iter()
            .filter(|effect| matches!(effect, Effect::StartRingTimer { .. }))
            .count();
        assert_eq!(ringing, rung);
        let operator = rung_operator(&out);
        engine
            .answer_at(&ids[operator], tick.next(), &mut out)
            .expect("operator rings");
        engine
            .hangup_at(black_box("1234567"), tick.next(), &mut out)
            .expect("call is answered");
        out.len()
    });
}
