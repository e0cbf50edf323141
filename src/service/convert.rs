//! Proto ↔ domain conversions. Every function destructures the proto message completely, so a
//! field added to the contract does not compile until it is handled here.
//!
//! Server side: `*_request` validate and convert (a missing or malformed field is
//! `InvalidArgument`, an oversized one `TooLarge`, both naming the field); `*_response` convert
//! back. Client side (`cli::remote`): `*_to_proto` and `*_from_proto`.

use crate::boilerplate::{Cleaned, InputFormat, RemovedSpan};
use crate::config::Limits;
use crate::document::{Content, Document};
use crate::engine::{CheckOptions, CheckOutcome, NamespaceStats};
use crate::index::{Match, Tier};
use crate::proto;
use crate::{Error, Result};

/// The namespace used when a request leaves it empty.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Earliest and latest `google.protobuf.Timestamp` seconds (0001-01-01 .. 9999-12-31).
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// A validated Check request.
#[derive(Debug)]
pub struct CheckInput {
    /// Namespace (defaulted).
    pub namespace: String,
    /// The document.
    pub document: Document,
    /// Engine options.
    pub options: CheckOptions,
    /// Whether the response carries the clean text.
    pub return_clean: bool,
}

/// Validate and convert a [`proto::CheckRequest`].
pub fn check_request(req: proto::CheckRequest, limits: &Limits) -> Result<CheckInput> {
    let proto::CheckRequest {
        namespace,
        document,
        dry_run,
        window_days,
        return_clean,
        format,
    } = req;
    let (namespace, document, format) = target(namespace, document, format, limits)?;
    Ok(CheckInput {
        namespace,
        document,
        options: CheckOptions {
            dry_run,
            window_days: (window_days > 0).then_some(window_days),
            format,
        },
        return_clean,
    })
}

/// Convert an engine outcome; the clean text and spans only when asked for.
pub fn check_response(outcome: CheckOutcome, return_clean: bool) -> proto::CheckResponse {
    let CheckOutcome {
        id,
        duplicate_of,
        cluster_id,
        matches,
        simhash,
        inserted,
        cleaned,
    } = outcome;
    let verdict = if duplicate_of.is_some() {
        proto::Verdict::Duplicate
    } else {
        proto::Verdict::Unique
    };
    let (clean_text, removed) = if return_clean {
        let Cleaned {
            text,
            removed,
            line_keys: _,
            span_base: _,
        } = cleaned;
        (text, removed.into_iter().map(span_to_proto).collect())
    } else {
        (String::new(), Vec::new())
    };
    proto::CheckResponse {
        id,
        verdict: verdict as i32,
        duplicate_of: duplicate_of.unwrap_or_default(),
        cluster_id,
        matches: matches.into_iter().map(match_to_proto).collect(),
        simhash,
        clean_text,
        removed,
        inserted,
        error: None,
    }
}

/// Validate and convert a [`proto::CleanRequest`].
pub fn clean_request(
    req: proto::CleanRequest,
    limits: &Limits,
) -> Result<(String, Document, InputFormat)> {
    let proto::CleanRequest {
        namespace,
        document,
        format,
    } = req;
    target(namespace, document, format, limits)
}

/// The parts Check and Clean share: namespace, document and how to read it.
fn target(
    namespace: String,
    document: Option<proto::Document>,
    format: i32,
    limits: &Limits,
) -> Result<(String, Document, InputFormat)> {
    let namespace = namespace_name(namespace, limits)?;
    let document = document_from_request(document, limits)?;
    let format = input_format(format, &document.content)?;
    Ok((namespace, document, format))
}

/// Convert a cleaning result.
pub fn clean_response(cleaned: Cleaned) -> proto::CleanResponse {
    let Cleaned {
        text,
        removed,
        line_keys: _,
        span_base: _,
    } = cleaned;
    proto::CleanResponse {
        text,
        removed: removed.into_iter().map(span_to_proto).collect(),
    }
}

/// Validate and convert a [`proto::DeleteRequest`] into (namespace, id).
pub fn delete_request(req: proto::DeleteRequest, limits: &Limits) -> Result<(String, String)> {
    let proto::DeleteRequest { namespace, id } = req;
    let namespace = namespace_name(namespace, limits)?;
    document_id(&id, "id", limits)?;
    Ok((namespace, id))
}

/// Convert a [`proto::StatsRequest`]: `None` asks for every namespace.
pub fn stats_request(req: proto::StatsRequest, limits: &Limits) -> Result<Option<String>> {
    let proto::StatsRequest { namespace } = req;
    if namespace.is_empty() {
        return Ok(None);
    }
    namespace_name(namespace, limits).map(Some)
}

