//! The decision: is a candidate the same report?
//!
//! Measured on the verification sketches (consistent samples of 5-shingles, see
//! [`crate::pipeline::minhash::sketch`]) after dropping *common* shingles — those already seen
//! in [`VerifyConfig::common_clusters`] or more earlier clusters of the namespace (page chrome,
//! stock phrases of a newsroom, boilerplate the stripper has not learned yet). On what is left:
//!
//! * `shared` = sampled shingles in both, `jaccard` = shared / union,
//! * `containment` = shared / the smaller document's sampled shingles (a cut or wrapped copy is
//!   contained in its original even when the Jaccard similarity is low).
//!
//! Accept when `shared ≥ min_shared` and `containment ≥ min_containment` (or `jaccard ≥
//! min_jaccard`). The number guard rejects a pair whose texts both carry numbers and share too
//! few of them: same-template reports of different events (weather of another day, a count of
//! other casualties) differ exactly there.
//!
//! Two texts whose TF-IDF simhashes lie within [`VerifyConfig::near_hamming`] bits use the same
//! words in the same proportions; for them lower containment and Jaccard suffice
//! ([`VerifyConfig::near_containment`], [`VerifyConfig::near_jaccard`]): a lightly reworded
//! copy (a word changed here and there breaks most 5-shingles but few words) keeps its word
//! profile, while two reports of one topic share words but not their proportions.
//!
//! A *partial* match (containment below [`VerifyConfig::partial_containment`]) with a candidate
//! that joined an earlier document's cluster must also land on that candidate's *core*: the
//! sampled shingles it shares with its cluster's first document ([`core_overlap`],
//! [`decide_core`]). Joining the candidate means joining its cluster, so the text the two share
//! must be the cluster's story and not what the candidate added to it (an edited copy that
//! picked up a sentence of another report, a page that quotes another story): otherwise that
//! added sentence would pull its own story into the cluster.
//!
//! A text whose words sit mostly in short lines — a list, verse, a table of results — is
//! barely seen by its shingles: 5-shingles never cross a line, so a line of five words gives
//! one shingle and a shorter one none ([`shingle_density`]). Its sketch then stands for its few
//! long lines, typically the standing introduction that every edition of the column repeats,
//! and a partial match on it matches the frame, not the content (this week's chart against
//! last week's, one poem against another under the same introduction). Below
//! [`VerifyConfig::min_density`] such a text is matched only in full (containment at least
//! [`VerifyConfig::partial_containment`]) or by its word profile (simhashes, which count every
//! word, within the simhash tier's radius): see [`decide_density`]. The index applies it on
//! both sides: the query's density is checked here, and a low-density document is not put
//! into the LSH bands, whose signature is made of the same shingles (see
//! [`crate::index::NamespaceIndex::lookup`]).

use serde::Serialize;

/// Thresholds of the decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerifyConfig {
    /// Fewest shared sampled shingles (each stands for about 4 real shingles).
    pub min_shared: u32,
    /// Containment of the smaller in the larger at or above which a pair is the same report.
    pub min_containment: f32,
    /// Jaccard similarity at or above which a pair is the same report.
    pub min_jaccard: f32,
    /// Least Jaccard similarity of any accepted pair: a short text whose few shingles all occur
    /// in a long one (a quoted sentence) is not a copy of it.
    pub jaccard_floor: f32,
    /// A shingle seen in this many earlier clusters is common and ignored (0 = never).
    pub common_clusters: u32,
    /// Number guard: with at least this many distinct numbers in each text, fewer than
    /// `min_number_overlap` of the smaller set shared means a different event (0 = off).
    pub guard_min_numbers: u32,
    /// Number guard: least share of the smaller number set found in the other.
    pub min_number_overlap: f32,
    /// Simhash route: at most this Hamming distance between the simhashes (0 = off)...
    pub near_hamming: u32,
    /// ...lets a pair with at least this containment...
    pub near_containment: f32,
    /// ...and at least this Jaccard similarity through.
    pub near_jaccard: f32,
    /// A match with containment below this is partial and must land on the candidate's core
    /// (see the module docs; above 1 = never checked).
    pub partial_containment: f32,
    /// Least share of the candidate's core shingles (or of the query's shingles, when fewer)
    /// that a partial match must share.
    pub min_core_share: f32,
    /// Least [`shingle_density`] of a text for a partial match (see the module docs; 0 = off).
    pub min_density: f32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            min_shared: 3,
            min_containment: 0.5,
            min_jaccard: 0.5,
            jaccard_floor: 0.15,
            common_clusters: 3,
            guard_min_numbers: 0,
            min_number_overlap: 0.0,
            near_hamming: 10,
            near_containment: 0.4,
            near_jaccard: 0.2,
            partial_containment: 0.9,
            min_core_share: 0.25,
            min_density: 0.6,
        }
    }
}

