//! Elias–Fano coding of a sorted set of 32-bit keys (the verification sketches).
//!
//! Sketch keys are hash values, spread evenly over the 32-bit range, so a sorted sketch of `n`
//! keys needs about `log2(2^32 / n) + 2` bits a key instead of 32: each key's low
//! `l = ⌊log2(2^32 / n)⌋` bits are stored as they are, and its high bits as the gap from the
//! previous key's in unary (zeros, then a one). 80 keys take 276 bytes instead of 320; the
//! decoded keys are exactly the encoded ones.
//!
//! Layout: the `n × l` low bits, then the unary high parts, least significant bit first. The
//! count `n` is stored by the caller.

/// Low bits kept per key for a set of `n` keys.
pub fn low_bits(n: usize) -> u32 {
    if n == 0 {
        return 0;
    }
    let ratio = (1u64 << 32) / (n as u64).max(1);
    if ratio == 0 {
        0
    } else {
        63 - ratio.leading_zeros()
    }
}

#[inline]
fn mask(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter<'_> {
    /// Append the low `width` (≤ 33) bits of `v`.
    fn write(&mut self, v: u64, width: u32) {
        self.acc |= (v & mask(width)) << self.bits;
        self.bits += width;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn zeros(&mut self, mut count: u64) {
        while count > 0 {
            let w = count.min(32) as u32;
            self.write(0, w);
            count -= u64::from(w);
        }
    }

    fn finish(self) {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
    }
}

/// `width` (≤ 56) bits of `bytes` starting at bit `at`; bits past the end read as zero.
#[inline]
fn read(bytes: &[u8], at: usize, width: u32) -> u64 {
    let start = at / 8;
    let mut buf = [0u8; 8];
    if let Some(src) = bytes.get(start..) {
        let n = src.len().min(8);
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
            dst.copy_from_slice(src);
        }
    }
    (u64::from_le_bytes(buf) >> (at % 8)) & mask(width)
}

/// Bytes [`encode`] writes for these keys.
pub fn encoded_len(keys: &[u32]) -> usize {
    let Some(&last) = keys.last() else {
        return 0;
    };
    let l = low_bits(keys.len());
    let bits = keys.len() * (l as usize + 1) + (u64::from(last) >> l) as usize;
    bits.div_ceil(8)
}

/// Append the code of `keys` (sorted ascending) to `out`.
pub fn encode(keys: &[u32], out: &mut Vec<u8>) {
    if keys.is_empty() {
        return;
    }
    let l = low_bits(keys.len());
    let mut w = BitWriter {
        out,
        acc: 0,
        bits: 0,
    };
    for &k in keys {
        w.write(u64::from(k), l);
    }
    let mut prev = 0u64;
    for &k in keys {
        let high = u64::from(k) >> l;
        let gap = high.saturating_sub(prev);
        if gap < 32 {
            // The zeros and the one in a single write.
            w.write(1 << gap, gap as u32 + 1);
        } else {
            w.zeros(gap);
            w.write(1, 1);
        }
        prev = high;
    }
    w.finish();
}

/// Decode `n` keys from `bytes` (as written by [`encode`]) into `out` (cleared first). A
/// truncated code yields fewer keys.
pub fn decode(bytes: &[u8], n: usize, out: &mut Vec<u32>) {
    out.clear();
    if n == 0 {
        return;
    }
    let l = low_bits(n);
    let hi = n * l as usize;
    let end = bytes.len() * 8;
    out.reserve(n);
    let mut pos = hi;
    let mut found = 0usize;
    const WINDOW: u32 = 56;
    while found < n && pos < end {
        let mut word = read(bytes, pos, WINDOW);
        while word != 0 && found < n {
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            let high = (pos + bit - hi - found) as u64;
            let low = read(bytes, found * l as usize, l);
            out.push(((high << l) | low) as u32);
            found += 1;
        }
        pos += WINDOW as usize;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn roundtrip(keys: &[u32]) -> Vec<u32> {
        let mut buf = Vec::new();
        encode(keys, &mut buf);
        assert_eq!(buf.len(), encoded_len(keys));
        let mut out = Vec::new();
        decode(&buf, keys.len(), &mut out);
        out
    }

    #[test]
    fn edge_cases() {
        assert_eq!(roundtrip(&[]), Vec::<u32>::new());
        assert_eq!(roundtrip(&[0]), vec![0]);
        assert_eq!(roundtrip(&[u32::MAX]), vec![u32::MAX]);
        assert_eq!(roundtrip(&[0, u32::MAX]), vec![0, u32::MAX]);
        assert_eq!(roundtrip(&[5, 6, 7, 8]), vec![5, 6, 7, 8]);
        assert_eq!(low_bits(1), 32);
        assert_eq!(low_bits(80), 25);
    }

    #[test]
    fn eighty_hash_keys_take_about_27_bits_each() {
        let mut keys: Vec<u32> = (0..80u64)
            .map(|i| crate::pipeline::hash::mix64(i) as u32)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut buf = Vec::new();
        encode(&keys, &mut buf);
        assert!(buf.len() <= 280, "{}", buf.len());
        assert_eq!(roundtrip(&keys), keys);
    }

    #[test]
    fn truncated_code_gives_fewer_keys() {
        let keys: Vec<u32> = (0..100).map(|i| i * 40_000_000).collect();
        let mut buf = Vec::new();
        encode(&keys, &mut buf);
        let mut out = Vec::new();
        decode(&buf[..buf.len() / 2], keys.len(), &mut out);
        assert!(out.len() < keys.len());
    }

    proptest! {
        #[test]
        fn decodes_what_was_encoded(mut keys in prop::collection::vec(any::<u32>(), 0..300)) {
            keys.sort_unstable();
            keys.dedup();
            prop_assert_eq!(roundtrip(&keys), keys);
        }

        #[test]
        fn decodes_dense_sets(start in any::<u32>(), len in 0u32..2000) {
            let keys: Vec<u32> = (0..len).filter_map(|i| start.checked_add(i)).collect();
            prop_assert_eq!(roundtrip(&keys), keys);
        }
    }
}
