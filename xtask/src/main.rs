//! `cargo xtask <task>`: the project's automation, in Rust.
//!
//! - `ci`: format check, clippy with `-D warnings`, the whole test suite.
//! - `demo`: builds and runs the demo library server, signs the headless
//!   patron device in, and keeps the server running (Ctrl-C stops it).
//! - `bench sync`: the sync figures of the sync-heart issue, printed as a
//!   table and, as the last line, one JSON object.
//! - `bench load`: one load against pustaka-sync, samod and the Node
//!   automerge-repo server (`load.rs`): a table, then one JSON line.

mod bench;
mod catalog;
mod e2e;
mod fuzz;
mod load;
mod pg;
mod pyenv;
mod startup;
mod web_e2e;
mod webdriver;

use std::process::Command;

use anyhow::{Context, bail};

pub(crate) fn run(cmd: &str, args: &[&str]) -> anyhow::Result<()> {
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

pub(crate) fn run_in(dir: &std::path::Path, cmd: &str, args: &[&str]) -> anyhow::Result<()> {
    eprintln!("$ (cd {}) {cmd} {}", dir.display(), args.join(" "));
    let status = Command::new(cmd)
        .args(args)
        .current_dir(dir)
        .status()
        .with_context(|| format!("starting {cmd}"))?;
    if !status.success() {
        bail!("`{cmd} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The wasm-bindgen CLI must match the crate exactly (pinned in app/Cargo.toml).
const WASM_BINDGEN: &str = "0.2.106";

fn ensure_wasm_bindgen() -> anyhow::Result<()> {
    let ok = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(WASM_BINDGEN))
        .unwrap_or(false);
    if !ok {
        // Without --locked: one locked dependency is not offered by the registry here.
        run(
            "cargo",
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &format!("={WASM_BINDGEN}"),
            ],
        )?;
    }
    Ok(())
}

/// Builds the Dioxus UI to `app/dist` (wasm + wasm-bindgen + static files).
pub(crate) fn ui() -> anyhow::Result<()> {
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    ensure_wasm_bindgen()?;
    run(
        "cargo",
        &[
            "build",
            "-p",
            "pustaka-app",
            "--bin",
            "pustaka-app",
            "--target",
            "wasm32-unknown-unknown",
            // Small over fast: the page's start-up waits for the browser to
            // fetch and compile this module (see Cargo.toml).
            "--profile",
            "wasm-release",
        ],
    )?;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dist = root.join("app/dist");
    let wasm = bench::target_dir().join("wasm32-unknown-unknown/wasm-release/pustaka-app.wasm");
    run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            "pustaka-app",
            "--out-dir",
            dist.to_str().unwrap_or("app/dist"),
            wasm.to_str().unwrap_or_default(),
        ],
    )?;
    for entry in std::fs::read_dir(root.join("app/static"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), dist.join(entry.file_name()))?;
    }
    Ok(())
}

fn ci() -> anyhow::Result<()> {
    // Idempotent: present on a warm machine, installed on a fresh one.
    run("rustup", &["component", "add", "rustfmt", "clippy"])?;
    run("rustup", &["target", "add", "wasm32-unknown-unknown"])?;
    run("cargo", &["fmt", "--all", "--check"])?;
    // The desktop crate embeds the built UI: build it before anything
    // compiles that crate.
    ui()?;
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
    // The independent checkers (OPDS schemas, the pysip2 library system).
    let python = pyenv::ensure()?;
    // A real PostgreSQL server on loopback for the scale-out tests.
    let pg = pg::Postgres::start()?;
    eprintln!(
        "$ PUSTAKA_PYTHON={} PUSTAKA_PG=… cargo test --workspace",
        python.display()
    );
    let status = Command::new("cargo")
        .args(["test", "--workspace"])
        .env("PUSTAKA_PYTHON", &python)
        .env("PUSTAKA_PG", &pg.conn)
        .status()
        .context("starting cargo test")?;
    if !status.success() {
        bail!("`cargo test --workspace` failed with {status}");
    }
    // The scenario suite again, every library on PostgreSQL.
    scenarios_on_postgres(&pg)?;
    drop(pg);
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
    // The app in a real window against a real server.
    e2e::build()?;
    tokio::runtime::Runtime::new()?.block_on(e2e::run())?;
    // The same UI as the library's website, in headless Chromium.
    web_e2e::build()?;
    tokio::runtime::Runtime::new()?.block_on(web_e2e::run())?;
    Ok(())
}

