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
pub const SAMPLE_CHARS: usize = 800;

/// Bytes of text looked at, at most (keeps the guess cheap on long documents).
pub const SAMPLE_BYTES: usize = 1_600;

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

/// Scripts, in the order of [`SCRIPTS`] (the discriminant is the index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
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
    script_of_code(c as u32)
}

const fn script_of_code(u: u32) -> Option<Script> {
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

/// What [`guess`] counts a character as: 0 = not a letter, `1 + script` for a letter of a
/// script, [`PERSIAN`] and [`UKRAINIAN`] for the letters that are also counted apart.
const fn class_of_code(u: u32) -> u8 {
    match u {
        // پ چ ژ گ ک ی
        0x67E | 0x686 | 0x698 | 0x6AF | 0x6A9 | 0x6CC => PERSIAN,
        // і ї є ґ
        0x456 | 0x457 | 0x454 | 0x491 => UKRAINIAN,
        _ => match script_of_code(u) {
            Some(s) => 1 + s as u8,
            None => 0,
        },
    }
}

/// Class of the Persian-only Arabic letters.
const PERSIAN: u8 = 1 + SCRIPTS.len() as u8;
/// Class of the Ukrainian-only Cyrillic letters.
const UKRAINIAN: u8 = PERSIAN + 1;
/// Number of classes.
const CLASSES: usize = UKRAINIAN as usize + 1;

/// The class of every code point below U+0800 (one or two UTF-8 bytes), which holds every
/// Persian- and Ukrainian-only letter: characters from U+0800 on are classed by script alone.
static SHORT_CLASSES: [u8; 0x800] = {
    let mut t = [0u8; 0x800];
    let mut u = 0;
    while u < 0x800 {
        t[u] = class_of_code(u as u32);
        u += 1;
    }
    t
};

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
    let (counts, persian, ukrainian) = letter_counts(text);
    label(&counts, persian, ukrainian, || latin_language(text))
}

/// The letters of the first [`SAMPLE_CHARS`] per script, and among them the Persian-only and
/// the Ukrainian-only ones.
fn letter_counts(text: &str) -> ([usize; SCRIPTS.len()], usize, usize) {
    // Letters per class (see `class_of_code`); index 0 counts the other characters.
    let mut classes = [0usize; CLASSES];
    let mut letters = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while letters < SAMPLE_CHARS {
        let Some(&b) = bytes.get(i) else { break };
        let class = if b < 0x80 {
            // Eight ASCII bytes at once while they cannot reach the sample's end.
            if let Some(&chunk) = bytes
                .get(i..i + 8)
                .and_then(|c| <&[u8; 8]>::try_from(c).ok())
            {
                let word = u64::from_le_bytes(chunk);
                if word & 0x8080_8080_8080_8080 == 0 {
                    let n = ascii_letters(word);
                    if letters + n < SAMPLE_CHARS {
                        letters += n;
                        classes[1 + Script::Latin as usize] += n;
                        i += 8;
                        continue;
                    }
                }
            }
            i += 1;
            SHORT_CLASSES[usize::from(b)]
        } else if b < 0xE0 {
            // Two bytes (the text is UTF-8: a lead byte here is followed by one more).
            let next = bytes.get(i + 1).copied().unwrap_or(0);
            i += 2;
            let class = SHORT_CLASSES[usize::from(b & 0x1F) << 6 | usize::from(next & 0x3F)];
            if class == 1 + Script::Arabic as u8 {
                // The rest of a run of common Arabic letters (U+0620–U+064A, none of them
                // Persian-only), counted in a register while it cannot reach the sample's end.
                // In UTF-8 they are exactly the byte pairs from D8 A0 to D9 8A read as one
                // big-endian number (no second byte lies outside 80–BF): one comparison, where
                // testing the lead bytes apart mispredicts on about every other letter.
                let mut run = 1;
                while letters + run < SAMPLE_CHARS {
                    let Some(&pair) = bytes
                        .get(i..i + 2)
                        .and_then(|p| <&[u8; 2]>::try_from(p).ok())
                    else {
                        break;
                    };
                    if u16::from_be_bytes(pair).wrapping_sub(0xD8A0) > 0xD98A - 0xD8A0 {
                        break;
                    }
                    run += 1;
                    i += 2;
                }
                classes[usize::from(class)] += run;
                letters += run;
                continue;
            }
            class
        } else {
            let Some(c) = text.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            i += c.len_utf8();
            class_of_code(c as u32)
        };
        classes[usize::from(class)] += 1;
        letters += usize::from(class != 0);
    }
    let mut counts = [0usize; SCRIPTS.len()];
    for (n, c) in counts.iter_mut().zip(&classes[1..]) {
        *n = *c;
    }
    let persian = classes[usize::from(PERSIAN)];
    let ukrainian = classes[usize::from(UKRAINIAN)];
    counts[Script::Arabic as usize] += persian;
    counts[Script::Cyrillic as usize] += ukrainian;
    (counts, persian, ukrainian)
}

