//! `cargo xtask e2e`: the desktop app in a real window (Xvfb + tauri-driver
//! + WebKitWebDriver) against a real `pustaka-sync demo` on 127.0.0.1.
//!
//! Journey: sign in → loans listed → the server is stopped → renew a loan →
//! it shows as pending and the offline state is visible → the server is
//! started again → the renewal is accepted and the new due date shown
//! without a restart; place a hold from a catalogue search; register for an
//! event; switch the language to English and back. Then the same journey's
//! steps with the keyboard only, axe-core on every screen in both
//! languages, and screenshots into `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::bench::target_dir;
use crate::webdriver::{Session, keys};

const AXE_VERSION: &str = "4.10.3";
const LONG: Duration = Duration::from_secs(90);
const SHORT: Duration = Duration::from_secs(20);

/// Kills the child when dropped, so a failed step leaves nothing running.
/// A child process killed when dropped.
pub(crate) struct Proc(pub(crate) Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// tauri-driver in its own process group, killed as a group when dropped:
/// its WebKitWebDriver and the apps that one started do not outlive the run.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.0.id();
        if pgid > 1 {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pgid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) fn wait_port(port: u16, child: &mut Child, what: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(120) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(s) = child.try_wait()? {
            bail!("{what} exited: {s}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{what} did not listen on {port} within 120 s")
}

fn start_server(data: &Path, port: u16) -> anyhow::Result<Proc> {
    let mut child = Command::new(target_dir().join("release/pustaka-sync"))
        .args(["demo", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting pustaka-sync demo")?;
    wait_port(port, &mut child, "pustaka-sync")?;
    Ok(Proc(child))
}

/// Xvfb on a free display unless one is already there. Xvfb picks the
/// display itself (`-displayfd`), so stale sockets and lock files left by a
/// killed run do not matter.
fn display() -> anyhow::Result<(String, Option<Proc>)> {
    use std::io::BufRead;
    if let Ok(d) = std::env::var("DISPLAY")
        && !d.is_empty()
    {
        return Ok((d, None));
    }
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x1000x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting Xvfb (apt-get install xvfb)")?;
    let out = child.stdout.take().context("Xvfb stdout")?;
    let p = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .context("Xvfb did not start within 20 s")?;
    let n: u32 = line
        .trim()
        .parse()
        .with_context(|| format!("Xvfb printed `{}` for its display", line.trim()))?;
    Ok((format!(":{n}"), Some(p)))
}

/// axe-core from npm, cached outside the clone.
pub(crate) fn axe_source() -> anyhow::Result<String> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let dir = PathBuf::from(home).join(format!(".cache/pustaka/axe-core-{AXE_VERSION}"));
    let file = dir.join("package/axe.min.js");
    if !file.exists() {
        std::fs::create_dir_all(&dir)?;
        crate::run_in(
            &dir,
            "npm",
            &["pack", &format!("axe-core@{AXE_VERSION}"), "--silent"],
        )?;
        crate::run_in(
            &dir,
            "tar",
            &["xzf", &format!("axe-core-{AXE_VERSION}.tgz")],
        )?;
    }
    Ok(std::fs::read_to_string(file)?)
}

pub fn tauri_driver() -> anyhow::Result<PathBuf> {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let bin = PathBuf::from(home).join(".cargo/bin/tauri-driver");
    if !bin.exists() {
        crate::run("cargo", &["install", "tauri-driver@2.1.0", "--locked"])?;
    }
    Ok(bin)
}

pub struct Rig {
    pub dir: tempfile::TempDir,
    pub port: u16,
    server: Option<Proc>,
    _display: Option<Proc>,
    _driver: Group,
    pub driver_url: String,
    pub display: String,
    /// A private D-Bus session bus (single instance speaks over it).
    pub bus: String,
    _bus: Proc,
}

/// A private D-Bus session bus: `dbus-daemon --session`, its address.
fn session_bus() -> anyhow::Result<(String, Proc)> {
    use std::io::BufRead;
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting dbus-daemon (apt-get install dbus)")?;
    let out = child.stdout.take().context("dbus-daemon stdout")?;
    let proc = Proc(child);
    let mut line = String::new();
    std::io::BufReader::new(out).read_line(&mut line)?;
    let addr = line.trim().to_string();
    anyhow::ensure!(addr.starts_with("unix:"), "dbus-daemon printed `{addr}`");
    Ok((addr, proc))
}

impl Rig {
    /// Server, display and tauri-driver, with the app's data in a fresh dir.
    pub fn start(app_env: &[(&str, String)]) -> anyhow::Result<Rig> {
        Rig::start_in(tempfile::tempdir()?, app_env)
    }

    /// As [`Rig::start`], with a prepared directory (`server/`, `app/`).
    pub fn start_in(dir: tempfile::TempDir, app_env: &[(&str, String)]) -> anyhow::Result<Rig> {
        let port = free_port()?;
        let server = start_server(&dir.path().join("server"), port)?;
        let (disp, xvfb) = display()?;
        let (bus, bus_proc) = session_bus()?;
        let dport = free_port()?;
        let nport = free_port()?;
        let mut cmd = Command::new(tauri_driver()?);
        cmd.args([
            "--port",
            &dport.to_string(),
            "--native-port",
            &nport.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .env("DISPLAY", &disp)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus)
        .env("PUSTAKA_DATA_DIR", dir.path().join("app"))
        .env("PUSTAKA_SERVER", format!("http://127.0.0.1:{port}"))
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in app_env {
            cmd.env(k, v);
        }
        let mut child = {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0)
        }
        .spawn()
        .context("starting tauri-driver")?;
        wait_port(dport, &mut child, "tauri-driver")?;
        // tauri-driver proxies to WebKitWebDriver: wait for it too.
        wait_port(nport, &mut child, "WebKitWebDriver")?;
        Ok(Rig {
            dir,
            port,
            server: Some(server),
            _display: xvfb,
            _driver: Group(child),
            driver_url: format!("http://127.0.0.1:{dport}"),
            display: disp,
            bus,
            _bus: bus_proc,
        })
    }

    pub fn stop_server(&mut self) {
        // Dropping kills it (SIGKILL: an outage, not a polite shutdown).
        self.server = None;
    }

    pub fn start_server(&mut self) -> anyhow::Result<()> {
        self.server = Some(start_server(&self.dir.path().join("server"), self.port)?);
        Ok(())
    }

    pub async fn session(&self) -> anyhow::Result<Session> {
        self.session_of(&target_dir().join("debug/pustaka")).await
    }

    /// A session on a given build of the app (the start-up bench uses the
    /// release build).
    pub async fn session_of(&self, app: &std::path::Path) -> anyhow::Result<Session> {
        self.session_with(app, &[]).await
    }

    /// A session on the app started with command-line arguments.
    pub async fn session_with(
        &self,
        app: &std::path::Path,
        args: &[String],
    ) -> anyhow::Result<Session> {
        Session::new(
            &self.driver_url,
            json!({ "alwaysMatch": { "tauri:options": { "application": app, "args": args } } }),
        )
        .await
    }
}

/// Builds what the run needs: the UI, the desktop app with it embedded,
/// the server.
pub fn build() -> anyhow::Result<()> {
    crate::ui()?;
    crate::run(
        "cargo",
        &[
            "build",
            "-p",
            "pustaka-desktop",
            "--features",
            "custom-protocol",
        ],
    )?;
    crate::run("cargo", &["build", "--release", "-p", "pustaka-sync"])?;
    Ok(())
}

struct Journey {
    s: Session,
    axe: String,
    shots: PathBuf,
    display: String,
    a11y_failures: Vec<String>,
    screens_checked: usize,
    /// The title held in the mouse run (the keyboard run cancels it).
    mouse_hold: Option<String>,
}

const SCREENS: [(&str, &str, &str); 11] = [
    ("home", "#nav-home", ".screen.home"),
    // Reached from the home screen's "open surveys" link.
    ("surveys", "#home-surveys", ".screen.surveys"),
    ("faq", "#nav-faq", ".screen.faq"),
    ("loans", "#nav-loans", ".screen.loans"),
    ("holds", "#nav-holds", ".screen.holds"),
    ("catalogue", "#nav-catalogue", ".screen.catalogue"),
    ("lists", "#nav-lists", ".screen.lists"),
    ("events", "#nav-events", ".screen.events"),
    ("card", "#nav-card", ".screen.card-screen"),
    ("household", "#nav-household", ".screen.household"),
    ("settings", "#nav-settings", ".screen.settings"),
];

/// A demo copy's shelf label as `pustaka-sync labels` prints it, rendered
/// to PNG by librsvg as a phone would photograph the printed sheet.
fn shelf_label_png() -> anyhow::Result<String> {
    use pustaka_sync::labels::{Label, payload, svg_pages};
    let dir = std::env::temp_dir().join("pustaka-e2e-label");
    std::fs::create_dir_all(&dir)?;
    let label = Label {
        payload: payload(None, "T0001", Some("B00011")),
        title: "Bumi Manusia".into(),
        call_number: "899.221 TOE b".into(),
        branch: "Perpustakaan Pusat".into(),
    };
    let svg = dir.join("label.svg");
    let png = dir.join("label.png");
    let page = svg_pages(&[label])?.into_iter().next().context("a page")?;
    std::fs::write(&svg, page)?;
    let status = Command::new("rsvg-convert")
        .args(["--dpi-x", "150", "--dpi-y", "150", "-b", "white", "-o"])
        .arg(&png)
        .arg(&svg)
        .status()
        .context("rsvg-convert (librsvg2-bin)")?;
    anyhow::ensure!(status.success(), "rsvg-convert failed: {status}");
    Ok(png.display().to_string())
}

/// axe-core's violations on the page `s` shows (injected through the
/// WebDriver: the page's CSP forbids inline scripts).
pub(crate) async fn axe_check(
    s: &Session,
    axe: &str,
    screen: &str,
    failures: &mut Vec<String>,
) -> anyhow::Result<()> {
    let loaded = s
        .exec("return typeof axe !== 'undefined';", json!([]))
        .await?;
    if loaded.as_bool() != Some(true) {
        let kind = s
            .exec(&format!("{axe}\n;return typeof window.axe;"), json!([]))
            .await?;
        anyhow::ensure!(kind == "object", "axe-core did not load: {kind}");
    }
    let r = s
        .exec_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(JSON.stringify(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 3) })))))
               .catch(e => done('error: ' + e));",
            json!([]),
        )
        .await?;
    let text = r.as_str().unwrap_or_default();
    let violations: Vec<Value> =
        serde_json::from_str(text).with_context(|| format!("axe on {screen}: {text}"))?;
    for v in violations {
        let impact = v["impact"].as_str().unwrap_or_default();
        if impact == "serious" || impact == "critical" {
            failures.push(format!(
                "{screen}: {impact} {} ({}) at {}",
                v["id"], v["help"], v["nodes"]
            ));
        } else {
            eprintln!("  axe {screen}: {impact} {} ({})", v["id"], v["help"]);
        }
    }
    Ok(())
}

