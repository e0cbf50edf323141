//! `report.html`: one self-contained page from a [`Summary`] — inline CSS, charts drawn here as
//! inline SVG, no scripts or fonts fetched, readable offline.
//!
//! Charts: cluster-size distribution (log scale), best-match Jaccard histogram, boilerplate
//! share per source. Then the largest clusters, one table row each (`tr.cluster-row`) with
//! their first members' snippets side by side, the top boilerplate lines per source, languages
//! and failures. A few lines of inline script record, for headless checks, how many chart marks
//! the browser actually laid out (`data-rendered-marks`: rectangles of non-zero size — bars and
//! the boilerplate chart's tracks — on each `svg.chart`).

use std::fmt::Write as _;

use super::summary::{Summary, SIMILARITY_BINS};

/// Sources drawn in the boilerplate chart.
pub const CHART_SOURCES: usize = 30;
/// Sources whose top boilerplate lines are listed.
pub const LISTED_SOURCES: usize = 12;

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// One bar: label under/beside it, value that sets its length, text printed on it.
struct Bar {
    label: String,
    value: f64,
    text: String,
}

const W: f64 = 640.0;

/// Vertical bars; `log` scales lengths by log10(1 + value).
fn column_chart(id: &str, title: &str, bars: &[Bar], log: bool, x_title: &str) -> String {
    let h = 240.0;
    let (left, right, top, bottom) = (40.0, 10.0, 24.0, 46.0);
    let plot_w = W - left - right;
    let plot_h = h - top - bottom;
    let scale = |v: f64| {
        if log {
            (1.0 + v.max(0.0)).log10()
        } else {
            v.max(0.0)
        }
    };
    let max = bars.iter().map(|b| scale(b.value)).fold(0.0, f64::max);
    let n = bars.len().max(1) as f64;
    let slot = plot_w / n;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" role="img" aria-label="{t}" viewBox="0 0 {W} {h}" width="{W}" height="{h}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="#888"/>"##,
        y = top + plot_h,
        x2 = W - right
    );
    for (i, b) in bars.iter().enumerate() {
        let bh = if max > 0.0 {
            scale(b.value) / max * plot_h
        } else {
            0.0
        };
        let x = left + i as f64 * slot + slot * 0.1;
        let y = top + plot_h - bh;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bh:.1}"><title>{l}: {t}</title></rect>"#,
            w = slot * 0.8,
            l = escape(&b.label),
            t = escape(&b.text)
        );
        if b.value > 0.0 {
            let _ = write!(
                svg,
                r#"<text class="val" x="{cx:.1}" y="{ty:.1}" text-anchor="middle">{t}</text>"#,
                cx = x + slot * 0.4,
                ty = y - 4.0,
                t = escape(&b.text)
            );
        }
        let _ = write!(
            svg,
            r#"<text class="lab" x="{cx:.1}" y="{ly:.1}" text-anchor="middle">{l}</text>"#,
            cx = x + slot * 0.4,
            ly = top + plot_h + 14.0,
            l = escape(&b.label)
        );
    }
    let _ = write!(
        svg,
        r#"<text class="axis" x="{cx}" y="{y}" text-anchor="middle">{t}</text></svg>"#,
        cx = left + plot_w / 2.0,
        y = h - 8.0,
        t = escape(x_title)
    );
    svg
}

