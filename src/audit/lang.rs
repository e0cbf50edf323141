//! A cheap language guess for the audit's per-language counts — not a language identifier.
//!
//! It looks at the first [`SAMPLE_CHARS`] letters of the clean text and takes the script most
//! letters belong to:
//!
//! - Arabic script → `fa` when Persian-only letters (پ چ ژ گ ک ی) make up at least 2 % of the
//!   Arabic letters, else `ar` (Urdu, Pashto, … are counted as `fa`/`ar`).
//! - Latin script → the language whose short list of very frequent function words (about ten
//!   each: English, German, French, Spanish, Portuguese, Italian, Dutch) matches most words,
//!   if it matches at least 5 % of them; otherwise `Latn`.
//! - Cyrillic → `ru` / `uk` (Ukrainian letters і ї є ґ) ; Greek → `el`; Hebrew → `he`;
//!   Devanagari → `hi`; Thai → `th`; Hangul → `ko`; Kana → `ja`; Han without Kana → `zh`.
//! - No letters → `und`.
//!
//! Good enough to split a news corpus by language family; wrong on short or mixed texts.

/// Letters sampled from the start of a text.
pub const SAMPLE_CHARS: usize = 1_000;

/// Bytes of text looked at, at most (keeps the guess cheap on long documents).
pub const SAMPLE_BYTES: usize = 4_000;

/// The first `max` bytes of `text`, cut at a character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Arabic,
    Cyrillic,
    Greek,
    Hebrew,
    Devanagari,
    Thai,
    Hangul,
    Kana,
    Han,
}

const SCRIPTS: [Script; 10] = [
    Script::Latin,
    Script::Arabic,
    Script::Cyrillic,
    Script::Greek,
    Script::Hebrew,
    Script::Devanagari,
    Script::Thai,
    Script::Hangul,
    Script::Kana,
    Script::Han,
];

fn script_of(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        // Arabic letters only (no digits, punctuation, harakat or Quranic marks).
        0x620..=0x64A
        | 0x66E..=0x66F
        | 0x671..=0x6D3
        | 0x6D5
        | 0x6EE..=0x6EF
        | 0x6FA..=0x6FC
        | 0x6FF
        | 0x750..=0x77F
        | 0x8A0..=0x8C9
        | 0xFB50..=0xFDFB
        | 0xFE70..=0xFEFC => Script::Arabic,
        0x400..=0x52F => Script::Cyrillic,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x590..=0x5FF => Script::Hebrew,
        0x900..=0x97F => Script::Devanagari,
        0xE00..=0xE7F => Script::Thai,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x3040..=0x30FF => Script::Kana,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF => Script::Han,
        _ => return None,
    })
}

/// Function words per Latin-script language (lower case).
const LATIN: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "of", "to", "in", "is", "that", "for", "was", "with", "he", "it",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "und", "das", "ist", "nicht", "mit", "den", "sich", "auf", "ein", "eine",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "et", "des", "est", "une", "du", "dans", "pour", "qui", "pas",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "y", "que", "del", "por", "una", "con", "para", "se", "es",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "e", "do", "da", "em", "um", "uma", "não", "para", "com",
        ],
    ),
    (
        "it",
        &[
            "il", "di", "che", "non", "per", "un", "della", "sono", "gli", "con", "è", "nel",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "van", "is", "dat", "niet", "op", "zijn", "met", "voor",
        ],
    ),
];

/// Guess the language of a text (see the module doc for what this does and does not do).
pub fn guess(text: &str) -> &'static str {
    let text = head(text, SAMPLE_BYTES);
    let mut counts = [0usize; SCRIPTS.len()];
    let mut persian = 0usize;
    let mut ukrainian = 0usize;
    let mut letters = 0usize;
    for c in text.chars() {
        if letters >= SAMPLE_CHARS {
            break;
        }
        let Some(s) = script_of(c) else { continue };
        letters += 1;
        if let Some(i) = SCRIPTS.iter().position(|x| *x == s) {
            counts[i] += 1;
        }
        match c {
            'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => persian += 1,
            'і' | 'ї' | 'є' | 'ґ' => ukrainian += 1,
            _ => {}
        }
    }
    let Some((best, &n)) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, usize::MAX - i))
    else {
        return "und";
    };
    if n == 0 {
        return "und";
    }
    match SCRIPTS[best] {
        Script::Arabic => {
            if persian * 50 >= n {
                "fa"
            } else {
                "ar"
            }
        }
        Script::Latin => latin_language(text),
        Script::Cyrillic => {
            if ukrainian * 100 >= n {
                "uk"
            } else {
                "ru"
            }
        }
        Script::Greek => "el",
        Script::Hebrew => "he",
        Script::Devanagari => "hi",
        Script::Thai => "th",
        Script::Hangul => "ko",
        Script::Kana => "ja",
        Script::Han => {
            let kana = counts[SCRIPTS.iter().position(|s| *s == Script::Kana).unwrap_or(0)];
            if kana > 0 {
                "ja"
            } else {
                "zh"
            }
        }
    }
}

fn latin_language(text: &str) -> &'static str {
    let mut hits = [0usize; LATIN.len()];
    let mut words = 0usize;
    let mut lower = String::new();
    for word in text
        .split(|c: char| script_of(c) != Some(Script::Latin))
        .filter(|w| !w.is_empty())
        .take(SAMPLE_CHARS / 5)
    {
        words += 1;
        if word.len() > 5 {
            continue; // every listed word is short
        }
        lower.clear();
        lower.extend(word.chars().flat_map(char::to_lowercase));
        for (i, (_, list)) in LATIN.iter().enumerate() {
            if list.contains(&lower.as_str()) {
                hits[i] += 1;
            }
        }
    }
    match hits
        .iter()
        .enumerate()
        .max_by_key(|(i, h)| (**h, usize::MAX - i))
    {
        Some((i, &h)) if h > 0 && h * 20 >= words => LATIN[i].0,
        _ => "Latn",
    }
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn guesses_table() {
        let cases = [
            (
                "The minister said that the talks in the capital were useful.",
                "en",
            ),
            (
                "Der Minister sagte, dass die Gespräche mit der Regierung nicht einfach sind.",
                "de",
            ),
            (
                "Le ministre a dit que les discussions dans la capitale sont utiles pour la paix.",
                "fr",
            ),
            ("قال الوزير إن المحادثات في العاصمة كانت مفيدة", "ar"),
            (
                "وزیر گفت که گفتگوها در پایتخت مفید بود و چیزی تغییر نکرد",
                "fa",
            ),
            ("Министр сказал, что переговоры были полезными.", "ru"),
            ("東京で会議が開かれました。", "ja"),
            ("部长说首都的会谈很有用", "zh"),
            ("12345 !!! ---", "und"),
            ("", "und"),
            ("Xyzzy plugh qwerty", "Latn"),
        ];
        for (text, want) in cases {
            assert_eq!(guess(text), want, "{text}");
        }
    }
}
