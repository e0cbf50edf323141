//! The per-namespace check-and-insert that ties the stages together: strip → features → look
//! up → verify → cluster → remember.
//!
//! A check runs in two steps, and both are public so batch callers can parallelize:
//!
//! * [`Engine::prepare`] — strip boilerplate and compute the text's features (normalize,
//!   tokenize, shingle, MinHash, sketch). Pure with respect to the index; safe to run on many
//!   threads at once.
//! * [`Engine::commit`] — under the namespace's lock: TF-IDF simhash from the namespace's
//!   document frequencies, candidates, verification, star clustering, insert, and
//!   [`Stripper::learn`]. Commits of one namespace are serialized; their order is the stream
//!   order.
//!
//! Verdicts depend only on the order of commits, never on how many threads prepared: if the
//! stripper learned anything about the document's source between its `prepare` and its
//! `commit`, `commit` looks its lines up again and, when what is known about them changed,
//! strips it again with what is known now (and recomputes features if the clean text
//! changed), so the result equals that of a sequential `check`.
//!
//! What was learned is tracked per source: each namespace keeps [`EPOCH_BUCKETS`] learn
//! counters, and a document compares only the counter its source hashes to, so learning from
//! other sources (almost every commit in a multi-source corpus) costs its commit nothing. A
//! second set of counters moves only when which lines are learned chrome may have changed;
//! [`Engine::commit_stale_reasons`], which tolerates stale counts in reasons, does not look the
//! lines up again while that one stands still.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::Mutex;

use crate::boilerplate::{Analysis, Cleaned, FrequencyConfig, InputFormat, Stripper};
use crate::document::{Content, Document};
use crate::index::{IndexConfig, Match, NamespaceIndex};
use crate::pipeline::{self, FeatureConfig, Features};
use crate::store::record::{doc_key, seq_of, DocRecord};
use crate::store::{Op, PendingWrite, Store, Table};
use crate::{Error, Result};

/// Settings of detection and stripping.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Default time window in days (0 = unlimited).
    pub window_days: u32,
    /// Feature extraction settings.
    pub features: FeatureConfig,
    /// Index and verification settings.
    pub index: IndexConfig,
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

/// Learn counters per namespace (see the module docs): a source's lines are looked up
/// again at commit only when its counter moved since prepare.
pub const EPOCH_BUCKETS: usize = 64;

/// A document stripped and featurized by [`Engine::prepare`], ready for [`Engine::commit`].
#[derive(Debug, Clone)]
pub struct Prepared {
    head: Head,
    /// What commit reads but does not keep.
    spent: Spent,
}

/// What [`Engine::try_commit_deferred`] did.
// Returned by value once per attempt and never stored: boxing the larger variant would only
// add an allocation to every busy attempt.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum TryCommit {
    /// Committed: the verdict, and the store write to acknowledge it after.
    Done(CheckOutcome, PendingWrite),
    /// Another commit held the namespace: the prepared document, untouched, to try again.
    Busy(Prepared),
}

/// The parts of a [`Prepared`] that a commit uses up.
#[derive(Debug, Clone)]
struct Head {
    /// The document; its content is dropped once stripped (only its length is needed later).
    doc: Document,
    /// Bytes of the document's content.
    content_len: usize,
    cleaned: Cleaned,
    /// The learn counter of the document's source bucket when it was stripped.
    epoch: u64,
    /// The chrome-set counter of that bucket then (see `Namespace::chrome_epochs`).
    chrome_epoch: u64,
    /// Arrival time (seconds since the epoch) used when `published_at` is absent.
    arrival: i64,
}

/// What is left of a [`Prepared`] after its commit (its analysis, what was known about its
/// lines, its features): buffers only. Dropping it frees them; a caller that prepared on
/// another thread may send it back there to be dropped (see
/// [`Engine::commit_stale_reasons`]), which keeps the serial committing thread shorter and
/// frees memory where it was allocated.
#[derive(Debug, Clone)]
pub struct Spent {
    analysis: Analysis,
    /// What the stripper had learned about the document's lines when it was stripped.
    learned: Vec<Option<u32>>,
    features: Features,
}