/// Convert namespace counters.
pub fn stats_response(stats: Vec<NamespaceStats>) -> proto::StatsResponse {
    proto::StatsResponse {
        namespaces: stats
            .into_iter()
            .map(|s| {
                let NamespaceStats {
                    namespace,
                    documents,
                    clusters,
                    duplicates,
                    bytes,
                } = s;
                proto::NamespaceStats {
                    namespace,
                    documents,
                    clusters,
                    duplicates,
                    bytes,
                }
            })
            .collect(),
    }
}

fn namespace_name(namespace: String, limits: &Limits) -> Result<String> {
    if namespace.is_empty() {
        return Ok(DEFAULT_NAMESPACE.to_string());
    }
    if namespace.len() > limits.max_namespace_bytes {
        return Err(Error::TooLarge {
            field: "namespace",
            limit: limits.max_namespace_bytes,
            actual: namespace.len(),
        });
    }
    if namespace.chars().any(char::is_control) {
        return Err(Error::invalid(
            "namespace",
            "must not contain control characters",
        ));
    }
    Ok(namespace)
}

fn document_id(id: &str, field: &'static str, limits: &Limits) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if id.len() > limits.max_id_bytes {
        return Err(Error::TooLarge {
            field,
            limit: limits.max_id_bytes,
            actual: id.len(),
        });
    }
    Ok(())
}

fn document_from_request(doc: Option<proto::Document>, limits: &Limits) -> Result<Document> {
    let proto::Document {
        id,
        content,
        source,
        url,
        published_at,
    } = doc.ok_or_else(|| Error::invalid("document", "missing: the request needs a document"))?;
    document_id(&id, "document.id", limits)?;
    let (content, field) = match content {
        Some(proto::document::Content::Text(t)) => (Content::Text(t), "document.text"),
        Some(proto::document::Content::Html(h)) => (Content::Html(h), "document.html"),
        None => {
            return Err(Error::invalid(
                "document.content",
                "missing: set document.text or document.html",
            ))
        }
    };
    let doc = Document {
        id,
        content,
        source: (!source.is_empty()).then_some(source),
        url: (!url.is_empty()).then_some(url),
        published_at: published_at.map(timestamp).transpose()?,
    };
    if doc.content_len() > limits.max_document_bytes {
        return Err(Error::TooLarge {
            field,
            limit: limits.max_document_bytes,
            actual: doc.content_len(),
        });
    }
    Ok(doc)
}

fn timestamp(ts: prost_types::Timestamp) -> Result<i64> {
    let prost_types::Timestamp { seconds, nanos } = ts;
    if !TIMESTAMP_SECONDS.contains(&seconds) || !(0..1_000_000_000).contains(&nanos) {
        return Err(Error::invalid(
            "document.published_at",
            "outside 0001-01-01..9999-12-31 or nanos outside 0..1e9",
        ));
    }
    Ok(seconds)
}

fn input_format(raw: i32, content: &Content) -> Result<InputFormat> {
    let format = proto::ContentFormat::try_from(raw)
        .map_err(|_| Error::invalid("format", format!("unknown ContentFormat value {raw}")))?;
    Ok(match format {
        proto::ContentFormat::Unspecified => match content {
            Content::Text(_) => InputFormat::Text,
            Content::Html(_) => InputFormat::Html,
        },
        proto::ContentFormat::Text => InputFormat::Text,
        proto::ContentFormat::Html => InputFormat::Html,
        proto::ContentFormat::Auto => InputFormat::Auto,
    })
}

fn span_to_proto(span: RemovedSpan) -> proto::RemovedSpan {
    let RemovedSpan {
        start,
        end,
        kind,
        reason,
    } = span;
    proto::RemovedSpan {
        start: start as u64,
        end: end as u64,
        kind,
        reason,
    }
}

fn match_to_proto(m: Match) -> proto::Match {
    let Match {
        id,
        tier,
        hamming,
        jaccard,
        containment,
        reason,
    } = m;
    let tier = match tier {
        Tier::Exact => proto::Tier::Exact,
        Tier::Simhash => proto::Tier::Simhash,
        Tier::Lsh => proto::Tier::Lsh,
    };
    proto::Match {
        id,
        tier: tier as i32,
        hamming,
        jaccard,
        containment,
        reason,
    }
}

// ---- client side -------------------------------------------------------------------------

