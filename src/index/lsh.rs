//! T2: MinHash-LSH bands. A document is a candidate when any band (a run of `rows` signature
//! values) equals the query's. With `b` bands of `r` rows the chance to become a candidate at
//! Jaccard `J` is `1 − (1 − J^r)^b`; the default 16 × 2 gives 0.78 at J = 0.3, 0.94 at 0.4 and
//! 0.99 at 0.5 (edited reprints), and 0.15 at J = 0.1.
//!
//! A band key is compared on its high 32 bits. They are stored split: the low bits choose a
//! bucket, the high 16 are the entry's tag, so an entry is a tag and a slot (6 bytes) and
//! (bucket, tag) still identifies all 32 bits. The buckets grow by linear hashing (Litwin
//! 1980): from 2^16 buckets, each time the entries pass [`SPLIT_AT`] per bucket, the next
//! bucket in turn is split in two by one more key bit, so a query scans about the same few
//! cache lines per band at any size, no insert rehashes everything, and the bucket table stays
//! a few bytes a document. About `bands × 6 × 17/16` bytes a document in all.

use super::buckets::TagBuckets;

/// log2 of the initial number of buckets (at least 16, so bucket and tag cover the key).
const INITIAL_BITS: u32 = 16;
/// Average entries per bucket above which the next bucket is split.
pub const SPLIT_AT: usize = 48;

/// Band-key → slots multimap.
#[derive(Debug, Clone)]
pub struct LshIndex {
    buckets: TagBuckets,
    /// Buckets are addressed by the low `bits` bits of the key, or `bits + 1` for those below
    /// `split` (already split at this level).
    bits: u32,
    split: usize,
}

impl Default for LshIndex {
    fn default() -> Self {
        LshIndex {
            buckets: TagBuckets::new(1 << INITIAL_BITS),
            bits: INITIAL_BITS,
            split: 0,
        }
    }
}

impl LshIndex {
    /// Bucket and tag of a band key.
    #[inline]
    fn place(&self, band_key: u64) -> (usize, u16) {
        let key = (band_key >> 32) as u32;
        let low = (key & ((1u32 << self.bits) - 1)) as usize;
        let b = if low < self.split {
            (key as u64 & ((1u64 << (self.bits + 1)) - 1)) as usize
        } else {
            low
        };
        (b, (key >> 16) as u16)
    }

    /// Split the next bucket when the entries pass [`SPLIT_AT`] per bucket, dropping the
    /// entries of slots that are no longer `live`.
    fn maybe_split(&mut self, live: &impl Fn(u32) -> bool) {
        // A 32-bit key cannot address more than 2^32 buckets.
        if self.bits >= 31 || self.buckets.len() <= self.buckets.buckets() * SPLIT_AT {
            return;
        }
        // Bit `bits` of the key is bit `bits - 16` of the tag.
        let bit = self.bits - 16;
        self.buckets
            .split_off(self.split, |tag| (tag >> bit) & 1 == 1, live);
        self.split += 1;
        if self.split == 1 << self.bits {
            self.bits += 1;
            self.split = 0;
        }
    }

    /// Add a document's band keys. `live` tells which slots are still live: the entries of
    /// deleted documents are dropped from a bucket when it is split, so as the index grows
    /// (each bucket is split once per doubling) they do not pile up.
    pub fn insert(&mut self, band_keys: &[u64], slot: u32, live: impl Fn(u32) -> bool) {
        for &k in band_keys {
            let (b, tag) = self.place(k);
            self.buckets.insert(b, tag, slot);
            self.maybe_split(&live);
        }
    }

    /// Slots sharing at least one band with the query, each once, appended to `out`.
    pub fn query(&self, band_keys: &[u64], out: &mut Vec<u32>) {
        let start = out.len();
        let places: Vec<(usize, u16)> = band_keys.iter().map(|&k| self.place(k)).collect();
        self.buckets.find_tags(&places, out, start);
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.buckets.memory_bytes()
    }

    /// Entries stored.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::hash::mix64;

