//! Live calls, laid out compactly, and the waiting queue threaded through them.
//!
//! A million waiting calls must fit in 64 MiB (SPEC §9.4), so a call is not a
//! struct in a map: its fields live in parallel vectors indexed by a `u32`
//! slot (a struct of arrays has no padding), its id is stored inline when it
//! is short, and the index by id is an open-addressing table of slot numbers
//! that hashes the id where it already lives instead of keeping a copy.
//!
//! Per live call: 16 bytes of id, 8 of links, 8 of arrival time, 2 of
//! priority and state (34 bytes a slot, up to twice that while the vectors
//! are between doublings) and 4 bytes a bucket of the index, which is kept at
//! most half full. Measured in `tests/engine_memory.rs`.
//!
//! The waiting calls form one doubly linked list per priority through the
//! `links` vector, so a call joins the tail, returns to the head or leaves
//! from the middle in O(1), however long the queue.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::rc::Rc;

/// A call's slot in the table.
pub(crate) type CallKey = u32;

/// A call id's hash in the index (see [`Calls::hash`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IdHash(u64);

/// No slot: the end of a list, an empty bucket.
const NIL: u32 = u32::MAX;

/// Caller priorities are 0 to `PRIORITIES - 1`.
pub(crate) const PRIORITIES: usize = 10;

/// Ids this long or shorter are stored inside the slot, without allocating.
const INLINE: usize = 14;

/// A call id: inline when short (the common case: `1`, `4711`, a short
/// UUID prefix), behind one thin pointer otherwise, so that it takes 16
/// bytes either way.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CallId {
    Inline { len: u8, bytes: [u8; INLINE] },
    // A thin pointer (8 bytes) keeps the enum at 16 bytes; `Box<str>` alone is 16.
    Heap(Box<Box<str>>),
}

impl CallId {
    fn new(id: &str) -> CallId {
        if id.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..id.len()].copy_from_slice(id.as_bytes());
            CallId::Inline {
                len: id.len() as u8,
                bytes,
            }
        } else {
            CallId::Heap(Box::new(Box::from(id)))
        }
    }

    /// The id's bytes, without checking them again: what the index hashes
    /// and compares.
    fn as_bytes(&self) -> &[u8] {
        match self {
            CallId::Inline { len, bytes } => &bytes[..*len as usize],
            CallId::Heap(id) => id.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Always the whole of a `&str`, so always valid UTF-8.
            CallId::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..*len as usize]).unwrap_or_default()
            }
            CallId::Heap(id) => id,
        }
    }
}

/// Where a slot's call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// The slot is free (it is on the free list).
    Vacant,
    /// Waiting in its priority's list, queued on arrival (these calls are
    /// in arrival order).
    Waiting,
    /// Waiting in its priority's list, back after being declined: these are
    /// always ahead of the `Waiting` ones, in any arrival order.
    Returned,
    /// Ringing or answered: out of the queue.
    Engaged,
}

/// The two bytes of a slot that are not id, links or time.
#[derive(Clone, Copy, Debug)]
struct Meta {
    priority: u8,
    place: Place,
}

/// A slot's neighbours in its priority list (or, for a free slot, the next
/// free one in `next`).
#[derive(Clone, Copy, Debug)]
struct Links {
    prev: u32,
    next: u32,
}

/// Every live call and the waiting queue.
#[derive(Debug)]
pub(crate) struct Calls {
    /// Each slot's call id.
    ids: Vec<CallId>,
    /// Each slot's neighbours in its list.
    links: Vec<Links>,
    /// Each call's arrival time, in nanoseconds since the engine's epoch.
    arrival_ns: Vec<u64>,
    /// Each slot's priority and place.
    meta: Vec<Meta>,
    /// First free slot, or `NIL`.
    free: u32,
    /// Live calls.
    len: usize,
    /// Finds a slot by id.
    index: IdIndex,
    /// Head and tail of each priority's waiting list.
    heads: [u32; PRIORITIES],
    tails: [u32; PRIORITIES],
    /// Waiting calls, over all priorities.
    waiting: usize,
    /// Waiting calls of each priority (a position in O(priorities)).
    waiting_at: [usize; PRIORITIES],
}

