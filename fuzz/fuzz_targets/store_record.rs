//! Fuzz the decoding of the engine's durable records (what a restart reads back from the
//! store, e.g. a damaged data directory): arbitrary bytes give a record or a typed error; a
//! record that decodes encodes again and decodes to itself; a key is 8 bytes or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::store::record::{doc_key, seq_of, DocRecord};

fuzz_target!(|data: &[u8]| {
    match DocRecord::decode(data) {
        Ok(rec) => {
            let bytes = rec.encode().expect("a decoded record encodes");
            assert_eq!(
                DocRecord::decode(&bytes).expect("its encoding decodes"),
                rec
            );
            let _ = rec.tombstone();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match seq_of(data) {
        Ok(seq) => {
            assert_eq!(data.len(), 8);
            assert_eq!(doc_key(seq), data);
        }
        Err(e) => {
            assert_ne!(data.len(), 8);
            let _ = e.to_string();
        }
    }
});
