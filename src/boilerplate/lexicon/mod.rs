//! The multilingual phrase lexicon and stop-word lists, kept as data files (one per language, see
//! `README.md` next to this file) and compiled in with `include_str!`.
//!
//! Everything is folded with [`fold`] when loaded, and block text is folded the same way before it
//! is looked up, so `إقرأ أيضاً:` matches the entry `اقرأ أيضا` and `READ MORE` matches `read more`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

/// A small multiply-rotate hasher for the short keys of the stop-word table (SipHash is the
/// largest single cost otherwise). Not DoS-resistant; the keys are our own word lists.
#[derive(Default)]
pub struct FastHasher(u64);

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Eight bytes a step, the last step's bytes zero-padded (built in a register: a copy
        // into a buffer is a `memcpy` call).
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let word = chunk.try_into().map_or(0, u64::from_le_bytes);
            self.write_u64(word);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let word = rest
                .iter()
                .rev()
                .fold(0u64, |w, &b| (w << 8) | u64::from(b));
            self.write_u64(word);
        }
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, i: u128) {
        self.write_u64(i as u64);
        self.write_u64((i >> 64) as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// The data files, in a fixed order: the index of a language here is its bit in stop-word masks.
const FILES: &[(&str, &str)] = &[
    ("en", include_str!("en.txt")),
    ("ar", include_str!("ar.txt")),
    ("fr", include_str!("fr.txt")),
    ("es", include_str!("es.txt")),
    ("de", include_str!("de.txt")),
    ("ru", include_str!("ru.txt")),
    ("tr", include_str!("tr.txt")),
    ("fa", include_str!("fa.txt")),
    ("ur", include_str!("ur.txt")),
    ("pt", include_str!("pt.txt")),
    ("it", include_str!("it.txt")),
    ("id", include_str!("id.txt")),
    ("zh", include_str!("zh.txt")),
    ("ja", include_str!("ja.txt")),
];

/// Most languages the stop-word masks can hold (one bit each, counts kept in fixed arrays).
pub const MAX_LANGS: usize = 16;
const _: () = assert!(FILES.len() <= MAX_LANGS);

/// Languages whose stop words are single characters of a script written without spaces; their
/// density is measured per character, not per word.
const CHAR_LANGS: &[&str] = &["zh", "ja"];

/// How a phrase must match a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole block is the phrase.
    Whole,
    /// The block starts with the phrase.
    Prefix,
    /// The block contains the phrase.
    Contains,
}

/// A phrase hit: which kind of boilerplate, how it matched, and the phrase itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Kind of boilerplate, e.g. `related-header`.
    pub kind: &'static str,
    /// How it matched.
    pub mode: Mode,
    /// The (folded) phrase that matched.
    pub phrase: &'static str,
    /// Language file the phrase comes from.
    pub lang: &'static str,
}

/// The loaded lexicon.
#[derive(Debug)]
pub struct Lexicon {
    /// Language codes, in bit order.
    pub langs: Vec<&'static str>,
    /// xxh3 of a folded stop word → bit mask of the languages that list it (hashing once with
    /// xxh3 and looking up the u64 is the cheapest exact-enough test on the hot path).
    stop: FastMap<u64, u32>,
    /// The same for stop words of at most 16 bytes, exact (most tokens looked up are this
    /// short), looked up without a branch on the outcome (see [`StopTable`]).
    stop_short: StopTable,
    /// Bit `n` of entry `b`: some stop word of `n` bytes starts with byte `b` (a longer token
    /// failing this or [`Lexicon::stop_last`] is no stop word, whatever its hash).
    stop_first: [u32; 256],
    /// Bit `n` of entry `b`: some stop word of `n` bytes ends with byte `b`.
    stop_last: [u32; 256],
    /// Single-character stop words of the per-character languages.
    char_stop: FastMap<char, u32>,
    /// Mask of the languages measured per character.
    pub char_langs: u32,
    whole: FastMap<String, Hit>,
    /// Longest whole-block phrase, in bytes: longer texts are not looked up in `whole`.
    whole_max: usize,
    /// Prefix phrases by [`prefix_key`], longest first within a key.
    prefix: FastMap<String, Vec<(String, Hit)>>,
    contains: Vec<Hit>,
    contains_ac: Option<AhoCorasick>,
    /// Necessary condition for a contained phrase, checked before the automaton runs.
    contains_filter: GramFilter,
}

/// Index key of a folded text for prefix phrases: its first two characters (or one, when the
/// text starts with a non-alphanumeric mark or a one-letter word).
fn prefix_key(folded: &str) -> &str {
    let mut it = folded.char_indices();
    let Some((_, first)) = it.next() else {
        return "";
    };
    if !is_alphanumeric(first) {
        return &folded[..first.len_utf8()];
    }
    match it.next() {
        Some((i, c)) if is_alphanumeric(c) => &folded[..i + c.len_utf8()],
        Some((i, _)) => &folded[..i],
        None => folded,
    }
}

/// Unicode properties of the characters below U+0800 (Latin, Greek, Cyrillic, Arabic,
/// Hebrew), one bit each, computed once from `char`'s own.
struct LowProps {
    alphanumeric: [u64; 32],
    lowercase: [u64; 32],
}

fn low_props() -> &'static LowProps {
    static PROPS: OnceLock<LowProps> = OnceLock::new();
    PROPS.get_or_init(|| {
        let mut p = LowProps {
            alphanumeric: [0; 32],
            lowercase: [0; 32],
        };
        for c in (0..0x800u32).filter_map(char::from_u32) {
            let cp = c as usize;
            if c.is_alphanumeric() {
                p.alphanumeric[cp >> 6] |= 1 << (cp & 63);
            }
            if c.is_lowercase() {
                p.lowercase[cp >> 6] |= 1 << (cp & 63);
            }
        }
        p
    })
}

/// [`char::is_alphanumeric`], by table below U+0800.
pub(crate) fn is_alphanumeric(c: char) -> bool {
    let cp = c as usize;
    if cp >= 0x800 {
        return c.is_alphanumeric();
    }
    (low_props().alphanumeric[cp >> 6] >> (cp & 63)) & 1 != 0
}

/// [`char::is_lowercase`], by table below U+0800.
pub(crate) fn is_lowercase(c: char) -> bool {
    let cp = c as usize;
    if cp >= 0x800 {
        return c.is_lowercase();
    }
    (low_props().lowercase[cp >> 6] >> (cp & 63)) & 1 != 0
}

/// The lexicon, loaded once.
pub fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(Lexicon::load)
}

impl Lexicon {
    fn load() -> Lexicon {
        let mut lex = Lexicon {
            langs: Vec::new(),
            stop: FastMap::default(),
            stop_short: StopTable::default(),
            stop_first: [0; 256],
            stop_last: [0; 256],
            char_stop: FastMap::default(),
            char_langs: 0,
            whole: FastMap::default(),
            whole_max: 0,
            prefix: FastMap::default(),
            contains: Vec::new(),
            contains_ac: None,
            contains_filter: GramFilter::default(),
        };
        let mut contains_patterns: Vec<String> = Vec::new();
        let mut short_words: Vec<(String, u32)> = Vec::new();
        for (bit, (lang, data)) in FILES.iter().enumerate() {
            lex.langs.push(lang);
            let mask = 1u32 << bit;
            if CHAR_LANGS.contains(lang) {
                lex.char_langs |= mask;
            }
            for line in data.lines() {
                if let Some(words) = line.strip_prefix("@stop") {
                    for w in words.split_whitespace() {
                        let w = fold(w);
                        let mut chars = w.chars();
                        if let (Some(c), None, true) =
                            (chars.next(), chars.next(), CHAR_LANGS.contains(lang))
                        {
                            *lex.char_stop.entry(c).or_insert(0) |= mask;
                        }
                        *lex.stop.entry(word_hash(&w)).or_insert(0) |= mask;
                        short_words.push((w.clone(), mask));
                        let b = w.as_bytes();
                        if let (Some(&first), Some(&last), true) =
                            (b.first(), b.last(), b.len() <= MAX_STOP_LEN)
                        {
                            lex.stop_first[usize::from(first)] |= 1 << b.len();
                            lex.stop_last[usize::from(last)] |= 1 << b.len();
                        }
                    }
                    continue;
                }
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut parts = line.splitn(3, '\t');
                let (Some(kind), Some(mode), Some(phrase)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let kind: &'static str = leak(kind.trim());
                let folded = match mode {
                    "=" => trim_marks(&fold(phrase)).to_string(),
                    _ => fold(phrase).trim().to_string(),
                };
                if folded.is_empty() {
                    continue;
                }
                let phrase_static: &'static str = leak(&folded);
                let mk = |mode| Hit {
                    kind,
                    mode,
                    phrase: phrase_static,
                    lang,
                };
                match mode {
                    "=" => {
                        lex.whole.entry(folded).or_insert(mk(Mode::Whole));
                    }
                    "^" => lex
                        .prefix
                        .entry(prefix_key(&folded).to_string())
                        .or_default()
                        .push((folded, mk(Mode::Prefix))),
                    "~" => {
                        contains_patterns.push(folded);
                        lex.contains.push(mk(Mode::Contains));
                    }
                    _ => {}
                }
            }
        }
        lex.stop_short = StopTable::new(&short_words);
        lex.whole_max = lex.whole.keys().map(String::len).max().unwrap_or(0);
        // Longest prefix first, so `read more:` wins over `read`.
        for list in lex.prefix.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        }
        // The gram filter below rules most blocks out first; the automaton's own prefilter
        // costs more than it saves on blocks this short.
        lex.contains_ac = AhoCorasick::builder()
            .prefilter(false)
            .build(&contains_patterns)
            .ok();
        lex.contains_filter = GramFilter::new(&contains_patterns);
        lex
    }

