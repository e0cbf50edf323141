//! Batch corpus audit: duplicate clusters, boilerplate share and a readable report.
//!
//! Placeholder until the audit lands.
