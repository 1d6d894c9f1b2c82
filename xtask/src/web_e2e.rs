//! `cargo xtask web-e2e`: the website in headless Chromium (Debian's
//! `chromium` + `chromedriver`) against a real `pustaka-sync demo` on
//! 127.0.0.1 serving the built UI — the same Dioxus app, over its HTTP
//! transport (no Tauri).
//!
//! Journey, at a phone width and at a desktop width: the catalogue (search,
//! open a title), the events, the FAQ assistant, sign in, the loans. axe-core
//! on every screen (0 serious or critical violations), a screenshot of each
//! into `docs/screenshots/web-<width>-<screen>.png`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::bench::target_dir;
use crate::e2e::{Proc, axe_check, axe_source, free_port, wait_port};
use crate::webdriver::Session;

const WAIT: Duration = Duration::from_secs(60);

/// (name, width, height): a common phone and a laptop.
const SIZES: [(&str, u32, u32); 2] = [("phone", 390, 844), ("desktop", 1280, 900)];

fn chromedriver() -> anyhow::Result<PathBuf> {
    for p in ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"] {
        if std::path::Path::new(p).exists() {
            return Ok(PathBuf::from(p));
        }
    }
    bail!("chromedriver is missing: apt-get install chromium chromium-driver")
}

pub fn build() -> anyhow::Result<()> {
    crate::ui()?;
    crate::run("cargo", &["build", "--release", "-p", "pustaka-sync"])
}

struct Run {
    s: Session,
    axe: String,
    base: String,
    shots: PathBuf,
    prefix: &'static str,
    failures: Vec<String>,
    checked: usize,
}

impl Run {
    /// axe, then a screenshot named `web-<size>-<screen>`.
    async fn check(&mut self, screen: &str) -> anyhow::Result<()> {
        // Let lists settle and fonts render.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let panic = self
            .s
            .exec(
                "return document.body.getAttribute('data-panic');",
                json!([]),
            )
            .await?;
        if let Some(p) = panic.as_str() {
            bail!("the page panicked on {screen}: {p}");
        }
        let name = format!("web-{}-{screen}", self.prefix);
        axe_check(&self.s, &self.axe, &name, &mut self.failures).await?;
        self.checked += 1;
        let png = self.s.screenshot_png().await?;
        std::fs::write(self.shots.join(format!("{name}.png")), png)?;
        Ok(())
    }

    async fn open(&self, path: &str, ready: &str) -> anyhow::Result<()> {
        self.s.navigate(&format!("{}{path}", self.base)).await?;
        self.s.wait_for(ready, WAIT).await?;
        Ok(())
    }

