//! gRPC handlers: validate → convert → call the engine → convert back. The only module (with
//! the client side in `cli::remote`) that touches proto types.
//!
//! Engine calls are synchronous, at most `limits.max_inflight` at once (a semaphore; further
//! calls wait, inside their deadline). Where they run is [`EngineCalls`]: on the service's own
//! engine threads, on tokio's blocking pool, or right on the runtime thread that decoded the
//! request. Calls that may wait on I/O inside (a delete on a durable store) and calls on big
//! documents always use the pool. No lock is held across an `.await`: the engine locks inside
//! its own synchronous calls.
//!
//! The Audit RPC (`audit`) runs the corpus audit on a scratch engine of its own per call.

mod audit;
pub mod convert;
pub mod metrics;
pub mod status;
mod threads;

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch, Semaphore};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Request, Response, Status, Streaming};

use crate::config::{Config, Limits};
use crate::engine::Engine;
use crate::proto;
use crate::proto::near_dup_server::NearDup;

pub use metrics::Metrics;

/// Largest document body (text or HTML bytes) an [`EngineCalls::Inline`] service checks or
/// cleans on the runtime thread itself, or an [`EngineCalls::Threads`] service on its engine
/// threads; bigger ones go to the blocking pool. At roughly 15 ns a byte this bounds the time
/// a runtime or engine thread is kept from the calls queued behind it to about 0.5 ms.
pub const INLINE_MAX_BYTES: usize = 32 * 1024;

/// Where the service runs engine calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineCalls {
    /// On tokio's blocking pool; the safe default for any engine.
    #[default]
    Pool,
    /// On the runtime thread that decoded the request, for documents up to
    /// [`INLINE_MAX_BYTES`] (bigger ones, and a current-thread runtime, use the pool). Checks
    /// hand their store write back and the service awaits it outside the call
    /// ([`Engine::check_deferred`]), and deletes (which wait for their write inside) always use
    /// the pool, so this suits an engine on a durable store as well as an in-memory one.
    Inline,
    /// On this many engine threads of the service's own, for documents up to
    /// [`INLINE_MAX_BYTES`]; bigger ones, and deletes on an engine with a store (which wait
    /// for their write inside the call), use the pool. On a machine that also runs the callers
    /// (a scraper beside its service, the load bench), one engine thread on two cores leaves
    /// the other core to the RPC work instead of both cores' caches trading the engine's
    /// tables (load bench c64 on 2 cores: CPU per Check 72–80 → 64–69 µs against
    /// [`Inline`](Self::Inline)). While no engine call is in flight a call runs inline
    /// instead (no thread to wake). With 0 threads it is [`Inline`](Self::Inline).
    Threads(usize),
}

/// Where one engine call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// On the runtime thread that decoded the request.
    Inline,
    /// On the service's engine threads.
    Threads,
    /// On tokio's blocking pool.
    Pool,
}

/// The NearDup service: a cheap, cloneable handle.
#[derive(Debug, Clone)]
pub struct NearDupService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Engine,
    limits: Limits,
    request_timeout: Duration,
    /// Permits for engine calls running at once (the bounded blocking pool).
    pool: Arc<Semaphore>,
    /// Where engine calls run.
    calls: EngineCalls,
    /// The engine threads, for [`EngineCalls::Threads`] (`None` if not one could start: the
    /// service then runs its calls as [`EngineCalls::Inline`]).
    threads: Option<threads::EngineThreads>,
    /// The runtime is multi-threaded (an inline call keeps one worker, others go on).
    multi_thread: bool,
    /// Permits for open CheckStream calls; refused (not queued) when none is left.
    streams: Arc<Semaphore>,
    /// Permits for open Audit calls; refused (not queued) when none is left.
    audits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
    /// Turns true when the server starts draining: open streams stop taking requests.
    draining: watch::Receiver<bool>,
}

impl NearDupService {
    /// A service over `engine` with the limits and timeouts of `config`, running engine calls
    /// on the blocking pool ([`EngineCalls::Pool`]). `draining` turns true when the server
    /// shuts down.
    pub fn new(
        engine: Engine,
        config: &Config,
        metrics: Arc<Metrics>,
        draining: watch::Receiver<bool>,
    ) -> Self {
        Self::with_engine_calls(engine, config, metrics, draining, EngineCalls::Pool)
    }

