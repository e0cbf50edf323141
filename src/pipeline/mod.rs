//! Normalize → tokenize → shingle → hash → fingerprint. Pure functions over text.
//!
//! Placeholder: the real stages land with the detection core.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of every feature hash. Part of the on-disk format: never change it without bumping the
/// store's format version.
pub const FEATURE_HASH_SEED: u64 = 0x6e65_6172_6475_7031; // "neardup1"

/// Hash of the whitespace-collapsed, lower-cased text: the exact-duplicate key.
pub fn exact_hash(text: &str) -> u64 {
    let folded: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    xxh3_64_with_seed(folded.join(" ").as_bytes(), FEATURE_HASH_SEED)
}
