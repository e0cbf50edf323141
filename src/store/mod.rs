//! Durable state behind one trait.
//!
//! The engine keeps its index in memory and writes every change through a [`Store`]; at start it
//! rebuilds the index by scanning the store. A store holds, per namespace, two tables of opaque
//! records keyed by bytes ([`Table`]): the records' encoding belongs to the engine, the framing
//! (format header, checksums, durability) to the store.
//!
//! Implementations, in the order a user meets them:
//! - [`embedded::EmbeddedStore`]: the default, one file under `--data-dir`, on redb, with group
//!   commit so that concurrent acknowledged writes share one fsync.
//! - [`memory::MemoryStore`]: nothing survives the process; for tests, benchmarks and `dedup`.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::Result;

pub mod embedded;
pub mod memory;
pub mod record;

/// Version of the on-disk format written by this build. Bump it when the framing or the
/// engine's record encoding changes incompatibly; keep a fixture of every released version.
pub const FORMAT_VERSION: u32 = 1;

/// Identifies the files as neardup's.
pub const MAGIC: &[u8; 8] = b"NEARDUP\x01";

/// Name of the feature-hash algorithm whose outputs the stored sketches hold.
pub const FEATURE_HASH_ALGORITHM: &str = "xxh3-64";

/// The tables every namespace has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One record per accepted document (id → sketches, cluster, timestamps).
    Documents,
    /// Namespace-wide state: settings, document frequencies, learned boilerplate lines.
    Meta,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 2] = [Table::Documents, Table::Meta];

    fn prefix(self) -> &'static str {
        match self {
            Table::Documents => "docs:",
            Table::Meta => "meta:",
        }
    }
}

/// One change to durable state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace a record.
    Put {
        /// Which table.
        table: Table,
        /// The record's key.
        key: Vec<u8>,
        /// The record.
        value: Vec<u8>,
    },
    /// Remove a record (no error when absent).
    Delete {
        /// Which table.
        table: Table,
        /// The record's key.
        key: Vec<u8>,
    },
}

/// When an acknowledged write reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Every write is on disk before [`Store::apply`] returns. Concurrent writers are batched
    /// into one transaction and one sync (group commit). The default.
    #[default]
    Sync,
    /// Writes are committed at once but synced at most this long after; a crash of the machine
    /// (not of the process) may lose that last interval.
    Interval(Duration),
    /// Never synced by us: the operating system writes when it likes. Benchmarks and bulk loads.
    Off,
}

/// Called with each record's key and value during a scan; an error stops the scan.
pub type Visitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;

/// A write handed to the store and not yet known to be durable. Writes become durable in the
/// order they were submitted. Waited for either by blocking ([`wait`](Self::wait)) or from an
/// async task ([`wait_async`](Self::wait_async)), so a server can hand the wait back to its
/// runtime instead of keeping a thread (and a permit) blocked for the sync.
#[must_use = "a write is only acknowledged once `wait` returns Ok"]
#[derive(Debug)]
pub struct PendingWrite(Option<Arc<Completion>>);

/// Where the store puts the result of one submitted write.
#[derive(Debug, Default)]
struct Completion {
    result: Mutex<Option<Result<()>>>,
    /// Wakes a blocked [`PendingWrite::wait`].
    ready: Condvar,
    /// Wakes a [`PendingWrite::wait_async`] (one waiter: a permit is kept if it is not yet
    /// waiting, so the wake-up cannot be lost).
    notify: tokio::sync::Notify,
}

impl Completion {
    fn complete(&self, result: Result<()>) {
        *self.result.lock() = Some(result);
        self.ready.notify_all();
        self.notify.notify_one();
    }
}

/// The store's end of a [`PendingWrite`]: answers it once. Dropped unanswered (the writer
/// stopped), it answers that the store writer stopped, so no waiter waits forever.
#[derive(Debug)]
pub struct WriteAnswer(Option<Arc<Completion>>);

impl WriteAnswer {
    /// Answer the write: `Ok` once it is durable according to the store's [`Durability`].
    pub fn send(mut self, result: Result<()>) {
        if let Some(c) = self.0.take() {
            c.complete(result);
        }
    }
}

impl Drop for WriteAnswer {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.complete(Err(crate::Error::Unavailable(
                "store writer stopped".into(),
            )));
        }
    }
}

impl PendingWrite {
    /// A write that is already durable (or failed synchronously).
    pub fn done() -> Self {
        PendingWrite(None)
    }

    /// A write to be answered through the returned [`WriteAnswer`] (for store
    /// implementations).
    pub fn channel() -> (WriteAnswer, PendingWrite) {
        let completion = Arc::new(Completion::default());
        (
            WriteAnswer(Some(Arc::clone(&completion))),
            PendingWrite(Some(completion)),
        )
    }

