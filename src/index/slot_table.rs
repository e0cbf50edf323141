//! An open-addressing hash set of document slots whose keys live elsewhere.
//!
//! The id → slot and exact-hash → slot maps would each store a second copy of a key the
//! document columns already hold. A [`SlotTable`] stores only the slot (4 bytes) and a 7-bit
//! tag of the key's hash (1 byte) per cell; the owner passes closures that answer "is this the
//! key?" and "what is the hash of this slot's key?" from its columns. The tag keeps those
//! closures (a random memory access each) off almost every probe of a miss.
//!
//! Linear probing, at most [`MAX_LOAD_NUM`]/[`MAX_LOAD_DEN`] full, capacity a power of two;
//! removal shifts the following cells back (no tombstones), so probe runs stay short under
//! deletes.

/// Most occupied cells, as a fraction of the capacity (numerator).
pub const MAX_LOAD_NUM: usize = 4;
/// Most occupied cells, as a fraction of the capacity (denominator).
pub const MAX_LOAD_DEN: usize = 5;
const MIN_CAPACITY: usize = 16;
const EMPTY: u8 = 0;

#[inline]
fn tag(hash: u64) -> u8 {
    0x80 | (hash >> 57) as u8
}

/// Slots keyed by a hash of a key stored elsewhere.
#[derive(Clone, Default)]
pub struct SlotTable {
    tags: Vec<u8>,
    slots: Vec<u32>,
    len: usize,
}

impl std::fmt::Debug for SlotTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotTable")
            .field("len", &self.len)
            .field("capacity", &self.tags.len())
            .finish()
    }
}

impl SlotTable {
    #[inline]
    fn mask(&self) -> usize {
        self.tags.len().wrapping_sub(1)
    }

