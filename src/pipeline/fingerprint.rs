//! The 64-bit simhash (the public fingerprint) over TF-IDF-weighted unigrams, and the rolling
//! document frequencies that weight it.
//!
//! Weight of a token = its count × idf, idf = ln((N + 1) / (df + 1)) + 1 with N documents (or
//! clusters) counted so far. With no statistics (N = 0) every idf is 1 and the simhash is a plain
//! TF simhash, which is what `neardup fingerprint` prints: a pure function of the text.

use super::hash::mix64;

/// Number of bits in a simhash.
pub const SIMHASH_BITS: u32 = 64;

/// Hamming distance of two simhashes.
#[inline]
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Rolling document frequencies of hashed features, in a fixed-size count-min sketch (two
/// saturating counters per feature; a frequency is the smaller of its two counters, so
/// collisions can only over-count, and rarely do). Both counters of a feature sit in one
/// 64-byte line of 32 counters (a blocked sketch): a look-up touches one cache line, not two,
/// and look-ups are what every query's TF-IDF simhash does per token. Memory is fixed,
/// independent of the number of documents: when the increments since the last aging reach half
/// the counters, every counter and the document count are halved, so frequencies describe the
/// recent stream (old chrome fades, current chrome stays frequent) and the table never
/// saturates.
#[derive(Debug, Clone)]
pub struct DocFreq {
    lines: Vec<CounterLine>,
    line_mask: u64,
    docs: u64,
    since_aging: u64,
}

/// Counters per line of a [`DocFreq`] (32 × 16 bits = one 64-byte cache line).
const LINE_COUNTERS: usize = 32;

/// One cache line of counters.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct CounterLine([u16; LINE_COUNTERS]);

impl DocFreq {
    /// A sketch of `2 × 2^bits` counters (bits clamped to 8..=28): as many as two rows of
    /// `2^bits`.
    pub fn new(bits: u32) -> Self {
        let bits = bits.clamp(8, 28);
        let lines = (2usize << bits) / LINE_COUNTERS;
        DocFreq {
            lines: vec![CounterLine::default(); lines],
            line_mask: lines as u64 - 1,
            docs: 0,
            since_aging: 0,
        }
    }

    /// The line and the two distinct counters in it of a feature's mixed hash `mix64(h)`:
    /// the line from the low bits, the counters from the high half.
    #[inline]
    fn slots_of_mixed(&self, m: u64) -> (usize, usize, usize) {
        let line = (m & self.line_mask) as usize;
        let a = ((m >> 32) as usize) % LINE_COUNTERS;
        let b = (a + 1 + ((m >> 40) as usize) % (LINE_COUNTERS - 1)) % LINE_COUNTERS;
        (line, a, b)
    }

    /// Frequency of a feature hash.
    #[inline]
    pub fn df(&self, h: u64) -> u32 {
        self.df_of_mixed(mix64(h))
    }

    /// [`df`](Self::df) from the feature's mixed hash `mix64(h)` (the simhash mixes every
    /// token hash anyway).
    #[inline]
    fn df_of_mixed(&self, m: u64) -> u32 {
        let (line, a, b) = self.slots_of_mixed(m);
        match self.lines.get(line) {
            Some(l) => l.0[a].min(l.0[b]) as u32,
            None => 0,
        }
    }

    /// Read the line of each feature of `mixed` (mixed hashes) ahead of the look-ups that need
    /// them: a loop of independent loads keeps more cache misses in flight than the look-ups'
    /// own loop, whose other work fills the processor's window.
    pub(crate) fn touch_mixed(&self, mixed: impl Iterator<Item = u64>) {
        if self.docs == 0 {
            return; // nothing counted: no look-up reads the table
        }
        let mut any = 0u16;
        for m in mixed {
            if let Some(l) = self.lines.get((m & self.line_mask) as usize) {
                any |= l.0[0];
            }
        }
        std::hint::black_box(any);
    }

    /// Documents counted.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Count one document's distinct features (the caller dedupes).
    pub fn add_document(&mut self, distinct: impl IntoIterator<Item = u64>) {
        self.docs += 1;
        for h in distinct {
            let (line, a, b) = self.slots_of_mixed(mix64(h));
            if let Some(l) = self.lines.get_mut(line) {
                l.0[a] = l.0[a].saturating_add(1);
                l.0[b] = l.0[b].saturating_add(1);
            }
            self.since_aging += 1;
        }
        if self.since_aging * 2 >= (self.lines.len() * LINE_COUNTERS) as u64 {
            for c in self.lines.iter_mut().flat_map(|l| l.0.iter_mut()) {
                *c /= 2;
            }
            self.docs = self.docs.div_ceil(2);
            self.since_aging = 0;
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.lines.capacity() * std::mem::size_of::<CounterLine>()
    }

    /// Inverse document frequency of a feature.
    #[inline]
    pub fn idf(&self, h: u64) -> f32 {
        (self.idf_fn())(h)
    }

    /// The idf function under the current counts (ln(N + 1) computed once).
    pub fn idf_fn(&self) -> impl Fn(u64) -> f32 + '_ {
        let idf = self.idf_of_mixed_fn();
        move |h| idf(mix64(h))
    }

    /// [`idf_fn`](Self::idf_fn) of the feature's mixed hash `mix64(h)`; ln(N + 1) and the
    /// logarithm table fetched once.
    pub(crate) fn idf_of_mixed_fn(&self) -> impl Fn(u64) -> f32 + '_ {
        let ln_n = if self.docs == 0 {
            None
        } else {
            Some((self.docs as f32 + 1.0).ln())
        };
        let table = ln1p_table();
        move |m| match ln_n {
            None => 1.0,
            Some(ln_n) => {
                let n = self.df_of_mixed(m);
                let ln1p = table
                    .get(n as usize)
                    .copied()
                    .unwrap_or_else(|| (n as f32 + 1.0).ln());
                ln_n - ln1p + 1.0
            }
        }
    }
}

