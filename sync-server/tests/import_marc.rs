//! `pustaka-sync import-marc` over every MARC file in `shared/data/marc`
//! (good, damaged and unsupported ones), run as the real binary into a real
//! SQLite database: the counts, a second run that updates instead of
//! duplicating, and spot checks of decoded titles found by search.

#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use pustaka_sync::storage::sqlite::SqliteStorage;
use pustaka_sync::storage::{SearchFilter, Storage};
use serde_json::Value;

fn marc_dir() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("PUSTAKA_SHARED_DATA").map(|d| PathBuf::from(d).join("marc")),
        Some(here.join("../../shared/data/marc")),
        Some(PathBuf::from("/work/shared/data/marc")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.is_dir())
        .expect("shared/data/marc not found next to the repository (set PUSTAKA_SHARED_DATA)")
}

fn marc_files() -> Vec<PathBuf> {
    let mut files = vec![];
    for dir in std::fs::read_dir(marc_dir()).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if ["mrc", "xml", "dat", "usmarc", "marc", "lif", "json"].contains(&ext) {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn import(data: &Path, files: &[PathBuf]) -> Value {
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/demo/policy.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_pustaka-sync"))
        .arg("import-marc")
        .arg("--data")
        .arg(data)
        .arg("--policy")
        .arg(policy)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("no `{k}` in {v:#}"))
}

#[test]
fn every_shared_marc_file_imports_and_a_second_run_updates() {
    let files = marc_files();
    assert_eq!(files.len(), 75, "{files:?}");
    let dir = tempfile::tempdir().unwrap();
    let first = import(dir.path(), &files);
    // 4,334 records: 4,322 imported (4,267 distinct control numbers, 55
    // repeated across the test files) and 12 rejected; 10 files are MicroLIF
    // or MARC-in-JSON, which are refused with a reason.
    assert_eq!(n(&first, "files"), 75);
    assert_eq!(n(&first, "records_read"), 4334);
    assert_eq!(n(&first, "imported"), 4267);
    assert_eq!(n(&first, "updated"), 55);
    assert_eq!(n(&first, "rejected"), 12);
    assert_eq!(n(&first, "titles_in_catalogue"), 4267);
    let file_errors = first["file_errors"].as_array().unwrap();
    assert_eq!(file_errors.len(), 10, "{file_errors:#?}");
    assert!(
        file_errors
            .iter()
            .all(|e| e.as_str().unwrap().contains("MicroLIF")
                || e.as_str().unwrap().contains("JSON")),
        "{file_errors:#?}"
    );
    // Each rejection names its file, record number and why.
    let rejections = first["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), 12);
    let truncated = rejections
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("bad_records.mrc") && r["record"] == 9)
        .expect("bad_records.mrc record 9");
    assert!(truncated["reason"].as_str().unwrap().contains("truncated"));

    // The same files again: everything updates, nothing is duplicated.
    let second = import(dir.path(), &files);
    assert_eq!(n(&second, "imported"), 0);
    assert_eq!(n(&second, "updated"), 4322);
    assert_eq!(n(&second, "titles_in_catalogue"), 4267);

    let store = SqliteStorage::open(&dir.path().join(pustaka_sync::DB_FILE)).unwrap();
    let any = SearchFilter::default();
    let find = |q: &str| -> Vec<(String, String)> {
        store
            .search_titles(q, &any, 5)
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.title))
            .collect()
    };
    // Indonesian titles from the LC set.
    let hits = find("bumi manusia");
    assert_eq!(hits[0].0, "00366781", "{hits:?}");
    let t = store.title("00366781").unwrap().unwrap();
    assert_eq!(
        (t.title.as_str(), t.author.as_str(), t.language.as_str()),
        ("Bumi manusia", "Toer, Pramoedya Ananta", "ind")
    );
    // MARC-8 romanised Arabic (yaz marc9.marc), found without diacritics.
    let t = store.title("2005336282").unwrap().unwrap();
    assert_eq!(t.title, "Qaḍāʼ al-usrah : majallah mutakhaṣṣiṣah");
    assert!(
        find("qada usrah").iter().any(|(id, _)| id == "2005336282"),
        "{:?}",
        find("qada usrah")
    );
    // MARC-8 Cyrillic romanisation with a double-width ligature (pymarc regression45.dat).
    let t = store.title("prk2000001892").unwrap().unwrap();
    assert!(
        t.title.starts_with("Sobor Rozhdestva Presvi͡atoĭ"),
        "{}",
        t.title
    );
    // UTF-8 accents from LC.
    assert!(
        find("comedie humaine")
            .iter()
            .any(|(_, title)| title.contains("Comédie humaine"))
    );
    // A record's ISBN-10 is found by both forms, and by search with hyphens.
    for isbn in ["9789795300229", "9795300229"] {
        let t = store.title_by_isbn(isbn).unwrap().expect(isbn);
        assert_eq!(t.title, "Sejarah Sulawesi Selatan : capita selecta");
    }
    assert_eq!(find("979-530-022-9")[0].0, "00280700");
}