    /// Bit mask of the languages listing the folded token as a stop word (0 if none).
    #[inline]
    pub fn stop_mask(&self, folded_token: &str) -> u32 {
        self.stop_mask_bytes(folded_token.as_bytes())
    }

    /// [`Lexicon::stop_mask`] of folded bytes.
    fn stop_mask_bytes(&self, b: &[u8]) -> u32 {
        self.stop_mask_at(b, 0, b.len())
    }

    /// [`Lexicon::stop_mask`] of the folded bytes `b[start..end]`, the hot path: words of at
    /// most 16 bytes are read from `b` eight bytes at a time (the bytes past the word masked
    /// off) and looked up with no branch on whether they are stop words.
    #[inline(always)]
    pub(crate) fn stop_mask_at(&self, b: &[u8], start: usize, end: usize) -> u32 {
        let len = end.saturating_sub(start);
        if len > 16 {
            return self.stop_mask_long(b.get(start..end).unwrap_or(&[]));
        }
        // Sixteen bytes readable from the word's start (all but the last words of a text):
        // two plain loads, masked.
        let (lo, hi) = match b.get(start..start + 16) {
            Some(&[a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7]) => (
                u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]) & BYTE_MASKS[len.min(8)],
                u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7])
                    & BYTE_MASKS[len.saturating_sub(8).min(8)],
            ),
            _ => padded_words(b, start, len),
        };
        self.stop_short.get(lo, hi, len)
    }
    /// Add the stop-word hits of the first `limit` (at most 255) words of a folded text — its
    /// pieces between single spaces, each trimmed by [`trim_marks`] — to `hits`, leaving out
    /// the per-character languages. Spaces are found 64 bytes at a step, and neither the
    /// lookup nor the count branches on whether a word is a stop word.
    pub(crate) fn add_stop_words(&self, folded: &str, limit: usize, hits: &mut [u32; MAX_LANGS]) {
        if folded.len() <= PAD_MAX {
            return self.add_stop_words_padded(folded, limit, hits);
        }
        self.add_stop_words_any(folded, limit, hits);
    }

    /// [`Lexicon::add_stop_words`] of a text of at most [`PAD_MAX`] bytes (a block's folded
    /// head): copied into a zero-padded buffer on the stack, so that every word's bytes, its
    /// edges and the sixteen bytes read for its key are read at offsets below the buffer's
    /// size by construction (no bounds check, no clamping at the end of the text).
    #[inline(never)]
    fn add_stop_words_padded(&self, folded: &str, limit: usize, hits: &mut [u32; MAX_LANGS]) {
        let b = folded.as_bytes();
        let n = b.len().min(PAD_MAX);
        let mut buf = [0u8; PAD];
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), b.get(..n)) {
            dst.copy_from_slice(src);
        }
        let text = PaddedText {
            lex: self,
            folded,
            buf: &buf,
        };
        count_pieces(&text, n, limit, !self.char_langs, hits);
    }

    /// [`Lexicon::piece_mask`] of `folded[start..end]`, read from `buf` (`folded`'s bytes,
    /// zero-padded to [`PAD`]; `start <= end <= PAD_MAX`).
    #[inline(always)]
    fn padded_piece_mask(&self, folded: &str, buf: &[u8; PAD], start: usize, end: usize) -> u32 {
        // Offsets masked into the buffer (a no-op: both are at most `PAD_MAX`), so that no
        // read below needs a bounds check.
        let (s, e) = (start & PAD_INDEX, end & PAD_INDEX);
        let len = e.wrapping_sub(s);
        // The piece's edges: its first two bytes and its last two (the byte before a one-byte
        // piece is never a continuation byte's lead: it is a space or a boundary).
        let (lo, hi) = load_padded(buf, s);
        let (f0, f1) = (lo as u8, (lo >> 8) as u8);
        let l1 = buf[e.wrapping_sub(1) & PAD_INDEX];
        let l0 = buf[e.wrapping_sub(2) & PAD_INDEX];
        let first =
            ASCII_ALNUM[usize::from(f0)] || (matches!(f0, 0xC0..=0xDF) && wordish_2(f0, f1));
        let last = ASCII_ALNUM[usize::from(l1)]
            || (matches!((l0, l1), (0xC0..=0xDF, 0x80..=0xBF)) && wordish_2(l0, l1));
        if len.wrapping_sub(1) < 16 && first && last {
            let (mlo, mhi) = KEY_MASKS[len & 31];
            return self.stop_short.get(lo & mlo, hi & mhi, len);
        }
        // A word with one ASCII mark after it (`said,` `year.`): the mark trimmed here, as
        // [`trim_marks`] trims it (the byte before it is an ASCII letter or digit, wordish).
        if first && l1 < 0x80 && ASCII_ALNUM[usize::from(l0)] && len.wrapping_sub(2) < 16 {
            let (mlo, mhi) = KEY_MASKS[(len - 1) & 31];
            return self.stop_short.get(lo & mlo, hi & mhi, len - 1);
        }
        self.piece_mask_apart(folded, start, end)
    }

    /// [`Lexicon::piece_mask`] out of line (pieces with a mark at an edge, long ones), so that
    /// the loop of [`Lexicon::add_stop_words_padded`] keeps its registers.
    #[inline(never)]
    fn piece_mask_apart(&self, folded: &str, start: usize, end: usize) -> u32 {
        self.piece_mask(folded, start, end)
    }

    /// [`Lexicon::add_stop_words`] of a text of any length.
    fn add_stop_words_any(&self, folded: &str, limit: usize, hits: &mut [u32; MAX_LANGS]) {
        let text = PlainText { lex: self, folded };
        count_pieces(&text, folded.len(), limit, !self.char_langs, hits);
    }

    /// The stop-word mask of `folded[start..end]` trimmed by [`trim_marks`].
    #[inline(always)]
    fn piece_mask(&self, folded: &str, start: usize, end: usize) -> u32 {
        let b = folded.as_bytes();
        // The common piece needs no trim: told from its bytes (no char-boundary checks).
        let piece = b.get(start..end).unwrap_or(&[]);
        if starts_wordish(piece) && ends_wordish(piece) {
            return self.stop_mask_at(b, start, end);
        }
        let (s, e) = trim_range(folded.get(start..end).unwrap_or(""));
        self.stop_mask_at(b, start + s, start + e)
    }

    /// [`Lexicon::stop_mask`] of folded bytes longer than 16: by xxh3, behind a test of the
    /// first and last byte.
    #[inline(never)]
    fn stop_mask_long(&self, b: &[u8]) -> u32 {
        let (Some(&first), Some(&last), true) = (b.first(), b.last(), b.len() <= MAX_STOP_LEN)
        else {
            return 0;
        };
        let lens = self.stop_first[usize::from(first)] & self.stop_last[usize::from(last)];
        if (lens >> b.len()) & 1 == 0 {
            return 0;
        }
        self.stop
            .get(&xxhash_rust::xxh3::xxh3_64(b))
            .copied()
            .unwrap_or(0)
    }

    /// [`Lexicon::stop_mask`] of the fold of a word (no white space in it): ASCII and two-byte
    /// characters are folded into a buffer on the stack, words with others by [`fold_into`]
    /// into `tok`.
    pub fn stop_mask_word(&self, word: &str, tok: &mut String) -> u32 {
        if word.is_ascii() {
            return self.stop_mask_ascii(word);
        }
        let tables = fold_tables();
        let b = word.as_bytes();
        // The fold so far; past the longest stop word the word is none, whatever follows (the
        // fold never takes back what it wrote).
        let mut buf = [0u8; MAX_STOP_LEN];
        let mut n = 0;
        let mut i = 0;
        let mut general = false;
        while let Some(&x) = b.get(i) {
            if x < 0x80 {
                if !FOLD_PLAIN_WORD[usize::from(x)] {
                    general = true;
                    break;
                }
                let Some(dst) = buf.get_mut(n) else {
                    return 0;
                };
                *dst = x.to_ascii_lowercase();
                n += 1;
                i += 1;
                continue;
            }
            if !(0xC2..=0xDF).contains(&x) {
                general = true;
                break;
            }
            let cp = cp_at(b, i);
            i += 2;
            let o = tables.map[cp] as u32;
            let pair = if o as usize == cp {
                [x, b.get(i - 1).copied().unwrap_or(0)]
            } else {
                match tables.map[cp] {
                    FOLD_DROP => continue,
                    FOLD_SPACE | FOLD_GENERAL => {
                        general = true;
                        break;
                    }
                    _ if o >= 0x800 => {
                        general = true;
                        break;
                    }
                    _ if o < 0x80 => {
                        let Some(dst) = buf.get_mut(n) else {
                            return 0;
                        };
                        *dst = o as u8;
                        n += 1;
                        continue;
                    }
                    _ => [0xC0 | (o >> 6) as u8, 0x80 | (o & 0x3F) as u8],
                }
            };
            let Some(dst) = buf.get_mut(n..n + 2) else {
                return 0;
            };
            dst.copy_from_slice(&pair);
            n += 2;
        }
        if general {
            tok.clear();
            fold_into(word, tok);
            return self.stop_mask(tok);
        }
        self.stop_mask_bytes(&buf[..n])
    }

    /// Stop-word mask of the word `text[start..end]` (no white space in it) of a block past
    /// its folded head: trimmed by [`trim_marks`], none if that leaves nothing or more than
    /// 40 bytes, else [`Lexicon::stop_mask_word`]. An ASCII word is trimmed and looked up in
    /// place, its sixteen bytes read from the block where the block has them.
    pub(crate) fn word_stop_mask(
        &self,
        text: &str,
        start: usize,
        end: usize,
        tok: &mut String,
    ) -> u32 {
        let b = text.as_bytes();
        let Some(word) = b.get(start..end) else {
            return 0;
        };
        if !word.is_ascii() {
            return self.wide_word_stop_mask(text, start, end, tok);
        }
        // For ASCII, what `trim_marks` keeps is from the first letter or digit to the last.
        let Some(s) = word.iter().position(|&x| ASCII_ALNUM[usize::from(x)]) else {
            return 0;
        };
        let e = word
            .iter()
            .rposition(|&x| ASCII_ALNUM[usize::from(x)])
            .map_or(s, |e| e + 1);
        let (s, len) = (start + s, e - s);
        match b.get(s..s + 16) {
            Some(w) if len <= 16 => {
                let (lo, hi) = w.split_at(8);
                let lo = lo.try_into().map_or(0, u64::from_le_bytes) & BYTE_MASKS[len.min(8)];
                let hi = hi.try_into().map_or(0, u64::from_le_bytes)
                    & BYTE_MASKS[len.saturating_sub(8).min(8)];
                self.stop_short
                    .get(ascii_lower_8(lo), ascii_lower_8(hi), len)
            }
            _ if len > 40 => 0,
            _ => self.stop_mask_ascii(text.get(s..s + len).unwrap_or("")),
        }
    }

    /// [`Lexicon::word_stop_mask`] of a word that is not ASCII (out of line, so that the
    /// ASCII path keeps its registers).
    #[inline(never)]
    fn wide_word_stop_mask(&self, text: &str, start: usize, end: usize, tok: &mut String) -> u32 {
        if let Some(m) = self.same_two_byte_mask(text.as_bytes(), start, end) {
            return m;
        }
        let t = trim_marks(text.get(start..end).unwrap_or(""));
        if t.is_empty() || t.len() > 40 {
            return 0;
        }
        self.stop_mask_word(t, tok)
    }

    /// [`Lexicon::word_stop_mask`] of a word made of two-byte characters that fold to
    /// themselves (most Arabic, Hebrew and lower-case Cyrillic words), the first and the last
    /// wordish: its own trimmed fold, so looked up in place with no copy; `None` for other
    /// words.
    #[inline]
    fn same_two_byte_mask(&self, b: &[u8], start: usize, end: usize) -> Option<u32> {
        let word = b.get(start..end)?;
        let (&[f0, f1, ..], &[.., l0, l1]) = (word, word) else {
            return None;
        };
        if word.len() % 2 != 0 || !wordish_2(f0, f1) || !wordish_2(l0, l1) {
            return None;
        }
        // `start` is a character boundary, so each pair with a two-byte lead is one character.
        let same = &fold_tables().same;
        for pair in word.chunks_exact(2) {
            let (x0, x1) = (pair[0], pair[1]);
            let cp = (usize::from(x0 & 0x1F) << 6) | usize::from(x1 & 0x3F);
            if !(0xC2..=0xDF).contains(&x0) || (same[cp >> 6] >> (cp & 63)) & 1 == 0 {
                return None;
            }
        }
        Some(if word.len() <= MAX_STOP_LEN {
            self.stop_mask_at(b, start, end)
        } else {
            0
        })
    }

    /// [`Lexicon::stop_mask`] of an ASCII token not yet lower-cased (the fold of an ASCII word
    /// is its lower case): no folding, and most tokens are ruled out before any copy.
    pub fn stop_mask_ascii(&self, token: &str) -> u32 {
        let b = token.as_bytes();
        if b.len() > 16 {
            let mut buf = [0u8; MAX_STOP_LEN];
            let Some(lower) = buf.get_mut(..b.len()) else {
                return 0;
            };
            lower.copy_from_slice(b);
            lower.make_ascii_lowercase();
            return self.stop_mask_bytes(lower);
        }
        let (lo, hi) = padded_words(b, 0, b.len());
        self.stop_short
            .get(ascii_lower_8(lo), ascii_lower_8(hi), b.len())
    }

    /// [`Lexicon::stop_mask`] of a folded token given its byte length and [`word_key`] (for
    /// callers that need the key anyway).
    pub fn stop_mask_of_key(&self, len: usize, key: u64) -> u32 {
        if len > MAX_STOP_LEN {
            return 0;
        }
        self.stop.get(&key).copied().unwrap_or(0)
    }

    /// Bit mask of the per-character languages listing `c` as a stop word.
    pub fn char_stop_mask(&self, c: char) -> u32 {
        self.char_stop.get(&c).copied().unwrap_or(0)
    }

    /// The whole-block phrase `text` is, without hashing texts longer than every phrase.
    fn whole_get(&self, text: &str) -> Option<Hit> {
        if text.len() > self.whole_max {
            return None;
        }
        self.whole.get(text).copied()
    }

    /// Look a folded block up: whole-block phrases first, then prefixes, then (short blocks
    /// only) contained phrases.
    pub fn lookup(&self, folded: &str) -> Option<Hit> {
        self.lookup_with(folded, true)
    }

    /// [`Lexicon::lookup`], skipping the contained-phrase search when `contains` is false (the
    /// caller would discard such a hit anyway, e.g. for a block too long for one).
    pub fn lookup_with(&self, folded: &str, contains: bool) -> Option<Hit> {
        let whole = trim_marks(folded);
        if let Some(hit) = self.whole_get(whole) {
            return Some(hit);
        }
        // "Image 2 of 5": a short block whose words without numbers are a phrase.
        if whole.len() <= 40 && whole.bytes().any(|b| b.is_ascii_digit()) {
            // The words joined by single spaces, in a buffer on the stack.
            let mut buf = [0u8; 40];
            let mut len = 0;
            for w in whole
                .split(' ')
                .filter(|w| !w.bytes().all(|b| b.is_ascii_digit()))
            {
                let sep = usize::from(len > 0);
                if let Some(dst) = buf.get_mut(len..len + sep + w.len()) {
                    dst[..sep].fill(b' ');
                    dst[sep..].copy_from_slice(w.as_bytes());
                    len += sep + w.len();
                }
            }
            let joined = std::str::from_utf8(&buf[..len]).unwrap_or("");
            if let Some(hit) = self.whole_get(joined) {
                return Some(hit);
            }
        }
        // "12 comments", "3 تعليقات": a count before a whole-block phrase.
        let uncounted = trim_marks(whole.trim_start_matches(|c: char| c.is_ascii_digit()));
        if uncounted.len() < whole.len() {
            if let Some(hit) = self.whole_get(uncounted) {
                return Some(hit);
            }
        }
        let candidates = self.prefix.get(prefix_key(folded)).map_or(&[][..], |v| v);
        for (p, hit) in candidates {
            if let Some(rest) = folded.strip_prefix(p.as_str()) {
                // A prefix must end at a word boundary (or the phrase ends with punctuation).
                let boundary = rest
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric() || !p.ends_with(char::is_alphanumeric));
                if boundary {
                    return Some(*hit);
                }
            }
        }
        if contains && folded.len() <= 400 {
            if !self.contains_filter.may_contain(folded.as_bytes()) {
                return None;
            }
            if let Some(m) = self.contains_ac.as_ref().and_then(|ac| ac.find(folded)) {
                return self.contains.get(m.pattern().as_usize()).copied();
            }
        }
        None
    }
}

