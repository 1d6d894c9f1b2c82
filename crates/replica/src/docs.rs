//! Document schemas and their typed mapping.
//!
//! Reading is strict: `autosurgeon` refuses a missing field or a wrong type,
//! and the `schema` number must match. Writing is minimal: only map entries
//! and fields whose value changed are touched, so one circulation change
//! costs a few hundred bytes on the wire instead of a rewrite of the patron.

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, transaction::Transactable};
use autosurgeon::{Hydrate, Reconcile, hydrate_prop, reconcile_prop};
use chrono::NaiveDate;
use pustaka_domain as domain;
use std::collections::BTreeMap;

use crate::ReplicaError;

/// Version of the document layout. A device that meets a newer schema keeps
/// its data and says the app must be updated.
pub const SCHEMA: u64 = 1;

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct PatronDoc {
    pub card: String,
    pub name: String,
    pub patron_type: String,
    pub status: String,
    pub expires: String,
    pub home_branch: String,
    pub fines_owed: i64,
    /// Whether the library keeps the patron's loan history (their choice;
    /// absent in documents projected before the choice existed: not kept).
    #[autosurgeon(missing = "Default::default")]
    pub keep_history: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct LoanDoc {
    pub title_id: String,
    pub title: String,
    pub author: String,
    pub item_type: String,
    pub collection: Option<String>,
    pub branch: String,
    pub checked_out: String,
    pub due: String,
    pub renewals_used: u32,
    pub renewals_allowed: u32,
    pub others_waiting: bool,
    pub fine: i64,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct HoldDoc {
    pub title_id: String,
    pub title: String,
    pub author: String,
    pub status: String,
    pub position: u32,
    pub queue_len: u32,
    pub copies: u32,
    pub pickup_branch: String,
    pub pickup_by: Option<String>,
    pub suspended_until: Option<String>,
    pub placed_at: i64,
    pub estimated_wait_days: u32,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct RegistrationDoc {
    /// `confirmed` or `waitlisted`.
    pub status: String,
    /// Waiting-list position (0 when confirmed).
    pub position: u32,
}

#[derive(
    Debug, Clone, PartialEq, Default, Hydrate, Reconcile, serde::Serialize, serde::Deserialize,
)]
pub struct ItemOutcomeDoc {
    pub status: String,
    pub reason: Option<String>,
    pub due: Option<String>,
}

/// The library's decision on one intent. Written once, never changed.
#[derive(
    Debug, Clone, PartialEq, Default, Hydrate, Reconcile, serde::Serialize, serde::Deserialize,
)]
pub struct OutcomeDoc {
    pub kind: String,
    /// `accepted` or `rejected`.
    pub status: String,
    pub reason: Option<String>,
    pub text_id: String,
    pub text_en: String,
    pub due: Option<String>,
    pub position: Option<u32>,
    pub decided_at: i64,
    /// Per-loan results of a renew-all, keyed by copy barcode.
    pub items: BTreeMap<String, ItemOutcomeDoc>,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct HistoryDoc {
    pub title_id: String,
    pub title: String,
    pub checked_out: String,
    pub returned: String,
}

/// One patron's circulation facts, written by the server only.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Circ {
    pub patron: PatronDoc,
    /// Keyed by copy barcode.
    pub loans: BTreeMap<String, LoanDoc>,
    /// Keyed by hold id.
    pub holds: BTreeMap<String, HoldDoc>,
    /// Keyed by event id.
    pub registrations: BTreeMap<String, RegistrationDoc>,
    /// Keyed by intent id.
    pub outcomes: BTreeMap<String, OutcomeDoc>,
    /// Returned loans, keyed by loan id.
    pub history: BTreeMap<String, HistoryDoc>,
    /// Questions asked of a librarian, keyed by the asking intent's id.
    /// Absent in documents written before the FAQ assistant.
    pub questions: BTreeMap<String, QuestionDoc>,
    /// Surveys the patron answered, keyed by survey id.
    pub surveys: BTreeMap<String, AnsweredDoc>,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct EventDoc {
    pub title_id: String,
    pub title_en: String,
    pub description_id: String,
    pub description_en: String,
    /// storytelling | literacy | seminar | webinar | book_van
    pub category: String,
    pub branch: Option<String>,
    pub place: String,
    pub online_url: Option<String>,
    pub start: i64,
    pub end: i64,
    pub capacity: u32,
    pub seats_taken: u32,
    pub waitlist: u32,
    pub audience: String,
    pub accessibility: String,
}

#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct VanStopDoc {
    pub place: String,
    pub weekday: String,
    pub start_time: String,
    pub end_time: String,
    pub from: String,
    pub until: String,
}

