//! Candidate generation (exact, simhash tables, MinHash-LSH), verification and clustering, for
//! one namespace.
//!
//! [`NamespaceIndex`] is plain data with `&mut self` inserts; the engine puts one behind a
//! mutex per namespace, which is what makes check-and-insert atomic.
//!
//! Memory: no heap allocation per document. Documents live in chunked columns and per-chunk
//! record arenas ([`docs`]: id, Elias–Fano-coded sketch); the id and exact maps hold slots
//! only ([`slot_table`]); the simhash and LSH tables are bucketed (tag, slot) entries of 6 bytes
//! ([`buckets`]).

pub mod buckets;
pub mod cluster;
pub mod column;
pub mod docs;
pub mod ef;
pub mod exact;
pub mod lsh;
pub mod simhash_tables;
pub mod slot_table;
pub mod verify;

use crate::pipeline::fingerprint::{hamming, DocFreq};
use crate::pipeline::hash::bytes_hash;
use crate::pipeline::minhash::{band_keys, signature};
use crate::pipeline::Features;
use crate::store::record::DocRecord;

/// Share of the smaller sketch a resent document must find in the stored one to count as
/// the same document stripped differently ([`NamespaceIndex::same_document`]).
const SAME_DOCUMENT_CONTAINMENT: f32 = 0.9;

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

/// The result of a lookup, before anything is inserted.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// TF-IDF simhash of the document under the namespace's statistics.
    pub simhash: u64,
    /// Verified matches, best first: (slot, evidence).
    pub matches: Vec<(u32, Match)>,
    /// Candidates examined (all tiers, before verification).
    pub candidates: usize,
    /// LSH band keys the document is filed under (from its non-common sketch shingles); empty
    /// for a text mostly in short lines, which is not banded (see [`verify::decide_density`]).
    pub band_keys: Vec<u64>,
}

