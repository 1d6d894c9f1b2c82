#![no_main]

// The scanner contains rqrr's panics with catch_unwind by design, and
// libfuzzer-sys aborts on any panic through its hook: keep the hook quiet
// so only a panic that escapes the scanner (caught by libfuzzer-sys around
// this closure) is a crash.
libfuzzer_sys::fuzz_target!(
    init: {
        std::panic::set_hook(Box::new(|_| {}));
    },
    |data: &[u8]| pustaka_fuzz_harness::scan_image(data)
);
