//! The circulation rules. Each returns either what would happen or a stable
//! [`Reason`]. The server calls them to decide; the device calls the same
//! functions on its replica to explain a refusal before the patron asks.

use crate::model::*;
use crate::opening::{days_between, next_open_day, previous_open_day};
use crate::policy::{Branch, ItemType, Policy, RenewalBase};
use crate::reason::Reason;
use chrono::{Days, NaiveDate};

/// Account-level blocks, in the order a librarian would explain them.
pub fn check_account(
    policy: &Policy,
    patron: &PatronFacts,
    today: NaiveDate,
) -> Result<(), Reason> {
    if patron.expires < today {
        return Err(Reason::AccountExpired);
    }
    if patron.status == AccountStatus::Restricted {
        return Err(Reason::AccountRestricted);
    }
    if patron.fines_owed > policy.fines.block_threshold {
        return Err(Reason::FinesOverThreshold);
    }
    Ok(())
}

fn item_type<'a>(policy: &'a Policy, id: &str) -> Result<&'a ItemType, Reason> {
    policy.item_type(id).ok_or(Reason::Malformed)
}

fn branch<'a>(policy: &'a Policy, id: &str) -> Result<&'a Branch, Reason> {
    policy.branch(id).ok_or(Reason::UnknownBranch)
}

/// Loan period in days for this patron type and copy (most specific rule wins).
pub fn loan_days(
    policy: &Policy,
    patron_type: &str,
    item: &str,
    collection: Option<&str>,
) -> Result<u32, Reason> {
    let base = item_type(policy, item)?.loan_days;
    Ok(policy
        .rules_for(patron_type, item, collection)
        .find_map(|r| r.loan_days)
        .unwrap_or(base))
}

pub fn max_renewals(
    policy: &Policy,
    patron_type: &str,
    item: &str,
    collection: Option<&str>,
) -> Result<u32, Reason> {
    let base = item_type(policy, item)?.max_renewals;
    Ok(policy
        .rules_for(patron_type, item, collection)
        .find_map(|r| r.max_renewals)
        .unwrap_or(base))
}

/// A due date `days` after `start`, never after the membership's expiry, moved
/// to the branch's next open day (or, when that would pass the expiry, the
/// last open day before it).
pub fn due_date(
    branch: &Branch,
    start: NaiveDate,
    days: u32,
    membership_expires: NaiveDate,
) -> NaiveDate {
    let raw = start
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(start);
    let capped = raw.min(membership_expires);
    let moved = next_open_day(branch, capped);
    if moved > membership_expires {
        previous_open_day(branch, capped)
    } else {
        moved
    }
}

/// Checkout at the desk or self-checkout. `current_loans` are the patron's
/// loans as (item type, collection) pairs.
pub fn check_checkout(
    policy: &Policy,
    patron: &PatronFacts,
    copy: &CopyFacts,
    card: &str,
    current_loans: &[(String, Option<String>)],
    today: NaiveDate,
) -> Result<NaiveDate, Reason> {
    check_account(policy, patron, today)?;
    let it = item_type(policy, &copy.item_type)?;
    if !it.circulates {
        return Err(Reason::NotCirculating);
    }
    if copy.on_loan {
        return Err(Reason::CopyOnLoan);
    }
    if let Some(for_card) = &copy.reserved_for
        && for_card != card
    {
        return Err(Reason::CopyOnHoldForOther);
    }
    let limit = policy
        .patron_type(&patron.patron_type)
        .map(|p| p.loan_limit)
        .ok_or(Reason::Malformed)?;
    if current_loans.len() as u32 >= limit {
        return Err(Reason::LoanLimitReached);
    }
    let collection = copy.collection.as_deref();
    if let Some(rule) = policy
        .rules_for(&patron.patron_type, &copy.item_type, collection)
        .find(|r| r.loan_limit.is_some())
    {
        let in_scope = current_loans
            .iter()
            .filter(|(t, c)| rule.matches(&patron.patron_type, t, c.as_deref()))
            .count() as u32;
        if in_scope >= rule.loan_limit.unwrap_or(u32::MAX) {
            return Err(Reason::LoanLimitReached);
        }
    }
    let days = loan_days(policy, &patron.patron_type, &copy.item_type, collection)?;
    Ok(due_date(
        branch(policy, &copy.branch)?,
        today,
        days,
        patron.expires,
    ))
}

