//! `neardup fingerprint`: print the simhash of a text.
//!
//! The fingerprint is the TF simhash of the normalized text (no boilerplate stripping, no
//! namespace statistics), so it is a pure function of the input: the same text gives the same
//! 16 hex digits on every machine and build.

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

/// Print the fingerprint as 16 hex digits (and, with `--verbose`, the normalized text).
pub fn run(args: FingerprintArgs) -> crate::Result<ExitCode> {
    let input = super::read_input(args.file.as_deref())?;
    let text = String::from_utf8_lossy(&input);
    let normalized = crate::pipeline::normalize::normalize(&text);
    let features = crate::pipeline::features_of_normalized(
        &normalized,
        &crate::pipeline::FeatureConfig::default(),
    );
    println!("{:016x}", features.simhash_tf());
    if args.verbose {
        println!("{normalized}");
    }
    Ok(ExitCode::SUCCESS)
}
