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

/// [`token_hash`] of a token of `len` bytes (1 to 16) given as two little-endian words:
/// `words[0]` holds bytes 0..8, `words[1]` bytes 8..16; bytes past `len` are ignored. The
/// 1–16-byte cases of xxh3-64 computed on the words directly (the same value as the crate
/// function, tested): the normalizer hands over a short ASCII word in the registers it wrote it
/// from, so the hash neither reads the word back nor dispatches on a slice.
#[inline(always)]
pub fn token_hash_words(words: [u64; 2], len: usize) -> u64 {
    const SEED: u64 = FEATURE_HASH_SEED;
    let [lo, hi] = words;
    if len > 8 {
        // Bytes len - 8 .. len: the top of the two words, shifted down.
        let last = ((u128::from(hi) << 64 | u128::from(lo)) >> (8 * (len - 8))) as u64;
        const FLIP1: u64 = (XXH3_SECRET[3] ^ XXH3_SECRET[4]).wrapping_add(SEED);
        const FLIP2: u64 = (XXH3_SECRET[5] ^ XXH3_SECRET[6]).wrapping_sub(SEED);
        let input_lo = lo ^ FLIP1;
        let input_hi = last ^ FLIP2;
        let product = u128::from(input_lo) * u128::from(input_hi);
        let acc = (len as u64)
            .wrapping_add(input_lo.swap_bytes())
            .wrapping_add(input_hi)
            .wrapping_add((product as u64) ^ ((product >> 64) as u64));
        xxh3_avalanche(acc)
    } else if len >= 4 {
        const SEED48: u64 = SEED ^ (((SEED as u32).swap_bytes() as u64) << 32);
        const FLIP: u64 = (XXH3_SECRET[1] ^ XXH3_SECRET[2]).wrapping_sub(SEED48);
        let first = lo & 0xFFFF_FFFF;
        let last = (lo >> (8 * (len - 4))) & 0xFFFF_FFFF;
        let mut h = (last.wrapping_add(first << 32)) ^ FLIP;
        // The XXH3 "rrmxmx" finalizer.
        h ^= h.rotate_left(49) ^ h.rotate_left(24);
        h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        h ^= (h >> 35).wrapping_add(len as u64);
        h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
        h ^ (h >> 28)
    } else {
        const FLIP: u64 =
            ((XXH3_SECRET[0] as u32 ^ (XXH3_SECRET[0] >> 32) as u32) as u64).wrapping_add(SEED);
        let byte = |k: usize| (lo >> (8 * k)) & 0xFF;
        let combined = (byte(0) << 16)
            | (byte(len >> 1) << 24)
            | byte(len.wrapping_sub(1) & 7)
            | (len as u64) << 8;
        // The XXH64 avalanche.
        let mut h = combined ^ FLIP;
        h ^= h >> 33;
        h = h.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        h ^= h >> 29;
        h = h.wrapping_mul(0x1656_67B1_9E37_79F9);
        h ^ (h >> 32)
    }
}

/// The XXH3 avalanche (the final mix of its 9-byte-and-longer cases).
#[inline(always)]
fn xxh3_avalanche(mut acc: u64) -> u64 {
    acc ^= acc >> 37;
    acc = acc.wrapping_mul(0x1656_6791_9E37_79F9);
    acc ^ (acc >> 32)
}

/// Hash of a shingle from its tokens' hashes: xxh3-64 of the hashes' little-endian bytes in
/// order, under the feature seed xor the shingle width.
#[inline]
pub fn shingle_hash(token_hashes: &[u64]) -> u64 {
    match token_hashes.len() {
        3..=16 => xxh3_words(token_hashes, FEATURE_HASH_SEED ^ token_hashes.len() as u64),
        _ => shingle_hash_bytes(token_hashes),
    }
}

/// [`shingle_hash`] of a shingle whose width `N` is known when compiling (the default width),
/// so that the word path's length tests and seed arithmetic fold away.
#[inline(always)]
pub fn shingle_hash_fixed<const N: usize>(token_hashes: &[u64; N]) -> u64 {
    shingle_hash(token_hashes)
}

