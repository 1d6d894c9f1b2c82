//! `pustaka-scan` as a patron's librarian runs it: pictures it reads, a
//! file that is not a picture, a file that does not exist.

use std::path::Path;
use std::process::Command;

use pustaka_scan::GrayImage;

/// A QR code drawn by the `qrcode` crate, 4 px per module, quiet zone
/// included, on a larger light page.
pub fn drawn(text: &str) -> GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("encodable");
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let (scale, margin) = (4u32, 40u32);
    let side = modules * scale + 2 * margin;
    GrayImage::from_fn(side, side, |x, y| {
        let inside = |v: u32| v >= margin && v < margin + modules * scale;
        if inside(x) && inside(y) {
            let (mx, my) = ((x - margin) / scale, (y - margin) / scale);
            if colors[(my * modules + mx) as usize] == qrcode::Color::Dark {
                return image::Luma([20]);
            }
        }
        image::Luma([235])
    })
}

fn run(files: &[&Path]) -> (i32, Vec<serde_json::Value>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pustaka-scan"))
        .args(files)
        .output()
        .expect("pustaka-scan runs");
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    (
        out.status.code().unwrap_or(-1),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn one_json_line_per_picture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let label = dir.path().join("label.png");
    drawn("pustaka://title/t-bumi-manusia")
        .save(&label)
        .expect("png written");
    let blank = dir.path().join("blank.png");
    GrayImage::from_pixel(300, 200, image::Luma([250]))
        .save(&blank)
        .expect("png written");

    let (status, lines, stderr) = run(&[&label, &blank]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], label.display().to_string());
    assert_eq!(
        lines[0]["codes"],
        serde_json::json!([{"format": "qr", "text": "pustaka://title/t-bumi-manusia"}])
    );
    assert!(lines[0]["ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert_eq!(
        lines[1]["codes"],
        serde_json::json!([]),
        "nothing found is an empty list"
    );
}

#[test]
fn unreadable_files_are_clear_errors_and_the_rest_still_scanned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = dir.path().join("notes.png");
    std::fs::write(&text, "this is not a picture").expect("written");
    let truncated = dir.path().join("cut.png");
    let good = dir.path().join("good.png");
    drawn("9789794339657").save(&good).expect("png written");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).expect("written");
    let missing = dir.path().join("missing.png");

    let (status, lines, stderr) = run(&[&text, &truncated, &missing, &good]);
    assert_eq!(status, 1, "an unreadable file makes the run fail");
    assert_eq!(lines.len(), 4, "one line for every file, in order");
    for (line, what) in lines[..3]
        .iter()
        .zip(["not a picture", "not a picture", "cannot read"])
    {
        let error = line["error"].as_str().expect("an error field");
        assert!(error.contains(what), "{error}");
        assert!(line.get("codes").is_none());
    }
    assert_eq!(lines[3]["codes"][0]["text"], "9789794339657");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn usage_without_files() {
    let (status, lines, stderr) = run(&[]);
    assert_eq!(status, 2);
    assert!(lines.is_empty());
    assert!(stderr.contains("usage: pustaka-scan IMAGE"));
}
