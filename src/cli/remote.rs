//! The client side of `--remote URL` for `neardup dedup`, `neardup clean` and `neardup audit`:
//! the same input and output contracts as the local commands, with a `neardup serve` doing the
//! work.
//!
//! `dedup` streams every line over one CheckStream call (bounded: at most [`STREAM_WINDOW`]
//! requests in flight), so verdicts come back in input order at the server's pace. `audit`
//! reads and decodes its inputs here, on a thread of its own, and streams the documents over
//! one Audit call in batches ([`AUDIT_BATCH_DOCS`], about [`AUDIT_BATCH_BYTES`]), at most
//! [`AUDIT_WINDOW`] batches ahead of the server.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};

use crate::audit::source::{Decoded, DocumentSource, Raw};
use crate::audit::{AuditConfig, Progress, Summary};
use crate::boilerplate::{Cleaned, InputFormat};
use crate::document::{Content, Document};
use crate::engine::CheckOutcome;
use crate::proto;
use crate::proto::near_dup_client::NearDupClient;
use crate::service::convert;
use crate::{Error, Result};

/// Requests sent ahead of the responses received on a dedup stream.
pub const STREAM_WINDOW: usize = 64;

/// How long to wait for the TCP connection to the server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One output line of `neardup dedup` for a verdict:
/// `{"id", "duplicate_of", "cluster_id", "simhash" (16 hex digits), "matches"}`.
pub fn verdict_json(outcome: &CheckOutcome) -> serde_json::Value {
    serde_json::json!({
        "id": outcome.id,
        "duplicate_of": outcome.duplicate_of,
        "cluster_id": outcome.cluster_id,
        "simhash": format!("{:016x}", outcome.simhash),
        "matches": outcome.matches,
    })
}

/// One output line of `neardup dedup` for a line that failed.
fn error_json(line: usize, message: &str) -> serde_json::Value {
    serde_json::json!({"line": line, "error": message})
}

/// `neardup dedup --remote URL`: read JSONL documents from `reader`, check them against the
/// server at `url` in namespace `namespace`, and write one JSON line per input line to
/// `writer`, in input order — the output contract of the local command. Returns true when
/// any line failed (bad JSON, or refused by the server), i.e. exit code 1.
pub fn dedup_remote<R: BufRead, W: Write>(
    url: &str,
    namespace: &str,
    reader: R,
    mut writer: W,
) -> Result<bool> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let failed = runtime.block_on(dedup_stream(url, namespace, reader, &mut writer))?;
    writer.flush()?;
    Ok(failed)
}

/// `neardup clean --remote URL`: strip boilerplate on the server with what namespace
/// `namespace` has learned. The result prints exactly like the local one.
pub fn clean_remote(
    url: &str,
    namespace: &str,
    content: Content,
    format: InputFormat,
    source: Option<&str>,
) -> Result<Cleaned> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut client = connect(url).await?;
        let document = Document {
            id: "-".to_string(),
            content,
            source: source.map(str::to_string),
            url: None,
            published_at: None,
        };
        let request = proto::CleanRequest {
            namespace: namespace.to_string(),
            document: Some(convert::document_to_proto(document)),
            format: convert::format_to_proto(format) as i32,
        };
        let response = client
            .clean(request)
            .await
            .map_err(|s| remote_error(url, s))?;
        Ok(convert::cleaned_from_proto(response.into_inner()))
    })
}

/// Documents per Audit message sent by `audit --remote`, at most.
pub const AUDIT_BATCH_DOCS: usize = 256;
/// Body bytes per Audit message sent by `audit --remote`, about (a larger document goes alone;
/// the server's `max_message_bytes` is 4 MiB by default).
pub const AUDIT_BATCH_BYTES: usize = 1 << 20;
/// Audit messages read ahead of the server.
pub const AUDIT_WINDOW: usize = 4;

/// What `neardup audit --remote` gets back.
#[derive(Debug)]
pub struct RemoteAudit {
    /// The server's summary, with the items that failed or were skipped while reading here
    /// added to `errors`, `error_samples` and `skipped`.
    pub summary: Summary,
    /// The `clusters.jsonl` lines, when asked for.
    pub rows: Vec<convert::AuditLine>,
}

/// Items the reader did not send: skipped (not documents) or failed to decode.
#[derive(Debug, Default)]
struct Unsent {
    skipped: std::collections::BTreeMap<String, u64>,
    errors: u64,
    samples: Vec<String>,
}