/// ln(1 + n) for n below 4096.
fn ln1p_table() -> &'static [f32] {
    static LN: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    LN.get_or_init(|| (0..4096u32).map(|i| (i as f32 + 1.0).ln()).collect())
}

/// Simhash of (token hash, weight) pairs: bit `i` is set when the weights of the tokens whose
/// mixed hash has bit `i` set outweigh the others.
pub fn simhash_weighted_pairs(pairs: impl IntoIterator<Item = (u64, f32)>) -> u64 {
    let mut total = 0f32;
    let mixed: Vec<(u64, f32)> = pairs
        .into_iter()
        .map(|(h, w)| {
            total += w;
            (mix64(h), w)
        })
        .collect();
    simhash_of_mixed(&mixed, total)
}

/// [`simhash_weighted_pairs`] of (`mix64(token hash)`, weight) pairs whose weights add up to
/// `total`.
pub(crate) fn simhash_of_mixed(mixed: &[(u64, f32)], total: f32) -> u64 {
    // Sum only the weights of set bits and compare with half the total. The bits are taken a
    // byte at a time: a table turns a byte into its eight 0/1 lanes, so each token costs eight
    // 8-lane multiply-adds (vectorized) instead of 64 scalar ones. The 64 sums are kept in two
    // halves of 32, one pass over the tokens each, so that a half's sums stay in vector
    // registers. Every lane adds exactly `w` or `0` in token order, so the sums are those of
    // the bit-by-bit loop.
    let lanes = byte_lanes();
    let mut out = 0u64;
    for half in 0..2 {
        let mut acc = [[0f32; 8]; 4];
        for &(bits, w) in mixed {
            let bytes = (bits >> (32 * half)) as u32;
            for (j, a) in acc.iter_mut().enumerate() {
                let l = &lanes[((bytes >> (8 * j)) & 0xFF) as usize];
                for k in 0..8 {
                    a[k] += l[k] * w;
                }
            }
        }
        for (i, a) in acc.iter().flatten().enumerate() {
            if 2.0 * *a > total {
                out |= 1 << (32 * half + i);
            }
        }
    }
    out
}

