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
    error: u64,
}

/// A Space-Saving counter keyed by a 64-bit hash of the text.
///
/// When full, a new item replaces the counter with the smallest count, the lowest slot among
/// equal ones. Counts only grow, one at a time, and a replaced counter goes from the smallest
/// count `m` to `m + 1`, so the counters never drop below `m`: the counter keeps `m` and the
/// set of slots at `m` as a bitmap (the lowest set bit is the one to replace), and rescans the
/// counts for the slots at `m + 1` only when none is left at `m` (a plain scan of a few
/// hundred integers at most, and rare). Cheaper than a heap ordered by (count, slot), whose
/// sift after every replacement mispredicted on most of its comparisons.
#[derive(Debug, Clone)]
pub struct SpaceSaving {
    capacity: usize,
    slots: Vec<Slot>,
    /// Count of each slot.
    counts: Vec<u64>,
    index: HashKeyed<u32>,
    /// The smallest count (0 when empty).
    min: u64,
    /// Bit `i` set when slot `i`'s count is `min`.
    at_min: Vec<u64>,
}

impl SpaceSaving {
    /// A counter that keeps at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.clamp(1, u32::MAX as usize),
            slots: Vec::new(),
            counts: Vec::new(),
            index: HashKeyed::default(),
            min: 0,
            at_min: Vec::new(),
        }
    }

    fn set_at_min(&mut self, slot: usize) {
        let word = slot / 64;
        if word >= self.at_min.len() {
            self.at_min.resize(word + 1, 0);
        }
        self.at_min[word] |= 1 << (slot % 64);
    }

    /// Count one more for `slot`; keeps `min` and `at_min` right.
    fn bump(&mut self, slot: usize) {
        let count = self.counts[slot];
        self.counts[slot] = count + 1;
        if count != self.min {
            return;
        }
        let word = slot / 64;
        self.at_min[word] &= !(1 << (slot % 64));
        if self.at_min[word] != 0 || self.at_min.iter().any(|w| *w != 0) {
            return;
        }
        // None left at the smallest count: `slot` itself is at the next one.
        self.min = count + 1;
        let min = self.min;
        for (word, bits) in self.at_min.iter_mut().enumerate() {
            let counts = self.counts.iter().skip(word * 64).take(64);
            *bits = counts
                .enumerate()
                .fold(0u64, |b, (i, &c)| b | u64::from(c == min) << i);
        }
    }

    /// Count one occurrence of `text` (whose hash is `key`).
    pub fn add(&mut self, key: u64, text: &str) {
        if let Some(&i) = self.index.get(&key) {
            self.bump(i as usize);
            return;
        }
        if self.slots.len() < self.capacity {
            let i = self.slots.len();
            self.index.insert(key, i as u32);
            self.slots.push(Slot {
                key,
                text: text.to_string(),
                error: 0,
            });
            self.counts.push(1);
            if self.min != 1 {
                // Empty, or every count above 1: the new slot alone is at the smallest.
                self.min = 1;
                self.at_min.iter_mut().for_each(|w| *w = 0);
            }
            self.set_at_min(i);
            return;
        }
        // Replace the smallest counter (the lowest slot among them); the newcomer inherits
        // its count as error.
        let Some((word, bits)) = self.at_min.iter().enumerate().find(|(_, b)| **b != 0) else {
            return;
        };
        let i = word * 64 + bits.trailing_zeros() as usize;
        let old = &mut self.slots[i];
        self.index.remove(&old.key);
        old.key = key;
        old.error = self.counts[i];
        old.text.clear();
        old.text.push_str(text);
        self.index.insert(key, i as u32);
        self.bump(i);
    }

    /// The `n` largest counts, largest first (ties by text, so the order is deterministic).
    pub fn top(&self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self
            .slots
            .iter()
            .zip(&self.counts)
            .map(|(s, &count)| Counted {
                text: s.text.as_str().into(),
                count,
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
        /// The smallest-count bitmap picks exactly the counter the linear scan picks: same
        /// slots, same counts (capacities of one and of several bitmap words).
        #[test]
        fn same_as_the_linear_scan(
            (stream, cap) in prop_oneof![
                (proptest::collection::vec(0u64..30, 0..300), 1usize..10),
                (proptest::collection::vec(0u64..400, 0..3000), 60usize..200),
                (proptest::collection::vec(prop_oneof![0u64..20, 0u64..2000], 0..3000), 60usize..200),
            ],
        ) {
            let stream: Vec<(u64, String)> = stream.iter().map(|k| (*k, format!("l{k}"))).collect();
            let mut s = SpaceSaving::new(cap);
            for (k, t) in &stream {
                s.add(*k, t);
            }
            let got: Vec<(u64, String, u64, u64)> = s
                .slots
                .iter()
                .zip(&s.counts)
                .map(|(s, &count)| (s.key, s.text.clone(), count, s.error))
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