    /// [`new`](Self::new) with engine calls run as `calls` says. Call it from inside the
    /// runtime that will serve the requests (it notes whether that runtime is multi-threaded).
    pub fn with_engine_calls(
        engine: Engine,
        config: &Config,
        metrics: Arc<Metrics>,
        draining: watch::Receiver<bool>,
        calls: EngineCalls,
    ) -> Self {
        let limits = config.limits;
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        let threads = match calls {
            EngineCalls::Threads(n) if n > 0 => threads::EngineThreads::start(&engine, n),
            _ => None,
        };
        let calls = match calls {
            EngineCalls::Threads(_) if threads.is_none() => EngineCalls::Inline,
            calls => calls,
        };
        NearDupService {
            inner: Arc::new(Inner {
                engine,
                limits,
                request_timeout: config.request_timeout,
                pool: Arc::new(Semaphore::new(limits.max_inflight)),
                calls,
                threads,
                multi_thread,
                streams: Arc::new(Semaphore::new(limits.max_check_streams)),
                audits: Arc::new(Semaphore::new(limits.max_audit_calls)),
                metrics,
                draining,
            }),
        }
    }

    /// When the call must be answered: the caller's `grpc-timeout`, capped by the server's
    /// `request_timeout` for unary calls (streams only have the caller's).
    fn deadline<T>(&self, request: &Request<T>, unary: bool) -> Option<Instant> {
        let now = Instant::now();
        let client = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .map(|d| now + d);
        let server = unary.then(|| now + self.inner.request_timeout);
        match (client, server) {
            (Some(c), Some(s)) => Some(c.min(s)),
            (c, s) => c.or(s),
        }
    }

    /// Where an engine call on a document of `bytes` runs.
    fn placement(&self, bytes: usize) -> Placement {
        match self.inner.calls {
            _ if bytes > INLINE_MAX_BYTES => Placement::Pool,
            EngineCalls::Threads(_) if self.inner.threads.is_some() => Placement::Threads,
            EngineCalls::Inline | EngineCalls::Threads(_) if self.inner.multi_thread => {
                Placement::Inline
            }
            _ => Placement::Pool,
        }
    }

    /// [`placement`](Self::placement), except that with [`EngineCalls::Threads`] a call that
    /// finds no engine call in flight (every permit free) runs inline: handing it to an idle
    /// engine thread and its answer back costs two thread wake-ups (load bench c1: p50 +45 µs),
    /// while a busy server queues its calls for the engine threads.
    fn placement_now(&self, bytes: usize) -> Placement {
        match self.placement(bytes) {
            Placement::Threads
                if self.inner.multi_thread
                    && self.inner.pool.available_permits() == self.inner.limits.max_inflight =>
            {
                Placement::Inline
            }
            placement => placement,
        }
    }

    /// Engine threads running (0 unless [`EngineCalls::Threads`]).
    pub fn engine_threads(&self) -> usize {
        self.inner.threads.as_ref().map_or(0, |t| t.threads())
    }

    /// One of the `max_inflight` permits for engine work, waited for inside the deadline; an
    /// error when the deadline has passed by the time it is had (work the caller has stopped
    /// waiting for is not started).
    async fn permit(
        &self,
        deadline: Option<Instant>,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, Status> {
        let pool = &self.inner.pool;
        // The common case takes a free permit without waiting (no timer, no task hop).
        let permit = match Arc::clone(pool).try_acquire_owned() {
            Ok(permit) => permit,
            Err(tokio::sync::TryAcquireError::Closed) => {
                return Err(Status::unavailable("server is shutting down"))
            }
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let wait = async {
                    Arc::clone(pool)
                        .acquire_owned()
                        .await
                        .map_err(|_| Status::unavailable("server is shutting down"))
                };
                within(deadline, wait).await?
            }
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(deadline_exceeded());
        }
        Ok(permit)
    }