/// What a renewal would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewQuote {
    pub new_due: NaiveDate,
    pub renewals_left_after: u32,
    /// The fine accrued so far, charged when an overdue loan is renewed.
    pub fine_charged: i64,
}

/// When a refused renewal is `TooSoon`, the first day it would be allowed.
pub fn renewal_opens(policy: &Policy, loan: &LoanFacts) -> Option<NaiveDate> {
    let it = policy.item_type(&loan.item_type)?;
    if it.no_renewal_before_days == 0 {
        return None;
    }
    loan.due
        .checked_sub_days(Days::new(u64::from(it.no_renewal_before_days)))
}

pub fn check_renew(
    policy: &Policy,
    patron: &PatronFacts,
    loan: &LoanFacts,
    today: NaiveDate,
) -> Result<RenewQuote, Reason> {
    check_account(policy, patron, today)?;
    let it = item_type(policy, &loan.item_type)?;
    if it.desk_renewal_only {
        return Err(Reason::DeskRenewalOnly);
    }
    let allowed = max_renewals(
        policy,
        &patron.patron_type,
        &loan.item_type,
        loan.collection.as_deref(),
    )?;
    if loan.renewals_used >= allowed {
        return Err(Reason::RenewalLimitReached);
    }
    if loan.others_waiting {
        return Err(Reason::OnHoldForOther);
    }
    if let Some(opens) = renewal_opens(policy, loan)
        && today < opens
    {
        return Err(Reason::TooSoon);
    }
    let days = loan_days(
        policy,
        &patron.patron_type,
        &loan.item_type,
        loan.collection.as_deref(),
    )?;
    let start = match policy.library.renewal_base {
        RenewalBase::Today => today,
        RenewalBase::DueDate => loan.due.max(today),
    };
    let b = branch(policy, &loan.branch)?;
    let new_due = due_date(b, start, days, patron.expires);
    if new_due <= loan.due {
        return Err(Reason::WouldNotExtend);
    }
    Ok(RenewQuote {
        new_due,
        renewals_left_after: allowed - loan.renewals_used - 1,
        fine_charged: fine(policy, loan, today)?,
    })
}

/// The fine accrued on a loan by `today`: nothing within the grace period,
/// then every overdue day (closed days left out when the policy says so),
/// capped per item.
pub fn fine(policy: &Policy, loan: &LoanFacts, today: NaiveDate) -> Result<i64, Reason> {
    let it = item_type(policy, &loan.item_type)?;
    let b = branch(policy, &loan.branch)?;
    let days = days_between(b, loan.due, today, policy.fines.exclude_closed_days);
    if days <= policy.fines.grace_days {
        return Ok(0);
    }
    Ok((i64::from(days) * it.fine_per_day).min(it.fine_cap))
}

/// Placing a hold on a title.
pub fn check_place_hold(
    policy: &Policy,
    patron: &PatronFacts,
    title: &TitleFacts,
    counts: &HoldCounts,
    pickup_branch: &str,
    today: NaiveDate,
) -> Result<(), Reason> {
    check_account(policy, patron, today)?;
    let b = branch(policy, pickup_branch)?;
    if !b.pickup_location {
        return Err(Reason::UnknownBranch);
    }
    if title.holdable_copies == 0 {
        return Err(Reason::NotHoldable);
    }
    if counts.has_hold_on_title {
        return Err(Reason::AlreadyOnHold);
    }
    if counts.has_loan_on_title {
        return Err(Reason::AlreadyOnLoan);
    }
    let limit = policy
        .patron_type(&patron.patron_type)
        .map(|p| p.hold_limit)
        .ok_or(Reason::Malformed)?;
    if counts.holds >= limit {
        return Err(Reason::HoldLimitReached);
    }
    if policy.holds.only_when_none_on_shelf && title.on_shelf > 0 {
        return Err(Reason::TitleAvailable);
    }
    Ok(())
}

/// Estimated wait in days for a queue position: each round of `copies`
/// patrons ahead takes one loan period.
pub fn estimated_wait_days(position: u32, copies: u32, loan_days: u32) -> u32 {
    if copies == 0 || position == 0 {
        return 0;
    }
    position.div_ceil(copies) * loan_days
}

