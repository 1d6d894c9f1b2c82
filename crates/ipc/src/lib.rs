//! The typed contract between the UI (`pustaka-app`, wasm), the Tauri shell
//! (`pustaka-desktop`) and the server's JSON catalogue routes.
//!
//! Every command is a request struct implementing [`Command`]: its wire name
//! and its response type live together, so the app's one `invoke` call and
//! the shell's handler cannot disagree. Errors cross as [`IpcError`]
//! (`{code, message}`); the shell pushes [`Changed`] on [`EVENT_CHANGED`]
//! whenever the replica or the sync status moves. Pure serde: builds for
//! wasm32 and the host alike.

use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub mod catalog;
pub mod lists;
pub mod views;

pub use catalog::*;
pub use lists::*;
pub use views::*;

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// A command the UI sends to its backend.
pub trait Command: Serialize + DeserializeOwned {
    /// The name the shell registers the handler under.
    const NAME: &'static str;
    type Response: Serialize + DeserializeOwned;
}

/// An error as the UI receives it: a stable code to branch on and a
/// message for logs. Texts for the patron come from the translation files
/// keyed by `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpcError {
    pub code: String,
    pub message: String,
}

impl IpcError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> IpcError {
        IpcError {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for IpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for IpcError {}

/// Emitted by the shell after every sync attempt and every local change.
pub const EVENT_CHANGED: &str = "pustaka://changed";
/// Emitted when the OS hands the app a `pustaka://` link.
pub const EVENT_OPEN_LINK: &str = "pustaka://open-link";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub status: SyncStatus,
    /// Bumped on every change; the UI refetches when it moves.
    pub revision: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLink {
    pub url: String,
}

/// Patron-chosen settings, kept on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// `id` (default) or `en`.
    pub language: String,
    /// Days before the due date to remind; default 3 and 1.
    pub reminder_days: Vec<u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            language: "id".into(),
            reminder_days: vec![3, 1],
        }
    }
}

/// What the app needs to know before its first screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub signed_in: bool,
    pub server: Option<String>,
    pub card: Option<String>,
    pub name: Option<String>,
    pub status: SyncStatus,
    pub settings: Settings,
    /// Where this device keeps the patron's data.
    pub data_dir: String,
    /// A `pustaka://` link the app was started with, if any.
    pub opened_with: Option<String>,
    /// Prefilled sign-in values (the demo passes them), never a PIN store.
    pub suggested_server: Option<String>,
    /// The website (a browser talking to the library's server, no replica):
    /// catalogue, events and FAQ before sign-in; no scanner, card or
    /// household; requests are decided while the page waits.
    #[serde(default)]
    pub web: bool,
}

/// The website's sign-in answer: the session and the token the page keeps
/// (in the browser's local storage) for its next requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebSignedIn {
    pub session: Session,
    pub token: String,
}

/// Where the website's calls go: `POST {WEB_API}/<command name>` with the
/// command's JSON, the token as `Authorization: Bearer`, the language in
/// [`WEB_LANG_HEADER`]; the answer is the command's response or `{code, message}`.
pub const WEB_API: &str = "/web/v1";
pub const WEB_LANG_HEADER: &str = "x-pustaka-lang";

/// The id of a recorded request (an intent); it syncs when it can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requested {
    pub id: String,
}

