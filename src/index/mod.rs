//! Candidate generation (exact, simhash tables, MinHash-LSH), verification and clustering.

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
