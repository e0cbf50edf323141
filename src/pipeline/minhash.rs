//! MinHash signature (one-permutation hashing with densification) for banded LSH, and the
//! compact shingle sketch used for verification.
//!
//! * Signature: each shingle hash falls into one of `k` buckets by its top bits and the bucket
//!   keeps its minimum (one permutation hashing, Li et al. 2012); an empty bucket borrows from
//!   the next non-empty one to its right, re-mixed with its own index (rotation densification,
//!   Shrivastava & Li 2014). O(shingles + k), the probability that two signatures agree in a
//!   bucket ≈ the Jaccard similarity of the shingle sets.
//! * Sketch: the shingles whose hash falls in a fixed slice of the hash space
//!   (a consistent sample: the same shingle is sampled in every document; 1/[`SKETCH_SAMPLE`] by
//!   default), deduplicated, sorted,
//!   and capped at the `cap` smallest. Jaccard and containment estimated on the samples are
//!   unbiased; see [`crate::index::verify`].

use super::hash::{bytes_hash, mix64};

/// By default one in this many shingles is kept in the sketch.
pub const SKETCH_SAMPLE: u64 = 4;

/// MinHash signature of a shingle set with `k` buckets (empty input → all `u32::MAX`).
pub fn signature(shingles: &[u64], k: usize) -> Vec<u32> {
    let k = k.max(1);
    let mut mins = vec![u64::MAX; k];
    for &h in shingles {
        let m = mix64(h);
        let b = ((m as u128 * k as u128) >> 64) as usize;
        // Low bits rank the shingle inside its bucket.
        let v = m.rotate_left(32);
        if let Some(slot) = mins.get_mut(b) {
            if v < *slot {
                *slot = v;
            }
        }
    }
    if mins.iter().all(|&v| v == u64::MAX) {
        return vec![u32::MAX; k];
    }
    let mut out = vec![0u32; k];
    for (i, o) in out.iter_mut().enumerate() {
        let mut j = i;
        let mut hops = 0u64;
        while mins[j] == u64::MAX {
            j = (j + 1) % k;
            hops += 1;
        }
        let v = if hops == 0 {
            mins[j]
        } else {
            mix64(mins[j] ^ hops.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        };
        *o = (v >> 32) as u32;
    }
    out
}

/// LSH band keys: `bands` keys of `rows` consecutive signature values each (band index mixed
/// in, so equal values in different bands do not collide).
pub fn band_keys(sig: &[u32], bands: usize, rows: usize) -> Vec<u64> {
    let rows = rows.max(1);
    (0..bands)
        .map(|b| {
            let mut buf = [0u8; 4 * 8];
            let vals = sig.iter().skip(b * rows).take(rows.min(8));
            let mut n = 0;
            for (chunk, v) in buf.chunks_exact_mut(4).zip(vals) {
                chunk.copy_from_slice(&v.to_le_bytes());
                n += 4;
            }
            bytes_hash(&buf[..n]) ^ (b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        })
        .collect()
}

/// Salt of the sketch sample's hash (see [`sampled`]).
const SAMPLE_SALT: u64 = 0x5ca1_ab1e;

/// Whether a shingle hash belongs to the sketch sample of one in `rate`.
#[inline]
pub fn sampled(h: u64, rate: u64) -> bool {
    let x = mix64(h ^ SAMPLE_SALT);
    // A power-of-two rate (the default) by mask: the same test without a division.
    rate <= 1
        || if rate.is_power_of_two() {
            x & (rate - 1) == 0
        } else {
            x % rate == 0
        }
}

/// The mask that [`sampled_by_mask`] tests for a sampling `rate` that has one (a power of two,
/// or at most 1: every shingle), so that a loop over many shingles tests the rate once:
/// `sampled(h, rate) == sampled_by_mask(h, mask)`. None for other rates.
#[inline]
pub fn sample_mask(rate: u64) -> Option<u64> {
    if rate <= 1 {
        Some(0)
    } else if rate.is_power_of_two() {
        Some(rate - 1)
    } else {
        None
    }
}

/// [`sampled`] under the mask [`sample_mask`] gave for the rate.
#[inline]
pub fn sampled_by_mask(h: u64, mask: u64) -> bool {
    mix64(h ^ SAMPLE_SALT) & mask == 0
}

/// The verification sketch: the sampled shingles' 32-bit keys, sorted, distinct, at most `cap`
/// (the smallest), sampling one shingle in `rate`.
pub fn sketch(shingles: &[u64], rate: u64, cap: usize) -> Vec<u32> {
    sketch_from_keys(
        shingles
            .iter()
            .filter(|&&h| sampled(h, rate))
            .map(|&h| sketch_key(h))
            .collect(),
        cap,
    )
}

/// The 32-bit sketch key of a sampled shingle hash.
#[inline]
pub fn sketch_key(h: u64) -> u32 {
    (h >> 32) as u32
}

/// [`sketch`] from the keys of the already sampled shingles (any order, repeats allowed).
pub fn sketch_from_keys(mut keys: Vec<u32>, cap: usize) -> Vec<u32> {
    super::hash::sort_keys32(&mut keys);
    keys.dedup();
    keys.truncate(cap);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(r: std::ops::Range<u64>) -> Vec<u64> {
        r.map(mix64).collect()
    }

    #[test]
    fn signature_agreement_tracks_jaccard() {
        let a = set(0..1000);
        let b = set(500..1500); // J = 1/3
        let (sa, sb) = (signature(&a, 256), signature(&b, 256));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        assert!((agree - 1.0 / 3.0).abs() < 0.1, "{agree}");
        assert_eq!(signature(&a, 64), signature(&a, 64));
    }

    #[test]
    fn tiny_and_empty_inputs() {
        assert_eq!(signature(&[], 8), vec![u32::MAX; 8]);
        let s = signature(&[42], 8);
        assert!(s.iter().all(|&v| v != u32::MAX));
        assert_eq!(band_keys(&s, 4, 2).len(), 4);
    }

    proptest::proptest! {
        /// The mask test samples exactly the shingles the rate test samples, for every rate
        /// that has a mask (and only those have one).
        #[test]
        fn mask_sampling_equals_rate_sampling(h in proptest::num::u64::ANY, rate in 0u64..300, shift in 0u32..64) {
            for rate in [rate, 1u64 << shift] {
                match sample_mask(rate) {
                    Some(mask) => proptest::prop_assert_eq!(sampled_by_mask(h, mask), sampled(h, rate)),
                    None => proptest::prop_assert!(rate > 1 && !rate.is_power_of_two()),
                }
            }
        }
    }

    #[test]
    fn sketch_is_sorted_distinct_and_capped() {
        let a = set(0..4000);
        let s = sketch(&a, SKETCH_SAMPLE, 100);
        assert_eq!(s.len(), 100);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        let full = sketch(&a, SKETCH_SAMPLE, usize::MAX);
        assert!((full.len() as f64 - 1000.0).abs() < 120.0);
    }
}
