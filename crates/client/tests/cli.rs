//! `pustaka-device` refusing what it cannot do, with a clear message.

use std::process::Command;

fn device(args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_pustaka-device"))
        .arg("--db")
        .arg(dir.path().join("device.db"))
        .args(args)
        .output()
        .expect("pustaka-device runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reminders_need_a_synced_account() {
    let (ok, err) = device(&["remind"]);
    assert!(!ok);
    assert!(err.contains("not signed in on this device"), "{err}");
}

#[test]
fn reminders_refuse_unknown_languages_and_times() {
    let (ok, err) = device(&["remind", "--lang", "fr"]);
    assert!(!ok);
    assert!(err.contains("--lang fr: use id or en"), "{err}");
    let (ok, err) = device(&["remind", "--at", "tomorrow"]);
    assert!(!ok);
    assert!(err.contains("not an RFC 3339 time"), "{err}");
}
