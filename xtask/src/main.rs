//! `cargo xtask <task>`: the project's automation, in Rust.
//!
//! - `ci`: format check, clippy with `-D warnings`, the whole test suite.
//! - `bench sync`: the sync figures of the sync-heart issue, printed as a
//!   table and, as the last line, one JSON object.

mod bench;

use std::process::Command;

use anyhow::{Context, bail};

fn run(cmd: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ {cmd} {}", args.join(" "));
    let status = Command::new(cmd)
        .args(args)
        .status()
        .with_context(|| format!("starting {cmd}"))?;
    if !status.success() {
        bail!("`{cmd} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    run("cargo", &["fmt", "--all", "--check"])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    run("cargo", &["test", "--workspace"])?;
    // The pure core must build for the browser (the app runs it in wasm).
    run(
        "cargo",
        &[
            "build",
            "-p",
            "pustaka-domain",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci(),
        ["bench", "sync"] => bench::sync(),
        _ => {
            eprintln!("usage: cargo xtask ci | cargo xtask bench sync");
            std::process::exit(2);
        }
    }
}
