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

#[tokio::test]
async fn a_patrons_secret_feed_follows_renewals_and_registrations() {
    use pustaka_scenarios::{Library, patron_pin};
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    siti.register_event("E1").unwrap();
    siti.sync_once().await.unwrap();
    let (_, login) = lib.login_raw("1001", &patron_pin("1001")).await;
    let token = login["token"].as_str().unwrap().to_string();
    let new_feed = || async {
        let r = lib
            .http
            .post(format!("{}/v1/calendar/feed", lib.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        v["url"].as_str().unwrap().to_string()
    };
    let fetch = |url: String| {
        let http = lib.http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let url = new_feed().await;
    let (status, before) = fetch(url.clone()).await;
    assert_eq!(status, 200);
    assert!(before.contains("DTSTART;VALUE=DATE:20261116"), "{before}");
    assert!(
        before.contains("SUMMARY:Jatuh tempo: Laskar Pelangi"),
        "{before}"
    );
    assert!(before.contains("SUMMARY:Dongeng Sabtu"), "{before}");

    // Renewed on the phone: the same address shows the new due date.
    lib.advance_days(10);
    siti.renew("C1").unwrap();
    siti.sync_once().await.unwrap();
    let (_, after) = fetch(url.clone()).await;
    assert!(after.contains("DTSTART;VALUE=DATE:20261126"), "{after}");
    assert!(!after.contains("20261116"), "{after}");

    // A new address retires the old one; a made-up one opens nothing.
    let url2 = new_feed().await;
    assert_ne!(url, url2);
    assert_eq!(fetch(url).await.0, 404);
    assert_eq!(fetch(url2.clone()).await.0, 200);
    let made_up = format!("{}/v1/calendar/patron/{}.ics", lib.url, "0".repeat(40));
    assert_eq!(fetch(made_up).await.0, 404);
    // Without a session, no address is handed out.
    let anon = lib
        .http
        .post(format!("{}/v1/calendar/feed", lib.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status().as_u16(), 401);

    let tmp = tempfile::tempdir().unwrap();
    let (f1, f2) = (tmp.path().join("before.ics"), tmp.path().join("after.ics"));
    std::fs::write(&f1, &before).unwrap();
    std::fs::write(&f2, &after).unwrap();
    let out = std::process::Command::new(python())
        .arg(shared("tools/validate_ics.py"))
        .args([&f1, &f2])
        .output()
        .expect("running validate_ics.py");
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "validate_ics.py failed:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The app's side of the same feed: the device asks for an address, keeps
/// it (so the patron can copy it again offline), and a new one retires it.
#[tokio::test]
async fn the_device_makes_and_keeps_its_calendar_address() {
    use pustaka_scenarios::Library;
    let mut lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    assert_eq!(siti.calendar_feed().unwrap(), None);
    let url = siti.new_calendar_feed().await.unwrap();
    assert!(url.starts_with(&lib.url) && url.ends_with(".ics"), "{url}");
    let body = lib.http.get(&url).send().await.unwrap();
    assert_eq!(body.status().as_u16(), 200);
    assert!(body.text().await.unwrap().contains("BEGIN:VCALENDAR"));
    assert_eq!(siti.calendar_feed().unwrap().as_deref(), Some(url.as_str()));

    let url2 = siti.new_calendar_feed().await.unwrap();
    assert_ne!(url, url2);
    assert_eq!(
        lib.http.get(&url).send().await.unwrap().status().as_u16(),
        404
    );

    // Offline: the kept address is still there; a new one needs the library.
    lib.stop().await;
    assert_eq!(
        siti.calendar_feed().unwrap().as_deref(),
        Some(url2.as_str())
    );
    let err = siti.new_calendar_feed().await.unwrap_err();
    assert_eq!(err.code(), "offline", "{err}");
    assert_eq!(
        siti.calendar_feed().unwrap().as_deref(),
        Some(url2.as_str())
    );

    // Signing out removes it with the rest of the patron's data.
    siti.logout().await.unwrap();
    assert_eq!(siti.calendar_feed().unwrap(), None);
}
