//! Text normalization: the one place that decides which spellings count as the same.
//!
//! Steps, in order, per character (see [`NORMALIZERS`]):
//!
//! 1. NFKC (compatibility forms, presentation forms, full-width and mathematical digits).
//! 2. Case folding (full lower case; `ß` → `ss`, final sigma → sigma).
//! 3. Removal of format controls: zero-width (U+200B–U+200D, U+2060, U+FEFF), bidi controls
//!    (U+200E/F, U+202A–U+202E, U+2066–U+2069, U+061C), soft hyphen.
//! 4. Arabic folding: harakat U+064B–U+065F and U+0670, Quranic annotation marks
//!    (U+0610–U+061A, U+06D6–U+06ED), tatweel U+0640 removed; أ إ آ ٱ → ا, ى → ي, ة → ه,
//!    Persian ی → ي and ک → ك.
//! 5. Every Unicode decimal digit (general category Nd) → its ASCII digit. Digits are never
//!    masked: numbers tell events apart.
//! 6. Everything that is neither a letter, a digit nor a combining mark → one space; runs of
//!    spaces collapse, no leading or trailing space. Line breaks are kept (as `\n`) because
//!    blocks bound the shingles.
//!
//! The result is idempotent (`normalize(normalize(x)) == normalize(x)`), which a property test
//! checks. [`normalize_with_offsets`] also returns, for every output byte, the byte offset in
//! the original text it came from, so spans found on normalized text can be reported on the
//! original.

mod tables;

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// One normalization rule over a single (already NFKC-composed, lower-cased) character.
/// Contract: returns the replacement — `None` keeps the character, `Some(None)` drops it,
/// `Some(Some(c))` replaces it.
pub type Normalizer = fn(char) -> Option<Option<char>>;

/// The ordered registry of per-character rules applied after NFKC and case folding. The first
/// rule that returns `Some` decides.
pub const NORMALIZERS: &[(&str, Normalizer)] = &[
    ("format-controls", tables::format_control),
    ("arabic", tables::arabic_fold),
    ("digits", tables::decimal_digit),
];

/// Normalized text and, when asked for, the map back to the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized text.
    pub text: String,
    /// `offsets[i]` = byte offset in the original of the character that produced output byte
    /// `i`; one extra final entry holds the original length. Empty unless asked for.
    pub offsets: Vec<u32>,
}

impl Normalized {
    /// Original byte range of the normalized byte range `start..end`.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let s = *self.offsets.get(start)? as usize;
        let e = *self.offsets.get(end)? as usize;
        Some((s, e.max(s)))
    }
}

/// Normalize `text` (see the module docs).
pub fn normalize(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len() + 16);
    let risky = run(text, &mut out, &mut NoOffsets, &mut NoTokens);
    let out = into_string(out);
    // A second pass is a no-op on almost every text; it makes idempotence hold for the rare
    // sequences where case folding un-normalizes (e.g. U+0130 → i + U+0307). Only texts where
    // the general path wrote a character other than a stable one can need it.
    if risky && !is_fixpoint(&out) {
        let mut again = Vec::with_capacity(out.len() + 16);
        run(&out, &mut again, &mut NoOffsets, &mut NoTokens);
        return into_string(again);
    }
    out
}

/// Normalize `text` to bytes (valid UTF-8), handing every token to `tokens` on the way; the
/// feature pipeline's entry point. Equal to `normalize(text)` and
/// [`super::tokenize::visit`] over it.
pub fn normalize_tokens<T: TokenSink>(text: &str, tokens: &mut T) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let risky = run(text, &mut out, &mut NoOffsets, tokens);
    if risky {
        let first = into_string(out);
        if !is_fixpoint(&first) {
            // Rare: the second pass is what `normalize` returns; take its tokens instead.
            tokens.reset();
            let mut again = Vec::with_capacity(first.len() + 16);
            run(&first, &mut again, &mut NoOffsets, tokens);
            return again;
        }
        return first.into_bytes();
    }
    out
}

/// Normalize and keep the offset map to the original (see [`Normalized::offsets`]).
pub fn normalize_with_offsets(text: &str) -> Normalized {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let risky = run(text, &mut out, &mut offsets, &mut NoTokens);
    let out = into_string(out);
    if risky && !is_fixpoint(&out) {
        let mut again = Vec::with_capacity(out.len() + 16);
        let mut inner = Vec::with_capacity(out.len() + 1);
        run(&out, &mut again, &mut inner, &mut NoTokens);
        // Compose the two maps: second-pass output → first-pass output → original.
        let composed = inner
            .iter()
            .map(|&o| {
                offsets
                    .get(o as usize)
                    .copied()
                    .unwrap_or(text.len() as u32)
            })
            .collect();
        return Normalized {
            text: into_string(again),
            offsets: composed,
        };
    }
    offsets.push(text.len() as u32);
    Normalized { text: out, offsets }
}

/// The writer only ever appends whole UTF-8 encodings of characters, so this never loses
/// anything; the lossy branch exists so that no request path can panic.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn is_fixpoint(out: &str) -> bool {
    out.is_ascii() || {
        let mut probe = Vec::with_capacity(out.len() + 16);
        run(out, &mut probe, &mut NoOffsets, &mut NoTokens);
        probe == out.as_bytes()
    }
}

/// Where the writer records, for every output byte, the input offset it came from. A trait so
/// that the common no-map case compiles to nothing.
trait OffsetSink {
    /// Record `n` output bytes that came from input offset `origin`.
    fn record(&mut self, origin: usize, n: usize);
    /// Record `n` output bytes that came one each from input offsets `start..start + n`.
    fn record_run(&mut self, start: usize, n: usize);
    /// Record `2 * pairs` output bytes that came two each from the two-byte characters at
    /// input offsets `start, start + 2, …`.
    fn record_pairs(&mut self, start: usize, pairs: usize);
    /// Forget everything recorded.
    fn reset(&mut self);
}