/// The overlap of two sketches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Overlap {
    /// Sampled shingles of the query (after filtering).
    pub query: u32,
    /// Sampled shingles of the candidate (after filtering).
    pub candidate: u32,
    /// Shared sampled shingles.
    pub shared: u32,
}

impl Overlap {
    /// shared / union.
    pub fn jaccard(&self) -> f32 {
        let union = self.query + self.candidate - self.shared;
        if union == 0 {
            0.0
        } else {
            self.shared as f32 / union as f32
        }
    }

    /// shared / the smaller side.
    pub fn containment(&self) -> f32 {
        let small = self.query.min(self.candidate);
        if small == 0 {
            0.0
        } else {
            self.shared as f32 / small as f32
        }
    }
}

/// Overlap of two sorted sketches, each capped at `cap` entries, ignoring keys for which
/// `common` is true. When a sketch is full, both are cut at the smaller of their largest keys so
/// the two samples cover the same slice of the hash space.
pub fn overlap(q: &[u32], c: &[u32], cap: usize, common: impl Fn(u32) -> bool) -> Overlap {
    let limit = match (q.len() >= cap, c.len() >= cap) {
        (false, false) => u32::MAX,
        _ => q
            .last()
            .copied()
            .unwrap_or(0)
            .min(c.last().copied().unwrap_or(0)),
    };
    let (mut i, mut j) = (0, 0);
    let mut o = Overlap::default();
    while i < q.len() || j < c.len() {
        let a = q.get(i).copied().filter(|&x| x <= limit);
        let b = c.get(j).copied().filter(|&x| x <= limit);
        match (a, b) {
            (None, None) => break,
            (Some(x), Some(y)) if x == y => {
                if !common(x) {
                    o.query += 1;
                    o.candidate += 1;
                    o.shared += 1;
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                o.query += u32::from(!common(x));
                i += 1;
            }
            (Some(x), None) => {
                o.query += u32::from(!common(x));
                i += 1;
            }
            (_, Some(y)) => {
                o.candidate += u32::from(!common(y));
                j += 1;
            }
        }
    }
    o
}

/// Share of the smaller of two sorted number sets found in the other (None when either side
/// has fewer than `min` numbers).
pub fn number_overlap(a: &[u64], b: &[u64], min: usize) -> Option<f32> {
    if min == 0 || a.len() < min || b.len() < min {
        return None;
    }
    let shared = a.iter().filter(|x| b.binary_search(x).is_ok()).count();
    Some(shared as f32 / a.len().min(b.len()) as f32)
}

/// How a query meets a candidate's core, the sampled shingles the candidate shares with the
/// first document of its cluster (see [`core_overlap`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoreOverlap {
    /// The candidate's core shingles.
    pub core: u32,
    /// Core shingles the query has too.
    pub shared: u32,
    /// The query's shingles over the same slice of the hash space.
    pub query: u32,
}

/// The query `q`'s overlap with the core of candidate `c` whose cluster began with `founder`:
/// keys of `c` also in `founder`, ignoring keys for which `common` is true. All three are sorted
/// sketches capped at `cap`; a full sketch covers the hash space only up to its largest key, so
/// all three are cut at the smallest largest key of the full ones.
pub fn core_overlap(
    q: &[u32],
    c: &[u32],
    founder: &[u32],
    cap: usize,
    common: impl Fn(u32) -> bool,
) -> CoreOverlap {
    let limit = [q, c, founder]
        .iter()
        .filter(|s| s.len() >= cap)
        .filter_map(|s| s.last().copied())
        .min()
        .unwrap_or(u32::MAX);
    let mut o = CoreOverlap::default();
    for &k in c.iter().take_while(|&&k| k <= limit) {
        if founder.binary_search(&k).is_ok() && !common(k) {
            o.core += 1;
            o.shared += u32::from(q.binary_search(&k).is_ok());
        }
    }
    o.query = q
        .iter()
        .take_while(|&&k| k <= limit)
        .filter(|&&k| !common(k))
        .count() as u32;
    o
}