    /// A check on this runtime thread (see [`EngineCalls::Inline`]) under one permit: prepare,
    /// then commit. While another commit holds the namespace, the task yields to the
    /// runtime's other tasks and tries again, instead of parking this thread on the lock (a
    /// parked runtime thread leaves its core idle and costs two futex calls). The verdict is
    /// that of [`Engine::check_deferred`].
    async fn check_inline(
        &self,
        deadline: Option<Instant>,
        namespace: &str,
        document: crate::document::Document,
        options: &crate::engine::CheckOptions,
    ) -> Result<(crate::engine::CheckOutcome, crate::store::PendingWrite), Status> {
        use crate::engine::TryCommit;
        let permit = self.permit(deadline).await?;
        let engine = &self.inner.engine;
        let mut prepared = engine.prepare(namespace, document, options)?;
        let done = loop {
            match engine.try_commit_deferred(namespace, prepared, options)? {
                TryCommit::Done(outcome, pending) => break (outcome, pending),
                TryCommit::Busy(again) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(deadline_exceeded());
                    }
                    prepared = again;
                    tokio::task::yield_now().await;
                }
            }
        };
        drop(permit);
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(deadline_exceeded());
        }
        Ok(done)
    }

    /// Run one engine call, inside the deadline, under one of the `max_inflight` permits,
    /// where `placement` says.
    async fn run_engine<T, F>(
        &self,
        deadline: Option<Instant>,
        placement: Placement,
        work: F,
    ) -> Result<T, Status>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> crate::Result<T> + Send + 'static,
    {
        let permit = self.permit(deadline).await?;
        if let (Placement::Threads, Some(threads)) = (placement, &self.inner.threads) {
            // The permit moves with the work, as on the pool: if the caller gives up, the work
            // still finishes (check-and-insert stays atomic) and the queue stays bounded. Work
            // whose deadline passed while queued is not started; work cannot be interrupted,
            // so a deadline that passes while it runs is answered after.
            let (answer, answered) = tokio::sync::oneshot::channel();
            let job: threads::Job = Box::new(move |engine: &Engine| {
                let _permit = permit;
                let result = if deadline.is_some_and(|d| Instant::now() >= d) {
                    None
                } else {
                    Some(work(engine))
                };
                let _ = answer.send(result);
            });
            if !threads.submit(job) {
                return Err(Status::unavailable("the engine threads have stopped"));
            }
            let result = answered.await.map_err(|_| engine_call_failed())?;
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(deadline_exceeded());
            }
            return result.ok_or_else(deadline_exceeded)?.map_err(Status::from);
        }
        if placement == Placement::Inline {
            // Pure CPU work of bounded size: run it here, no hop to another thread and back.
            // It cannot be interrupted, so a deadline that passes meanwhile is answered after.
            let result = work(&self.inner.engine);
            drop(permit);
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(deadline_exceeded());
            }
            return result.map_err(Status::from);
        }
        // On the pool the permit moves with the work, so if the caller gives up the work still
        // finishes (check-and-insert stays atomic) and the pool stays bounded.
        let engine = self.inner.engine.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&engine)
        });
        within(deadline, async move {
            joined.await.map_err(task_failed)?.map_err(Status::from)
        })
        .await
    }

    /// One check, as used by Check and by each CheckStream request.
    async fn check_one(
        &self,
        req: proto::CheckRequest,
        deadline: Option<Instant>,
    ) -> Result<proto::CheckResponse, Status> {
        let input = convert::check_request(req, &self.inner.limits)?;
        let convert::CheckInput {
            namespace,
            document,
            options,
            return_clean,
        } = input;
        let bytes = document.content_len();
        tracing::debug!(namespace = %namespace, id = %document.id, bytes, "check");
        // The CPU work runs under a permit; the wait for the store's write (if any) does not,
        // so checks waiting for one sync do not keep the next ones from being decided.
        let placement = self.placement_now(bytes);
        let (outcome, pending) = if placement == Placement::Inline {
            self.check_inline(deadline, &namespace, document, &options)
                .await?
        } else {
            self.run_engine(deadline, placement, move |engine| {
                engine.check_deferred(&namespace, document, &options)
            })
            .await?
        };
        within(deadline, async move {
            pending.wait_async().await.map_err(Status::from)
        })
        .await?;
        self.inner
            .metrics
            .document(bytes, outcome.duplicate_of.is_some(), outcome.inserted);
        Ok(convert::check_response(outcome, return_clean))
    }

    fn observe<T>(&self, method: &'static str, started: Instant, result: &Result<T, Status>) {
        let code = match result {
            Ok(_) => Code::Ok,
            Err(status) => {
                tracing::debug!(method, code = ?status.code(), message = status.message(), "refused");
                status.code()
            }
        };
        self.inner.metrics.observe(method, code, started);
    }
}

/// A blocking task that panicked or was cancelled: logged, sent as a short `INTERNAL`.
fn engine_call_failed() -> Status {
    Status::internal("engine call failed; see the server log")
}

