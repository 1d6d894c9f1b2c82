//! A household on one device against a real server on 127.0.0.1: two
//! library cards (a parent and a child), each with its own SQLite file,
//! token and documents; one combined, offline list of every card's due
//! dates and ready holds; switching cards; the choice kept across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use pustaka_client::household::Household;
use pustaka_scenarios::*;
use pustaka_sync::clock::Clock;

fn open(lib: &Library) -> Household {
    let clock = lib.clock.clone();
    Household::open(
        &lib.dir.path().join("household"),
        Arc::new(move || clock.now()),
    )
    .unwrap()
}

#[tokio::test]
async fn two_cards_on_one_device_each_their_own_and_one_list_offline() {
    let mut lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C3").await;
    lib.checkout("1002", "C4").await;
    let home = open(&lib);

    // The parent signs in on the first member, the child on a second.
    let parent = home.active();
    parent
        .login(&lib.url, "1001", &patron_pin("1001"))
        .await
        .unwrap();
    let child = home.add_member().unwrap();
    assert!(!Arc::ptr_eq(&parent, &child));
    child
        .login(&lib.url, "1002", &patron_pin("1002"))
        .await
        .unwrap();
    // The child waits for a title the parent has; it comes back and is
    // set aside for the child.
    child.sync_once().await.unwrap();
    child.place_hold("T1", "pusat").unwrap();
    for d in home.devices().unwrap() {
        d.sync_once().await.unwrap();
    }
    lib.checkin("C1").await;
    for d in home.devices().unwrap() {
        d.sync_once().await.unwrap();
    }

    // Each card has its own documents and token: nothing mixes.
    let p = parent.view().unwrap();
    let c = child.view().unwrap();
    assert_eq!((p.card.as_str(), c.card.as_str()), ("1001", "1002"));
    let copies = |v: &pustaka_ipc::AccountView| -> Vec<String> {
        v.loans.iter().map(|l| l.copy.clone()).collect()
    };
    assert_eq!(copies(&p), ["C3"]);
    assert_eq!(copies(&c), ["C4"]);
    assert_eq!(c.holds.len(), 1);
    assert_eq!(c.holds[0].status, "waiting");
    assert!(p.holds.is_empty());

    // One list of every card's dates, with the library unreachable.
    lib.stop().await;
    let v = home.view().unwrap();
    assert_eq!(v.members.len(), 2);
    let mut seen: Vec<(String, String, String)> = v
        .items
        .iter()
        .map(|i| (i.card.clone(), i.kind.clone(), i.title.clone()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("1001".into(), "loan".into(), "Negeri 5 Menara".into()),
            ("1002".into(), "hold_ready".into(), "Laskar Pelangi".into()),
            ("1002".into(), "loan".into(), "Cantik Itu Luka".into()),
        ]
    );
    let child_member = v.members.iter().find(|m| m.card == "1002").unwrap();
    assert!(child_member.active, "the card signed in last is shown");
    assert_eq!((child_member.loans, child_member.ready), (1, 1));

    // One tap to the parent's card, kept across a restart of the app.
    home.switch_to("1001").unwrap();
    assert_eq!(home.active().signed_in_as().unwrap().1, "1001");
    drop(home);
    let home = open(&lib);
    assert_eq!(home.active().signed_in_as().unwrap().1, "1001");
    assert_eq!(home.view().unwrap().items.len(), 3, "still offline");
    assert!(home.switch_to("9999").is_err());

    // Removing the child's card signs it out and removes its file.
    lib.restart().await;
    home.remove("1002").await.unwrap();
    let v = home.view().unwrap();
    assert_eq!(v.members.len(), 1);
    assert!(v.items.iter().all(|i| i.card == "1001"));
    let files: Vec<String> = std::fs::read_dir(lib.dir.path().join("household"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    // A new member reuses nothing of the removed card.
    let next = home.add_member().unwrap();
    assert!(next.signed_in_as().is_none());
}
