//! `neardup audit`: counts on a hand-built corpus, parity with `neardup dedup`, WARC and folder
//! inputs end to end, the report's structure, determinism across thread counts.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::common::{run, shared};

fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn audit(args: &[&str]) -> std::process::Output {
    let mut all = vec!["audit", "--quiet"];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// Audit `inputs` into `out`, expecting exit code `code`.
fn audit_into(out: &Path, inputs: &[&Path], code: i32) {
    let mut args = vec!["--out", out.to_str().unwrap()];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let res = audit(&args);
    assert_eq!(
        res.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

const EN_1: &str = "The city council voted on Tuesday to close the old river bridge for six months of repairs, officials said.\nTraffic will be diverted through the northern ring road while engineers replace the steel deck.";
const EN_2: &str = "A rare comet will be visible to the naked eye next week, astronomers at the national observatory announced.\nThe best viewing time is shortly before dawn, away from city lights, looking towards the eastern horizon.";
const DE_1: &str = "Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke für sechs Monate zu sperren, und die Arbeiten beginnen im Mai.\nDer Verkehr wird über die nördliche Umgehungsstraße geleitet, solange die Ingenieure das Deck erneuern.";
const AR_1: &str = "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في العاصمة يضم ثلاثمائة سرير ووحدة متخصصة لعلاج الأطفال.\nوقال الوزير إن المستشفى سيبدأ استقبال المرضى مطلع الشهر المقبل بعد اكتمال تجهيز الأقسام.";

fn line(id: &str, text: &str, source: &str) -> String {
    serde_json::json!({"id": id, "text": text, "source": source, "extra": [1, 2]}).to_string()
}

/// A corpus whose every count is known: 7 documents in 4 clusters (sizes 3, 2, 1, 1), 3 exact
/// duplicates (changed only in case and spacing), 2 sources, 3 languages, 1 bad line.
fn hand_built() -> String {
    [
        line("en1", EN_1, "daily.example"),
        line("ar1", AR_1, "akhbar.example"),
        line("en1-copy", &EN_1.to_uppercase(), "akhbar.example"),
        String::new(),
        "{\"id\": \"broken\", \"text\": ".to_string(),
        line("de1", DE_1, "daily.example"),
        line("ar1-copy", &AR_1.replace(' ', "  "), "daily.example"),
        line("en2", EN_2, "daily.example"),
        line("en1-again", EN_1, "daily.example"),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn summary_counts_are_right_on_a_hand_built_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.jsonl");
    std::fs::write(&input, hand_built()).unwrap();
    let out = dir.path().join("out");
    audit_into(&out, &[&input], 1);

    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["documents"], 7);
    assert_eq!(s["originals"], 4);
    assert_eq!(s["exact_duplicates"], 3);
    assert_eq!(s["near_duplicates"], 0);
    assert!((s["duplication_rate"].as_f64().unwrap() - 3.0 / 7.0).abs() < 1e-9);
    assert_eq!(s["clusters"], 4);
    assert_eq!(s["clusters_with_duplicates"], 2);
    assert_eq!(s["largest_cluster_size"], 3);
    let buckets: HashMap<String, (u64, u64)> = s["cluster_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_string(),
                (
                    b["clusters"].as_u64().unwrap(),
                    b["documents"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(buckets["1"], (2, 2));
    assert_eq!(buckets["2"], (1, 2));
    assert_eq!(buckets["3"], (1, 3));
    assert_eq!(buckets["4-5"], (0, 0));
    assert_eq!(s["duplicates_by_tier"]["exact"], 3);
    assert_eq!(
        s["jaccard_histogram"]["counts"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        3
    );
    assert_eq!(s["languages"]["en"], 4);
    assert_eq!(s["languages"]["ar"], 2);
    assert_eq!(s["languages"]["de"], 1);
    assert_eq!(s["errors"], 1);
    let sample = s["error_samples"][0].as_str().unwrap();
    assert!(sample.contains("corpus.jsonl:5"), "{sample}");
    let per_source: HashMap<&str, &Value> = s["boilerplate"]["per_source"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["source"].as_str().unwrap(), x))
        .collect();
    assert_eq!(per_source["daily.example"]["documents"], 5);
    assert_eq!(per_source["daily.example"]["duplicates"], 2);
    assert_eq!(per_source["akhbar.example"]["documents"], 2);
    assert_eq!(per_source["akhbar.example"]["duplicates"], 1);

    let largest = s["largest_clusters"].as_array().unwrap();
    assert_eq!(largest.len(), 2);
    assert_eq!(largest[0]["canonical_id"], "en1");
    assert_eq!(largest[0]["size"], 3);
    let members: Vec<&str> = largest[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["en1", "en1-copy", "en1-again"]);
    assert!(largest[0]["members"][0]["snippet"]
        .as_str()
        .unwrap()
        .starts_with("The city council voted"));
    assert_eq!(largest[1]["canonical_id"], "ar1");

    let rows = read_jsonl(&out.join("clusters.jsonl"));
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "en1",
            "ar1",
            "en1-copy",
            "de1",
            "ar1-copy",
            "en2",
            "en1-again"
        ]
    );
    let by_id: HashMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    assert_eq!(by_id["en1-again"]["canonical_id"], "en1");
    assert_eq!(by_id["en1-again"]["verdict"], "exact");
    assert_eq!(by_id["en1-again"]["evidence"]["tier"], "exact");
    assert!(by_id["en1-again"]["duplicate_of"].is_string());
    assert_eq!(by_id["ar1-copy"]["canonical_id"], "ar1");
    assert_eq!(by_id["de1"]["verdict"], "original");
    assert!(by_id["de1"]["duplicate_of"].is_null());
    assert_eq!(by_id["de1"]["lang"], "de");

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches(r#"<tr class="cluster-row">"#).count(), 2);
    for id in [
        "chart-cluster-sizes",
        "chart-similarity",
        "chart-boilerplate",
    ] {
        assert!(
            html.contains(&format!(r#"<svg class="chart" id="{id}""#)),
            "{id}"
        );
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

/// Connected components of `id → other` edges, as sets of ids keyed by their smallest member.
fn partition(edges: &[(String, Option<String>)]) -> Vec<Vec<String>> {
    let mut parent: HashMap<String, String> = HashMap::new();
    fn find(p: &mut HashMap<String, String>, x: &str) -> String {
        let mut x = x.to_string();
        while let Some(up) = p.get(&x).cloned() {
            if up == x {
                break;
            }
            x = up;
        }
        x
    }
    for (a, b) in edges {
        parent.entry(a.clone()).or_insert_with(|| a.clone());
        if let Some(b) = b {
            parent.entry(b.clone()).or_insert_with(|| b.clone());
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent.insert(ra, rb);
            }
        }
    }
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    let ids: Vec<String> = parent.keys().cloned().collect();
    for id in ids {
        let root = find(&mut parent, &id);
        groups.entry(root).or_default().push(id);
    }
    let mut out: Vec<Vec<String>> = groups
        .into_values()
        .map(|mut g| {
            g.sort();
            g
        })
        .collect();
    out.sort();
    out
}

#[test]
fn clusters_equal_dedup_on_a_dev_sample() {
    let dev = shared().join("data/neardup/dev.jsonl");
    let sample: String = std::fs::read_to_string(&dev)
        .unwrap()
        .lines()
        .take(700)
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sample.jsonl");
    std::fs::write(&input, &sample).unwrap();

    let dedup = run(&["dedup", input.to_str().unwrap()], b"");
    assert_eq!(dedup.status.code(), Some(0));
    let dedup_rows: Vec<Value> = String::from_utf8(dedup.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();

    let out = dir.path().join("out");
    audit_into(&out, &[&input], 0);
    let rows = read_jsonl(&out.join("clusters.jsonl"));
    assert_eq!(rows.len(), dedup_rows.len());

    for (a, d) in rows.iter().zip(&dedup_rows) {
        assert_eq!(a["id"], d["id"]);
        assert_eq!(a["duplicate_of"], d["duplicate_of"], "{}", a["id"]);
        assert_eq!(a["cluster_id"], d["cluster_id"], "{}", a["id"]);
    }
    // Clusters as pairs (id, canonical_id) give the same partition as dedup's links.
    let from_clusters: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["canonical_id"].as_str().map(str::to_string),
            )
        })
        .collect();
    let from_dedup: Vec<(String, Option<String>)> = dedup_rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["duplicate_of"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(partition(&from_clusters), partition(&from_dedup));
    // The script-based language guess agrees with the set's labels (ar, en, de).
    let agree = sample
        .lines()
        .zip(&rows)
        .filter(|(l, r)| serde_json::from_str::<Value>(l).unwrap()["lang"] == r["lang"])
        .count();
    assert!(agree * 100 >= rows.len() * 99, "{agree} of {}", rows.len());
    let s = read_json(&out.join("summary.json"));
    let flagged = dedup_rows
        .iter()
        .filter(|r| !r["duplicate_of"].is_null())
        .count() as u64;
    assert_eq!(
        s["exact_duplicates"].as_u64().unwrap() + s["near_duplicates"].as_u64().unwrap(),
        flagged
    );
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let dev = shared().join("data/neardup/dev.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(format!("t{threads}"));
        let res = audit(&[
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
            dev.to_str().unwrap(),
        ]);
        assert_eq!(res.status.code(), Some(0));
        outputs.push((
            std::fs::read(out.join("clusters.jsonl")).unwrap(),
            std::fs::read(out.join("summary.json")).unwrap(),
            std::fs::read(out.join("report.html")).unwrap(),
        ));
    }
    assert!(outputs[0].0 == outputs[1].0, "clusters.jsonl differs");
    assert!(outputs[0].1 == outputs[1].1, "summary.json differs");
    assert!(outputs[0].2 == outputs[1].2, "report.html differs");
}

fn http_response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn warc_record(kind: &str, id: &str, uri: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    use warc::{RawRecordHeader, WarcHeader, WarcWriter};
    let headers = RawRecordHeader {
        version: "1.1".to_string(),
        headers: [
            (WarcHeader::WarcType, kind.as_bytes().to_vec()),
            (
                WarcHeader::RecordID,
                format!("<urn:uuid:{id}>").into_bytes(),
            ),
            (WarcHeader::Date, b"2024-03-01T08:30:00Z".to_vec()),
            (WarcHeader::TargetURI, uri.as_bytes().to_vec()),
            (WarcHeader::ContentType, content_type.as_bytes().to_vec()),
            (
                WarcHeader::ContentLength,
                body.len().to_string().into_bytes(),
            ),
        ]
        .into_iter()
        .collect(),
    };
    let mut writer = WarcWriter::new(std::io::BufWriter::new(Vec::new()));
    writer.write_raw(headers, &body).unwrap();
    writer.into_inner().unwrap()
}

fn page(title: &str, body: &str) -> String {
    format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>")
}

#[test]
fn a_warc_gz_written_with_the_warc_crate_is_audited_end_to_end() {
    let http = "application/http; msgtype=response";
    let story = page("Bridge closed", EN_1);
    let records: Vec<Vec<u8>> = vec![
        warc_record(
            "warcinfo",
            "00000000-0000-0000-0000-000000000000",
            "",
            "application/warc-fields",
            b"software: test\r\n",
        ),
        warc_record(
            "request",
            "11111111-0000-0000-0000-000000000000",
            "https://daily.example/bridge",
            "application/http; msgtype=request",
            b"GET /bridge HTTP/1.1\r\nHost: daily.example\r\n\r\n",
        ),
        warc_record(
            "response",
            "22222222-0000-0000-0000-000000000000",
            "https://daily.example/bridge",
            http,
            &http_response("200 OK", "text/html; charset=utf-8", &story),
        ),
        warc_record(
            "response",
            "33333333-0000-0000-0000-000000000000",
            "https://www.Mirror.example/copy?id=9",
            http,
            &http_response("200 OK", "text/html", &story),
        ),
        warc_record(
            "response",
            "44444444-0000-0000-0000-000000000000",
            "https://daily.example/comet",
            http,
            &http_response("200 OK", "text/html", &page("Comet", EN_2)),
        ),
        warc_record(
            "response",
            "55555555-0000-0000-0000-000000000000",
            "https://daily.example/gone",
            http,
            &http_response("404 Not Found", "text/html", "<p>Not found</p>"),
        ),
        warc_record(
            "response",
            "66666666-0000-0000-0000-000000000000",
            "https://daily.example/logo.png",
            http,
            &http_response("200 OK", "image/png", "\u{1}PNG"),
        ),
        warc_record(
            "resource",
            "77777777-0000-0000-0000-000000000000",
            "file:///notes/ar.txt",
            "text/plain",
            AR_1.as_bytes(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    // One gzip member per record, as crawlers write them.
    let path = dir.path().join("crawl.warc.gz");
    let mut file = std::fs::File::create(&path).unwrap();
    for r in &records {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(r).unwrap();
        file.write_all(&gz.finish().unwrap()).unwrap();
    }
    drop(file);
    // And the same records uncompressed, as a second input of the same audit.
    let plain = dir.path().join("more.warc");
    let mut plain_bytes = Vec::new();
    for r in &records[2..4] {
        let mut r = r.clone();
        let text = String::from_utf8_lossy(&r).replace("<urn:uuid:", "<urn:uuid:second-");
        r = text.into_bytes();
        plain_bytes.extend(r);
    }
    std::fs::write(&plain, plain_bytes).unwrap();

    let out = dir.path().join("out");
    audit_into(&out, &[&path, &plain], 0);
    let rows = read_jsonl(&out.join("clusters.jsonl"));
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "<urn:uuid:22222222-0000-0000-0000-000000000000>",
            "<urn:uuid:33333333-0000-0000-0000-000000000000>",
            "<urn:uuid:44444444-0000-0000-0000-000000000000>",
            "<urn:uuid:77777777-0000-0000-0000-000000000000>",
            "<urn:uuid:second-22222222-0000-0000-0000-000000000000>",
            "<urn:uuid:second-33333333-0000-0000-0000-000000000000>",
        ]
    );
    let first = "<urn:uuid:22222222-0000-0000-0000-000000000000>";
    assert_eq!(rows[0]["source"], "daily.example");
    assert_eq!(rows[0]["url"], "https://daily.example/bridge");
    assert_eq!(rows[1]["source"], "www.mirror.example");
    assert_eq!(rows[1]["canonical_id"], first);
    assert!(rows[1]["duplicate_of"].is_string());
    assert!(rows[2]["duplicate_of"].is_null());
    assert_eq!(rows[3]["lang"], "ar");
    assert_eq!(rows[4]["canonical_id"], first);
    assert_eq!(rows[5]["canonical_id"], first);

    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["documents"], 6);
    assert_eq!(s["largest_cluster_size"], 4);
    assert_eq!(s["skipped"]["HTTP status not 2xx"], 1);
    assert_eq!(s["skipped"]["not HTML or text"], 1);
    assert_eq!(s["errors"], 0);
}

#[test]
fn a_folder_of_text_and_html_files_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pages");
    std::fs::create_dir_all(root.join("siteA")).unwrap();
    std::fs::create_dir_all(root.join("siteB")).unwrap();
    std::fs::write(root.join("siteA/2.txt"), EN_1).unwrap();
    std::fs::write(root.join("siteA/1.html"), page("Comet", EN_2)).unwrap();
    std::fs::write(root.join("siteB/copy.txt"), EN_1).unwrap();
    std::fs::write(root.join("top.txt"), DE_1).unwrap();
    std::fs::write(root.join("siteB/image.png"), b"\x89PNG").unwrap();
    let out = dir.path().join("out");
    audit_into(&out, &[&root], 0);
    let rows = read_jsonl(&out.join("clusters.jsonl"));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("siteA/1.html", "siteA"),
            ("siteA/2.txt", "siteA"),
            ("siteB/copy.txt", "siteB"),
            ("top.txt", "pages"),
        ]
    );
    assert_eq!(rows[2]["duplicate_of"], "siteA/2.txt");
}

#[test]
fn bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let res = audit(&[
        "--out",
        dir.path().join("o").to_str().unwrap(),
        missing.to_str().unwrap(),
    ]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("input not found"));

    // A truncated WARC: what was readable is audited, the rest is one reported failure.
    let bad = dir.path().join("bad.warc");
    let mut bytes = warc_record(
        "response",
        "88888888-0000-0000-0000-000000000000",
        "https://daily.example/x",
        "application/http",
        &http_response("200 OK", "text/html", &page("X", EN_2)),
    );
    bytes.extend_from_slice(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 999\r\n\r\nshort");
    std::fs::write(&bad, bytes).unwrap();
    let out = dir.path().join("out");
    audit_into(&out, &[&bad], 1);
    let s = read_json(&out.join("summary.json"));
    assert_eq!(s["documents"], 1);
    assert_eq!(s["errors"], 1);
    assert!(s["error_samples"][0]
        .as_str()
        .unwrap()
        .contains("bad.warc#record 2"));
}

/// An HTTP response whose body is given as bytes (any charset).
fn http_response_bytes(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn a_warc_of_windows_1256_and_iso_8859_1_pages_decodes_by_the_http_charset() {
    let http = "application/http; msgtype=response";
    let arabic = |head: &str| {
        format!(
            "<html><head>{head}</head><body><article><p>{}</p></article></body></html>",
            AR_1.replace('\n', "</p><p>")
        )
    };
    let german = |head: &str| {
        format!(
            "<html><head>{head}</head><body><article><p>{}</p></article></body></html>",
            DE_1.replace('\n', "</p><p>")
        )
    };
    // The same articles in UTF-8 and in a legacy charset that only the HTTP head names (the
    // Arabic page even declares a wrong one, as template defaults do).
    let ar_page = arabic("<meta charset=\"windows-1252\">");
    let de_page = german("");
    let (ar_1256, _, _) = encoding_rs::WINDOWS_1256.encode(&ar_page);
    let (de_latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&de_page);
    assert!(std::str::from_utf8(&ar_1256).is_err() && std::str::from_utf8(&de_latin1).is_err());
    let records = [
        warc_record(
            "response",
            "a0000000-0000-0000-0000-000000000000",
            "https://akhbar.example/utf8",
            http,
            &http_response_bytes(
                "text/html; charset=utf-8",
                arabic("<meta charset=\"utf-8\">").as_bytes(),
            ),
        ),
        warc_record(
            "response",
            "a1256000-0000-0000-0000-000000000000",
            "https://old.akhbar.example/cp1256",
            http,
            &http_response_bytes("text/html; charset=windows-1256", &ar_1256),
        ),
        warc_record(
            "response",
            "d0000000-0000-0000-0000-000000000000",
            "https://zeitung.example/utf8",
            http,
            &http_response_bytes("text/html; charset=UTF-8", german("").as_bytes()),
        ),
        warc_record(
            "response",
            "d8859100-0000-0000-0000-000000000000",
            "https://alt.zeitung.example/latin1",
            http,
            &http_response_bytes("text/html; charset=ISO-8859-1", &de_latin1),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("charsets.warc");
    std::fs::write(&path, records.concat()).unwrap();
    let out = dir.path().join("out");
    audit_into(&out, &[&path], 0);
    let rows = read_jsonl(&out.join("clusters.jsonl"));
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["lang"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
                r["canonical_id"].as_str().unwrap(),
            )
        })
        .collect();
    let ar = "<urn:uuid:a0000000-0000-0000-0000-000000000000>";
    let de = "<urn:uuid:d0000000-0000-0000-0000-000000000000>";
    assert_eq!(
        got,
        [
            ("ar", "original", ar),
            ("ar", "exact", ar),
            ("de", "original", de),
            ("de", "exact", de),
        ],
        "a legacy-charset page is the exact duplicate of its UTF-8 copy"
    );
    let s = read_json(&out.join("summary.json"));
    let snippets: Vec<&str> = s["largest_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["members"].as_array().unwrap())
        .map(|m| m["snippet"].as_str().unwrap())
        .collect();
    assert!(
        snippets.iter().any(|t| t.contains("Brücke")),
        "{snippets:?}"
    );
    assert!(
        snippets.iter().any(|t| t.contains("مستشفى")),
        "{snippets:?}"
    );
}
