//! `cargo xtask bench sync`: a real `pustaka-sync` (release build, its own
//! process, so its RSS is its own) and headless devices on 127.0.0.1.
//!
//! - cold sync of a patron with 250 items (200 loans, 50 holds);
//! - reconnect with nothing new;
//! - intents decided per second with a durable ack: H patrons' devices each
//!   ask K times (suspend/resume a hold) and sync, all at once;
//! - server RSS per hot patron: RSS after H more patrons synced, minus
//!   before, divided by H.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pustaka_client::{Device, SystemClock};
use serde_json::{Value, json};

const ADMIN: &str = "bench-admin";
const HOT: usize = 100;
const ROUNDS: usize = 20;

struct Server {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn admin(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{}/admin/v1/{path}", self.url))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            bail!("{path}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// CPU seconds the server has used (user + system).
    fn cpu_secs(&self) -> anyhow::Result<f64> {
        cpu_secs_of(&self.child.id().to_string())
    }

    fn rss_kb(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS")
    }
}

/// CPU seconds a process has used (user + system), from /proc.
fn cpu_secs_of(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    Ok((field(11) + field(12)) / 100.0)
}

/// Starts `perf record` on `pid` when the variable `var` names an output file.
fn perf_record(var: &str, pid: u32) -> anyhow::Result<Option<Child>> {
    let Some(out) = std::env::var_os(var) else {
        return Ok(None);
    };
    let child = Command::new("perf")
        .args([
            "record",
            "-F",
            "299",
            "--call-graph",
            "dwarf,16384",
            "-p",
            &pid.to_string(),
            "-o",
        ])
        .arg(out)
        .stderr(Stdio::null())
        .spawn()
        .context("starting perf")?;
    Ok(Some(child))
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_server(dir: &std::path::Path, port: u16) -> anyhow::Result<Server> {
    let child = Command::new(target_dir().join("release/pustaka-sync"))
        .args(["serve", "--data"])
        .arg(dir.join("server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--policy"])
        .arg(dir.join("policy.toml"))
        .args(["--admin-token", ADMIN])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting pustaka-sync")?;
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    for _ in 0..100 {
        if server
            .http
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("server did not come up")
}

async fn device(
    dir: &std::path::Path,
    name: &str,
    url: &str,
    card: &str,
    pin: &str,
) -> anyhow::Result<Arc<Device>> {
    let d = Arc::new(Device::open(
        &dir.join(format!("{name}.db")),
        Arc::new(SystemClock),
    )?);
    d.login(url, card, pin).await?;
    Ok(d)
}

pub fn sync() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    // Devices stand for patrons' phones: their files go to memory when the
    // machine has /dev/shm, so the server's disk is the only one measured.
    let phones = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm")?,
        false => tempfile::tempdir()?,
    };
    let pdir = phones.path();
    super::run(
        "cargo",
        &[
            "build",
            "--release",
            "-q",
            "-p",
            "pustaka-sync",
            "--bin",
            "pustaka-sync",
        ],
    )?;
    // The demo policy with limits raised so one patron can hold 250 items.
    let policy = pustaka_sync::demo::DEMO_POLICY.replace(
        "loan_limit = 5\nhold_limit = 5",
        "loan_limit = 500\nhold_limit = 500",
    );
    std::fs::write(dir.join("policy.toml"), policy)?;
    let port = free_port()?;
    let mut server = start_server(dir, port).await?;
    eprintln!("seeding…");
    let titles = 250 + HOT;
    for i in 0..titles {
        server
            .admin("titles", json!({"id": format!("T{i:04}"), "title": format!("Judul Buku {i}"), "author": "Penulis, Contoh",
                "year": 2000, "language": "ind", "subjects": "Fiksi", "isbn": null, "item_type": "book", "collection": "umum",
                "copies": [{"barcode": format!("C{i:04}"), "branch": "pusat", "shelf": "899.221"}]}))
            .await?;
    }
    let patron = |card: String| json!({"card": card, "name": format!("Anggota {card}"), "pin": "1234", "patron_type": "adult", "expires": "2030-12-31", "home_branch": "pusat"});
    server.admin("patrons", patron("5000".into())).await?;
    for i in 0..200 {
        server
            .admin(
                "checkout",
                json!({"card": "5000", "copy": format!("C{i:04}")}),
            )
            .await?;
    }
    let p0 = device(pdir, "p0", &server.url, "5000", "1234").await?;
    p0.sync_once().await?;
    for i in 200..250 {
        p0.place_hold(&format!("T{i:04}"), "pusat")?;
    }
    p0.sync_once().await?;
    let items = p0.view()?;
    if items.loans.len() + items.holds.len() != 250 {
        bail!(
            "expected 250 items, got {} loans and {} holds",
            items.loans.len(),
            items.holds.len()
        );
    }

    // Cold start on a new device, then a reconnect with nothing new.
    let fresh = device(pdir, "p0-fresh", &server.url, "5000", "1234").await?;
    let cold = fresh.sync_once().await?;
    let reconnect = fresh.sync_once().await?;

    // Hot patrons: each with a hold, signed in and synced once.
    let mut devices = vec![];
    for i in 0..HOT {
        let card = format!("{}", 6000 + i);
        server.admin("patrons", patron(card.clone())).await?;
        let d = device(pdir, &card, &server.url, &card, "1234").await?;
        d.sync_once().await?;
        d.place_hold(&format!("T{:04}", 250 + i), "pusat")?;
        d.sync_once().await?;
        devices.push(d);
    }
    // Memory per hot patron: restart the server so set-up (argon2 buffers,
    // seeding) is not counted, warm it with one patron, then make every hot
    // patron's documents resident by syncing them.
    drop(server);
    server = start_server(dir, port).await?;
    fresh.sync_once().await?;
    let rss_before = server.rss_kb()?;
    for d in &devices {
        d.sync_once().await?;
    }
    let rss_after = server.rss_kb()?;

    // Intents with durable acknowledgement, all patrons at once.
    // PUSTAKA_PERF=FILE records a CPU profile of the server for this phase,
    // PUSTAKA_PERF_DEVICES=FILE one of the devices (this process).
    let perf = perf_record("PUSTAKA_PERF", server.child.id())?;
    let perf_devices = perf_record("PUSTAKA_PERF_DEVICES", std::process::id())?;
    let cpu_before = server.cpu_secs()?;
    let devices_cpu_before = cpu_secs_of("self")?;
    let start = Instant::now();
    let mut tasks = vec![];
    for d in devices.clone() {
        tasks.push(tokio::spawn(async move {
            let mut decided = 0usize;
            let v = d.view()?;
            let hold = v.holds.first().map(|h| h.id.clone()).context("no hold")?;
            let until = v.today + chrono::Days::new(10);
            for k in 0..ROUNDS {
                if k % 2 == 0 {
                    d.suspend_hold(&hold, until)?;
                } else {
                    d.resume_hold(&hold)?;
                }
                d.sync_once().await?;
                decided += 1;
            }
            anyhow::Ok(decided)
        }));
    }
    let mut decided = 0;
    for t in tasks {
        decided += t.await??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = server.cpu_secs()? - cpu_before;
    let devices_cpu = cpu_secs_of("self")? - devices_cpu_before;
    for mut p in perf.into_iter().chain(perf_devices) {
        let _ = Command::new("kill")
            .args(["-INT", &p.id().to_string()])
            .status();
        let _ = p.wait();
    }
    let outcomes: usize = devices
        .iter()
        .map(|d| d.view().map(|v| v.outcomes.len()).unwrap_or(0))
        .sum();
    if decided != HOT * ROUNDS || outcomes != HOT * (ROUNDS + 1) {
        bail!("expected every intent decided: {decided} acknowledged, {outcomes} outcomes");
    }
    let intents_per_sec = decided as f64 / elapsed;
    let rss_per_hot = (rss_after.saturating_sub(rss_before)) as f64 / HOT as f64;

    println!("| figure | value | target |");
    println!("|---|---|---|");
    println!(
        "| cold sync, 250 items | {} B in {} requests | ≤ 10 KB in ≤ 2 |",
        cold.bytes_sent + cold.bytes_received,
        cold.requests
    );
    println!(
        "| reconnect, nothing new | {} B in {} requests | ≤ 1 KB in 1 |",
        reconnect.bytes_sent + reconnect.bytes_received,
        reconnect.requests
    );
    println!(
        "| intents decided, durable ack | {intents_per_sec:.0}/s ({decided} in {elapsed:.2} s, {HOT} devices; server CPU {server_cpu:.2} s, devices' CPU {devices_cpu:.2} s) | ≥ 1,000/s |"
    );
    println!(
        "| server RSS per hot patron | {rss_per_hot:.0} KB ({rss_before} → {rss_after} KB for {HOT}) | ≤ 250 KB |"
    );
    println!(
        "{}",
        json!({
            "cold_sync_bytes": cold.bytes_sent + cold.bytes_received,
            "cold_sync_requests": cold.requests,
            "reconnect_bytes": reconnect.bytes_sent + reconnect.bytes_received,
            "reconnect_requests": reconnect.requests,
            "intents_per_sec": intents_per_sec.round(),
            "rss_per_hot_patron_kb": rss_per_hot.round(),
        })
    );
    Ok(())
}
