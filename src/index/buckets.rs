//! A directly addressed multimap of (16-bit tag, slot) entries: 6 bytes an entry.
//!
//! The caller derives a bucket number and a tag from its key so that the two together identify
//! the key (the LSH band keys) or filter it (the simhash blocks). A bucket is a small `Vec` of
//! groups of eight entries (eight tags, then eight slots: one SIMD compare finds the tags of a
//! group), filled in order, so only a bucket's last group has free places. Buckets grow by an
//! eighth, not by doubling, so reserved but unused space stays small. The bucket table itself is
//! allocated on the first insert, and more buckets can be split off one at a time
//! ([`TagBuckets::split_off`], for linear hashing).
//!
//! [`TagBuckets::find_tags`] looks up many buckets at once: it first fetches every bucket's
//! start, so the cache misses of the buckets overlap instead of following one another.

/// A (tag, slot) entry.
type Pair = (u16, u32);

/// Entries per group.
const GROUP: usize = 8;
/// Slot value of a free place (never a document slot: the document store stops before it).
const FREE: u32 = u32::MAX;

/// Eight entries.
#[derive(Clone, Copy)]
struct Group {
    tags: [u16; GROUP],
    slots: [u32; GROUP],
}

impl Group {
    const EMPTY: Group = Group {
        tags: [0; GROUP],
        slots: [FREE; GROUP],
    };

    /// Bit `i` set when entry `i` has this tag (free places included).
    #[inline]
    fn matches(&self, tag: u16) -> u32 {
        let mut m = 0u32;
        for (i, &t) in self.tags.iter().enumerate() {
            m |= u32::from(t == tag) << i;
        }
        m
    }

    fn entries(&self) -> impl Iterator<Item = (u16, u32)> + '_ {
        self.tags
            .iter()
            .zip(&self.slots)
            .filter(|(_, &s)| s != FREE)
            .map(|(&t, &s)| (t, s))
    }
}

/// Buckets of (tag, slot) entries.
#[derive(Clone, Default)]
pub struct TagBuckets {
    buckets: Vec<Vec<Group>>,
    initial: usize,
    len: usize,
}

impl std::fmt::Debug for TagBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TagBuckets")
            .field("buckets", &self.buckets())
            .field("len", &self.len)
            .finish()
    }
}

/// Append `slot` to `out` unless it is in `out[from..]`.
#[inline]
fn push_new(out: &mut Vec<u32>, from: usize, slot: u32) {
    if !out.get(from..).is_some_and(|o| o.contains(&slot)) {
        out.push(slot);
    }
}

/// Pack entries into groups, with room for about an eighth more.
fn pack(entries: impl ExactSizeIterator<Item = (u16, u32)>) -> Vec<Group> {
    let n = entries.len();
    let groups = n.div_ceil(GROUP);
    let mut v = Vec::with_capacity(groups + groups / 8);
    for (i, (t, s)) in entries.enumerate() {
        if i % GROUP == 0 {
            v.push(Group::EMPTY);
        }
        if let Some(g) = v.last_mut() {
            g.tags[i % GROUP] = t;
            g.slots[i % GROUP] = s;
        }
    }
    v
}

impl TagBuckets {
    /// An empty multimap of `buckets` buckets (nothing allocated yet).
    pub fn new(buckets: usize) -> Self {
        TagBuckets {
            buckets: Vec::new(),
            initial: buckets,
            len: 0,
        }
    }

