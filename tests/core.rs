//! The detection core end to end: the five seed reports (same topic, different events) and
//! variants built from them, plus property tests of the invariants.

use std::path::PathBuf;

use neardup::document::Document;
use neardup::engine::{CheckOptions, Engine};
use neardup::pipeline::fingerprint::hamming;
use neardup::pipeline::normalize::normalize;
use neardup::pipeline::{fingerprint, FeatureConfig};
use proptest::prelude::*;
use serde_json::Value;

use crate::common::shared;

struct Seed {
    id: String,
    text: String,
    /// Lines labelled `content`, in order.
    content: Vec<String>,
}

fn seeds() -> Vec<Seed> {
    let dir: PathBuf = shared().join("seeds");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 5, "five seed reports expected");
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap();
            let labels =
                std::fs::read_to_string(dir.join(n.replace(".txt", ".labels.jsonl"))).unwrap();
            let content = labels
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .filter(|v| v["label"] == "content")
                .map(|v| v["text"].as_str().unwrap().to_string())
                .collect();
            Seed {
                id: n.trim_end_matches(".txt").to_string(),
                text,
                content,
            }
        })
        .collect()
}

/// Page chrome of an imaginary outlet, written for this test.
fn chrome(outlet: usize) -> (String, String) {
    let head = [
        "الرئيسية\nأخبار\nاقتصاد\nرياضة\nمنوعات\nبحث\nتسجيل الدخول",
        "القائمة\nالصفحة الرئيسية\nآخر الأخبار\nفيديو\nاتصل بنا",
        "Home | World | Politics\nSubscribe to our newsletter\nتابعونا",
    ];
    let foot = [
        "شارك هذا المقال على فيسبوك وتويتر\nجميع الحقوق محفوظة للموقع 2024\nسياسة الخصوصية | اتصل بنا\nالأكثر قراءة\nارتفاع أسعار الذهب في الأسواق المحلية اليوم\nمنتخب الشباب يفوز في المباراة الودية الثانية",
        "أضف تعليقك\nلن يتم نشر بريدك الإلكتروني\nمقالات ذات صلة\nافتتاح معرض الكتاب الدولي بمشاركة واسعة من دور النشر",
        "© 2024 All rights reserved\nPrivacy policy\nالنشرة البريدية",
    ];
    (
        head[outlet % head.len()].to_string(),
        foot[outlet % foot.len()].to_string(),
    )
}

fn wrap(outlet: usize, body: &str) -> String {
    let (h, f) = chrome(outlet);
    format!("{h}\n{body}\n{f}")
}

fn spelling_variants(s: &str) -> String {
    let digits = ['٠', '١', '٢', '٣', '٤', '٥', '٦', '٧', '٨', '٩'];
    s.chars()
        .map(|c| match c {
            'أ' | 'إ' | 'آ' => 'ا',
            'ة' => 'ه',
            'ى' => 'ي',
            '0'..='9' => digits[c as usize - '0' as usize],
            ',' => '،',
            _ => c,
        })
        .collect::<String>()
        .replace("الأمريكي", "الأميركي")
        .replace("ال", "الـ")
}

fn first_sentence(s: &str) -> &str {
    s.split(['.', '،']).next().unwrap_or(s)
}

/// The variants of seed `i` (name, text).
fn variants(all: &[Seed], i: usize) -> Vec<(String, String)> {
    let s = &all[i];
    let body = s.content.join("\n");
    let title = s.content[0].clone();
    let keep = (s.content.len() * 6).div_ceil(10).max(2);
    let cut = s.content[..keep.min(s.content.len())].join("\n");
    let other = &all[(i + 1) % all.len()];
    let intruder = first_sentence(&other.content[other.content.len() / 2]).to_string();
    let mut with_intruder = s.content.clone();
    with_intruder.insert(with_intruder.len() / 2, intruder);
    vec![
        ("other-chrome".into(), wrap(i, &body)),
        (
            "duplicated-title".into(),
            wrap(i + 1, &format!("{title}\n{body}")),
        ),
        ("cut-tail".into(), wrap(i + 2, &cut)),
        ("spelling".into(), wrap(i, &spelling_variants(&body))),
        ("intruder".into(), wrap(i + 1, &with_intruder.join("\n"))),
    ]
}