/// A necessary condition for any of a set of phrases to occur in a text, tested a few bytes a
/// step before the automaton runs (most blocks hold none of the contained phrases).
///
/// Of each phrase of eleven bytes or more, the four 8-byte grams starting at offsets `w..w + 4`
/// are in a bit set, and the text's 8-byte grams at multiples of four are looked up; of each
/// phrase of five to ten bytes, the two 4-byte grams at `w` and `w + 1`, and the text's 4-byte
/// grams at multiples of two are looked up. Wherever a phrase occurs in a text, one of its grams
/// starts at such a multiple and ends within the text, so a text none of whose grams is in the
/// set holds none of these phrases. `w` is chosen per phrase to avoid spaces and the commonest
/// letters. Shorter phrases are searched for as they are.
#[derive(Debug)]
struct GramFilter {
    /// Two bits per gram (two fields of one hash), 2^16 bits.
    bits: Box<[u64; GRAM_WORDS]>,
    /// The phrases too short for grams, each behind a byte it holds that is rare in text (ASCII
    /// punctuation, looked for by one `memchr`, cheaper than the searcher's setup), if any.
    short: Vec<(Option<u8>, memchr::memmem::Finder<'static>)>,
}

/// Size of [`GramFilter::bits`] in words.
const GRAM_WORDS: usize = 1 << 10;

impl Default for GramFilter {
    fn default() -> Self {
        GramFilter {
            bits: Box::new([0; GRAM_WORDS]),
            short: Vec::new(),
        }
    }
}

/// Tag of 4-byte grams in [`GramFilter`] (0xFF is no byte of UTF-8, so no 8-byte gram has it).
const GRAM4_TAG: u64 = 0xFF << 56;

impl GramFilter {
    fn new(phrases: &[String]) -> GramFilter {
        let mut f = GramFilter::default();
        for p in phrases {
            let b = p.as_bytes();
            // Gram width, grams per phrase (the probing stride), tag.
            let (width, count, tag) = match b.len() {
                0..=6 => {
                    let gate = b.iter().copied().find(u8::is_ascii_punctuation);
                    f.short
                        .push((gate, memchr::memmem::Finder::new(b).into_owned()));
                    continue;
                }
                7..=10 => (4, 4, GRAM4_TAG),
                _ => (8, 4, 0),
            };
            // The window of grams with the most uncommon bytes, the first of equals.
            let span = width + count - 1;
            let w = (0..=b.len() - span)
                .max_by_key(|&w| {
                    let rare = b[w..w + span].iter().filter(|&&x| !common_byte(x)).count();
                    (rare, std::cmp::Reverse(w))
                })
                .unwrap_or(0);
            for o in w..w + count {
                if let Some(g) = gram(b, o, width) {
                    for slot in gram_slots(g | tag) {
                        f.bits[slot >> 6] |= 1 << (slot & 63);
                    }
                }
            }
        }
        f
    }

