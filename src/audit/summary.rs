//! The audit's figures ([`Summary`], written as `summary.json`) and the bounded state that
//! accumulates them while documents stream through (`Tally`, crate-private).
//!
//! Memory: one small entry per cluster (its size, plus a snippet while the snippet budget
//! lasts), one entry per source up to a cap (with a fixed-size heavy-hitter counter of its
//! boilerplate lines), fixed-size histograms. Nothing holds whole documents.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::index::{Match, Tier};

use super::topk::{PassThrough, SpaceSaving, StrKeyed};

/// Version of the `summary.json` layout.
pub const SUMMARY_VERSION: u32 = 1;

/// Label of documents without a source.
pub const NO_SOURCE: &str = "(none)";
/// Label that collects the sources beyond [`super::AuditConfig::max_sources`].
pub const OTHER_SOURCES: &str = "(other sources)";

/// Cluster-size buckets: (label, min, max inclusive).
pub const SIZE_BUCKETS: &[(&str, u64, u64)] = &[
    ("1", 1, 1),
    ("2", 2, 2),
    ("3", 3, 3),
    ("4-5", 4, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21-50", 21, 50),
    ("51-100", 51, 100),
    ("101-1000", 101, 1000),
    ("1001+", 1001, u64::MAX),
];

/// Bins of the similarity histograms over [0, 1].
pub const SIMILARITY_BINS: usize = 20;

/// Everything the audit found, in a stable layout (see [`SUMMARY_VERSION`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Layout version.
    pub version: u32,
    /// Documents audited (decoded and checked).
    pub documents: u64,
    /// Documents that start a cluster (kept).
    pub originals: u64,
    /// Documents whose normalized text equals an earlier document's.
    pub exact_duplicates: u64,
    /// Documents that near-duplicate an earlier document (not exact).
    pub near_duplicates: u64,
    /// (exact + near duplicates) / documents; 0 when there are no documents.
    pub duplication_rate: f64,
    /// Distinct clusters (= originals).
    pub clusters: u64,
    /// Clusters with at least two documents.
    pub clusters_with_duplicates: u64,
    /// Size of the largest cluster.
    pub largest_cluster_size: u64,
    /// Cluster-size distribution.
    pub cluster_sizes: Vec<SizeBucket>,
    /// Duplicates by the tier that found their best match (`exact`, `simhash`, `lsh`).
    pub duplicates_by_tier: BTreeMap<String, u64>,
    /// Best-match shingle Jaccard of every duplicate.
    pub jaccard_histogram: Histogram,
    /// Best-match containment of every duplicate.
    pub containment_histogram: Histogram,
    /// Boilerplate removed by the stripper, overall and per source.
    pub boilerplate: Boilerplate,
    /// Documents per guessed language (see [`super::lang`]).
    pub languages: BTreeMap<String, u64>,
    /// Input items that were not documents (WARC 404s, images, …), by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Input items that failed (bad JSON, bad WARC record, rejected by the engine).
    pub errors: u64,
    /// The first failures, `origin: message`.
    pub error_samples: Vec<String>,
    /// The largest clusters, largest first, with their first members.
    pub largest_clusters: Vec<ClusterView>,
}

impl Summary {
    /// `summary.json` exactly as `neardup audit` writes it (pretty-printed); the Audit RPC
    /// returns the same text.
    pub fn to_json(&self) -> crate::Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| crate::Error::Decode {
            what: "summary",
            message: e.to_string(),
        })
    }
}

/// One bucket of the cluster-size distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeBucket {
    /// Label, e.g. `4-5`.
    pub label: String,
    /// Smallest size in the bucket.
    pub min: u64,
    /// Largest size in the bucket (`u64::MAX` for the open last bucket).
    pub max: u64,
    /// Clusters whose size falls in the bucket.
    pub clusters: u64,
    /// Documents in those clusters.
    pub documents: u64,
}

