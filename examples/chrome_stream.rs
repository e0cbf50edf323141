#![allow(clippy::unwrap_used, missing_docs)]
use std::collections::{HashMap, HashSet};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let data = std::fs::read_to_string(path).unwrap();
    let s = neardup::boilerplate::Stripper::new();
    // line -> set of clusters containing it
    let mut line_clusters: HashMap<String, HashSet<String>> = HashMap::new();
    let docs: Vec<serde_json::Value> = data
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for d in &docs {
        for l in d["text"].as_str().unwrap().lines() {
            let l = l.trim();
            if !l.is_empty() {
                line_clusters
                    .entry(l.to_string())
                    .or_default()
                    .insert(d["cluster"].to_string());
            }
        }
    }
    let (mut learned, mut learned_unique, mut rule, mut kept, mut kept_common) = (0, 0, 0, 0, 0);
    let mut examples_unique = Vec::new();
    let mut examples_kept = Vec::new();
    for d in &docs {
        let text = d["text"].as_str().unwrap().to_string();
        let c = s
            .clean(
                &neardup::document::Content::Text(text.clone()),
                neardup::boilerplate::InputFormat::Text,
                None,
            )
            .unwrap();
        for r in &c.removed {
            let line = text[r.start..r.end].trim();
            let n = line_clusters.get(line).map_or(0, |s| s.len());
            if r.kind == "learned-chrome" {
                learned += 1;
                if n <= 1 {
                    learned_unique += 1;
                    if examples_unique.len() < 5 {
                        examples_unique.push(line.to_string());
                    }
                }
            } else {
                rule += 1;
            }
        }
        for l in c.text.lines() {
            kept += 1;
            let n = line_clusters.get(l.trim()).map_or(0, |s| s.len());
            if n >= 5 {
                kept_common += 1;
                if examples_kept.len() < 15 {
                    examples_kept.push(format!("{n} {l}"));
                }
            }
        }
        s.learn(None, &c.line_keys, &d["cluster"].to_string());
    }
    println!("removed by learning {learned} (of which in <=1 cluster: {learned_unique}), by rules {rule}; kept {kept}, kept lines found in >=5 clusters {kept_common}");
    println!("learned but unique: {examples_unique:?}");
    for e in examples_kept {
        println!("KEPT {}", e.chars().take(120).collect::<String>());
    }
}
