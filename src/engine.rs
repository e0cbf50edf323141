//! The per-namespace check-and-insert that ties the stages together: strip → fingerprint →
//! look up → verify → cluster → remember.
//!
//! Placeholder: exact matching only, until the detection core lands behind the same API.

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::Mutex;

use crate::boilerplate::{Cleaned, InputFormat, Stripper};
use crate::document::Document;
use crate::index::{Match, Tier};
use crate::{pipeline, Error, Result};

/// Settings of detection and stripping.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Default time window in days (0 = unlimited).
    pub window_days: u32,
}

/// Per-call options of [`Engine::check`].
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Look up only; remember nothing.
    pub dry_run: bool,
    /// Override of the namespace's time window in days (None = namespace setting).
    pub window_days: Option<u32>,
    /// How to read the document body.
    pub format: InputFormat,
}

/// The verdict on one document with its evidence.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckOutcome {
    /// The document's id.
    pub id: String,
    /// The earlier document this one duplicates.
    pub duplicate_of: Option<String>,
    /// The cluster the document joined (id of the cluster's first document).
    pub cluster_id: String,
    /// Verified matches, best first.
    pub matches: Vec<Match>,
    /// 64-bit simhash of the clean text.
    pub simhash: u64,
    /// Whether the document was remembered.
    pub inserted: bool,
    /// The clean text and removed spans.
    #[serde(skip)]
    pub cleaned: Cleaned,
}

/// Counters of one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NamespaceStats {
    /// Namespace name.
    pub namespace: String,
    /// Documents remembered.
    pub documents: u64,
    /// Distinct clusters.
    pub clusters: u64,
    /// Documents found to duplicate an earlier one.
    pub duplicates: u64,
    /// Bytes of input accepted.
    pub bytes: u64,
}

#[derive(Debug, Default)]
struct NamespaceState {
    by_hash: HashMap<u64, String>,
    cluster_of: HashMap<String, String>,
    stats: NamespaceStats,
}

#[derive(Debug, Default)]
struct Namespace {
    stripper: Stripper,
    /// One mutex per namespace makes check-and-insert atomic within it; namespaces proceed
    /// in parallel.
    state: Mutex<NamespaceState>,
}

/// Cloneable handle to every namespace's state.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    config: EngineConfig,
    namespaces: DashMap<String, Arc<Namespace>>,
}

impl Engine {
    /// An engine that keeps everything in memory.
    pub fn in_memory() -> Self {
        Self::new(EngineConfig::default())
    }

    /// An in-memory engine with the given settings.
    pub fn new(config: EngineConfig) -> Self {
        Engine {
            inner: Arc::new(Inner {
                config,
                namespaces: DashMap::new(),
            }),
        }
    }

    fn namespace(&self, name: &str) -> Arc<Namespace> {
        self.inner
            .namespaces
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// Clean, fingerprint and look the document up; remember it unless `dry_run`.
    pub fn check(
        &self,
        namespace: &str,
        doc: Document,
        opts: &CheckOptions,
    ) -> Result<CheckOutcome> {
        if doc.id.is_empty() {
            return Err(Error::invalid("document.id", "must not be empty"));
        }
        let _ = self.inner.config.window_days;
        let ns = self.namespace(namespace);
        let cleaned = ns
            .stripper
            .clean(&doc.content, opts.format, doc.source.as_deref())?;
        let key = pipeline::exact_hash(&cleaned.text);
        let mut state = ns.state.lock();
        let earlier = state.by_hash.get(&key).cloned();
        let matches: Vec<Match> = earlier
            .iter()
            .map(|id| Match {
                id: id.clone(),
                tier: Tier::Exact,
                hamming: 0,
                jaccard: 1.0,
                containment: 1.0,
                reason: "same normalized text".into(),
            })
            .collect();
        let cluster_id = match &earlier {
            Some(id) => state
                .cluster_of
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.clone()),
            None => doc.id.clone(),
        };
        let inserted = !opts.dry_run;
        if inserted {
            ns.stripper
                .learn(doc.source.as_deref(), &cleaned.line_keys, &cluster_id);
            state.by_hash.entry(key).or_insert_with(|| doc.id.clone());
            state.cluster_of.insert(doc.id.clone(), cluster_id.clone());
            state.stats.documents += 1;
            state.stats.bytes += doc.content_len() as u64;
            if earlier.is_some() {
                state.stats.duplicates += 1;
            } else {
                state.stats.clusters += 1;
            }
        }
        Ok(CheckOutcome {
            id: doc.id,
            duplicate_of: earlier,
            cluster_id,
            matches,
            simhash: key,
            inserted,
            cleaned,
        })
    }

    /// Strip boilerplate only, with what the namespace has learned.
    pub fn clean(&self, namespace: &str, doc: &Document, format: InputFormat) -> Result<Cleaned> {
        self.namespace(namespace)
            .stripper
            .clean(&doc.content, format, doc.source.as_deref())
    }

    /// Forget a document; true when it was known.
    pub fn delete(&self, namespace: &str, id: &str) -> Result<bool> {
        let ns = self.namespace(namespace);
        let mut state = ns.state.lock();
        let known = state.cluster_of.remove(id).is_some();
        if known {
            state.by_hash.retain(|_, v| v != id);
            state.stats.documents = state.stats.documents.saturating_sub(1);
        }
        Ok(known)
    }

    /// Counters of one namespace, or of all namespaces when `namespace` is None.
    pub fn stats(&self, namespace: Option<&str>) -> Vec<NamespaceStats> {
        let mut out: Vec<NamespaceStats> = self
            .inner
            .namespaces
            .iter()
            .filter(|e| namespace.is_none_or(|n| n == e.key()))
            .map(|e| {
                let mut s = e.value().state.lock().stats.clone();
                s.namespace = e.key().clone();
                s
            })
            .collect();
        out.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        out
    }
}