/// The last day a ready hold waits on the pickup shelf.
pub fn pickup_by(policy: &Policy, pickup_branch: &Branch, ready_on: NaiveDate) -> NaiveDate {
    let raw = ready_on
        .checked_add_days(Days::new(u64::from(policy.holds.pickup_days)))
        .unwrap_or(ready_on);
    next_open_day(pickup_branch, raw)
}

pub fn pickup_expired(pickup_by: NaiveDate, today: NaiveDate) -> bool {
    today > pickup_by
}

/// Suspending a hold until `until` (inclusive); it resumes the day after.
pub fn check_suspend(
    policy: &Policy,
    status: HoldStatus,
    until: NaiveDate,
    today: NaiveDate,
) -> Result<(), Reason> {
    if status.is_captured() {
        return Err(Reason::HoldCaptured);
    }
    if status == HoldStatus::Suspended {
        return Err(Reason::AlreadySuspended);
    }
    let latest = today
        .checked_add_days(Days::new(u64::from(policy.holds.max_suspend_days)))
        .unwrap_or(today);
    if until <= today || until > latest {
        return Err(Reason::InvalidDate);
    }
    Ok(())
}

pub fn check_resume(status: HoldStatus) -> Result<(), Reason> {
    if status == HoldStatus::Suspended {
        Ok(())
    } else {
        Err(Reason::NotSuspended)
    }
}

/// A suspended hold resumes automatically the day after its end date.
pub fn should_auto_resume(suspended_until: NaiveDate, today: NaiveDate) -> bool {
    today > suspended_until
}

pub fn check_change_pickup(
    policy: &Policy,
    status: HoldStatus,
    new_branch: &str,
) -> Result<(), Reason> {
    let b = branch(policy, new_branch)?;
    if !b.pickup_location {
        return Err(Reason::UnknownBranch);
    }
    if status.is_captured() {
        return Err(Reason::PickupChangeRefused);
    }
    Ok(())
}

/// Where a registration lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    Confirmed,
    /// 1-based position on the waiting list.
    Waitlisted(u32),
}

/// Registering for an event. Requests are decided one at a time in the order
/// the server decides intents, so seats go first come, first served.
pub fn register_for_event(
    capacity: u32,
    seats_taken: u32,
    waitlist_len: u32,
    already_registered: bool,
    event_start: crate::Millis,
    now: crate::Millis,
) -> Result<Seat, Reason> {
    if already_registered {
        return Err(Reason::AlreadyRegistered);
    }
    if now >= event_start {
        return Err(Reason::EventStarted);
    }
    if seats_taken < capacity {
        Ok(Seat::Confirmed)
    } else {
        Ok(Seat::Waitlisted(waitlist_len + 1))
    }
}

