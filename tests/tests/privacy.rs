//! Privacy controls against a real server on 127.0.0.1 and real SQLite
//! files: loan history only for patrons who opt in (and deleted, document
//! history included, when they opt out), the export of everything the
//! library holds about a patron, and sign-out leaving nothing on the device.
//! `cargo xtask test-postgres` runs it again with the library in PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_scenarios::*;
use serde_json::Value;

fn outcome_of(dev: &pustaka_client::Device, id: &uuid::Uuid) -> Option<(String, String)> {
    let circ = dev.circ().unwrap()?;
    circ.outcomes
        .get(&id.to_string())
        .map(|o| (o.status.clone(), o.text_en.clone()))
}

#[tokio::test]
async fn history_is_kept_only_by_choice_and_opting_out_forgets_it_document_history_included() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1002", "C3").await;
    let a = lib.device("1001", "a").await;
    assert!(!a.view().unwrap().keep_history, "not kept unless asked");

    // A return while not opted in: the loan forgets its borrower at once.
    lib.checkin("C3").await;
    assert_eq!(lib.count("loans WHERE card = '1002'"), 0);
    assert_eq!(
        lib.count("loans WHERE card = '' AND copy = 'C3' AND returned IS NOT NULL"),
        1,
        "the circulation itself is still counted"
    );

    // Opting in, offline: an intent the library decides on the next sync.
    let keep = a.set_keep_history(true).unwrap();
    assert!(
        a.view()
            .unwrap()
            .pending
            .iter()
            .any(|p| p.kind == "set_history")
    );
    a.sync_once().await.unwrap();
    let (status, text) = outcome_of(&a, &keep).unwrap();
    assert_eq!(status, "accepted");
    assert!(text.contains("will be kept"), "{text}");
    assert!(a.view().unwrap().keep_history);

    // Returns are now kept, for this patron only.
    lib.checkin("C1").await;
    lib.checkout("1001", "C2a").await;
    lib.checkin("C2a").await;
    a.sync_once().await.unwrap();
    let v = a.view().unwrap();
    let mut titles: Vec<&str> = v.history.iter().map(|h| h.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Bumi Manusia", "Laskar Pelangi"]);
    assert_eq!(
        lib.count("loans WHERE card = '1001' AND returned IS NOT NULL"),
        2
    );

    // The export says the same, and what the library holds besides.
    let export = a.export_data().await.unwrap();
    assert_eq!(export["format"], "pustaka-export/1");
    assert_eq!(export["patron"]["card"], "1001");
    assert_eq!(export["patron"]["keep_history"], true);
    assert_eq!(export["loan_history"].as_array().unwrap().len(), 2);
    assert!(
        export["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["intent"] == keep.to_string() && d["outcome"]["status"] == "accepted")
    );
    assert!(
        export["devices"].as_array().unwrap().len() == 1,
        "{}",
        export["devices"]
    );
    let old_circ = export["documents"]["circ"].as_str().unwrap().to_string();
    assert!(lib.count(&format!("doc_chunks WHERE doc_id = '{old_circ}'")) > 0);

    // Opting out deletes it: the returned loans become anonymous, and the
    // patron's document starts over (a deleted entry would stay in an
    // Automerge document's history), the old one's bytes deleted.
    let forget = a.set_keep_history(false).unwrap();
    let report = a.sync_once().await.unwrap();
    assert_eq!(report.epochs_followed, 1, "{report:?}");
    let (status, text) = outcome_of(&a, &forget).unwrap();
    assert_eq!(status, "accepted");
    assert!(text.contains("2 returned loans forgotten"), "{text}");
    // Every earlier outcome came along into the new document.
    assert_eq!(outcome_of(&a, &keep).unwrap().0, "accepted");
    let v = a.view().unwrap();
    assert!(!v.keep_history);
    assert!(v.history.is_empty(), "{:?}", v.history);
    assert_eq!(
        lib.count("loans WHERE card = '1001' AND returned IS NOT NULL"),
        0
    );
    assert_eq!(
        lib.count("loans WHERE card = '1001' AND returned IS NULL"),
        0
    );
    assert_eq!(
        lib.count(&format!(
            "docs WHERE id = '{old_circ}' AND kind = 'purged:circ' AND length(snapshot) = 0"
        )),
        1
    );
    assert_eq!(
        lib.count(&format!("doc_chunks WHERE doc_id = '{old_circ}'")),
        0
    );
    let export = a.export_data().await.unwrap();
    assert_ne!(export["documents"]["circ"], old_circ.as_str());
    assert!(export["loan_history"].as_array().unwrap().is_empty());
    // The device let go of the old document too.
    let dev_db = rusqlite::Connection::open(lib.dir.path().join("device-a.db")).unwrap();
    let left: i64 = dev_db
        .query_row(
            "SELECT count(*) FROM docs WHERE id = ?1",
            [&old_circ],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);

    // A new device of the same patron sees no history either.
    let b = lib.device("1001", "b").await;
    assert!(b.view().unwrap().history.is_empty());
    assert_eq!(b.circ().unwrap().unwrap(), a.circ().unwrap().unwrap());

    // And later returns are not kept.
    lib.checkout("1001", "C4").await;
    lib.checkin("C4").await;
    a.sync_once().await.unwrap();
    assert!(a.view().unwrap().history.is_empty());
    assert_eq!(lib.count("loans WHERE card = '1001'"), 0);
}

#[tokio::test]
async fn the_export_needs_the_patrons_token_and_never_holds_the_pin() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let status = lib
        .http
        .get(format!("{}/v1/account/export", lib.url))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let status = lib
        .http
        .get(format!("{}/v1/account/export", lib.url))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    let a = lib.device("1001", "a").await;
    let export = a.export_data().await.unwrap();
    assert_eq!(export["loans"][0]["copy"], "C1");
    assert_eq!(export["loans"][0]["title"], "Laskar Pelangi");
    let text = serde_json::to_string(&export).unwrap();
    assert!(!text.contains("pin"), "{text}");
    assert!(!text.contains(&patron_pin("1001")), "{text}");
    // Another patron's export is theirs only.
    let b = lib.device("1002", "b").await;
    let other: Value = b.export_data().await.unwrap();
    assert_eq!(other["patron"]["card"], "1002");
    assert!(other["loans"].as_array().unwrap().is_empty());
}