#[test]
fn seeds_in_one_stream_are_never_flagged() {
    let engine = Engine::in_memory();
    for s in seeds() {
        let out = engine
            .check(
                "seeds",
                Document::text(&s.id, &s.text),
                &CheckOptions::default(),
            )
            .unwrap();
        assert_eq!(
            out.duplicate_of, None,
            "{} flagged as a duplicate: {:?}",
            s.id, out.matches
        );
    }
}

#[test]
fn every_variant_is_a_duplicate_of_its_own_seed_only() {
    let all = seeds();
    let engine = Engine::in_memory();
    let opts = CheckOptions::default();
    for s in &all {
        engine
            .check("v", Document::text(&s.id, &s.text), &opts)
            .unwrap();
    }
    for (i, s) in all.iter().enumerate() {
        for (name, text) in variants(&all, i) {
            let id = format!("{}-{name}", s.id);
            let out = engine.check("v", Document::text(&id, text), &opts).unwrap();
            assert_eq!(
                out.cluster_id, s.id,
                "{id} should join its seed's cluster; matches: {:?}",
                out.matches
            );
            assert!(out.duplicate_of.is_some(), "{id} not flagged");
            for m in &out.matches {
                assert!(
                    m.id.starts_with(&s.id),
                    "{id} also matched {} ({})",
                    m.id,
                    m.reason
                );
            }
        }
    }
}

#[test]
fn every_match_carries_evidence() {
    let all = seeds();
    let engine = Engine::in_memory();
    let opts = CheckOptions::default();
    engine
        .check("e", Document::text("seed", &all[0].text), &opts)
        .unwrap();
    let out = engine
        .check("e", Document::text("copy", &all[0].text), &opts)
        .unwrap();
    let m = &out.matches[0];
    assert_eq!(m.id, "seed");
    assert_eq!(m.jaccard, 1.0);
    assert!(!m.reason.is_empty());
    let (_, v) = variants(&all, 0).swap_remove(2);
    let out = engine.check("e", Document::text("cut", v), &opts).unwrap();
    let m = &out.matches[0];
    assert!(m.containment > 0.5 && m.jaccard < 1.0, "{m:?}");
}

#[test]
fn dry_run_remembers_nothing_and_delete_forgets() {
    let all = seeds();
    let engine = Engine::in_memory();
    let dry = CheckOptions {
        dry_run: true,
        ..CheckOptions::default()
    };
    let opts = CheckOptions::default();
    engine
        .check("d", Document::text("a", &all[1].text), &dry)
        .unwrap();
    let out = engine
        .check("d", Document::text("b", &all[1].text), &opts)
        .unwrap();
    assert_eq!(out.duplicate_of, None);
    assert!(engine.delete("d", "b").unwrap());
    assert!(!engine.delete("d", "b").unwrap());
    let out = engine
        .check("d", Document::text("c", &all[1].text), &opts)
        .unwrap();
    assert_eq!(out.duplicate_of, None, "a deleted document must not match");
}

#[test]
fn time_window_limits_matches() {
    let all = seeds();
    let engine = Engine::in_memory();
    let mut a = Document::text("a", &all[2].text);
    a.published_at = Some(1_700_000_000);
    let mut b = Document::text("b", &all[2].text);
    b.published_at = Some(1_700_000_000 + 10 * 86_400);
    engine.check("w", a, &CheckOptions::default()).unwrap();
    let within = CheckOptions {
        window_days: Some(3),
        dry_run: true,
        ..CheckOptions::default()
    };
    assert_eq!(
        engine.check("w", b.clone(), &within).unwrap().duplicate_of,
        None
    );
    let wide = CheckOptions {
        window_days: Some(30),
        ..CheckOptions::default()
    };
    assert_eq!(
        engine.check("w", b, &wide).unwrap().duplicate_of.as_deref(),
        Some("a")
    );
}

