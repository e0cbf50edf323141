//! Helpers shared by the bench binaries that are not criterion benches (`store`, `durability`).
#![allow(dead_code, clippy::unwrap_used)]

use neardup::store::{Store, Table};

/// The value of `--name N` on the command line, or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Records in a namespace's document table (benches check their writes landed).
pub fn count_documents(store: &dyn Store, namespace: &str) -> u64 {
    let mut count = 0u64;
    store
        .scan(namespace, Table::Documents, &mut |_, _| {
            count += 1;
            Ok(())
        })
        .unwrap();
    count
}
