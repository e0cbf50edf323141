//! Load bench of the gRPC service: `Check` on ~3 KB news-like documents at concurrency 1, 16
//! and 64, side by side with the trivial `Echo` RPC (same payload bytes), measured in the same
//! run by the same load generator (a tonic client on loopback, in this process).
//!
//! `cargo bench --bench load`. Settings (environment):
//! - `NEARDUP_BENCH_SECS` (default 2): seconds per RPC and level, split into alternating
//!   Echo/Check slices so both see the same background load (the bench machine is shared);
//! - `NEARDUP_BENCH_INFLIGHT`: the server's `max_inflight`;
//! - `NEARDUP_BENCH_ENGINE_THREADS`: the server's `engine_threads` (0: engine calls on the
//!   runtime's threads);
//! - `NEARDUP_BENCH_STORE=sync|interval:MS|off`: serve an engine on the embedded store (in a
//!   temporary directory) with that durability, as `neardup serve` does, instead of the
//!   in-memory engine of `server::run` (the default);
//! - `NEARDUP_BENCH_LEVELS=1,64` and `NEARDUP_BENCH_RPCS=check|echo`: a subset (profiling).
//!
//! Every run is bounded by time and by the size of the document pool and stops by itself.
//! Verdicts are asserted: fresh documents must come back unique, and every fourth request of a
//! worker re-sends its previous document under a new id and must come back as its duplicate.
//! The documents are asserted to be unlike each other as news reports are (few index
//! candidates per lookup).
//!
//! Columns: requests and rps in the measured time, p50/p99 latency, `cpu_us`: CPU time of the
//! whole process (load generator and server) per answered request, and `cores`: CPU time over
//! wall time, the cores the process was given. On a machine shared with other work rps moves
//! with the load and with how many runnable threads the process has (a slice whose work runs
//! on more threads is given more of the machine); `cpu_us` much less. Check's `cpu_us` minus
//! Echo's is what a Check costs beyond a round trip of the same bytes.
//! Targets (printed): Check ≥ 60 % of Echo rps at concurrency 64; Check p50 at concurrency 1
//! within Echo p50 + 100 µs.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

/// The allocator the `neardup` binary uses, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use neardup::config::{Config, RawConfig};
use neardup::engine::Engine;
use neardup::proto::near_dup_client::NearDupClient;
use neardup::proto::{self, CheckRequest, Verdict};
use neardup::store::embedded::EmbeddedStore;
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
    /// Requests answered over the whole slice, warm-up included (the CPU figure's divisor).
    completed: usize,
    /// CPU time of the whole process (load generator and server) over the slice, if known.
    cpu: Option<Duration>,
    /// Wall time of the slice, warm-up included (the CPU figure's span).
    wall: Duration,
}

impl Run {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    /// Process CPU per answered request, client and server together, in microseconds.
    fn cpu_us(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (self.completed > 0).then(|| cpu.as_secs_f64() * 1e6 / self.completed as f64)
    }
    /// Cores the process kept busy on average: on a shared machine, how much CPU it was given.
    fn cores(&self) -> Option<f64> {
        let cpu = self.cpu?;
        (!self.wall.is_zero()).then(|| cpu.as_secs_f64() / self.wall.as_secs_f64())
    }
    fn percentile(&self, p: f64) -> Duration {
        let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies[i]
    }
}

/// The words of the generated documents: the common news words below as the most frequent
/// ranks, then pseudo-words built from syllables, drawn with a Zipf-like law (p ∝ 1/(rank + 2.7),
/// as in running text). Real news has thousands of distinct words a document; a small uniform
/// vocabulary would make every document look alike to the engine's word-weighted simhash (every
/// earlier document a candidate), which news never does.
struct Vocabulary {
    words: Vec<String>,
    /// Cumulative weights (the last is the total), for inverse-CDF sampling.
    cumulative: Vec<f64>,
}

/// Distinct words of [`Vocabulary`].
const VOCABULARY: usize = 20_000;