fn task_failed(err: tokio::task::JoinError) -> Status {
    tracing::error!(error = %err, "engine task failed");
    Status::internal("engine task failed; see the server log")
}

/// `call`, or `DEADLINE_EXCEEDED` once `deadline` passes.
async fn within<T>(
    deadline: Option<Instant>,
    call: impl std::future::Future<Output = Result<T, Status>>,
) -> Result<T, Status> {
    match deadline {
        None => call.await,
        Some(deadline) => tokio::time::timeout_at(deadline.into(), call)
            .await
            .unwrap_or_else(|_| Err(deadline_exceeded())),
    }
}

fn deadline_exceeded() -> Status {
    Status::deadline_exceeded("the deadline passed before the answer was ready")
}

/// Parse a `grpc-timeout` header value: up to 8 digits and a unit (H, M, S, m, u, n).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Rewrite tonic's message-size refusals (`OUT_OF_RANGE "decoded message length too large"`,
/// `RESOURCE_EXHAUSTED "size limit ... exceeded while decompressing"`) as `RESOURCE_EXHAUSTED`
/// naming the limit; any other status is returned unchanged.
pub fn message_limit_status(status: Status) -> Status {
    let message = status.message();
    let size_error = message.starts_with("Error, decoded message length too large")
        || message.starts_with("Error decompressing: size limit");
    if !size_error {
        return status;
    }
    let numbers: Vec<&str> = message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    let text = match numbers.as_slice() {
        [found, limit] => format!(
            "request message is {found} bytes, over the limit of {limit} (max_message_bytes)"
        ),
        [limit] => format!(
            "request message decompresses to more than {limit} bytes, over the limit (max_message_bytes)"
        ),
        _ => format!("request message is over the limit max_message_bytes: {message}"),
    };
    Status::resource_exhausted(text)
}

