//! `neardup dedup`: read JSONL documents, write one verdict per line in input order.
//!
//! Input line: `{"id": str, "text": str}` or `{"id": str, "html": str}`, optional `source`,
//! `url`, `published_at` (RFC 3339); unknown fields are ignored. Output line:
//! `{"id", "duplicate_of", "cluster_id", "simhash", "matches": [...]}` or, for a bad line,
//! `{"line": N, "error": "..."}`. Exit code 1 when any line failed.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Deserialize;

use crate::document::{Content, Document};
use crate::engine::{CheckOptions, Engine};
use crate::{Error, Result};

/// Flags of `neardup dedup`.
#[derive(Debug, clap::Args)]
pub struct DedupArgs {
    /// Namespace the documents belong to.
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Check on a running server (e.g. `http://127.0.0.1:50051`) instead of in-process: the
    /// verdicts then count every document the server's namespace has seen.
    #[arg(long)]
    pub remote: Option<String>,
    /// JSONL input; `-` reads standard input.
    pub file: PathBuf,
}

/// One input line.
#[derive(Debug, Deserialize)]
struct InputLine {
    id: String,
    text: Option<String>,
    html: Option<String>,
    source: Option<String>,
    url: Option<String>,
    published_at: Option<String>,
}

/// Parse one JSONL line into a document.
pub fn parse_line(line: &str) -> Result<Document> {
    let raw: InputLine = serde_json::from_str(line).map_err(|e| Error::Decode {
        what: "JSON line",
        message: e.to_string(),
    })?;
    let content = match (raw.text, raw.html) {
        (Some(t), None) => Content::Text(t),
        (None, Some(h)) => Content::Html(h.into_bytes()),
        (Some(_), Some(_)) => {
            return Err(Error::invalid("text", "give either text or html, not both"))
        }
        (None, None) => return Err(Error::invalid("text", "missing: give text or html")),
    };
    let published_at = match raw.published_at {
        Some(s) => Some(
            time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .map_err(|e| Error::invalid("published_at", format!("not RFC 3339: {e}")))?
                .unix_timestamp(),
        ),
        None => None,
    };
    Ok(Document {
        id: raw.id,
        content,
        source: raw.source,
        url: raw.url,
        published_at,
    })
}

/// Run dedup over the input, writing verdicts to stdout.
pub fn run(args: DedupArgs) -> Result<ExitCode> {
    let reader: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(&args.file)?))
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let exit = |failed: bool| {
        if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    };
    if let Some(url) = &args.remote {
        let failed = super::remote::dedup_remote(url, &args.namespace, reader, &mut out)?;
        out.flush()?;
        return Ok(exit(failed));
    }
    let engine = Engine::in_memory();
    let mut failed = false;
    let opts = CheckOptions::default();
    for (index, line) in reader.lines().enumerate() {
        let line_no = index + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let result = parse_line(&line).and_then(|doc| engine.check(&args.namespace, doc, &opts));
        let value = match result {
            Ok(outcome) => super::remote::verdict_json(&outcome),
            Err(err) => {
                failed = true;
                serde_json::json!({"line": line_no, "error": err.to_string()})
            }
        };
        writeln!(out, "{value}")?;
    }
    out.flush()?;
    Ok(exit(failed))
}