/// `neardup audit --remote URL`: read and decode `sources` here, audit the documents on the
/// server at `url` (its Audit RPC: scratch state, its namespaces untouched), with one row per
/// document when `rows`. `on_progress` is called from the reading thread after each batch.
pub fn audit_remote(
    url: &str,
    sources: Vec<Box<dyn DocumentSource>>,
    rows: bool,
    mut on_progress: Box<dyn FnMut(&Progress) + Send>,
) -> Result<RemoteAudit> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (tx, rx) = mpsc::channel::<proto::AuditRequest>(AUDIT_WINDOW);
    let options = proto::AuditOptions {
        return_clusters: rows,
        // As the local audit: a refused document is counted, the audit goes on.
        count_invalid: true,
        ..Default::default()
    };
    let reader =
        std::thread::spawn(move || read_for_audit(sources, options, &tx, &mut *on_progress));
    let answer = runtime.block_on(async move {
        let mut client = connect(url).await?;
        client
            .audit(ReceiverStream::new(rx))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| remote_error(url, s))
    });
    // The request stream is gone by now (sent or dropped), so the reader ends.
    let unsent = reader
        .join()
        .map_err(|_| Error::Unavailable("the input reading thread failed".into()))?;
    let proto::AuditResponse {
        summary: _,
        summary_json,
        clusters,
    } = answer?;
    let mut summary: Summary = serde_json::from_str(&summary_json).map_err(|e| Error::Decode {
        what: "summary_json from the server",
        message: e.to_string(),
    })?;
    for (reason, n) in unsent.skipped {
        *summary.skipped.entry(reason).or_default() += n;
    }
    summary.errors += unsent.errors;
    let keep = AuditConfig::default().error_samples;
    for sample in unsent.samples {
        if summary.error_samples.len() < keep {
            summary.error_samples.push(sample);
        }
    }
    Ok(RemoteAudit {
        summary,
        rows: clusters
            .into_iter()
            .map(convert::audit_line_from_proto)
            .collect(),
    })
}

/// Frame and decode every source in order, sending the documents in batches; returns what was
/// not sent. Stops early when the request stream is closed (the call ended).
fn read_for_audit(
    mut sources: Vec<Box<dyn DocumentSource>>,
    options: proto::AuditOptions,
    tx: &mpsc::Sender<proto::AuditRequest>,
    on_progress: &mut (dyn FnMut(&Progress) + Send),
) -> Unsent {
    let keep = AuditConfig::default().error_samples;
    let mut unsent = Unsent::default();
    let mut progress = Progress {
        documents: 0,
        items: 0,
        bytes_read: 0,
        total_bytes: sources.iter().map(|s| s.total_bytes()).sum::<Option<u64>>(),
    };
    let mut options = Some(options);
    let mut batch: Vec<proto::Document> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut finished_bytes = 0u64;
    let send = |batch: &mut Vec<proto::Document>, options: &mut Option<proto::AuditOptions>| {
        let request = proto::AuditRequest {
            options: options.take(),
            documents: std::mem::take(batch),
        };
        tx.blocking_send(request).is_ok()
    };
    for source in sources.iter_mut() {
        while let Some(item) = source.next_raw() {
            progress.items += 1;
            match item.and_then(Raw::decode) {
                Ok(Decoded::Doc(doc)) => {
                    progress.documents += 1;
                    let size = doc.content_len() + doc.id.len();
                    if !batch.is_empty()
                        && (batch.len() >= AUDIT_BATCH_DOCS
                            || batch_bytes + size > AUDIT_BATCH_BYTES)
                    {
                        if !send(&mut batch, &mut options) {
                            return unsent;
                        }
                        batch_bytes = 0;
                        progress.bytes_read = finished_bytes + source.bytes_read();
                        on_progress(&progress);
                    }
                    batch_bytes += size;
                    batch.push(convert::document_to_proto(doc));
                }
                Ok(Decoded::Skip(reason)) => {
                    *unsent.skipped.entry(reason.to_string()).or_default() += 1;
                }
                Err(e) => {
                    unsent.errors += 1;
                    if unsent.samples.len() < keep {
                        unsent.samples.push(e.to_string());
                    }
                }
            }
        }
        finished_bytes += source.bytes_read();
    }
    if !batch.is_empty() || options.is_some() {
        send(&mut batch, &mut options);
    }
    progress.bytes_read = finished_bytes;
    on_progress(&progress);
    unsent
}

