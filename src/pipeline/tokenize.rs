//! Tokens of normalized text: UAX #29 words, and character bigrams for scripts written without
//! spaces.
//!
//! Normalized text has no punctuation left (see [`super::normalize`]), so UAX #29 word
//! boundaries inside a space-separated chunk only fall at script changes. A chunk made only of
//! characters below U+0E00 (Latin, Greek, Cyrillic, Arabic, Hebrew, Indic, …) is therefore one
//! word and takes the fast path; other chunks are segmented with `unicode-segmentation`.
//! Runs of Han, Hiragana, Katakana, Thai, Lao, Khmer and Myanmar become overlapping character
//! bigrams (a lone character stays a unigram), the usual dictionary-free choice for them.

use unicode_segmentation::UnicodeSegmentation;

/// Tokens of a text, grouped by line (block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens<'a> {
    /// Every token, in order.
    pub words: Vec<&'a str>,
    /// Index in `words` where each line starts (first entry 0 when there are tokens).
    pub line_starts: Vec<usize>,
}

impl<'a> Tokens<'a> {
    /// The tokens of each line.
    pub fn lines(&self) -> impl Iterator<Item = &[&'a str]> + '_ {
        self.line_starts.iter().enumerate().map(move |(i, &s)| {
            let e = self
                .line_starts
                .get(i + 1)
                .copied()
                .unwrap_or(self.words.len());
            &self.words[s..e]
        })
    }
}

/// Whether `c` belongs to a script written without spaces between words.
#[inline]
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x1000..=0x109F        // Myanmar
        | 0x1780..=0x17FF        // Khmer
        | 0x19E0..=0x19FF        // Khmer symbols
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x31F0..=0x31FF        // Katakana extensions
        | 0x3400..=0x4DBF        // Han extension A
        | 0x4E00..=0x9FFF        // Han
        | 0xA9E0..=0xA9FF        // Myanmar extended B
        | 0xAA60..=0xAA7F        // Myanmar extended A
        | 0xF900..=0xFAFF        // Han compatibility
        | 0x20000..=0x3134F // Han extensions B–G
    )
}

/// Split normalized text into tokens (see the module docs).
pub fn tokenize(normalized: &str) -> Tokens<'_> {
    let mut words = Vec::with_capacity(normalized.len() / 5);
    let mut line_starts = Vec::new();
    let count = std::cell::Cell::new(0usize);
    let mut line_first = 0;
    visit(
        normalized,
        |w| {
            words.push(w);
            count.set(count.get() + 1);
        },
        || {
            if count.get() > line_first {
                line_starts.push(line_first);
            }
            line_first = count.get();
        },
    );
    Tokens { words, line_starts }
}

/// Walk the tokens of normalized text without collecting them: `on_token` gets every token in
/// order, `on_line_end` is called after each line (also empty ones). The same tokens as
/// [`tokenize`], which is built on it; the feature pipeline hashes tokens as they come.
pub fn visit<'a>(
    normalized: &'a str,
    mut on_token: impl FnMut(&'a str),
    mut on_line_end: impl FnMut(),
) {
    let bytes = normalized.as_bytes();
    let mut start = 0;
    // Whether the current chunk has a byte that starts a character at or above U+0800; only
    // such chunks can hold characters of scripts that need segmentation (U+0E00 and up).
    let mut wide = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b' ' => {
                emit_chunk(normalized.get(start..i), wide, &mut on_token);
                start = i + 1;
                wide = false;
            }
            b'\n' => {
                emit_chunk(normalized.get(start..i), wide, &mut on_token);
                on_line_end();
                start = i + 1;
                wide = false;
            }
            _ => wide |= b >= 0xE0,
        }
    }
    emit_chunk(normalized.get(start..), wide, &mut on_token);
    on_line_end();
}

/// Hand one space-free chunk to `on_token`, segmented when it holds characters of scripts that
/// need it.
#[inline]
pub(crate) fn emit_chunk<'a>(
    chunk: Option<&'a str>,
    wide: bool,
    on_token: &mut impl FnMut(&'a str),
) {
    let Some(chunk) = chunk.filter(|c| !c.is_empty()) else {
        return;
    };
    if !wide || chunk.chars().all(|c| (c as u32) < 0x0E00) {
        on_token(chunk);
    } else {
        let mut pieces = Vec::new();
        split_chunk(chunk, &mut pieces);
        for p in pieces {
            on_token(p);
        }
    }
}

fn split_chunk<'a>(chunk: &'a str, out: &mut Vec<&'a str>) {
    // Cut the chunk into runs of unspaced-script characters and runs of everything else.
    let mut run_start = 0;
    let mut run_unspaced: Option<bool> = None;
    for (i, c) in chunk.char_indices() {
        let u = is_unspaced(c);
        match run_unspaced {
            Some(prev) if prev != u => {
                emit_run(&chunk[run_start..i], prev, out);
                run_start = i;
            }
            _ => {}
        }
        run_unspaced = Some(u);
    }
    if let Some(u) = run_unspaced {
        emit_run(&chunk[run_start..], u, out);
    }
}

fn emit_run<'a>(run: &'a str, unspaced: bool, out: &mut Vec<&'a str>) {
    if unspaced {
        bigrams(run, out);
    } else {
        out.extend(run.unicode_words());
    }
}

fn bigrams<'a>(run: &'a str, out: &mut Vec<&'a str>) {
    let idx: Vec<usize> = run.char_indices().map(|(i, _)| i).collect();
    if idx.len() <= 1 {
        out.push(run);
        return;
    }
    for w in 0..idx.len() - 1 {
        let end = idx.get(w + 2).copied().unwrap_or(run.len());
        out.push(&run[idx[w]..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_lines() {
        let t = tokenize("the quick fox\njumps");
        assert_eq!(t.words, vec!["the", "quick", "fox", "jumps"]);
        assert_eq!(t.line_starts, vec![0, 3]);
        assert_eq!(t.lines().count(), 2);
    }

    #[test]
    fn unspaced_scripts_become_bigrams() {
        let t = tokenize("東京都 abc");
        assert_eq!(t.words, vec!["東京", "京都", "abc"]);
        let t = tokenize("ภาษาไทย");
        assert_eq!(t.words.len(), "ภาษาไทย".chars().count() - 1);
        let t = tokenize("日");
        assert_eq!(t.words, vec!["日"]);
    }

    #[test]
    fn arabic_is_spaced() {
        let t = tokenize("قال الوزير");
        assert_eq!(t.words, vec!["قال", "الوزير"]);
    }
}