/// No offset map wanted.
struct NoOffsets;

impl OffsetSink for NoOffsets {
    #[inline(always)]
    fn record(&mut self, _: usize, _: usize) {}
    #[inline(always)]
    fn record_run(&mut self, _: usize, _: usize) {}
    #[inline(always)]
    fn record_pairs(&mut self, _: usize, _: usize) {}
    #[inline(always)]
    fn reset(&mut self) {}
}

impl OffsetSink for Vec<u32> {
    #[inline]
    fn record(&mut self, origin: usize, n: usize) {
        for _ in 0..n {
            self.push(origin as u32);
        }
    }
    #[inline]
    fn record_run(&mut self, start: usize, n: usize) {
        self.extend((start..start + n).map(|o| o as u32));
    }
    #[inline]
    fn record_pairs(&mut self, start: usize, pairs: usize) {
        self.extend((0..2 * pairs).map(|k| (start + k / 2 * 2) as u32));
    }
    fn reset(&mut self) {
        self.clear();
    }
}

/// Receives every token of the normalized text as the writer finishes it, so that the feature
/// pipeline hashes tokens without a second pass over the text. Tokens are the maximal runs
/// between separators, exactly the space-free chunks [`super::tokenize::visit`] splits.
pub trait TokenSink {
    /// One token: its bytes, whether it holds a character at or above U+0800 (which may need
    /// segmentation), and whether a line ends after it.
    fn token(&mut self, bytes: &[u8], wide: bool, line_end: bool);
    /// A token of ASCII letters and digits of `len` bytes (1 to 16), lower-cased, given as two
    /// little-endian words (bytes past `len` are junk); `digits`: all its bytes are digits.
    /// The same token as [`token`](Self::token) would receive, in the registers the writer
    /// wrote it from.
    fn ascii_token(&mut self, words: [u64; 2], len: usize, digits: bool, line_end: bool) {
        let _ = digits;
        let mut bytes = [0u8; 16];
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        self.token(bytes.get(..len).unwrap_or_default(), false, line_end);
    }
    /// Forget every token received (the writer started over).
    fn reset(&mut self);
}

/// No tokens wanted.
pub struct NoTokens;

impl TokenSink for NoTokens {
    #[inline(always)]
    fn token(&mut self, _: &[u8], _: bool, _: bool) {}
    #[inline(always)]
    fn ascii_token(&mut self, _: [u64; 2], _: usize, _: bool, _: bool) {}
    #[inline(always)]
    fn reset(&mut self) {}
}

/// Output bytes, offset map and the pending separator.
struct Writer<'a, O: OffsetSink, T: TokenSink> {
    out: &'a mut Vec<u8>,
    offsets: &'a mut O,
    tokens: &'a mut T,
    /// 0 = nothing pending, 1 = a space pending, 2 = a newline pending.
    pending: u8,
    /// Where the current token starts in `out`.
    token_start: usize,
    /// Whether the current token holds a character at or above U+0800.
    wide: bool,
    /// Where in `out` the last short ASCII word written as a token of its own ends: when the
    /// current token ends there, it is that word, handed over from `short` (see
    /// [`TokenSink::ascii_token`]). Output only grows between restarts, so a token with
    /// anything written after the word never ends there.
    short_end: usize,
    /// The lower-cased bytes of that word (see [`TokenSink::ascii_token`]).
    short: [u64; 2],
    /// Whether that word is all digits.
    short_digits: bool,
}

impl<'a, O: OffsetSink, T: TokenSink> Writer<'a, O, T> {
    fn new(out: &'a mut Vec<u8>, offsets: &'a mut O, tokens: &'a mut T) -> Self {
        Writer {
            out,
            offsets,
            tokens,
            pending: 0,
            token_start: 0,
            wide: false,
            short_end: usize::MAX,
            short: [0; 2],
            short_digits: false,
        }
    }

    /// Drop everything written (the caller starts over).
    fn restart(&mut self) {
        self.out.clear();
        self.offsets.reset();
        self.tokens.reset();
        self.pending = 0;
        self.token_start = 0;
        self.wide = false;
        self.short_end = usize::MAX;
    }

    /// Write the pending separator (if any) before the next character.
    #[inline]
    fn separate(&mut self, origin: usize) {
        if !self.out.is_empty() {
            let newline = self.pending == 2;
            self.end_token(newline);
            self.out.push(if newline { b'\n' } else { b' ' });
            self.offsets.record(origin, 1);
            self.token_start = self.out.len();
        }
        self.pending = 0;
    }

    #[inline]
    fn end_token(&mut self, line_end: bool) {
        if self.short_end == self.out.len() {
            let len = self.short_end - self.token_start;
            self.tokens
                .ascii_token(self.short, len, self.short_digits, line_end);
        } else {
            let token = self.out.get(self.token_start..).unwrap_or_default();
            self.tokens.token(token, self.wide, line_end);
        }
        self.wide = false;
    }

    /// End the text: hand over the last token.
    fn finish(&mut self) {
        if self.out.len() > self.token_start {
            self.end_token(true);
        }
    }

    #[inline]
    fn push(&mut self, c: char, origin: usize) {
        if self.pending != 0 {
            self.separate(origin);
        }
        let cp = c as u32;
        if cp < 0x80 {
            self.out.push(cp as u8);
            self.offsets.record(origin, 1);
        } else if cp < 0x800 {
            // Two-byte UTF-8 (Latin, Greek, Cyrillic, Arabic, Hebrew letters), written
            // directly: the common non-ASCII case.
            self.out.push(0xC0 | (cp >> 6) as u8);
            self.out.push(0x80 | (cp & 0x3F) as u8);
            self.offsets.record(origin, 2);
        } else {
            self.wide = true;
            let mut buf = [0u8; 4];
            let enc = c.encode_utf8(&mut buf);
            self.out.extend_from_slice(enc.as_bytes());
            self.offsets.record(origin, enc.len());
        }
    }

