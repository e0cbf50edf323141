//! Batch corpus audit: duplicate clusters, duplication rate, boilerplate share per source, and a
//! readable report.
//!
//! - [`source`]: inputs (JSONL, a folder of `.txt`/`.html`, WARC/WARC.gz) behind the
//!   [`source::DocumentSource`] trait; they frame items in order, decoding is pure.
//! - [`Auditor`]: push documents in order, get one [`AuditRecord`] each (a `clusters.jsonl`
//!   line), [`Auditor::finish`] → [`Summary`]. Transport-free, so a client-streaming gRPC
//!   `Audit` call is a thin wrapper around it.
//! - [`run`]: reads sources on one thread, decodes on every core, pushes in input order (the
//!   verdicts are the same whatever the number of threads).
//! - [`report`]: `report.html` from a [`Summary`], self-contained (inline SVG, no assets).
//!
//! Clustering is the engine's: an audit of a corpus gives the same clusters as `neardup dedup`
//! over the same documents in the same order.

pub mod lang;
pub mod report;
mod run;
pub mod source;
pub mod summary;
pub mod topk;
pub mod warc;

pub use run::{run, Progress, RunOptions};
pub use summary::Summary;

use std::sync::Arc;

use serde::Serialize;

use crate::boilerplate::Cleaned;
use crate::document::Document;
use crate::engine::{CheckOptions, CheckOutcome, Committed, Engine, Prepared, Spent};
use crate::index::{Match, Tier};
use crate::Result;

use summary::{Limits, Observation, RemovedLines, Tally};

/// Settings of an audit.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Engine namespace the corpus is checked in (a fresh engine per audit is typical).
    pub namespace: String,
    /// Options of every check (`dry_run` must stay false: the audit remembers documents).
    pub check: CheckOptions,
    /// Largest clusters kept for the report.
    pub largest_clusters: usize,
    /// Members (canonical first) kept per cluster for the report.
    pub members_shown: usize,
    /// Characters of clean text per snippet.
    pub snippet_chars: usize,
    /// Bytes of snippets kept for singletons; duplicates may use as much again.
    pub snippet_budget_bytes: usize,
    /// Boilerplate lines reported per source.
    pub top_lines: usize,
    /// Heavy-hitter counters per source (bounds memory; ≥ `top_lines`).
    pub line_counter_capacity: usize,
    /// Sources tracked one by one; the rest are counted together.
    pub max_sources: usize,
    /// Failure messages kept in the summary.
    pub error_samples: usize,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            namespace: "audit".into(),
            check: CheckOptions::default(),
            largest_clusters: 25,
            members_shown: 4,
            snippet_chars: 240,
            snippet_budget_bytes: 64 << 20,
            top_lines: 10,
            line_counter_capacity: 128,
            max_sources: 1_000,
            error_samples: 20,
        }
    }
}

/// How a document relates to the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// First of its cluster.
    Original,
    /// Same normalized text as an earlier document.
    Exact,
    /// Near-duplicate of an earlier document.
    Near,
}

/// The audit's verdict on one document: one line of `clusters.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Document id.
    pub id: String,
    /// Cluster the engine put it in.
    pub cluster_id: String,
    /// The cluster's first document in input order — the one to keep.
    pub canonical_id: String,
    /// The earlier document it duplicates (its best verified match).
    pub duplicate_of: Option<String>,
    /// Original, exact or near duplicate.
    pub verdict: Verdict,
    /// Evidence of the best match (tier, Hamming distance, Jaccard, containment, reason).
    pub evidence: Option<Match>,
    /// The document's source.
    pub source: Option<String>,
    /// The document's URL.
    pub url: Option<String>,
    /// Guessed language (see [`lang`]).
    pub lang: &'static str,
    /// Share of the document the stripper removed.
    pub boilerplate_share: f32,
}

