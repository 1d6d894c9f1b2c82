//! The shelf scanner on real photos nobody here took
//! (`../shared/data/qr-photos`): codes read with their exact text,
//! several codes in one picture, nothing reported where there is no code.

use std::path::PathBuf;

use pustaka_scan::{Format, Scanner, load};
use pustaka_scenarios::shared;

fn photo(rel: &str) -> PathBuf {
    shared(&format!("data/qr-photos/{rel}"))
}

fn expected(rel: &str) -> String {
    std::fs::read_to_string(photo(rel)).expect("expected text")
}

#[test]
fn reads_phone_photos_with_their_exact_text() {
    let scanner = Scanner::default();
    for name in ["zxing-qrcode-1/1", "zxing-qrcode-3/07", "zxing-qrcode-2/1"] {
        let picture = load(&photo(&format!("{name}.png"))).expect("a readable photo");
        let out = scanner.scan(&picture);
        assert_eq!(out.panics, 0);
        let texts: Vec<&str> = out.codes.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec![expected(&format!("{name}.txt"))], "{name}");
        assert!(out.codes.iter().all(|c| c.format == Format::Qr));
    }
}

#[test]
fn shift_jis_payloads_come_out_as_japanese_text() {
    let out = Scanner::default().scan(&load(&photo("zxing-qrcode-2/17.png")).expect("readable"));
    assert_eq!(out.codes[0].text, expected("zxing-qrcode-2/17.txt"));
}

#[test]
fn every_code_in_a_picture_with_several() {
    let out = Scanner::default().scan(&load(&photo("rqrr-tests/multiple.png")).expect("readable"));
    let want: Vec<String> =
        serde_json::from_str(&expected("rqrr-tests/multiple.multi.json")).expect("json");
    for w in &want {
        assert!(out.codes.iter().any(|c| &c.text == w), "missing {w:?}");
    }
    assert_eq!(out.codes.len(), want.len());
}

#[test]
fn no_code_no_answer() {
    let dir = photo("zxingcpp-falsepositives-1");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("folder") {
        let path = entry.expect("entry").path();
        let picture = load(&path).expect("every photo in the folder is readable");
        let out = Scanner::default().scan(&picture);
        assert!(
            out.codes.is_empty(),
            "{} gave {:?}",
            path.display(),
            out.codes
        );
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} photos");
}

#[test]
fn live_frames_find_the_code_within_a_few_frames() {
    // A photo plain rqrr misses: the frame-by-frame rotation of retries
    // must reach the form that reads it within one round.
    let picture = load(&photo("zxing-qrcode-3/01.png")).expect("readable");
    let want = expected("zxing-qrcode-3/01.txt");
    let found = (0..8u64).find(|n| {
        Scanner::default()
            .scan_frame(&picture, *n)
            .codes
            .iter()
            .any(|c| c.text == want)
    });
    assert!(found.is_some(), "not read in 8 frames");
}