    /// [`push`](Self::push) for a character in U+0080..U+0800 (two output bytes).
    #[inline(always)]
    fn push_two_byte(&mut self, cp: u16, origin: usize) {
        if self.pending != 0 {
            self.separate(origin);
        }
        self.out
            .extend_from_slice(&[0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8]);
        self.offsets.record(origin, 2);
    }

    /// A run of two-byte characters that are their own fold, starting at input offset
    /// `origin`, written as they are.
    #[inline(always)]
    fn push_two_byte_run(&mut self, run: &[u8], origin: usize) {
        if self.pending != 0 {
            self.separate(origin);
        }
        self.out.extend_from_slice(run);
        self.offsets.record_pairs(origin, run.len() / 2);
    }

    /// [`push`](Self::push) for an ASCII character (one output byte).
    #[inline(always)]
    fn push_ascii(&mut self, b: u8, origin: usize) {
        if self.pending != 0 {
            self.separate(origin);
        }
        self.out.push(b);
        self.offsets.record(origin, 1);
    }

    /// The stretch of ASCII starting at `i` (an ASCII byte): its words and separators, up to
    /// the first non-ASCII byte or the end; returns where it stops. A separator run separates
    /// as its strongest member (a newline or a space).
    ///
    /// Word and separator alternate in one loop. A word is read eight bytes a step: a
    /// byte-lane range test finds its end within the step, and the step's bytes are written
    /// with one store (lower-casing these bytes is setting bit 0x20: digits have it already)
    /// and cut back to the word. The lanes of the word's last step also find the separator run
    /// after it (and whether it holds a newline) and what follows it: when that is the next
    /// ASCII word, the separator is final, so the word's token ends there and then, handed
    /// over from the registers it was written from when it is short (see
    /// [`TokenSink::ascii_token`]). A token still open when the stretch ends (the next
    /// character, or the kind of separator, is not known yet) is left to [`Self::separate`].
    #[inline(always)]
    fn ascii_stretch(&mut self, bytes: &[u8], mut i: usize) -> usize {
        if bytes.get(i).is_some_and(|b| !b.is_ascii_alphanumeric()) {
            let (end, newline) = separator_run(bytes, i);
            if newline {
                self.newline();
            } else {
                self.space();
            }
            i = end;
        }
        // Now at a letter or digit, or past the stretch.
        if !bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return i;
        }
        if self.pending != 0 {
            self.separate(i);
        }
        // Whether the word at `i` starts a token (else it continues one begun before the
        // stretch).
        let mut fresh = self.out.len() == self.token_start;
        loop {
            let start = i;
            let mut words = [0u64; 2];
            let mut letters = 0u64;
            let mut step = 0usize;
            // The last step's bytes, its letter-or-digit lanes and where the word ends in it.
            let (word, alnum, run) = loop {
                let word = load8(bytes, i);
                let (alnum, letter) = ascii_lanes(word);
                let lower = word | (0x20 * LOW_BITS);
                if let Some(w) = words.get_mut(step) {
                    *w = lower;
                }
                let kept = self.out.len();
                self.out.extend_from_slice(&lower.to_le_bytes());
                if alnum != HIGH_BITS {
                    let run = (!alnum & HIGH_BITS).trailing_zeros() / 8;
                    self.out.truncate(kept + run as usize);
                    letters |= letter & ((1u64 << (8 * run)) - 1);
                    i += run as usize;
                    break (word, alnum, run);
                }
                letters |= letter;
                i += 8;
                step += 1;
            };
            self.offsets.record_run(start, i - start);
            let len = i - start;
            let short = fresh && len <= 16;
            // The separator run after the word: from lane `run` (not a letter or digit) to the
            // next lane that is one or is not ASCII, when the step holds it.
            let from_run = !0u64 << (8 * run);
            let non_ascii = word & HIGH_BITS;
            // What follows the word: nothing when its token goes on (the word ends at the end
            // of the text, or of the stretch the caller gave, or at a non-ASCII character),
            // else where the separator run ends, whether it holds a newline and whether the
            // next word starts there.
            let after = if i == bytes.len() || non_ascii & (0x80 << (8 * run)) != 0 {
                None
            } else {
                let stops = (alnum | non_ascii) & from_run;
                if stops != 0 {
                    let stop = stops.trailing_zeros() / 8;
                    let within = from_run & ((1u64 << (8 * stop)) - 1);
                    let newline = newline_lanes(word) & within != 0;
                    let word_next = alnum & (0x80 << (8 * stop)) != 0;
                    Some((i + (stop - run) as usize, newline, word_next))
                } else {
                    let (end, newline) = separator_run(bytes, i);
                    let word_next = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
                    Some((end, newline, word_next))
                }
            };
            match after {
                Some((sep_end, newline, true)) => {
                    // The next word follows: the separator is final.
                    if short {
                        self.tokens.ascii_token(words, len, letters == 0, newline);
                        self.wide = false;
                    } else {
                        self.end_token(newline);
                    }
                    self.out.push(if newline { b'\n' } else { b' ' });
                    self.offsets.record(sep_end, 1);
                    self.token_start = self.out.len();
                    fresh = true;
                    i = sep_end;
                }
                _ => {
                    // The token stays open past the stretch.
                    if short {
                        self.short_end = self.out.len();
                        self.short = words;
                        self.short_digits = letters == 0;
                    }
                    return match after {
                        Some((sep_end, newline, _)) => {
                            if newline {
                                self.newline();
                            } else {
                                self.space();
                            }
                            sep_end
                        }
                        None => i,
                    };
                }
            }
        }
    }

    #[inline(always)]
    fn space(&mut self) {
        if self.pending == 0 {
            self.pending = 1;
        }
    }

    #[inline(always)]
    fn newline(&mut self) {
        self.pending = 2;
    }
}