/// Connect to `url` (`http://host:port` or `host:port`).
pub async fn connect(url: &str) -> Result<NearDupClient<Channel>> {
    let url = if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    };
    if !url.starts_with("http://") {
        return Err(Error::invalid(
            "--remote",
            format!("{url:?}: only http:// is supported (no TLS)"),
        ));
    }
    let endpoint = Endpoint::from_shared(url.clone())
        .map_err(|e| Error::invalid("--remote", format!("{url:?}: {e}")))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| Error::Unavailable(format!("cannot reach {url}: {e}")))?;
    Ok(NearDupClient::new(channel).accept_compressed(CompressionEncoding::Gzip))
}

/// A call-level refusal from the server as a domain error.
fn remote_error(url: &str, status: tonic::Status) -> Error {
    let message = format!("server at {url}: {}", status.message());
    match status.code() {
        tonic::Code::InvalidArgument | tonic::Code::ResourceExhausted => {
            Error::invalid("request", message)
        }
        code => Error::Unavailable(format!("{message} ({code:?})")),
    }
}

/// What an input line turned into, waiting for its turn in the output.
enum Pending {
    /// Sent to the server; its response is due.
    Sent(usize),
    /// Failed locally (bad JSON): written when every earlier line is written.
    Failed(usize, String),
}

async fn dedup_stream<R: BufRead, W: Write>(
    url: &str,
    namespace: &str,
    reader: R,
    writer: &mut W,
) -> Result<bool> {
    let mut client = connect(url).await?;
    let (tx, rx) = mpsc::channel::<proto::CheckRequest>(STREAM_WINDOW);
    let mut responses = client
        .check_stream(ReceiverStream::new(rx))
        .await
        .map_err(|s| remote_error(url, s))?
        .into_inner();
    let mut tx = Some(tx);
    let mut lines = reader.lines().enumerate();
    let mut pending: VecDeque<Pending> = VecDeque::new();
    let mut failed = false;
    loop {
        while let Some(Pending::Failed(line, message)) = pending.front() {
            writeln!(writer, "{}", error_json(*line, message))?;
            failed = true;
            pending.pop_front();
        }
        if tx.is_none() && pending.is_empty() {
            return Ok(failed);
        }
        // After the flush above, a non-empty queue starts with a sent line.
        let awaiting = !pending.is_empty();
        tokio::select! {
            biased;
            next = responses.message(), if awaiting => {
                let response = match next {
                    Ok(Some(response)) => response,
                    Ok(None) => {
                        return Err(Error::Unavailable(format!(
                            "server at {url} ended the stream with {} verdicts outstanding",
                            pending.len()
                        )))
                    }
                    Err(status) => return Err(remote_error(url, status)),
                };
                let Some(Pending::Sent(line)) = pending.pop_front() else {
                    continue;
                };
                let value = match convert::outcome_from_proto(response) {
                    Ok(outcome) => verdict_json(&outcome),
                    Err(message) => {
                        failed = true;
                        error_json(line, &message)
                    }
                };
                writeln!(writer, "{value}")?;
            }
            permit = async { match tx.clone() { Some(tx) => tx.reserve_owned().await.ok(), None => None } },
                if tx.is_some() =>
            {
                let Some(permit) = permit else {
                    // The request stream is gone; the response side reports why.
                    tx = None;
                    continue;
                };
                let Some((index, line)) = lines.next() else {
                    tx = None; // end of input: close the request stream
                    continue;
                };
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match super::dedup::parse_line(&line) {
                    Ok(document) => {
                        permit.send(proto::CheckRequest {
                            namespace: namespace.to_string(),
                            document: Some(convert::document_to_proto(document)),
                            ..Default::default()
                        });
                        pending.push_back(Pending::Sent(index + 1));
                    }
                    Err(err) => pending.push_back(Pending::Failed(index + 1, err.to_string())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_without_http_are_refused_and_unreachable_servers_reported() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime
            .block_on(connect("https://example.invalid:1"))
            .unwrap_err();
        assert!(err.to_string().contains("only http://"), "{err}");
        let err = runtime.block_on(connect("http://[::1")).unwrap_err();
        assert!(err.to_string().contains("--remote"), "{err}");
        let err = runtime.block_on(connect("127.0.0.1:1")).unwrap_err();
        assert!(
            err.to_string().contains("cannot reach http://127.0.0.1:1"),
            "{err}"
        );
    }

    #[test]
    fn server_refusals_become_domain_errors() {
        let err = remote_error("u", tonic::Status::invalid_argument("bad id"));
        assert!(matches!(err, Error::InvalidArgument { .. }));
        assert!(err.to_string().contains("bad id"));
        let err = remote_error("u", tonic::Status::unavailable("draining"));
        assert!(matches!(err, Error::Unavailable(_)));
    }
}
