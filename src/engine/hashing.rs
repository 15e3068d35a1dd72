//! A cheap hash for keys the program numbers itself.
//!
//! The standard `HashMap` hashes with SipHash, which keeps a client from
//! choosing keys that collide; that matters for call and operator ids, which
//! come from outside. Call slots, offers and wrap-up periods are numbers
//! this program hands out (dense and sequential), so nobody outside can aim
//! at a bucket: for them one multiplication is enough, and it is several
//! times cheaper on every command.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Fibonacci hashing: the key times 2⁶⁴/φ, which spreads sequential keys
/// over the high bits (the table's control bytes) and keeps them distinct in
/// the low ones (its index).
#[derive(Clone, Copy, Debug, Default)]
pub struct SequenceHasher(u64);

impl Hasher for SequenceHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }
}

/// A map keyed by numbers the program hands out (see the module docs);
/// never by ids from outside.
pub type SequenceMap<K, V> = HashMap<K, V, BuildHasherDefault<SequenceHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn sequential_keys_get_distinct_hashes_and_the_map_works() {
        let build = BuildHasherDefault::<SequenceHasher>::default();
        let hashes: std::collections::HashSet<u64> =
            (0u32..10_000).map(|key| build.hash_one(key)).collect();
        assert_eq!(hashes.len(), 10_000);
        let mut map = SequenceMap::default();
        for key in 0u64..1000 {
            map.insert(key, key * 2);
        }
        assert!((0u64..1000).all(|key| map.get(&key) == Some(&(key * 2))));
        assert_eq!(map.remove(&7), Some(14));
        assert_eq!(map.len(), 999);
    }
}
