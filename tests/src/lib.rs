//! Harness shared by the scenario tests: a real `pustaka-sync` on
//! 127.0.0.1 over a real SQLite file, a clock the test moves, headless
//! devices with their own SQLite files, and a raw sync client for the
//! tests that must send what an honest device never would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use automerge::AutoCommit;
use automerge::sync::State;
use pustaka_client::Device;
use pustaka_replica::sync as rsync;
use pustaka_replica::wire::{self, DocMessage, SyncRequest, SyncResponse};
use pustaka_sync::{Clock, ManualClock, Running, demo};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Monday 2 November 2026, 09:00 in Singkawang (UTC+7).
pub const START: i64 = 1_793_584_800_000;
pub const DAY: i64 = 86_400_000;
pub const ADMIN: &str = "test-admin-token";

pub struct Library {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub running: Option<Running>,
    pub url: String,
    pub http: reqwest::Client,
    /// A library system deciding circulation over SIP2, if any.
    pub sip2: Option<pustaka_sync::circulation::Sip2Config>,
    /// Where the library's data lives: SQLite in `dir`, or a schema of its
    /// own in the PostgreSQL server named by `PUSTAKA_TEST_POSTGRES`.
    pub database: pustaka_sync::Database,
    /// Server documents start a new epoch past this many changes (the
    /// server's default unless set; applies from the next (re)start).
    pub epoch_after: Option<usize>,
    /// The website's files, when the server also serves them.
    pub web: Option<std::path::PathBuf>,
}

/// The PostgreSQL server of the tests: `PUSTAKA_PG`, a key=value
/// connection string (`host=127.0.0.1 port=… user=postgres`) of a running
/// server, which `cargo xtask ci` and `cargo xtask test-postgres` start.
/// Missing, the test fails with what to do: it never passes by skipping.
pub fn pg_server() -> String {
    std::env::var("PUSTAKA_PG")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .expect(
            "PUSTAKA_PG is not set: run `cargo xtask test-postgres` (part of `cargo xtask ci`), \
             or set it to a key=value connection string of a PostgreSQL server",
        )
}

/// `PUSTAKA_TEST_STORAGE=postgres`: every [`Library`] lives in a fresh
/// schema of the [`pg_server`] instead of an SQLite file.
pub fn test_postgres() -> Option<String> {
    (std::env::var("PUSTAKA_TEST_STORAGE").as_deref() == Ok("postgres")).then(pg_server)
}