impl Journey {
    async fn visit(&self, nav: &str, ready: &str) -> anyhow::Result<()> {
        self.s.click(nav).await?;
        self.s.wait_for(ready, LONG).await?;
        Ok(())
    }

    /// axe-core in the page: 0 serious or critical violations allowed.
    async fn audit(&mut self, screen: &str) -> anyhow::Result<()> {
        axe_check(&self.s, &self.axe, screen, &mut self.a11y_failures).await?;
        self.screens_checked += 1;
        Ok(())
    }

    /// A PNG of the app's window, taken from the X display (WebKitWebDriver's
    /// screenshot command hangs without a compositor).
    async fn shot(&self, name: &str) -> anyhow::Result<()> {
        let r = self
            .s
            .exec(
                "return [window.screenX, window.screenY, window.innerWidth, window.innerHeight];",
                json!([]),
            )
            .await?;
        let n: Vec<i64> = r
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let [x, y, w, h] = n[..] else {
            bail!("window geometry: {r}")
        };
        let file = self.shots.join(format!("{name}.png"));
        let status = Command::new("import")
            .args([
                "-display",
                &self.display,
                "-window",
                "root",
                "-crop",
                &format!("{w}x{h}+{x}+{y}"),
                "+repage",
            ])
            .arg(format!("png:{}", file.display()))
            .status()
            .context("import (imagemagick)")?;
        anyhow::ensure!(status.success(), "import failed: {status}");
        Ok(())
    }

