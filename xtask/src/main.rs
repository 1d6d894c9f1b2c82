//! `cargo xtask <task>`: the project's automation, in Rust.
//!
//! - `ci`: format check, clippy with `-D warnings`, the whole test suite.
//! - `demo`: builds and runs the demo library server, signs the headless
//!   patron device in, and keeps the server running (Ctrl-C stops it).
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
    // Idempotent: present on a warm machine, installed on a fresh one.
    run("rustup", &["component", "add", "rustfmt", "clippy"])?;
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
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

fn demo() -> anyhow::Result<()> {
    run(
        "cargo",
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "pustaka-sync",
            "-p",
            "pustaka-client",
        ],
    )?;
    let bin = bench::target_dir().join("release");
    let listen = std::env::var("PUSTAKA_LISTEN").unwrap_or_else(|_| "127.0.0.1:7878".into());
    let mut server = Command::new(bin.join("pustaka-sync"))
        .args(["demo", "--data", "data/demo", "--listen", &listen])
        .spawn()
        .context("starting pustaka-sync demo")?;
    // The first start seeds the library (a few seconds); then it listens.
    let mut up = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(&listen).is_ok() {
            up = true;
            break;
        }
        if let Some(status) = server.try_wait()? {
            bail!("pustaka-sync demo exited: {status}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if !up {
        let _ = server.kill();
        bail!("pustaka-sync demo did not start listening on {listen}");
    }
    let url = format!("http://{listen}");
    let device = bin.join("pustaka-device");
    let db = "data/demo-device.db";
    run(
        device.to_str().unwrap_or("pustaka-device"),
        &[
            "--db", db, "login", "--server", &url, "--card", "1001", "--pin", "1234",
        ],
    )?;
    run(
        device.to_str().unwrap_or("pustaka-device"),
        &["--db", db, "status"],
    )?;
    eprintln!();
    eprintln!("The demo library is serving on {url} (data in data/demo).");
    eprintln!("The patron device (card 1001, PIN 1234) is signed in: data/demo-device.db");
    eprintln!(
        "  {} --db {db} show        # loans, holds, events, pending requests",
        device.display()
    );
    eprintln!("  {} --db {db} renew B00071", device.display());
    eprintln!(
        "  {} --db {db} watch       # follow the live poke",
        device.display()
    );
    eprintln!("Ctrl-C stops the server.");
    let status = server.wait()?;
    if !status.success() {
        bail!("pustaka-sync demo exited: {status}");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci(),
        ["demo"] => demo(),
        ["bench", "sync"] => bench::sync(),
        _ => {
            eprintln!("usage: cargo xtask ci | demo | bench sync");
            std::process::exit(2);
        }
    }
}