macro_rules! command {
    ($(#[$m:meta])* $name:ident = $wire:literal -> $resp:ty { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        pub struct $name { $(pub $field: $ty),* }
        impl Command for $name {
            const NAME: &'static str = $wire;
            type Response = $resp;
        }
    };
}

command!(
    /// Who is signed in, the sync status and the settings.
    GetSession = "get_session" -> Session {}
);
command!(
    /// Signs in to a library server with card number and PIN.
    SignIn = "sign_in" -> Session { server: String, card: String, pin: String }
);
command!(
    /// Signs out and removes this patron's data from the device.
    SignOut = "sign_out" -> Session {}
);
command!(
    /// Every card on this device with its due dates and ready holds
    /// (from the replicas: works offline).
    GetHousehold = "get_household" -> HouseholdView {}
);
command!(
    /// Signs one more card in on this device (a child's, a parent's),
    /// next to the others; it becomes the active card.
    AddCard = "add_card" -> Session { server: String, card: String, pin: String }
);
command!(
    /// Shows another card of the household (one tap).
    SwitchCard = "switch_card" -> Session { card: String }
);
command!(
    /// Signs a card out and removes its data from this device.
    RemoveCard = "remove_card" -> Session { card: String }
);
command!(
    /// Everything the account screens show, from the local replica.
    GetAccount = "get_account" -> AccountView {}
);
command!(
    /// Asks the background task to sync now; returns the status.
    SyncNow = "sync_now" -> SyncStatus {}
);
command!(Renew = "renew" -> Requested { copy: String });
command!(RenewAll = "renew_all" -> Requested {});
command!(PlaceHold = "place_hold" -> Requested { title: String, branch: String });
command!(CancelHold = "cancel_hold" -> Requested { hold: String });
command!(SuspendHold = "suspend_hold" -> Requested { hold: String, until: NaiveDate });
command!(ResumeHold = "resume_hold" -> Requested { hold: String });
command!(ChangePickup = "change_pickup" -> Requested { hold: String, branch: String });
command!(RegisterEvent = "register_event" -> Requested { event: String });
command!(CancelRegistration = "cancel_registration" -> Requested { event: String });
command!(
    /// Asks the library to keep the loan history (`true`) or to stop keeping
    /// it and delete it (`false`); decided like any other request.
    SetKeepHistory = "set_keep_history" -> Requested { keep: bool }
);
command!(
    /// The library's questions and answers in the app's language (from the
    /// replica: works offline).
    GetFaq = "get_faq" -> Vec<FaqEntryView> {}
);
command!(
    /// The FAQ assistant: the best answers to a question, on the device.
    SearchFaq = "search_faq" -> FaqAnswer { query: String }
);
command!(
    /// Sends a question to a librarian (queued offline like any request);
    /// the answer arrives in the account and as a notification.
    AskLibrarian = "ask_librarian" -> Requested { question: String }
);
command!(
    /// Answers a survey (question id → a rating `1`..`5`, a choice's index
    /// or text); queued offline like any request, counted once.
    AnswerSurvey = "answer_survey" -> Requested {
        survey: String,
        answers: std::collections::BTreeMap<String, String>,
    }
);
command!(
    /// Saves everything the library holds about the patron as a JSON file
    /// (needs the network); returns where it was saved.
    ExportData = "export_data" -> String {}
);
command!(
    /// Catalogue search on the library's server; `format` is a format or
    /// item type (`book`, `ebook`…), `language` a MARC language code.
    Search = "search" -> SearchResults {
        query: String,
        branch: Option<String>,
        available_only: bool,
        format: Option<String>,
        language: Option<String>,
    }
);
command!(
    /// A title's details: from the server, or the device's copy when offline.
    GetTitle = "get_title" -> TitleView { id: String }
);
command!(
    /// Titles viewed recently, readable offline.
    RecentTitles = "recent_titles" -> Vec<TitleSummary> {}
);
command!(
    /// Writes an iCalendar file for one event; returns where it was saved.
    AddToCalendar = "add_to_calendar" -> String { event: String }
);
command!(SetSettings = "set_settings" -> Settings { settings: Settings });
command!(
    /// The page reached a start-up milestone (e.g. `loans-visible`); the
    /// shell logs it with the time since the process started.
    StartupMark = "startup_mark" -> () { mark: String }
);
command!(
    /// Opens an online resource (an e-book, an e-journal) in the system's
    /// browser or reader: http(s) links only.
    OpenOnline = "open_online" -> () { url: String }
);

command!(
    /// One camera frame, grayscale (one byte per pixel, row by row), as
    /// base64: the shelf scanner's live view. `number` counts frames, so
    /// each tries one more form of the picture when the plain one fails.
    ScanFrame = "scan_frame" -> Scanned { width: u32, height: u32, gray: String, number: u64 }
);
command!(
    /// A picture file's bytes (a photo taken or picked), as base64.
    ScanPicture = "scan_picture" -> Scanned { bytes: String }
);
command!(
    /// What a scanned code points at: a title (from the library, or from
    /// this device when offline), and the copy when it is a copy's label.
    ResolveCode = "resolve_code" -> CodeTarget { code: String }
);
command!(
    /// Checks a copy out to the signed-in patron, standing at the shelf
    /// with it (needs the network; the library may refuse, with a reason).
    SelfCheckout = "self_checkout" -> SelfCheckedOut { copy: String }
);
command!(
    /// The membership card's code signed by the library (kept on the device
    /// so it shows offline), if one was ever fetched.
    GetCardCode = "get_card_code" -> Option<String> {}
);

/// The patron's due-date and hold-ready e-mails, as the library keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmailReminders {
    /// `None`: no e-mails.
    pub email: Option<String>,
    /// The language the e-mails are written in (`id` or `en`).
    pub lang: Option<String>,
}

