//! The per-block statistics pass of [`super::rules::features`], byte by byte: words are runs of
//! non-white space (as `split_whitespace` has them), counted with the characters, ASCII digits,
//! sentence marks and the length weight of the block.
//!
//! Most bytes need no decoding: ASCII letters and two-byte characters (Latin, Greek, Cyrillic,
//! Arabic, Hebrew) only extend the word they are in, so a word's run of them is skipped with one
//! table test per byte, and the character, digit and mark counts are taken afterwards by
//! counting bytes. Only white space, `U+0080..U+00BF` (no-break space, next line) and characters
//! of three or four bytes stop the run.

use super::lexicon::{self, MAX_LANGS};

/// Counts of one block (see [`scan`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Words looked at (at most [`MAX_WORDS`]).
    pub words: usize,
    /// Non-space characters looked at.
    pub chars: usize,
    /// ASCII digits among them.
    pub digits: usize,
    /// Sentence marks among them.
    pub marks: usize,
    /// Characters of no-space scripts among them.
    pub cjk_chars: usize,
    /// Length weight: characters, those of scripts written without spaces counted more, scaled
    /// up to the whole block when the word limit stopped the pass.
    pub weight: f32,
}

/// Length statistics look at no more than this many words of a block.
pub const MAX_WORDS: usize = 4000;
/// Characters of no-space scripts looked up as per-character stop words, at most.
pub const CJK_SAMPLE: usize = 600;

/// Sentence-ending characters.
pub const SENTENCE_END: &[char] = &[
    '.', '!', '?', '。', '！', '？', '؟', '۔', '।', '॥', '။', '።', '…', '．',
];

/// Length weight of a character: 3 for Han, 2 for kana and Hangul, 1 for the rest.
pub fn script_weight(c: char) -> f32 {
    match c as u32 {
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => 3.0,
        0x3040..=0x30FF | 0x31F0..=0x31FF => 2.0,
        0xAC00..=0xD7AF => 2.0,
        _ => 1.0,
    }
}

/// Scripts written without spaces (Han, kana): stop words are looked up per character.
pub fn is_nospace(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F
        | 0x3040..=0x30FF | 0x31F0..=0x31FF)
}

/// Bytes that extend the word they are in without a look at the character: ASCII other than
/// white space, continuation bytes, and the lead bytes of two-byte characters other than
/// `0xC2` (which starts the no-break space and next line, white space both).
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b' ' | b'\t'..=b'\r' => false,
            0x00..=0x7F | 0x80..=0xBF | 0xC3..=0xDF => true,
            _ => false,
        };
        b += 1;
    }
    t
};

const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const HIGH: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// High bit of each lane of `x` equal to `v`, exactly (no carry crosses lanes).
#[inline]
fn lanes_equal(x: u64, v: u8) -> u64 {
    let z = x ^ (ONES * u64::from(v));
    !(((z & LOW) + LOW) | z) & HIGH
}

/// The space lanes (high bit set) of eight bytes (the white-space lanes where the block has
/// no other white space than spaces).
#[inline]
fn space_lanes(w: &[u8]) -> u64 {
    let x = w.try_into().map_or(0, u64::from_le_bytes);
    lanes_equal(x, b' ')
}

/// The white-space lanes (high bit set) of eight bytes holding only ASCII and two-byte
/// characters other than those of `0xC2`, so that white space is ASCII white space byte for
/// byte; `None` for other bytes. A two-byte character split by the window's edge is non-space
/// on both sides.
#[inline]
fn word_lanes(w: &[u8]) -> Option<u64> {
    let x = u64::from_le_bytes(w.try_into().ok()?);
    // A lead byte of three or four bytes (0xE0 and up), or 0xC2.
    if x & HIGH != 0 && (x & (x << 1) & (x << 2) & HIGH) | lanes_equal(x, 0xC2) != 0 {
        return None;
    }
    let space = lanes_equal(x, b' ');
    // Any byte below 0x20 (exact as a whole, not per lane)?
    if x.wrapping_sub(ONES * 0x20) & !x & HIGH == 0 {
        return Some(space);
    }
    // ASCII lanes from `\t` to `\r`: the low seven bits within 9..=13 and the high bit clear.
    let y = x & LOW;
    let controls = (ONES * 0x8D).wrapping_sub(y) & (y + ONES * 0x77) & !x & HIGH;
    Some(space | controls)
}

