//! Store bench: acknowledged writes per second with durability on (group commit) and off, at
//! several writer concurrencies, and the time to scan a store of many records at start-up.
//!
//! `cargo bench --bench store -- [--records N] [--seconds S]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neardup::store::embedded::EmbeddedStore;
use neardup::store::{Durability, Op, Store, Table};

/// Size of a typical document record (sketch + cluster + timestamps).
const RECORD_BYTES: usize = 320;

fn record(i: u64) -> Op {
    Op::Put {
        table: Table::Documents,
        key: format!("doc-{i:010}").into_bytes(),
        value: vec![(i % 251) as u8; RECORD_BYTES],
    }
}

/// Writes per second with `writers` threads each writing one record per call.
fn throughput(durability: Durability, writers: usize, seconds: f64) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path(), durability).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (store, stop, next) = (store.clone(), stop.clone(), next.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    store.apply("bench", vec![record(i)]).unwrap();
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let written = next.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    // The bench checks its own result: everything acknowledged is there.
    assert_eq!(
        support::count_documents(store.as_ref(), "bench"),
        written,
        "acknowledged writes missing"
    );
    written as f64 / elapsed
}

fn main() {
    let seconds = support::arg("--seconds", 3) as f64;
    let records = support::arg("--records", 1_000_000);
    println!("writes/s of one {RECORD_BYTES}-byte record per call, {seconds} s per cell");
    println!(
        "{:>11} {:>12} {:>12} {:>8}",
        "writers", "sync", "off", "sync/off"
    );
    for writers in [1usize, 16, 64] {
        let on = throughput(Durability::Sync, writers, seconds);
        let off = throughput(Durability::Off, writers, seconds);
        println!(
            "{writers:>11} {on:>12.0} {off:>12.0} {:>7.0}%",
            100.0 * on / off
        );
    }

    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path(), Durability::Off).unwrap();
        let batch = 10_000;
        for chunk in 0..records.div_ceil(batch) {
            let ops = (chunk * batch..((chunk + 1) * batch).min(records))
                .map(record)
                .collect();
            store.apply("bench", ops).unwrap();
        }
        store.flush().unwrap();
    }
    let start = Instant::now();
    let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
    let mut count = 0u64;
    store
        .scan("bench", Table::Documents, &mut |_, v| {
            count += v.len() as u64 / RECORD_BYTES as u64;
            Ok(())
        })
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(count, records);
    println!(
        "open + scan of {records} records: {:.2} s ({:.0} records/s)",
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64()
    );
}