/// Streams documents through an engine and tallies the audit.
///
/// Push documents in input order; each push returns the document's record (or the error,
/// which is also counted). [`Auditor::finish`] returns the [`Summary`]. Memory is bounded by
/// the engine's index plus a small entry per cluster (see [`summary`]).
///
/// For throughput, `push` is split in two: [`Preparer::prepare`] (any thread, any order:
/// stripping, features, language guess, snippet) and [`Auditor::commit`] (in input order:
/// verdict and tally). `push(doc)` is `commit(preparer().prepare(doc))`.
#[derive(Debug)]
pub struct Auditor {
    preparer: Preparer,
    tally: Tally,
}

/// The thread-safe first half of [`Auditor::push`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Preparer {
    engine: Engine,
    config: Arc<AuditConfig>,
}

/// What the audit derives from a clean text (computed while preparing, reused at commit unless
/// the engine stripped the document again).
#[derive(Debug, Clone, PartialEq)]
struct Derived {
    lang: &'static str,
    snippet: String,
    kept_bytes: u64,
    removed_bytes: u64,
    removed_lines: RemovedLines,
}

/// The buffers of a committed document (see [`Auditor::commit_returning`]); dropping it frees
/// them.
pub(crate) struct Leftover {
    _id: String,
    _spent: Spent,
    _outcome: CheckOutcome,
    _derived: Derived,
}

/// A document prepared on any thread, to be committed in input order.
#[derive(Debug)]
pub struct PreparedDoc {
    inner: std::result::Result<Box<PreparedInner>, (String, crate::Error)>,
}

#[derive(Debug)]
struct PreparedInner {
    /// The document's id, for an error at commit (the engine's copy is used up by then).
    id: String,
    prepared: Prepared,
    source: Option<String>,
    url: Option<String>,
    derived: Derived,
}

fn derive(cleaned: &Cleaned, snippet_chars: usize) -> Derived {
    let mut removed_bytes = 0u64;
    let mut removed_lines = RemovedLines::default();
    for span in &cleaned.removed {
        removed_bytes += span.end.saturating_sub(span.start) as u64;
        // The stripper's own base text: the input text, or the page's block text in HTML mode
        // (tags already gone), which is what the spans index into.
        removed_lines.add_span(cleaned.removed_text(span));
    }
    Derived {
        lang: lang::guess(&cleaned.text),
        snippet: snippet(&cleaned.text, snippet_chars),
        kept_bytes: cleaned.text.len() as u64,
        removed_bytes,
        removed_lines,
    }
}

impl Preparer {
    /// Strip, featurize and derive the audit's per-document figures. Safe on any thread;
    /// errors are carried to [`Auditor::commit`] so they are counted in input order.
    pub fn prepare(&self, doc: Document) -> PreparedDoc {
        let id = doc.id.clone();
        let source = doc.source.clone();
        let url = doc.url.clone();
        let inner = match self
            .engine
            .prepare(&self.config.namespace, doc, &self.config.check)
        {
            Ok(prepared) => {
                let derived = derive(prepared.cleaned(), self.config.snippet_chars);
                Ok(Box::new(PreparedInner {
                    id,
                    prepared,
                    source,
                    url,
                    derived,
                }))
            }
            Err(e) => Err((id, e)),
        };
        PreparedDoc { inner }
    }
}

impl Auditor {
    /// An auditor over a fresh in-memory engine.
    pub fn new(config: AuditConfig) -> Self {
        Self::with_engine(Engine::in_memory(), config)
    }

