//! The Audit RPC: a client-streaming call that runs the corpus audit ([`Auditor`]) over the
//! streamed documents and answers with its summary, as `neardup audit` would over the same
//! documents in the same order.
//!
//! - **Scratch state.** Each call makes a fresh in-memory engine with the server's detection
//!   settings (no time window, as `neardup audit`), dropped when the call ends: the server's
//!   namespaces are neither read nor changed.
//! - **Incremental.** A message's documents are validated (as in Check), prepared on the
//!   blocking pool in up to `min(cores, max_inflight)` chunks at once (stripping and features:
//!   the costly part), then committed in input order by one blocking task while the next
//!   message is read and prepared. At most two messages' documents are held (one preparing, one
//!   committing), so memory is the scratch index, the tally and ~2 × `max_message_bytes`, plus
//!   the rows when asked for (bounded by `max_message_bytes`, the response limit).
//! - **Limits.** `max_audit_calls` open calls (refused, not queued), `max_audit_documents` per
//!   call, the document limits of Check, the response within `max_message_bytes`; each is
//!   refused naming the field or setting and the limit.
//! - **Ends.** The caller's deadline (`DEADLINE_EXCEEDED`), the server's drain
//!   (`UNAVAILABLE`), or a refused document: its status, prefixed with its position in the
//!   stream and its id — unless `count_invalid`, which counts it in the summary instead.

use prost::Message as _;
use tokio::task::JoinHandle;
use tonic::{Request, Status, Streaming};

use super::{convert, message_limit_status, task_failed, within, NearDupService};
use crate::audit::{Auditor, PreparedDoc, Preparer};
use crate::document::Document;
use crate::engine::{Engine, EngineConfig};
use crate::proto;
use crate::Error;

/// Characters of a refused document's id quoted in the status message.
const ID_SHOWN: usize = 64;

/// A streamed document, validated or refused (refusals reach the tally with `count_invalid`).
enum Item {
    Doc(Document),
    Refused { origin: String, error: Error },
}

/// An item ready to be committed in input order.
enum Ready {
    Doc(PreparedDoc),
    Refused { origin: String, error: Error },
}

/// What a commit task hands back: the auditor, the batch's rows (when asked for) and how many
/// documents it audited.
type Committed = (Auditor, Vec<proto::AuditRow>, u64);

/// One Audit call's running state.
struct Call {
    settings: convert::AuditSettings,
    preparer: Preparer,
    /// The auditor while no commit task holds it.
    idle: Option<Auditor>,
    /// The commit task of the previous message, which holds the auditor.
    committing: Option<JoinHandle<Committed>>,
    rows: Vec<proto::AuditRow>,
    rows_bytes: usize,
    /// Documents received so far (validated or refused).
    received: usize,
}

/// `document N (id "…")`: where a refused document is in the stream.
fn origin(position: usize, id: &str) -> String {
    let mut shown: String = id.chars().take(ID_SHOWN).collect();
    if shown.len() < id.len() {
        shown.push('…');
    }
    format!("document {position} (id {shown:?})")
}

/// A refused document's status: the code of its error, the message prefixed with its position.
fn at_document(origin: &str, error: Error) -> Status {
    let status = Status::from(error);
    Status::new(
        status.code(),
        format!("{origin} of the Audit stream: {}", status.message()),
    )
}

/// Commit a prepared batch in input order (on the blocking pool).
fn commit(mut auditor: Auditor, ready: Vec<Ready>, rows: bool) -> Committed {
    let mut out = Vec::new();
    let mut audited = 0u64;
    for item in ready {
        match item {
            Ready::Doc(doc) => {
                // An engine refusal is counted in the summary, as `neardup audit` does.
                if let Ok(record) = auditor.commit(doc) {
                    audited += 1;
                    if rows {
                        out.push(convert::audit_row(record));
                    }
                }
            }
            Ready::Refused { origin, error } => auditor.record_error(&origin, &error),
        }
    }
    (auditor, out, audited)
}

