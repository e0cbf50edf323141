//! Bounded heavy-hitter counting (Space-Saving, Metwally et al. 2005) for the most frequent
//! boilerplate lines of a source: at most `capacity` counters whatever the number of distinct
//! lines; any line seen more than `n / capacity` times out of `n` is guaranteed to be kept, and
//! a kept line's count overestimates its true count by at most its `error`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that already are well-mixed 64-bit hashes (xxh3 of a line): it passes
/// them through instead of hashing them again.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by u64 keys; a plain fold keeps other keys working.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Map keyed by a hash ([`PassThrough`]).
pub(crate) type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// A fast hasher for short string keys (cluster ids, source labels): xxh3 of the bytes. Not
/// keyed, which is fine for the audit's own tallies (ids come from the corpus being audited,
/// and a flood of colliding ids would only slow the audit of that corpus down).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Xxh3Str(u64);

impl Hasher for Xxh3Str {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    fn write_u8(&mut self, n: u8) {
        // `str`'s hash ends with a 0xff byte; fold it in cheaply.
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Map keyed by short strings, hashed with [`Xxh3Str`].
pub(crate) type StrKeyed<K, V> = HashMap<K, V, BuildHasherDefault<Xxh3Str>>;

/// One counted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The item's text.
    pub text: Box<str>,
    /// Its (possibly over-estimated) count.
    pub count: u64,
    /// Upper bound of the over-estimate (0 = exact).
    pub error: u64,
}

/// One counter. The text is a `String` so a replaced counter reuses its buffer.
#[derive(Debug, Clone)]
struct Slot {
    key: u64,
    text: String,
    count: u64,
    error: u64,
}

/// A Space-Saving counter keyed by a 64-bit hash of the text.
///
/// When full, a new item replaces the counter with the smallest count, the lowest slot among
/// equal ones; a binary min-heap of slots ordered by (count, slot) finds it in O(log capacity)
/// (counts only grow, so a slot only ever sinks).
#[derive(Debug, Clone)]
pub struct SpaceSaving {
    capacity: usize,
    slots: Vec<Slot>,
    index: HashKeyed<u32>,
    /// Slots as a min-heap by (count, slot).
    heap: Vec<u32>,
    /// Position of each slot in `heap`.
    pos: Vec<u32>,
}

impl SpaceSaving {
    /// A counter that keeps at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.clamp(1, u32::MAX as usize),
            slots: Vec::new(),
            index: HashKeyed::default(),
            heap: Vec::new(),
            pos: Vec::new(),
        }
    }

    /// Whether slot `a` orders before slot `b` (smaller count, then lower slot).
    fn before(&self, a: u32, b: u32) -> bool {
        let (ca, cb) = (self.slots[a as usize].count, self.slots[b as usize].count);
        ca < cb || (ca == cb && a < b)
    }

    /// Restore the heap below position `i` after its slot's count grew.
    fn sink(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < n && self.before(self.heap[l], self.heap[m]) {
                m = l;
            }
            if r < n && self.before(self.heap[r], self.heap[m]) {
                m = r;
            }
            if m == i {
                return;
            }
            self.heap.swap(i, m);
            self.pos[self.heap[i] as usize] = i as u32;
            self.pos[self.heap[m] as usize] = m as u32;
            i = m;
        }
    }

    /// Restore the heap above position `i` after a slot was added there.
    fn rise(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if !self.before(self.heap[i], self.heap[p]) {
                return;
            }
            self.heap.swap(i, p);
            self.pos[self.heap[i] as usize] = i as u32;
            self.pos[self.heap[p] as usize] = p as u32;
            i = p;
        }
    }

    /// Count one occurrence of `text` (whose hash is `key`).
    pub fn add(&mut self, key: u64, text: &str) {
        if let Some(&i) = self.index.get(&key) {
            self.slots[i as usize].count += 1;
            self.sink(self.pos[i as usize] as usize);
            return;
        }
        if self.slots.len() < self.capacity {
            let i = self.slots.len() as u32;
            self.index.insert(key, i);
            self.slots.push(Slot {
                key,
                text: text.to_string(),
                count: 1,
                error: 0,
            });
            self.pos.push(self.heap.len() as u32);
            self.heap.push(i);
            self.rise(self.heap.len() - 1);
            return;
        }
        // Replace the smallest counter; the newcomer inherits its count as error.
        let Some(&i) = self.heap.first() else {
            return;
        };
        let old = &mut self.slots[i as usize];
        self.index.remove(&old.key);
        old.key = key;
        old.error = old.count;
        old.count += 1;
        old.text.clear();
        old.text.push_str(text);
        self.index.insert(key, i);
        self.sink(0);
    }

    /// The `n` largest counts, largest first (ties by text, so the order is deterministic).
    pub fn top(&self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self
            .slots
            .iter()
            .map(|s| Counted {
                text: s.text.as_str().into(),
                count: s.count,
                error: s.error,
            })
            .collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exact_while_under_capacity() {
        let mut s = SpaceSaving::new(4);
        for (k, t) in [(1, "a"), (2, "b"), (1, "a"), (3, "c"), (1, "a")] {
            s.add(k, t);
        }
        let top = s.top(2);
        assert_eq!(top[0].text.as_ref(), "a");
        assert_eq!((top[0].count, top[0].error), (3, 0));
        assert_eq!(top[1].text.as_ref(), "b");
    }

    /// The plain Space-Saving step (linear scan for the first smallest counter).
    fn reference(capacity: usize, stream: &[(u64, String)]) -> Vec<(u64, String, u64, u64)> {
        let mut slots: Vec<(u64, String, u64, u64)> = Vec::new();
        for (k, t) in stream {
            if let Some(s) = slots.iter_mut().find(|s| s.0 == *k) {
                s.2 += 1;
            } else if slots.len() < capacity {
                slots.push((*k, t.clone(), 1, 0));
            } else if let Some((i, _)) = slots.iter().enumerate().min_by_key(|(_, s)| s.2) {
                let c = slots[i].2;
                slots[i] = (*k, t.clone(), c + 1, c);
            }
        }
        slots
    }

    proptest! {
        /// The heap picks exactly the counter the linear scan picks: same slots, same counts.
        #[test]
        fn same_as_the_linear_scan(
            stream in proptest::collection::vec(0u64..30, 0..300),
            cap in 1usize..10,
        ) {
            let stream: Vec<(u64, String)> = stream.iter().map(|k| (*k, format!("l{k}"))).collect();
            let mut s = SpaceSaving::new(cap);
            for (k, t) in &stream {
                s.add(*k, t);
            }
            let got: Vec<(u64, String, u64, u64)> = s
                .slots
                .iter()
                .map(|s| (s.key, s.text.clone(), s.count, s.error))
                .collect();
            prop_assert_eq!(got, reference(cap, &stream));
        }

        /// Every item more frequent than n/capacity survives, with count ≥ its true count and
        /// count − error ≤ its true count.
        #[test]
        fn heavy_hitters_survive(stream in proptest::collection::vec(0u64..40, 1..400)) {
            let cap = 8;
            let mut s = SpaceSaving::new(cap);
            let mut truth: HashMap<u64, u64> = HashMap::new();
            for k in &stream {
                s.add(*k, &k.to_string());
                *truth.entry(*k).or_default() += 1;
            }
            let kept = s.top(cap);
            for c in &kept {
                let k: u64 = c.text.parse().unwrap_or(u64::MAX);
                let t = truth.get(&k).copied().unwrap_or(0);
                prop_assert!(c.count >= t);
                prop_assert!(c.count - c.error <= t);
            }
            for (k, t) in &truth {
                if *t as usize * cap > stream.len() {
                    prop_assert!(kept.iter().any(|c| c.text.as_ref() == k.to_string()));
                }
            }
        }
    }
}
