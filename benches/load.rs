//! Load bench of the gRPC service: `Check` on ~3 KB news-like documents at concurrency 1, 16
//! and 64, side by side with the trivial `Echo` RPC (same payload bytes), measured in the same
//! run by the same load generator (a tonic client on loopback).
//!
//! `cargo bench --bench load` (seconds per RPC and level: `NEARDUP_BENCH_SECS`, default 2,
//! split into alternating Echo/Check slices; `NEARDUP_BENCH_INFLIGHT` overrides the server's
//! `max_inflight`).
//! Every run is bounded by time and by the size of the document pool and stops by itself.
//! Verdicts are asserted: fresh documents must come back unique, and every fourth request of a
//! worker re-sends its previous document under a new id and must come back as its duplicate.
//! Targets (printed): Check ≥ 60 % of Echo rps at concurrency 64; Check p50 at concurrency 1
//! within Echo p50 + 100 µs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// The allocator the `neardup` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neardup::config::Config;
use neardup::proto::near_dup_client::NearDupClient;
use neardup::proto::{self, CheckRequest, Verdict};
use tokio::net::TcpListener;
use tonic::transport::Channel;

const LEVELS: [usize; 3] = [1, 16, 64];
/// Documents generated up front; no run uses more (the bound on request count).
const POOL: usize = 30_000;
const DOC_BYTES: usize = 3_000;
const WARMUP: Duration = Duration::from_millis(300);
/// Each level alternates Echo and Check slices this many times, so both see the same
/// background load (the bench machine is shared).
const ROUNDS: u32 = 4;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rpc {
    Echo,
    Check,
}

