//! Boilerplate stripping speed: mean time per news page in HTML mode (budget 2 ms) and in text
//! mode (budget 0.2 ms), one core.
//!
//! `cargo bench --bench boilerplate` (add `-- --warm-up-time 1 --measurement-time 3` while
//! iterating). Measures a synthetic news page (always) and the DEV pages of
//! `../shared/data/boilerplate` when that directory is present (mean over all pages per
//! iteration). Every measured output is checked first.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use neardup::boilerplate::{InputFormat, Stripper};
use neardup::document::Content;

const PARAGRAPHS: &[&str] = &[
    "The city council voted on Tuesday to close the old river bridge for at least six months, after engineers warned that the steel supports had corroded faster than expected.",
    "Residents who cross the bridge every day will have to use the ferry or the ring road, which the mayor said would add about twenty minutes to the average commute.",
    "“We did not take this decision lightly, but the safety of the people who use the bridge comes first,” the mayor told reporters after the vote, adding that repairs would begin in the spring.",
    "Shop owners on the east bank said they feared losing customers during the closure and asked the council for help with their rents while the works are under way.",
    "The council has set aside four million euros for the repairs and said it would publish a timetable for the works by the end of the month.",
];

fn synthetic_html() -> String {
    let mut h = String::from("<!doctype html><html><head><meta charset=utf-8><title>Bridge to close for repairs - City News</title><script>var x = 1;</script></head><body>");
    h.push_str("<header class=site-header><nav class=main-nav><ul>");
    for s in [
        "Home", "World", "Politics", "Business", "Sports", "Culture", "Opinion", "Video",
    ] {
        h.push_str(&format!("<li><a href=/{s}>{s}</a></li>"));
    }
    h.push_str("</ul></nav></header><main><article><h1>Bridge to close for repairs</h1><div class=byline>By A. Reporter, 12 May 2024</div><div class=article-body>");
    for p in PARAGRAPHS {
        h.push_str(&format!("<p>{p}</p>"));
    }
    h.push_str("</div><div class=share><a>Share</a><a>Tweet</a></div></article><aside class=related><h3>Related</h3><ul>");
    for i in 0..20 {
        h.push_str(&format!(
            "<li><a href=/s{i}>Another headline number {i} about something else</a></li>"
        ));
    }
    h.push_str("</ul></aside></main><footer><p>Copyright 2024 City News. All rights reserved.</p>");
    // Pad with the kind of markup real pages carry (scripts, menus) to a realistic size.
    for i in 0..400 {
        h.push_str(&format!("<div class=\"menu-item item-{i}\" data-x=\"{i}\"><a href=\"/section/{i}\">Section {i}</a></div><script>window.dataLayer.push({{id: {i}}});</script>"));
    }
    h.push_str("</footer></body></html>");
    h
}

fn synthetic_text() -> String {
    let mut t = String::new();
    for s in [
        "Home",
        "World",
        "Politics",
        "Business",
        "Sports",
        "Bridge to close for repairs",
        "By A. Reporter, 12 May 2024",
    ] {
        t.push_str(s);
        t.push('\n');
    }
    for p in PARAGRAPHS {
        t.push_str(p);
        t.push('\n');
    }
    t.push_str("Share\nRelated\n");
    for i in 0..20 {
        t.push_str(&format!(
            "Another headline number {i} about something else\n"
        ));
    }
    t.push_str("Copyright 2024 City News. All rights reserved.\n");
    t
}

fn check_article(text: &str) {
    for p in PARAGRAPHS {
        assert!(text.contains(p), "paragraph lost: {p}");
    }
    assert!(!text.contains("Another headline"), "related links kept");
    assert!(!text.contains("Copyright"), "footer kept");
}

fn dev_pages(ext: &str) -> Vec<Vec<u8>> {
    let (dir, suffix) = if ext == "html" {
        ("../shared/data/boilerplate/dev", ".html")
    } else {
        ("../shared/data/boilerplate/dev-text", ".lines.txt")
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn bench(c: &mut Criterion) {
    let stripper = Stripper::new();
    let html = synthetic_html().into_bytes();
    let text = synthetic_text();
    let html_content = Content::Html(html);
    let text_content = Content::Text(text);
    check_article(
        &stripper
            .clean(&html_content, InputFormat::Html, None)
            .unwrap()
            .text,
    );
    check_article(
        &stripper
            .clean(&text_content, InputFormat::Text, None)
            .unwrap()
            .text,
    );

    let mut g = c.benchmark_group("boilerplate");
    g.bench_function("html_synthetic_page", |b| {
        b.iter(|| {
            stripper
                .clean(black_box(&html_content), InputFormat::Html, None)
                .unwrap()
        })
    });
    g.bench_function("text_synthetic_page", |b| {
        b.iter(|| {
            stripper
                .clean(black_box(&text_content), InputFormat::Text, None)
                .unwrap()
        })
    });

    let html_pages: Vec<Content> = dev_pages("html").into_iter().map(Content::Html).collect();
    let text_pages: Vec<Content> = dev_pages("text")
        .into_iter()
        .map(|b| Content::Text(String::from_utf8_lossy(&b).into_owned()))
        .collect();
    if !html_pages.is_empty() {
        for p in &html_pages {
            let out = stripper.clean(p, InputFormat::Html, None).unwrap();
            assert!(!out.text.is_empty(), "a DEV page came out empty");
        }
        // One iteration = every DEV page once; divide by the page count for ms/page.
        g.bench_function(format!("html_dev_all_{}_pages", html_pages.len()), |b| {
            b.iter(|| {
                for p in &html_pages {
                    black_box(stripper.clean(p, InputFormat::Html, None).unwrap());
                }
            })
        });
    }
    if !text_pages.is_empty() {
        for p in &text_pages {
            let out = stripper.clean(p, InputFormat::Text, None).unwrap();
            assert!(!out.text.is_empty(), "a DEV page came out empty");
        }
        g.bench_function(format!("text_dev_all_{}_pages", text_pages.len()), |b| {
            b.iter(|| {
                for p in &text_pages {
                    black_box(stripper.clean(p, InputFormat::Text, None).unwrap());
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
