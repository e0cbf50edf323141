//! Fuzz the JSONL input of the audit and of `neardup dedup`: arbitrary bytes framed into lines
//! by the audit's JSONL source and decoded (`Raw::decode`), and each line given to the `dedup`
//! line parser (`cli::dedup::parse_line`) directly. Nothing may panic; the source frames every
//! non-blank line and the two paths agree on which lines are documents.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::audit::source::{Decoded, DocumentSource, JsonlSource, SourceOptions};
use neardup::cli::dedup::parse_line;
use neardup::document::Content;

fuzz_target!(|data: &[u8]| {
    let opts = SourceOptions {
        max_item_bytes: 1024,
    };
    let reader = Box::new(std::io::Cursor::new(data.to_vec()));
    let mut source = JsonlSource::from_reader("fuzz", reader, &opts);
    let mut items = 0usize;
    while let Some(item) = source.next_raw() {
        items += 1;
        assert!(items <= data.len(), "more items than bytes");
        let raw = match item {
            Ok(raw) => raw,
            Err(e) => {
                assert!(e.origin.starts_with("fuzz:"));
                let _ = e.to_string();
                continue;
            }
        };
        assert!(raw.bytes.len() <= opts.max_item_bytes);
        assert!(!raw.bytes.iter().all(u8::is_ascii_whitespace));
        let line = std::str::from_utf8(&raw.bytes).ok().map(str::to_owned);
        let direct = line.as_deref().map(parse_line);
        match raw.decode() {
            Ok(Decoded::Doc(doc)) => {
                // Same line, same document as `neardup dedup` reads it.
                let Some(Ok(d)) = direct else {
                    panic!("the audit read a document the dedup parser refused")
                };
                assert_eq!(d.id, doc.id);
                assert_eq!(d.content_len(), doc.content_len());
                assert_eq!(d.published_at, doc.published_at);
                assert_eq!(
                    matches!(d.content, Content::Html(_)),
                    matches!(doc.content, Content::Html(_))
                );
            }
            Ok(Decoded::Skip(_)) => panic!("a JSON line is a document or an error"),
            Err(e) => {
                assert!(matches!(direct, None | Some(Err(_))));
                let _ = e.to_string();
            }
        }
    }
    // The dedup CLI's parser on the whole input as one line (it reads `lines()` of text).
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = parse_line(text) {
            let _ = e.to_string();
        }
    }
});
