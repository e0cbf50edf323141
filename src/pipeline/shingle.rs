//! Word n-gram shingles (5 by default), hashed with the named feature hash.
//!
//! Shingles never cross a line (block) boundary: a line shorter than `n` words contributes no
//! shingle. Short lines are mostly navigation, labels and buttons, and a shingle spanning two
//! blocks describes the page layout rather than the text. When no line is long enough, the whole
//! token stream is shingled instead (and a text shorter than `n` words is one shingle), so short
//! documents still have features.

use super::hash::{
    shingle_hash, shingle_hash_fixed, token_hash, token_hash_bytes, token_hash_words,
};
use super::tokenize::Tokens;

/// Default shingle width in words.
pub const DEFAULT_SHINGLE_WORDS: usize = 5;

/// Hashes of the token stream, with line starts (as in [`Tokens`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenHashes {
    /// One hash per token.
    pub hashes: Vec<u64>,
    /// Index where each line starts.
    pub line_starts: Vec<usize>,
}

/// Hash every token.
pub fn hash_tokens(tokens: &Tokens<'_>) -> TokenHashes {
    TokenHashes {
        hashes: tokens.words.iter().map(|w| token_hash(w)).collect(),
        line_starts: tokens.line_starts.clone(),
    }
}

/// Hashes tokens as the normalizer finishes them (see [`super::normalize::normalize_tokens`]),
/// collecting what [`hash_normalized`] returns.
#[derive(Debug, Default)]
pub struct TokenHasher {
    /// The token hashes and line starts so far.
    pub hashes: TokenHashes,
    /// Hashes of the number tokens (all ASCII digits), in order, repeats kept.
    pub numbers: Vec<u64>,
    line_first: usize,
}

impl TokenHasher {
    /// A hasher with room for the tokens of a text of `text_len` bytes (a word every six
    /// bytes is generous for every script), so that hashing does not regrow its lists.
    pub fn for_text(text_len: usize) -> Self {
        TokenHasher {
            hashes: TokenHashes {
                hashes: Vec::with_capacity(text_len / 6 + 8),
                line_starts: Vec::with_capacity(text_len / 64 + 4),
            },
            numbers: Vec::new(),
            line_first: 0,
        }
    }

    // Always inlined into the sink's `token` (itself inlined into the normalizer's
    // `end_token`): a call per token cost more than the rest of the push besides the hash.
    #[inline(always)]
    fn push(&mut self, token: &[u8]) {
        let h = token_hash_bytes(token);
        self.push_hash(h, token.iter().all(|b| b.is_ascii_digit()));
    }

    #[inline(always)]
    fn push_hash(&mut self, h: u64, digits: bool) {
        if digits {
            self.numbers.push(h);
        }
        self.hashes.hashes.push(h);
    }

    /// A line ends after the last token pushed.
    #[inline(always)]
    fn end_line(&mut self) {
        let n = self.hashes.hashes.len();
        if n > self.line_first {
            self.hashes.line_starts.push(self.line_first);
        }
        self.line_first = n;
    }
}

impl super::normalize::TokenSink for TokenHasher {
    #[inline]
    fn token(&mut self, bytes: &[u8], wide: bool, line_end: bool) {
        if wide {
            if let Ok(chunk) = std::str::from_utf8(bytes) {
                super::tokenize::emit_chunk(Some(chunk), true, &mut |t: &str| {
                    self.push(t.as_bytes())
                });
            }
        } else {
            self.push(bytes);
        }
        if line_end {
            self.end_line();
        }
    }

    #[inline(always)]
    fn ascii_token(&mut self, words: [u64; 2], len: usize, digits: bool, line_end: bool) {
        self.push_hash(token_hash_words(words, len), digits);
        if line_end {
            self.end_line();
        }
    }

    fn reset(&mut self) {
        *self = TokenHasher::default();
    }
}

