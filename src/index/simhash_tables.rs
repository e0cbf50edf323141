//! T1: simhash tables for Hamming distance ≤ 3 (Manku et al. 2007, permuted blocks).
//!
//! The 64 bits are cut into 4 blocks of 16; two fingerprints within distance 3 agree on at
//! least one whole block (pigeonhole), so table `t` buckets every fingerprint by block `t` and a
//! query scans 4 buckets. An entry is the slot and, as a filter, the next block (6 bytes): a
//! fingerprint within distance 3 differs there in at most 3 bits, and only entries that pass
//! (about 1 % of the others) have their full fingerprint read from the document columns.

use super::buckets::TagBuckets;
use crate::pipeline::fingerprint::hamming;

/// Largest Hamming distance the tables guarantee to find.
pub const MAX_DISTANCE: u32 = 3;
const BLOCKS: usize = 4;

/// The four block tables.
#[derive(Debug, Clone)]
pub struct SimhashTables {
    buckets: TagBuckets,
}

impl Default for SimhashTables {
    fn default() -> Self {
        SimhashTables {
            buckets: TagBuckets::new(BLOCKS << 16),
        }
    }
}

#[inline]
fn block(sim: u64, t: usize) -> u16 {
    (sim >> (16 * t)) as u16
}

/// Bucket of `sim` in table `t`, and its filter.
#[inline]
fn place(sim: u64, t: usize) -> (usize, u16) {
    (
        (t << 16) | block(sim, t) as usize,
        block(sim, (t + 1) % BLOCKS),
    )
}

impl SimhashTables {
    /// Add a fingerprint.
    pub fn insert(&mut self, sim: u64, slot: u32) {
        for t in 0..BLOCKS {
            let (b, filter) = place(sim, t);
            self.buckets.insert(b, filter, slot);
        }
    }

    /// Remove a fingerprint's entries.
    pub fn remove(&mut self, sim: u64, slot: u32) {
        for t in 0..BLOCKS {
            self.buckets.remove(place(sim, t).0, slot);
        }
    }

    /// Every slot within `max_distance` (≤ [`MAX_DISTANCE`] is exhaustive) with its distance,
    /// each slot once; `sim_of` gives a slot's fingerprint.
    pub fn query(
        &self,
        sim: u64,
        max_distance: u32,
        sim_of: impl Fn(u32) -> Option<u64>,
        out: &mut Vec<(u32, u32)>,
    ) {
        let start = out.len();
        for t in 0..BLOCKS {
            let (b, filter) = place(sim, t);
            for (f, slot) in self.buckets.bucket(b) {
                if (f ^ filter).count_ones() > max_distance {
                    continue;
                }
                let Some(s) = sim_of(slot) else {
                    continue;
                };
                let d = hamming(s, sim);
                if d <= max_distance
                    && !out
                        .get(start..)
                        .is_some_and(|o| o.iter().any(|&(o, _)| o == slot))
                {
                    out.push((slot, d));
                }
            }
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.buckets.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_everything_within_three_bits() {
        let mut t = SimhashTables::default();
        let base = 0x0123_4567_89ab_cdefu64;
        let sims = [
            0,
            base,
            base ^ 0b111,
            base ^ (1 << 5 | 1 << 21 | 1 << 40),
            base ^ 0xf,
            !base,
            // Each block differs by one bit except block 3 (3 bits in total): found through
            // table 3 and its filter (block 0) one bit off.
            base ^ (1 << 1 | 1 << 17 | 1 << 33),
        ];
        for (slot, &s) in sims.iter().enumerate().skip(1) {
            t.insert(s, slot as u32);
        }
        let sim_of = |s: u32| sims.get(s as usize).copied();
        let mut out = Vec::new();
        t.query(base, 3, sim_of, &mut out);
        out.sort();
        assert_eq!(out, vec![(1, 0), (2, 3), (3, 3), (6, 3)]);
        t.remove(base ^ 0b111, 2);
        out.clear();
        t.query(base, 3, sim_of, &mut out);
        assert_eq!(out.len(), 3);
        out.clear();
        t.query(base, 0, sim_of, &mut out);
        assert_eq!(out, vec![(1, 0)]);
    }

    #[test]
    fn exhaustive_against_a_scan() {
        let mut t = SimhashTables::default();
        let mut sims = Vec::new();
        let mut x = 7u64;
        for slot in 0..3000u32 {
            x = crate::pipeline::hash::mix64(x);
            // Near a few centres, so many pairs are within a few bits.
            let centre = crate::pipeline::hash::mix64(u64::from(slot % 5));
            let flips = (0..(x % 6)).fold(0u64, |m, i| m | 1 << ((x >> (8 * i)) % 64));
            let s = centre ^ flips;
            sims.push(s);
            t.insert(s, slot);
        }
        for q in 0..5u64 {
            let query = crate::pipeline::hash::mix64(q) ^ 1;
            let mut out = Vec::new();
            t.query(query, 3, |s| sims.get(s as usize).copied(), &mut out);
            out.sort();
            let want: Vec<(u32, u32)> = sims
                .iter()
                .enumerate()
                .map(|(i, &s)| (i as u32, hamming(s, query)))
                .filter(|&(_, d)| d <= 3)
                .collect();
            assert!(!want.is_empty());
            assert_eq!(out, want);
        }
    }
}
