//! The client side of `--remote URL` for `neardup dedup` and `neardup clean`: the same input and
//! output contracts as the local commands, with a `neardup serve` doing the work.
//!
//! `dedup` streams every line over one CheckStream call (bounded: at most [`STREAM_WINDOW`]
//! requests in flight), so verdicts come back in input order at the server's pace.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};

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