/// ASCII letters among eight ASCII bytes (every byte below 0x80): a byte is a letter when,
/// with the case bit set, it lies in `a..=z`; both bounds are tested on all bytes at once
/// (no byte overflows: each stays below 0x80 + 0x1F).
fn ascii_letters(word: u64) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let lower = word | (0x20 * ONES);
    let at_least_a = lower + (0x80 - u64::from(b'a')) * ONES;
    let above_z = lower + (0x80 - u64::from(b'z') - 1) * ONES;
    ((at_least_a & !above_z) & (0x80 * ONES)).count_ones() as usize
}

/// The label from the letters counted per script (with the Persian-only and Ukrainian-only
/// letters among them); `latin` tells the language of a Latin-script text.
fn label(
    counts: &[usize; SCRIPTS.len()],
    persian: usize,
    ukrainian: usize,
    latin: impl FnOnce() -> &'static str,
) -> &'static str {
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
        Script::Latin => latin(),
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
            if counts[Script::Kana as usize] > 0 {
                "ja"
            } else {
                "zh"
            }
        }
    }
}

// One bit per Latin-script language in the word table.
const _: () = assert!(LATIN.len() <= 8);

/// A word of at most 8 bytes as an integer (its bytes, zero-padded; words hold no zero
/// byte), None when longer.
fn packed(word: &[u8]) -> Option<u64> {
    if word.len() > 8 {
        return None;
    }
    let mut b = [0u8; 8];
    b[..word.len()].copy_from_slice(word);
    Some(u64::from_le_bytes(b))
}

/// Slots of [`WordTable`] (a power of two, well above the number of listed words).
const WORD_SLOTS: usize = 256;

/// Every listed function word ([`packed`]) with the set of languages (bit `i` = `LATIN[i]`)
/// listing it, in an open-addressing table (key 0 = empty).
struct WordTable {
    slots: [(u64, u8); WORD_SLOTS],
}

impl WordTable {
    fn slot(key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % WORD_SLOTS
    }

    fn get() -> &'static WordTable {
        static TABLE: std::sync::OnceLock<WordTable> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| {
            let mut t = WordTable {
                slots: [(0, 0); WORD_SLOTS],
            };
            for (i, (_, list)) in LATIN.iter().enumerate() {
                for key in list.iter().filter_map(|w| packed(w.as_bytes())) {
                    let mut s = Self::slot(key);
                    while t.slots[s].0 != 0 && t.slots[s].0 != key {
                        s = (s + 1) % WORD_SLOTS;
                    }
                    t.slots[s].0 = key;
                    t.slots[s].1 |= 1 << i;
                }
            }
            t
        })
    }

    /// The languages listing the packed word.
    fn languages(&self, key: u64) -> u8 {
        let mut s = Self::slot(key);
        loop {
            match self.slots[s] {
                (0, _) => return 0,
                (k, mask) if k == key => return mask,
                _ => s = (s + 1) % WORD_SLOTS,
            }
        }
    }
}

