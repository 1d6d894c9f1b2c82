//! `pustaka-scan IMAGE...`: one JSON line per picture,
//! `{"file":…,"codes":[{"format":"qr","text":…}],"ms":…}`, or
//! `{"file":…,"error":…}` for a file that is not a readable picture (the
//! exit status is then 1). Never a panic: decoder panics are contained.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use pustaka_scan::{Scanner, load};
use serde_json::json;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() || files.iter().any(|f| f == "-h" || f == "--help") {
        eprintln!(
            "usage: pustaka-scan IMAGE...\n  prints one JSON line per image: {{\"file\", \"codes\", \"ms\"}}"
        );
        return ExitCode::from(2);
    }
    // rqrr panics on some photos; they are caught per call, so keep the
    // default hook from printing them as if the program had failed.
    std::panic::set_hook(Box::new(|_| {}));
    let scanner = Scanner::default();
    let mut failed = false;
    for file in &files {
        let line = match load(Path::new(file)) {
            Ok(picture) => {
                let start = Instant::now();
                let out = scanner.scan(&picture);
                let ms = start.elapsed().as_secs_f64() * 1000.0;
                json!({"file": file, "codes": out.codes, "ms": (ms * 100.0).round() / 100.0})
            }
            Err(e) => {
                failed = true;
                eprintln!("pustaka-scan: {e}");
                json!({"file": file, "error": e.to_string()})
            }
        };
        println!("{line}");
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
