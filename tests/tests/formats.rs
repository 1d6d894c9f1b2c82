//! Special formats and accessibility information against a real server on
//! 127.0.0.1: Braille, large-print and audiobook editions carry their
//! format from the catalogue record into search results and the format
//! filter; branches' and events' accessibility notes reach the device in
//! the shared document and read offline.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_ipc::Search;
use pustaka_scenarios::*;
use serde_json::json;

#[tokio::test]
async fn braille_large_print_and_audiobooks_are_found_by_format() {
    let lib = Library::start().await;
    for (id, title, format) in [
        ("T91", "Laskar Pelangi (Braille)", "braille"),
        ("T92", "Laskar Pelangi (cetak besar)", "large_print"),
        ("T93", "Laskar Pelangi (buku audio)", "audiobook"),
    ] {
        lib.admin(
            "titles",
            json!({"id": id, "title": title, "author": "Hirata, Andrea", "year": 2005,
                "language": "ind", "subjects": "Fiksi", "isbn": null, "item_type": "book",
                "collection": "umum", "format": format,
                "copies": [{"barcode": format!("{id}-1"), "branch": "pusat", "shelf": "BRL"}]}),
        )
        .await
        .unwrap();
    }
    let dev = lib.device("1001", "a").await;
    let search = |format: Option<&str>| Search {
        query: "laskar pelangi".into(),
        branch: None,
        available_only: false,
        format: format.map(Into::into),
        language: None,
    };
    let all = dev.search(&search(None)).await.unwrap();
    let ids: Vec<&str> = all.hits.iter().map(|h| h.id.as_str()).collect();
    for id in ["T1", "T91", "T92", "T93"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    // Each hit says its form; a plain book says none beyond its type.
    let format_of = |id: &str| {
        all.hits
            .iter()
            .find(|h| h.id == id)
            .map(|h| h.format.clone())
            .unwrap()
    };
    assert_eq!(format_of("T91").as_deref(), Some("braille"));
    assert_eq!(format_of("T92").as_deref(), Some("large_print"));
    assert_eq!(format_of("T93").as_deref(), Some("audiobook"));
    assert_eq!(format_of("T1"), None);
    for (format, id) in [
        ("braille", "T91"),
        ("large_print", "T92"),
        ("audiobook", "T93"),
    ] {
        let r = dev.search(&search(Some(format))).await.unwrap();
        let ids: Vec<&str> = r.hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, [id], "{format}");
    }
    let details = dev.title("T91").await.unwrap();
    assert_eq!(details.details.formats, ["braille"]);
}

#[tokio::test]
async fn branch_and_event_accessibility_notes_read_offline() {
    let mut lib = Library::start().await;
    let dev = lib.device("1001", "a").await;
    lib.stop().await;
    let v = dev.view().unwrap();
    let pusat = v.branches.iter().find(|b| b.id == "pusat").unwrap();
    assert!(
        pusat
            .accessibility_id
            .as_deref()
            .unwrap()
            .contains("Pojok Braille"),
        "{pusat:?}"
    );
    assert!(
        pusat
            .accessibility_en
            .as_deref()
            .unwrap()
            .contains("wheelchair"),
        "{pusat:?}"
    );
    lib.restart().await;
    lib.admin(
        "events",
        json!({"id": "E2", "title_id": "Kelas Braille", "title_en": "Braille class",
            "category": "literacy", "branch": "pusat", "place": "Pojok Braille",
            "start": START + 5 * DAY, "end": START + 5 * DAY + 3_600_000, "capacity": 8,
            "accessibility": "Juru bahasa isyarat tersedia. / Sign language interpreter available."}),
    )
    .await
    .unwrap();
    dev.sync_once().await.unwrap();
    lib.stop().await;
    let e = dev
        .view()
        .unwrap()
        .events
        .into_iter()
        .find(|e| e.id == "E2")
        .unwrap();
    assert!(e.accessibility.contains("Sign language"), "{e:?}");
}