    /// Every screen: axe, and a screenshot named `<lang>-<screen>`.
    async fn tour(&mut self, lang: &str) -> anyhow::Result<()> {
        for (name, nav, ready) in SCREENS {
            self.visit(nav, ready).await?;
            // Let lists settle (the page refetches after every sync).
            tokio::time::sleep(Duration::from_millis(400)).await;
            if name == "catalogue" {
                self.s.type_into("#search-q", "pramoedya").await?;
                self.s.click("#search-go").await?;
                self.s.wait_for("#search-results", LONG).await?;
            }
            if name == "lists" {
                // A title from the catalogue onto "want to read", a new
                // list, and the first list shared as a QR code.
                self.visit("#nav-catalogue", ".screen.catalogue").await?;
                self.s.type_into("#search-q", "pramoedya").await?;
                self.s.click("#search-go").await?;
                self.s.click("#search-results .title-link").await?;
                self.s.wait_for(".screen.title-page", LONG).await?;
                self.s.click("#add-to-list").await?;
                self.s.wait_for("#on-lists", LONG).await?;
                self.visit("#nav-lists", ".screen.lists").await?;
                let name = if lang == "en" { "Holiday" } else { "Liburan" };
                self.s.type_into("#new-list-name", name).await?;
                self.s.click("#new-list").await?;
                self.s
                    .wait_until(
                        "the new list",
                        &format!("return document.body.innerText.includes('{name}');"),
                        LONG,
                    )
                    .await?;
                self.s.click("#list-want .share-list").await?;
                self.s.wait_for("#list-want .share svg", LONG).await?;
            }
            if name == "faq" {
                // Answered on the device, in the page's language.
                let q = if lang == "en" {
                    "how much is the late fine"
                } else {
                    "berapa denda keterlambatan"
                };
                self.s.type_into("#faq-query", q).await?;
                self.s.wait_for("#faq-best", LONG).await?;
            }
            self.audit(&format!("{lang}/{name}")).await?;
            self.shot(&format!("{lang}-{name}")).await?;
        }
        // The shelf scanner, fed a photo of a copy's label (the webview
        // has no camera here): pustaka-scan reads it in Rust and the label
        // opens its title, with self-checkout offered.
        self.s
            .exec(
                "window.__pustakaErrors = []; window.addEventListener('error', e => window.__pustakaErrors.push(String(e.message))); window.addEventListener('unhandledrejection', e => window.__pustakaErrors.push(String(e.reason))); return true;",
                json!([]),
            )
            .await?;
        self.visit("#nav-scan", ".screen.scan-screen").await?;
        let label = shelf_label_png()?;
        self.s.upload("#scan-file", &label).await?;
        self.s.wait_for("#scan-result .scan-title", LONG).await?;
        self.audit(&format!("{lang}/scan")).await?;
        self.shot(&format!("{lang}-scan")).await?;
        // A title page.
        self.visit("#nav-catalogue", ".screen.catalogue").await?;
        self.s.type_into("#search-q", "pramoedya").await?;
        self.s.click("#search-go").await?;
        self.s.click("#search-results .title-link").await?;
        self.s.wait_for(".screen.title-page", LONG).await?;
        self.audit(&format!("{lang}/title")).await?;
        self.shot(&format!("{lang}-title")).await?;
        Ok(())
    }

