//! Durable state: every acknowledged document survives SIGKILL and restart of the real
//! `neardup serve` binary, with its cluster assignment unchanged.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use neardup::proto::document::Content;
use neardup::proto::near_dup_client::NearDupClient;
use neardup::proto::{CheckRequest, Document, Verdict};
use tonic::transport::Channel;

use crate::common::bin;

/// Deterministic pseudo-random numbers (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A word from a made-up vocabulary large enough that unrelated documents share few shingles.
fn word(rng: &mut Rng) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ten", "sar", "qu", "vel", "dor", "an", "is", "pre", "tum", "zo", "el",
        "ra", "bin",
    ];
    (0..2 + rng.below(2))
        .map(|_| SYLLABLES[rng.below(16) as usize])
        .collect()
}

/// `n` documents: mostly distinct articles, every fourth one an edited reprint of an earlier one.
fn corpus(n: usize) -> Vec<(String, String)> {
    let mut rng = Rng(0x5eed);
    let mut docs: Vec<(String, String)> = Vec::with_capacity(n);
    for i in 0..n {
        let text = if i % 4 == 3 {
            let (_, original) = &docs[i - 1 - rng.below(3) as usize];
            let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
            lines.pop();
            lines.insert(0, format!("Reprinted by outlet {}", rng.below(50)));
            lines.join("\n")
        } else {
            (0..6)
                .map(|_| {
                    let mut sentence: Vec<String> = (0..14).map(|_| word(&mut rng)).collect();
                    sentence.push(format!("{}.", rng.below(100_000)));
                    sentence.join(" ")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        docs.push((format!("doc-{i:05}"), text));
    }
    docs
}

/// The server process; killed with SIGKILL when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `neardup serve` on `data_dir`, its log (stderr) going to `log`.
fn spawn_server(data_dir: &Path, log: &Path) -> Server {
    let log = std::fs::File::create(log).unwrap();
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn neardup serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, addr }
}

async fn connect(addr: &str) -> NearDupClient<Channel> {
    for _ in 0..100 {
        if let Ok(client) = NearDupClient::connect(format!("http://{addr}")).await {
            return client;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot connect to {addr}");
}

fn request(id: &str, text: &str, dry_run: bool) -> CheckRequest {
    CheckRequest {
        namespace: "durable".into(),
        document: Some(Document {
            id: id.into(),
            content: Some(Content::Text(text.into())),
            ..Default::default()
        }),
        dry_run,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_documents_survive_repeated_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let docs = corpus(3000);
    let mut rng = Rng(0xdead_beef);
    // id → cluster id the server acknowledged.
    let mut acked: Vec<(usize, String)> = Vec::new();
    let mut next = 0;
    let mut kills_mid_stream = 0;
    let logs = tempfile::tempdir().unwrap();
    let log = |round: usize| logs.path().join(format!("round-{round}.log"));
    for round in 0..5 {
        let server = spawn_server(data.path(), &log(round));
        let mut client = connect(&server.addr).await;
        // Kill the server once a random number of this round's documents were acknowledged,
        // from another thread while the next request is in flight (the last round runs to the
        // end). Counting acknowledgements, not time, makes every kill land mid-stream however
        // fast the disk syncs.
        let kill_at = 100 + rng.below(500) as usize;
        let acked_in_round = Arc::new(AtomicUsize::new(0));
        let pid = server.child.id();
        let killer = (round < 4).then(|| {
            let acked_in_round = acked_in_round.clone();
            std::thread::spawn(move || {
                while acked_in_round.load(Ordering::Relaxed) < kill_at {
                    std::thread::sleep(Duration::from_micros(200));
                }
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            })
        });
        while next < docs.len() {
            let (id, text) = &docs[next];
            match client.check(request(id, text, false)).await {
                Ok(response) => {
                    let response = response.into_inner();
                    assert_eq!(&response.id, id);
                    acked.push((next, response.cluster_id));
                    acked_in_round.fetch_add(1, Ordering::Relaxed);
                    next += 1;
                }
                Err(_) if killer.is_some() => {
                    kills_mid_stream += 1;
                    break;
                }
                Err(status) => panic!("round {round}: {status}"),
            }
        }
        // Release a killer whose threshold was never reached (the corpus ran out first).
        acked_in_round.store(usize::MAX, Ordering::Relaxed);
        if let Some(killer) = killer {
            killer.join().unwrap();
        }
        drop(server);
        if next == docs.len() {
            break;
        }
    }
    assert_eq!(next, docs.len(), "the last round must finish the corpus");
    // Kills must have landed mid-stream for the test to mean anything.
    assert_eq!(kills_mid_stream, 4, "every kill must hit the stream");

    let server = spawn_server(data.path(), &log(99));
    let mut client = connect(&server.addr).await;
    // A restart after a SIGKILL says so in the log.
    let warned = (1..=4).chain([99]).any(|round| {
        std::fs::read_to_string(log(round))
            .unwrap_or_default()
            .contains("not closed cleanly")
    });
    assert!(warned, "no restart warned about the unclean stop");
    let mut seen = std::collections::HashSet::new();
    for (index, cluster_id) in &acked {
        if !seen.insert(*index) {
            continue;
        }
        let (id, text) = &docs[*index];
        let probe = client
            .check(request(&format!("probe-{id}"), text, true))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            probe.verdict,
            Verdict::Duplicate as i32,
            "{id} was acknowledged but is no longer known"
        );
        assert_eq!(&probe.cluster_id, cluster_id, "{id} changed cluster");
    }
}

mod engine_level {
    use std::sync::Arc;

    use neardup::document::Document;
    use neardup::engine::{CheckOptions, Engine, EngineConfig};
    use neardup::store::embedded::EmbeddedStore;
    use neardup::store::Durability;

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_800_000_000;

    /// Distinct reports, one per topic, with nothing in common but function words.
    fn article(topic: &str) -> String {
        match topic {
            "water" => {
                "Engineers restored the water supply to the northern districts on Monday \
                        after a burst main left 40,000 homes dry for two days.\nThe utility said \
                        tankers would stay in the worst-hit streets until pressure was normal."
            }
            "railway" => {
                "The new railway line between the port and the airport opened to \
                          passengers on Friday, three years late and 12 percent over budget.\n\
                          Trains will run every fifteen minutes, the operator announced."
            }
            "harbour" => {
                "Fishermen blocked the harbour entrance for six hours in protest at \
                          the quota cuts agreed in Brussels last week.\nCoast guard vessels \
                          escorted two ferries through the blockade before talks began."
            }
            "school" => {
                "A primary school in the valley will close in July because only 14 \
                         pupils are enrolled for the autumn term, the council confirmed.\n\
                         Parents have started a petition to keep the building open."
            }
            _ => {
                "The bridge over the river was closed to lorries after inspectors found \
                  cracks in two of its steel supports during a routine survey.\nCars may \
                  still cross at reduced speed while repairs are planned."
            }
        }
        .to_string()
    }

    fn doc(id: &str, text: &str, published_at: i64) -> Document {
        Document {
            published_at: Some(published_at),
            ..Document::text(id, text)
        }
    }

    fn probe(engine: &Engine, text: &str) -> Option<String> {
        let opts = CheckOptions {
            dry_run: true,
            ..CheckOptions::default()
        };
        engine
            .check("feed", doc("probe", text, NOW), &opts)
            .unwrap()
            .duplicate_of
    }

    fn open(dir: &std::path::Path) -> Engine {
        let store = Arc::new(EmbeddedStore::open(dir, Durability::Sync).unwrap());
        Engine::open(EngineConfig::default(), store).unwrap()
    }

    #[test]
    fn ttl_evicts_old_documents_durably_and_keeps_recent_ones() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = open(dir.path());
            engine.set_window("feed", Some(2));
            let opts = CheckOptions::default();
            engine
                .check("feed", doc("old", &article("water"), NOW - 5 * DAY), &opts)
                .unwrap();
            engine
                .check("feed", doc("new", &article("railway"), NOW - DAY), &opts)
                .unwrap();
            // Without a window in the probe, both would still match before eviction.
            engine.set_window("feed", None);
            assert_eq!(probe(&engine, &article("water")).as_deref(), Some("old"));
            engine.set_window("feed", Some(2));
            assert_eq!(engine.evict_expired(NOW).unwrap(), 1);
            engine.set_window("feed", None);
            assert_eq!(probe(&engine, &article("water")), None);
            assert_eq!(probe(&engine, &article("railway")).as_deref(), Some("new"));
            assert_eq!(engine.stats(Some("feed"))[0].documents, 1);
        }
        let engine = open(dir.path());
        assert_eq!(
            probe(&engine, &article("water")),
            None,
            "eviction lost on restart"
        );
        assert_eq!(probe(&engine, &article("railway")).as_deref(), Some("new"));
    }

    #[test]
    fn a_deleted_id_no_longer_matches_even_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        {
            let engine = open(dir.path());
            let opts = CheckOptions::default();
            engine
                .check("feed", doc("a", &article("harbour"), NOW), &opts)
                .unwrap();
            assert_eq!(probe(&engine, &article("harbour")).as_deref(), Some("a"));
            assert!(engine.delete("feed", "a").unwrap());
            assert!(!engine.delete("feed", "a").unwrap());
            assert_eq!(probe(&engine, &article("harbour")), None);
        }
        let engine = open(dir.path());
        assert_eq!(
            probe(&engine, &article("harbour")),
            None,
            "delete lost on restart"
        );
        assert_eq!(engine.stats(Some("feed"))[0].documents, 0);
    }

    #[test]
    fn a_resent_document_gets_its_first_verdict_and_a_different_one_under_its_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let engine = open(dir.path());
        let opts = CheckOptions::default();
        engine
            .check("feed", doc("a", &article("school"), NOW), &opts)
            .unwrap();
        let copy = engine
            .check("feed", doc("b", &article("school"), NOW), &opts)
            .unwrap();
        assert_eq!(copy.duplicate_of.as_deref(), Some("a"));
        let again = engine
            .check("feed", doc("b", &article("school"), NOW), &opts)
            .unwrap();
        assert_eq!(again.duplicate_of.as_deref(), Some("a"));
        assert_eq!(again.cluster_id, copy.cluster_id);
        assert!(!again.inserted);
        let other = engine.check("feed", doc("b", &article("bridge"), NOW), &opts);
        assert!(matches!(other, Err(neardup::Error::AlreadyExists { .. })));
    }

    #[test]
    fn a_resent_document_whose_lines_became_chrome_meanwhile_gets_its_first_verdict() {
        // A retry after a restart strips the document with what was learned since, its own
        // record included: a line it shares with other stories may have become the source's
        // chrome in between, so its clean text differs. It is still the same document.
        let dir = tempfile::tempdir().unwrap();
        let opts = CheckOptions::default();
        let chrome = "Reprinted with permission by the Northern Outlet";
        let with_chrome = |topic: &str| format!("{chrome}\n{}", article(topic));
        let first = {
            let engine = open(dir.path());
            let mut first = None;
            for (i, topic) in ["water", "railway", "harbour"].into_iter().enumerate() {
                let outcome = engine
                    .check(
                        "feed",
                        doc(&format!("d{i}"), &with_chrome(topic), NOW),
                        &opts,
                    )
                    .unwrap();
                first.get_or_insert(outcome);
            }
            first.unwrap()
        };
        let engine = open(dir.path());
        let learned = engine
            .check("feed", doc("d3", &with_chrome("school"), NOW), &opts)
            .unwrap();
        assert!(
            !learned.cleaned.text.contains(chrome),
            "the shared line should be chrome by now"
        );
        assert!(first.cleaned.text.contains(chrome));
        let again = engine
            .check("feed", doc("d0", &with_chrome("water"), NOW), &opts)
            .unwrap();
        assert!(!again.inserted);
        assert_eq!(again.cluster_id, first.cluster_id);
        assert_eq!(again.duplicate_of, first.duplicate_of);
        // Another document under the id is still refused.
        let other = engine.check("feed", doc("d0", &article("bridge"), NOW), &opts);
        assert!(matches!(other, Err(neardup::Error::AlreadyExists { .. })));
    }
}

