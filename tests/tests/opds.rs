//! The OPDS 2.0 feed of the library's online titles, served by a real
//! server on 127.0.0.1 and checked by `../shared/tools/validate_opds2.py`
//! (the official OPDS 2.0 JSON Schemas), page by page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_scenarios::{Library, python, shared};
use serde_json::{Value, json};

async fn fetch(lib: &Library, path: &str) -> (String, Value) {
    let resp = lib
        .http
        .get(format!("{}{path}", lib.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{path}");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(ct.starts_with("application/opds+json"), "{path}: {ct}");
    (path.to_string(), resp.json().await.unwrap())
}

#[tokio::test]
async fn opds_feed_of_ebooks_and_ejournals_passes_the_official_schemas() {
    let lib = Library::start().await;
    // 55 e-books (two pages of 50), 3 e-journals, and a printed book with
    // a table-of-contents link that must stay out of the feed.
    for n in 1..=55 {
        lib.admin("titles", json!({"id": format!("E{n:03}"), "title": format!("Buku elektronik {n}"),
            "author": "Penulis, Contoh", "year": 2020, "language": if n % 2 == 0 { "ind" } else { "eng" },
            "subjects": "Fiksi; Sejarah", "isbn": null, "item_type": "reference", "collection": null,
            "format": "ebook", "links": [{"url": format!("https://ebooks.example.org/{n}"), "label": "Baca"}]}))
            .await
            .unwrap();
    }
    for n in 1..=3 {
        lib.admin(
            "titles",
            json!({"id": format!("J{n}"), "title": format!("Jurnal Pustakawan {n}"),
            "author": "", "year": null, "language": "ind", "subjects": "", "isbn": null,
            "item_type": "reference", "collection": null, "format": "serial",
            "links": [{"url": format!("https://journals.example.org/{n}"), "label": null}]}),
        )
        .await
        .unwrap();
    }
    lib.admin(
        "titles",
        json!({"id": "P1", "title": "Sejarah cetak", "author": "A", "year": 2001,
        "language": "ind", "subjects": "", "isbn": null, "item_type": "book", "collection": null,
        "format": "book", "links": [{"url": "https://toc.example.org/1", "label": "Daftar isi"}]}),
    )
    .await
    .unwrap();
    // A link that is not http(s) is refused at the door.
    let bad = lib
        .admin("titles", json!({"id": "X1", "title": "x", "author": "", "year": null, "language": "ind",
            "subjects": "", "isbn": null, "item_type": "book", "collection": null, "format": "ebook",
            "links": [{"url": "javascript:alert(1)", "label": null}]}))
        .await;
    assert_eq!(bad.unwrap_err().0, 400);

    let mut feeds = vec![];
    let root = fetch(&lib, "/opds/v2/catalog.json").await;
    let nav = root.1["navigation"].as_array().unwrap();
    assert_eq!(nav.len(), 3, "e-books, e-journals, all: {nav:?}");
    assert!(
        nav[0]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    feeds.push(root);
    let p1 = fetch(&lib, "/opds/v2/publications.json?format=ebook").await;
    assert_eq!(p1.1["metadata"]["numberOfItems"], 55);
    assert_eq!(p1.1["publications"].as_array().unwrap().len(), 50);
    let next = p1.1["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .expect("a next link")["href"]
        .as_str()
        .unwrap()
        .to_string();
    let next_path = next.split_once("127.0.0.1").unwrap().1;
    let next_path = &next_path[next_path.find('/').unwrap()..];
    let p2 = fetch(&lib, next_path).await;
    assert_eq!(p2.1["publications"].as_array().unwrap().len(), 5);
    assert_eq!(p2.1["publications"][0]["metadata"]["language"], "en");
    feeds.push(p1);
    feeds.push(p2);
    let journals = fetch(&lib, "/opds/v2/publications.json?format=serial").await;
    let pubs = journals.1["publications"].as_array().unwrap();
    assert_eq!(pubs.len(), 3);
    assert_eq!(pubs[0]["metadata"]["@type"], "http://schema.org/Periodical");
    feeds.push(journals);
    let all = fetch(&lib, "/opds/v2/publications.json?page=2").await;
    assert_eq!(
        all.1["metadata"]["numberOfItems"], 58,
        "the printed book is not in the feed"
    );
    feeds.push(all);
    // An empty collection still is a valid feed (it navigates back).
    feeds.push(fetch(&lib, "/opds/v2/publications.json?format=audiobook").await);
    let unknown = lib
        .http
        .get(format!(
            "{}/opds/v2/publications.json?format=vinyl",
            lib.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 400);

    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for (i, (path, v)) in feeds.iter().enumerate() {
        let f = dir.path().join(format!("feed{i}.json"));
        std::fs::write(&f, serde_json::to_vec_pretty(v).unwrap()).unwrap();
        eprintln!("{} ← {path}", f.display());
        files.push(f);
    }
    let out = std::process::Command::new(python())
        .arg(shared("tools/validate_opds2.py"))
        .args(&files)
        .output()
        .expect("running validate_opds2.py");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the OPDS validator failed:\n{report}");
    assert!(
        report.contains(&format!("{} passed, 0 failed", files.len())),
        "{report}"
    );
}
