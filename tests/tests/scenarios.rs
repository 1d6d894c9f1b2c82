//! Scenarios against a real `pustaka-sync` on 127.0.0.1 with real SQLite
//! files and headless devices. Each test is one story a patron or a
//! librarian would tell.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT};
use pustaka_client::{DeviceError, PendingState};
use pustaka_domain::Reason;
use pustaka_replica::intent::{read_intents, uuid_v7};
use pustaka_replica::wire;
use pustaka_scenarios::*;
use serde_json::json;

fn loan_due(d: &pustaka_client::Device, copy: &str) -> String {
    d.circ().unwrap().unwrap().loans[copy].due.clone()
}

#[tokio::test]
async fn offline_renew_is_pending_then_accepted_with_the_new_due_date() {
    let mut lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let dev = lib.device("1001", "siti").await;
    assert_eq!(loan_due(&dev, "C1"), "2026-11-16");

    lib.stop().await;
    lib.advance_days(10); // Thursday 12 November: the renewal window is open.
    let preview = dev.preview_renewal("C1").unwrap();
    assert_eq!(preview.new_due.to_string(), "2026-11-26");
    let id = dev.renew("C1").unwrap();
    let v = dev.view().unwrap();
    assert_eq!(v.pending.len(), 1);
    assert_eq!(v.pending[0].id, id.to_string());
    assert_eq!(v.pending[0].state, PendingState::WaitingToSend);
    assert!(v.loans.iter().any(|l| l.copy == "C1" && l.pending_renewal));
    assert!(matches!(
        dev.sync_once().await,
        Err(DeviceError::Offline(_))
    ));
    let st = dev.status();
    assert!(!st.online);
    assert_eq!(st.pending, 1);

    lib.restart().await;
    dev.sync_once().await.unwrap();
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty());
    let o = v
        .outcomes
        .iter()
        .find(|o| o.intent_id == id.to_string())
        .unwrap();
    assert!(o.accepted);
    assert_eq!(o.due.as_deref(), Some("2026-11-26"));
    assert!(o.text_id.contains("26 November 2026"), "{}", o.text_id);
    assert_eq!(loan_due(&dev, "C1"), "2026-11-26");
    assert!(dev.status().online);
}

#[tokio::test]
async fn renew_is_refused_because_another_patron_holds_the_title() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    let budi = lib.device("1002", "budi").await;
    lib.advance_days(10);
    budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();

    // Siti's replica is stale, so her device lets her ask; the library says no.
    let id = siti.renew("C1").unwrap();
    siti.sync_once().await.unwrap();
    let v = siti.view().unwrap();
    let o = v
        .outcomes
        .iter()
        .find(|o| o.intent_id == id.to_string())
        .unwrap();
    assert!(!o.accepted);
    assert_eq!(o.reason.as_deref(), Some("on_hold_for_other"));
    assert!(o.text_id.contains("Anggota lain"), "{}", o.text_id);
    assert!(o.text_en.contains("Another patron"), "{}", o.text_en);
    assert_eq!(loan_due(&siti, "C1"), "2026-11-16");

    // Now the replica knows: the loan shows why, before she tries again.
    let loan = v.loans.iter().find(|l| l.copy == "C1").unwrap();
    assert_eq!(loan.renew_blocked.as_deref(), Some("on_hold_for_other"));
    assert_eq!(
        siti.renew("C1"),
        Err(DeviceError::Refused(Reason::OnHoldForOther))
    );
    assert_eq!(
        siti.preview_renewal("C1").unwrap_err(),
        DeviceError::Refused(Reason::OnHoldForOther)
    );
}

