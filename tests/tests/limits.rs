//! Bounds a signed-in patron cannot push past, against a real
//! `pustaka-sync` on 127.0.0.1: a cached token never outlives its expiry,
//! invented device ids cannot grow the server's sync states without bound,
//! and a flood of intents is decided a bounded batch per sync without
//! losing or repeating one. Rows are checked in the server's SQLite file,
//! read-only beside the server; every loop is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use pustaka_replica::IntentKind;
use pustaka_scenarios::*;
use pustaka_sync::Clock;
use serde_json::Value;

/// A wait that must end.
async fn bounded<F: std::future::Future>(secs: u64, what: &str, f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

/// A count in the server's database, read-only beside the server.
fn rows(lib: &Library, sql_from: &str) -> i64 {
    let path = lib.dir.path().join(pustaka_sync::DB_FILE);
    let db = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    db.query_row(&format!("SELECT count(*) FROM {sql_from}"), [], |r| {
        r.get(0)
    })
    .unwrap()
}

struct Patron {
    token: String,
    expires_at: i64,
    circ: String,
    intents: String,
    calendar: String,
}

async fn sign_in(lib: &Library, card: &str) -> Patron {
    let (s, login) = lib.login_raw(card, &patron_pin(card)).await;
    assert_eq!(s, 200, "{login}");
    let dir = &login["directory"];
    Patron {
        token: login["token"].as_str().unwrap().into(),
        expires_at: login["expires_at"].as_i64().unwrap(),
        circ: dir["circ"].as_str().unwrap().into(),
        intents: dir["intents"].as_str().unwrap().into(),
        calendar: dir["calendar"].as_str().unwrap().into(),
    }
}

impl Patron {
    fn raw(&self, device: &str) -> RawClient {
        RawClient::new(
            &self.token,
            device,
            &[&self.circ, &self.intents, &self.calendar],
        )
    }
}

// ---- the token cache ---------------------------------------------------------

/// The server caches a checked token for up to a minute; a token that
/// expires within that minute is refused as soon as it has expired, even
/// though it was used (and cached) a moment before.
#[tokio::test]
async fn a_cached_token_is_refused_as_soon_as_it_expires() {
    let lib = Library::start().await;
    let p = sign_in(&lib, "1001").await;
    // Used at once (and cached for a minute from now).
    p.raw("phone").round(&lib).await;

    // Ten seconds before it expires, it still works (and is cached again).
    lib.clock.set(p.expires_at - 10_000);
    let mut raw = p.raw("phone");
    raw.round(&lib).await;
    lib.clock.set(p.expires_at - 1);
    raw.round(&lib).await;

    // One second past its expiry, well within the cache's minute.
    lib.clock.set(p.expires_at + 1_000);
    assert!(lib.clock.now() < p.expires_at - 10_000 + 60_000);
    let (s, body) = lib.post_sync(&p.token, vec![]).await;
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, v["code"].as_str()), (401, Some("unauthorized")), "{v}");

    // A fresh sign-in works.
    let again = sign_in(&lib, "1001").await;
    again.raw("phone").round(&lib).await;
}

// ---- intents decided per sync -------------------------------------------------

