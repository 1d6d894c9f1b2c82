//! Shared helpers for the data-file tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pustaka_marc::{Record, RecordError};

/// The shared MARC test data: `shared/data/marc` in an ancestor of this
/// crate, else `/work/shared/data/marc`. Panics with a clear message if
/// neither exists (the tests must not silently skip).
pub fn data_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in manifest.ancestors() {
        let candidate = dir.join("shared").join("data").join("marc");
        if candidate.is_dir() {
            return candidate;
        }
    }
    let fallback = PathBuf::from("/work/shared/data/marc");
    assert!(
        fallback.is_dir(),
        "MARC test data not found: looked for shared/data/marc in every ancestor of {} and at {}",
        manifest.display(),
        fallback.display()
    );
    fallback
}

pub fn bytes(rel: &str) -> Vec<u8> {
    let p = data_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Read a whole file: (good records, errors).
pub fn read_all(rel: &str) -> (Vec<Record>, Vec<RecordError>) {
    let data = bytes(rel);
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let reader = pustaka_marc::read(&data)
        .unwrap_or_else(|e| panic!("{rel}: expected a MARC file, got {e}"));
    for r in reader {
        match r {
            Ok(rec) => good.push(rec),
            Err(e) => bad.push(e),
        }
    }
    (good, bad)
}
