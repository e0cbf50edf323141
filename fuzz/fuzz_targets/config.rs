//! Fuzz the server's TOML config file parser and its validation: arbitrary text gives a config
//! or a typed error (naming the file), never a panic; a valid config obeys its own rules.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::config::{parse_durability, RawConfig};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RawConfig::parse(text, "fuzz.toml").and_then(RawConfig::validate) {
        Ok(config) => {
            let l = config.limits;
            assert!(l.max_message_bytes > 0 && l.max_document_bytes > 0);
            assert!(l.max_document_bytes <= l.max_message_bytes);
            assert!(l.max_id_bytes > 0 && l.max_namespace_bytes > 0);
            assert!(!config.request_timeout.is_zero());
            if config.listen.port() != 0 {
                assert_ne!(config.metrics_listen, Some(config.listen));
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Err(e) = parse_durability(text) {
        assert!(e.to_string().contains("durability"));
    }
});