    fn has(&self, key: u64) -> bool {
        gram_slots(key)
            .iter()
            .all(|&s| (self.bits[s >> 6] >> (s & 63)) & 1 != 0)
    }

    /// False only if none of the phrases occurs in `hay`.
    fn may_contain(&self, hay: &[u8]) -> bool {
        let mut q = 0;
        while let Some(g4) = gram(hay, q, 4) {
            if self.has(g4 | GRAM4_TAG) {
                return true;
            }
            if let Some(g8) = gram(hay, q, 8) {
                if self.has(g8) {
                    return true;
                }
            }
            q += 4;
        }
        self.short.iter().any(|(gate, f)| {
            gate.is_none_or(|g| memchr::memchr(g, hay).is_some()) && f.find(hay).is_some()
        })
    }
}

/// The `width` (4 or 8) bytes of `b` at `at`, little-endian.
fn gram(b: &[u8], at: usize, width: usize) -> Option<u64> {
    let g = b.get(at..at + width)?;
    Some(if width == 8 {
        u64::from_le_bytes(g.try_into().ok()?)
    } else {
        u64::from(u32::from_le_bytes(g.try_into().ok()?))
    })
}

/// The two bits of a gram in [`GramFilter::bits`] (two 16-bit fields of one hash).
#[inline]
fn gram_slots(key: u64) -> [usize; 2] {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    [(h >> 48) as usize, ((h >> 32) & 0xFFFF) as usize]
}

/// Bytes too common in text to anchor a phrase on: space, the commonest English letters, the
/// lead bytes of Arabic letters and the second bytes of the commonest ones (alef, lam, ya, mim,
/// nun, waw, ha).
fn common_byte(x: u8) -> bool {
    matches!(
        x,
        b' ' | b'e'
            | b't'
            | b'a'
            | b'o'
            | b'i'
            | b'n'
            | b's'
            | b'r'
            | b'h'
            | 0xD8
            | 0xD9
            | 0xA7
            | 0x84
            | 0x8A
            | 0x85
            | 0x86
            | 0x88
            | 0x87
    )
}

/// Longest token, in bytes, looked up as a stop word.
const MAX_STOP_LEN: usize = 24;

/// Low-byte masks of `n` bytes, `n` from 0 to 8.
const BYTE_MASKS: [u64; 9] = {
    let mut t = [0u64; 9];
    let mut n = 0;
    while n < 8 {
        t[n] = (1u64 << (8 * n)) - 1;
        n += 1;
    }
    t[8] = u64::MAX;
    t
};

/// A text [`count_pieces`] reads: the space bits of its 64-byte chunks and the stop-word mask
/// of its pieces between spaces.
trait Pieces {
    /// Bit `j` set where byte `64 * c + j` is a space.
    fn spaces(&self, c: usize) -> u64;
    /// The stop-word mask of the piece `start..end`, trimmed by [`trim_marks`].
    fn mask(&self, start: usize, end: usize) -> u32;
}

/// A folded text as it is.
struct PlainText<'a> {
    lex: &'a Lexicon,
    folded: &'a str,
}

impl Pieces for PlainText<'_> {
    #[inline(always)]
    fn spaces(&self, c: usize) -> u64 {
        space_bits(self.folded.as_bytes(), c * 64)
    }
    #[inline(always)]
    fn mask(&self, start: usize, end: usize) -> u32 {
        self.lex.piece_mask(self.folded, start, end)
    }
}

/// A folded text of at most [`PAD_MAX`] bytes and its copy in a zero-padded buffer.
struct PaddedText<'a> {
    lex: &'a Lexicon,
    folded: &'a str,
    buf: &'a [u8; PAD],
}

impl Pieces for PaddedText<'_> {
    #[inline(always)]
    fn spaces(&self, c: usize) -> u64 {
        // Bytes past the text are zero: no space there.
        let at = (c & 7) * 64;
        space_bits_64(&self.buf[at..at + 64])
    }
    #[inline(always)]
    fn mask(&self, start: usize, end: usize) -> u32 {
        self.lex
            .padded_piece_mask(self.folded, self.buf, start, end)
    }
}

/// The loop of [`Lexicon::add_stop_words`] over `text`, of `len` bytes. Neither the lookup
/// nor the count branches on whether a word is a stop word: the counts of languages 0-7 and
/// 8-15 are kept one byte each (at most `limit`, at most 255, words), in registers (a closure
/// adding to them would chain every word through memory).
#[inline(always)]
fn count_pieces(
    text: &impl Pieces,
    len: usize,
    limit: usize,
    keep: u32,
    hits: &mut [u32; MAX_LANGS],
) {
    let limit = limit.min(255);
    let (mut lo, mut hi) = (0u64, 0u64);
    let mut pieces = 0;
    let mut start = 0;
    'chunks: for c in 0..len.div_ceil(64) {
        let mut bits = text.spaces(c);
        while bits != 0 {
            if pieces == limit {
                break 'chunks;
            }
            let end = c * 64 + bits.trailing_zeros() as usize;
            let m = text.mask(start, end) & keep;
            lo += SPREAD[(m & 0xFF) as usize];
            hi += SPREAD[((m >> 8) & 0xFF) as usize];
            pieces += 1;
            start = end + 1;
            bits &= bits - 1;
        }
    }
    if pieces < limit {
        let m = text.mask(start, len) & keep;
        lo += SPREAD[(m & 0xFF) as usize];
        hi += SPREAD[((m >> 8) & 0xFF) as usize];
    }
    for (i, h) in hits.iter_mut().enumerate() {
        let acc = if i < 8 { lo } else { hi };
        *h += ((acc >> (8 * (i % 8))) & 0xFF) as u32;
    }
}

/// Size of the buffer [`Lexicon::add_stop_words`] copies a short text into: offsets masked
/// by [`PAD_INDEX`] and sixteen bytes more.
const PAD: usize = 512 + 16;
/// Mask of an offset into that buffer.
const PAD_INDEX: usize = 511;
/// Longest text read from that buffer.
const PAD_MAX: usize = 496;

/// The masks of [`padded_words`] by word length (0 to 16; the rest unused): the word's bytes
/// of each half.
const KEY_MASKS: [(u64, u64); 32] = {
    let mut t = [(0u64, 0u64); 32];
    let mut n = 0usize;
    while n <= 16 {
        let lo = if n >= 8 { 8 } else { n };
        let hi = n.saturating_sub(8);
        t[n] = (BYTE_MASKS[lo], BYTE_MASKS[if hi > 8 { 8 } else { hi }]);
        n += 1;
    }
    t
};

/// The sixteen bytes of a [`PAD`] buffer at `k` (masked by [`PAD_INDEX`]), as two
/// little-endian words.
#[inline(always)]
fn load_padded(buf: &[u8; PAD], k: usize) -> (u64, u64) {
    let k = k & PAD_INDEX;
    let w = |k: usize| buf[k..k + 8].try_into().map_or(0, u64::from_le_bytes);
    (w(k), w(k + 8))
}

