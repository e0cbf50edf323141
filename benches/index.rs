//! Index insert and query latency (p50/p99) and memory per document at 1 M documents, and at
//! 10 M with `NEARDUP_BENCH_10M=1` (needs ~10 GB of RAM and several minutes).
//!
//! Documents are synthetic features shaped like a 3 KB English news article (about 480 words):
//! 480 shingles, of which the 1-in-4 sample gives 120 keys before the sketch cap (the sketch
//! keeps the `sketch_cap` smallest, as [`neardup::pipeline::minhash::sketch`] does), and 250
//! distinct tokens (counts 1–3) for the simhash. `NEARDUP_BENCH_KEYS=70` gives the size of a
//! 3 KB Arabic article. Queries are near-duplicates of stored documents (a random 70 % of the
//! sampled keys kept, 30 % new, then capped), which must be found, and fresh documents, which
//! must not match. An insert is the full commit path: lookup (simhash, three tiers,
//! verification) then insert. Memory is the sum of the structures' capacities
//! ([`NamespaceIndex::memory_bytes`]) divided by the number of documents.
//!
//! `cargo bench --bench index -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use neardup::index::{IndexConfig, NamespaceIndex};
use neardup::pipeline::hash::mix64;
use neardup::pipeline::Features;

/// The allocator the `neardup` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }
}

/// A document: its full sampled key set (before the cap) and its features.
struct Doc {
    keys: Vec<u32>,
    features: Features,
}

fn keys_per_doc() -> usize {
    std::env::var("NEARDUP_BENCH_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

/// Features of a document whose sampled keys are `keys`, capped like the pipeline's sketch.
fn features(keys: &[u32], cap: usize, rng: &mut Rng) -> Features {
    let mut sketch = keys.to_vec();
    sketch.sort_unstable();
    sketch.dedup();
    sketch.truncate(cap);
    let mut tokens: Vec<u64> = (0..250).map(|_| rng.next() % 50_000).collect();
    tokens.sort_unstable();
    tokens.dedup();
    Features {
        exact: rng.next(),
        counts: tokens.iter().map(|t| 1 + (*t % 3) as u32).collect(),
        tokens,
        shingles: keys.len() as u32 * 4,
        signature: Vec::new(),
        sketch,
        numbers: Vec::new(),
    }
}

fn doc(rng: &mut Rng, cap: usize) -> Doc {
    let keys: Vec<u32> = (0..keys_per_doc()).map(|_| rng.next() as u32).collect();
    let features = features(&keys, cap, rng);
    Doc { keys, features }
}

/// A random 70 % of the sampled keys kept, the rest replaced by new ones.
fn near_copy(d: &Doc, cap: usize, rng: &mut Rng) -> Features {
    let mut keys: Vec<u32> = d
        .keys
        .iter()
        .copied()
        .filter(|_| rng.next() % 10 < 7)
        .collect();
    let new = d.keys.len() - keys.len();
    keys.extend((0..new).map(|_| rng.next() as u32));
    let mut f = features(&keys, cap, rng);
    f.tokens = d.features.tokens.clone();
    f.counts = d.features.counts.clone();
    f
}

fn pct(mut v: Vec<u64>, p: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() - 1) as f64 * p) as usize]
}

struct Built {
    index: NamespaceIndex,
    kept: Vec<Doc>,
    insert_ns: Vec<u64>,
}

fn build(n: usize) -> Built {
    let mut rng = Rng(42);
    let cfg = IndexConfig::default();
    let mut index = NamespaceIndex::new(cfg);
    let mut kept = Vec::new();
    let mut insert_ns = Vec::with_capacity(20_000);
    for i in 0..n {
        let d = doc(&mut rng, cfg.sketch_cap);
        let timed = i + 20_000 >= n;
        let t = Instant::now();
        let look = index.lookup(&d.features, 0, None);
        index
            .insert(&format!("d{i}"), &d.features, 0, &look)
            .expect("insert");
        if timed {
            insert_ns.push(t.elapsed().as_nanos() as u64);
        }
        if i % (n / 1000).max(1) == 0 {
            kept.push(d);
        }
    }
    Built {
        index,
        kept,
        insert_ns,
    }
}

fn report(n: usize, c: &mut Criterion) {
    let b = build(n);
    let mut rng = Rng(7);
    let cap = b.index.config().sketch_cap;
    let queries: Vec<Features> = b.kept.iter().map(|d| near_copy(d, cap, &mut rng)).collect();
    let fresh: Vec<Features> = (0..1000).map(|_| doc(&mut rng, cap).features).collect();
    let mut q_ns = Vec::new();
    for q in queries.iter().chain(&fresh).cycle().take(20_000) {
        let t = Instant::now();
        let l = b.index.lookup(q, 0, None);
        q_ns.push(t.elapsed().as_nanos() as u64);
        black_box(l);
    }
    // What is measured is correct: near copies found, fresh documents not matched.
    let found = queries
        .iter()
        .filter(|q| !b.index.lookup(q, 0, None).matches.is_empty())
        .count();
    assert!(
        found * 100 >= queries.len() * 95,
        "near copies found: {found}/{}",
        queries.len()
    );
    let false_hits = fresh
        .iter()
        .filter(|q| !b.index.lookup(q, 0, None).matches.is_empty())
        .count();
    assert_eq!(false_hits, 0);
    let mem = b.index.memory_bytes();
    let parts: Vec<String> = b
        .index
        .memory_breakdown()
        .iter()
        .map(|(k, v)| format!("{k} {:.0}", *v as f64 / n as f64))
        .collect();
    println!(
        "index/{n} ({} sampled keys/doc, sketch cap {cap}): insert p50 {:.1} µs p99 {:.1} µs | query p50 {:.1} µs p99 {:.1} µs | \
         memory {:.0} B/doc [{}] (+{} MB fixed df tables) | near copies found {found}/{}",
        keys_per_doc(),
        pct(b.insert_ns.clone(), 0.5) as f64 / 1e3,
        pct(b.insert_ns, 0.99) as f64 / 1e3,
        pct(q_ns.clone(), 0.5) as f64 / 1e3,
        pct(q_ns, 0.99) as f64 / 1e3,
        mem as f64 / n as f64,
        parts.join(", "),
        b.index.fixed_memory_bytes() >> 20,
        queries.len(),
    );
    let mut i = 0;
    c.bench_function(&format!("index/query/{n}"), |bch| {
        bch.iter(|| {
            i = (i + 1) % queries.len();
            b.index.lookup(black_box(&queries[i]), 0, None)
        })
    });
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("NEARDUP_BENCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    report(n, c);
    if std::env::var_os("NEARDUP_BENCH_10M").is_some() {
        report(10_000_000, c);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
