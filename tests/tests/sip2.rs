//! Pustaka in front of an existing library system: circulation decided over
//! SIP2 by a real SIP2 server (the PyPI `pysip2` server with a small
//! in-memory library behind it, `tests/sip2/ils.py`) on 127.0.0.1, and the
//! answers ending in the patron's documents exactly as built-in decisions
//! do. The library system's loan rules differ from the demo policy on
//! purpose (21-day loans, 12-day renewals, one renewal), so every due date
//! checked here can only have come from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pustaka_scenarios::*;
use pustaka_sip2::{Client, ClientOptions, LoginCredentials};
use pustaka_sync::circulation::Sip2Config;
use serde_json::json;

/// The library system: a child process, killed when dropped; its frame log
/// is printed when a test fails.
struct Ils {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Ils {
    fn start() -> Ils {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<_> = [
            ("C1", "T1", "Laskar Pelangi"),
            ("C2a", "T2", "Bumi Manusia"),
            ("C2b", "T2", "Bumi Manusia"),
            ("C3", "T3", "Negeri 5 Menara"),
            ("C4", "T4", "Cantik Itu Luka"),
        ]
        .iter()
        .map(|(b, t, n)| json!({"barcode": b, "title_id": t, "title": n, "location": "pusat"}))
        .collect();
        let patrons: Vec<_> = ["1001", "1002", "1003", "1004"]
            .iter()
            .map(|c| json!({"card": c, "pin": patron_pin(c), "name": format!("Anggota {c}"), "blocked": false}))
            .collect();
        let library = json!({
            "today": "2026-11-02", "institution": "PUSTAKA", "loan_days": 21, "renew_days": 12,
            "max_renewals": 1, "patrons": patrons, "items": items, "loans": [], "holds": [],
        });
        let file = dir.path().join("library.json");
        std::fs::write(&file, library.to_string()).unwrap();
        let log = dir.path().join("ils.log");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sip2/ils.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--library", file.to_str().unwrap()])
            .args(["--user", "pustaka", "--password", "rahasia"])
            .args(["--trust-terminal", "--follow-clock"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting tests/sip2/ils.py");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("ils.py did not say LISTENING within 30 s");
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("ils.py said `{line}`"));
        Ils {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn config(&self) -> Sip2Config {
        Sip2Config {
            addr: format!("127.0.0.1:{}", self.port),
            login: Some(LoginCredentials {
                user: "pustaka".into(),
                password: "rahasia".into(),
                location: Some("pusat".into()),
            }),
            institution: "PUSTAKA".into(),
            terminal_password: None,
            timeout: Duration::from_secs(5),
        }
    }

    /// What the library system itself says of a copy (17 → 18).
    fn due_of(&self, copy: &str, now: chrono::NaiveDateTime) -> Option<String> {
        let c = self.config();
        let mut client = Client::connect(
            &c.addr,
            ClientOptions {
                login: c.login,
                institution: c.institution,
                ..Default::default()
            },
        )
        .unwrap();
        let info = client.item_information(copy, now).unwrap();
        info.due_date
            .as_deref()
            .and_then(pustaka_sip2::parse_date)
            .map(|d| d.to_string())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Ils {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- ils.py log ---\n{log}");
        }
    }
}

fn loan_due(d: &pustaka_client::Device, copy: &str) -> Option<String> {
    d.circ()
        .unwrap()
        .unwrap()
        .loans
        .get(copy)
        .map(|l| l.due.clone())
}

fn outcome(d: &pustaka_client::Device, id: uuid::Uuid) -> pustaka_client::OutcomeView {
    d.view()
        .unwrap()
        .outcomes
        .into_iter()
        .find(|o| o.intent_id == id.to_string())
        .expect("the intent has an outcome")
}

fn noon(day: &str) -> chrono::NaiveDateTime {
    format!("{day}T12:00:00").parse().unwrap()
}

#[tokio::test]
async fn circulation_decided_over_sip2_ends_in_the_patrons_documents() {
    let mut ils = Ils::start();
    let lib = Library::start_with(Some(ils.config())).await;

    // Desk checkouts go through the library system: its 21-day loan (the
    // demo policy would say 16 November).
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C2a").await;
    let siti = lib.device("1001", "siti").await;
    assert_eq!(loan_due(&siti, "C1").as_deref(), Some("2026-11-23"));
    assert_eq!(loan_due(&siti, "C2a").as_deref(), Some("2026-11-23"));

    // A hold placed on the phone is placed in the library system (15 → 16).
    let budi = lib.device("1002", "budi").await;
    let hold_intent = budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    let o = outcome(&budi, hold_intent);
    assert!(o.accepted, "{o:?}");
    assert_eq!(o.position, Some(1));
    let hold = budi
        .view()
        .unwrap()
        .holds
        .into_iter()
        .next()
        .expect("a hold");
    assert_eq!((hold.title_id.as_str(), hold.position), ("T1", 1));

    // Thursday 19 November: a renewal decided by the library system, with
    // its date (the demo policy would give 3 December).
    lib.advance_days(17);
    let id = siti.renew("C2a").unwrap();
    siti.sync_once().await.unwrap();
    let o = outcome(&siti, id);
    assert!(o.accepted, "{o:?}");
    assert_eq!(o.due.as_deref(), Some("2026-12-05"));
    assert!(o.text_en.contains("5 December 2026"), "{}", o.text_en);
    assert_eq!(loan_due(&siti, "C2a").as_deref(), Some("2026-12-05"));
    assert_eq!(
        ils.due_of("C2a", noon("2026-11-19")).as_deref(),
        Some("2026-12-05"),
        "the library system holds the same date"
    );

    // Monday 30 November: the demo policy would allow a second renewal;
    // the library system allows one, and says so.
    lib.advance_days(11);
    let id = siti.renew("C2a").unwrap();
    siti.sync_once().await.unwrap();
    let o = outcome(&siti, id);
    assert!(!o.accepted);
    assert_eq!(o.reason.as_deref(), Some("ils_refused"));
    assert!(o.text_en.contains("Renewal limit"), "{}", o.text_en);
    assert!(
        o.text_id.contains("Sistem perpustakaan menolak"),
        "{}",
        o.text_id
    );
    assert_eq!(loan_due(&siti, "C2a").as_deref(), Some("2026-12-05"));

    // Renew all (65 → 66, then 17 for each new date): one renewed, two not.
    lib.checkout("1001", "C3").await; // due 21 December by the library system
    siti.sync_once().await.unwrap();
    let id = siti.renew_all().unwrap();
    siti.sync_once().await.unwrap();
    let o = outcome(&siti, id);
    assert!(o.accepted, "{o:?}");
    let item = |c: &str| o.items.iter().find(|(k, _, _)| k == c).cloned().unwrap();
    assert_eq!(item("C3"), ("C3".into(), true, None));
    assert_eq!(item("C1"), ("C1".into(), false, Some("ils_refused".into())));
    assert_eq!(
        item("C2a"),
        ("C2a".into(), false, Some("ils_refused".into()))
    );
    assert!(
        o.text_en.contains("1 renewed, 2 not renewed"),
        "{}",
        o.text_en
    );
    assert_eq!(loan_due(&siti, "C3").as_deref(), Some("2027-01-02"));

    // Patron information (63 → 64), as `pustaka-sync sip2-check` asks it.
    let report =
        pustaka_sync::circulation::patron_check(&ils.config(), "1001", noon("2026-11-30")).unwrap();
    assert!(
        report.contains("Anggota 1001") && report.contains("3 charged"),
        "{report}"
    );

    // Budi cancels his hold (15 with mode '-').
    let id = budi.cancel_hold(&hold.id).unwrap();
    budi.sync_once().await.unwrap();
    assert!(outcome(&budi, id).accepted);
    assert!(budi.view().unwrap().holds.is_empty());

    // A return at the desk (09 → 10, then 17 for where the copy is).
    lib.checkin("C1").await;
    siti.sync_once().await.unwrap();
    assert_eq!(loan_due(&siti, "C1"), None);
    assert_eq!(ils.due_of("C1", noon("2026-11-30")), None);

    // The library system is down: the request is answered, nothing is lost
    // or half-done, and the patron is told to try again.
    ils.stop();
    let id = budi.place_hold("T3", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    let o = outcome(&budi, id);
    assert!(!o.accepted);
    assert_eq!(o.reason.as_deref(), Some("ils_unavailable"));
    assert!(budi.view().unwrap().holds.is_empty());
    assert_eq!(loan_due(&siti, "C3").as_deref(), Some("2027-01-02"));
}

#[test]
fn the_library_systems_own_smoke_test_passes() {
    // tests/sip2/test_ils.py drives ils.py with hand-written frames: the
    // SIP2 server the scenario above relies on is itself checked.
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sip2/test_ils.py");
    let out = Command::new(python())
        .arg(script)
        .output()
        .expect("running tests/sip2/test_ils.py");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("OK"), "{err}");
}
