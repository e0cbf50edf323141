//! The multilingual phrase lexicon and stop-word lists, kept as data files (one per language, see
//! `README.md` next to this file) and compiled in with `include_str!`.
//!
//! Everything is folded with [`fold`] when loaded, and block text is folded the same way before it
//! is looked up, so `إقرأ أيضاً:` matches the entry `اقرأ أيضا` and `READ MORE` matches `read more`.

use std::collections::HashMap;
use std::sync::OnceLock;

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
    /// Folded stop word → bit mask of the languages that list it.
    stop: HashMap<String, u32>,
    /// Mask of the languages measured per character.
    pub char_langs: u32,
    whole: HashMap<String, Hit>,
    prefix: Vec<(String, Hit)>,
    contains: Vec<(String, Hit)>,
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
            stop: HashMap::new(),
            char_langs: 0,
            whole: HashMap::new(),
            prefix: Vec::new(),
            contains: Vec::new(),
        };
        for (bit, (lang, data)) in FILES.iter().enumerate() {
            lex.langs.push(lang);
            let mask = 1u32 << bit;
            if CHAR_LANGS.contains(lang) {
                lex.char_langs |= mask;
            }
            for line in data.lines() {
                if let Some(words) = line.strip_prefix("@stop") {
                    for w in words.split_whitespace() {
                        *lex.stop.entry(fold(w)).or_insert(0) |= mask;
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
                    "^" => lex.prefix.push((folded, mk(Mode::Prefix))),
                    "~" => lex.contains.push((folded, mk(Mode::Contains))),
                    _ => {}
                }
            }
        }
        // Longest prefix first, so `read more:` wins over `read`.
        lex.prefix.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        lex
    }

    /// Bit mask of the languages listing the folded token as a stop word (0 if none).
    pub fn stop_mask(&self, folded_token: &str) -> u32 {
        self.stop.get(folded_token).copied().unwrap_or(0)
    }

    /// Look a folded block up: whole-block phrases first, then prefixes, then (short blocks
    /// only) contained phrases.
    pub fn lookup(&self, folded: &str) -> Option<Hit> {
        let whole = trim_marks(folded);
        if let Some(hit) = self.whole.get(whole) {
            return Some(*hit);
        }
        for (p, hit) in &self.prefix {
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
        if folded.len() <= 400 {
            for (p, hit) in &self.contains {
                if folded.contains(p.as_str()) {
                    return Some(*hit);
                }
            }
        }
        None
    }
}

/// Phrases live as long as the process; the lexicon is loaded once, so this leaks a bounded,
/// fixed amount.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// Strip leading and trailing punctuation, symbols and spaces (`:`, `»`, `|`, `…`) from a folded
/// block, for whole-block matching.
pub fn trim_marks(s: &str) -> &str {
    s.trim_matches(|c: char| !c.is_alphanumeric())
}

/// Fold text for matching: lower case, Arabic letter variants unified (أ إ آ ٱ → ا, ى → ي,
/// ة → ه, Persian ی ک → ي ك), harakat, tatweel and format controls removed, whitespace collapsed
/// to single spaces.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.chars() {
        let mapped = match c {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' | 'ی' => 'ي',
            'ة' => 'ه',
            'ک' => 'ك',
            '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => continue,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}' => continue,
            '\u{00A0}' => ' ',
            _ => c,
        };
        if mapped.is_whitespace() {
            if !space {
                out.push(' ');
                space = true;
            }
            continue;
        }
        space = false;
        if mapped.is_uppercase() {
            out.extend(mapped.to_lowercase());
        } else {
            out.push(mapped);
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn stop_words_are_looked_up_folded() {
        let lex = lexicon();
        assert_ne!(lex.stop_mask("the"), 0);
        assert_ne!(lex.stop_mask(&fold("إلى")), 0);
        assert_eq!(lex.stop_mask("parliament"), 0);
    }
}
