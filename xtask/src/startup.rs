//! `cargo xtask bench startup`: process start → loans visible, for a patron
//! with five years of history, in the real desktop app (Xvfb +
//! tauri-driver), starting from the device's SQLite replica as a returning
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
    let mut runs = vec![];
    for i in 0..RUNS {
        let start = Instant::now();
        let s = rig.session().await?;
        s.wait_for("#nav-loans", Duration::from_secs(60)).await?;
        s.click("#nav-loans").await?;
        s.wait_for("#loan-list .loan", Duration::from_secs(60))
            .await?;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        s.quit().await?;
        eprintln!("run {}: {ms:.0} ms", i + 1);
        runs.push(ms);
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
            "returned_loans_on_server": returned,
            "target_ms": 500,
        })
    );
    Ok(())
}