/// Every byte of the device's database files.
fn device_bytes(lib: &Library, name: &str) -> Vec<u8> {
    let mut all = vec![];
    for suffix in ["", "-wal", "-journal"] {
        let p = lib.dir.path().join(format!("device-{name}.db{suffix}"));
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn signing_out_leaves_nothing_of_the_patron_in_the_device_files() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let a = lib.device("1001", "a").await;
    a.set_keep_history(true).unwrap();
    a.sync_once().await.unwrap();
    let before = device_bytes(&lib, "a");
    let (_, token) = {
        let db = rusqlite::Connection::open(lib.dir.path().join("device-a.db")).unwrap();
        let token: String = db
            .query_row("SELECT value FROM account WHERE key = 'account'", [], |r| {
                r.get(0)
            })
            .unwrap();
        ((), token)
    };
    let token: Value = serde_json::from_str(&token).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    assert!(
        contains(&before, &token),
        "the token is on the device while signed in"
    );

    a.logout().await.unwrap();
    assert!(!a.is_signed_in());
    let after = device_bytes(&lib, "a");
    assert!(!contains(&after, &token), "the token's bytes are gone");
    let db = rusqlite::Connection::open(lib.dir.path().join("device-a.db")).unwrap();
    for table in ["docs", "doc_chunks", "sync_states"] {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    let keys: Vec<String> = db
        .prepare("SELECT key FROM account")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(keys, ["device_id"]);
    // The revoked token no longer opens the account.
    let status = lib
        .http
        .get(format!("{}/v1/account/export", lib.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
}
