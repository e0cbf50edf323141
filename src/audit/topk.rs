//! Bounded heavy-hitter counting (Space-Saving, Metwally et al. 2005) for the most frequent
//! boilerplate lines of a source: at most `capacity` counters whatever the number of distinct
//! lines; any line seen more than `n / capacity` times out of `n` is guaranteed to be kept, and
//! a kept line's count overestimates its true count by at most its `error`.

use std::collections::HashMap;

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

/// A Space-Saving counter keyed by a 64-bit hash of the text.
#[derive(Debug, Clone)]
pub struct SpaceSaving {
    capacity: usize,
    slots: Vec<(u64, Counted)>,
    index: HashMap<u64, usize>,
}

impl SpaceSaving {
    /// A counter that keeps at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        SpaceSaving {
            capacity: capacity.max(1),
            slots: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Count one occurrence of `text` (whose hash is `key`).
    pub fn add(&mut self, key: u64, text: &str) {
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].1.count += 1;
            return;
        }
        if self.slots.len() < self.capacity {
            self.index.insert(key, self.slots.len());
            self.slots.push((
                key,
                Counted {
                    text: text.into(),
                    count: 1,
                    error: 0,
                },
            ));
            return;
        }
        // Replace the smallest counter; the newcomer inherits its count as error.
        let Some((i, _)) = self
            .slots
            .iter()
            .enumerate()
            .min_by_key(|(_, (_, c))| c.count)
        else {
            return;
        };
        let (old_key, old) = &mut self.slots[i];
        self.index.remove(old_key);
        *old_key = key;
        old.error = old.count;
        old.count += 1;
        old.text = text.into();
        self.index.insert(key, i);
    }

    /// The `n` largest counts, largest first (ties by text, so the order is deterministic).
    pub fn top(&self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self.slots.iter().map(|(_, c)| c.clone()).collect();
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

    proptest! {
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
