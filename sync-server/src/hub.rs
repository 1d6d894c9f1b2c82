//! The hub: one library's state behind one lock. It owns the storage, the
//! policy, a bounded cache of hot documents and the clock, and runs every
//! request as one storage transaction: decide, project, save, then reply.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use automerge::ReadDoc;
use automerge::{AutoCommit, ChangeHash};
use lru::LruCache;
use pustaka_domain::{Millis, Policy};
use pustaka_replica::sync::{self as rsync, Limits};
use pustaka_replica::wire::{Directory, DocReply, SyncRequest, SyncResponse, WireError};
use pustaka_replica::{Calendar, Circ, DocKind, intent::read_intents_with_keys};
use sha2::{Digest, Sha256};

use crate::circulation::{BuiltIn, Circulation};
use crate::clock::{Clock, local_day};
use crate::engine::{Ctx, Effects, EngineResult};
use crate::error::ApiError;
use crate::storage::{DocRow, PatronRow, Storage};

pub const TOKEN_DAYS: i64 = 30;
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60_000;
/// Compact a document's chunks into one snapshot past this many chunks.
const COMPACT_AFTER_CHUNKS: usize = 64;
/// A server-owned document starts a new epoch past this many changes: the
/// cost of applying a change grows with history (see ARCHITECTURE.md).
pub const EPOCH_AFTER_CHANGES: usize = 2000;
/// Longest intent key recorded as a malformed outcome.
const MAX_INTENT_KEY: usize = 64;
/// Most new intents decided for one patron in one sync request (in UUIDv7
/// order), so that one request's transaction stays short however many
/// intents a device saved offline; the rest are decided by the next sync,
/// which the patron's devices are poked to make.
pub const MAX_DECISIONS_PER_SYNC: usize = 200;
/// Most devices of one patron whose sync states are kept (any signed-in
/// patron can name new device ids): past it, the least recently used
/// device's states are dropped.
pub const MAX_SYNC_DEVICES: usize = 16;

struct CachedDoc {
    /// For an `intents` document: the keys that already have an outcome.
    decided: Option<std::collections::HashSet<String>>,
    doc: AutoCommit,
    saved_heads: Vec<ChangeHash>,
    chunks: usize,
    /// The stored version this copy reflects, when servers share the
    /// database ([`Storage::doc_version`]).
    version: Option<i64>,
    /// Changes in the document's history (for the epoch rollover).
    changes: usize,
    circ: Option<Circ>,
    calendar: Option<Calendar>,
}