/// One of the library's questions and answers, in both languages,
/// maintained by librarians.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct FaqDoc {
    /// membership | loans | fines | holds | hours | book_van | ebooks |
    /// accessibility | events | app | privacy | other
    pub topic: String,
    pub question_id: String,
    pub answer_id: String,
    pub question_en: String,
    pub answer_en: String,
    /// Other ways patrons ask the same thing (for matching).
    pub also_id: Vec<String>,
    pub also_en: Vec<String>,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct SurveyQuestionDoc {
    pub id: String,
    /// `rating` (1 to 5), `choice` (one of `choices_*`) or `text`.
    pub kind: String,
    pub text_id: String,
    pub text_en: String,
    pub choices_id: Vec<String>,
    pub choices_en: Vec<String>,
}

/// A short survey the library publishes (feedback on a service or event).
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct SurveyDoc {
    pub title_id: String,
    pub title_en: String,
    /// The last day answers are taken (library time), if it closes.
    pub closes: Option<String>,
    pub questions: Vec<SurveyQuestionDoc>,
}

/// A survey the patron answered (their answers stay with the library).
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct AnsweredDoc {
    pub answered_at: i64,
}

/// A question a patron asked a librarian, and the answer once given.
#[derive(Debug, Clone, PartialEq, Default, Hydrate, Reconcile)]
pub struct QuestionDoc {
    pub question: String,
    /// The language the patron asked in (`id` or `en`).
    pub lang: String,
    pub asked_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

/// The library's shared document (events, book-van stops, the policy and
/// the FAQ), written by the server only. Named `calendar` for its first
/// contents.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calendar {
    pub library: String,
    /// The library's policy (TOML): branches, closed days and holidays, loan
    /// rules. Devices use it for pre-checks and due-date previews.
    pub policy: String,
    pub events: BTreeMap<String, EventDoc>,
    pub van_stops: BTreeMap<String, VanStopDoc>,
    /// Keyed by entry id. Absent in documents written before the FAQ.
    pub faq: BTreeMap<String, FaqDoc>,
    /// Open and closed surveys, keyed by survey id.
    pub surveys: BTreeMap<String, SurveyDoc>,
}

fn check_schema(doc: &AutoCommit) -> Result<bool, ReplicaError> {
    match doc.get(ROOT, "schema")? {
        None => Ok(false),
        Some(_) => {
            let v: u64 = hydrate_prop(doc, ROOT, "schema")?;
            if v == SCHEMA {
                Ok(true)
            } else {
                Err(ReplicaError::Schema(format!(
                    "schema {v} is not {SCHEMA}: this app must be updated"
                )))
            }
        }
    }
}

fn map_at<T: Hydrate>(doc: &AutoCommit, key: &str) -> Result<BTreeMap<String, T>, ReplicaError> {
    Ok(hydrate_prop(doc, ROOT, key)?)
}

/// [`map_at`] for a map added after documents were first written: absent
/// reads as empty.
fn map_or_empty<T: Hydrate>(
    doc: &AutoCommit,
    key: &str,
) -> Result<BTreeMap<String, T>, ReplicaError> {
    if doc.get(ROOT, key)?.is_none() {
        return Ok(BTreeMap::new());
    }
    map_at(doc, key)
}

/// Puts a value only when it differs from what the document had.
fn put_if_changed<T: Reconcile + PartialEq>(
    doc: &mut AutoCommit,
    key: &str,
    old: Option<&T>,
    new: &T,
) -> Result<(), ReplicaError> {
    if old != Some(new) {
        reconcile_prop(doc, ROOT, key, new)?;
    }
    Ok(())
}

