//! `cargo xtask bench load`: one workload against three servers started in
//! the same run on 127.0.0.1.
//!
//! - `pustaka-sync` (release build), driven by real headless devices
//!   (`pustaka-client`) over its HTTP sync protocol;
//! - a minimal samod 0.16 server (`xtask/bench/samod-server`, its own Cargo
//!   workspace, built here into `~/.cache/pustaka/bench-samod`);
//! - the Node `@automerge/automerge-repo` 2.5 server with the WebSocket and
//!   nodefs adapters (`xtask/bench/node-server`, `npm ci` into
//!   `~/.cache/pustaka/bench/node-server`).
//!
//! The two reference servers are spoken to in the automerge-repo protocol
//! (CBOR over a WebSocket: join/peer, then sync messages per document), with
//! automerge's own sync API on this side: one `sync::State` per document and
//! connection.
//!
//! Workload, the same on all three: P patrons, each with their documents;
//! a cold start of all at once; then intents at a constant rate K/s spread
//! over the patrons, latency measured from each intent's *scheduled* time
//! (no coordinated omission); then a reconnect storm (everyone at once,
//! nothing new). Then, for Pustaka only, more patrons than its LRU of hot
//! documents holds, to show its RSS is bounded by the LRU.
//!
//! Output: a table, then as the last line one JSON object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjType, ROOT, ReadDoc, ScalarValue};
use ciborium::Value as Cbor;
use futures_util::{SinkExt, StreamExt};
use pustaka_client::{Device, SystemClock};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const ADMIN: &str = "bench-load-admin";
/// Every single wait (a sync, a connection, a server start) is bounded.
const OP_TIMEOUT: Duration = Duration::from_secs(60);
/// The whole intent phase may overrun its timetable by at most this much.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);
/// Documents Pustaka's hub keeps hot (sync-server/src/hub.rs).
const PUSTAKA_LRU_DOCS: usize = 2048;
/// A patron's own documents on the server: `circ`, `intents`, `prefs`.
const DOCS_PER_PATRON: usize = 3;

#[derive(Debug, Clone)]
pub struct Opts {
    /// P: patrons in the main workload.
    patrons: usize,
    /// Loans per patron (plus one hold).
    loans: usize,
    /// K: intents per second, spread over the patrons.
    rate: f64,
    /// Length of the constant-rate phase.
    seconds: f64,
    /// Pustaka only: patrons synced in total for the LRU check (0: skip).
    lru_patrons: usize,
    servers: Vec<Kind>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            patrons: 200,
            loans: 5,
            rate: 100.0,
            seconds: 10.0,
            lru_patrons: 1200,
            servers: vec![Kind::Pustaka, Kind::Samod, Kind::Node],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pustaka,
    Samod,
    Node,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Pustaka => "pustaka-sync",
            Kind::Samod => "samod 0.16",
            Kind::Node => "automerge-repo 2.5 (Node)",
        }
    }
}

const USAGE: &str = "usage: cargo xtask bench load [--patrons P] [--loans N] [--rate K] [--seconds S] [--lru-patrons N|0] [--servers pustaka,samod,node]";

fn parse(args: &[&str]) -> anyhow::Result<Opts> {
    let mut o = Opts::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = || format!("bad value {value} for {flag}\n{USAGE}");
        match *flag {
            "--patrons" => o.patrons = value.parse().with_context(bad)?,
            "--loans" => o.loans = value.parse().with_context(bad)?,
            "--rate" => o.rate = value.parse().with_context(bad)?,
            "--seconds" => o.seconds = value.parse().with_context(bad)?,
            "--lru-patrons" => o.lru_patrons = value.parse().with_context(bad)?,
            "--servers" => {
                o.servers = value
                    .split(',')
                    .map(|s| match s {
                        "pustaka" => Ok(Kind::Pustaka),
                        "samod" => Ok(Kind::Samod),
                        "node" => Ok(Kind::Node),
                        _ => bail!("unknown server {s}\n{USAGE}"),
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            _ => bail!("unknown flag {flag}\n{USAGE}"),
        }
    }
    // Bounded in count and time.
    let in_bounds = (1..=5000).contains(&o.patrons)
        && o.loans <= 50
        && o.rate > 0.0
        && o.rate <= 5000.0
        && o.seconds > 0.0
        && o.seconds <= 300.0
        && o.lru_patrons <= 5000
        && !o.servers.is_empty();
    if !in_bounds {
        bail!(
            "out of bounds: 1..=5000 patrons, ≤ 50 loans, rate in (0, 5000], seconds in (0, 300], ≤ 5000 LRU patrons\n{USAGE}"
        );
    }
    Ok(o)
}

pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let opts = parse(args)?;
    build(&opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_all(opts))
}

// ---- building the three servers --------------------------------------------

fn cache_dir() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME").context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".cache/pustaka"))
}

fn bench_src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench")
}

fn samod_target() -> anyhow::Result<PathBuf> {
    Ok(cache_dir()?.join("bench-samod"))
}

fn node_dir() -> anyhow::Result<PathBuf> {
    Ok(cache_dir()?.join("bench/node-server"))
}

