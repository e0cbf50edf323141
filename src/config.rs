//! Validated configuration. Each stage owns its settings struct; this module gathers them.
//!
//! Sources, later ones winning: built-in defaults → a TOML file (`--config FILE`) → environment
//! variables and command-line flags (parsed by `cli::serve`). The raw layer ([`RawConfig`]) is
//! all `Option`s straight from serde; [`RawConfig::validate`] turns it into a [`Config`] whose
//! fields are typed and checked, so the server never sees a zero limit or a bad address.
//!
//! ```toml
//! listen = "127.0.0.1:50051"
//! metrics_listen = "127.0.0.1:9464"   # or "off"
//! data_dir = "./neardup-data"
//! request_timeout_ms = 30000
//! drain_timeout_ms = 10000
//! engine_threads = 1                  # default: half the cores, at least 1; 0 = runtime threads
//!
//! [limits]
//! max_message_bytes = 4194304
//! max_document_bytes = 1048576
//! max_id_bytes = 512
//! max_namespace_bytes = 128
//! max_concurrent_streams = 256
//! max_check_streams = 64
//! stream_buffer = 32
//! max_inflight = 8
//! max_audit_calls = 2
//! max_audit_documents = 100000
//!
//! [engine]
//! window_days = 0
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::engine::EngineConfig;
use crate::store::Durability;
use crate::{Error, Result};

/// Default gRPC address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:50051";
/// Default Prometheus `/metrics` address (the port registered for Prometheus exporters).
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";
/// Default directory of the embedded store.
pub const DEFAULT_DATA_DIR: &str = "./neardup-data";

/// The whole service configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Detection and stripping settings.
    pub engine: EngineConfig,
    /// Address the gRPC server listens on (used by `neardup serve`; `server::run` takes a bound
    /// listener instead).
    pub listen: SocketAddr,
    /// Address of the Prometheus `/metrics` HTTP endpoint; `None` turns it off.
    pub metrics_listen: Option<SocketAddr>,
    /// Directory of the embedded store (created at start).
    pub data_dir: PathBuf,
    /// When an acknowledged document reaches the disk (default: before `Check` returns).
    pub durability: Durability,
    /// Request and stream limits.
    pub limits: Limits,
    /// Longest time a unary call may take, whatever deadline the caller sent (a shorter caller
    /// deadline wins).
    pub request_timeout: Duration,
    /// After a shutdown signal, how long in-flight calls and open streams may go on before the
    /// server stops anyway.
    pub drain_timeout: Duration,
    /// Threads of the service's own that run engine calls on documents up to
    /// `service::INLINE_MAX_BYTES` (default: half the cores, at least one, so the other half
    /// serves the RPCs; see `service::EngineCalls::Threads`). 0 runs them on the runtime's
    /// threads instead.
    pub engine_threads: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineConfig::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            metrics_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            durability: Durability::default(),
            limits: Limits::default(),
            request_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            engine_threads: default_engine_threads(),
        }
    }
}

/// Half the cores, at least one.
fn default_engine_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (cores / 2).max(1)
}

/// Explicit limits. A request over one is refused with `RESOURCE_EXHAUSTED` and a message
/// naming the field and the limit; the server keeps serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest encoded (and decompressed) request message.
    pub max_message_bytes: usize,
    /// Largest document body (`document.text` or `document.html`).
    pub max_document_bytes: usize,
    /// Longest document id.
    pub max_id_bytes: usize,
    /// Longest namespace name.
    pub max_namespace_bytes: usize,
    /// HTTP/2 streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).
    pub max_concurrent_streams: u32,
    /// CheckStream calls open at once over the whole server.
    pub max_check_streams: usize,
    /// Responses a CheckStream buffers before it stops reading requests (backpressure).
    pub stream_buffer: usize,
    /// Engine calls running at once (the bounded blocking pool); further calls wait.
    pub max_inflight: usize,
    /// Audit calls open at once over the whole server (each holds a scratch index of its
    /// corpus); refused rather than queued.
    pub max_audit_calls: usize,
    /// Documents one Audit call may stream (bounds the memory of its scratch index: roughly
    /// 5 KB per document).
    pub max_audit_documents: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Limits {
            max_message_bytes: 4 * 1024 * 1024,
            max_document_bytes: 1024 * 1024,
            max_id_bytes: 512,
            max_namespace_bytes: 128,
            max_concurrent_streams: 256,
            max_check_streams: 64,
            stream_buffer: 32,
            max_inflight: (cores * 2).max(4),
            max_audit_calls: 2,
            max_audit_documents: 100_000,
        }
    }
}

