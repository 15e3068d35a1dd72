//! Choosing which dispatchable operator a call rings, in O(log n).
//!
//! The dispatchable operators (logged in, not paused, idle) are kept in one
//! ordered set of `(key, operator index)`, where the key is what the strategy
//! ranks by: nothing for `linear` and `round-robin` (priority order alone),
//! the order of the operator's last finished call for `longest-idle`, its
//! answered count for `fewest-calls`. The smallest element is the choice, or
//! for `round-robin` the first after the operator rung last. Keys change only
//! while an operator is out of the set (it is ringing or on a call), so the
//! set never holds a stale key. `random` also keeps the operators in a
//! vector, to pick a uniform element in O(1); `ring-all` walks the whole set.
//!
//! Ties are broken by priority order and keys come from a sequence counter of
//! events, never from the clock, so a script's output does not depend on how
//! fast it runs.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use super::OperatorIndex;

/// Which dispatchable operator a call rings (SPEC §9.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The first in priority order (the seed's rule; Asterisk `linear`).
    #[default]
    Linear,
    /// The first after the one rung most recently, wrapping (Asterisk `rrmemory`).
    RoundRobin,
    /// The one whose last finished call ended longest ago (Asterisk `leastrecent`).
    LongestIdle,
    /// The one that has answered fewest calls (Asterisk `fewestcalls`).
    FewestCalls,
    /// A uniformly random one, reproducible from a seed (Asterisk `random`).
    Random,
    /// Every dispatchable operator at once (Asterisk `ringall`).
    RingAll,
}

impl Strategy {
    /// Every strategy, in the order of SPEC §9.3.
    pub const ALL: [Strategy; 6] = [
        Strategy::Linear,
        Strategy::RoundRobin,
        Strategy::LongestIdle,
        Strategy::FewestCalls,
        Strategy::Random,
        Strategy::RingAll,
    ];

    /// The name used by `--strategy` and in `status`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Linear => "linear",
            Strategy::RoundRobin => "round-robin",
            Strategy::LongestIdle => "longest-idle",
            Strategy::FewestCalls => "fewest-calls",
            Strategy::Random => "random",
            Strategy::RingAll => "ring-all",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Strategy {
    type Err = String;

    fn from_str(text: &str) -> Result<Strategy, String> {
        Strategy::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| {
                format!(
                    "unknown strategy {text:?} (expected one of: {})",
                    Strategy::ALL.map(Strategy::name).join(", ")
                )
            })
    }
}

/// A tiny, seeded pseudo-random generator (SplitMix64): reproducible runs
/// with `--seed`, no dependency. Not for anything secret.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound > 0`), by multiply-shift: the bias is
    /// below 2^-32 for any operator count this program can hold.
    fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next_u64()) * bound as u128) >> 64) as usize
    }
}

/// The dispatchable operators, ordered for the strategy.
#[derive(Debug)]
pub(crate) struct Dispatchable {
    strategy: Strategy,
    /// `(key, index)` of each dispatchable operator.
    ordered: BTreeSet<(u64, OperatorIndex)>,
    /// Each operator's key while it is in `ordered`.
    keys: Vec<Option<u64>>,
    /// `random` only: the dispatchable operators in no particular order ...
    pool: Vec<OperatorIndex>,
    /// ... and each one's position there.
    pool_position: Vec<usize>,
    rng: SplitMix64,
    /// `round-robin`: the operator rung most recently.
    last_rung: Option<OperatorIndex>,
}

impl Dispatchable {
    pub(crate) fn new(strategy: Strategy, seed: u64) -> Dispatchable {
        Dispatchable {
            strategy,
            ordered: BTreeSet::new(),
            keys: Vec::new(),
            pool: Vec::new(),
            pool_position: Vec::new(),
            rng: SplitMix64::new(seed),
            last_rung: None,
        }
    }

