//! The librarian's catalogue and calendar edits: validated against the
//! policy, then written through the engine's transaction. Used by the admin
//! API (`http.rs`) and by the demo seeder; no HTTP here.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::hub::Hub;
use crate::storage::{
    CopyRow, CopyStatus, EventRow, FaqRow, QuestionRow, SurveyQuestion, SurveyRow, TitleLink,
    TitleRow,
};

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

/// One of the library's questions and answers, as librarians write it
/// (the admin API, `pustaka-sync faq-import`, the demo's `assets/faq`).
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct FaqIn {
    pub id: String,
    pub topic: String,
    pub question_id: String,
    pub answer_id: String,
    pub question_en: String,
    pub answer_en: String,
    #[serde(default)]
    pub also_id: Vec<String>,
    #[serde(default)]
    pub also_en: Vec<String>,
}

/// A file of entries: `[[entry]]` tables.
#[derive(Deserialize)]
pub struct FaqFile {
    pub entry: Vec<FaqIn>,
}

pub use pustaka_ipc::FAQ_TOPICS;

/// Longest question or answer text, in characters.
pub const MAX_FAQ_TEXT: usize = 2000;

fn check_faq(f: &FaqIn) -> Result<(), ApiError> {
    let bad = |why: String| Err(ApiError::Malformed(format!("FAQ entry `{}`: {why}", f.id)));
    if f.id.is_empty()
        || f.id.len() > 64
        || !f
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("the id must be 1-64 lower-case letters, digits or hyphens".into());
    }
    if !FAQ_TOPICS.contains(&f.topic.as_str()) {
        return bad(format!(
            "the topic must be one of {}",
            FAQ_TOPICS.join(", ")
        ));
    }
    for (name, text) in [
        ("question_id", &f.question_id),
        ("answer_id", &f.answer_id),
        ("question_en", &f.question_en),
        ("answer_en", &f.answer_en),
    ] {
        if text.trim().is_empty() || text.chars().count() > MAX_FAQ_TEXT {
            return bad(format!(
                "`{name}` is empty or longer than {MAX_FAQ_TEXT} characters"
            ));
        }
    }
    if f.also_id.len() + f.also_en.len() > 32
        || f.also_id
            .iter()
            .chain(&f.also_en)
            .any(|a| a.contains('\n') || a.chars().count() > 200)
    {
        return bad("at most 32 other phrasings, one line of at most 200 characters each".into());
    }
    Ok(())
}

/// Adds or replaces FAQ entries (all checked before any is written); the
/// shared document carries them to every device.
pub fn upsert_faq(hub: &mut Hub, entries: Vec<FaqIn>) -> Result<Vec<String>, ApiError> {
    for f in &entries {
        check_faq(f)?;
    }
    let now = hub.now();
    let (_, changed) = hub.with_engine(move |ctx, fx| {
        for f in entries {
            ctx.store.upsert_faq(&FaqRow {
                id: f.id,
                topic: f.topic,
                question_id: f.question_id.trim().to_string(),
                answer_id: f.answer_id.trim().to_string(),
                question_en: f.question_en.trim().to_string(),
                answer_en: f.answer_en.trim().to_string(),
                also_id: f.also_id,
                also_en: f.also_en,
                updated_at: now,
            })?;
        }
        fx.calendar = true;
        Ok(())
    })?;
    Ok(changed)
}

pub fn delete_faq(hub: &mut Hub, id: &str) -> Result<Vec<String>, ApiError> {
    let (found, changed) = hub.with_engine(|ctx, fx| {
        let found = ctx.store.delete_faq(id)?;
        fx.calendar |= found;
        Ok(found)
    })?;
    if !found {
        return Err(ApiError::NotFound(format!("no FAQ entry `{id}`")));
    }
    Ok(changed)
}

/// Reads a file of FAQ entries (TOML `[[entry]]` tables).
pub fn parse_faq_file(text: &str) -> Result<Vec<FaqIn>, ApiError> {
    let f: FaqFile =
        toml::from_str(text).map_err(|e| ApiError::Malformed(format!("FAQ file: {e}")))?;
    for e in &f.entry {
        check_faq(e)?;
    }
    Ok(f.entry)
}