struct Run {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// Deterministic news-like text: sentences of words drawn from a fixed vocabulary, ~3 KB,
/// different for every `n` (so documents share no shingles by accident).
fn document(n: usize) -> String {
    const WORDS: &[&str] = &[
        "minister",
        "said",
        "on",
        "Tuesday",
        "the",
        "government",
        "would",
        "talks",
        "border",
        "council",
        "agreed",
        "forces",
        "capital",
        "report",
        "according",
        "officials",
        "defence",
        "security",
        "meeting",
        "statement",
        "week",
        "region",
        "ceasefire",
        "aid",
        "trade",
        "election",
        "parliament",
        "vote",
        "court",
        "ruling",
        "prices",
        "inflation",
        "bank",
        "rates",
        "energy",
        "oil",
        "gas",
        "pipeline",
        "protest",
        "police",
        "arrested",
        "city",
        "north",
        "south",
        "visit",
        "president",
        "prime",
        "foreign",
        "call",
        "phone",
        "spokesman",
        "agency",
        "sources",
        "between",
        "after",
        "before",
        "during",
        "against",
        "million",
        "percent",
        "announced",
        "launched",
        "rejected",
        "accused",
        "warned",
        "expected",
    ];
    let mut state = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::with_capacity(DOC_BYTES + 200);
    text.push_str(&format!("Report {n}: "));
    while text.len() < DOC_BYTES {
        let words = 10 + (next() % 15) as usize;
        for w in 0..words {
            let word = WORDS[(next() % WORDS.len() as u64) as usize];
            if w > 0 {
                text.push(' ');
            }
            text.push_str(word);
        }
        text.push_str(if next() % 4 == 0 { ".\n" } else { ". " });
    }
    text
}

async fn run_level(
    channels: &[Channel],
    docs: Arc<Vec<String>>,
    rpc: Rpc,
    concurrency: usize,
    namespace: String,
    warmup: Duration,
    measure: Duration,
) -> Run {
    let next_doc = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let warm_until = started + warmup;
    let stop_at = warm_until + measure;
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let mut client = NearDupClient::new(channels[w % channels.len()].clone());
            let docs = docs.clone();
            let next_doc = next_doc.clone();
            let namespace = namespace.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let mut last: Option<(String, usize)> = None; // (id, doc) of the last original
                let mut k = 0usize;
                loop {
                    let now = Instant::now();
                    if now >= stop_at {
                        break;
                    }
                    let repeat = k % 4 == 3 && last.is_some();
                    let doc = match (&last, repeat) {
                        (Some((_, d)), true) => *d,
                        _ => next_doc.fetch_add(1, Ordering::Relaxed),
                    };
                    if doc >= docs.len() {
                        break; // pool exhausted: the count bound
                    }
                    let id = format!("w{w}-{k}");
                    let t0 = Instant::now();
                    let ok = match rpc {
                        Rpc::Echo => {
                            let payload = docs[doc].as_bytes().to_vec();
                            let resp = client
                                .echo(proto::EchoRequest {
                                    payload: payload.clone(),
                                })
                                .await;
                            matches!(resp, Ok(r) if r.get_ref().payload == payload)
                        }
                        Rpc::Check => {
                            let resp = client
                                .check(CheckRequest {
                                    namespace: namespace.clone(),
                                    document: Some(proto::Document {
                                        id: id.clone(),
                                        content: Some(proto::document::Content::Text(
                                            docs[doc].clone(),
                                        )),
                                        ..Default::default()
                                    }),
                                    ..Default::default()
                                })
                                .await;
                            match (resp, &last) {
                                (Ok(r), Some((orig, _))) if repeat => {
                                    r.get_ref().duplicate_of == *orig
                                }
                                (Ok(r), _) => r.get_ref().verdict == Verdict::Unique as i32,
                                (Err(_), _) => false,
                            }
                        }
                    };
                    let latency = t0.elapsed();
                    if t0 >= warm_until {
                        latencies.push(latency);
                    }
                    if !ok {
                        errors += 1;
                    }
                    if !repeat {
                        last = Some((id, doc));
                    }
                    k += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = Instant::now()
        .min(stop_at)
        .saturating_duration_since(warm_until);
    latencies.sort_unstable();
    Run {
        requests: latencies.len(),
        elapsed,
        latencies,
        errors,
    }
}

/// Median time of `Engine::check` on the pool's documents without any RPC: the part of the
/// Check latency that is detection work rather than service overhead.
fn engine_cost(docs: &[String]) -> f64 {
    use neardup::document::Document;
    use neardup::engine::{CheckOptions, Engine};
    let engine = Engine::in_memory();
    let opts = CheckOptions::default();
    let mut times: Vec<Duration> = docs
        .iter()
        .take(2000)
        .enumerate()
        .map(|(i, text)| {
            let doc = Document::text(format!("e{i}"), text.clone());
            let t0 = Instant::now();
            let outcome = engine.check("engine", doc, &opts).unwrap();
            let t = t0.elapsed();
            assert_eq!(
                outcome.duplicate_of, None,
                "pool documents are all different"
            );
            t
        })
        .collect();
    let again = engine
        .check("engine", Document::text("again", docs[0].clone()), &opts)
        .unwrap();
    assert_eq!(again.duplicate_of.as_deref(), Some("e0"));
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1e6
}

fn main() {
    // `cargo bench` passes `--bench`; a test harness run (`cargo test --benches`) does too.
    let measure = Duration::from_secs_f64(
        std::env::var("NEARDUP_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2.0),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let mut config = Config::default();
        if let Some(n) = std::env::var("NEARDUP_BENCH_INFLIGHT").ok().and_then(|s| s.parse().ok()) {
            config.limits.max_inflight = n;
        }
        let inflight = config.limits.max_inflight;
        let server = tokio::spawn(neardup::server::run_with_metrics(
            listener,
            None,
            config,
            async move {
                let _ = stop_rx.await;
            },
        ));
        let docs: Arc<Vec<String>> = Arc::new((0..POOL).map(document).collect());
        let mean = docs.iter().map(String::len).sum::<usize>() / docs.len();
        println!("neardup load bench: loopback {addr}, {measure:?} per rpc and level in {ROUNDS} alternating slices after {WARMUP:?} warm-up, documents ~{mean} bytes");
        println!("server: default config, max_inflight {inflight} (NEARDUP_BENCH_INFLIGHT overrides)");
        let engine_us = engine_cost(&docs);
        println!("engine.check alone, in process, one thread: {engine_us:.1} us per document");
        println!(
            "{:>5} {:>6} {:>9} {:>10} {:>9} {:>9}",
            "conc", "rpc", "requests", "rps", "p50_us", "p99_us"
        );
        let mut table = Vec::new();
        let mut failures = 0;
        for &c in &LEVELS {
            let mut channels = Vec::new();
            for _ in 0..c.min(4) {
                channels.push(
                    Channel::from_shared(format!("http://{addr}"))
                        .unwrap()
                        .tcp_nodelay(true)
                        .connect()
                        .await
                        .unwrap(),
                );
            }
            let mut runs: Vec<Run> = Vec::new();
            for round in 0..ROUNDS {
                for (i, rpc) in [Rpc::Echo, Rpc::Check].into_iter().enumerate() {
                    let run = run_level(
                        &channels,
                        docs.clone(),
                        rpc,
                        c,
                        format!("bench-c{c}-r{round}"),
                        if round == 0 { WARMUP } else { Duration::ZERO },
                        measure / ROUNDS,
                    )
                    .await;
                    if round == 0 {
                        runs.push(run);
                    } else {
                        let total = &mut runs[i];
                        total.requests += run.requests;
                        total.elapsed += run.elapsed;
                        total.errors += run.errors;
                        total.latencies.extend(run.latencies);
                    }
                }
            }
            for (rpc, mut run) in [Rpc::Echo, Rpc::Check].into_iter().zip(runs) {
                run.latencies.sort_unstable();
                println!(
                    "{:>5} {:>6} {:>9} {:>10.0} {:>9.0} {:>9.0}{}",
                    c,
                    format!("{rpc:?}").to_lowercase(),
                    run.requests,
                    run.rps(),
                    run.percentile(0.5).as_secs_f64() * 1e6,
                    run.percentile(0.99).as_secs_f64() * 1e6,
                    if run.errors > 0 {
                        format!("  {} WRONG ANSWERS", run.errors)
                    } else {
                        String::new()
                    }
                );
                failures += run.errors;
                table.push((c, rpc, run));
            }
        }
        let find = |c: usize, rpc: Rpc| {
            table
                .iter()
                .find(|(cc, r, _)| *cc == c && *r == rpc)
                .map(|(_, _, run)| run)
                .unwrap()
        };
        let ratio = find(64, Rpc::Check).rps() / find(64, Rpc::Echo).rps();
        let extra_us = (find(1, Rpc::Check).percentile(0.5).as_secs_f64()
            - find(1, Rpc::Echo).percentile(0.5).as_secs_f64())
            * 1e6;
        println!(
            "check/echo rps at concurrency 64: {:.0} % (target >= 60 %: {})",
            ratio * 100.0,
            if ratio >= 0.6 { "met" } else { "MISSED" }
        );
        println!(
            "check p50 - echo p50 at concurrency 1: {extra_us:.0} us (target <= 100 us: {})",
            if extra_us <= 100.0 { "met" } else { "MISSED" }
        );
        let _ = stop_tx.send(());
        server.await.unwrap().unwrap();
        assert_eq!(failures, 0, "wrong answers under load");
    });
}
