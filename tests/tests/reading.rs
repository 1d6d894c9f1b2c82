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
    let d: serde_json::Value = lib
        .http
        .get(format!("{}/v1/catalog/titles/{title}", lib.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
