//! The FAQ assistant against a real server on 127.0.0.1: librarians publish
//! the questions and answers (the demo library's real file), devices answer
//! from their replica with the server stopped, in Indonesian and English;
//! a question the FAQ does not answer goes to a librarian as an intent
//! (queued offline), and the answer comes back in the patron's document and
//! as a notification.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pustaka_domain::Lang;
use pustaka_scenarios::*;
use serde_json::{Value, json};

async fn publish_demo_faq(lib: &Library) -> usize {
    let entries = pustaka_sync::librarian::parse_faq_file(pustaka_sync::demo::DEMO_FAQ).unwrap();
    let n = entries.len();
    let saved = lib.admin("faq", json!({ "entry": entries })).await.unwrap();
    assert_eq!(saved["saved"], n);
    n
}

async fn delete_parkir(lib: &Library) -> reqwest::StatusCode {
    lib.http
        .delete(format!("{}/admin/v1/faq/parkir", lib.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .status()
}

async fn admin_get(lib: &Library, path: &str) -> Value {
    lib.get_json(&format!("/admin/v1/{path}"), true).await
}

#[tokio::test]
async fn the_faq_answers_offline_in_both_languages() {
    let mut lib = Library::start().await;
    let n = publish_demo_faq(&lib).await;
    assert!(n >= 40, "the demo ships about forty entries, not {n}");
    let dev = lib.device("1001", "a").await;
    assert_eq!(dev.faq(Lang::Id).unwrap().len(), n);
    lib.stop().await;
    assert!(dev.sync_once().await.is_err(), "the server is gone");

    for (lang, question, want) in [
        (
            Lang::Id,
            "berapa denda per hari untuk buku?",
            "denda-jumlah",
        ),
        (
            Lang::Id,
            "saya telat mengembalikan buku, apa yang terjadi?",
            "pinjam-terlambat",
        ),
        (
            Lang::Id,
            "jam berapa perpustakaan buka hari sabtu",
            "jam-buka",
        ),
        (Lang::Id, "syarat membuat kartu anggota", "anggota-daftar"),
        (Lang::Id, "apakah ada buku braille", "koleksi-braille"),
        (
            Lang::Id,
            "kartu perpustakaan saya hilang",
            "anggota-kartu-hilang",
        ),
        (
            Lang::En,
            "how much is the fine for a late book",
            "denda-jumlah",
        ),
        (Lang::En, "where does the book van stop", "keliling-jadwal"),
        (
            Lang::En,
            "how do I renew my loan in the app",
            "pinjam-perpanjang-aplikasi",
        ),
        (Lang::En, "can I read e-books", "ebook-baca"),
    ] {
        let a = dev.search_faq(question, lang).unwrap();
        assert!(a.confident, "{question}: {a:?}");
        assert_eq!(a.hits[0].id, want, "{question}: {:?}", a.hits);
    }
    // Each language's text, in its language.
    let id = dev.search_faq("denda keterlambatan", Lang::Id).unwrap();
    assert!(id.hits[0].answer.contains("per hari"), "{:?}", id.hits[0]);
    let en = dev.search_faq("late fine", Lang::En).unwrap();
    assert!(en.hits[0].answer.contains("a day"), "{:?}", en.hits[0]);
    // Nothing the library wrote about: not confident, so the app offers a
    // librarian.
    let none = dev
        .search_faq("bolehkah membawa kucing peliharaan saya", Lang::Id)
        .unwrap();
    assert!(!none.confident, "{none:?}");
    assert!(dev.search_faq("   ", Lang::En).unwrap().hits.is_empty());
}

#[tokio::test]
async fn an_unanswered_question_reaches_a_librarian_and_the_answer_comes_back() {
    let mut lib = Library::start().await;
    publish_demo_faq(&lib).await;
    let dev = lib.device("1001", "a").await;
    let other = lib.device("1002", "b").await;
    lib.stop().await;

    let question = "Bolehkah saya membawa kucing peliharaan ke ruang baca?";
    assert!(
        !dev.search_faq(question, Lang::Id).unwrap().confident,
        "the FAQ has no answer"
    );
    // Asked offline: queued as an intent.
    let id = dev.ask_librarian(question, Lang::Id).unwrap();
    assert!(
        dev.view()
            .unwrap()
            .pending
            .iter()
            .any(|p| p.id == id.to_string() && p.kind == "ask_librarian")
    );
    assert!(matches!(
        dev.ask_librarian("   ", Lang::Id),
        Err(pustaka_client::DeviceError::Invalid(_))
    ));

    lib.restart().await;
    dev.sync_once().await.unwrap();
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    let o = v
        .outcomes
        .iter()
        .find(|o| o.intent_id == id.to_string())
        .unwrap();
    assert!(o.accepted, "{o:?}");
    assert_eq!(v.questions.len(), 1);
    assert_eq!(v.questions[0].question, question);
    assert_eq!(v.questions[0].answer, None);

    // The librarian's list of open questions.
    let open = admin_get(&lib, "questions").await;
    let open = open["open"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["id"], id.to_string());
    assert_eq!(open[0]["card"], "1001");
    assert_eq!(open[0]["lang"], "id");
    assert_eq!(open[0]["question"], question);

    // Bad answers are refused; a good one is recorded.
    let empty = lib
        .admin(&format!("questions/{id}/answer"), json!({ "answer": "  " }))
        .await;
    assert_eq!(empty.unwrap_err().0, 400);
    let unknown = lib
        .admin("questions/nope/answer", json!({ "answer": "Ya." }))
        .await;
    assert_eq!(unknown.unwrap_err().0, 404);
    let answer =
        "Mohon maaf, hewan peliharaan tidak boleh dibawa ke ruang baca, kecuali anjing pemandu.";
    let answered = lib
        .admin(
            &format!("questions/{id}/answer"),
            json!({ "answer": answer, "by": "Rina" }),
        )
        .await
        .unwrap();
    assert_eq!(answered["answered_by"], "Rina");
    assert!(
        admin_get(&lib, "questions").await["open"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The answer arrives in the patron's document, and as a notification.
    dev.sync_once().await.unwrap();
    let v = dev.view().unwrap();
    assert_eq!(v.questions[0].answer.as_deref(), Some(answer));
    let (due, plan) = dev.due_reminders(&[3, 1], Lang::Id).unwrap();
    let note = due
        .iter()
        .find(|r| r.kind == pustaka_client::reminders::ReminderKind::Answer)
        .expect("an answer notification");
    assert!(note.title.starts_with("Pustakawan menjawab"), "{note:?}");
    assert!(note.body.contains("anjing pemandu"), "{note:?}");
    let shown: Vec<String> = due.iter().map(|r| r.key.clone()).collect();
    dev.mark_fired(&plan, &shown).unwrap();
    assert!(
        dev.due_reminders(&[3, 1], Lang::Id)
            .unwrap()
            .0
            .iter()
            .all(|r| r.kind != pustaka_client::reminders::ReminderKind::Answer),
        "shown once"
    );
    // Another patron sees nothing of it.
    other.sync_once().await.unwrap();
    assert!(other.view().unwrap().questions.is_empty());
}

#[tokio::test]
async fn librarians_edit_the_faq_and_devices_follow() {
    let lib = Library::start().await;
    let entry = json!({
        "id": "parkir", "topic": "other",
        "question_id": "Di mana saya bisa parkir?", "answer_id": "Parkir motor di halaman samping.",
        "question_en": "Where can I park?", "answer_en": "Motorbikes park in the side yard.",
        "also_id": ["tempat parkir motor"], "also_en": ["parking"]
    });
    lib.admin("faq", entry.clone()).await.unwrap();
    let dev = lib.device("1001", "a").await;
    let a = dev.search_faq("tempat parkir", Lang::Id).unwrap();
    assert!(a.confident, "{a:?}");
    assert_eq!(a.hits[0].answer, "Parkir motor di halaman samping.");

    // Checked before anything is written.
    for (field, bad) in [
        ("topic", json!("parking")),
        ("id", json!("Bad Id")),
        ("answer_en", json!("")),
    ] {
        let mut e = entry.clone();
        e[field] = bad;
        assert_eq!(lib.admin("faq", e).await.unwrap_err().0, 400, "{field}");
    }
    // An edit and a removal reach the device.
    let mut e = entry.clone();
    e["answer_id"] = json!("Parkir motor dan mobil di halaman samping.");
    lib.admin("faq", e).await.unwrap();
    dev.sync_once().await.unwrap();
    assert_eq!(
        dev.search_faq("tempat parkir", Lang::Id).unwrap().hits[0].answer,
        "Parkir motor dan mobil di halaman samping."
    );
    let status = delete_parkir(&lib).await;
    assert_eq!(status, 204);
    dev.sync_once().await.unwrap();
    assert!(dev.faq(Lang::Id).unwrap().is_empty());
    let again = delete_parkir(&lib).await;
    assert_eq!(again, 404);
}
