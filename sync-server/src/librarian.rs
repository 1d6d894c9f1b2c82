//! The librarian's catalogue and calendar edits: validated against the
//! policy, then written through the engine's transaction. Used by the admin
//! API (`http.rs`) and by the demo seeder; no HTTP here.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::hub::Hub;
use crate::storage::{CopyRow, CopyStatus, EventRow, TitleLink, TitleRow};

#[derive(Deserialize, Serialize, Clone)]
pub struct NewCopy {
    pub barcode: String,
    pub branch: String,
    pub shelf: String,
}

#[derive(Deserialize, Serialize, Clone)]
pub struct NewTitle {
    pub id: String,
    pub title: String,
    pub author: String,
    pub year: Option<i32>,
    pub language: String,
    #[serde(default)]
    pub subjects: String,
    pub isbn: Option<String>,
    pub item_type: String,
    pub collection: Option<String>,
    #[serde(default)]
    pub copies: Vec<NewCopy>,
    /// Physical or digital form (`ebook`, `serial`…); the item type when
    /// absent.
    #[serde(default)]
    pub format: Option<String>,
    /// Online access (e-books, e-journals): http(s) links only.
    #[serde(default)]
    pub links: Vec<TitleLink>,
}

pub fn add_title(hub: &mut Hub, t: NewTitle) -> Result<(), ApiError> {
    if hub.policy().item_type(&t.item_type).is_none() {
        return Err(ApiError::Malformed(format!(
            "unknown item type `{}`",
            t.item_type
        )));
    }
    for c in &t.copies {
        if hub.policy().branch(&c.branch).is_none() {
            return Err(ApiError::Malformed(format!(
                "unknown branch `{}`",
                c.branch
            )));
        }
    }
    if let Some(bad) = t
        .links
        .iter()
        .find(|l| !(l.url.starts_with("https://") || l.url.starts_with("http://")))
    {
        return Err(ApiError::Malformed(format!(
            "not an http(s) link: `{}`",
            bad.url.chars().take(60).collect::<String>()
        )));
    }
    hub.with_engine(move |ctx, _| {
        ctx.store.upsert_title(&TitleRow {
            id: t.id.clone(),
            title: t.title,
            author: t.author,
            year: t.year,
            language: t.language,
            subjects: t.subjects,
            isbn: t.isbn,
            item_type: t.item_type,
            collection: t.collection,
            format: t.format,
            links: t.links,
            ..Default::default()
        })?;
        for c in t.copies {
            let status = ctx
                .store
                .copy(&c.barcode)?
                .map_or(CopyStatus::Available, |old| old.status);
            ctx.store.upsert_copy(&CopyRow {
                barcode: c.barcode,
                title_id: t.id.clone(),
                branch: c.branch,
                shelf: c.shelf,
                status,
                hold_id: None,
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

#[derive(Deserialize, Serialize, Clone)]
pub struct EventIn {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    #[serde(default)]
    pub description_id: String,
    #[serde(default)]
    pub description_en: String,
    pub category: String,
    pub branch: Option<String>,
    #[serde(default)]
    pub place: String,
    pub online_url: Option<String>,
    pub start: i64,
    pub end: i64,
    pub capacity: u32,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub accessibility: String,
}

pub const EVENT_CATEGORIES: &[&str] =
    &["storytelling", "literacy", "seminar", "webinar", "book_van"];

pub fn upsert_event(hub: &mut Hub, e: EventIn) -> Result<Vec<String>, ApiError> {
    if !EVENT_CATEGORIES.contains(&e.category.as_str()) {
        return Err(ApiError::Malformed(format!(
            "category must be one of {}",
            EVENT_CATEGORIES.join(", ")
        )));
    }
    if e.end < e.start || e.id.is_empty() || e.id.len() > 64 {
        return Err(ApiError::Malformed(
            "an event needs an id and must end after it starts".into(),
        ));
    }
    if let Some(b) = &e.branch
        && hub.policy().branch(b).is_none()
    {
        return Err(ApiError::Malformed(format!("unknown branch `{b}`")));
    }
    let (_, changed) = hub.with_engine(move |ctx, fx| {
        ctx.store.upsert_event(&EventRow {
            id: e.id,
            title_id: e.title_id,
            title_en: e.title_en,
            description_id: e.description_id,
            description_en: e.description_en,
            category: e.category,
            branch: e.branch,
            place: e.place,
            online_url: e.online_url,
            start: e.start,
            end: e.end,
            capacity: e.capacity,
            audience: e.audience,
            accessibility: e.accessibility,
        })?;
        fx.calendar = true;
        Ok(())
    })?;
    Ok(changed)
}
