//! Compiles the wire contract with a pure-Rust protobuf compiler (no `protoc` needed) and writes
//! the file descriptor set that server reflection serves.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/neardup/v1/neardup.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("neardup_descriptor.bin");
    std::fs::write(
        &descriptor_path,
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Deterministic order of proto maps (the audit summary's counts), as in summary.json.
        .btree_map(".neardup.v1")
        .compile_fds(descriptors)?;
    Ok(())
}