/// Hash every token of normalized text as it is found (no token list is built), and collect
/// the hashes of number tokens (all ASCII digits) on the way. Equal to
/// [`hash_tokens`]`(&`[`tokenize`](super::tokenize::tokenize)`(normalized))` plus the numbers.
pub fn hash_normalized(normalized: &str) -> (TokenHashes, Vec<u64>) {
    let mut hashes: Vec<u64> = Vec::with_capacity(normalized.len() / 5);
    let mut numbers = Vec::new();
    let mut line_starts = Vec::new();
    let count = std::cell::Cell::new(0usize);
    let mut line_first = 0;
    super::tokenize::visit(
        normalized,
        |w| {
            let h = token_hash(w);
            if w.bytes().all(|b| b.is_ascii_digit()) {
                numbers.push(h);
            }
            hashes.push(h);
            count.set(count.get() + 1);
        },
        || {
            if count.get() > line_first {
                line_starts.push(line_first);
            }
            line_first = count.get();
        },
    );
    (
        TokenHashes {
            hashes,
            line_starts,
        },
        numbers,
    )
}

/// Shingle hashes of width `n` (≥ 1), in text order, duplicates kept.
pub fn shingles(th: &TokenHashes, n: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(th.hashes.len());
    for_each_shingle(th, n, |h| out.push(h));
    out
}

/// Call `f` with every shingle hash of width `n` (≥ 1) in text order, duplicates kept (the
/// elements of [`shingles`], without collecting them); returns how many there were.
pub fn for_each_shingle(th: &TokenHashes, n: usize, mut f: impl FnMut(u64)) -> usize {
    let n = n.max(1);
    let mut count = 0;
    for (i, &s) in th.line_starts.iter().enumerate() {
        let e = th
            .line_starts
            .get(i + 1)
            .copied()
            .unwrap_or(th.hashes.len());
        let line = th.hashes.get(s..e).unwrap_or_default();
        if line.len() >= n {
            count += hash_windows(line, n, &mut f);
        }
    }
    if count == 0 && !th.hashes.is_empty() {
        if th.hashes.len() >= n {
            count += hash_windows(&th.hashes, n, &mut f);
        } else {
            f(shingle_hash(&th.hashes));
            count += 1;
        }
    }
    count
}

/// Hash every window of `n` (≤ the line's length) tokens of `line`; the default width takes
/// the fixed-width hash. Returns the number of windows.
#[inline]
fn hash_windows(line: &[u64], n: usize, f: &mut impl FnMut(u64)) -> usize {
    if n == DEFAULT_SHINGLE_WORDS {
        for w in line.windows(DEFAULT_SHINGLE_WORDS) {
            if let Ok(w) = <&[u64; DEFAULT_SHINGLE_WORDS]>::try_from(w) {
                f(shingle_hash_fixed(w));
            }
        }
    } else {
        for w in line.windows(n) {
            f(shingle_hash(w));
        }
    }
    line.len() + 1 - n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::tokenize::tokenize;

    #[test]
    fn shingles_stay_inside_lines() {
        let t = tokenize("a b c d e f\nshort line\ng h i j k");
        let th = hash_tokens(&t);
        assert_eq!(shingles(&th, 5).len(), 2 + 1);
    }

    #[test]
    fn hashing_while_tokenizing_equals_tokenizing_then_hashing() {
        for text in [
            "",
            "a b c\n\nd 12 e\n",
            "قال 2015 الوزير\n東京都 abc ภาษาไทย 7",
            "x\u{0800}y \u{0E01}\u{0E02}z",
        ] {
            let (th, numbers) = hash_normalized(text);
            assert_eq!(th, hash_tokens(&tokenize(text)), "{text:?}");
            let t = tokenize(text);
            let expect: Vec<u64> = t
                .words
                .iter()
                .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
                .map(|w| token_hash(w))
                .collect();
            assert_eq!(numbers, expect, "{text:?}");
        }
    }

    #[test]
    fn short_texts_still_have_a_shingle() {
        let th = hash_tokens(&tokenize("one\ntwo"));
        assert_eq!(shingles(&th, 5).len(), 1);
        let th = hash_tokens(&tokenize("a b c\nd e f"));
        assert_eq!(shingles(&th, 5).len(), 2);
        assert!(shingles(&hash_tokens(&tokenize("")), 5).is_empty());
    }
}
