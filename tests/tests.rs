//! The one integration-test binary. Each module is one area; shared helpers live in `common`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;
// The `neardup` command line contracts (dedup, clean, fingerprint).
mod cli;
// The detection core: seeds and their variants, thread-count independence, invariants.
mod core;
// Boilerplate stripping: seeds, golden files, bad input, invariants.
mod boilerplate;
// The gRPC service end to end: every RPC, streams, limits, health, reflection, metrics,
// shutdown, the --remote CLI client and the Python/Scrapy client (pytest).
mod service;
// Durable state: SIGKILL and restart of the real server lose no acknowledged document; TTL,
// delete, re-sends; the format v1 fixture.
mod durability;
// `neardup audit`: summary counts, parity with dedup, WARC/folder inputs, report, determinism.
mod audit;
// The Audit RPC: parity with `neardup audit`, live namespaces untouched, bad input, limits.
mod audit_rpc;
