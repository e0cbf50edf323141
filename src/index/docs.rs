//! What the index keeps per document, in columns and record arenas, without a heap
//! allocation per document.
//!
//! Fixed-size values (time, simhash, exact key, end of the record) are [`Column`]s; the
//! alive flags are a bitset. The variable part — the id, the salient numbers (only when the
//! number guard is on) and the verification sketch, Elias–Fano coded ([`super::ef`]) — is one
//! byte record per document, appended to the arena of its chunk of [`CHUNK`] documents:
//!
//! `varint id length · id · [varint count · numbers as u64 LE] · varint key count · sketch code`
//!
//! A deleted document keeps only its id (clusters are named after their first document, which
//! may be gone); its numbers and sketch become garbage, and a chunk's arena is rewritten once
//! half of it is garbage.

use super::column::{Column, CHUNK, CHUNK_BITS};
use super::ef;

/// One chunk's records.
#[derive(Debug, Clone, Default)]
struct Arena {
    bytes: Vec<u8>,
    garbage: usize,
}

/// The per-document store of one namespace.
#[derive(Clone, Default)]
pub struct DocStore {
    time: Column<i64>,
    simhash: Column<u64>,
    exact: Column<u64>,
    /// End of each record in its chunk's arena.
    ends: Column<u32>,
    alive: Vec<u64>,
    arenas: Vec<Arena>,
    keep_numbers: bool,
}

impl std::fmt::Debug for DocStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocStore")
            .field("len", &self.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish()
    }
}

/// A document to append.
#[derive(Debug, Clone, Copy)]
pub struct NewDoc<'a> {
    /// Caller's id.
    pub id: &'a str,
    /// Publication or arrival time.
    pub time: i64,
    /// Simhash at insertion.
    pub simhash: u64,
    /// Exact-duplicate key.
    pub exact: u64,
    /// Whether it is live (restored tombstones are not).
    pub alive: bool,
    /// Verification sketch, sorted.
    pub sketch: &'a [u32],
    /// Salient numbers, sorted.
    pub numbers: &'a [u64],
}