#[tokio::test]
async fn renew_all_gives_a_result_per_loan() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C2a").await;
    lib.advance_days(2);
    lib.checkout("1001", "C3").await; // due 18 November
    let budi = lib.device("1002", "budi").await;
    budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    lib.advance_days(8); // 12 November
    let siti = lib.device("1001", "siti").await;
    let id = siti.renew_all().unwrap();
    siti.sync_once().await.unwrap();
    let v = siti.view().unwrap();
    let o = v
        .outcomes
        .iter()
        .find(|o| o.intent_id == id.to_string())
        .unwrap();
    assert!(o.accepted);
    let item = |c: &str| o.items.iter().find(|(k, _, _)| k == c).cloned().unwrap();
    assert_eq!(
        item("C1"),
        ("C1".into(), false, Some("on_hold_for_other".into()))
    );
    assert_eq!(item("C2a"), ("C2a".into(), true, None));
    assert_eq!(item("C3"), ("C3".into(), false, Some("too_soon".into())));
    assert!(
        o.text_en.contains("1 renewed, 2 not renewed"),
        "{}",
        o.text_en
    );
    assert_eq!(loan_due(&siti, "C2a"), "2026-11-26");
    assert_eq!(loan_due(&siti, "C1"), "2026-11-16");
}

#[tokio::test]
async fn two_offline_devices_of_one_patron_each_intent_decided_once_and_both_converge() {
    let mut lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let a = lib.device("1001", "phone").await;
    let b = lib.device("1001", "tablet").await;
    lib.advance_days(10);
    lib.stop().await;
    // Both devices ask for the same renewal while offline, plus one more each.
    let ra = a.renew("C1").unwrap();
    let rb = b.renew("C1").unwrap();
    let hold = a.place_hold("T4", "pusat").unwrap();
    let reg = b.register_event("E1").unwrap();
    assert!(a.sync_once().await.is_err());
    assert!(b.sync_once().await.is_err());

    lib.restart().await;
    a.sync_once().await.unwrap();
    b.sync_once().await.unwrap();
    a.sync_once().await.unwrap();

    let ca = a.circ().unwrap().unwrap();
    let cb = b.circ().unwrap().unwrap();
    assert_eq!(ca, cb, "both devices hold the same circulation facts");
    assert_eq!(a.calendar().unwrap(), b.calendar().unwrap());
    let ids: Vec<String> = [ra, rb, hold, reg].iter().map(|u| u.to_string()).collect();
    assert_eq!(ca.outcomes.len(), 4);
    for id in &ids {
        assert!(ca.outcomes.contains_key(id), "intent {id} has an outcome");
    }
    assert_eq!(ca.loans["C1"].renewals_used, 1, "the loan was renewed once");
    let texts: Vec<&str> = [&ids[0], &ids[1]]
        .iter()
        .map(|i| ca.outcomes[*i].text_en.as_str())
        .collect();
    assert_eq!(
        texts.iter().filter(|t| t.starts_with("Renewed")).count(),
        1,
        "{texts:?}"
    );
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.starts_with("Already renewed"))
            .count(),
        1,
        "{texts:?}"
    );
    assert!(ca.holds.values().any(|h| h.title_id == "T4"));
    assert_eq!(ca.registrations["E1"].status, "confirmed");
    // Both devices see all four intents, none pending.
    assert!(a.view().unwrap().pending.is_empty());
    assert!(b.view().unwrap().pending.is_empty());
    assert_eq!(a.status().pending, 0);
}

#[tokio::test]
async fn hold_ready_reaches_the_device_through_the_live_poke() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let budi = lib.device("1002", "budi").await;
    budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    assert_eq!(budi.view().unwrap().holds[0].status, "queued");

    let task = tokio::spawn(budi.clone().run());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    lib.advance_days(3);
    let r = lib.checkin("C1").await;
    assert_eq!(r["status"], "waiting");
    let ready = eventually(10, || {
        budi.view()
            .ok()
            .is_some_and(|v| v.holds.first().is_some_and(|h| h.status == "waiting"))
    })
    .await;
    task.abort();
    assert!(
        ready,
        "the ready hold reached the device without a manual sync"
    );
    let h = &budi.view().unwrap().holds[0];
    assert_eq!(h.pickup_by.unwrap().to_string(), "2026-11-12");
}