/// Share of a text's words that its shingles stand for: `shingles / words`, both counted with
/// repeats. A line of `n ≥ 5` words gives `n − 4` shingles and a shorter line none, so prose
/// in paragraphs scores about 0.9, a one-line title with a short paragraph about 0.75, and a
/// list or verse of five- to seven-word lines 0.2–0.45. An empty text scores 1 (nothing is
/// unseen).
pub fn shingle_density(shingles: u32, words: u32) -> f32 {
    if words == 0 {
        1.0
    } else {
        (shingles as f32 / words as f32).min(1.0)
    }
}

/// The decision and its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Same report?
    pub accept: bool,
    /// Why.
    pub reason: String,
}

/// Decide on an overlap, the simhashes' Hamming distance and the number overlap (when the
/// guard applies).
pub fn decide(o: &Overlap, numbers: Option<f32>, hamming: u32, cfg: &VerifyConfig) -> Verdict {
    let (j, c) = (o.jaccard(), o.containment());
    if o.shared < cfg.min_shared {
        return Verdict {
            accept: false,
            reason: format!("only {} shared sampled shingles", o.shared),
        };
    }
    let near = cfg.near_hamming > 0
        && hamming <= cfg.near_hamming
        && c >= cfg.near_containment
        && j >= cfg.near_jaccard;
    let shingles = (c >= cfg.min_containment || j >= cfg.min_jaccard) && j >= cfg.jaccard_floor;
    if !shingles && !near {
        return Verdict {
            accept: false,
            reason: format!("containment {c:.2} and jaccard {j:.2} below thresholds"),
        };
    }
    if let Some(n) = numbers {
        if n < cfg.min_number_overlap {
            return Verdict {
                accept: false,
                reason: format!("numbers disagree (overlap {n:.2})"),
            };
        }
    }
    let route = if shingles {
        String::new()
    } else {
        format!(", simhashes {hamming} bits apart")
    };
    Verdict {
        accept: true,
        reason: format!(
            "{} shared sampled shingles, containment {c:.2}, jaccard {j:.2}{route}",
            o.shared
        ),
    }
}

/// The core check of an accepted partial match (see the module docs): `v` stands unless the
/// query shares less than [`VerifyConfig::min_core_share`] of the candidate's core (or of its
/// own shingles, when it has fewer). A candidate without core shingles left (all common, or its
/// cluster's first document deleted) is not checked.
pub fn decide_core(core: &CoreOverlap, v: Verdict, cfg: &VerifyConfig) -> Verdict {
    if !v.accept || core.core == 0 {
        return v;
    }
    let need = cfg.min_core_share * core.core.min(core.query) as f32;
    if (core.shared as f32) < need {
        return Verdict {
            accept: false,
            reason: format!(
                "partial match outside the candidate's story: {} of its {} core shingles shared",
                core.shared, core.core
            ),
        };
    }
    v
}

