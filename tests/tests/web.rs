//! The website's backend against a real server on 127.0.0.1: the page's
//! transport posts the app's commands to `/web/v1/<command>`; anyone may
//! search, read titles, events and the FAQ; a patron signs in, sees the
//! library's view of their account, and requests are decided at once by the
//! same engine as devices' intents (a device of the same patron sees the
//! outcome). Bad input gets `{code, message}`; the UI's files are served,
//! with the app's own routes answered by its `index.html`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_scenarios::*;
use serde_json::{Value, json};

struct Page<'a> {
    lib: &'a Library,
    token: Option<String>,
    lang: &'static str,
}

impl Page<'_> {
    async fn call(&self, command: &str, args: Value) -> (u16, Value) {
        let mut req = self
            .lib
            .http
            .post(format!("{}/web/v1/{command}", self.lib.url))
            .header("x-pustaka-lang", self.lang)
            .json(&args);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, command: &str, args: Value) -> Value {
        let (status, v) = self.call(command, args).await;
        assert_eq!(status, 200, "{command}: {v}");
        v
    }
}

#[tokio::test]
async fn the_website_serves_the_catalogue_events_faq_and_a_signed_in_account() {
    let mut lib = Library::start().await;
    let entries = pustaka_sync::librarian::parse_faq_file(pustaka_sync::demo::DEMO_FAQ).unwrap();
    lib.admin("faq", json!({ "entry": entries })).await.unwrap();
    lib.checkout("1001", "C1").await;
    let site = lib.dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>Pustaka</title>",
    )
    .unwrap();
    std::fs::write(site.join("style.css"), "body{}").unwrap();
    lib.serve_website(site).await;

    // The UI's files; the app's routes open its page; the API is untouched.
    assert_eq!(
        lib.get_text("/style.css", false).await,
        (200, "body{}".into())
    );
    for path in ["/", "/loans", "/title/T1"] {
        let (status, body) = lib.get_text(path, false).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("<title>Pustaka</title>"), "{path}: {body}");
    }
    assert_eq!(lib.get_text("/healthz", false).await, (200, "ok".into()));

    // Before sign-in: the website, nobody signed in, the library's public side.
    let mut page = Page {
        lib: &lib,
        token: None,
        lang: "id",
    };
    let s = page.ok("get_session", json!({})).await;
    assert_eq!(
        (s["web"].clone(), s["signed_in"].clone()),
        (json!(true), json!(false))
    );
    let account = page.ok("get_account", json!({})).await;
    assert_eq!(account["card"], "");
    assert!(account["loans"].as_array().unwrap().is_empty());
    assert_eq!(account["events"][0]["id"], "E1");
    assert!(!account["branches"].as_array().unwrap().is_empty());
    let found = page
        .ok(
            "search",
            json!({"query": "laskar", "branch": null, "available_only": false, "format": null, "language": null}),
        )
        .await;
    assert_eq!(found["hits"][0]["id"], "T1", "{found}");
    let title = page.ok("get_title", json!({"id": "T1"})).await;
    assert_eq!(title["details"]["title"], "Laskar Pelangi");
    assert_eq!(title["from_cache"], false);
    let (status, e) = page.call("get_title", json!({"id": "nope"})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));

    // The FAQ answers in the page's language.
    let id = page
        .ok(
            "search_faq",
            json!({"query": "berapa denda per hari untuk buku?"}),
        )
        .await;
    assert_eq!(
        (id["hits"][0]["id"].clone(), id["confident"].clone()),
        (json!("denda-jumlah"), json!(true))
    );
    page.lang = "en";
    let en = page
        .ok(
            "search_faq",
            json!({"query": "how much is the fine for a late book"}),
        )
        .await;
    assert_eq!(en["hits"][0]["id"], "denda-jumlah");
    assert_ne!(
        en["hits"][0]["answer"], id["hits"][0]["answer"],
        "English, not Indonesian"
    );
    let all = page.ok("get_faq", json!({})).await;
    assert_eq!(all.as_array().unwrap().len(), entries_len());

    // Requests need a patron.
    let (status, e) = page.call("renew", json!({"copy": "C1"})).await;
    assert_eq!((status, e["code"].as_str()), (401, Some("unauthorized")));

    // Sign-in: a wrong PIN is refused, the right one gives a token.
    let (status, e) = page
        .call(
            "sign_in",
            json!({"server": "", "card": "1001", "pin": "0000"}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    let signed = page
        .ok(
            "sign_in",
            json!({"server": "", "card": "1001", "pin": patron_pin("1001")}),
        )
        .await;
    assert_eq!(signed["session"]["name"], "Anggota 1001");
    assert_eq!(signed["session"]["web"], true);
    page.token = Some(signed["token"].as_str().unwrap().to_string());
    let s = page.ok("get_session", json!({})).await;
    assert_eq!(
        (s["signed_in"].clone(), s["card"].clone()),
        (json!(true), json!("1001"))
    );

    // The library's view of the account.
    let account = page.ok("get_account", json!({})).await;
    assert_eq!(account["card"], "1001");
    assert_eq!(account["loans"][0]["copy"], "C1");

    // A request is decided at once; a refusal comes back with its reason,
    // in the page's language.
    let done = page.ok("register_event", json!({"event": "E1"})).await;
    assert!(done["id"].as_str().unwrap().len() >= 32);
    let (status, e) = page.call("register_event", json!({"event": "E1"})).await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["code"], "already_registered");
    assert!(!e["message"].as_str().unwrap().is_empty());
    let account = page.ok("get_account", json!({})).await;
    assert_eq!(
        account["events"][0]["registration"], "confirmed",
        "{}",
        account["events"]
    );
    assert_eq!(account["outcomes"].as_array().unwrap().len(), 2);

    // A device of the same patron sees the website's decisions.
    let dev = lib.device("1001", "phone").await;
    let view = dev.view().unwrap();
    assert_eq!(view.events[0].registration.as_deref(), Some("confirmed"));
    assert!(
        view.outcomes
            .iter()
            .any(|o| o.intent_id == done["id"].as_str().unwrap())
    );

    // A question for a librarian from the website reaches their list.
    page.ok(
        "ask_librarian",
        json!({"question": "Apakah ada lomba menulis untuk remaja?"}),
    )
    .await;
    let (status, e) = page.call("ask_librarian", json!({"question": "   "})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("malformed_request"))
    );
    let questions = lib.get_json("/admin/v1/questions", true).await;
    assert!(
        questions.to_string().contains("lomba menulis"),
        "{questions}"
    );

    // Bad input: a command the website does not have, a malformed body, a
    // huge body; nothing changes.
    let before = page.ok("get_account", json!({})).await;
    let (status, e) = page.call("scan_frame", json!({})).await;
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")));
    let (status, e) = page.call("renew", json!({"copy": 5})).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (400, Some("malformed_request"))
    );
    let huge = "x".repeat(300 * 1024);
    let (status, _) = page.call("search", json!({ "query": huge })).await;
    assert_eq!(status, 413);
    let after = page.ok("get_account", json!({})).await;
    assert_eq!(after["outcomes"], before["outcomes"]);

    // Sign-out revokes the token: the page is anonymous again.
    let s = page.ok("sign_out", json!({})).await;
    assert_eq!(s["signed_in"], false);
    let (status, _) = page.call("renew", json!({"copy": "C1"})).await;
    assert_eq!(status, 401);
    let s = page.ok("get_session", json!({})).await;
    assert_eq!(s["signed_in"], false);
    lib.stop().await;
}

fn entries_len() -> usize {
    pustaka_sync::librarian::parse_faq_file(pustaka_sync::demo::DEMO_FAQ)
        .unwrap()
        .len()
}
