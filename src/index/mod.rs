//! Candidate generation (exact, simhash tables, MinHash-LSH), verification and clustering, for
//! one namespace.
//!
//! [`NamespaceIndex`] is plain data with `&mut self` inserts; the engine puts one behind a
//! mutex per namespace, which is what makes check-and-insert atomic.

pub mod cluster;
pub mod exact;
pub mod lsh;
pub mod simhash_tables;
pub mod verify;

use std::collections::HashMap;

use crate::pipeline::fingerprint::{hamming, DocFreq};
use crate::pipeline::minhash::{band_keys, signature};
use crate::pipeline::Features;
use crate::store::record::DocRecord;

/// How a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Same normalized text.
    Exact,
    /// Simhash within the Hamming radius of the tables.
    Simhash,
    /// MinHash-LSH band collision.
    Lsh,
}

/// A verified earlier document and the evidence for the match.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    /// Id of the earlier document.
    pub id: String,
    /// Tier that proposed it.
    pub tier: Tier,
    /// Hamming distance of the simhashes.
    pub hamming: u32,
    /// Estimated shingle Jaccard similarity.
    pub jaccard: f32,
    /// Estimated containment of the smaller document in the larger.
    pub containment: f32,
    /// Why the match was accepted.
    pub reason: String,
}

/// Index settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndexConfig {
    /// LSH bands.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Sketch cap (must equal the features' `sketch_cap`).
    pub sketch_cap: usize,
    /// Verification thresholds.
    pub verify: verify::VerifyConfig,
    /// Most matches reported per document.
    pub max_matches: usize,
    /// log2 of the document-frequency tables' sizes.
    pub df_bits: u32,
    /// Band the MinHash of the sketch's non-common shingles (computed at commit, so page chrome
    /// and stock phrases do not dilute it) instead of the signature of all shingles.
    pub signature_from_sketch: bool,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            bands: 16,
            rows: 2,
            sketch_cap: crate::pipeline::FeatureConfig::default().sketch_cap,
            verify: verify::VerifyConfig::default(),
            max_matches: 5,
            df_bits: 20,
            signature_from_sketch: true,
        }
    }
}

/// What the index keeps per document.
#[derive(Debug, Clone)]
struct DocEntry {
    id: Box<str>,
    time: i64,
    simhash: u64,
    exact: u64,
    alive: bool,
    sketch: Box<[u32]>,
    numbers: Box<[u64]>,
}

/// The result of a lookup, before anything is inserted.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// TF-IDF simhash of the document under the namespace's statistics.
    pub simhash: u64,
    /// Verified matches, best first: (slot, evidence).
    pub matches: Vec<(u32, Match)>,
    /// Candidates examined (all tiers, before verification).
    pub candidates: usize,
    /// LSH band keys of the document (from its non-common sketch shingles).
    pub band_keys: Vec<u64>,
}

/// Everything one namespace remembers.
#[derive(Debug)]
pub struct NamespaceIndex {
    cfg: IndexConfig,
    docs: Vec<DocEntry>,
    by_id: HashMap<Box<str>, u32>,
    exact: exact::ExactIndex,
    simhash: simhash_tables::SimhashTables,
    lsh: lsh::LshIndex,
    clusters: cluster::Clusters,
    token_df: DocFreq,
    shingle_df: DocFreq,
    live: u64,
}

impl Default for NamespaceIndex {
    fn default() -> Self {
        Self::new(IndexConfig::default())
    }
}

