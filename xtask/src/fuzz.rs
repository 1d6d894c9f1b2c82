//! `cargo xtask fuzz [SECONDS] [TARGET...]`: each cargo-fuzz target in
//! `fuzz/` for a set time (default 60 s), one after the other (two shared
//! cores), starting from real seeds and the kept regression inputs.
//!
//! Needs the nightly toolchain (libFuzzer's instrumentation); installs
//! cargo-fuzz into ~/.cargo/bin when missing. Corpora live outside the
//! clone (next to the target dir) and grow from run to run. A crash stops
//! the run and names the input: fix the bug, then copy the input into
//! `fuzz/regressions/<target>/`, where the stable test suite replays it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

const DEFAULT_SECS: u64 = 60;

pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let mut secs = DEFAULT_SECS;
    let mut wanted: Vec<&str> = vec![];
    for a in args {
        match a.parse::<u64>() {
            Ok(n) => secs = n.clamp(1, 24 * 3600),
            Err(_) => wanted.push(a),
        }
    }
    let all: Vec<&str> = pustaka_fuzz_harness::TARGETS.iter().map(|t| t.0).collect();
    if let Some(bad) = wanted.iter().find(|w| !all.contains(w)) {
        bail!("no fuzz target `{bad}`; the targets: {}", all.join(", "));
    }
    let targets = if wanted.is_empty() { all } else { wanted };

    let nightly = Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !nightly {
        bail!(
            "fuzzing needs the nightly toolchain: `rustup toolchain install nightly` \
             (the regression inputs are replayed on stable by `cargo test`)"
        );
    }
    let has_fuzz = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        crate::run("cargo", &["install", "cargo-fuzz", "--locked"])?;
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let fuzz_dir = root.join("fuzz");
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target_dir = base.join("fuzz");
    let corpora = base.join("fuzz-corpus");
    let target_dir_s = target_dir.to_string_lossy().to_string();

    crate::run_in(
        &fuzz_dir,
        "cargo",
        &["+nightly", "fuzz", "build", "--target-dir", &target_dir_s],
    )?;

    let mut rows = vec![];
    for target in &targets {
        let corpus = corpora.join(target);
        std::fs::create_dir_all(&corpus)?;
        for (i, seed) in pustaka_fuzz_harness::seeds(target).iter().enumerate() {
            std::fs::write(corpus.join(format!("seed-{i}")), seed)?;
        }
        let kept = fuzz_dir.join("regressions").join(target);
        let corpus_s = corpus.to_string_lossy().to_string();
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&fuzz_dir).args([
            "+nightly",
            "fuzz",
            "run",
            "--target-dir",
            &target_dir_s,
            target,
            &corpus_s,
        ]);
        if kept.is_dir() {
            cmd.arg(&kept);
        }
        cmd.args([
            "--",
            &format!("-max_total_time={secs}"),
            "-rss_limit_mb=2048",
            "-max_len=262144",
            "-timeout=10",
            "-print_final_stats=1",
        ]);
        eprintln!("$ (cd fuzz) cargo +nightly fuzz run {target} … -max_total_time={secs}");
        let started = Instant::now();
        let out = cmd.output().with_context(|| format!("running {target}"))?;
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        let runs = stat(&log, "stat::number_of_executed_units:").unwrap_or(0);
        let cov = last_number_after(&log, "cov: ").unwrap_or(0);
        let corpus_files = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
        rows.push((
            target.to_string(),
            runs,
            cov,
            corpus_files,
            started.elapsed().as_secs(),
        ));
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("{}", tail.join("\n"));
            bail!(
                "fuzz target {target} found a crash (input under fuzz/artifacts/{target}/): \
                 fix it, then keep the input in fuzz/regressions/{target}/"
            );
        }
    }
    println!(
        "{:<14} {:>10} {:>7} {:>8} {:>6}",
        "target", "runs", "cov", "corpus", "secs"
    );
    for (t, runs, cov, files, s) in &rows {
        println!("{t:<14} {runs:>10} {cov:>7} {files:>8} {s:>6}");
    }
    let total: u64 = rows.iter().map(|r| r.1).sum();
    println!(
        "{{\"targets\":{},\"seconds_each\":{secs},\"runs\":{total},\"crashes\":0}}",
        rows.len()
    );
    Ok(())
}

fn stat(log: &str, key: &str) -> Option<u64> {
    log.lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
}

/// The number after the last `key` in libFuzzer's progress lines.
fn last_number_after(log: &str, key: &str) -> Option<u64> {
    let at = log.rfind(key)? + key.len();
    let digits: String = log[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}
