//! The shelf scanner on real photos: `cargo xtask bench scan DIR` (or
//! `cargo bench -p pustaka-scan --bench scan -- DIR`).
//!
//! Every picture in DIR's folders is read once; a picture with `NAME.txt`
//! (or `NAME.multi.json`, every code of which must be read) carries a code,
//! a picture in a `*falsepositives*` folder carries none. The full
//! pipeline and plain rqrr run on the same pixels in the same process;
//! only the decode calls are timed. The last line is JSON; `decoded` and
//! `total` count the ZXing sets (`zxing-qrcode-*`), the targets' scope,
//! `all_decoded`/`all_total` every coded picture.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pustaka_scan::{Code, GrayImage, Scanner, load, rqrr_plain};

struct Picture {
    path: PathBuf,
    set: String,
    expected: Option<Vec<String>>,
}

fn pictures(dir: &Path) -> Vec<Picture> {
    let mut out = Vec::new();
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    sets.sort();
    for set in sets.into_iter().filter(|p| p.is_dir()) {
        let set_name = set
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&set)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for path in files {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "webp") {
                continue;
            }
            let expected = if set_name.contains("falsepositives") {
                None
            } else {
                let txt = path.with_extension("txt");
                let multi = path.with_extension("multi.json");
                if let Ok(t) = std::fs::read_to_string(&txt) {
                    Some(vec![t])
                } else if let Ok(j) = std::fs::read_to_string(&multi) {
                    match serde_json::from_str::<Vec<String>>(&j) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            eprintln!("skipping {}: {e}", multi.display());
                            continue;
                        }
                    }
                } else {
                    eprintln!("skipping {}: no expected text", path.display());
                    continue;
                }
            };
            out.push(Picture {
                path,
                set: set_name.clone(),
                expected,
            });
        }
    }
    out
}

fn all_read(expected: &[String], codes: &[Code]) -> bool {
    expected.iter().all(|e| codes.iter().any(|c| &c.text == e))
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed().as_secs_f64() * 1000.0)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[derive(Default)]
struct Tally {
    total: u32,
    decoded: u32,
    plain: u32,
    negatives: u32,
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let dir = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "../shared/data/qr-photos".into()),
    );
    std::panic::set_hook(Box::new(|_| {}));
    let list = pictures(&dir);
    if list.is_empty() {
        eprintln!("no pictures under {}", dir.display());
        std::process::exit(2);
    }
    let scanner = Scanner::default();
    let mut sets: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut ms, mut plain_ms) = (Vec::new(), Vec::new());
    let (mut false_positives, mut misreads, mut panics, mut contained, mut unreadable) =
        (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut by_form: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut missed = Vec::new();
    for p in &list {
        let picture: GrayImage = match load(&p.path) {
            Ok(g) => g,
            Err(e) => {
                eprintln!("{e}");
                unreadable += 1;
                continue;
            }
        };
        let tally = sets.entry(p.set.clone()).or_default();
        let (out, t) = timed(|| std::panic::catch_unwind(|| scanner.scan(&picture)));
        let (plain, tp) = timed(|| std::panic::catch_unwind(|| rqrr_plain(&picture)));
        let (Ok(out), Ok(plain)) = (out, plain) else {
            panics += 1;
            continue;
        };
        ms.push(t);
        plain_ms.push(tp);
        contained += out.panics + plain.panics;
        match &p.expected {
            None => {
                tally.negatives += 1;
                false_positives += out.codes.len() as u32;
                for c in &out.codes {
                    eprintln!("false positive in {}: {:?}", p.path.display(), c.text);
                }
            }
            Some(expected) => {
                tally.total += 1;
                if all_read(expected, &out.codes) {
                    tally.decoded += 1;
                    if let Some(f) = out.found_by {
                        *by_form.entry(f.name()).or_default() += 1;
                    }
                } else {
                    missed.push(p.path.display().to_string());
                }
                if all_read(expected, &plain.codes) {
                    tally.plain += 1;
                }
                for c in out.codes.iter().filter(|c| !expected.contains(&c.text)) {
                    eprintln!(
                        "misread in {}: {:?}, expected {:?}",
                        p.path.display(),
                        c.text,
                        expected
                    );
                }
                misreads += out
                    .codes
                    .iter()
                    .filter(|c| !expected.contains(&c.text))
                    .count() as u32;
            }
        }
    }
    println!(
        "{:<28} {:>7} {:>7} {:>10}",
        "set", "total", "decoded", "rqrr plain"
    );
    let (mut zx, mut all) = (Tally::default(), Tally::default());
    for (name, t) in &sets {
        if t.negatives > 0 {
            println!(
                "{name:<28} {:>7} (no code: {} codes reported)",
                t.negatives, false_positives
            );
            continue;
        }
        println!("{name:<28} {:>7} {:>7} {:>10}", t.total, t.decoded, t.plain);
        for acc in [&mut all]
            .into_iter()
            .chain(name.starts_with("zxing-qrcode").then_some(&mut zx))
        {
            acc.total += t.total;
            acc.decoded += t.decoded;
            acc.plain += t.plain;
        }
    }
    println!("found by: {by_form:?}");
    println!("missed: {}", missed.join(" "));
    let pct = |a: u32, b: u32| {
        if b == 0 {
            0.0
        } else {
            (1000.0 * f64::from(a) / f64::from(b)).round() / 10.0
        }
    };
    let round = |v: f64| (v * 100.0).round() / 100.0;
    println!(
        "{}",
        serde_json::json!({
            "decoded": zx.decoded,
            "total": zx.total,
            "decoded_pct": pct(zx.decoded, zx.total),
            "false_positives": false_positives,
            "panics": panics,
            "median_ms": round(median(&mut ms)),
            "rqrr_plain_decoded": zx.plain,
            "rqrr_plain_median_ms": round(median(&mut plain_ms)),
            "all_decoded": all.decoded,
            "all_total": all.total,
            "misreads": misreads,
            "contained_panics": contained,
            "unreadable": unreadable,
        })
    );
}