    /// An auditor over a given engine (documents are inserted into `config.namespace`).
    pub fn with_engine(engine: Engine, config: AuditConfig) -> Self {
        let tally = Tally::new(Limits {
            largest_clusters: config.largest_clusters,
            members_shown: config.members_shown,
            snippet_budget_bytes: config.snippet_budget_bytes,
            top_lines: config.top_lines,
            line_counter_capacity: config.line_counter_capacity.max(config.top_lines),
            max_sources: config.max_sources.max(1),
            error_samples: config.error_samples,
        });
        Auditor {
            preparer: Preparer {
                engine,
                config: Arc::new(config),
            },
            tally,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.preparer.config
    }

    /// A handle that prepares documents on other threads.
    pub fn preparer(&self) -> Preparer {
        self.preparer.clone()
    }

    /// Check one document (in input order) and tally it. An error (e.g. an empty id) is
    /// counted in the summary and returned.
    pub fn push(&mut self, doc: Document) -> Result<AuditRecord> {
        let prepared = self.preparer.prepare(doc);
        self.commit(prepared)
    }

    /// Commit a prepared document: the engine's verdict, then the tally. Call in input order.
    pub fn commit(&mut self, doc: PreparedDoc) -> Result<AuditRecord> {
        self.commit_returning(doc).0
    }

    /// [`commit`](Self::commit), handing back the document's buffers instead of freeing them
    /// here, so the driver can free them on the thread that prepared the document.
    pub(crate) fn commit_returning(
        &mut self,
        doc: PreparedDoc,
    ) -> (Result<AuditRecord>, Option<Leftover>) {
        let config = &self.preparer.config;
        let inner = match doc.inner {
            Ok(inner) => inner,
            Err((id, e)) => {
                self.tally.error(format!("{id}: {e}"));
                return (Err(e), None);
            }
        };
        let PreparedInner {
            id,
            prepared,
            source,
            url,
            derived,
        } = *inner;
        // The audit reads no strip reasons: the engine need not strip again when only the
        // counts they cite changed.
        let Committed {
            mut outcome,
            restripped,
            spent,
        } = match self.preparer.engine.commit_stale_reasons(
            &config.namespace,
            prepared,
            &config.check,
        ) {
            Ok(o) => o,
            Err(e) => {
                self.tally.error(format!("{id}: {e}"));
                return (Err(e), None);
            }
        };
        // The engine strips again when what it learned in between changed the decisions;
        // derive again only then.
        let derived = if restripped {
            derive(&outcome.cleaned, config.snippet_chars)
        } else {
            derived
        };
        let best = outcome
            .matches
            .first()
            .filter(|_| outcome.duplicate_of.is_some());
        let canonical_id = self.tally.observe(Observation {
            id: &outcome.id,
            cluster_id: &outcome.cluster_id,
            source: source.as_deref(),
            best,
            lang: derived.lang,
            kept_bytes: derived.kept_bytes,
            removed_bytes: derived.removed_bytes,
            removed_lines: &derived.removed_lines,
            snippet: &derived.snippet,
        });
        let verdict = match (best, &outcome.duplicate_of) {
            (_, None) => Verdict::Original,
            (Some(m), Some(_)) if m.tier == Tier::Exact => Verdict::Exact,
            _ => Verdict::Near,
        };
        let total = derived.removed_bytes + derived.kept_bytes;
        // The best match is moved out, not cloned: the rest of the outcome is only freed.
        let evidence = if best.is_some() && !outcome.matches.is_empty() {
            Some(outcome.matches.swap_remove(0))
        } else {
            None
        };
        let record = AuditRecord {
            id: std::mem::take(&mut outcome.id),
            cluster_id: std::mem::take(&mut outcome.cluster_id),
            canonical_id,
            duplicate_of: outcome.duplicate_of.take(),
            verdict,
            evidence,
            source,
            url,
            lang: derived.lang,
            boilerplate_share: if total == 0 {
                0.0
            } else {
                (derived.removed_bytes as f64 / total as f64) as f32
            },
        };
        let leftover = Leftover {
            _id: id,
            _spent: spent,
            _outcome: outcome,
            _derived: derived,
        };
        (Ok(record), Some(leftover))
    }

    /// Count an input item that is not a document (e.g. a WARC `404`), by a short reason.
    pub fn record_skip(&mut self, reason: &str) {
        self.tally.skip(reason);
    }

    /// Count an input item that failed before reaching the engine (bad JSON, bad WARC record).
    pub fn record_error(&mut self, origin: &str, error: &crate::Error) {
        self.tally.error(format!("{origin}: {error}"));
    }

    /// The figures of everything pushed so far.
    pub fn finish(self) -> Summary {
        self.tally.finish()
    }
}

/// The lines a snippet is made of: trimmed, empty ones left out.
fn snippet_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The first `chars` characters of a clean text, lines joined with ` ¶ `.
fn snippet(text: &str, chars: usize) -> String {
    let mut out = String::new();
    let mut n = 0;
    for (i, line) in snippet_lines(text).enumerate() {
        if n >= chars {
            break;
        }
        if i > 0 {
            out.push_str(" ¶ ");
        }
        let room = chars - n;
        // At most as many characters as bytes: a line no longer than `room` bytes fits;
        // otherwise it is cut after `room` characters, if it has more.
        let cut = if line.len() <= room {
            None
        } else {
            line.char_indices().nth(room).map(|(at, _)| at)
        };
        match cut.and_then(|at| line.get(..at)) {
            Some(head) => {
                out.push_str(head);
                out.push('…');
                n = chars;
            }
            None => {
                out.push_str(line);
                n += line.chars().count();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn removed_lines_of_an_html_page_are_its_visible_chrome_not_markup() {
        let body = "<p>The council voted on Tuesday to close the old bridge for repairs, after \
                    engineers found cracks in two of its steel supports during a survey.</p>\
                    <p>Work starts next month and should take a year, the mayor told reporters \
                    at a briefing in the town hall on Wednesday afternoon.</p>";
        let page = format!(
            "<html><body><nav><a href=\"/\">Home</a> <a href=\"/s\">Sport</a></nav>\
             <article>{body}</article><footer><p>Share this story</p></footer></body></html>"
        );
        let cleaned = crate::boilerplate::Stripper::new()
            .clean(
                &crate::document::Content::Html(page.into_bytes()),
                crate::boilerplate::InputFormat::Html,
                None,
            )
            .unwrap();
        assert!(!cleaned.removed.is_empty());
        let derived = derive(&cleaned, 80);
        let lines: Vec<&str> = derived.removed_lines.iter().map(|(_, l)| l).collect();
        assert!(!lines.is_empty());
        for line in &lines {
            assert!(
                !line.contains('<') && !line.contains("href"),
                "markup in {line:?}"
            );
        }
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Home") || l.contains("Share this story")),
            "{lines:?}"
        );
    }

    /// The plain definition of a snippet: character by character.
    fn reference_snippet(text: &str, chars: usize) -> String {
        let mut out = String::new();
        let mut n = 0;
        for (i, line) in snippet_lines(text).enumerate() {
            if n >= chars {
                break;
            }
            if i > 0 {
                out.push_str(" ¶ ");
            }
            for c in line.chars() {
                if n >= chars {
                    out.push('…');
                    break;
                }
                out.push(c);
                n += 1;
            }
        }
        out
    }

    proptest::proptest! {
        /// Snippets equal the plain definition, lines cut at, just before and just after the
        /// limit, in one-, two- and three-byte characters.
        #[test]
        fn snippets_match_the_definition(
            text in proptest::string::string_regex("([a-zé€ ]{0,12}\\n?){0,12}").unwrap(),
            chars in 0usize..40,
        ) {
            proptest::prop_assert_eq!(snippet(&text, chars), reference_snippet(&text, chars));
        }
    }

    #[test]
    fn snippets_are_cut_and_joined() {
        assert_eq!(snippet("ab\n\n cd \nef", 3), "ab ¶ c…");
        assert_eq!(snippet("ab\ncd", 10), "ab ¶ cd");
        assert_eq!(snippet("", 10), "");
    }

    const POOL: [&str; 4] = [
        "The city council voted on Tuesday to close the old river bridge for six months of repairs while engineers replace the deck.",
        "A rare comet will be visible to the naked eye next week, astronomers at the national observatory announced on Monday evening.",
        "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في العاصمة يضم ثلاثمائة سرير ووحدة متخصصة لعلاج الأطفال",
        "Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke für sechs Monate zu sperren, und die Arbeiten beginnen im Mai.",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever the corpus: counts add up, records come in input order, a duplicate points
        /// to an earlier document, and a cluster's canonical is its first document.
        #[test]
        fn counts_add_up_and_canonicals_come_first(
            picks in proptest::collection::vec((0usize..4, 0usize..3, proptest::prelude::any::<bool>()), 0..24)
        ) {
            let mut a = Auditor::new(AuditConfig::default());
            let mut seen: Vec<String> = Vec::new();
            let mut first_of: std::collections::HashMap<String, String> = Default::default();
            for (i, (text, variant, upper)) in picks.iter().enumerate() {
                let mut t = format!("{} {}", POOL[*text], ["", "Update.", "Second update follows here."][*variant]);
                if *upper {
                    t = t.to_uppercase();
                }
                let id = format!("d{i}");
                let r = a.push(Document::text(id.clone(), t)).unwrap();
                proptest::prop_assert_eq!(&r.id, &id);
                if let Some(d) = &r.duplicate_of {
                    proptest::prop_assert!(seen.contains(d));
                }
                let first = first_of.entry(r.cluster_id.clone()).or_insert_with(|| id.clone());
                proptest::prop_assert_eq!(&r.canonical_id, first);
                proptest::prop_assert_eq!(r.verdict == Verdict::Original, r.duplicate_of.is_none());
                seen.push(id);
            }
            let s = a.finish();
            proptest::prop_assert_eq!(s.documents, picks.len() as u64);
            proptest::prop_assert_eq!(s.originals + s.exact_duplicates + s.near_duplicates, s.documents);
            proptest::prop_assert_eq!(s.clusters, first_of.len() as u64);
            proptest::prop_assert_eq!(s.cluster_sizes.iter().map(|b| b.documents).sum::<u64>(), s.documents);
            proptest::prop_assert_eq!(s.cluster_sizes.iter().map(|b| b.clusters).sum::<u64>(), s.clusters);
            proptest::prop_assert_eq!(s.languages.values().sum::<u64>(), s.documents);
            proptest::prop_assert_eq!(
                s.jaccard_histogram.counts.iter().sum::<u64>(),
                s.exact_duplicates + s.near_duplicates
            );
        }
    }

    /// A record's evidence and verdict are the engine's best match for the same documents in
    /// the same order (`Engine::check` on a fresh engine).
    #[test]
    fn evidence_is_the_engines_best_match() {
        let mut a = Auditor::new(AuditConfig::default());
        let engine = Engine::in_memory();
        let config = AuditConfig::default();
        let texts = [
            POOL[0].to_string(),
            POOL[0].to_string(),
            format!("{} Update.", POOL[0]),
            POOL[2].to_string(),
            format!("{} تحديث", POOL[2]),
            POOL[1].to_string(),
        ];
        let mut duplicates = 0;
        for (i, t) in texts.iter().enumerate() {
            let doc = Document::text(format!("d{i}"), t.clone());
            let want = engine
                .check(&config.namespace, doc.clone(), &config.check)
                .unwrap();
            let got = a.push(doc).unwrap();
            assert_eq!(got.duplicate_of, want.duplicate_of);
            let best = want.matches.first().filter(|_| want.duplicate_of.is_some());
            assert_eq!(got.evidence.as_ref(), best, "d{i}");
            duplicates += usize::from(best.is_some());
        }
        assert!(duplicates >= 2, "{duplicates}");
    }

    #[test]
    fn an_empty_id_is_an_error_that_is_counted() {
        let mut a = Auditor::new(AuditConfig::default());
        assert!(a.push(Document::text("", "x")).is_err());
        a.push(Document::text("a", "some text")).unwrap();
        let s = a.finish();
        assert_eq!(s.documents, 1);
        assert_eq!(s.errors, 1);
        assert!(s.error_samples[0].contains("document.id"));
    }
}