/// What an ASCII byte becomes: itself (lower-cased) when a letter or digit, else a separator.
const ASCII_SPACE: u8 = 0;
const ASCII_NEWLINE: u8 = 1;
static ASCII_FOLD: [u8; 128] = {
    let mut t = [ASCII_SPACE; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else if c == b'\n' {
            ASCII_NEWLINE
        } else {
            ASCII_SPACE
        };
        b += 1;
    }
    t
};

const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte lane of `word` set exactly when that byte is an ASCII letter or
/// digit. Each range test adds a per-lane constant to the 7-bit value, so no lane carries into
/// the next: `x + (0x80 - lo)` has its high bit set iff `x >= lo`, `x + (0x7F - hi)` iff
/// `x > hi`.
#[cfg(test)]
fn ascii_alnum_lanes(word: u64) -> u64 {
    ascii_lanes(word).0
}

/// [`ascii_alnum_lanes`] of `word`, and the same lanes for the ASCII letters alone.
#[inline(always)]
fn ascii_lanes(word: u64) -> (u64, u64) {
    let ascii = !word & HIGH_BITS;
    let x = word & !HIGH_BITS;
    let digit = x.wrapping_add(0x50 * LOW_BITS) & !x.wrapping_add(0x46 * LOW_BITS);
    let folded = x | (0x20 * LOW_BITS);
    let letter =
        ascii & folded.wrapping_add(0x1F * LOW_BITS) & !folded.wrapping_add(0x05 * LOW_BITS);
    ((ascii & digit) | letter, letter)
}

/// The eight bytes of `bytes` at `i` as a little-endian word, zeros past the end (a zero byte
/// is neither a letter nor a digit, so a run stops there).
#[inline(always)]
fn load8(bytes: &[u8], i: usize) -> u64 {
    match bytes
        .get(i..i + 8)
        .and_then(|c| <[u8; 8]>::try_from(c).ok())
    {
        Some(chunk) => u64::from_le_bytes(chunk),
        None => load8_tail(bytes, i),
    }
}

/// [`load8`] within eight bytes of the end.
#[cold]
#[inline(never)]
fn load8_tail(bytes: &[u8], i: usize) -> u64 {
    let mut word = [0u8; 8];
    for (w, &b) in word.iter_mut().zip(bytes.get(i..).unwrap_or_default()) {
        *w = b;
    }
    u64::from_le_bytes(word)
}

/// The high bit of each byte lane of `word` set exactly when that byte is a newline (an exact
/// zero-byte test of `word ^ '\n'`: no lane carries into the next).
#[inline(always)]
fn newline_lanes(word: u64) -> u64 {
    let t = word ^ (u64::from(b'\n') * LOW_BITS);
    !(((t & !HIGH_BITS).wrapping_add(!HIGH_BITS)) | t) & HIGH_BITS
}

/// The run of ASCII bytes that are neither letters nor digits starting at `i`: where it ends
/// and whether it holds a newline.
#[inline]
fn separator_run(bytes: &[u8], mut i: usize) -> (usize, bool) {
    let mut newline = false;
    while let Some(&c) = bytes.get(i) {
        if c >= 0x80 || c.is_ascii_alphanumeric() {
            break;
        }
        newline |= c == b'\n';
        i += 1;
    }
    (i, newline)
}

/// Fold an ASCII byte (the hot path of every Latin-script text).
#[inline(always)]
fn fold_ascii<O: OffsetSink, T: TokenSink>(b: u8, origin: usize, w: &mut Writer<'_, O, T>) {
    match ASCII_FOLD.get(b as usize).copied().unwrap_or(ASCII_SPACE) {
        ASCII_SPACE => w.space(),
        ASCII_NEWLINE => w.newline(),
        o => w.push_ascii(o, origin),
    }
}

/// Normalize `text` into `out`; true when the general path wrote some character that a second
/// pass might change (see [`stable_output`]), so the result may need that pass to be a
/// fixpoint.
fn run<O: OffsetSink, T: TokenSink>(
    text: &str,
    out: &mut Vec<u8>,
    offsets: &mut O,
    tokens: &mut T,
) -> bool {
    let t = table();
    let mut w = Writer::new(out, offsets, tokens);
    if let Some(risky) = run_composed(t, text, 0, &mut w) {
        w.finish();
        return risky;
    }
    // Not NFKC already: start again. The stretches of NFKC starters take the one-pass path
    // again; the segments (a starter and its following non-starters) around every other
    // character take the general one, segment by segment, so every output character maps to
    // the segment it came from.
    w.restart();
    let mut risky = false;
    let mut pos = 0;
    while let Some(odd) = next_odd(t, text, pos) {
        let (start, end) = segment_around(t, text, odd, pos);
        if start > pos {
            // Nothing the one-pass path refuses: it cannot fail here.
            risky |=
                run_composed(t, text.get(..start).unwrap_or_default(), pos, &mut w).unwrap_or(true);
        }
        risky |= run_segmented(t, text, start, end, &mut w);
        pos = end;
    }
    risky |= run_composed(t, text, pos, &mut w).unwrap_or(true);
    w.finish();
    risky
}

/// The combining class the one-pass path sees for a non-ASCII character: its canonical
/// combining class when it passes the NFKC quick check with Yes, else 255.
#[inline]
fn composed_class(t: &Table, c: char) -> u8 {
    match t.ccc.get(c as usize) {
        Some(&cc) => cc,
        None if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes => {
            canonical_combining_class(c)
        }
        None => 255,
    }
}