    async fn set_language(&self, lang: &str, loans_label: &str) -> anyhow::Result<()> {
        self.visit("#nav-settings", ".screen.settings").await?;
        self.s
            .click(&format!("#language option[value='{lang}']"))
            .await?;
        self.s
            .wait_until(
                &format!("menu in {lang}"),
                &format!("return document.querySelector('#nav-loans')?.innerText.trim() === '{loans_label}';"),
                SHORT,
            )
            .await
    }

    /// Tabs until `css` has the focus (bounded), then presses `key`.
    async fn kb(&self, css: &str, key: &str) -> anyhow::Result<()> {
        let check = format!(
            "const a = document.activeElement; return a && a.matches({}) ? true : (a ? a.tagName + '#' + a.id + '.' + a.className : 'none');",
            serde_json::to_string(css)?
        );
        let mut trail: Vec<String> = vec![];
        for _ in 0..200 {
            let v = self.s.exec(&check, json!([])).await?;
            if v.as_bool() == Some(true) {
                if !key.is_empty() {
                    self.s.keys(key).await?;
                }
                return Ok(());
            }
            let here = v.as_str().unwrap_or_default().to_string();
            if trail.last() != Some(&here) {
                trail.push(here);
            }
            self.s.keys(keys::TAB).await?;
        }
        bail!(
            "`{css}` cannot be reached with the Tab key; focus went through: {}",
            trail
                .iter()
                .take(60)
                .cloned()
                .collect::<Vec<_>>()
                .join(" → ")
        )
    }
}

