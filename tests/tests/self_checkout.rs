//! A patron at the shelf: a scanned label opens its title (from the
//! library, or from the device when offline), and a copy's label checks
//! the copy out under the library's rules.

use pustaka_client::DeviceError;
use pustaka_scenarios::Library;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_a_copy_label_and_take_it_home() {
    let mut lib = Library::start().await;
    let siti = lib.device("1001", "siti").await;

    let target = siti
        .resolve_code("https://perpustakaan.singkawangkota.go.id/pustaka/title/T2?copy=C2a")
        .await
        .expect("resolved");
    assert_eq!(target.title_id, "T2");
    assert_eq!(target.title, "Bumi Manusia");
    assert_eq!(target.copy.as_deref(), Some("C2a"));
    assert!(!target.from_cache);

    let out = siti.self_checkout("C2a").await.expect("checked out");
    assert_eq!(out.copy, "C2a");
    siti.sync_once().await.expect("sync");
    let view = siti.view().expect("view");
    let loan = view
        .loans
        .iter()
        .find(|l| l.copy == "C2a")
        .expect("the loan shows");
    assert_eq!(loan.due, out.due);

    // The same copy for another patron: the library refuses, with a reason.
    let budi = lib.device("1002", "budi").await;
    match budi.self_checkout("C2a").await {
        Err(DeviceError::Server { code, message }) => {
            assert!(!code.is_empty() && !message.is_empty(), "{code}: {message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A barcode the library does not know.
    assert!(matches!(
        siti.self_checkout("NO-SUCH-COPY").await,
        Err(DeviceError::Server { .. })
    ));

    // Offline: the label still opens the title this device kept; self-
    // checkout says it needs the library.
    if let Some(r) = lib.running.take() {
        r.stop().await;
    }
    let target = siti
        .resolve_code("pustaka://title/T2?copy=C2b")
        .await
        .expect("kept");
    assert!(target.from_cache);
    assert_eq!(target.title, "Bumi Manusia");
    assert!(matches!(
        siti.self_checkout("C2b").await,
        Err(DeviceError::Offline(_))
    ));
    assert!(matches!(
        siti.resolve_code("pustaka://title/T3").await,
        Err(DeviceError::Offline(_))
    ));
}
