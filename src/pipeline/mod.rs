//! Normalize → tokenize → shingle → hash → fingerprint. Pure functions over text.
//!
//! [`features`] runs every stage that does not depend on what a namespace has seen; the
//! TF-IDF simhash, which does, is computed from [`Features::tokens`] and a
//! [`fingerprint::DocFreq`] at commit time (see [`crate::engine`]).

pub mod fingerprint;
pub mod hash;
pub mod minhash;
pub mod normalize;
pub mod shingle;
pub mod tokenize;

pub use hash::{FEATURE_HASH_NAME, FEATURE_HASH_SEED};

/// Feature extraction settings. Changing any of them changes stored features: they belong to
/// the store's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureConfig {
    /// Shingle width in words.
    pub shingle_words: usize,
    /// Length of the MinHash signature over all shingles (0 = none: the index then bands the
    /// signature of the sketch's non-common shingles, see [`crate::index::IndexConfig`]).
    pub minhash_len: usize,
    /// One shingle in this many is sampled into the verification sketch.
    pub sketch_sample: u64,
    /// Most sampled shingles kept in the verification sketch.
    pub sketch_cap: usize,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            shingle_words: shingle::DEFAULT_SHINGLE_WORDS,
            minhash_len: 0,
            sketch_sample: minhash::SKETCH_SAMPLE,
            sketch_cap: 80,
        }
    }
}

/// Everything the index needs from one clean text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Hash of the normalized text (the exact-duplicate key).
    pub exact: u64,
    /// Distinct token hashes, sorted.
    pub tokens: Vec<u64>,
    /// Occurrences of each of `tokens`.
    pub counts: Vec<u32>,
    /// Number of shingles (with repeats).
    pub shingles: u32,
    /// MinHash signature.
    pub signature: Vec<u32>,
    /// Verification sketch (see [`minhash::sketch`]).
    pub sketch: Vec<u32>,
    /// Hashes of the distinct numbers (digit tokens) of the text, sorted.
    pub numbers: Vec<u64>,
}

impl Features {
    /// TF simhash of these features (no document statistics).
    pub fn simhash_tf(&self) -> u64 {
        self.simhash(&fingerprint::DocFreq::new(8))
    }

    /// TF-IDF simhash under the given document frequencies.
    pub fn simhash(&self, df: &fingerprint::DocFreq) -> u64 {
        // Each token hash is mixed once, for its document-frequency slots and its bits. The
        // frequency table is megabytes, read at random: every token's line is read first, in a
        // loop of independent loads, so the cache misses overlap; the weights then find their
        // lines in cache.
        let mut mixed: Vec<(u64, f32)> =
            self.tokens.iter().map(|&h| (hash::mix64(h), 0.0)).collect();
        df.touch_mixed(mixed.iter().map(|&(m, _)| m));
        let idf = df.idf_of_mixed_fn();
        let mut total = 0f32;
        for ((m, w), &c) in mixed.iter_mut().zip(&self.counts) {
            *w = c as f32 * idf(*m);
            total += *w;
        }
        fingerprint::simhash_of_mixed(&mixed, total)
    }
}

/// Compute the features of an already normalized text.
pub fn features_of_normalized(normalized: &str, cfg: &FeatureConfig) -> Features {
    let (th, numbers) = shingle::hash_normalized(normalized);
    features_of_tokens(normalized.as_bytes(), th, numbers, cfg)
}

/// Features from the normalized bytes and their token hashes (numbers: hashes of the number
/// tokens, repeats kept).
fn features_of_tokens(
    normalized: &[u8],
    th: shingle::TokenHashes,
    mut numbers: Vec<u64>,
    cfg: &FeatureConfig,
) -> Features {
    // The sketch samples shingles as they are hashed; the full list is only built when a
    // MinHash signature over all of them is asked for.
    // The sampled keys are written branch-free (one shingle in four, at random, is taken: a
    // branch would mispredict): every key is stored at the next free place, which advances
    // only for a sampled one. There are never more shingles than tokens.
    let mut sketch_keys = vec![0u32; th.hashes.len() + 1];
    let mut sampled = 0usize;
    let mut all = Vec::new();
    let mut sample = |h: u64, taken: bool| {
        if let Some(slot) = sketch_keys.get_mut(sampled) {
            *slot = minhash::sketch_key(h);
            sampled += usize::from(taken);
        }
    };
    // The common configuration (no signature, a power-of-two rate) gets a loop of its own,
    // with the rate's mask computed once, not tested per shingle.
    let shingle_count = match (cfg.minhash_len > 0, minhash::sample_mask(cfg.sketch_sample)) {
        (false, Some(mask)) => shingle::for_each_shingle(&th, cfg.shingle_words, |h| {
            sample(h, minhash::sampled_by_mask(h, mask))
        }),
        _ => shingle::for_each_shingle(&th, cfg.shingle_words, |h| {
            if cfg.minhash_len > 0 {
                all.push(h);
            }
            sample(h, minhash::sampled(h, cfg.sketch_sample))
        }),
    };
    sketch_keys.truncate(sampled);
    numbers.sort_unstable();
    numbers.dedup();
    let mut tokens = th.hashes;
    hash::sort_hashes(&mut tokens);
    let counts = count_runs(&mut tokens);
    Features {
        exact: hash::bytes_hash(normalized),
        tokens,
        counts,
        shingles: shingle_count as u32,
        signature: if cfg.minhash_len > 0 {
            minhash::signature(&all, cfg.minhash_len)
        } else {
            Vec::new()
        },
        sketch: minhash::sketch_from_keys(sketch_keys, cfg.sketch_cap),
        numbers,
    }
}

