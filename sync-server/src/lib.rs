//! `pustaka-sync`: the library's sync server and the authority over
//! circulation facts. See `ARCHITECTURE.md` for the map.

pub mod card;
pub mod catalog;
pub mod circulation;
pub mod clock;
pub mod demo;
pub mod engine;
pub mod error;
pub mod feeds;
pub mod http;
pub mod hub;
pub mod labels;
pub mod librarian;
pub mod mail;
pub mod marc_import;
pub mod opds;
pub mod storage;
pub mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

pub use clock::{Clock, ManualClock, SystemClock};
pub use http::{AppState, router};
pub use hub::Hub;

/// Everything a running server needs to know.
pub struct ServerConfig {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub policy_text: String,
    pub admin_token: Option<String>,
}

pub const DB_FILE: &str = "pustaka.db";
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// The admin token: given, or read from (or first written to) the data dir.
pub fn admin_token(data: &Path, given: Option<String>) -> anyhow::Result<String> {
    if let Some(t) = given.filter(|t| !t.is_empty()) {
        return Ok(t);
    }
    let path = data.join(ADMIN_TOKEN_FILE);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_string();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    let t = hub::random_hex(24)?;
    std::fs::write(&path, &t).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(t)
}

/// Opens the library on the embedded SQLite database in `data`.
pub fn open_hub(data: &Path, policy_text: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Hub> {
    open_hub_on(&Database::Sqlite(data.to_path_buf()), policy_text, clock)
}

/// Where a library's data lives.
#[derive(Debug, Clone)]
pub enum Database {
    /// `DATA/pustaka.db`: one server process.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string (`postgres://user@host/db` or
    /// `host=… user=… dbname=…`): any number of server processes.
    Postgres(String),
}

impl Database {
    /// `--database`: a `postgres://`/`postgresql://` URL or a key=value
    /// connection string selects PostgreSQL; none keeps SQLite in `data`.
    pub fn choose(data: &Path, database: Option<&str>) -> Database {
        match database.map(str::trim).filter(|d| !d.is_empty()) {
            Some(url) => Database::Postgres(url.to_string()),
            None => Database::Sqlite(data.to_path_buf()),
        }
    }
}

pub fn open_hub_on(db: &Database, policy_text: &str, clock: Arc<dyn Clock>) -> anyhow::Result<Hub> {
    let open = |store: Box<dyn storage::Storage>| -> anyhow::Result<Hub> {
        Ok(Hub::open(store, policy_text, clock, Default::default())?)
    };
    match db {
        Database::Sqlite(data) => {
            std::fs::create_dir_all(data)
                .with_context(|| format!("creating {}", data.display()))?;
            open(Box::new(storage::sqlite::SqliteStorage::open(
                &data.join(DB_FILE),
            )?))
        }
        // The PostgreSQL client blocks on a runtime of its own, which must
        // not run on a thread driving async tasks: open on a thread of its
        // own.
        Database::Postgres(url) => std::thread::scope(|s| {
            s.spawn(|| open(Box::new(storage::postgres::PostgresStorage::open(url)?)))
                .join()
                .map_err(|_| anyhow::anyhow!("opening PostgreSQL panicked"))?
        }),
    }
}

/// A bound server, ready to run; tests start it on 127.0.0.1:0.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub handle: tokio::task::JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    /// Changes committed by other servers sharing the database, turned
    /// into live pokes here (PostgreSQL); stops when dropped.
    _feed: Option<storage::postgres::Listening>,
}

impl Running {
    /// Stops accepting, and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Live-poke streams never end on their own: give requests in flight
        // a moment, then cut the rest.
        if tokio::time::timeout(std::time::Duration::from_secs(1), &mut self.handle)
            .await
            .is_err()
        {
            self.handle.abort();
            let _ = (&mut self.handle).await;
        }
    }
}

pub async fn start(hub: Hub, listen: SocketAddr, admin_token: String) -> anyhow::Result<Running> {
    start_with_web(hub, listen, admin_token, None).await
}

/// [`start`], also serving the website: the UI's built files in `web_dir`
/// (`cargo xtask ui` writes them to `app/dist`).
pub async fn start_with_web(
    hub: Hub,
    listen: SocketAddr,
    admin_token: String,
    web_dir: Option<std::path::PathBuf>,
) -> anyhow::Result<Running> {
    let feed = hub.change_feed();
    let state = AppState::new(hub, admin_token);
    let feed = feed.map(|f| {
        let poke = state.poke.clone();
        f.spawn(move |ids| {
            let _ = poke.send(Arc::new(ids));
        })
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let app = http::router_with_web(state.clone(), web_dir);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = served.await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(Running {
        addr,
        state,
        handle,
        shutdown: Some(tx),
        _feed: feed,
    })
}
