//! Storage behind a trait: the engine and the sync handler speak to
//! [`Storage`], never to SQL. SQLite (embedded, the default, one server
//! process) and PostgreSQL (several server processes sharing one database)
//! implement it.
//!
//! Every mutation happens between `begin` and `commit`; the sync handler
//! commits the processed-intent rows, the circulation change, the new
//! document chunks and the sync states together, and replies only after.

pub mod postgres;
pub mod sqlite;

use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// "Borrowed together" (`?1` title, `?2` minimum distinct patrons, `?3`
/// limit), the same SQL on both backends (PostgreSQL numbers its
/// placeholders `$n`).
pub(crate) const BORROWED_TOGETHER_SQL: &str = "SELECT c2.title_id, COUNT(DISTINCT l1.card) AS n \
             FROM loans l1 JOIN copies c1 ON c1.barcode = l1.copy \
             JOIN loans l2 ON l2.card = l1.card \
             JOIN copies c2 ON c2.barcode = l2.copy \
             WHERE c1.title_id = ?1 AND l1.card <> '' AND c2.title_id <> ?1 \
             GROUP BY c2.title_id HAVING COUNT(DISTINCT l1.card) >= ?2 \
             ORDER BY n DESC, c2.title_id LIMIT ?3";

#[derive(Debug, Clone, PartialEq)]
pub struct PatronRow {
    pub card: String,
    pub name: String,
    pub patron_type: String,
    pub status: String,
    pub expires: NaiveDate,
    pub home_branch: String,
    pub pin_hash: String,
    pub email: Option<String>,
    /// Fines charged and not yet paid (accruing fines are computed).
    pub fines_charged: i64,
    pub circ_doc: String,
    pub intents_doc: String,
    /// The patron chose to let the library keep their loan history. When
    /// not, a returned loan forgets its borrower (card `""`).
    pub keep_history: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TitleRow {
    pub id: String,
    pub title: String,
    pub author: String,
    pub year: Option<i32>,
    pub language: String,
    pub subjects: String,
    /// The main ISBN-13 (shown on the title page).
    pub isbn: Option<String>,
    pub item_type: String,
    pub collection: Option<String>,
    /// Statement of responsibility (MARC 245 $c).
    pub responsibility: Option<String>,
    pub call_number: Option<String>,
    /// Physical or digital form: book, large_print, braille, ebook…
    pub format: Option<String>,
    /// Online access (MARC 856).
    pub links: Vec<TitleLink>,
    /// The source record's control number (003/001): a re-import of the
    /// same record updates this title.
    pub marc_control: Option<String>,
    /// Every ISBN of the title, ISBN-13 and ISBN-10 forms (searchable).
    pub isbns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct TitleLink {
    pub url: String,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyStatus {
    Available,
    OnLoan,
    InTransit,
    Waiting,
}

impl CopyStatus {
    pub fn code(self) -> &'static str {
        match self {
            CopyStatus::Available => "available",
            CopyStatus::OnLoan => "on_loan",
            CopyStatus::InTransit => "in_transit",
            CopyStatus::Waiting => "waiting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "available" => Some(CopyStatus::Available),
            "on_loan" => Some(CopyStatus::OnLoan),
            "in_transit" => Some(CopyStatus::InTransit),
            "waiting" => Some(CopyStatus::Waiting),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CopyRow {
    pub barcode: String,
    pub title_id: String,
    /// Where the copy lives (its home branch).
    pub branch: String,
    pub shelf: String,
    pub status: CopyStatus,
    /// The hold this copy is caught for (in transit or waiting).
    pub hold_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoanRow {
    pub id: String,
    pub copy: String,
    pub card: String,
    pub checked_out: NaiveDate,
    pub due: NaiveDate,
    pub renewals_used: u32,
    pub returned: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HoldRow {
    pub id: String,
    pub title_id: String,
    pub card: String,
    pub pickup_branch: String,
    pub placed_at: i64,
    pub status: String,
    pub suspended_until: Option<NaiveDate>,
    pub copy: Option<String>,
    pub pickup_by: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    pub description_id: String,
    pub description_en: String,
    pub category: String,
    pub branch: Option<String>,
    pub place: String,
    pub online_url: Option<String>,
    pub start: i64,
    pub end: i64,
    pub capacity: u32,
    pub audience: String,
    pub accessibility: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationRow {
    pub event_id: String,
    pub card: String,
    /// `confirmed` or `waitlisted`.
    pub status: String,
    /// Global arrival order: seats and the waiting list follow it.
    pub seq: i64,
}

/// One of the library's questions and answers (the FAQ).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaqRow {
    pub id: String,
    pub topic: String,
    pub question_id: String,
    pub answer_id: String,
    pub question_en: String,
    pub answer_en: String,
    pub also_id: Vec<String>,
    pub also_en: Vec<String>,
    pub updated_at: i64,
}

/// One question of a survey (stored as JSON in the survey's row).
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SurveyQuestion {
    pub id: String,
    /// `rating`, `choice` or `text`.
    pub kind: String,
    pub text_id: String,
    pub text_en: String,
    #[serde(default)]
    pub choices_id: Vec<String>,
    #[serde(default)]
    pub choices_en: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SurveyRow {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    /// The last day answers are taken (library time).
    pub closes: Option<NaiveDate>,
    pub questions: Vec<SurveyQuestion>,
    pub updated_at: i64,
}

/// A patron's question to a librarian (the id is the asking intent's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuestionRow {
    pub id: String,
    pub card: String,
    pub asked_at: i64,
    pub lang: String,
    pub question: String,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    pub answered_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VanStopRow {
    pub id: String,
    pub place: String,
    pub weekday: String,
    pub start_time: String,
    pub end_time: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DocRow {
    pub id: String,
    pub kind: String,
    /// The patron card for per-patron documents, empty for the calendar.
    pub owner: String,
}

/// A stored document: its snapshot and the chunks saved after it.
pub type StoredDoc = (Vec<u8>, Vec<Vec<u8>>);

#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    pub branch: Option<String>,
    pub item_type: Option<String>,
    pub language: Option<String>,
    pub available_only: bool,
    /// The title's format (`ebook`, `large_print`…), or its item type when
    /// the record names no format.
    pub format: Option<String>,
}

/// The storage contract. Methods are plain reads and writes; rules live in
/// the engine.
pub trait Storage: Send {
    fn begin(&mut self) -> StoreResult<()>;
    fn commit(&mut self) -> StoreResult<()>;
    fn rollback(&mut self);

    /// Tells the other servers sharing this database which documents the
    /// open transaction changed (delivered only if it commits). A storage
    /// with a single server has no one to tell.
    fn announce(&mut self, _changed: &[String]) -> StoreResult<()> {
        Ok(())
    }
    /// A counter bumped by every write of a document's bytes (`-1` for an
    /// unknown document), so that a server's cached copy can be checked
    /// against writes by other servers. `None`: this storage has one server,
    /// whose cache is always current.
    fn doc_version(&self, _id: &str) -> StoreResult<Option<i64>> {
        Ok(None)
    }
    /// Where to hear of documents that other servers changed.
    fn change_feed(&self) -> Option<postgres::ChangeFeed> {
        None
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>>;
    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()>;
    /// The patron's calendar-feed secret (its hash), replacing any older one.
    fn set_feed_token(&mut self, card: &str, token_hash: &str) -> StoreResult<()>;
    fn card_by_feed_token(&self, token_hash: &str) -> StoreResult<Option<String>>;
    /// A patron's e-mail reminders: `Some((address, language))` to opt in,
    /// `None` to stop.
    fn set_email_prefs(&mut self, card: &str, prefs: Option<(&str, &str)>) -> StoreResult<()>;
    /// The patron's e-mail reminders: `(address, language)` when opted in.
    fn email_prefs(&self, card: &str) -> StoreResult<Option<(String, String)>>;
    /// (card, address, language) of every patron who opted in.
    fn email_subscribers(&self) -> StoreResult<Vec<(String, String, String)>>;
    fn email_sent(&self, key: &str) -> StoreResult<bool>;
    fn mark_email_sent(&mut self, key: &str, at: i64) -> StoreResult<()>;
    fn next_seq(&mut self, name: &str) -> StoreResult<i64>;

    fn insert_patron(&mut self, p: &PatronRow) -> StoreResult<()>;
    fn update_patron(&mut self, p: &PatronRow) -> StoreResult<()>;
    fn patron(&self, card: &str) -> StoreResult<Option<PatronRow>>;
    fn patron_cards(&self) -> StoreResult<Vec<String>>;

    fn insert_token(&mut self, hash: &str, card: &str, expires_at: i64) -> StoreResult<()>;
    /// The card a live token (by hash) signs in, and when the token
    /// expires; `None` when it is unknown, revoked or expired at `now`.
    fn token(&self, hash: &str, now: i64) -> StoreResult<Option<(String, i64)>>;
    fn token_card(&self, hash: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(self.token(hash, now)?.map(|(card, _)| card))
    }
    fn revoke_token(&mut self, hash: &str) -> StoreResult<()>;
    fn record_login_failure(&mut self, card: &str, at: i64) -> StoreResult<()>;
    fn login_failures_since(&self, card: &str, since: i64) -> StoreResult<u32>;
    fn clear_login_failures(&mut self, card: &str) -> StoreResult<()>;

    fn upsert_title(&mut self, t: &TitleRow) -> StoreResult<()>;
    fn title(&self, id: &str) -> StoreResult<Option<TitleRow>>;
    /// A title by any of its ISBNs (ISBN-13 or ISBN-10 form).
    fn title_by_isbn(&self, isbn: &str) -> StoreResult<Option<TitleRow>>;
    /// The title imported from the record with this control number.
    fn title_id_by_control(&self, control: &str) -> StoreResult<Option<String>>;
    fn title_count(&self) -> StoreResult<u64>;
    /// Search-index terms near `word` (same first letter, length ±2), most
    /// frequent first, with the number of titles holding each.
    fn vocabulary_near(&self, word: &str, limit: u32) -> StoreResult<Vec<(String, u64)>>;
    /// Titles with online links in one of `formats`, by id: (total, page).
    fn online_titles(
        &self,
        formats: &[&str],
        offset: u32,
        limit: u32,
    ) -> StoreResult<(u64, Vec<TitleRow>)>;
    fn search_titles(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: u32,
    ) -> StoreResult<Vec<TitleRow>>;
    fn upsert_copy(&mut self, c: &CopyRow) -> StoreResult<()>;
    fn copy(&self, barcode: &str) -> StoreResult<Option<CopyRow>>;
    fn copies_of(&self, title_id: &str) -> StoreResult<Vec<CopyRow>>;
    /// Titles borrowed by the same patrons as `title_id`, with how many
    /// distinct patrons borrowed both, only where that is at least
    /// `min_patrons`; most first. Counts loans that still name a card:
    /// current loans and the history of patrons who chose to keep it.
    fn borrowed_together(
        &self,
        title_id: &str,
        min_patrons: u32,
        limit: u32,
    ) -> StoreResult<Vec<(String, u32)>>;

    fn insert_loan(&mut self, l: &LoanRow) -> StoreResult<()>;
    fn update_loan(&mut self, l: &LoanRow) -> StoreResult<()>;
    fn open_loans_of(&self, card: &str) -> StoreResult<Vec<LoanRow>>;
    fn open_loan_of_copy(&self, copy: &str) -> StoreResult<Option<LoanRow>>;
    fn returned_loans_of(&self, card: &str, limit: u32) -> StoreResult<Vec<LoanRow>>;
    fn cards_with_loans_due_before(&self, day: NaiveDate) -> StoreResult<Vec<String>>;

    fn insert_hold(&mut self, h: &HoldRow) -> StoreResult<()>;
    fn update_hold(&mut self, h: &HoldRow) -> StoreResult<()>;
    fn delete_hold(&mut self, id: &str) -> StoreResult<()>;
    fn hold(&self, id: &str) -> StoreResult<Option<HoldRow>>;
    fn holds_of(&self, card: &str) -> StoreResult<Vec<HoldRow>>;
    /// Holds on a title in queue order (placed_at, then id).
    fn holds_on_title(&self, title_id: &str) -> StoreResult<Vec<HoldRow>>;
    fn holds_with_status(&self, status: &str) -> StoreResult<Vec<HoldRow>>;

    fn upsert_event(&mut self, e: &EventRow) -> StoreResult<()>;
    fn event(&self, id: &str) -> StoreResult<Option<EventRow>>;
    fn events(&self) -> StoreResult<Vec<EventRow>>;
    /// Registrations for an event in arrival order.
    fn registrations_for(&self, event_id: &str) -> StoreResult<Vec<RegistrationRow>>;
    fn registrations_of(&self, card: &str) -> StoreResult<Vec<RegistrationRow>>;
    fn upsert_registration(&mut self, r: &RegistrationRow) -> StoreResult<()>;
    fn delete_registration(&mut self, event_id: &str, card: &str) -> StoreResult<()>;
    fn upsert_van_stop(&mut self, v: &VanStopRow) -> StoreResult<()>;
    fn van_stops(&self) -> StoreResult<Vec<VanStopRow>>;

    /// The outcome recorded for an intent (its processed-intent row).
    fn outcome(&self, intent_id: &str) -> StoreResult<Option<String>>;
    fn insert_outcome(
        &mut self,
        intent_id: &str,
        card: &str,
        decided_at: i64,
        json: &str,
    ) -> StoreResult<()>;
    fn outcomes_of(&self, card: &str) -> StoreResult<Vec<(String, String)>>;

    fn insert_doc(&mut self, d: &DocRow) -> StoreResult<()>;
    /// A new epoch of the patron's `circ`: the patron's document is now `id`.
    fn set_circ_doc(&mut self, card: &str, id: &str) -> StoreResult<()>;
    /// An old epoch's document: kept as the archive, no longer synced (its
    /// id answers like an unknown one), its sync states dropped.
    fn retire_doc(&mut self, id: &str) -> StoreResult<()>;
    fn doc(&self, id: &str) -> StoreResult<Option<DocRow>>;
    /// Snapshot and the incremental chunks saved after it, in order.
    fn doc_bytes(&self, id: &str) -> StoreResult<Option<StoredDoc>>;
    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()>;
    fn replace_doc_snapshot(&mut self, id: &str, snapshot: &[u8]) -> StoreResult<()>;
    fn sync_state(&self, device: &str, doc: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores a device's sync state of a document, for the patron `card`,
    /// used `now` (written only when the state changed).
    fn put_sync_state(
        &mut self,
        card: &str,
        device: &str,
        doc: &str,
        state: &[u8],
        now: i64,
    ) -> StoreResult<()>;
    /// Keeps the sync states of at most `keep` of the patron's devices:
    /// `device` and the most recently used others; the rest are dropped (a
    /// device whose states are gone starts its next sync from scratch,
    /// losing nothing). Returns how many devices were dropped.
    fn forget_old_devices(&mut self, card: &str, device: &str, keep: usize) -> StoreResult<usize>;

    /// Makes the patron's returned loans anonymous (card `""`); returns how
    /// many. The copies' circulation counts stay; who borrowed them goes.
    fn anonymize_returned_loans(&mut self, card: &str) -> StoreResult<u64>;
    /// Retires a document and deletes its bytes (no archive is kept).
    fn purge_doc(&mut self, id: &str) -> StoreResult<()>;
    /// The devices that synced for a patron, with when each last did.
    fn devices_of(&self, card: &str) -> StoreResult<Vec<(String, i64)>>;

    fn upsert_faq(&mut self, f: &FaqRow) -> StoreResult<()>;
    /// `false` when there was no such entry.
    fn delete_faq(&mut self, id: &str) -> StoreResult<bool>;
    fn faq_entries(&self) -> StoreResult<Vec<FaqRow>>;
    fn insert_question(&mut self, q: &QuestionRow) -> StoreResult<()>;
    fn update_question(&mut self, q: &QuestionRow) -> StoreResult<()>;
    fn question(&self, id: &str) -> StoreResult<Option<QuestionRow>>;
    fn questions_of(&self, card: &str) -> StoreResult<Vec<QuestionRow>>;
    /// Questions without an answer, oldest first.
    fn open_questions(&self) -> StoreResult<Vec<QuestionRow>>;

    fn upsert_survey(&mut self, s: &SurveyRow) -> StoreResult<()>;
    fn survey(&self, id: &str) -> StoreResult<Option<SurveyRow>>;
    fn surveys(&self) -> StoreResult<Vec<SurveyRow>>;
    /// When the patron answered the survey, if they did.
    fn survey_answered(&self, survey: &str, card: &str) -> StoreResult<Option<i64>>;
    /// The surveys a patron answered, with when.
    fn surveys_answered_by(&self, card: &str) -> StoreResult<Vec<(String, i64)>>;
    /// Records one patron's response: that they answered (once; the
    /// primary key refuses a second) and their answers, which are stored
    /// without the card, so totals never say who answered what.
    fn record_survey_response(
        &mut self,
        survey: &str,
        card: &str,
        at: i64,
        answers: &[(String, String)],
    ) -> StoreResult<()>;
    fn survey_response_count(&self, survey: &str) -> StoreResult<u64>;
    /// Every recorded answer of a survey: (question id, value).
    fn survey_answers(&self, survey: &str) -> StoreResult<Vec<(String, String)>>;
}
