//! The default store: one redb file under the data directory, with group commit.
//!
//! Why redb: a pure-Rust, crash-safe B-tree with ACID transactions and checksummed commits,
//! well kept, no C toolchain. A torn last transaction is rolled back by redb when the file is
//! opened again, which is the "corrupt tail is dropped" rule of our design; every record also
//! carries our own checksum, so damage anywhere else is reported as an error naming the file.
//!
//! Group commit: callers hand their batch to one writer thread and wait; the writer drains every
//! batch queued meanwhile into one transaction and one sync, then answers them all. Under load
//! this turns N fsyncs into one, which is what keeps durable writes close to non-durable ones.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use redb::{
    Database, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition, TableError,
    TableHandle,
};
use xxhash_rust::xxh3::xxh3_64;

use super::{
    Durability, Op, PendingWrite, Store, Table, Visitor, WriteAnswer, FEATURE_HASH_ALGORITHM,
    FORMAT_VERSION, MAGIC,
};
use crate::pipeline::FEATURE_HASH_SEED;
use crate::{Error, Result};

/// File name of the database inside the data directory.
pub const FILE_NAME: &str = "neardup.redb";

const FORMAT_TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("neardup:format");
const CHECKSUM_LEN: usize = 8;

/// [`Store`] on one redb file with group commit.
pub struct EmbeddedStore {
    path: PathBuf,
    db: Arc<Database>,
    queue: Arc<Queue>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A batch waiting for the writer, and where to send its result.
struct Pending {
    namespace: String,
    ops: Vec<Op>,
    /// Sync this commit whatever the policy (flush).
    force_sync: bool,
    done: WriteAnswer,
}

/// The writer's inbox. A plain mutex + condvar: the critical sections are a push or a drain.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    wake: Condvar,
    /// Commits the writer made durable with a sync.
    syncs: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct QueueState {
    pending: VecDeque<Pending>,
    shutdown: bool,
}

fn store_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Store {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn table_name(namespace: &str, table: Table) -> String {
    format!("{}{namespace}", table.prefix())
}

/// Frame a record: checksum of key and value, then the value.
fn seal(key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CHECKSUM_LEN + value.len());
    out.extend_from_slice(&record_checksum(key, value).to_le_bytes());
    out.extend_from_slice(value);
    out
}

fn record_checksum(key: &[u8], value: &[u8]) -> u64 {
    let mut buf = Vec::with_capacity(key.len() + value.len() + 8);
    buf.extend_from_slice(&(key.len() as u64).to_le_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(value);
    xxh3_64(&buf)
}

/// Check a framed record and return its value.
fn unseal<'a>(path: &Path, table: &str, key: &[u8], framed: &'a [u8]) -> Result<&'a [u8]> {
    if framed.len() < CHECKSUM_LEN {
        return Err(store_error(
            path,
            format!("record {key:?} of table {table} is truncated"),
        ));
    }
    let (sum, value) = framed.split_at(CHECKSUM_LEN);
    let mut expected = [0u8; CHECKSUM_LEN];
    expected.copy_from_slice(sum);
    if u64::from_le_bytes(expected) != record_checksum(key, value) {
        return Err(store_error(
            path,
            format!("checksum mismatch in record {key:?} of table {table}"),
        ));
    }
    Ok(value)
}