/// A fresh, empty schema in the test PostgreSQL server, and the connection
/// string that works in it.
pub fn fresh_postgres_schema(base: &str) -> String {
    let base = base.to_string();
    std::thread::spawn(move || {
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut c = postgres::Client::connect(&base, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PUSTAKA_TEST_POSTGRES={base}: {e}"));
        c.batch_execute(&format!("CREATE SCHEMA {schema}")).unwrap();
        format!("{base} options='-c search_path={schema}'")
    })
    .join()
    .unwrap()
}

pub fn patron_pin(card: &str) -> String {
    format!("{}", card.parse::<u32>().unwrap() + 1000)
}

impl Library {
    /// Starts a server with the demo policy and a small fixture catalogue:
    /// T1 (one copy C1), T2 (copies C2a, C2b), T3 (C3), T4 (C4), T5 reference (R5),
    /// patrons 1001..=1004 (PIN = card + 1000) and event E1 (capacity 2).
    pub async fn start() -> Library {
        Self::start_with(None).await
    }

    /// [`Library::start`], with circulation decided by a SIP2 library system.
    pub async fn start_with(sip2: Option<pustaka_sync::circulation::Sip2Config>) -> Library {
        Self::start_on(sip2, test_postgres()).await
    }

    /// [`Library::start`] in a fresh schema of the test PostgreSQL server,
    /// whatever `PUSTAKA_TEST_STORAGE` says.
    pub async fn start_on_postgres() -> Library {
        Self::start_on(None, Some(pg_server())).await
    }

    async fn start_on(
        sip2: Option<pustaka_sync::circulation::Sip2Config>,
        postgres: Option<String>,
    ) -> Library {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(START));
        let database = match postgres {
            Some(base) => pustaka_sync::Database::Postgres(fresh_postgres_schema(&base)),
            None => pustaka_sync::Database::Sqlite(dir.path().to_path_buf()),
        };
        let mut lib = Library {
            dir,
            clock,
            running: None,
            url: String::new(),
            http: reqwest::Client::new(),
            sip2,
            database,
            epoch_after: None,
            web: None,
        };
        lib.boot().await;
        for (id, title, copies, it) in [
            ("T1", "Laskar Pelangi", vec!["C1"], "book"),
            ("T2", "Bumi Manusia", vec!["C2a", "C2b"], "book"),
            ("T3", "Negeri 5 Menara", vec!["C3"], "book"),
            ("T4", "Cantik Itu Luka", vec!["C4"], "book"),
            (
                "T5",
                "Kamus Besar Bahasa Indonesia",
                vec!["R5"],
                "reference",
            ),
        ] {
            let copies: Vec<Value> = copies
                .iter()
                .map(|c| json!({"barcode": c, "branch": "pusat", "shelf": "899.221"}))
                .collect();
            lib.admin("titles", json!({"id": id, "title": title, "author": "Penulis", "year": 2005, "language": "ind",
                "subjects": "Fiksi", "isbn": null, "item_type": it, "collection": "umum", "copies": copies})).await.unwrap();
        }
        for card in ["1001", "1002", "1003", "1004"] {
            lib.admin(
                "patrons",
                json!({"card": card, "name": format!("Anggota {card}"), "pin": patron_pin(card),
                "patron_type": "adult", "expires": "2027-12-31", "home_branch": "pusat"}),
            )
            .await
            .unwrap();
        }
        lib.admin("events", json!({"id": "E1", "title_id": "Dongeng Sabtu", "title_en": "Saturday stories", "category": "storytelling",
            "branch": "pusat", "place": "Ruang Anak", "start": START + 20 * DAY, "end": START + 20 * DAY + 3_600_000, "capacity": 2})).await.unwrap();
        lib
    }

    /// A hub on this library's data (a second one is a second server
    /// sharing the same PostgreSQL database).
    pub fn hub(&self) -> pustaka_sync::Hub {
        let mut hub = pustaka_sync::open_hub_on(
            &self.database,
            demo::DEMO_POLICY,
            self.clock.clone() as Arc<dyn Clock>,
        )
        .unwrap();
        if let Some(n) = self.epoch_after {
            hub.set_epoch_after(n);
        }
        if let Some(c) = &self.sip2 {
            hub.set_circulation(Box::new(pustaka_sync::circulation::Sip2Circulation::new(
                c.clone(),
            )));
        }
        hub
    }

    async fn boot(&mut self) {
        let hub = self.hub();
        let running = pustaka_sync::start_with_web(
            hub,
            "127.0.0.1:0".parse().unwrap(),
            ADMIN.into(),
            self.web.clone(),
        )
        .await
        .unwrap();
        self.url = format!("http://{}", running.addr);
        self.running = Some(running);
    }

    /// Stops the server (devices now see it as unreachable).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Starts the server again on the same data, at the same address.
    pub async fn restart(&mut self) {
        let addr = self.url.trim_start_matches("http://").to_string();
        self.stop().await;
        // The port was just released; retry briefly if the OS is slow to free it.
        for _ in 0..50 {
            let hub = self.hub();
            match pustaka_sync::start_with_web(
                hub,
                addr.parse().unwrap(),
                ADMIN.into(),
                self.web.clone(),
            )
            .await
            {
                Ok(r) => {
                    self.running = Some(r);
                    return;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("could not restart the server on {addr}");
    }

    /// Restarts the server also serving the website from `dir`.
    pub async fn serve_website(&mut self, dir: std::path::PathBuf) {
        self.web = Some(dir);
        self.restart().await;
    }

    /// `SELECT count(*) FROM <sql_from>` in the library's own database,
    /// SQLite or PostgreSQL (read-only use: proving what is stored).
    pub fn count(&self, sql_from: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {sql_from}");
        match &self.database {
            pustaka_sync::Database::Sqlite(dir) => {
                let db = rusqlite::Connection::open_with_flags(
                    dir.join(pustaka_sync::DB_FILE),
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .unwrap();
                db.query_row(&sql, [], |r| r.get(0)).unwrap()
            }
            // The blocking client runs a runtime of its own: not on a
            // thread driving async tasks.
            pustaka_sync::Database::Postgres(url) => {
                let url = url.clone();
                std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    c.query_one(sql.as_str(), &[]).unwrap().get::<_, i64>(0)
                })
                .join()
                .unwrap()
            }
        }
    }

    pub fn advance_days(&self, days: i64) {
        self.clock.advance_days(days);
    }

    pub async fn admin(&self, path: &str, body: Value) -> Result<Value, (u16, Value)> {
        let resp = self
            .http
            .post(format!("{}/admin/v1/{path}", self.url))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if (200..300).contains(&status) {
            Ok(v)
        } else {
            Err((status, v))
        }
    }

    /// `GET <path>` on the server (as the admin when `admin`): status and body.
    pub async fn get_text(&self, path: &str, admin: bool) -> (u16, String) {
        let mut req = self.http.get(format!("{}{path}", self.url));
        if admin {
            req = req.bearer_auth(ADMIN);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// `GET <path>` as JSON (as the admin when `admin`).
    pub async fn get_json(&self, path: &str, admin: bool) -> Value {
        let (status, text) = self.get_text(path, admin).await;
        assert!((200..300).contains(&status), "GET {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn checkout(&self, card: &str, copy: &str) -> Value {
        self.admin("checkout", json!({"card": card, "copy": copy}))
            .await
            .unwrap()
    }

    pub async fn checkin(&self, copy: &str) -> Value {
        self.admin("checkin", json!({"copy": copy, "branch": "pusat"}))
            .await
            .unwrap()
    }

    /// A signed-in, synced device for `card`, with its own SQLite file.
    pub async fn device(&self, card: &str, name: &str) -> Arc<Device> {
        let d = self.offline_device(name);
        d.login(&self.url, card, &patron_pin(card)).await.unwrap();
        d.sync_once().await.unwrap();
        d
    }

    pub fn offline_device(&self, name: &str) -> Arc<Device> {
        let clock = self.clock.clone();
        let path = self.dir.path().join(format!("device-{name}.db"));
        Arc::new(Device::open(&path, Arc::new(move || clock.now())).unwrap())
    }

    pub async fn login_raw(&self, card: &str, pin: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/login", self.url))
            .json(&json!({"card": card, "pin": pin}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_sync(&self, token: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let resp = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
    }
}

/// A device that speaks the wire protocol by hand, with raw documents.
pub struct RawClient {
    pub token: String,
    pub device: String,
    pub docs: Vec<(String, AutoCommit, State)>,
}

impl RawClient {
    pub fn new(token: &str, device: &str, ids: &[&str]) -> RawClient {
        RawClient {
            token: token.into(),
            device: device.into(),
            docs: ids
                .iter()
                .map(|id| (id.to_string(), AutoCommit::new(), State::new()))
                .collect(),
        }
    }

    /// One round trip; returns the decoded reply.
    pub async fn round(&mut self, lib: &Library) -> SyncResponse {
        let docs = self
            .docs
            .iter_mut()
            .map(|(id, d, s)| DocMessage {
                doc: id.clone(),
                message: rsync::generate(d, s),
            })
            .collect();
        let body = wire::encode(&SyncRequest {
            device: self.device.clone(),
            docs,
        });
        let (status, bytes) = lib.post_sync(&self.token, body).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        let resp = wire::decode_response(&bytes).unwrap();
        for r in &resp.docs {
            if let (Some(m), Some((_, d, s))) = (
                &r.message,
                self.docs.iter_mut().find(|(id, _, _)| *id == r.doc),
            ) {
                rsync::receive(d, s, m, &Default::default()).unwrap();
            }
        }
        resp
    }

    pub async fn settle(&mut self, lib: &Library) {
        for _ in 0..8 {
            let resp = self.round(lib).await;
            if resp.docs.iter().all(|r| r.message.is_none()) {
                return;
            }
        }
    }
}

/// Polls `f` every 50 ms for at most `secs` seconds.
pub async fn eventually<F: FnMut() -> bool>(secs: u64, mut f: F) -> bool {
    for _ in 0..(secs * 20) {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

impl Library {
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }
}

/// The Python that runs the independent checkers (`validate_opds2.py`, the
/// pysip2 library system): `PUSTAKA_PYTHON`, else the venv `cargo xtask ci`
/// prepares in `~/.cache/pustaka/venv`. A missing one fails the test with
/// what to do: these checks never pass by being skipped.
pub fn python() -> std::path::PathBuf {
    let p = std::env::var_os("PUSTAKA_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| std::path::PathBuf::from(h).join(".cache/pustaka/venv/bin/python"))
        })
        .expect("neither PUSTAKA_PYTHON nor HOME is set");
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask pyenv` (part of `cargo xtask ci`) or set PUSTAKA_PYTHON \
         to a Python with pysip2==0.1.0, jsonschema and referencing",
        p.display()
    );
    p
}

/// `../shared/<rel>` next to the repository (`PUSTAKA_SHARED` overrides).
pub fn shared(rel: &str) -> std::path::PathBuf {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        std::env::var_os("PUSTAKA_SHARED").map(std::path::PathBuf::from),
        Some(here.join("../../shared")),
        Some(std::path::PathBuf::from("/work/shared")),
    ]
    .into_iter()
    .flatten()
    .map(|d| d.join(rel))
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("shared/{rel} not found next to the repository (set PUSTAKA_SHARED)"))
}
