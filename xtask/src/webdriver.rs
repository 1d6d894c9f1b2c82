//! A small W3C WebDriver client (classic protocol; WebKitWebDriver has no
//! BiDi): sessions, elements, clicks, keys, scripts and screenshots.
//! Every wait is bounded.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub struct Session {
    http: reqwest::Client,
    base: String,
    id: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const DOWN: &str = "\u{E015}";
    pub const UP: &str = "\u{E013}";
}

impl Session {
    pub async fn new(base: &str, capabilities: Value) -> anyhow::Result<Session> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()?;
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&json!({ "capabilities": capabilities }))
            .send()
            .await?
            .json()
            .await?;
        let id = r["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session: {r}"))?
            .to_string();
        Ok(Session {
            http,
            base: base.to_string(),
            id,
        })
    }

    async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}/session/{}{}", self.base, self.id, path);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await?.json().await?;
        if let Some(err) = r["value"]["error"].as_str() {
            bail!("webdriver {path}: {err}: {}", r["value"]["message"]);
        }
        Ok(r["value"].clone())
    }

    pub async fn quit(&self) -> anyhow::Result<()> {
        let url = format!("{}/session/{}", self.base, self.id);
        self.http.delete(url).send().await?;
        Ok(())
    }

    pub async fn exec(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    pub async fn exec_async(&self, script: &str, args: Value) -> anyhow::Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    pub async fn find(&self, css: &str) -> anyhow::Result<Option<String>> {
        let r = self
            .cmd(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await?;
        Ok(r.as_array()
            .and_then(|a| a.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_string))
    }

    /// Waits until `css` matches, up to `timeout`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> anyhow::Result<String> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.find(css).await? {
                return Ok(e);
            }
            if start.elapsed() > timeout {
                let text = self.text_of("body").await.unwrap_or_default();
                // The UI leaves a panic's message on <body data-panic>.
                let where_ = self
                    .exec(
                        "return location.href + ' ' + (document.body.dataset.panic || '(no panic)') + ' ' + (window.__pustakaErrors || []).join(' | ');",
                        json!([]),
                    )
                    .await
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                bail!(
                    "`{css}` did not appear within {timeout:?}; at {where_}; page says: {}",
                    text.chars().take(600).collect::<String>()
                );
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits until a script returns true, up to `timeout`.
    pub async fn wait_until(
        &self,
        what: &str,
        script: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            if self.exec(script, json!([])).await?.as_bool() == Some(true) {
                return Ok(());
            }
            if start.elapsed() > timeout {
                let text = self.text_of("body").await.unwrap_or_default();
                bail!(
                    "{what}: not true within {timeout:?}; page says: {}",
                    text.chars().take(800).collect::<String>()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let e = self.wait_for(css, Duration::from_secs(20)).await?;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let e = self.wait_for(css, Duration::from_secs(20)).await?;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await?;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await?;
        Ok(())
    }

    /// Chooses a file in an `<input type=file>` (WebDriver sends its path).
    pub async fn upload(&self, css: &str, path: &str) -> anyhow::Result<()> {
        let e = self.wait_for(css, Duration::from_secs(20)).await?;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": path })),
        )
        .await?;
        Ok(())
    }

    /// Sends keys to whatever has the focus (keyboard-only use).
    pub async fn keys(&self, text: &str) -> anyhow::Result<()> {
        let active = self
            .cmd(reqwest::Method::GET, "/element/active", None)
            .await?;
        let e = active[ELEMENT]
            .as_str()
            .context("no active element")?
            .to_string();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await?;
        Ok(())
    }

    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        let v = self
            .exec(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                json!([css]),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Opens `url` in the current window.
    pub async fn navigate(&self, url: &str) -> anyhow::Result<()> {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await?;
        Ok(())
    }

    /// The page as a PNG (the driver's own screenshot: Chromium headless has
    /// no X window to grab).
    pub async fn screenshot_png(&self) -> anyhow::Result<Vec<u8>> {
        use base64::Engine;
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await?;
        let b64 = v.as_str().context("no screenshot data")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(b64)?)
    }
}
