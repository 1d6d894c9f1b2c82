//! `cargo xtask bench catalog`: the 250,000-record Library of Congress file
//! (`BooksAll.2016.part01.utf8`, shipped in the `pymarc==5.4.0` source
//! distribution, downloaded at run time and cached, never committed) imported
//! by the release `pustaka-sync import-marc`, then a fixed list of queries
//! through the server's catalogue search, and the same words as raw FTS5
//! queries on the same database in the same run. Prints a table and, last,
//! one JSON line.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::bench::target_dir;

const FILE: &str = "BooksAll.2016.part01.utf8";

/// What patrons type: Indonesian and English words, authors, subjects,
/// a phrase, an ISBN.
const QUERIES: &[&str] = &[
    "history",
    "sejarah indonesia",
    "bahasa",
    "united states",
    "shakespeare",
    "poetry",
    "economic policy",
    "islam",
    "children",
    "music",
    "java",
    "law",
    "education",
    "water resources",
    "science fiction",
    "biography",
    "pramoedya",
    "kebudayaan",
    "world war",
    "computer programming",
    "women",
    "jakarta",
    "religion",
    "art",
    "0-306-40615-2",
];
const REPS: usize = 5;

fn cache() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/pustaka/bench")
}

/// The LC file, from the pymarc sdist (pip download, then tar).
fn lc_file() -> anyhow::Result<PathBuf> {
    let dir = cache();
    let file = dir.join(FILE);
    if file.exists() {
        return Ok(file);
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("downloading the pymarc 5.4.0 source distribution (it carries {FILE})");
    let ok = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "pymarc==5.4.0",
            "-d",
        ])
        .arg(&dir)
        .status()
        .context("python3 -m pip")?;
    if !ok.success() {
        bail!("pip download pymarc==5.4.0 failed");
    }
    let sdist = dir.join("pymarc-5.4.0.tar.gz");
    let ok = Command::new("tar")
        .arg("-xzf")
        .arg(&sdist)
        .arg("-C")
        .arg(&dir)
        .args(["--wildcards", &format!("*/{FILE}")])
        .status()?;
    if !ok.success() {
        bail!("{FILE} is not in {}", sdist.display());
    }
    // Move it out of the unpacked tree.
    let found = walk(&dir, FILE).context("the unpacked file")?;
    std::fs::rename(&found, &file)?;
    Ok(file)
}

fn walk(dir: &Path, name: &str) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = walk(&p, name) {
                return Some(f);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run() -> anyhow::Result<()> {
    crate::run("cargo", &["build", "--release", "-p", "pustaka-sync"])?;
    let file = lc_file()?;
    let data = tempfile::tempdir()?;
    let policy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/policy.toml");
    let t = Instant::now();
    let out = Command::new(target_dir().join("release/pustaka-sync"))
        .arg("import-marc")
        .arg("--data")
        .arg(data.path())
        .arg("--policy")
        .arg(&policy)
        .arg(&file)
        .output()?;
    let import_s = t.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("import failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let records = summary["records_read"].as_u64().unwrap_or(0);
    let imported = summary["imported"].as_u64().unwrap_or(0);
    let rejected = summary["rejected"].as_u64().unwrap_or(0);
    let records_per_sec = records as f64 / import_s;
    let db = data.path().join(pustaka_sync::DB_FILE);
    let db_bytes: u64 = ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
        .map(|m| m.len())
        .sum();

    // The server's search: FTS5 with ranking, filters and availability.
    let policy_text = std::fs::read_to_string(&policy)?;
    let mut hub = pustaka_sync::open_hub(
        data.path(),
        &policy_text,
        Arc::new(pustaka_sync::SystemClock) as Arc<dyn pustaka_sync::Clock>,
    )?;
    let filter = pustaka_sync::storage::SearchFilter::default();
    let mut ours = vec![];
    let mut hits_per_query = vec![];
    for q in QUERIES {
        let mut n = 0;
        for _ in 0..REPS {
            let t = Instant::now();
            n = pustaka_sync::catalog::search(&mut hub, q, &filter, 20)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .hits
                .len();
            ours.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        hits_per_query.push((q, n));
    }
    drop(hub);

    // Raw FTS5 on the same table: the MATCH expression search builds, ranked.
    let conn = rusqlite_conn(&db)?;
    let mut raw = vec![];
    for q in QUERIES {
        let Some(m) = pustaka_sync::storage::sqlite::fts_query(q) else {
            continue;
        };
        for _ in 0..REPS {
            let t = Instant::now();
            let mut st = conn.prepare_cached(
                "SELECT rowid FROM titles_fts WHERE titles_fts MATCH ?1 ORDER BY rank LIMIT 20",
            )?;
            let n = st.query_map([&m], |r| r.get::<_, i64>(0))?.count();
            std::hint::black_box(n);
            raw.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ours.sort_by(|a, b| a.total_cmp(b));
    raw.sort_by(|a, b| a.total_cmp(b));
    let (p50, p95) = (percentile(&ours, 0.5), percentile(&ours, 0.95));
    let (f50, f95) = (percentile(&raw, 0.5), percentile(&raw, 0.95));

    println!("| query | results |");
    println!("|---|---|");
    for (q, n) in &hits_per_query {
        println!("| {q} | {n} |");
    }
    println!();
    println!("| records | imported | rejected | import s | records/s | db MB |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {records} | {imported} | {rejected} | {import_s:.1} | {records_per_sec:.0} | {:.1} |",
        db_bytes as f64 / 1e6
    );
    println!();
    println!("| search | p50 ms | p95 ms |");
    println!("|---|---|---|");
    println!("| pustaka (ranked, availability) | {p50:.2} | {p95:.2} |");
    println!("| raw FTS5 | {f50:.2} | {f95:.2} |");
    println!(
        "{}",
        serde_json::json!({
            "records": records,
            "records_per_sec": records_per_sec.round(),
            "db_bytes": db_bytes,
            "search_p50_ms": (p50 * 100.0).round() / 100.0,
            "search_p95_ms": (p95 * 100.0).round() / 100.0,
            "fts5_p95_ms": (f95 * 100.0).round() / 100.0,
            "p95_ratio_vs_fts5": ((p95 / f95) * 100.0).round() / 100.0,
            "queries": QUERIES.len(),
            "reps": REPS,
        })
    );
    Ok(())
}

fn rusqlite_conn(db: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?)
}
