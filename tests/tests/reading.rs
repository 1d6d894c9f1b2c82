//! Reading lists and "borrowed together" against a real server on
//! 127.0.0.1 and real SQLite files. Recommendations come from the loans that
//! still name a patron (current loans, and the history of patrons who chose
//! to keep it) and show only when enough distinct patrons borrowed both
//! titles. `cargo xtask test-postgres` runs it again on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use pustaka_client::Device;
use pustaka_scenarios::*;

async fn together(lib: &Library, title: &str) -> Vec<String> {
    let d = lib
        .get_json(&format!("/v1/catalog/titles/{title}"), false)
        .await;
    d["borrowed_together"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

async fn keep_history(dev: &Arc<Device>, keep: bool) {
    dev.set_keep_history(keep).unwrap();
    dev.sync_once().await.unwrap();
    assert_eq!(dev.view().unwrap().keep_history, keep);
}

/// Borrows T1 (C1) and T3 (C3), and returns both.
async fn borrow_both_and_return(lib: &Library, card: &str) {
    lib.checkout(card, "C1").await;
    lib.checkout(card, "C3").await;
    lib.checkin("C1").await;
    lib.checkin("C3").await;
}

#[tokio::test]
async fn recommendations_are_withheld_below_the_threshold_and_follow_patrons_choices() {
    assert_eq!(pustaka_sync::catalog::RECOMMEND_MIN_PATRONS, 3);
    let lib = Library::start().await;
    let a = lib.device("1001", "a").await;
    let b = lib.device("1002", "b").await;
    let c = lib.device("1003", "c").await;
    keep_history(&a, true).await;
    keep_history(&b, true).await;

    // Two patrons who keep their history borrowed T1 and T3: below the
    // threshold, nothing is shown (it would tell their reading).
    borrow_both_and_return(&lib, "1001").await;
    borrow_both_and_return(&lib, "1002").await;
    assert!(together(&lib, "T1").await.is_empty());
    assert!(together(&lib, "T3").await.is_empty());

    // A third patron who does not keep history: their returned loans forget
    // them, so they count for nothing.
    borrow_both_and_return(&lib, "1003").await;
    assert!(together(&lib, "T1").await.is_empty());
    // The same patron borrowing both again twice is still one patron.
    borrow_both_and_return(&lib, "1002").await;
    assert!(together(&lib, "T1").await.is_empty());

    // The third patron chooses to keep history and borrows both: three
    // distinct patrons, shown both ways, on the device's title page too.
    keep_history(&c, true).await;
    lib.checkout("1003", "C1").await;
    lib.checkout("1003", "C3").await;
    assert_eq!(together(&lib, "T1").await, vec!["T3".to_string()]);
    assert_eq!(together(&lib, "T3").await, vec!["T1".to_string()]);
    assert!(together(&lib, "T2").await.is_empty(), "no one borrowed T2");
    let page = c.title("T1").await.unwrap();
    assert_eq!(page.details.borrowed_together[0].title, "Negeri 5 Menara");

    // The first patron opts out: their history is deleted, and with it
    // their part in the recommendation: below the threshold again.
    keep_history(&a, false).await;
    assert!(together(&lib, "T1").await.is_empty());
}

fn item(id: &str, title: &str) -> pustaka_ipc::ListItemView {
    pustaka_ipc::ListItemView {
        title_id: id.into(),
        title: title.into(),
        author: "Penulis".into(),
        added_at: 0,
    }
}

fn names(dev: &Device) -> Vec<(String, Vec<String>)> {
    dev.reading_lists()
        .unwrap()
        .into_iter()
        .map(|l| (l.name, l.items.into_iter().map(|i| i.title_id).collect()))
        .collect()
}

#[tokio::test]
async fn a_reading_list_edited_on_two_devices_offline_merges_and_is_shared_by_link() {
    let mut lib = Library::start().await;
    let phone = lib.device("1001", "phone").await;
    let tablet = lib.device("1001", "tablet").await;
    let other = lib.device("1002", "other").await;
    assert_eq!(
        names(&phone),
        vec![(String::new(), vec![])],
        "want to read, empty"
    );

    // Both offline: each adds to "want to read" and edits the same list.
    let trip = phone.create_list("Liburan").unwrap();
    phone.sync_once().await.unwrap();
    tablet.sync_once().await.unwrap();
    lib.stop().await;
    phone
        .add_to_list(pustaka_ipc::WANT_LIST, &item("T1", "Laskar Pelangi"))
        .unwrap();
    phone
        .add_to_list(&trip, &item("T3", "Negeri 5 Menara"))
        .unwrap();
    tablet
        .add_to_list(pustaka_ipc::WANT_LIST, &item("T2", "Bumi Manusia"))
        .unwrap();
    tablet
        .add_to_list(&trip, &item("T4", "Cantik Itu Luka"))
        .unwrap();
    tablet.rename_list(&trip, "Liburan Juni").unwrap();
    assert!(phone.sync_once().await.is_err(), "the server is gone");
    assert_eq!(
        names(&phone)[1].0,
        "Liburan",
        "offline, the phone's own view"
    );

    // Back online: both edits on both devices.
    lib.restart().await;
    for d in [&phone, &tablet, &phone] {
        d.sync_once().await.unwrap();
    }
    let merged = names(&phone);
    assert_eq!(merged, names(&tablet));
    let mut want = merged[0].1.clone();
    want.sort();
    assert_eq!(want, ["T1", "T2"]);
    let mut on_trip = merged[1].1.clone();
    on_trip.sort();
    assert_eq!(merged[1].0, "Liburan Juni");
    assert_eq!(on_trip, ["T3", "T4"]);

    // A removal on one device reaches the other.
    tablet.remove_from_list("want", "T1").unwrap();
    tablet.sync_once().await.unwrap();
    phone.sync_once().await.unwrap();
    assert_eq!(names(&phone)[0].1, ["T2"]);

    // The library holds the lists, so the patron's export has them.
    let export = phone.export_data().await.unwrap();
    assert_eq!(
        export["reading_lists"][1]["name"], "Liburan Juni",
        "{export}"
    );

    // The list is the patron's: another patron cannot even name it.
    assert_eq!(names(&other), vec![(String::new(), vec![])]);
    let (_, login) = lib.login_raw("1002", &patron_pin("1002")).await;
    let siti_prefs = pustaka_sync::hub::prefs_doc_id("1001");
    let mut forger = RawClient::new(login["token"].as_str().unwrap(), "forger", &[&siti_prefs]);
    let resp = forger.round(&lib).await;
    assert_eq!(
        resp.docs[0].error.as_ref().map(|e| e.code.as_str()),
        Some("unknown_document")
    );
    assert_eq!(
        lib.count("docs WHERE kind = 'prefs'"),
        2,
        "one prefs document per patron who synced one"
    );

    // Shared by link: the code decodes to the list's name and titles, and
    // another patron saves it as a list of their own.
    let lists = phone.reading_lists().unwrap();
    let link = &lists[1].share;
    assert!(link.starts_with(&format!("{}/list/", lib.url)), "{link}");
    let shared = pustaka_ipc::decode_list(link.rsplit('/').next().unwrap()).unwrap();
    assert_eq!(shared.name, "Liburan Juni");
    assert_eq!(shared.titles.len(), 2);
    let items: Vec<_> = shared.titles.iter().map(|t| item(t, t)).collect();
    other.save_shared_list(&shared.name, &items).unwrap();
    other.sync_once().await.unwrap();
    assert_eq!(names(&other)[1].0, "Liburan Juni");
    // Bad edits get a clear code and change nothing.
    let e = phone.create_list("   ").unwrap_err();
    assert_eq!(e.code(), "list_name");
    let e = phone.add_to_list("nope", &item("T1", "x")).unwrap_err();
    assert_eq!(e.code(), "list_item");
    assert_eq!(names(&phone), merged_after_removal(&merged));
    lib.stop().await;
}

fn merged_after_removal(merged: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    let mut m = merged.to_vec();
    m[0].1.retain(|t| t != "T1");
    m
}

/// The demo library shows the feature: a reading circle of five patrons
/// who keep their history read the Buru quartet's first three books.
#[tokio::test]
async fn the_demo_library_has_titles_borrowed_together() {
    let dir = tempfile::tempdir().unwrap();
    pustaka_sync::demo::ensure_seeded(dir.path(), START).unwrap();
    let clock = Arc::new(pustaka_sync::ManualClock::new(START));
    let mut hub = pustaka_sync::open_hub(
        dir.path(),
        pustaka_sync::demo::DEMO_POLICY,
        clock as Arc<dyn pustaka_sync::Clock>,
    )
    .unwrap();
    let d = pustaka_sync::catalog::details(&mut hub, "T0001").unwrap();
    let ids: Vec<&str> = d.borrowed_together.iter().map(|t| t.id.as_str()).collect();
    assert!(ids.contains(&"T0002") && ids.contains(&"T0003"), "{ids:?}");
    // A title no circle read together shows nothing.
    let d = pustaka_sync::catalog::details(&mut hub, "T0004").unwrap();
    assert!(
        d.borrowed_together
            .iter()
            .all(|t| !t.id.starts_with("T000")),
        "{:?}",
        d.borrowed_together
    );
}