/// Bit `j` set where `chunk[j]` is a space ([`space_bits`] of a whole 64 bytes).
#[inline]
fn space_bits_64(chunk: &[u8]) -> u64 {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    let mut m = 0u64;
    for (k, w) in chunk.chunks_exact(8).enumerate() {
        let z = w.try_into().map_or(0, u64::from_le_bytes) ^ SPACES;
        let eq = !(((z & LOW) + LOW) | z) & HIGH;
        m |= ((eq >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

/// Bit `i` of `x` moved to the low bit of byte `i`: one language mask byte as eight byte
/// counters.
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut x = 0;
    while x < 256 {
        let mut i = 0;
        while i < 8 {
            if (x >> i) & 1 != 0 {
                t[x] |= 1 << (8 * i);
            }
            i += 1;
        }
        x += 1;
    }
    t
};

/// Bit `j` set where `b[at + j]` is a space, `j` below 64 (eight bytes a step: the space lanes
/// of each word gathered into a byte by one multiply).
#[inline]
fn space_bits(b: &[u8], at: usize) -> u64 {
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    // A whole 64 bytes: plain loads (no clamping at the end of `b`).
    if let Some(chunk) = b.get(at..at + 64) {
        return space_bits_64(chunk);
    }
    let mut m = 0u64;
    // Only the words holding bytes of `b` (a short block's head is one or two).
    for k in 0..b.len().saturating_sub(at).div_ceil(8).min(8) {
        let z = load8(b, at + 8 * k) ^ SPACES;
        // High bit of each lane that is a space, exactly (no carry crosses lanes).
        let eq = !(((z & LOW) + LOW) | z) & HIGH;
        m |= ((eq >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    m
}

/// The byte range of `s` that [`trim_marks`] keeps.
#[inline]
fn trim_range(s: &str) -> (usize, usize) {
    let b = s.as_bytes();
    if starts_wordish(b) && ends_wordish(b) {
        return (0, b.len());
    }
    let t = trim_unwordish(s);
    if t.is_empty() {
        return (0, 0);
    }
    let start = (t.as_ptr() as usize).wrapping_sub(s.as_ptr() as usize);
    (start, start + t.len())
}

/// The eight bytes of `b` at `at`, little-endian, zero past the end of `b`.
#[inline]
fn load8(b: &[u8], at: usize) -> u64 {
    if b.len() < 8 {
        return b
            .get(at..)
            .unwrap_or(&[])
            .iter()
            .rev()
            .fold(0u64, |w, &x| (w << 8) | u64::from(x));
    }
    // Near the end, the last eight bytes shifted down (no branch on where the word lies).
    let i = at.min(b.len() - 8);
    let w = b
        .get(i..i + 8)
        .map_or(0, |w| w.try_into().map_or(0, u64::from_le_bytes));
    let shift = (at - i).min(8) as u32 * 8;
    w.checked_shr(shift).unwrap_or(0)
}

/// The word `b[start..start + len]` (at most 16 bytes) as two little-endian words, zero-padded:
/// with the length, an exact key.
#[inline]
fn padded_words(b: &[u8], start: usize, len: usize) -> (u64, u64) {
    let lo = load8(b, start) & BYTE_MASKS[len.min(8)];
    let hi = load8(b, start + 8) & BYTE_MASKS[len.saturating_sub(8).min(8)];
    (lo, hi)
}

/// ASCII upper-case letters of eight bytes lower-cased (other bytes as they are).
fn ascii_lower_8(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // High bit of each lane holding `A..=Z`: at least 'A' and not above 'Z', and ASCII.
    let ge_a = (x & (ONES * 0x7F)) + ONES * (0x80 - u64::from(b'A'));
    let gt_z = (x & (ONES * 0x7F)) + ONES * (0x7F - u64::from(b'Z'));
    let upper = ge_a & !gt_z & !x & (ONES * 0x80);
    x | (upper >> 2)
}

/// One slot of [`StopTable`]: a word's [`padded_words`], its length and its language mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct StopSlot {
    lo: u64,
    hi: u64,
    len: u32,
    mask: u32,
}

/// Exact table of the stop words of at most 16 bytes by [`padded_words`] and length. Cuckoo
/// hashing: every word sits in one of its two slots, so a lookup reads both and keeps the mask
/// of the one that matches, with no branch on the outcome (whether a word of running text is
/// a stop word is a coin toss to the branch predictor).
#[derive(Debug, Default)]
struct StopTable {
    slots: Vec<StopSlot>,
    /// `64 - log2(slots.len())`.
    shift: u32,
    /// `slots.len() - 1`.
    mask: usize,
}

impl StopTable {
    fn new(words: &[(String, u32)]) -> StopTable {
        // One slot per word, the masks of a word listed by several languages merged.
        let mut merged: Vec<StopSlot> = Vec::new();
        let mut index: HashMap<(u64, u64, u32), usize> = HashMap::new();
        for (w, mask) in words {
            let b = w.as_bytes();
            if b.is_empty() || b.len() > 16 {
                continue;
            }
            let (lo, hi) = padded_words(b, 0, b.len());
            let len = b.len() as u32;
            let i = *index.entry((lo, hi, len)).or_insert_with(|| {
                merged.push(StopSlot {
                    lo,
                    hi,
                    len,
                    mask: 0,
                });
                merged.len() - 1
            });
            merged[i].mask |= mask;
        }
        // At most half full; doubled until every word finds a place.
        let mut size = (merged.len() * 2).next_power_of_two().max(16);
        loop {
            if let Some(t) = StopTable::build(&merged, size) {
                return t;
            }
            size *= 2;
        }
    }

    /// Cuckoo insertion of `words` into `size` slots; `None` if some word finds no place.
    fn build(words: &[StopSlot], size: usize) -> Option<StopTable> {
        let mut t = StopTable {
            slots: vec![StopSlot::default(); size],
            shift: 64 - size.trailing_zeros(),
            mask: size - 1,
        };
        for &w in words {
            let mut cur = w;
            let mut slot = t.slots_of(cur.lo, cur.hi, cur.len as usize).0;
            let mut placed = false;
            for _ in 0..size {
                let old = std::mem::replace(&mut t.slots[slot], cur);
                if old.len == 0 {
                    placed = true;
                    break;
                }
                // The evicted word goes to its other slot.
                cur = old;
                let (a, b) = t.slots_of(cur.lo, cur.hi, cur.len as usize);
                slot = if a == slot { b } else { a };
            }
            if !placed {
                return None;
            }
        }
        Some(t)
    }

    /// The two slots of a key.
    #[inline]
    fn slots_of(&self, lo: u64, hi: u64, len: usize) -> (usize, usize) {
        // One multiply: the top bits and a field of the middle ones (which mix the key's
        // first five bytes, where words of one length differ most; the table is exact
        // whatever the slots, and grows if two words would share both).
        let h = (lo ^ hi.rotate_left(29) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((h >> self.shift) as usize, (h >> 24) as usize & self.mask)
    }

    /// The language mask of the word with these [`padded_words`] and length (0 if none).
    #[inline]
    fn get(&self, lo: u64, hi: u64, len: usize) -> u32 {
        let (a, b) = self.slots_of(lo, hi, len);
        let hit = |s: Option<&StopSlot>| {
            let s = s.copied().unwrap_or_default();
            let same = ((s.lo ^ lo) | (s.hi ^ hi) | u64::from(s.len ^ len as u32)) == 0;
            s.mask & 0u32.wrapping_sub(u32::from(same))
        };
        hit(self.slots.get(a)) | hit(self.slots.get(b))
    }
}

fn word_hash(w: &str) -> u64 {
    word_key(w)
}

/// Key of a word for the stop-word table and for vocabulary sets: xxh3-64 of its bytes.
pub fn word_key(w: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(w.as_bytes())
}

/// Phrases live as long as the process; the lexicon is loaded once, so this leaks a bounded,
/// fixed amount.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Strip leading and trailing punctuation, symbols and spaces (`:`, `»`, `|`, `…`) from a folded
/// block, for whole-block matching.
#[inline]
pub fn trim_marks(s: &str) -> &str {
    let b = s.as_bytes();
    if starts_wordish(b) && ends_wordish(b) {
        return s;
    }
    trim_unwordish(s)
}

/// Whether the first character of `b` is an ASCII letter or digit or a wordish two-byte
/// character (false when it cannot tell cheaply).
#[inline]
fn starts_wordish(b: &[u8]) -> bool {
    match b {
        [x, ..] if ASCII_ALNUM[usize::from(*x)] => true,
        [x0 @ 0xC0..=0xDF, x1, ..] => wordish_2(*x0, *x1),
        _ => false,
    }
}

/// Whether the last character of `b` is an ASCII letter or digit or a wordish two-byte
/// character (false when it cannot tell cheaply).
#[inline]
fn ends_wordish(b: &[u8]) -> bool {
    match b {
        [.., x] if ASCII_ALNUM[usize::from(*x)] => true,
        [.., x0 @ 0xC0..=0xDF, x1 @ 0x80..=0xBF] => wordish_2(*x0, *x1),
        _ => false,
    }
}

/// Bytes that are ASCII letters or digits, by table (one load, where the two range tests of
/// `is_ascii_alphanumeric` cost four instructions more on every word of a block head).
const ASCII_ALNUM: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// [`is_wordish`] of the two-byte character `x0 x1`.
#[inline]
fn wordish_2(x0: u8, x1: u8) -> bool {
    let cp = (usize::from(x0 & 0x1F) << 6) | usize::from(x1 & 0x3F);
    (WORDISH_LOW[cp >> 6] >> (cp & 63)) & 1 != 0
}

/// Fold text for matching: lower case, Arabic letter variants unified (أ إ آ ٱ → ا, ى → ي,
/// ة → ه, Persian ی ک → ي ك), harakat, tatweel and format controls removed, whitespace collapsed
/// to single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

/// Whether a character belongs to a word (letters, digits, marks), cheaply: ASCII by table,
/// other characters unless they are common punctuation, symbols or spaces.
#[inline]
pub fn is_wordish(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x800 {
        return (WORDISH_LOW[(cp >> 6) as usize] >> (cp & 63)) & 1 != 0;
    }
    wordish_slow(cp)
}

/// [`is_wordish`] by its definition (the table below is built from it).
const fn wordish_slow(cp: u32) -> bool {
    if cp < 0x80 {
        return (cp as u8).is_ascii_alphanumeric();
    }
    !matches!(cp,
        0x00A0..=0x00BF | 0x00D7 | 0x00F7 | 0x2000..=0x2BFF | 0x3000..=0x303F | 0xFF01..=0xFF0F
        | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0x060C | 0x061B | 0x061F
        | 0x066A..=0x066D | 0x06D4 | 0x0964 | 0x0965 | 0x104A | 0x104B | 0xFE50..=0xFE6F
        | 0xFD3E | 0xFD3F)
}

/// [`wordish_slow`] of every code point below U+0800, one bit each.
const WORDISH_LOW: [u64; 32] = {
    let mut t = [0u64; 32];
    let mut cp = 0u32;
    while cp < 0x800 {
        if wordish_slow(cp) {
            t[(cp >> 6) as usize] |= 1 << (cp & 63);
        }
        cp += 1;
    }
    t
};

/// `s.trim_matches(|c| !is_wordish(c))`, deciding ASCII and two-byte characters by table
/// without decoding them.
fn trim_unwordish(s: &str) -> &str {
    let b = s.as_bytes();
    let mut start = 0;
    while let Some(&x) = b.get(start) {
        let (wordish, len) = if x < 0x80 {
            (x.is_ascii_alphanumeric(), 1)
        } else if let (0xC0..=0xDF, Some(&x1)) = (x, b.get(start + 1)) {
            let cp = (u32::from(x & 0x1F) << 6) | u32::from(x1 & 0x3F);
            ((WORDISH_LOW[(cp >> 6) as usize] >> (cp & 63)) & 1 != 0, 2)
        } else {
            match s.get(start..).and_then(|r| r.chars().next()) {
                Some(c) => (is_wordish(c), c.len_utf8()),
                None => (true, 0),
            }
        };
        if wordish {
            break;
        }
        start += len;
    }
    let mut end = b.len();
    while end > start {
        let x = b[end - 1];
        let (wordish, len) = if x < 0x80 {
            (x.is_ascii_alphanumeric(), 1)
        } else if let (Some(&x0 @ 0xC0..=0xDF), true) = (b.get(end.wrapping_sub(2)), end >= 2) {
            let cp = (u32::from(x0 & 0x1F) << 6) | u32::from(x & 0x3F);
            ((WORDISH_LOW[(cp >> 6) as usize] >> (cp & 63)) & 1 != 0, 2)
        } else {
            match s.get(..end).and_then(|r| r.chars().next_back()) {
                Some(c) => (is_wordish(c), c.len_utf8()),
                None => (true, 0),
            }
        };
        if wordish {
            break;
        }
        end -= len;
    }
    s.get(start..end).unwrap_or("")
}

/// Scripts without letter case (Hebrew through Myanmar, CJK, Hangul): no lower-casing needed.
fn caseless(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x109F | 0x3000..=0x9FFF | 0xAC00..=0xD7FF | 0x20000..=0x2FFFF)
}

/// [`fold`] appending to `out` (no allocation when `out` has room).
///
/// Runs of ASCII non-space bytes are copied and lower-cased in one step, and runs of two-byte
/// characters that fold to themselves (most Arabic, Hebrew, Cyrillic lower case) are copied
/// as they are; other characters go one by one.
pub fn fold_into(s: &str, out: &mut String) {
    if single_spaced_ascii(s.as_bytes()) {
        // The common head of English-like prose: its fold is its lower case, without the
        // space it may end in.
        let at = out.len();
        out.push_str(s.strip_suffix(' ').unwrap_or(s));
        if let Some(tail) = out.get_mut(at..) {
            tail.make_ascii_lowercase();
        }
        return;
    }
    let base = out.len();
    let tables = fold_tables();
    let bytes = s.as_bytes();
    // Whether the output ends in a space (before the pending segment).
    let mut space = true;
    // `s[seg..i]` folds to itself but for ASCII case: appended in one step when a character
    // that changes (or the end) comes. `ascii`: it holds ASCII other than spaces.
    let mut seg = 0;
    let mut ascii = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match FOLD_CLASS[usize::from(b)] {
            FC_PLAIN => {
                ascii = true;
                i += 1;
                // Seven bytes at a time through ASCII text with single spaces, the window
                // taking the byte before along to see a space after a space.
                while let Some(w) = bytes.get(i - 1..i + 7) {
                    if !plain_ascii_8(w) {
                        break;
                    }
                    i += 7;
                }
                continue;
            }
            FC_TWO => {
                if same_at(bytes, i, tables) {
                    // A run of two-byte characters that fold to themselves, with single
                    // spaces between words.
                    i += 2;
                    loop {
                        // A character's two bytes read at once (no check per byte).
                        if let Some(&[x0 @ 0xC2..=0xDF, x1]) = bytes.get(i..i + 2) {
                            if (tables.same[usize::from(x0 & 0x1F)] >> (x1 & 63)) & 1 == 0 {
                                break;
                            }
                            i += 2;
                            continue;
                        }
                        match bytes.get(i) {
                            Some(b' ') if bytes[i - 1] != b' ' => i += 1,
                            _ => break,
                        }
                    }
                    continue;
                }
                flush_segment(s, seg, i, ascii, out, &mut space);
                let cp = cp_at(bytes, i);
                match tables.map[cp] {
                    FOLD_DROP => {}
                    FOLD_SPACE => {
                        if !space {
                            out.push(' ');
                            space = true;
                        }
                    }
                    FOLD_GENERAL => {
                        if let Some(c) = char::from_u32(cp as u32) {
                            push_folded(c, out, &mut space);
                        }
                    }
                    o => {
                        out.push(o);
                        space = false;
                    }
                }
                i += 2;
            }
            FC_SPACE => {
                let after_space = match i.checked_sub(1) {
                    Some(p) if p >= seg => bytes[p] == b' ',
                    _ => space,
                };
                if !after_space {
                    i += 1;
                    continue;
                }
                // A space after a space (or at the start) is dropped.
                flush_segment(s, seg, i, ascii, out, &mut space);
                i += 1;
            }
            FC_WHITE => {
                flush_segment(s, seg, i, ascii, out, &mut space);
                if !space {
                    out.push(' ');
                    space = true;
                }
                i += 1;
            }
            _ => {
                flush_segment(s, seg, i, ascii, out, &mut space);
                let Some(c) = s.get(i..).and_then(|r| r.chars().next()) else {
                    break;
                };
                push_folded(c, out, &mut space);
                i += c.len_utf8();
            }
        }
        seg = i;
        ascii = false;
    }
    flush_segment(s, seg, bytes.len(), ascii, out, &mut space);
    if out.len() > base && out.ends_with(' ') {
        out.pop();
    }
}

/// Whether `b` is printable ASCII (space to `~`, and DEL) that does not start with a space
/// and has no two spaces side by side: text that [`fold_into`] only lower-cases (and strips
/// of a last space). Tested 32 bytes a step, in byte lanes, stopping at the first step that
/// fails (a text in another script fails in the first).
fn single_spaced_ascii(b: &[u8]) -> bool {
    if b.first() == Some(&b' ') {
        return false;
    }
    let (Some(cur), Some(prev)) = (b.get(1..), b.get(..b.len().saturating_sub(1))) else {
        return true;
    };
    if b.first().is_some_and(|&x| !(0x20..0x80).contains(&x)) {
        return false;
    }
    cur.chunks(32).zip(prev.chunks(32)).all(|(cur, prev)| {
        let mut bad = 0u8;
        for (&c, &p) in cur.iter().zip(prev) {
            bad |= u8::from(c < 0x20) | (c >> 7) | (u8::from(c == b' ') & u8::from(p == b' '));
        }
        bad == 0
    })
}

/// Code point of the two-byte character at `i`.
#[inline]
fn cp_at(bytes: &[u8], i: usize) -> usize {
    let b0 = bytes.get(i).copied().unwrap_or(0);
    let b1 = bytes.get(i + 1).copied().unwrap_or(0);
    (usize::from(b0 & 0x1F) << 6) | usize::from(b1 & 0x3F)
}

/// Whether the two-byte character at `i` folds to itself.
#[inline]
fn same_at(bytes: &[u8], i: usize, tables: &FoldTables) -> bool {
    let cp = cp_at(bytes, i);
    (tables.same[cp >> 6] >> (cp & 63)) & 1 != 0
}

/// Whether the 8 bytes of `w` are ASCII from the space up with no two spaces side by side (a
/// word-at-a-time test: no byte below 0x20 or above 0x7F, and no adjacent zero lanes in the
/// bytes xor-ed with spaces).
#[inline]
fn plain_ascii_8(w: &[u8]) -> bool {
    let [a, b, c, d, e, f, g, h] = *w else {
        return false;
    };
    let x = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
    const LOW: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const SPACES: u64 = 0x2020_2020_2020_2020;
    if (x.wrapping_sub(SPACES) | x) & HIGH != 0 {
        return false;
    }
    let y = x ^ SPACES;
    // High bit of each lane that is a space, exactly (no carry crosses lanes).
    let spaces = !(((y & LOW) + LOW) | y) & HIGH;
    spaces & (spaces >> 8) == 0
}

/// Append `s[seg..end]`, lower-cased when it holds ASCII, and note whether it ends in a space.
#[inline]
fn flush_segment(s: &str, seg: usize, end: usize, ascii: bool, out: &mut String, space: &mut bool) {
    if end <= seg {
        return;
    }
    let at = out.len();
    out.push_str(s.get(seg..end).unwrap_or(""));
    if ascii {
        if let Some(tail) = out.get_mut(at..) {
            tail.make_ascii_lowercase();
        }
    }
    *space = s.as_bytes().get(end - 1) == Some(&b' ');
}

/// ASCII bytes that fold to their lower case inside a word (not white space).
const FOLD_PLAIN_WORD: [bool; 128] = {
    let mut t = [true; 128];
    t[b' ' as usize] = false;
    t[b'\t' as usize] = false;
    t[b'\n' as usize] = false;
    t[0x0C] = false;
    t[b'\r' as usize] = false;
    t
};

/// [`FOLD_CLASS`]: ASCII other than white space (copied, lower-cased).
const FC_PLAIN: u8 = 0;
/// [`FOLD_CLASS`]: a space (copied unless it follows a space).
const FC_SPACE: u8 = 1;
/// [`FOLD_CLASS`]: other ASCII white space ([`char::is_ascii_whitespace`]: no vertical tab).
const FC_WHITE: u8 = 2;
/// [`FOLD_CLASS`]: lead byte of a two-byte character (decided by [`FoldTables`]).
const FC_TWO: u8 = 3;
/// [`FOLD_CLASS`]: lead byte of a longer character (the general rule).
const FC_WIDE: u8 = 4;

/// How [`fold_into`] treats each byte at a character boundary.
const FOLD_CLASS: [u8; 256] = {
    let mut t = [FC_WIDE; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            b' ' => FC_SPACE,
            b'\t' | b'\n' | 0x0C | b'\r' => FC_WHITE,
            0x00..=0x7F => FC_PLAIN,
            0xC2..=0xDF => FC_TWO,
            _ => FC_WIDE,
        };
        b += 1;
    }
    t
};

/// Append the fold of one non-ASCII character by the general rule ([`fold_char`], then lower
/// case); `space` says whether the output ends in a (collapsible) space.
fn push_folded(c: char, out: &mut String, space: &mut bool) {
    match fold_char(c) {
        Folded::Drop => {}
        Folded::Space => {
            if !*space {
                out.push(' ');
                *space = true;
            }
        }
        Folded::Char(m) => {
            *space = false;
            if caseless(m) {
                out.push(m);
            } else if m.is_uppercase() {
                out.extend(m.to_lowercase());
            } else {
                out.push(m);
            }
        }
    }
}

/// What [`fold_into`] does with one non-ASCII character before lower-casing.
enum Folded {
    Drop,
    Space,
    Char(char),
}

fn fold_char(c: char) -> Folded {
    let mapped = match c {
        'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
        'ى' | 'ی' => 'ي',
        'ة' => 'ه',
        'ک' => 'ك',
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => return Folded::Drop,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => return Folded::Drop,
        '\u{00A0}' => ' ',
        _ => c,
    };
    if mapped.is_whitespace() {
        Folded::Space
    } else {
        Folded::Char(mapped)
    }
}

/// Markers of [`FoldTables::map`] (control characters, never an output of the fold).
const FOLD_DROP: char = '\u{0}';
const FOLD_SPACE: char = '\u{1}';
const FOLD_GENERAL: char = '\u{2}';

/// [`fold_into`]'s result for every character below U+0800 that folds to at most one
/// character, computed once from the general path so that both agree, and which of them fold
/// to themselves.
struct FoldTables {
    map: [char; 0x800],
    /// Bit `cp`: `map[cp] == cp` (the character is copied as it is).
    same: [u64; 32],
}

fn fold_tables() -> &'static FoldTables {
    static TABLES: OnceLock<FoldTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let map: [char; 0x800] = std::array::from_fn(|cp| fold_one(cp as u32));
        let mut same = [0u64; 32];
        for (cp, &o) in map.iter().enumerate() {
            if o as usize == cp {
                same[cp >> 6] |= 1 << (cp & 63);
            }
        }
        FoldTables { map, same }
    })
}

