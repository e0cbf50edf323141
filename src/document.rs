//! The document as callers hand it over, independent of the transport (CLI JSONL or gRPC).

/// The body of a document: text already extracted from a page (one block per line) or the raw
/// HTML bytes, in whatever charset the page declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Extracted text, one block per line.
    Text(String),
    /// Raw HTML bytes.
    Html(Vec<u8>),
}

/// One document to clean and check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Caller's id, unique within a namespace.
    pub id: String,
    /// The body.
    pub content: Content,
    /// Site or outlet; scopes learned boilerplate lines.
    pub source: Option<String>,
    /// Where it was fetched from.
    pub url: Option<String>,
    /// Publication time, seconds since the Unix epoch; arrival time is used when absent.
    pub published_at: Option<i64>,
}

impl Document {
    /// A text document with only an id.
    pub fn text(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            content: Content::Text(text.into()),
            source: None,
            url: None,
            published_at: None,
        }
    }

    /// An HTML document with only an id.
    pub fn html(id: impl Into<String>, html: impl Into<Vec<u8>>) -> Self {
        Document {
            id: id.into(),
            content: Content::Html(html.into()),
            source: None,
            url: None,
            published_at: None,
        }
    }

    /// Size of the body in bytes (what limits are checked against).
    pub fn content_len(&self) -> usize {
        match &self.content {
            Content::Text(t) => t.len(),
            Content::Html(h) => h.len(),
        }
    }
}
