//! `neardup clean`: strip boilerplate from one document and print the article text.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::boilerplate::{InputFormat, Stripper};
use crate::document::Content;

/// Input format flag.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// Extracted text, one block per line.
    Text,
    /// Raw HTML.
    Html,
    /// Decide from the content.
    Auto,
}

/// Flags of `neardup clean`.
#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// How to read the input.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,
    /// Print `{"text": ..., "removed": [...]}` instead of the text.
    #[arg(long)]
    pub json: bool,
    /// Site the page comes from.
    #[arg(long)]
    pub source: Option<String>,
    /// Clean on a running server (e.g. `http://127.0.0.1:50051`) instead of in-process, with
    /// what its namespace has learned.
    #[arg(long)]
    pub remote: Option<String>,
    /// Namespace whose learned boilerplate applies (with `--remote`).
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Input file; `-` or none reads standard input.
    pub file: Option<PathBuf>,
}

/// Clean the input and print the result.
pub fn run(args: CleanArgs) -> crate::Result<ExitCode> {
    let input = super::read_input(args.file.as_deref())?;
    let (content, format) = match args.format {
        FormatArg::Text => (
            Content::Text(String::from_utf8_lossy(&input).into_owned()),
            InputFormat::Text,
        ),
        FormatArg::Html => (Content::Html(input), InputFormat::Html),
        FormatArg::Auto => (Content::Html(input), InputFormat::Auto),
    };
    let cleaned = match &args.remote {
        Some(url) => super::remote::clean_remote(
            url,
            &args.namespace,
            content,
            format,
            args.source.as_deref(),
        )?,
        None => Stripper::new().clean(&content, format, args.source.as_deref())?,
    };
    if args.json {
        let out = serde_json::to_string(&cleaned)
            .map_err(|e| crate::Error::invalid("output", e.to_string()))?;
        println!("{out}");
    } else {
        println!("{}", cleaned.text);
    }
    Ok(ExitCode::SUCCESS)
}
