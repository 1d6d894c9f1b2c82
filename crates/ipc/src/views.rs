//! The read model the screens show, computed on the device from its replica.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::Millis;

/// A loan as the patron sees it, with what renewing would do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoanView {
    pub copy: String,
    pub title_id: String,
    pub title: String,
    pub author: String,
    pub branch: String,
    pub due: NaiveDate,
    pub days_left: i64,
    pub overdue: bool,
    pub renewals_used: u32,
    pub renewals_left: u32,
    pub fine: i64,
    /// `None` when renewable now; otherwise why not (a stable code).
    pub renew_blocked: Option<String>,
    /// The due date a renewal today would give.
    pub renew_preview: Option<NaiveDate>,
    pub pending_renewal: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HoldView {
    pub id: String,
    pub title_id: String,
    pub title: String,
    pub status: String,
    pub position: u32,
    pub queue_len: u32,
    pub copies: u32,
    pub estimated_wait_days: u32,
    pub pickup_branch: String,
    pub pickup_by: Option<NaiveDate>,
    pub suspended_until: Option<NaiveDate>,
    /// A copy is set aside or on its way: no suspending or moving it.
    pub captured: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventView {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    pub category: String,
    pub branch: Option<String>,
    pub place: String,
    pub start: Millis,
    pub end: Millis,
    pub capacity: u32,
    pub seats_left: u32,
    pub waitlist: u32,
    /// `confirmed`, `waitlisted`, or none.
    pub registration: Option<String>,
    pub waitlist_position: Option<u32>,
    /// Access notes for this event (step-free room, sign language…).
    #[serde(default)]
    pub accessibility: String,
}

/// Where a request stands, as the patron is told.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    /// Stored on this device, not yet received by the library.
    WaitingToSend,
    /// The library has stored it and will decide.
    ReceivedByLibrary,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingView {
    pub id: String,
    pub kind: String,
    pub created_at: Millis,
    pub state: PendingState,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutcomeView {
    pub intent_id: String,
    pub kind: String,
    pub accepted: bool,
    pub reason: Option<String>,
    pub text_id: String,
    pub text_en: String,
    pub due: Option<String>,
    pub position: Option<u32>,
    pub decided_at: Millis,
    /// Per-loan results of a renew-all: (copy, accepted, reason).
    pub items: Vec<(String, bool, Option<String>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountView {
    /// The library's name, from its policy (the card shows it).
    #[serde(default)]
    pub library: String,
    pub card: String,
    pub name: String,
    pub today: NaiveDate,
    pub fines_owed: i64,
    pub account_blocked: Option<String>,
    pub loans: Vec<LoanView>,
    pub holds: Vec<HoldView>,
    pub events: Vec<EventView>,
    pub pending: Vec<PendingView>,
    pub outcomes: Vec<OutcomeView>,
    /// Returned loans, newest first (empty unless the patron keeps history).
    pub history: Vec<HistoryView>,
    /// Whether the library keeps the patron's loan history (their choice).
    #[serde(default)]
    pub keep_history: bool,
    /// Questions asked of a librarian, newest first.
    #[serde(default)]
    pub questions: Vec<QuestionView>,
    /// The library's surveys, and whether the patron answered each.
    #[serde(default)]
    pub surveys: Vec<SurveyView>,
    /// The library's branches, for pickup choices and filters.
    pub branches: Vec<BranchInfo>,
    /// The library's UTC offset, for showing event times.
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SurveyQuestionView {
    pub id: String,
    /// `rating` (1 to 5), `choice` or `text`.
    pub kind: String,
    pub text_id: String,
    pub text_en: String,
    pub choices_id: Vec<String>,
    pub choices_en: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SurveyView {
    pub id: String,
    pub title_id: String,
    pub title_en: String,
    pub closes: Option<NaiveDate>,
    /// Still taking answers.
    pub open: bool,
    /// The library recorded this patron's answers.
    pub answered: bool,
    /// Answers sent, not decided yet.
    pub pending: bool,
    pub questions: Vec<SurveyQuestionView>,
}

/// A question the patron asked a librarian, and the answer once given.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QuestionView {
    pub id: String,
    pub question: String,
    pub asked_at: Millis,
    pub answer: Option<String>,
    pub answered_at: Option<Millis>,
}

/// The FAQ's topics, in the order the app lists them (the server accepts
/// only these).
pub const FAQ_TOPICS: [&str; 12] = [
    "membership",
    "loans",
    "fines",
    "holds",
    "hours",
    "book_van",
    "ebooks",
    "accessibility",
    "events",
    "app",
    "privacy",
    "other",
];

/// One of the library's questions and answers, in the patron's language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaqEntryView {
    pub id: String,
    pub topic: String,
    pub question: String,
    pub answer: String,
}

/// What the FAQ assistant found for a question, best first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct FaqAnswer {
    pub query: String,
    pub hits: Vec<FaqEntryView>,
    /// The first hit answers the question well; otherwise the app offers
    /// to ask a librarian.
    pub confident: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HistoryView {
    pub title_id: String,
    pub title: String,
    pub checked_out: NaiveDate,
    pub returned: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BranchInfo {
    pub id: String,
    pub name: String,
    /// `branch` or `book_van`.
    pub kind: String,
    /// Whether holds can be picked up there.
    pub pickup: bool,
    /// The branch's accessibility notes (ramps, wheelchair access, Braille
    /// corner), in Indonesian and English, when the library wrote them.
    #[serde(default)]
    pub accessibility_id: Option<String>,
    #[serde(default)]
    pub accessibility_en: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub online: bool,
    pub last_synced: Option<Millis>,
    pub pending: usize,
    pub last_error: Option<String>,
    pub signed_in: bool,
}

/// One card of the household on this device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HouseholdMember {
    pub card: String,
    pub name: String,
    /// The card the screens show now.
    pub active: bool,
    /// Synced at least once (its dates are known).
    pub synced: bool,
    pub loans: u32,
    pub overdue: u32,
    /// Holds ready for pickup.
    pub ready: u32,
}

/// A loan's due date or a ready hold's last pickup day, of any card.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HouseholdItem {
    pub card: String,
    pub name: String,
    /// `loan` or `hold_ready`.
    pub kind: String,
    pub title: String,
    /// Due date, or the last day to pick up.
    pub date: NaiveDate,
    pub days_left: i64,
    pub overdue: bool,
    pub branch: String,
}

/// Every card on the device and their dates, most urgent first.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct HouseholdView {
    pub members: Vec<HouseholdMember>,
    pub items: Vec<HouseholdItem>,
}
