//! Pustaka's replicated documents, split by writer.
//!
//! | document  | writer          | holds                                                     |
//! |-----------|-----------------|-----------------------------------------------------------|
//! | `circ`    | server only     | one patron's loans, holds, fines, registrations, outcomes |
//! | `intents` | patron devices  | append-only requests keyed by UUIDv7                      |
//! | `calendar`| server only     | the library's events, book-van stops, policy and holidays |
//! | `prefs`   | patron devices  | the patron's own data: reading lists (true multi-device merge) |
//!
//! Automerge cannot drop a single change of a document, so authority is per
//! document: the server syncs `circ` and `calendar` with a read-only sync
//! state and never applies a device's change to them. This crate holds the
//! typed mapping (strict hydrate, minimal reconcile), the intent schema, the
//! sync limits and the wire envelope. It does no IO.

pub mod docs;
pub mod intent;
pub mod prefs;
pub mod sync;
pub mod wire;

pub use docs::*;
pub use intent::{Intent, IntentKind};

/// The four kinds of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    Circ,
    Intents,
    Calendar,
    Prefs,
}

impl DocKind {
    pub const ALL: [DocKind; 4] = [
        DocKind::Circ,
        DocKind::Intents,
        DocKind::Calendar,
        DocKind::Prefs,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DocKind::Circ => "circ",
            DocKind::Intents => "intents",
            DocKind::Calendar => "calendar",
            DocKind::Prefs => "prefs",
        }
    }

    pub fn parse(s: &str) -> Option<DocKind> {
        match s {
            "circ" => Some(DocKind::Circ),
            "intents" => Some(DocKind::Intents),
            "calendar" => Some(DocKind::Calendar),
            "prefs" => Some(DocKind::Prefs),
            _ => None,
        }
    }

    /// Only the server writes these; devices hold read-only replicas.
    pub fn server_owned(self) -> bool {
        !matches!(self, DocKind::Intents | DocKind::Prefs)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    #[error("document does not follow the schema: {0}")]
    Schema(String),
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("sync message rejected: {0}")]
    Limit(String),
    /// A message adds more changes than one message may (its own code on
    /// the wire: the sender should split its changes, not shrink its bytes).
    #[error("sync message rejected: {changes} changes in one message, the limit is {limit}")]
    TooManyChanges { changes: usize, limit: usize },
    #[error("bytes are not a valid sync message or state: {0}")]
    Decode(String),
}

impl From<autosurgeon::HydrateError> for ReplicaError {
    fn from(e: autosurgeon::HydrateError) -> Self {
        ReplicaError::Schema(e.to_string())
    }
}

impl From<autosurgeon::ReconcileError> for ReplicaError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        ReplicaError::Schema(e.to_string())
    }
}
