//! OPDS 2.0: the library's online titles (e-books, e-journals, audiobooks)
//! as a catalogue that reading apps (Thorium, KOReader, Aldiko…) browse.
//!
//! `GET /opds/v2/catalog.json` is the navigation feed (one entry per
//! format); `GET /opds/v2/publications.json?format=&page=` lists the titles
//! that have online links, 50 per page, ordered by id. A title's links are
//! open-access acquisitions of the linked page; the title's record on this
//! server is its `alternate`. Checked against the official JSON Schemas by
//! `sync-server/tests/opds.rs` with `../shared/tools/validate_opds2.py`.

use serde_json::{Value, json};

use pustaka_domain::{Lang, i18n};

use crate::error::ApiError;
use crate::hub::Hub;
use crate::storage::TitleRow;

/// Formats that count as online resources, with their schema.org type
/// (their names are `opds-<format>` in the translation files).
pub const FORMATS: [(&str, &str); 3] = [
    ("ebook", "http://schema.org/Book"),
    ("serial", "http://schema.org/Periodical"),
    ("audiobook", "http://schema.org/Audiobook"),
];
pub const PAGE: u32 = 50;
const OPDS: &str = "application/opds+json";
const OPEN_ACCESS: &str = "http://opds-spec.org/acquisition/open-access";

fn format_of(code: &str) -> Option<(&'static str, &'static str)> {
    FORMATS.iter().copied().find(|f| f.0 == code)
}

/// A feed text in both languages ("Buku elektronik · E-books"): an OPDS
/// client shows one title, and the feed serves every patron.
fn both(key: &str, args: &[(&str, &str)]) -> String {
    format!(
        "{} · {}",
        i18n::message(Lang::Id, key, args),
        i18n::message(Lang::En, key, args)
    )
}

/// MARC language codes (ISO 639-2/B) as BCP 47 tags; other valid codes
/// pass as they are (a three-letter primary subtag), anything else is left
/// out.
pub fn bcp47(marc: &str) -> Option<String> {
    let two = match marc {
        "ind" => "id",
        "eng" => "en",
        "msa" | "may" => "ms",
        "jav" => "jv",
        "sun" => "su",
        "ara" => "ar",
        "chi" | "zho" => "zh",
        "dut" | "nld" => "nl",
        "fre" | "fra" => "fr",
        "ger" | "deu" => "de",
        "jpn" => "ja",
        "spa" => "es",
        "por" => "pt",
        "rus" => "ru",
        other if other.len() == 3 && other.chars().all(|c| c.is_ascii_lowercase()) => {
            return Some(other.to_string());
        }
        _ => return None,
    };
    Some(two.to_string())
}

/// The navigation feed: the library's online collections.
pub fn catalog(hub: &mut Hub, base: &str) -> Result<Value, ApiError> {
    let name = hub.policy().library.name.clone();
    let mut navigation = vec![];
    for (code, _) in FORMATS {
        let (total, _) = hub.store().online_titles(&[code], 0, 0)?;
        if total > 0 {
            navigation.push(json!({
                "href": format!("{base}/opds/v2/publications.json?format={code}"),
                "title": format!("{} ({total})", both(&format!("opds-{code}"), &[])),
                "type": OPDS,
                "rel": "subsection",
            }));
        }
    }
    navigation.push(json!({
        "href": format!("{base}/opds/v2/publications.json"),
        "title": both("opds-all", &[]),
        "type": OPDS,
        "rel": "subsection",
    }));
    Ok(json!({
        "metadata": {
            "title": i18n::message(Lang::Id, "opds-catalog", &[("library", &name)]),
            "description": both("opds-description", &[]),
        },
        "links": [
            {"rel": "self", "href": format!("{base}/opds/v2/catalog.json"), "type": OPDS},
            {"rel": "start", "href": format!("{base}/opds/v2/catalog.json"), "type": OPDS},
        ],
        "navigation": navigation,
    }))
}