fn build(opts: &Opts) -> anyhow::Result<()> {
    // One cargo build at a time: the machine is small.
    if opts.servers.contains(&Kind::Pustaka) {
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
    }
    if opts.servers.contains(&Kind::Samod) {
        let manifest = bench_src().join("samod-server/Cargo.toml");
        let target = samod_target()?;
        eprintln!(
            "$ CARGO_TARGET_DIR={} cargo build --release -q --manifest-path {}",
            target.display(),
            manifest.display()
        );
        let status = Command::new("cargo")
            .args(["build", "--release", "-q", "--manifest-path"])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .context("starting cargo")?;
        if !status.success() {
            bail!("building the samod server failed with {status}");
        }
    }
    if opts.servers.contains(&Kind::Node) {
        let dir = node_dir()?;
        std::fs::create_dir_all(&dir)?;
        let src = bench_src().join("node-server");
        let lock = std::fs::read(src.join("package-lock.json"))?;
        let installed = std::fs::read(dir.join("package-lock.json")).ok();
        let fresh = dir.join("node_modules/@automerge/automerge-repo").is_dir()
            && installed.as_deref() == Some(&lock[..]);
        for f in ["package.json", "package-lock.json", "server.mjs"] {
            std::fs::copy(src.join(f), dir.join(f))
                .with_context(|| format!("copying {f} to {}", dir.display()))?;
        }
        if !fresh {
            super::run_in(&dir, "npm", &["ci", "--no-audit", "--no-fund"])?;
        }
    }
    Ok(())
}

// ---- server processes --------------------------------------------------------