#[tokio::test]
async fn hold_pickup_expiry_passes_the_copy_to_the_next_patron() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let budi = lib.device("1002", "budi").await;
    let dewi = lib.device("1003", "dewi").await;
    budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    lib.clock.set(START + 60_000);
    dewi.place_hold("T1", "pusat").unwrap();
    dewi.sync_once().await.unwrap();
    assert_eq!(dewi.view().unwrap().holds[0].position, 2);

    lib.advance_days(1);
    lib.checkin("C1").await;
    budi.sync_once().await.unwrap();
    let h = budi.view().unwrap().holds[0].clone();
    assert_eq!(
        (h.status.as_str(), h.pickup_by.unwrap().to_string().as_str()),
        ("waiting", "2026-11-10")
    );

    lib.advance_days(8); // 11 November: Budi did not come.
    let report = lib.admin("jobs/run", json!({})).await.unwrap();
    assert_eq!(report["expired"], 1);
    budi.sync_once().await.unwrap();
    dewi.sync_once().await.unwrap();
    assert!(budi.view().unwrap().holds.is_empty());
    let h = dewi.view().unwrap().holds[0].clone();
    assert_eq!(h.status, "waiting");
    assert_eq!(h.pickup_by.unwrap().to_string(), "2026-11-18");
    // At the desk, the copy now goes only to Dewi.
    let (code, body) = lib
        .admin("checkout", json!({"card": "1004", "copy": "C1"}))
        .await
        .unwrap_err();
    assert_eq!(
        (code, body["code"].as_str()),
        (409, Some("copy_on_hold_for_other"))
    );
    lib.checkout("1003", "C1").await;
}

#[tokio::test]
async fn event_with_two_seats_and_three_patrons_waitlists_one_and_promotes_on_cancel() {
    let lib = Library::start().await;
    let devs = [
        lib.device("1001", "a").await,
        lib.device("1002", "b").await,
        lib.device("1003", "c").await,
    ];
    for d in &devs {
        d.register_event("E1").unwrap();
        d.sync_once().await.unwrap();
    }
    let status = |d: &pustaka_client::Device| {
        let v = d.view().unwrap();
        let e = v.events.iter().find(|e| e.id == "E1").unwrap().clone();
        (
            e.registration,
            e.waitlist_position,
            e.seats_left,
            e.waitlist,
        )
    };
    devs[2].sync_once().await.unwrap();
    assert_eq!(status(&devs[0]).0.as_deref(), Some("confirmed"));
    assert_eq!(status(&devs[1]).0.as_deref(), Some("confirmed"));
    assert_eq!(status(&devs[2]), (Some("waitlisted".into()), Some(1), 0, 1));
    let waitlist_text = devs[2].view().unwrap().outcomes[0].text_en.clone();
    assert!(
        waitlist_text.contains("number 1 on the waiting list"),
        "{waitlist_text}"
    );

    devs[0].cancel_registration("E1").unwrap();
    devs[0].sync_once().await.unwrap();
    devs[2].sync_once().await.unwrap();
    assert_eq!(status(&devs[0]).0, None);
    assert_eq!(status(&devs[2]), (Some("confirmed".into()), None, 0, 0));
}

#[tokio::test]
async fn server_restarted_between_two_syncs_loses_nothing() {
    let mut lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let dev = lib.device("1001", "siti").await;
    lib.advance_days(10);
    let first = dev.renew("C1").unwrap();
    dev.sync_once().await.unwrap();
    lib.restart().await;
    let second = dev.register_event("E1").unwrap();
    dev.sync_once().await.unwrap();
    let circ = dev.circ().unwrap().unwrap();
    assert!(circ.outcomes.contains_key(&first.to_string()));
    assert!(circ.outcomes.contains_key(&second.to_string()));
    assert_eq!(circ.loans["C1"].due, "2026-11-26");
    // A fresh device sees exactly the same facts.
    let other = lib.device("1001", "fresh").await;
    assert_eq!(other.circ().unwrap().unwrap(), circ);
    // Reconnecting with nothing new is one small request.
    lib.restart().await;
    let r = dev.sync_once().await.unwrap();
    assert_eq!(r.requests, 1, "{r:?}");
    // About 150 B each way per document (heads and an empty Bloom filter).
    let docs = pustaka_replica::DocKind::ALL.len();
    assert!(r.bytes_sent + r.bytes_received <= 300 * docs, "{r:?}");
}