impl Calls {
    pub(crate) fn new() -> Calls {
        Calls {
            ids: Vec::new(),
            links: Vec::new(),
            arrival_ns: Vec::new(),
            meta: Vec::new(),
            free: NIL,
            len: 0,
            index: IdIndex::new(),
            heads: [NIL; PRIORITIES],
            tails: [NIL; PRIORITIES],
            waiting: 0,
            waiting_at: [0; PRIORITIES],
        }
    }

    /// Live calls (waiting, ringing or answered).
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Waiting calls.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// The slot of live call `id`.
    pub(crate) fn find(&self, id: &str) -> Option<CallKey> {
        self.find_hashed(id, self.hash(id))
    }

    /// `id`'s hash in the index, to look it up and then insert or remove it
    /// without hashing it twice.
    pub(crate) fn hash(&self, id: &str) -> IdHash {
        IdHash(self.index.hasher.hash_one(id.as_bytes()))
    }

    /// The slot of live call `id`, whose [`hash`](Calls::hash) is `hash`.
    pub(crate) fn find_hashed(&self, id: &str, hash: IdHash) -> Option<CallKey> {
        self.index.find(id, hash, &self.ids)
    }

    /// Adds a live call, out of the queue (engaged) until it is queued.
    /// The caller checked that `id` is not live. (The engine, which hashed
    /// `id` to look it up first, calls [`insert_hashed`](Calls::insert_hashed).)
    #[cfg(test)]
    pub(crate) fn insert(&mut self, id: &str, priority: u8, arrival_ns: u64) -> CallKey {
        self.insert_hashed(id, self.hash(id), priority, arrival_ns)
    }

    /// Adds a live call whose id hashes to `hash`, out of the queue
    /// (engaged) until it is queued. The caller checked that `id` is not
    /// live.
    pub(crate) fn insert_hashed(
        &mut self,
        id: &str,
        hash: IdHash,
        priority: u8,
        arrival_ns: u64,
    ) -> CallKey {
        let meta = Meta {
            priority,
            place: Place::Engaged,
        };
        let links = Links {
            prev: NIL,
            next: NIL,
        };
        let key = if self.free != NIL {
            let key = self.free;
            let slot = key as usize;
            self.free = self.links[slot].next;
            self.ids[slot] = CallId::new(id);
            self.links[slot] = links;
            self.arrival_ns[slot] = arrival_ns;
            self.meta[slot] = meta;
            key
        } else {
            let key = self.ids.len() as u32;
            self.ids.push(CallId::new(id));
            self.links.push(links);
            self.arrival_ns.push(arrival_ns);
            self.meta.push(meta);
            key
        };
        self.len += 1;
        self.index.insert(key, hash, &self.ids);
        key
    }