/// [`shingle_hash`] by way of a byte buffer and the general xxh3 entry point (widths the word
/// path does not cover; the reference in tests).
fn shingle_hash_bytes(token_hashes: &[u64]) -> u64 {
    let mut buf = [0u8; 8 * 16];
    let n = token_hashes.len().min(16);
    for (chunk, h) in buf.chunks_exact_mut(8).zip(&token_hashes[..n]) {
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    xxh3_64_with_seed(&buf[..8 * n], FEATURE_HASH_SEED ^ n as u64)
}

/// The first 128 bytes of the XXH3 default secret (the spec's `kSecret`) read as
/// little-endian words: what the 17–128-byte case of xxh3-64 mixes its input with.
const XXH3_SECRET: [u64; 16] = [
    0xbe4b_a423_396c_feb8,
    0x1cad_21f7_2c81_017c,
    0xdb97_9083_e96d_d4de,
    0x1f67_b3b7_a4a4_4072,
    0x78e5_c0cc_4ee6_79cb,
    0x2172_ffcc_7dd0_5a82,
    0x8e24_43f7_7446_08b8,
    0x4c26_3a81_e690_35e0,
    0xcb00_c391_bb52_283c,
    0xa32e_531b_8b65_d088,
    0x4ef9_0da2_9748_6471,
    0xd8ac_dea9_46ef_1938,
    0x3f34_9ce3_3f76_faa8,
    0x1d4f_0bc7_c7bb_dcf9,
    0x3159_b4cd_4be0_518a,
    0x6473_78d9_c97e_9fc8,
];

/// xxh3-64 (seeded) of 3 to 16 little-endian words (24–128 bytes), computed on the words
/// directly: the same value as the byte-oriented crate function (tested), without the copy into
/// a buffer and the length dispatch. Shingle hashing spends most of its time here.
#[inline]
fn xxh3_words(words: &[u64], seed: u64) -> u64 {
    const PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;
    let n = words.len();
    // mix16B of the XXH3 spec: the 16 input bytes starting at word `at` against secret words
    // `s` and `s + 1`, with the seed added to and subtracted from them.
    let mix = |at: usize, s: usize| -> u64 {
        let lo = words[at] ^ XXH3_SECRET[s].wrapping_add(seed);
        let hi = words[at + 1] ^ XXH3_SECRET[s + 1].wrapping_sub(seed);
        let product = u128::from(lo) * u128::from(hi);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let mut acc = (8 * n as u64).wrapping_mul(PRIME64_1);
    if n > 4 {
        if n > 8 {
            if n > 12 {
                acc = acc.wrapping_add(mix(6, 12));
                acc = acc.wrapping_add(mix(n - 8, 14));
            }
            acc = acc.wrapping_add(mix(4, 8));
            acc = acc.wrapping_add(mix(n - 6, 10));
        }
        acc = acc.wrapping_add(mix(2, 4));
        acc = acc.wrapping_add(mix(n - 4, 6));
    }
    acc = acc.wrapping_add(mix(0, 0));
    acc = acc.wrapping_add(mix(n - 2, 2));
    xxh3_avalanche(acc)
}

/// Hash of arbitrary bytes under the feature seed (exact-duplicate keys, band keys).
#[inline]
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    xxh3_64_with_seed(bytes, FEATURE_HASH_SEED)
}

/// Sort hashes (uniformly spread 64-bit values) ascending. One counting pass on the top bits
/// spreads them over between half as many buckets as there are values and as many (fewer
/// buckets to clear and sum cost less than the extra moves), which leaves the list ordered
/// but within buckets; each value is then inserted into its bucket, moving past the few
/// larger ones placed there before it: several times fewer steps than a comparison sort of
/// the whole list. A bucket of more than 32 values (values chosen to collide) is sorted by
/// `sort_unstable` instead, so crafted input costs at most O(n log n).
pub fn sort_hashes(values: &mut Vec<u64>) {
    bucket_sort(values, 64, |h, shift| (h >> shift) as usize);
}

/// [`sort_hashes`] for 32-bit keys (sketch keys: the top halves of shingle hashes).
pub fn sort_keys32(values: &mut Vec<u32>) {
    bucket_sort(values, 32, |h, shift| (h >> shift) as usize);
}

/// The bucket sort of [`sort_hashes`] for values of `width` bits whose top bits are
/// `top(value, width - bits)`; `T::default()` must be the least value (0 for the unsigned
/// integers it sorts).
#[inline]
fn bucket_sort<T: Copy + Ord + Default>(
    values: &mut Vec<T>,
    width: u32,
    top: impl Fn(T, u32) -> usize,
) {
    let n = values.len();
    if n < 64 {
        values.sort_unstable();
        return;
    }
    let bits = (usize::BITS - 1 - n.leading_zeros()).min(16);
    let shift = width - bits;
    let buckets = 1usize << bits;
    // starts[b + 1] counts bucket b, then (prefix sums) starts[b] is where bucket b begins.
    // A value's top bits are below `buckets` (a power of two): the masks below change no
    // index, they only let the compiler drop the index checks.
    let last = buckets - 1;
    let mut starts = vec![0u32; buckets + 1];
    if let Some(counts) = starts.get_mut(1..=buckets) {
        for &h in values.iter() {
            counts[top(h, shift) & last] += 1;
        }
    }
    // The crowded test is a pass of its own (it vectorizes; inside the prefix sums it cost
    // two instructions per bucket).
    let crowded = starts
        .iter()
        .fold(0u32, |any, &count| any | u32::from(count > 32))
        != 0;
    // Prefix sums in place (starts[0] is 0): one pass of adds, no index to check.
    let mut sum = 0u32;
    for s in starts.iter_mut() {
        sum += *s;
        *s = sum;
    }
    let mut sorted = vec![T::default(); n];
    // The scatter advances each bucket's start to its end (= the next bucket's start), so the
    // bounds of bucket b are afterwards `ends[b - 1]..ends[b]` (0 for the first): no copy of the
    // starts is kept.
    let ends = &mut starts;
    if !crowded {
        // Each value is inserted into its bucket as it is scattered: it moves down past the
        // larger values of its bucket placed so far. Below the bucket lie only smaller values
        // (earlier buckets) or places not written yet, which hold the default (the least
        // value): the move stops at the bucket's start without knowing where that is.
        let bucket_ends = &mut ends[..buckets];
        for &h in values.iter() {
            let slot = &mut bucket_ends[top(h, shift) & last];
            let end = *slot as usize;
            *slot += 1;
            // The places up to the value's own as one slice (one bound check): the moves
            // within it need none of their own.
            let below = &mut sorted[..=end];
            let mut j = end;
            while j > 0 && below[j - 1] > h {
                below[j] = below[j - 1];
                j -= 1;
            }
            below[j] = h;
        }
        *values = sorted;
        return;
    }
    for &h in values.iter() {
        let slot = &mut ends[top(h, shift)];
        sorted[*slot as usize] = h;
        *slot += 1;
    }
    let mut lo = 0u32;
    for &hi in &ends[..buckets] {
        if hi - lo > 32 {
            sorted[lo as usize..hi as usize].sort_unstable();
        }
        lo = hi;
    }
    for i in 1..n {
        let v = sorted[i];
        let mut j = i;
        while j > 0 && sorted[j - 1] > v {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = v;
    }
    *values = sorted;
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

    #[test]
    fn sorting_hashes_survives_colliding_buckets() {
        // All values in one top-bits bucket: the crowded-bucket path.
        let mut v: Vec<u64> = (0..5000u64).rev().map(|i| i * 7919 % 5003).collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        sort_hashes(&mut v);
        assert_eq!(v, expected);
    }

    #[test]
    fn sorting_hashes_inserts_within_buckets() {
        // Zeros (the default the unwritten places hold), repeats, neighbours in one bucket
        // arriving largest first, and values spread over every bucket in descending order.
        let mut v: Vec<u64> = (0..100u64)
            .map(|i| (i % 5) << 58 | (99 - i))
            .chain([0, 0, 5, u64::MAX, u64::MAX, 1 << 63, (1 << 63) + 1])
            .chain(
                (0..200u64)
                    .rev()
                    .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            )
            .collect();
        let mut expected = v.clone();
        expected.sort_unstable();
        assert!(v.len() >= 64, "the bucket sort's length");
        sort_hashes(&mut v);
        assert_eq!(v, expected);
        let mut keys: Vec<u32> = expected.iter().rev().map(|&h| (h >> 40) as u32).collect();
        let mut expected_keys = keys.clone();
        expected_keys.sort_unstable();
        sort_keys32(&mut keys);
        assert_eq!(keys, expected_keys);
    }

    proptest::proptest! {
        /// The bucket sort orders any list exactly as the standard sort does.
        #[test]
        fn sort_hashes_equals_sort_unstable(
            mut values in proptest::collection::vec(proptest::num::u64::ANY, 0..600),
            repeats in proptest::collection::vec(0usize..600, 0..50),
        ) {
            for r in repeats {
                if let Some(&v) = values.get(r) {
                    values.push(v);
                }
            }
            let mut keys: Vec<u32> = values.iter().map(|&v| (v >> 32) as u32).collect();
            let mut expected = values.clone();
            expected.sort_unstable();
            sort_hashes(&mut values);
            proptest::prop_assert_eq!(values, expected);
            let mut expected_keys = keys.clone();
            expected_keys.sort_unstable();
            sort_keys32(&mut keys);
            proptest::prop_assert_eq!(keys, expected_keys);
        }

        /// The word form of a short token hashes exactly as the bytes do, for every length it
        /// takes, whatever follows the token in its words.
        #[test]
        fn short_token_words_hash_as_their_bytes(words in proptest::array::uniform2(proptest::num::u64::ANY), len in 1usize..=16) {
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).take(len).collect();
            proptest::prop_assert_eq!(token_hash_words(words, len), token_hash_bytes(&bytes));
        }

        /// The word path computes exactly the crate's xxh3 of the little-endian bytes, for
        /// every width it takes (and the dispatch for the others).
        #[test]
        fn word_path_equals_the_byte_path(words in proptest::collection::vec(proptest::num::u64::ANY, 0..20)) {
            proptest::prop_assert_eq!(shingle_hash(&words), shingle_hash_bytes(&words));
            if let Ok(five) = <&[u64; 5]>::try_from(words.as_slice()) {
                proptest::prop_assert_eq!(shingle_hash_fixed(five), shingle_hash_bytes(&words));
            }
            if (3..=16).contains(&words.len()) {
                let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                proptest::prop_assert_eq!(
                    xxh3_words(&words, 12345),
                    xxh3_64_with_seed(&bytes, 12345)
                );
            }
        }
    }
}