    async fn journey(&mut self, width: u32) -> anyhow::Result<()> {
        self.open("/", "body").await?;
        let seen = self.s.exec("return window.innerWidth;", json!([])).await?;
        anyhow::ensure!(
            seen.as_u64() == Some(u64::from(width)),
            "the page is {seen} px wide, not {width}"
        );
        // Anyone: the catalogue, a title, the events, the FAQ.
        self.open("/catalogue", ".screen.catalogue").await?;
        self.s.type_into("#search-q", "pramoedya").await?;
        self.s.click("#search-go").await?;
        self.s
            .wait_for("#search-results .title-link", WAIT)
            .await
            .context("search results")?;
        self.check("catalogue").await?;
        self.s.click("#search-results .title-link").await?;
        self.s.wait_for(".screen.title-page", WAIT).await?;
        let title = self.s.text_of(".screen.title-page h1").await?;
        anyhow::ensure!(!title.trim().is_empty(), "the title page has no heading");
        self.check("title").await?;
        // The demo's reading circle: Bumi Manusia is often borrowed with
        // the next books of the quartet.
        self.open(
            "/title/T0001",
            ".screen.title-page .borrowed-together .title-link",
        )
        .await
        .context("borrowed together on T0001")?;
        self.check("title-together").await?;

        self.s.click("#nav-events").await?;
        self.s.wait_for(".screen.events .card", WAIT).await?;
        self.check("events").await?;

        self.s.click("#nav-faq").await?;
        self.s.wait_for(".screen.faq", WAIT).await?;
        self.s
            .type_into("#faq-query", "berapa denda keterlambatan")
            .await?;
        self.s.wait_for("#faq-best", WAIT).await?;
        self.check("faq").await?;

        // Before sign-in, the account screens are not in the navigation.
        anyhow::ensure!(
            self.s.find("#nav-loans").await?.is_none(),
            "the loans link shows before sign-in"
        );

        // Sign in from Home (the library is the page's own server).
        self.s.click("#nav-home").await?;
        self.s.wait_for("form.signin-form", WAIT).await?;
        anyhow::ensure!(
            self.s.find("#server").await?.is_none(),
            "the website asks for a server address"
        );
        self.check("signin").await?;
        self.s
            .type_into("#card", pustaka_sync::demo::DEMO_CARD)
            .await?;
        self.s.type_into("#pin", "0000").await?;
        self.s.click("#sign-in").await?;
        self.s.wait_for("#signin-error", WAIT).await?;
        self.s
            .type_into("#pin", pustaka_sync::demo::DEMO_PIN)
            .await?;
        self.s.click("#sign-in").await?;
        self.s.wait_for(".screen.home", WAIT).await?;

        // The patron's loans, from the library's copy of their documents.
        self.s.click("#nav-loans").await?;
        self.s.wait_for(".screen.loans li.loan", WAIT).await?;
        self.check("loans").await?;

        // A reload keeps the sign-in (the token in local storage), and a
        // deep link opens its screen.
        self.open("/loans", ".screen.loans li.loan").await?;
        Ok(())
    }
}

pub async fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dist = root.join("app/dist");
    anyhow::ensure!(
        dist.join("index.html").is_file(),
        "no built UI in {}",
        dist.display()
    );
    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots)?;
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let mut child = Command::new(target_dir().join("release/pustaka-sync"))
        .args(["demo", "--data"])
        .arg(data.path())
        .args(["--listen", &format!("127.0.0.1:{port}"), "--web"])
        .arg(&dist)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting pustaka-sync demo")?;
    wait_port(port, &mut child, "pustaka-sync")?;
    let _server = Proc(child);

    let driver_port = free_port()?;
    let mut driver = Command::new(chromedriver()?)
        .arg(format!("--port={driver_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting chromedriver")?;
    wait_port(driver_port, &mut driver, "chromedriver")?;
    let _driver = Proc(driver);
    let axe = axe_source()?;

    let mut failures = vec![];
    let mut checked = 0;
    for (prefix, w, h) in SIZES {
        let profile = tempfile::tempdir()?;
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            format!("--user-data-dir={}", profile.path().display()),
            "--lang=id".into(),
        ];
        let mut options = json!({ "binary": "/usr/bin/chromium" });
        if prefix == "phone" {
            // Headless windows are at least 500 px wide: a phone's viewport
            // is emulated (touch, its width and height).
            options["mobileEmulation"] = json!({ "deviceMetrics": { "width": w, "height": h, "pixelRatio": 2.0, "touch": true } });
        } else {
            args.push(format!("--window-size={w},{h}"));
        }
        options["args"] = json!(args);
        let s = Session::new(
            &format!("http://127.0.0.1:{driver_port}"),
            json!({ "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": options } }),
        )
        .await
        .context("a Chromium session")?;
        let mut r = Run {
            s,
            axe: axe.clone(),
            base: format!("http://127.0.0.1:{port}"),
            shots: shots.clone(),
            prefix,
            failures: vec![],
            checked: 0,
        };
        let result = r.journey(w).await;
        let _ = r.s.quit().await;
        result.with_context(|| format!("the {prefix} journey ({w}×{h})"))?;
        failures.append(&mut r.failures);
        checked += r.checked;
    }
    if !failures.is_empty() {
        bail!(
            "axe found serious or critical violations:\n{}",
            failures.join("\n")
        );
    }
    println!(
        "web-e2e: journey passed at phone and desktop widths, axe clean on {checked} screens, screenshots in docs/screenshots/web-*.png, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
