//! Boilerplate stripping: turn a page (HTML) or extracted text into the article text, and say
//! what was removed and why.
//!
//! Placeholder implementation: keeps every non-blank line. The real classifier replaces the body
//! of [`Stripper::clean`] without changing these types.

use crate::document::Content;
use crate::Result;

/// How to read the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// Extracted text, one block per line.
    Text,
    /// Raw HTML.
    Html,
    /// Decide from the content.
    #[default]
    Auto,
}

/// A span of the input that was removed, with its kind and the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RemovedSpan {
    /// Start byte offset in the input text (or in the decoded HTML text).
    pub start: usize,
    /// End byte offset, exclusive.
    pub end: usize,
    /// Kind of boilerplate, e.g. `related-teaser`, `navigation`, `share`.
    pub kind: String,
    /// Why it was removed.
    pub reason: String,
}

/// The article text and what was removed to get it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Cleaned {
    /// The article text, blocks separated by newlines.
    pub text: String,
    /// Every removed span.
    pub removed: Vec<RemovedSpan>,
    /// Keys of the input's blocks, for [`Stripper::learn`] once the document's story (duplicate
    /// cluster) is known. Not part of the output.
    #[serde(skip)]
    pub line_keys: Vec<u64>,
}

/// Strips boilerplate. Holds what it has learned about recurring lines (per source) so that one
/// instance serves one namespace.
#[derive(Debug, Default)]
pub struct Stripper {}

impl Stripper {
    /// A stripper that has learned nothing yet.
    pub fn new() -> Self {
        Stripper {}
    }

    /// Clean one document body. `source` names the site, if known.
    pub fn clean(
        &self,
        content: &Content,
        format: InputFormat,
        _source: Option<&str>,
    ) -> Result<Cleaned> {
        let text = match content {
            Content::Text(t) => t.clone(),
            Content::Html(h) => {
                let _ = format;
                String::from_utf8_lossy(h).into_owned()
            }
        };
        let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        Ok(Cleaned {
            text: kept.join("\n"),
            removed: Vec::new(),
            line_keys: Vec::new(),
        })
    }

    /// Record the blocks of a document that joined `story` (its duplicate cluster), so that lines
    /// recurring across many *stories* of one source are later stripped as chrome. A story counts
    /// once however many copies of it arrive.
    pub fn learn(&self, _source: Option<&str>, _line_keys: &[u64], _story: &str) {}
}