/// Horizontal bars with values in [0, 1].
fn share_chart(id: &str, title: &str, bars: &[Bar]) -> String {
    let row = 20.0;
    let (label_w, top) = (200.0, 8.0);
    let plot_w = W - label_w - 150.0;
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" id="{id}" role="img" aria-label="{t}" viewBox="0 0 {W} {h}" width="{W}" height="{h}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = top + i as f64 * row;
        let bw = b.value.clamp(0.0, 1.0) * plot_w;
        let label: String = b.label.chars().take(32).collect();
        let _ = write!(
            svg,
            r#"<text class="lab" x="{lx}" y="{ty:.1}" text-anchor="end">{l}</text><rect class="track" x="{label_w}" y="{ry:.1}" width="{plot_w}" height="{bh}"/><rect class="bar" x="{label_w}" y="{ry:.1}" width="{bw:.1}" height="{bh}"><title>{full}: {t}</title></rect><text class="val" x="{vx:.1}" y="{ty:.1}">{t}</text>"#,
            lx = label_w - 6.0,
            ty = y + row * 0.7,
            ry = y + 3.0,
            bh = row - 6.0,
            vx = label_w + plot_w + 6.0,
            l = escape(&label),
            full = escape(&b.label),
            t = escape(&b.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:16px 0}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:22px}.card span{color:#5b6570;font-size:12px}
figure{background:#fff;border:1px solid #dde1e6;border-radius:8px;margin:12px 0;padding:12px;overflow-x:auto}
figcaption{color:#5b6570;font-size:12px;margin-top:4px}
svg.chart .bar{fill:#2f6fb3}svg.chart .track{fill:#eef1f4}svg.chart text{font-size:11px;fill:#333}
svg.chart .axis{fill:#5b6570}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #dde1e6;padding:6px 8px;vertical-align:top;text-align:start}
th{background:#eef1f4}
.members{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:8px}
.member{border:1px solid #dde1e6;border-radius:6px;padding:6px 8px;background:#fbfcfd}
.member.canonical{border-color:#2f6fb3}
.meta{color:#5b6570;font-size:12px;word-break:break-all}
.snippet{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:4px}
code{font-size:12px}.muted{color:#5b6570}
"#;

/// Records what the browser laid out, for headless checks; the page reads fine without it.
const SCRIPT: &str = r#"
document.querySelectorAll('svg.chart').forEach(function(s){
  var n=0;s.querySelectorAll('rect').forEach(function(r){var b=r.getBoundingClientRect();if(b.width>0&&b.height>0)n++;});
  var b=s.getBoundingClientRect();
  s.setAttribute('data-rendered-marks',String(n));
  s.setAttribute('data-rendered-size',Math.round(b.width)+'x'+Math.round(b.height));
});
document.body.setAttribute('data-rendered','1');
"#;

/// Render the whole report.
pub fn render(summary: &Summary, title: &str) -> String {
    let s = summary;
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{t}</title><style>{STYLE}</style></head><body><main><h1>{t}</h1><p class="muted">neardup {v} corpus audit · summary format {sv}</p>"#,
        t = escape(title),
        v = env!("CARGO_PKG_VERSION"),
        sv = s.version
    );

    let dups = s.exact_duplicates + s.near_duplicates;
    let cards = [
        (s.documents.to_string(), "documents"),
        (pct(s.duplication_rate), "duplication rate"),
        (s.exact_duplicates.to_string(), "exact duplicates"),
        (s.near_duplicates.to_string(), "near duplicates"),
        (s.clusters.to_string(), "clusters"),
        (
            s.clusters_with_duplicates.to_string(),
            "clusters with duplicates",
        ),
        (s.largest_cluster_size.to_string(), "largest cluster"),
        (pct(s.boilerplate.share), "boilerplate share"),
        (s.skipped.values().sum::<u64>().to_string(), "items skipped"),
        (s.errors.to_string(), "items failed"),
    ];
    h.push_str(r#"<section class="cards" id="overview">"#);
    for (value, label) in cards {
        let _ = write!(
            h,
            r#"<div class="card"><b>{}</b><span>{}</span></div>"#,
            escape(&value),
            label
        );
    }
    h.push_str("</section>");

    // Cluster sizes.
    let size_bars: Vec<Bar> = s
        .cluster_sizes
        .iter()
        .map(|b| Bar {
            label: b.label.clone(),
            value: b.clusters as f64,
            text: b.clusters.to_string(),
        })
        .collect();
    let _ = write!(
        h,
        "<h2>Cluster sizes</h2><figure>{}<figcaption>Clusters per size (documents in the cluster); bar lengths on a log scale.</figcaption></figure>",
        column_chart(
            "chart-cluster-sizes",
            "Clusters per size",
            &size_bars,
            true,
            "cluster size (documents)"
        )
    );

    // Similarity.
    let bins = s.jaccard_histogram.counts.len().max(1);
    let sim_bars: Vec<Bar> = s
        .jaccard_histogram
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let lo = i as f64 / bins as f64;
            Bar {
                label: if i % (bins / 4).max(1) == 0 || i + 1 == bins {
                    format!("{lo:.2}")
                } else {
                    String::new()
                },
                value: *c as f64,
                text: c.to_string(),
            }
        })
        .collect();
    let _ = write!(
        h,
        "<h2>Similarity of duplicates</h2><figure>{}<figcaption>{dups} duplicates by the 5-shingle Jaccard similarity of their best match ({SIMILARITY_BINS} bins from 0 to 1; exact duplicates are at 1). By tier: {}.</figcaption></figure>",
        column_chart(
            "chart-similarity",
            "Duplicates per best-match Jaccard similarity",
            &sim_bars,
            false,
            "Jaccard similarity"
        ),
        escape(
            &s.duplicates_by_tier
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );

    // Boilerplate per source.
    let share_bars: Vec<Bar> = s
        .boilerplate
        .per_source
        .iter()
        .take(CHART_SOURCES)
        .map(|src| Bar {
            label: src.source.clone(),
            value: src.share,
            text: format!("{} · {} docs", pct(src.share), src.documents),
        })
        .collect();
    let _ = write!(
        h,
        "<h2>Boilerplate share per source</h2><figure>{}<figcaption>Removed bytes / (removed + kept) per source, the {} sources with most documents of {}. Overall {}.</figcaption></figure>",
        share_chart("chart-boilerplate", "Boilerplate share per source", &share_bars),
        share_bars.len(),
        s.boilerplate.per_source.len(),
        pct(s.boilerplate.share)
    );

    // Largest clusters.
    let _ = write!(
        h,
        r#"<h2>Largest clusters</h2><table id="clusters"><thead><tr><th>#</th><th>size</th><th>canonical (keep)</th><th>first members, side by side</th></tr></thead><tbody>"#
    );
    for (rank, c) in s.largest_clusters.iter().enumerate() {
        let _ = write!(
            h,
            r#"<tr class="cluster-row"><td>{}</td><td>{}</td><td><code>{}</code></td><td><div class="members">"#,
            rank + 1,
            c.size,
            escape(&c.canonical_id)
        );
        for m in &c.members {
            let canonical = m.id == c.canonical_id;
            let evidence = match (&m.tier, m.jaccard, m.containment) {
                (Some(t), Some(j), Some(k)) => format!(" · {t} J={j:.2} C={k:.2}"),
                _ => String::new(),
            };
            let _ = write!(
                h,
                r#"<div class="member{}"><div class="meta"><code>{}</code>{}{}</div><div class="snippet" dir="auto">{}</div></div>"#,
                if canonical { " canonical" } else { "" },
                escape(&m.id),
                m.source
                    .as_deref()
                    .map(|x| format!(" · {}", escape(x)))
                    .unwrap_or_default(),
                escape(&evidence),
                escape(&m.snippet)
            );
        }
        if (c.members.len() as u64) < c.size {
            let _ = write!(
                h,
                r#"<div class="member muted">… {} more</div>"#,
                c.size - c.members.len() as u64
            );
        }
        h.push_str("</div></td></tr>");
    }
    if s.largest_clusters.is_empty() {
        h.push_str(r#"<tr><td colspan="4" class="muted">No duplicates found.</td></tr>"#);
    }
    h.push_str("</tbody></table>");

    // Top boilerplate lines.
    h.push_str(r#"<h2>Most frequent boilerplate lines</h2><section id="boilerplate-lines">"#);
    let mut listed = 0;
    for src in s.boilerplate.per_source.iter() {
        if src.top_lines.is_empty() {
            continue;
        }
        if listed == LISTED_SOURCES {
            break;
        }
        listed += 1;
        let _ = write!(
            h,
            r#"<h3>{} <span class="muted">({} docs, {} boilerplate)</span></h3><table class="lines"><thead><tr><th>documents</th><th>line</th></tr></thead><tbody>"#,
            escape(&src.source),
            src.documents,
            pct(src.share)
        );
        for l in &src.top_lines {
            let _ = write!(
                h,
                r#"<tr><td>{}{}</td><td dir="auto">{}</td></tr>"#,
                l.count,
                if l.error > 0 {
                    format!(" (±{})", l.error)
                } else {
                    String::new()
                },
                escape(&l.line)
            );
        }
        h.push_str("</tbody></table>");
    }
    if listed == 0 {
        h.push_str(r#"<p class="muted">No boilerplate lines were removed.</p>"#);
    }
    h.push_str("</section>");

    // Languages, skipped, errors.
    h.push_str(r#"<h2>Languages</h2><table id="languages"><thead><tr><th>language (script-based guess)</th><th>documents</th></tr></thead><tbody>"#);
    let mut langs: Vec<(&String, &u64)> = s.languages.iter().collect();
    langs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (l, n) in langs {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(l));
    }
    h.push_str("</tbody></table>");
    if !s.skipped.is_empty() {
        h.push_str("<h2>Skipped input items</h2><table><tbody>");
        for (reason, n) in &s.skipped {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(reason));
        }
        h.push_str("</tbody></table>");
    }
    if s.errors > 0 {
        let _ = write!(h, "<h2>Failed input items ({})</h2><ul>", s.errors);
        for e in &s.error_samples {
            let _ = write!(h, "<li><code>{}</code></li>", escape(e));
        }
        h.push_str("</ul>");
    }
    let _ = writeln!(h, "</main><script>{SCRIPT}</script></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn charts_draw_one_bar_per_value_and_no_external_assets() {
        let bars = vec![
            Bar {
                label: "a".into(),
                value: 3.0,
                text: "3".into(),
            },
            Bar {
                label: "<b>".into(),
                value: 0.0,
                text: "0".into(),
            },
        ];
        let svg = column_chart("c", "t", &bars, true, "x");
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 2);
        assert!(svg.contains("&lt;b&gt;"));
        assert!(!svg.contains("http"));
        let svg = share_chart("s", "t", &bars);
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 2);
    }
}