/// Where the first character at or after `pos` (a segment boundary) that the one-pass path
/// does not take is, if any: one that fails the NFKC quick check, or a mark out of canonical
/// order (e.g. an Arabic shadda typed before its fatha).
fn next_odd(t: &Table, text: &str, pos: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = pos;
    let mut last_class = 0u8;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            last_class = 0;
            i += 1;
            continue;
        }
        if let (0xC0..=0xDF, Some(&b1)) = (b, bytes.get(i + 1)) {
            let cp = two_byte_code(b, b1) as usize;
            if t.two_byte.get(cp).is_some_and(|&e| e != TWO_GENERAL) {
                last_class = 0;
                i += 2;
                continue;
            }
        }
        let c = text.get(i..)?.chars().next()?;
        let class = composed_class(t, c);
        if class == 255 || (class != 0 && last_class > class) {
            return Some(i);
        }
        last_class = class;
        i += c.len_utf8();
    }
    None
}

/// The segments around the character at `odd`: from the last starter at or before it (not
/// before `pos`, a segment boundary) to the next starter after it.
fn segment_around(t: &Table, text: &str, odd: usize, pos: usize) -> (usize, usize) {
    let before = text.get(pos..odd).unwrap_or_default();
    let mut start = odd;
    let at_odd = text.get(odd..).and_then(|r| r.chars().next());
    if at_odd.is_none_or(|c| t.combining_class(c) != 0) {
        // A non-starter: back to the starter it belongs to.
        start = pos;
        for (j, c) in before.char_indices().rev() {
            if t.combining_class(c) == 0 {
                start = pos + j;
                break;
            }
        }
    }
    let mut end = text.len();
    let after = odd + at_odd.map_or(0, char::len_utf8);
    for (j, c) in text.get(after..).unwrap_or_default().char_indices() {
        if t.combining_class(c) == 0 {
            end = after + j;
            break;
        }
    }
    (start, end)
}

/// The general path of [`run`] over `text[start..end]`, segment by segment (`end` is a
/// segment boundary: the end of the text or a starter); true when what it wrote may change in
/// a second pass (see [`stable_output`]).
fn run_segmented<O: OffsetSink, T: TokenSink>(
    t: &Table,
    text: &str,
    start: usize,
    end: usize,
    w: &mut Writer<'_, O, T>,
) -> bool {
    let mut risky = false;
    let span = text.get(start..end).unwrap_or_default();
    let mut seg_start = start;
    let mut iter = span.char_indices().peekable();
    while let Some((_, c)) = iter.next() {
        let next_is_starter = match iter.peek() {
            Some(&(_, n)) => t.combining_class(n) == 0,
            None => true,
        };
        if next_is_starter {
            let end = iter.peek().map_or(end, |&(j, _)| start + j);
            let single = end - seg_start == c.len_utf8();
            if single && c.is_ascii() {
                fold_ascii(c as u8, seg_start, w);
            } else if single && t.is_quick_yes(c) {
                risky |= fold_fast(t, c, seg_start, w);
            } else if let Some(seg) = text.get(seg_start..end) {
                let before = w.out.len();
                for d in seg.nfkc() {
                    fold_char(d, seg_start, w);
                }
                risky |= !stable_output(t, w.out.get(before..).unwrap_or_default());
            }
            seg_start = end;
        }
    }
    risky
}

/// Whether characters the general path wrote are all ones a second pass writes again as they
/// are: ASCII (lower-case letters, digits, separators), or NFKC quick-check-Yes starters of the
/// table that fold to themselves, which is what the table's own outputs are by construction.
/// Only a text with some other character written needs the second pass (see [`normalize`]).
fn stable_output(t: &Table, written: &[u8]) -> bool {
    std::str::from_utf8(written).is_ok_and(|s| {
        s.chars().all(|c| {
            c.is_ascii() || (t.map.get(c as usize) == Some(&c) && t.ccc.get(c as usize) == Some(&0))
        })
    })
}

/// One pass over a text that is already NFKC, which is almost every text: the table decides
/// each character. Returns None as soon as the NFKC quick check (UAX #15) fails, leaving the
/// output to be discarded; else whether some character took the general path.
#[inline]
fn run_composed<O: OffsetSink, T: TokenSink>(
    t: &Table,
    text: &str,
    start: usize,
    w: &mut Writer<'_, O, T>,
) -> Option<bool> {
    let bytes = text.as_bytes();
    let mut risky = false;
    let mut last_class = 0u8;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            // Runs of ASCII letters and digits and of separators (most of a Latin-script
            // text) in one go.
            last_class = 0;
            i = w.ascii_stretch(bytes, i);
            continue;
        }
        let c = match (b, bytes.get(i + 1)) {
            // Two-byte sequences decoded inline (the text is valid UTF-8).
            (0xC0..=0xDF, Some(&b1)) => {
                let cp = two_byte_code(b, b1);
                // Starters of the alphabetic scripts: one table entry says it all.
                match t.two_byte.get(cp as usize).copied().unwrap_or(TWO_GENERAL) {
                    TWO_GENERAL => {}
                    entry => {
                        match entry {
                            TWO_DROP => {}
                            TWO_SPACE => w.space(),
                            TWO_NEWLINE => w.newline(),
                            o if o < 0x80 => w.push_ascii(o as u8, i),
                            o if u32::from(o) == cp => {
                                // A letter that is its own fold (most of an Arabic, Cyrillic
                                // or Greek text): the run of such letters in one go.
                                let end = identity_run_end(t, bytes, i + 2);
                                w.push_two_byte_run(bytes.get(i..end).unwrap_or_default(), i);
                                last_class = 0;
                                i = end;
                                continue;
                            }
                            o => w.push_two_byte(o, i),
                        }
                        last_class = 0;
                        i += 2;
                        continue;
                    }
                }
                char::from_u32(cp)?
            }
            _ => text.get(i..).and_then(|rest| rest.chars().next())?,
        };
        let class = composed_class(t, c);
        if class != 255 && (class == 0 || last_class <= class) {
            last_class = class;
            risky |= fold_fast(t, c, i, w);
            i += c.len_utf8();
            continue;
        }
        // Not NFKC: fine here only when the character is a segment of its own (a starter
        // followed by a starter), e.g. a no-break space or an ellipsis; anything else (marks
        // out of canonical order, composing sequences) takes the segmented path.
        let next = i + c.len_utf8();
        let next_is_starter = text
            .get(next..)
            .and_then(|rest| rest.chars().next())
            .is_none_or(|n| t.combining_class(n) == 0);
        if canonical_combining_class(c) != 0 || !next_is_starter {
            return None;
        }
        risky |= fold_segment_of_one(t, c, i, w);
        last_class = 0;
        i = next;
    }
    Some(risky)
}

