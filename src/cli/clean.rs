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
    let cleaned = Stripper::new().clean(&content, format, args.source.as_deref())?;
    if args.json {
        let out = serde_json::to_string(&cleaned)
            .map_err(|e| crate::Error::invalid("output", e.to_string()))?;
        println!("{out}");
    } else {
        println!("{}", cleaned.text);
    }
    Ok(ExitCode::SUCCESS)
}
