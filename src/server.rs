//! `run(listener, config, shutdown)`: the gRPC server with health, reflection, gzip, limits,
//! graceful drain, and a Prometheus `/metrics` endpoint on its own address.
//!
//! The binary (`neardup serve`) only parses the configuration, sets up tracing and calls
//! [`run`]; tests bind `127.0.0.1:0` and call the same function.
//!
//! Shutdown: when `shutdown` completes, health turns `NOT_SERVING`, the listener stops
//! accepting, open CheckStream calls stop taking requests (ending with `UNAVAILABLE`), calls in
//! flight finish, and [`run`] returns — at the latest `drain_timeout` later. State is in memory
//! for now (the durable store is a later issue), so there is nothing to flush yet.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::codec::CompressionEncoding;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::Status;
use tower::util::MapResponseLayer;

use crate::config::Config;
use crate::engine::Engine;
use crate::proto::near_dup_server::NearDupServer;
use crate::service::{message_limit_status, EngineCalls, Metrics, NearDupService};
use crate::{Error, Result};

/// Serve until `shutdown` completes, then drain. The metrics endpoint listens on
/// `config.metrics_listen` (if set).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            Error::Unavailable(format!("cannot listen for metrics on {addr}: {e}"))
        })?),
        None => None,
    };
    run_with_metrics(listener, metrics_listener, config, shutdown).await
}

/// [`run`] with an already bound metrics listener (tests bind `127.0.0.1:0`); `None` serves no
/// metrics. `config.metrics_listen` is ignored. The engine is in memory; [`serve`] over it.
pub async fn run_with_metrics(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let engine = Engine::new(config.engine.clone());
    serve(engine, listener, metrics_listener, config, shutdown).await
}

/// [`run_with_metrics`] over a given engine (e.g. one opened on a durable store, or one a test
/// filled beforehand). Its calls on small documents run on `config.engine_threads` engine
/// threads ([`EngineCalls::Threads`]; with 0, on the runtime threads: [`EngineCalls::Inline`]):
/// checks await their store write outside the call, and deletes on a durable engine, which
/// wait inside, go to the blocking pool.
pub async fn serve(
    engine: Engine,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let calls = match config.engine_threads {
        0 => EngineCalls::Inline,
        n => EngineCalls::Threads(n),
    };
    serve_with(engine, calls, listener, metrics_listener, config, shutdown).await
}

/// [`serve`] with engine calls run as `calls` says (see [`EngineCalls`]).
pub async fn serve_with(
    engine: Engine,
    calls: EngineCalls,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let limits = config.limits;
    let grpc_addr = listener.local_addr()?;
    let metrics = Arc::new(Metrics::new());
    let (drain_tx, drain_rx) = watch::channel(false);
    let drain_tx = Arc::new(drain_tx);

    tokio::spawn(evict_periodically(engine.clone(), drain_rx.clone()));
    let service = NearDupService::with_engine_calls(
        engine,
        &config,
        metrics.clone(),
        drain_rx.clone(),
        calls,
    );
    let engine_threads = service.engine_threads();
    let neardup = NearDupServer::new(service)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limits.max_message_bytes)
        .max_encoding_message_size(limits.max_message_bytes.saturating_mul(2));

    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<NearDupServer<NearDupService>>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .map_err(|e| Error::Unavailable(format!("reflection: {e}")))?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .map_err(|e| Error::Unavailable(format!("reflection: {e}")))?;

    // Shutdown sequence: health NOT_SERVING, streams told to stop, then tonic's graceful stop.
    let signal = {
        let health = health.clone();
        let drain_tx = drain_tx.clone();
        async move {
            shutdown.await;
            tracing::info!("shutdown requested: draining");
            health
                .set_not_serving::<NearDupServer<NearDupService>>()
                .await;
            health
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            let _ = drain_tx.send(true);
        }
    };

    if let Some(metrics_listener) = metrics_listener {
        let addr = metrics_listener.local_addr()?;
        tracing::info!(%addr, "metrics endpoint listening on /metrics");
        tokio::spawn(serve_metrics(metrics_listener, metrics, drain_rx.clone()));
    }

    tracing::info!(
        addr = %grpc_addr,
        max_message_bytes = limits.max_message_bytes,
        max_document_bytes = limits.max_document_bytes,
        max_check_streams = limits.max_check_streams,
        max_inflight = limits.max_inflight,
        engine_threads,
        "neardup gRPC listening"
    );
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = Server::builder()
        .max_concurrent_streams(limits.max_concurrent_streams)
        .layer(MapResponseLayer::new(
            rewrite_limit_response as fn(http::Response<tonic::body::Body>) -> _,
        ))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(neardup)
        .serve_with_incoming_shutdown(incoming, signal);

    let mut drained = drain_rx;
    let drain_timeout = config.drain_timeout;
    let deadline = async move {
        let _ = drained.wait_for(|d| *d).await;
        tokio::time::sleep(drain_timeout).await;
    };
    let result = tokio::select! {
        result = server => {
            result.map_err(|e| Error::Unavailable(format!("gRPC server on {grpc_addr}: {e}")))
        }
        _ = deadline => {
            tracing::warn!(?drain_timeout, "drain timeout: stopping with calls still open");
            Ok(())
        }
    };
    // Also on an early error: stop the metrics endpoint and any stream tasks.
    let _ = drain_tx.send(true);
    if result.is_ok() {
        tracing::info!("stopped");
    }
    result
}

/// Tonic refuses oversized messages before a handler runs, as `OUT_OF_RANGE` with its own
/// wording; rewrite that trailers-only response to `RESOURCE_EXHAUSTED` naming the limit.
fn rewrite_limit_response(
    mut response: http::Response<tonic::body::Body>,
) -> http::Response<tonic::body::Body> {
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    let original = status.message().to_string();
    let mapped = message_limit_status(status);
    if mapped.message() != original {
        let headers = response.headers_mut();
        headers.remove("grpc-status");
        headers.remove("grpc-message");
        headers.remove("grpc-status-details-bin");
        if mapped.add_header(headers).is_err() {
            tracing::warn!("could not rewrite a message-size status");
        }
    }
    response
}

async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    mut draining: watch::Receiver<bool>,
) {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = draining.wait_for(|d| *d).await;
        })
        .await;
    if let Err(err) = result {
        tracing::error!(error = %err, "metrics endpoint failed");
    }
}

/// How often documents older than their namespace's time window are evicted.
pub const EVICTION_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// Evict expired documents every [`EVICTION_INTERVAL`] on the blocking pool (the engine locks
/// one chunk of a namespace at a time, so requests go on), until the server drains.
async fn evict_periodically(engine: Engine, mut drain: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVICTION_INTERVAL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = drain.changed() => return,
        }
        let engine = engine.clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        match tokio::task::spawn_blocking(move || engine.evict_expired(now)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(evicted)) => tracing::info!(evicted, "expired documents evicted"),
            Ok(Err(err)) => tracing::warn!(%err, "eviction failed; retrying next interval"),
            Err(err) => tracing::warn!(%err, "eviction task failed"),
        }
    }
}