impl EmbeddedStore {
    /// Open (or create) the store in `dir`, checking its format header.
    pub fn open(dir: &Path, durability: Durability) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| store_error(dir, e))?;
        let path = dir.join(FILE_NAME);
        let repaired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let db = {
            let repaired = repaired.clone();
            Database::builder()
                .set_repair_callback(move |_| {
                    repaired.store(true, std::sync::atomic::Ordering::Relaxed);
                })
                .create(&path)
                .map_err(|e| store_error(&path, e))?
        };
        if repaired.load(std::sync::atomic::Ordering::Relaxed) {
            // The process died mid-commit: redb rolled the unfinished transaction back. Nothing
            // acknowledged is lost (a write is acknowledged only once its commit completed).
            tracing::warn!(
                path = %path.display(),
                "store was not closed cleanly: its unfinished last transaction was dropped"
            );
        }
        check_or_write_format(&db, &path)?;
        let db = Arc::new(db);
        let queue = Arc::new(Queue::default());
        let writer = {
            let (db, queue, path) = (db.clone(), queue.clone(), path.clone());
            std::thread::Builder::new()
                .name("neardup-store-writer".into())
                .spawn(move || writer_loop(&db, &queue, &path, durability))
                .map_err(|e| store_error(dir, e))?
        };
        Ok(EmbeddedStore {
            path,
            db,
            queue,
            writer: Some(writer),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits made durable with a sync so far: with group commit, fewer than the writes
    /// acknowledged (for metrics and tests).
    pub fn synced_commits(&self) -> u64 {
        self.queue.syncs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Run `read` on one table of a namespace in a read transaction; `None` when the table does
    /// not exist (nothing was ever written to it).
    fn read_table<T>(
        &self,
        namespace: &str,
        table: Table,
        read: impl FnOnce(&str, &ReadOnlyTable<&'static [u8], &'static [u8]>) -> Result<T>,
    ) -> Result<Option<T>> {
        let name = table_name(namespace, table);
        let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
        let txn = self
            .db
            .begin_read()
            .map_err(|e| store_error(&self.path, e))?;
        match txn.open_table(def) {
            Ok(t) => read(&name, &t).map(Some),
            Err(TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(store_error(&self.path, e)),
        }
    }

    fn enqueue(&self, namespace: &str, ops: Vec<Op>, force_sync: bool) -> Result<PendingWrite> {
        let (done, answer) = PendingWrite::channel();
        {
            let mut state = self.queue.state.lock();
            if state.shutdown {
                return Err(Error::Unavailable("store is closing".into()));
            }
            state.pending.push_back(Pending {
                namespace: namespace.to_string(),
                ops,
                force_sync,
                done,
            });
        }
        self.queue.wake.notify_one();
        Ok(answer)
    }
}

/// Write the format header into a new file, or check the one an existing file has.
fn check_or_write_format(db: &Database, path: &Path) -> Result<()> {
    let seed = FEATURE_HASH_SEED.to_le_bytes();
    let version = FORMAT_VERSION.to_le_bytes();
    let expected: [(&str, &[u8]); 4] = [
        ("magic", MAGIC),
        ("format_version", &version),
        ("feature_hash", FEATURE_HASH_ALGORITHM.as_bytes()),
        ("feature_seed", &seed),
    ];
    let read = db.begin_read().map_err(|e| store_error(path, e))?;
    match read.open_table(FORMAT_TABLE) {
        Ok(table) => {
            for (key, want) in expected {
                let got = table.get(key).map_err(|e| store_error(path, e))?;
                let got = got.as_ref().map(|g| g.value().to_vec());
                if got.as_deref() != Some(want) {
                    return Err(store_error(
                        path,
                        format!(
                            "format header field {key} is {got:?}, this build needs {want:?} \
                             (format version {FORMAT_VERSION}, {FEATURE_HASH_ALGORITHM} seed \
                             {FEATURE_HASH_SEED:#x})"
                        ),
                    ));
                }
            }
            Ok(())
        }
        Err(TableError::TableDoesNotExist(_)) => {
            drop(read);
            let write = db.begin_write().map_err(|e| store_error(path, e))?;
            {
                let mut table = write
                    .open_table(FORMAT_TABLE)
                    .map_err(|e| store_error(path, e))?;
                for (key, value) in expected {
                    table.insert(key, value).map_err(|e| store_error(path, e))?;
                }
            }
            write.commit().map_err(|e| store_error(path, e))
        }
        Err(e) => Err(store_error(path, e)),
    }
}

fn writer_loop(db: &Database, queue: &Queue, path: &Path, durability: Durability) {
    let mut unsynced = false;
    let mut last_sync = Instant::now();
    loop {
        let (batch, shutdown) = {
            let mut state = queue.state.lock();
            while state.pending.is_empty() && !state.shutdown {
                match durability {
                    Durability::Interval(every) if unsynced => {
                        let wait = every.saturating_sub(last_sync.elapsed());
                        if queue.wake.wait_for(&mut state, wait).timed_out() {
                            break;
                        }
                    }
                    _ => queue.wake.wait(&mut state),
                }
            }
            (std::mem::take(&mut state.pending), state.shutdown)
        };
        let force = batch.iter().any(|p| p.force_sync) || shutdown;
        let sync = match durability {
            Durability::Sync => true,
            Durability::Interval(every) => force || last_sync.elapsed() >= every,
            Durability::Off => force,
        };
        if batch.is_empty() && !(sync && unsynced) {
            if shutdown {
                return;
            }
            continue;
        }
        let result = commit_batch(db, path, &batch, sync);
        if result.is_ok() {
            if sync {
                queue
                    .syncs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                unsynced = false;
                last_sync = Instant::now();
            } else {
                unsynced = true;
            }
        }
        for pending in batch {
            let answer = match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(store_error(path, e)),
            };
            pending.done.send(answer);
        }
        if shutdown {
            return;
        }
    }
}

fn commit_batch(db: &Database, path: &Path, batch: &VecDeque<Pending>, sync: bool) -> Result<()> {
    let mut write = db.begin_write().map_err(|e| store_error(path, e))?;
    let level = if sync {
        redb::Durability::Immediate
    } else {
        redb::Durability::None
    };
    write
        .set_durability(level)
        .map_err(|e| store_error(path, e))?;
    for pending in batch {
        for op in &pending.ops {
            match op {
                Op::Put { table, key, value } => {
                    let name = table_name(&pending.namespace, *table);
                    let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
                    let mut t = write.open_table(def).map_err(|e| store_error(path, e))?;
                    t.insert(key.as_slice(), seal(key, value).as_slice())
                        .map_err(|e| store_error(path, e))?;
                }
                Op::Delete { table, key } => {
                    let name = table_name(&pending.namespace, *table);
                    let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
                    let mut t = write.open_table(def).map_err(|e| store_error(path, e))?;
                    t.remove(key.as_slice()).map_err(|e| store_error(path, e))?;
                }
            }
        }
    }
    write.commit().map_err(|e| store_error(path, e))
}

impl Store for EmbeddedStore {
    fn submit(&self, namespace: &str, ops: Vec<Op>) -> Result<PendingWrite> {
        if ops.is_empty() {
            return Ok(PendingWrite::done());
        }
        self.enqueue(namespace, ops, false)
    }

    fn get(&self, namespace: &str, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.read_table(namespace, table, |name, t| {
            match t.get(key).map_err(|e| store_error(&self.path, e))? {
                Some(framed) => Ok(Some(
                    unseal(&self.path, name, key, framed.value())?.to_vec(),
                )),
                None => Ok(None),
            }
        })
        .map(Option::flatten)
    }

    fn scan(&self, namespace: &str, table: Table, visit: &mut Visitor<'_>) -> Result<()> {
        self.read_table(namespace, table, |name, t| {
            for entry in t.iter().map_err(|e| store_error(&self.path, e))? {
                let (key, framed) = entry.map_err(|e| store_error(&self.path, e))?;
                let value = unseal(&self.path, name, key.value(), framed.value())?;
                visit(key.value(), value)?;
            }
            Ok(())
        })
        .map(|_| ())
    }

    fn namespaces(&self) -> Result<Vec<String>> {
        let read = self
            .db
            .begin_read()
            .map_err(|e| store_error(&self.path, e))?;
        let mut names: Vec<String> = read
            .list_tables()
            .map_err(|e| store_error(&self.path, e))?
            .filter_map(|handle| {
                let name = handle.name().to_string();
                Table::ALL
                    .iter()
                    .find_map(|t| name.strip_prefix(t.prefix()).map(str::to_string))
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn drop_namespace(&self, namespace: &str) -> Result<bool> {
        // Runs outside the writer: redb serializes write transactions itself.
        let write = self
            .db
            .begin_write()
            .map_err(|e| store_error(&self.path, e))?;
        let mut existed = false;
        for table in Table::ALL {
            let name = table_name(namespace, table);
            let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
            existed |= write
                .delete_table(def)
                .map_err(|e| store_error(&self.path, e))?;
        }
        write.commit().map_err(|e| store_error(&self.path, e))?;
        Ok(existed)
    }

    fn flush(&self) -> Result<()> {
        self.enqueue("", Vec::new(), true)?.wait()
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.queue.state.lock().shutdown = true;
        self.queue.wake.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn doc(key: &str) -> Op {
        Op::Put {
            table: Table::Documents,
            key: key.as_bytes().to_vec(),
            value: vec![7; 40],
        }
    }

    fn count(store: &EmbeddedStore, ns: &str) -> usize {
        let mut n = 0;
        store
            .scan(ns, Table::Documents, &mut |_, _| {
                n += 1;
                Ok(())
            })
            .unwrap();
        n
    }

    #[test]
    fn records_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
            store.apply("ns", vec![doc("a"), doc("b")]).unwrap();
        }
        let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
        assert_eq!(count(&store, "ns"), 2);
        assert_eq!(
            store.get("ns", Table::Documents, b"a").unwrap(),
            Some(vec![7; 40])
        );
    }

    #[test]
    fn concurrent_writers_all_land_through_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(dir.path(), Durability::Sync).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        store.apply("ns", vec![doc(&format!("{t}-{i}"))]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count(&store, "ns"), 400);
    }

    #[test]
    fn a_file_from_another_hash_seed_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        {
            let db = Database::create(&path).unwrap();
            let write = db.begin_write().unwrap();
            {
                let mut t = write.open_table(FORMAT_TABLE).unwrap();
                t.insert("magic", MAGIC.as_slice()).unwrap();
                t.insert("format_version", FORMAT_VERSION.to_le_bytes().as_slice())
                    .unwrap();
                t.insert("feature_hash", FEATURE_HASH_ALGORITHM.as_bytes())
                    .unwrap();
                t.insert("feature_seed", 42u64.to_le_bytes().as_slice())
                    .unwrap();
            }
            write.commit().unwrap();
        }
        let err = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(FILE_NAME), "{message}");
        assert!(message.contains("feature_seed"), "{message}");
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
            store.apply("ns", vec![doc("a")]).unwrap();
        }
        {
            // Flip a byte of the stored value behind the store's back.
            let db = Database::create(dir.path().join(FILE_NAME)).unwrap();
            let write = db.begin_write().unwrap();
            {
                let name = table_name("ns", Table::Documents);
                let def: TableDefinition<&[u8], &[u8]> = TableDefinition::new(&name);
                let mut t = write.open_table(def).unwrap();
                let mut framed = t.get(b"a".as_slice()).unwrap().unwrap().value().to_vec();
                let last = framed.len() - 1;
                framed[last] ^= 0xff;
                t.insert(b"a".as_slice(), framed.as_slice()).unwrap();
            }
            write.commit().unwrap();
        }
        let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
        let err = store.get("ns", Table::Documents, b"a").unwrap_err();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");
        let scan = store.scan("ns", Table::Documents, &mut |_, _| Ok(()));
        assert!(scan.is_err());
    }

    #[test]
    fn interval_durability_syncs_on_flush_not_on_each_write() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store =
                EmbeddedStore::open(dir.path(), Durability::Interval(Duration::from_secs(3600)))
                    .unwrap();
            store.apply("ns", vec![doc("a")]).unwrap();
            assert_eq!(
                store.synced_commits(),
                0,
                "a write synced before its interval"
            );
            store.flush().unwrap();
            assert_eq!(store.synced_commits(), 1, "flush did not sync");
        }
        let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
        assert_eq!(count(&store, "ns"), 1);
    }
}
