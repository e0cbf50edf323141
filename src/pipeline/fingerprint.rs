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
        if self.docs == 0 {
            return 1.0;
        }
        ((self.docs as f32 + 1.0) / (self.df(h) as f32 + 1.0)).ln() + 1.0
    }
}

/// Simhash of token hashes, each occurrence weighted by `weight(hash)`.
pub fn simhash_weighted(tokens: &[u64], weight: impl Fn(u64) -> f32) -> u64 {
    let mut acc = [0f32; 64];
    for &h in tokens {
        let w = weight(h);
        // The token hash itself decides the bit signs (already uniform); mixing once more keeps
        // simhash bits independent of the bits used by other tables.
        let bits = mix64(h);
        for (i, a) in acc.iter_mut().enumerate() {
            let sign = (((bits >> i) & 1) as f32) * 2.0 - 1.0;
            *a += sign * w;
        }
    }
    let mut out = 0u64;
    for (i, a) in acc.iter().enumerate() {
        if *a > 0.0 {
            out |= 1 << i;
        }
    }
    out
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