command!(
    /// The patron's reading lists ("want to read" first), from their own
    /// document: works offline, merges across their devices.
    GetLists = "get_lists" -> Vec<ReadingListView> {}
);
command!(
    /// A new named list; returns its id.
    CreateList = "create_list" -> String { name: String }
);
command!(RenameList = "rename_list" -> () { list: String, name: String });
command!(
    /// Deletes a named list ("want to read" is only emptied).
    DeleteList = "delete_list" -> () { list: String }
);
command!(
    AddToList = "add_to_list" -> () { list: String, title_id: String, title: String, author: String }
);
command!(RemoveFromList = "remove_from_list" -> () { list: String, title_id: String });
command!(
    /// Saves a list someone shared as a new list of the patron's; returns its id.
    SaveSharedList = "save_shared_list" -> String { name: String, items: Vec<ListItemView> }
);

command!(
    /// The patron's e-mail reminders (asks the library; needs the network).
    GetEmailReminders = "get_email_reminders" -> EmailReminders {}
);
command!(
    /// Opts in to e-mail reminders at `email` (in the app's language), or
    /// out with `None`.
    SetEmailReminders = "set_email_reminders" -> EmailReminders { email: Option<String> }
);
command!(
    /// The patron's secret calendar address, if this device made one.
    GetCalendarFeed = "get_calendar_feed" -> Option<String> {}
);
command!(
    /// A new secret calendar address; the old one stops working.
    NewCalendarFeed = "new_calendar_feed" -> String {}
);

/// Codes read from a picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scanned {
    pub codes: Vec<ScannedCode>,
    pub ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScannedCode {
    /// `qr` or `ean13`.
    pub format: String,
    pub text: String,
}

/// Where a scanned code leads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeTarget {
    pub title_id: String,
    pub title: String,
    /// The copy's barcode, when the code was on a copy's label.
    pub copy: Option<String>,
    /// Answered from this device's kept titles (offline).
    pub from_cache: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfCheckedOut {
    pub copy: String,
    pub due: NaiveDate,
}

/// A title page: details plus where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TitleView {
    pub details: TitleDetails,
    /// True when shown from the device's copy because the server is out of reach.
    pub from_cache: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_their_names_and_round_trip() {
        let c = SuspendHold {
            hold: "H1".into(),
            until: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
        };
        let json = serde_json::to_value(&c).expect("json");
        assert_eq!(json["until"], "2026-12-01");
        assert_eq!(
            serde_json::from_value::<SuspendHold>(json).expect("back"),
            c
        );
        assert_eq!(SuspendHold::NAME, "suspend_hold");
        assert_eq!(GetAccount::NAME, "get_account");
    }

    #[test]
    fn errors_serialise_as_code_and_message() {
        let e = IpcError::new("offline", "no route");
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"code":"offline","message":"no route"}"#
        );
    }
}
