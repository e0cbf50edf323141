//! A store that keeps everything in process memory: same semantics as the embedded store,
//! nothing survives the process.

use std::collections::BTreeMap;

use parking_lot::RwLock;

use super::{Op, PendingWrite, Store, Table, Visitor};
use crate::Result;

type Records = BTreeMap<Vec<u8>, Vec<u8>>;

/// In-memory [`Store`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// (namespace, table) → records. A read-write lock: scans at start and reads are shared,
    /// writes are short and exclusive.
    tables: RwLock<BTreeMap<(String, Table), Records>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    fn submit(&self, namespace: &str, ops: Vec<Op>) -> Result<PendingWrite> {
        let mut tables = self.tables.write();
        for op in ops {
            match op {
                Op::Put { table, key, value } => {
                    tables
                        .entry((namespace.to_string(), table))
                        .or_default()
                        .insert(key, value);
                }
                Op::Delete { table, key } => {
                    if let Some(records) = tables.get_mut(&(namespace.to_string(), table)) {
                        records.remove(&key);
                    }
                }
            }
        }
        Ok(PendingWrite::done())
    }

    fn get(&self, namespace: &str, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .tables
            .read()
            .get(&(namespace.to_string(), table))
            .and_then(|records| records.get(key).cloned()))
    }

    fn scan(&self, namespace: &str, table: Table, visit: &mut Visitor<'_>) -> Result<()> {
        let tables = self.tables.read();
        if let Some(records) = tables.get(&(namespace.to_string(), table)) {
            for (key, value) in records {
                visit(key, value)?;
            }
        }
        Ok(())
    }

    fn namespaces(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .tables
            .read()
            .keys()
            .map(|(ns, _)| ns.clone())
            .collect();
        names.dedup();
        Ok(names)
    }

    fn drop_namespace(&self, namespace: &str) -> Result<bool> {
        let mut tables = self.tables.write();
        let mut existed = false;
        for table in Table::ALL {
            existed |= tables.remove(&(namespace.to_string(), table)).is_some();
        }
        Ok(existed)
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}
