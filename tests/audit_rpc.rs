//! The Audit RPC end to end on the real server (127.0.0.1:0): its summary equals what
//! `neardup audit` writes for the same documents, the live namespaces stay untouched, bad input
//! gets the right code while the server keeps serving, limits and metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use neardup::config::{Config, Limits};
use neardup::proto::near_dup_client::NearDupClient;
use neardup::proto::{
    self, document::Content, AuditOptions, AuditRequest, AuditResponse, AuditVerdict,
};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::Code;

use crate::common::{run, synthetic_article};
use crate::service::{http_get, TestServer};

const NAV: &str = "Home | World | Politics | Sport | Business";
const FOOT: &str = "Share this article on Facebook";
const AR: &str = "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في العاصمة يضم ثلاثمائة سرير ووحدة متخصصة لعلاج الأطفال.\nوقال الوزير إن المستشفى سيبدأ استقبال المرضى مطلع الشهر المقبل بعد اكتمال تجهيز الأقسام.";
const DE: &str = "Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke für sechs Monate zu sperren, und die Arbeiten beginnen im Mai.\nDer Verkehr wird über die nördliche Umgehungsstraße geleitet, solange die Ingenieure das Deck erneuern.";

/// A synthetic article inside the daily site's chrome.
fn daily(seed: u64) -> String {
    format!("{NAV}\n{}\n{FOOT}", synthetic_article(seed))
}

/// Article `seed` with its last line replaced: a near duplicate of it.
fn near_copy(seed: u64) -> String {
    let mut lines: Vec<String> = synthetic_article(seed).lines().map(String::from).collect();
    let other = synthetic_article(seed + 1000);
    *lines.last_mut().unwrap() = other.lines().next().unwrap().to_string();
    format!("{NAV}\n{}\n{FOOT}", lines.join("\n"))
}

/// A hand-built corpus as JSONL lines (the CLI's input) — known by construction: 2 exact
/// duplicates (`d1-exact`: `d1` with other spacing; `d2-again`: `d2` verbatim), 1 near
/// duplicate (`d1-near`), 4 languages, chrome lines in every `daily.example` text.
fn corpus() -> Vec<Value> {
    let page = format!(
        "<html><head><meta charset=\"utf-8\"><title>T</title></head><body><nav><a href=\"/\">Home</a> <a href=\"/w\">World</a></nav><article><h1>Headline</h1><p>{}</p></article><footer><p>{FOOT}</p></footer></body></html>",
        synthetic_article(4).replace('\n', "</p><p>")
    );
    vec![
        serde_json::json!({"id": "d1", "text": daily(1), "source": "daily.example", "url": "https://daily.example/1"}),
        serde_json::json!({"id": "d2", "text": daily(2), "source": "daily.example"}),
        serde_json::json!({"id": "a1", "text": AR, "source": "akhbar.example"}),
        serde_json::json!({"id": "d1-exact", "text": daily(1).replace(' ', "  "), "source": "akhbar.example"}),
        serde_json::json!({"id": "d3", "text": daily(3), "source": "daily.example"}),
        serde_json::json!({"id": "d1-near", "text": near_copy(1), "source": "daily.example"}),
        serde_json::json!({"id": "h1", "html": page, "source": "daily.example"}),
        serde_json::json!({"id": "d2-again", "text": daily(2), "source": "daily.example"}),
        serde_json::json!({"id": "de1", "text": DE}),
        serde_json::json!({"id": "d5", "text": daily(5), "source": "daily.example"}),
        serde_json::json!({"id": "d6", "text": daily(6), "source": "daily.example"}),
    ]
}

/// A JSONL line as the proto document the RPC takes.
fn to_proto(v: &Value) -> proto::Document {
    let content = match (v["text"].as_str(), v["html"].as_str()) {
        (Some(t), _) => Content::Text(t.to_string()),
        (None, Some(h)) => Content::Html(h.as_bytes().to_vec()),
        _ => panic!("no body in {v}"),
    };
    proto::Document {
        id: v["id"].as_str().unwrap().to_string(),
        content: Some(content),
        source: v["source"].as_str().unwrap_or_default().to_string(),
        url: v["url"].as_str().unwrap_or_default().to_string(),
        published_at: None,
    }
}

