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
    let mut out = String::with_capacity(text.len());
    let risky = run(text, &mut out, None);
    // A second pass is a no-op on almost every text; it makes idempotence hold for the rare
    // sequences where case folding un-normalizes (e.g. U+0130 → i + U+0307). Only texts that
    // left the table-driven path can need it.
    if risky && !is_fixpoint(&out) {
        let mut again = String::with_capacity(out.len());
        run(&out, &mut again, None);
        return again;
    }
    out
}

/// Normalize and keep the offset map to the original (see [`Normalized::offsets`]).
pub fn normalize_with_offsets(text: &str) -> Normalized {
    let mut out = String::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let risky = run(text, &mut out, Some(&mut offsets));
    if risky && !is_fixpoint(&out) {
        let mut again = String::with_capacity(out.len());
        let mut inner = Vec::with_capacity(out.len() + 1);
        run(&out, &mut again, Some(&mut inner));
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
            text: again,
            offsets: composed,
        };
    }
    offsets.push(text.len() as u32);
    Normalized { text: out, offsets }
}

fn is_fixpoint(out: &str) -> bool {
    out.is_ascii() || {
        let mut probe = String::with_capacity(out.len());
        run(out, &mut probe, None);
        probe == out
    }
}

/// Space/newline state of the writer.
struct Writer<'a> {
    out: &'a mut String,
    offsets: Option<&'a mut Vec<u32>>,
    /// 0 = nothing pending, 1 = a space pending, 2 = a newline pending.
    pending: u8,
}

impl Writer<'_> {
    #[inline]
    fn push(&mut self, c: char, origin: usize) {
        if self.pending != 0 && !self.out.is_empty() {
            let sep = if self.pending == 2 { '\n' } else { ' ' };
            self.out.push(sep);
            if let Some(o) = self.offsets.as_deref_mut() {
                o.push(origin as u32);
            }
        }
        self.pending = 0;
        self.out.push(c);
        if let Some(o) = self.offsets.as_deref_mut() {
            for _ in 0..c.len_utf8() {
                o.push(origin as u32);
            }
        }
    }

    #[inline]
    fn space(&mut self) {
        if self.pending == 0 {
            self.pending = 1;
        }
    }

    #[inline]
    fn newline(&mut self) {
        self.pending = 2;
    }
}

/// Normalize `text` into `out`; true when some character left the table-driven path (so the
/// result may need a second pass to be a fixpoint).
fn run(text: &str, out: &mut String, offsets: Option<&mut Vec<u32>>) -> bool {
    let mut w = Writer {
        out,
        offsets,
        pending: 0,
    };
    let t = table();
    let composed = text.is_ascii()
        || match t.quick_check(text) {
            Some(yes) => yes,
            None => is_nfkc_quick(text.chars()) == IsNormalized::Yes,
        };
    let mut risky = false;
    if composed {
        for (i, c) in text.char_indices() {
            risky |= fold_fast(t, c, i, &mut w);
        }
        return risky;
    }
    // Not NFKC already: normalize segment by segment (a starter and its following
    // non-starters), so every output character maps to the segment it came from.
    let mut seg_start = 0;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let _ = c;
        let next_is_starter = match iter.peek() {
            Some(&(_, n)) => canonical_combining_class(n) == 0,
            None => true,
        };
        if next_is_starter {
            let end = iter.peek().map_or(text.len(), |&(j, _)| j);
            let seg = &text[seg_start..end];
            for d in seg.nfkc() {
                fold_char(d, seg_start, &mut w);
            }
            seg_start = end;
        }
        let _ = i;
    }
    true
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
/// once from the general path itself, so both paths agree by construction.
struct Table {
    map: Vec<char>,
    /// Canonical combining class of quick-check-Yes characters; 255 for the others.
    ccc: Vec<u8>,
}

impl Table {
    /// The NFKC quick check (UAX #15) from the table: Some(true) = already NFKC,
    /// Some(false) = maybe not, None = a character outside the table.
    fn quick_check(&self, text: &str) -> Option<bool> {
        let mut last = 0u8;
        for c in text.chars() {
            if c.is_ascii() {
                last = 0;
                continue;
            }
            let cc = *self.ccc.get(c as usize)?;
            if cc == 255 || (cc != 0 && last > cc) {
                return Some(false);
            }
            last = cc;
        }
        Some(true)
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
        let mut out = String::new();
        let mut w = Writer {
            out: &mut out,
            offsets: None,
            pending: 0,
        };
        fold_char(c, 0, &mut w);
        let pending = w.pending;
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
    Table { map, ccc }
}

/// Fold one character of an NFKC text; true when it took the general path.
#[inline]
fn fold_fast(t: &Table, c: char, origin: usize, w: &mut Writer<'_>) -> bool {
    if c.is_ascii() {
        match c {
            'a'..='z' | '0'..='9' => w.push(c, origin),
            'A'..='Z' => w.push(c.to_ascii_lowercase(), origin),
            '\n' => w.newline(),
            _ => w.space(),
        }
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
            fold_char(c, origin, w);
            true
        }
        o => {
            w.push(o, origin);
            false
        }
    }
}

#[inline]
fn fold_char(c: char, origin: usize, w: &mut Writer<'_>) {
    if c.is_ascii() {
        match c {
            'a'..='z' | '0'..='9' => w.push(c, origin),
            'A'..='Z' => w.push(c.to_ascii_lowercase(), origin),
            '\n' => w.newline(),
            _ => w.space(),
        }
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
fn fold_lower(c: char, origin: usize, w: &mut Writer<'_>) {
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