#[tokio::test]
async fn forged_change_to_circ_is_not_applied_and_the_device_recovers() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let path = lib.dir.path().join("device-forger.db");
    {
        let dev = lib.device("1001", "forger").await;
        assert_eq!(loan_due(&dev, "C1"), "2026-11-16");
    }
    // Tamper with the device's own copy of `circ`, as a modified app could.
    {
        let store = pustaka_client::Store::open(&path).unwrap();
        let account: serde_json::Value =
            serde_json::from_str(&store.get("account").unwrap().unwrap()).unwrap();
        let id = account["directory"]["circ"].as_str().unwrap().to_string();
        let mut d = store.load_doc(&id, "circ").unwrap();
        let old = pustaka_replica::Circ::read(&d.doc).unwrap().unwrap();
        let mut forged = old.clone();
        forged.loans.get_mut("C1").unwrap().due = "2099-01-01".into();
        forged.write(&mut d.doc, Some(&old)).unwrap();
        d.doc.commit();
        store.save_doc(&id, &mut d).unwrap();
    }
    let dev = lib.offline_device("forger");
    assert_eq!(loan_due(&dev, "C1"), "2099-01-01");
    let report = dev.sync_once().await.unwrap();
    assert_eq!(report.replicas_reset, 1, "{report:?}");
    assert_eq!(loan_due(&dev, "C1"), "2026-11-16");
    let honest = lib.device("1001", "honest").await;
    assert_eq!(loan_due(&honest, "C1"), "2026-11-16");
    // And the device keeps syncing normally afterwards.
    assert_eq!(dev.sync_once().await.unwrap().replicas_reset, 0);
}

#[tokio::test]
async fn another_patrons_document_id_answers_exactly_like_a_missing_one() {
    let lib = Library::start().await;
    let (_, siti) = lib.login_raw("1001", &patron_pin("1001")).await;
    let (_, budi) = lib.login_raw("1002", &patron_pin("1002")).await;
    let theirs = budi["directory"]["circ"].as_str().unwrap();
    let missing = "0123456789abcdef0123456789abcdef";
    let mut raw = RawClient::new(siti["token"].as_str().unwrap(), "probe", &[theirs, missing]);
    let resp = raw.round(&lib).await;
    let errs: Vec<_> = resp
        .docs
        .iter()
        .map(|d| (d.message.is_none(), d.error.clone().unwrap()))
        .collect();
    assert_eq!(errs.len(), 2);
    assert_eq!(
        errs[0], errs[1],
        "a foreign document must be indistinguishable from a missing one"
    );
    assert_eq!(errs[0].1.code, "unknown_document");
    assert!(
        raw.docs[0].1.get_heads().is_empty(),
        "nothing of the other patron leaked"
    );
}

#[tokio::test]
async fn wrong_pin_repeated_is_rate_limited() {
    let lib = Library::start().await;
    let (s, unknown) = lib.login_raw("9999", "0000").await;
    assert_eq!(s, 401);
    for _ in 0..5 {
        let (s, body) = lib.login_raw("1001", "0000").await;
        assert_eq!(s, 401);
        assert_eq!(
            body, unknown,
            "a wrong PIN and an unknown card answer alike"
        );
    }
    let (s, body) = lib.login_raw("1001", &patron_pin("1001")).await;
    assert_eq!((s, body["code"].as_str()), (429, Some("too_many_attempts")));
    // Another card is not affected.
    assert_eq!(lib.login_raw("1002", &patron_pin("1002")).await.0, 200);
    lib.clock.set(lib.clock_now() + 16 * 60_000);
    assert_eq!(lib.login_raw("1001", &patron_pin("1001")).await.0, 200);
}

