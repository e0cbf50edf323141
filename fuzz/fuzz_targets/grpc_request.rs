//! Fuzz the gRPC request path without the network: arbitrary bytes decoded with prost as a
//! `CheckRequest`, a `CleanRequest` and an `AuditRequest`, converted as the service converts
//! them (`service::convert`, default limits) and, when conversion succeeds, run through an
//! in-memory engine (Check, Clean) or an auditor (Audit), with the responses built as the
//! service builds them. Bad input gives a typed error, never a panic; removed spans lie inside
//! the text they index; the `grpc-timeout` header parser gets the bytes too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::audit::Auditor;
use neardup::boilerplate::Cleaned;
use neardup::config::Limits;
use neardup::engine::Engine;
use neardup::proto;
use neardup::service::convert;
use prost::Message;

fn spans_inside(c: &Cleaned) {
    for r in &c.removed {
        assert!(r.start < r.end && r.end <= c.span_base.len(), "{r:?}");
        assert!(c.span_base.is_char_boundary(r.start) && c.span_base.is_char_boundary(r.end));
        assert!(!r.kind.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();

    if let Ok(req) = proto::CheckRequest::decode(data) {
        match convert::check_request(req, &limits) {
            Ok(input) => {
                let engine = Engine::in_memory();
                let len = input.document.content_len();
                assert!(len <= limits.max_document_bytes);
                match engine.check(&input.namespace, input.document, &input.options) {
                    Ok(outcome) => {
                        spans_inside(&outcome.cleaned);
                        assert_eq!(outcome.inserted, !input.options.dry_run);
                        let resp = convert::check_response(outcome, input.return_clean);
                        // The answer re-encodes and decodes to itself (what the client reads).
                        let bytes = resp.encode_to_vec();
                        assert_eq!(proto::CheckResponse::decode(&bytes[..]).ok(), Some(resp));
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    if let Ok(req) = proto::CleanRequest::decode(data) {
        match convert::clean_request(req, &limits) {
            Ok((namespace, doc, format)) => {
                let engine = Engine::in_memory();
                match engine.clean(&namespace, &doc, format) {
                    Ok(cleaned) => {
                        spans_inside(&cleaned);
                        let _ = convert::clean_response(cleaned);
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    if let Ok(req) = proto::AuditRequest::decode(data) {
        let (options, documents) = convert::audit_request(req);
        match convert::audit_options(options) {
            Ok(settings) => {
                assert!(settings.config.top_lines > 0);
                let mut auditor = Auditor::new(settings.config);
                for doc in documents {
                    match convert::audit_document(doc, &limits) {
                        Ok(doc) => match auditor.push(doc) {
                            Ok(record) => {
                                let _ = convert::audit_row(record);
                            }
                            Err(e) => {
                                let _ = e.to_string();
                            }
                        },
                        Err(e) => auditor.record_error("fuzz", &e),
                    }
                }
                let _ = convert::audit_summary(auditor.finish());
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(d) = neardup::service::parse_grpc_timeout(text) {
            // At most 8 digits of hours.
            assert!(d.as_secs() <= 99_999_999 * 3600);
        }
    }
});
