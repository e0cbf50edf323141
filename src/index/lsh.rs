//! T2: MinHash-LSH bands. A document is a candidate when any band (a run of `rows` signature
//! values) equals the query's. With `b` bands of `r` rows the chance to become a candidate at
//! Jaccard `J` is `1 − (1 − J^r)^b`; the default 16 × 2 gives 0.78 at J = 0.3, 0.94 at 0.4 and
//! 0.99 at 0.5 (edited reprints), and 0.15 at J = 0.1.
//!
//! Storage is one open-addressing multimap from a 32-bit band key to slots (8 bytes an entry,
//! load ≤ 0.75), so memory per document is about `bands × 8 / load` bytes.

use crate::pipeline::hash::mix64;

const EMPTY: u32 = u32::MAX;

/// Band-key → slots multimap.
#[derive(Debug, Clone, Default)]
pub struct LshIndex {
    keys: Vec<u32>,
    slots: Vec<u32>,
    len: usize,
}

impl LshIndex {
    #[inline]
    fn home(&self, key: u32) -> usize {
        (mix64(key as u64) as usize) & (self.keys.len() - 1)
    }

    fn grow(&mut self) {
        let cap = (self.keys.len() * 2).max(1024);
        let old_keys = std::mem::replace(&mut self.keys, vec![0; cap]);
        let old_slots = std::mem::replace(&mut self.slots, vec![EMPTY; cap]);
        self.len = 0;
        for (k, s) in old_keys.into_iter().zip(old_slots) {
            if s != EMPTY {
                self.put(k, s);
            }
        }
    }

    fn put(&mut self, key: u32, slot: u32) {
        let mask = self.keys.len() - 1;
        let mut i = self.home(key);
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.keys[i] = key;
        self.slots[i] = slot;
        self.len += 1;
    }

    /// Add a document's band keys.
    pub fn insert(&mut self, band_keys: &[u64], slot: u32) {
        for &k in band_keys {
            if (self.len + 1) * 4 > self.keys.len() * 3 {
                self.grow();
            }
            self.put((k >> 32) as u32, slot);
        }
    }

    /// Slots sharing at least one band with the query, each once, appended to `out`.
    pub fn query(&self, band_keys: &[u64], out: &mut Vec<u32>) {
        if self.keys.is_empty() {
            return;
        }
        let start = out.len();
        let mask = self.keys.len() - 1;
        for &k in band_keys {
            let key = (k >> 32) as u32;
            let mut i = self.home(key);
            while self.slots[i] != EMPTY {
                if self.keys[i] == key {
                    let s = self.slots[i];
                    if !out[start..].contains(&s) {
                        out.push(s);
                    }
                }
                i = (i + 1) & mask;
            }
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.keys.capacity() * 4 + self.slots.capacity() * 4
    }

    /// Entries stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multimap_finds_all_sharers() {
        let mut l = LshIndex::default();
        for s in 0..5000u32 {
            l.insert(&[(s as u64 % 7) << 32, mix64(s as u64 + 99)], s);
        }
        let mut out = Vec::new();
        l.query(&[3u64 << 32], &mut out);
        assert_eq!(out.len(), (0..5000).filter(|s| s % 7 == 3).count());
        assert!(out.iter().all(|s| s % 7 == 3));
        out.clear();
        l.query(&[mix64(10 + 99)], &mut out);
        assert!(out.contains(&10));
    }
}