/// For every byte value, its eight bits as 0.0/1.0 lanes (bit 0 first).
fn byte_lanes() -> &'static [[f32; 8]; 256] {
    static LANES: std::sync::OnceLock<[[f32; 8]; 256]> = std::sync::OnceLock::new();
    LANES.get_or_init(|| {
        let mut t = [[0f32; 8]; 256];
        for (byte, lanes) in t.iter_mut().enumerate() {
            for (k, l) in lanes.iter_mut().enumerate() {
                *l = ((byte >> k) & 1) as f32;
            }
        }
        t
    })
}

/// Simhash of token hashes, each occurrence weighted by `weight(hash)`.
pub fn simhash_weighted(tokens: &[u64], weight: impl Fn(u64) -> f32) -> u64 {
    simhash_weighted_pairs(tokens.iter().map(|&h| (h, weight(h))))
}

/// Simhash with TF-IDF weights from `df` (see the module docs).
pub fn simhash(tokens: &[u64], df: &DocFreq) -> u64 {
    simhash_weighted(tokens, |h| df.idf(h))
}

/// Plain TF simhash (no document statistics): the pure fingerprint of a text.
pub fn simhash_tf(tokens: &[u64]) -> u64 {
    simhash_weighted(tokens, |_| 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hamming_basics() {
        assert_eq!(hamming(7, 7), 0);
        assert_eq!(hamming(0, u64::MAX), 64);
    }

    #[test]
    fn similar_token_lists_have_close_simhashes() {
        let a: Vec<u64> = (0..200u64).map(mix64).collect();
        let mut b = a.clone();
        b[3] = 12345;
        let far: Vec<u64> = (1000..1200u64).map(mix64).collect();
        assert!(hamming(simhash_tf(&a), simhash_tf(&b)) <= 6);
        assert!(hamming(simhash_tf(&a), simhash_tf(&far)) > 10);
    }

    #[test]
    fn aging_keeps_the_table_from_saturating() {
        let mut df = DocFreq::new(10);
        for d in 0..10_000u64 {
            df.add_document((0..50).map(|i| mix64(d * 100 + i)).chain([7]));
        }
        assert!(df.df(7) >= 3, "a feature in every document stays frequent");
        let rare = (0..1000u64)
            .filter(|&i| df.df(mix64((i + 1) << 40)) >= 3)
            .count();
        assert!(rare < 50, "{rare} unseen features look common");
    }

    #[test]
    fn a_feature_has_two_distinct_counters_in_one_line() {
        let df = DocFreq::new(8);
        for i in 0..100_000u64 {
            let (line, a, b) = df.slots_of_mixed(mix64(i));
            assert!(line < df.lines.len());
            assert!(a < LINE_COUNTERS && b < LINE_COUNTERS);
            assert_ne!(a, b, "one counter would make the sketch a plain hash table");
        }
    }

    #[test]
    fn a_colliding_counter_alone_does_not_raise_a_frequency() {
        // Fill one counter of feature 1's pair through other features: its frequency is
        // the minimum, so it stays 0 as long as its second counter is untouched.
        let mut df = DocFreq::new(8);
        let (line, a, b) = df.slots_of_mixed(mix64(1));
        let mut raised = 0;
        for h in 2..200_000u64 {
            let (l, x, y) = df.slots_of_mixed(mix64(h));
            if l == line && (x == a || y == a) && x != b && y != b {
                df.add_document([h]);
                raised += 1;
            }
        }
        assert!(raised > 0);
        assert_eq!(df.df(1), 0);
    }

    #[test]
    fn idf_lowers_common_features() {
        let mut df = DocFreq::new(12);
        for _ in 0..10 {
            df.add_document([1u64]);
        }
        df.add_document([2u64]);
        assert!(df.idf(1) < df.idf(2));
        assert!(df.idf(3) > df.idf(2));
    }
}
