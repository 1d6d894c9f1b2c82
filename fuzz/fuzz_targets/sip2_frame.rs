#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pustaka_fuzz_harness::sip2_frame(data));
