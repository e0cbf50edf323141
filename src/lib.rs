//! neardup: strip boilerplate from news text and HTML, and tell whether a document is a
//! near-duplicate of one already seen.
//!
//! The pipeline runs one stage per module, each pure and synchronous:
//!
//! | stage | module |
//! |---|---|
//! | html/text → blocks → keep or strip (with kind and reason) | [`boilerplate`] |
//! | normalize → tokens → shingles → simhash / MinHash | [`pipeline`] |
//! | candidates (exact, simhash tables, LSH bands) → verify → cluster | [`index`] |
//! | durable state behind one trait | [`store`] |
//! | the per-namespace check-and-insert that ties them together | [`engine`] |
//! | gRPC handlers and the server | [`service`], [`server`] |
//! | batch corpus audit | [`audit`] |
//!
//! ```
//! use neardup::engine::{CheckOptions, Engine};
//! use neardup::document::Document;
//!
//! let engine = Engine::in_memory();
//! let text = "The minister met his counterpart on Tuesday to discuss the border crossing.";
//! let first = engine.check("news", Document::text("a", text), &CheckOptions::default()).unwrap();
//! let again = engine.check("news", Document::text("b", text), &CheckOptions::default()).unwrap();
//! assert_eq!(first.duplicate_of, None);
//! assert_eq!(again.duplicate_of.as_deref(), Some("a"));
//! ```

pub mod audit;
pub mod boilerplate;
pub mod cli;
pub mod config;
pub mod document;
pub mod engine;
pub mod error;
pub mod index;
pub mod pipeline;
pub mod server;
pub mod service;
pub mod store;

/// Code generated from `proto/neardup/v1/neardup.proto` (package `neardup.v1`).
#[allow(missing_docs, clippy::all, clippy::unwrap_used, clippy::expect_used)]
pub mod proto {
    tonic::include_proto!("neardup.v1");

    /// Encoded file descriptor set of the wire contract, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/neardup_descriptor.bin"));
}

pub use error::{Error, Result};