/// The result of [`Engine::commit_stale_reasons`].
#[derive(Debug)]
pub struct Committed {
    /// The verdict, as [`Engine::commit`] gives it (but see the method on reasons).
    pub outcome: CheckOutcome,
    /// Whether the document was stripped again at commit; when false, `outcome.cleaned` is
    /// [`Prepared::cleaned`] as it was.
    pub restripped: bool,
    /// What is left of the prepared document.
    pub spent: Spent,
}

impl Prepared {
    /// The document's id.
    pub fn id(&self) -> &str {
        &self.head.doc.id
    }

    /// The clean text and removed spans.
    pub fn cleaned(&self) -> &Cleaned {
        &self.head.cleaned
    }

    /// The text's features.
    pub fn features(&self) -> &Features {
        &self.spent.features
    }
}

#[derive(Debug)]
struct NamespaceState {
    index: NamespaceIndex,
    stats: NamespaceStats,
    /// Distinct sources learned from, while fewer than the stripper keeps (see
    /// [`Namespace::learn`]).
    sources: std::collections::HashSet<Box<str>>,
    /// Whether the stripper may have had to drop a source's lines to make room for another.
    many_sources: bool,
    /// Namespace time window in days (None = engine default).
    window_days: Option<u32>,
}

#[derive(Debug)]
struct Namespace {
    stripper: Stripper,
    /// Learn counters by source bucket ([`bucket_of`]), bumped after every
    /// [`Stripper::learn`] under the state lock; see `Head::epoch`. Atomics, so `prepare`
    /// reads them without waiting for a commit.
    epochs: [AtomicU64; EPOCH_BUCKETS],
    /// Like `epochs`, but bumped only when [`Stripper::learn`] says which of the source's lines
    /// are learned chrome may have changed (a line reached the threshold, lines were evicted):
    /// while it stands still, stripping decisions cannot change, only the counts reasons cite.
    chrome_epochs: [AtomicU64; EPOCH_BUCKETS],
    /// One mutex per namespace makes check-and-insert atomic within it (two identical documents
    /// sent at once yield exactly one original); namespaces proceed in parallel. A plain mutex,
    /// not a read-write lock: every check may insert, and the critical section is short and
    /// never held across an await.
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
    /// Where accepted documents are made durable; None keeps everything in memory only.
    store: Option<Arc<dyn Store>>,
}

/// Prefix of the `Meta` records that mark a document record as deleted.
const DELETED_PREFIX: &[u8] = b"deleted/";