/// Everything one namespace remembers.
#[derive(Debug)]
pub struct NamespaceIndex {
    cfg: IndexConfig,
    docs: docs::DocStore,
    /// Live documents by a hash of their id (the ids themselves are in `docs`).
    by_id: slot_table::SlotTable,
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
            docs: docs::DocStore::new(cfg.verify.guard_min_numbers > 0),
            by_id: slot_table::SlotTable::default(),
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
        self.slot_of(id).is_some()
    }

    /// Id of a slot.
    pub fn id_of(&self, slot: u32) -> Option<&str> {
        self.docs.id(slot)
    }

    /// Id of the cluster (its first document) a slot belongs to.
    pub fn cluster_id_of(&self, slot: u32) -> Option<&str> {
        self.clusters.of(slot).and_then(|c| self.id_of(c))
    }

    /// Find and verify the earlier documents `f` duplicates, within `window_secs` of `time`
    /// (None = no window). Changes nothing.
    ///
    /// A text mostly in short lines (its [`verify::shingle_density`] below
    /// [`verify::VerifyConfig::min_density`]) still looks for its copies in the bands, but is not
    /// filed under them: its MinHash is made of its few long lines, the frame every edition of a
    /// list or verse column repeats, so every later edition (and any article quoting the frame)
    /// would draw it as a candidate. Its copies find it through the exact and simhash tiers,
    /// which see all its words.
    pub fn lookup(&self, f: &Features, time: i64, window_secs: Option<i64>) -> Lookup {
        // The sketch keys' frequency table is megabytes, read at random (a line per key): the
        // lines are fetched first, in one loop of independent loads, so the misses overlap (the
        // simhash does the same for its tokens).
        if self.cfg.verify.common_clusters > 0 && f.shingles > 0 {
            self.shingle_df.touch_mixed(
                f.sketch
                    .iter()
                    .map(|&k| crate::pipeline::hash::mix64(u64::from(k))),
            );
        }
        let simhash = f.simhash(&self.token_df);
        let mut cands: Vec<(u32, Tier, u32)> = Vec::new();
        let docs = &self.docs;
        if let Some(s) = self.exact.get(f.exact, |s| docs.exact(s)) {
            cands.push((s, Tier::Exact, 0));
        }
        if f.shingles == 0 {
            // No text left: two pages that strip to nothing are not copies of each other unless
            // their whole input is the same (the engine keys such a document by its input,
            // see `pipeline::stripped_exact_hash`); no near-duplicate tier applies.
            return self.verify_candidates(f, simhash, cands, Vec::new(), time, window_secs);
        }
        let mut near = Vec::new();
        self.simhash.query(
            simhash,
            simhash_tables::MAX_DISTANCE,
            |s| docs.simhash(s),
            &mut near,
        );
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
        let keys = if density(f) < vcfg.min_density {
            Vec::new()
        } else {
            keys
        };
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
        let density = density(f);
        let mut matches: Vec<(u32, Match, f32)> = Vec::new();
        let docs = &self.docs;
        let (mut sketch, mut numbers) = (Vec::new(), Vec::new());
        let (mut first_sketch, mut first_numbers) = (Vec::new(), Vec::new());
        for (slot, tier, d) in cands {
            let (Some(doc_time), Some(doc_simhash), Some(doc_exact)) =
                (docs.time(slot), docs.simhash(slot), docs.exact(slot))
            else {
                continue;
            };
            if !docs.alive(slot) {
                continue;
            }
            if let Some(w) = window_secs {
                if (doc_time - time).abs() > w {
                    continue;
                }
            }
            let hd = if d == u32::MAX {
                hamming(doc_simhash, simhash)
            } else {
                d
            };
            // (jaccard, containment, reason, score): an exact match ranks above every verified one.
            let verdict = if tier == Tier::Exact && doc_exact == f.exact {
                Some((1.0, 1.0, "same normalized text".to_string(), 3.0))
            } else if f.shingles == 0 {
                None
            } else {
                docs.features_into(slot, &mut sketch, &mut numbers);
                let o = verify::overlap(&f.sketch, &sketch, self.cfg.sketch_cap, common);
                let nums =
                    verify::number_overlap(&f.numbers, &numbers, vcfg.guard_min_numbers as usize);
                let (j, c) = (o.jaccard(), o.containment());
                let v = verify::decide(&o, nums, hd, vcfg);
                let mut v = verify::decide_density(v, c, density, hd, vcfg);
                if v.accept && c < vcfg.partial_containment {
                    let first = self.clusters.of(slot).filter(|&s| s != slot);
                    if let Some(first) = first {
                        docs.features_into(first, &mut first_sketch, &mut first_numbers);
                        let cap = self.cfg.sketch_cap;
                        let core =
                            verify::core_overlap(&f.sketch, &sketch, &first_sketch, cap, common);
                        v = verify::decide_core(&core, v, vcfg);
                    }
                }
                v.accept.then_some((j, c, v.reason, j + c))
            };
            if let Some((jaccard, containment, reason, score)) = verdict {
                let id = docs.id(slot).unwrap_or_default().to_string();
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
        if self.contains(id) {
            return Err(crate::Error::invalid(
                "document.id",
                format!("{id:?} is already in the namespace"),
            ));
        }
        let keep_numbers = self.cfg.verify.guard_min_numbers > 0;
        let slot = self.docs.push(docs::NewDoc {
            id,
            time,
            simhash: look.simhash,
            exact: f.exact,
            alive: true,
            sketch: &f.sketch,
            numbers: if keep_numbers { &f.numbers } else { &[] },
        })?;
        let best = look.matches.first().map(|(s, _)| *s);
        let cluster = self.clusters.assign(slot, best);
        if best.is_none() {
            // Document frequencies count stories (clusters), not copies.
            self.token_df.add_document(f.tokens.iter().copied());
            self.shingle_df
                .add_document(f.sketch.iter().map(|&k| k as u64));
        }
        let docs = &self.docs;
        self.exact.insert(f.exact, slot, |s| docs.exact(s));
        self.simhash.insert(look.simhash, slot);
        self.lsh.insert(&look.band_keys, slot, |s| docs.alive(s));
        self.by_id.insert(id_hash(id.as_bytes()), slot, |s| {
            id_hash(docs.id_bytes(s).unwrap_or_default())
        });
        self.live += 1;
        Ok((slot, cluster))
    }

    /// Forget a document by id; true when it was held. Its cluster keeps its name.
    pub fn delete(&mut self, id: &str) -> bool {
        let Some(slot) = self.slot_of(id) else {
            return false;
        };
        let docs = &self.docs;
        self.by_id.remove(id_hash(id.as_bytes()), slot, |s| {
            id_hash(docs.id_bytes(s).unwrap_or_default())
        });
        if let (Some(sim), Some(ex)) = (docs.simhash(slot), docs.exact(slot)) {
            self.simhash.remove(sim, slot);
            self.exact.remove(ex, slot, |s| docs.exact(s));
        }
        self.docs.kill(slot);
        self.live = self.live.saturating_sub(1);
        true
    }

    /// Ids of the live documents among `slots` whose time is before `cutoff` (TTL eviction
    /// walks the slots in chunks so that no request waits long for the lock).
    pub fn expired(&self, slots: std::ops::Range<u32>, cutoff: i64) -> Vec<Box<str>> {
        let end = slots
            .end
            .min(u32::try_from(self.docs.len()).unwrap_or(u32::MAX));
        (slots.start.min(end)..end)
            .filter(|&s| self.docs.alive(s) && self.docs.time(s).is_some_and(|t| t < cutoff))
            .filter_map(|s| self.docs.id(s).map(Box::from))
            .collect()
    }

    /// Slot of a live document.
    pub fn slot_of(&self, id: &str) -> Option<u32> {
        let docs = &self.docs;
        self.by_id.find(id_hash(id.as_bytes()), |s| {
            docs.id_bytes(s) == Some(id.as_bytes())
        })
    }

    /// Exact-duplicate key of a slot.
    pub fn exact_of(&self, slot: u32) -> Option<u64> {
        self.docs.exact(slot)
    }

    /// Whether `f` may be the features of the document held in `slot` sent again: the same
    /// clean text, or one that only lost or regained lines — what the stripper learned in
    /// between (a line that became a source's chrome, or faded) can change the clean text of
    /// the same input — so that one of the two sketches lies within the other. A different
    /// document under a taken id fails this.
    pub fn same_document(&self, slot: u32, f: &Features) -> bool {
        if self.docs.exact(slot) == Some(f.exact) {
            return true;
        }
        let (mut sketch, mut numbers) = (Vec::new(), Vec::new());
        self.docs.features_into(slot, &mut sketch, &mut numbers);
        if sketch.is_empty() || f.sketch.is_empty() {
            return false;
        }
        let o = verify::overlap(&f.sketch, &sketch, self.cfg.sketch_cap, |_| false);
        o.containment() >= SAME_DOCUMENT_CONTAINMENT
    }

    /// Next slot to be assigned: the number of documents ever inserted, tombstones included.
    /// It is also the store sequence number of the next record.
    pub fn next_slot(&self) -> u64 {
        self.docs.len() as u64
    }

    /// Put a document back exactly as its durable record describes it (restart). Records must
    /// come in insertion order; `best` is the slot of the record's `best` match. Nothing is
    /// recomputed: the stored simhash and band keys are reused, and document frequencies are
    /// replayed from the cluster founders' tokens, so the index ends as it was. A record
    /// written under a larger sketch cap keeps the `sketch_cap` smallest keys of its sketch —
    /// the sketch its text gets under the current cap — while the document frequencies count
    /// the sketch as recorded.
    pub fn restore(&mut self, rec: &DocRecord, best: Option<u32>) -> crate::Result<u32> {
        let keep_numbers = self.cfg.verify.guard_min_numbers > 0;
        let capped = rec.sketch.get(..self.cfg.sketch_cap).unwrap_or(&rec.sketch);
        let slot = self.docs.push(docs::NewDoc {
            id: &rec.id,
            time: rec.time,
            simhash: rec.simhash,
            exact: rec.exact,
            alive: rec.alive,
            sketch: capped,
            numbers: if keep_numbers { &rec.numbers } else { &[] },
        })?;
        self.clusters.assign(slot, best);
        if best.is_none() {
            self.token_df.add_document(rec.tokens.iter().copied());
            self.shingle_df
                .add_document(rec.sketch.iter().map(|&k| k as u64));
        }
        if rec.alive {
            let docs = &self.docs;
            self.exact.insert(rec.exact, slot, |s| docs.exact(s));
            self.simhash.insert(rec.simhash, slot);
            self.lsh.insert(&rec.band_keys, slot, |s| docs.alive(s));
            self.by_id.insert(id_hash(rec.id.as_bytes()), slot, |s| {
                id_hash(docs.id_bytes(s).unwrap_or_default())
            });
            self.live += 1;
        }
        Ok(slot)
    }

    /// Bytes held by each per-document structure (capacities), for memory accounting.
    pub fn memory_breakdown(&self) -> Vec<(&'static str, usize)> {
        let (columns, records) = self.docs.memory_bytes();
        vec![
            ("columns", columns),
            ("ids+sketches", records),
            ("by_id", self.by_id.memory_bytes()),
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

/// [`verify::shingle_density`] of a document's features.
fn density(f: &Features) -> f32 {
    verify::shingle_density(f.shingles, f.counts.iter().sum())
}

/// Hash of an id for the id table.
#[inline]
fn id_hash(id: &[u8]) -> u64 {
    bytes_hash(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, sketch: Vec<u32>, alive: bool) -> DocRecord {
        DocRecord {
            id: id.into(),
            time: 5,
            alive,
            exact: 77,
            simhash: 0xabc,
            band_keys: vec![1 << 40, 2 << 40],
            sketch,
            numbers: Vec::new(),
            tokens: vec![1, 2, 3],
            best: None,
            cluster_id: id.into(),
            source: None,
            line_keys: Vec::new(),
            bytes: 10,
        }
    }

    #[test]
    fn restore_keeps_the_smallest_keys_under_the_cap() {
        let cfg = IndexConfig {
            sketch_cap: 4,
            ..IndexConfig::default()
        };
        let mut index = NamespaceIndex::new(cfg);
        let slot = index
            .restore(&record("a", (10..20).collect(), true), None)
            .unwrap();
        let (mut sketch, mut numbers) = (Vec::new(), Vec::new());
        index.docs.features_into(slot, &mut sketch, &mut numbers);
        assert_eq!(sketch, vec![10, 11, 12, 13]);
        assert_eq!(index.slot_of("a"), Some(slot));
        let dead = index
            .restore(&record("b", (10..20).collect(), false), None)
            .unwrap();
        assert_eq!(index.slot_of("b"), None);
        assert_eq!(index.id_of(dead), Some("b"));
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn ids_exact_keys_and_deletes_go_through_the_slot_tables() {
        let mut index = NamespaceIndex::default();
        let f = Features {
            exact: 99,
            shingles: 40,
            sketch: (0..40).map(|k| k * 1_000_003).collect(),
            ..Features::default()
        };
        for i in 0..100 {
            let look = index.lookup(&f, 0, None);
            index.insert(&format!("id-{i}"), &f, 0, &look).unwrap();
        }
        assert!(index.insert("id-7", &f, 0, &Lookup::default()).is_err());
        assert_eq!(index.slot_of("id-42"), Some(42));
        assert_eq!(index.exact_of(42), Some(99));
        let look = index.lookup(&f, 0, None);
        assert_eq!(look.matches[0].0, 0, "the first holder of the exact key");
        assert_eq!(look.matches[0].1.tier, Tier::Exact);
        assert!(index.delete("id-0"));
        assert!(!index.delete("id-0"));
        assert_eq!(index.slot_of("id-0"), None);
        assert_eq!(index.slot_of("id-1"), Some(1));
        assert_eq!(index.exact.get(99, |s| index.docs.exact(s)), None);
        // Slot 0 held the exact key; no live document holds it now, so the best matches are
        // verified ones (score below an exact match's).
        let look = index.lookup(&f, 0, None);
        assert!(look
            .matches
            .iter()
            .all(|(s, m)| *s != 0 && m.tier != Tier::Exact));
        assert_eq!(index.expired(0..200, 1).len(), 99);
        assert_eq!(index.len(), 99);
    }
}