#[cfg(test)]
// The tables are tuples on purpose: one row per case, read left to right.
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../assets/demo/policy.toml");

    fn policy() -> Policy {
        Policy::from_toml(DEMO).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn patron() -> PatronFacts {
        PatronFacts {
            patron_type: "adult".into(),
            status: AccountStatus::Active,
            expires: d("2027-12-31"),
            fines_owed: 0,
            home_branch: "pusat".into(),
        }
    }

    fn loan() -> LoanFacts {
        LoanFacts {
            title_id: "t1".into(),
            item_type: "book".into(),
            collection: None,
            branch: "pusat".into(),
            due: d("2026-12-01"),
            renewals_used: 0,
            others_waiting: false,
        }
    }

    fn copy() -> CopyFacts {
        CopyFacts {
            title_id: "t1".into(),
            item_type: "book".into(),
            collection: None,
            branch: "pusat".into(),
            on_loan: false,
            reserved_for: None,
        }
    }

    type Case<T> = (&'static str, T);

    #[test]
    fn account_blocks() {
        let p = policy();
        let cases: Vec<Case<(PatronFacts, Result<(), Reason>)>> = vec![
            ("active", (patron(), Ok(()))),
            (
                "expired yesterday",
                (
                    PatronFacts {
                        expires: d("2026-11-21"),
                        ..patron()
                    },
                    Err(Reason::AccountExpired),
                ),
            ),
            (
                "expires today is fine",
                (
                    PatronFacts {
                        expires: d("2026-11-22"),
                        ..patron()
                    },
                    Ok(()),
                ),
            ),
            (
                "restricted",
                (
                    PatronFacts {
                        status: AccountStatus::Restricted,
                        ..patron()
                    },
                    Err(Reason::AccountRestricted),
                ),
            ),
            (
                "fines at threshold",
                (
                    PatronFacts {
                        fines_owed: 10_000,
                        ..patron()
                    },
                    Ok(()),
                ),
            ),
            (
                "fines over threshold",
                (
                    PatronFacts {
                        fines_owed: 10_001,
                        ..patron()
                    },
                    Err(Reason::FinesOverThreshold),
                ),
            ),
        ];
        for (name, (pf, want)) in cases {
            assert_eq!(check_account(&p, &pf, d("2026-11-22")), want, "{name}");
        }
    }

    #[test]
    fn due_dates_move_past_closed_days_and_stop_at_expiry() {
        let p = policy();
        let pusat = p.branch("pusat").unwrap();
        let barat = p.branch("barat").unwrap();
        let far = d("2030-01-01");
        let cases: Vec<Case<(&Branch, &str, u32, NaiveDate, &str)>> = vec![
            (
                "plain weekday",
                (pusat, "2026-11-02", 14, far, "2026-11-16"),
            ),
            (
                "lands on Sunday",
                (pusat, "2026-11-01", 14, far, "2026-11-16"),
            ),
            (
                "lands on Christmas Eve, then Christmas",
                (pusat, "2026-12-10", 14, far, "2026-12-26"),
            ),
            (
                "branch closed on Saturday too",
                (barat, "2026-11-07", 14, far, "2026-11-23"),
            ),
            (
                "capped at membership expiry",
                (pusat, "2026-11-02", 14, d("2026-11-10"), "2026-11-10"),
            ),
            (
                "cap on a Sunday goes back to Saturday",
                (pusat, "2026-11-02", 14, d("2026-11-08"), "2026-11-07"),
            ),
        ];
        for (name, (b, start, days, exp, want)) in cases {
            assert_eq!(due_date(b, d(start), days, exp), d(want), "{name}");
        }
    }

    #[test]
    fn loan_periods_and_limits_follow_the_most_specific_rule() {
        let p = policy();
        assert_eq!(loan_days(&p, "adult", "book", None), Ok(14));
        assert_eq!(loan_days(&p, "adult", "book", Some("lokal")), Ok(7));
        assert_eq!(loan_days(&p, "child", "dvd", None), Ok(3));
        assert_eq!(loan_days(&p, "adult", "dvd", None), Ok(7));
        assert_eq!(max_renewals(&p, "adult", "book", Some("lokal")), Ok(1));
        assert_eq!(
            loan_days(&p, "adult", "zeppelin", None),
            Err(Reason::Malformed)
        );
    }

    #[test]
    fn checkout_table() {
        let p = policy();
        let today = d("2026-11-23");
        let books = |n: usize| vec![("book".to_string(), None); n];
        let child = PatronFacts {
            patron_type: "child".into(),
            ..patron()
        };
        let dvd = CopyFacts {
            item_type: "dvd".into(),
            ..copy()
        };
        let lokal = CopyFacts {
            collection: Some("lokal".into()),
            ..copy()
        };
        let cases: Vec<
            Case<(
                PatronFacts,
                CopyFacts,
                Vec<(String, Option<String>)>,
                Result<NaiveDate, Reason>,
            )>,
        > = vec![
            ("ordinary", (patron(), copy(), vec![], Ok(d("2026-12-07")))),
            (
                "loan limit",
                (patron(), copy(), books(5), Err(Reason::LoanLimitReached)),
            ),
            (
                "reference",
                (
                    patron(),
                    CopyFacts {
                        item_type: "reference".into(),
                        ..copy()
                    },
                    vec![],
                    Err(Reason::NotCirculating),
                ),
            ),
            (
                "already out",
                (
                    patron(),
                    CopyFacts {
                        on_loan: true,
                        ..copy()
                    },
                    vec![],
                    Err(Reason::CopyOnLoan),
                ),
            ),
            (
                "set aside for another",
                (
                    patron(),
                    CopyFacts {
                        reserved_for: Some("999".into()),
                        ..copy()
                    },
                    vec![],
                    Err(Reason::CopyOnHoldForOther),
                ),
            ),
            (
                "set aside for me",
                (
                    patron(),
                    CopyFacts {
                        reserved_for: Some("me".into()),
                        ..copy()
                    },
                    vec![],
                    Ok(d("2026-12-07")),
                ),
            ),
            (
                "child's one dvd",
                (child.clone(), dvd.clone(), vec![], Ok(d("2026-11-26"))),
            ),
            (
                "child's second dvd",
                (
                    child,
                    dvd,
                    vec![("dvd".into(), None)],
                    Err(Reason::LoanLimitReached),
                ),
            ),
            (
                "third local-history book",
                (
                    patron(),
                    lokal.clone(),
                    vec![("book".into(), Some("lokal".into())); 2],
                    Err(Reason::LoanLimitReached),
                ),
            ),
            (
                "local history with other books out",
                (patron(), lokal, books(3), Ok(d("2026-11-30"))),
            ),
            (
                "fines block checkout",
                (
                    PatronFacts {
                        fines_owed: 20_000,
                        ..patron()
                    },
                    copy(),
                    vec![],
                    Err(Reason::FinesOverThreshold),
                ),
            ),
        ];
        for (name, (pf, c, loans, want)) in cases {
            assert_eq!(
                check_checkout(&p, &pf, &c, "me", &loans, today),
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn renewal_table() {
        let p = policy();
        let cases: Vec<
            Case<(
                PatronFacts,
                LoanFacts,
                &str,
                Result<(&str, u32, i64), Reason>,
            )>,
        > = vec![
            (
                "within window",
                (patron(), loan(), "2026-11-28", Ok(("2026-12-12", 1, 0))),
            ),
            (
                "too soon",
                (patron(), loan(), "2026-11-20", Err(Reason::TooSoon)),
            ),
            (
                "window opens 5 days before",
                (patron(), loan(), "2026-11-26", Ok(("2026-12-10", 1, 0))),
            ),
            (
                "limit reached",
                (
                    patron(),
                    LoanFacts {
                        renewals_used: 2,
                        ..loan()
                    },
                    "2026-11-28",
                    Err(Reason::RenewalLimitReached),
                ),
            ),
            (
                "last renewal",
                (
                    patron(),
                    LoanFacts {
                        renewals_used: 1,
                        ..loan()
                    },
                    "2026-11-28",
                    Ok(("2026-12-12", 0, 0)),
                ),
            ),
            (
                "another patron waits",
                (
                    patron(),
                    LoanFacts {
                        others_waiting: true,
                        ..loan()
                    },
                    "2026-11-28",
                    Err(Reason::OnHoldForOther),
                ),
            ),
            (
                "dvd at the desk only",
                (
                    patron(),
                    LoanFacts {
                        item_type: "dvd".into(),
                        ..loan()
                    },
                    "2026-11-28",
                    Err(Reason::DeskRenewalOnly),
                ),
            ),
            (
                "expired membership",
                (
                    PatronFacts {
                        expires: d("2026-11-01"),
                        ..patron()
                    },
                    loan(),
                    "2026-11-28",
                    Err(Reason::AccountExpired),
                ),
            ),
            (
                "membership ends before the old due date",
                (
                    PatronFacts {
                        expires: d("2026-11-30"),
                        ..patron()
                    },
                    loan(),
                    "2026-11-28",
                    Err(Reason::WouldNotExtend),
                ),
            ),
            (
                "overdue in grace: no fine",
                (patron(), loan(), "2026-12-02", Ok(("2026-12-16", 1, 0))),
            ),
            // Overdue 2 Dec..8 Dec: 7 days, Sunday 6 Dec not counted = 6 days x 500.
            (
                "overdue: fine charged",
                (patron(), loan(), "2026-12-08", Ok(("2026-12-22", 1, 3000))),
            ),
            (
                "restricted",
                (
                    PatronFacts {
                        status: AccountStatus::Restricted,
                        ..patron()
                    },
                    loan(),
                    "2026-11-28",
                    Err(Reason::AccountRestricted),
                ),
            ),
        ];
        for (name, (pf, l, today, want)) in cases {
            let got = check_renew(&p, &pf, &l, d(today))
                .map(|q| (q.new_due, q.renewals_left_after, q.fine_charged));
            let want = want.map(|(due, left, fine)| (d(due), left, fine));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn renewal_base_due_date_extends_from_the_old_due_date() {
        let mut p = policy();
        p.library.renewal_base = RenewalBase::DueDate;
        let q = check_renew(&p, &patron(), &loan(), d("2026-11-28")).unwrap();
        assert_eq!(q.new_due, d("2026-12-15"));
    }

    #[test]
    fn fines_have_grace_and_cap() {
        let p = policy();
        let cases: Vec<Case<(&str, &str, i64)>> = vec![
            ("not yet due", ("book", "2026-11-30", 0)),
            ("one day late is grace", ("book", "2026-12-02", 0)),
            ("two open days late", ("book", "2026-12-03", 1000)),
            ("capped per item", ("book", "2027-06-01", 20_000)),
            ("magazine cap", ("magazine", "2027-06-01", 5000)),
        ];
        for (name, (it, today, want)) in cases {
            let l = LoanFacts {
                item_type: it.into(),
                ..loan()
            };
            assert_eq!(fine(&p, &l, d(today)), Ok(want), "{name}");
        }
    }

    #[test]
    fn hold_table() {
        let p = policy();
        let today = d("2026-11-22");
        let title = TitleFacts {
            holdable_copies: 2,
            on_shelf: 0,
            item_type: "book".into(),
        };
        let cases: Vec<Case<(TitleFacts, HoldCounts, &str, Result<(), Reason>)>> = vec![
            (
                "ordinary",
                (title.clone(), HoldCounts::default(), "pusat", Ok(())),
            ),
            (
                "one hold per title",
                (
                    title.clone(),
                    HoldCounts {
                        has_hold_on_title: true,
                        ..Default::default()
                    },
                    "pusat",
                    Err(Reason::AlreadyOnHold),
                ),
            ),
            (
                "already borrowed",
                (
                    title.clone(),
                    HoldCounts {
                        has_loan_on_title: true,
                        ..Default::default()
                    },
                    "pusat",
                    Err(Reason::AlreadyOnLoan),
                ),
            ),
            (
                "hold limit",
                (
                    title.clone(),
                    HoldCounts {
                        holds: 5,
                        ..Default::default()
                    },
                    "pusat",
                    Err(Reason::HoldLimitReached),
                ),
            ),
            (
                "no copies",
                (
                    TitleFacts {
                        holdable_copies: 0,
                        ..title.clone()
                    },
                    HoldCounts::default(),
                    "pusat",
                    Err(Reason::NotHoldable),
                ),
            ),
            (
                "van is no pickup place",
                (
                    title.clone(),
                    HoldCounts::default(),
                    "pusling",
                    Err(Reason::UnknownBranch),
                ),
            ),
            (
                "unknown branch",
                (
                    title.clone(),
                    HoldCounts::default(),
                    "mars",
                    Err(Reason::UnknownBranch),
                ),
            ),
            (
                "on shelf allowed by default",
                (
                    TitleFacts {
                        on_shelf: 1,
                        ..title
                    },
                    HoldCounts::default(),
                    "pusat",
                    Ok(()),
                ),
            ),
        ];
        for (name, (t, c, b, want)) in cases {
            assert_eq!(
                check_place_hold(&p, &patron(), &t, &c, b, today),
                want,
                "{name}"
            );
        }
        let mut strict = policy();
        strict.holds.only_when_none_on_shelf = true;
        let on_shelf = TitleFacts {
            holdable_copies: 2,
            on_shelf: 1,
            item_type: "book".into(),
        };
        assert_eq!(
            check_place_hold(
                &strict,
                &patron(),
                &on_shelf,
                &HoldCounts::default(),
                "pusat",
                today
            ),
            Err(Reason::TitleAvailable)
        );
        let blocked = PatronFacts {
            fines_owed: 50_000,
            ..patron()
        };
        let t = TitleFacts {
            holdable_copies: 1,
            on_shelf: 0,
            item_type: "book".into(),
        };
        assert_eq!(
            check_place_hold(&p, &blocked, &t, &HoldCounts::default(), "pusat", today),
            Err(Reason::FinesOverThreshold)
        );
    }

    #[test]
    fn queue_wait_and_pickup() {
        let cases = [
            ((1, 2, 14), 14),
            ((2, 2, 14), 14),
            ((3, 2, 14), 28),
            ((7, 2, 14), 56),
            ((1, 0, 14), 0),
        ];
        for ((pos, copies, days), want) in cases {
            assert_eq!(
                estimated_wait_days(pos, copies, days),
                want,
                "#{pos} of {copies}"
            );
        }
        let p = policy();
        let pusat = p.branch("pusat").unwrap();
        // Ready Thu 17 Dec + 7 = Thu 24 Dec (holiday), 25 holiday -> Sat 26 Dec.
        assert_eq!(pickup_by(&p, pusat, d("2026-12-17")), d("2026-12-26"));
        assert!(!pickup_expired(d("2026-12-26"), d("2026-12-26")));
        assert!(pickup_expired(d("2026-12-26"), d("2026-12-27")));
    }

    #[test]
    fn suspension_and_pickup_change_table() {
        let p = policy();
        let today = d("2026-11-22");
        let cases: Vec<Case<(HoldStatus, &str, Result<(), Reason>)>> = vec![
            ("queued", (HoldStatus::Queued, "2026-12-22", Ok(()))),
            (
                "waiting",
                (HoldStatus::Waiting, "2026-12-22", Err(Reason::HoldCaptured)),
            ),
            (
                "in transit",
                (
                    HoldStatus::InTransit,
                    "2026-12-22",
                    Err(Reason::HoldCaptured),
                ),
            ),
            (
                "already suspended",
                (
                    HoldStatus::Suspended,
                    "2026-12-22",
                    Err(Reason::AlreadySuspended),
                ),
            ),
            (
                "in the past",
                (HoldStatus::Queued, "2026-11-21", Err(Reason::InvalidDate)),
            ),
            (
                "too far",
                (HoldStatus::Queued, "2027-06-01", Err(Reason::InvalidDate)),
            ),
        ];
        for (name, (s, until, want)) in cases {
            assert_eq!(check_suspend(&p, s, d(until), today), want, "{name}");
        }
        assert_eq!(check_resume(HoldStatus::Suspended), Ok(()));
        assert_eq!(check_resume(HoldStatus::Queued), Err(Reason::NotSuspended));
        assert!(!should_auto_resume(d("2026-12-22"), d("2026-12-22")));
        assert!(should_auto_resume(d("2026-12-22"), d("2026-12-23")));

        let pickup: Vec<Case<(HoldStatus, &str, Result<(), Reason>)>> = vec![
            ("queued", (HoldStatus::Queued, "barat", Ok(()))),
            ("suspended", (HoldStatus::Suspended, "utara", Ok(()))),
            (
                "waiting",
                (
                    HoldStatus::Waiting,
                    "barat",
                    Err(Reason::PickupChangeRefused),
                ),
            ),
            (
                "in transit",
                (
                    HoldStatus::InTransit,
                    "barat",
                    Err(Reason::PickupChangeRefused),
                ),
            ),
            (
                "unknown",
                (HoldStatus::Queued, "mars", Err(Reason::UnknownBranch)),
            ),
        ];
        for (name, (s, b, want)) in pickup {
            assert_eq!(check_change_pickup(&p, s, b), want, "{name}");
        }
    }

    #[test]
    fn event_registration_table() {
        let cases: Vec<Case<((u32, u32, u32, bool, i64, i64), Result<Seat, Reason>)>> = vec![
            (
                "seat free",
                ((2, 0, 0, false, 100, 50), Ok(Seat::Confirmed)),
            ),
            (
                "last seat",
                ((2, 1, 0, false, 100, 50), Ok(Seat::Confirmed)),
            ),
            ("full", ((2, 2, 0, false, 100, 50), Ok(Seat::Waitlisted(1)))),
            (
                "full with queue",
                ((2, 2, 3, false, 100, 50), Ok(Seat::Waitlisted(4))),
            ),
            (
                "twice",
                ((2, 0, 0, true, 100, 50), Err(Reason::AlreadyRegistered)),
            ),
            (
                "started",
                ((2, 0, 0, false, 100, 100), Err(Reason::EventStarted)),
            ),
        ];
        for (name, ((cap, taken, wl, already, start, now), want)) in cases {
            assert_eq!(
                register_for_event(cap, taken, wl, already, start, now),
                want,
                "{name}"
            );
        }
    }
}