#[tokio::test]
async fn malformed_oversized_and_unauthenticated_sync_get_clear_errors_and_store_nothing() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let (_, login) = lib.login_raw("1001", &patron_pin("1001")).await;
    let token = login["token"].as_str().unwrap();
    let dir = login["directory"].clone();

    let (s, body) = lib.post_sync(token, b"this is not cbor".to_vec()).await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, body["code"].as_str()), (400, Some("malformed_request")));

    let (s, body) = lib.post_sync(token, vec![0u8; 5 * 1024 * 1024]).await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, body["code"].as_str()), (413, Some("body_too_large")));

    let (s, body) = lib.post_sync("not-a-token", vec![]).await;
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, body["code"].as_str()), (401, Some("unauthorized")));

    // A garbage automerge message inside a valid envelope: that document
    // answers `bad_message`, the others still sync.
    let circ_id = dir["circ"].as_str().unwrap();
    let cal_id = dir["calendar"].as_str().unwrap();
    let req = wire::SyncRequest {
        device: "probe".into(),
        docs: vec![
            wire::DocMessage {
                doc: circ_id.into(),
                message: Some(vec![0x42, 0xff, 0x00]),
            },
            wire::DocMessage {
                doc: cal_id.into(),
                message: None,
            },
        ],
    };
    let (s, bytes) = lib.post_sync(token, wire::encode(&req)).await;
    assert_eq!(s, 200);
    let resp = wire::decode_response(&bytes).unwrap();
    assert_eq!(resp.docs[0].error.as_ref().unwrap().code, "bad_message");
    assert!(resp.docs[1].error.is_none());

    let fresh = lib.device("1001", "check").await;
    let circ = fresh.circ().unwrap().unwrap();
    assert!(
        circ.outcomes.is_empty(),
        "nothing was decided from bad input"
    );
    assert_eq!(circ.loans["C1"].due, "2026-11-16");

    // Malformed intents, written by a client that bypasses the typed API.
    let intents_id = dir["intents"].as_str().unwrap();
    let mut raw = RawClient::new(token, "raw", &[intents_id]);
    let bad_kind = uuid_v7(START, [7; 10]).to_string();
    {
        let doc = &mut raw.docs[0].1;
        let obj = doc
            .put_object(ROOT, bad_kind.as_str(), ObjType::Map)
            .unwrap();
        doc.put(&obj, "kind", "steal_book").unwrap();
        doc.put(ROOT, "not-a-uuid", 42).unwrap();
        doc.commit();
    }
    raw.settle(&lib).await;
    fresh.sync_once().await.unwrap();
    let circ = fresh.circ().unwrap().unwrap();
    for key in [bad_kind.as_str(), "not-a-uuid"] {
        let o = &circ.outcomes[key];
        assert_eq!(
            (o.status.as_str(), o.reason.as_deref()),
            ("rejected", Some("malformed")),
            "{key}"
        );
    }
    assert_eq!(read_intents(&raw.docs[0].1).len(), 2);
    assert_eq!(circ.loans["C1"].due, "2026-11-16");
}

