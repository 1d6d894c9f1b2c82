//! Stable reason codes: the contract between server rules and the device.
//!
//! A code is sent as its snake_case string and translated on the device, so
//! renaming one is a breaking change of the wire format.

macro_rules! reasons {
    ($($variant:ident => $code:literal,)*) => {
        /// Why the library refuses (or would refuse) a request.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason { $($variant,)* }

        impl Reason {
            pub const ALL: &'static [Reason] = &[$(Reason::$variant,)*];

            /// The stable wire code.
            pub fn code(self) -> &'static str {
                match self { $(Reason::$variant => $code,)* }
            }

            pub fn from_code(code: &str) -> Option<Reason> {
                match code { $($code => Some(Reason::$variant),)* _ => None }
            }
        }
    };
}

reasons! {
    AccountExpired => "account_expired",
    AccountRestricted => "account_restricted",
    FinesOverThreshold => "fines_over_threshold",
    LoanLimitReached => "loan_limit_reached",
    NotCirculating => "not_circulating",
    RenewalLimitReached => "renewal_limit_reached",
    OnHoldForOther => "on_hold_for_other",
    TooSoon => "too_soon",
    DeskRenewalOnly => "desk_renewal_only",
    WouldNotExtend => "would_not_extend",
    HoldLimitReached => "hold_limit_reached",
    AlreadyOnHold => "already_on_hold",
    AlreadyOnLoan => "already_on_loan",
    TitleAvailable => "title_available",
    NotHoldable => "not_holdable",
    HoldCaptured => "hold_captured",
    PickupChangeRefused => "pickup_change_refused",
    InvalidDate => "invalid_date",
    NotSuspended => "not_suspended",
    AlreadySuspended => "already_suspended",
    UnknownLoan => "unknown_loan",
    UnknownHold => "unknown_hold",
    UnknownTitle => "unknown_title",
    UnknownBranch => "unknown_branch",
    UnknownEvent => "unknown_event",
    UnknownCopy => "unknown_copy",
    AlreadyRegistered => "already_registered",
    NotRegistered => "not_registered",
    EventStarted => "event_started",
    CopyOnHoldForOther => "copy_on_hold_for_other",
    CopyOnLoan => "copy_on_loan",
    Malformed => "malformed",
    IlsRefused => "ils_refused",
    IlsUnavailable => "ils_unavailable",
    IlsUnsupported => "ils_unsupported",
    UnknownSurvey => "unknown_survey",
    SurveyClosed => "survey_closed",
    AlreadyAnswered => "already_answered",
    InvalidAnswer => "invalid_answer",
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(*r));
            assert!(seen.insert(r.code()), "duplicate code {}", r.code());
        }
        assert_eq!(Reason::from_code("nope"), None);
    }
}
