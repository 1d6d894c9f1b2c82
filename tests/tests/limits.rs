//! Bounds a signed-in patron cannot push past, against a real
//! `pustaka-sync` on 127.0.0.1: a cached token never outlives its expiry,
//! invented device ids cannot grow the server's sync states without bound,
//! and a flood of intents is decided a bounded batch per sync without
//! losing or repeating one. Rows are checked in the server's SQLite file,
//! read-only beside the server; every loop is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_scenarios::*;
use pustaka_sync::Clock;
use serde_json::Value;

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