    /// Forgets a live call, taking it out of the queue if it waits.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: CallKey) {
        let hash = self.hash(self.id(key));
        self.remove_hashed(key, hash);
    }

    /// Forgets a live call whose id hashes to `hash`, taking it out of the
    /// queue if it waits.
    pub(crate) fn remove_hashed(&mut self, key: CallKey, hash: IdHash) {
        if self.is_waiting(key) {
            self.unlink(key);
        }
        self.index.remove(key, hash, &self.ids);
        let slot = key as usize;
        // Frees a long id's memory now, not when the slot is reused.
        self.ids[slot] = CallId::new("");
        self.meta[slot].place = Place::Vacant;
        self.links[slot] = Links {
            prev: NIL,
            next: self.free,
        };
        self.free = key;
        self.len -= 1;
    }

    /// The id of live call `key`.
    pub(crate) fn id(&self, key: CallKey) -> &str {
        self.ids[key as usize].as_str()
    }

    /// The id of live call `key`, shared, for an event.
    pub(crate) fn shared_id(&self, key: CallKey) -> Rc<str> {
        Rc::from(self.id(key))
    }

    /// The priority of live call `key`.
    pub(crate) fn priority(&self, key: CallKey) -> u8 {
        self.meta[key as usize].priority
    }

    /// When live call `key` arrived, in nanoseconds.
    pub(crate) fn arrival_ns(&self, key: CallKey) -> u64 {
        self.arrival_ns[key as usize]
    }

    /// Whether live call `key` waits in the queue.
    pub(crate) fn is_waiting(&self, key: CallKey) -> bool {
        matches!(
            self.meta[key as usize].place,
            Place::Waiting | Place::Returned
        )
    }

    /// Queues an engaged call at the tail of its priority.
    pub(crate) fn push_back(&mut self, key: CallKey) {
        let p = self.priority(key) as usize;
        let tail = self.tails[p];
        self.links[key as usize] = Links {
            prev: tail,
            next: NIL,
        };
        if tail == NIL {
            self.heads[p] = key;
        } else {
            self.links[tail as usize].next = key;
        }
        self.tails[p] = key;
        self.enqueued(key, Place::Waiting);
    }

    /// Queues an engaged call at the head of its priority (a declined call).
    pub(crate) fn push_front(&mut self, key: CallKey) {
        let p = self.priority(key) as usize;
        let head = self.heads[p];
        self.links[key as usize] = Links {
            prev: NIL,
            next: head,
        };
        if head == NIL {
            self.tails[p] = key;
        } else {
            self.links[head as usize].prev = key;
        }
        self.heads[p] = key;
        self.enqueued(key, Place::Returned);
    }

    fn enqueued(&mut self, key: CallKey, place: Place) {
        self.meta[key as usize].place = place;
        self.waiting += 1;
        self.waiting_at[self.priority(key) as usize] += 1;
    }

    /// Takes a waiting call out of the queue (it becomes engaged).
    pub(crate) fn unlink(&mut self, key: CallKey) {
        let p = self.priority(key) as usize;
        let Links { prev, next } = self.links[key as usize];
        if prev == NIL {
            self.heads[p] = next;
        } else {
            self.links[prev as usize].next = next;
        }
        if next == NIL {
            self.tails[p] = prev;
        } else {
            self.links[next as usize].prev = prev;
        }
        self.links[key as usize] = Links {
            prev: NIL,
            next: NIL,
        };
        self.meta[key as usize].place = Place::Engaged;
        self.waiting -= 1;
        self.waiting_at[p] -= 1;
    }

    /// The call to dispatch next: the head of the highest non-empty priority.
    pub(crate) fn head(&self) -> Option<CallKey> {
        self.heads.iter().rev().copied().find(|&h| h != NIL)
    }

    /// Where waiting call `key` stands in dispatch order (1 is next): the
    /// calls of higher priorities, counted in O(priorities), then a walk
    /// of its own priority's list from the head, O(its place there).
    pub(crate) fn position(&self, key: CallKey) -> usize {
        let p = self.priority(key) as usize;
        let above: usize = self.waiting_at[p + 1..].iter().sum();
        let mut at = self.heads[p];
        let mut within = 1;
        while at != key && at != NIL {
            at = self.links[at as usize].next;
            within += 1;
        }
        above + within
    }

    /// Where a call that just joined the tail of priority `priority` stands:
    /// every waiting call of that priority or above, O(priorities).
    pub(crate) fn tail_position(&self, priority: u8) -> usize {
        self.waiting_at[priority as usize..].iter().sum()
    }

    /// The waiting calls in dispatch order (highest priority first, then
    /// list order). Lazy: taking the first ten costs ten steps.
    pub(crate) fn waiting_in_order(&self) -> impl Iterator<Item = CallKey> + '_ {
        (0..PRIORITIES).rev().flat_map(move |p| {
            let mut at = self.heads[p];
            std::iter::from_fn(move || {
                let key = at;
                (key != NIL).then(|| {
                    at = self.links[key as usize].next;
                    key
                })
            })
        })
    }

    /// The earliest arrival among waiting calls. A priority's list is its
    /// declined calls (any arrival order: two calls ringing at once may be
    /// declined newest last) followed by calls queued on arrival (oldest
    /// first), so the walk looks at the declined ones and the first of the
    /// others. Each priority has at most as many declined calls waiting as
    /// there are operators (a queued call rings only once no declined one
    /// of its priority waits), so with ten priorities this is O(operators),
    /// like `status` itself.
    pub(crate) fn oldest_waiting_ns(&self) -> Option<u64> {
        let mut oldest: Option<u64> = None;
        for &head in &self.heads {
            let mut at = head;
            while at != NIL {
                let arrival = self.arrival_ns[at as usize];
                oldest = Some(oldest.map_or(arrival, |o| o.min(arrival)));
                if self.meta[at as usize].place != Place::Returned {
                    break;
                }
                at = self.links[at as usize].next;
            }
        }
        oldest
    }

    /// Checks links, counts and the index against each other. O(n).
    pub(crate) fn check(&self) -> Result<(), String> {
        let mut waiting = 0;
        for p in 0..PRIORITIES {
            let before = waiting;
            let mut prev = NIL;
            let mut at = self.heads[p];
            // Declined calls first, then the others in arrival order (what
            // `oldest_waiting_ns` relies on).
            let mut queued_since: Option<u64> = None;
            while at != NIL {
                let slot = at as usize;
                if !self.is_waiting(at) || self.meta[slot].priority as usize != p {
                    return Err(format!("call {} is in the wrong list", self.id(at)));
                }
                match (self.meta[slot].place, queued_since) {
                    (Place::Returned, Some(_)) => {
                        return Err(format!("declined call {} is behind others", self.id(at)));
                    }
                    (Place::Waiting, Some(since)) if self.arrival_ns[slot] < since => {
                        return Err(format!("call {} is out of arrival order", self.id(at)));
                    }
                    (Place::Waiting, _) => queued_since = Some(self.arrival_ns[slot]),
                    _ => {}
                }
                if self.links[slot].prev != prev {
                    return Err(format!("call {} has a stale back link", self.id(at)));
                }
                waiting += 1;
                if waiting > self.waiting {
                    return Err("the queue has a cycle or a stale count".into());
                }
                prev = at;
                at = self.links[slot].next;
            }
            if self.tails[p] != prev {
                return Err(format!("priority {p} has a stale tail"));
            }
            if self.waiting_at[p] != waiting - before {
                return Err(format!("priority {p}'s count is stale"));
            }
        }
        let mut live = 0;
        let mut marked = 0;
        for (slot, meta) in self.meta.iter().enumerate() {
            if meta.place == Place::Vacant {
                continue;
            }
            live += 1;
            if matches!(meta.place, Place::Waiting | Place::Returned) {
                marked += 1;
            }
            if self.find(self.ids[slot].as_str()) != Some(slot as u32) {
                return Err(format!("call {} is not indexed", self.ids[slot].as_str()));
            }
        }
        if waiting != self.waiting || marked != self.waiting {
            return Err("the waiting count is stale".into());
        }
        if live != self.len || self.index.len != self.len {
            return Err("call index and call table differ in size".into());
        }
        Ok(())
    }
}