fn put_varint(out: &mut Vec<u8>, mut v: usize) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<usize> {
    let mut v = 0usize;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= usize::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

impl DocStore {
    /// An empty store; `keep_numbers` stores the salient numbers (the number guard is on).
    pub fn new(keep_numbers: bool) -> Self {
        DocStore {
            keep_numbers,
            ..DocStore::default()
        }
    }

    /// Documents ever appended (tombstones included).
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether nothing was ever appended.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Append a document; returns its slot. Fails when a chunk's arena would pass 4 GiB
    /// (ids of a megabyte each).
    pub fn push(&mut self, doc: NewDoc<'_>) -> crate::Result<u32> {
        let slot = u32::try_from(self.len())
            .ok()
            .filter(|&s| s < u32::MAX)
            .ok_or_else(|| crate::Error::Unavailable("namespace is full".into()))?;
        let first_of_chunk = slot as usize % CHUNK == 0;
        if first_of_chunk {
            if let Some(done) = self.arenas.last_mut() {
                done.bytes.shrink_to_fit();
            }
            self.arenas.push(Arena::default());
        }
        let keep_numbers = self.keep_numbers;
        let Some(arena) = self.arenas.last_mut() else {
            return Err(crate::Error::Unavailable("namespace is full".into()));
        };
        let start = arena.bytes.len();
        put_varint(&mut arena.bytes, doc.id.len());
        arena.bytes.extend_from_slice(doc.id.as_bytes());
        if doc.alive {
            if keep_numbers {
                put_varint(&mut arena.bytes, doc.numbers.len());
                for n in doc.numbers {
                    arena.bytes.extend_from_slice(&n.to_le_bytes());
                }
            }
            put_varint(&mut arena.bytes, doc.sketch.len());
            if doc.sketch.windows(2).all(|w| w[0] < w[1]) {
                ef::encode(doc.sketch, &mut arena.bytes);
            } else {
                // Never for pipeline sketches (sorted, distinct); the code needs sorted keys.
                let mut sorted = doc.sketch.to_vec();
                sorted.sort_unstable();
                ef::encode(&sorted, &mut arena.bytes);
            }
        }
        let Ok(end) = u32::try_from(arena.bytes.len()) else {
            arena.bytes.truncate(start);
            return Err(crate::Error::Unavailable(
                "namespace is full (document ids too long)".into(),
            ));
        };
        self.ends.push(end);
        self.time.push(doc.time);
        self.simhash.push(doc.simhash);
        self.exact.push(doc.exact);
        let word = slot as usize / 64;
        if word >= self.alive.len() {
            self.alive.push(0);
        }
        if doc.alive {
            if let Some(w) = self.alive.get_mut(word) {
                *w |= 1 << (slot % 64);
            }
        }
        Ok(slot)
    }

    /// The record bytes of a slot.
    fn record(&self, slot: u32) -> Option<&[u8]> {
        let s = slot as usize;
        let end = self.ends.get(s)? as usize;
        let start = if s % CHUNK == 0 {
            0
        } else {
            self.ends.get(s - 1)? as usize
        };
        self.arenas.get(s >> CHUNK_BITS)?.bytes.get(start..end)
    }

    /// Split a record into the id and what follows it.
    fn split(record: &[u8]) -> Option<(&[u8], &[u8])> {
        let mut pos = 0;
        let len = get_varint(record, &mut pos)?;
        let id = record.get(pos..pos.checked_add(len)?)?;
        Some((id, record.get(pos + len..)?))
    }

    /// Id of a slot.
    pub fn id(&self, slot: u32) -> Option<&str> {
        let (id, _) = Self::split(self.record(slot)?)?;
        std::str::from_utf8(id).ok()
    }

    /// Id bytes of a slot.
    pub fn id_bytes(&self, slot: u32) -> Option<&[u8]> {
        Self::split(self.record(slot)?).map(|(id, _)| id)
    }

    /// Decode a slot's numbers into `numbers` and its sketch into `sketch` (both cleared;
    /// empty for a deleted document).
    pub fn features_into(&self, slot: u32, sketch: &mut Vec<u32>, numbers: &mut Vec<u64>) {
        sketch.clear();
        numbers.clear();
        if !self.alive(slot) {
            return;
        }
        let Some((_, rest)) = self.record(slot).and_then(Self::split) else {
            return;
        };
        if rest.is_empty() {
            return;
        }
        let mut pos = 0;
        if self.keep_numbers {
            let Some(count) = get_varint(rest, &mut pos) else {
                return;
            };
            for _ in 0..count {
                let Some(b) = rest.get(pos..pos + 8) else {
                    return;
                };
                let mut buf = [0u8; 8];
                buf.copy_from_slice(b);
                numbers.push(u64::from_le_bytes(buf));
                pos += 8;
            }
        }
        let Some(count) = get_varint(rest, &mut pos) else {
            return;
        };
        ef::decode(rest.get(pos..).unwrap_or(&[]), count, sketch);
    }

    /// Time of a slot.
    #[inline]
    pub fn time(&self, slot: u32) -> Option<i64> {
        self.time.get(slot as usize)
    }

    /// Simhash of a slot.
    #[inline]
    pub fn simhash(&self, slot: u32) -> Option<u64> {
        self.simhash.get(slot as usize)
    }

    /// Exact key of a slot.
    #[inline]
    pub fn exact(&self, slot: u32) -> Option<u64> {
        self.exact.get(slot as usize)
    }

    /// Whether a slot is live.
    #[inline]
    pub fn alive(&self, slot: u32) -> bool {
        self.alive
            .get(slot as usize / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// Mark a slot deleted: its sketch and numbers become garbage (its id stays). False when
    /// it was not live.
    pub fn kill(&mut self, slot: u32) -> bool {
        if !self.alive(slot) {
            return false;
        }
        if let Some(w) = self.alive.get_mut(slot as usize / 64) {
            *w &= !(1 << (slot % 64));
        }
        let garbage = self
            .record(slot)
            .and_then(Self::split)
            .map_or(0, |(_, rest)| rest.len());
        let chunk = slot as usize >> CHUNK_BITS;
        if let Some(a) = self.arenas.get_mut(chunk) {
            a.garbage += garbage;
            if a.garbage * 2 > a.bytes.len() {
                self.compact(chunk);
            }
        }
        true
    }

    /// Rewrite a chunk's arena without the garbage of its deleted documents.
    fn compact(&mut self, chunk: usize) {
        let first = chunk << CHUNK_BITS;
        let last = (first + CHUNK).min(self.len());
        let Some(old) = self.arenas.get(chunk) else {
            return;
        };
        let mut bytes = Vec::with_capacity(old.bytes.len() - old.garbage);
        let mut ends = Vec::with_capacity(last - first);
        let mut start = 0;
        for s in first..last {
            let end = self.ends.get(s).unwrap_or(0) as usize;
            let rec = old.bytes.get(start..end).unwrap_or(&[]);
            start = end;
            let keep = if self.alive(s as u32) {
                rec
            } else {
                let rest = Self::split(rec).map_or(0, |(_, rest)| rest.len());
                rec.get(..rec.len() - rest).unwrap_or(rec)
            };
            bytes.extend_from_slice(keep);
            ends.push(bytes.len() as u32);
        }
        for (s, e) in (first..last).zip(ends) {
            self.ends.set(s, e);
        }
        if let Some(a) = self.arenas.get_mut(chunk) {
            a.bytes = bytes;
            a.garbage = 0;
        }
    }

    /// Bytes held: (columns and flags, record arenas).
    pub fn memory_bytes(&self) -> (usize, usize) {
        let columns = self.time.memory_bytes()
            + self.simhash.memory_bytes()
            + self.exact.memory_bytes()
            + self.ends.memory_bytes()
            + self.alive.capacity() * 8;
        let arenas = self.arenas.capacity() * std::mem::size_of::<Arena>()
            + self
                .arenas
                .iter()
                .map(|a| a.bytes.capacity())
                .sum::<usize>();
        (columns, arenas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch_of(i: u32) -> Vec<u32> {
        let mut s: Vec<u32> = (0..(i % 90))
            .map(|k| crate::pipeline::hash::mix64(u64::from(i) << 8 | u64::from(k)) as u32)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    fn fill(store: &mut DocStore, n: u32) {
        for i in 0..n {
            let id = format!("doc-{i}");
            let sk = sketch_of(i);
            let nums = [u64::from(i), u64::from(i) + 1];
            let slot = store
                .push(NewDoc {
                    id: &id,
                    time: -(i as i64),
                    simhash: u64::from(i) * 3,
                    exact: u64::from(i) * 5,
                    alive: i % 7 != 3,
                    sketch: &sk,
                    numbers: &nums,
                })
                .unwrap();
            assert_eq!(slot, i);
        }
    }

    fn check(store: &DocStore, n: u32, with_numbers: bool) {
        let (mut sk, mut nums) = (Vec::new(), Vec::new());
        for i in 0..n {
            assert_eq!(store.id(i), Some(format!("doc-{i}").as_str()));
            assert_eq!(store.time(i), Some(-(i as i64)));
            assert_eq!(store.simhash(i), Some(u64::from(i) * 3));
            assert_eq!(store.exact(i), Some(u64::from(i) * 5));
            store.features_into(i, &mut sk, &mut nums);
            if store.alive(i) {
                assert_eq!(sk, sketch_of(i), "slot {i}");
                let want = if with_numbers {
                    vec![u64::from(i), u64::from(i) + 1]
                } else {
                    Vec::new()
                };
                assert_eq!(nums, want);
            } else {
                assert!(sk.is_empty() && nums.is_empty());
            }
        }
        assert_eq!(store.id(n), None);
        assert!(!store.alive(n));
    }

    #[test]
    fn columns_and_records_round_trip_across_chunks() {
        for with_numbers in [false, true] {
            let mut store = DocStore::new(with_numbers);
            let n = CHUNK as u32 * 2 + 10;
            fill(&mut store, n);
            assert_eq!(store.len(), n as usize);
            assert!(!store.alive(3) && store.alive(4));
            check(&store, n, with_numbers);
        }
    }

    #[test]
    fn deleting_most_of_a_chunk_frees_its_sketches_and_keeps_every_id() {
        let mut store = DocStore::new(false);
        let n = CHUNK as u32 + 100;
        fill(&mut store, n);
        let (_, before) = store.memory_bytes();
        assert!(store.kill(11));
        assert!(!store.kill(11), "already dead");
        assert!(!store.kill(3), "never alive");
        for i in (0..CHUNK as u32).filter(|i| i % 4 != 0) {
            store.kill(i);
        }
        let (_, after) = store.memory_bytes();
        assert!(after < before * 2 / 3, "{after} vs {before}");
        check(&store, n, false);
        assert!(!store.alive(11) && store.alive(8));
    }

    #[test]
    fn varints() {
        for v in [0usize, 1, 127, 128, 300, 1 << 20, usize::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), Some(v));
            assert_eq!(pos, b.len());
        }
        assert_eq!(get_varint(&[0x80], &mut 0), None);
    }
}
