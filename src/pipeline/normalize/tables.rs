//! Per-character rules of [`super::NORMALIZERS`].

/// Zero-width and bidi controls, soft hyphen: dropped.
pub(super) fn format_control(c: char) -> Option<Option<char>> {
    match c {
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
        | '\u{00AD}'
        | '\u{061C}'
        | '\u{180E}' => Some(None),
        _ => None,
    }
}

/// Arabic folding: marks and tatweel dropped, letter variants unified.
pub(super) fn arabic_fold(c: char) -> Option<Option<char>> {
    match c {
        // Harakat, superscript alef, Quranic annotation marks, tatweel.
        '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{0610}'..='\u{061A}'
        | '\u{06D6}'..='\u{06DC}'
        | '\u{06DF}'..='\u{06E8}'
        | '\u{06EA}'..='\u{06ED}'
        | '\u{0640}' => Some(None),
        // Alef with hamza above/below, madda, wasla → bare alef.
        '\u{0623}' | '\u{0625}' | '\u{0622}' | '\u{0671}' => Some(Some('\u{0627}')),
        // Alef maksura and Farsi yeh → yeh.
        '\u{0649}' | '\u{06CC}' => Some(Some('\u{064A}')),
        // Teh marbuta → heh.
        '\u{0629}' => Some(Some('\u{0647}')),
        // Keheh (Persian kaf) → kaf.
        '\u{06A9}' => Some(Some('\u{0643}')),
        _ => None,
    }
}

/// Zero of every block of ten decimal digits (general category Nd) outside ASCII. NFKC already
/// maps full-width and mathematical digits to ASCII, so they are not listed.
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950, 0x1FBF0,
];

/// Any non-ASCII decimal digit → its ASCII digit.
pub(super) fn decimal_digit(c: char) -> Option<Option<char>> {
    let cp = c as u32;
    if cp < 0x0660 {
        return None;
    }
    // The table is sorted; find the last zero ≤ cp.
    let idx = DIGIT_ZEROS.partition_point(|&z| z <= cp);
    let zero = *DIGIT_ZEROS.get(idx.checked_sub(1)?)?;
    let d = cp - zero;
    if d < 10 {
        char::from_digit(d, 10).map(Some)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_table_is_sorted_and_every_entry_is_a_digit_zero() {
        assert!(DIGIT_ZEROS.windows(2).all(|w| w[0] < w[1]));
        for &z in DIGIT_ZEROS {
            let c = char::from_u32(z).unwrap();
            assert!(c.is_numeric(), "{z:x} is not numeric");
            assert_eq!(decimal_digit(c), Some(Some('0')));
        }
        assert_eq!(decimal_digit('٩'), Some(Some('9')));
        assert_eq!(decimal_digit('ب'), None);
    }
}
