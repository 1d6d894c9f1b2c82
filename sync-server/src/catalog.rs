//! Catalogue reads: search with availability per branch, title details,
//! lookup by copy barcode, ISBN or shelf-QR payload.

use std::collections::BTreeMap;

pub use pustaka_ipc::{BranchAvailability, CopyInfo, OnlineLink, TitleDetails, TitleSummary};
pub use pustaka_marc::isbn13;

use crate::error::ApiError;
use crate::hub::Hub;
use crate::storage::{CopyStatus, SearchFilter, TitleRow};

fn summary(hub: &Hub, t: &TitleRow) -> Result<TitleSummary, ApiError> {
    let mut per: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for c in hub.store().copies_of(&t.id)? {
        let e = per.entry(c.branch).or_default();
        e.1 += 1;
        if c.status == CopyStatus::Available {
            e.0 += 1;
        }
    }
    Ok(TitleSummary {
        id: t.id.clone(),
        title: t.title.clone(),
        author: t.author.clone(),
        year: t.year,
        language: t.language.clone(),
        item_type: t.item_type.clone(),
        availability: per
            .into_iter()
            .map(|(branch, (available, total))| BranchAvailability {
                branch,
                available,
                total,
            })
            .collect(),
    })
}

pub fn search(
    hub: &mut Hub,
    q: &str,
    filter: &SearchFilter,
    limit: u32,
) -> Result<Vec<TitleSummary>, ApiError> {
    let rows = hub.store().search_titles(q, filter, limit)?;
    rows.iter().map(|t| summary(hub, t)).collect()
}

pub fn details(hub: &mut Hub, id: &str) -> Result<TitleDetails, ApiError> {
    let t = hub
        .store()
        .title(id)?
        .ok_or_else(|| ApiError::NotFound(format!("title {id}")))?;
    let copies = hub.store().copies_of(id)?;
    let holds = hub.store().holds_on_title(id)?.len() as u32;
    Ok(TitleDetails {
        summary: summary(hub, &t)?,
        subjects: t
            .subjects
            .split(';')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        isbn: t.isbn.clone(),
        collection: t.collection.clone(),
        formats: vec![t.format.clone().unwrap_or_else(|| t.item_type.clone())],
        responsibility: t.responsibility.clone(),
        call_number: t.call_number.clone(),
        links: t
            .links
            .iter()
            .map(|l| OnlineLink {
                url: l.url.clone(),
                label: l.label.clone(),
            })
            .collect(),
        copies: copies
            .into_iter()
            .map(|c| CopyInfo {
                barcode: c.barcode,
                branch: c.branch,
                shelf: c.shelf,
                status: c.status.code().into(),
            })
            .collect(),
        holds,
    })
}

/// A scanned code: `pustaka://title/<id>`, `https://…/title/<id>`, an ISBN,
/// or a copy barcode.
pub fn lookup(hub: &mut Hub, code: &str) -> Result<TitleDetails, ApiError> {
    let code = code.trim();
    let title_id = if let Some(id) = code.strip_prefix("pustaka://title/") {
        Some(id.to_string())
    } else if (code.starts_with("https://") || code.starts_with("http://"))
        && code.contains("/title/")
    {
        code.rsplit("/title/")
            .next()
            .map(|s| s.trim_end_matches('/').to_string())
    } else if let Some(isbn) = isbn13(code) {
        hub.store().title_by_isbn(&isbn)?.map(|t| t.id)
    } else {
        hub.store().copy(code)?.map(|c| c.title_id)
    };
    match title_id {
        Some(id) => details(hub, &id),
        None => Err(ApiError::NotFound(format!(
            "no title for code `{}`",
            code.chars().take(40).collect::<String>()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbn_table() {
        let cases = [
            ("978-979-3062-79-2", Some("9789793062792")),
            ("9789793062791", None),
            ("0-306-40615-2", Some("9780306406157")),
            ("0306406153", None),
            ("080442957X", Some("9780804429573")),
            ("hello", None),
        ];
        for (input, want) in cases {
            assert_eq!(isbn13(input).as_deref(), want, "{input}");
        }
    }
}
