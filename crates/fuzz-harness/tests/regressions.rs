//! Every input kept under `fuzz/regressions/<target>/` (crashers the
//! fuzzer found, once fixed, and hand-made hostile inputs) replayed through
//! the same code the fuzz targets run, on stable, in the README's test
//! command. Any panic fails this test and names the file.

use std::path::Path;

#[test]
fn every_kept_fuzz_input_passes_through_its_decoder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for (target, run) in pustaka_fuzz_harness::TARGETS {
        let dir = root.join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let bytes = std::fs::read(&file).expect("readable regression input");
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{target}: {} panics", file.display());
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs under {}",
        root.display()
    );
}

#[test]
fn every_target_accepts_its_seeds_and_noise() {
    for (target, run) in pustaka_fuzz_harness::TARGETS {
        for seed in pustaka_fuzz_harness::seeds(target) {
            run(&seed);
        }
        for noise in [&b""[..], b"\0", b"\xff\xff\xff\xff", &[0x85; 300]] {
            run(noise);
        }
    }
    assert!(!pustaka_fuzz_harness::seeds("sync_message").is_empty());
}