fn is_latin(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        script_of(c) == Some(Script::Latin)
    }
}

/// A set of languages (bit `i` = `LATIN[i]`) as one count per byte, `LATIN[i]`'s in byte
/// `i`, so adding it to a packed tally counts a hit for each at once.
fn spread(mask: u8) -> u64 {
    let mut x = u64::from(mask);
    x = (x | x << 28) & 0x0000_000F_0000_000F;
    x = (x | x << 14) & 0x0003_0003_0003_0003;
    (x | x << 7) & 0x0101_0101_0101_0101
}

// Packed tallies hold a count per byte: the words looked at must fit in one.
const _: () = assert!(SAMPLE_CHARS / 5 < 256);

fn is_latin_at(text: &str, i: usize) -> (bool, usize) {
    text.get(i..)
        .and_then(|t| t.chars().next())
        .map_or((false, 1), |c| (is_latin(c), c.len_utf8()))
}

fn latin_language(text: &str) -> &'static str {
    let table = WordTable::get();
    let bytes = text.as_bytes();
    let n = bytes.len();
    // Hits per language, one byte each (see `spread`).
    let mut packed_hits = 0u64;
    let mut words = 0usize;
    let mut lower = String::new();
    let mut i = 0;
    // Words are the runs of Latin letters.
    while words < SAMPLE_CHARS / 5 && i < n {
        let b = bytes[i];
        if b < 0x80 {
            if !b.is_ascii_alphabetic() {
                i += 1;
                continue;
            }
        } else {
            let (latin, width) = is_latin_at(text, i);
            if !latin {
                i += width;
                continue;
            }
        }
        let s = i;
        let mut ascii = true;
        loop {
            while i < n && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            if i < n && bytes[i] >= 0x80 {
                let (latin, width) = is_latin_at(text, i);
                if latin {
                    ascii = false;
                    i += width;
                    continue;
                }
            }
            break;
        }
        words += 1;
        // Every listed word is short.
        if i - s <= 5 {
            let mask = if ascii {
                let key = bytes[s..i]
                    .iter()
                    .rev()
                    .fold(0u64, |k, &c| k << 8 | u64::from(c.to_ascii_lowercase()));
                table.languages(key)
            } else {
                lower.clear();
                lower.extend(text[s..i].chars().flat_map(char::to_lowercase));
                packed(lower.as_bytes()).map_or(0, |k| table.languages(k))
            };
            packed_hits += spread(mask);
        }
    }
    let mut hits = [0usize; LATIN.len()];
    for (l, h) in hits.iter_mut().enumerate() {
        *h = (packed_hits >> (8 * l) & 0xFF) as usize;
    }
    best_latin(&hits, words)
}

