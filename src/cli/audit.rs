//! `neardup audit`: duplicate clusters, boilerplate share and a report over a corpus.
//!
//! Writes into `--out DIR`: `clusters.jsonl` (one line per document in input order: `id`,
//! `cluster_id`, `canonical_id`, `duplicate_of`, `verdict`, `evidence`, `source`, `url`, `lang`,
//! `boilerplate_share`), `summary.json` ([`crate::audit::Summary`]) and `report.html`. Shows a
//! progress bar with rate and ETA when standard error is a terminal. Exit code 1 when any input
//! item failed (the failures are listed in the summary), 0 otherwise.
//!
//! With `--remote URL` the inputs are read and decoded here and audited by a running server
//! (its Audit RPC, on scratch state): `summary.json` and `report.html` as the local audit
//! writes them, and `clusters.jsonl` only with `--clusters` (the server's whole answer must fit
//! its `max_message_bytes`).

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::audit::{self, source, AuditConfig, Auditor, Progress, RunOptions, Summary};
use crate::Result;

/// Flags of `neardup audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Output directory (created if missing).
    #[arg(long, default_value = "neardup-audit")]
    pub out: PathBuf,
    /// Decoding and preparing threads besides the committing one, which prepares too (0 = one
    /// fewer than the cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Never show the progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Audit on a running server (e.g. `http://127.0.0.1:50051`, its Audit RPC; its namespaces
    /// are untouched) instead of in-process. Inputs are read and decoded here.
    #[arg(long)]
    pub remote: Option<String>,
    /// With --remote: also fetch one row per document and write clusters.jsonl (the server's
    /// answer must then fit its max_message_bytes: about 25 000 documents at the default).
    #[arg(long, requires = "remote")]
    pub clusters: bool,
    /// JSONL files (`-` = stdin), folders of .txt/.html files, or WARC / WARC.gz files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Write a file through a temporary name, so a reader never sees half of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn progress_bar(show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        None,
        indicatif::ProgressDrawTarget::stderr_with_hz(8),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} · {msg} · ETA {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Write one `clusters.jsonl` line.
fn write_line<T: serde::Serialize>(
    out: &mut impl Write,
    line: &mut Vec<u8>,
    row: &T,
) -> Result<()> {
    line.clear();
    serde_json::to_writer(&mut *line, row).map_err(|e| crate::Error::Decode {
        what: "audit record",
        message: e.to_string(),
    })?;
    line.push(b'\n');
    out.write_all(line)?;
    Ok(())
}

/// Show a run's progress on the bar.
fn show_progress(bar: &indicatif::ProgressBar, started: Instant, p: &Progress) {
    if let Some(total) = p.total_bytes {
        bar.set_length(total);
    }
    bar.set_position(p.bytes_read);
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    bar.set_message(format!(
        "{} docs, {:.0} docs/s",
        p.documents,
        p.documents as f64 / secs
    ));
}

/// The in-process audit: every core, `clusters.jsonl` written as records come.
fn audit_here(
    args: &AuditArgs,
    sources: Vec<Box<dyn source::DocumentSource>>,
    bar: &indicatif::ProgressBar,
    started: Instant,
) -> Result<Summary> {
    let clusters_path = args.out.join("clusters.jsonl");
    let mut clusters = BufWriter::with_capacity(1 << 20, std::fs::File::create(&clusters_path)?);
    let mut auditor = Auditor::new(AuditConfig::default());
    let run_opts = RunOptions {
        threads: args.threads,
        ..RunOptions::default()
    };
    let mut line = Vec::with_capacity(1024);
    audit::run(
        sources,
        &mut auditor,
        &run_opts,
        &mut |record| write_line(&mut clusters, &mut line, record),
        &mut |p: &Progress| show_progress(bar, started, p),
    )?;
    clusters.flush()?;
    Ok(auditor.finish())
}

/// The audit on a server (`--remote`): `clusters.jsonl` only with `--clusters`.
fn audit_there(
    url: &str,
    args: &AuditArgs,
    sources: Vec<Box<dyn source::DocumentSource>>,
    bar: &indicatif::ProgressBar,
    started: Instant,
) -> Result<Summary> {
    let progress_bar = bar.clone();
    let remote = super::remote::audit_remote(
        url,
        sources,
        args.clusters,
        Box::new(move |p: &Progress| show_progress(&progress_bar, started, p)),
    )?;
    if args.clusters {
        let path = args.out.join("clusters.jsonl");
        let mut clusters = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
        let mut line = Vec::with_capacity(1024);
        for row in &remote.rows {
            write_line(&mut clusters, &mut line, row)?;
        }
        clusters.flush()?;
    }
    Ok(remote.summary)
}

/// Run the audit.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let opts = source::SourceOptions::default();
    let sources = args
        .inputs
        .iter()
        .map(|p| source::open(p, &opts))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(&args.out)?;
    let bar = progress_bar(!args.quiet && std::io::stderr().is_terminal());
    let started = Instant::now();
    let summary = match &args.remote {
        Some(url) => audit_there(url, &args, sources, &bar, started)?,
        None => audit_here(&args, sources, &bar, started)?,
    };
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();

    write_atomically(
        &args.out.join("summary.json"),
        summary.to_json()?.as_bytes(),
    )?;
    let title = format!(
        "Audit of {}",
        args.inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    write_atomically(
        &args.out.join("report.html"),
        audit::report::render(&summary, &title).as_bytes(),
    )?;
    eprintln!(
        "neardup audit: {} documents, {} exact + {} near duplicates ({:.1} %), {} clusters, boilerplate {:.1} %, {} failed, {} skipped; {:.1} s ({:.0} docs/s) → {}",
        summary.documents,
        summary.exact_duplicates,
        summary.near_duplicates,
        summary.duplication_rate * 100.0,
        summary.clusters,
        summary.boilerplate.share * 100.0,
        summary.errors,
        summary.skipped.values().sum::<u64>(),
        elapsed,
        summary.documents as f64 / elapsed.max(1e-9),
        args.out.display()
    );
    Ok(if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