/// Number of lanes with the high bit set in a mask of high bits (a multiply, not `count_ones`,
/// which the baseline x86-64 target has no instruction for).
fn lane_count(high_bits: u64) -> usize {
    ((high_bits >> 7).wrapping_mul(0x0101_0101_0101_0101) >> 56) as usize
}

/// Largest integer weight that `f32` sums exactly one character at a time (every partial sum of
/// steps of 1, 2 or 3 up to it is exact).
const EXACT_WEIGHT: u64 = 1 << 24;

/// Take the statistics of `text`: words, characters, digits, sentence marks, the length weight,
/// and per-character stop words of no-space scripts (added to `stop_hits`). `tail_word` is
/// called with `stop_hits` and the byte range of each of the first `stop_sample` words (by
/// number) that starts at or after `head_end`, as soon as the word ends.
pub fn scan(
    text: &str,
    head_end: usize,
    stop_sample: usize,
    stop_hits: &mut [u32; MAX_LANGS],
    mut tail_word: impl FnMut(&mut [u32; MAX_LANGS], usize, usize),
) -> Counts {
    let lex = lexicon::lexicon();
    let bytes = text.as_bytes();
    // Byte counts of the whole block (taken again up to the stop in the rare block past the
    // word limit), and whether white space can be other than spaces.
    let mut tally = count_bytes(bytes);
    let only_spaces = !tally.controls && !tally.wide;
    let mut c = Counts::default();
    let mut word_start: Option<usize> = None;
    // Where the word limit stopped the pass.
    let mut stopped: Option<usize> = None;
    // White-space characters beyond ASCII, and weight above one per character.
    let mut wide_spaces = 0usize;
    let mut extra = 0u64;
    let mut i = 0;
    if only_spaces && bytes.len() < 2 * MAX_WORDS {
        // Spaces are the only white space and no word reaches the limit (a word takes two
        // bytes with its space): words are the non-spaces after a space (or at the start),
        // counted in byte lanes, and the words past the head that need a look-up are found
        // from the number of words that start in the head.
        let head = head_end.min(bytes.len());
        let head_words = space_words(bytes, 0, head);
        c.words = head_words + space_words(bytes, head, bytes.len());
        if head < bytes.len() && head_words < stop_sample {
            space_tail_words(bytes, head, head_words, stop_sample, |start, end| {
                tail_word(stop_hits, start, end)
            });
        }
        i = bytes.len();
    }
    while let Some(&b) = bytes.get(i) {
        // Eight bytes at a step while no word in them can need a stop-word look-up (before
        // the head's end, or past the sample) nor reach the word limit. Only whether a word is
        // open matters then, not where it started (any start before the head's end will do).
        if b < 0xE0 {
            let before = i;
            while (i + 8 <= head_end || c.words > stop_sample) && c.words + 8 <= MAX_WORDS {
                let Some(w) = bytes.get(i..i + 8) else {
                    break;
                };
                let lanes = if only_spaces {
                    space_lanes(w)
                } else {
                    match word_lanes(w) {
                        Some(lanes) => lanes,
                        None => break,
                    }
                };
                let open = u64::from(word_start.is_none()) << 7;
                let starts = !lanes & HIGH & ((lanes << 8) | open);
                c.words += lane_count(starts);
                word_start = (lanes >> 63 == 0).then_some(i);
                i += 8;
            }
            if i != before {
                continue;
            }
        }
        let (len, space, wide) = if PLAIN[usize::from(b)] {
            (1, false, None)
        } else if b < 0x80 {
            (1, true, None)
        } else if b < 0xE0 {
            // 0xC2: U+0080..U+00BF, of which U+0085 and U+00A0 are white space.
            (2, matches!(bytes.get(i + 1), Some(0x85 | 0xA0)), None)
        } else {
            match text.get(i..).and_then(|rest| rest.chars().next()) {
                Some(ch) => (ch.len_utf8(), ch.is_whitespace(), Some(ch)),
                None => break,
            }
        };
        if space {
            if b >= 0x80 {
                wide_spaces += 1;
            }
            if let Some(start) = word_start.take() {
                if c.words <= stop_sample && start >= head_end {
                    tail_word(stop_hits, start, i);
                }
            }
            i += len;
            continue;
        }
        if word_start.is_none() {
            if c.words >= MAX_WORDS {
                stopped = Some(i);
                break;
            }
            c.words += 1;
            word_start = Some(i);
        }
        if let Some(ch) = wide {
            extra += script_weight(ch) as u64 - 1;
            if SENTENCE_END.contains(&ch) {
                c.marks += 1;
            }
            if is_nospace(ch) {
                c.cjk_chars += 1;
                if c.cjk_chars <= CJK_SAMPLE {
                    add_mask(stop_hits, lex.char_stop_mask(ch));
                }
            }
            i += len;
            continue;
        }
        i += len;
        // The rest of the word's plain bytes.
        i += bytes
            .get(i..)
            .unwrap_or(&[])
            .iter()
            .position(|&b| !PLAIN[usize::from(b)])
            .unwrap_or(bytes.len() - i.min(bytes.len()));
    }
    if let (Some(start), None) = (word_start, stopped) {
        if c.words <= stop_sample && start >= head_end {
            tail_word(stop_hits, start, bytes.len());
        }
    }
    let end = stopped.unwrap_or(bytes.len()).min(bytes.len());
    let seen = &bytes[..end];
    if stopped.is_some() {
        tally = count_bytes(seen);
    }
    c.chars = tally.starts - tally.spaces - wide_spaces;
    c.digits = tally.digits;
    c.marks += tally.marks + two_byte_marks(seen);
    let weight = (c.chars as u64) + extra;
    let mut weight = if weight <= EXACT_WEIGHT {
        weight as f32
    } else {
        summed_weight(text.get(..end).unwrap_or(""))
    };
    if stopped.is_some() {
        // Extrapolate length from the bytes not looked at.
        weight *= text.len() as f32 / end.max(1) as f32;
    }
    c.weight = weight;
    c
}

