//! The membership card's signed code, end to end: the device fetches it
//! from a real server and keeps it; a book van with only the library's
//! public key (no network) reads it from a picture of the card and
//! checks it; forged and foreign codes are refused.

use pustaka_scan::{Scanner, from_rgba};
use pustaka_scenarios::Library;
use pustaka_sync::card::{self, CardError, Verdict};

/// The card's QR as the app draws it (qrcode), as an RGBA screenshot.
fn card_picture(text: &str) -> pustaka_scan::GrayImage {
    let code = qrcode::QrCode::new(text.as_bytes()).expect("encodable");
    let n = code.width();
    let colors = code.to_colors();
    let (scale, margin) = (5usize, 30usize);
    let side = n * scale + 2 * margin;
    let mut rgba = Vec::with_capacity(side * side * 4);
    for y in 0..side {
        for x in 0..side {
            let dark = x >= margin
                && y >= margin
                && x < margin + n * scale
                && y < margin + n * scale
                && colors[((y - margin) / scale) * n + (x - margin) / scale] == qrcode::Color::Dark;
            let v = if dark { 17 } else { 250 };
            rgba.extend_from_slice(&[v, v, v, 255]);
        }
    }
    from_rgba(side as u32, side as u32, &rgba).expect("frame")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_book_van_checks_the_card_offline() {
    let mut lib = Library::start().await;
    let device = lib.device("1001", "phone").await;
    let kept = device
        .current_card_token()
        .await
        .expect("fetched")
        .expect("a token");
    assert!(kept.token.starts_with("PK1."));

    // The van got the public key once, when it was online.
    let key: serde_json::Value = reqwest::get(format!("{}/v1/card/public-key", lib.url))
        .await
        .expect("reachable")
        .json()
        .await
        .expect("json");
    assert_eq!(key["alg"], "ed25519");
    let public = card::parse_public_key(key["key"].as_str().expect("key")).expect("a key");

    // The library goes away; the phone still shows the kept code.
    if let Some(r) = lib.running.take() {
        r.stop().await;
    }
    let offline = device
        .current_card_token()
        .await
        .expect("kept")
        .expect("a token");
    assert_eq!(offline.token, kept.token);

    // The van scans the phone's screen.
    let codes = Scanner::default().scan(&card_picture(&offline.token)).codes;
    let scanned = codes
        .iter()
        .find(|c| c.text.starts_with("PK1."))
        .expect("read");
    let claims = card::verify(&public, &scanned.text).expect("the library's signature");
    assert_eq!(claims.card, "1001");
    assert_eq!(claims.status, "active");
    let today = chrono::DateTime::from_timestamp_millis(lib.clock_now())
        .expect("now")
        .date_naive();
    assert_eq!(card::judge(&claims, today), Verdict::Valid);
    assert_eq!(
        card::judge(&claims, claims.expires.succ_opt().expect("day")),
        Verdict::Expired
    );

    // A code edited to another card keeps nothing of its signature.
    let (_, rest) = scanned.text.split_once('.').expect("dot");
    let (_, sig) = rest.split_once('.').expect("dot");
    use base64::Engine as _;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("1002|{}|active|{}", claims.expires, claims.issued));
    assert_eq!(
        card::verify(&public, &format!("PK1.{forged}.{sig}")),
        Err(CardError::BadSignature)
    );
    // Another library's key refuses it.
    let other = card::signing_key(&"42".repeat(32)).expect("seed");
    assert_eq!(
        card::verify(&other.verifying_key(), &scanned.text),
        Err(CardError::BadSignature)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_key_survives_a_restart() {
    let lib = Library::start().await;
    let first: serde_json::Value = reqwest::get(format!("{}/v1/card/public-key", lib.url))
        .await
        .expect("reachable")
        .json()
        .await
        .expect("json");
    let store = pustaka_sync::storage::sqlite::SqliteStorage::open(
        &lib.dir.path().join(pustaka_sync::DB_FILE),
    )
    .expect("store");
    use pustaka_sync::storage::Storage;
    let seed = store.meta(card::KEY_META).expect("meta").expect("kept");
    let again = card::public_key_text(&card::signing_key(&seed).expect("seed"));
    assert_eq!(first["key"].as_str(), Some(again.as_str()));
    // Without a session there is no card.
    let status = reqwest::get(format!("{}/v1/card", lib.url))
        .await
        .expect("reachable")
        .status();
    assert_eq!(status.as_u16(), 401);
}