/// A histogram over [0, 1] in equal bins; `counts[i]` covers `[i/n, (i+1)/n)`, the last bin
/// includes 1.0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// Count per bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    fn new(bins: usize) -> Self {
        Histogram {
            counts: vec![0; bins.max(1)],
        }
    }

    fn add(&mut self, value: f32) {
        let n = self.counts.len();
        let v = if value.is_finite() {
            value.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let i = ((v * n as f32) as usize).min(n - 1);
        self.counts[i] += 1;
    }
}

/// Boilerplate share = removed bytes / (removed bytes + clean-text bytes), where removed bytes
/// are the lengths of the stripper's removed spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boilerplate {
    /// Bytes of clean text kept.
    pub kept_bytes: u64,
    /// Bytes in removed spans.
    pub removed_bytes: u64,
    /// removed / (removed + kept); 0 when both are 0.
    pub share: f64,
    /// Per source, most documents first.
    pub per_source: Vec<SourceBoilerplate>,
}

/// Boilerplate of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceBoilerplate {
    /// Source label ([`NO_SOURCE`], [`OTHER_SOURCES`] for the aggregated rest).
    pub source: String,
    /// Documents of the source.
    pub documents: u64,
    /// Duplicates among them.
    pub duplicates: u64,
    /// Bytes of clean text kept.
    pub kept_bytes: u64,
    /// Bytes in removed spans.
    pub removed_bytes: u64,
    /// removed / (removed + kept).
    pub share: f64,
    /// The most frequent removed lines, counted once per document.
    pub top_lines: Vec<LineCount>,
}

/// A removed line and in how many documents it was removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCount {
    /// The line (whitespace collapsed, tags dropped, cut at 160 characters).
    pub line: String,
    /// Documents it was removed from (may overestimate by `error`).
    pub count: u64,
    /// Upper bound of the overestimate; 0 = exact.
    pub error: u64,
}

/// One of the largest clusters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// Cluster id (from the engine).
    pub cluster_id: String,
    /// The cluster's first document in input order (the one to keep).
    pub canonical_id: String,
    /// Documents in the cluster.
    pub size: u64,
    /// Its first members in input order, canonical first (snippets while the budget lasted).
    pub members: Vec<MemberView>,
}

/// A cluster member as shown in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    /// Document id.
    pub id: String,
    /// Its source.
    pub source: Option<String>,
    /// The start of its clean text.
    pub snippet: String,
    /// How its best match was found (`exact`, `simhash`, `lsh`; None for the canonical).
    pub tier: Option<String>,
    /// Best-match Jaccard (None for the canonical).
    pub jaccard: Option<f32>,
    /// Best-match containment (None for the canonical).
    pub containment: Option<f32>,
}

/// The wire name of a tier (`exact`, `simhash`, `lsh`).
pub fn tier_name(tier: Tier) -> String {
    serde_json::to_value(tier)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn share(removed: u64, kept: u64) -> f64 {
    if removed + kept == 0 {
        0.0
    } else {
        removed as f64 / (removed + kept) as f64
    }
}

/// Limits of the tally (copied from the audit configuration).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub largest_clusters: usize,
    pub members_shown: usize,
    pub snippet_budget_bytes: usize,
    pub top_lines: usize,
    pub line_counter_capacity: usize,
    pub max_sources: usize,
    pub error_samples: usize,
}

#[derive(Debug)]
struct MemberState {
    id: Box<str>,
    source: Option<Arc<str>>,
    snippet: Box<str>,
    evidence: Option<(Tier, f32, f32)>,
}

#[derive(Debug)]
struct ClusterState {
    size: u32,
    /// Input position of the cluster's first document (tie-break for "largest").
    first: u64,
    /// The first document's id when it differs from the cluster id.
    canonical: Option<Box<str>>,
    members: Vec<MemberState>,
}

#[derive(Debug)]
struct SourceState {
    label: Arc<str>,
    documents: u64,
    duplicates: u64,
    kept: u64,
    removed: u64,
    lines: SpaceSaving,
}

/// What the tally needs to know of one checked document.
pub(crate) struct Observation<'a> {
    pub id: &'a str,
    pub cluster_id: &'a str,
    pub source: Option<&'a str>,
    pub best: Option<&'a Match>,
    pub lang: &'static str,
    pub kept_bytes: u64,
    pub removed_bytes: u64,
    /// Distinct removed lines (already cleaned), with their hashes.
    pub removed_lines: &'a RemovedLines,
    pub snippet: &'a str,
}