mod format_v1_fixture {
    //! `tests/fixtures/store-v1/` holds a store written by format version 1. Every later build
    //! must open it and give the same answers: regenerate it only together with a new format
    //! version (and keep this one), with `NEARDUP_WRITE_FIXTURE=1 cargo test format_v1`.

    use std::path::PathBuf;
    use std::sync::Arc;

    use neardup::document::Document;
    use neardup::engine::{CheckOptions, Engine, EngineConfig};
    use neardup::store::embedded::{EmbeddedStore, FILE_NAME};
    use neardup::store::Durability;

    fn fixture_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1")
    }

    const REPORT: &str = "The port authority said on Tuesday that container traffic rose by 8 \
                          percent in the third quarter, helped by new routes to Asia.\nThe \
                          authority expects volumes to keep growing next year as a second \
                          terminal opens on the eastern quay.";
    const REPRINT: &str = "Port traffic up\nThe port authority said on Tuesday that container \
                           traffic rose by 8 percent in the third quarter, helped by new routes \
                           to Asia.\nThe authority expects volumes to keep growing next year.";
    const OTHER: &str = "Heavy snow closed the mountain pass for the second time this week, \
                         and the road service warned drivers to carry chains until Sunday.";
    const GONE: &str = "The museum will lend three paintings to a gallery abroad for an \
                        exhibition that opens in the spring and runs until the end of August.";

    fn write_fixture(dir: &std::path::Path) {
        let _ = std::fs::remove_dir_all(dir);
        let store = Arc::new(EmbeddedStore::open(dir, Durability::Sync).unwrap());
        let engine = Engine::open(EngineConfig::default(), store).unwrap();
        let opts = CheckOptions::default();
        for (id, text) in [("a", REPORT), ("b", REPRINT), ("c", OTHER), ("d", GONE)] {
            let doc = Document {
                published_at: Some(1_700_000_000),
                ..Document::text(id, text)
            };
            engine.check("fixture", doc, &opts).unwrap();
        }
        assert!(engine.delete("fixture", "d").unwrap());
    }

    #[test]
    fn format_v1_store_still_opens_with_the_same_answers() {
        let fixture = fixture_dir();
        if std::env::var_os("NEARDUP_WRITE_FIXTURE").is_some() {
            write_fixture(&fixture);
        }
        // Open a copy: opening may write (redb's recovery), the fixture must stay as released.
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(fixture.join(FILE_NAME), copy.path().join(FILE_NAME))
            .expect("tests/fixtures/store-v1 is committed");
        let store = Arc::new(EmbeddedStore::open(copy.path(), Durability::Sync).unwrap());
        let engine = Engine::open(EngineConfig::default(), store).unwrap();
        let stats = &engine.stats(Some("fixture"))[0];
        assert_eq!(
            (stats.documents, stats.clusters, stats.duplicates),
            (3, 3, 1)
        );
        let dry = CheckOptions {
            dry_run: true,
            ..CheckOptions::default()
        };
        let verdict = |text: &str| {
            let doc = Document {
                published_at: Some(1_700_000_000),
                ..Document::text("probe", text)
            };
            let out = engine.check("fixture", doc, &dry).unwrap();
            (out.duplicate_of, out.cluster_id)
        };
        assert_eq!(verdict(REPRINT), (Some("b".into()), "a".into()));
        assert_eq!(verdict(OTHER), (Some("c".into()), "c".into()));
        assert_eq!(verdict(GONE).0, None, "a deleted document matched");
    }
}