/// Collapse each run of equal values of a sorted list to one, returning the runs' lengths.
/// Branch-free (a repeated word is as likely as a new one, so a branch would mispredict).
fn count_runs(sorted: &mut Vec<u64>) -> Vec<u32> {
    let Some(&first) = sorted.first() else {
        return Vec::new();
    };
    let mut counts = vec![0u32; sorted.len()];
    let mut last = 0;
    let mut current = first;
    counts[0] = 1;
    for r in 1..sorted.len() {
        let h = sorted[r];
        last += usize::from(h != current);
        current = h;
        sorted[last] = h;
        counts[last] += 1;
    }
    sorted.truncate(last + 1);
    counts.truncate(last + 1);
    counts
}

/// Normalize a clean text and compute its features (tokens are hashed while the text is
/// normalized, in one pass).
pub fn features(text: &str, cfg: &FeatureConfig) -> Features {
    let mut hasher = shingle::TokenHasher::for_text(text.len());
    let normalized = normalize::normalize_tokens(text, &mut hasher);
    features_of_tokens(&normalized, hasher.hashes, hasher.numbers, cfg)
}

/// The public fingerprint of a text: TF simhash of its normalized tokens, 64 bits.
pub fn fingerprint(text: &str) -> u64 {
    features(text, &FeatureConfig::default()).simhash_tf()
}

/// The exact-duplicate key of a document whose clean text has no words left: the hash of its
/// whole input (normalized), tagged so it never equals the key of a clean text.
pub fn stripped_exact_hash(input: &str) -> u64 {
    exact_hash(input) ^ 0x5354_5249_5050_4544 // "STRIPPED"
}

/// Hash of the normalized text: the exact-duplicate key.
pub fn exact_hash(text: &str) -> u64 {
    hash::bytes_hash(normalize::normalize(text).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_punctuation_and_spacing() {
        let a = fingerprint("The minister met his counterpart, on Tuesday.");
        let b = fingerprint("the  minister met his counterpart on Tuesday!!");
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint("An entirely different sentence about weather.")
        );
    }

    #[test]
    fn runs_are_counted() {
        let mut v = vec![1, 1, 2, 3, 3, 3, 9];
        assert_eq!(count_runs(&mut v), vec![2, 1, 3, 1]);
        assert_eq!(v, vec![1, 2, 3, 9]);
        let mut empty = Vec::new();
        assert!(count_runs(&mut empty).is_empty());
        let mut one = vec![5];
        assert_eq!(count_runs(&mut one), vec![1]);
        let mut distinct_first = vec![4, 7, 7, 8];
        assert_eq!(count_runs(&mut distinct_first), vec![1, 2, 1]);
        assert_eq!(distinct_first, vec![4, 7, 8]);
    }

    proptest::proptest! {
        /// Mostly ASCII text (the one-pass path's register-held words: up to and past 16
        /// bytes, digits, mixed case, joined to non-ASCII letters, dropped characters and
        /// every kind of separator) gets the features of the two-pass definition.
        #[test]
        fn ascii_words_get_the_features_of_the_two_pass_definition(
            s in "([a-zA-Z0-9]{1,20}|[0-9]{1,18}|[ .,\n\r\t]{1,3}|\u{e9}|\u{200B}|\u{2028}|\u{0628}\u{0627}|\u{4E00}|\u{A0}){0,80}"
        ) {
            let cfg = FeatureConfig::default();
            proptest::prop_assert_eq!(
                features(&s, &cfg),
                features_of_normalized(&normalize::normalize(&s), &cfg)
            );
        }
    }

    #[test]
    fn features_collect_numbers() {
        let f = features("killed 12 people on ١٢ May 2015", &FeatureConfig::default());
        assert_eq!(f.numbers.len(), 2);
    }
}