/// The running state behind a [`Summary`].
#[derive(Debug)]
pub(crate) struct Tally {
    limits: Limits,
    documents: u64,
    exact: u64,
    near: u64,
    /// Duplicates per tier (a handful of tiers: a list).
    by_tier: Vec<(Tier, u64)>,
    jaccard: Histogram,
    containment: Histogram,
    clusters: StrKeyed<Box<str>, ClusterState>,
    snippet_bytes: usize,
    sources: StrKeyed<Arc<str>, SourceState>,
    /// Documents per language label (a few dozen labels at most: a list).
    languages: Vec<(&'static str, u64)>,
    skipped: BTreeMap<String, u64>,
    errors: u64,
    error_samples: Vec<String>,
}

impl Tally {
    pub(crate) fn new(limits: Limits) -> Self {
        Tally {
            limits,
            documents: 0,
            exact: 0,
            near: 0,
            by_tier: Vec::new(),
            jaccard: Histogram::new(SIMILARITY_BINS),
            containment: Histogram::new(SIMILARITY_BINS),
            clusters: StrKeyed::default(),
            snippet_bytes: 0,
            sources: StrKeyed::default(),
            languages: Vec::new(),
            skipped: BTreeMap::new(),
            errors: 0,
            error_samples: Vec::new(),
        }
    }

    pub(crate) fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }

    pub(crate) fn error(&mut self, message: String) {
        self.errors += 1;
        if self.error_samples.len() < self.limits.error_samples {
            self.error_samples.push(message);
        }
    }

    /// The label a source is counted under, creating its state when there is room.
    fn source_label(&mut self, source: Option<&str>) -> Arc<str> {
        let label = source.unwrap_or(NO_SOURCE);
        let label =
            if self.sources.contains_key(label) || self.sources.len() < self.limits.max_sources {
                label
            } else {
                OTHER_SOURCES
            };
        if let Some(state) = self.sources.get(label) {
            return state.label.clone();
        }
        let key: Arc<str> = Arc::from(label);
        self.sources.insert(
            key.clone(),
            SourceState {
                label: key.clone(),
                documents: 0,
                duplicates: 0,
                kept: 0,
                removed: 0,
                lines: SpaceSaving::new(self.limits.line_counter_capacity),
            },
        );
        key
    }

    /// Add one document; returns the cluster's canonical id.
    pub(crate) fn observe(&mut self, o: Observation<'_>) -> String {
        let position = self.documents;
        self.documents += 1;
        match self.languages.iter_mut().find(|(l, _)| *l == o.lang) {
            Some((_, n)) => *n += 1,
            None => self.languages.push((o.lang, 1)),
        }
        let evidence = o.best.map(|m| (m.tier, m.jaccard, m.containment));
        if let Some(m) = o.best {
            if m.tier == Tier::Exact {
                self.exact += 1;
            } else {
                self.near += 1;
            }
            match self.by_tier.iter_mut().find(|(t, _)| *t == m.tier) {
                Some((_, n)) => *n += 1,
                None => self.by_tier.push((m.tier, 1)),
            }
            self.jaccard.add(m.jaccard);
            self.containment.add(m.containment);
        }

        let source_label = self.source_label(o.source);
        if let Some(source) = self.sources.get_mut(&source_label) {
            source.documents += 1;
            source.duplicates += u64::from(o.best.is_some());
            source.kept += o.kept_bytes;
            source.removed += o.removed_bytes;
            for (key, line) in o.removed_lines.iter() {
                source.lines.add(key, line);
            }
        }

        let limits = &self.limits;
        let budget_left = self.snippet_bytes < limits.snippet_budget_bytes;
        if !self.clusters.contains_key(o.cluster_id) {
            self.clusters.insert(
                Box::from(o.cluster_id),
                ClusterState {
                    size: 0,
                    first: position,
                    canonical: (o.id != o.cluster_id).then(|| Box::from(o.id)),
                    members: Vec::new(),
                },
            );
        }
        let Some(cluster) = self.clusters.get_mut(o.cluster_id) else {
            return o.cluster_id.to_string();
        };
        cluster.size = cluster.size.saturating_add(1);
        // Duplicates may use twice the budget, so the report's clusters keep their members
        // after singletons have used up the first half.
        let keep = cluster.members.len() < limits.members_shown
            && (budget_left
                || (cluster.size > 1 && self.snippet_bytes < limits.snippet_budget_bytes * 2));
        if keep {
            let is_canonical = cluster.size == 1;
            let member = MemberState {
                id: Box::from(o.id),
                source: Some(source_label).filter(|s| o.source.is_some() && !s.is_empty()),
                snippet: Box::from(o.snippet),
                evidence: if is_canonical { None } else { evidence },
            };
            self.snippet_bytes += member.snippet.len() + member.id.len() + 64;
            cluster.members.push(member);
        }
        cluster
            .canonical
            .as_deref()
            .unwrap_or(o.cluster_id)
            .to_string()
    }

