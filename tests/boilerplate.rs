//! Boilerplate stripping: the seed reports (every labelled line), golden outputs, bad input, and
//! the invariants (stripping never adds text; every removed span has a kind and lies inside the
//! input).

use std::path::PathBuf;

use neardup::boilerplate::{Cleaned, InputFormat, Stripper};
use neardup::document::Content;
use proptest::prelude::*;

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds")
}

fn seed_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(seeds_dir())
        .expect("../shared/seeds")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".txt").map(str::to_string))
        .collect();
    names.sort();
    names
}

fn clean_text(text: &str) -> Cleaned {
    Stripper::new()
        .clean(&Content::Text(text.to_string()), InputFormat::Text, None)
        .unwrap()
}

/// Byte range of each line (1-based index → range).
fn line_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        out.push((start, start + line.len()));
        start += line.len() + 1;
    }
    out
}

#[test]
fn seeds_strip_every_boilerplate_line_and_keep_every_content_line() {
    let names = seed_names();
    assert_eq!(names.len(), 5, "five seed reports");
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(seeds_dir().join(format!("{name}.txt"))).unwrap();
        let labels =
            std::fs::read_to_string(seeds_dir().join(format!("{name}.labels.jsonl"))).unwrap();
        let cleaned = clean_text(&text);
        let ranges = line_ranges(&text);
        for l in labels.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let line = v["line"].as_u64().unwrap() as usize;
            let (s, e) = ranges[line - 1];
            let removed = cleaned
                .removed
                .iter()
                .any(|r| r.start < e && r.end > s && r.start >= s);
            let want_removed = v["label"] == "boilerplate";
            if removed != want_removed {
                failures.push(format!(
                    "{name}:{line} {} but {}: {}",
                    v["label"],
                    if removed { "removed" } else { "kept" },
                    v["text"]
                        .as_str()
                        .unwrap()
                        .chars()
                        .take(60)
                        .collect::<String>()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn seed_004_cuts_the_unrelated_article_after_read_also() {
    let name = seed_names()
        .into_iter()
        .find(|n| n.starts_with("004"))
        .unwrap();
    let text = std::fs::read_to_string(seeds_dir().join(format!("{name}.txt"))).unwrap();
    let c = clean_text(&text);
    assert!(
        !c.text.contains("بغداد"),
        "the Iraqi delegation story must go"
    );
    assert!(
        c.text.contains("ستولتنبرغ"),
        "the article's last paragraph stays"
    );
}

#[test]
fn seeds_match_their_golden_outputs() {
    let golden = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for name in seed_names() {
        let text = std::fs::read_to_string(seeds_dir().join(format!("{name}.txt"))).unwrap();
        let c = clean_text(&text);
        // The clean text, then one `kind<TAB>removed text` line per removed span.
        let mut got = format!("{}\n---- removed ----\n", c.text);
        for r in &c.removed {
            got.push_str(&format!("{}\t{}\n", r.kind, &text[r.start..r.end]));
        }
        let path = golden.join(format!("{name}.golden.txt"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {path:?}; run with UPDATE_GOLDEN=1"));
        assert_eq!(got, want, "golden {name}");
    }
}

#[test]
fn removed_spans_carry_kinds_and_reasons() {
    let text =
        std::fs::read_to_string(seeds_dir().join(format!("{}.txt", seed_names()[3]))).unwrap();
    let c = clean_text(&text);
    assert!(!c.removed.is_empty());
    for r in &c.removed {
        assert!(!r.kind.is_empty() && !r.reason.is_empty());
        assert!(r.start < r.end && r.end <= text.len());
    }
    assert!(c.removed.iter().any(|r| r.kind == "newsletter-prompt"));
    assert!(c.removed.iter().any(|r| r.kind == "back-to-top"));
}

#[test]
fn the_third_copy_of_a_story_keeps_its_paragraphs() {
    let s = Stripper::new();
    let seed =
        std::fs::read_to_string(seeds_dir().join(format!("{}.txt", seed_names()[1]))).unwrap();
    let first = s
        .clean(
            &Content::Text(seed.clone()),
            InputFormat::Text,
            Some("site"),
        )
        .unwrap();
    for _ in 0..4 {
        let c = s
            .clean(
                &Content::Text(seed.clone()),
                InputFormat::Text,
                Some("site"),
            )
            .unwrap();
        assert_eq!(c.text, first.text);
        s.learn(Some("site"), &c.line_keys, "one-story");
    }
}

// ---- bad input ----

#[test]
fn invalid_utf8_and_nul_bytes_do_not_panic() {
    let s = Stripper::new();
    let mut bytes = b"<html><body><p>caf\xE9 \xFF\xFE ok</p>\0<p>".to_vec();
    bytes.extend_from_slice(&[0u8; 1000]);
    let c = s
        .clean(&Content::Html(bytes), InputFormat::Auto, None)
        .unwrap();
    assert!(!c.text.contains('\0'));
    let t = "line one\0with nul\nsecond \u{0} line".to_string();
    let c = s.clean(&Content::Text(t), InputFormat::Text, None).unwrap();
    assert!(c.removed.len() + c.text.lines().count() >= 1);
}

#[test]
fn fifty_megabytes_of_one_line_is_handled() {
    let line = "word ".repeat(10 << 20);
    let s = Stripper::new();
    let c = s
        .clean(&Content::Text(line.clone()), InputFormat::Text, None)
        .unwrap();
    assert!(c.text.len() + c.removed.iter().map(|r| r.end - r.start).sum::<usize>() <= line.len());
    let html = format!("<p>{line}</p>");
    s.clean(&Content::Html(html.into_bytes()), InputFormat::Html, None)
        .unwrap();
}

#[test]
fn a_hundred_thousand_nested_tags_are_handled() {
    let mut html = "<div><span>".repeat(50_000);
    html.push_str("<p>deep text</p>");
    html.push_str(&"</span></div>".repeat(50_000));
    let c = Stripper::new()
        .clean(&Content::Html(html.into_bytes()), InputFormat::Html, None)
        .unwrap();
    assert!(c.text.len() <= "deep text".len());
}

#[test]
fn a_page_of_only_scripts_is_empty() {
    let html = "<html><head><script>var a = '<p>x</p>';</script></head><body><script>document.write('hi')</script><style>p{}</style></body></html>";
    let c = Stripper::new()
        .clean(
            &Content::Html(html.as_bytes().to_vec()),
            InputFormat::Auto,
            None,
        )
        .unwrap();
    assert_eq!(c.text, "");
    assert!(c.removed.is_empty());
}

#[test]
fn empty_input_is_empty_output() {
    let c = clean_text("");
    assert_eq!(c.text, "");
    assert!(c.removed.is_empty() && c.line_keys.is_empty());
}

// ---- invariants ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn stripping_never_adds_text(lines in proptest::collection::vec(
        prop_oneof![
            "[a-zA-Z ,.]{0,200}",
            "[ء-ي ،.؟]{0,200}",
            Just("Read also:".to_string()),
            Just("Share".to_string()),
            Just("الكاتب: ...".to_string()),
        ], 0..30)) {
        let text = lines.join("\n");
        let c = clean_text(&text);
        // Every kept line is a run of the input's words, in order (hard-wrapped lines are
        // joined with single spaces: whitespace may change, words never).
        let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        let flat = words(&text);
        let mut pos = 0;
        for kept in c.text.split('\n').filter(|l| !l.is_empty()) {
            let kept = words(kept);
            let found = flat[pos..].find(&kept);
            prop_assert!(found.is_some(), "kept text not in input: {kept:?}");
            pos += found.unwrap() + kept.len();
        }
        prop_assert!(c.text.len() <= text.len());
        for r in &c.removed {
            prop_assert!(!r.kind.is_empty());
            prop_assert!(r.start < r.end && r.end <= text.len());
            prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }

    #[test]
    fn html_spans_lie_within_the_block_text(body in "[a-z<>/ =\"pdiva]{0,400}") {
        let c = Stripper::new()
            .clean(&Content::Html(body.into_bytes()), InputFormat::Html, None)
            .unwrap();
        for r in &c.removed {
            prop_assert!(!r.kind.is_empty() && r.start < r.end);
        }
    }
}

// ---- the `neardup clean` command ----

#[test]
fn clean_command_prints_text_and_json_spans() {
    use crate::common::run;
    let body = "The council met on Tuesday to discuss the closure of the old bridge, which has been in poor repair for years and is no longer safe for heavy traffic.";
    let input = format!("Home\nBridge to close\n{body}\nShare this story\n");
    let out = run(&["clean", "--format", "text", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("Bridge to close\n{body}\n")
    );
    let out = run(
        &["clean", "--json", "--source", "site", "-"],
        input.as_bytes(),
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], format!("Bridge to close\n{body}"));
    let removed = v["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 2);
    for r in removed {
        let (s, e) = (
            r["start"].as_u64().unwrap() as usize,
            r["end"].as_u64().unwrap() as usize,
        );
        assert!(s < e && e <= input.len());
        assert!(r["kind"].as_str().is_some_and(|k| !k.is_empty()));
        assert!(r["reason"].as_str().is_some_and(|k| !k.is_empty()));
    }
    assert_eq!(removed[1]["kind"], "share");
}

#[test]
fn clean_command_reads_html_in_a_declared_legacy_charset() {
    use crate::common::run;
    let page = "<html><head><meta charset=windows-1256></head><body><nav><a href=/>الرئيسية</a></nav><article><p>أجرى وزير الدفاع الروسي مباحثات هاتفية مع نظيره الأميركي، وناقشا خلالها احتواء خطر تصعيد محتمل في أوكرانيا، بحسب ما أفادت وزارة الدفاع.</p></article></body></html>";
    let (bytes, _, _) = encoding_rs::WINDOWS_1256.encode(page);
    let out = run(&["clean", "-"], &bytes);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("وزير الدفاع الروسي"), "{text}");
    assert!(!text.contains("الرئيسية"));
}

#[test]
fn html_article_of_medium_paragraphs_is_kept_whole() {
    let paras = [
        "The city council voted on Tuesday to close the old river bridge for at least six months, after engineers warned of corrosion.",
        "Residents who cross the bridge every day will have to use the ferry or the ring road, the mayor said on Tuesday.",
        "“We did not take this decision lightly, but the safety of the people who use the bridge comes first,” the mayor told reporters after the vote, adding that repairs would begin in the spring.",
        "Shop owners on the east bank said they feared losing customers during the closure of the bridge.",
    ];
    let mut html = String::from("<html><body><nav><a href=/>Home</a> <a href=/w>World</a></nav><article><h1>Bridge to close</h1><div class=body>");
    for p in paras {
        html.push_str(&format!("<p>{p}</p>"));
    }
    html.push_str("</div></article><aside class=related><h3>Related</h3><ul><li><a href=/x>Another headline about something else</a></li></ul></aside></body></html>");
    let c = Stripper::new()
        .clean(&Content::Html(html.into_bytes()), InputFormat::Html, None)
        .unwrap();
    for p in paras {
        assert!(c.text.contains(p), "lost: {p}\n{}", c.text);
    }
    assert!(!c.text.contains("Another headline"));
    assert!(!c.text.contains("Home"));
}
