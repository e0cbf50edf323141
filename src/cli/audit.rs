//! `neardup audit`: duplicate clusters, boilerplate share and a report over a corpus.

use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `neardup audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Output directory.
    #[arg(long, default_value = "neardup-audit")]
    pub out: PathBuf,
    /// JSONL files, folders of .txt/.html files, or WARC files.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

/// Run the audit.
pub fn run(_args: AuditArgs) -> crate::Result<ExitCode> {
    Err(crate::Error::Unavailable(
        "audit is not implemented yet".into(),
    ))
}