/// The code point of a two-byte UTF-8 sequence (lead byte C0–DF, then a continuation byte).
#[inline(always)]
fn two_byte_code(lead: u8, next: u8) -> u32 {
    (u32::from(lead & 0x1F) << 6) | u32::from(next & 0x3F)
}

/// Where the run of two-byte characters that are their own fold (in [`Table::two_byte`])
/// starting at `i` ends.
#[inline(always)]
fn identity_run_end(t: &Table, bytes: &[u8], mut i: usize) -> usize {
    while let Some(&[b0, b1]) = bytes.get(i..i + 2) {
        if b0 & 0xE0 != 0xC0 {
            break;
        }
        let cp = two_byte_code(b0, b1) as usize;
        if t.two_byte.get(cp).copied() != Some(cp as u16) {
            break;
        }
        i += 2;
    }
    i
}

/// Fold a character that is a normalization segment by itself but not NFKC: the table holds
/// its whole normalization when that is simple; true when it took the general path.
#[inline]
fn fold_segment_of_one<O: OffsetSink, T: TokenSink>(
    t: &Table,
    c: char,
    origin: usize,
    w: &mut Writer<'_, O, T>,
) -> bool {
    match t.map.get(c as usize).copied().unwrap_or(SLOW) {
        SLOW => {
            let before = w.out.len();
            for d in std::iter::once(c).nfkc() {
                fold_char(d, origin, w);
            }
            !stable_output(t, w.out.get(before..).unwrap_or_default())
        }
        marker => {
            apply(marker, origin, w);
            false
        }
    }
}

/// Apply a non-SLOW entry of [`Table::map`].
#[inline]
fn apply<O: OffsetSink, T: TokenSink>(entry: char, origin: usize, w: &mut Writer<'_, O, T>) {
    match entry {
        DROP => {}
        SPACE => w.space(),
        NEWLINE => w.newline(),
        o => w.push(o, origin),
    }
}

/// Markers in [`Table::map`]; none of them is ever an output character (controls become
/// spaces).
const DROP: char = '\u{0}';
const SPACE: char = '\u{1}';
const NEWLINE: char = '\u{2}';
const SLOW: char = '\u{3}';
/// The table covers U+0000–U+2FFF (Latin, Greek, Cyrillic, Arabic, Hebrew, Indic, general
/// punctuation, …); everything above takes the general path.
const TABLE_END: u32 = 0x3000;

/// Per-character results of [`fold_char`] for the code points below [`TABLE_END`], computed
/// once from the general path itself, so both paths agree by construction. For characters that
/// are not NFKC the entry is the folded NFKC of the character alone.
struct Table {
    map: Vec<char>,
    /// Canonical combining class of quick-check-Yes characters; 255 for the others.
    ccc: Vec<u8>,
    /// For U+0000..U+0800: the whole decision for NFKC starters whose entry in `map` is a
    /// marker or a character below U+0800 (the output code point, or `TWO_*`); `TWO_GENERAL`
    /// for the others.
    two_byte: Vec<u16>,
}

/// Markers of [`Table::two_byte`] (code points of controls, never an output character).
const TWO_DROP: u16 = 0;
const TWO_SPACE: u16 = 1;
const TWO_NEWLINE: u16 = 2;
const TWO_GENERAL: u16 = 3;

impl Table {
    /// Canonical combining class of any character (from the table when it holds it).
    #[inline]
    fn combining_class(&self, c: char) -> u8 {
        if c.is_ascii() {
            return 0;
        }
        match self.ccc.get(c as usize) {
            Some(&cc) if cc != 255 => cc,
            _ => canonical_combining_class(c),
        }
    }

    /// Whether a character is in the table and passes the NFKC quick check with Yes.
    #[inline]
    fn is_quick_yes(&self, c: char) -> bool {
        self.ccc.get(c as usize).is_some_and(|&cc| cc != 255)
    }
}

