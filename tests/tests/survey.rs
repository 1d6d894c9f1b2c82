//! Surveys against a real server on 127.0.0.1: the library publishes one in
//! the shared document, patrons answer offline, the server records each
//! patron's response once (a second device's answers are refused with a
//! reason) and gives librarians totals per question, as JSON and CSV.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use pustaka_scenarios::*;
use serde_json::{Value, json};

fn survey() -> Value {
    json!({
        "id": "layanan-2026",
        "title_id": "Survei kepuasan layanan 2026",
        "title_en": "Service satisfaction survey 2026",
        "closes": "2026-12-31",
        "questions": [
            {"id": "puas", "kind": "rating", "text_id": "Seberapa puas Anda?", "text_en": "How satisfied are you?"},
            {"id": "cabang", "kind": "choice", "text_id": "Cabang yang paling sering Anda kunjungi?",
             "text_en": "Which branch do you visit most?",
             "choices_id": ["Pusat", "Barat", "Utara"], "choices_en": ["Central", "West", "North"]},
            {"id": "saran", "kind": "text", "text_id": "Saran Anda", "text_en": "Your suggestions"}
        ]
    })
}

fn answers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn report(lib: &Library, query: &str) -> (u16, String) {
    let resp = lib
        .http
        .get(format!(
            "{}/admin/v1/surveys/layanan-2026/report{query}",
            lib.url
        ))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_survey_answered_offline_on_two_devices_of_one_patron_counts_once() {
    let mut lib = Library::start().await;
    lib.admin("surveys", survey()).await.unwrap();
    let phone = lib.device("1001", "phone").await;
    let tablet = lib.device("1001", "tablet").await;
    let other = lib.device("1002", "other").await;
    let v = phone.view().unwrap();
    assert_eq!(v.surveys.len(), 1);
    assert!(v.surveys[0].open && !v.surveys[0].answered);
    assert_eq!(
        v.surveys[0].questions[1].choices_en,
        ["Central", "West", "North"]
    );

    // Both devices answer while the library is unreachable.
    lib.stop().await;
    let first = phone
        .answer_survey(
            "layanan-2026",
            answers(&[
                ("puas", "5"),
                ("cabang", "0"),
                ("saran", "Tambah buku anak"),
            ]),
        )
        .unwrap();
    assert!(phone.view().unwrap().surveys[0].pending);
    let second = tablet
        .answer_survey("layanan-2026", answers(&[("puas", "1"), ("cabang", "2")]))
        .unwrap();
    other
        .answer_survey("layanan-2026", answers(&[("puas", "4"), ("cabang", "0")]))
        .unwrap();
    lib.restart().await;

    phone.sync_once().await.unwrap();
    tablet.sync_once().await.unwrap();
    other.sync_once().await.unwrap();
    phone.sync_once().await.unwrap();
    let status = |d: &pustaka_client::Device, id: &uuid::Uuid| {
        let c = d.circ().unwrap().unwrap();
        let o = &c.outcomes[&id.to_string()];
        (o.status.clone(), o.reason.clone())
    };
    assert_eq!(status(&phone, &first), ("accepted".into(), None));
    assert_eq!(
        status(&tablet, &second),
        ("rejected".into(), Some("already_answered".into()))
    );
    // Both devices of the patron see the same outcomes and "answered".
    assert_eq!(status(&phone, &second), status(&tablet, &second));
    assert!(phone.view().unwrap().surveys[0].answered);
    assert!(tablet.view().unwrap().surveys[0].answered);
    // And the device refuses a third before sending it.
    assert!(matches!(
        tablet.answer_survey("layanan-2026", answers(&[("puas", "3")])),
        Err(pustaka_client::DeviceError::Refused(
            pustaka_domain::Reason::AlreadyAnswered
        ))
    ));

    // The librarian's totals: two patrons, each once.
    let (code, body) = report(&lib, "").await;
    assert_eq!(code, 200, "{body}");
    let r: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(r["responses"], 2);
    let q = |id: &str| {
        r["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(q("puas")["counts"], json!([0, 0, 0, 1, 1]));
    assert_eq!(q("puas")["mean"], 4.5);
    assert_eq!(q("cabang")["counts"], json!([2, 0, 0]));
    assert_eq!(q("saran")["texts"], json!(["Tambah buku anak"]));
    // No card anywhere in the totals.
    assert!(!body.contains("1001") && !body.contains("1002"), "{body}");
    let (code, csv) = report(&lib, "?format=csv").await;
    assert_eq!(code, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "survey,question,kind,text,value,count");
    assert!(
        lines.contains(&"layanan-2026,puas,rating,Seberapa puas Anda?,5,1"),
        "{csv}"
    );
    assert!(
        lines.contains(
            &"layanan-2026,cabang,choice,Cabang yang paling sering Anda kunjungi?,Pusat,2"
        ),
        "{csv}"
    );
    assert!(
        lines.contains(&"layanan-2026,saran,text,Saran Anda,Tambah buku anak,1"),
        "{csv}"
    );
}

#[tokio::test]
async fn answers_that_do_not_fit_and_closed_surveys_are_refused_with_a_reason() {
    let lib = Library::start().await;
    // A survey must make sense before it is published.
    let mut bad = survey();
    bad["questions"][1]["choices_en"] = json!(["Central"]);
    assert_eq!(lib.admin("surveys", bad).await.unwrap_err().0, 400);
    let mut bad = survey();
    bad["questions"][0]["kind"] = json!("stars");
    assert_eq!(lib.admin("surveys", bad).await.unwrap_err().0, 400);
    lib.admin("surveys", survey()).await.unwrap();

    let dev = lib.device("1001", "a").await;
    let reason = |id: uuid::Uuid| {
        dev.circ().unwrap().unwrap().outcomes[&id.to_string()]
            .reason
            .clone()
    };
    let out_of_range = dev
        .answer_survey("layanan-2026", answers(&[("puas", "9")]))
        .unwrap();
    let no_such_choice = dev
        .answer_survey("layanan-2026", answers(&[("cabang", "3")]))
        .unwrap();
    let no_such_question = dev
        .answer_survey("layanan-2026", answers(&[("warna", "biru")]))
        .unwrap();
    let no_such_survey = dev
        .answer_survey("nope", answers(&[("puas", "5")]))
        .unwrap();
    dev.sync_once().await.unwrap();
    assert_eq!(reason(out_of_range).as_deref(), Some("invalid_answer"));
    assert_eq!(reason(no_such_choice).as_deref(), Some("invalid_answer"));
    assert_eq!(reason(no_such_question).as_deref(), Some("invalid_answer"));
    assert_eq!(reason(no_such_survey).as_deref(), Some("unknown_survey"));
    // Nothing of them was counted, and the patron may still answer.
    let (_, body) = report(&lib, "").await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["responses"],
        0
    );
    assert!(!dev.view().unwrap().surveys[0].answered);

    // After its last day, the survey takes no answers (the librarian moves
    // the day to 5 November; the library's clock passes it).
    let mut soon = survey();
    soon["closes"] = json!("2026-11-05");
    lib.admin("surveys", soon).await.unwrap();
    lib.advance_days(4);
    let late = dev
        .answer_survey("layanan-2026", answers(&[("puas", "5")]))
        .unwrap();
    dev.sync_once().await.unwrap();
    assert_eq!(reason(late).as_deref(), Some("survey_closed"));
    assert!(!dev.view().unwrap().surveys[0].open);
}