/// The language with the most function-word hits (the first listed on a tie), if they make up
/// 5 % of the words.
fn best_latin(hits: &[usize; LATIN.len()], words: usize) -> &'static str {
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
    use super::*;

    /// The plain definition of the guess: every character looked up, every word compared
    /// with every list.
    fn reference(text: &str) -> &'static str {
        let text = head(text, SAMPLE_BYTES);
        let (counts, persian, ukrainian) = reference_counts(text);
        label(&counts, persian, ukrainian, || {
            let mut hits = [0usize; LATIN.len()];
            let mut words = 0usize;
            for word in text
                .split(|c: char| script_of(c) != Some(Script::Latin))
                .filter(|w| !w.is_empty())
                .take(SAMPLE_CHARS / 5)
            {
                words += 1;
                if word.len() > 5 {
                    continue;
                }
                let lower: String = word.chars().flat_map(char::to_lowercase).collect();
                for (i, (_, list)) in LATIN.iter().enumerate() {
                    if list.contains(&lower.as_str()) {
                        hits[i] += 1;
                    }
                }
            }
            best_latin(&hits, words)
        })
    }

    /// The plain definition of the letter counts: every character looked up.
    fn reference_counts(text: &str) -> ([usize; SCRIPTS.len()], usize, usize) {
        let mut counts = [0usize; SCRIPTS.len()];
        let (mut persian, mut ukrainian, mut letters) = (0usize, 0usize, 0usize);
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
        (counts, persian, ukrainian)
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// The guess equals the plain definition on mixed-script text with listed words.
        #[test]
        fn same_as_the_plain_definition(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "the", "The", "DER", "und", "les", "Não", "NÃO", "è", "È", "de", "het",
                        "el", "Es", "o", "İ", "ǅ", "eine", "qui", "uma", "della",
                    ]).prop_map(str::to_string),
                    proptest::string::string_regex("[a-zA-Zé]{1,9}").unwrap(),
                    proptest::string::string_regex("[а-яі]{1,6}|[ا-يپ]{1,6}|[α-ω]{1,5}|[ぁ-ん一-龥]{1,4}").unwrap(),
                    proptest::string::string_regex("[0-9 ,.!-]{1,4}").unwrap(),
                ],
                0..400,
            )
        ) {
            let text = words.join(" ");
            proptest::prop_assert_eq!(guess(&text), reference(&text), "{}", text);
        }
    }

    proptest::proptest! {
        /// The guess equals the plain definition on any characters: one, two, three and four
        /// UTF-8 bytes, Persian- and Ukrainian-only letters, letters of every script.
        #[test]
        fn same_as_the_plain_definition_on_any_characters(
            text in proptest::string::string_regex(
                "([\\x00-\\x7F]|[\\u{80}-\\u{7FF}]|[\\u{800}-\\u{FFFF}]|[\\u{10000}-\\u{10FFFF}]|[پچژگکیіїєґ]|[\\u{61F}-\\u{621}\\u{649}-\\u{64C}]|[ا-ي]{1,8}|[a-z]{1,8}){0,900}"
            ).unwrap()
        ) {
            proptest::prop_assert_eq!(guess(&text), reference(&text), "{}", text);
            let text = head(&text, SAMPLE_BYTES);
            proptest::prop_assert_eq!(letter_counts(text), reference_counts(text), "{}", text);
        }
    }

    #[test]
    fn short_classes_follow_the_scripts() {
        for u in 0..0x800u32 {
            let Some(c) = char::from_u32(u) else { continue };
            let want = match c {
                'پ' | 'چ' | 'ژ' | 'گ' | 'ک' | 'ی' => PERSIAN,
                'і' | 'ї' | 'є' | 'ґ' => UKRAINIAN,
                _ => script_of(c).map_or(0, |s| 1 + s as u8),
            };
            assert_eq!(SHORT_CLASSES[u as usize], want, "{u:#x}");
        }
    }

    #[test]
    fn only_the_first_words_are_looked_at() {
        let head = "xyzzy ".repeat(SAMPLE_CHARS / 5);
        assert_eq!(
            guess(&format!("{head}{}", "the and of ".repeat(20))),
            "Latn"
        );
        let head = "xyzzy ".repeat(SAMPLE_CHARS / 5 - 20);
        assert_eq!(guess(&format!("{head}{}", "the and of ".repeat(20))), "en");
    }

    #[test]
    fn spread_puts_each_language_bit_in_its_byte() {
        for mask in 0..=255u8 {
            let want = (0..8).fold(0u64, |x, l| x | u64::from(mask >> l & 1) << (8 * l));
            assert_eq!(spread(mask), want, "{mask:#b}");
        }
    }

    #[test]
    fn ascii_letters_counts_every_byte_value() {
        for b in 0u8..0x80 {
            for pos in 0..8 {
                let mut bytes = [b'1'; 8];
                bytes[pos] = b;
                let want = usize::from(b.is_ascii_alphabetic());
                assert_eq!(
                    ascii_letters(u64::from_le_bytes(bytes)),
                    want,
                    "{b:#x} at {pos}"
                );
            }
        }
        assert_eq!(ascii_letters(u64::from_le_bytes(*b"aZ z@[`{")), 3);
    }

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
