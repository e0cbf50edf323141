//! Durable state behind one trait (the embedded default lives under `--data-dir`).
//!
//! Placeholder until durable state lands.