/// One page of online titles, optionally of one format.
pub fn publications(
    hub: &mut Hub,
    base: &str,
    format: Option<&str>,
    page: u32,
) -> Result<Value, ApiError> {
    let formats: Vec<&str> = match format {
        Some(f) => vec![
            format_of(f)
                .ok_or_else(|| ApiError::Malformed(format!("unknown format `{f}`")))?
                .0,
        ],
        None => FORMATS.iter().map(|f| f.0).collect(),
    };
    let page = page.max(1);
    let offset = (page - 1).saturating_mul(PAGE);
    let (total, rows) = hub.store().online_titles(&formats, offset, PAGE)?;
    let query = |p: u32| match format {
        Some(f) => format!("{base}/opds/v2/publications.json?format={f}&page={p}"),
        None => format!("{base}/opds/v2/publications.json?page={p}"),
    };
    let last = total.div_ceil(u64::from(PAGE)).max(1) as u32;
    let mut links = vec![
        json!({"rel": "self", "href": query(page), "type": OPDS}),
        json!({"rel": "start", "href": format!("{base}/opds/v2/catalog.json"), "type": OPDS}),
        json!({"rel": "first", "href": query(1), "type": OPDS}),
        json!({"rel": "last", "href": query(last), "type": OPDS}),
    ];
    if page > 1 {
        links.push(json!({"rel": "previous", "href": query(page - 1), "type": OPDS}));
    }
    if page < last {
        links.push(json!({"rel": "next", "href": query(page + 1), "type": OPDS}));
    }
    let title = match format.and_then(format_of) {
        Some((code, _)) => both(&format!("opds-{code}"), &[]),
        None => both("opds-all", &[]),
    };
    let mut feed = json!({
        "metadata": {
            "title": title,
            "numberOfItems": total,
            "itemsPerPage": PAGE,
            "currentPage": page,
        },
        "links": links,
    });
    let publications: Vec<Value> = rows.iter().map(|t| publication(base, t)).collect();
    if publications.is_empty() {
        // A feed lists at least one publication, or else navigates.
        feed["navigation"] = json!([{
            "href": format!("{base}/opds/v2/catalog.json"),
            "title": both("opds-back", &[]),
            "type": OPDS,
        }]);
    } else {
        feed["publications"] = Value::Array(publications);
    }
    Ok(feed)
}

fn publication(base: &str, t: &TitleRow) -> Value {
    let kind = t
        .format
        .as_deref()
        .and_then(format_of)
        .map_or("http://schema.org/CreativeWork", |f| f.1);
    let identifier = match &t.isbn {
        Some(isbn) => format!("urn:isbn:{isbn}"),
        None => format!("{base}/title/{}", t.id),
    };
    let mut metadata = json!({
        "@type": kind,
        "identifier": identifier,
        "title": t.title,
    });
    if !t.author.is_empty() {
        metadata["author"] = json!([{ "name": t.author }]);
    }
    if let Some(lang) = bcp47(&t.language) {
        metadata["language"] = json!(lang);
    }
    let subjects: Vec<&str> = t
        .subjects
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !subjects.is_empty() {
        metadata["subject"] = json!(subjects);
    }
    if let Some(r) = &t.responsibility {
        metadata["description"] = json!(r);
    }
    let mut links: Vec<Value> = t
        .links
        .iter()
        .map(|l| {
            let mut link = json!({"rel": OPEN_ACCESS, "href": l.url, "type": "text/html"});
            if let Some(label) = &l.label {
                link["title"] = json!(label);
            }
            link
        })
        .collect();
    links.push(json!({
        "rel": "alternate",
        "href": format!("{base}/v1/catalog/titles/{}", t.id),
        "type": "application/json",
    }));
    json!({ "metadata": metadata, "links": links })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_become_bcp47_tags() {
        assert_eq!(bcp47("ind").as_deref(), Some("id"));
        assert_eq!(bcp47("dut").as_deref(), Some("nl"));
        assert_eq!(
            bcp47("bug").as_deref(),
            Some("bug"),
            "Buginese has no two-letter code"
        );
        assert_eq!(bcp47("").as_deref(), None);
        assert_eq!(bcp47("||| ").as_deref(), None);
    }

    #[test]
    fn a_publication_has_an_open_access_link_and_its_record() {
        let t = TitleRow {
            id: "D1".into(),
            title: "Max Havelaar".into(),
            author: "Multatuli".into(),
            language: "dut".into(),
            subjects: "Fiksi; Sejarah".into(),
            format: Some("ebook".into()),
            links: vec![crate::storage::TitleLink {
                url: "https://www.gutenberg.org/".into(),
                label: Some("Project Gutenberg".into()),
            }],
            ..Default::default()
        };
        let p = publication("http://127.0.0.1:1", &t);
        assert_eq!(p["metadata"]["@type"], "http://schema.org/Book");
        assert_eq!(p["metadata"]["language"], "nl");
        assert_eq!(p["links"][0]["rel"], OPEN_ACCESS);
        assert_eq!(
            p["links"][1]["href"],
            "http://127.0.0.1:1/v1/catalog/titles/D1"
        );
    }
}