/// 500 intents saved offline by one device reach the server in one request;
/// the server decides at most `MAX_DECISIONS_PER_SYNC` of them per request,
/// oldest first, and the next syncs decide the rest: each ends with exactly
/// one outcome, none lost, none twice.
#[tokio::test]
async fn five_hundred_offline_intents_are_decided_a_bounded_batch_per_sync_each_once() {
    const N: usize = 500;
    let cap = pustaka_sync::hub::MAX_DECISIONS_PER_SYNC;
    let lib = Library::start().await;
    let dev = lib.device("1001", "siti").await;
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..N {
        let kind = if i % 2 == 0 {
            IntentKind::CancelRegistration { event: "E1".into() }
        } else {
            IntentKind::PlaceHold {
                title: "T4".into(),
                branch: "pusat".into(),
            }
        };
        ids.insert(dev.request_unchecked(kind).unwrap().to_string());
    }
    assert_eq!(ids.len(), N);

    let mut decided = 0;
    let mut syncs = 0;
    for _ in 0..10 {
        let report = bounded(60, "a sync", dev.sync_once()).await.unwrap();
        syncs += 1;
        let now = rows(&lib, "processed_intents WHERE card = '1001'");
        assert!(
            now - decided <= (cap * report.requests) as i64,
            "sync {syncs}: {} decided in {} requests (at most {cap} each)",
            now - decided,
            report.requests
        );
        decided = now;
        if dev.view().unwrap().pending.is_empty() {
            break;
        }
    }
    assert_eq!(decided, N as i64, "every intent decided once");
    assert!(
        syncs >= N.div_ceil(cap),
        "{syncs} syncs decided {N} intents"
    );
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty(), "{} pending", v.pending.len());
    let circ = dev.circ().unwrap().unwrap();
    let outcomes: std::collections::BTreeSet<String> = circ.outcomes.keys().cloned().collect();
    assert_eq!(outcomes, ids, "one outcome for each intent, none other");
    assert!(
        rows(&lib, "holds WHERE card = '1001'") <= 1,
        "a hold placed once at most"
    );

    // Nothing is left for later: another sync decides nothing more.
    bounded(60, "a sync", dev.sync_once()).await.unwrap();
    assert_eq!(
        rows(&lib, "processed_intents WHERE card = '1001'"),
        N as i64
    );
}

// ---- sync states per patron -------------------------------------------------------

/// Any signed-in patron may name new device ids, and each leaves up to four
/// sync states on the server. Past `MAX_SYNC_DEVICES` devices the least
/// recently used one's states are dropped; an honest device whose states
/// were dropped syncs from scratch and loses nothing.
#[tokio::test]
async fn invented_device_ids_leave_a_bounded_number_of_sync_states_and_honest_devices_still_sync() {
    let max = pustaka_sync::hub::MAX_SYNC_DEVICES as i64;
    let lib = Library::start().await;
    let honest = lib.device("1001", "siti").await;
    let p = sign_in(&lib, "1001").await;
    // The app syncs four documents (circ, intents, calendar, prefs); the
    // invented devices below name three.
    assert_eq!(rows(&lib, "sync_states"), 4);

    for i in 0..40 {
        // A second apart, so "least recently used" is the honest device
        // first, then the oldest invented ones.
        lib.clock.set(lib.clock.now() + 1_000);
        let mut raw = p.raw(&format!("invented-{i:02}"));
        raw.round(&lib).await;
        let states = rows(&lib, "sync_states");
        assert!(
            states <= max * 3 + 1,
            "after {} devices: {states} states",
            i + 1
        );
    }
    assert_eq!(
        rows(
            &lib,
            "(SELECT DISTINCT device FROM sync_states WHERE card = '1001')"
        ),
        max
    );
    assert_eq!(
        rows(&lib, "sync_states WHERE device = 'invented-39'"),
        3,
        "the newest device's states are kept"
    );
    assert_eq!(
        rows(
            &lib,
            "sync_states WHERE device BETWEEN 'invented-24' AND 'invented-39'"
        ),
        max * 3,
        "the newest devices' states are kept, so the oldest (the honest one too) were dropped"
    );

    // The honest device, its states gone from the server, still syncs: its
    // next intent is decided once.
    let id = honest
        .request_unchecked(IntentKind::PlaceHold {
            title: "T1".into(),
            branch: "pusat".into(),
        })
        .unwrap();
    for _ in 0..3 {
        bounded(60, "an honest sync", honest.sync_once())
            .await
            .unwrap();
        if honest.view().unwrap().pending.is_empty() {
            break;
        }
    }
    let v = honest.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    let circ = honest.circ().unwrap().unwrap();
    assert!(circ.outcomes.contains_key(&id.to_string()));
    assert_eq!(rows(&lib, "processed_intents WHERE card = '1001'"), 1);
    assert!(rows(&lib, "sync_states") <= max * 3 + 1);
}