fn table() -> &'static Table {
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn build_table() -> Table {
    let mut map = vec![SLOW; TABLE_END as usize];
    // NFKC quick check Yes and combining class 0: safe as an output character.
    let mut safe = vec![false; TABLE_END as usize];
    let mut ccc = vec![255u8; TABLE_END as usize];
    for cp in 0..TABLE_END {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let yes = is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes;
        let class = canonical_combining_class(c);
        safe[cp as usize] = yes && class == 0;
        if yes && class != 255 {
            ccc[cp as usize] = class;
        }
        let mut out = Vec::new();
        let (mut no_offsets, mut no_tokens) = (NoOffsets, NoTokens);
        let mut w = Writer::new(&mut out, &mut no_offsets, &mut no_tokens);
        if yes {
            fold_char(c, 0, &mut w);
        } else {
            // Used only where the character is a segment of its own (see `run_composed`).
            for d in std::iter::once(c).nfkc() {
                fold_char(d, 0, &mut w);
            }
        }
        let pending = w.pending;
        let out = into_string(out);
        let mut chars = out.chars();
        map[cp as usize] = match (chars.next(), chars.next(), pending) {
            (None, _, 0) => DROP,
            (None, _, 1) => SPACE,
            (None, _, _) => NEWLINE,
            (Some(o), None, 0) => o,
            _ => SLOW,
        };
    }
    // An output must map to itself and be NFKC-safe, or the fast path could leave a text that
    // a second pass changes; send such characters down the general path instead.
    for cp in 0..TABLE_END as usize {
        let o = map[cp];
        if o > SLOW {
            let stable = map.get(o as usize).is_none_or(|&m| m == o)
                && safe.get(o as usize).copied().unwrap_or(true);
            if !stable {
                map[cp] = SLOW;
            }
        }
    }
    let two_byte = (0..0x800usize)
        .map(|cp| {
            if ccc.get(cp) != Some(&0) || cp == 'ß' as usize {
                return TWO_GENERAL;
            }
            match map.get(cp).copied().unwrap_or(SLOW) {
                DROP => TWO_DROP,
                SPACE => TWO_SPACE,
                NEWLINE => TWO_NEWLINE,
                o if o > SLOW && (o as u32) < 0x800 => o as u16,
                _ => TWO_GENERAL,
            }
        })
        .collect();
    Table { map, ccc, two_byte }
}

/// Fold one character of an NFKC text; true when it took the general path.
#[inline(always)]
fn fold_fast<O: OffsetSink, T: TokenSink>(
    t: &Table,
    c: char,
    origin: usize,
    w: &mut Writer<'_, O, T>,
) -> bool {
    if c.is_ascii() {
        fold_ascii(c as u8, origin, w);
        return false;
    }
    if c == 'ß' {
        w.push('s', origin);
        w.push('s', origin);
        return false;
    }
    match t.map.get(c as usize).copied().unwrap_or(SLOW) {
        DROP => false,
        SPACE => {
            w.space();
            false
        }
        NEWLINE => {
            w.newline();
            false
        }
        SLOW => {
            let before = w.out.len();
            fold_char(c, origin, w);
            !stable_output(t, w.out.get(before..).unwrap_or_default())
        }
        o => {
            w.push(o, origin);
            false
        }
    }
}

#[inline]
fn fold_char<O: OffsetSink, T: TokenSink>(c: char, origin: usize, w: &mut Writer<'_, O, T>) {
    if c.is_ascii() {
        fold_ascii(c as u8, origin, w);
        return;
    }
    match c {
        'ß' => {
            w.push('s', origin);
            w.push('s', origin);
            return;
        }
        'ς' => {
            w.push('σ', origin);
            return;
        }
        '\u{2028}' | '\u{2029}' | '\u{85}' => {
            w.newline();
            return;
        }
        _ => {}
    }
    if c.is_uppercase() || (!c.is_lowercase() && c.to_lowercase().next() != Some(c)) {
        for l in c.to_lowercase() {
            fold_lower(l, origin, w);
        }
    } else {
        fold_lower(c, origin, w);
    }
}