fn text_doc(id: &str, text: &str) -> proto::Document {
    proto::Document {
        id: id.into(),
        content: Some(Content::Text(text.into())),
        ..Default::default()
    }
}

fn batch(documents: Vec<proto::Document>) -> AuditRequest {
    AuditRequest {
        options: None,
        documents,
    }
}

/// One Audit call over `requests`.
async fn audit(
    client: &mut NearDupClient<Channel>,
    requests: Vec<AuditRequest>,
) -> Result<AuditResponse, tonic::Status> {
    client
        .audit(tokio_stream::iter(requests))
        .await
        .map(|r| r.into_inner())
}

/// Every namespace's counters.
async fn all_stats(client: &mut NearDupClient<Channel>) -> Vec<proto::NamespaceStats> {
    let mut list = client
        .stats(proto::StatsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .namespaces;
    list.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    list
}

fn map_of(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

fn counts(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect()
}

/// The structured summary holds, field by field, what `summary.json` holds.
fn assert_mirrors(s: &proto::AuditSummary, j: &Value) {
    assert_eq!(u64::from(s.version), j["version"].as_u64().unwrap());
    for (got, key) in [
        (s.documents, "documents"),
        (s.originals, "originals"),
        (s.exact_duplicates, "exact_duplicates"),
        (s.near_duplicates, "near_duplicates"),
        (s.clusters, "clusters"),
        (s.clusters_with_duplicates, "clusters_with_duplicates"),
        (s.largest_cluster_size, "largest_cluster_size"),
        (s.errors, "errors"),
    ] {
        assert_eq!(got, j[key].as_u64().unwrap(), "{key}");
    }
    assert_eq!(s.duplication_rate, j["duplication_rate"].as_f64().unwrap());
    let buckets: Vec<(String, u64, u64, u64, u64)> = s
        .cluster_sizes
        .iter()
        .map(|b| (b.label.clone(), b.min, b.max, b.clusters, b.documents))
        .collect();
    let expected: Vec<(String, u64, u64, u64, u64)> = j["cluster_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_string(),
                b["min"].as_u64().unwrap(),
                b["max"].as_u64().unwrap(),
                b["clusters"].as_u64().unwrap(),
                b["documents"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(buckets, expected);
    assert_eq!(s.duplicates_by_tier, map_of(&j["duplicates_by_tier"]));
    assert_eq!(s.languages, map_of(&j["languages"]));
    assert_eq!(s.skipped, map_of(&j["skipped"]));
    assert_eq!(
        s.jaccard_histogram,
        counts(&j["jaccard_histogram"]["counts"])
    );
    assert_eq!(
        s.containment_histogram,
        counts(&j["containment_histogram"]["counts"])
    );
    let b = s.boilerplate.as_ref().unwrap();
    let jb = &j["boilerplate"];
    assert_eq!(b.kept_bytes, jb["kept_bytes"].as_u64().unwrap());
    assert_eq!(b.removed_bytes, jb["removed_bytes"].as_u64().unwrap());
    assert_eq!(b.share, jb["share"].as_f64().unwrap());
    let per_source = jb["per_source"].as_array().unwrap();
    assert_eq!(b.per_source.len(), per_source.len());
    for (got, want) in b.per_source.iter().zip(per_source) {
        assert_eq!(got.source, want["source"].as_str().unwrap());
        assert_eq!(got.documents, want["documents"].as_u64().unwrap());
        assert_eq!(got.duplicates, want["duplicates"].as_u64().unwrap());
        assert_eq!(got.removed_bytes, want["removed_bytes"].as_u64().unwrap());
        assert_eq!(got.share, want["share"].as_f64().unwrap());
        let lines: Vec<(&str, u64)> = got
            .top_lines
            .iter()
            .map(|l| (l.line.as_str(), l.count))
            .collect();
        let want_lines: Vec<(&str, u64)> = want["top_lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["line"].as_str().unwrap(), l["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(lines, want_lines, "{}", got.source);
    }
    let clusters: Vec<(&str, &str, u64, Vec<&str>)> = s
        .largest_clusters
        .iter()
        .map(|c| {
            (
                c.cluster_id.as_str(),
                c.canonical_id.as_str(),
                c.size,
                c.members.iter().map(|m| m.id.as_str()).collect(),
            )
        })
        .collect();
    let want: Vec<(&str, &str, u64, Vec<&str>)> = j["largest_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cluster_id"].as_str().unwrap(),
                c["canonical_id"].as_str().unwrap(),
                c["size"].as_u64().unwrap(),
                c["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["id"].as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(clusters, want);
}

#[test]
fn the_audit_rpc_answers_what_neardup_audit_writes_and_leaves_namespaces_alone() {
    let corpus = corpus();
    // The CLI's audit of the same documents.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.jsonl");
    let jsonl: String = corpus.iter().map(|v| format!("{v}\n")).collect();
    std::fs::write(&input, jsonl).unwrap();
    let out = dir.path().join("out");
    let cli = run(
        &[
            "audit",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(
        cli.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let summary_json = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: Value = serde_json::from_str(&summary_json).unwrap();
    let rows: Vec<Value> = std::fs::read_to_string(out.join("clusters.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let server = TestServer::default().await;
        let mut client = server.client().await;
        // Live state the audit must not touch.
        let story = synthetic_article(1);
        client
            .check(proto::CheckRequest {
                namespace: "news".into(),
                document: Some(text_doc("live-1", &story)),
                ..Default::default()
            })
            .await
            .unwrap();
        let before = all_stats(&mut client).await;

        // Batches of 1, 3, 0 and the rest documents; options in the first message.
        let docs: Vec<proto::Document> = corpus.iter().map(to_proto).collect();
        let mut requests = Vec::new();
        let mut rest = docs.into_iter();
        for n in [1, 3, 0, usize::MAX] {
            requests.push(batch(rest.by_ref().take(n).collect()));
        }
        requests[0].options = Some(AuditOptions {
            return_clusters: true,
            ..Default::default()
        });
        let resp = audit(&mut client, requests).await.unwrap();

        assert_eq!(
            resp.summary_json, summary_json,
            "summary_json is byte for byte the CLI's summary.json"
        );
        let s = resp.summary.as_ref().unwrap();
        assert_mirrors(s, &summary);
        // Known by construction.
        let verdicts: Vec<(&str, i32, &str)> = resp
            .clusters
            .iter()
            .map(|r| (r.id.as_str(), r.verdict, r.duplicate_of.as_str()))
            .collect();
        assert_eq!(s.documents, 11);
        assert_eq!(s.exact_duplicates, 2, "{verdicts:?}");
        assert_eq!(s.near_duplicates, 1, "{verdicts:?}");
        assert_eq!(s.clusters, 8);
        assert_eq!(s.largest_cluster_size, 3);
        assert_eq!(s.languages.get("ar"), Some(&1));
        assert_eq!(s.languages.get("de"), Some(&1));
        let site = &s.boilerplate.as_ref().unwrap().per_source[0];
        assert_eq!(site.source, "daily.example");
        assert_eq!(site.documents, 8);
        assert!(site.share > 0.0);
        assert!(
            site.top_lines
                .iter()
                .any(|l| l.line == FOOT && l.count >= 3),
            "{:?}",
            site.top_lines
        );

        // The rows are the lines of clusters.jsonl.
        assert_eq!(resp.clusters.len(), rows.len());
        for (row, want) in resp.clusters.iter().zip(&rows) {
            assert_eq!(row.id, want["id"].as_str().unwrap());
            assert_eq!(row.cluster_id, want["cluster_id"].as_str().unwrap());
            assert_eq!(row.canonical_id, want["canonical_id"].as_str().unwrap());
            assert_eq!(
                row.duplicate_of,
                want["duplicate_of"].as_str().unwrap_or_default()
            );
            let verdict = match want["verdict"].as_str().unwrap() {
                "original" => AuditVerdict::Original,
                "exact" => AuditVerdict::Exact,
                _ => AuditVerdict::Near,
            };
            assert_eq!(row.verdict, verdict as i32, "{}", row.id);
            assert_eq!(row.lang, want["lang"].as_str().unwrap());
            assert_eq!(row.source, want["source"].as_str().unwrap_or_default());
            assert_eq!(row.url, want["url"].as_str().unwrap_or_default());
            assert_eq!(row.evidence.is_some(), !want["evidence"].is_null());
            if let Some(e) = &row.evidence {
                assert_eq!(e.id, want["evidence"]["id"].as_str().unwrap());
                let j = want["evidence"]["jaccard"].as_f64().unwrap() as f32;
                assert!((e.jaccard - j).abs() < 1e-6);
            }
            let share = want["boilerplate_share"].as_f64().unwrap() as f32;
            assert!((row.boilerplate_share - share).abs() < 1e-6);
        }
        let near = resp.clusters.iter().find(|r| r.id == "d1-near").unwrap();
        assert_eq!(near.verdict, AuditVerdict::Near as i32);
        assert_eq!(near.canonical_id, "d1");

        // Without rows, the same summary; and the live namespaces are as they were.
        let again = audit(
            &mut client,
            vec![batch(corpus.iter().map(to_proto).collect())],
        )
        .await
        .unwrap();
        assert_eq!(again.summary_json, summary_json);
        assert!(again.clusters.is_empty());
        assert_eq!(all_stats(&mut client).await, before);
        let live = client
            .check(proto::CheckRequest {
                namespace: "news".into(),
                document: Some(text_doc("live-2", &daily(3))),
                dry_run: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            live.duplicate_of.is_empty(),
            "the audited d3 is not in the live namespace"
        );

        // An empty stream audits nothing.
        let empty = audit(&mut client, Vec::new()).await.unwrap();
        assert_eq!(empty.summary.unwrap().documents, 0);

        let text = http_get(server.metrics, "/metrics").await;
        for line in [
            r#"neardup_grpc_requests_total{method="Audit",code="OK"} 3"#,
            "neardup_audit_documents_total 22",
            "neardup_audit_calls_open 0",
            r#"neardup_grpc_request_duration_seconds_count{method="Audit"} 3"#,
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
        server.stop().await.unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_audit_input_gets_the_right_code_and_the_server_goes_on() {
    let server = TestServer::start(Config {
        limits: Limits {
            max_message_bytes: 16_384,
            max_document_bytes: 1000,
            max_id_bytes: 300,
            max_audit_documents: 60,
            ..Limits::default()
        },
        ..Config::default()
    })
    .await;
    let mut client = server.client().await;
    let ok = |i: u64| text_doc(&format!("ok{i}"), &synthetic_article(i)[..300]);
    let options = |o: AuditOptions| AuditRequest {
        options: Some(o),
        documents: Vec::new(),
    };
    // Messages of ten documents each.
    let in_tens = |docs: Vec<proto::Document>| -> Vec<AuditRequest> {
        docs.chunks(10).map(|c| batch(c.to_vec())).collect()
    };
    let long_ids: Vec<proto::Document> = (0..50)
        .map(|i| {
            let mut d = ok(i);
            d.id = format!("{i:03}{}", "x".repeat(280));
            d
        })
        .collect();
    let mut rows_requested = in_tens(long_ids);
    rows_requested[0].options = Some(AuditOptions {
        return_clusters: true,
        ..Default::default()
    });
    // (requests, code, words the message must contain)
    let cases: Vec<(Vec<AuditRequest>, Code, &[&str])> = vec![
        (
            vec![
                batch(vec![ok(1), ok(2)]),
                batch(vec![ok(3), text_doc("", "x")]),
            ],
            Code::InvalidArgument,
            &["document 4", "document.id", "empty"],
        ),
        (
            vec![batch(vec![
                ok(1),
                proto::Document {
                    id: "nobody".into(),
                    ..Default::default()
                },
            ])],
            Code::InvalidArgument,
            &["document 2", "\"nobody\"", "document.content"],
        ),
        (
            vec![batch(vec![ok(1), text_doc("big", &"y".repeat(1001))])],
            Code::ResourceExhausted,
            &["document 2", "document.text", "1001", "limit of 1000"],
        ),
        (
            vec![batch(vec![text_doc(&"i".repeat(301), "x")])],
            Code::ResourceExhausted,
            &["document 1", "iii…", "document.id", "limit of 300"],
        ),
        (
            vec![batch(vec![ok(1)]), options(AuditOptions::default())],
            Code::InvalidArgument,
            &["options", "first message"],
        ),
        (
            vec![options(AuditOptions {
                top_lines: 1000,
                ..Default::default()
            })],
            Code::InvalidArgument,
            &["options.top_lines", "100"],
        ),
        (
            vec![options(AuditOptions {
                format: 42,
                ..Default::default()
            })],
            Code::InvalidArgument,
            &["options.format", "42"],
        ),
        (
            in_tens((0..61).map(ok).collect()),
            Code::ResourceExhausted,
            &[
                "documents in one Audit call",
                "limit of 60",
                "max_audit_documents",
            ],
        ),
        (
            vec![batch(
                (0..20)
                    .map(|i| text_doc(&format!("m{i}"), &"z".repeat(900)))
                    .collect(),
            )],
            Code::ResourceExhausted,
            &["request message", "limit of 16384", "max_message_bytes"],
        ),
        (
            rows_requested,
            Code::ResourceExhausted,
            &[
                "AuditResponse.clusters",
                "limit of 16384",
                "max_message_bytes",
            ],
        ),
    ];
    for (requests, code, words) in cases {
        let status = audit(&mut client, requests).await.unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        for w in words {
            assert!(
                status.message().contains(w),
                "{:?} lacks {w:?}",
                status.message()
            );
        }
    }

    // count_invalid: the refused documents are counted and the audit goes on.
    let resp = audit(
        &mut client,
        vec![AuditRequest {
            options: Some(AuditOptions {
                count_invalid: true,
                return_clusters: true,
                ..Default::default()
            }),
            documents: vec![
                ok(1),
                text_doc("", "no id"),
                ok(2),
                text_doc("big", &"y".repeat(1001)),
            ],
        }],
    )
    .await
    .unwrap();
    let s = resp.summary.unwrap();
    assert_eq!((s.documents, s.errors), (2, 2));
    assert!(
        s.error_samples[0].starts_with("document 2 (id \"\")"),
        "{:?}",
        s.error_samples
    );
    assert!(
        s.error_samples[1].contains("document.text is 1001 bytes"),
        "{:?}",
        s.error_samples
    );
    let ids: Vec<&str> = resp.clusters.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["ok1", "ok2"]);
    assert!(resp.summary_json.contains("\"errors\": 2"));

    // Still serving: a Check, and an Audit.
    let check = client
        .check(proto::CheckRequest {
            document: Some(ok(9)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(check.inserted);
    let copy = text_doc("ok1-copy", &synthetic_article(1)[..300]);
    let fine = audit(&mut client, vec![batch(vec![ok(1), copy, ok(2)])])
        .await
        .unwrap();
    let s = fine.summary.unwrap();
    assert_eq!((s.documents, s.exact_duplicates), (3, 1));
    server.stop().await.unwrap();
}

/// Wait (up to 2 s) until the server's `/metrics` show `line`.
async fn wait_for_metric(server: &TestServer, line: &str) {
    for _ in 0..200 {
        if http_get(server.metrics, "/metrics").await.contains(line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("/metrics never showed {line:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_open_audit_calls_and_a_drain_end_audit_calls() {
    let mut config = Config {
        drain_timeout: Duration::from_secs(2),
        ..Config::default()
    };
    config.limits.max_audit_calls = 1;
    let server = TestServer::start(config).await;
    let mut client = server.client().await;

    // The caller's deadline ends an Audit call left open. The response only comes at the end,
    // so the server's DEADLINE_EXCEEDED races tonic's own timers (client and server side),
    // which answer CANCELLED; either way the call ends and its slot is freed.
    let (tx, rx) = mpsc::channel(1);
    let mut req = tonic::Request::new(ReceiverStream::new(rx));
    req.set_timeout(Duration::from_millis(300));
    tx.send(batch(vec![text_doc("a", &synthetic_article(1))]))
        .await
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), client.audit(req))
        .await
        .expect("the deadline ends the call")
        .unwrap_err();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    drop(tx);
    // Its slot is free again.
    wait_for_metric(&server, "neardup_audit_calls_open 0").await;

    let (tx, rx) = mpsc::channel(1);
    let mut first_client = client.clone();
    let first = tokio::spawn(async move { first_client.audit(ReceiverStream::new(rx)).await });
    tx.send(batch(vec![text_doc("a", &synthetic_article(1))]))
        .await
        .unwrap();
    // Wait until the first call holds its slot.
    wait_for_metric(&server, "neardup_audit_calls_open 1").await;
    let refused = audit(&mut client, Vec::new()).await.err();
    let status = refused.expect("a second Audit call is refused while the first is open");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("max_audit_calls"), "{status:?}");
    assert!(status.message().contains("limit of 1"), "{status:?}");
    // Other calls are not affected.
    client.echo(proto::EchoRequest::default()).await.unwrap();

    // A drain ends the open call with UNAVAILABLE.
    let stopping = tokio::spawn(server.stop());
    let status = tokio::time::timeout(Duration::from_secs(10), first)
        .await
        .expect("the open Audit call is ended by the drain")
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    drop(tx);
    stopping.await.unwrap().unwrap();
}

#[test]
fn audit_remote_writes_what_the_local_audit_writes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.jsonl");
    // The hand-built corpus with a line that does not parse (counted as an error on both sides).
    let mut lines: Vec<String> = corpus().iter().map(Value::to_string).collect();
    lines.insert(3, "{\"id\": \"broken\", \"text\": ".to_string());
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let audit_into = |out: &std::path::Path, extra: &[&str]| {
        let mut args = vec!["audit", "--quiet", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(input.to_str().unwrap());
        let res = run(&args, b"");
        assert_eq!(
            res.status.code(),
            Some(1),
            "one bad line: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    };
    let local = dir.path().join("local");
    audit_into(&local, &[]);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::default());
    let url = server.url();
    let remote = dir.path().join("remote");
    audit_into(&remote, &["--remote", &url, "--clusters"]);
    for file in ["summary.json", "clusters.jsonl", "report.html"] {
        let a = std::fs::read_to_string(local.join(file)).unwrap();
        let b = std::fs::read_to_string(remote.join(file)).unwrap();
        assert!(a == b, "{file} differs:\n{a}\n---\n{b}");
    }
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(remote.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["errors"], 1);
    assert!(summary["error_samples"][0]
        .as_str()
        .unwrap()
        .contains("corpus.jsonl:4"));

    // Without --clusters: the summary only.
    let bare = dir.path().join("bare");
    audit_into(&bare, &["--remote", &url]);
    assert!(bare.join("summary.json").is_file() && !bare.join("clusters.jsonl").exists());
    // --clusters needs --remote; an unreachable server is a clear error.
    let res = run(&["audit", "--clusters", input.to_str().unwrap()], b"");
    assert_eq!(res.status.code(), Some(2));
    let res = run(
        &[
            "audit",
            "--quiet",
            "--out",
            dir.path().join("x").to_str().unwrap(),
            "--remote",
            "127.0.0.1:1",
            input.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("cannot reach"));
    drop(server);
    runtime.shutdown_timeout(Duration::from_secs(5));
}