/// Slot numbers by call id: open addressing with linear probing, at most
/// half full, with backward-shift deletion (no tombstones, so churn does not
/// slow lookups down). The id is hashed where it lives, in `ids`.
#[derive(Debug)]
struct IdIndex {
    /// Slot numbers, `NIL` for an empty bucket; a power of two long.
    buckets: Vec<u32>,
    /// Filled buckets.
    len: usize,
    /// Keyed per process, so that chosen ids cannot collide on purpose.
    hasher: RandomState,
}

impl IdIndex {
    fn new() -> IdIndex {
        IdIndex {
            buckets: Vec::new(),
            len: 0,
            hasher: RandomState::new(),
        }
    }

    fn home(&self, id: &[u8]) -> usize {
        self.home_of(IdHash(self.hasher.hash_one(id)))
    }

    fn home_of(&self, hash: IdHash) -> usize {
        (hash.0 as usize) & (self.buckets.len() - 1)
    }

    fn find(&self, id: &str, hash: IdHash, ids: &[CallId]) -> Option<CallKey> {
        if self.buckets.is_empty() {
            return None;
        }
        let mask = self.buckets.len() - 1;
        let mut at = self.home_of(hash);
        loop {
            let key = self.buckets[at];
            if key == NIL {
                return None;
            }
            if ids[key as usize].as_bytes() == id.as_bytes() {
                return Some(key);
            }
            at = (at + 1) & mask;
        }
    }

