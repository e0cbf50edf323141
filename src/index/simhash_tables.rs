//! T1: simhash tables for Hamming distance ≤ 3 (Manku et al. 2007, permuted blocks).
//!
//! The 64 bits are cut into 4 blocks of 16; two fingerprints within distance 3 agree on at
//! least one whole block (pigeonhole), so table `t` buckets every fingerprint by block `t` and a
//! query scans 4 buckets. A bucket stores the full fingerprints next to the slots, so the scan
//! touches contiguous memory only.

use std::collections::HashMap;

use crate::pipeline::fingerprint::hamming;

/// Largest Hamming distance the tables guarantee to find.
pub const MAX_DISTANCE: u32 = 3;
const BLOCKS: u32 = 4;

#[derive(Debug, Default, Clone)]
struct Bucket {
    sims: Vec<u64>,
    slots: Vec<u32>,
}

/// The four block tables.
#[derive(Debug, Default, Clone)]
pub struct SimhashTables {
    tables: [HashMap<u16, Bucket>; BLOCKS as usize],
}

#[inline]
fn block(sim: u64, t: usize) -> u16 {
    (sim >> (16 * t)) as u16
}

impl SimhashTables {
    /// Add a fingerprint.
    pub fn insert(&mut self, sim: u64, slot: u32) {
        for (t, table) in self.tables.iter_mut().enumerate() {
            let b = table.entry(block(sim, t)).or_default();
            b.sims.push(sim);
            b.slots.push(slot);
        }
    }

    /// Remove a fingerprint's entries.
    pub fn remove(&mut self, sim: u64, slot: u32) {
        for (t, table) in self.tables.iter_mut().enumerate() {
            if let Some(b) = table.get_mut(&block(sim, t)) {
                if let Some(i) = b.slots.iter().position(|&s| s == slot) {
                    b.slots.swap_remove(i);
                    b.sims.swap_remove(i);
                }
            }
        }
    }

    /// Every slot within `max_distance` (≤ [`MAX_DISTANCE`] is exhaustive) with its distance,
    /// each slot once.
    pub fn query(&self, sim: u64, max_distance: u32, out: &mut Vec<(u32, u32)>) {
        let start = out.len();
        for (t, table) in self.tables.iter().enumerate() {
            if let Some(b) = table.get(&block(sim, t)) {
                for (&s, &slot) in b.sims.iter().zip(&b.slots) {
                    let d = hamming(s, sim);
                    if d <= max_distance && !out[start..].iter().any(|&(o, _)| o == slot) {
                        out.push((slot, d));
                    }
                }
            }
        }
    }

    /// Bytes held by buckets (capacities) and table entries.
    pub fn memory_bytes(&self) -> usize {
        self.tables
            .iter()
            .map(|t| {
                t.capacity() * (std::mem::size_of::<(u16, Bucket)>() + 1)
                    + t.values()
                        .map(|b| b.sims.capacity() * 8 + b.slots.capacity() * 4)
                        .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_everything_within_three_bits() {
        let mut t = SimhashTables::default();
        let base = 0x0123_4567_89ab_cdefu64;
        t.insert(base, 1);
        t.insert(base ^ 0b111, 2);
        t.insert(base ^ (1 << 5 | 1 << 21 | 1 << 40), 3);
        t.insert(base ^ 0xf, 4);
        t.insert(!base, 5);
        let mut out = Vec::new();
        t.query(base, 3, &mut out);
        out.sort();
        assert_eq!(out, vec![(1, 0), (2, 3), (3, 3)]);
        t.remove(base ^ 0b111, 2);
        out.clear();
        t.query(base, 3, &mut out);
        assert_eq!(out.len(), 2);
    }
}