/// Writes only the fields of a struct that changed, so a hold moving from
/// `queued` to `waiting` is one or two operations, not a rewrite.
pub trait FieldDiff {
    fn put_changed(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &automerge::ObjId,
    ) -> Result<(), ReplicaError>;

    /// Writes a new entry under `key` of `parent`.
    fn put_new(
        &self,
        doc: &mut AutoCommit,
        parent: &automerge::ObjId,
        key: &str,
    ) -> Result<(), ReplicaError>
    where
        Self: Reconcile + Sized,
    {
        reconcile_prop(doc, parent, key, self)?;
        Ok(())
    }
}

macro_rules! field_diff {
    ($($t:ty { $($f:ident),* $(,)? })*) => {$(
        impl FieldDiff for $t {
            fn put_changed(&self, old: &Self, doc: &mut AutoCommit, obj: &automerge::ObjId) -> Result<(), ReplicaError> {
                $(
                    if self.$f != old.$f {
                        reconcile_prop(doc, obj, stringify!($f), &self.$f)?;
                    }
                )*
                Ok(())
            }
        }
    )*};
}

field_diff! {
    PatronDoc { card, name, patron_type, status, expires, home_branch, fines_owed, keep_history }
    LoanDoc { title_id, title, author, item_type, collection, branch, checked_out, due, renewals_used, renewals_allowed, others_waiting, fine }
    HoldDoc { title_id, title, author, status, position, queue_len, copies, pickup_branch, pickup_by, suspended_until, placed_at, estimated_wait_days }
    RegistrationDoc { status, position }
    HistoryDoc { title_id, title, checked_out, returned }
    EventDoc { title_id, title_en, description_id, description_en, category, branch, place, online_url, start, end, capacity, seats_taken, waitlist, audience, accessibility }
    VanStopDoc { place, weekday, start_time, end_time, from, until }
    FaqDoc { topic, question_id, answer_id, question_en, answer_en, also_id, also_en }
    QuestionDoc { question, lang, asked_at, answer, answered_at }
    SurveyDoc { title_id, title_en, closes, questions }
    AnsweredDoc { answered_at }
}

impl FieldDiff for OutcomeDoc {
    fn put_changed(
        &self,
        old: &Self,
        doc: &mut AutoCommit,
        obj: &automerge::ObjId,
    ) -> Result<(), ReplicaError> {
        // Outcomes are written once; a change (never expected) rewrites it.
        if self != old {
            reconcile_prop(doc, obj, "kind", &self.kind)?;
            reconcile_prop(doc, obj, "status", &self.status)?;
            reconcile_prop(doc, obj, "reason", &self.reason)?;
            reconcile_prop(doc, obj, "text_id", &self.text_id)?;
            reconcile_prop(doc, obj, "text_en", &self.text_en)?;
            reconcile_prop(doc, obj, "due", &self.due)?;
            reconcile_prop(doc, obj, "position", self.position)?;
            reconcile_prop(doc, obj, "decided_at", self.decided_at)?;
            reconcile_prop(doc, obj, "items", &self.items)?;
        }
        Ok(())
    }

    /// One outcome per decided intent: written with plain puts (the hot
    /// path of every decision), in the shape `Hydrate` reads back.
    fn put_new(
        &self,
        doc: &mut AutoCommit,
        parent: &automerge::ObjId,
        key: &str,
    ) -> Result<(), ReplicaError> {
        use automerge::ScalarValue;
        let opt = |v: &Option<String>| {
            v.as_ref()
                .map_or(ScalarValue::Null, |s| ScalarValue::Str(s.as_str().into()))
        };
        let obj = doc.put_object(parent, key, ObjType::Map)?;
        doc.put(&obj, "kind", self.kind.as_str())?;
        doc.put(&obj, "status", self.status.as_str())?;
        doc.put(&obj, "reason", opt(&self.reason))?;
        doc.put(&obj, "text_id", self.text_id.as_str())?;
        doc.put(&obj, "text_en", self.text_en.as_str())?;
        doc.put(&obj, "due", opt(&self.due))?;
        doc.put(
            &obj,
            "position",
            self.position
                .map_or(ScalarValue::Null, |p| ScalarValue::Uint(u64::from(p))),
        )?;
        doc.put(&obj, "decided_at", self.decided_at)?;
        if self.items.is_empty() {
            doc.put_object(&obj, "items", ObjType::Map)?;
        } else {
            reconcile_prop(doc, &obj, "items", &self.items)?;
        }
        Ok(())
    }
}

