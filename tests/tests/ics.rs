//! The library's public events calendar, served by a real server on
//! 127.0.0.1 over the demo library (events, and the book van's weekly stops
//! as recurring events), checked by `../shared/tools/validate_ics.py` — two
//! independent iCalendar parsers plus line and property checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use pustaka_scenarios::{START, python, shared};
use pustaka_sync::{Clock, ManualClock, demo};

#[tokio::test]
async fn events_feed_per_branch_passes_two_real_parsers() {
    let dir = tempfile::tempdir().unwrap();
    demo::ensure_seeded(dir.path(), START).unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let hub =
        pustaka_sync::open_hub(dir.path(), demo::DEMO_POLICY, clock as Arc<dyn Clock>).unwrap();
    let running = pustaka_sync::start(hub, "127.0.0.1:0".parse().unwrap(), "t".into())
        .await
        .unwrap();
    let url = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let get = |q: &str| {
        let (http, u) = (http.clone(), format!("{url}/v1/calendar/events.ics{q}"));
        async move {
            let r = http.get(u).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, all) = get("").await;
    assert_eq!(status, 200);
    let (_, pusat) = get("?branch=pusat").await;
    let (_, van) = get("?branch=pusling&lang=en").await;
    assert_eq!(get("?branch=nowhere").await.0, 404);

    // The van's stops recur weekly in the library's zone, in every feed
    // that covers the van, and only there.
    assert!(all.contains("RRULE:FREQ=WEEKLY;BYDAY="), "{all}");
    assert!(all.contains("DTSTART;TZID=Asia/Pontianak:"), "{all}");
    assert!(
        all.contains("SUMMARY:Mobil perpustakaan keliling: "),
        "{all}"
    );
    assert!(van.contains("SUMMARY:Book van: "), "{van}");
    assert!(!pusat.contains("RRULE"), "{pusat}");
    let events = |s: &str| s.matches("BEGIN:VEVENT").count();
    assert!(
        events(&pusat) > 0 && events(&pusat) < events(&all),
        "{pusat}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for (name, text) in [("all", &all), ("pusat", &pusat), ("van-en", &van)] {
        let f = tmp.path().join(format!("{name}.ics"));
        std::fs::write(&f, text).unwrap();
        files.push(f);
    }
    let out = std::process::Command::new(python())
        .arg(shared("tools/validate_ics.py"))
        .args(&files)
        .output()
        .expect("running validate_ics.py");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{report}");
    assert!(out.status.success(), "validate_ics.py failed:\n{report}");
    running.stop().await;
}