pub struct Hub {
    store: Box<dyn Storage>,
    policy: Policy,
    policy_text: String,
    cache: LruCache<String, CachedDoc>,
    dirty: BTreeMap<String, CachedDoc>,
    limits: Limits,
    clock: Arc<dyn Clock>,
    calendar_id: String,
    /// Verified when the card is unknown, so that an unknown card costs the
    /// same time as a wrong PIN.
    dummy_hash: String,
    /// Where circulation is decided: the built-in rules unless a library
    /// system is connected (SIP2).
    circulation: Box<dyn Circulation>,
    /// Server-owned documents start a new epoch past this many changes.
    epoch_after: usize,
    /// Documents retired by a new epoch in the open transaction: their
    /// devices are poked so that they learn the new ids.
    retired: Vec<String>,
    /// `intents` documents left with undecided intents by the open
    /// transaction ([`MAX_DECISIONS_PER_SYNC`]): their devices are poked to
    /// sync again.
    undecided: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoginOk {
    pub token: String,
    pub expires_at: Millis,
    pub card: String,
    pub name: String,
    pub directory: Directory,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewPatron {
    pub card: String,
    pub name: String,
    pub pin: String,
    pub patron_type: String,
    pub expires: chrono::NaiveDate,
    pub home_branch: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".into()
}

/// Random bytes as hex, from the OS. Secrets and ids must never fall back
/// to anything weaker, so a failing random source is an error.
pub fn random_hex(bytes: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| ApiError::Internal(format!("no OS randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// The id of a patron's `prefs` document: fixed by the card (it has no
/// epochs: the server never writes it), created on the first sync that
/// sends it. Only the owner's token reaches it (the ACL checks the owner).
pub fn prefs_doc_id(card: &str) -> String {
    let h = Sha256::digest(format!("pustaka-prefs:{card}").as_bytes());
    hex::encode(&h[..16])
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_pin(pin: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

impl Hub {
    pub fn open(
        mut store: Box<dyn Storage>,
        policy_text: &str,
        clock: Arc<dyn Clock>,
        limits: Limits,
    ) -> Result<Hub, ApiError> {
        let policy =
            Policy::from_toml(policy_text).map_err(|e| ApiError::Malformed(e.to_string()))?;
        store.begin()?;
        let calendar_id = match store.meta("calendar_doc")? {
            Some(id) => id,
            None => {
                let id = random_hex(16)?;
                store.insert_doc(&DocRow {
                    id: id.clone(),
                    kind: "calendar".into(),
                    owner: String::new(),
                })?;
                store.set_meta("calendar_doc", &id)?;
                id
            }
        };
        let policy_changed = store.meta("policy")?.as_deref() != Some(policy_text);
        store.set_meta("policy", policy_text)?;
        store.commit()?;
        let mut hub = Hub {
            store,
            policy,
            policy_text: policy_text.to_string(),
            cache: LruCache::new(NonZeroUsize::new(2048).unwrap_or(NonZeroUsize::MIN)),
            dirty: BTreeMap::new(),
            limits,
            clock,
            calendar_id,
            dummy_hash: hash_pin("0000")?,
            circulation: Box::new(BuiltIn),
            epoch_after: EPOCH_AFTER_CHANGES,
            retired: Vec::new(),
            undecided: Vec::new(),
        };
        if policy_changed {
            hub.transaction(|_, fx| {
                fx.calendar = true;
                Ok(())
            })?;
        }
        Ok(hub)
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn today(&self) -> chrono::NaiveDate {
        local_day(self.now(), self.policy.library.utc_offset_minutes)
    }

    /// Connects the library's system of record (e.g. over SIP2): from now
    /// on it decides circulation and this hub mirrors its answers.
    pub fn set_circulation(&mut self, c: Box<dyn Circulation>) {
        tracing::info!("circulation decided by: {}", c.name());
        self.circulation = c;
    }

    /// Server-owned documents start a new epoch past `changes` changes
    /// (default [`EPOCH_AFTER_CHANGES`]).
    pub fn set_epoch_after(&mut self, changes: usize) {
        self.epoch_after = changes.max(1);
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn calendar_id(&self) -> &str {
        &self.calendar_id
    }

    /// Where this hub hears of documents changed by other servers sharing
    /// its database (none for SQLite).
    pub fn change_feed(&self) -> Option<crate::storage::postgres::ChangeFeed> {
        self.store.change_feed()
    }

    pub fn store(&self) -> &dyn Storage {
        self.store.as_ref()
    }

    // ---- documents ------------------------------------------------------

    fn take(&mut self, id: &str, kind: DocKind) -> Result<CachedDoc, ApiError> {
        if let Some(d) = self.dirty.remove(id) {
            return Ok(d);
        }
        // Another server sharing the database may have written the
        // document since it was cached: the version tells (read before the
        // bytes, so a copy is never newer than the version it is marked with).
        let version = self.store.doc_version(id)?;
        if let Some(d) = self.cache.pop(id)
            && (version.is_none() || d.version == version)
        {
            return Ok(d);
        }
        let (snapshot, chunks) = self.store.doc_bytes(id)?.unwrap_or_default();
        let mut doc = if snapshot.is_empty() {
            AutoCommit::new()
        } else {
            rsync::load(&snapshot, &self.limits)
                .map_err(|e| ApiError::Internal(format!("document {id}: {e}")))?
        };
        for c in &chunks {
            doc.load_incremental(c)
                .map_err(|e| ApiError::Internal(format!("document {id}: {e}")))?;
        }
        let (circ, calendar) = match kind {
            DocKind::Circ => (
                Circ::read(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
                None,
            ),
            DocKind::Calendar => (
                None,
                Calendar::read(&doc).map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
            DocKind::Intents | DocKind::Prefs => (None, None),
        };
        Ok(CachedDoc {
            decided: None,
            saved_heads: doc.get_heads(),
            changes: doc.get_changes_meta(&[]).len(),
            doc,
            chunks: chunks.len(),
            version,
            circ,
            calendar,
        })
    }

    fn put_dirty(&mut self, id: &str, d: CachedDoc) {
        self.dirty.insert(id.to_string(), d);
    }

    /// Runs `f` in one transaction, re-projects what it touched, saves the
    /// changed documents and commits. Returns the ids of documents that
    /// changed, for the live poke.
    pub fn transaction<R>(
        &mut self,
        f: impl FnOnce(&mut Self, &mut Effects) -> Result<R, ApiError>,
    ) -> Result<(R, Vec<String>), ApiError> {
        self.store.begin()?;
        // Another server sharing the database may have started a new
        // calendar epoch.
        if self.store.doc_version(&self.calendar_id)?.is_some()
            && let Some(id) = self.store.meta("calendar_doc")?
        {
            self.calendar_id = id;
        }
        let mut fx = Effects::default();
        let result = f(self, &mut fx).and_then(|r| {
            self.project(&fx)?;
            let mut changed = self.save_dirty()?;
            changed.append(&mut self.retired);
            for id in std::mem::take(&mut self.undecided) {
                if !changed.contains(&id) {
                    changed.push(id);
                }
            }
            self.store.announce(&changed)?;
            Ok((r, changed))
        });
        // Received and applied, not yet durable.
        if result.is_ok() {
            pustaka_crashpoint::hit("server_before_commit");
        }
        match result {
            Ok((r, changed)) => match self.store.commit() {
                Ok(()) => {
                    // Durable, and no device told yet.
                    pustaka_crashpoint::hit("server_after_commit");
                    for (id, d) in std::mem::take(&mut self.dirty) {
                        self.cache.put(id, d);
                    }
                    Ok((r, changed))
                }
                Err(e) => {
                    self.abort();
                    Err(e.into())
                }
            },
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// After a panic inside a transaction: roll it back and drop the
    /// in-memory documents it touched, as if it never ran.
    pub fn recover_from_panic(&mut self) {
        self.abort();
    }

    fn abort(&mut self) {
        self.store.rollback();
        // In-memory documents may hold changes that were not stored.
        self.dirty.clear();
        self.retired.clear();
        self.undecided.clear();
        // A calendar epoch started in the transaction did not happen.
        if let Ok(Some(id)) = self.store.meta("calendar_doc") {
            self.calendar_id = id;
        }
    }

    fn ctx(&mut self) -> Ctx<'_> {
        let today = local_day(self.clock.now(), self.policy.library.utc_offset_minutes);
        Ctx {
            store: self.store.as_mut(),
            policy: &self.policy,
            today,
            now: self.clock.now(),
            circ: Some(self.circulation.as_mut()),
            remote_note: None,
        }
    }

    /// Runs an engine operation inside [`Hub::transaction`].
    pub fn with_engine<R>(
        &mut self,
        f: impl FnOnce(&mut Ctx, &mut Effects) -> EngineResult<R>,
    ) -> Result<(R, Vec<String>), ApiError> {
        self.transaction(|hub, fx| {
            let mut ctx = hub.ctx();
            Ok(f(&mut ctx, fx)?)
        })
    }

    /// Retires `old` and registers a fresh document in its place; returns
    /// the new id. The old one stays in storage as the epoch's archive,
    /// unless `purge`: then its bytes are deleted (the patron asked the
    /// library to forget what it held, and an Automerge document remembers
    /// every value it ever had).
    fn start_epoch(
        &mut self,
        old: &str,
        kind: DocKind,
        owner: &str,
        purge: bool,
    ) -> Result<String, ApiError> {
        let id = random_hex(16)?;
        if purge {
            self.store.purge_doc(old)?;
        } else {
            self.store.retire_doc(old)?;
        }
        self.store.insert_doc(&DocRow {
            id: id.clone(),
            kind: kind.code().into(),
            owner: owner.into(),
        })?;
        self.cache.pop(old);
        self.dirty.remove(old);
        self.retired.push(old.to_string());
        Ok(id)
    }

    fn project(&mut self, fx: &Effects) -> Result<(), ApiError> {
        let none = Vec::new();
        for card in &fx.patrons {
            let Some(mut p) = self.store.patron(card)? else {
                continue;
            };
            let mut d = self.take(&p.circ_doc, DocKind::Circ)?;
            // A new epoch: a fresh document with the current state (every
            // outcome included, so pending intents on offline devices still
            // find theirs); devices follow the new id from the directory.
            let purge = fx.purges.contains(card);
            if purge || fx.epochs.contains(card) || d.changes >= self.epoch_after {
                let id = self.start_epoch(&p.circ_doc, DocKind::Circ, card, purge)?;
                self.store.set_circ_doc(card, &id)?;
                tracing::info!(
                    "card {card}: circ starts a new epoch ({} changes)",
                    d.changes
                );
                p.circ_doc = id;
                d = self.take(&p.circ_doc, DocKind::Circ)?;
            }
            let recorded = fx.outcomes.get(card).unwrap_or(&none);
            let circ = self.ctx().project_circ(card, d.circ.as_ref(), recorded)?;
            circ.write(&mut d.doc, d.circ.as_ref())
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            d.circ = Some(circ);
            self.put_dirty(&p.circ_doc, d);
        }
        if fx.calendar {
            let text = self.policy_text.clone();
            let cal = self.ctx().project_calendar(&text)?;
            let mut id = self.calendar_id.clone();
            let mut d = self.take(&id, DocKind::Calendar)?;
            if fx.calendar_epoch || d.changes >= self.epoch_after {
                id = self.start_epoch(&id, DocKind::Calendar, "", false)?;
                self.store.set_meta("calendar_doc", &id)?;
                tracing::info!("the calendar starts a new epoch ({} changes)", d.changes);
                self.calendar_id = id.clone();
                d = self.take(&id, DocKind::Calendar)?;
            }
            cal.write(&mut d.doc, d.calendar.as_ref())
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            d.calendar = Some(cal);
            self.put_dirty(&id, d);
        }
        Ok(())
    }

    fn save_dirty(&mut self) -> Result<Vec<String>, ApiError> {
        let mut changed = vec![];
        for (id, d) in self.dirty.iter_mut() {
            let heads = d.doc.get_heads();
            if heads == d.saved_heads {
                continue;
            }
            if d.chunks >= COMPACT_AFTER_CHUNKS {
                self.store.replace_doc_snapshot(id, &d.doc.save())?;
                d.chunks = 0;
            } else {
                let bytes = d.doc.save_after(&d.saved_heads);
                self.store.append_doc_chunk(id, &bytes)?;
                d.chunks += 1;
            }
            d.changes += d.doc.get_changes_meta(&d.saved_heads).len();
            d.saved_heads = heads;
            d.version = self.store.doc_version(id)?;
            changed.push(id.clone());
        }
        Ok(changed)
    }

    /// Starts a new epoch of a patron's `circ` and/or of the shared
    /// calendar now (the librarian's command; it also happens by itself past
    /// [`EPOCH_AFTER_CHANGES`]). Returns the ids of the changed documents.
    pub fn new_epoch(
        &mut self,
        card: Option<&str>,
        calendar: bool,
    ) -> Result<Vec<String>, ApiError> {
        if let Some(card) = card
            && self.store.patron(card)?.is_none()
        {
            return Err(ApiError::NotFound(format!("no patron with card {card}")));
        }
        let ((), changed) = self.transaction(|_, fx| {
            if let Some(card) = card {
                fx.patrons.insert(card.to_string());
                fx.epochs.insert(card.to_string());
            }
            if calendar {
                fx.calendar = true;
                fx.calendar_epoch = true;
            }
            Ok(())
        })?;
        Ok(changed)
    }

    // ---- patrons and sign-in -------------------------------------------------

    pub fn add_patron(&mut self, p: NewPatron) -> Result<(), ApiError> {
        if p.card.is_empty() || p.card.len() > 32 || p.pin.len() < 4 {
            return Err(ApiError::Malformed(
                "card must be 1-32 characters and PIN at least 4".into(),
            ));
        }
        if self.policy.patron_type(&p.patron_type).is_none()
            || self.policy.branch(&p.home_branch).is_none()
        {
            return Err(ApiError::Malformed("unknown patron type or branch".into()));
        }
        if pustaka_domain::AccountStatus::parse(&p.status).is_none() {
            return Err(ApiError::Malformed(format!(
                "unknown status `{}`",
                p.status
            )));
        }
        let pin_hash = hash_pin(&p.pin)?;
        self.transaction(|hub, fx| {
            if hub.store.patron(&p.card)?.is_some() {
                return Err(ApiError::Conflict(format!("card {} exists", p.card)));
            }
            let row = PatronRow {
                card: p.card.clone(),
                name: p.name.clone(),
                patron_type: p.patron_type.clone(),
                status: p.status.clone(),
                expires: p.expires,
                home_branch: p.home_branch.clone(),
                pin_hash,
                email: p.email.clone(),
                fines_charged: 0,
                circ_doc: random_hex(16)?,
                intents_doc: random_hex(16)?,
                keep_history: false,
            };
            hub.store.insert_doc(&DocRow {
                id: row.circ_doc.clone(),
                kind: "circ".into(),
                owner: row.card.clone(),
            })?;
            hub.store.insert_doc(&DocRow {
                id: row.intents_doc.clone(),
                kind: "intents".into(),
                owner: row.card.clone(),
            })?;
            hub.store.insert_patron(&row)?;
            fx.patrons.insert(row.card);
            Ok(())
        })?;
        Ok(())
    }

    /// A copy of the shared calendar document's contents (events, FAQ,
    /// surveys), as devices see it.
    pub fn calendar(&mut self) -> Result<Calendar, ApiError> {
        let id = self.calendar_id.clone();
        let d = self.take(&id, DocKind::Calendar)?;
        let cal = d.calendar.clone().unwrap_or_default();
        self.cache.put(id, d);
        Ok(cal)
    }

    /// A copy of the patron's `circ` contents, projected first if no device
    /// of theirs ever synced.
    pub fn circ(&mut self, card: &str) -> Result<Circ, ApiError> {
        let p = self
            .store
            .patron(card)?
            .ok_or_else(|| ApiError::NotFound(format!("no patron with card {card}")))?;
        let d = self.take(&p.circ_doc, DocKind::Circ)?;
        if let Some(circ) = d.circ.clone() {
            self.cache.put(p.circ_doc, d);
            return Ok(circ);
        }
        self.cache.put(p.circ_doc, d);
        self.transaction(|_, fx| {
            fx.patrons.insert(card.to_string());
            Ok(())
        })?;
        let p = self.store.patron(card)?.ok_or(ApiError::Unauthorized)?;
        let d = self.take(&p.circ_doc, DocKind::Circ)?;
        let circ = d.circ.clone().unwrap_or_default();
        self.cache.put(p.circ_doc, d);
        Ok(circ)
    }

    /// What the website's account screens show: the patron's view from the
    /// library's copy of their documents (decided requests only: the website
    /// has no queue), or with no `card` what anyone may see.
    pub fn web_view(&mut self, card: Option<&str>) -> Result<pustaka_ipc::AccountView, ApiError> {
        let calendar = self.calendar()?;
        let now = self.clock.now();
        match card {
            None => Ok(pustaka_views::public(&calendar, &self.policy, now)),
            Some(card) => {
                let circ = self.circ(card)?;
                pustaka_views::build(
                    &circ,
                    &calendar,
                    self.policy.clone(),
                    &[],
                    &Default::default(),
                    now,
                )
                .map_err(|e| ApiError::Internal(e.to_string()))
            }
        }
    }

    pub fn directory(&self, p: &PatronRow) -> Directory {
        Directory {
            circ: p.circ_doc.clone(),
            intents: p.intents_doc.clone(),
            calendar: self.calendar_id.clone(),
            prefs: prefs_doc_id(&p.card),
        }
    }

    pub fn login(&mut self, card: &str, pin: &str) -> Result<LoginOk, ApiError> {
        let now = self.now();
        let card = card.trim();
        if card.len() > 32 || pin.len() > 64 {
            return Err(ApiError::InvalidCredentials);
        }
        let failures = self
            .store
            .login_failures_since(card, now - FAILURE_WINDOW_MS)?;
        if failures >= MAX_FAILURES {
            return Err(ApiError::TooManyAttempts(FAILURE_WINDOW_MS / 60_000));
        }
        let patron = self.store.patron(card)?;
        let ok = match &patron {
            Some(p) => verify_pin(pin, &p.pin_hash),
            None => {
                verify_pin(pin, &self.dummy_hash);
                false
            }
        };
        let (Some(p), true) = (patron, ok) else {
            self.store.begin()?;
            self.store.record_login_failure(card, now)?;
            self.store.commit()?;
            return Err(ApiError::InvalidCredentials);
        };
        let token = random_hex(32)?;
        let expires_at = now + TOKEN_DAYS * 86_400_000;
        self.store.begin()?;
        let r = self
            .store
            .insert_token(&token_hash(&token), &p.card, expires_at)
            .and_then(|_| self.store.clear_login_failures(&p.card));
        match r {
            Ok(()) => self.store.commit()?,
            Err(e) => {
                self.store.rollback();
                return Err(e.into());
            }
        }
        Ok(LoginOk {
            token,
            expires_at,
            card: p.card.clone(),
            name: p.name.clone(),
            directory: self.directory(&p),
        })
    }

    pub fn authenticate(&self, token: &str) -> Result<String, ApiError> {
        self.authenticate_until(token).map(|(card, _)| card)
    }

    /// The card a token signs in and the instant it expires (a cache of
    /// checked tokens must not keep one past that).
    pub fn authenticate_until(&self, token: &str) -> Result<(String, Millis), ApiError> {
        if token.is_empty() || token.len() > 128 {
            return Err(ApiError::Unauthorized);
        }
        self.store
            .token(&token_hash(token), self.now())?
            .ok_or(ApiError::Unauthorized)
    }

    /// A new secret for the patron's calendar feed; the old address stops
    /// working. Only the hash is stored.
    pub fn new_feed_token(&mut self, card: &str) -> Result<String, ApiError> {
        let token = random_hex(20)?;
        self.store.begin()?;
        match self.store.set_feed_token(card, &token_hash(&token)) {
            Ok(()) => self.store.commit()?,
            Err(e) => {
                self.store.rollback();
                return Err(e.into());
            }
        }
        Ok(token)
    }

    /// A patron's e-mail reminders as stored: (address, language code).
    pub fn email_reminders(&self, card: &str) -> Result<Option<(String, String)>, ApiError> {
        Ok(self.store.email_prefs(card)?)
    }

    /// A patron's e-mail reminders: an address and language to opt in,
    /// `None` to stop. The address is trimmed and checked here, whatever
    /// client sent it; returns what is stored now.
    pub fn set_email_reminders(
        &mut self,
        card: &str,
        prefs: Option<(&str, pustaka_domain::Lang)>,
    ) -> Result<Option<(String, String)>, ApiError> {
        let prefs = prefs.map(|(email, lang)| (email.trim(), lang.code()));
        if let Some((email, _)) = prefs {
            let plausible = email.len() <= 254
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
                && email.split_once('@').is_some_and(|(user, host)| {
                    !user.is_empty() && host.contains('.') && !host.contains('@')
                });
            if !plausible {
                return Err(ApiError::InvalidEmail(
                    email.chars().take(80).collect::<String>(),
                ));
            }
        }
        self.store.begin()?;
        match self.store.set_email_prefs(card, prefs) {
            Ok(()) => self.store.commit()?,
            Err(e) => {
                self.store.rollback();
                return Err(e.into());
            }
        }
        Ok(prefs.map(|(e, l)| (e.to_string(), l.to_string())))
    }

    /// Sends the e-mails due now (see [`crate::mail`]).
    pub fn send_due_mails(
        &mut self,
        days: &[u32],
        mailer: &crate::mail::Mailer,
    ) -> Result<(u32, Vec<String>), ApiError> {
        let today = local_day(self.clock.now(), self.policy.library.utc_offset_minutes);
        let now = self.clock.now();
        Ok(crate::mail::send_due(
            self.store.as_mut(),
            &self.policy,
            today,
            now,
            days,
            mailer,
        )?)
    }

    /// The library's card-signing key: made on first use from the OS's
    /// randomness and kept in the database with everything else the
    /// library backs up.
    pub fn card_key(&mut self) -> Result<ed25519_dalek::SigningKey, ApiError> {
        let seed = match self.store.meta(crate::card::KEY_META)? {
            Some(seed) => seed,
            None => {
                // Looked at again inside the write transaction: another
                // server sharing the database may have just made one.
                self.store.begin()?;
                let made = (|| match self.store.meta(crate::card::KEY_META)? {
                    Some(seed) => Ok(seed),
                    None => {
                        let seed = random_hex(32)?;
                        self.store.set_meta(crate::card::KEY_META, &seed)?;
                        Ok::<_, ApiError>(seed)
                    }
                })();
                match made {
                    Ok(seed) => {
                        self.store.commit()?;
                        seed
                    }
                    Err(e) => {
                        self.store.rollback();
                        return Err(e);
                    }
                }
            }
        };
        crate::card::signing_key(&seed).map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The patron's card as signed claims: number, membership expiry,
    /// whether the account is blocked (and why), issued now.
    /// Everything the library holds about a patron, for the patron (the
    /// privacy export): their record, loans, kept history, holds,
    /// registrations, every decision on their requests, e-mail reminder
    /// settings and the devices that synced. Never the PIN's hash.
    pub fn export(&mut self, card: &str) -> Result<serde_json::Value, ApiError> {
        use serde_json::json;
        let now = self.clock.now();
        // The reading lists first: reading them takes the document cache.
        let prefs_id = prefs_doc_id(card);
        let lists = match self.store.doc(&prefs_id)? {
            Some(_) => {
                let d = self.take(&prefs_id, DocKind::Prefs)?;
                let lists = pustaka_replica::prefs::read_lists(&d.doc);
                self.cache.put(prefs_id.clone(), d);
                lists
            }
            None => vec![],
        };
        let ctx = self.ctx();
        let p = ctx.patron(card)?;
        let facts = ctx.patron_facts(&p)?;
        let store = &*ctx.store;
        let loan = |l: &crate::storage::LoanRow| -> Result<serde_json::Value, ApiError> {
            let (_, t) = ctx.copy_and_title(&l.copy)?;
            Ok(json!({
                "copy": l.copy, "title_id": t.id, "title": t.title,
                "checked_out": l.checked_out.to_string(), "due": l.due.to_string(),
                "renewals_used": l.renewals_used,
                "returned": l.returned.map(|d| d.to_string()),
            }))
        };
        let loans = store
            .open_loans_of(card)?
            .iter()
            .map(loan)
            .collect::<Result<Vec<_>, _>>()?;
        let history = store
            .returned_loans_of(card, u32::MAX)?
            .iter()
            .map(loan)
            .collect::<Result<Vec<_>, _>>()?;
        let holds: Vec<serde_json::Value> = store
            .holds_of(card)?
            .into_iter()
            .map(|h| {
                json!({
                    "id": h.id, "title_id": h.title_id, "status": h.status,
                    "pickup_branch": h.pickup_branch, "placed_at": h.placed_at,
                    "suspended_until": h.suspended_until.map(|d| d.to_string()),
                    "pickup_by": h.pickup_by.map(|d| d.to_string()),
                })
            })
            .collect();
        let registrations: Vec<serde_json::Value> = store
            .registrations_of(card)?
            .into_iter()
            .map(|r| json!({ "event": r.event_id, "status": r.status }))
            .collect();
        let mut decisions = vec![];
        for (id, text) in store.outcomes_of(card)? {
            let outcome: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| ApiError::Internal(format!("outcome {id}: {e}")))?;
            decisions.push(json!({ "intent": id, "outcome": outcome }));
        }
        let email = store
            .email_prefs(card)?
            .map(|(email, lang)| json!({ "email": email, "lang": lang }));
        let questions: Vec<serde_json::Value> = store
            .questions_of(card)?
            .into_iter()
            .map(|q| {
                json!({
                    "id": q.id, "asked_at": q.asked_at, "lang": q.lang, "question": q.question,
                    "answer": q.answer, "answered_at": q.answered_at,
                })
            })
            .collect();
        // Survey answers are kept apart from the card: only which surveys
        // the patron answered, and when, is held about them.
        let surveys: Vec<serde_json::Value> = store
            .surveys_answered_by(card)?
            .into_iter()
            .map(|(survey, at)| json!({ "survey": survey, "answered_at": at }))
            .collect();
        let devices: Vec<serde_json::Value> = store
            .devices_of(card)?
            .into_iter()
            .map(|(device, last)| json!({ "device": device, "last_synced": last }))
            .collect();
        Ok(json!({
            "format": "pustaka-export/1",
            "exported_at": now,
            "library": ctx.policy.library.name,
            "patron": {
                "card": p.card, "name": p.name, "patron_type": p.patron_type,
                "status": p.status, "expires": p.expires.to_string(),
                "home_branch": p.home_branch, "email": p.email,
                "fines_owed": facts.fines_owed, "keep_history": p.keep_history,
            },
            "loans": loans,
            "loan_history": history,
            "holds": holds,
            "event_registrations": registrations,
            "decisions": decisions,
            "email_reminders": email,
            "questions_to_librarians": questions,
            "surveys_answered": surveys,
            "devices": devices,
            "reading_lists": lists,
            "documents": { "circ": p.circ_doc, "intents": p.intents_doc, "prefs": prefs_id },
        }))
    }

    pub fn card_token(
        &mut self,
        card: &str,
    ) -> Result<(String, crate::card::CardClaims), ApiError> {
        let key = self.card_key()?;
        let now = self.clock.now();
        let ctx = self.ctx();
        let p = ctx.patron(card)?;
        let facts = ctx.patron_facts(&p)?;
        let status = match pustaka_domain::rules::check_account(ctx.policy, &facts, ctx.today) {
            Ok(()) => "active".to_string(),
            Err(r) => r.code().to_string(),
        };
        let claims = crate::card::CardClaims {
            card: p.card.clone(),
            expires: p.expires,
            status,
            issued: now.div_euclid(1000),
        };
        Ok((crate::card::issue(&key, &claims), claims))
    }

    /// Whose feed a secret opens (`None`: nobody's, or an old one).
    pub fn feed_owner(&self, token: &str) -> Result<Option<String>, ApiError> {
        if token.len() != 40 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        Ok(self.store.card_by_feed_token(&token_hash(token))?)
    }

    pub fn logout(&mut self, token: &str) -> Result<(), ApiError> {
        self.store.begin()?;
        self.store.revoke_token(&token_hash(token))?;
        self.store.commit()?;
        Ok(())
    }

    /// The documents a patron may reach: their own two and the calendar.
    /// Anything else answers exactly like a document that does not exist.
    fn resolve(&self, card: &str, id: &str) -> Result<Option<DocKind>, ApiError> {
        if id == self.calendar_id {
            return Ok(Some(DocKind::Calendar));
        }
        if id.len() > 64 {
            return Ok(None);
        }
        Ok(self
            .store
            .doc(id)?
            .filter(|d| d.owner == card)
            .and_then(|d| DocKind::parse(&d.kind)))
    }

    // ---- sync -----------------------------------------------------------

    /// One sync round for one patron: apply the device's messages, decide
    /// new intents exactly once, re-project, commit, and only then build
    /// the replies.
    pub fn sync(
        &mut self,
        card: &str,
        req: SyncRequest,
    ) -> Result<(SyncResponse, Vec<String>), ApiError> {
        let (mut results, changed) = self.sync_batch(&[(card.to_string(), req)]);
        match results.pop() {
            Some(Ok(r)) => Ok((r, changed)),
            Some(Err(e)) => Err(e),
            None => Err(ApiError::Internal("empty batch".into())),
        }
    }

    /// Several patrons' sync requests in one transaction: one commit (one
    /// fsync) acknowledges them all. A request refused before it changed
    /// anything fails alone; a storage failure fails the whole batch, and
    /// every device retries.
    pub fn sync_batch(
        &mut self,
        jobs: &[(String, SyncRequest)],
    ) -> (Vec<Result<SyncResponse, ApiError>>, Vec<String>) {
        let n = jobs.len();
        let r = self.transaction(|hub, fx| {
            let mut out = Vec::with_capacity(n);
            for (card, req) in jobs {
                if let Err(e) = hub.check_sync_request(card, req) {
                    out.push(Err(e));
                    continue;
                }
                out.push(Ok(hub.sync_in_tx(card, req, fx)?));
            }
            Ok(out)
        });
        match r {
            Ok((out, changed)) => (out, changed),
            Err(e) => ((0..n).map(|_| Err(e.clone())).collect(), vec![]),
        }
    }

    fn check_sync_request(&self, card: &str, req: &SyncRequest) -> Result<(), ApiError> {
        if req.device.is_empty() || req.device.len() > 64 {
            return Err(ApiError::Malformed(
                "device id must be 1-64 characters".into(),
            ));
        }
        self.store.patron(card)?.ok_or(ApiError::Unauthorized)?;
        Ok(())
    }

    fn sync_in_tx(
        &mut self,
        card: &str,
        req: &SyncRequest,
        fx: &mut Effects,
    ) -> Result<SyncResponse, ApiError> {
        let device = &req.device;
        let patron = self.store.patron(card)?.ok_or(ApiError::Unauthorized)?;
        let mut replies: Vec<(String, Option<DocKind>, Option<WireError>)> = vec![];
        let mut states = BTreeMap::new();
        let mut seen = std::collections::BTreeSet::new();
        let prefs_id = prefs_doc_id(card);
        for m in &req.docs {
            if !seen.insert(m.doc.clone()) {
                continue;
            }
            if m.doc == prefs_id && self.store.doc(&m.doc)?.is_none() {
                self.store.insert_doc(&DocRow {
                    id: m.doc.clone(),
                    kind: DocKind::Prefs.code().into(),
                    owner: card.to_string(),
                })?;
            }
            let Some(kind) = self.resolve(card, &m.doc)? else {
                let err = WireError {
                    code: "unknown_document".into(),
                    message: "no such document".into(),
                };
                replies.push((m.doc.chars().take(64).collect(), None, Some(err)));
                continue;
            };
            let persisted = self.store.sync_state(device, &m.doc)?;
            let mut state = match rsync::restore_state(persisted.as_deref(), kind.server_owned()) {
                Ok(s) => s,
                Err(_) => rsync::restore_state(None, kind.server_owned())
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            };
            let mut d = self.take(&m.doc, kind)?;
            let mut error = None;
            if let Some(bytes) = &m.message
                && let Err(e) = rsync::receive(&mut d.doc, &mut state, bytes, &self.limits)
            {
                let code = match e {
                    pustaka_replica::ReplicaError::TooManyChanges { .. } => "too_many_changes",
                    pustaka_replica::ReplicaError::Limit(_) => "message_too_large",
                    _ => "bad_message",
                };
                error = Some(WireError {
                    code: code.into(),
                    message: e.to_string(),
                });
            }
            self.put_dirty(&m.doc, d);
            states.insert(m.doc.clone(), (state, persisted));
            replies.push((m.doc.clone(), Some(kind), error));
        }
        // Decide what the patron asked for, in UUIDv7 (creation) order. Only
        // entries not yet decided are read: the cached document remembers
        // which keys have outcomes, so a sync costs the new intents only.
        // At most MAX_DECISIONS_PER_SYNC of them: the others stay out of
        // `decided` and are read again by the next sync.
        if let Some(mut d) = self.dirty.remove(&patron.intents_doc) {
            let decided = match d.decided.take() {
                Some(set) => set,
                None => self
                    .store
                    .outcomes_of(card)?
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect(),
            };
            let mut fresh: Vec<String> = d
                .doc
                .keys(automerge::ROOT)
                .filter(|k| k.len() <= MAX_INTENT_KEY && !decided.contains(k))
                .collect();
            fresh.sort();
            if fresh.len() > MAX_DECISIONS_PER_SYNC {
                fresh.truncate(MAX_DECISIONS_PER_SYNC);
                if !self.undecided.contains(&patron.intents_doc) {
                    self.undecided.push(patron.intents_doc.clone());
                }
            }
            let entries = read_intents_with_keys(&d.doc, fresh);
            d.decided = Some(decided);
            let mut ctx = self.ctx();
            for (key, parsed) in entries {
                if ctx.store.outcome(&key)?.is_none() {
                    match parsed {
                        Ok(intent) => {
                            ctx.decide(card, &intent, fx)?;
                        }
                        Err(why) => ctx.reject_malformed(card, &key, &why, fx)?,
                    }
                }
                if let Some(set) = d.decided.as_mut() {
                    set.insert(key);
                }
            }
            self.put_dirty(&patron.intents_doc, d);
        }
        // Project and save now so the replies below carry the outcomes.
        self.project(fx)?;
        *fx = Effects::default();
        let mut out = vec![];
        let now = self.clock.now();
        let mut new_states = false;
        for (doc, kind, mut error) in replies {
            if error.is_none() && self.retired.contains(&doc) {
                // Replaced in this very transaction by a new epoch.
                error = Some(WireError {
                    code: "epoch_ended".into(),
                    message: "this document was replaced by a new one: follow the directory".into(),
                });
            }
            let message = match (kind, &error) {
                (Some(_), None) => {
                    let (Some((state, persisted)), Some(d)) =
                        (states.get_mut(&doc), self.dirty.get_mut(&doc))
                    else {
                        return Err(ApiError::Internal("sync state lost".into()));
                    };
                    let msg = rsync::generate(&mut d.doc, state);
                    // Unchanged states (most documents, most requests) are
                    // not written again.
                    let encoded = rsync::persist_state(state);
                    if persisted.as_deref() != Some(encoded.as_slice()) {
                        self.store
                            .put_sync_state(card, device, &doc, &encoded, now)?;
                        new_states |= persisted.is_none();
                    }
                    msg
                }
                _ => None,
            };
            out.push(DocReply {
                doc,
                message,
                error,
            });
        }
        // A device new to one of these documents (most often a new device):
        // the patron's devices with stored states stay bounded.
        if new_states {
            let dropped = self
                .store
                .forget_old_devices(card, device, MAX_SYNC_DEVICES)?;
            if dropped > 0 {
                tracing::info!(
                    "card {card}: dropped the sync states of {dropped} least recently used device(s)"
                );
            }
        }
        // A new epoch may have changed the patron's documents just now.
        let patron = self.store.patron(card)?.unwrap_or(patron);
        Ok(SyncResponse {
            docs: out,
            directory: self.directory(&patron),
        })
    }
}
