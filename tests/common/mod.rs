//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Path of the built `neardup` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_neardup"))
}

/// The read-only shared inputs beside the checkout.
pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
}

/// Run the binary with arguments and the given standard input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn neardup");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("wait for neardup")
}

/// A made-up news article, different for every `seed`: unrelated seeds share no word
/// 5-shingles, so the detector must never pair them.
pub fn synthetic_article(seed: u64) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ten", "sar", "qu", "vel", "dor", "an", "is", "pre", "tum", "zo", "el",
        "ra", "bin",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    (0..5)
        .map(|_| {
            let words: Vec<String> = (0..16)
                .map(|_| {
                    (0..2 + next(2))
                        .map(|_| SYLLABLES[next(16) as usize])
                        .collect::<String>()
                })
                .collect();
            format!("{}.", words.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
