//! T0: the exact tier — normalized-text hash → first document with that text.

use std::collections::HashMap;

/// Exact-duplicate table.
#[derive(Debug, Default, Clone)]
pub struct ExactIndex {
    map: HashMap<u64, u32>,
}

impl ExactIndex {
    /// The first live slot with this key.
    pub fn get(&self, key: u64) -> Option<u32> {
        self.map.get(&key).copied()
    }

    /// Remember `slot` for `key` unless a document already holds it.
    pub fn insert(&mut self, key: u64, slot: u32) {
        self.map.entry(key).or_insert(slot);
    }

    /// Forget `key` if `slot` holds it.
    pub fn remove(&mut self, key: u64, slot: u32) {
        if self.map.get(&key) == Some(&slot) {
            self.map.remove(&key);
        }
    }

    /// Bytes held (capacity × entry size, plus control bytes).
    pub fn memory_bytes(&self) -> usize {
        self.map.capacity() * (std::mem::size_of::<(u64, u32)>() + 1)
    }
}