    /// Number of buckets.
    pub fn buckets(&self) -> usize {
        self.buckets.len().max(self.initial)
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn allocate(&mut self) {
        if self.buckets.is_empty() {
            self.buckets = vec![Vec::new(); self.initial];
        }
    }

    /// Add an entry to bucket `b` (< [`buckets`](Self::buckets), else nothing is added).
    /// `slot` must not be `u32::MAX`.
    pub fn insert(&mut self, b: usize, tag: u16, slot: u32) {
        if slot == FREE {
            return;
        }
        self.allocate();
        let Some(v) = self.buckets.get_mut(b) else {
            return;
        };
        let free = v
            .last()
            .and_then(|g| g.slots.iter().position(|&s| s == FREE));
        let (g, i) = match (free, v.len().checked_sub(1)) {
            (Some(i), Some(last)) => (last, i),
            _ => {
                if v.len() == v.capacity() {
                    v.reserve_exact((v.len() / 8).max(1));
                }
                v.push(Group::EMPTY);
                (v.len() - 1, 0)
            }
        };
        if let Some(g) = v.get_mut(g) {
            g.tags[i] = tag;
            g.slots[i] = slot;
            self.len += 1;
        }
    }

    /// Remove one entry of `slot` from bucket `b`; false when there is none. The bucket's last
    /// entry takes its place.
    pub fn remove(&mut self, b: usize, slot: u32) -> bool {
        if slot == FREE {
            return false;
        }
        let Some(v) = self.buckets.get_mut(b) else {
            return false;
        };
        let Some((g, i)) = v
            .iter()
            .enumerate()
            .find_map(|(g, grp)| grp.slots.iter().position(|&s| s == slot).map(|i| (g, i)))
        else {
            return false;
        };
        // The bucket's last entry fills the hole.
        let last_g = v.len() - 1;
        let Some((lt, ls, last_i)) = v.get(last_g).and_then(|grp| {
            let i = grp.slots.iter().rposition(|&s| s != FREE)?;
            Some((grp.tags[i], grp.slots[i], i))
        }) else {
            return false;
        };
        if let Some(grp) = v.get_mut(g) {
            grp.tags[i] = lt;
            grp.slots[i] = ls;
        }
        if let Some(grp) = v.get_mut(last_g) {
            grp.slots[last_i] = FREE;
            if last_i == 0 {
                v.pop();
            }
        }
        self.len -= 1;
        true
    }

    /// The (tag, slot) entries of bucket `b`.
    pub fn bucket(&self, b: usize) -> impl Iterator<Item = (u16, u32)> + '_ {
        self.buckets
            .get(b)
            .map_or(&[][..], |v| v.as_slice())
            .iter()
            .flat_map(Group::entries)
    }

    /// For each (bucket, tag) of `queries`, append to `out` the bucket's slots with that tag,
    /// skipping slots already in `out[from..]`.
    pub fn find_tags(&self, queries: &[(usize, u16)], out: &mut Vec<u32>, from: usize) {
        const BATCH: usize = 32;
        for batch in queries.chunks(BATCH) {
            let mut found: [&[Group]; BATCH] = [&[]; BATCH];
            let mut touch = 0u32;
            for (f, &(b, _)) in found.iter_mut().zip(batch) {
                *f = self.buckets.get(b).map_or(&[][..], |v| v.as_slice());
            }
            for f in &found {
                for g in f.iter() {
                    touch ^= g.slots[0];
                }
            }
            // Every bucket's first line is now requested; keep the loads.
            std::hint::black_box(touch);
            for (groups, &(_, tag)) in found.iter().zip(batch) {
                for g in *groups {
                    let mut m = g.matches(tag);
                    while m != 0 {
                        let i = m.trailing_zeros() as usize;
                        m &= m - 1;
                        let s = g.slots[i];
                        if s != FREE {
                            push_new(out, from, s);
                        }
                    }
                }
            }
        }
    }

    /// Add a bucket at the end and move into it the entries of bucket `from` whose tag
    /// satisfies `moves`; entries whose slot fails `keep` are dropped. Returns the new
    /// bucket's number.
    pub fn split_off(
        &mut self,
        from: usize,
        moves: impl Fn(u16) -> bool,
        keep: impl Fn(u32) -> bool,
    ) -> usize {
        self.allocate();
        if self.buckets.len() == self.buckets.capacity() {
            // The table too grows by an eighth: a doubling would leave half of it unused.
            self.buckets.reserve_exact((self.buckets.len() / 8).max(16));
        }
        let new = self.buckets.len();
        let (stay, go): (Vec<Pair>, Vec<Pair>) = self
            .buckets
            .get(from)
            .map(|v| {
                v.iter()
                    .flat_map(Group::entries)
                    .filter(|&(_, s)| keep(s))
                    .partition(|&(t, _)| !moves(t))
            })
            .unwrap_or_default();
        let before: usize = self.buckets.get(from).map_or(0, |v| {
            v.iter()
                .map(|g| g.slots.iter().filter(|&&s| s != FREE).count())
                .sum()
        });
        self.len -= before - stay.len() - go.len();
        if let Some(v) = self.buckets.get_mut(from) {
            *v = pack(stay.into_iter());
        }
        self.buckets.push(pack(go.into_iter()));
        new
    }

