//! Architecture invariants, checked mechanically (see ARCHITECTURE.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn the_pure_core_pulls_in_no_io() {
    let forbidden = [
        "tokio",
        "reqwest",
        "rusqlite",
        "axum",
        "tauri",
        "getrandom",
        "notify-rust",
    ];
    for manifest in ["crates/domain/Cargo.toml", "crates/replica/Cargo.toml"] {
        for dep in dependencies(manifest) {
            assert!(
                !forbidden.contains(&dep.as_str()),
                "{manifest} depends on {dep}"
            );
        }
    }
}

#[test]
fn rules_and_replica_logic_never_read_a_clock() {
    let mut files = vec![];
    for dir in ["crates/domain/src", "crates/replica/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    files.push(root().join("sync-server/src/engine.rs"));
    files.push(root().join("sync-server/src/hub.rs"));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in ["SystemTime::now", "Utc::now", "Local::now", "Instant::now"] {
            assert!(
                !text.contains(needle),
                "{} reads the clock ({needle})",
                f.display()
            );
        }
    }
}

#[test]
fn sql_lives_in_the_storage_modules() {
    let mut files = vec![];
    rust_files(&root().join("sync-server/src"), &mut files);
    for f in files {
        if f.components().any(|c| c.as_os_str() == "storage") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [
            "SELECT ",
            "INSERT INTO",
            "UPDATE ",
            "DELETE FROM",
            "rusqlite::",
        ] {
            assert!(
                !text.contains(needle),
                "{} contains SQL ({needle})",
                f.display()
            );
        }
    }
}

#[test]
fn only_the_tauri_transport_touches_the_tauri_global() {
    let mut files = vec![];
    rust_files(&root().join("app/src"), &mut files);
    assert!(files.len() > 5, "app sources not found");
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        if f.ends_with("tauri.rs") {
            assert!(
                text.contains("__TAURI__"),
                "tauri.rs no longer talks to the shell?"
            );
            continue;
        }
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        assert!(
            !code.contains("__TAURI__"),
            "{} touches window.__TAURI__: go through the Backend",
            f.display()
        );
    }
}

#[test]
fn every_ipc_command_has_a_shell_handler() {
    let ipc = std::fs::read_to_string(root().join("crates/ipc/src/lib.rs")).expect("ipc");
    let shell = std::fs::read_to_string(root().join("src-tauri/src/lib.rs")).expect("shell");
    let commands =
        std::fs::read_to_string(root().join("src-tauri/src/commands.rs")).expect("commands");
    let mut n = 0;
    // Every `command!(Name = "wire" -> Response { .. })` in the contract.
    for (i, _) in ipc.match_indices("\" -> ") {
        let Some(open) = ipc[..i].rfind('"') else {
            continue;
        };
        let wire = &ipc[open + 1..i];
        assert!(
            commands.contains(&format!("pub fn {wire}("))
                || commands.contains(&format!("pub async fn {wire}(")),
            "no handler for `{wire}`"
        );
        assert!(
            shell.contains(&format!("commands::{wire},")),
            "`{wire}` is not registered"
        );
        n += 1;
    }
    assert!(n >= 19, "found only {n} commands: is the scan broken?");
}