#[inline]
fn fold_lower<O: OffsetSink, T: TokenSink>(c: char, origin: usize, w: &mut Writer<'_, O, T>) {
    for (_, rule) in NORMALIZERS {
        if let Some(r) = rule(c) {
            if let Some(d) = r {
                w.push(d, origin);
            }
            return;
        }
    }
    if c.is_ascii() {
        // Only reachable from lower-casing (e.g. K → k).
        if c.is_ascii_alphanumeric() {
            w.push(c, origin);
        } else {
            w.space();
        }
    } else if c.is_alphanumeric() || is_combining_mark(c) {
        w.push(c, origin);
    } else {
        w.space();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output and offset map of the general path alone.
    fn segmented(text: &str) -> (Vec<u8>, Vec<u32>) {
        let (mut out, mut offsets, mut tokens) = (Vec::new(), Vec::new(), NoTokens);
        let mut w = Writer::new(&mut out, &mut offsets, &mut tokens);
        run_segmented(table(), text, 0, text.len(), &mut w);
        w.finish();
        (out, offsets)
    }

    /// The segment (a starter and its following non-starters) each recorded offset falls in,
    /// by its start: the general path maps a mark to its segment's starter, the one-pass path
    /// to the mark itself, and either points into the right segment.
    fn segments_of(text: &str, offsets: &[u32]) -> Vec<usize> {
        let t = table();
        let mut starts = vec![0];
        starts.extend(
            text.char_indices()
                .filter(|&(_, c)| t.combining_class(c) == 0)
                .map(|(i, _)| i),
        );
        offsets
            .iter()
            .map(|&o| {
                assert!(
                    text.is_char_boundary(o as usize),
                    "offset {o} inside a character"
                );
                starts[starts.partition_point(|&s| s <= o as usize) - 1]
            })
            .collect()
    }

    /// `run` writes what the general path alone writes, with offsets into the same segments.
    fn writes_what_the_general_path_writes(s: &str) {
        let (mut out, mut offsets) = (Vec::new(), Vec::new());
        run(s, &mut out, &mut offsets, &mut NoTokens);
        let (seg_out, seg_offsets) = segmented(s);
        assert_eq!(out, seg_out, "{s:?}");
        assert_eq!(
            segments_of(s, &offsets),
            segments_of(s, &seg_offsets),
            "{s:?}"
        );
    }

    proptest::proptest! {
        /// A text `run` calls safe is its own normalization: skipping the second pass for it
        /// loses nothing. Characters that take the general path are over-represented.
        #[test]
        fn a_text_not_marked_risky_is_a_fixpoint(
            s in "([a-zA-Z0-9 .\\n\u{00C0}-\u{017F}\u{0130}\u{0345}\u{0390}-\u{03CE}\u{1E9E}\u{1F80}-\u{1FBC}\u{2126}\u{212A}\u{212B}\u{2160}-\u{2170}\u{2460}-\u{2470}\u{3000}-\u{3020}\u{3131}-\u{3160}\u{3300}-\u{3310}\u{FB00}-\u{FB06}\u{FB50}-\u{FB60}\u{FDF0}-\u{FDFD}\u{FE70}-\u{FEFC}\u{FF01}-\u{FF5E}\u{0300}-\u{0315}\u{0600}-\u{065F}]|\u{0628}\u{0651}\u{064E}|e\u{0301}){0,50}"
        ) {
            let mut out = Vec::new();
            let risky = run(&s, &mut out, &mut NoOffsets, &mut NoTokens);
            if !risky {
                let text = String::from_utf8(out.clone()).unwrap();
                let mut again = Vec::new();
                run(&text, &mut again, &mut NoOffsets, &mut NoTokens);
                proptest::prop_assert_eq!(again, out);
            }
        }

        /// The one-pass path (two-byte table, runs of letters that are their own fold) writes
        /// what the general path writes, with offsets into the same segments, on NFKC text of
        /// the two-byte scripts.
        #[test]
        fn the_fast_paths_write_what_the_general_path_writes(
            s in "[a-zA-Z0-9 .,\\n\u{00C0}-\u{00FF}\u{0391}-\u{03C9}\u{0400}-\u{045F}\u{0600}-\u{06FF}\u{05D0}-\u{05EA}]{0,80}"
        ) {
            let s: String = s.nfkc().collect();
            writes_what_the_general_path_writes(&s);
        }

        /// Text that is not NFKC (marks out of order, decomposed letters, compatibility
        /// characters next to marks) takes the one-pass path between its odd segments and
        /// still writes what the general path writes over all of it.
        #[test]
        fn the_mixed_path_writes_what_the_general_path_writes(
            s in "([a-zA-Z0-9 .,\\n\u{00A0}\u{00C0}-\u{00FF}\u{0300}-\u{0315}\u{0391}-\u{03C9}\u{0400}-\u{045F}\u{0600}-\u{065F}\u{1E00}-\u{1E20}\u{2026}\u{FB01}\u{FE8D}-\u{FEFC}\u{3000}-\u{3010}\u{AC00}-\u{AC10}\u{1100}-\u{1112}\u{1161}-\u{1175}]|\u{0301}\u{0323}|e\u{0301}|\u{0628}\u{0651}\u{064E}|\u{064E}\u{0651}|\u{0316}\u{0315}){0,60}"
        ) {
            writes_what_the_general_path_writes(&s);
        }
    }

    #[test]
    fn ascii_lane_test_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            for lane in 0..8 {
                let lanes = ascii_alnum_lanes(u64::from(b) << (8 * lane));
                assert_eq!(
                    lanes & (0x80 << (8 * lane)) != 0,
                    b.is_ascii_alphanumeric(),
                    "byte {b:#x} in lane {lane}"
                );
            }
        }
        // Runs that end inside a step, at a step's end and past it, with offsets.
        for text in [
            "Hello, World 2026!",
            "abcdefgh ijklmnopqrs",
            "ABCDEFGHIJKLMNOP",
            "x",
        ] {
            let expected: String = text
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        ' '
                    }
                })
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let Normalized {
                text: normalized,
                offsets,
            } = normalize_with_offsets(text);
            assert_eq!(normalized, expected);
            for (k, b) in normalized.bytes().enumerate() {
                if b != b' ' {
                    let origin = offsets[k] as usize;
                    assert_eq!(
                        text.as_bytes()[origin].to_ascii_lowercase(),
                        b,
                        "{text} byte {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn folds_arabic_spelling_variants() {
        assert_eq!(normalize("أمريكا"), normalize("امريكا"));
        assert_eq!(normalize("إيران"), "ايران");
        assert_eq!(normalize("مدرسة"), "مدرسه");
        assert_eq!(normalize("على"), "علي");
        assert_eq!(normalize("ـمُحَمَّدٌ"), "محمد");
        assert_eq!(normalize("ی ک"), "ي ك");
    }

    #[test]
    fn digits_become_ascii_never_masked() {
        assert_eq!(normalize("٢٠١٥ ۱۲ ९"), "2015 12 9");
        assert_eq!(normalize("１２３"), "123");
    }

    #[test]
    fn punctuation_case_and_controls() {
        assert_eq!(normalize("  Hello,  World!! "), "hello world");
        assert_eq!(normalize("a\u{200B}b\u{200F}c"), "abc");
        assert_eq!(normalize("Straße"), "strasse");
        assert_eq!(normalize("one\n\n two"), "one\ntwo");
        assert_eq!(normalize("«قال»: نعم"), "قال نعم");
    }

    #[test]
    fn offsets_point_into_the_original() {
        let src = "Ab, «مُحَمَّد»";
        let n = normalize_with_offsets(src);
        assert_eq!(n.text, "ab محمد");
        assert_eq!(n.offsets.len(), n.text.len() + 1);
        let (s, _) = n.original_span(3, 5).unwrap();
        assert!(src[s..].starts_with('م'));
    }

    #[test]
    fn non_nfkc_input_is_composed() {
        assert_eq!(normalize("e\u{301}te\u{301}"), "été");
        assert_eq!(normalize("ﻻ"), "لا");
        assert_eq!(normalize("ﬁne"), "fine");
    }
}