/// [`FoldTables::map`] entry of one code point.
fn fold_one(cp: u32) -> char {
    let Some(c) = char::from_u32(cp).filter(|c| !c.is_ascii()) else {
        return FOLD_GENERAL;
    };
    match fold_char(c) {
        Folded::Drop => FOLD_DROP,
        Folded::Space => FOLD_SPACE,
        Folded::Char(m) => {
            let mut lower = String::new();
            if caseless(m) || !m.is_uppercase() {
                lower.push(m);
            } else {
                lower.extend(m.to_lowercase());
            }
            let mut chars = lower.chars();
            match (chars.next(), chars.next()) {
                (Some(o), None) if (o as u32) > 0x20 => o,
                _ => FOLD_GENERAL,
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn every_language_file_has_stop_words_and_phrases() {
        let lex = lexicon();
        for (lang, data) in FILES {
            assert!(data.contains("@stop"), "{lang} has no stop words");
            assert!(
                data.contains("related-header"),
                "{lang} has no read-also header"
            );
        }
        assert!(lex.langs.len() >= 14);
    }

    #[test]
    fn arabic_variants_fold_to_the_same_entry() {
        let lex = lexicon();
        let hit = lex.lookup(&fold("إقرأ أيضاً:")).unwrap();
        assert_eq!(hit.kind, "related-header");
        assert_eq!(hit.mode, Mode::Whole);
        let inline = lex
            .lookup(&fold("اقرأ ايضا: يفي سوناك بشرط الترشح"))
            .unwrap();
        assert_eq!(inline.kind, "related-link");
    }

    #[test]
    fn prefixes_respect_word_boundaries() {
        let lex = lexicon();
        assert_eq!(
            lex.lookup(&fold("Tags: politics, war")).unwrap().kind,
            "tags"
        );
        assert!(lex.lookup(&fold("Tagsalong is a word")).is_none());
    }

    /// A word with marks after it counts as its trimmed self in the padded loop (one ASCII
    /// mark after an ASCII letter or digit takes a fast path; the rest the general one), at
    /// the lengths around the sixteen-byte key.
    #[test]
    fn words_with_a_trailing_mark_count_as_the_word() {
        let lex = lexicon();
        let text = "the, of. and; \"the\" with: a) the.. i, between! x.y, thé, the,, \
                    (of é. 1, abcdefghijklmnop, abcdefghijklmnopq, according.";
        let mut want = [0u32; MAX_LANGS];
        for t in text.split(' ').map(trim_marks) {
            let m = lex.stop_mask(t) & !lex.char_langs;
            for (bit, h) in want.iter_mut().enumerate() {
                *h += (m >> bit) & 1;
            }
        }
        let mut got = [0u32; MAX_LANGS];
        lex.add_stop_words_padded(text, 64, &mut got);
        assert_eq!(got, want);
        let en = lex.langs.iter().position(|&l| l == "en").unwrap();
        assert!(want[en] >= 10, "{want:?}");
    }

    #[test]
    fn stop_words_are_looked_up_folded() {
        let lex = lexicon();
        assert_ne!(lex.stop_mask("the"), 0);
        assert_ne!(lex.stop_mask(&fold("إلى")), 0);
        assert_eq!(lex.stop_mask("parliament"), 0);
    }

    /// Characters that exercise every path of the fold, the trim and the stop-word table.
    pub(crate) const TRICKY: &[char] = &[
        'a',
        'Z',
        'q',
        '0',
        '7',
        ' ',
        ' ',
        ' ',
        '\t',
        '\n',
        '\r',
        '\x0B',
        '\x0C',
        '\0',
        '.',
        '!',
        '?',
        ':',
        '(',
        ')',
        '-',
        '"',
        'é',
        'É',
        'ß',
        'ẞ',
        'İ',
        'Σ',
        'ς',
        'Д',
        'д',
        '©',
        '«',
        '»',
        '\u{85}',
        '\u{A0}',
        'ا',
        'أ',
        'إ',
        'آ',
        'ٱ',
        'ى',
        'ی',
        'ة',
        'ک',
        'ل',
        'م',
        '\u{64B}',
        '\u{640}',
        '\u{670}',
        '؟',
        '۔',
        '،',
        'ש',
        '\u{1680}',
        '\u{2000}',
        '\u{200B}',
        '\u{200C}',
        '\u{2028}',
        '\u{3000}',
        '\u{FEFF}',
        '\u{212A}',
        '…',
        '。',
        '中',
        '的',
        'の',
        '한',
        '😀',
        '\u{20000}',
        '”',
    ];

    /// A string of [`TRICKY`] characters and stop words.
    pub(crate) fn tricky_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            4 => proptest::sample::select(TRICKY).prop_map(String::from),
            1 => proptest::sample::select(&["the", "The", "OF", "في", "إلى", "على", "und", "и"][..])
                .prop_map(String::from),
            1 => proptest::sample::select(
                &[
                    "Read More about the Minister",
                    "a b c d e f g h i j",
                    "two  spaces  here",
                    "العالم العربي اليوم",
                    "والاستخباراتيةوالاستخباراتية",
                    "إلىإلى",
                    "Привет мир всем",
                ][..]
            )
            .prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..120).prop_map(|v| v.concat())
    }

    /// The fold one character at a time, as first written.
    fn fold_reference(s: &str) -> String {
        let mut out = String::new();
        let mut space = true;
        for c in s.chars() {
            if c.is_ascii() {
                if c.is_ascii_whitespace() {
                    if !space {
                        out.push(' ');
                        space = true;
                    }
                } else {
                    space = false;
                    out.push(c.to_ascii_lowercase());
                }
                continue;
            }
            push_folded(c, &mut out, &mut space);
        }
        if out.ends_with(' ') {
            out.pop();
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn fold_and_trim_match_their_definitions(s in tricky_text()) {
            proptest::prop_assert_eq!(fold(&s), fold_reference(&s));
            let mut out = String::from("x");
            fold_into(&s, &mut out);
            proptest::prop_assert_eq!(&out[1..], fold_reference(&s));
            for piece in s.split(' ').chain(std::iter::once(s.as_str())) {
                let by_chars = piece.trim_matches(|c: char| !wordish_slow(c as u32));
                proptest::prop_assert_eq!(trim_marks(piece), by_chars);
            }
        }

        #[test]
        fn fold_of_ascii_prose_matches_its_definition(
            s in "( ?[A-Za-z0-9.,!?'\\-]{1,6}){0,40}( {0,2}|\\t|\u{7f}|\u{1}|é)([a-zA-Z ]{0,40})",
        ) {
            proptest::prop_assert_eq!(fold(&s), fold_reference(&s));
            let mut out = String::from("X ");
            fold_into(&s, &mut out);
            proptest::prop_assert_eq!(&out[2..], fold_reference(&s));
        }

        #[test]
        fn fold_of_two_byte_runs_matches_its_definition(
            pieces in proptest::collection::vec(
                proptest::sample::select(
                    &["ب", "ع", "م", "ل", "ي", "و", " ", " ", "أ", "ة", "\u{64B}", "ی", "Я", "ж", "é", "  ", "a", "،", "中", "\u{A0}"][..],
                ),
                0..200,
            ),
            weights in proptest::collection::vec(0usize..40, 1..6),
        ) {
            // Mostly letters that fold to themselves, with the odd one that does not.
            let mut s = String::new();
            for (k, p) in pieces.iter().enumerate() {
                let w = weights[k % weights.len()];
                s.push_str(if k % 41 < w { p } else { ["ب", "ع", " ", "ж"][k % 4] });
            }
            proptest::prop_assert_eq!(fold(&s), fold_reference(&s));
        }

        #[test]
        fn stop_masks_match_the_word_lists(s in tricky_text()) {
            let lex = lexicon();
            let mut words: HashMap<String, u32> = HashMap::new();
            for (bit, (_, data)) in FILES.iter().enumerate() {
                for line in data.lines() {
                    if let Some(ws) = line.strip_prefix("@stop") {
                        for w in ws.split_whitespace() {
                            *words.entry(fold(w)).or_insert(0) |= 1 << bit;
                        }
                    }
                }
            }
            for t in fold(&s).split(' ').map(trim_marks) {
                let want = if t.len() > MAX_STOP_LEN { 0 } else { words.get(t).copied().unwrap_or(0) };
                proptest::prop_assert_eq!(lex.stop_mask(t), want, "{:?}", t);
            }
            for w in words.keys().filter(|w| w.len() <= MAX_STOP_LEN) {
                proptest::prop_assert_eq!(lex.stop_mask(w), words[w]);
                if w.is_ascii() {
                    proptest::prop_assert_eq!(lex.stop_mask_ascii(&w.to_ascii_uppercase()), words[w]);
                }
            }
            for t in s.split(|c: char| !c.is_ascii_alphanumeric()) {
                let want = lex.stop_mask(&t.to_ascii_lowercase());
                proptest::prop_assert_eq!(lex.stop_mask_ascii(t), want, "{:?}", t);
            }
            // The stop-word counts of a block's head, against the word lists, on folded text
            // and on text as it comes (double spaces, other white space).
            for (text, limit) in [(fold(&s), 64), (s.clone(), 64), (fold(&s), 5), (s.clone(), 0)] {
                let mut want = [0u32; MAX_LANGS];
                for t in text.split(' ').take(limit).map(trim_marks) {
                    let m = if t.len() > MAX_STOP_LEN { 0 } else { words.get(t).copied().unwrap_or(0) };
                    for (bit, h) in want.iter_mut().enumerate() {
                        *h += (m & !lex.char_langs) >> bit & 1;
                    }
                }
                let mut got = [1u32; MAX_LANGS];
                lex.add_stop_words(&text, limit, &mut got);
                proptest::prop_assert_eq!(got.map(|h| h - 1), want, "{:?}", text);
            }
            let mut tok = String::new();
            for w in s.split(char::is_whitespace) {
                let want = lex.stop_mask(&fold(w));
                proptest::prop_assert_eq!(lex.stop_mask_word(w, &mut tok), want, "{:?}", w);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        #[test]
        fn the_gram_filter_never_rules_out_a_contained_phrase(
            before in tricky_text(),
            after in tricky_text(),
            pick in 0usize..1000,
            cut in 0usize..4,
        ) {
            let lex = lexicon();
            let ac = lex.contains_ac.as_ref().unwrap();
            let phrases: Vec<&str> = lex.contains.iter().map(|h| h.phrase).collect();
            let phrase = phrases[pick % phrases.len()];
            // The phrase at every alignment, whole, and with a few bytes cut off its end.
            let mut keep = phrase.len().saturating_sub(cut);
            while !phrase.is_char_boundary(keep) {
                keep -= 1;
            }
            for text in [
                format!("{before}{phrase}{after}"),
                format!("{}{phrase}", before.chars().take(3).collect::<String>()),
                format!("{before}{}", &phrase[..keep]),
                before.clone(),
            ] {
                let folded = fold(&text);
                if ac.find(&folded).is_some() {
                    proptest::prop_assert!(lex.contains_filter.may_contain(folded.as_bytes()), "{:?}", folded);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_gram_filter_never_rules_out_a_short_phrase(
            before in tricky_text(),
            after in tricky_text(),
            pick in 0usize..1000,
        ) {
            let lex = lexicon();
            let short: Vec<&str> = lex
                .contains
                .iter()
                .map(|h| h.phrase)
                .filter(|p| p.len() <= 6)
                .collect();
            proptest::prop_assume!(!short.is_empty());
            let phrase = short[pick % short.len()];
            let folded = fold(&format!("{before}{phrase}{after}"));
            if folded.contains(phrase) {
                proptest::prop_assert!(lex.contains_filter.may_contain(folded.as_bytes()), "{:?}", folded);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_hasher_writes_bytes_as_zero_padded_words(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40), seed: u64) {
            // The hash as first written: each chunk of eight copied into a zeroed buffer.
            let mut want = seed;
            for chunk in b.chunks(8) {
                let mut buf = [0u8; 8];
                buf[..chunk.len()].copy_from_slice(chunk);
                want = (want.rotate_left(5) ^ u64::from_le_bytes(buf))
                    .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
            }
            let mut h = FastHasher(seed);
            h.write(&b);
            proptest::prop_assert_eq!(h.finish(), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn word_loads_and_space_bits_match_byte_reads(
            b in proptest::collection::vec(
                proptest::sample::select(&[b' ', b' ', b'a', 0, 0x20 ^ 0x80, 0xA0, 0xD8, b'!', 0xFF][..]),
                0..150,
            ),
            at in 0usize..170,
        ) {
            let byte = |i: usize| b.get(i).copied().unwrap_or(0);
            let want = (0..8).fold(0u64, |w, k| w | u64::from(byte(at + k)) << (8 * k));
            proptest::prop_assert_eq!(load8(&b, at), want);
            let spaces = (0..64).fold(0u64, |m, j| m | u64::from(byte(at + j) == b' ') << j);
            proptest::prop_assert_eq!(space_bits(&b, at), spaces);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// The padded buffer's counts are those of the general loop, for texts up to the
        /// buffer's limit and the words at its end (cut at every length near it).
        #[test]
        fn padded_stop_word_counts_match_the_general_loop(
            s in tricky_text(),
            limit in 0usize..300,
            filler in proptest::sample::select(&["the ", "x ", "في ", "a.b ", " ", "“of” "][..]),
        ) {
            let lex = lexicon();
            let mut long = filler.repeat(PAD_MAX / filler.len().max(1) - 8);
            long.push_str(&s);
            for text in [fold(&s), s.clone(), fold(&long), long] {
                let mut cut = text.len().min(PAD_MAX);
                let mut cuts = Vec::new();
                while cuts.len() < 20 {
                    if text.is_char_boundary(cut) {
                        cuts.push(cut);
                    }
                    let Some(c) = cut.checked_sub(1) else { break };
                    cut = c;
                }
                for cut in cuts {
                    let t = &text[..cut];
                    let (mut padded, mut any) = ([3u32; MAX_LANGS], [3u32; MAX_LANGS]);
                    lex.add_stop_words_padded(t, limit, &mut padded);
                    lex.add_stop_words_any(t, limit, &mut any);
                    proptest::prop_assert_eq!(padded, any, "{:?} {}", t, limit);
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// A block's word past its head is looked up as its trimmed fold, read in place or not.
        /// Words of two-byte characters: those that fold to themselves are read in place, the
        /// rest (a letter that folds to another, a dropped mark, an edge to trim, a character
        /// of another width, past the longest stop word) are folded.
        #[test]
        fn words_in_place_are_looked_up_as_their_trimmed_fold(
            s in tricky_text(),
            ascii in "( |[,.\"(]{0,2}(the|The|OF|and|Between|a|Xy)[,.\")!]{0,2}|[a-z]{15,20}|[A-Za-z]{38,42}){0,30}",
            two_byte in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(&[
                        "في", "من", "على", "إلى", "أن", "ال", "ة", "ه", "ا", "ي", "ى", "\u{64e}",
                        "،", "«", "»", "и", "не", "На", "Ж", "é", "x", "中", "ـ", "ولاية",
                    ][..]),
                    1..8,
                ),
                1..12,
            ),
        ) {
            let lex = lexicon();
            let mut tok = String::new();
            let two_byte = two_byte.iter().map(|w| w.concat()).collect::<Vec<_>>().join(" ");
            for text in [s, ascii, two_byte] {
                let mut start = 0;
                for word in text.split(' ') {
                    let end = start + word.len();
                    let t = trim_marks(word);
                    let want = if t.is_empty() || t.len() > 40 { 0 } else { lex.stop_mask(&fold(t)) };
                    proptest::prop_assert_eq!(lex.word_stop_mask(&text, start, end, &mut tok), want, "{:?}", word);
                    start = end + 1;
                }
            }
        }
    }

    #[test]
    fn two_byte_words_that_fold_to_themselves_are_stop_words_in_place() {
        let lex = lexicon();
        let mut tok = String::new();
        let text = "قال إنه في المدينة على الحدود من جديد и не";
        let mut start = 0;
        let mut found = 0;
        for word in text.split(' ') {
            let end = start + word.len();
            let m = lex.word_stop_mask(text, start, end, &mut tok);
            assert_eq!(m, lex.stop_mask(&fold(word)), "{word:?}");
            if lex
                .same_two_byte_mask(text.as_bytes(), start, end)
                .is_some()
            {
                found += usize::from(m != 0);
            }
            start = end + 1;
        }
        // في من и не: stop words read in place (إنه and على, whose hamza and alef maksura fold
        // to other letters, are looked up as their fold).
        assert_eq!(found, 4);
    }

    #[test]
    fn word_at_a_time_lower_case_is_ascii_lower_case() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                let x =
                    0x4161_7A5A_405B_60FFu64 & !(0xFF << (8 * lane)) | u64::from(b) << (8 * lane);
                let want = u64::from_le_bytes(x.to_le_bytes().map(|c| c.to_ascii_lowercase()));
                assert_eq!(ascii_lower_8(x), want, "{x:x}");
            }
        }
    }

    #[test]
    fn wordish_table_matches_the_definition() {
        for cp in 0..0x3_0000u32 {
            if let Some(c) = char::from_u32(cp) {
                assert_eq!(is_wordish(c), wordish_slow(cp), "{cp:x}");
                if cp < 0x800 {
                    assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{cp:x}");
                }
            }
        }
    }
}