#[tokio::test]
async fn catalogue_search_details_and_lookup_show_live_availability() {
    let lib = Library::start().await;
    let get = |path: String| {
        let http = lib.http.clone();
        let url = format!("{}{path}", lib.url);
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    // Case and diacritics do not matter; title matches rank first.
    let hits = get("/v1/catalog/search?q=BUMI%20manusia".into()).await["hits"].clone();
    assert_eq!(hits[0]["id"], "T2");
    assert_eq!(
        hits[0]["availability"][0],
        json!({"branch": "pusat", "available": 2, "total": 2})
    );
    lib.checkout("1001", "C2a").await;
    let hits = get("/v1/catalog/search?q=bumi".into()).await["hits"].clone();
    assert_eq!(hits[0]["availability"][0]["available"], 1);
    let only_available = get("/v1/catalog/search?q=laskar&available=true".into()).await;
    assert_eq!(only_available["hits"].as_array().unwrap().len(), 1);
    lib.checkout("1001", "C1").await;
    let none = get("/v1/catalog/search?q=laskar&available=true".into()).await;
    assert!(none["hits"].as_array().unwrap().is_empty());
    // The format filter (the item type when a title names no format).
    let books = get("/v1/catalog/search?q=bumi&format=book".into()).await;
    assert_eq!(books["hits"][0]["id"], "T2");
    let dvds = get("/v1/catalog/search?q=bumi&format=dvd".into()).await;
    assert!(dvds["hits"].as_array().unwrap().is_empty());
    // A misspelt query finds nothing and offers the catalogue's spelling.
    let typo = get("/v1/catalog/search?q=bumi%20mnausia".into()).await;
    assert!(typo["hits"].as_array().unwrap().is_empty());
    assert_eq!(typo["suggestion"], "bumi manusia");
    let fine = get("/v1/catalog/search?q=zzzzqqq".into()).await;
    assert_eq!(fine["suggestion"], serde_json::Value::Null);
    // Details and lookups by shelf-QR payload, https link and copy barcode.
    let d = get("/v1/catalog/titles/T2".into()).await;
    assert_eq!(d["copies"].as_array().unwrap().len(), 2);
    assert_eq!(d["copies"][0]["shelf"], "899.221");
    for code in [
        "pustaka://title/T2",
        "https://perpustakaan.example/title/T2",
        "C2b",
    ] {
        let t = get(format!(
            "/v1/catalog/lookup?code={}",
            code.replace(':', "%3A").replace('/', "%2F")
        ))
        .await;
        assert_eq!(t["id"], "T2", "{code}");
    }
    let missing = lib
        .http
        .get(format!("{}/v1/catalog/lookup?code=nothing", lib.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

/// Found by the fuzzer (`cargo xtask fuzz sync_message`): a summary whose
/// Bloom filter has entries but no bits made automerge divide by zero while
/// the server built its reply. The message is refused, the server keeps
/// serving, and the patron's devices go on syncing.
#[tokio::test]
async fn a_poisoned_bloom_filter_cannot_take_the_server_down() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    siti.register_event("E1").unwrap();
    siti.sync_once().await.unwrap();
    let (_, login) = lib.login_raw("1001", &patron_pin("1001")).await;
    let token = login["token"].as_str().unwrap();
    let poisoned = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions/sync_message/bloom-zero-bits-per-entry.bin"),
    )
    .unwrap();
    let req = wire::SyncRequest {
        device: "probe".into(),
        docs: vec![wire::DocMessage {
            doc: login["directory"]["intents"].as_str().unwrap().into(),
            message: Some(poisoned),
        }],
    };
    for _ in 0..3 {
        let (s, bytes) = lib.post_sync(token, wire::encode(&req)).await;
        assert_eq!(s, 200);
        let resp = wire::decode_response(&bytes).unwrap();
        assert_eq!(
            resp.docs[0].error.as_ref().map(|e| e.code.as_str()),
            Some("bad_message")
        );
    }
    siti.request_unchecked(pustaka_replica::intent::IntentKind::RenewAll)
        .unwrap();
    siti.sync_once().await.unwrap();
    assert!(siti.view().unwrap().pending.is_empty());
    assert_eq!(siti.circ().unwrap().unwrap().outcomes.len(), 2);
}

/// The library starts a new epoch of Siti's `circ` and of the calendar
/// while her phone is offline with three pending intents: each is decided
/// once, its outcome is in the new document, the phone follows the new ids
/// in the same sync, and the old ids answer like unknown documents.
#[tokio::test]
async fn a_new_epoch_while_a_device_is_offline_with_pending_intents_loses_nothing() {
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C3").await;
    let siti = lib.device("1001", "siti").await;
    let (_, before) = lib.login_raw("1001", &patron_pin("1001")).await;
    let old = before["directory"].clone();

    // Offline (no sync): a renewal, a hold and an event registration.
    lib.advance_days(10);
    siti.renew("C1").unwrap();
    siti.place_hold("T4", "pusat").unwrap();
    siti.register_event("E1").unwrap();
    assert_eq!(siti.view().unwrap().pending.len(), 3);

    // Meanwhile: new epochs, and a desk checkout that lands in the new one.
    let r = lib
        .admin("epoch", json!({"card": "1001", "calendar": true}))
        .await
        .unwrap();
    let new = r["directory"].clone();
    assert_ne!(new["circ"], old["circ"]);
    assert_ne!(new["calendar"], old["calendar"]);
    assert_eq!(
        new["intents"], old["intents"],
        "the patron's own document stays"
    );
    lib.checkout("1001", "C2a").await;

    let report = siti.sync_once().await.unwrap();
    assert_eq!(report.epochs_followed, 1);
    let v = siti.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    let circ = siti.circ().unwrap().unwrap();
    assert_eq!(
        circ.outcomes.len(),
        3,
        "one outcome per intent, in the new epoch"
    );
    assert!(circ.outcomes.values().all(|o| o.status == "accepted"));
    let c1 = v.loans.iter().find(|l| l.copy == "C1").unwrap();
    assert_eq!(c1.renewals_used, 1);
    assert_eq!(c1.due.to_string(), "2026-11-26");
    assert!(v.loans.iter().any(|l| l.copy == "C2a"));
    assert_eq!(v.holds.len(), 1);
    let e1 = v.events.iter().find(|e| e.id == "E1").unwrap();
    assert_eq!(e1.registration.as_deref(), Some("confirmed"));

    // Syncing again changes nothing and decides nothing twice.
    siti.sync_once().await.unwrap();
    assert_eq!(siti.circ().unwrap().unwrap().outcomes.len(), 3);

    // The old ids are gone for devices; the new ones cold-start a tablet.
    let (_, login) = lib.login_raw("1001", &patron_pin("1001")).await;
    let token = login["token"].as_str().unwrap();
    let mut raw = RawClient::new(
        token,
        "probe",
        &[
            old["circ"].as_str().unwrap(),
            old["calendar"].as_str().unwrap(),
        ],
    );
    let resp = raw.round(&lib).await;
    for d in &resp.docs {
        assert_eq!(
            d.error.as_ref().map(|e| e.code.as_str()),
            Some("unknown_document")
        );
    }
    assert_eq!(serde_json::to_value(&resp.directory).unwrap(), new);
    let tablet = lib.device("1001", "tablet").await;
    assert_eq!(tablet.circ().unwrap(), siti.circ().unwrap());
    assert_eq!(tablet.calendar().unwrap(), siti.calendar().unwrap());
}

/// Past its change limit a `circ` starts a new epoch by itself, and a
/// device that follows the live poke goes on hearing about the new one.
#[tokio::test]
async fn circ_past_its_change_limit_starts_a_new_epoch_and_the_poke_follows() {
    let mut lib = Library::start().await;
    lib.epoch_after = Some(12);
    lib.restart().await;
    lib.checkout("1002", "C1").await;
    let siti = lib.device("1001", "siti").await;
    let (_, before) = lib.login_raw("1001", &patron_pin("1001")).await;
    siti.place_hold("T1", "pusat").unwrap();
    siti.sync_once().await.unwrap();
    let hold = siti.view().unwrap().holds[0].id.clone();
    let mut intents = 1;
    let mut epochs = 0;
    for _ in 0..8 {
        siti.suspend_hold(
            &hold,
            chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
        )
        .unwrap();
        epochs += siti.sync_once().await.unwrap().epochs_followed;
        siti.resume_hold(&hold).unwrap();
        epochs += siti.sync_once().await.unwrap().epochs_followed;
        intents += 2;
    }
    assert!(epochs >= 1, "the limit started at least one new epoch");
    let (_, after) = lib.login_raw("1001", &patron_pin("1001")).await;
    assert_ne!(after["directory"]["circ"], before["directory"]["circ"]);
    let circ = siti.circ().unwrap().unwrap();
    assert_eq!(circ.outcomes.len(), intents, "every outcome carried over");
    assert!(siti.view().unwrap().pending.is_empty());

    // The live poke after the epoch: the hold becomes ready at the desk.
    let task = tokio::spawn(siti.clone().run());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    lib.admin("epoch", json!({"card": "1001"})).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    lib.advance_days(3);
    assert_eq!(lib.checkin("C1").await["status"], "waiting");
    let ready = eventually(10, || {
        siti.view()
            .ok()
            .is_some_and(|v| v.holds.first().is_some_and(|h| h.status == "waiting"))
    })
    .await;
    task.abort();
    assert!(ready, "the poke follows the new epoch's document");
}