/// A domain document as a proto message (for clients).
pub fn document_to_proto(doc: Document) -> proto::Document {
    let Document {
        id,
        content,
        source,
        url,
        published_at,
    } = doc;
    proto::Document {
        id,
        content: Some(match content {
            Content::Text(t) => proto::document::Content::Text(t),
            Content::Html(h) => proto::document::Content::Html(h),
        }),
        source: source.unwrap_or_default(),
        url: url.unwrap_or_default(),
        published_at: published_at.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
    }
}

/// The proto value of an input format (for clients).
pub fn format_to_proto(format: InputFormat) -> proto::ContentFormat {
    match format {
        InputFormat::Text => proto::ContentFormat::Text,
        InputFormat::Html => proto::ContentFormat::Html,
        InputFormat::Auto => proto::ContentFormat::Auto,
    }
}

/// A CheckResponse as an engine outcome (for clients). A streamed per-request error comes
/// back as `Err` with the server's message.
pub fn outcome_from_proto(resp: proto::CheckResponse) -> std::result::Result<CheckOutcome, String> {
    let proto::CheckResponse {
        id,
        verdict: _,
        duplicate_of,
        cluster_id,
        matches,
        simhash,
        clean_text,
        removed,
        inserted,
        error,
    } = resp;
    if let Some(proto::ItemError { code: _, message }) = error {
        return Err(message);
    }
    Ok(CheckOutcome {
        id,
        duplicate_of: (!duplicate_of.is_empty()).then_some(duplicate_of),
        cluster_id,
        matches: matches.into_iter().map(match_from_proto).collect(),
        simhash,
        inserted,
        cleaned: Cleaned {
            text: clean_text,
            removed: removed.into_iter().map(span_from_proto).collect(),
            line_keys: Vec::new(),
            span_base: String::new(),
        },
    })
}

/// A CleanResponse as a cleaning result (for clients).
pub fn cleaned_from_proto(resp: proto::CleanResponse) -> Cleaned {
    let proto::CleanResponse { text, removed } = resp;
    Cleaned {
        text,
        removed: removed.into_iter().map(span_from_proto).collect(),
        line_keys: Vec::new(),
        span_base: String::new(),
    }
}

fn span_from_proto(span: proto::RemovedSpan) -> RemovedSpan {
    let proto::RemovedSpan {
        start,
        end,
        kind,
        reason,
    } = span;
    RemovedSpan {
        start: usize::try_from(start).unwrap_or(usize::MAX),
        end: usize::try_from(end).unwrap_or(usize::MAX),
        kind,
        reason,
    }
}

