//! T0: the exact tier — normalized-text hash → first live document with that text.
//!
//! The keys are the documents' exact-key column; the table holds slots only (see
//! [`SlotTable`]).

use super::slot_table::SlotTable;
use crate::pipeline::hash::mix64;

/// Exact-duplicate table.
#[derive(Debug, Default, Clone)]
pub struct ExactIndex {
    table: SlotTable,
}

impl ExactIndex {
    /// The slot holding `key`; `key_of` gives a slot's exact key.
    pub fn get(&self, key: u64, key_of: impl Fn(u32) -> Option<u64>) -> Option<u32> {
        self.table.find(mix64(key), |s| key_of(s) == Some(key))
    }

    /// Remember `slot` for `key` unless a document already holds it.
    pub fn insert(&mut self, key: u64, slot: u32, key_of: impl Fn(u32) -> Option<u64>) {
        if self.get(key, &key_of).is_none() {
            self.table
                .insert(mix64(key), slot, |s| mix64(key_of(s).unwrap_or(0)));
        }
    }

    /// Forget `key` if `slot` holds it.
    pub fn remove(&mut self, key: u64, slot: u32, key_of: impl Fn(u32) -> Option<u64>) {
        if self.get(key, &key_of) == Some(slot) {
            self.table
                .remove(mix64(key), slot, |s| mix64(key_of(s).unwrap_or(0)));
        }
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.table.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_holder_wins_and_leaves_with_its_slot() {
        let keys = [10u64, 20, 10, 30];
        let key_of = |s: u32| keys.get(s as usize).copied();
        let mut e = ExactIndex::default();
        for (s, &k) in keys.iter().enumerate() {
            e.insert(k, s as u32, key_of);
        }
        assert_eq!(e.get(10, key_of), Some(0));
        assert_eq!(e.get(40, key_of), None);
        e.remove(10, 2, key_of);
        assert_eq!(e.get(10, key_of), Some(0), "slot 2 never held 10");
        e.remove(10, 0, key_of);
        assert_eq!(e.get(10, key_of), None);
        assert_eq!(e.get(30, key_of), Some(3));
    }
}
