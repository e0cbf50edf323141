//! Durable state bench:
//! 1. sustained `Engine::check` throughput at concurrency 64 on ~3 KB news documents with
//!    durability on (`sync`, group commit) side by side with durability off, same run, same
//!    documents;
//! 2. start-up time (open the store + replay) with 1 M documents in it.
//!
//! `cargo bench --bench durability -- [--seconds S] [--records N] [--writers W]`
//! Documents come from `../shared/data/neardup/dev.jsonl` (evaluation data, read at bench time).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support.rs"]
mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neardup::document::Document;
use neardup::engine::{CheckOptions, Engine, EngineConfig};
use neardup::store::embedded::EmbeddedStore;
use neardup::store::record::{doc_key, DocRecord};
use neardup::store::{Durability, Op, Store, Table};

/// News texts cut to about 3 KB.
fn texts() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/neardup/dev.jsonl"
    );
    let data = std::fs::read_to_string(path).expect("dev.jsonl beside the checkout");
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .map(|t| {
            let mut end = t.len().min(3000);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            t[..end].to_string()
        })
        .collect()
}

/// Checks per second with `writers` threads for `seconds`, and how many were flagged.
fn throughput(
    durability: Durability,
    texts: &Arc<Vec<String>>,
    writers: usize,
    seconds: f64,
) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path(), durability).unwrap());
    let engine = Engine::open(EngineConfig::default(), store).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let flagged = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (engine, stop, next, flagged, texts) = (
                engine.clone(),
                stop.clone(),
                next.clone(),
                flagged.clone(),
                texts.clone(),
            );
            std::thread::spawn(move || {
                let opts = CheckOptions::default();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let text = &texts[i as usize % texts.len()];
                    let out = engine
                        .check(
                            "bench",
                            Document::text(format!("d{i}"), text.as_str()),
                            &opts,
                        )
                        .unwrap();
                    if out.duplicate_of.is_some() {
                        flagged.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let done = next.load(Ordering::Relaxed);
    let rate = done as f64 / start.elapsed().as_secs_f64();
    // The bench checks its result: every acknowledged document is in the store.
    drop(engine);
    let store = EmbeddedStore::open(dir.path(), Durability::Sync).unwrap();
    assert_eq!(
        support::count_documents(&store, "bench"),
        done,
        "acknowledged checks missing from the store"
    );
    (rate, flagged.load(Ordering::Relaxed))
}

/// A record shaped like a real one (3 KB document): 160-entry sketch, 16 band keys, founders
/// carry ~250 token hashes.
fn synthetic_record(i: u64) -> DocRecord {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let founder = i % 3 != 2;
    DocRecord {
        id: format!("doc-{i:09}"),
        time: 1_700_000_000 + i as i64,
        alive: true,
        exact: next(),
        simhash: next(),
        band_keys: (0..16).map(|_| next()).collect(),
        sketch: (0..160).map(|_| next() as u32).collect(),
        numbers: (0..4).map(|_| next() % 10_000).collect(),
        tokens: if founder {
            (0..250).map(|_| next()).collect()
        } else {
            Vec::new()
        },
        best: (!founder).then(|| format!("doc-{:09}", i - 1)),
        cluster_id: format!("doc-{:09}", if founder { i } else { i - 1 }),
        source: None,
        line_keys: (0..20).map(|_| next()).collect(),
        bytes: 3000,
    }
}

fn main() {
    let seconds = support::arg("--seconds", 5) as f64;
    let records = support::arg("--records", 1_000_000);
    let writers = support::arg("--writers", 64) as usize;
    let texts = Arc::new(texts());

    println!("Engine::check on ~3 KB news documents, {writers} threads, {seconds} s each");
    let (on, on_flagged) = throughput(Durability::Sync, &texts, writers, seconds);
    let (off, off_flagged) = throughput(Durability::Off, &texts, writers, seconds);
    println!("  durability sync: {on:>8.0} checks/s ({on_flagged} flagged)");
    println!("  durability off : {off:>8.0} checks/s ({off_flagged} flagged)");
    println!("  sync / off     : {:>7.0}%", 100.0 * on / off);
    assert!(
        on_flagged > 0 && off_flagged > 0,
        "repeated texts must be flagged"
    );

    let dir = tempfile::tempdir().unwrap();
    {
        let store = EmbeddedStore::open(dir.path(), Durability::Off).unwrap();
        let batch = 20_000u64;
        for chunk in 0..records.div_ceil(batch) {
            let ops = (chunk * batch..((chunk + 1) * batch).min(records))
                .map(|i| Op::Put {
                    table: Table::Documents,
                    key: doc_key(i),
                    value: synthetic_record(i).encode().unwrap(),
                })
                .collect();
            store.apply("bench", ops).unwrap();
        }
        store.flush().unwrap();
    }
    let size = std::fs::metadata(dir.path().join(neardup::store::embedded::FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    let start = Instant::now();
    let store = Arc::new(EmbeddedStore::open(dir.path(), Durability::Sync).unwrap());
    let engine = Engine::open(EngineConfig::default(), store).unwrap();
    let elapsed = start.elapsed();
    let stats = &engine.stats(Some("bench"))[0];
    assert_eq!(stats.documents, records);
    println!(
        "start-up with {records} documents ({:.0} MB store): {:.2} s ({:.0} documents/s)",
        size as f64 / 1e6,
        elapsed.as_secs_f64(),
        records as f64 / elapsed.as_secs_f64()
    );
}