/// Configuration as read from a file, the environment or flags: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// gRPC address, e.g. `127.0.0.1:50051`.
    pub listen: Option<String>,
    /// Metrics address, or `off`.
    pub metrics_listen: Option<String>,
    /// Store directory.
    pub data_dir: Option<PathBuf>,
    /// `sync` (default: every acknowledged write is on disk, with group commit), `interval:MS`
    /// (synced at most MS milliseconds later) or `off` (never synced by us).
    pub durability: Option<String>,
    /// Unary call time cap in milliseconds.
    pub request_timeout_ms: Option<u64>,
    /// Drain time on shutdown in milliseconds.
    pub drain_timeout_ms: Option<u64>,
    /// Engine threads (0 = the runtime's threads).
    pub engine_threads: Option<usize>,
    /// Limits.
    #[serde(default)]
    pub limits: RawLimits,
    /// Engine settings.
    #[serde(default)]
    pub engine: RawEngine,
}

/// Raw [`Limits`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // one-to-one with `Limits`
pub struct RawLimits {
    pub max_message_bytes: Option<usize>,
    pub max_document_bytes: Option<usize>,
    pub max_id_bytes: Option<usize>,
    pub max_namespace_bytes: Option<usize>,
    pub max_concurrent_streams: Option<u32>,
    pub max_check_streams: Option<usize>,
    pub stream_buffer: Option<usize>,
    pub max_inflight: Option<usize>,
    pub max_audit_calls: Option<usize>,
    pub max_audit_documents: Option<usize>,
}

/// Raw [`EngineConfig`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    /// Default time window in days (0 = unlimited).
    pub window_days: Option<u32>,
}

impl RawConfig {
    /// Read a TOML file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Decode {
            what: "config file",
            message: format!("{}: {e}", path.display()),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse the TOML text of a config file; `origin` (its path) prefixes error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Decode {
            what: "config file",
            message: format!("{origin}: {e}"),
        })
    }

    /// Check every field and fill in defaults.
    pub fn validate(self) -> Result<Config> {
        let d = Limits::default();
        let l = self.limits;
        let limits = Limits {
            max_message_bytes: positive(
                "limits.max_message_bytes",
                l.max_message_bytes.unwrap_or(d.max_message_bytes),
            )?,
            max_document_bytes: positive(
                "limits.max_document_bytes",
                l.max_document_bytes.unwrap_or(d.max_document_bytes),
            )?,
            max_id_bytes: positive(
                "limits.max_id_bytes",
                l.max_id_bytes.unwrap_or(d.max_id_bytes),
            )?,
            max_namespace_bytes: positive(
                "limits.max_namespace_bytes",
                l.max_namespace_bytes.unwrap_or(d.max_namespace_bytes),
            )?,
            max_concurrent_streams: positive(
                "limits.max_concurrent_streams",
                l.max_concurrent_streams.unwrap_or(d.max_concurrent_streams) as usize,
            )? as u32,
            max_check_streams: positive(
                "limits.max_check_streams",
                l.max_check_streams.unwrap_or(d.max_check_streams),
            )?,
            stream_buffer: positive(
                "limits.stream_buffer",
                l.stream_buffer.unwrap_or(d.stream_buffer),
            )?,
            max_inflight: positive(
                "limits.max_inflight",
                l.max_inflight.unwrap_or(d.max_inflight),
            )?,
            max_audit_calls: positive(
                "limits.max_audit_calls",
                l.max_audit_calls.unwrap_or(d.max_audit_calls),
            )?,
            max_audit_documents: positive(
                "limits.max_audit_documents",
                l.max_audit_documents.unwrap_or(d.max_audit_documents),
            )?,
        };
        if limits.max_document_bytes > limits.max_message_bytes {
            return Err(Error::invalid(
                "limits.max_document_bytes",
                format!(
                    "{} is larger than limits.max_message_bytes ({}): a document that size could never arrive",
                    limits.max_document_bytes, limits.max_message_bytes
                ),
            ));
        }
        let defaults = Config::default();
        // Settings the file does not expose keep the engine's defaults.
        let mut engine: EngineConfig = defaults.engine.clone();
        if let Some(days) = self.engine.window_days {
            engine.window_days = days;
        }
        let listen = match self.listen.as_deref() {
            Some(a) => address("listen", a)?,
            None => defaults.listen,
        };
        let metrics_listen = match self.metrics_listen.as_deref() {
            Some("off") | Some("") => None,
            Some(a) => Some(address("metrics_listen", a)?),
            None => defaults.metrics_listen,
        };
        if metrics_listen == Some(listen) && listen.port() != 0 {
            return Err(Error::invalid(
                "metrics_listen",
                "must differ from listen (the metrics endpoint has its own address)",
            ));
        }
        let request_timeout = match self.request_timeout_ms {
            Some(ms) => Duration::from_millis(positive_u64("request_timeout_ms", ms)?),
            None => defaults.request_timeout,
        };
        let drain_timeout = self
            .drain_timeout_ms
            .map_or(defaults.drain_timeout, Duration::from_millis);
        Ok(Config {
            engine,
            listen,
            metrics_listen,
            data_dir: self.data_dir.unwrap_or(defaults.data_dir),
            durability: match self.durability.as_deref() {
                None => defaults.durability,
                Some(text) => parse_durability(text)?,
            },
            limits,
            request_timeout,
            drain_timeout,
            engine_threads: self.engine_threads.unwrap_or(defaults.engine_threads),
        })
    }
}

