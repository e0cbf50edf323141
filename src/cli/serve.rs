//! `neardup serve`: run the gRPC server on the embedded default store.
//!
//! Configuration, later sources winning: defaults → `--config FILE` (TOML, see
//! [`crate::config`]) → environment (`NEARDUP_LISTEN`, `NEARDUP_METRICS_LISTEN`,
//! `NEARDUP_DATA_DIR`) → flags. Logs go to stderr (`RUST_LOG` filters, default `info`); once
//! both listeners are bound, one line goes to stdout:
//! `neardup listening on ADDR (gRPC), metrics at http://ADDR/metrics`.
//! SIGTERM or ctrl-c drains in-flight work and stops.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::RawConfig;
use crate::engine::Engine;
use crate::store::embedded::EmbeddedStore;
use crate::{Error, Result};

/// Log output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per event.
    Json,
}

/// Flags of `neardup serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// gRPC address to listen on [default: 127.0.0.1:50051].
    #[arg(long, env = "NEARDUP_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Prometheus /metrics address, or `off` [default: 127.0.0.1:9464].
    #[arg(long, env = "NEARDUP_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Directory of the embedded store [default: ./neardup-data]. Created if missing.
    #[arg(long, env = "NEARDUP_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// When accepted documents reach the disk: `sync` (before Check returns; concurrent
    /// checks share one sync), `interval:MS`, or `off` [default: sync].
    #[arg(long, env = "NEARDUP_DURABILITY")]
    pub durability: Option<String>,
    /// TOML configuration file (limits, timeouts, engine settings).
    #[arg(long, env = "NEARDUP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value = "text", env = "NEARDUP_LOG_FORMAT")]
    pub log_format: LogFormat,
}

impl ServeArgs {
    /// Merge the file and the flags into a raw configuration (flags win).
    pub fn raw_config(&self) -> Result<RawConfig> {
        let mut raw = match &self.config {
            Some(path) => RawConfig::from_file(path)?,
            None => RawConfig::default(),
        };
        if let Some(listen) = self.listen {
            raw.listen = Some(listen.to_string());
        }
        if let Some(metrics) = &self.metrics_listen {
            raw.metrics_listen = Some(metrics.clone());
        }
        if let Some(dir) = &self.data_dir {
            raw.data_dir = Some(dir.clone());
        }
        if let Some(durability) = &self.durability {
            raw.durability = Some(durability.clone());
        }
        Ok(raw)
    }
}

/// Run the server until SIGTERM/ctrl-c, then drain.
pub fn run(args: ServeArgs) -> Result<ExitCode> {
    init_tracing(args.log_format);
    let config = args.raw_config()?.validate()?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::Store {
        path: config.data_dir.display().to_string(),
        message: format!("cannot create the data directory: {e}"),
    })?;
    let store = std::sync::Arc::new(EmbeddedStore::open(&config.data_dir, config.durability)?);
    let started = std::time::Instant::now();
    let engine = Engine::open(config.engine.clone(), store)?;
    tracing::info!(
        data_dir = %config.data_dir.display(),
        durability = ?config.durability,
        documents = engine.stats(None).iter().map(|s| s.documents).sum::<u64>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "store opened"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let bind = |addr: SocketAddr| async move {
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Error::Unavailable(format!("cannot listen on {addr}: {e}")))
        };
        let listener = bind(config.listen).await?;
        let metrics = match config.metrics_listen {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        // The readiness line on stdout, for scripts and tests that bind port 0.
        let mut ready = format!("neardup listening on {} (gRPC)", listener.local_addr()?);
        if let Some(m) = &metrics {
            ready.push_str(&format!(", metrics at http://{}/metrics", m.local_addr()?));
        }
        println!("{ready}");
        std::io::Write::flush(&mut std::io::stdout())?;
        let served =
            crate::server::serve(engine.clone(), listener, metrics, config, shutdown_signal())
                .await;
        // Whatever the durability policy, what was accepted is on disk before we exit.
        engine.flush()?;
        served
    })?;
    Ok(ExitCode::SUCCESS)
}

fn init_tracing(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second initialisation (e.g. in tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Completes on ctrl-c or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