/// Byte counts of a block (see [`count_bytes`]).
struct Tally {
    /// Character starts (non-continuation bytes).
    starts: usize,
    /// ASCII digits.
    digits: usize,
    /// ASCII sentence marks (`. ! ?`).
    marks: usize,
    /// ASCII white space (space, `\t` to `\r`).
    spaces: usize,
    /// Any byte below 0x20.
    controls: bool,
    /// Any lead byte of three or four bytes, or 0xC2 (where non-ASCII white space lives).
    wide: bool,
}

/// Words of a text whose only white space is the space that start in `bytes[from..to]`:
/// non-space bytes after a space or at the start, counted in byte lanes (chunks as in
/// [`count_bytes`]).
fn space_words(bytes: &[u8], from: usize, to: usize) -> usize {
    let (Some(cur), Some(prev)) = (
        bytes.get(from.max(1)..to.max(1)),
        bytes.get(from.max(1) - 1..to.max(1) - 1),
    ) else {
        return 0;
    };
    let mut words = usize::from(from == 0 && to > 0 && bytes.first().is_some_and(|&b| b != b' '));
    for (cur, prev) in cur.chunks(240).zip(prev.chunks(240)) {
        let mut w = 0u8;
        for (&c, &p) in cur.iter().zip(prev) {
            w += u8::from(c != b' ') & u8::from(p == b' ');
        }
        words += usize::from(w);
    }
    words
}