impl Vocabulary {
    fn new() -> Self {
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
        const ONSETS: &[&str] = &[
            "b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p",
            "pr", "r", "s", "st", "t", "tr", "v", "w", "z",
        ];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou"];
        const CODAS: &[&str] = &["", "n", "r", "s", "l", "t", "nd", "ck"];
        let mut words: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
        let mut seen: std::collections::HashSet<String> = words.iter().cloned().collect();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        while words.len() < VOCABULARY {
            let syllables = 1 + (xorshift(&mut state) % 3) as usize;
            let mut w = String::new();
            for _ in 0..syllables {
                let r = xorshift(&mut state) as usize;
                w.push_str(ONSETS[r % ONSETS.len()]);
                w.push_str(VOWELS[(r >> 8) % VOWELS.len()]);
                w.push_str(CODAS[(r >> 16) % CODAS.len()]);
            }
            if seen.insert(w.clone()) {
                words.push(w);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 2.7);
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    /// The word whose cumulative weight covers `u` in [0, 1).
    fn pick(&self, u: f64) -> &str {
        let total = self.cumulative[self.cumulative.len() - 1];
        let i = self.cumulative.partition_point(|&c| c <= u * total);
        &self.words[i.min(self.words.len() - 1)]
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Deterministic news-like text: sentences of words drawn from `vocab`, ~3 KB, different for
/// every `n` (documents share no more than common phrases by accident).
fn document(vocab: &Vocabulary, n: usize) -> String {
    let mut state = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut text = String::with_capacity(DOC_BYTES + 200);
    text.push_str(&format!("Report {n}: "));
    while text.len() < DOC_BYTES {
        let words = 10 + (xorshift(&mut state) % 15) as usize;
        for w in 0..words {
            let u = (xorshift(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
            let word = vocab.pick(u);
            if w > 0 {
                text.push(' ');
            } else {
                // Sentences start with a capital, as in news.
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                    continue;
                }
            }
            text.push_str(word);
        }
        text.push_str(if xorshift(&mut state) % 4 == 0 {
            ".\n"
        } else {
            ". "
        });
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
    let cpu_before = process_cpu();
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
                (latencies, errors, k)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut completed = 0;
    for w in workers {
        let (l, e, k) = w.await.unwrap();
        latencies.extend(l);
        errors += e;
        completed += k;
    }
    let cpu = cpu_before
        .zip(process_cpu())
        .map(|(a, b)| b.saturating_sub(a));
    let wall = started.elapsed();
    let elapsed = Instant::now()
        .min(stop_at)
        .saturating_duration_since(warm_until);
    latencies.sort_unstable();
    Run {
        requests: latencies.len(),
        elapsed,
        latencies,
        errors,
        completed,
        cpu,
        wall,
    }
}

/// CPU time used so far by every thread of this process (Linux `/proc`; `None` elsewhere).
/// Threads that already exited are not counted, which the runtime's long-lived workers and
/// blocking threads (kept 10 s idle) make negligible here.
fn process_cpu() -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may exit between the listing and the read: skip it.
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// What detection alone costs on the pool's documents, without any RPC: the part of the Check
/// cost that is not service overhead.
struct EngineCost {
    /// Median wall time of one `Engine::check`.
    median_us: f64,
    /// CPU time of the checking thread over all of them, per document (Linux only).
    cpu_us: Option<f64>,
    /// Candidates per lookup the index had to verify (all tiers).
    candidates: f64,
}

/// Check the first 2,000 documents of the pool on an in-memory engine on this thread.
fn engine_cost(docs: &[String]) -> EngineCost {
    use neardup::document::Document;
    use neardup::engine::{CheckOptions, Engine};
    use neardup::index::{IndexConfig, NamespaceIndex};
    use neardup::pipeline::{features, FeatureConfig};
    let docs = &docs[..docs.len().min(2000)];
    let opts = CheckOptions::default();
    // One-time set-up (lexicons, tables) is not a per-document cost: pay it on a scratch engine.
    let scratch = Engine::in_memory();
    for (i, text) in docs.iter().take(100).enumerate() {
        scratch
            .check("warm", Document::text(format!("w{i}"), text.clone()), &opts)
            .unwrap();
    }
    let engine = Engine::in_memory();
    let cpu_before = thread_cpu();
    let mut times: Vec<Duration> = docs
        .iter()
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
    let cpu = cpu_before
        .zip(thread_cpu())
        .map(|(a, b)| b.saturating_sub(a).as_secs_f64() * 1e6 / docs.len() as f64);
    let again = engine
        .check("engine", Document::text("again", docs[0].clone()), &opts)
        .unwrap();
    assert_eq!(again.duplicate_of.as_deref(), Some("e0"));
    times.sort_unstable();
    // The same documents straight into an index, to count the candidates it verifies.
    let fc = FeatureConfig::default();
    let mut index = NamespaceIndex::new(IndexConfig {
        sketch_cap: fc.sketch_cap,
        ..IndexConfig::default()
    });
    let mut candidates = 0;
    for (i, text) in docs.iter().enumerate() {
        let f = features(text, &fc);
        let look = index.lookup(&f, 0, None);
        candidates += look.candidates;
        index.insert(&format!("d{i}"), &f, 0, &look).unwrap();
    }
    EngineCost {
        median_us: times[times.len() / 2].as_secs_f64() * 1e6,
        cpu_us: cpu,
        candidates: candidates as f64 / docs.len() as f64,
    }
}

/// CPU time used so far by the calling thread (Linux `/proc`; `None` elsewhere).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
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
        if let Some(n) = std::env::var("NEARDUP_BENCH_ENGINE_THREADS").ok().and_then(|s| s.parse().ok()) {
            config.engine_threads = n;
        }
        let inflight = config.limits.max_inflight;
        let engine_threads = config.engine_threads;
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        let store_dir = tempfile::tempdir().unwrap();
        let store = std::env::var("NEARDUP_BENCH_STORE").ok();
        let server = match &store {
            None => tokio::spawn(neardup::server::run_with_metrics(
                listener, None, config, shutdown,
            )),
            Some(policy) => {
                let durability = RawConfig {
                    durability: Some(policy.clone()),
                    ..RawConfig::default()
                }
                .validate()
                .unwrap()
                .durability;
                let store = Arc::new(EmbeddedStore::open(store_dir.path(), durability).unwrap());
                let engine = Engine::open(config.engine.clone(), store).unwrap();
                tokio::spawn(neardup::server::serve(
                    engine, listener, None, config, shutdown,
                ))
            }
        };
        let docs: Arc<Vec<String>> = Arc::new({
            let vocab = Vocabulary::new();
            (0..POOL).map(|n| document(&vocab, n)).collect()
        });
        let mean = docs.iter().map(String::len).sum::<usize>() / docs.len();
        println!("neardup load bench: loopback {addr}, {measure:?} per rpc and level in {ROUNDS} alternating slices after {WARMUP:?} warm-up, documents ~{mean} bytes");
        println!(
            "server: default config, max_inflight {inflight} (NEARDUP_BENCH_INFLIGHT overrides), engine_threads {engine_threads} (NEARDUP_BENCH_ENGINE_THREADS; 0 = runtime threads), engine {}",
            store.as_deref().map_or("in memory".to_string(), |p| format!("on the embedded store, durability {p}"))
        );
        let cost = engine_cost(&docs);
        println!(
            "engine.check alone, in process, one thread: median {:.1} us, {} us CPU per document; {:.2} candidates per lookup",
            cost.median_us,
            cost.cpu_us.map_or("-".to_string(), |us| format!("{us:.1}")),
            cost.candidates,
        );
        // News documents are rarely near each other: an index that must verify many earlier
        // documents per lookup means the generator made them alike, not that checks are slow.
        assert!(
            cost.candidates < 0.5,
            "generated documents look alike to the index ({:.2} candidates per lookup)",
            cost.candidates
        );
        println!(
            "{:>5} {:>6} {:>9} {:>10} {:>9} {:>9} {:>9} {:>6}",
            "conc", "rpc", "requests", "rps", "p50_us", "p99_us", "cpu_us", "cores"
        );
        let mut table = Vec::new();
        let mut failures = 0;
        // Profiling aids: NEARDUP_BENCH_LEVELS=64 and NEARDUP_BENCH_RPCS=check run a subset.
        let levels: Vec<usize> = std::env::var("NEARDUP_BENCH_LEVELS")
            .ok()
            .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_else(|| LEVELS.to_vec());
        let rpcs: Vec<Rpc> = match std::env::var("NEARDUP_BENCH_RPCS").ok().as_deref() {
            Some("check") => vec![Rpc::Check],
            Some("echo") => vec![Rpc::Echo],
            _ => vec![Rpc::Echo, Rpc::Check],
        };
        for &c in &levels {
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
                for (i, &rpc) in rpcs.iter().enumerate() {
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
                        total.completed += run.completed;
                        total.cpu = total.cpu.zip(run.cpu).map(|(a, b)| a + b);
                        total.wall += run.wall;
                        total.latencies.extend(run.latencies);
                    }
                }
            }
            for (&rpc, mut run) in rpcs.iter().zip(runs) {
                run.latencies.sort_unstable();
                println!(
                    "{:>5} {:>6} {:>9} {:>10.0} {:>9.0} {:>9.0} {:>9} {:>6}{}",
                    c,
                    format!("{rpc:?}").to_lowercase(),
                    run.requests,
                    run.rps(),
                    run.percentile(0.5).as_secs_f64() * 1e6,
                    run.percentile(0.99).as_secs_f64() * 1e6,
                    run.cpu_us().map_or("-".to_string(), |us| format!("{us:.0}")),
                    run.cores().map_or("-".to_string(), |c| format!("{c:.2}")),
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
        };
        if let (Some(check), Some(echo)) = (find(64, Rpc::Check), find(64, Rpc::Echo)) {
            let ratio = check.rps() / echo.rps();
            println!(
                "check/echo rps at concurrency 64: {:.0} % (target >= 60 %: {})",
                ratio * 100.0,
                if ratio >= 0.6 { "met" } else { "MISSED" }
            );
            // On a machine of its own the process gets the same cores for both RPCs, and the rps
            // ratio at saturation tends to the inverse ratio of CPU per request.
            if let (Some(c), Some(e)) = (check.cpu_us(), echo.cpu_us()) {
                println!(
                    "check/echo at concurrency 64 by CPU per request: {:.0} % (cores given: echo {}, check {})",
                    e / c * 100.0,
                    echo.cores().map_or("-".to_string(), |c| format!("{c:.2}")),
                    check.cores().map_or("-".to_string(), |c| format!("{c:.2}")),
                );
            }
        }
        if let (Some(check), Some(echo)) = (find(1, Rpc::Check), find(1, Rpc::Echo)) {
            let extra_us = (check.percentile(0.5).as_secs_f64()
                - echo.percentile(0.5).as_secs_f64())
                * 1e6;
            println!(
                "check p50 - echo p50 at concurrency 1: {extra_us:.0} us (target <= 100 us: {})",
                if extra_us <= 100.0 { "met" } else { "MISSED" }
            );
        }
        let _ = stop_tx.send(());
        server.await.unwrap().unwrap();
        assert_eq!(failures, 0, "wrong answers under load");
    });
}
