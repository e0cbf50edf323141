//! Proto ↔ domain conversions. Every function destructures the proto message completely, so a
//! field added to the contract does not compile until it is handled here.
//!
//! Server side: `*_request` validate and convert (a missing or malformed field is
//! `InvalidArgument`, an oversized one `TooLarge`, both naming the field); `*_response` convert
//! back. Client side (`cli::remote`): `*_to_proto` and `*_from_proto`.

use crate::audit::summary::{
    Boilerplate, ClusterView, Histogram, LineCount, MemberView, SizeBucket, SourceBoilerplate,
};
use crate::audit::{AuditConfig, AuditRecord, Summary, Verdict as AuditVerdict};
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

// ---- Audit ------------------------------------------------------------------------------

/// Most boilerplate lines per source an Audit call may ask for (`AuditOptions.top_lines`).
pub const MAX_AUDIT_TOP_LINES: u32 = 100;

/// The settings of one Audit call, from its first message's `AuditOptions`.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// The auditor's configuration (format, top lines; the rest as `neardup audit`).
    pub config: AuditConfig,
    /// Whether the response carries one row per document.
    pub return_clusters: bool,
    /// Count refused documents in the summary instead of ending the call.
    pub count_invalid: bool,
}

/// Split an [`proto::AuditRequest`] into its options (if the message carries any) and its
/// documents, unvalidated (see [`audit_document`]).
pub fn audit_request(
    req: proto::AuditRequest,
) -> (Option<proto::AuditOptions>, Vec<proto::Document>) {
    let proto::AuditRequest { options, documents } = req;
    (options, documents)
}

/// Validate and convert `AuditOptions`; missing options are the defaults of `neardup audit`.
pub fn audit_options(options: Option<proto::AuditOptions>) -> Result<AuditSettings> {
    let proto::AuditOptions {
        format,
        top_lines,
        return_clusters,
        count_invalid,
    } = options.unwrap_or_default();
    let mut config = AuditConfig::default();
    config.check.format = match proto::ContentFormat::try_from(format) {
        Ok(proto::ContentFormat::Unspecified | proto::ContentFormat::Auto) => InputFormat::Auto,
        Ok(proto::ContentFormat::Text) => InputFormat::Text,
        Ok(proto::ContentFormat::Html) => InputFormat::Html,
        Err(_) => {
            return Err(Error::invalid(
                "options.format",
                format!("unknown ContentFormat value {format}"),
            ))
        }
    };
    if top_lines > MAX_AUDIT_TOP_LINES {
        return Err(Error::invalid(
            "options.top_lines",
            format!("{top_lines} is more than the maximum of {MAX_AUDIT_TOP_LINES}"),
        ));
    }
    if top_lines > 0 {
        config.top_lines = top_lines as usize;
    }
    Ok(AuditSettings {
        config,
        return_clusters,
        count_invalid,
    })
}

/// Validate and convert one streamed document of an Audit call, with the checks of Check
/// (fields named `document.id`, `document.text`, …).
pub fn audit_document(doc: proto::Document, limits: &Limits) -> Result<Document> {
    document_from_request(Some(doc), limits)
}

/// One audited document as a row of the response (a line of `clusters.jsonl`).
pub fn audit_row(record: AuditRecord) -> proto::AuditRow {
    let AuditRecord {
        id,
        cluster_id,
        canonical_id,
        duplicate_of,
        verdict,
        evidence,
        source,
        url,
        lang,
        boilerplate_share,
    } = record;
    let verdict = match verdict {
        AuditVerdict::Original => proto::AuditVerdict::Original,
        AuditVerdict::Exact => proto::AuditVerdict::Exact,
        AuditVerdict::Near => proto::AuditVerdict::Near,
    };
    proto::AuditRow {
        id,
        cluster_id,
        canonical_id,
        duplicate_of: duplicate_of.unwrap_or_default(),
        verdict: verdict as i32,
        evidence: evidence.map(match_to_proto),
        source: source.unwrap_or_default(),
        url: url.unwrap_or_default(),
        lang: lang.to_string(),
        boilerplate_share,
    }
}