    fn insert(&mut self, key: CallKey, hash: IdHash, ids: &[CallId]) {
        if (self.len + 1) * 2 > self.buckets.len() {
            self.grow(ids);
        }
        self.place(key, hash);
        self.len += 1;
    }

    fn place(&mut self, key: CallKey, hash: IdHash) {
        let mask = self.buckets.len() - 1;
        let mut at = self.home_of(hash);
        while self.buckets[at] != NIL {
            at = (at + 1) & mask;
        }
        self.buckets[at] = key;
    }

    fn grow(&mut self, ids: &[CallId]) {
        let size = (self.buckets.len() * 2).max(8);
        let old = std::mem::replace(&mut self.buckets, vec![NIL; size]);
        for key in old.into_iter().filter(|&k| k != NIL) {
            let hash = IdHash(self.hasher.hash_one(ids[key as usize].as_bytes()));
            self.place(key, hash);
        }
    }

    fn remove(&mut self, key: CallKey, hash: IdHash, ids: &[CallId]) {
        let mask = self.buckets.len() - 1;
        let mut hole = self.home_of(hash);
        while self.buckets[hole] != key {
            hole = (hole + 1) & mask;
        }
        self.buckets[hole] = NIL;
        self.len -= 1;
        // Shift back every later member of the run that may live in the hole.
        let mut at = (hole + 1) & mask;
        while self.buckets[at] != NIL {
            let home = self.home(ids[self.buckets[at] as usize].as_bytes());
            // Distance from home to `at` vs. from home to the hole, cyclically.
            if (at.wrapping_sub(home) & mask) >= (at.wrapping_sub(hole) & mask) {
                self.buckets[hole] = self.buckets[at];
                self.buckets[at] = NIL;
                hole = at;
            }
            at = (at + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_id_takes_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<CallId>(), 16);
        assert_eq!(std::mem::size_of::<Meta>(), 2);
    }

    #[test]
    fn ids_round_trip_inline_and_boxed() {
        for id in [
            "",
            "1",
            "12345678901234",
            "123456789012345",
            &"x".repeat(64),
        ] {
            assert_eq!(CallId::new(id).as_str(), id);
        }
        assert!(matches!(
            CallId::new("12345678901234"),
            CallId::Inline { .. }
        ));
    }

    #[test]
    fn the_index_survives_heavy_churn() {
        let mut calls = Calls::new();
        let mut live = Vec::new();
        for round in 0..2000u32 {
            let id = format!("c{}", round % 300);
            match calls.find(&id) {
                Some(key) => {
                    calls.remove(key);
                    live.retain(|l| *l != id);
                }
                None => {
                    let key = calls.insert(&id, (round % 10) as u8, round as u64);
                    if round % 3 == 0 {
                        calls.push_front(key);
                    } else {
                        calls.push_back(key);
                    }
                    live.push(id);
                }
            }
            calls.check().unwrap();
        }
        for id in &live {
            assert!(calls.find(id).is_some());
        }
        assert_eq!(calls.len(), live.len());
    }

    #[test]
    fn positions_count_higher_priorities_then_the_own_list() {
        let mut calls = Calls::new();
        let mut queue = |id: &str, priority: u8| {
            let key = calls.insert(id, priority, 0);
            calls.push_back(key);
            key
        };
        let low1 = queue("low1", 0);
        let high = queue("high", 5);
        let low2 = queue("low2", 0);
        let mid = queue("mid", 2);
        // Dispatch order: high, mid, low1, low2.
        assert_eq!(
            [high, mid, low1, low2].map(|key| calls.position(key)),
            [1, 2, 3, 4]
        );
        assert_eq!(calls.tail_position(0), 4);
        assert_eq!(calls.tail_position(2), 2);
        assert_eq!(calls.tail_position(9), 0);
        // A declined call goes to the head of its own priority only.
        calls.unlink(low2);
        calls.push_front(low2);
        assert_eq!(calls.position(low2), 3);
        assert_eq!(calls.position(low1), 4);
        calls.check().unwrap();
        calls.remove(high);
        assert_eq!(calls.position(mid), 1);
        calls.check().unwrap();
    }
}
