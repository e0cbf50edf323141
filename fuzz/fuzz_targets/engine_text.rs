//! Fuzz the detection core on arbitrary text: the same text checked twice in one namespace
//! (under two ids) must come back a duplicate of the first the second time — the engine keys
//! every document by its normalized clean text, or by its whole input when nothing is left
//! (`pipeline::stripped_exact_hash`), so an identical input always meets its exact-tier
//! candidate. Also the normalizer's invariants: idempotence, the offset map agreeing with the
//! plain form, and the token path producing the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::boilerplate::InputFormat;
use neardup::document::{Content, Document};
use neardup::engine::{CheckOptions, Engine};
use neardup::pipeline::normalize::{normalize, normalize_tokens, normalize_with_offsets, NoTokens};

fn doc(id: &str, text: &str) -> Document {
    Document {
        id: id.to_string(),
        content: Content::Text(text.to_string()),
        source: Some("fuzz.example".to_string()),
        url: None,
        published_at: Some(1_700_000_000),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    // Normalization.
    let n = normalize(&text);
    assert_eq!(normalize(&n), n, "normalize is not idempotent");
    let with = normalize_with_offsets(&text);
    assert_eq!(with.text, n);
    assert_eq!(with.offsets.len(), n.len() + 1);
    assert!(with.offsets.iter().all(|&o| o as usize <= text.len()));
    assert_eq!(normalize_tokens(&text, &mut NoTokens), n.as_bytes());

    // Two checks of one text.
    let engine = Engine::in_memory();
    let opts = CheckOptions {
        format: InputFormat::Text,
        ..CheckOptions::default()
    };
    let first = engine
        .check("fuzz", doc("a", &text), &opts)
        .expect("a text document with an id is always checked");
    assert!(first.inserted);
    assert_eq!(
        first.duplicate_of, None,
        "the first document of a namespace"
    );
    assert!(first.cleaned.text.len() <= text.len());
    let second = engine
        .check("fuzz", doc("b", &text), &opts)
        .expect("a text document with an id is always checked");
    assert_eq!(second.cleaned.text, first.cleaned.text);
    assert_eq!(
        second.duplicate_of.as_deref(),
        Some("a"),
        "an identical text is not flagged (clean text {:?})",
        first.cleaned.text
    );
    assert_eq!(second.cluster_id, "a");
    // The same document again (a retry) keeps its verdict.
    let retry = engine
        .check("fuzz", doc("b", &text), &opts)
        .expect("a retry is answered");
    assert_eq!(retry.duplicate_of.as_deref(), Some("a"));
    assert!(!retry.inserted);
});
