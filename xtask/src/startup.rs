//! `cargo xtask bench startup`: process start → loans visible, for a patron
//! with five years of history, in the real desktop app (Xvfb +
//! tauri-driver; the clock starts at the app process's start time in
//! `/proc` and stops when the page sees the first loan row), starting from the device's SQLite replica as a returning
//! patron does. Prints a table and, last, one JSON line with `cold_start_ms`
//! (the median of the runs).

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

/// Runs in the page right after the WebDriver session opens: records when
/// the page started (`performance.timeOrigin`), when the navigation first
/// exists (and clicks Loans then), and when the first loan row exists.
const WATCH: &str = r#"
const b = window.__pustakaBench = { origin: performance.timeOrigin };
const step = () => {
  if (!b.nav) {
    const nav = document.querySelector('#nav-loans');
    if (nav) { b.nav = Date.now(); nav.click(); }
  }
  if (b.nav && !b.loans && document.querySelector('#loan-list .loan')) {
    b.loans = Date.now();
    obs.disconnect();
  }
};
const obs = new MutationObserver(step);
obs.observe(document.documentElement, { childList: true, subtree: true, attributes: true });
step();
"#;

/// The wall-clock start (ms since the epoch) of the newest running process
/// of `bin`, from `/proc` (clock-tick resolution, 10 ms).
fn process_start_ms(bin: &std::path::Path) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let btime: f64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .context("btime")?
        .trim()
        .parse()?;
    // USER_HZ, the unit of starttime, is 100 on Linux.
    let hz = 100.0;
    let want = std::fs::canonicalize(bin)?;
    let mut newest: Option<f64> = None;
    for e in std::fs::read_dir("/proc")?.flatten() {
        let p = e.path();
        if std::fs::read_link(p.join("exe")).ok().as_deref() != Some(want.as_path()) {
            continue;
        }
        let Ok(st) = std::fs::read_to_string(p.join("stat")) else {
            continue;
        };
        // Field 22 (starttime) counted after the `(comm)` field.
        let Some(rest) = st.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let Some(ticks) = rest
            .split_whitespace()
            .nth(19)
            .and_then(|f| f.parse::<f64>().ok())
        else {
            continue;
        };
        let ms = (btime + ticks / hz) * 1000.0;
        newest = Some(newest.map_or(ms, |n: f64| n.max(ms)));
    }
    newest.context("the app is not running")
}

pub async fn run() -> anyhow::Result<()> {
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
    let app_bin = crate::bench::target_dir().join("debug/pustaka");
    let mut runs = vec![];
    let mut parts = vec![];
    for i in 0..RUNS {
        let s = rig.session().await?;
        // In the page: open Loans as soon as the navigation exists and note
        // the wall-clock time the first loan row appears. Timestamps are
        // taken in the page, so the bench's polling adds nothing.
        s.exec(WATCH, serde_json::json!([])).await?;
        let t = Instant::now();
        let seen = loop {
            let v = s
                .exec(
                    "return window.__pustakaBench || null;",
                    serde_json::json!([]),
                )
                .await?;
            if v["loans"].is_number() {
                break v;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(60),
                "loans never appeared"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let started = process_start_ms(&app_bin).context("the app's process start time")?;
        let loans = seen["loans"].as_f64().unwrap_or_default();
        let nav = seen["nav"].as_f64().unwrap_or_default();
        let page = seen["origin"].as_f64().unwrap_or_default();
        let ms = loans - started;
        s.quit().await?;
        eprintln!(
            "run {}: {ms:.0} ms (process → page start {:.0} ms, → navigation {:.0} ms, → loans {:.0} ms)",
            i + 1,
            page - started,
            nav - started,
            ms
        );
        runs.push(ms);
        parts.push((page - started, nav - started));
        tokio::time::sleep(Duration::from_millis(500)).await;
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
            "page_start_ms": parts.iter().map(|p| p.0.round()).collect::<Vec<_>>(),
            "navigation_ms": parts.iter().map(|p| p.1.round()).collect::<Vec<_>>(),
            "returned_loans_on_server": returned,
            "target_ms": 500,
        })
    );
    Ok(())
}