/// The sync-heart scenario suite with every library in PostgreSQL
/// (`PUSTAKA_TEST_STORAGE=postgres`), and the two-server tests.
fn scenarios_on_postgres(pg: &pg::Postgres) -> anyhow::Result<()> {
    eprintln!(
        "$ PUSTAKA_TEST_STORAGE=postgres PUSTAKA_PG=… cargo test -p pustaka-scenarios --test scenarios --test privacy --test faq --test survey --test reading --test web --test postgres"
    );
    let status = Command::new("cargo")
        .args([
            "test",
            "-p",
            "pustaka-scenarios",
            "--test",
            "scenarios",
            "--test",
            "privacy",
            "--test",
            "faq",
            "--test",
            "survey",
            "--test",
            "reading",
            "--test",
            "web",
            "--test",
            "postgres",
        ])
        .env("PUSTAKA_TEST_STORAGE", "postgres")
        .env("PUSTAKA_PG", &pg.conn)
        .status()
        .context("starting cargo test")?;
    if !status.success() {
        bail!("the scenarios on PostgreSQL failed with {status}");
    }
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
    e2e::build()?;
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
    eprintln!();
    eprintln!("The demo library is serving on {url} (data in data/demo).");
    eprintln!("Demo patron: card 1001, PIN 1234.");
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|d| !d.is_empty()));
    if !has_display {
        eprintln!("No display here: the desktop app needs a desktop session.");
        eprintln!(
            "The headless device still works: {}/pustaka-device --db data/demo-device.db login --server {url} --card 1001 --pin 1234",
            bin.display()
        );
        eprintln!("Ctrl-C stops the server.");
        let status = server.wait()?;
        if !status.success() {
            bail!("pustaka-sync demo exited: {status}");
        }
        return Ok(());
    }
    // The desktop app, signed in to the demo library as card 1001.
    let app = bench::target_dir().join("debug/pustaka");
    eprintln!("Starting the Pustaka app (closing its window stops the server)...");
    let status = Command::new(&app)
        .env("PUSTAKA_SERVER", &url)
        .env("PUSTAKA_DEMO_SIGN_IN", format!("{url} 1001 1234"))
        .env("PUSTAKA_DATA_DIR", "data/demo-app")
        .status()
        .with_context(|| format!("starting {}", app.display()));
    let _ = server.kill();
    let _ = server.wait();
    status?;
    Ok(())
}

/// The shelf scanner on a folder of photos (`crates/scan/benches/scan.rs`,
/// release build): a table, then one JSON line.
fn bench_scan(dir: &str) -> anyhow::Result<()> {
    // cargo runs benches from the package's folder: pass an absolute path.
    let dir = std::fs::canonicalize(dir).with_context(|| format!("no folder {dir}"))?;
    let dir = dir.to_string_lossy();
    run(
        "cargo",
        &[
            "bench",
            "-q",
            "-p",
            "pustaka-scan",
            "--bench",
            "scan",
            "--",
            &dir,
        ],
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["ci"] => ci(),
        ["demo"] => demo(),
        ["ui"] => ui(),
        ["pyenv"] => pyenv::ensure().map(|p| println!("{}", p.display())),
        ["test-postgres"] => scenarios_on_postgres(&pg::Postgres::start()?),
        ["web-e2e"] => {
            web_e2e::build()?;
            tokio::runtime::Runtime::new()?.block_on(web_e2e::run())
        }
        ["e2e"] => {
            e2e::build()?;
            tokio::runtime::Runtime::new()?.block_on(e2e::run())
        }
        ["fuzz", rest @ ..] => fuzz::run(rest),
        ["bench", "sync"] => bench::sync(),
        ["bench", "load", rest @ ..] => load::run(rest),
        ["bench", "catalog"] => catalog::run(),
        ["bench", "scan"] => bench_scan("../shared/data/qr-photos"),
        ["bench", "scan", dir] => bench_scan(dir),
        ["bench", "startup"] => {
            e2e::build()?;
            // Patrons run release builds: time that one.
            run(
                "cargo",
                &[
                    "build",
                    "--release",
                    "-p",
                    "pustaka-desktop",
                    "--features",
                    "custom-protocol",
                ],
            )?;
            tokio::runtime::Runtime::new()?.block_on(startup::run())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask ci | demo | ui | e2e | pyenv | test-postgres | fuzz [SECONDS] [TARGET...] | bench sync | bench load [--patrons P] [--rate K] [--seconds S] [--lru-patrons N] [--servers pustaka,samod,node] | bench startup | bench catalog | bench scan [DIR]"
            );
            std::process::exit(2);
        }
    }
}
