//! `cargo xtask bench startup`: process start → loans visible, for a patron
//! with five years of history, in the real desktop app (release build) under
//! Xvfb, starting from the device's SQLite replica as a returning patron
//! does. The app is opened with `pustaka://loans` (as a due-date reminder
//! opens it); the clock starts at the process's start time in `/proc` and
//! stops at the wall-clock time the page reports the loans rendered (the
//! `startup_mark` command, logged by the shell). Prints a table and, last,
//! one JSON line with `cold_start_ms` (the median of the runs).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Days, NaiveDate};
use pustaka_sync::hub::NewPatron;
use pustaka_sync::{Clock, ManualClock};

use crate::e2e::Rig;

const CARD: &str = "9001";
const PIN: &str = "9001";
const DAY: i64 = 86_400_000;
const YEARS: i64 = 5;
const LOANS_PER_MONTH: usize = 5;
const RUNS: usize = 5;

/// Seeds the demo library, then a patron who borrowed five books a month
/// for five years (each returned two days later) and has five out now.
fn seed(dir: &std::path::Path, now: i64) -> anyhow::Result<usize> {
    pustaka_sync::demo::ensure_seeded(dir, now)?;
    let clock = Arc::new(ManualClock::new(now - YEARS * 365 * DAY));
    let mut hub = pustaka_sync::open_hub(
        dir,
        pustaka_sync::demo::DEMO_POLICY,
        clock.clone() as Arc<dyn Clock>,
    )?;
    let today = chrono::DateTime::from_timestamp_millis(now)
        .context("clock")?
        .date_naive();
    hub.add_patron(NewPatron {
        card: CARD.into(),
        name: "Budi Santoso".into(),
        pin: PIN.into(),
        patron_type: "adult".into(),
        expires: today
            .checked_add_days(Days::new(365))
            .unwrap_or(NaiveDate::MAX),
        home_branch: "pusat".into(),
        email: None,
        status: "active".into(),
    })?;
    let mut returned = 0;
    let months = YEARS * 12;
    let mut n = 0usize;
    for m in 0..=months {
        let start = now - (months - m) * 30 * DAY;
        let mut out = vec![];
        for _ in 0..LOANS_PER_MONTH {
            // The next title with a copy on the shelf.
            for _ in 0..300 {
                n += 1;
                let title = format!("T{:04}", n % 300 + 1);
                let copies = hub.store().copies_of(&title)?;
                if let Some(c) = copies
                    .iter()
                    .find(|c| c.status == pustaka_sync::storage::CopyStatus::Available)
                {
                    clock.set(start);
                    let copy = c.barcode.clone();
                    if hub.with_engine(|e, fx| e.checkout(CARD, &copy, fx)).is_ok() {
                        out.push((copy, c.branch.clone()));
                        break;
                    }
                }
            }
        }
        if m < months {
            // Back within the shortest loan period of any rule: no fines
            // pile up to block the next month's loans.
            clock.set(start + 2 * DAY);
            for (copy, branch) in out {
                if hub
                    .with_engine(|e, fx| e.checkin(&copy, &branch, fx))
                    .is_ok()
                {
                    returned += 1;
                }
            }
        }
    }
    Ok(returned)
}

/// The wall-clock start (ms since the epoch) of process `pid`: its age
/// from `/proc/uptime` and its start tick in `/proc/<pid>/stat` (10 ms
/// resolution; `btime` would add up to a second of error).
fn process_start_ms(pid: u32) -> anyhow::Result<f64> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs_f64()
        * 1000.0;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .context("uptime")?
        .parse()?;
    // USER_HZ, the unit of starttime, is 100 on Linux.
    let hz = 100.0;
    let st = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Field 22 (starttime), counted after the `(comm)` field.
    let ticks: f64 = st
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(19))
        .context("starttime")?
        .parse()?;
    Ok(now - (uptime - ticks / hz) * 1000.0)
}

