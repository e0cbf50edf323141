//! The gRPC service end to end: the real server (`server::run_with_metrics`) on 127.0.0.1:0,
//! called with the generated tonic client, the health and reflection clients, plain HTTP for
//! `/metrics`, the `--remote` CLI client, and a Python grpcio + Scrapy client (pytest).

use std::net::SocketAddr;
use std::time::Duration;

use neardup::config::{Config, Limits};
use neardup::proto::near_dup_client::NearDupClient;
use neardup::proto::{self, document::Content, CheckRequest, CheckResponse, Verdict};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;
use tonic::Code;

/// A server running in this process until dropped or shut down (also used by `audit_rpc`).
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) metrics: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<neardup::Result<()>>>,
}

impl TestServer {
    pub(crate) async fn start(config: Config) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = metrics_listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(neardup::server::run_with_metrics(
            listener,
            Some(metrics_listener),
            config,
            async move {
                let _ = rx.await;
            },
        ));
        TestServer {
            addr,
            metrics,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub(crate) async fn default() -> Self {
        Self::start(Config::default()).await
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) async fn client(&self) -> NearDupClient<Channel> {
        NearDupClient::connect(self.url()).await.unwrap()
    }

    pub(crate) async fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Signal shutdown and wait for `run` to return.
    pub(crate) async fn stop(mut self) -> neardup::Result<()> {
        let _ = self.shutdown.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.handle.take().unwrap())
            .await
            .expect("server stops within the drain timeout")
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Open a CheckStream, send one document and wait for its answer.
async fn open_stream(
    client: &mut NearDupClient<Channel>,
    namespace: &str,
    id: &str,
) -> (mpsc::Sender<CheckRequest>, tonic::Streaming<CheckResponse>) {
    let (tx, rx) = mpsc::channel(1);
    let mut stream = client
        .check_stream(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(check(namespace, id, STORY)).await.unwrap();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.id, id);
    (tx, stream)
}

fn text_doc(id: &str, text: &str) -> proto::Document {
    proto::Document {
        id: id.into(),
        content: Some(Content::Text(text.into())),
        ..Default::default()
    }
}

fn check(namespace: &str, id: &str, text: &str) -> CheckRequest {
    CheckRequest {
        namespace: namespace.into(),
        document: Some(text_doc(id, text)),
        ..Default::default()
    }
}

const STORY: &str = "The council voted on Tuesday to close the old bridge for repairs.\n\
                     Work starts next month and should take a year, the mayor said.";
const OTHER: &str = "Floods cut the coastal road after two days of heavy rain.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_answers() {
    let server = TestServer::default().await;
    let mut client = server.client().await;

    let first = client
        .check(check("news", "a", STORY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.id, "a");
    assert_eq!(first.verdict, Verdict::Unique as i32);
    assert_eq!(first.duplicate_of, "");
    assert_eq!(first.cluster_id, "a");
    assert!(first.inserted);
    assert!(first.matches.is_empty());
    assert!(first.clean_text.is_empty(), "clean text only when asked");

    let dry = client
        .check(CheckRequest {
            dry_run: true,
            return_clean: true,
            ..check("news", "b", STORY)
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dry.verdict, Verdict::Duplicate as i32);
    assert_eq!(dry.duplicate_of, "a");
    assert!(!dry.inserted);
    assert!(dry.clean_text.contains("old bridge"));
    assert_eq!(dry.simhash, first.simhash);

    let dup = client
        .check(check("news", "c", &STORY.to_uppercase()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(dup.verdict, Verdict::Duplicate as i32);
    assert_eq!(dup.duplicate_of, "a");
    assert_eq!(dup.cluster_id, "a");
    assert_eq!(dup.matches[0].id, "a");
    assert_eq!(dup.matches[0].tier, proto::Tier::Exact as i32);

    // Namespaces are separate.
    let elsewhere = client
        .check(check("other", "a", STORY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(elsewhere.verdict, Verdict::Unique as i32);

    let cleaned = client
        .clean(proto::CleanRequest {
            namespace: "news".into(),
            document: Some(text_doc("x", &format!("Share on Facebook\n\n{STORY}\n"))),
            format: proto::ContentFormat::Text as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cleaned.text, STORY);
    assert_eq!(cleaned.removed.len(), 1, "the share line is removed");
    assert!(!cleaned.removed[0].kind.is_empty());

    let stats = client
        .stats(proto::StatsRequest {
            namespace: "news".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.namespaces.len(), 1);
    let news = &stats.namespaces[0];
    assert_eq!((news.documents, news.duplicates, news.clusters), (2, 1, 1));
    let all = client
        .stats(proto::StatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = all
        .namespaces
        .iter()
        .map(|n| n.namespace.as_str())
        .collect();
    assert!(
        names.contains(&"news") && names.contains(&"other"),
        "{names:?}"
    );

    let deleted = client
        .delete(proto::DeleteRequest {
            namespace: "news".into(),
            id: "a".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(deleted.deleted);
    let again = client
        .delete(proto::DeleteRequest {
            namespace: "news".into(),
            id: "a".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!again.deleted, "a second delete finds nothing");

    let payload = vec![7u8; 3000];
    let echo = client
        .echo(proto::EchoRequest {
            payload: payload.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(echo.payload, payload);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_stream_answers_in_request_order_and_survives_a_bad_request() {
    let server = TestServer::default().await;
    let mut client = server.client().await;
    let n = 300;
    let (tx, rx) = mpsc::channel(8);
    let sender = tokio::spawn(async move {
        for i in 0..n {
            let req = if i == 150 {
                check("feed", "", "no id") // refused alone
            } else {
                // Every third document repeats the one before it.
                let story = if i % 3 == 2 { i - 1 } else { i };
                check(
                    "feed",
                    &format!("d{i}"),
                    &crate::common::synthetic_article(story as u64),
                )
            };
            tx.send(req).await.unwrap();
        }
    });
    let mut stream = client
        .check_stream(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let mut got: Vec<CheckResponse> = Vec::new();
    while let Some(resp) = stream.message().await.unwrap() {
        got.push(resp);
    }
    sender.await.unwrap();
    assert_eq!(got.len(), n);
    for (i, resp) in got.iter().enumerate() {
        if i == 150 {
            let err = resp.error.as_ref().expect("per-request error");
            assert_eq!(err.code, Code::InvalidArgument as i32);
            assert!(err.message.contains("document.id"), "{}", err.message);
            continue;
        }
        assert!(resp.error.is_none());
        assert_eq!(resp.id, format!("d{i}"), "responses come in request order");
        if i % 3 == 2 {
            assert_eq!(resp.duplicate_of, format!("d{}", i - 1));
        } else {
            assert_eq!(resp.verdict, Verdict::Unique as i32);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_documents_sent_at_once_yield_exactly_one_original() {
    // Engine calls inline on the runtime threads, on one engine thread, and on two that
    // commit to the same namespace.
    for engine_threads in [0, 1, 2] {
        let server = TestServer::start(Config {
            engine_threads,
            ..Config::default()
        })
        .await;
        identical_documents_race(&server).await;
    }
}

async fn identical_documents_race(server: &TestServer) {
    let channel = server.channel().await;
    for round in 0..5 {
        let text = crate::common::synthetic_article(1000 + round);
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let mut client = NearDupClient::new(channel.clone());
                let req = check("race", &format!("r{round}-{i}"), &text);
                tokio::spawn(async move { client.check(req).await.unwrap().into_inner() })
            })
            .collect();
        let mut originals = Vec::new();
        let mut duplicates = Vec::new();
        for t in tasks {
            let resp = t.await.unwrap();
            if resp.verdict == Verdict::Unique as i32 {
                originals.push(resp.id);
            } else {
                duplicates.push(resp.duplicate_of);
            }
        }
        assert_eq!(originals.len(), 1, "round {round}: {originals:?}");
        assert!(duplicates.iter().all(|d| *d == originals[0]));
    }
}

fn small_limits() -> Config {
    Config {
        limits: Limits {
            max_message_bytes: 4096,
            max_document_bytes: 1000,
            max_id_bytes: 16,
            max_namespace_bytes: 8,
            ..Limits::default()
        },
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_get_the_right_code_and_the_server_goes_on() {
    let server = TestServer::start(small_limits()).await;
    let mut client = server.client().await;
    let html = |id: &str, n: usize| proto::Document {
        id: id.into(),
        content: Some(Content::Html(vec![b'x'; n])),
        ..Default::default()
    };
    // (request, code, words the message must contain)
    let cases: Vec<(CheckRequest, Code, &[&str])> = vec![
        (
            CheckRequest::default(),
            Code::InvalidArgument,
            &["document", "missing"],
        ),
        (
            check("ns", "", "text"),
            Code::InvalidArgument,
            &["document.id", "empty"],
        ),
        (
            CheckRequest {
                document: Some(proto::Document {
                    id: "a".into(),
                    content: None,
                    ..Default::default()
                }),
                ..Default::default()
            },
            Code::InvalidArgument,
            &["document.content", "document.text or document.html"],
        ),
        (
            CheckRequest {
                format: 42,
                ..check("ns", "a", "text")
            },
            Code::InvalidArgument,
            &["format", "42"],
        ),
        (
            check("ns", "a", &"y".repeat(1001)),
            Code::ResourceExhausted,
            &["document.text", "1001", "limit of 1000"],
        ),
        (
            CheckRequest {
                document: Some(html("a", 2000)),
                ..Default::default()
            },
            Code::ResourceExhausted,
            &["document.html", "2000", "limit of 1000"],
        ),
        (
            check("ns", &"i".repeat(17), "text"),
            Code::ResourceExhausted,
            &["document.id", "17", "limit of 16"],
        ),
        (
            check("namespace-too-long", "a", "text"),
            Code::ResourceExhausted,
            &["namespace", "limit of 8"],
        ),
        (
            CheckRequest {
                document: Some(html("a", 6000)),
                ..Default::default()
            },
            Code::ResourceExhausted,
            &["request message", "limit of 4096", "max_message_bytes"],
        ),
    ];
    for (req, code, words) in cases {
        let status = client.check(req.clone()).await.unwrap_err();
        assert_eq!(status.code(), code, "{req:?}: {status:?}");
        for w in words {
            assert!(
                status.message().contains(w),
                "{:?} lacks {w:?}",
                status.message()
            );
        }
    }
    // Small on the wire, too big once decompressed.
    let mut gz =
        NearDupClient::new(server.channel().await).send_compressed(CompressionEncoding::Gzip);
    let status = gz
        .check(CheckRequest {
            document: Some(html("a", 100_000)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("max_message_bytes"), "{status:?}");
    // Other RPCs validate too.
    let status = client
        .delete(proto::DeleteRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("id"));
    let status = client
        .clean(proto::CleanRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    // In a stream: an oversized document refuses that request only; an oversized message
    // ends the stream (its frame cannot be skipped) with the limit named.
    let requests = vec![
        check("ns", "s1", &"z".repeat(1001)),
        check("ns", "s2", OTHER),
        CheckRequest {
            document: Some(html("s3", 6000)),
            ..Default::default()
        },
    ];
    let mut stream = client
        .check_stream(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let refused = stream.message().await.unwrap().unwrap();
    let err = refused.error.unwrap();
    assert_eq!(err.code, Code::ResourceExhausted as i32);
    assert!(err.message.contains("document.text") && err.message.contains("1000"));
    assert_eq!(stream.message().await.unwrap().unwrap().id, "s2");
    let status = stream.message().await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("max_message_bytes"), "{status:?}");
    // Still serving, on the same connection and on a gzip one.
    let ok = client
        .check(check("ns", "good", STORY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.verdict, Verdict::Unique as i32);
    let ok = gz
        .check(check("ns", "good2", STORY))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.duplicate_of, "good");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_both_ways() {
    let server = TestServer::default().await;
    let mut client = NearDupClient::new(server.channel().await)
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let payload = b"abc".repeat(2000);
    let echo = client
        .echo(proto::EchoRequest {
            payload: payload.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        echo.metadata()
            .get("grpc-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(echo.into_inner().payload, payload);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_streams_are_refused_with_the_limit_named() {
    let mut config = Config::default();
    config.limits.max_check_streams = 1;
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let (tx1, mut first) = open_stream(&mut client, "s", "a").await;
    let (_tx2, rx2) = mpsc::channel::<CheckRequest>(1);
    let status = client
        .check_stream(ReceiverStream::new(rx2))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("max_check_streams"));
    assert!(status.message().contains("limit is 1"));
    // Unary calls are not affected, and a freed slot is reusable.
    client.check(check("s", "b", OTHER)).await.unwrap();
    drop(tx1);
    assert!(first.message().await.unwrap().is_none());
    let mut reopened = None;
    for _ in 0..50 {
        let (tx3, rx3) = mpsc::channel(1);
        if let Ok(resp) = client.check_stream(ReceiverStream::new(rx3)).await {
            reopened = Some((tx3, resp.into_inner()));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (tx3, mut third) = reopened.expect("the slot is released when a stream ends");
    tx3.send(check("s", "c", STORY)).await.unwrap();
    assert_eq!(third.message().await.unwrap().unwrap().duplicate_of, "a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_are_honoured() {
    let server = TestServer::default().await;
    let mut client = server.client().await;
    // A stream whose caller deadline passes while it idles ends with DEADLINE_EXCEEDED.
    let (tx, rx) = mpsc::channel(1);
    // The header is set by hand: tonic's own client-side timer would otherwise answer first.
    let mut req = tonic::Request::new(ReceiverStream::new(rx));
    req.metadata_mut()
        .insert("grpc-timeout", "300m".parse().unwrap());
    let mut stream = client.check_stream(req).await.unwrap().into_inner();
    tx.send(check("d", "a", STORY)).await.unwrap();
    assert!(stream.message().await.unwrap().is_some());
    let status = stream.message().await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    drop(tx);
    // The server's own cap (request_timeout) on a unary call whose work takes longer. (A
    // caller's grpc-timeout that short would be enforced by tonic's client first.)
    let config = Config {
        request_timeout: Duration::from_millis(1),
        limits: Limits {
            max_message_bytes: 16 << 20,
            max_document_bytes: 8 << 20,
            ..Limits::default()
        },
        ..Config::default()
    };
    let strict = TestServer::start(config).await;
    let mut strict_client = strict.client().await;
    let big = "word and another word\n".repeat(300_000);
    let status = strict_client
        .check(check("d", "b", &big))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("deadline"));
    let _ = strict_client
        .echo(proto::EchoRequest::default())
        .await
        .unwrap();
    // A sane deadline is fine.
    let mut req = tonic::Request::new(check("d", "c", OTHER));
    req.set_timeout(Duration::from_secs(5));
    client.check(req).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_are_reachable() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let server = TestServer::default().await;
    let channel = server.channel().await;
    let mut health = HealthClient::new(channel.clone());
    for service in ["", "neardup.v1.NearDup"] {
        let resp = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resp.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap()
        .into_inner();
    let resp = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection answer {resp:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"neardup.v1.NearDup".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_string()),
        "{names:?}"
    );
}

pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut body = String::new();
    conn.read_to_string(&mut body).await.unwrap();
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_counts_requests_documents_and_duplicates() {
    let server = TestServer::default().await;
    let mut client = server.client().await;
    client.check(check("m", "a", STORY)).await.unwrap();
    client.check(check("m", "b", STORY)).await.unwrap();
    let _ = client.check(check("m", "", STORY)).await.unwrap_err();
    let text = http_get(server.metrics, "/metrics").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    for line in [
        r#"neardup_grpc_requests_total{method="Check",code="OK"} 2"#,
        r#"neardup_grpc_requests_total{method="Check",code="INVALID_ARGUMENT"} 1"#,
        "neardup_documents_checked_total 2",
        "neardup_duplicates_total 1",
        r#"neardup_grpc_request_duration_seconds_count{method="Check"} 3"#,
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_turns_health_off_ends_streams_and_returns() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;

    let server = TestServer::start(Config {
        drain_timeout: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let mut health = HealthClient::new(server.channel().await);
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "neardup.v1.NearDup".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let serving = watch.message().await.unwrap().unwrap();
    assert_eq!(serving.status, ServingStatus::Serving as i32);
    let mut client = server.client().await;
    let (tx, mut stream) = open_stream(&mut client, "s", "a").await;

    let started = std::time::Instant::now();
    let stopping = tokio::spawn(server.stop());
    let status = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the open stream is ended by the drain")
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    drop(tx);
    let off = watch.message().await.unwrap().unwrap();
    assert_eq!(off.status, ServingStatus::NotServing as i32);
    // The health watch keeps its connection open: run() returns at the drain timeout.
    stopping.await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn remote_dedup_and_clean_match_the_local_commands() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::default());
    let url = server.url();
    let input = format!(
        "{}\nnot json\n\n{}\n{}\n{}\n",
        serde_json::json!({"id": "a", "text": STORY}),
        serde_json::json!({"id": "b", "text": STORY, "source": "x"}),
        serde_json::json!({"id": "", "text": OTHER}),
        serde_json::json!({"id": "c", "html": "<p>other</p>"}),
    );
    let mut remote_out = Vec::new();
    let failed =
        neardup::cli::remote::dedup_remote(&url, "default", input.as_bytes(), &mut remote_out)
            .unwrap();
    assert!(failed);
    let local = crate::common::run(&["dedup", "-"], input.as_bytes());
    assert_eq!(local.status.code(), Some(1));
    // The same through the command line's --remote flag, in a fresh namespace.
    let via_flag = crate::common::run(
        &["dedup", "--namespace", "flag", "--remote", &url, "-"],
        input.as_bytes(),
    );
    assert_eq!(via_flag.status.code(), Some(1));
    assert_eq!(via_flag.stdout, local.stdout);
    assert_eq!(
        String::from_utf8(remote_out).unwrap(),
        String::from_utf8(local.stdout).unwrap(),
        "remote dedup writes exactly what local dedup writes"
    );

    let page = "<p>headline</p>\n\n<p>body</p>\n";
    let cleaned = neardup::cli::remote::clean_remote(
        &url,
        "default",
        neardup::document::Content::Html(page.as_bytes().to_vec()),
        neardup::boilerplate::InputFormat::Auto,
        Some("site"),
    )
    .unwrap();
    let local = crate::common::run(
        &["clean", "--json", "--source", "site", "-"],
        page.as_bytes(),
    );
    assert_eq!(
        format!("{}\n", serde_json::to_string(&cleaned).unwrap()),
        String::from_utf8(local.stdout.clone()).unwrap()
    );
    // The same through the command line's --remote flag.
    let via_flag = crate::common::run(
        &["clean", "--json", "--source", "site", "--remote", &url, "-"],
        page.as_bytes(),
    );
    assert_eq!(via_flag.status.code(), Some(0));
    assert_eq!(via_flag.stdout, local.stdout);
    let err = neardup::cli::remote::dedup_remote("127.0.0.1:1", "default", &b""[..], Vec::new())
        .unwrap_err();
    assert!(err.to_string().contains("cannot reach"), "{err}");
    drop(server);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// The Python virtualenv of the example client: `target/py-venv`, created and filled from
/// `examples/python/requirements.txt` when missing or when the requirements changed (built
/// beside and renamed into place, so an interrupted install is never reused).
fn python_venv() -> std::path::PathBuf {
    use std::process::Command;
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let requirements = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("python")
        .join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    let venv = target.join("py-venv");
    let marker = |dir: &std::path::Path| dir.join("neardup-requirements.txt");
    if std::fs::read_to_string(marker(&venv)).ok().as_deref() == Some(wanted.as_str()) {
        return venv;
    }
    let python = std::env::var("NEARDUP_PYTHON").unwrap_or_else(|_| "python3".into());
    let building = target.join(format!("py-venv.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let status = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&building)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python} (Python 3 with venv is needed): {e}"));
    assert!(
        status.success(),
        "{python} -m venv failed (on Debian: apt-get install python3-venv)"
    );
    let status = Command::new(building.join("bin").join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-r",
        ])
        .arg(&requirements)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "pip install -r {} failed",
        requirements.display()
    );
    std::fs::write(marker(&building), &wanted).unwrap();
    if std::fs::read_to_string(marker(&venv)).ok().as_deref() == Some(wanted.as_str()) {
        // Another test run finished first: keep its venv (it may be in use).
        let _ = std::fs::remove_dir_all(&building);
        return venv;
    }
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::rename(&building, &venv).unwrap();
    venv
}

/// A real grpcio client (health, reflection, verdicts on the seeds and their variants) and a
/// real Scrapy crawl through the example pipeline, as pytest in `examples/python`, against this
/// server. Set NEARDUP_SKIP_PYTHON=1 to skip on a machine without Python or PyPI.
#[test]
fn python_grpcio_client_and_scrapy_pipeline_pass() {
    if std::env::var_os("NEARDUP_SKIP_PYTHON").is_some_and(|v| v == "1") {
        eprintln!("NEARDUP_SKIP_PYTHON=1: the Python client tests are skipped");
        return;
    }
    let venv = python_venv();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::default());
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("python");
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = std::process::Command::new(venv.join("bin").join("python"))
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"])
        .current_dir(&examples)
        .env("NEARDUP_ADDR", server.addr.to_string())
        .env("NEARDUP_SEEDS", crate::common::shared().join("seeds"))
        .env("NEARDUP_PY_GEN", target.join("py-gen"))
        .output()
        .unwrap();
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest failed:\n{report}");
    assert!(report.contains(" passed"), "{report}");
    println!("{report}");
    drop(server);
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// The binary: `neardup serve` on port 0 with a config file, answers, and drains on SIGTERM
/// with exit code 0.
#[cfg(unix)]
#[test]
fn serve_binary_answers_and_drains_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("neardup.toml");
    std::fs::write(&config, "[limits]\nmax_document_bytes = 100\n").unwrap();
    let data = dir.join("data");
    let mut child = Command::new(crate::common::bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    // "neardup listening on ADDR (gRPC), metrics at http://ADDR/metrics"
    let addr = ready
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no readiness line: {ready:?}"))
        .to_string();
    assert!(ready.contains("/metrics"), "{ready}");
    let mut log = BufReader::new(child.stderr.take().unwrap());
    assert!(data.is_dir(), "the data directory is created");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut client = NearDupClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let ok = client
            .check(check("", "a", "short"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.verdict, Verdict::Unique as i32);
        let status = client
            .check(check("", "b", &"x".repeat(101)))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::ResourceExhausted,
            "the config file's limit applies"
        );
    });
    drop(runtime); // closes the client's connection, which the drain would otherwise wait for
    let stopping = std::time::Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut log, &mut rest).unwrap();
    assert!(status.success(), "exit {status:?}\n{rest}");
    assert!(rest.contains("draining"), "{rest}");
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );
}
