//! Named crash points for the crash tests (`tests/tests/crash.rs`).
//!
//! `hit("server_before_commit")` marks a place where a real process may
//! die. Built without the `enabled` feature it is an empty inline function.
//! With it, and with `PUSTAKA_CRASH_AT=<point>:<n>` in the environment, the
//! process is sent SIGKILL (by `kill -9`) the n-th time it passes that point (n = 1
//! when left out): exactly `kill -9` at that line, with no destructor, no
//! flush and no rollback run. Several points may be listed, comma-separated.

/// Passes a named crash point.
#[cfg(not(feature = "enabled"))]
#[inline(always)]
pub fn hit(_point: &str) {}

/// Passes a named crash point (armed by `PUSTAKA_CRASH_AT`).
#[cfg(feature = "enabled")]
pub fn hit(point: &str) {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    static PASSES: Mutex<BTreeMap<String, u32>> = Mutex::new(BTreeMap::new());
    let Ok(armed) = std::env::var("PUSTAKA_CRASH_AT") else {
        return;
    };
    let Some(n) = armed.split(',').find_map(|spec| {
        let (name, n) = spec.split_once(':').unwrap_or((spec, "1"));
        (name.trim() == point).then(|| n.trim().parse::<u32>().unwrap_or(1))
    }) else {
        return;
    };
    let passes = {
        let mut m = PASSES.lock().unwrap_or_else(|e| e.into_inner());
        let c = m.entry(point.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    if passes == n {
        eprintln!("crash point {point}: kill -9 (pass {passes})");
        // Literally `kill -9` from another process, while this thread waits.
        let _ = std::process::Command::new("kill")
            .args(["-9", &std::process::id().to_string()])
            .status();
        // SIGKILL cannot be caught; should it ever come back, die anyway.
        std::process::abort();
    }
}