    /// Bytes held (groups' capacities and the bucket table).
    pub fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Vec<Group>>()
            + self
                .buckets
                .iter()
                .map(|v| v.capacity() * std::mem::size_of::<Group>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    fn find(t: &TagBuckets, b: usize, tag: u16) -> Vec<u32> {
        let mut out = Vec::new();
        t.find_tags(&[(b, tag)], &mut out, 0);
        out
    }

    #[test]
    fn insert_find_remove() {
        let mut t = TagBuckets::new(16);
        assert_eq!(t.memory_bytes(), 0);
        t.insert(3, 9, 70_000);
        t.insert(3, 8, 5);
        t.insert(3, 9, 6);
        t.insert(4, 9, 7);
        t.insert(16, 9, 8); // no such bucket
        t.insert(3, 9, u32::MAX); // not a slot
        assert_eq!(t.len(), 4);
        assert_eq!(find(&t, 3, 9), vec![70_000, 6]);
        let mut out = Vec::new();
        t.find_tags(&[(3, 9), (4, 9), (3, 9), (3, 0)], &mut out, 0);
        assert_eq!(
            out,
            vec![70_000, 6, 7],
            "each slot once; free places never match"
        );
        // More queries than one batch.
        let many: Vec<(usize, u16)> = (0..100).map(|i| (if i == 77 { 4 } else { 0 }, 9)).collect();
        out.clear();
        t.find_tags(&many, &mut out, 0);
        assert_eq!(out, vec![7]);
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
    fn split_off_moves_the_chosen_tags() {
        let mut t = TagBuckets::new(2);
        for s in 0..100u32 {
            t.insert(1, s as u16, s);
        }
        assert_eq!(t.split_off(1, |tag| tag % 2 == 1, |_| true), 2);
        assert_eq!(t.buckets(), 3);
        assert_eq!(t.len(), 100);
        assert!(t.bucket(1).all(|(tag, s)| tag % 2 == 0 && s % 2 == 0));
        assert_eq!(t.bucket(1).count(), 50);
        assert!(t.bucket(2).all(|(tag, _)| tag % 2 == 1));
        assert_eq!(t.bucket(2).count(), 50);
        t.insert(2, 7, 1000);
        assert_eq!(find(&t, 2, 7), vec![7, 1000]);
        // Dropping slots while splitting.
        assert_eq!(
            t.split_off(2, |tag| tag == 7, |s| s != 1000 && s % 3 != 0),
            3
        );
        assert_eq!(find(&t, 3, 7), vec![7]);
        assert!(t.bucket(2).all(|(_, s)| s % 3 != 0));
        assert_eq!(t.len(), 50 + t.bucket(2).count() + 1);
    }

    #[test]
    fn buckets_grow_by_an_eighth() {
        let mut t = TagBuckets::new(1);
        for s in 0..1000 {
            t.insert(0, 0, s);
        }
        let table = std::mem::size_of::<Vec<Group>>();
        let entries = t.memory_bytes() - table;
        assert!(entries >= 1000 * 6);
        assert!(entries <= 1000 * 6 * 9 / 8 + 48 * 2, "{entries}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16, u32),
        Remove(u8, u32),
        Split(u8, u16, u32),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                4 => (0u8..4, 0u16..4, 0u32..40).prop_map(|(b, t, s)| Op::Insert(b, t, s)),
                2 => (0u8..4, 0u32..40).prop_map(|(b, s)| Op::Remove(b, s)),
                1 => (0u8..4, 1u16..4, 0u32..6).prop_map(|(b, m, d)| Op::Split(b, m, d)),
            ],
            0..300,
        )
    }

    proptest! {
        /// Against a model: bucket → list of (tag, slot), compared as multisets.
        #[test]
        fn behaves_like_lists_of_entries(ops in ops()) {
            let mut t = TagBuckets::new(4);
            let mut model: HashMap<usize, Vec<(u16, u32)>> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(b, tag, s) => {
                        t.insert(b as usize, tag, s);
                        model.entry(b as usize).or_default().push((tag, s));
                    }
                    Op::Remove(b, s) => {
                        let list = model.entry(b as usize).or_default();
                        let want = list.iter().position(|e| e.1 == s);
                        if let Some(i) = want {
                            list.swap_remove(i);
                        }
                        prop_assert_eq!(t.remove(b as usize, s), want.is_some());
                    }
                    Op::Split(b, m, d) => {
                        // Drop the slots ≡ d (mod 5); d = 5 drops none.
                        let keep = |s: u32| s % 5 != d;
                        let new = t.split_off(b as usize, |tag| tag % m == 0, keep);
                        let list = model.entry(b as usize).or_default();
                        let (go, stay): (Vec<_>, Vec<_>) =
                            list.iter().filter(|e| keep(e.1)).partition(|e| e.0 % m == 0);
                        *list = stay;
                        model.insert(new, go);
                    }
                }
                prop_assert_eq!(t.len(), model.values().map(Vec::len).sum::<usize>());
            }
            for b in 0..t.buckets() {
                let mut got: Vec<(u16, u32)> = t.bucket(b).collect();
                let mut want = model.get(&b).cloned().unwrap_or_default();
                got.sort();
                want.sort();
                prop_assert_eq!(&got, &want);
                for tag in 0..4u16 {
                    let mut want: Vec<u32> = want.iter().filter(|e| e.0 == tag).map(|e| e.1).collect();
                    want.dedup();
                    let mut got = find(&t, b, tag);
                    got.sort();
                    want.sort();
                    want.dedup();
                    prop_assert_eq!(got, want);
                }
            }
        }
    }
}
