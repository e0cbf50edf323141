//! A directly addressed multimap of (16-bit tag, slot) entries: 6 bytes an entry.
//!
//! The caller derives a bucket number and a tag from its key so that the two together identify
//! the key (the LSH band keys) or filter it (the simhash blocks). A bucket is a small `Vec`
//! that grows by an eighth, not by doubling, so reserved but unused space stays near 1/16 of
//! the entries on average. The bucket table itself is allocated on the first insert.

/// One entry: tag, low and high half of the slot.
type Entry = [u16; 3];

/// Buckets of (tag, slot) entries.
#[derive(Clone, Default)]
pub struct TagBuckets {
    buckets: Vec<Vec<Entry>>,
    bits: u32,
    len: usize,
}

impl std::fmt::Debug for TagBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TagBuckets")
            .field("bits", &self.bits)
            .field("len", &self.len)
            .finish()
    }
}

#[inline]
fn slot_of(e: &Entry) -> u32 {
    u32::from(e[1]) | (u32::from(e[2]) << 16)
}

impl TagBuckets {
    /// An empty multimap of `2^bits` buckets (nothing allocated yet).
    pub fn new(bits: u32) -> Self {
        TagBuckets {
            buckets: Vec::new(),
            bits,
            len: 0,
        }
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        1 << self.bits
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Add an entry to bucket `b` (taken modulo the number of buckets).
    pub fn insert(&mut self, b: usize, tag: u16, slot: u32) {
        if self.buckets.is_empty() {
            self.buckets = vec![Vec::new(); self.buckets()];
        }
        let b = b & (self.buckets() - 1);
        if let Some(v) = self.buckets.get_mut(b) {
            if v.len() == v.capacity() {
                v.reserve_exact((v.len() / 8).max(4));
            }
            v.push([tag, slot as u16, (slot >> 16) as u16]);
            self.len += 1;
        }
    }

    /// Remove one entry of `slot` from bucket `b`; false when there is none. The bucket's order
    /// changes.
    pub fn remove(&mut self, b: usize, slot: u32) -> bool {
        let b = b & (self.buckets() - 1);
        let Some(v) = self.buckets.get_mut(b) else {
            return false;
        };
        match v.iter().position(|e| slot_of(e) == slot) {
            Some(i) => {
                v.swap_remove(i);
                self.len -= 1;
                true
            }
            None => false,
        }
    }

    /// The (tag, slot) entries of bucket `b`.
    pub fn bucket(&self, b: usize) -> impl Iterator<Item = (u16, u32)> + '_ {
        let b = b & (self.buckets() - 1);
        self.buckets
            .get(b)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|e| (e[0], slot_of(e)))
    }

    /// Append to `out` the slots of bucket `b` whose tag is `tag`, skipping slots already in
    /// `out[from..]`.
    pub fn find_tag(&self, b: usize, tag: u16, out: &mut Vec<u32>, from: usize) {
        let b = b & (self.buckets() - 1);
        let Some(v) = self.buckets.get(b) else {
            return;
        };
        for e in v {
            if e[0] == tag {
                let s = slot_of(e);
                if !out.get(from..).is_some_and(|o| o.contains(&s)) {
                    out.push(s);
                }
            }
        }
    }

    /// Bytes held (entries' capacities and the bucket table).
    pub fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Vec<Entry>>()
            + self
                .buckets
                .iter()
                .map(|v| v.capacity() * std::mem::size_of::<Entry>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove() {
        let mut t = TagBuckets::new(4);
        assert_eq!(t.memory_bytes(), 0);
        t.insert(3, 9, 70_000);
        t.insert(3, 8, 5);
        t.insert(3 + 16, 9, 6); // same bucket modulo 16
        t.insert(4, 9, 7);
        let mut out = Vec::new();
        t.find_tag(3, 9, &mut out, 0);
        assert_eq!(out, vec![70_000, 6]);
        t.find_tag(3, 9, &mut out, 0);
        assert_eq!(out, vec![70_000, 6], "no slot twice");
        let all: Vec<(u16, u32)> = t.bucket(3).collect();
        assert_eq!(all, vec![(9, 70_000), (8, 5), (9, 6)]);
        assert!(t.remove(3, 70_000));
        assert!(!t.remove(3, 70_000));
        assert!(!t.remove(3, 7));
        assert_eq!(t.len(), 3);
        let mut all: Vec<u32> = t.bucket(3).map(|e| e.1).collect();
        all.sort();
        assert_eq!(all, vec![5, 6]);
    }

    #[test]
    fn buckets_grow_by_an_eighth() {
        let mut t = TagBuckets::new(0);
        for s in 0..1000 {
            t.insert(0, 0, s);
        }
        let table = std::mem::size_of::<Vec<Entry>>();
        let entries = t.memory_bytes() - table;
        assert!(entries >= 1000 * 6);
        assert!(entries <= 1000 * 6 * 9 / 8 + 6 * 4, "{entries}");
    }
}