    pub(crate) fn finish(self) -> Summary {
        let mut buckets: Vec<SizeBucket> = SIZE_BUCKETS
            .iter()
            .map(|(label, min, max)| SizeBucket {
                label: label.to_string(),
                min: *min,
                max: *max,
                clusters: 0,
                documents: 0,
            })
            .collect();
        let mut largest_size = 0u64;
        let mut with_dups = 0u64;
        let mut big: Vec<(&Box<str>, &ClusterState)> = Vec::new();
        for (id, c) in &self.clusters {
            let size = u64::from(c.size);
            largest_size = largest_size.max(size);
            if let Some(b) = buckets.iter_mut().find(|b| size >= b.min && size <= b.max) {
                b.clusters += 1;
                b.documents += size;
            }
            if size > 1 {
                with_dups += 1;
                big.push((id, c));
            }
        }
        big.sort_by(|a, b| b.1.size.cmp(&a.1.size).then(a.1.first.cmp(&b.1.first)));
        big.truncate(self.limits.largest_clusters);
        let largest_clusters = big
            .into_iter()
            .map(|(id, c)| ClusterView {
                cluster_id: id.to_string(),
                canonical_id: c.canonical.as_deref().unwrap_or(id).to_string(),
                size: u64::from(c.size),
                members: c
                    .members
                    .iter()
                    .map(|m| MemberView {
                        id: m.id.to_string(),
                        source: m.source.as_deref().map(str::to_string),
                        snippet: m.snippet.to_string(),
                        tier: m.evidence.map(|e| tier_name(e.0)),
                        jaccard: m.evidence.map(|e| e.1),
                        containment: m.evidence.map(|e| e.2),
                    })
                    .collect(),
            })
            .collect();

        let (mut kept, mut removed) = (0u64, 0u64);
        let mut per_source: Vec<SourceBoilerplate> = self
            .sources
            .values()
            .map(|s| {
                kept += s.kept;
                removed += s.removed;
                SourceBoilerplate {
                    source: s.label.to_string(),
                    documents: s.documents,
                    duplicates: s.duplicates,
                    kept_bytes: s.kept,
                    removed_bytes: s.removed,
                    share: share(s.removed, s.kept),
                    top_lines: s
                        .lines
                        .top(self.limits.top_lines)
                        .into_iter()
                        .map(|c| LineCount {
                            line: c.text.to_string(),
                            count: c.count,
                            error: c.error,
                        })
                        .collect(),
                }
            })
            .collect();
        per_source.sort_by(|a, b| {
            b.documents
                .cmp(&a.documents)
                .then_with(|| a.source.cmp(&b.source))
        });

        let duplicates = self.exact + self.near;
        Summary {
            version: SUMMARY_VERSION,
            documents: self.documents,
            originals: self.documents - duplicates,
            exact_duplicates: self.exact,
            near_duplicates: self.near,
            duplication_rate: if self.documents == 0 {
                0.0
            } else {
                duplicates as f64 / self.documents as f64
            },
            clusters: self.clusters.len() as u64,
            clusters_with_duplicates: with_dups,
            largest_cluster_size: largest_size,
            cluster_sizes: buckets,
            duplicates_by_tier: self
                .by_tier
                .into_iter()
                .map(|(t, n)| (tier_name(t), n))
                .collect(),
            jaccard_histogram: self.jaccard,
            containment_histogram: self.containment,
            boilerplate: Boilerplate {
                kept_bytes: kept,
                removed_bytes: removed,
                share: share(removed, kept),
                per_source,
            },
            languages: self
                .languages
                .into_iter()
                .map(|(l, n)| (l.to_string(), n))
                .collect(),
            skipped: self.skipped,
            errors: self.errors,
            error_samples: self.error_samples,
            largest_clusters,
        }
    }
}

