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

/// The decision and its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Same report?
    pub accept: bool,
    /// Why.
    pub reason: String,
}

/// Decide on an overlap (and the number overlap, when the guard applies).
pub fn decide(o: &Overlap, numbers: Option<f32>, cfg: &VerifyConfig) -> Verdict {
    let (j, c) = (o.jaccard(), o.containment());
    if o.shared < cfg.min_shared {
        return Verdict {
            accept: false,
            reason: format!("only {} shared sampled shingles", o.shared),
        };
    }
    if (c < cfg.min_containment && j < cfg.min_jaccard) || j < cfg.jaccard_floor {
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
    Verdict {
        accept: true,
        reason: format!(
            "{} shared sampled shingles, containment {c:.2}, jaccard {j:.2}",
            o.shared
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(decide(&same, None, &cfg).accept);
        let few = Overlap {
            query: 2,
            candidate: 2,
            shared: 2,
        };
        assert!(!decide(&few, None, &cfg).accept);
        let low = Overlap {
            query: 50,
            candidate: 60,
            shared: 5,
        };
        assert!(!decide(&low, None, &cfg).accept);
        let cfg = VerifyConfig {
            min_number_overlap: 0.5,
            ..cfg
        };
        assert!(!decide(&same, Some(0.1), &cfg).accept);
        assert_eq!(number_overlap(&[1, 2, 3], &[2, 3, 4], 3), Some(2.0 / 3.0));
    }
}
