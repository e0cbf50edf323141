//! The parallel driver: one thread frames the inputs, workers decode and prepare batches on
//! every core ([`super::Preparer::prepare`]: stripping, features, language, snippet), and the
//! calling thread commits them into the [`Auditor`] strictly in input order, preparing batches
//! itself whenever none is ready to commit (so it is one of the workers, and no core idles
//! while it waits: on 2 cores, 1 worker + the committing thread audit ~10 % faster than 2
//! workers + a committing thread that only waits).
//!
//! At most [`RunOptions::window`] batches are in flight (a token is taken per batch and given
//! back when the batch is consumed in order), so memory stays bounded even when one batch is
//! slow, and no stage can wait on a full channel that nobody drains.
//!
//! The committing thread is the serial part of the run, so it frees nothing it need not: the
//! buffers of a committed batch go back to the worker that prepared it, which frees them
//! before its next batch (where they were allocated, which the allocator does fastest).

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, TryRecvError};
use std::sync::Arc;

use parking_lot::Mutex;

use super::source::{Decoded, DocumentSource, ItemError, Raw};
use super::{AuditRecord, Auditor, Leftover, PreparedDoc, Preparer};
use crate::Result;

/// Settings of [`run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Decoding and preparing threads besides the committing thread, which prepares too when
    /// it has nothing to commit; 0 = one fewer than the available cores (at least one).
    pub threads: usize,
    /// Items per batch.
    pub batch: usize,
    /// Batches in flight at most; 0 = four per thread. Few are needed to keep the threads
    /// busy, and the fewer documents wait between prepare and commit, the fewer have lines
    /// that the stripper learned meanwhile and must be stripped again at commit, on the
    /// serial thread (bench corpus, 2 threads: 32 × 8 instead of 128 × 16 in flight, a few
    /// percent less CPU).
    pub window: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: 0,
            batch: 32,
            window: 0,
        }
    }
}

/// Where the run is, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Documents pushed so far.
    pub documents: u64,
    /// Input items handled so far (documents, skipped and failed items).
    pub items: u64,
    /// Input bytes read up to the last handled item (compressed bytes for gzip inputs; the
    /// reader's buffering makes it run slightly ahead).
    pub bytes_read: u64,
    /// Total input bytes, when every input's size is known.
    pub total_bytes: Option<u64>,
}

type Framed = std::result::Result<Raw, ItemError>;
/// A decoded item, with documents already prepared.
enum Ready {
    Doc(PreparedDoc),
    Skip(&'static str),
    Failed(ItemError),
}

/// Audit every source in order: records go to `on_record` in input order, progress to
/// `on_progress` after each batch. Returns the first error of `on_record` (e.g. a full disk);
/// item errors are counted in the auditor's summary instead.
pub fn run(
    sources: Vec<Box<dyn DocumentSource>>,
    auditor: &mut Auditor,
    opts: &RunOptions,
    on_record: &mut dyn FnMut(&AuditRecord) -> Result<()>,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    } else {
        opts.threads
    };
    let window = if opts.window == 0 {
        4 * threads
    } else {
        opts.window
    };
    run_with_workers(
        sources,
        auditor,
        threads,
        opts.batch,
        window,
        on_record,
        on_progress,
    )
}