/// Characters a removed line is cut at.
pub const LINE_CHARS: usize = 160;

/// A document's distinct removed lines as the summary counts them (whitespace collapsed, cut
/// at [`LINE_CHARS`] characters), in the order first seen, with their xxh3 hashes; all in one
/// buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RemovedLines {
    text: String,
    /// (hash, start, end) of each line in `text`.
    lines: Vec<(u64, u32, u32)>,
    /// Hashes of `lines`, for the distinctness check once there are many.
    seen: HashSet<u64, std::hash::BuildHasherDefault<PassThrough>>,
}

/// Whether the character at byte `i` of `s` (a character boundary) is whitespace (as
/// `char::is_whitespace`), and its width in bytes.
fn char_at(s: &str, i: usize) -> (bool, usize) {
    let Some(&b) = s.as_bytes().get(i) else {
        return (false, 1);
    };
    if b < 0x80 {
        return (b == b' ' || (b'\t'..=b'\r').contains(&b), 1);
    }
    let width = match b {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    };
    // Non-ASCII whitespace (U+0085, U+00A0, U+1680, U+2000–U+205F, U+3000) starts with one
    // of these bytes; any other character is not whitespace.
    if !matches!(b, 0xC2 | 0xE1 | 0xE2 | 0xE3) {
        return (false, width);
    }
    s.get(i..)
        .and_then(|t| t.chars().next())
        .map_or((false, width), |c| (c.is_whitespace(), width))
}

/// Whether a line already is as [`RemovedLines`] keeps it: words separated by single ASCII
/// spaces, no other whitespace, at most [`LINE_CHARS`] characters (the common case, copied
/// as is).
fn already_collapsed(line: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    /// High bit set in exactly the bytes of `x` that are zero.
    fn zero_bytes(x: u64) -> u64 {
        !(((x & !HIGH) + !HIGH) | x | !HIGH)
    }
    let b = line.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' {
        return false;
    }
    // Characters are counted only when there may be more than the cut: a line of at most
    // LINE_CHARS bytes has at most as many characters.
    let count = b.len() > LINE_CHARS;
    let mut chars = 0usize;
    let mut prev_space = false;
    let chunks = b.chunks_exact(8);
    let tail = chunks.remainder();
    // Eight bytes at a time: no control byte (ASCII whitespace but the space is one), no
    // two spaces in a row, lead bytes of possible non-ASCII whitespace checked one by one.
    for (n, chunk) in chunks.enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if zero_bytes(x & (0xE0 * ONES)) != 0 {
            return false;
        }
        let spaces = zero_bytes(x ^ (0x20 * ONES));
        if spaces & (spaces >> 8) != 0 || (prev_space && spaces & 0x80 != 0) {
            return false;
        }
        prev_space = spaces >> 63 != 0;
        let mut leads =
            zero_bytes(x ^ (0xC2 * ONES)) | zero_bytes((x & (0xFC * ONES)) ^ (0xE0 * ONES));
        while leads != 0 {
            let k = leads.trailing_zeros() as usize / 8;
            if char_at(line, n * 8 + k).0 {
                return false;
            }
            leads &= leads - 1;
        }
        if count {
            chars += 8 - (x & !(x << 1) & HIGH).count_ones() as usize;
        }
    }
    let base = b.len() - tail.len();
    for (i, &c) in tail.iter().enumerate() {
        if c < 0x80 {
            let space = c == b' ';
            if (space && prev_space) || (b'\t'..=b'\r').contains(&c) {
                return false;
            }
            prev_space = space;
        } else {
            prev_space = false;
            if matches!(c, 0xC2 | 0xE1 | 0xE2 | 0xE3) && char_at(line, base + i).0 {
                return false;
            }
        }
        chars += usize::from(c & 0xC0 != 0x80);
    }
    !count || chars <= LINE_CHARS
}