/// A librarian answers a patron's question; the answer reaches the
/// patron's devices with their next sync (and a poke).
pub fn answer_question(
    hub: &mut Hub,
    id: &str,
    answer: &str,
    by: &str,
) -> Result<(QuestionRow, Vec<String>), ApiError> {
    let answer = answer.trim();
    if answer.is_empty() || answer.chars().count() > MAX_FAQ_TEXT {
        return Err(ApiError::Malformed(format!(
            "an answer is 1-{MAX_FAQ_TEXT} characters"
        )));
    }
    let by = if by.trim().is_empty() {
        "librarian"
    } else {
        by.trim()
    };
    hub.with_engine(|ctx, fx| ctx.answer_question(id, answer, by, fx))
}

/// A survey as librarians write it (the admin API, `pustaka-sync add-survey`).
#[derive(Deserialize, Serialize, Clone, Debug)]
pub struct SurveyIn {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    #[serde(default)]
    pub closes: Option<chrono::NaiveDate>,
    pub questions: Vec<SurveyQuestion>,
}

pub const SURVEY_KINDS: &[&str] = &["rating", "choice", "text"];

/// Adds or replaces a survey (checked first); devices get it in the shared
/// document. Changing a survey that has answers keeps them: question ids
/// are what the totals follow.
pub fn upsert_survey(hub: &mut Hub, v: SurveyIn) -> Result<Vec<String>, ApiError> {
    let bad = |why: &str| Err(ApiError::Malformed(format!("survey `{}`: {why}", v.id)));
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !id_ok(&v.id) {
        return bad("the id must be 1-64 letters, digits, hyphens or underscores");
    }
    if v.title_id.trim().is_empty() || v.title_en.trim().is_empty() {
        return bad("a survey needs a title in both languages");
    }
    if v.questions.is_empty() || v.questions.len() > 30 {
        return bad("a survey has 1 to 30 questions");
    }
    let mut seen = std::collections::BTreeSet::new();
    for q in &v.questions {
        if !id_ok(&q.id) || !seen.insert(q.id.clone()) {
            return bad("question ids must be unique letters, digits, hyphens or underscores");
        }
        if !SURVEY_KINDS.contains(&q.kind.as_str()) {
            return bad("a question's kind is rating, choice or text");
        }
        if q.text_id.trim().is_empty() || q.text_en.trim().is_empty() {
            return bad("every question needs its text in both languages");
        }
        let choices = q.kind == "choice";
        if choices
            && (q.choices_id.len() < 2
                || q.choices_id.len() != q.choices_en.len()
                || q.choices_id.len() > 12)
        {
            return bad("a choice question has 2 to 12 choices, the same number in both languages");
        }
        let has_choices = !q.choices_id.is_empty() || !q.choices_en.is_empty();
        if !choices && has_choices {
            return bad("only choice questions have choices");
        }
    }
    let now = hub.now();
    let (_, changed) = hub.with_engine(move |ctx, fx| {
        ctx.store.upsert_survey(&SurveyRow {
            id: v.id,
            title_id: v.title_id,
            title_en: v.title_en,
            closes: v.closes,
            questions: v.questions,
            updated_at: now,
        })?;
        fx.calendar = true;
        Ok(())
    })?;
    Ok(changed)
}

/// Totals of one question of a survey.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct QuestionTotals {
    pub id: String,
    pub kind: String,
    pub text_id: String,
    pub text_en: String,
    /// How many responses answered it.
    pub answers: u64,
    /// Rating: how many gave 1..5 (index 0 is 1); choice: per choice.
    pub counts: Vec<u64>,
    /// Choice questions: the choices' names (Indonesian).
    pub labels: Vec<String>,
    /// Rating: the mean, when anyone answered.
    pub mean: Option<f64>,
    /// Text: the answers themselves (no one's name with them).
    pub texts: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SurveyReport {
    pub survey: String,
    pub title_id: String,
    pub title_en: String,
    pub responses: u64,
    pub questions: Vec<QuestionTotals>,
}