    pub(crate) fn strategy(&self) -> Strategy {
        self.strategy
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    pub(crate) fn contains(&self, operator: OperatorIndex) -> bool {
        self.keys.get(operator).is_some_and(Option::is_some)
    }

    /// Adds `operator`, ranked as the strategy says: by `idle_order` (when
    /// its last call ended, in event order) for `longest-idle`, by
    /// `answered` for `fewest-calls`, by priority order alone otherwise.
    pub(crate) fn insert(&mut self, operator: OperatorIndex, idle_order: u64, answered: u64) {
        if self.contains(operator) {
            return;
        }
        let key = match self.strategy {
            Strategy::LongestIdle => idle_order,
            Strategy::FewestCalls => answered,
            _ => 0,
        };
        if self.keys.len() <= operator {
            self.keys.resize(operator + 1, None);
            self.pool_position.resize(operator + 1, usize::MAX);
        }
        self.keys[operator] = Some(key);
        self.ordered.insert((key, operator));
        if self.strategy == Strategy::Random {
            self.pool_position[operator] = self.pool.len();
            self.pool.push(operator);
        }
    }

    pub(crate) fn remove(&mut self, operator: OperatorIndex) {
        let Some(key) = self.keys.get_mut(operator).and_then(Option::take) else {
            return;
        };
        self.ordered.remove(&(key, operator));
        if self.strategy == Strategy::Random {
            let at = self.pool_position[operator];
            self.pool.swap_remove(at);
            if let Some(&moved) = self.pool.get(at) {
                self.pool_position[moved] = at;
            }
            self.pool_position[operator] = usize::MAX;
        }
    }

    /// Remembers the operator just rung (for `round-robin`).
    pub(crate) fn rung(&mut self, operator: OperatorIndex) {
        self.last_rung = Some(operator);
    }

    /// The operator the next call rings (not for `ring-all`): `avoid` (the
    /// operator who just declined this call) only when nobody else is
    /// dispatchable.
    pub(crate) fn choose(&mut self, avoid: Option<OperatorIndex>) -> Option<OperatorIndex> {
        let pick = match self.strategy {
            Strategy::Random => self.choose_random(avoid),
            Strategy::RoundRobin => {
                let start = self.last_rung.map_or(0, |last| last + 1);
                let first = self.first_from(start);
                match first {
                    Some(op) if Some(op) == avoid => self.first_from(op + 1).filter(|&o| o != op),
                    other => other,
                }
            }
            _ => {
                let mut iter = self.ordered.iter().map(|&(_, op)| op);
                match iter.next() {
                    Some(op) if Some(op) == avoid => iter.next(),
                    other => other,
                }
            }
        };
        pick.or_else(|| avoid.filter(|&a| self.contains(a)))
    }

    /// Round-robin: the first dispatchable operator at or after `start` in
    /// priority order, wrapping (its keys are all 0).
    fn first_from(&self, start: OperatorIndex) -> Option<OperatorIndex> {
        self.ordered
            .range((0, start)..)
            .next()
            .or_else(|| self.ordered.first())
            .map(|&(_, op)| op)
    }

    fn choose_random(&mut self, avoid: Option<OperatorIndex>) -> Option<OperatorIndex> {
        let len = self.pool.len();
        match avoid.filter(|&a| self.contains(a)) {
            None if len > 0 => Some(self.pool[self.rng.below(len)]),
            // Uniform over the others: draw among all but the last place;
            // drawing the avoided one means the last place instead.
            Some(avoided) if len > 1 => {
                let pick = self.pool[self.rng.below(len - 1)];
                Some(if pick == avoided {
                    self.pool[len - 1]
                } else {
                    pick
                })
            }
            _ => None,
        }
    }

    /// `ring-all`: every dispatchable operator in priority order, without
    /// `avoid` unless it is the only one.
    pub(crate) fn everyone(&self, avoid: Option<OperatorIndex>) -> Vec<OperatorIndex> {
        let all: Vec<OperatorIndex> = self
            .ordered
            .iter()
            .map(|&(_, op)| op)
            .filter(|&op| Some(op) != avoid)
            .collect();
        if all.is_empty() {
            avoid.filter(|&a| self.contains(a)).into_iter().collect()
        } else {
            all
        }
    }

    /// Checks that the set, the keys and the pool agree; `expected` says
    /// whether each operator should be in. O(n).
    pub(crate) fn check(&self, expected: impl Iterator<Item = bool>) -> Result<(), String> {
        let mut count = 0;
        for (op, want) in expected.enumerate() {
            if want != self.contains(op) {
                return Err(format!("operator {op} dispatchability is stale"));
            }
            if let Some(key) = self.keys[op] {
                count += 1;
                if !self.ordered.contains(&(key, op)) {
                    return Err(format!("operator {op} is missing from the ordered set"));
                }
                if self.strategy == Strategy::Random
                    && self.pool.get(self.pool_position[op]) != Some(&op)
                {
                    return Err(format!("operator {op} is missing from the random pool"));
                }
            }
        }
        if count != self.ordered.len() {
            return Err("the ordered set holds operators that are not dispatchable".into());
        }
        if self.strategy == Strategy::Random && self.pool.len() != count {
            return Err("the random pool is stale".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.name().parse::<Strategy>(), Ok(s));
        }
        assert!("fastest".parse::<Strategy>().is_err());
    }

    #[test]
    fn splitmix_is_reproducible_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for bound in 1..200 {
            let x = a.below(bound);
            assert_eq!(x, b.below(bound));
            assert!(x < bound);
        }
    }

    #[test]
    fn random_never_picks_the_avoided_one_unless_alone() {
        let mut d = Dispatchable::new(Strategy::Random, 1);
        for op in 0..4 {
            d.insert(op, 0, 0);
        }
        let mut seen = [0; 4];
        for _ in 0..4000 {
            let pick = d.choose(Some(2)).unwrap();
            assert_ne!(pick, 2);
            seen[pick] += 1;
        }
        // Roughly uniform over the other three.
        for (op, &n) in seen.iter().enumerate() {
            if op != 2 {
                assert!((1100..1600).contains(&n), "{seen:?}");
            }
        }
        for op in [0, 1, 3] {
            d.remove(op);
        }
        assert_eq!(d.choose(Some(2)), Some(2));
        d.check([false, false, true, false].into_iter()).unwrap();
    }
}