fn match_from_proto(m: proto::Match) -> Match {
    let proto::Match {
        id,
        tier,
        hamming,
        jaccard,
        containment,
        reason,
    } = m;
    let tier = match proto::Tier::try_from(tier) {
        Ok(proto::Tier::Simhash) => Tier::Simhash,
        Ok(proto::Tier::Lsh) => Tier::Lsh,
        _ => Tier::Exact,
    };
    Match {
        id,
        tier,
        hamming,
        jaccard,
        containment,
        reason,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_document_bytes: 10,
            max_id_bytes: 4,
            max_namespace_bytes: 5,
            ..Limits::default()
        }
    }

    fn request(doc: Option<proto::Document>) -> proto::CheckRequest {
        proto::CheckRequest {
            document: doc,
            ..Default::default()
        }
    }

    fn doc(id: &str, content: Option<proto::document::Content>) -> Option<proto::Document> {
        Some(proto::Document {
            id: id.into(),
            content,
            ..Default::default()
        })
    }

    fn text(t: &str) -> Option<proto::document::Content> {
        Some(proto::document::Content::Text(t.into()))
    }

    #[test]
    fn malformed_and_oversized_requests_name_the_field() {
        let cases: Vec<(proto::CheckRequest, &str)> = vec![
            (request(None), "invalid document: missing"),
            (request(doc("", text("x"))), "invalid document.id"),
            (request(doc("a", None)), "invalid document.content"),
            (
                request(doc("abcde", text("x"))),
                "document.id is 5 bytes, over the limit of 4",
            ),
            (
                request(doc("a", text("0123456789X"))),
                "document.text is 11 bytes, over the limit of 10",
            ),
            (
                request(doc(
                    "a",
                    Some(proto::document::Content::Html(vec![b'x'; 12])),
                )),
                "document.html is 12 bytes, over the limit of 10",
            ),
            (
                proto::CheckRequest {
                    namespace: "toolong".into(),
                    ..request(doc("a", text("x")))
                },
                "namespace is 7 bytes",
            ),
            (
                proto::CheckRequest {
                    namespace: "a\nb".into(),
                    ..request(doc("a", text("x")))
                },
                "invalid namespace",
            ),
            (
                proto::CheckRequest {
                    format: 99,
                    ..request(doc("a", text("x")))
                },
                "invalid format",
            ),
            (
                request(Some(proto::Document {
                    id: "a".into(),
                    content: text("x"),
                    published_at: Some(prost_types::Timestamp {
                        seconds: 0,
                        nanos: -1,
                    }),
                    ..Default::default()
                })),
                "invalid document.published_at",
            ),
        ];
        for (req, expected) in cases {
            let err = check_request(req, &limits()).unwrap_err().to_string();
            assert!(err.contains(expected), "{err:?} lacks {expected:?}");
        }
    }

    proptest::proptest! {
        /// Any request either converts within the limits or is refused naming a field.
        #[test]
        fn any_request_converts_within_limits_or_names_a_field(
            namespace in "\\PC{0,8}",
            id in "\\PC{0,6}",
            body in proptest::option::of("\\PC{0,14}"),
            html in proptest::bool::ANY,
            format in -1i32..6,
            seconds in proptest::num::i64::ANY,
        ) {
            let content = body.map(|b| if html {
                proto::document::Content::Html(b.into_bytes())
            } else {
                proto::document::Content::Text(b)
            });
            let req = proto::CheckRequest {
                namespace,
                document: Some(proto::Document {
                    id,
                    content,
                    published_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
                    ..Default::default()
                }),
                format,
                ..Default::default()
            };
            let l = limits();
            match check_request(req, &l) {
                Ok(input) => {
                    proptest::prop_assert!(input.namespace.len() <= l.max_namespace_bytes);
                    proptest::prop_assert!(!input.document.id.is_empty());
                    proptest::prop_assert!(input.document.id.len() <= l.max_id_bytes);
                    proptest::prop_assert!(input.document.content_len() <= l.max_document_bytes);
                }
                Err(err) => {
                    let text = err.to_string();
                    let fields = ["namespace", "document.id", "document.content", "document.text",
                        "document.html", "document.published_at", "format"];
                    proptest::prop_assert!(fields.iter().any(|f| text.contains(f)), "{}", text);
                }
            }
        }
    }

    #[test]
    fn defaults_and_round_trip() {
        let input = check_request(
            proto::CheckRequest {
                window_days: 0,
                ..request(Some(proto::Document {
                    id: "a".into(),
                    content: Some(proto::document::Content::Html(b"<p>x</p>".to_vec())),
                    source: "site".into(),
                    url: String::new(),
                    published_at: Some(prost_types::Timestamp {
                        seconds: 1_700_000_000,
                        nanos: 5,
                    }),
                }))
            },
            &limits(),
        )
        .unwrap();
        assert_eq!(input.namespace, DEFAULT_NAMESPACE);
        assert_eq!(input.options.format, InputFormat::Html);
        assert_eq!(input.options.window_days, None);
        assert_eq!(input.document.source.as_deref(), Some("site"));
        assert_eq!(input.document.url, None);
        assert_eq!(input.document.published_at, Some(1_700_000_000));
        let back = document_to_proto(input.document.clone());
        assert_eq!(back.source, "site");
        assert_eq!(back.published_at.unwrap().seconds, 1_700_000_000);

        let outcome = CheckOutcome {
            id: "b".into(),
            duplicate_of: Some("a".into()),
            cluster_id: "a".into(),
            matches: vec![Match {
                id: "a".into(),
                tier: Tier::Lsh,
                hamming: 3,
                jaccard: 0.5,
                containment: 0.75,
                reason: "r".into(),
            }],
            simhash: u64::MAX,
            inserted: true,
            cleaned: Cleaned {
                text: "t".into(),
                removed: vec![RemovedSpan {
                    start: 1,
                    end: 2,
                    kind: "k".into(),
                    reason: "why".into(),
                }],
                line_keys: vec![1],
                span_base: "xyz".into(),
            },
        };
        let resp = check_response(outcome.clone(), true);
        assert_eq!(resp.verdict, proto::Verdict::Duplicate as i32);
        assert_eq!(resp.simhash, u64::MAX);
        let again = outcome_from_proto(resp).unwrap();
        assert_eq!(again.duplicate_of, outcome.duplicate_of);
        assert_eq!(again.matches, outcome.matches);
        assert_eq!(again.cleaned.removed, outcome.cleaned.removed);
        let bare = check_response(outcome, false);
        assert!(bare.clean_text.is_empty() && bare.removed.is_empty());
    }
}