/// Push `line` with its whitespace collapsed and cut at [`LINE_CHARS`] characters onto `text`.
fn push_collapsed(text: &mut String, line: &str) {
    let start = text.len();
    let n = line.len();
    let mut chars = 0usize;
    let mut i = 0;
    while i < n {
        // Skip whitespace, then take the word up to the next whitespace.
        while i < n {
            let (ws, w) = char_at(line, i);
            if !ws {
                break;
            }
            i += w;
        }
        if i >= n {
            break;
        }
        let from = i;
        let mut word_chars = 0usize;
        while i < n {
            let (ws, w) = char_at(line, i);
            if ws {
                break;
            }
            i += w;
            word_chars += 1;
        }
        if text.len() > start {
            if chars >= LINE_CHARS {
                break;
            }
            text.push(' ');
            chars += 1;
        }
        let word = line.get(from..i).unwrap_or("");
        if chars + word_chars <= LINE_CHARS {
            text.push_str(word);
            chars += word_chars;
        } else {
            text.extend(word.chars().take(LINE_CHARS - chars));
            break;
        }
    }
}

/// Lines kept before the distinctness check switches from a scan to a set.
const SCAN_LINES: usize = 16;

impl RemovedLines {
    /// Add the lines of a removed span's text: split at newlines, collapse whitespace, cut at
    /// [`LINE_CHARS`] characters; each distinct line once.
    pub(crate) fn add_span(&mut self, span: &str) {
        // `lines()` also drops a `\r` before the `\n`: whitespace, collapsed here anyway.
        // The pieces of `span.split('\n')`, found with the vectorized `memchr`.
        let mut rest = span;
        loop {
            let (line, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(at) => (
                    rest.get(..at).unwrap_or(""),
                    Some(rest.get(at + 1..).unwrap_or("")),
                ),
                None => (rest, None),
            };
            self.add_line(line);
            match next {
                Some(next) => rest = next,
                None => break,
            }
        }
    }

    /// Add one line (no `\n` in it), collapsed and cut, unless already counted.
    fn add_line(&mut self, line: &str) {
        let start = self.text.len();
        if already_collapsed(line) {
            self.text.push_str(line);
        } else {
            push_collapsed(&mut self.text, line);
        }
        let end = self.text.len();
        if end == start {
            return;
        }
        let key = xxhash_rust::xxh3::xxh3_64(&self.text.as_bytes()[start..end]);
        if self.contains(key) {
            self.text.truncate(start);
            return;
        }
        if self.lines.len() == SCAN_LINES {
            self.seen.extend(self.lines.iter().map(|l| l.0));
        }
        if self.lines.len() >= SCAN_LINES {
            self.seen.insert(key);
        }
        self.lines.push((key, start as u32, end as u32));
    }

    fn contains(&self, key: u64) -> bool {
        if self.lines.len() <= SCAN_LINES {
            self.lines.iter().any(|l| l.0 == key)
        } else {
            self.seen.contains(&key)
        }
    }

