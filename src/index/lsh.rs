//! T2: MinHash-LSH bands. A document is a candidate when any band (a run of `rows` signature
//! values) equals the query's. With `b` bands of `r` rows the chance to become a candidate at
//! Jaccard `J` is `1 − (1 − J^r)^b`; the default 16 × 2 gives 0.78 at J = 0.3, 0.94 at 0.4 and
//! 0.99 at 0.5 (edited reprints), and 0.15 at J = 0.1.
//!
//! A band key is compared on its high 32 bits. They are stored split: the top
//! [`BUCKET_BITS`] choose one of `2^BUCKET_BITS` buckets, the low 16 are the entry's tag, so an
//! entry is a tag and a slot (6 bytes) and (bucket, tag) still identifies all 32 bits. About
//! `bands × 6 × 17/16` bytes a document, plus the bucket table (6 MiB).

use super::buckets::TagBuckets;

/// log2 of the number of buckets (at least 16, so bucket and tag cover the 32-bit key).
pub const BUCKET_BITS: u32 = 18;

/// Band-key → slots multimap.
#[derive(Debug, Clone)]
pub struct LshIndex {
    buckets: TagBuckets,
}

impl Default for LshIndex {
    fn default() -> Self {
        LshIndex {
            buckets: TagBuckets::new(BUCKET_BITS),
        }
    }
}

#[inline]
fn split(band_key: u64) -> (usize, u16) {
    let key = (band_key >> 32) as u32;
    ((key >> (32 - BUCKET_BITS)) as usize, key as u16)
}

impl LshIndex {
    /// Add a document's band keys.
    pub fn insert(&mut self, band_keys: &[u64], slot: u32) {
        for &k in band_keys {
            let (b, tag) = split(k);
            self.buckets.insert(b, tag, slot);
        }
    }

    /// Slots sharing at least one band with the query, each once, appended to `out`.
    pub fn query(&self, band_keys: &[u64], out: &mut Vec<u32>) {
        let start = out.len();
        for &k in band_keys {
            let (b, tag) = split(k);
            self.buckets.find_tag(b, tag, out, start);
        }
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
            l.insert(&[(s as u64 % 7) << 32, mix64(s as u64 + 99)], s);
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
        l.insert(&[key], 1);
        // Same tag (low 16 bits), other bucket.
        l.insert(&[(0x0bcd_1234u64 << 32) | 5], 2);
        // Same bucket (top bits), other tag.
        l.insert(&[(0xabcd_1235u64 << 32) | 5], 3);
        // Same high 32 bits, other low bits: the same key as far as the index is concerned.
        l.insert(&[key | 0xffff], 4);
        let mut out = Vec::new();
        l.query(&[key, key], &mut out);
        assert_eq!(out, vec![1, 4]);
    }
}
