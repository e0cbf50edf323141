//! Write boilerplate-stripping predictions for a directory of pages, for
//! `../shared/tools/score_boilerplate.py`.
//!
//! `cargo run --release --example score_boilerplate -- text|html IN_DIR OUT_DIR`
//! reads `IN_DIR/NAME.lines.txt` (text mode) or `IN_DIR/NAME.html` (HTML mode), writes
//! `OUT_DIR/NAME.txt`, and prints the mean time per page.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use neardup::boilerplate::{InputFormat, Stripper};
use neardup::document::Content;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: score_boilerplate text|html IN_DIR OUT_DIR");
        std::process::exit(2);
    }
    let (mode, input, out) = (&args[1], &args[2], &args[3]);
    let suffix = if mode == "text" {
        ".lines.txt"
    } else {
        ".html"
    };
    std::fs::create_dir_all(out).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(input)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    let mut total = 0f64;
    for name in &names {
        let bytes = std::fs::read(format!("{input}/{name}")).unwrap();
        let stripper = Stripper::new();
        let t = Instant::now();
        let cleaned = if mode == "text" {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            stripper.clean(&Content::Text(text), InputFormat::Text, None)
        } else {
            stripper.clean(&Content::Html(bytes), InputFormat::Html, None)
        }
        .unwrap();
        total += t.elapsed().as_secs_f64();
        let stem = name.trim_end_matches(suffix);
        std::fs::write(format!("{out}/{stem}.txt"), cleaned.text).unwrap();
    }
    eprintln!(
        "{} pages, {:.3} ms/page",
        names.len(),
        total * 1000.0 / names.len().max(1) as f64
    );
}