/// The audit's figures as the response's structured summary (field for field `summary.json`).
pub fn audit_summary(summary: Summary) -> proto::AuditSummary {
    let Summary {
        version,
        documents,
        originals,
        exact_duplicates,
        near_duplicates,
        duplication_rate,
        clusters,
        clusters_with_duplicates,
        largest_cluster_size,
        cluster_sizes,
        duplicates_by_tier,
        jaccard_histogram,
        containment_histogram,
        boilerplate,
        languages,
        skipped,
        errors,
        error_samples,
        largest_clusters,
    } = summary;
    let Histogram { counts: jaccard } = jaccard_histogram;
    let Histogram {
        counts: containment,
    } = containment_histogram;
    let Boilerplate {
        kept_bytes,
        removed_bytes,
        share,
        per_source,
    } = boilerplate;
    proto::AuditSummary {
        version,
        documents,
        originals,
        exact_duplicates,
        near_duplicates,
        duplication_rate,
        clusters,
        clusters_with_duplicates,
        largest_cluster_size,
        cluster_sizes: cluster_sizes.into_iter().map(size_bucket).collect(),
        duplicates_by_tier,
        jaccard_histogram: jaccard,
        containment_histogram: containment,
        boilerplate: Some(proto::AuditBoilerplate {
            kept_bytes,
            removed_bytes,
            share,
            per_source: per_source.into_iter().map(source_boilerplate).collect(),
        }),
        languages,
        skipped,
        errors,
        error_samples,
        largest_clusters: largest_clusters.into_iter().map(cluster_view).collect(),
    }
}

fn size_bucket(b: SizeBucket) -> proto::ClusterSizeBucket {
    let SizeBucket {
        label,
        min,
        max,
        clusters,
        documents,
    } = b;
    proto::ClusterSizeBucket {
        label,
        min,
        max,
        clusters,
        documents,
    }
}

fn source_boilerplate(s: SourceBoilerplate) -> proto::SourceBoilerplate {
    let SourceBoilerplate {
        source,
        documents,
        duplicates,
        kept_bytes,
        removed_bytes,
        share,
        top_lines,
    } = s;
    proto::SourceBoilerplate {
        source,
        documents,
        duplicates,
        kept_bytes,
        removed_bytes,
        share,
        top_lines: top_lines
            .into_iter()
            .map(|l| {
                let LineCount { line, count, error } = l;
                proto::LineCount { line, count, error }
            })
            .collect(),
    }
}

fn cluster_view(c: ClusterView) -> proto::AuditCluster {
    let ClusterView {
        cluster_id,
        canonical_id,
        size,
        members,
    } = c;
    proto::AuditCluster {
        cluster_id,
        canonical_id,
        size,
        members: members
            .into_iter()
            .map(|m| {
                let MemberView {
                    id,
                    source,
                    snippet,
                    tier,
                    jaccard,
                    containment,
                } = m;
                proto::AuditMember {
                    id,
                    source: source.unwrap_or_default(),
                    snippet,
                    tier: tier.unwrap_or_default(),
                    jaccard,
                    containment,
                }
            })
            .collect(),
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
            span_base: Default::default(),
        },
    })
}

/// A `clusters.jsonl` line received over gRPC (for clients): the fields, order and JSON of
/// [`AuditRecord`], with an owned `lang`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditLine {
    /// Document id.
    pub id: String,
    /// Cluster the engine put it in.
    pub cluster_id: String,
    /// The cluster's first document in input order.
    pub canonical_id: String,
    /// The earlier document it duplicates.
    pub duplicate_of: Option<String>,
    /// Original, exact or near duplicate.
    pub verdict: AuditVerdict,
    /// Evidence of the best match.
    pub evidence: Option<Match>,
    /// The document's source.
    pub source: Option<String>,
    /// The document's URL.
    pub url: Option<String>,
    /// Guessed language.
    pub lang: String,
    /// Share of the document the stripper removed.
    pub boilerplate_share: f32,
}