    /// The lines with their hashes, in the order first seen.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        self.lines
            .iter()
            .map(|&(k, s, e)| (k, self.text.get(s as usize..e as usize).unwrap_or("")))
    }

    /// Number of lines.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits() -> Limits {
        Limits {
            largest_clusters: 2,
            members_shown: 2,
            snippet_budget_bytes: 1 << 20,
            top_lines: 2,
            line_counter_capacity: 8,
            max_sources: 2,
            error_samples: 1,
        }
    }

    fn obs<'a>(
        id: &'a str,
        cluster: &'a str,
        source: Option<&'a str>,
        lines: &'a RemovedLines,
    ) -> Observation<'a> {
        Observation {
            id,
            cluster_id: cluster,
            source,
            best: None,
            lang: "en",
            kept_bytes: 30,
            removed_bytes: 10,
            removed_lines: lines,
            snippet: "snip",
        }
    }

    #[test]
    fn boilerplate_is_tallied_per_source_with_a_cap_on_sources() {
        let lines = |spans: &[&str]| {
            let mut l = RemovedLines::default();
            for s in spans {
                l.add_span(s);
            }
            l
        };
        let (nav, share, teaser) = ("Home | Sport", "Share this", "Read also: x");
        let mut t = Tally::new(limits());
        t.observe(obs("a", "a", Some("s1"), &lines(&[nav, share])));
        t.observe(obs("b", "b", Some("s1"), &lines(&[nav, teaser])));
        t.observe(obs("c", "c", Some("s1"), &lines(&[nav, share])));
        t.observe(obs("d", "d", None, &lines(&[])));
        // A third source goes to the "other" bucket (max_sources = 2).
        t.observe(obs("e", "e", Some("s3"), &lines(&[nav])));
        t.error("x: bad".into());
        t.error("y: bad".into());
        let s = t.finish();
        assert_eq!(s.boilerplate.kept_bytes, 150);
        assert_eq!(s.boilerplate.removed_bytes, 50);
        assert!((s.boilerplate.share - 0.25).abs() < 1e-12);
        let names: Vec<&str> = s
            .boilerplate
            .per_source
            .iter()
            .map(|x| x.source.as_str())
            .collect();
        assert_eq!(names, ["s1", NO_SOURCE, OTHER_SOURCES]);
        let s1 = &s.boilerplate.per_source[0];
        assert_eq!(s1.documents, 3);
        let top: Vec<(&str, u64)> = s1
            .top_lines
            .iter()
            .map(|l| (l.line.as_str(), l.count))
            .collect();
        assert_eq!(top, [("Home | Sport", 3), ("Share this", 2)]);
        assert_eq!(s.errors, 2);
        assert_eq!(s.error_samples, ["x: bad"]);
    }

    #[test]
    fn clusters_keep_their_first_members_and_the_largest_are_reported() {
        let mut t = Tally::new(limits());
        let none = RemovedLines::default();
        let m = Match {
            id: "a".into(),
            tier: Tier::Lsh,
            hamming: 9,
            jaccard: 0.6,
            containment: 0.9,
            reason: "r".into(),
        };
        for (id, cluster) in [
            ("a", "a"),
            ("b", "b"),
            ("a2", "a"),
            ("b2", "b"),
            ("a3", "a"),
        ] {
            let mut o = obs(id, cluster, Some("s"), &none);
            if id != cluster {
                o.best = Some(&m);
            }
            assert_eq!(t.observe(o), cluster);
        }
        let s = t.finish();
        assert_eq!(s.near_duplicates, 3);
        assert_eq!(s.jaccard_histogram.counts[12], 3);
        assert_eq!(s.containment_histogram.counts[18], 3);
        assert_eq!(s.duplicates_by_tier["lsh"], 3);
        let sizes: Vec<(String, u64)> = s
            .largest_clusters
            .iter()
            .map(|c| (c.cluster_id.clone(), c.size))
            .collect();
        assert_eq!(sizes, [("a".to_string(), 3), ("b".to_string(), 2)]);
        let members: Vec<&str> = s.largest_clusters[0]
            .members
            .iter()
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(members, ["a", "a2"], "members_shown = 2");
        assert_eq!(
            s.largest_clusters[0].members[1].tier.as_deref(),
            Some("lsh")
        );
        assert_eq!(s.largest_clusters[0].members[0].tier, None);
    }

    #[test]
    fn snippets_stop_at_the_budget_for_singletons() {
        let mut l = limits();
        l.snippet_budget_bytes = 100; // about one member
        let mut t = Tally::new(l);
        let none = RemovedLines::default();
        for id in ["a", "b", "c"] {
            t.observe(obs(id, id, None, &none));
        }
        t.observe(obs("c2", "c", None, &none));
        let s = t.finish();
        let c = &s.largest_clusters[0];
        assert_eq!(c.cluster_id, "c");
        // The canonical came after the budget ran out; its duplicate still got a snippet.
        let ids: Vec<&str> = c.members.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["c2"]);
    }

    #[test]
    fn histogram_bins_include_both_ends() {
        let mut h = Histogram::new(4);
        for v in [0.0, 0.24, 0.25, 0.99, 1.0, f32::NAN, 7.0] {
            h.add(v);
        }
        assert_eq!(h.counts, vec![3, 1, 0, 3]);
    }

    #[test]
    fn span_lines_collapse_whitespace_and_repeats() {
        let mut out = RemovedLines::default();
        out.add_span("Home | Sport\n\nShare   &   like\nHome | Sport");
        let lines: Vec<&str> = out.iter().map(|(_, l)| l).collect();
        assert_eq!(lines, vec!["Home | Sport", "Share & like"]);
        out.add_span("  Read   also:\n\n");
        assert_eq!(out.iter().last().unwrap().1, "Read also:");
        out.add_span("Home | Sport");
        assert_eq!(out.len(), 3, "a line already counted is not added again");
        // Two spaces across the eight-byte blocks the fast check reads.
        out.add_span("abcdefg  hijklmnop");
        assert_eq!(out.iter().last().unwrap().1, "abcdefg hijklmnop");
        for (k, l) in out.iter() {
            assert_eq!(k, xxhash_rust::xxh3::xxh3_64(l.as_bytes()));
        }
    }

    /// The plain definition: split, join with single spaces, cut at 160 characters.
    fn reference_lines(spans: &[String]) -> Vec<(u64, String)> {
        let mut out: Vec<(u64, String)> = Vec::new();
        for span in spans {
            for raw in span.lines() {
                let line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                if line.is_empty() {
                    continue;
                }
                let line: String = line.chars().take(LINE_CHARS).collect();
                let key = xxhash_rust::xxh3::xxh3_64(line.as_bytes());
                if !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, line));
                }
            }
        }
        out
    }

    /// Lines around the cut (in bytes and in characters) are cut as the definition says,
    /// whether they are copied as they are or collapsed.
    #[test]
    fn lines_around_the_cut_match_the_definition() {
        for len in LINE_CHARS - 10..LINE_CHARS + 60 {
            for unit in ["a", "é", "€", "ab ", "a é"] {
                let line: String = unit.repeat(len).chars().take(len).collect();
                let line = line.trim().to_string();
                let mut got = RemovedLines::default();
                got.add_span(&line);
                let got: Vec<(u64, String)> = got.iter().map(|(k, l)| (k, l.to_string())).collect();
                assert_eq!(
                    got,
                    reference_lines(std::slice::from_ref(&line)),
                    "{len} {unit:?}"
                );
            }
        }
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Lines equal the plain definition, whatever the spacing, the characters and the
        /// repeats (up to and past the switch from scan to set), also for lines copied as is
        /// (single spaces, just under and over the length cut).
        #[test]
        fn removed_lines_match_the_definition(
            spans in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::string::string_regex("[a-c ]{0,8}").unwrap(),
                        proptest::string::string_regex("[xé\u{3000}\u{85}\t\r ]{150,170}").unwrap(),
                        proptest::string::string_regex("(w[0-9]{1,3} ?){1,4}").unwrap(),
                        proptest::string::string_regex("[a-z\u{a0}\u{2003}]{100,200}( é?[a-z]{1,80}){0,3}").unwrap(),
                        proptest::string::string_regex("([a-zé’]{1,24}[ \t\u{a0}]){4,9}[a-z—]{1,24}").unwrap(),
                        proptest::string::string_regex("[a-zé’—]{156,164}").unwrap(),
                        proptest::string::string_regex("([a-z]{1,6} {1,2}){2,8}[a-z\u{2003}]{1,5}").unwrap(),
                    ],
                    0..12,
                ).prop_map(|ls| ls.join("\n")),
                0..6,
            )
        ) {
            let mut got = RemovedLines::default();
            for s in &spans {
                got.add_span(s);
            }
            let got: Vec<(u64, String)> = got.iter().map(|(k, l)| (k, l.to_string())).collect();
            proptest::prop_assert_eq!(got, reference_lines(&spans));
        }
    }
}
