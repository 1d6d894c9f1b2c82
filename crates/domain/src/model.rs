//! Plain facts the rules reason about. These are not wire types: the replica
//! crate maps documents to and from them.

use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Active,
    Restricted,
}

impl AccountStatus {
    pub fn code(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Restricted => "restricted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(AccountStatus::Active),
            "restricted" => Some(AccountStatus::Restricted),
            _ => None,
        }
    }
}

/// What the rules need to know about a patron.
#[derive(Debug, Clone, PartialEq)]
pub struct PatronFacts {
    pub patron_type: String,
    pub status: AccountStatus,
    pub expires: NaiveDate,
    /// Fines owed now, in the library's currency units.
    pub fines_owed: i64,
    pub home_branch: String,
}

/// What the rules need to know about one of the patron's loans.
#[derive(Debug, Clone, PartialEq)]
pub struct LoanFacts {
    pub title_id: String,
    pub item_type: String,
    pub collection: Option<String>,
    pub branch: String,
    pub due: NaiveDate,
    pub renewals_used: u32,
    /// Another patron has an active (not suspended) hold on this title and no
    /// other copy could fill it.
    pub others_waiting: bool,
}

/// A copy at the desk (or at a self-checkout).
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFacts {
    pub title_id: String,
    pub item_type: String,
    pub collection: Option<String>,
    pub branch: String,
    pub on_loan: bool,
    /// The copy is set aside (waiting) for this patron card, if any.
    pub reserved_for: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HoldStatus {
    /// In the queue.
    Queued,
    /// Suspended ("frozen") until a date; keeps its place.
    Suspended,
    /// A copy is on its way to the pickup branch.
    InTransit,
    /// A copy waits on the pickup shelf until `pickup_by`.
    Waiting,
}

impl HoldStatus {
    pub fn code(self) -> &'static str {
        match self {
            HoldStatus::Queued => "queued",
            HoldStatus::Suspended => "suspended",
            HoldStatus::InTransit => "in_transit",
            HoldStatus::Waiting => "waiting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(HoldStatus::Queued),
            "suspended" => Some(HoldStatus::Suspended),
            "in_transit" => Some(HoldStatus::InTransit),
            "waiting" => Some(HoldStatus::Waiting),
            _ => None,
        }
    }

    /// Once a copy is caught for the patron, the hold can no longer be
    /// suspended or moved to another branch.
    pub fn is_captured(self) -> bool {
        matches!(self, HoldStatus::InTransit | HoldStatus::Waiting)
    }
}

/// A title as the hold rules see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleFacts {
    /// Copies that could ever fill a hold (circulating or not: reference
    /// copies may be reserved to read in the library).
    pub holdable_copies: u32,
    /// Copies on the shelf right now.
    pub on_shelf: u32,
    pub item_type: String,
}

/// What the patron already has, for the hold rules.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HoldCounts {
    pub holds: u32,
    pub has_hold_on_title: bool,
    pub has_loan_on_title: bool,
}