/// Call `tail_word(start, end)` for each word of a text whose only white space is the space
/// that starts at or after `head` and is at most the `stop_sample`-th, given that `before`
/// words start before `head`.
fn space_tail_words(
    bytes: &[u8],
    head: usize,
    before: usize,
    stop_sample: usize,
    mut tail_word: impl FnMut(usize, usize),
) {
    let mut i = head;
    // A word that started in the head is not one of them.
    if head > 0 && bytes.get(head - 1).is_some_and(|&b| b != b' ') {
        i = memchr::memchr(b' ', bytes.get(head..).unwrap_or(&[]))
            .map_or(bytes.len(), |p| head + p);
    }
    let mut words = before;
    while words < stop_sample {
        let rest = bytes.get(i..).unwrap_or(&[]);
        let Some(skip) = rest.iter().position(|&b| b != b' ') else {
            return;
        };
        let start = i + skip;
        let end = memchr::memchr(b' ', bytes.get(start..).unwrap_or(&[]))
            .map_or(bytes.len(), |p| start + p);
        words += 1;
        tail_word(start, end);
        i = end;
    }
}

/// The [`Tally`] of `bytes`, counted in byte lanes (chunks of 240 = 15 vectors of 16 bytes, so
/// that no byte is left to a scalar tail but at the end, and a `u8` lane never overflows).
fn count_bytes(bytes: &[u8]) -> Tally {
    let mut t = Tally {
        starts: 0,
        digits: 0,
        marks: 0,
        spaces: 0,
        controls: false,
        wide: false,
    };
    let (mut controls, mut wide) = (0u8, 0u8);
    for chunk in bytes.chunks(240) {
        let (mut s, mut d, mut m, mut sp) = (0u8, 0u8, 0u8, 0u8);
        for &b in chunk {
            s += u8::from((b as i8) >= -0x40);
            d += u8::from(b.wrapping_sub(b'0') < 10);
            m += u8::from(b == b'.') + u8::from(b == b'!') + u8::from(b == b'?');
            sp += u8::from(b == b' ') + u8::from(b.wrapping_sub(b'\t') < 5);
            controls |= u8::from(b < 0x20);
            wide |= u8::from(b >= 0xE0) | u8::from(b == 0xC2);
        }
        t.starts += usize::from(s);
        t.digits += usize::from(d);
        t.marks += usize::from(m);
        t.spaces += usize::from(sp);
    }
    t.controls = controls != 0;
    t.wide = wide != 0;
    t
}

/// The two sentence marks below U+0800: Arabic question mark `؟` (D8 9F) and Urdu full stop `۔`
/// (DB 94).
fn two_byte_marks(bytes: &[u8]) -> usize {
    memchr::memchr2_iter(0x9F, 0x94, bytes)
        .filter(|&j| j > 0 && matches!((bytes[j - 1], bytes[j]), (0xD8, 0x9F) | (0xDB, 0x94)))
        .count()
}

/// The length weight summed one character at a time in `f32`, as the statistics define it
/// (only needed past [`EXACT_WEIGHT`], where `f32` sums stop being exact).
fn summed_weight(text: &str) -> f32 {
    let mut w = 0f32;
    for ch in text.chars().filter(|c| !c.is_whitespace()) {
        w += script_weight(ch);
    }
    w
}