/// A number after `key=` in a log line.
fn field(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// Starts the app as a patron's tap on a due-date reminder does
/// (`pustaka://loans`), and waits for the page to report the loans as
/// shown. Returns (process start → loans visible, the shell's own count
/// from `main`, `main` → page load started) in ms.
fn one_run(rig: &Rig, app_bin: &std::path::Path) -> anyhow::Result<(f64, f64, f64)> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(app_bin)
        .arg("pustaka://loans")
        .env("DISPLAY", &rig.display)
        // A desktop session has a session bus: without one GLib spawns
        // dbus-launch, a bus and the desktop portals on every start (about
        // half a second, seen with strace), which no patron's desktop does.
        .env("DBUS_SESSION_BUS_ADDRESS", &rig.bus)
        .env("PUSTAKA_DATA_DIR", rig.dir.path().join("app"))
        .env("PUSTAKA_SERVER", format!("http://127.0.0.1:{}", rig.port))
        .env(
            "PUSTAKA_LOG",
            std::env::var("PUSTAKA_BENCH_LOG")
                .unwrap_or_else(|_| "pustaka_desktop=info,pustaka::startup=info".into()),
        )
        .env("NO_COLOR", "1")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("NO_AT_BRIDGE", "1")
        // The shell's log goes to stdout.
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting the app")?;
    let started = process_start_ms(child.id());
    let log = child.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let verbose = std::env::var_os("PUSTAKA_BENCH_VERBOSE").is_some();
        for line in std::io::BufReader::new(log).lines().map_while(Result::ok) {
            if verbose {
                eprintln!("    app: {line}");
            }
            if line.contains("page Started") || line.contains("startup mark loans-visible") {
                let _ = tx.send(line);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut page = f64::NAN;
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains("page Started") => {
                page = field(&l, "after_ms=").unwrap_or(f64::NAN);
            }
            other => break other,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let line = line.context("the app never reported its loans as visible")?;
    let epoch = field(&line, "epoch_ms=").context("epoch_ms")?;
    let after = field(&line, "after_ms=").context("after_ms")?;
    Ok((epoch - started?, after, page))
}

pub async fn run() -> anyhow::Result<()> {
    // No WebDriver here: it delays the page by about a second before it
    // loads, which a patron never sees.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let dir = tempfile::tempdir()?;
    let t = Instant::now();
    let returned = seed(&dir.path().join("server"), now)?;
    anyhow::ensure!(
        returned >= 250,
        "only {returned} returned loans were seeded"
    );
    eprintln!(
        "seeded {returned} returned loans over {YEARS} years in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let rig = Rig::start_in(dir, &[])?;
    // The patron signed in before: the app starts from its replica.
    {
        let app = rig.dir.path().join("app");
        std::fs::create_dir_all(&app)?;
        let device = pustaka_client::Device::open(
            &app.join("pustaka.sqlite3"),
            Arc::new(pustaka_client::SystemClock),
        )?;
        device
            .login(&format!("http://127.0.0.1:{}", rig.port), CARD, PIN)
            .await?;
        device.sync_once().await?;
        let v = device.view()?;
        eprintln!(
            "replica: {} loans, {} history entries",
            v.loans.len(),
            v.history.len()
        );
        // The library keeps all of it; the patron's document carries the
        // most recent returns (the server's projection bounds it).
        anyhow::ensure!(
            !v.loans.is_empty() && !v.history.is_empty(),
            "nothing to show"
        );
    }
    let app_bin = crate::bench::target_dir().join("release/pustaka");
    let mut runs = vec![];
    let mut own = vec![];
    for i in 0..RUNS {
        let (ms, after, page) = one_run(&rig, &app_bin)?;
        eprintln!(
            "run {}: {ms:.0} ms (from main: page load starts at {page:.0} ms, loans at {after:.0} ms)",
            i + 1
        );
        runs.push(ms);
        own.push(after);
        std::thread::sleep(Duration::from_millis(500));
    }
    let mut sorted = runs.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    println!("| runs | min ms | median ms | max ms |");
    println!("|---|---|---|---|");
    println!(
        "| {RUNS} | {:.0} | {median:.0} | {:.0} |",
        sorted[0],
        sorted[sorted.len() - 1]
    );
    println!(
        "{}",
        serde_json::json!({
            "cold_start_ms": median.round(),
            "runs_ms": runs.iter().map(|r| r.round()).collect::<Vec<_>>(),
            "shell_count_ms": own,
            "returned_loans_on_server": returned,
            "target_ms": 500,
        })
    );
    Ok(())
}