/// What patrons answered, per question: counts, means and texts, each
/// response counted once.
pub fn survey_report(hub: &Hub, id: &str) -> Result<SurveyReport, ApiError> {
    let store = hub.store();
    let v = store
        .survey(id)?
        .ok_or_else(|| ApiError::NotFound(format!("no survey `{id}`")))?;
    let answers = store.survey_answers(id)?;
    let questions = v
        .questions
        .iter()
        .map(|q| {
            let mine: Vec<&str> = answers
                .iter()
                .filter(|(qid, _)| *qid == q.id)
                .map(|(_, a)| a.as_str())
                .collect();
            let mut t = QuestionTotals {
                id: q.id.clone(),
                kind: q.kind.clone(),
                text_id: q.text_id.clone(),
                text_en: q.text_en.clone(),
                answers: mine.len() as u64,
                counts: vec![],
                labels: vec![],
                mean: None,
                texts: vec![],
            };
            match q.kind.as_str() {
                "rating" => {
                    t.counts = vec![0; 5];
                    let mut sum = 0u64;
                    for a in &mine {
                        if let Ok(r @ 1..=5) = a.parse::<u64>() {
                            t.counts[(r - 1) as usize] += 1;
                            sum += r;
                        }
                    }
                    let n: u64 = t.counts.iter().sum();
                    t.mean = (n > 0).then(|| sum as f64 / n as f64);
                }
                "choice" => {
                    t.labels = q.choices_id.clone();
                    t.counts = vec![0; q.choices_id.len()];
                    for a in &mine {
                        if let Ok(i) = a.parse::<usize>()
                            && i < t.counts.len()
                        {
                            t.counts[i] += 1;
                        }
                    }
                }
                _ => t.texts = mine.iter().map(|s| s.to_string()).collect(),
            }
            t
        })
        .collect();
    Ok(SurveyReport {
        survey: v.id,
        title_id: v.title_id,
        title_en: v.title_en,
        responses: store.survey_response_count(id)?,
        questions,
    })
}

/// The report as CSV: one row per question and value (`rating` 1..5,
/// a choice, or each text), with counts.
pub fn survey_report_csv(r: &SurveyReport) -> String {
    fn cell(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from("survey,question,kind,text,value,count\n");
    for q in &r.questions {
        let head = format!(
            "{},{},{},{}",
            cell(&r.survey),
            cell(&q.id),
            q.kind,
            cell(&q.text_id)
        );
        match q.kind.as_str() {
            "rating" => {
                for (i, c) in q.counts.iter().enumerate() {
                    out.push_str(&format!("{head},{},{c}\n", i + 1));
                }
            }
            "choice" => {
                for (label, c) in q.labels.iter().zip(&q.counts) {
                    out.push_str(&format!("{head},{},{c}\n", cell(label)));
                }
            }
            _ => {
                for t in &q.texts {
                    out.push_str(&format!("{head},{},1\n", cell(t)));
                }
            }
        }
    }
    out
}

/// The report as a table for a terminal.
pub fn survey_report_table(r: &SurveyReport) -> String {
    let mut out = format!(
        "{} ({}): {} response(s)\n",
        r.title_id, r.survey, r.responses
    );
    for q in &r.questions {
        out.push_str(&format!(
            "\n{} [{}] {} answer(s)\n",
            q.text_id, q.kind, q.answers
        ));
        match q.kind.as_str() {
            "rating" => {
                for (i, c) in q.counts.iter().enumerate() {
                    out.push_str(&format!(
                        "  {} {:<20} {c}\n",
                        i + 1,
                        "*".repeat(*c as usize).chars().take(20).collect::<String>()
                    ));
                }
                if let Some(m) = q.mean {
                    out.push_str(&format!("  mean {m:.2}\n"));
                }
            }
            "choice" => {
                for (label, c) in q.labels.iter().zip(&q.counts) {
                    out.push_str(&format!("  {label:<30} {c}\n"));
                }
            }
            _ => {
                for t in &q.texts {
                    out.push_str(&format!("  - {t}\n"));
                }
            }
        }
    }
    out
}
