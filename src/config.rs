//! Validated configuration. Each stage owns its settings struct; this module gathers them.

use crate::engine::EngineConfig;

/// The whole service configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Detection and stripping settings.
    pub engine: EngineConfig,
}
