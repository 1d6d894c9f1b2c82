//! Catalogue reads: search with availability per branch, title details,
//! lookup by copy barcode, ISBN or shelf-QR payload.

use std::collections::BTreeMap;

pub use pustaka_ipc::{
    BranchAvailability, CopyInfo, OnlineLink, SearchResults, TitleDetails, TitleSummary,
};
pub use pustaka_marc::isbn13;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

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
        format: t.format.clone().filter(|f| *f != t.item_type),
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
) -> Result<SearchResults, ApiError> {
    let rows = hub.store().search_titles(q, filter, limit)?;
    let hits = rows
        .iter()
        .map(|t| summary(hub, t))
        .collect::<Result<Vec<_>, _>>()?;
    let suggestion = if hits.is_empty() {
        suggest(hub, q, filter)?
    } else {
        None
    };
    Ok(SearchResults { hits, suggestion })
}

/// The words of a query as the index folds them: lower case, no diacritics.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Damerau–Levenshtein (optimal string alignment) distance, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// The closest known word: within 1 edit for words of up to 5 letters,
/// 2 for longer ones; the most frequent wins a tie. `None` when the word is
/// known or nothing is close.
pub fn closest<'a>(word: &str, candidates: &'a [(String, u64)]) -> Option<&'a str> {
    let len = word.chars().count();
    if len < 3 || candidates.iter().any(|(t, _)| t == word) {
        return None;
    }
    let max = if len <= 5 { 1 } else { 2 };
    candidates
        .iter()
        .map(|(t, n)| (edit_distance(word, t), std::cmp::Reverse(*n), t.as_str()))
        .filter(|(d, _, _)| *d <= max)
        .min()
        .map(|(_, _, t)| t)
}

/// "Did you mean": each unknown word of the query replaced by the closest
/// word of the index, offered only when the new query finds something.
fn suggest(hub: &mut Hub, q: &str, filter: &SearchFilter) -> Result<Option<String>, ApiError> {
    if pustaka_marc::isbn13(q).is_some() {
        return Ok(None);
    }
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
        .map(fold)
        .collect();
    let mut changed = false;
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        let near = hub.store().vocabulary_near(&w, 400)?;
        match closest(&w, &near) {
            Some(better) => {
                changed = true;
                out.push(better.to_string());
            }
            None => out.push(w),
        }
    }
    if !changed {
        return Ok(None);
    }
    let candidate = out.join(" ");
    let found = !hub.store().search_titles(&candidate, filter, 1)?.is_empty();
    Ok(found.then_some(candidate))
}

/// "Borrowed together" shows a title only when at least this many distinct
/// patrons borrowed both: below it, a recommendation could tell one patron's
/// reading to whoever knows what else they borrowed.
pub const RECOMMEND_MIN_PATRONS: u32 = 3;
/// At most this many recommendations per title.
pub const RECOMMEND_MAX: u32 = 5;

pub fn details(hub: &mut Hub, id: &str) -> Result<TitleDetails, ApiError> {
    let t = hub
        .store()
        .title(id)?
        .ok_or_else(|| ApiError::NotFound(format!("title {id}")))?;
    let copies = hub.store().copies_of(id)?;
    let holds = hub.store().holds_on_title(id)?.len() as u32;
    let mut borrowed_together = vec![];
    for (other, _) in hub
        .store()
        .borrowed_together(id, RECOMMEND_MIN_PATRONS, RECOMMEND_MAX)?
    {
        if let Some(o) = hub.store().title(&other)? {
            borrowed_together.push(summary(hub, &o)?);
        }
    }
    Ok(TitleDetails {
        borrowed_together,
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
    // A label's link may name the copy after `?`: the title is what opens.
    let path_id = |s: &str| {
        s.split(['?', '#'])
            .next()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string()
    };
    let title_id = if let Some(id) = code.strip_prefix("pustaka://title/") {
        Some(path_id(id))
    } else if (code.starts_with("https://") || code.starts_with("http://"))
        && code.contains("/title/")
    {
        code.rsplit("/title/").next().map(path_id)
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
    fn edit_distances() {
        assert_eq!(edit_distance("manusia", "manusia"), 0);
        assert_eq!(edit_distance("manusai", "manusia"), 1); // transposition
        assert_eq!(edit_distance("mnusia", "manusia"), 1);
        assert_eq!(edit_distance("pramudya", "pramoedya"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kata", ""), 4);
    }

    #[test]
    fn closest_word() {
        let vocab = vec![
            ("manusia".to_string(), 40),
            ("manusiawi".to_string(), 3),
            ("manisan".to_string(), 2),
        ];
        assert_eq!(closest("manusai", &vocab), Some("manusia"));
        assert_eq!(closest("manusia", &vocab), None, "a known word stays");
        assert_eq!(closest("mxyzptlk", &vocab), None, "nothing close");
        assert_eq!(closest("ma", &vocab), None, "too short to guess");
        let tie = vec![("buka".to_string(), 1), ("buku".to_string(), 9)];
        assert_eq!(
            closest("bukk", &tie),
            Some("buku"),
            "the more frequent wins"
        );
        assert_eq!(fold("Pramoedyá"), "pramoedya");
    }

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