    #[test]
    fn multimap_finds_all_sharers() {
        let mut l = LshIndex::default();
        for s in 0..5000u32 {
            l.insert(&[(s as u64 % 7) << 32, mix64(s as u64 + 99)], s, |_| true);
        }
        assert_eq!(l.len(), 10_000);
        let mut out = Vec::new();
        l.query(&[3u64 << 32], &mut out);
        assert_eq!(out.len(), (0..5000).filter(|s| s % 7 == 3).count());
        assert!(out.iter().all(|s| s % 7 == 3));
        out.clear();
        l.query(&[mix64(10 + 99)], &mut out);
        assert!(out.contains(&10));
    }

    #[test]
    fn keys_equal_only_in_the_bucket_bits_or_only_in_the_tag_do_not_collide() {
        let mut l = LshIndex::default();
        let key = 0xabcd_1234u64 << 32;
        l.insert(&[key], 1, |_| true);
        // Same tag (high 16 bits), other bucket.
        l.insert(&[(0xabcd_1235u64 << 32) | 5], 2, |_| true);
        // Same bucket (low 16 bits), other tag.
        l.insert(&[(0x0bcd_1234u64 << 32) | 5], 3, |_| true);
        // Same high 32 bits, other low bits: the same key as far as the index is concerned.
        l.insert(&[key | 0xffff], 4, |_| true);
        let mut out = Vec::new();
        l.query(&[key, key], &mut out);
        assert_eq!(out, vec![1, 4]);
    }

    #[test]
    fn splitting_keeps_every_entry_findable_and_buckets_small() {
        let mut l = LshIndex::default();
        let n = (1u32 << INITIAL_BITS) as usize * SPLIT_AT / 16 * 3;
        let key = |s: u32, band: u64| mix64(u64::from(s) * 16 + band);
        for s in 0..n as u32 {
            let keys: Vec<u64> = (0..16).map(|b| key(s, b)).collect();
            l.insert(&keys, s, |_| true);
        }
        assert!(l.bits > INITIAL_BITS || l.split > 0, "no bucket was split");
        assert!(l.buckets.buckets() > 1 << INITIAL_BITS);
        assert!(l.len() <= l.buckets.buckets() * SPLIT_AT + 1);
        let mut out = Vec::new();
        for s in (0..n as u32).step_by(97) {
            out.clear();
            l.query(&[key(s, 5)], &mut out);
            assert!(out.contains(&s), "slot {s} lost");
        }
        // Past a whole level: 2^17 buckets and more.
        let mut l = LshIndex::default();
        for s in 0..(1u32 << (INITIAL_BITS + 1)) * SPLIT_AT as u32 / 16 + 5000 {
            let keys: Vec<u64> = (0..16).map(|b| key(s, b)).collect();
            l.insert(&keys, s, |_| true);
        }
        assert_eq!(l.bits, INITIAL_BITS + 1);
        for s in (0..l.len() as u32 / 16).step_by(1013) {
            out.clear();
            l.query(&[key(s, 15)], &mut out);
            assert!(out.contains(&s), "slot {s} lost");
        }
    }

    #[test]
    fn entries_of_deleted_slots_go_when_their_bucket_splits() {
        let mut l = LshIndex::default();
        let key = |s: u32, band: u64| mix64(u64::from(s) * 16 + band);
        // Even slots are deleted as soon as inserted.
        let n = (1u32 << INITIAL_BITS) * SPLIT_AT as u32 / 16 * 3;
        for s in 0..n {
            let keys: Vec<u64> = (0..16).map(|b| key(s, b)).collect();
            l.insert(&keys, s, |x| x % 2 == 1 || x == s);
        }
        assert!(l.len() < n as usize * 16 * 9 / 10, "{} entries", l.len());
        let mut out = Vec::new();
        for s in (1..n).step_by(2 * 97) {
            out.clear();
            l.query(&[key(s, 5)], &mut out);
            assert!(out.contains(&s), "live slot {s} lost");
        }
    }
}
