//! Fuzz the WARC reader of the audit: arbitrary bytes (plain, or gzip when they start with the
//! gzip magic, as `neardup audit` opens a file) are framed record by record and every record is
//! decoded. Nothing may panic; every failure is a typed error naming where it happened; the
//! reader ends (a bounded number of records for a bounded input).
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::audit::source::{maybe_gzip, Decoded, DocumentSource, SourceOptions};
use neardup::audit::warc::WarcSource;

fuzz_target!(|data: &[u8]| {
    // A small item limit so the "record too large" path is reachable with small inputs.
    let opts = SourceOptions {
        max_item_bytes: 4096,
    };
    let Ok(reader) = maybe_gzip(std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    let mut source = WarcSource::from_reader("fuzz", Box::new(reader), &opts);
    // Every record takes at least one header line of the (decompressed) input: for plain
    // input, a bound far above any real count.
    let plain = !data.starts_with(&[0x1f, 0x8b]);
    let mut items = 0usize;
    while let Some(item) = source.next_raw() {
        items += 1;
        assert!(!plain || items <= data.len() + 1, "the reader does not end");
        let raw = match item {
            Ok(raw) => raw,
            Err(e) => {
                assert!(e.origin.starts_with("fuzz#record "));
                let _ = e.to_string();
                continue;
            }
        };
        assert!(raw.bytes.len() <= opts.max_item_bytes);
        match raw.decode() {
            Ok(Decoded::Doc(doc)) => {
                assert!(!doc.id.is_empty());
                if let Some(host) = &doc.source {
                    assert!(!host.is_empty() && *host == host.to_ascii_lowercase());
                }
                let _ = doc.content_len();
            }
            Ok(Decoded::Skip(reason)) => assert!(!reason.is_empty()),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    assert!(
        source.next_raw().is_none(),
        "None once at the end, then again"
    );
});