impl NearDupService {
    /// Run `work` on the blocking pool under one of its permits (the permit moves into the
    /// task, so a caller giving up never unbounds the pool).
    async fn spawn_on_pool<T, F>(&self, work: F) -> Result<JoinHandle<T>, Status>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self
            .inner
            .pool
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Status::from(Error::Unavailable("server is shutting down".into())))?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        }))
    }

    /// The Audit RPC: one open-call permit, the caller's deadline, then [`Self::audit_stream`].
    pub(super) async fn audit_call(
        &self,
        request: Request<Streaming<proto::AuditRequest>>,
    ) -> Result<proto::AuditResponse, Status> {
        let limits = self.inner.limits;
        let Ok(_permit) = self.inner.audits.clone().try_acquire_owned() else {
            return Err(Error::TooMany {
                what: "Audit calls open at once",
                limit: limits.max_audit_calls,
                setting: "limits.max_audit_calls",
            }
            .into());
        };
        let _open = self.inner.metrics.audit_opened();
        // A stream: only the caller's deadline applies (an audit may take long).
        let deadline = self.deadline(&request, false);
        within(deadline, self.audit_stream(request.into_inner())).await
    }

    /// Read, validate, prepare and commit message after message; answer when the stream ends.
    async fn audit_stream(
        &self,
        mut input: Streaming<proto::AuditRequest>,
    ) -> Result<proto::AuditResponse, Status> {
        let mut draining = self.inner.draining.clone();
        let mut call: Option<Call> = None;
        loop {
            let next = tokio::select! {
                biased;
                _ = draining.wait_for(|d| *d) => {
                    return Err(Error::Unavailable(
                        "server is shutting down; the audit was not finished".into(),
                    )
                    .into())
                }
                next = input.message() => next.map_err(message_limit_status)?,
            };
            let Some(request) = next else {
                break;
            };
            let (options, documents) = convert::audit_request(request);
            let state = match &mut call {
                Some(state) => {
                    if options.is_some() {
                        return Err(Error::invalid(
                            "options",
                            "only the first message of an Audit stream may carry options",
                        )
                        .into());
                    }
                    state
                }
                None => call.insert(self.start_audit(options)?),
            };
            self.audit_message(state, documents).await?;
        }
        let state = match call {
            Some(state) => state,
            None => self.start_audit(None)?,
        };
        self.finish_audit(state).await
    }

    /// A call's state over a fresh scratch engine.
    fn start_audit(&self, options: Option<proto::AuditOptions>) -> Result<Call, Status> {
        let settings = convert::audit_options(options)?;
        let engine = Engine::new(EngineConfig {
            window_days: 0,
            ..self.inner.engine.config().clone()
        });
        let auditor = Auditor::with_engine(engine, settings.config.clone());
        Ok(Call {
            settings,
            preparer: auditor.preparer(),
            idle: Some(auditor),
            committing: None,
            rows: Vec::new(),
            rows_bytes: 0,
            received: 0,
        })
    }

    /// Validate one message's documents, prepare them, and start their commit once the
    /// previous message's commit is done.
    async fn audit_message(
        &self,
        call: &mut Call,
        documents: Vec<proto::Document>,
    ) -> Result<(), Status> {
        let limits = &self.inner.limits;
        if call.received.saturating_add(documents.len()) > limits.max_audit_documents {
            return Err(Error::TooMany {
                what: "documents in one Audit call",
                limit: limits.max_audit_documents,
                setting: "limits.max_audit_documents",
            }
            .into());
        }
        let mut items = Vec::with_capacity(documents.len());
        for doc in documents {
            call.received += 1;
            let position = call.received;
            let id: String = doc.id.chars().take(ID_SHOWN + 1).collect();
            match convert::audit_document(doc, limits) {
                Ok(doc) => items.push(Item::Doc(doc)),
                Err(error) if call.settings.count_invalid => items.push(Item::Refused {
                    origin: origin(position, &id),
                    error,
                }),
                Err(error) => return Err(at_document(&origin(position, &id), error)),
            }
        }
        if items.is_empty() {
            return Ok(());
        }
        let ready = self.prepare_items(&call.preparer, items).await?;
        let auditor = self.take_auditor(call).await?;
        let rows = call.settings.return_clusters;
        call.committing = Some(
            self.spawn_on_pool(move || commit(auditor, ready, rows))
                .await?,
        );
        Ok(())
    }

    /// Prepare items on the blocking pool in up to `min(cores, max_inflight)` chunks at once;
    /// the result keeps the input order.
    async fn prepare_items(
        &self,
        preparer: &Preparer,
        items: Vec<Item>,
    ) -> Result<Vec<Ready>, Status> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = cores.min(self.inner.limits.max_inflight).max(1);
        let per_part = items.len().div_ceil(parts).max(1);
        let total = items.len();
        let mut items = items.into_iter();
        let mut tasks = Vec::with_capacity(parts);
        loop {
            let chunk: Vec<Item> = items.by_ref().take(per_part).collect();
            if chunk.is_empty() {
                break;
            }
            let preparer = preparer.clone();
            tasks.push(
                self.spawn_on_pool(move || {
                    chunk
                        .into_iter()
                        .map(|item| match item {
                            Item::Doc(doc) => Ready::Doc(preparer.prepare(doc)),
                            Item::Refused { origin, error } => Ready::Refused { origin, error },
                        })
                        .collect::<Vec<_>>()
                })
                .await?,
            );
        }
        let mut ready = Vec::with_capacity(total);
        for task in tasks {
            ready.extend(task.await.map_err(task_failed)?);
        }
        Ok(ready)
    }

    /// The auditor, once the previous commit (if any) is done and its rows are kept.
    async fn take_auditor(&self, call: &mut Call) -> Result<Auditor, Status> {
        let Some(task) = call.committing.take() else {
            return call
                .idle
                .take()
                .ok_or_else(|| Status::internal("audit state lost; see the server log"));
        };
        let (auditor, rows, audited) = task.await.map_err(task_failed)?;
        self.inner.metrics.audited(audited);
        let limit = self.inner.limits.max_message_bytes;
        for row in rows {
            // Field tag + length prefix + the row.
            call.rows_bytes +=
                1 + prost::length_delimiter_len(row.encoded_len()) + row.encoded_len();
            call.rows.push(row);
        }
        if call.rows_bytes > limit {
            return Err(Error::TooLarge {
                field: "AuditResponse.clusters (the rows of return_clusters, within max_message_bytes)",
                limit,
                actual: call.rows_bytes,
            }
            .into());
        }
        Ok(auditor)
    }

    /// The summary once every commit is done, and the response within `max_message_bytes`.
    async fn finish_audit(&self, mut call: Call) -> Result<proto::AuditResponse, Status> {
        let auditor = self.take_auditor(&mut call).await?;
        let (summary, json) = self
            .spawn_on_pool(move || {
                let summary = auditor.finish();
                let json = summary.to_json();
                (summary, json)
            })
            .await?
            .await
            .map_err(task_failed)?;
        let response = proto::AuditResponse {
            summary: Some(convert::audit_summary(summary)),
            summary_json: json?,
            clusters: call.rows,
        };
        let limit = self.inner.limits.max_message_bytes;
        let size = response.encoded_len();
        if size > limit {
            return Err(Error::TooLarge {
                field: "AuditResponse (within max_message_bytes)",
                limit,
                actual: size,
            }
            .into());
        }
        tracing::debug!(documents = call.received, bytes = size, "audit answered");
        Ok(response)
    }
}