/// Brings the map at `key` from `old` to `new`, touching changed entries
/// (and, in them, changed fields) only.
fn sync_map<T: Reconcile + PartialEq + FieldDiff + Sized>(
    doc: &mut AutoCommit,
    key: &str,
    old: Option<&BTreeMap<String, T>>,
    new: &BTreeMap<String, T>,
) -> Result<(), ReplicaError> {
    let obj = match (old, doc.get(ROOT, key)?) {
        (Some(_), Some((automerge::Value::Object(ObjType::Map), id))) => id,
        _ => doc.put_object(ROOT, key, ObjType::Map)?,
    };
    let empty = BTreeMap::new();
    let old = old.unwrap_or(&empty);
    for (k, v) in new {
        match old.get(k) {
            Some(o) if o == v => {}
            Some(o) => match doc.get(&obj, k.as_str())? {
                Some((automerge::Value::Object(ObjType::Map), entry)) => {
                    v.put_changed(o, doc, &entry)?
                }
                _ => reconcile_prop(doc, &obj, k.as_str(), v)?,
            },
            None => v.put_new(doc, &obj, k.as_str())?,
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        doc.delete(&obj, k.as_str())?;
    }
    Ok(())
}

/// The intent ids that have an outcome, without reading the rest of `circ`.
pub fn outcome_keys(doc: &AutoCommit) -> std::collections::BTreeSet<String> {
    match doc.get(ROOT, "outcomes") {
        Ok(Some((automerge::Value::Object(ObjType::Map), id))) => doc.keys(&id).collect(),
        _ => Default::default(),
    }
}

impl Circ {
    /// Reads a patron's `circ`; `None` before the first sync.
    pub fn read(doc: &AutoCommit) -> Result<Option<Circ>, ReplicaError> {
        let Some(mut circ) = Circ::read_facts(doc)? else {
            return Ok(None);
        };
        circ.outcomes = map_at(doc, "outcomes")?;
        circ.history = map_at(doc, "history")?;
        circ.questions = map_or_empty(doc, "questions")?;
        Ok(Some(circ))
    }

    /// What the rules need (patron, loans, holds, registrations, answered
    /// surveys), without
    /// the outcomes and history, which only grow and no rule reads.
    pub fn read_facts(doc: &AutoCommit) -> Result<Option<Circ>, ReplicaError> {
        if !check_schema(doc)? {
            return Ok(None);
        }
        Ok(Some(Circ {
            patron: hydrate_prop(doc, ROOT, "patron")?,
            loans: map_at(doc, "loans")?,
            holds: map_at(doc, "holds")?,
            registrations: map_at(doc, "registrations")?,
            outcomes: BTreeMap::new(),
            history: BTreeMap::new(),
            questions: BTreeMap::new(),
            // Small, and the local pre-check reads it.
            surveys: map_or_empty(doc, "surveys")?,
        }))
    }

    /// Writes `self` over `old` (what the document holds now).
    pub fn write(&self, doc: &mut AutoCommit, old: Option<&Circ>) -> Result<(), ReplicaError> {
        if old.is_none() {
            reconcile_prop(doc, ROOT, "schema", SCHEMA)?;
        }
        match (old, doc.get(ROOT, "patron")?) {
            (Some(o), Some((automerge::Value::Object(ObjType::Map), id))) => {
                self.patron.put_changed(&o.patron, doc, &id)?
            }
            _ => reconcile_prop(doc, ROOT, "patron", &self.patron)?,
        }
        sync_map(doc, "loans", old.map(|o| &o.loans), &self.loans)?;
        sync_map(doc, "holds", old.map(|o| &o.holds), &self.holds)?;
        sync_map(
            doc,
            "registrations",
            old.map(|o| &o.registrations),
            &self.registrations,
        )?;
        sync_map(doc, "outcomes", old.map(|o| &o.outcomes), &self.outcomes)?;
        sync_map(doc, "history", old.map(|o| &o.history), &self.history)?;
        sync_map(doc, "questions", old.map(|o| &o.questions), &self.questions)?;
        sync_map(doc, "surveys", old.map(|o| &o.surveys), &self.surveys)?;
        Ok(())
    }

    pub fn patron_facts(&self) -> Result<domain::PatronFacts, ReplicaError> {
        let p = &self.patron;
        Ok(domain::PatronFacts {
            patron_type: p.patron_type.clone(),
            status: domain::AccountStatus::parse(&p.status)
                .ok_or_else(|| ReplicaError::Schema(format!("account status `{}`", p.status)))?,
            expires: date(&p.expires)?,
            fines_owed: p.fines_owed,
            home_branch: p.home_branch.clone(),
        })
    }
}

impl LoanDoc {
    pub fn facts(&self) -> Result<domain::LoanFacts, ReplicaError> {
        Ok(domain::LoanFacts {
            title_id: self.title_id.clone(),
            item_type: self.item_type.clone(),
            collection: self.collection.clone(),
            branch: self.branch.clone(),
            due: date(&self.due)?,
            renewals_used: self.renewals_used,
            others_waiting: self.others_waiting,
        })
    }
}

impl HoldDoc {
    pub fn hold_status(&self) -> Result<domain::HoldStatus, ReplicaError> {
        domain::HoldStatus::parse(&self.status)
            .ok_or_else(|| ReplicaError::Schema(format!("hold status `{}`", self.status)))
    }
}

impl Calendar {
    pub fn read(doc: &AutoCommit) -> Result<Option<Calendar>, ReplicaError> {
        if !check_schema(doc)? {
            return Ok(None);
        }
        Ok(Some(Calendar {
            library: hydrate_prop(doc, ROOT, "library")?,
            policy: hydrate_prop(doc, ROOT, "policy")?,
            events: map_at(doc, "events")?,
            van_stops: map_at(doc, "van_stops")?,
            faq: map_or_empty(doc, "faq")?,
            surveys: map_or_empty(doc, "surveys")?,
        }))
    }

    pub fn write(&self, doc: &mut AutoCommit, old: Option<&Calendar>) -> Result<(), ReplicaError> {
        if old.is_none() {
            reconcile_prop(doc, ROOT, "schema", SCHEMA)?;
        }
        put_if_changed(doc, "library", old.map(|o| &o.library), &self.library)?;
        put_if_changed(doc, "policy", old.map(|o| &o.policy), &self.policy)?;
        sync_map(doc, "events", old.map(|o| &o.events), &self.events)?;
        sync_map(doc, "van_stops", old.map(|o| &o.van_stops), &self.van_stops)?;
        sync_map(doc, "faq", old.map(|o| &o.faq), &self.faq)?;
        sync_map(doc, "surveys", old.map(|o| &o.surveys), &self.surveys)?;
        Ok(())
    }

    pub fn parsed_policy(&self) -> Result<domain::Policy, ReplicaError> {
        domain::Policy::from_toml(&self.policy).map_err(|e| ReplicaError::Schema(e.to_string()))
    }
}

pub fn date(s: &str) -> Result<NaiveDate, ReplicaError> {
    s.parse()
        .map_err(|_| ReplicaError::Schema(format!("`{s}` is not a date")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::AutoCommit;

    fn loan(due: &str) -> LoanDoc {
        LoanDoc {
            title_id: "t1".into(),
            title: "Laskar Pelangi".into(),
            author: "Andrea Hirata".into(),
            item_type: "book".into(),
            collection: None,
            branch: "pusat".into(),
            checked_out: "2026-11-01".into(),
            due: due.into(),
            renewals_used: 0,
            renewals_allowed: 2,
            others_waiting: false,
            fine: 0,
        }
    }

    fn circ() -> Circ {
        let mut c = Circ {
            patron: PatronDoc {
                card: "1001".into(),
                name: "Siti".into(),
                patron_type: "adult".into(),
                status: "active".into(),
                expires: "2027-12-31".into(),
                home_branch: "pusat".into(),
                fines_owed: 0,
                keep_history: Some(true),
            },
            ..Default::default()
        };
        c.loans.insert("C1".into(), loan("2026-11-15"));
        c
    }

    #[test]
    fn outcomes_written_with_plain_puts_read_back_strictly() {
        let mut doc = AutoCommit::new();
        let c = circ();
        c.write(&mut doc, None).unwrap();
        let mut c2 = c.clone();
        let mut items = BTreeMap::new();
        items.insert(
            "C1".to_string(),
            ItemOutcomeDoc {
                status: "rejected".into(),
                reason: Some("too_soon".into()),
                due: None,
            },
        );
        c2.outcomes.insert(
            "a".into(),
            OutcomeDoc {
                kind: "renew".into(),
                status: "accepted".into(),
                due: Some("2026-12-01".into()),
                position: None,
                decided_at: 5,
                ..Default::default()
            },
        );
        c2.outcomes.insert(
            "b".into(),
            OutcomeDoc {
                kind: "place_hold".into(),
                status: "accepted".into(),
                reason: Some("x".into()),
                position: Some(3),
                items,
                ..Default::default()
            },
        );
        c2.write(&mut doc, Some(&c)).unwrap();
        assert_eq!(Circ::read(&doc).unwrap(), Some(c2));
    }

    #[test]
    fn a_circ_projected_before_the_history_choice_reads_as_not_kept() {
        let mut doc = AutoCommit::new();
        let c = circ();
        c.write(&mut doc, None).unwrap();
        let Some((_, patron)) = doc.get(ROOT, "patron").unwrap() else {
            panic!("no patron map");
        };
        doc.delete(&patron, "keep_history").unwrap();
        let read = Circ::read(&doc).unwrap().unwrap();
        assert_eq!(read.patron.keep_history, None);
        // The next projection adds the field as a small change.
        let mut c2 = c.clone();
        c2.patron.keep_history = Some(false);
        c2.write(&mut doc, Some(&read)).unwrap();
        assert_eq!(Circ::read(&doc).unwrap(), Some(c2));
    }

    #[test]
    fn circ_round_trips() {
        let mut doc = AutoCommit::new();
        assert_eq!(Circ::read(&doc).unwrap(), None);
        let c = circ();
        c.write(&mut doc, None).unwrap();
        assert_eq!(Circ::read(&doc).unwrap(), Some(c));
    }

    #[test]
    fn a_small_change_writes_a_small_change() {
        let mut doc = AutoCommit::new();
        let c = circ();
        c.write(&mut doc, None).unwrap();
        doc.commit();
        let before = doc.get_heads();
        let mut c2 = c.clone();
        c2.loans.get_mut("C1").unwrap().due = "2026-11-29".into();
        c2.write(&mut doc, Some(&c)).unwrap();
        doc.commit();
        let changes = doc.get_changes(&before);
        assert_eq!(changes.len(), 1);
        assert!(
            changes[0].raw_bytes().len() < 400,
            "{} bytes",
            changes[0].raw_bytes().len()
        );
        // Writing the same state again adds nothing.
        let heads = doc.get_heads();
        c2.write(&mut doc, Some(&c2)).unwrap();
        doc.commit();
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn strict_schema_refuses_wrong_types_and_versions() {
        let mut doc = AutoCommit::new();
        circ().write(&mut doc, None).unwrap();
        let loans = match doc.get(ROOT, "loans").unwrap() {
            Some((_, id)) => id,
            None => panic!("no loans"),
        };
        let l = match doc.get(&loans, "C1").unwrap() {
            Some((_, id)) => id,
            None => panic!("no loan"),
        };
        doc.put(&l, "renewals_used", "many").unwrap();
        assert!(matches!(Circ::read(&doc), Err(ReplicaError::Schema(_))));

        let mut doc = AutoCommit::new();
        doc.put(ROOT, "schema", 99_u64).unwrap();
        let err = Circ::read(&doc).unwrap_err().to_string();
        assert!(err.contains("updated"), "{err}");
    }
}