/// Titles on the patron's loans and holds (a new hold must avoid them).
async fn account_titles(j: &Journey) -> anyhow::Result<Vec<String>> {
    let mut out = vec![];
    for (nav, ready, css) in [
        ("#nav-loans", ".screen.loans", ".loan .card-title"),
        (
            "#nav-holds",
            ".screen.holds",
            "#hold-list .hold .card-title",
        ),
    ] {
        j.visit(nav, ready).await?;
        let v =
            j.s.exec(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);",
                json!([css]),
            )
            .await?;
        out.extend(
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string)),
        );
    }
    Ok(out)
}

/// The id of the first event card with a Register button the patron has
/// not used yet.
const OPEN_EVENT: &str = "const b = Array.from(document.querySelectorAll('button.register')).find(b => !b.closest('li').querySelector('.registration')); return b ? b.closest('li').id : null;";

/// A script that is true once the holds list shows `title`.
/// A script expression: is a hold on `title` listed?
fn has_hold(title: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll('#hold-list .hold .card-title')).some(h => h.innerText === {})",
        js_str(title)
    )
}

fn hold_listed(title: &str) -> String {
    format!("return {};", has_hold(title))
}

fn js_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// A title of the demo library whose copies are all out, so a hold is
/// possible (and not already on the patron's account).
async fn holdable_title(port: u16, avoid: &[String]) -> anyhow::Result<(String, String)> {
    let http = reqwest::Client::new();
    for q in [
        "fiksi", "anak", "sejarah", "fiction", "puisi", "novel", "cerita",
    ] {
        let hits: Value = http
            .get(format!("http://127.0.0.1:{port}/v1/catalog/search"))
            .query(&[("q", q), ("limit", "100")])
            .send()
            .await?
            .json()
            .await?;
        for h in hits["hits"].as_array().into_iter().flatten() {
            let (mut avail, mut total) = (0, 0);
            for a in h["availability"].as_array().into_iter().flatten() {
                avail += a["available"].as_u64().unwrap_or(0);
                total += a["total"].as_u64().unwrap_or(0);
            }
            let title = h["title"].as_str().unwrap_or_default().to_string();
            if avail == 0 && total > 0 && h["item_type"] == "book" && !avoid.contains(&title) {
                return Ok((h["id"].as_str().unwrap_or_default().to_string(), title));
            }
        }
    }
    bail!("no title with every copy out in the demo library")
}

