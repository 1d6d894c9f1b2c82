//! Shelf labels printed and read back: the sheet `pustaka-sync labels`
//! makes from the catalogue, rendered by independent programs (poppler's
//! `pdftoppm`/`pdftotext` for the PDF, librsvg's `rsvg-convert` for the
//! SVG) as a printer would, then scanned with the app's own scanner: every
//! code must come back as the link it was printed with.

use std::path::Path;
use std::process::Command;

use pustaka_scan::{Scanner, load};
use pustaka_scenarios::Library;
use pustaka_sync::labels::{Label, from_catalogue, payload, pdf, svg_pages};
use pustaka_sync::storage::sqlite::SqliteStorage;

fn catalogue_labels(lib: &Library, copies: bool, ids: &[&str]) -> Result<Vec<Label>, String> {
    let store = SqliteStorage::open(&lib.dir.path().join(pustaka_sync::DB_FILE)).expect("store");
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    from_catalogue(
        &store,
        Some("https://perpustakaan.singkawangkota.go.id"),
        copies,
        &ids,
    )
    .map_err(|e| e.to_string())
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap_or_else(|e| {
        panic!("{cmd} missing ({e}): .ci/run installs poppler-utils and librsvg2-bin")
    });
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Cuts a rendered page into its 3 × 6 cells and scans each: a phone sees
/// one label at a time.
fn scan_cells(png: &Path) -> Vec<String> {
    let page = load(png).expect("rendered page");
    let (w, h) = page.dimensions();
    let (cw, ch) = (w / 3, h / 6);
    let mut found = Vec::new();
    for row in 0..6 {
        for col in 0..3 {
            let cell = image::imageops::crop_imm(&page, col * cw, row * ch, cw, ch).to_image();
            found.extend(
                Scanner::default()
                    .scan(&cell)
                    .codes
                    .into_iter()
                    .map(|c| c.text),
            );
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_labels_scan_back_to_their_links() {
    let lib = Library::start().await;
    let titles = catalogue_labels(&lib, false, &["T1", "T2", "T3", "T4", "T5"]).expect("titles");
    assert_eq!(titles[1].title, "Bumi Manusia");
    assert_eq!(titles[1].branch, "Perpustakaan Pusat (Jl. Firdaus)");
    let copies = catalogue_labels(&lib, true, &["C2a", "C2b"]).expect("copies");
    assert_eq!(
        copies[1].payload,
        "https://perpustakaan.singkawangkota.go.id/pustaka/title/T2?copy=C2b"
    );
    let all: Vec<Label> = titles.into_iter().chain(copies).collect();
    let want: Vec<String> = all.iter().map(|l| l.payload.clone()).collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let pdf_path = dir.path().join("labels.pdf");
    std::fs::write(&pdf_path, pdf(&all).expect("pdf")).expect("written");
    let text = run(
        "pdftotext",
        &["-layout", pdf_path.to_str().expect("utf-8"), "-"],
    );
    for l in &all {
        assert!(
            text.contains(&l.title),
            "{} missing from the PDF text",
            l.title
        );
    }
    assert!(run("pdfinfo", &[pdf_path.to_str().expect("utf-8")]).contains("A4"));
    let prefix = dir.path().join("page");
    run(
        "pdftoppm",
        &[
            "-r",
            "150",
            "-gray",
            "-png",
            pdf_path.to_str().expect("utf-8"),
            prefix.to_str().expect("utf-8"),
        ],
    );
    let rendered = dir.path().join("page-1.png");
    let mut got = scan_cells(&rendered);
    got.sort();
    let mut expected = want.clone();
    expected.sort();
    assert_eq!(got, expected, "every PDF label scans back");

    let svg_path = dir.path().join("labels.svg");
    std::fs::write(&svg_path, &svg_pages(&all).expect("svg")[0]).expect("written");
    let png = dir.path().join("svg.png");
    run(
        "rsvg-convert",
        &[
            "--dpi-x",
            "150",
            "--dpi-y",
            "150",
            "-b",
            "white",
            "-o",
            png.to_str().expect("utf-8"),
            svg_path.to_str().expect("utf-8"),
        ],
    );
    let mut got = scan_cells(&png);
    got.sort();
    assert_eq!(got, expected, "every SVG label scans back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_all_named_and_nothing_is_made() {
    let lib = Library::start().await;
    let err = catalogue_labels(&lib, false, &["T1", "NOPE", "T2", "GONE"]).expect_err("unknown");
    assert_eq!(err, "not in the catalogue: NOPE, GONE");
    let err = catalogue_labels(&lib, true, &["T1"]).expect_err("a title is not a copy");
    assert!(err.contains("T1"));
    assert_eq!(payload(None, "T1", None), "pustaka://title/T1");
}