/// The response stream of CheckStream.
pub type CheckStreamResponses =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<proto::CheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl NearDup for NearDupService {
    async fn check(
        &self,
        request: Request<proto::CheckRequest>,
    ) -> Result<Response<proto::CheckResponse>, Status> {
        let started = Instant::now();
        let deadline = self.deadline(&request, true);
        let result = self
            .check_one(request.into_inner(), deadline)
            .await
            .map(Response::new);
        self.observe("Check", started, &result);
        result
    }

    type CheckStreamStream = CheckStreamResponses;

    async fn check_stream(
        &self,
        request: Request<Streaming<proto::CheckRequest>>,
    ) -> Result<Response<Self::CheckStreamStream>, Status> {
        let limit = self.inner.limits.max_check_streams;
        let Ok(permit) = self.inner.streams.clone().try_acquire_owned() else {
            let refused = Err(Status::resource_exhausted(format!(
                "too many CheckStream calls open: the limit is {limit} (max_check_streams); retry later"
            )));
            self.observe("CheckStream", Instant::now(), &refused);
            return refused;
        };
        let deadline = self.deadline(&request, false);
        let mut input = request.into_inner();
        let (tx, rx) = mpsc::channel(self.inner.limits.stream_buffer);
        let this = self.clone();
        let mut draining = self.inner.draining.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = this.inner.metrics.stream_opened();
            let expired = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(expired);
            loop {
                let next = tokio::select! {
                    biased;
                    _ = draining.wait_for(|d| *d) => Err(Status::unavailable(
                        "server is shutting down; resend the requests that got no response",
                    )),
                    _ = &mut expired => Err(deadline_exceeded()),
                    next = input.message() => next.map_err(message_limit_status),
                };
                let req = match next {
                    Ok(Some(req)) => req,
                    Ok(None) => break,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                let started = Instant::now();
                let result = this.check_one(req, deadline).await;
                this.observe("CheckStream", started, &result);
                let item = match result {
                    Ok(resp) => Ok(resp),
                    // A refused request gets its own error response; the stream goes on.
                    Err(status) if is_item_error(status.code()) => Ok(item_error_response(status)),
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        break;
                    }
                };
                // Bounded channel: a slow reader stops us reading more requests.
                if tx.send(item).await.is_err() {
                    break; // the caller went away
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn clean(
        &self,
        request: Request<proto::CleanRequest>,
    ) -> Result<Response<proto::CleanResponse>, Status> {
        let started = Instant::now();
        let deadline = self.deadline(&request, true);
        let result = async {
            let (namespace, document, format) =
                convert::clean_request(request.into_inner(), &self.inner.limits)?;
            let placement = self.placement_now(document.content_len());
            let cleaned = self
                .run_engine(deadline, placement, move |engine| {
                    engine.clean(&namespace, &document, format)
                })
                .await?;
            Ok(Response::new(convert::clean_response(cleaned)))
        }
        .await;
        self.observe("Clean", started, &result);
        result
    }

    async fn delete(
        &self,
        request: Request<proto::DeleteRequest>,
    ) -> Result<Response<proto::DeleteResponse>, Status> {
        let started = Instant::now();
        let deadline = self.deadline(&request, true);
        let result = async {
            let (namespace, id) =
                convert::delete_request(request.into_inner(), &self.inner.limits)?;
            // A delete waits for its store write inside the call: only ever on the pool then.
            let placement = if self.inner.engine.has_store() {
                Placement::Pool
            } else {
                self.placement_now(0)
            };
            let deleted = self
                .run_engine(deadline, placement, move |engine| {
                    engine.delete(&namespace, &id)
                })
                .await?;
            Ok(Response::new(proto::DeleteResponse { deleted }))
        }
        .await;
        self.observe("Delete", started, &result);
        result
    }

    async fn stats(
        &self,
        request: Request<proto::StatsRequest>,
    ) -> Result<Response<proto::StatsResponse>, Status> {
        let started = Instant::now();
        let deadline = self.deadline(&request, true);
        let result = async {
            let namespace = convert::stats_request(request.into_inner(), &self.inner.limits)?;
            let stats = self
                .run_engine(deadline, self.placement_now(0), move |engine| {
                    Ok(engine.stats(namespace.as_deref()))
                })
                .await?;
            Ok(Response::new(convert::stats_response(stats)))
        }
        .await;
        self.observe("Stats", started, &result);
        result
    }

    async fn echo(
        &self,
        request: Request<proto::EchoRequest>,
    ) -> Result<Response<proto::EchoResponse>, Status> {
        let started = Instant::now();
        let proto::EchoRequest { payload } = request.into_inner();
        let result = Ok(Response::new(proto::EchoResponse { payload }));
        self.observe("Echo", started, &result);
        result
    }

    async fn audit(
        &self,
        request: Request<Streaming<proto::AuditRequest>>,
    ) -> Result<Response<proto::AuditResponse>, Status> {
        let started = Instant::now();
        let result = self.audit_call(request).await.map(Response::new);
        self.observe("Audit", started, &result);
        result
    }
}

/// Codes that refuse one streamed request without ending the stream: the caller's mistakes.
fn is_item_error(code: Code) -> bool {
    matches!(
        code,
        Code::InvalidArgument | Code::ResourceExhausted | Code::AlreadyExists | Code::NotFound
    )
}

fn item_error_response(status: Status) -> proto::CheckResponse {
    proto::CheckResponse {
        error: Some(proto::ItemError {
            code: status.code() as i32,
            message: status.message().to_string(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn service(calls: EngineCalls, config: &Config) -> NearDupService {
        let (_tx, draining) = watch::channel(false);
        NearDupService::with_engine_calls(
            Engine::in_memory(),
            config,
            Arc::new(Metrics::new()),
            draining,
            calls,
        )
    }

    fn multi_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn check_request(id: &str, text: &str) -> proto::CheckRequest {
        proto::CheckRequest {
            namespace: "n".into(),
            document: Some(proto::Document {
                id: id.into(),
                content: Some(proto::document::Content::Text(text.into())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn small_documents_run_where_the_setting_says_and_big_ones_on_the_pool() {
        let config = Config::default();
        multi_thread().block_on(async {
            let inline = service(EngineCalls::Inline, &config);
            assert_eq!(inline.placement(0), Placement::Inline);
            assert_eq!(inline.placement(INLINE_MAX_BYTES), Placement::Inline);
            assert_eq!(inline.placement(INLINE_MAX_BYTES + 1), Placement::Pool);
            assert_eq!(
                service(EngineCalls::Pool, &config).placement(0),
                Placement::Pool
            );
            let threads = service(EngineCalls::Threads(2), &config);
            assert_eq!(threads.engine_threads(), 2);
            assert_eq!(threads.placement(INLINE_MAX_BYTES), Placement::Threads);
            assert_eq!(threads.placement(INLINE_MAX_BYTES + 1), Placement::Pool);
            let none = service(EngineCalls::Threads(0), &config);
            assert_eq!(none.engine_threads(), 0);
            assert_eq!(none.placement(0), Placement::Inline);
        });
        // A current-thread runtime has no other worker to go on while one call runs; engine
        // threads are the service's own.
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        current.block_on(async {
            let inline = service(EngineCalls::Inline, &config);
            assert_eq!(inline.placement(0), Placement::Pool);
            let threads = service(EngineCalls::Threads(1), &config);
            assert_eq!(threads.placement(0), Placement::Threads);
        });
    }

    #[test]
    fn an_idle_server_runs_calls_inline_and_a_busy_one_queues_them_for_its_threads() {
        let config = Config::default();
        multi_thread().block_on(async {
            let svc = service(EngineCalls::Threads(1), &config);
            assert_eq!(svc.placement_now(0), Placement::Inline);
            let busy = svc.inner.pool.clone().try_acquire_owned().unwrap();
            assert_eq!(svc.placement_now(0), Placement::Threads);
            assert_eq!(svc.placement_now(INLINE_MAX_BYTES + 1), Placement::Pool);
            drop(busy);
            assert_eq!(svc.placement_now(0), Placement::Inline);
            let pool = service(EngineCalls::Pool, &config);
            assert_eq!(pool.placement_now(0), Placement::Pool);
        });
    }

    #[test]
    fn work_queued_past_its_deadline_on_the_engine_threads_is_not_started() {
        let config = Config::default();
        multi_thread().block_on(async {
            let svc = service(EngineCalls::Threads(1), &config);
            // Hold the only engine thread until released.
            let (release, held) = std::sync::mpsc::channel::<()>();
            let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
            let holder = tokio::spawn({
                let svc = svc.clone();
                async move {
                    svc.run_engine(None, Placement::Threads, move |_| {
                        let _ = started_tx.send(());
                        let _ = held.recv_timeout(Duration::from_secs(10));
                        Ok(1)
                    })
                    .await
                }
            });
            started.await.unwrap();
            let ran = Arc::new(AtomicBool::new(false));
            let flag = ran.clone();
            let queued = tokio::spawn({
                let svc = svc.clone();
                let deadline = Some(Instant::now() + Duration::from_millis(50));
                async move {
                    svc.run_engine(deadline, Placement::Threads, move |_| {
                        flag.store(true, Ordering::SeqCst);
                        Ok(2)
                    })
                    .await
                }
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
            release.send(()).unwrap();
            assert_eq!(holder.await.unwrap().ok(), Some(1));
            let status = queued
                .await
                .unwrap()
                .err()
                .unwrap_or_else(|| Status::ok(""));
            assert_eq!(status.code(), Code::DeadlineExceeded);
            assert!(!ran.load(Ordering::SeqCst), "started past its deadline");
        });
    }

    #[test]
    fn a_panicking_engine_call_is_an_internal_error_and_the_threads_go_on() {
        let config = Config::default();
        multi_thread().block_on(async {
            let svc = service(EngineCalls::Threads(1), &config);
            let failed: Result<(), Status> = svc
                .run_engine(None, Placement::Threads, |_| panic!("engine bug"))
                .await;
            assert_eq!(failed.unwrap_err().code(), Code::Internal);
            let answer = svc.run_engine(None, Placement::Threads, |_| Ok(7)).await;
            assert_eq!(answer.ok(), Some(7));
        });
    }

    #[test]
    fn work_past_its_deadline_is_not_started_anywhere() {
        let config = Config::default();
        multi_thread().block_on(async {
            for (calls, placement) in [
                (EngineCalls::Inline, Placement::Inline),
                (EngineCalls::Pool, Placement::Pool),
                (EngineCalls::Threads(1), Placement::Threads),
            ] {
                let svc = service(calls, &config);
                let ran = Arc::new(AtomicBool::new(false));
                let flag = ran.clone();
                let passed = Some(Instant::now());
                let result = svc
                    .run_engine(passed, placement, move |_| {
                        flag.store(true, Ordering::SeqCst);
                        Ok(())
                    })
                    .await;
                let status = result.err().unwrap_or_else(|| Status::ok(""));
                assert_eq!(status.code(), Code::DeadlineExceeded, "{calls:?}");
                assert!(!ran.load(Ordering::SeqCst), "{calls:?}");
                // Within its deadline the same call runs and answers.
                let later = Some(Instant::now() + Duration::from_secs(60));
                let answer = svc.run_engine(later, placement, |_| Ok(7)).await;
                assert_eq!(answer.ok(), Some(7), "{calls:?}");
            }
        });
    }

    #[test]
    fn every_placement_gives_the_same_answers() {
        let config = Config::default();
        let story = "The council agreed on Tuesday to rebuild the old bridge over the river \
                     before the winter, the mayor said after a long meeting with engineers.\n"
            .repeat(8);
        multi_thread().block_on(async {
            let mut answers = Vec::new();
            for calls in [
                EngineCalls::Inline,
                EngineCalls::Pool,
                EngineCalls::Threads(1),
            ] {
                let svc = service(calls, &config);
                // A permit held elsewhere: the server is busy, so checks take the engine
                // threads (an idle one runs them inline).
                let _busy = svc.inner.pool.clone().try_acquire_owned().unwrap();
                let first = svc.check_one(check_request("a", &story), None).await;
                let again = svc.check_one(check_request("b", &story), None).await;
                let (first, again) = (first.unwrap(), again.unwrap());
                assert_eq!(first.verdict, proto::Verdict::Unique as i32, "{calls:?}");
                assert_eq!(again.duplicate_of, "a", "{calls:?}");
                answers.push((first, again));
            }
            assert_eq!(answers[0], answers[1]);
            assert_eq!(answers[0], answers[2]);
        });
    }

    /// A store that keeps every write pending until the test answers it.
    #[derive(Debug, Default)]
    struct HeldStore {
        answers: parking_lot::Mutex<Vec<crate::store::WriteAnswer>>,
    }

    impl crate::store::Store for HeldStore {
        fn submit(
            &self,
            _namespace: &str,
            _ops: Vec<crate::store::Op>,
        ) -> crate::Result<crate::store::PendingWrite> {
            let (answer, pending) = crate::store::PendingWrite::channel();
            self.answers.lock().push(answer);
            Ok(pending)
        }
        fn get(
            &self,
            _namespace: &str,
            _table: crate::store::Table,
            _key: &[u8],
        ) -> crate::Result<Option<Vec<u8>>> {
            Ok(None)
        }
        fn scan(
            &self,
            _namespace: &str,
            _table: crate::store::Table,
            _visit: &mut crate::store::Visitor<'_>,
        ) -> crate::Result<()> {
            Ok(())
        }
        fn namespaces(&self) -> crate::Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn drop_namespace(&self, _namespace: &str) -> crate::Result<bool> {
            Ok(false)
        }
        fn flush(&self) -> crate::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_check_waiting_for_its_write_holds_no_permit_and_answers_once_it_is_durable() {
        let mut config = Config::default();
        // One permit is held below (a busy server, so the engine threads take the checks):
        // one is left for them.
        config.limits.max_inflight = 2;
        let store = Arc::new(HeldStore::default());
        let engine = Engine::open(config.engine.clone(), store.clone()).unwrap();
        let stories = [
            "The council agreed on Tuesday to rebuild the old bridge before the winter, the \
             mayor said after a long meeting with engineers and residents.\n",
            "Heavy rain flooded three villages in the north overnight and rescue teams moved \
             dozens of families to a school gym, police said on Sunday.\n",
            "The national orchestra will tour five cities next spring with a programme of new \
             works by young composers, its director announced.\n",
            "Shares in the airline fell sharply after it cut its profit forecast, blaming fuel \
             prices and a strike by ground staff at two airports.\n",
            "A rare owl was seen nesting in the city park for the first time in forty years, \
             and bird watchers gathered at dawn to photograph the pair.\n",
            "The football club named a new coach on Friday, a former player who led the youth \
             team to two league titles, and gave him a three-year contract.\n",
        ];
        let story = |i: usize| stories[i].repeat(6);
        multi_thread().block_on(async {
            for (round, calls) in [
                EngineCalls::Inline,
                EngineCalls::Pool,
                EngineCalls::Threads(1),
            ]
            .into_iter()
            .enumerate()
            {
                store.answers.lock().clear();
                let (_tx, draining) = watch::channel(false);
                let svc = NearDupService::with_engine_calls(
                    engine.clone(),
                    &config,
                    Arc::new(Metrics::new()),
                    draining,
                    calls,
                );
                let _busy = svc.inner.pool.clone().try_acquire_owned().unwrap();
                let pending_writes = || store.answers.lock().len();
                let wait_for = |n: usize| async move {
                    for _ in 0..2000 {
                        if pending_writes() >= n {
                            return true;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    false
                };
                let (a, b) = (format!("a-{calls:?}"), format!("b-{calls:?}"));
                let first = tokio::spawn({
                    let svc = svc.clone();
                    let req = check_request(&a, &story(round * 2));
                    async move { svc.check_one(req, None).await }
                });
                assert!(
                    wait_for(1).await,
                    "{calls:?}: the first write was not submitted"
                );
                // The only permit is free again: a second check is decided meanwhile.
                let second = tokio::spawn({
                    let svc = svc.clone();
                    let req = check_request(&b, &story(round * 2 + 1));
                    async move { svc.check_one(req, None).await }
                });
                let decided = wait_for(2).await;
                // Neither is answered before its write is durable.
                tokio::time::sleep(Duration::from_millis(20)).await;
                let answered_early = first.is_finished() || second.is_finished();
                // Release the writes before asserting, so a failure cannot hang the test.
                let release = || {
                    for answer in store.answers.lock().drain(..) {
                        answer.send(Ok(()));
                    }
                };
                release();
                if !decided {
                    wait_for(1).await;
                    release();
                }
                assert!(
                    decided,
                    "{calls:?}: a check waiting for its write kept the next one out"
                );
                assert!(!answered_early, "{calls:?}");
                let first = first.await.unwrap().unwrap();
                let second = second.await.unwrap().unwrap();
                assert_eq!(first.verdict, proto::Verdict::Unique as i32);
                assert_eq!(second.verdict, proto::Verdict::Unique as i32);
            }
        });
    }

    #[test]
    fn a_failed_or_abandoned_write_is_an_error_for_its_check() {
        multi_thread().block_on(async {
            let (answer, pending) = crate::store::PendingWrite::channel();
            answer.send(Err(Error::Unavailable("disk full".into())));
            assert!(pending.wait_async().await.is_err());
            let (answer, pending) = crate::store::PendingWrite::channel();
            drop(answer);
            let err = pending.wait_async().await.unwrap_err().to_string();
            assert!(err.contains("store writer stopped"), "{err}");
            let (answer, pending) = crate::store::PendingWrite::channel();
            drop(answer);
            assert!(pending.wait().is_err());
        });
    }

    #[test]
    fn item_errors_carry_the_unary_code() {
        let resp = item_error_response(Status::from(Error::TooLarge {
            field: "document.text",
            limit: 1,
            actual: 2,
        }));
        let err = resp.error.unwrap_or_default();
        assert_eq!(err.code, Code::ResourceExhausted as i32);
        assert!(err.message.contains("document.text"));
        assert!(is_item_error(Code::InvalidArgument));
        assert!(!is_item_error(Code::DeadlineExceeded));
    }

    #[test]
    fn grpc_timeout_values() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(parse_grpc_timeout(""), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("-5S"), None);
        assert_eq!(parse_grpc_timeout("5é"), None);
    }

    proptest::proptest! {
        #[test]
        fn grpc_timeout_never_panics_and_reads_what_tonic_writes(
            junk in "\\PC{0,12}",
            n in 0u64..100_000_000,
            unit in proptest::sample::select(vec!['H', 'M', 'S', 'm', 'u', 'n']),
        ) {
            let _ = parse_grpc_timeout(&junk);
            let parsed = parse_grpc_timeout(&format!("{n}{unit}"));
            let expected = match unit {
                'H' => Duration::from_secs(n * 3600),
                'M' => Duration::from_secs(n * 60),
                'S' => Duration::from_secs(n),
                'm' => Duration::from_millis(n),
                'u' => Duration::from_micros(n),
                _ => Duration::from_nanos(n),
            };
            proptest::prop_assert_eq!(parsed, Some(expected));
        }
    }

    #[test]
    fn message_limit_statuses_are_rewritten() {
        let s = message_limit_status(Status::out_of_range(
            "Error, decoded message length too large: found 5000 bytes, the limit is: 4096 bytes",
        ));
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert!(s
            .message()
            .contains("5000 bytes, over the limit of 4096 (max_message_bytes)"));
        let s = message_limit_status(Status::resource_exhausted(
            "Error decompressing: size limit, of 4096 bytes, exceeded while decompressing message",
        ));
        assert!(s.message().contains("4096") && s.message().contains("max_message_bytes"));
        let other = message_limit_status(Status::out_of_range("something else"));
        assert_eq!(other.message(), "something else");
    }
}