/// Add one to the count of every language bit set in `m`.
pub fn add_mask(hits: &mut [u32], mut m: u32) {
    while m != 0 {
        let bit = m.trailing_zeros() as usize;
        if let Some(h) = hits.get_mut(bit) {
            *h += 1;
        }
        m &= m - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The statistics one character at a time, as first written; the tail words as ranges.
    fn reference(
        text: &str,
        head_end: usize,
        stop_sample: usize,
    ) -> (Counts, [u32; MAX_LANGS], Vec<(usize, usize)>) {
        let lex = lexicon::lexicon();
        let mut c = Counts::default();
        let mut hits = [0u32; MAX_LANGS];
        let mut tail = Vec::new();
        let mut weight = 0f32;
        let mut word_start: Option<usize> = None;
        let mut stopped = false;
        for (pos, ch) in text.char_indices() {
            if ch.is_whitespace() {
                if let Some(start) = word_start.take() {
                    if c.words <= stop_sample && start >= head_end {
                        tail.push((start, pos));
                    }
                }
                continue;
            }
            if word_start.is_none() {
                if c.words >= MAX_WORDS {
                    weight *= text.len() as f32 / pos.max(1) as f32;
                    stopped = true;
                    break;
                }
                c.words += 1;
                word_start = Some(pos);
            }
            c.chars += 1;
            if ch.is_ascii_digit() {
                c.digits += 1;
            }
            weight += script_weight(ch);
            if SENTENCE_END.contains(&ch) {
                c.marks += 1;
            }
            if is_nospace(ch) {
                c.cjk_chars += 1;
                if c.cjk_chars <= CJK_SAMPLE {
                    add_mask(&mut hits, lex.char_stop_mask(ch));
                }
            }
        }
        if let (Some(start), false) = (word_start, stopped) {
            if c.words <= stop_sample && start >= head_end {
                tail.push((start, text.len()));
            }
        }
        c.weight = weight;
        (c, hits, tail)
    }

    fn run(
        text: &str,
        head_end: usize,
        stop_sample: usize,
    ) -> (Counts, [u32; MAX_LANGS], Vec<(usize, usize)>) {
        let mut hits = [0u32; MAX_LANGS];
        let mut tail = Vec::new();
        let c = scan(text, head_end, stop_sample, &mut hits, |_, s, e| {
            tail.push((s, e))
        });
        (c, hits, tail)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        #[test]
        fn scan_matches_the_character_loop(
            text in lexicon::tests::tricky_text(),
            head in 0usize..60,
            sample in 0usize..12,
        ) {
            let head_end = crate::boilerplate::floor_boundary(&text, head);
            proptest::prop_assert_eq!(run(&text, head_end, sample), reference(&text, head_end, sample));
            // The whole block as head (no word past it): the byte-lane path.
            let all = text.len();
            proptest::prop_assert_eq!(run(&text, all, sample), reference(&text, all, sample));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Blocks whose only white space is the space (the byte-lane path): words cut by the
        /// head's end, runs of spaces, two-byte letters, samples reached in the head or past it.
        #[test]
        fn spaces_only_blocks_match_the_character_loop(
            text in "([a-c]{1,3}|é|ж| {1,2}|the|\\.){0,200}",
            head in 0usize..500,
            sample in 0usize..80,
        ) {
            let head_end = crate::boilerplate::floor_boundary(&text, head);
            proptest::prop_assert_eq!(run(&text, head_end, sample), reference(&text, head_end, sample));
        }
    }

    #[test]
    fn the_word_limit_extrapolates_like_the_character_loop() {
        let mut text = "word 中文 ".repeat(MAX_WORDS / 2 + 7);
        text.push_str("tail");
        assert_eq!(run(&text, 420, 64), reference(&text, 420, 64));
        let few = "a b  c\u{a0}d".repeat(10);
        assert_eq!(run(&few, 3, 64), reference(&few, 3, 64));
    }

    #[test]
    fn weights_past_exact_f32_sums_stay_as_the_character_loop_has_them() {
        // One word of 2^24 + 5 characters, one of them wide: the f32 sum saturates.
        let mut text = String::from("中");
        text.push_str(&"x".repeat((1 << 24) + 5));
        let (c, _, _) = run(&text, 420, 64);
        assert_eq!(c, reference(&text, 420, 64).0);
        assert_ne!(
            c.weight as u64,
            c.chars as u64 + 2,
            "the f32 sum is not the integer one"
        );
    }
}