/// An AuditRow as a `clusters.jsonl` line (for clients).
pub fn audit_line_from_proto(row: proto::AuditRow) -> AuditLine {
    let proto::AuditRow {
        id,
        cluster_id,
        canonical_id,
        duplicate_of,
        verdict,
        evidence,
        source,
        url,
        lang,
        boilerplate_share,
    } = row;
    let verdict = match proto::AuditVerdict::try_from(verdict) {
        Ok(proto::AuditVerdict::Exact) => AuditVerdict::Exact,
        Ok(proto::AuditVerdict::Near) => AuditVerdict::Near,
        _ => AuditVerdict::Original,
    };
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    AuditLine {
        id,
        cluster_id,
        canonical_id,
        duplicate_of: non_empty(duplicate_of),
        verdict,
        evidence: evidence.map(match_from_proto),
        source: non_empty(source),
        url: non_empty(url),
        lang,
        boilerplate_share,
    }
}

/// A CleanResponse as a cleaning result (for clients).
pub fn cleaned_from_proto(resp: proto::CleanResponse) -> Cleaned {
    let proto::CleanResponse { text, removed } = resp;
    Cleaned {
        text,
        removed: removed.into_iter().map(span_from_proto).collect(),
        line_keys: Vec::new(),
        span_base: Default::default(),
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
                span_base: std::sync::Arc::new("xyz".into()),
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

    #[test]
    fn audit_options_default_to_the_cli_and_are_checked() {
        let d = audit_options(None).unwrap();
        assert_eq!(d.config.check.format, InputFormat::Auto);
        assert_eq!(d.config.top_lines, AuditConfig::default().top_lines);
        assert!(!d.return_clusters && !d.count_invalid);
        let s = audit_options(Some(proto::AuditOptions {
            format: proto::ContentFormat::Html as i32,
            top_lines: 3,
            return_clusters: true,
            count_invalid: true,
        }))
        .unwrap();
        assert_eq!(s.config.check.format, InputFormat::Html);
        assert_eq!(s.config.top_lines, 3);
        assert!(s.return_clusters && s.count_invalid);
        for (bad, field) in [
            (
                proto::AuditOptions {
                    top_lines: MAX_AUDIT_TOP_LINES + 1,
                    ..Default::default()
                },
                "options.top_lines",
            ),
            (
                proto::AuditOptions {
                    format: -1,
                    ..Default::default()
                },
                "options.format",
            ),
        ] {
            let err = audit_options(Some(bad)).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn an_audit_summary_and_its_rows_convert_field_for_field() {
        let mut auditor = crate::audit::Auditor::new(AuditConfig::default());
        let text = "The council voted on Tuesday to close the old bridge for repairs while engineers replace its deck.";
        let first = auditor
            .push(Document {
                source: Some("s".into()),
                ..Document::text("a", text)
            })
            .unwrap();
        let dup = auditor
            .push(Document::text("b", text.to_uppercase()))
            .unwrap();
        let summary = auditor.finish();
        let json: serde_json::Value = serde_json::from_str(&summary.to_json().unwrap()).unwrap();
        let p = audit_summary(summary);
        assert_eq!(p.documents, 2);
        assert_eq!(p.exact_duplicates, 1);
        assert_eq!(p.duplication_rate, 0.5);
        assert_eq!(p.duplicates_by_tier.get("exact"), Some(&1));
        assert_eq!(
            p.cluster_sizes.len(),
            json["cluster_sizes"].as_array().unwrap().len()
        );
        assert_eq!(p.jaccard_histogram.len(), 20);
        let b = p.boilerplate.unwrap();
        assert_eq!(b.per_source.len(), 2);
        let c = &p.largest_clusters[0];
        assert_eq!((c.canonical_id.as_str(), c.size), ("a", 2));
        assert_eq!(c.members[0].jaccard, None);
        assert_eq!(c.members[1].tier, "exact");
        assert_eq!(c.members[0].source, "s");

        let row = audit_row(first);
        assert_eq!(row.verdict, proto::AuditVerdict::Original as i32);
        assert!(row.evidence.is_none() && row.duplicate_of.is_empty());
        let row = audit_row(dup);
        assert_eq!(row.verdict, proto::AuditVerdict::Exact as i32);
        assert_eq!(row.duplicate_of, "a");
        assert_eq!(row.canonical_id, "a");
        assert_eq!(row.evidence.unwrap().tier, proto::Tier::Exact as i32);
    }
}
