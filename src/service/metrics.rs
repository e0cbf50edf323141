//! Prometheus metrics of the service: calls by method and status code, latency histograms,
//! documents checked, inserted and found duplicate, documents audited and open streams. Rendered in the text exposition format by
//! [`Metrics::render`] for the `/metrics` endpoint.

use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of a finished call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: &'static str,
    code: &'static str,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

/// Every metric of the service. Counters are atomics: recording never blocks a handler.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<CallLabels, Counter>,
    latency: Family<MethodLabels, Histogram>,
    documents: Counter,
    inserted: Counter,
    duplicates: Counter,
    bytes: Counter,
    open_streams: Gauge,
    audit_documents: Counter,
    open_audits: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Buckets from 50 µs to about 1.6 s, doubling: covers a cached echo and a slow large page.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Metrics {
    /// Fresh metrics registered under the `neardup` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("neardup");
        let requests = Family::<CallLabels, Counter>::default();
        let latency = Family::<MethodLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let documents = Counter::default();
        let inserted = Counter::default();
        let duplicates = Counter::default();
        let bytes = Counter::default();
        let open_streams = Gauge::default();
        let audit_documents = Counter::default();
        let open_audits = Gauge::default();
        registry.register(
            "grpc_requests",
            "gRPC calls (CheckStream: each streamed request) by method and status code",
            requests.clone(),
        );
        registry.register(
            "grpc_request_duration_seconds",
            "Time from receiving a request to having its answer, by method",
            latency.clone(),
        );
        registry.register(
            "documents_checked",
            "Documents checked (Check and CheckStream)",
            documents.clone(),
        );
        registry.register(
            "documents_inserted",
            "Documents remembered by a check",
            inserted.clone(),
        );
        registry.register(
            "duplicates",
            "Checked documents found to duplicate an earlier one",
            duplicates.clone(),
        );
        registry.register(
            "document_bytes",
            "Bytes of document bodies checked",
            bytes.clone(),
        );
        registry.register(
            "check_streams_open",
            "CheckStream calls open now",
            open_streams.clone(),
        );
        registry.register(
            "audit_documents",
            "Documents audited by Audit calls (on scratch state: not in documents_checked)",
            audit_documents.clone(),
        );
        registry.register(
            "audit_calls_open",
            "Audit calls open now",
            open_audits.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            documents,
            inserted,
            duplicates,
            bytes,
            open_streams,
            audit_documents,
            open_audits,
        }
    }

    /// Record one finished call.
    pub fn observe(&self, method: &'static str, code: tonic::Code, started: Instant) {
        self.requests
            .get_or_create(&CallLabels {
                method,
                code: code_name(code),
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels { method })
            .observe(started.elapsed().as_secs_f64());
    }

    /// Record one checked document.
    pub fn document(&self, bytes: usize, duplicate: bool, inserted: bool) {
        self.documents.inc();
        self.bytes.inc_by(bytes as u64);
        if duplicate {
            self.duplicates.inc();
        }
        if inserted {
            self.inserted.inc();
        }
    }

    /// Count an open stream until the returned guard is dropped.
    pub fn stream_opened(&self) -> StreamGuard {
        self.open_streams.inc();
        StreamGuard {
            gauge: self.open_streams.clone(),
        }
    }

    /// Record documents audited by an Audit call.
    pub fn audited(&self, documents: u64) {
        self.audit_documents.inc_by(documents);
    }

    /// Count an open Audit call until the returned guard is dropped.
    pub fn audit_opened(&self) -> StreamGuard {
        self.open_audits.inc();
        StreamGuard {
            gauge: self.open_audits.clone(),
        }
    }

    /// The text exposition format (`text/plain; version=0.0.4` compatible OpenMetrics).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Decrements an open-call gauge (CheckStream or Audit calls) when dropped.
#[derive(Debug)]
pub struct StreamGuard {
    gauge: Gauge,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

/// The canonical upper-case name of a status code, as gRPC documents them.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lists_every_family_with_observations() {
        let m = Metrics::new();
        m.observe("Check", tonic::Code::Ok, Instant::now());
        m.observe("Check", tonic::Code::InvalidArgument, Instant::now());
        m.document(100, true, true);
        let text = m.render();
        assert!(text.contains(r#"neardup_grpc_requests_total{method="Check",code="OK"} 1"#));
        assert!(text.contains(r#"code="INVALID_ARGUMENT"} 1"#));
        assert!(text.contains("neardup_grpc_request_duration_seconds_bucket"));
        assert!(text.contains("neardup_duplicates_total 1"));
        assert!(text.contains("neardup_document_bytes_total 100"));
        let guard = m.stream_opened();
        assert!(m.render().contains("neardup_check_streams_open 1"));
        drop(guard);
        assert!(m.render().contains("neardup_check_streams_open 0"));
        let audit = m.audit_opened();
        m.audited(7);
        let text = m.render();
        assert!(text.contains("neardup_audit_calls_open 1"), "{text}");
        assert!(text.contains("neardup_audit_documents_total 7"), "{text}");
        drop(audit);
        assert!(m.render().contains("neardup_audit_calls_open 0"));
    }
}