impl NamespaceIndex {
    /// An empty index.
    pub fn new(cfg: IndexConfig) -> Self {
        NamespaceIndex {
            cfg,
            docs: Vec::new(),
            by_id: HashMap::new(),
            exact: exact::ExactIndex::default(),
            simhash: simhash_tables::SimhashTables::default(),
            lsh: lsh::LshIndex::default(),
            clusters: cluster::Clusters::default(),
            token_df: DocFreq::new(cfg.df_bits),
            shingle_df: DocFreq::new(cfg.df_bits),
            live: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &IndexConfig {
        &self.cfg
    }

    /// Live documents.
    pub fn len(&self) -> u64 {
        self.live
    }

    /// Whether no live document is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Whether an id is held.
    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    /// Id of a slot.
    pub fn id_of(&self, slot: u32) -> Option<&str> {
        self.docs.get(slot as usize).map(|d| &*d.id)
    }

    /// Id of the cluster (its first document) a slot belongs to.
    pub fn cluster_id_of(&self, slot: u32) -> Option<&str> {
        self.clusters.of(slot).and_then(|c| self.id_of(c))
    }

    /// Find and verify the earlier documents `f` duplicates, within `window_secs` of `time`
    /// (None = no window). Changes nothing.
    pub fn lookup(&self, f: &Features, time: i64, window_secs: Option<i64>) -> Lookup {
        let simhash = f.simhash(&self.token_df);
        let mut cands: Vec<(u32, Tier, u32)> = Vec::new();
        if let Some(s) = self.exact.get(f.exact) {
            cands.push((s, Tier::Exact, 0));
        }
        if f.shingles == 0 {
            // No text left: two pages that strip to nothing are not copies of each other unless
            // their whole input is the same (the engine keys such a document by its input,
            // see `pipeline::stripped_exact_hash`); no near-duplicate tier applies.
            return self.verify_candidates(f, simhash, cands, Vec::new(), time, window_secs);
        }
        let mut near = Vec::new();
        self.simhash
            .query(simhash, simhash_tables::MAX_DISTANCE, &mut near);
        for (s, d) in near {
            if !cands.iter().any(|c| c.0 == s) {
                cands.push((s, Tier::Simhash, d));
            }
        }
        let vcfg = &self.cfg.verify;
        let common = |k: u32| {
            vcfg.common_clusters > 0 && self.shingle_df.df(k as u64) >= vcfg.common_clusters
        };
        let mut banded = Vec::new();
        let keys = if self.cfg.signature_from_sketch || f.signature.is_empty() {
            let rare: Vec<u64> = f
                .sketch
                .iter()
                .filter(|&&k| !common(k))
                .map(|&k| k as u64)
                .collect();
            if rare.is_empty() {
                // Nothing but chrome: no band could mean anything.
                Vec::new()
            } else {
                let sig = signature(&rare, self.cfg.bands * self.cfg.rows);
                band_keys(&sig, self.cfg.bands, self.cfg.rows)
            }
        } else {
            band_keys(&f.signature, self.cfg.bands, self.cfg.rows)
        };
        self.lsh.query(&keys, &mut banded);
        for s in banded {
            if !cands.iter().any(|c| c.0 == s) {
                cands.push((s, Tier::Lsh, u32::MAX));
            }
        }
        self.verify_candidates(f, simhash, cands, keys, time, window_secs)
    }

    /// Verify the candidates of [`lookup`](Self::lookup) and rank the accepted ones.
    fn verify_candidates(
        &self,
        f: &Features,
        simhash: u64,
        cands: Vec<(u32, Tier, u32)>,
        keys: Vec<u64>,
        time: i64,
        window_secs: Option<i64>,
    ) -> Lookup {
        let vcfg = &self.cfg.verify;
        let common = |k: u32| {
            vcfg.common_clusters > 0 && self.shingle_df.df(k as u64) >= vcfg.common_clusters
        };
        let candidates = cands.len();
        let mut matches: Vec<(u32, Match, f32)> = Vec::new();
        for (slot, tier, d) in cands {
            let Some(doc) = self.docs.get(slot as usize) else {
                continue;
            };
            if !doc.alive {
                continue;
            }
            if let Some(w) = window_secs {
                if (doc.time - time).abs() > w {
                    continue;
                }
            }
            let hd = if d == u32::MAX {
                hamming(doc.simhash, simhash)
            } else {
                d
            };
            // (jaccard, containment, reason, score): an exact match ranks above every verified one.
            let verdict = if tier == Tier::Exact && doc.exact == f.exact {
                Some((1.0, 1.0, "same normalized text".to_string(), 3.0))
            } else if f.shingles == 0 {
                None
            } else {
                let o = verify::overlap(&f.sketch, &doc.sketch, self.cfg.sketch_cap, common);
                let nums = verify::number_overlap(
                    &f.numbers,
                    &doc.numbers,
                    vcfg.guard_min_numbers as usize,
                );
                let mut v = verify::decide(&o, nums, hd, vcfg);
                let (j, c) = (o.jaccard(), o.containment());
                if v.accept && c < vcfg.partial_containment {
                    let first = self.clusters.of(slot).filter(|&s| s != slot);
                    if let Some(first) = first.and_then(|s| self.docs.get(s as usize)) {
                        let cap = self.cfg.sketch_cap;
                        let core = verify::core_overlap(
                            &f.sketch,
                            &doc.sketch,
                            &first.sketch,
                            cap,
                            common,
                        );
                        v = verify::decide_core(&core, v, vcfg);
                    }
                }
                v.accept.then_some((j, c, v.reason, j + c))
            };
            if let Some((jaccard, containment, reason, score)) = verdict {
                let id = doc.id.to_string();
                let evidence = Match {
                    id,
                    tier,
                    hamming: hd,
                    jaccard,
                    containment,
                    reason,
                };
                matches.push((slot, evidence, score));
            }
        }
        // Best first; ties go to the earlier document so the result is order-independent.
        matches.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        matches.truncate(self.cfg.max_matches);
        Lookup {
            simhash,
            matches: matches.into_iter().map(|(s, m, _)| (s, m)).collect(),
            candidates,
            band_keys: keys,
        }
    }

    /// Remember a document after its [`lookup`](Self::lookup): joins the best match's cluster
    /// (star assignment). Returns (slot, cluster slot).
    pub fn insert(
        &mut self,
        id: &str,
        f: &Features,
        time: i64,
        look: &Lookup,
    ) -> crate::Result<(u32, u32)> {
        if self.by_id.contains_key(id) {
            return Err(crate::Error::invalid(
                "document.id",
                format!("{id:?} is already in the namespace"),
            ));
        }
        let slot = u32::try_from(self.docs.len())
            .map_err(|_| crate::Error::Unavailable("namespace is full".into()))?;
        let best = look.matches.first().map(|(s, _)| *s);
        let cluster = self.clusters.assign(slot, best);
        if best.is_none() {
            // Document frequencies count stories (clusters), not copies.
            self.token_df.add_document(f.tokens.iter().copied());
            self.shingle_df
                .add_document(f.sketch.iter().map(|&k| k as u64));
        }
        self.exact.insert(f.exact, slot);
        self.simhash.insert(look.simhash, slot);
        self.lsh.insert(&look.band_keys, slot);
        self.docs.push(DocEntry {
            id: id.into(),
            time,
            simhash: look.simhash,
            exact: f.exact,
            alive: true,
            sketch: f.sketch.clone().into_boxed_slice(),
            numbers: if self.cfg.verify.guard_min_numbers > 0 {
                f.numbers.clone().into_boxed_slice()
            } else {
                Box::new([])
            },
        });
        self.by_id.insert(id.into(), slot);
        self.live += 1;
        Ok((slot, cluster))
    }

    /// Forget a document by id; true when it was held. Its cluster keeps its name.
    pub fn delete(&mut self, id: &str) -> bool {
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        if let Some(doc) = self.docs.get_mut(slot as usize) {
            doc.alive = false;
            doc.sketch = Box::new([]);
            doc.numbers = Box::new([]);
            let (sim, ex) = (doc.simhash, doc.exact);
            self.simhash.remove(sim, slot);
            self.exact.remove(ex, slot);
        }
        self.live = self.live.saturating_sub(1);
        true
    }

    /// Ids of the live documents among `slots` whose time is before `cutoff` (TTL eviction
    /// walks the slots in chunks so that no request waits long for the lock).
    pub fn expired(&self, slots: std::ops::Range<u32>, cutoff: i64) -> Vec<Box<str>> {
        let end = (slots.end as usize).min(self.docs.len());
        let start = (slots.start as usize).min(end);
        self.docs[start..end]
            .iter()
            .filter(|d| d.alive && d.time < cutoff)
            .map(|d| d.id.clone())
            .collect()
    }

    /// Slot of a live document.
    pub fn slot_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Exact-duplicate key of a slot.
    pub fn exact_of(&self, slot: u32) -> Option<u64> {
        self.docs.get(slot as usize).map(|d| d.exact)
    }

    /// Next slot to be assigned: the number of documents ever inserted, tombstones included.
    /// It is also the store sequence number of the next record.
    pub fn next_slot(&self) -> u64 {
        self.docs.len() as u64
    }

    /// Put a document back exactly as its durable record describes it (restart). Records must
    /// come in insertion order; `best` is the slot of the record's `best` match. Nothing is
    /// recomputed: the stored simhash and band keys are reused, and document frequencies are
    /// replayed from the cluster founders' tokens, so the index ends as it was.
    pub fn restore(&mut self, rec: &DocRecord, best: Option<u32>) -> crate::Result<u32> {
        let slot = u32::try_from(self.docs.len())
            .map_err(|_| crate::Error::Unavailable("namespace is full".into()))?;
        self.clusters.assign(slot, best);
        if best.is_none() {
            self.token_df.add_document(rec.tokens.iter().copied());
            self.shingle_df
                .add_document(rec.sketch.iter().map(|&k| k as u64));
        }
        if rec.alive {
            self.exact.insert(rec.exact, slot);
            self.simhash.insert(rec.simhash, slot);
            self.lsh.insert(&rec.band_keys, slot);
            self.by_id.insert(rec.id.as_str().into(), slot);
            self.live += 1;
        }
        self.docs.push(DocEntry {
            id: rec.id.as_str().into(),
            time: rec.time,
            simhash: rec.simhash,
            exact: rec.exact,
            alive: rec.alive,
            sketch: if rec.alive {
                rec.sketch.clone().into_boxed_slice()
            } else {
                Box::new([])
            },
            numbers: if rec.alive && self.cfg.verify.guard_min_numbers > 0 {
                rec.numbers.clone().into_boxed_slice()
            } else {
                Box::new([])
            },
        });
        Ok(slot)
    }

    /// Bytes held by each per-document structure (capacities), for memory accounting.
    pub fn memory_breakdown(&self) -> Vec<(&'static str, usize)> {
        let heap: usize = self
            .docs
            .iter()
            .map(|d| d.id.len() + d.sketch.len() * 4 + d.numbers.len() * 8)
            .sum();
        vec![
            (
                "docs",
                self.docs.capacity() * std::mem::size_of::<DocEntry>(),
            ),
            ("sketches+ids", heap),
            (
                "by_id",
                self.by_id.capacity() * (std::mem::size_of::<(Box<str>, u32)>() + 1),
            ),
            ("exact", self.exact.memory_bytes()),
            ("simhash", self.simhash.memory_bytes()),
            ("lsh", self.lsh.memory_bytes()),
            ("clusters", self.clusters.memory_bytes()),
        ]
    }

    /// Bytes held by per-document structures (capacities), excluding the fixed-size
    /// document-frequency tables (see [`fixed_memory_bytes`](Self::fixed_memory_bytes)).
    pub fn memory_bytes(&self) -> usize {
        self.memory_breakdown().iter().map(|(_, b)| b).sum()
    }

    /// Bytes of the fixed-size tables (document frequencies).
    pub fn fixed_memory_bytes(&self) -> usize {
        self.token_df.memory_bytes() + self.shingle_df.memory_bytes()
    }
}
