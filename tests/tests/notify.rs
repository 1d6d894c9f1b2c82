//! Due-date reminders reaching a real notification daemon: a real server
//! with the demo library, a real device file, then `pustaka-device remind`
//! inside its own D-Bus session bus (`dbus-run-session`) with dunst
//! running on Xvfb, and `dbus-monitor` recording what arrives on
//! `org.freedesktop.Notifications`. The titles and bodies are asserted in
//! the language asked for, and each reminder arrives once.

use std::path::{Path, PathBuf};
use std::process::Command;

use pustaka_scenarios::Library;

/// `pustaka-device`, built beside this test by `cargo test --workspace`
/// (pustaka-client's own tests make cargo build it).
fn device_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("pustaka-device"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build -p pustaka-client` (or `cargo test --workspace`)",
        bin.display()
    );
    bin
}

/// The session: dunst on a virtual display, a monitor, then the command;
/// every wait bounded. Returns the monitor's log and dunst's count of
/// notifications received.
const SESSION: &str = r#"
set -u
dunst -config /dev/null >"$OUT/dunst.log" 2>&1 &
for i in $(seq 1 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null \
    | grep -q 'boolean true' && break
  sleep 0.05
done
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" >"$OUT/monitor.log" 2>&1 &
sleep 0.3
status=0
for run in "$@"; do
  eval "\"$DEVICE\" --db \"$DB\" remind $run" >>"$OUT/stdout.log" 2>>"$OUT/stderr.log" || status=$?
done
sleep 0.5
dunstctl count history >"$OUT/history.txt" 2>/dev/null || true
dunstctl count displayed >"$OUT/displayed.txt" 2>/dev/null || true
kill %1 %2 2>/dev/null
exit $status
"#;

struct Notified {
    summary: String,
    body: String,
    app: String,
}

/// The Notify calls in dbus-monitor's text: app name, id, icon, summary, body.
fn notifications(log: &str) -> Vec<Notified> {
    let mut out = Vec::new();
    let mut strings: Option<Vec<String>> = None;
    for line in log.lines() {
        if line.starts_with("method call") {
            if let Some(s) = strings.take() {
                out.extend(to_notified(s));
            }
            if line.contains("member=Notify") {
                strings = Some(Vec::new());
            }
        } else if let Some(s) = strings.as_mut()
            && let Some(v) = line.trim().strip_prefix("string \"")
        {
            s.push(v.trim_end_matches('"').to_string());
        }
    }
    if let Some(s) = strings {
        out.extend(to_notified(s));
    }
    out
}

fn to_notified(s: Vec<String>) -> Option<Notified> {
    Some(Notified {
        app: s.first()?.clone(),
        summary: s.get(2)?.clone(),
        body: s.get(3)?.clone(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_arrive_on_the_session_bus_in_the_chosen_language() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let device = lib.device("1001", "desktop").await;
    let view = device.view().expect("view");
    let first = view
        .loans
        .first()
        .expect("the demo patron has loans")
        .clone();
    let db = lib.dir.path().join("device-desktop.db");
    drop(device);

    // The morning of the first due date (08:30 WIB), then the next morning.
    let due_morning = format!("{}T08:30:00+07:00", first.due);
    let next_morning = format!("{}T08:30:00+07:00", first.due.succ_opt().expect("next day"));
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new("xvfb-run")
        .args([
            "-a",
            "dbus-run-session",
            "--",
            "bash",
            "-c",
            SESSION,
            "session",
        ])
        .arg(format!("--lang id --at {due_morning}"))
        .arg(format!("--lang id --at {due_morning}"))
        .arg(format!("--lang en --at {next_morning}"))
        .env("OUT", out.path())
        .env("DEVICE", device_binary())
        .env("DB", &db)
        .status()
        .expect("xvfb-run, dbus-run-session and dunst are installed (.ci/run installs them)");
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap_or_default();
    assert!(status.success(), "remind failed: {}", read("stderr.log"));

    let log = read("monitor.log");
    let got = notifications(&log);
    for n in &got {
        eprintln!("notified: [{}] {} — {}", n.app, n.summary, n.body);
    }
    let mine: Vec<&Notified> = got
        .iter()
        .filter(|n| n.summary.contains(&first.title))
        .collect();
    assert!(mine.iter().all(|n| n.app == "Pustaka"), "app name: {log}");
    let today = mine
        .iter()
        .filter(|n| n.summary == format!("Jatuh tempo hari ini: {}", first.title))
        .count();
    assert_eq!(
        today, 1,
        "due-today once, in Indonesian, though remind ran twice:\n{log}"
    );
    let today = mine
        .iter()
        .find(|n| n.summary.starts_with("Jatuh tempo hari ini"))
        .expect("due today");
    assert!(
        today.body.contains("jatuh tempo hari ini"),
        "{}",
        today.body
    );
    assert!(today.body.contains(&pustaka_domain::i18n::format_date(
        pustaka_domain::Lang::Id,
        first.due
    )));

    let overdue: Vec<&&Notified> = mine
        .iter()
        .filter(|n| n.summary == format!("Overdue: {}", first.title))
        .collect();
    assert_eq!(overdue.len(), 1, "the next morning, in English:\n{log}");
    assert!(
        overdue[0].body.contains("Please return it"),
        "{}",
        overdue[0].body
    );

    // The daemon took them: dunst counted what it received.
    let received: u32 = read("history.txt").trim().parse().unwrap_or(0)
        + read("displayed.txt").trim().parse::<u32>().unwrap_or(0);
    assert!(received >= 1, "dunst saw {received}; {}", read("dunst.log"));
    // stdout: one JSON line per reminder shown, the same as the bus saw.
    assert_eq!(read("stdout.log").lines().count(), got.len());
}
