//! Word n-gram shingles (5 by default), hashed with the named feature hash.
//!
//! Shingles never cross a line (block) boundary: a line shorter than `n` words contributes no
//! shingle. Short lines are mostly navigation, labels and buttons, and a shingle spanning two
//! blocks describes the page layout rather than the text. When no line is long enough, the whole
//! token stream is shingled instead (and a text shorter than `n` words is one shingle), so short
//! documents still have features.

use super::hash::{shingle_hash, token_hash};
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

/// Shingle hashes of width `n` (≥ 1), in text order, duplicates kept.
pub fn shingles(th: &TokenHashes, n: usize) -> Vec<u64> {
    let n = n.max(1);
    let mut out = Vec::with_capacity(th.hashes.len());
    for (i, &s) in th.line_starts.iter().enumerate() {
        let e = th
            .line_starts
            .get(i + 1)
            .copied()
            .unwrap_or(th.hashes.len());
        let line = &th.hashes[s..e];
        if line.len() >= n {
            out.extend(line.windows(n).map(shingle_hash));
        }
    }
    if out.is_empty() && !th.hashes.is_empty() {
        if th.hashes.len() >= n {
            out.extend(th.hashes.windows(n).map(shingle_hash));
        } else {
            out.push(shingle_hash(&th.hashes));
        }
    }
    out
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
    fn short_texts_still_have_a_shingle() {
        let th = hash_tokens(&tokenize("one\ntwo"));
        assert_eq!(shingles(&th, 5).len(), 1);
        let th = hash_tokens(&tokenize("a b c\nd e f"));
        assert_eq!(shingles(&th, 5).len(), 2);
        assert!(shingles(&hash_tokens(&tokenize("")), 5).is_empty());
    }
}
