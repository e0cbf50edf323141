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

/// Rolling document frequencies of hashed features, in a fixed-size table of saturating
/// counters indexed by hash (a one-row count sketch: collisions only over-count, which only
/// lowers a weight). Memory is fixed, independent of the number of documents.
#[derive(Debug, Clone)]
pub struct DocFreq {
    counts: Vec<u16>,
    mask: u64,
    docs: u64,
}

impl DocFreq {
    /// A table of `2^bits` counters (bits clamped to 8..=28).
    pub fn new(bits: u32) -> Self {
        let bits = bits.clamp(8, 28);
        DocFreq {
            counts: vec![0; 1 << bits],
            mask: (1u64 << bits) - 1,
            docs: 0,
        }
    }

    #[inline]
    fn slot(&self, h: u64) -> usize {
        (mix64(h) & self.mask) as usize
    }

    /// Frequency of a feature hash.
    #[inline]
    pub fn df(&self, h: u64) -> u32 {
        self.counts.get(self.slot(h)).copied().unwrap_or(0) as u32
    }

    /// Documents counted.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// Count one document's distinct features (the caller dedupes).
    pub fn add_document(&mut self, distinct: impl IntoIterator<Item = u64>) {
        self.docs += 1;
        for h in distinct {
            let s = self.slot(h);
            if let Some(c) = self.counts.get_mut(s) {
                *c = c.saturating_add(1);
            }
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.counts.capacity() * std::mem::size_of::<u16>()
    }

    /// Inverse document frequency of a feature.
    #[inline]
    pub fn idf(&self, h: u64) -> f32 {
        (self.idf_fn())(h)
    }

    /// The idf function under the current counts (ln(N + 1) computed once).
    pub fn idf_fn(&self) -> impl Fn(u64) -> f32 + '_ {
        let ln_n = if self.docs == 0 {
            None
        } else {
            Some((self.docs as f32 + 1.0).ln())
        };
        move |h| match ln_n {
            None => 1.0,
            Some(ln_n) => ln_n - ln1p_count(self.df(h)) + 1.0,
        }
    }
}

/// ln(1 + n), from a table for small n.
#[inline]
fn ln1p_count(n: u32) -> f32 {
    static LN: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    let t = LN.get_or_init(|| (0..4096u32).map(|i| (i as f32 + 1.0).ln()).collect());
    t.get(n as usize)
        .copied()
        .unwrap_or_else(|| (n as f32 + 1.0).ln())
}

/// Simhash of (token hash, weight) pairs: bit `i` is set when the weights of the tokens whose
/// mixed hash has bit `i` set outweigh the others.
pub fn simhash_weighted_pairs(pairs: impl IntoIterator<Item = (u64, f32)>) -> u64 {
    // Sum only the weights of set bits and compare with half the total: half the work of
    // adding ±w, and the loop vectorizes.
    let mut acc = [0f32; 64];
    let mut total = 0f32;
    for (h, w) in pairs {
        let bits = mix64(h);
        total += w;
        for (i, a) in acc.iter_mut().enumerate() {
            *a += ((bits >> i) & 1) as f32 * w;
        }
    }
    let mut out = 0u64;
    for (i, a) in acc.iter().enumerate() {
        if 2.0 * *a > total {
            out |= 1 << i;
        }
    }
    out
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
