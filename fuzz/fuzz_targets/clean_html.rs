//! Fuzz the HTML path: arbitrary bytes (any charset, broken markup) must never panic, and every
//! removed span must lie inside the decoded block text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::boilerplate::{InputFormat, Stripper};
use neardup::document::Content;

fuzz_target!(|data: &[u8]| {
    let s = Stripper::new();
    if let Ok(c) = s.clean(&Content::Html(data.to_vec()), InputFormat::Auto, None) {
        for r in &c.removed {
            assert!(r.start < r.end && !r.kind.is_empty());
        }
    }
});
