//! The engine's durable records: what one accepted document leaves in the store, and how a
//! namespace is rebuilt from them.
//!
//! A document record holds everything needed to put the document back into the in-memory index
//! exactly as it was (the simhash and LSH band keys computed at insert time, the cluster it
//! joined, and the lines the boilerplate stripper learned from it), so a restart replays records
//! in insertion order instead of recomputing anything. Keys are the insertion sequence number,
//! big-endian, so a scan returns them in that order. A deleted or expired document stays as a
//! tombstone so that later records' cluster references keep pointing at it.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One accepted document (format version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Caller's id.
    pub id: String,
    /// Publication time or arrival time, seconds since the Unix epoch.
    pub time: i64,
    /// False once deleted or expired: kept as a tombstone for cluster references.
    pub alive: bool,
    /// Exact-duplicate key of the normalized text.
    pub exact: u64,
    /// The simhash computed when the document was inserted.
    pub simhash: u64,
    /// The MinHash-LSH band keys computed when the document was inserted.
    pub band_keys: Vec<u64>,
    /// Shingle sketch used by verification.
    pub sketch: Vec<u32>,
    /// Salient numbers used by the different-event guard.
    pub numbers: Vec<u64>,
    /// Unigram feature hashes, kept only for a cluster's first document (they feed the
    /// document frequencies, which count stories, not copies).
    pub tokens: Vec<u64>,
    /// Id of the earlier document it was matched to (the cluster it joined); None = original.
    pub best: Option<String>,
    /// Id of the cluster it joined.
    pub cluster_id: String,
    /// Site it came from (scopes learned boilerplate lines).
    pub source: Option<String>,
    /// Block keys the stripper learned from it.
    pub line_keys: Vec<u64>,
    /// Bytes of input accepted (statistics).
    pub bytes: u64,
}

/// Key of the record with insertion sequence number `seq`.
pub fn doc_key(seq: u64) -> Vec<u8> {
    seq.to_be_bytes().to_vec()
}

/// Sequence number of a record key.
pub fn seq_of(key: &[u8]) -> Result<u64> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| Error::Decode {
        what: "document record key",
        message: format!("expected 8 bytes, got {}", key.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

impl DocRecord {
    /// Encode for the store.
    pub fn encode(&self) -> Result<Vec<u8>> {
        postcard::to_allocvec(self).map_err(|e| Error::Decode {
            what: "document record",
            message: e.to_string(),
        })
    }

    /// Decode a stored record.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        postcard::from_bytes(bytes).map_err(|e| Error::Decode {
            what: "document record",
            message: e.to_string(),
        })
    }

    /// The tombstone left when the document is deleted or expires. It keeps what the
    /// namespace-wide statistics learned from the document (tokens, sketch, line keys) so that a
    /// replay rebuilds them exactly; it no longer matches anything.
    pub fn tombstone(&self) -> Self {
        DocRecord {
            alive: false,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DocRecord {
        DocRecord {
            id: "doc-1".into(),
            time: 1_700_000_000,
            alive: true,
            exact: 7,
            simhash: 0xdead_beef,
            band_keys: vec![1, 2, 3],
            sketch: vec![10, 20],
            numbers: vec![2024],
            tokens: vec![5, 6],
            best: Some("doc-0".into()),
            cluster_id: "doc-0".into(),
            source: None,
            line_keys: vec![99],
            bytes: 3000,
        }
    }

    #[test]
    fn records_round_trip() {
        let r = sample();
        assert_eq!(DocRecord::decode(&r.encode().unwrap()).unwrap(), r);
    }

    #[test]
    fn keys_sort_in_insertion_order() {
        assert!(doc_key(255) < doc_key(256));
        assert_eq!(seq_of(&doc_key(42)).unwrap(), 42);
        assert!(seq_of(b"short").is_err());
    }

    #[test]
    fn a_tombstone_only_stops_matching() {
        let t = sample().tombstone();
        assert!(!t.alive);
        assert_eq!(DocRecord { alive: true, ..t }, sample());
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(DocRecord::decode(&[0xff; 3]).is_err());
    }
}
