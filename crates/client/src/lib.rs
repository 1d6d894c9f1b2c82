//! The headless patron device.
//!
//! Everything a patron's app does below the screen: the SQLite replica of
//! their documents, a read model (loans, holds, events, outcomes, pending
//! requests), intents created offline with a local pre-check that explains a
//! refusal before anything is sent, a holiday-aware due-date preview, and a
//! sync loop with backoff that follows the server's live poke. The Tauri
//! shell and the command-line device are thin layers over [`Device`].

mod account;
mod card;
pub mod catalog;
mod faq;
pub mod household;
pub mod ics;
mod lists;
pub mod notify;
pub mod reminders;
pub mod store;
pub mod transport;
pub use pustaka_views as view;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use automerge::sync::State;
use automerge::{ActorId, ChangeHash, ROOT, ReadDoc};
use chrono::NaiveDate;
use pustaka_domain::{Millis, Reason};
use pustaka_replica::intent::{append_intent, read_intents};
use pustaka_replica::sync::{self as rsync, Limits};
use pustaka_replica::wire::{Directory, DocMessage, SyncRequest};
use pustaka_replica::{Calendar, Circ, DocKind, Intent, IntentKind};
use tokio::sync::Notify;
use uuid::Uuid;

pub use card::CardToken;
pub use store::Store;
pub use transport::Transport;
pub use view::account::*;

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum DeviceError {
    #[error("the library cannot be reached: {0}")]
    Offline(String),
    #[error("signed out: sign in again")]
    SignedOut,
    #[error("not signed in on this device")]
    NotSignedIn,
    #[error("nothing synced yet: connect once to load your account")]
    NoData,
    #[error("the library would refuse this: {0}")]
    Refused(Reason),
    #[error("server error {code}: {message}")]
    Server { code: String, message: String },
    #[error("storage: {0}")]
    Storage(String),
    #[error("replica: {0}")]
    Replica(String),
    /// The patron's input cannot be sent as it is (the code says why).
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl DeviceError {
    /// The stable code used across IPC.
    pub fn code(&self) -> String {
        match self {
            DeviceError::Offline(_) => "offline".into(),
            DeviceError::SignedOut => "signed_out".into(),
            DeviceError::NotSignedIn => "not_signed_in".into(),
            DeviceError::NoData => "no_data".into(),
            DeviceError::Refused(r) => r.code().into(),
            DeviceError::Server { code, .. } => code.clone(),
            DeviceError::Storage(_) => "storage".into(),
            DeviceError::Replica(_) => "replica".into(),
            DeviceError::Invalid(code) => code.clone(),
        }
    }
}

impl From<pustaka_replica::ReplicaError> for DeviceError {
    fn from(e: pustaka_replica::ReplicaError) -> Self {
        DeviceError::Replica(e.to_string())
    }
}

/// Time enters the device here.
pub trait DeviceClock: Send + Sync {
    fn now(&self) -> Millis;
}

/// Where the device remembers which reminders it showed.
const FIRED_KEY: &str = "reminders.fired";

pub struct SystemClock;

impl DeviceClock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    }
}

impl<F: Fn() -> Millis + Send + Sync> DeviceClock for F {
    fn now(&self) -> Millis {
        self()
    }
}

