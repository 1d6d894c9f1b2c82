//! A private PostgreSQL server for the tests: a fresh cluster in a
//! temporary folder, listening on 127.0.0.1 at a free port, stopped and
//! removed when dropped. Debian's `postgresql` package provides the
//! binaries (`.ci/run` installs it); as root the cluster runs as the
//! `postgres` user, since PostgreSQL refuses to run as root.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
    /// A key=value connection string for the superuser `postgres`.
    pub conn: String,
}

/// The newest installed server's binaries (`/usr/lib/postgresql/N/bin`).
fn bindir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no /usr/lib/postgresql: install Debian's postgresql package")?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .context("no PostgreSQL server binaries (initdb) under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    fn command(&self, tool: &str) -> Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn check(mut c: Command, what: &str) -> anyhow::Result<()> {
        let out = c.output().with_context(|| format!("starting {what}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// initdb + pg_ctl start, bounded (pg_ctl -w waits at most 60 s).
    pub fn start() -> anyhow::Result<Postgres> {
        let bin = bindir()?;
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("pustaka-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if as_postgres {
            Self::check(
                {
                    let mut c = Command::new("chown");
                    c.args(["postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            )?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let pg = Postgres {
            dir: dir.clone(),
            bin,
            as_postgres,
            conn: format!("host=127.0.0.1 port={port} user=postgres dbname=postgres"),
        };
        let data = dir.join("data");
        let mut init = pg.command("initdb");
        init.args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data);
        Self::check(init, "initdb")?;
        let mut ctl = pg.command("pg_ctl");
        ctl.args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .arg("-o")
            .arg(format!(
                "-h 127.0.0.1 -p {port} -k {} -c max_connections=300",
                dir.display()
            ))
            .arg("start");
        Self::check(ctl, "pg_ctl start")?;
        eprintln!("PostgreSQL for the tests: {}", pg.conn);
        Ok(pg)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.args(["-w", "-t", "30", "-m", "fast", "-D"])
            .arg(self.dir.join("data"))
            .arg("stop");
        let _ = stop.output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