/// [`run`] with `threads` workers besides the committing thread (0: it prepares everything).
fn run_with_workers(
    sources: Vec<Box<dyn DocumentSource>>,
    auditor: &mut Auditor,
    threads: usize,
    batch: usize,
    window: usize,
    on_record: &mut dyn FnMut(&AuditRecord) -> Result<()>,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<()> {
    let batch_size = batch.max(1);
    let window = window.max(1);
    let total_bytes = sources.iter().map(|s| s.total_bytes()).sum::<Option<u64>>();

    // Batches carry their sequence number and the input bytes read when they were framed;
    // prepared ones also the worker that prepared them.
    let (work_tx, work_rx) = sync_channel::<(u64, u64, Vec<Framed>)>(window);
    let (done_tx, done_rx) = sync_channel::<(u64, u64, usize, Vec<Ready>)>(window);
    let (token_tx, token_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        // The channel has room for exactly `window` tokens.
        let _ = token_tx.send(());
    }
    let work_rx = Arc::new(Mutex::new(work_rx));

    std::thread::scope(|scope| -> Result<()> {
        // Owned by this closure, so an early return (an error from `on_record`) drops them
        // before the scope joins its threads: the reader then stops at its next token and the
        // workers at the closed channels, instead of all waiting forever.
        let (token_tx, done_rx) = (token_tx, done_rx);
        scope.spawn(move || read_all(sources, batch_size, &token_rx, &work_tx));
        // Per worker: the buffers of its committed batches, to free (at most `window`
        // batches' worth, as the tokens bound the batches in flight).
        let mut returns = Vec::with_capacity(threads);
        for worker in 0..threads {
            let work_rx = work_rx.clone();
            let done_tx = done_tx.clone();
            let preparer = auditor.preparer();
            let (return_tx, return_rx) = channel::<Vec<Leftover>>();
            returns.push(return_tx);
            scope.spawn(move || loop {
                while let Ok(spent) = return_rx.try_recv() {
                    drop(spent);
                }
                // Hold the lock only to take one batch.
                let next = work_rx.lock().recv();
                let Ok((seq, bytes, items)) = next else {
                    return;
                };
                let ready = prepare_batch(&preparer, items);
                if done_tx.send((seq, bytes, worker, ready)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);

        let mut pending: BTreeMap<u64, (u64, usize, Vec<Ready>)> = BTreeMap::new();
        let mut expected = 0u64;
        let mut progress = Progress {
            documents: 0,
            items: 0,
            bytes_read: 0,
            total_bytes,
        };
        // The committing thread prepares too when it has nothing to commit (a batch it
        // prepared has no worker to go back to, so it frees it itself): it would otherwise wait
        // for the workers about half the time, and the cores would idle meanwhile.
        let helper = auditor.preparer();
        loop {
            let (seq, bytes, worker, batch) = match done_rx.try_recv() {
                Ok(done) => done,
                Err(TryRecvError::Empty) => {
                    // A worker waiting for work holds the lock: then there is none to take.
                    let work = work_rx.try_lock().and_then(|rx| rx.try_recv().ok());
                    match work {
                        Some((seq, bytes, items)) => {
                            (seq, bytes, threads, prepare_batch(&helper, items))
                        }
                        None => match done_rx.recv() {
                            Ok(done) => done,
                            // The workers are gone: so is the work, unless there were none.
                            Err(_) => continue,
                        },
                    }
                }
                Err(TryRecvError::Disconnected) => {
                    // No worker (left): whatever work remains is this thread's.
                    let work = work_rx.lock().recv();
                    match work {
                        Ok((seq, bytes, items)) => {
                            (seq, bytes, threads, prepare_batch(&helper, items))
                        }
                        Err(_) => break,
                    }
                }
            };
            pending.insert(seq, (bytes, worker, batch));
            while let Some((bytes, worker, batch)) = pending.remove(&expected) {
                expected += 1;
                let mut spent = Vec::with_capacity(batch.len());
                for item in batch {
                    progress.items += 1;
                    match item {
                        Ready::Doc(doc) => {
                            progress.documents += 1;
                            let (record, leftover) = auditor.commit_returning(doc);
                            spent.extend(leftover);
                            if let Ok(record) = record {
                                on_record(&record)?;
                            }
                        }
                        Ready::Skip(reason) => auditor.record_skip(reason),
                        Ready::Failed(e) => auditor.record_error(&e.origin, &e.error),
                    }
                }
                // A worker that has finished no longer listens: then they are freed here.
                if let Some(back) = returns.get(worker) {
                    let _ = back.send(spent);
                }
                // Let the reader frame one more batch.
                let _ = token_tx.send(());
                progress.bytes_read = bytes;
                on_progress(&progress);
            }
        }
        Ok(())
    })
}

/// Decode a batch and prepare its documents.
fn prepare_batch(preparer: &Preparer, items: Vec<Framed>) -> Vec<Ready> {
    items
        .into_iter()
        .map(|item| match item.and_then(Raw::decode) {
            Ok(Decoded::Doc(doc)) => Ready::Doc(preparer.prepare(doc)),
            Ok(Decoded::Skip(reason)) => Ready::Skip(reason),
            Err(e) => Ready::Failed(e),
        })
        .collect()
}

/// Frame every source in order into numbered batches, one token per batch.
fn read_all(
    mut sources: Vec<Box<dyn DocumentSource>>,
    batch_size: usize,
    tokens: &Receiver<()>,
    work: &std::sync::mpsc::SyncSender<(u64, u64, Vec<Framed>)>,
) {
    let mut seq = 0u64;
    let mut finished_bytes = 0u64;
    let mut batch = Vec::with_capacity(batch_size);
    for source in sources.iter_mut() {
        while let Some(item) = source.next_raw() {
            batch.push(item);
            if batch.len() == batch_size {
                let bytes = finished_bytes + source.bytes_read();
                let batch = std::mem::take(&mut batch);
                if tokens.recv().is_err() || work.send((seq, bytes, batch)).is_err() {
                    return;
                }
                seq += 1;
            }
        }
        finished_bytes += source.bytes_read();
    }
    if !batch.is_empty() && tokens.recv().is_ok() {
        let _ = work.send((seq, finished_bytes, batch));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::audit::source::{JsonlSource, SourceOptions};
    use crate::audit::AuditConfig;

    fn corpus(docs: usize) -> Vec<Box<dyn DocumentSource>> {
        let mut jsonl = String::new();
        for i in 0..docs {
            jsonl.push_str(&format!(
                "{{\"id\":\"d{i}\",\"text\":\"Story number {i} tells of the council vote on the bridge.\"}}\n"
            ));
        }
        let reader = Box::new(std::io::Cursor::new(jsonl.into_bytes()));
        vec![Box::new(JsonlSource::from_reader(
            "mem",
            reader,
            &SourceOptions::default(),
        ))]
    }

    #[test]
    fn an_error_while_writing_records_ends_the_run_instead_of_hanging() {
        for (threads, window) in [(1, 1), (2, 0), (3, 2)] {
            let mut auditor = Auditor::new(AuditConfig::default());
            let opts = RunOptions {
                threads,
                batch: 4,
                window,
            };
            let mut seen = 0;
            let result = run(
                corpus(500),
                &mut auditor,
                &opts,
                &mut |_| {
                    seen += 1;
                    if seen == 7 {
                        Err(crate::Error::invalid("out", "disk full"))
                    } else {
                        Ok(())
                    }
                },
                &mut |_| {},
            );
            assert!(result.is_err());
            assert_eq!(seen, 7);
        }
    }

    #[test]
    fn the_committing_thread_prepares_batches_no_worker_has_taken() {
        // With no worker at all, the run finishes only if the committing thread prepares.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut auditor = Auditor::new(AuditConfig::default());
            let mut ids = Vec::new();
            let result = run_with_workers(
                corpus(100),
                &mut auditor,
                0,
                3,
                2,
                &mut |r| {
                    ids.push(r.id.clone());
                    Ok(())
                },
                &mut |_| {},
            );
            let _ = tx.send((result.is_ok(), ids, auditor.finish().documents));
        });
        let (ok, ids, documents) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the run waits for workers that do not exist");
        assert!(ok);
        let want: Vec<String> = (0..100).map(|i| format!("d{i}")).collect();
        assert_eq!(ids, want);
        assert_eq!(documents, 100);
    }

    #[test]
    fn every_document_is_committed_in_input_order_whatever_the_batching() {
        for (threads, batch, window) in [(1, 1, 1), (2, 3, 0), (4, 32, 2)] {
            let mut auditor = Auditor::new(AuditConfig::default());
            let mut ids = Vec::new();
            run(
                corpus(300),
                &mut auditor,
                &RunOptions {
                    threads,
                    batch,
                    window,
                },
                &mut |r| {
                    ids.push(r.id.clone());
                    Ok(())
                },
                &mut |_| {},
            )
            .unwrap();
            let want: Vec<String> = (0..300).map(|i| format!("d{i}")).collect();
            assert_eq!(ids, want);
            assert_eq!(auditor.finish().documents, 300);
        }
    }
}