    /// Slots held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first slot on `hash`'s probe path for which `is_key` holds.
    pub fn find(&self, hash: u64, mut is_key: impl FnMut(u32) -> bool) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let mask = self.mask();
        let t = tag(hash);
        let mut i = hash as usize & mask;
        loop {
            let c = *self.tags.get(i)?;
            if c == EMPTY {
                return None;
            }
            if c == t {
                let s = *self.slots.get(i)?;
                if is_key(s) {
                    return Some(s);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Add `slot` under `hash` (the caller checks it is not there yet). `hash_of` gives the
    /// hash of any held slot's key; growing the table calls it once per held slot.
    pub fn insert(&mut self, hash: u64, slot: u32, hash_of: impl Fn(u32) -> u64) {
        if (self.len + 1) * MAX_LOAD_DEN > self.tags.len() * MAX_LOAD_NUM {
            self.grow(&hash_of);
        }
        self.put(hash, slot);
    }

    fn put(&mut self, hash: u64, slot: u32) {
        let mask = self.mask();
        let mut i = hash as usize & mask;
        while self.tags.get(i).is_some_and(|&c| c != EMPTY) {
            i = (i + 1) & mask;
        }
        if let (Some(t), Some(s)) = (self.tags.get_mut(i), self.slots.get_mut(i)) {
            *t = tag(hash);
            *s = slot;
            self.len += 1;
        }
    }

    fn grow(&mut self, hash_of: &impl Fn(u32) -> u64) {
        let cap = (self.tags.len() * 2).max(MIN_CAPACITY);
        let tags = std::mem::replace(&mut self.tags, vec![EMPTY; cap]);
        let slots = std::mem::replace(&mut self.slots, vec![0; cap]);
        self.len = 0;
        for (t, s) in tags.into_iter().zip(slots) {
            if t != EMPTY {
                self.put(hash_of(s), s);
            }
        }
    }

    /// Remove `slot`, held under `hash`; false when it is not there. `hash_of` is called for
    /// the cells after it in its probe run (they shift back).
    pub fn remove(&mut self, hash: u64, slot: u32, hash_of: impl Fn(u32) -> u64) -> bool {
        if self.len == 0 {
            return false;
        }
        let mask = self.mask();
        let t = tag(hash);
        let mut i = hash as usize & mask;
        loop {
            match (self.tags.get(i), self.slots.get(i)) {
                (Some(&c), _) if c == EMPTY => return false,
                (Some(&c), Some(&s)) if c == t && s == slot => break,
                (Some(_), Some(_)) => i = (i + 1) & mask,
                _ => return false,
            }
        }
        // Backward shift: move every later cell of the run whose home is not in (hole, cell]
        // into the hole.
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let (Some(&c), Some(&s)) = (self.tags.get(j), self.slots.get(j)) else {
                break;
            };
            if c == EMPTY {
                break;
            }
            let home = hash_of(s) as usize & mask;
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                if let (Some(ht), Some(hs)) = (self.tags.get_mut(hole), self.slots.get_mut(hole)) {
                    *ht = c;
                    *hs = s;
                }
                hole = j;
            }
        }
        if let Some(ht) = self.tags.get_mut(hole) {
            *ht = EMPTY;
        }
        self.len -= 1;
        true
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.tags.capacity() + self.slots.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// A model owner: keys by slot, the table maps key → slot.
    struct Owner {
        keys: Vec<u64>,
        table: SlotTable,
        hash: fn(u64) -> u64,
    }

    impl Owner {
        fn find(&self, key: u64) -> Option<u32> {
            let keys = &self.keys;
            self.table
                .find((self.hash)(key), |s| keys[s as usize] == key)
        }
        fn insert(&mut self, key: u64) -> u32 {
            let slot = self.keys.len() as u32;
            self.keys.push(key);
            let (keys, h) = (&self.keys, self.hash);
            self.table.insert(h(key), slot, |s| h(keys[s as usize]));
            slot
        }
        fn remove(&mut self, key: u64, slot: u32) -> bool {
            let (keys, h) = (&self.keys, self.hash);
            self.table.remove(h(key), slot, |s| h(keys[s as usize]))
        }
    }

    fn good(k: u64) -> u64 {
        crate::pipeline::hash::mix64(k)
    }

    /// Few distinct homes and tags: long runs, shifts across the end of the table.
    fn poor(k: u64) -> u64 {
        (k % 5) | ((k % 3) << 57)
    }

    #[test]
    fn find_insert_remove() {
        let mut o = Owner {
            keys: Vec::new(),
            table: SlotTable::default(),
            hash: good,
        };
        assert_eq!(o.find(1), None);
        for k in 0..1000 {
            assert_eq!(o.insert(k * 7), k as u32);
        }
        assert_eq!(o.table.len(), 1000);
        assert_eq!(o.find(7 * 500), Some(500));
        assert_eq!(o.find(3), None);
        assert!(o.remove(7 * 500, 500));
        assert!(!o.remove(7 * 500, 500));
        assert_eq!(o.find(7 * 500), None);
        assert_eq!(o.find(7 * 501), Some(501));
        assert!(o.table.memory_bytes() >= 1000 * 5);
        assert!(o.table.len() * MAX_LOAD_DEN <= o.table.tags.len() * MAX_LOAD_NUM);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Remove(u64),
        Find(u64),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            prop_oneof![
                (0u64..60).prop_map(Op::Insert),
                (0u64..60).prop_map(Op::Remove),
                (0u64..60).prop_map(Op::Find),
            ],
            0..400,
        )
    }

    fn check_against_model(hash: fn(u64) -> u64, ops: &[Op]) -> Result<(), TestCaseError> {
        let mut o = Owner {
            keys: Vec::new(),
            table: SlotTable::default(),
            hash,
        };
        let mut model: HashMap<u64, u32> = HashMap::new();
        for op in ops {
            match *op {
                Op::Insert(k) => {
                    if let std::collections::hash_map::Entry::Vacant(e) = model.entry(k) {
                        e.insert(o.insert(k));
                    }
                }
                Op::Remove(k) => {
                    let expected = model.remove(&k);
                    // An absent key is asked with a slot no key holds.
                    let removed = o.remove(k, expected.unwrap_or(u32::MAX - 1));
                    prop_assert_eq!(removed, expected.is_some());
                }
                Op::Find(k) => prop_assert_eq!(o.find(k), model.get(&k).copied()),
            }
            prop_assert_eq!(o.table.len(), model.len());
        }
        for (&k, &s) in &model {
            prop_assert_eq!(o.find(k), Some(s));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in ops()) {
            check_against_model(good, &ops)?;
        }

        #[test]
        fn behaves_like_a_hash_map_under_colliding_hashes(ops in ops()) {
            check_against_model(poor, &ops)?;
        }
    }
}
