//! Canonical (star) clustering: a document joins the cluster of its best verified match, or
//! founds its own. Clusters are never merged by chains of candidate edges (no transitive
//! closure), so one loose match cannot glue two stories together.

use super::column::Column;

/// Cluster of every slot, named by the slot of the cluster's first document.
#[derive(Debug, Default, Clone)]
pub struct Clusters {
    of: Column<u32>,
}

impl Clusters {
    /// Record the cluster of a new slot (`slot` must be the next one): the best match's
    /// cluster, or its own. Returns the cluster.
    pub fn assign(&mut self, slot: u32, best: Option<u32>) -> u32 {
        let c = best.and_then(|b| self.of.get(b as usize)).unwrap_or(slot);
        self.of.push(c);
        c
    }

    /// Cluster of a slot.
    pub fn of(&self, slot: u32) -> Option<u32> {
        self.of.get(slot as usize)
    }

    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        self.of.memory_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_assignment() {
        let mut c = Clusters::default();
        assert_eq!(c.assign(0, None), 0);
        assert_eq!(c.assign(1, Some(0)), 0);
        assert_eq!(c.assign(2, None), 2);
        // Joining a member joins its cluster, not the member's own.
        assert_eq!(c.assign(3, Some(1)), 0);
        assert_eq!(c.of(3), Some(0));
    }
}
