//! Pipeline throughput (normalize + tokenize + shingle + MinHash/sketch + TF-IDF simhash) in
//! MB/s per language on ~3 KB news documents, with the `simhash` crate 0.3 as the baseline.
//!
//! Documents come from `../shared/data/neardup/dev.jsonl` (read at bench start, never shipped),
//! cut at a line boundary to about 3 KB. Each measured function's output is asserted.
//!
//! `cargo bench --bench pipeline -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use neardup::pipeline::fingerprint::DocFreq;
use neardup::pipeline::{features, FeatureConfig};

/// The allocator the `neardup` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DOC_BYTES: usize = 3 * 1024;

fn docs(lang: &str, n: usize) -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/neardup/dev.jsonl");
    let data = std::fs::read_to_string(&path).expect("dev.jsonl beside the checkout");
    let mut out = Vec::new();
    for line in data.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        if v["lang"] != lang {
            continue;
        }
        let text = v["text"].as_str().expect("text");
        if text.len() < DOC_BYTES {
            continue;
        }
        let mut doc = String::new();
        for l in text.lines() {
            if doc.len() + l.len() > DOC_BYTES {
                break;
            }
            doc.push_str(l);
            doc.push('\n');
        }
        out.push(doc);
        if out.len() == n {
            break;
        }
    }
    assert!(out.len() >= 10, "too few {lang} documents");
    out
}

fn bench(c: &mut Criterion) {
    let cfg = FeatureConfig::default();
    // Document frequencies as a namespace would have them after a few thousand stories.
    let mut df = DocFreq::new(20);
    for lang in ["ar", "en", "de"] {
        for d in docs(lang, 300) {
            df.add_document(features(&d, &cfg).tokens);
        }
    }
    let mut g = c.benchmark_group("pipeline");
    for lang in ["ar", "en", "de"] {
        let set = docs(lang, 64);
        let bytes: usize = set.iter().map(String::len).sum();
        g.throughput(Throughput::Bytes(bytes as u64));
        // Correctness of what is measured.
        let f = features(&set[0], &cfg);
        assert!(!f.sketch.is_empty() && f.shingles > 100, "{lang}: features");
        assert_eq!(f.simhash(&df), features(&set[0], &cfg).simhash(&df));
        assert_ne!(f.simhash(&df), features(&set[1], &cfg).simhash(&df));
        g.bench_function(format!("neardup/{lang}"), |b| {
            b.iter(|| {
                let mut acc = 0u64;
                for d in &set {
                    let f = features(black_box(d), &cfg);
                    acc ^= f.simhash(&df) ^ f.exact;
                }
                acc
            })
        });
        assert_ne!(simhash::simhash(&set[0]), simhash::simhash(&set[1]));
        g.bench_function(format!("simhash-0.3/{lang}"), |b| {
            b.iter(|| {
                let mut acc = 0u64;
                for d in &set {
                    acc ^= simhash::simhash(black_box(d));
                }
                acc
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