/// At most this many round trips per sync; automerge settles in 2-3.
const MAX_ROUNDS: usize = 8;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncReport {
    pub requests: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub replicas_reset: usize,
    /// New epochs followed (server documents that changed their ids).
    pub epochs_followed: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Account {
    server: String,
    card: String,
    name: String,
    token: String,
    directory: Directory,
}

struct Inner {
    store: Store,
    device_id: String,
    account: Option<Account>,
    docs: BTreeMap<DocKind, store::LocalDoc>,
    online: bool,
    last_error: Option<String>,
    /// Sync states kept between successful sessions, so a new intent goes
    /// out in the first request. Dropped after any error (restart from the
    /// persisted states, as automerge advises) and when documents reload.
    live: BTreeMap<DocKind, State>,
    circ_cache: Option<(Vec<ChangeHash>, Option<Circ>)>,
    calendar_cache: Option<(Vec<ChangeHash>, Option<CalendarAndPolicy>)>,
}

type CalendarAndPolicy = (Calendar, pustaka_domain::Policy);

pub struct Device {
    inner: Mutex<Inner>,
    transport: Transport,
    clock: Arc<dyn DeviceClock>,
    kick: Notify,
    /// A new epoch changed the document ids: the live poke re-subscribes.
    epoch: Notify,
    limits: Limits,
    /// Bumped after every sync attempt and local change; the shell
    /// forwards it to the UI.
    changes: tokio::sync::watch::Sender<u64>,
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // A failing OS random source leaves zeros; ids then still differ by time.
    let _ = getrandom::fill(&mut b);
    b
}

fn doc_id(dir: &Directory, kind: DocKind) -> &str {
    match kind {
        DocKind::Circ => &dir.circ,
        DocKind::Intents => &dir.intents,
        DocKind::Calendar => &dir.calendar,
        DocKind::Prefs => &dir.prefs,
    }
}

impl Inner {
    fn load_docs(&mut self) -> Result<(), DeviceError> {
        self.docs.clear();
        self.live.clear();
        let Some(acc) = &self.account else {
            return Ok(());
        };
        let dir = acc.directory.clone();
        for kind in DocKind::ALL {
            if doc_id(&dir, kind).is_empty() {
                // A server without this kind of document.
                continue;
            }
            let mut d = self.store.load_doc(doc_id(&dir, kind), kind.code())?;
            if !kind.server_owned() {
                // One actor per device install, for the one document it writes.
                if let Ok(bytes) = Uuid::parse_str(&self.device_id) {
                    d.doc.set_actor(ActorId::from(bytes.as_bytes().as_slice()));
                }
            }
            self.docs.insert(kind, d);
        }
        Ok(())
    }

    fn account(&self) -> Result<&Account, DeviceError> {
        self.account.as_ref().ok_or(DeviceError::NotSignedIn)
    }

    fn doc(&self, kind: DocKind) -> Result<&store::LocalDoc, DeviceError> {
        self.docs.get(&kind).ok_or(DeviceError::NotSignedIn)
    }

    /// `circ`, hydrated once per version of the document.
    fn circ(&mut self) -> Result<Option<Circ>, DeviceError> {
        let d = self
            .docs
            .get_mut(&DocKind::Circ)
            .ok_or(DeviceError::NotSignedIn)?;
        let heads = d.doc.get_heads();
        if let Some((h, c)) = &self.circ_cache
            && *h == heads
        {
            return Ok(c.clone());
        }
        let c = Circ::read(&d.doc)?;
        self.circ_cache = Some((heads, c.clone()));
        Ok(c)
    }

    /// `calendar` and the library's policy, parsed once per version.
    fn calendar(&mut self) -> Result<Option<(Calendar, pustaka_domain::Policy)>, DeviceError> {
        let d = self
            .docs
            .get_mut(&DocKind::Calendar)
            .ok_or(DeviceError::NotSignedIn)?;
        let heads = d.doc.get_heads();
        if let Some((h, c)) = &self.calendar_cache
            && *h == heads
        {
            return Ok(c.clone());
        }
        let c = match Calendar::read(&d.doc)? {
            Some(cal) => {
                let policy = cal.parsed_policy()?;
                Some((cal, policy))
            }
            None => None,
        };
        self.calendar_cache = Some((heads, c.clone()));
        Ok(c)
    }

    fn save_account(&self) -> Result<(), DeviceError> {
        match &self.account {
            Some(a) => self.store.set(
                "account",
                &serde_json::to_string(a).map_err(|e| DeviceError::Storage(e.to_string()))?,
            ),
            None => self.store.unset("account"),
        }
    }

    /// Intent ids the server has stored (their changes are below the
    /// server's acknowledged heads).
    fn received_intents(&self) -> Result<std::collections::BTreeSet<String>, DeviceError> {
        let d = self.doc(DocKind::Intents)?;
        let heads: Vec<ChangeHash> = self
            .store
            .get("intents_acked")?
            .unwrap_or_default()
            .split(',')
            .filter_map(|h| h.parse().ok())
            .filter(|h| d.doc.get_change_by_hash(h).is_some())
            .collect();
        if heads.is_empty() {
            return Ok(Default::default());
        }
        Ok(d.doc.keys_at(ROOT, &heads).collect())
    }
}

impl Device {
    /// Opens (or creates) the device's database at `path`.
    pub fn open(path: &Path, clock: Arc<dyn DeviceClock>) -> Result<Device, DeviceError> {
        let store = Store::open(path)?;
        let device_id = match store.get("device_id")? {
            Some(id) => id,
            None => {
                let id = Uuid::from_bytes(random_bytes::<16>()).to_string();
                store.set("device_id", &id)?;
                id
            }
        };
        let account = match store.get("account")? {
            Some(json) => serde_json::from_str(&json).ok(),
            None => None,
        };
        // Remembered from the last attempt, until the next one.
        let online = store.get("online")?.as_deref() == Some("1");
        let mut inner = Inner {
            store,
            device_id,
            account,
            docs: BTreeMap::new(),
            online,
            last_error: None,
            live: BTreeMap::new(),
            circ_cache: None,
            calendar_cache: None,
        };
        inner.load_docs()?;
        Ok(Device {
            inner: Mutex::new(inner),
            transport: Transport::new(),
            clock,
            kick: Notify::new(),
            epoch: Notify::new(),
            // Message size and change-count limits still guard the device;
            // the whole-document size is the library's to bound, and
            // skipping it spares a copy of the document per message.
            limits: Limits {
                max_doc_bytes: usize::MAX,
                ..Limits::default()
            },
            changes: tokio::sync::watch::Sender::new(0),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, DeviceError> {
        self.inner
            .lock()
            .map_err(|_| DeviceError::Storage("device state poisoned".into()))
    }

    /// A receiver that sees a new revision after every sync attempt and
    /// every local change (intent recorded, sign-in, sign-out).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|r| *r += 1);
    }

    /// A device-local value (caches, preferences); removed at sign-out.
    pub fn local_get(&self, key: &str) -> Result<Option<String>, DeviceError> {
        self.lock()?.store.get(&format!("local:{key}"))
    }

    pub fn local_set(&self, key: &str, value: &str) -> Result<(), DeviceError> {
        self.lock()?.store.set(&format!("local:{key}"), value)
    }

    /// The signed-in library's address and the session token, for a
    /// request on the patron's behalf.
    pub(crate) fn server_and_token(&self) -> Result<(String, String), DeviceError> {
        let inner = self.lock()?;
        let a = inner.account()?;
        Ok((a.server.clone(), a.token.clone()))
    }

    pub(crate) fn transport_ref(&self) -> &Transport {
        &self.transport
    }

    pub fn device_id(&self) -> Result<String, DeviceError> {
        Ok(self.lock()?.device_id.clone())
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// Signs in. Another patron's data on this device is removed first.
    pub async fn login(&self, server: &str, card: &str, pin: &str) -> Result<(), DeviceError> {
        let server = server.trim_end_matches('/').to_string();
        let reply = self.transport.login(&server, card, pin).await?;
        let mut inner = self.lock()?;
        if inner
            .account
            .as_ref()
            .is_some_and(|a| a.card != reply.card || a.server != server)
        {
            inner.store.wipe()?;
        }
        inner.account = Some(Account {
            server,
            card: reply.card,
            name: reply.name,
            token: reply.token,
            directory: reply.directory,
        });
        inner.save_account()?;
        inner.load_docs()?;
        drop(inner);
        self.changed();
        Ok(())
    }

    /// (server, card, name) of the patron signed in on this device.
    pub fn signed_in_as(&self) -> Option<(String, String, String)> {
        let inner = self.lock().ok()?;
        let a = inner.account.as_ref()?;
        Some((a.server.clone(), a.card.clone(), a.name.clone()))
    }

    /// The library's server this device is signed in to.
    pub fn server(&self) -> Result<String, DeviceError> {
        Ok(self.lock()?.account()?.server.clone())
    }

    /// Signs out and removes the patron's data from this device.
    pub async fn logout(&self) -> Result<(), DeviceError> {
        let acc = self.lock()?.account.clone();
        if let Some(a) = acc {
            // Best effort: the token is revoked if the library is reachable.
            let _ = self.transport.logout(&a.server, &a.token).await;
        }
        let mut inner = self.lock()?;
        inner.store.wipe()?;
        inner.account = None;
        inner.docs.clear();
        drop(inner);
        self.changed();
        Ok(())
    }

    pub fn is_signed_in(&self) -> bool {
        self.lock().is_ok_and(|i| i.account.is_some())
    }

    /// Wakes the sync loop (after a local change, or on a poke).
    pub fn kick(&self) {
        self.kick.notify_one();
        self.changed();
    }

    // ---- the read model ---------------------------------------------------

    pub fn circ(&self) -> Result<Option<Circ>, DeviceError> {
        self.lock()?.circ()
    }

    pub fn calendar(&self) -> Result<Option<Calendar>, DeviceError> {
        Ok(self.lock()?.calendar()?.map(|(c, _)| c))
    }

    // ---- reminders -----------------------------------------------------------

    /// Every reminder the replica calls for now or later (see [`reminders`]).
    pub fn reminder_plan(
        &self,
        days: &[u32],
        lang: pustaka_domain::Lang,
    ) -> Result<Vec<reminders::Reminder>, DeviceError> {
        let view = self.view()?;
        let (_, policy) = self.lock()?.calendar()?.ok_or(DeviceError::NoData)?;
        Ok(reminders::plan(
            &view,
            &policy,
            days,
            lang,
            self.clock.now(),
        ))
    }

    /// Reminders this device has shown, still about current loans and holds.
    pub fn fired_reminders(&self) -> Result<std::collections::BTreeSet<String>, DeviceError> {
        Ok(self
            .local_get(FIRED_KEY)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default())
    }

    /// The reminders to show now, not yet shown on this device.
    pub fn due_reminders(
        &self,
        days: &[u32],
        lang: pustaka_domain::Lang,
    ) -> Result<(Vec<reminders::Reminder>, Vec<reminders::Reminder>), DeviceError> {
        let plan = self.reminder_plan(days, lang)?;
        let fired = self.fired_reminders()?;
        let due = reminders::to_fire(&plan, &fired, self.clock.now())
            .into_iter()
            .cloned()
            .collect();
        Ok((due, plan))
    }

    /// Remembers that `shown` were shown, and forgets keys no longer in the
    /// plan (renewed or returned loans, collected holds).
    pub fn mark_fired(
        &self,
        plan: &[reminders::Reminder],
        shown: &[String],
    ) -> Result<(), DeviceError> {
        let mut fired = reminders::remembered(plan, &self.fired_reminders()?);
        fired.extend(shown.iter().cloned());
        let json =
            serde_json::to_string(&fired).map_err(|e| DeviceError::Storage(e.to_string()))?;
        self.local_set(FIRED_KEY, &json)
    }

    /// Everything the screens show, computed from the replica alone.
    pub fn view(&self) -> Result<AccountView, DeviceError> {
        let mut inner = self.lock()?;
        let circ = inner.circ()?.ok_or(DeviceError::NoData)?;
        let (calendar, policy) = inner.calendar()?.ok_or(DeviceError::NoData)?;
        let intents = read_intents(&inner.doc(DocKind::Intents)?.doc);
        let received = inner.received_intents()?;
        view::build(
            &circ,
            &calendar,
            policy,
            &intents,
            &received,
            self.clock.now(),
        )
        .map_err(DeviceError::from)
    }

    pub fn status(&self) -> SyncStatus {
        let Ok(inner) = self.lock() else {
            return SyncStatus::default();
        };
        let pending = match (
            inner.docs.get(&DocKind::Intents),
            inner.docs.get(&DocKind::Circ),
        ) {
            (Some(i), Some(c)) => {
                let decided = pustaka_replica::outcome_keys(&c.doc);
                i.doc.keys(ROOT).filter(|k| !decided.contains(k)).count()
            }
            _ => 0,
        };
        SyncStatus {
            online: inner.online,
            last_synced: inner
                .store
                .get("last_synced")
                .ok()
                .flatten()
                .and_then(|s| s.parse().ok()),
            pending,
            last_error: inner.last_error.clone(),
            signed_in: inner.account.is_some(),
        }
    }

    /// What renewing this loan now would do, or why the library would refuse.
    pub fn preview_renewal(
        &self,
        copy: &str,
    ) -> Result<pustaka_domain::rules::RenewQuote, DeviceError> {
        let v = self.rules()?;
        v.renew(copy).map_err(DeviceError::Refused)
    }

    fn rules(&self) -> Result<view::Rules, DeviceError> {
        let mut inner = self.lock()?;
        let circ = Circ::read_facts(&inner.doc(DocKind::Circ)?.doc)?.ok_or(DeviceError::NoData)?;
        let (calendar, policy) = inner.calendar()?.ok_or(DeviceError::NoData)?;
        Ok(view::Rules::new(circ, &calendar, policy, self.clock.now()))
    }

    // ---- intents ------------------------------------------------------------

    /// Records an intent after the local pre-check; it syncs when it can.
    pub fn request(&self, kind: IntentKind) -> Result<Uuid, DeviceError> {
        self.rules()?.check(&kind).map_err(DeviceError::Refused)?;
        self.append(kind)
    }

    /// Records an intent without the pre-check (the library decides anyway;
    /// used when the patron insists, and by tests of the server's rules).
    pub fn request_unchecked(&self, kind: IntentKind) -> Result<Uuid, DeviceError> {
        self.append(kind)
    }

    fn append(&self, kind: IntentKind) -> Result<Uuid, DeviceError> {
        let intent = Intent::new(
            kind,
            self.clock.now(),
            &self.lock()?.device_id,
            random_bytes::<10>(),
        );
        self.edit_own(DocKind::Intents, |doc| Ok(append_intent(doc, &intent)?))?;
        Ok(intent.id)
    }

    /// Applies `edit` to a document this device writes (`intents`, `prefs`)
    /// and stores it in one transaction; it syncs when it can.
    pub(crate) fn edit_own<R>(
        &self,
        kind: DocKind,
        edit: impl FnOnce(&mut automerge::AutoCommit) -> Result<R, DeviceError>,
    ) -> Result<R, DeviceError> {
        debug_assert!(!kind.server_owned());
        let mut inner = self.lock()?;
        let id = doc_id(&inner.account()?.directory, kind).to_string();
        let inner = &mut *inner;
        let d = inner.docs.get_mut(&kind).ok_or(DeviceError::NoData)?;
        let r = match edit(&mut d.doc) {
            Ok(r) => r,
            Err(e) => {
                // Nothing half-done stays in memory.
                inner.load_docs()?;
                return Err(e);
            }
        };
        inner.store.begin()?;
        match inner
            .store
            .save_doc(&id, d)
            .and_then(|_| inner.store.commit())
        {
            Ok(()) => {}
            Err(e) => {
                inner.store.rollback();
                // The in-memory document holds a change that is not on disk:
                // reload so the two never disagree.
                inner.load_docs()?;
                return Err(e);
            }
        }
        self.kick.notify_one();
        Ok(r)
    }

    pub fn renew(&self, copy: &str) -> Result<Uuid, DeviceError> {
        let seen_due = self.circ()?.and_then(|c| {
            c.loans
                .get(copy)
                .and_then(|l| l.due.parse::<NaiveDate>().ok())
        });
        self.request(IntentKind::Renew {
            copy: copy.into(),
            seen_due,
        })
    }

    pub fn renew_all(&self) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::RenewAll)
    }

    pub fn place_hold(&self, title: &str, branch: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::PlaceHold {
            title: title.into(),
            branch: branch.into(),
        })
    }

    pub fn cancel_hold(&self, hold: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::CancelHold { hold: hold.into() })
    }

    pub fn suspend_hold(&self, hold: &str, until: NaiveDate) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::SuspendHold {
            hold: hold.into(),
            until,
        })
    }

    pub fn resume_hold(&self, hold: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::ResumeHold { hold: hold.into() })
    }

    pub fn change_pickup(&self, hold: &str, branch: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::ChangePickup {
            hold: hold.into(),
            branch: branch.into(),
        })
    }

    pub fn register_event(&self, event: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::RegisterEvent {
            event: event.into(),
        })
    }

    pub fn cancel_registration(&self, event: &str) -> Result<Uuid, DeviceError> {
        self.request(IntentKind::CancelRegistration {
            event: event.into(),
        })
    }

    // ---- sync ---------------------------------------------------------------

    /// Syncs every document until neither side has anything to say (bounded),
    /// then repairs a server-owned replica that diverged (a forged local
    /// change) by dropping it and fetching it again.
    pub async fn sync_once(&self) -> Result<SyncReport, DeviceError> {
        let r = self.sync_session().await;
        self.changed();
        r
    }

    async fn sync_session(&self) -> Result<SyncReport, DeviceError> {
        let mut report = SyncReport::default();
        let before = self.lock()?.account.as_ref().map(|a| a.directory.clone());
        let mut r = self.sync_rounds(&mut report).await;
        // A new epoch: the library named new ids for its documents. Fetch
        // them in this same session, then forget the retired replicas.
        let after = self.lock()?.account.as_ref().map(|a| a.directory.clone());
        if r.is_ok()
            && let (Some(old), Some(new)) = (&before, &after)
            && old != new
        {
            self.epoch.notify_waiters();
            r = self.sync_rounds(&mut report).await;
            if r.is_ok() {
                let inner = self.lock()?;
                for kind in DocKind::ALL {
                    let (o, n) = (doc_id(old, kind), doc_id(new, kind));
                    if o != n {
                        inner.store.drop_doc(o)?;
                    }
                }
                report.epochs_followed += 1;
            }
        }
        let r = match r {
            Ok(diverged) if !diverged.is_empty() => {
                {
                    let mut inner = self.lock()?;
                    for id in &diverged {
                        inner.store.drop_doc(id)?;
                    }
                    inner.load_docs()?;
                }
                report.replicas_reset = diverged.len();
                self.sync_rounds(&mut report).await.map(|_| ())
            }
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        let mut inner = self.lock()?;
        let was_online = inner.online;
        match &r {
            Ok(()) => {
                inner.online = true;
                inner.last_error = None;
            }
            Err(e) => {
                inner.online = !matches!(e, DeviceError::Offline(_));
                inner.last_error = Some(e.to_string());
            }
        }
        // One small transaction for the status the app shows after a restart.
        inner.store.begin()?;
        let saved = (|| {
            if r.is_ok() {
                inner
                    .store
                    .set("last_synced", &self.clock.now().to_string())?;
            }
            if inner.online != was_online || r.is_ok() {
                inner
                    .store
                    .set("online", if inner.online { "1" } else { "0" })?;
            }
            inner.store.commit()
        })();
        if saved.is_err() {
            inner.store.rollback();
        }
        saved?;
        r.map(|_| report)
    }

    /// Returns the ids of server-owned documents whose replica diverged.
    async fn sync_rounds(&self, report: &mut SyncReport) -> Result<Vec<String>, DeviceError> {
        let (server, token, device, dir) = {
            let inner = self.lock()?;
            let a = inner.account()?;
            (
                a.server.clone(),
                a.token.clone(),
                inner.device_id.clone(),
                a.directory.clone(),
            )
        };
        let mut states: BTreeMap<DocKind, State> = std::mem::take(&mut self.lock()?.live);
        let mut restored = std::collections::BTreeSet::new();
        {
            let inner = self.lock()?;
            for kind in DocKind::ALL {
                if states.contains_key(&kind) {
                    continue;
                }
                let persisted = inner.store.sync_state(doc_id(&dir, kind))?;
                let s = rsync::restore_state(persisted.as_deref(), false)
                    .unwrap_or_else(|_| State::new());
                states.insert(kind, s);
                restored.insert(kind);
            }
        }
        // Every request carries all documents (with or without a message),
        // so the server can answer with news on any of them. After the first
        // round, a request is only worth sending when it gives the server
        // changes or asks it for some; a bare acknowledgement of heads waits
        // for the next session.
        for round in 0..MAX_ROUNDS {
            let req = {
                let mut guard = self.lock()?;
                let inner = &mut *guard;
                let mut docs = vec![];
                for kind in DocKind::ALL {
                    let (Some(d), Some(s)) = (inner.docs.get_mut(&kind), states.get_mut(&kind))
                    else {
                        continue;
                    };
                    let mut message = rsync::generate(&mut d.doc, s);
                    if round == 0 && message.is_none() && !restored.contains(&kind) {
                        // A kept state has nothing to say; start from the
                        // persisted one so the server learns our heads and
                        // answers with its news.
                        let persisted = inner.store.sync_state(doc_id(&dir, kind))?;
                        *s = rsync::restore_state(persisted.as_deref(), false)
                            .unwrap_or_else(|_| State::new());
                        message = rsync::generate(&mut d.doc, s);
                    }
                    docs.push(DocMessage {
                        doc: doc_id(&dir, kind).to_string(),
                        message,
                    });
                }
                let worth_sending = docs
                    .iter()
                    .any(|d| d.message.as_deref().is_some_and(rsync::carries_payload));
                if round > 0 && !worth_sending {
                    break;
                }
                SyncRequest {
                    device: device.clone(),
                    docs,
                }
            };
            let (resp, sent, received) = self.transport.sync(&server, &token, &req).await?;
            report.requests += 1;
            report.bytes_sent += sent;
            report.bytes_received += received;
            let mut inner = self.lock()?;
            let inner = &mut *inner;
            inner.store.begin()?;
            let applied = (|| {
                for reply in &resp.docs {
                    let Some(kind) = DocKind::ALL
                        .into_iter()
                        .find(|k| doc_id(&dir, *k) == reply.doc)
                    else {
                        continue;
                    };
                    if let Some(err) = &reply.error {
                        // A document of an ended epoch: the reply's
                        // directory names its successor, followed below.
                        if doc_id(&resp.directory, kind) != reply.doc {
                            continue;
                        }
                        return Err(DeviceError::Server {
                            code: err.code.clone(),
                            message: err.message.clone(),
                        });
                    }
                    let (Some(d), Some(s)) = (inner.docs.get_mut(&kind), states.get_mut(&kind))
                    else {
                        continue;
                    };
                    if let Some(m) = &reply.message {
                        rsync::receive(&mut d.doc, s, m, &self.limits)?;
                    }
                    inner.store.save_doc(&reply.doc, d)?;
                }
                for kind in DocKind::ALL {
                    if let Some(s) = states.get(&kind) {
                        let id = doc_id(&dir, kind);
                        let encoded = rsync::persist_state(s);
                        // Most documents' shared heads did not move.
                        if inner.store.sync_state(id)?.as_deref() != Some(encoded.as_slice()) {
                            inner.store.put_sync_state(id, &encoded)?;
                        }
                    }
                }
                // Everything the server's intents heads cover is stored there.
                if let Some(heads) = states
                    .get(&DocKind::Intents)
                    .and_then(|s| s.their_heads.clone())
                {
                    let text = heads
                        .iter()
                        .map(|h| h.to_string())
                        .collect::<Vec<_>>()
                        .join(",");
                    inner.store.set("intents_acked", &text)?;
                }
                Ok(())
            })();
            match applied.and_then(|_| inner.store.commit()) {
                Ok(()) => {}
                Err(e) => {
                    inner.store.rollback();
                    inner.load_docs()?;
                    return Err(e);
                }
            }
            if resp.directory != dir {
                // A new epoch: follow the new document ids next time.
                if let Some(a) = inner.account.as_mut() {
                    a.directory = resp.directory.clone();
                }
                inner.save_account()?;
                inner.load_docs()?;
                return Ok(vec![]);
            }
        }
        let mut inner = self.lock()?;
        let mut diverged = vec![];
        for kind in [DocKind::Circ, DocKind::Calendar] {
            let (Some(d), Some(s)) = (inner.docs.get_mut(&kind), states.get(&kind)) else {
                continue;
            };
            let heads = d.doc.get_heads();
            if s.their_heads.as_ref().is_some_and(|h| *h != heads) {
                diverged.push(doc_id(&dir, kind).to_string());
            }
        }
        if diverged.is_empty() {
            inner.live = states;
        }
        Ok(diverged)
    }

    /// Runs forever: syncs, then waits for a local change, a poke or the
    /// periodic timer; backs off (1 s doubling to 60 s) while offline.
    pub async fn run(self: Arc<Self>) {
        self.run_with(Duration::from_secs(60)).await
    }

    /// [`Device::run`] with a different ceiling on the retry interval (an
    /// app in the foreground retries sooner than a background process).
    pub async fn run_with(self: Arc<Self>, max_backoff: Duration) {
        let poke = tokio::spawn(Self::follow_poke(self.clone()));
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.sync_once().await {
                Ok(_) => {
                    backoff = Duration::from_secs(1);
                    let _ =
                        tokio::time::timeout(Duration::from_secs(300), self.kick.notified()).await;
                }
                Err(DeviceError::SignedOut) | Err(DeviceError::NotSignedIn) => {
                    self.kick.notified().await;
                }
                Err(e) => {
                    tracing::debug!("sync failed: {e}; retrying in {backoff:?}");
                    let _ = tokio::time::timeout(backoff, self.kick.notified()).await;
                    backoff = (backoff * 2).min(max_backoff);
                }
            }
            if poke.is_finished() {
                break;
            }
        }
    }

    async fn follow_poke(self: Arc<Self>) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let acc = self.lock().ok().and_then(|i| i.account.clone());
            let Some(acc) = acc else {
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            };
            let me = self.clone();
            let listen = self
                .transport
                .listen(&acc.server, &acc.token, move |_| me.kick());
            // The server filters pokes by the document ids of the moment:
            // after a new epoch, listen again for the new ones.
            let r = tokio::select! {
                r = listen => r,
                () = self.epoch.notified() => {
                    backoff = Duration::from_secs(1);
                    continue;
                }
            };
            if let Err(e) = r {
                tracing::debug!("poke: {e}");
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }
}
