//! The `neardup` command line: `serve`, `dedup`, `clean`, `fingerprint`, `audit`. Each
//! subcommand lives in its own module; the binary only parses and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod clean;
pub mod dedup;
pub mod fingerprint;
pub mod remote;
pub mod serve;

/// Boilerplate stripping and near-duplicate detection for news text.
#[derive(Debug, Parser)]
#[command(name = "neardup", version, about)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC server.
    Serve(serve::ServeArgs),
    /// Flag near-duplicates in a JSONL stream of documents.
    Dedup(dedup::DedupArgs),
    /// Strip boilerplate from one document.
    Clean(clean::CleanArgs),
    /// Print the simhash fingerprint of a text.
    Fingerprint(fingerprint::FingerprintArgs),
    /// Audit a corpus: duplicate clusters, boilerplate share, report.
    Audit(audit::AuditArgs),
}

/// Parse the command line and run the subcommand.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Dedup(args) => dedup::run(args),
        Command::Clean(args) => clean::run(args),
        Command::Fingerprint(args) => fingerprint::run(args),
        Command::Audit(args) => audit::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("neardup: {err}");
            ExitCode::from(2)
        }
    }
}

/// Read a whole input named on the command line (`-` or none = standard input).
pub(crate) fn read_input(path: Option<&std::path::Path>) -> crate::Result<Vec<u8>> {
    use std::io::Read;
    match path {
        Some(p) if p.as_os_str() != "-" => Ok(std::fs::read(p)?),
        _ => {
            let mut buf = Vec::new();
            std::io::stdin().read_to_end(&mut buf)?;
            Ok(buf)
        }
    }
}
