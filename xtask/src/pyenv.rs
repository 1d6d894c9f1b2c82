//! `cargo xtask pyenv`: the Python the tests' independent checkers run in
//! (`../shared/tools/validate_opds2.py` and `validate_ics.py`, the pysip2 library system of the
//! SIP2 test), a venv in `~/.cache/pustaka/venv` with pinned packages.
//! Idempotent: a stamp file holds the requirements it was built with.

use std::path::PathBuf;

use anyhow::Context;

/// Pinned so that a run on a fresh machine checks with what was reviewed.
pub const REQUIREMENTS: &[&str] = &[
    "pysip2==0.1.0",
    "msgspec==0.22.0",
    "anyio==4.16.0",
    "jsonschema==4.26.0",
    "referencing==0.37.0",
    "icalendar==7.3.0",
    "ical==14.3.1",
    "aiosmtpd==1.4.6",
    "atpublic==7.0.0",
    "attrs==25.4.0",
];

pub fn venv_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache/pustaka/venv"))
}

/// Makes sure the venv exists with [`REQUIREMENTS`]; returns its python.
pub fn ensure() -> anyhow::Result<PathBuf> {
    let dir = venv_dir()?;
    let python = dir.join("bin/python");
    let stamp = dir.join("pustaka-requirements.txt");
    let wanted = REQUIREMENTS.join("\n");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(python);
    }
    // The system's Python (Debian's python3-venv), not a user's pyenv shim.
    let base = ["/usr/bin/python3", "python3"]
        .into_iter()
        .find(|p| {
            std::process::Command::new(p)
                .args(["-c", "import venv, ensurepip"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .context("no python3 with venv and ensurepip (Debian: apt-get install python3-venv)")?;
    let d = dir.display().to_string();
    crate::run(base, &["-m", "venv", &d])?;
    let py = python.display().to_string();
    let mut args = vec!["-m", "pip", "install", "-q", "--disable-pip-version-check"];
    args.extend(REQUIREMENTS);
    crate::run(&py, &args)?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}