#[test]
fn concurrent_identical_documents_yield_one_original() {
    let all = seeds();
    let engine = Engine::in_memory();
    let text = all[3].text.clone();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let e = engine.clone();
            let text = text.clone();
            std::thread::spawn(move || {
                e.check(
                    "c",
                    Document::text(format!("d{t}"), text),
                    &CheckOptions::default(),
                )
                .unwrap()
            })
        })
        .collect();
    let outs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(outs.iter().filter(|o| o.duplicate_of.is_none()).count(), 1);
}

/// Run a stream through prepare on `threads` threads, then commit in order.
fn stream_verdicts(docs: &[(String, String)], threads: usize) -> Vec<(Option<String>, String)> {
    let engine = Engine::in_memory();
    let opts = CheckOptions::default();
    let chunk = docs.len().div_ceil(threads.max(1)).max(1);
    let prepared: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = docs
            .chunks(chunk)
            .map(|part| {
                let e = engine.clone();
                let opts = opts.clone();
                s.spawn(move || {
                    part.iter()
                        .map(|(id, t)| e.prepare("s", Document::text(id, t), &opts).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    prepared
        .into_iter()
        .map(|p| {
            let o = engine.commit("s", p, &opts).unwrap();
            (o.duplicate_of, o.cluster_id)
        })
        .collect()
}

#[test]
fn stream_verdicts_do_not_depend_on_thread_count() {
    let all = seeds();
    let mut docs: Vec<(String, String)> = Vec::new();
    for (i, s) in all.iter().enumerate() {
        docs.push((s.id.clone(), s.text.clone()));
        for (n, t) in variants(&all, i) {
            docs.push((format!("{}-{n}", s.id), t));
        }
    }
    let one = stream_verdicts(&docs, 1);
    assert!(one.iter().any(|v| v.0.is_some()));
    for threads in [2, 3, 7] {
        assert_eq!(stream_verdicts(&docs, threads), one, "{threads} threads");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn normalize_is_idempotent(s in "\\PC{0,80}") {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn normalize_is_idempotent_on_arabic(s in "[\u{0600}-\u{06FF}\u{0660}-\u{0669} ،.]{0,60}") {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn fingerprint_ignores_whitespace_and_punctuation_edits(
        words in proptest::collection::vec("[a-zA-Z\u{0621}-\u{064A}0-9]{1,8}", 1..40),
        seps in proptest::collection::vec(prop_oneof![
            Just(" "), Just("  "), Just(", "), Just(" - "), Just("! "), Just(" «"), Just("» "), Just("\t")
        ], 40),
    ) {
        let plain = words.join(" ");
        let mut edited = String::new();
        for (i, w) in words.iter().enumerate() {
            edited.push_str(w);
            edited.push_str(seps[i % seps.len()]);
        }
        prop_assert_eq!(fingerprint(&plain), fingerprint(&edited));
        prop_assert_eq!(fingerprint(&plain), fingerprint(&plain));
    }

    #[test]
    fn hamming_to_itself_is_zero(a in any::<u64>(), b in any::<u64>()) {
        prop_assert_eq!(hamming(a, a), 0);
        prop_assert_eq!(hamming(a, b), hamming(b, a));
    }

    #[test]
    fn one_pass_features_equal_normalize_then_tokenize(
        s in "(\\PC|[\n\u{A0}\u{2026}\u{0301}\u{064E}\u{0651}\u{FF21}\u{0E01}-\u{0E0F}\u{4E00}-\u{4E0F}]){0,200}"
    ) {
        // `features` hashes tokens while normalizing; it must equal the two-pass definition.
        let cfg = FeatureConfig::default();
        prop_assert_eq!(
            neardup::pipeline::features(&s, &cfg),
            neardup::pipeline::features_of_normalized(&normalize(&s), &cfg)
        );
        prop_assert_eq!(
            neardup::pipeline::normalize::normalize_with_offsets(&s).text,
            normalize(&s)
        );
    }

    #[test]
    fn features_are_deterministic(s in "\\PC{0,200}") {
        let cfg = FeatureConfig::default();
        prop_assert_eq!(
            neardup::pipeline::features(&s, &cfg),
            neardup::pipeline::features(&s, &cfg)
        );
    }
}

/// A document stripped before the stripper learned a chrome line of its source, and committed
/// after, gets the same clean text and verdict as in a sequential run (the commit decides again
/// when what is known about the document's own lines changed).
#[test]
fn commit_after_learning_equals_a_sequential_run() {
    let chrome = "Valley Courier staff writers contributed reporting from Harlan County";
    let story = |n: usize| {
        format!(
            "Story {n}: the regional council number {n} approved a budget of {} million for \
             road repairs in district {n} after a long debate about priorities and costs.\n\
             {chrome}\n\
             Officials in district {n} said work would start within {} weeks of the vote.\n",
            n * 7 + 3,
            n + 2
        )
    };
    let doc = |id: String, text: String| {
        let mut d = Document::text(id, text);
        d.source = Some("example.com".into());
        d
    };
    let opts = CheckOptions::default();
    let last = story(99);

    // Sequential: five stories first, then the last one.
    let sequential = Engine::in_memory();
    for n in 0..5 {
        sequential
            .check("s", doc(format!("d{n}"), story(n)), &opts)
            .unwrap();
    }
    let expected = sequential
        .check("s", doc("last".into(), last.clone()), &opts)
        .unwrap();
    assert!(
        !expected.cleaned.text.contains(chrome),
        "the learned chrome line is stripped in the sequential run"
    );

    // The last story prepared before the others are committed, committed after them, by
    // both commits (the audit's, which tolerates stale counts in reasons, looks the lines up
    // again only when which lines are chrome may have changed, as here).
    let engine = Engine::in_memory();
    let early = engine
        .prepare("s", doc("last".into(), last.clone()), &opts)
        .unwrap();
    let early_too = engine
        .prepare("s", doc("last-too".into(), last), &opts)
        .unwrap();
    assert!(early.cleaned().text.contains(chrome), "nothing learned yet");
    for n in 0..5 {
        engine
            .check("s", doc(format!("d{n}"), story(n)), &opts)
            .unwrap();
    }
    let got = engine.commit("s", early, &opts).unwrap();
    assert_eq!(got.cleaned, expected.cleaned);
    assert_eq!(got.duplicate_of, expected.duplicate_of);
    assert_eq!(got.simhash, expected.simhash);
    let too = engine.commit_stale_reasons("s", early_too, &opts).unwrap();
    assert!(too.restripped);
    assert_eq!(too.outcome.cleaned.text, expected.cleaned.text);
    assert_eq!(too.outcome.duplicate_of.as_deref(), Some("last"));
}

/// A page that strips to nothing is a duplicate of a byte-for-byte reprint of it, and of
/// nothing else: two different all-chrome pages never match.
#[test]
fn pages_stripped_to_nothing_match_only_their_reprints() {
    let engine = Engine::in_memory();
    let opts = CheckOptions::default();
    let chrome = "Share this article\nRead more\nSubscribe to our newsletter\nBack to top\n";
    let other = "Share on Facebook\nComments\nSign up for our newsletter\nAll rights reserved\n";
    let first = engine
        .check("s", Document::text("a", chrome), &opts)
        .unwrap();
    assert!(first.cleaned.text.is_empty(), "the page is all chrome");
    assert_eq!(first.duplicate_of, None);
    let different = engine
        .check("s", Document::text("b", other), &opts)
        .unwrap();
    assert!(different.cleaned.text.is_empty());
    assert_eq!(
        different.duplicate_of, None,
        "empty clean texts do not match"
    );
    let reprint = engine
        .check("s", Document::text("c", chrome), &opts)
        .unwrap();
    assert_eq!(reprint.duplicate_of.as_deref(), Some("a"));
    assert_eq!(reprint.matches[0].tier, neardup::index::Tier::Exact);
}