/// Key of the marker saying that record `seq` was deleted. Deletions are markers rather than
/// rewrites of the record, so no read is needed; replay applies them by sequence number.
fn deleted_key(seq: u64) -> Vec<u8> {
    let mut key = DELETED_PREFIX.to_vec();
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The learn-counter bucket of a source (the stripper's scope: no source = the stream).
fn bucket_of(source: Option<&str>) -> usize {
    let scope = source.unwrap_or("");
    (xxhash_rust::xxh3::xxh3_64(scope.as_bytes()) % EPOCH_BUCKETS as u64) as usize
}

impl Namespace {
    /// The learn counter a document of `source` compares.
    fn epoch_of(&self, source: Option<&str>) -> u64 {
        self.epochs[bucket_of(source)].load(Ordering::Acquire)
    }

    /// The chrome-set counter a document of `source` compares.
    fn chrome_epoch_of(&self, source: Option<&str>) -> u64 {
        self.chrome_epochs[bucket_of(source)].load(Ordering::Acquire)
    }

    /// [`Stripper::learn`], then bump the counters it may have changed: the source's own,
    /// or every one once the stripper holds as many sources as it keeps (learning a new one
    /// may then evict another's lines). Call under the state lock.
    fn learn(&self, state: &mut NamespaceState, source: Option<&str>, keys: &[u64], story: &str) {
        let chrome_changed = self.stripper.learn(source, keys, story);
        if !state.many_sources {
            let scope = source.unwrap_or("");
            if !state.sources.contains(scope) {
                state.sources.insert(scope.into());
                if state.sources.len() >= FrequencyConfig::default().max_scopes {
                    state.many_sources = true;
                    state.sources = Default::default();
                }
            }
        }
        // Released after the stripper's write: a prepare that reads the new value sees
        // what was learned.
        if state.many_sources {
            for (e, c) in self.epochs.iter().zip(&self.chrome_epochs) {
                e.fetch_add(1, Ordering::Release);
                c.fetch_add(1, Ordering::Release);
            }
        } else {
            let bucket = bucket_of(source);
            if chrome_changed {
                self.chrome_epochs[bucket].fetch_add(1, Ordering::Release);
            }
            self.epochs[bucket].fetch_add(1, Ordering::Release);
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
                store: None,
            }),
        }
    }

    /// An engine whose accepted documents are durable in `store`, rebuilt from what the store
    /// holds: every namespace's records are replayed in insertion order, so the index, the
    /// clusters, the document frequencies and the learned boilerplate lines end as they were.
    pub fn open(config: EngineConfig, store: Arc<dyn Store>) -> Result<Self> {
        let engine = Engine {
            inner: Arc::new(Inner {
                config,
                namespaces: DashMap::new(),
                store: Some(store.clone()),
            }),
        };
        for name in store.namespaces()? {
            let ns = engine.namespace(&name);
            let mut state = ns.state.lock();
            let mut slots: std::collections::HashMap<String, u32> = Default::default();
            let mut deleted = std::collections::HashSet::new();
            store.scan(&name, Table::Meta, &mut |key, _| {
                if let Some(seq) = key.strip_prefix(DELETED_PREFIX) {
                    deleted.insert(seq_of(seq)?);
                }
                Ok(())
            })?;
            store.scan(&name, Table::Documents, &mut |key, value| {
                let seq = seq_of(key)?;
                let mut rec = DocRecord::decode(value)?;
                rec.alive &= !deleted.contains(&seq);
                if seq != state.index.next_slot() {
                    return Err(Error::Decode {
                        what: "document records",
                        message: format!(
                            "namespace {name:?}: record {seq} follows {} records",
                            state.index.next_slot()
                        ),
                    });
                }
                let best = rec.best.as_deref().and_then(|b| slots.get(b).copied());
                let slot = state.index.restore(&rec, best)?;
                slots.insert(rec.id.clone(), slot);
                ns.learn(
                    &mut state,
                    rec.source.as_deref(),
                    &rec.line_keys,
                    &rec.cluster_id,
                );
                if best.is_none() {
                    state.stats.clusters += 1;
                } else {
                    state.stats.duplicates += 1;
                }
                state.stats.bytes += rec.bytes;
                if rec.alive {
                    state.stats.documents += 1;
                }
                Ok(())
            })?;
        }
        Ok(engine)
    }

    /// Make every accepted document durable now, whatever the store's policy (shutdown).
    pub fn flush(&self) -> Result<()> {
        match &self.inner.store {
            Some(store) => store.flush(),
            None => Ok(()),
        }
    }

    /// The stored record of a slot, when the engine has a store.
    fn stored_record(&self, namespace: &str, slot: u32) -> Result<Option<DocRecord>> {
        let Some(store) = &self.inner.store else {
            return Ok(None);
        };
        match store.get(namespace, Table::Documents, &doc_key(u64::from(slot)))? {
            Some(bytes) => Ok(Some(DocRecord::decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    fn namespace(&self, name: &str) -> Arc<Namespace> {
        if let Some(ns) = self.inner.namespaces.get(name) {
            return ns.clone();
        }
        let mut index_cfg = self.inner.config.index;
        index_cfg.sketch_cap = self.inner.config.features.sketch_cap;
        self.inner
            .namespaces
            .entry(name.to_string())
            .or_insert_with(|| {
                Arc::new(Namespace {
                    stripper: Stripper::new(),
                    epochs: std::array::from_fn(|_| AtomicU64::new(0)),
                    chrome_epochs: std::array::from_fn(|_| AtomicU64::new(0)),
                    state: Mutex::new(NamespaceState {
                        index: NamespaceIndex::new(index_cfg),
                        stats: NamespaceStats::default(),
                        sources: Default::default(),
                        many_sources: false,
                        window_days: None,
                    }),
                })
            })
            .clone()
    }

    /// Set a namespace's time window in days (0 = unlimited; None = engine default).
    pub fn set_window(&self, namespace: &str, days: Option<u32>) {
        self.namespace(namespace).state.lock().window_days = days;
    }

    /// The features of a clean text. A document stripped to nothing is keyed by its whole
    /// input instead (see [`pipeline::stripped_exact_hash`]), so that only a byte-for-byte
    /// reprint of it counts as its duplicate.
    fn features_of(&self, cleaned: &Cleaned) -> pipeline::Features {
        let mut features = pipeline::features(&cleaned.text, &self.inner.config.features);
        if features.shingles == 0 {
            features.exact = pipeline::stripped_exact_hash(&cleaned.span_base);
        }
        features
    }

    /// Strip and featurize a document (step 1 of [`check`](Self::check)); safe to call from
    /// many threads. See the module docs.
    pub fn prepare(
        &self,
        namespace: &str,
        mut doc: Document,
        opts: &CheckOptions,
    ) -> Result<Prepared> {
        if doc.id.is_empty() {
            return Err(Error::invalid("document.id", "must not be empty"));
        }
        let ns = self.namespace(namespace);
        // Read before looking up what was learned (see `Namespace::learn`).
        let epoch = ns.epoch_of(doc.source.as_deref());
        let chrome_epoch = ns.chrome_epoch_of(doc.source.as_deref());
        // The analysis takes the body (a text body without a copy); the document keeps an
        // empty one.
        let content_len = doc.content_len();
        let content = std::mem::replace(&mut doc.content, Content::Text(String::new()));
        let analysis = ns.stripper.analyze_owned(content, opts.format)?;
        let learned = ns.stripper.learned(doc.source.as_deref(), &analysis);
        let cleaned = ns
            .stripper
            .decide(&analysis, &learned, doc.source.as_deref());
        let features = self.features_of(&cleaned);
        Ok(Prepared {
            head: Head {
                doc,
                content_len,
                cleaned,
                epoch,
                chrome_epoch,
                arrival: now_secs(),
            },
            spent: Spent {
                analysis,
                learned,
                features,
            },
        })
    }

    /// Look up, verify, cluster and (unless `dry_run`) remember a prepared document (step 2 of
    /// [`check`](Self::check)). Commits of one namespace are atomic and serialized.
    pub fn commit(
        &self,
        namespace: &str,
        prepared: Prepared,
        opts: &CheckOptions,
    ) -> Result<CheckOutcome> {
        let Prepared { head, mut spent } = prepared;
        let (outcome, _, pending) = self.commit_with(namespace, head, &mut spent, opts, true)?;
        pending.wait()?;
        Ok(outcome)
    }

    /// [`commit`](Self::commit) for callers that use the verdict, the clean text and the
    /// removed spans but not the spans' `reason` texts (the corpus audit). When what was
    /// learned about the document's lines since it was prepared changed only the counts that
    /// learned-chrome reasons cite (not which lines are learned chrome), the document is not
    /// stripped again: the decisions, hence clean text, spans, kinds, features and verdict, are
    /// those of `commit`, and only such reasons may cite the counts as of prepare.
    ///
    /// Also says whether the document was stripped again (so callers that derived figures from
    /// the prepared clean text know whether to derive them again), and hands back what is left
    /// of the prepared document ([`Spent`]) instead of freeing it here.
    pub fn commit_stale_reasons(
        &self,
        namespace: &str,
        prepared: Prepared,
        opts: &CheckOptions,
    ) -> Result<Committed> {
        let Prepared { head, mut spent } = prepared;
        let (outcome, restripped, pending) =
            self.commit_with(namespace, head, &mut spent, opts, false)?;
        pending.wait()?;
        Ok(Committed {
            outcome,
            restripped,
            spent,
        })
    }

    /// The commit; the document's store write is handed back, not waited for (the verdict
    /// is final and visible to later commits at once; the caller acknowledges it once the
    /// write is durable).
    fn commit_with(
        &self,
        namespace: &str,
        head: Head,
        spent: &mut Spent,
        opts: &CheckOptions,
        exact_reasons: bool,
    ) -> Result<(CheckOutcome, bool, PendingWrite)> {
        let ns = self.namespace(namespace);
        let state = ns.state.lock();
        self.commit_locked(namespace, &ns, state, head, spent, opts, exact_reasons)
    }

    /// [`check_deferred`](Self::check_deferred)'s commit for callers that have other work to
    /// do while the namespace is busy (an async server): when another commit of the namespace
    /// holds it, the prepared document comes back ([`TryCommit::Busy`]) instead of this
    /// thread waiting; the caller tries again later. A commit that goes ahead is
    /// [`check_deferred`](Self::check_deferred)'s to the byte.
    pub fn try_commit_deferred(
        &self,
        namespace: &str,
        prepared: Prepared,
        opts: &CheckOptions,
    ) -> Result<TryCommit> {
        let ns = self.namespace(namespace);
        let Some(state) = ns.state.try_lock() else {
            return Ok(TryCommit::Busy(prepared));
        };
        let Prepared { head, mut spent } = prepared;
        let (outcome, _, pending) =
            self.commit_locked(namespace, &ns, state, head, &mut spent, opts, true)?;
        Ok(TryCommit::Done(outcome, pending))
    }

    /// [`commit_with`](Self::commit_with) once the namespace's lock is held.
    #[allow(clippy::too_many_arguments)]
    fn commit_locked(
        &self,
        namespace: &str,
        ns: &Namespace,
        mut state: parking_lot::MutexGuard<'_, NamespaceState>,
        head: Head,
        spent: &mut Spent,
        opts: &CheckOptions,
        exact_reasons: bool,
    ) -> Result<(CheckOutcome, bool, PendingWrite)> {
        let Head {
            doc,
            content_len,
            mut cleaned,
            epoch,
            chrome_epoch,
            arrival,
        } = head;
        let Spent {
            analysis,
            learned,
            features,
        } = spent;
        let mut restripped = false;
        // Without exact reasons, only a change in which lines are chrome matters.
        let stale = if exact_reasons {
            ns.epoch_of(doc.source.as_deref()) != epoch
        } else {
            ns.chrome_epoch_of(doc.source.as_deref()) != chrome_epoch
        };
        if stale {
            // The stripper learned about this source since the document was stripped. The
            // decision depends on the learned state only through what is known about the
            // document's own lines: when that changed, decide again (cheap; the analysis is
            // kept) so the verdict equals that of a sequential run, and re-featurize only if
            // the text changed. Which blocks are stripped depends only on which lines are
            // learned chrome; the counts only go into reasons.
            let now = ns.stripper.learned(doc.source.as_deref(), analysis);
            let decisions_may_change = || {
                now.len() != learned.len()
                    || now
                        .iter()
                        .zip(learned.iter())
                        .any(|(a, b)| a.is_some() != b.is_some())
            };
            if now != *learned && (exact_reasons || decisions_may_change()) {
                let again = ns.stripper.decide(analysis, &now, doc.source.as_deref());
                if again.text != cleaned.text {
                    *features = self.features_of(&again);
                }
                cleaned = again;
                restripped = true;
            }
        }
        let time = doc.published_at.unwrap_or(arrival);
        let days = opts
            .window_days
            .or(state.window_days)
            .unwrap_or(self.inner.config.window_days);
        let window = (days > 0).then_some(i64::from(days) * 86_400);
        if let Some(slot) = state.index.slot_of(&doc.id).filter(|_| !opts.dry_run) {
            // The same document sent again (a retry after a lost answer or a restart) gets the
            // verdict it got the first time; another document under a taken id is refused.
            if !state.index.same_document(slot, features) {
                return Err(Error::AlreadyExists {
                    namespace: namespace.to_string(),
                    id: doc.id,
                });
            }
            let cluster_id = state
                .index
                .cluster_id_of(slot)
                .map_or_else(|| doc.id.clone(), str::to_string);
            drop(state);
            let duplicate_of = self
                .stored_record(namespace, slot)?
                .and_then(|rec| rec.best)
                .or_else(|| (cluster_id != doc.id).then(|| cluster_id.clone()));
            let outcome = CheckOutcome {
                id: doc.id,
                duplicate_of,
                cluster_id,
                matches: Vec::new(),
                simhash: 0,
                inserted: false,
                cleaned,
            };
            return Ok((outcome, restripped, PendingWrite::done()));
        }
        let look = state.index.lookup(features, time, window);
        let duplicate_of = look.matches.first().map(|(_, m)| m.id.clone());
        let mut cluster_id = look
            .matches
            .first()
            .and_then(|(s, _)| state.index.cluster_id_of(*s))
            .map(str::to_string)
            .unwrap_or_else(|| doc.id.clone());
        let inserted = !opts.dry_run;
        let mut pending = PendingWrite::done();
        if inserted {
            let (slot, cluster) = state.index.insert(&doc.id, features, time, &look)?;
            if let Some(c) = state.index.id_of(cluster) {
                cluster_id = c.to_string();
            }
            ns.learn(
                &mut state,
                doc.source.as_deref(),
                &cleaned.line_keys,
                &cluster_id,
            );
            if let Some(store) = &self.inner.store {
                let record = DocRecord {
                    id: doc.id.clone(),
                    time,
                    alive: true,
                    exact: features.exact,
                    simhash: look.simhash,
                    band_keys: look.band_keys.clone(),
                    sketch: features.sketch.clone(),
                    numbers: features.numbers.clone(),
                    tokens: if duplicate_of.is_none() {
                        features.tokens.clone()
                    } else {
                        Vec::new()
                    },
                    best: duplicate_of.clone(),
                    cluster_id: cluster_id.clone(),
                    source: doc.source.clone(),
                    line_keys: cleaned.line_keys.clone(),
                    bytes: content_len as u64,
                };
                // Submitted under the lock so records reach the disk in decision order; awaited
                // after it so concurrent checks share one sync.
                pending = store.submit(
                    namespace,
                    vec![Op::Put {
                        table: Table::Documents,
                        key: doc_key(u64::from(slot)),
                        value: record.encode()?,
                    }],
                )?;
            }
            state.stats.documents += 1;
            state.stats.bytes += content_len as u64;
            if duplicate_of.is_some() {
                state.stats.duplicates += 1;
            } else {
                state.stats.clusters += 1;
            }
        }
        drop(state);
        let outcome = CheckOutcome {
            id: doc.id,
            duplicate_of,
            cluster_id,
            matches: look.matches.into_iter().map(|(_, m)| m).collect(),
            simhash: look.simhash,
            inserted,
            cleaned,
        };
        Ok((outcome, restripped, pending))
    }

    /// Clean, fingerprint and look the document up; remember it unless `dry_run`.
    /// Equivalent to [`prepare`](Self::prepare) then [`commit`](Self::commit).
    pub fn check(
        &self,
        namespace: &str,
        doc: Document,
        opts: &CheckOptions,
    ) -> Result<CheckOutcome> {
        let (outcome, pending) = self.check_deferred(namespace, doc, opts)?;
        pending.wait()?;
        Ok(outcome)
    }

    /// [`check`](Self::check) that hands back the document's store write instead of waiting
    /// for it: the verdict is final, but it may only be acknowledged once the write is durable
    /// ([`PendingWrite::wait_async`]). A server awaits that on its runtime, so the CPU work
    /// never holds a thread or a permit through a sync and concurrent checks share one.
    pub fn check_deferred(
        &self,
        namespace: &str,
        doc: Document,
        opts: &CheckOptions,
    ) -> Result<(CheckOutcome, PendingWrite)> {
        let Prepared { head, mut spent } = self.prepare(namespace, doc, opts)?;
        let (outcome, _, pending) = self.commit_with(namespace, head, &mut spent, opts, true)?;
        Ok((outcome, pending))
    }

    /// Whether the engine writes its documents to a store (its writing calls may wait for
    /// it).
    pub fn has_store(&self) -> bool {
        self.inner.store.is_some()
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
        let Some(slot) = state.index.slot_of(id) else {
            return Ok(false);
        };
        state.index.delete(id);
        state.stats.documents = state.stats.documents.saturating_sub(1);
        let pending = match &self.inner.store {
            Some(store) => store.submit(
                namespace,
                vec![Op::Put {
                    table: Table::Meta,
                    key: deleted_key(u64::from(slot)),
                    value: Vec::new(),
                }],
            )?,
            None => PendingWrite::done(),
        };
        drop(state);
        pending.wait()?;
        Ok(true)
    }

    /// Evict every document older than its namespace's time window (by `published_at`, else
    /// arrival) as of `now` (seconds since the epoch): it stops matching and its eviction is
    /// durable. Namespaces without a window keep everything. The namespace lock is taken for
    /// one chunk of slots at a time, so checks go on meanwhile. Returns how many were evicted.
    pub fn evict_expired(&self, now: i64) -> Result<u64> {
        const CHUNK: u32 = 4096;
        let names: Vec<String> = self
            .inner
            .namespaces
            .iter()
            .map(|e| e.key().clone())
            .collect();
        let mut evicted = 0;
        for name in names {
            let ns = self.namespace(&name);
            let mut start = 0u32;
            loop {
                let mut state = ns.state.lock();
                let days = state.window_days.unwrap_or(self.inner.config.window_days);
                let end_of_index = u32::try_from(state.index.next_slot()).unwrap_or(u32::MAX);
                if days == 0 || start >= end_of_index {
                    break;
                }
                let cutoff = now.saturating_sub(i64::from(days) * 86_400);
                let expired = state
                    .index
                    .expired(start..start.saturating_add(CHUNK), cutoff);
                let mut ops = Vec::with_capacity(expired.len());
                for id in &expired {
                    if let Some(slot) = state.index.slot_of(id) {
                        state.index.delete(id);
                        state.stats.documents = state.stats.documents.saturating_sub(1);
                        ops.push(Op::Put {
                            table: Table::Meta,
                            key: deleted_key(u64::from(slot)),
                            value: Vec::new(),
                        });
                    }
                }
                evicted += ops.len() as u64;
                let pending = match &self.inner.store {
                    Some(store) if !ops.is_empty() => store.submit(&name, ops)?,
                    _ => PendingWrite::done(),
                };
                drop(state);
                pending.wait()?;
                start = start.saturating_add(CHUNK);
            }
        }
        Ok(evicted)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const STORY: &str = "The defence ministers spoke by phone on Tuesday about the border talks.\n\
        Both sides agreed to meet again next month in the capital, officials said.\n";

    #[test]
    fn a_busy_namespace_hands_the_prepared_document_back() {
        let engine = Engine::in_memory();
        let opts = CheckOptions::default();
        let prepared = engine
            .prepare("s", Document::text("a", STORY), &opts)
            .unwrap();
        let ns = engine.namespace("s");
        let held = ns.state.lock();
        // Tried on another thread, so a commit that waits for the lock fails the test instead
        // of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        let (e, o) = (engine.clone(), opts.clone());
        std::thread::spawn(move || {
            let _ = tx.send(e.try_commit_deferred("s", prepared, &o));
        });
        let tried = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("try_commit_deferred waited for the namespace");
        let Ok(TryCommit::Busy(prepared)) = tried else {
            panic!("committed while another commit held the namespace");
        };
        drop(held);
        let Ok(TryCommit::Done(first, _)) = engine.try_commit_deferred("s", prepared, &opts) else {
            panic!("not committed with the namespace free");
        };
        assert!(first.inserted);
        assert_eq!(first.duplicate_of, None);
        let again = engine
            .check("s", Document::text("b", STORY), &opts)
            .unwrap();
        assert_eq!(again.duplicate_of.as_deref(), Some("a"));
    }
}