/// A server process; killed when dropped.
struct Proc {
    child: Child,
    port: u16,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (VmRSS, VmHWM) in KB.
    fn rss_kb(&self) -> anyhow::Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("no {name} in /proc/{}/status", self.pid()))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }

    fn cpu_secs(&self) -> anyhow::Result<f64> {
        cpu_secs_of(&self.pid().to_string())
    }

    async fn wait_listening(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + OP_TIMEOUT;
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("server exited before listening: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("server did not listen on port {} in time", self.port)
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

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

async fn start_pustaka(dir: &Path, port: u16) -> anyhow::Result<Proc> {
    let child = Command::new(super::bench::target_dir().join("release/pustaka-sync"))
        .args(["serve", "--data"])
        .arg(dir.join("server"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--policy"])
        .arg(dir.join("policy.toml"))
        .args(["--admin-token", ADMIN])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .context("starting pustaka-sync")?;
    let mut p = Proc { child, port };
    p.wait_listening().await?;
    Ok(p)
}

async fn start_reference(kind: Kind, data: &Path) -> anyhow::Result<Proc> {
    let port = free_port()?;
    let mut cmd = match kind {
        Kind::Samod => Command::new(samod_target()?.join("release/pustaka-bench-samod-server")),
        Kind::Node => {
            let mut c = Command::new("node");
            c.current_dir(node_dir()?).arg("server.mjs");
            c
        }
        Kind::Pustaka => bail!("not a reference server"),
    };
    let child = cmd
        .arg(port.to_string())
        .arg(data)
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting the {} server", kind.name()))?;
    let mut p = Proc { child, port };
    p.wait_listening().await?;
    Ok(p)
}

// ---- the workload ------------------------------------------------------------

/// One patron's side of the workload, whatever the server.
trait Patron: Send + 'static {
    /// The first sync of a new device: done when the server has stored it.
    fn cold(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The patron's `n`th intent, synced until the server has it.
    fn intent(&mut self, n: usize) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// A new connection with nothing new.
    fn reconnect(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// Whatever the server sends while nothing is asked (keeps a WebSocket
    /// read, so its pings are answered); never resolves for HTTP.
    fn idle(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

enum Cmd {
    Cold(oneshot::Sender<anyhow::Result<Instant>>),
    /// The scheduled time and the patron's intent number.
    Intent(Instant, usize, oneshot::Sender<anyhow::Result<Instant>>),
    Reconnect(oneshot::Sender<anyhow::Result<Instant>>),
}

/// Runs one patron in its own task: one command at a time, in order.
fn spawn_patron<P: Patron>(mut p: P) -> mpsc::UnboundedSender<Cmd> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Cmd>();
    tokio::spawn(async move {
        loop {
            enum Ev {
                Cmd(Option<Cmd>),
                Idle(anyhow::Result<()>),
            }
            let ev = tokio::select! {
                c = rx.recv() => Ev::Cmd(c),
                r = p.idle() => Ev::Idle(r),
            };
            match ev {
                Ev::Cmd(None) => break,
                Ev::Cmd(Some(Cmd::Cold(done))) => {
                    let r = timed(p.cold()).await;
                    let _ = done.send(r);
                }
                Ev::Cmd(Some(Cmd::Intent(at, n, done))) => {
                    tokio::time::sleep_until(at.into()).await;
                    let r = timed(p.intent(n)).await;
                    let _ = done.send(r);
                }
                Ev::Cmd(Some(Cmd::Reconnect(done))) => {
                    let r = timed(p.reconnect()).await;
                    let _ = done.send(r);
                }
                // A broken idle connection shows up at the next command.
                Ev::Idle(Err(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
                Ev::Idle(Ok(())) => {}
            }
        }
    });
    tx
}

async fn timed(f: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<Instant> {
    match tokio::time::timeout(OP_TIMEOUT, f).await {
        Ok(Ok(())) => Ok(Instant::now()),
        Ok(Err(e)) => Err(e),
        Err(_) => bail!("timed out after {OP_TIMEOUT:?}"),
    }
}

/// Sends one command to every patron and waits for all the answers.
async fn all(
    patrons: &[mpsc::UnboundedSender<Cmd>],
    make: fn(oneshot::Sender<anyhow::Result<Instant>>) -> Cmd,
) -> anyhow::Result<Instant> {
    let mut waits = vec![];
    for p in patrons {
        let (tx, rx) = oneshot::channel();
        p.send(make(tx)).ok().context("a patron task ended")?;
        waits.push(rx);
    }
    let mut last = Instant::now();
    for w in waits {
        let t = w.await.context("a patron task ended")??;
        last = last.max(t);
    }
    Ok(last)
}

#[derive(Debug, Default, Clone)]
struct Row {
    name: &'static str,
    /// Cold start of all patrons until the last one is stored.
    stored_s: f64,
    /// Cold start until the last acknowledgement (reference servers: may be
    /// before storing).
    acked_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    intents: usize,
    storm_s: f64,
    rss_peak_kb: u64,
    rss_end_kb: u64,
    cpu_s: f64,
    loadgen_cpu_s: f64,
    wire_bytes: u64,
    disk_per_patron: u64,
}

/// The cold start of every patron at once; (start, last acknowledgement).
async fn cold_phase(patrons: &[mpsc::UnboundedSender<Cmd>]) -> anyhow::Result<(Instant, Instant)> {
    eprintln!("  cold start of {} patrons…", patrons.len());
    let start = Instant::now();
    let acked = all(patrons, Cmd::Cold).await?;
    Ok((start, acked))
}

struct Rest {
    latencies_ms: Vec<f64>,
    storm_s: f64,
}

/// Constant-rate intents, then the reconnect storm.
async fn rest_phases(patrons: &[mpsc::UnboundedSender<Cmd>], opts: &Opts) -> anyhow::Result<Rest> {
    let total = (opts.rate * opts.seconds).round() as usize;
    eprintln!(
        "  {total} intents at {}/s over {} s…",
        opts.rate, opts.seconds
    );
    let t0 = Instant::now() + Duration::from_millis(200);
    let mut waits = Vec::with_capacity(total);
    let mut per_patron = vec![0usize; patrons.len()];
    for i in 0..total {
        let at = t0 + Duration::from_secs_f64(i as f64 / opts.rate);
        let who = i % patrons.len();
        let n = per_patron[who];
        per_patron[who] += 1;
        let (tx, rx) = oneshot::channel();
        patrons[who]
            .send(Cmd::Intent(at, n, tx))
            .ok()
            .context("a patron task ended")?;
        waits.push((at, rx));
    }
    let deadline = t0 + Duration::from_secs_f64(opts.seconds) + DRAIN_TIMEOUT;
    let mut latencies_ms = Vec::with_capacity(total);
    for (at, rx) in waits {
        let done = tokio::time::timeout_at(deadline.into(), rx)
            .await
            .context("the intent phase overran its time bound")?
            .context("a patron task ended")??;
        latencies_ms.push(done.saturating_duration_since(at).as_secs_f64() * 1000.0);
    }

    eprintln!("  reconnect storm…");
    let storm = Instant::now();
    let storm_done = all(patrons, Cmd::Reconnect).await?;
    Ok(Rest {
        latencies_ms,
        storm_s: storm_done.saturating_duration_since(storm).as_secs_f64(),
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn latency_figures(mut l: Vec<f64>) -> (f64, f64, f64, usize) {
    l.sort_by(f64::total_cmp);
    (
        percentile(&l, 0.50),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN),
        l.len(),
    )
}

// ---- Pustaka -----------------------------------------------------------------

struct PustakaPatron {
    device: Arc<Device>,
    wire: Arc<AtomicU64>,
    hold: Option<String>,
}

impl PustakaPatron {
    async fn sync(&self) -> anyhow::Result<()> {
        let r = self.device.sync_once().await?;
        self.wire
            .fetch_add((r.bytes_sent + r.bytes_received) as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl Patron for PustakaPatron {
    async fn cold(&mut self) -> anyhow::Result<()> {
        // The reply comes only after the server's commit: stored.
        self.sync().await
    }

    async fn intent(&mut self, n: usize) -> anyhow::Result<()> {
        let hold = match &self.hold {
            Some(h) => h.clone(),
            None => {
                let v = self.device.view()?;
                let h = v.holds.first().map(|h| h.id.clone()).context("no hold")?;
                self.hold = Some(h.clone());
                h
            }
        };
        if n.is_multiple_of(2) {
            let until = self.device.view()?.today + chrono::Days::new(10);
            self.device.suspend_hold(&hold, until)?;
        } else {
            self.device.resume_hold(&hold)?;
        }
        self.sync().await
    }

    async fn reconnect(&mut self) -> anyhow::Result<()> {
        self.sync().await
    }

    async fn idle(&mut self) -> anyhow::Result<()> {
        std::future::pending().await
    }
}

struct PustakaRun {
    _tmp: tempfile::TempDir,
    _phones: tempfile::TempDir,
    row: Row,
    /// (patrons synced, server RSS KB) for the LRU check.
    lru: Vec<(usize, u64)>,
    rss_per_hot_kb: f64,
}

async fn admin(http: &reqwest::Client, url: &str, path: &str, body: Value) -> anyhow::Result<()> {
    let r = http
        .post(format!("{url}/admin/v1/{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .timeout(OP_TIMEOUT)
        .send()
        .await?;
    let status = r.status();
    if !status.is_success() {
        let text = r.text().await.unwrap_or_default();
        bail!("{path}: {status} {text}");
    }
    Ok(())
}

fn patron_json(card: &str) -> Value {
    json!({"card": card, "name": format!("Anggota {card}"), "pin": "1234", "patron_type": "adult",
        "expires": "2030-12-31", "home_branch": "pusat"})
}

/// Patron `i`: a title with `loans` copies, all lent to them; their hold is
/// on the next patron's title (every copy out, so they wait in its queue).
async fn seed_patron(
    http: &reqwest::Client,
    url: &str,
    i: usize,
    loans: usize,
) -> anyhow::Result<String> {
    let card = format!("{}", 100_000 + i);
    let copies: Vec<Value> = (0..loans.max(1))
        .map(|c| json!({"barcode": format!("C{i:05}-{c:02}"), "branch": "pusat", "shelf": "899.221"}))
        .collect();
    admin(http, url, "titles", json!({"id": format!("T{i:05}"), "title": format!("Judul Buku {i}"),
        "author": "Penulis, Contoh", "year": 2000, "language": "ind", "subjects": "Fiksi", "isbn": null,
        "item_type": "book", "collection": "umum", "copies": copies})).await?;
    admin(http, url, "patrons", patron_json(&card)).await?;
    for c in 0..loans {
        admin(
            http,
            url,
            "checkout",
            json!({"card": card, "copy": format!("C{i:05}-{c:02}")}),
        )
        .await?;
    }
    Ok(card)
}

async fn signed_in_device(dir: &Path, url: &str, card: &str) -> anyhow::Result<Arc<Device>> {
    let d = Arc::new(Device::open(
        &dir.join(format!("{card}.db")),
        Arc::new(SystemClock),
    )?);
    d.login(url, card, "1234").await?;
    Ok(d)
}

/// A device signed in earlier, opened again from its file.
fn reopened_device(dir: &Path, card: &str) -> anyhow::Result<Arc<Device>> {
    Ok(Arc::new(Device::open(
        &dir.join(format!("{card}.db")),
        Arc::new(SystemClock),
    )?))
}

async fn run_pustaka(opts: &Opts) -> anyhow::Result<PustakaRun> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    // Phones' files go to memory where there is /dev/shm: only the server's
    // disk is measured.
    let phones = match Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm")?,
        false => tempfile::tempdir()?,
    };
    let pdir = phones.path();
    let policy = pustaka_sync::demo::DEMO_POLICY.replace(
        "loan_limit = 5\nhold_limit = 5",
        "loan_limit = 500\nhold_limit = 500",
    );
    std::fs::write(dir.join("policy.toml"), policy)?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let n_all = opts.patrons.max(opts.lru_patrons);
    let mut server = start_pustaka(dir, port).await?;

    // Set-up, not measured: the library's records, and each patron signed in
    // on a new device (a PIN check each) with a hold asked for but not synced.
    eprintln!(
        "  seeding {} patrons and signing their devices in…",
        opts.patrons
    );
    let n = opts.patrons;
    // Patron n only warms the restarted server up.
    for i in 0..=n {
        seed_patron(&http, &url, i, opts.loans).await?;
    }
    let warm = format!("{}", 100_000 + n);
    drop(signed_in_device(pdir, &url, &warm).await?);
    let mut devices = vec![];
    for i in 0..n {
        let card = format!("{}", 100_000 + i);
        let d = signed_in_device(pdir, &url, &card).await?;
        d.request_unchecked(pustaka_replica::IntentKind::PlaceHold {
            title: format!("T{:05}", (i + 1) % n),
            branch: "pusat".into(),
        })?;
        devices.push(d);
    }
    // A cold server too: nothing of the set-up stays in its memory.
    drop(server);
    server = start_pustaka(dir, port).await?;
    // Warm: the calendar, SQLite's cache and the runtime, once.
    reopened_device(pdir, &warm)?.sync_once().await?;
    let (rss_before, _) = server.rss_kb()?;
    let cpu_before = server.cpu_secs()?;
    let loadgen_before = cpu_secs_of("self")?;

    let wire = Arc::new(AtomicU64::new(0));
    let patrons: Vec<_> = devices
        .iter()
        .map(|d| {
            spawn_patron(PustakaPatron {
                device: d.clone(),
                wire: wire.clone(),
                hold: None,
            })
        })
        .collect();
    let (cold_start, cold_acked) = cold_phase(&patrons).await?;
    let rest = rest_phases(&patrons, opts).await?;
    let cpu_s = server.cpu_secs()? - cpu_before;
    let loadgen_cpu_s = cpu_secs_of("self")? - loadgen_before;
    let (rss_end, rss_peak) = server.rss_kb()?;
    drop(patrons);

    // Every intent decided exactly once: the hold plus each suspend/resume
    // has its outcome.
    let (p50, p99, max, count) = latency_figures(rest.latencies_ms);
    let mut outcomes = 0;
    for d in &devices {
        outcomes += d.view()?.outcomes.len();
    }
    if outcomes != n + count {
        bail!(
            "expected {} outcomes ({n} holds + {count} intents), found {outcomes}",
            n + count
        );
    }
    let disk = dir_bytes(&dir.join("server"));
    let row = Row {
        name: Kind::Pustaka.name(),
        stored_s: cold_acked
            .saturating_duration_since(cold_start)
            .as_secs_f64(),
        acked_s: cold_acked
            .saturating_duration_since(cold_start)
            .as_secs_f64(),
        p50_ms: p50,
        p99_ms: p99,
        max_ms: max,
        intents: count,
        storm_s: rest.storm_s,
        rss_peak_kb: rss_peak,
        rss_end_kb: rss_end,
        cpu_s,
        loadgen_cpu_s,
        wire_bytes: wire.load(Ordering::Relaxed),
        disk_per_patron: disk / n as u64,
    };
    // RSS per hot patron: growth over the whole workload of P patrons (all
    // of their documents hot in the LRU when 3P + 1 <= 2048), after a
    // warmed-up restart.
    let hot = n.min((PUSTAKA_LRU_DOCS - 1) / DOCS_PER_PATRON);
    let rss_per_hot_kb = rss_end.saturating_sub(rss_before) as f64 / hot as f64;

    // More patrons than the LRU holds: RSS must level off. Their set-up
    // (PIN hashes: argon2 takes 19 MiB each) happens before another
    // restart, so only documents count.
    let mut lru = vec![];
    if n_all > n {
        eprintln!(
            "  LRU check: {} patrons in all (the LRU holds {PUSTAKA_LRU_DOCS} documents, {DOCS_PER_PATRON} per patron)…",
            n_all
        );
        for i in n + 1..n_all {
            seed_patron(&http, &url, i, opts.loans).await?;
            drop(signed_in_device(pdir, &url, &format!("{}", 100_000 + i)).await?);
        }
        drop(server);
        server = start_pustaka(dir, port).await?;
        reopened_device(pdir, &warm)?.sync_once().await?;
        lru.push((0, server.rss_kb()?.0));
        let step = (n_all / 7).max(1);
        for i in 0..n_all {
            let card = format!("{}", 100_000 + i);
            let d = match devices.get(i) {
                Some(d) => d.clone(),
                None => reopened_device(pdir, &card)?,
            };
            d.sync_once().await?;
            if (i + 1) % step == 0 || i + 1 == n_all {
                lru.push((i + 1, server.rss_kb()?.0));
            }
        }
    }
    drop(server);
    Ok(PustakaRun {
        _tmp: tmp,
        _phones: phones,
        row,
        lru,
        rss_per_hot_kb,
    })
}

// ---- the automerge-repo protocol -----------------------------------------------

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn cbor_encode(fields: Vec<(&str, Cbor)>) -> anyhow::Result<Vec<u8>> {
    let map = Cbor::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Cbor::Text(k.into()), v))
            .collect(),
    );
    let mut out = vec![];
    ciborium::into_writer(&map, &mut out)?;
    Ok(out)
}

/// A decoded automerge-repo message: its fields by name.
struct RepoMsg(Vec<(Cbor, Cbor)>);

impl RepoMsg {
    fn decode(bytes: &[u8]) -> anyhow::Result<RepoMsg> {
        match ciborium::from_reader::<Cbor, _>(bytes)? {
            Cbor::Map(m) => Ok(RepoMsg(m)),
            other => bail!("not a CBOR map: {other:?}"),
        }
    }

    fn get(&self, key: &str) -> Option<&Cbor> {
        self.0
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| untag(v))
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Cbor::as_text)
    }

    fn bytes(&self, key: &str) -> Option<&[u8]> {
        self.get(key).and_then(|v| v.as_bytes()).map(Vec::as_slice)
    }
}

fn untag(v: &Cbor) -> &Cbor {
    match v {
        Cbor::Tag(_, inner) => untag(inner),
        v => v,
    }
}

/// A document id as automerge-repo makes them: bs58check of 16 random bytes.
fn new_document_id() -> anyhow::Result<String> {
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("getrandom: {e}"))?;
    Ok(bs58::encode(raw).with_check().into_string())
}

/// One patron of a reference server: one document standing for their
/// `circ` and `intents`, one WebSocket, one sync state.
struct RepoPatron {
    url: String,
    patron: String,
    connections: usize,
    peer_id: String,
    server_id: String,
    ws: Option<Ws>,
    doc_id: String,
    doc: Automerge,
    state: sync::State,
    wire: Arc<AtomicU64>,
}

impl RepoPatron {
    async fn connect(&mut self) -> anyhow::Result<()> {
        // A new peer id per connection, as a restarted automerge-repo app
        // has: with the same id the Node server keeps its in-memory sync
        // state and, nothing being new, answers nothing at all.
        self.connections += 1;
        self.peer_id = format!("{}-c{}", self.patron, self.connections);
        let (mut ws, _) = tokio_tungstenite::connect_async(self.url.as_str())
            .await
            .with_context(|| format!("connecting to {}", self.url))?;
        let join = cbor_encode(vec![
            ("type", Cbor::Text("join".into())),
            ("senderId", Cbor::Text(self.peer_id.clone())),
            ("peerMetadata", Cbor::Map(vec![])),
            (
                "supportedProtocolVersions",
                Cbor::Array(vec![Cbor::Text("1".into())]),
            ),
        ])?;
        self.wire.fetch_add(join.len() as u64, Ordering::Relaxed);
        ws.send(WsMessage::Binary(join.into())).await?;
        loop {
            let m = next_binary(&mut ws, &self.wire).await?;
            let m = RepoMsg::decode(&m)?;
            match m.text("type") {
                Some("peer") => {
                    self.server_id = m.text("senderId").context("peer without senderId")?.into();
                    break;
                }
                Some("error") => bail!("server error: {:?}", m.text("message")),
                _ => continue,
            }
        }
        self.ws = Some(ws);
        Ok(())
    }

    /// Sends our next sync message, if automerge has one.
    async fn flush(&mut self) -> anyhow::Result<()> {
        let Some(msg) = self.doc.generate_sync_message(&mut self.state) else {
            return Ok(());
        };
        let bytes = cbor_encode(vec![
            ("type", Cbor::Text("sync".into())),
            ("senderId", Cbor::Text(self.peer_id.clone())),
            ("targetId", Cbor::Text(self.server_id.clone())),
            ("documentId", Cbor::Text(self.doc_id.clone())),
            ("data", Cbor::Bytes(msg.encode())),
        ])?;
        self.wire.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        let ws = self.ws.as_mut().context("not connected")?;
        ws.send(WsMessage::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Applies one message from the server and answers it.
    async fn on_message(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let m = RepoMsg::decode(bytes)?;
        match m.text("type") {
            Some("sync") | Some("request") if m.text("documentId") == Some(&self.doc_id) => {
                let data = m.bytes("data").context("sync message without data")?;
                let msg = sync::Message::decode(data)?;
                self.doc.receive_sync_message(&mut self.state, msg)?;
                self.flush().await
            }
            // The server asks every peer for a document it has not got (a
            // new patron's): we have only our own, so say so, as an
            // automerge-repo client does, else it waits for our answer.
            Some("request") => {
                let bytes = cbor_encode(vec![
                    ("type", Cbor::Text("doc-unavailable".into())),
                    ("senderId", Cbor::Text(self.peer_id.clone())),
                    ("targetId", Cbor::Text(self.server_id.clone())),
                    (
                        "documentId",
                        Cbor::Text(m.text("documentId").unwrap_or_default().into()),
                    ),
                ])?;
                self.wire.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                let ws = self.ws.as_mut().context("not connected")?;
                ws.send(WsMessage::Binary(bytes.into())).await?;
                Ok(())
            }
            Some("doc-unavailable") if m.text("documentId") == Some(&self.doc_id) => {
                bail!("the server says {} is unavailable", self.doc_id)
            }
            Some("error") => bail!("server error: {:?}", m.text("message")),
            _ => Ok(()),
        }
    }

    /// The server has told us its heads, and they include all of ours.
    fn acked(&self) -> bool {
        let heads = self.doc.get_heads();
        self.state
            .their_heads
            .as_ref()
            .is_some_and(|theirs| heads.iter().all(|h| theirs.contains(h)))
    }

    /// Syncs until the server's heads include ours.
    async fn sync_until_acked(&mut self) -> anyhow::Result<()> {
        self.flush().await?;
        while !self.acked() {
            let ws = self.ws.as_mut().context("not connected")?;
            let m = next_binary(ws, &self.wire).await?;
            self.on_message(&m).await?;
        }
        Ok(())
    }
}

/// The next binary WebSocket message (pings are answered by tungstenite).
async fn next_binary(ws: &mut Ws, wire: &AtomicU64) -> anyhow::Result<Vec<u8>> {
    loop {
        match ws.next().await.context("connection closed")?? {
            WsMessage::Binary(b) => {
                wire.fetch_add(b.len() as u64, Ordering::Relaxed);
                return Ok(b.to_vec());
            }
            WsMessage::Close(c) => bail!("connection closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The patron document: what Pustaka keeps in `circ` and `intents`, with
/// the same loans and hold, in one document.
fn patron_doc(i: usize, loans: usize) -> anyhow::Result<Automerge> {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let l = tx.put_object(ROOT, "loans", ObjType::Map)?;
    for c in 0..loans {
        let copy = format!("C{i:05}-{c:02}");
        let loan = tx.put_object(&l, copy.as_str(), ObjType::Map)?;
        tx.put(&loan, "title", format!("T{i:05}"))?;
        tx.put(&loan, "title_text", format!("Judul Buku {i}"))?;
        tx.put(&loan, "author", "Penulis, Contoh")?;
        tx.put(&loan, "due", "2026-12-31")?;
        tx.put(&loan, "renewals_used", ScalarValue::Uint(0))?;
        tx.put(&loan, "renewals_left", ScalarValue::Uint(3))?;
        tx.put(&loan, "renewable", true)?;
    }
    let h = tx.put_object(ROOT, "holds", ObjType::Map)?;
    let hold = tx.put_object(&h, "H1", ObjType::Map)?;
    tx.put(&hold, "title", format!("T{:05}", i + 1))?;
    tx.put(&hold, "status", "waiting")?;
    tx.put(&hold, "queue_position", ScalarValue::Uint(1))?;
    tx.put(&hold, "pickup_branch", "pusat")?;
    tx.put_object(ROOT, "intents", ObjType::Map)?;
    tx.commit();
    Ok(doc)
}

impl Patron for RepoPatron {
    async fn cold(&mut self) -> anyhow::Result<()> {
        self.connect().await?;
        self.sync_until_acked().await
    }

    async fn intent(&mut self, n: usize) -> anyhow::Result<()> {
        let mut raw = [0u8; 16];
        getrandom::fill(&mut raw).map_err(|e| anyhow::anyhow!("getrandom: {e}"))?;
        let id = hex::encode(raw);
        let mut tx = self.doc.transaction();
        let intents = match tx.get(ROOT, "intents")? {
            Some((_, id)) => id,
            None => bail!("no intents map"),
        };
        let it = tx.put_object(&intents, id.as_str(), ObjType::Map)?;
        let kind = if n.is_multiple_of(2) {
            "suspend-hold"
        } else {
            "resume-hold"
        };
        tx.put(&it, "kind", kind)?;
        tx.put(&it, "hold", "H1")?;
        tx.put(&it, "until", "2026-12-31")?;
        tx.put(&it, "created_at", ScalarValue::Timestamp(1_700_000_000_000))?;
        tx.put(&it, "device", self.peer_id.as_str())?;
        tx.commit();
        self.sync_until_acked().await
    }

    async fn reconnect(&mut self) -> anyhow::Result<()> {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
        // As a device that keeps its sync state (like Pustaka's devices):
        // what survives is what automerge persists of it.
        self.state = sync::State::decode(&self.state.encode())?;
        self.connect().await?;
        self.sync_until_acked().await
    }

    async fn idle(&mut self) -> anyhow::Result<()> {
        let Some(ws) = self.ws.as_mut() else {
            return std::future::pending().await;
        };
        let m = next_binary(ws, &self.wire).await?;
        self.on_message(&m).await
    }
}

/// The document's changes as the server stored them: every chunk under its
/// folder (automerge-repo's nodefs layout, which samod's filesystem storage
/// shares: `<dir>/<id[..2]>/<id[2..]>/{snapshot,incremental}/…`).
fn stored_doc(data: &Path, doc_id: &str) -> Option<Automerge> {
    let (a, b) = doc_id.split_at_checked(2)?;
    let mut files = vec![];
    let mut stack = vec![data.join(a).join(b)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "sync-state") {
                    continue;
                }
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let mut doc = Automerge::new();
    for f in files {
        // A file being written may be partial: then it is not stored yet.
        let bytes = std::fs::read(&f).ok()?;
        let _ = doc.load_incremental(&bytes);
    }
    Some(doc)
}

fn has_all(doc: &Automerge, heads: &[ChangeHash]) -> bool {
    heads.iter().all(|h| doc.get_change_by_hash(h).is_some())
}

/// Waits until every document's heads are in the server's storage folder;
/// returns when that was observed.
async fn wait_stored(
    data: &Path,
    want: &BTreeMap<String, Vec<ChangeHash>>,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + OP_TIMEOUT;
    let mut missing: Vec<(&String, &Vec<ChangeHash>)> = want.iter().collect();
    loop {
        missing.retain(|(id, heads)| !stored_doc(data, id).is_some_and(|d| has_all(&d, heads)));
        if missing.is_empty() {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!(
                "{} of {} documents not stored after {OP_TIMEOUT:?}",
                missing.len(),
                want.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn run_reference(kind: Kind, opts: &Opts) -> anyhow::Result<Row> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data)?;
    let server = start_reference(kind, &data).await?;
    let url = format!("ws://127.0.0.1:{}/", server.port);
    let wire = Arc::new(AtomicU64::new(0));
    let cpu_before = server.cpu_secs()?;
    let loadgen_before = cpu_secs_of("self")?;

    // The patrons' documents exist on their devices before the cold start.
    let mut ids = vec![];
    let mut heads = BTreeMap::new();
    let mut patrons = vec![];
    let (heads_tx, mut heads_rx) = mpsc::unbounded_channel::<(String, Vec<ChangeHash>)>();
    for i in 0..opts.patrons {
        let doc = patron_doc(i, opts.loans)?;
        let doc_id = new_document_id()?;
        heads.insert(doc_id.clone(), doc.get_heads());
        ids.push(doc_id.clone());
        patrons.push(spawn_patron(Reporting {
            inner: RepoPatron {
                url: url.clone(),
                patron: format!("bench-patron-{i}"),
                connections: 0,
                peer_id: String::new(),
                server_id: String::new(),
                ws: None,
                doc_id,
                doc,
                state: sync::State::new(),
                wire: wire.clone(),
            },
            heads: heads_tx.clone(),
        }));
    }
    drop(heads_tx);
    let (cold_start, cold_acked) = cold_phase(&patrons).await?;
    let cold_stored = wait_stored(&data, &heads).await?;
    // The cold phase is timed here; the rest of the workload follows.
    let rest = rest_phases(&patrons, opts).await?;
    let cpu_s = server.cpu_secs()? - cpu_before;
    let loadgen_cpu_s = cpu_secs_of("self")? - loadgen_before;
    let (rss_end, rss_peak) = server.rss_kb()?;
    drop(patrons);

    // Everything the patrons wrote must be in the server's folder.
    let mut last = BTreeMap::new();
    while let Some((id, h)) = heads_rx.recv().await {
        last.insert(id, h);
    }
    if last.len() != opts.patrons {
        bail!(
            "expected final heads of {} patrons, got {}",
            opts.patrons,
            last.len()
        );
    }
    wait_stored(&data, &last).await?;
    let (p50, p99, max, count) = latency_figures(rest.latencies_ms);
    let disk = dir_bytes(&data);
    Ok(Row {
        name: kind.name(),
        stored_s: cold_stored
            .max(cold_acked)
            .saturating_duration_since(cold_start)
            .as_secs_f64(),
        acked_s: cold_acked
            .saturating_duration_since(cold_start)
            .as_secs_f64(),
        p50_ms: p50,
        p99_ms: p99,
        max_ms: max,
        intents: count,
        storm_s: rest.storm_s,
        rss_peak_kb: rss_peak,
        rss_end_kb: rss_end,
        cpu_s,
        loadgen_cpu_s,
        wire_bytes: wire.load(Ordering::Relaxed),
        disk_per_patron: disk / opts.patrons as u64,
    })
}

/// Reports the document's heads when the patron task ends.
struct Reporting {
    inner: RepoPatron,
    heads: mpsc::UnboundedSender<(String, Vec<ChangeHash>)>,
}

impl Drop for Reporting {
    fn drop(&mut self) {
        let _ = self
            .heads
            .send((self.inner.doc_id.clone(), self.inner.doc.get_heads()));
    }
}

impl Patron for Reporting {
    fn cold(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send {
        self.inner.cold()
    }
    fn intent(&mut self, n: usize) -> impl Future<Output = anyhow::Result<()>> + Send {
        self.inner.intent(n)
    }
    fn reconnect(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send {
        self.inner.reconnect()
    }
    fn idle(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send {
        self.inner.idle()
    }
}

// ---- report ------------------------------------------------------------------

async fn run_all(opts: Opts) -> anyhow::Result<()> {
    let mut rows = vec![];
    let mut pustaka = None;
    for &kind in &opts.servers {
        eprintln!("{}:", kind.name());
        if kind == Kind::Pustaka {
            let run = run_pustaka(&opts).await?;
            rows.push(run.row.clone());
            pustaka = Some(run);
        } else {
            rows.push(run_reference(kind, &opts).await?);
        }
    }

    println!(
        "\nP = {} patrons ({} loans + 1 hold each), {} intents/s for {} s, then a reconnect storm; 127.0.0.1, {} CPUs\n",
        opts.patrons,
        opts.loans,
        opts.rate,
        opts.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "| server | time to stored (cold, all P) | last ack | p50 | p99 | max | intents | reconnect storm | RSS end / peak | server CPU | load-gen CPU | wire bytes | disk B/patron |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.2} s | {:.1} / {:.1} MB | {:.2} s | {:.2} s | {} | {} |",
            r.name,
            r.stored_s,
            r.acked_s,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.intents,
            r.storm_s,
            r.rss_end_kb as f64 / 1024.0,
            r.rss_peak_kb as f64 / 1024.0,
            r.cpu_s,
            r.loadgen_cpu_s,
            r.wire_bytes,
            r.disk_per_patron
        );
    }
    if let Some(p) = &pustaka
        && !p.lru.is_empty()
    {
        println!(
            "\npustaka-sync RSS by patrons synced (LRU of {PUSTAKA_LRU_DOCS} documents = {} patrons' circ + intents + prefs):",
            PUSTAKA_LRU_DOCS / DOCS_PER_PATRON
        );
        println!("| patrons synced | RSS |");
        println!("|---|---|");
        for (n, kb) in &p.lru {
            println!("| {n} | {:.1} MB |", *kb as f64 / 1024.0);
        }
    }

    let find = |k: Kind| rows.iter().find(|r| r.name == k.name());
    let ratio = |other: Kind, f: fn(&Row) -> f64| -> Value {
        match (find(other), find(Kind::Pustaka)) {
            (Some(o), Some(p)) if f(p) > 0.0 => json!((f(o) / f(p) * 100.0).round() / 100.0),
            _ => Value::Null,
        }
    };
    println!(
        "{}",
        json!({
            "speedup_vs_node": ratio(Kind::Node, |r| r.stored_s),
            "speedup_vs_samod": ratio(Kind::Samod, |r| r.stored_s),
            "p99_ratio_vs_node": ratio(Kind::Node, |r| r.p99_ms),
            "p99_ratio_vs_samod": ratio(Kind::Samod, |r| r.p99_ms),
            "rss_per_hot_patron_kb": pustaka.as_ref().map(|p| p.rss_per_hot_kb.round()),
        })
    );
    Ok(())
}