    /// Block until the write is durable according to the store's [`Durability`].
    pub fn wait(self) -> Result<()> {
        let Some(completion) = self.0 else {
            return Ok(());
        };
        let mut slot = completion.result.lock();
        loop {
            if let Some(result) = slot.take() {
                return result;
            }
            completion.ready.wait(&mut slot);
        }
    }

    /// [`wait`](Self::wait) without blocking a thread: for async callers.
    pub async fn wait_async(self) -> Result<()> {
        let Some(completion) = self.0 else {
            return Ok(());
        };
        loop {
            let ready = completion.result.lock().take();
            if let Some(result) = ready {
                return result;
            }
            completion.notify.notified().await;
        }
    }
}

/// Durable per-namespace state. One instance is shared by every request (`Send + Sync`).
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Queue `ops` for `namespace`, to be applied atomically and in submission order. Callers
    /// that must order writes (check-and-insert) submit under their lock and wait after
    /// releasing it, so that concurrent writers share one sync (group commit).
    fn submit(&self, namespace: &str, ops: Vec<Op>) -> Result<PendingWrite>;

    /// Apply `ops` to `namespace` atomically; when this returns `Ok`, they are durable according
    /// to the store's [`Durability`].
    fn apply(&self, namespace: &str, ops: Vec<Op>) -> Result<()> {
        self.submit(namespace, ops)?.wait()
    }

    /// Read one record.
    fn get(&self, namespace: &str, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Visit every record of one table of a namespace, in key order.
    fn scan(&self, namespace: &str, table: Table, visit: &mut Visitor<'_>) -> Result<()>;

    /// Every namespace that holds at least one table, sorted.
    fn namespaces(&self) -> Result<Vec<String>>;

    /// Remove a namespace and all its records; true when it existed.
    fn drop_namespace(&self, namespace: &str) -> Result<bool>;

    /// Make everything applied so far durable, whatever the policy (shutdown, tests).
    fn flush(&self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    //! One conformance suite, run against every implementation.

    use super::*;

    fn put(table: Table, key: &str, value: &str) -> Op {
        Op::Put {
            table,
            key: key.as_bytes().to_vec(),
            value: value.as_bytes().to_vec(),
        }
    }

    fn keys(store: &dyn Store, ns: &str, table: Table) -> Vec<String> {
        let mut out = Vec::new();
        store
            .scan(ns, table, &mut |k, v| {
                out.push(format!(
                    "{}={}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                ));
                Ok(())
            })
            .unwrap();
        out
    }

    fn conformance(store: &dyn Store) {
        assert!(store.namespaces().unwrap().is_empty());
        store
            .apply(
                "feed-a",
                vec![
                    put(Table::Documents, "b", "2"),
                    put(Table::Documents, "a", "1"),
                    put(Table::Meta, "df", "x"),
                ],
            )
            .unwrap();
        store
            .apply("feed-b", vec![put(Table::Documents, "a", "other")])
            .unwrap();
        assert_eq!(keys(store, "feed-a", Table::Documents), ["a=1", "b=2"]);
        assert_eq!(keys(store, "feed-b", Table::Documents), ["a=other"]);
        assert_eq!(
            store.get("feed-a", Table::Meta, b"df").unwrap(),
            Some(b"x".to_vec())
        );
        assert_eq!(store.get("feed-a", Table::Meta, b"nope").unwrap(), None);
        assert_eq!(store.get("nowhere", Table::Meta, b"df").unwrap(), None);
        store
            .apply(
                "feed-a",
                vec![
                    Op::Delete {
                        table: Table::Documents,
                        key: b"a".to_vec(),
                    },
                    put(Table::Documents, "b", "3"),
                ],
            )
            .unwrap();
        assert_eq!(keys(store, "feed-a", Table::Documents), ["b=3"]);
        assert_eq!(store.namespaces().unwrap(), ["feed-a", "feed-b"]);
        assert!(store.drop_namespace("feed-b").unwrap());
        assert!(!store.drop_namespace("feed-b").unwrap());
        assert_eq!(store.namespaces().unwrap(), ["feed-a"]);
        assert!(keys(store, "feed-b", Table::Documents).is_empty());
        // Writes submitted one after the other apply in that order, whenever they are awaited.
        let first = store
            .submit("feed-a", vec![put(Table::Meta, "order", "first")])
            .unwrap();
        let second = store
            .submit("feed-a", vec![put(Table::Meta, "order", "second")])
            .unwrap();
        second.wait().unwrap();
        first.wait().unwrap();
        assert_eq!(
            store.get("feed-a", Table::Meta, b"order").unwrap(),
            Some(b"second".to_vec())
        );
        store.flush().unwrap();
    }

    #[test]
    fn memory_store_conforms() {
        conformance(&memory::MemoryStore::new());
    }

    #[test]
    fn embedded_store_conforms_under_every_durability() {
        for durability in [
            Durability::Sync,
            Durability::Interval(Duration::from_millis(5)),
            Durability::Off,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let store = embedded::EmbeddedStore::open(dir.path(), durability).unwrap();
            conformance(&store);
        }
    }
}