fn positive(field: &'static str, value: usize) -> Result<usize> {
    if value == 0 {
        return Err(Error::invalid(field, "must be greater than 0"));
    }
    Ok(value)
}

fn positive_u64(field: &'static str, value: u64) -> Result<u64> {
    if value == 0 {
        return Err(Error::invalid(field, "must be greater than 0"));
    }
    Ok(value)
}

fn address(field: &'static str, value: &str) -> Result<SocketAddr> {
    value
        .parse()
        .map_err(|e| Error::invalid(field, format!("{value:?} is not an IP:port address: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = RawConfig::default().validate().unwrap();
        assert_eq!(config.listen, Config::default().listen);
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            config.metrics_listen.map(|a| a.to_string()).as_deref(),
            Some(DEFAULT_METRICS_LISTEN)
        );
        assert_eq!(config.limits, Limits::default());
        assert!(config.engine_threads >= 1);
    }

    #[test]
    fn toml_overrides_and_off_switch() {
        let raw: RawConfig = toml::from_str(
            "listen = \"0.0.0.0:7000\"\nmetrics_listen = \"off\"\nengine_threads = 0\n[limits]\nmax_document_bytes = 1000\n[engine]\nwindow_days = 3\n",
        )
        .unwrap();
        let config = raw.validate().unwrap();
        assert_eq!(config.listen.port(), 7000);
        assert_eq!(config.metrics_listen, None);
        assert_eq!(config.limits.max_document_bytes, 1000);
        assert_eq!(config.engine.window_days, 3);
        assert_eq!(config.engine_threads, 0);
    }

    #[test]
    fn bad_values_name_the_field() {
        let cases: &[(&str, &str)] = &[
            ("[limits]\nmax_inflight = 0\n", "limits.max_inflight"),
            (
                "[limits]\nmax_audit_documents = 0\n",
                "limits.max_audit_documents",
            ),
            ("listen = \"nowhere\"\n", "listen"),
            (
                "[limits]\nmax_document_bytes = 10\nmax_message_bytes = 5\n",
                "limits.max_document_bytes",
            ),
            ("request_timeout_ms = 0\n", "request_timeout_ms"),
            ("listen = \"127.0.0.1:9464\"\n", "metrics_listen"),
        ];
        for (text, field) in cases {
            let raw: RawConfig = toml::from_str(text).unwrap();
            let err = raw.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{text:?}: {err}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<RawConfig>("lisen = \"x\"\n").is_err());
        assert!(toml::from_str::<RawConfig>("[limits]\nmax_docs = 1\n").is_err());
    }
}

/// Parse the `durability` setting: `sync`, `interval:MS` or `off`.
pub fn parse_durability(text: &str) -> Result<Durability> {
    match text.trim() {
        "sync" => Ok(Durability::Sync),
        "off" => Ok(Durability::Off),
        other => other
            .strip_prefix("interval:")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(|ms| Durability::Interval(Duration::from_millis(ms)))
            .ok_or_else(|| {
                Error::invalid(
                    "durability",
                    format!("{other:?} is not one of sync, interval:MS (MS > 0), off"),
                )
            }),
    }
}

#[cfg(test)]
mod durability_tests {
    use super::*;

    #[test]
    fn durability_settings_parse_or_name_the_field() {
        assert_eq!(parse_durability("sync").unwrap(), Durability::Sync);
        assert_eq!(parse_durability("off").unwrap(), Durability::Off);
        assert_eq!(
            parse_durability("interval:250").unwrap(),
            Durability::Interval(Duration::from_millis(250))
        );
        for bad in ["", "always", "interval:", "interval:0", "interval:x"] {
            let err = parse_durability(bad).unwrap_err().to_string();
            assert!(err.contains("durability"), "{bad:?}: {err}");
        }
    }
}