pub async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&shots)?;
    let mut rig = Rig::start(&[])?;
    let s = rig.session().await?;
    let mut j = Journey {
        s,
        axe: axe_source()?,
        shots,
        display: rig.display.clone(),
        a11y_failures: vec![],
        screens_checked: 0,
        mouse_hold: None,
    };
    let r = journey(&mut j, &mut rig).await;
    let _ = j.s.quit().await;
    r?;
    deep_links(&rig).await?;
    if !j.a11y_failures.is_empty() {
        bail!(
            "axe found serious or critical violations:\n{}",
            j.a11y_failures.join("\n")
        );
    }
    eprintln!(
        "e2e: journey passed (mouse and keyboard), axe clean on {} screens, screenshots in docs/screenshots/, {:.1} s",
        j.screens_checked,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn journey(j: &mut Journey, rig: &mut Rig) -> anyhow::Result<()> {
    let s = &j.s;
    // ---- sign in ----------------------------------------------------------
    s.wait_for("#sign-in", LONG).await?;
    j.audit("id/signin").await?;
    j.shot("id-signin").await?;
    j.s.click(".lang-switch button[lang='en']").await?;
    j.s.wait_until(
        "sign-in in English",
        "return document.querySelector('#sign-in').innerText.trim() === 'Sign in';",
        SHORT,
    )
    .await?;
    j.audit("en/signin").await?;
    j.shot("en-signin").await?;
    // A wrong PIN is refused with a clear message.
    j.s.type_into("#card", "1001").await?;
    j.s.type_into("#pin", "0000").await?;
    j.s.click("#sign-in").await?;
    j.s.wait_until(
        "wrong PIN message",
        "return (document.querySelector('#signin-error')?.innerText || '').includes('PIN');",
        SHORT,
    )
    .await?;
    j.s.click(".lang-switch button[lang='id']").await?;
    j.s.type_into("#pin", "1234").await?;
    j.s.click("#sign-in").await?;
    eprintln!("e2e: signed in");

    // ---- loans listed -----------------------------------------------------
    j.visit("#nav-loans", "#loan-list .loan").await?;
    let copy = j
        .s
        .exec("const b = document.querySelector('.loan button.renew:not([disabled])'); return b ? b.dataset.copy : null;", json!([]))
        .await?;
    let copy = copy
        .as_str()
        .context("no renewable loan for card 1001 in the demo")?
        .to_string();
    let due_of =
        format!("return document.querySelector('#loan-{copy} .due-date')?.dataset.due || null;");
    let before = j.s.exec(&due_of, json!([])).await?;
    eprintln!("e2e: loans listed; renewing {copy} (due {before})");

    // ---- offline renewal --------------------------------------------------
    rig.stop_server();
    j.s.click(&format!("button.renew[data-copy='{copy}']"))
        .await?;
    j.s.wait_for(&format!("#pending-{copy}"), SHORT).await?;
    j.s.wait_for("#online-state[data-online='false']", LONG)
        .await?;
    j.s.wait_for("#pending-count", SHORT).await?;
    j.s.wait_for("#offline-banner", SHORT).await?;
    j.shot("id-loans-offline").await?;
    eprintln!("e2e: offline, renewal pending");

    rig.start_server()?;
    j.s
        .wait_until(
            "renewal accepted after the server came back",
            &format!(
                "const d = document.querySelector('#loan-{copy} .due-date'); return !document.querySelector('#pending-{copy}') && !!d && d.dataset.due !== {};",
                js_str(before.as_str().unwrap_or_default())
            ),
            LONG,
        )
        .await?;
    j.s.wait_for("#online-state[data-online='true']", LONG)
        .await?;
    let after = j.s.exec(&due_of, json!([])).await?;
    eprintln!("e2e: back online; {copy} now due {after}");

    // ---- hold from a catalogue search -------------------------------------
    let held = account_titles(j).await?;
    let (title_id, title) = holdable_title(rig.port, &held).await?;
    j.visit("#nav-catalogue", ".screen.catalogue").await?;
    j.s.type_into("#search-q", &title).await?;
    j.s.click("#search-go").await?;
    j.s.click(&format!(
        "#search-results [data-title='{title_id}'] .title-link"
    ))
    .await?;
    j.s.click("#place-hold").await?;
    j.visit("#nav-holds", ".screen.holds").await?;
    j.s.wait_until("hold listed", &hold_listed(&title), LONG)
        .await?;
    eprintln!("e2e: hold placed on {title}");
    j.mouse_hold = Some(title);

    // ---- register for an event --------------------------------------------
    j.visit("#nav-events", ".screen.events").await?;
    let event = j.s.exec(OPEN_EVENT, json!([])).await?;
    let event = event
        .as_str()
        .context("no event open for registration")?
        .to_string();
    j.s.click(&format!("#{event} button.register")).await?;
    j.s.wait_for(&format!("#{event} .registration"), LONG)
        .await?;
    eprintln!("e2e: registered for {event}");

    // ---- language: English and back, every screen in both ------------------
    j.set_language("en", "Loans").await?;
    j.tour("en").await?;
    j.set_language("id", "Pinjaman").await?;
    j.tour("id").await?;
    eprintln!("e2e: both languages toured");

    keyboard_journey(j, rig).await
}

/// `pustaka://title/<id>` starting the app opens that title; a second
/// launch hands its link to the running app and exits (single instance).
async fn deep_links(rig: &Rig) -> anyhow::Result<()> {
    let app = target_dir().join("debug/pustaka");
    let s = rig
        .session_with(&app, &["pustaka://title/T0001".to_string()])
        .await?;
    let r = async {
        s.wait_for(".title-page[data-title='T0001']", LONG).await?;
        eprintln!("e2e: pustaka://title/T0001 opened the app on that title");
        let mut second = Command::new(&app)
            .arg("pustaka://title/T0002")
            .env("DISPLAY", &rig.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &rig.bus)
            .env("PUSTAKA_DATA_DIR", rig.dir.path().join("app"))
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting a second instance")?;
        let t = Instant::now();
        let exited = loop {
            if let Some(st) = second.try_wait()? {
                anyhow::ensure!(st.success(), "the second launch failed: {st}");
                break Some(st);
            }
            if t.elapsed() > Duration::from_secs(30) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        if exited.is_none() {
            let _ = second.kill();
            let _ = second.wait();
            bail!("a second launch kept running: single instance failed");
        }
        eprintln!("e2e: a second launch with pustaka://title/T0002 handed over to the running app and exited (single instance)");
        // The running app shows the handed-over title.
        if let Err(e) = s.wait_for(".title-page[data-title='T0002']", LONG).await {
            let seen = s
                .exec(
                    "return [location.href, (document.querySelector('.app')||{dataset:{}}).dataset.link || '', (document.querySelector('.title-page')||{dataset:{}}).dataset.title || ''].join(' | ');",
                    json!([]),
                )
                .await
                .unwrap_or_default();
            let raf = s
                .exec_async(
                    "const done = arguments[arguments.length - 1]; let f = false; requestAnimationFrame(() => { f = true; done('raf ran'); }); setTimeout(() => { if (!f) done('raf blocked'); }, 1000);",
                    json!([]),
                )
                .await
                .unwrap_or_default();
            let vis = s
                .exec("return document.visibilityState + ' focus=' + document.hasFocus() + ' panic=' + (document.body.dataset.panic || 'none');", json!([]))
                .await
                .unwrap_or_default();
            bail!("the running app did not open T0002; page: {seen}; {raf}; {vis}; ({})", e.to_string().chars().take(200).collect::<String>());
        }
        eprintln!("e2e: the running app moved to pustaka://title/T0002");
        anyhow::Ok(())
    }
    .await;
    let _ = s.quit().await;
    r
}

/// The same steps with the keyboard only: Tab to reach, Enter/Space to act.
async fn keyboard_journey(j: &mut Journey, rig: &mut Rig) -> anyhow::Result<()> {
    // Sign out and in again.
    j.visit("#nav-settings", ".screen.settings").await?;
    j.s.exec(
        "document.activeElement && document.activeElement.blur(); document.body.focus();",
        json!([]),
    )
    .await?;
    j.kb("#sign-out", keys::ENTER).await?;
    j.s.wait_for("#sign-in", LONG).await?;
    j.kb("#card", "1001").await?;
    j.kb("#pin", "1234").await?;
    j.s.keys(keys::ENTER).await?;
    j.s.wait_for("#nav-loans", LONG).await?;
    // Loans, then renew everything renewable.
    j.kb("#nav-loans", keys::ENTER).await?;
    j.s.wait_for("#loan-list .loan", LONG).await?;
    rig.stop_server();
    j.kb("#renew-all", keys::ENTER).await?;
    j.s.wait_for("#online-state[data-online='false']", LONG)
        .await?;
    j.s.wait_for(".loan .badge.pending", SHORT).await?;
    rig.start_server()?;
    j.s
        .wait_until("renew-all decided", "return !document.querySelector('.loan .badge.pending') && !!document.querySelector('#h-results');", LONG)
        .await?;
    // The hold placed with the mouse is cancelled with the keyboard (the
    // patron is at the hold limit), then a new one is placed.
    if let Some(title) = j.mouse_hold.clone() {
        j.kb("#nav-holds", keys::ENTER).await?;
        j.s.wait_until("hold listed", &hold_listed(&title), LONG)
            .await?;
        let id = j
            .s
            .exec(
                &format!(
                    "const h = Array.from(document.querySelectorAll('#hold-list .hold')).find(h => h.querySelector('.card-title').innerText === {}); return h ? h.id : null;",
                    js_str(&title)
                ),
                json!([]),
            )
            .await?;
        let id = id.as_str().context("the mouse run's hold")?.to_string();
        j.kb(&format!("#{id} button.danger"), keys::ENTER).await?;
        j.s.wait_until(
            "hold cancelled (keyboard)",
            &format!("return !{};", has_hold(&title)),
            LONG,
        )
        .await?;
        eprintln!("e2e: keyboard cancelled the hold on {title}");
    }
    // Catalogue search and a hold.
    let avoid = account_titles(j).await?;
    let (title_id, title) = holdable_title(rig.port, &avoid).await?;
    j.kb("#nav-catalogue", keys::ENTER).await?;
    j.s.wait_for(".screen.catalogue", LONG).await?;
    j.kb("#search-q", &format!("{title}{}", keys::ENTER))
        .await?;
    j.s.wait_for(&format!("#search-results [data-title='{title_id}']"), LONG)
        .await?;
    j.kb(
        &format!("#search-results [data-title='{title_id}'] .title-link"),
        keys::ENTER,
    )
    .await?;
    j.s.wait_for("#place-hold", LONG).await?;
    j.kb("#place-hold", keys::ENTER).await?;
    j.s.wait_for("#notice.ok, #notice.error", SHORT).await?;
    if j.s.find("#notice.error").await?.is_some() {
        bail!(
            "the keyboard hold was refused: {}",
            j.s.text_of("#notice").await?
        );
    }
    j.kb("#nav-holds", keys::ENTER).await?;
    j.s.wait_until("hold listed (keyboard)", &hold_listed(&title), LONG)
        .await?;
    eprintln!("e2e: keyboard hold placed on {title}");
    // An event.
    j.kb("#nav-events", keys::ENTER).await?;
    j.s.wait_for(".screen.events", LONG).await?;
    let event = j.s.exec(OPEN_EVENT, json!([])).await?;
    let event = event
        .as_str()
        .context("no event open for registration (keyboard)")?
        .to_string();
    j.kb(&format!("#{event} button.register"), keys::ENTER)
        .await?;
    j.s.wait_for(&format!("#{event} .registration"), LONG)
        .await?;
    // Language with the arrow keys, and back.
    j.kb("#nav-settings", keys::ENTER).await?;
    j.s.wait_for(".screen.settings", LONG).await?;
    j.kb("#language", keys::DOWN).await?;
    j.s.wait_until(
        "English by keyboard",
        "return document.querySelector('#nav-loans')?.innerText.trim() === 'Loans';",
        SHORT,
    )
    .await?;
    j.kb("#language", keys::UP).await?;
    j.s.wait_until(
        "Indonesian by keyboard",
        "return document.querySelector('#nav-loans')?.innerText.trim() === 'Pinjaman';",
        SHORT,
    )
    .await?;
    // E-mail reminders and the calendar address, kept by the library.
    j.kb("#email-address", "").await?;
    j.s.keys("siti@example.id").await?;
    j.s.keys(keys::ENTER).await?;
    j.s.wait_until(
        "e-mail reminders on",
        "return (document.querySelector('#email-status')?.innerText || '').includes('siti@example.id') && !!document.querySelector('#email-stop');",
        LONG,
    )
    .await?;
    j.kb("#feed-new", keys::ENTER).await?;
    j.s.wait_until(
        "calendar address made",
        "return /\\/v1\\/calendar\\/patron\\/[0-9a-f]{40}\\.ics$/.test(document.querySelector('#feed-url')?.value || '');",
        LONG,
    )
    .await?;
    j.audit("id/settings-links").await?;
    j.shot("id-settings").await?;
    eprintln!("e2e: keyboard-only journey passed");
    Ok(())
}