/// The density check of an accepted match (see the module docs): `v` stands unless the
/// query's [`shingle_density`] is below [`VerifyConfig::min_density`], the match is partial
/// (containment below [`VerifyConfig::partial_containment`]) and the simhashes lie farther
/// apart than the simhash tier's radius ([`super::simhash_tables::MAX_DISTANCE`]).
pub fn decide_density(
    v: Verdict,
    containment: f32,
    density: f32,
    hamming: u32,
    cfg: &VerifyConfig,
) -> Verdict {
    if !v.accept
        || density >= cfg.min_density
        || containment >= cfg.partial_containment
        || hamming <= super::simhash_tables::MAX_DISTANCE
    {
        return v;
    }
    Verdict {
        accept: false,
        reason: format!(
            "partial match (containment {containment:.2}) of a text mostly in short lines: \
             its shingles stand for {:.0} % of its words",
            density * 100.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{IndexConfig, NamespaceIndex};
    use crate::pipeline::{features, FeatureConfig};

    fn accepted() -> Verdict {
        Verdict {
            accept: true,
            reason: String::new(),
        }
    }

    /// `prefix0 prefix1 …` over `r`.
    fn words(prefix: &str, r: std::ops::Range<usize>) -> String {
        r.map(|i| format!("{prefix}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Check-and-insert `docs` in order; what each was found to duplicate.
    fn stream(docs: &[(&str, String)], verify: VerifyConfig) -> Vec<Option<String>> {
        let mut ix = NamespaceIndex::new(IndexConfig {
            verify,
            ..IndexConfig::default()
        });
        let mut dup = Vec::new();
        for (id, text) in docs {
            let f = features(text, &FeatureConfig::default());
            let look = ix.lookup(&f, 0, None);
            dup.push(look.matches.first().map(|(_, m)| m.id.clone()));
            ix.insert(id, &f, 0, &look).unwrap();
        }
        dup
    }

    #[test]
    fn overlap_counts_and_filters() {
        let q = [1, 2, 3, 4, 5];
        let c = [2, 3, 4, 9];
        let o = overlap(&q, &c, 100, |_| false);
        assert_eq!((o.query, o.candidate, o.shared), (5, 4, 3));
        assert!((o.containment() - 0.75).abs() < 1e-6);
        let o = overlap(&q, &c, 100, |x| x == 2);
        assert_eq!((o.query, o.candidate, o.shared), (4, 3, 2));
    }

    #[test]
    fn full_sketches_are_cut_at_the_same_key() {
        let q = [1, 2, 3];
        let c = [1, 2, 3, 4, 5, 6];
        let o = overlap(&q, &c, 3, |_| false);
        assert_eq!((o.query, o.candidate, o.shared), (3, 3, 3));
    }

    #[test]
    fn decisions() {
        let cfg = VerifyConfig::default();
        let same = Overlap {
            query: 50,
            candidate: 60,
            shared: 40,
        };
        assert!(decide(&same, None, 20, &cfg).accept);
        let few = Overlap {
            query: 2,
            candidate: 2,
            shared: 2,
        };
        assert!(!decide(&few, None, 0, &cfg).accept);
        let low = Overlap {
            query: 50,
            candidate: 60,
            shared: 5,
        };
        assert!(!decide(&low, None, 20, &cfg).accept);
        let cfg = VerifyConfig {
            min_number_overlap: 0.5,
            ..cfg
        };
        assert!(!decide(&same, Some(0.1), 20, &cfg).accept);
        assert_eq!(number_overlap(&[1, 2, 3], &[2, 3, 4], 3), Some(2.0 / 3.0));
    }

    #[test]
    fn near_simhashes_lower_the_shingle_thresholds() {
        let cfg = VerifyConfig::default();
        // A light rewording: 44 % containment, 28 % Jaccard.
        let reworded = Overlap {
            query: 42,
            candidate: 41,
            shared: 18,
        };
        assert!(decide(&reworded, None, 9, &cfg).accept);
        assert!(!decide(&reworded, None, 16, &cfg).accept);
        let off = VerifyConfig {
            near_hamming: 0,
            ..cfg
        };
        assert!(!decide(&reworded, None, 0, &off).accept);
        // Near simhashes alone are not enough.
        let topic = Overlap {
            query: 50,
            candidate: 50,
            shared: 10,
        };
        assert!(!decide(&topic, None, 2, &cfg).accept);
    }

    #[test]
    fn core_overlap_counts_the_candidates_cluster_text() {
        // Candidate = its story (1..=6, shared with the founder) + an added passage (20..=24).
        let founder = [1, 2, 3, 4, 5, 6, 7];
        let c = [1, 2, 3, 4, 5, 6, 20, 21, 22, 23, 24];
        let copy = [2, 3, 4, 5, 6, 30];
        let other = [20, 21, 22, 23, 24, 40, 41, 42];
        let o = core_overlap(&copy, &c, &founder, 100, |_| false);
        assert_eq!((o.core, o.shared, o.query), (6, 5, 6));
        let o = core_overlap(&other, &c, &founder, 100, |_| false);
        assert_eq!((o.core, o.shared, o.query), (6, 0, 8));
        // Common keys are not core; full sketches are cut at the smallest largest key.
        let o = core_overlap(&copy, &c, &founder, 100, |k| k == 2);
        assert_eq!((o.core, o.shared), (5, 4));
        let o = core_overlap(&[1, 2, 3], &c, &founder, 3, |_| false);
        assert_eq!((o.core, o.shared, o.query), (3, 3, 3));
    }

    /// Story A's first half founds a cluster; a copy of it that picked up most of story B
    /// joins it; story B then shares only the added passage with that copy and must found its
    /// own cluster rather than be pulled into A's.
    #[test]
    fn an_added_passage_does_not_pull_its_story_into_the_cluster() {
        let docs = [
            ("a", words("alpha", 0..100)),
            (
                "a+b",
                format!("{}\n{}", words("alpha", 0..100), words("beta", 0..120)),
            ),
            ("b", words("beta", 0..200)),
        ];
        let on = stream(&docs, VerifyConfig::default());
        assert_eq!(on[1].as_deref(), Some("a"));
        assert_eq!(on[2], None, "story B joined story A's cluster");
        let off = stream(
            &docs,
            VerifyConfig {
                partial_containment: 0.0,
                ..VerifyConfig::default()
            },
        );
        assert_eq!(
            off[2].as_deref(),
            Some("a+b"),
            "the case needs the core check"
        );
    }

    #[test]
    fn partial_matches_must_land_on_the_core() {
        let cfg = VerifyConfig::default();
        let outside = CoreOverlap {
            core: 12,
            shared: 1,
            query: 34,
        };
        assert!(!decide_core(&outside, accepted(), &cfg).accept);
        let inside = CoreOverlap {
            core: 12,
            shared: 9,
            query: 34,
        };
        assert!(decide_core(&inside, accepted(), &cfg).accept);
        // A short query is measured against its own size.
        let short = CoreOverlap {
            core: 40,
            shared: 3,
            query: 10,
        };
        assert!(decide_core(&short, accepted(), &cfg).accept);
        let none = CoreOverlap::default();
        assert!(decide_core(&none, accepted(), &cfg).accept);
    }

    #[test]
    fn density_counts_the_words_shingles_stand_for() {
        assert_eq!(shingle_density(0, 0), 1.0);
        // One line of 40 words: 36 shingles.
        assert!((shingle_density(36, 40) - 0.9).abs() < 1e-6);
        // Twenty five-word lines: one shingle each.
        assert!((shingle_density(20, 100) - 0.2).abs() < 1e-6);
        assert_eq!(shingle_density(9, 5), 1.0);
    }

    #[test]
    fn partial_matches_of_texts_mostly_in_short_lines_are_refused() {
        let cfg = VerifyConfig::default();
        assert!(!decide_density(accepted(), 0.7, 0.45, 12, &cfg).accept);
        // Prose, a complete match, or a word profile within the simhash tier's radius.
        assert!(decide_density(accepted(), 0.7, 0.9, 12, &cfg).accept);
        assert!(decide_density(accepted(), 0.95, 0.45, 12, &cfg).accept);
        assert!(decide_density(accepted(), 0.7, 0.45, 3, &cfg).accept);
        let off = VerifyConfig {
            min_density: 0.0,
            ..cfg
        };
        assert!(decide_density(accepted(), 0.7, 0.45, 12, &off).accept);
        let no = Verdict {
            accept: false,
            reason: String::new(),
        };
        assert!(!decide_density(no, 0.95, 0.9, 0, &cfg).accept);
    }

    /// Two editions of a chart column (the same two-paragraph introduction, then twenty
    /// five-word entries that differ), and an article that quotes the introduction: no one of
    /// them is a copy of another, whichever comes first.
    #[test]
    fn editions_of_a_list_column_are_not_copies_of_each_other() {
        let intro = format!("{}\n{}", words("intro", 0..30), words("intro", 30..60));
        let edition = |e: &str| {
            let entries: Vec<String> = (0..20).map(|i| words(&format!("{e}x{i}y"), 0..5)).collect();
            format!("{intro}\n{}", entries.join("\n"))
        };
        let article = format!("{intro}\n{}", words("story", 0..60));
        let off = VerifyConfig {
            min_density: 0.0,
            ..VerifyConfig::default()
        };
        let f = features(&edition("a"), &FeatureConfig::default());
        assert!(shingle_density(f.shingles, f.counts.iter().sum()) < 0.5);
        // A later edition (the query is the list) and a later article (the list is the
        // candidate, found only if it was banded).
        for docs in [
            [("week1", edition("a")), ("week2", edition("b"))],
            [("week1", edition("a")), ("article", article.clone())],
            [("article", article.clone()), ("week1", edition("a"))],
        ] {
            assert_eq!(
                stream(&docs, VerifyConfig::default())[1],
                None,
                "{}",
                docs[1].0
            );
            assert_eq!(
                stream(&docs, off)[1].as_deref(),
                Some(docs[0].0),
                "the case needs the density rule"
            );
        }
        // A reprint of an edition is still found.
        let again = [("week1", edition("a")), ("copy", edition("a"))];
        assert_eq!(
            stream(&again, VerifyConfig::default())[1].as_deref(),
            Some("week1")
        );
    }
}
