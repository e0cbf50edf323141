//! Fuzz the text path: any text must never panic; the clean text is made of input words only
//! (stripping never adds text) and every removed span lies inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::boilerplate::{InputFormat, Stripper};
use neardup::document::Content;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let s = Stripper::new();
    let c = s
        .clean(
            &Content::Text(text.clone()),
            InputFormat::Text,
            Some("fuzz"),
        )
        .expect("text input within limits never fails");
    assert!(c.text.len() <= text.len());
    // Kept blocks are input lines, hard-wrapped prose reflowed (its line breaks become single
    // spaces): every word of the clean text is in the input.
    for word in c.text.split_whitespace() {
        assert!(text.contains(word));
    }
    for r in &c.removed {
        assert!(r.start < r.end && r.end <= text.len() && !r.kind.is_empty());
    }
    s.learn(Some("fuzz"), &c.line_keys, "story");
});
