//! The read model and the local pre-checks, computed from the replica alone.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use pustaka_domain::{HoldCounts, HoldStatus, Millis, Policy, Reason, TitleFacts, rules};
pub use pustaka_ipc::views::*;
use pustaka_replica::{Calendar, Circ, EventDoc, HoldDoc, Intent, IntentKind, LoanDoc, OutcomeDoc};

use pustaka_replica::ReplicaError;

/// The library's rules applied to this patron's replica, for pre-checks.
pub struct Rules {
    pub policy: Policy,
    pub circ: Circ,
    pub events: std::collections::BTreeMap<String, EventDoc>,
    pub today: NaiveDate,
    pub now: Millis,
}

impl Rules {
    pub fn new(circ: Circ, calendar: &Calendar, policy: Policy, now: Millis) -> Rules {
        let today = local_day(now, policy.library.utc_offset_minutes);
        Rules {
            policy,
            circ,
            events: calendar.events.clone(),
            today,
            now,
        }
    }

    fn loan(&self, copy: &str) -> Result<&LoanDoc, Reason> {
        self.circ.loans.get(copy).ok_or(Reason::UnknownLoan)
    }

    fn hold(&self, id: &str) -> Result<(&HoldDoc, HoldStatus), Reason> {
        let h = self.circ.holds.get(id).ok_or(Reason::UnknownHold)?;
        Ok((h, h.hold_status().map_err(|_| Reason::Malformed)?))
    }

    pub fn renew(&self, copy: &str) -> Result<rules::RenewQuote, Reason> {
        let loan = self.loan(copy)?;
        let patron = self.circ.patron_facts().map_err(|_| Reason::Malformed)?;
        rules::check_renew(
            &self.policy,
            &patron,
            &loan.facts().map_err(|_| Reason::Malformed)?,
            self.today,
        )
    }

    /// The same question the server will ask, answered from the replica.
    pub fn check(&self, kind: &IntentKind) -> Result<(), Reason> {
        let patron = self.circ.patron_facts().map_err(|_| Reason::Malformed)?;
        match kind {
            IntentKind::Renew { copy, .. } => self.renew(copy).map(|_| ()),
            IntentKind::RenewAll => rules::check_account(&self.policy, &patron, self.today),
            IntentKind::PlaceHold { title, branch } => {
                let counts = HoldCounts {
                    holds: self.circ.holds.len() as u32,
                    has_hold_on_title: self.circ.holds.values().any(|h| &h.title_id == title),
                    has_loan_on_title: self.circ.loans.values().any(|l| &l.title_id == title),
                };
                // Copies are the server's to count; assume the title exists.
                let facts = TitleFacts {
                    holdable_copies: 1,
                    on_shelf: 0,
                    item_type: String::new(),
                };
                rules::check_place_hold(&self.policy, &patron, &facts, &counts, branch, self.today)
            }
            IntentKind::CancelHold { hold } => self.hold(hold).map(|_| ()),
            IntentKind::SuspendHold { hold, until } => {
                let (_, status) = self.hold(hold)?;
                rules::check_suspend(&self.policy, status, *until, self.today)
            }
            IntentKind::ResumeHold { hold } => rules::check_resume(self.hold(hold)?.1),
            IntentKind::ChangePickup { hold, branch } => {
                rules::check_change_pickup(&self.policy, self.hold(hold)?.1, branch)
            }
            IntentKind::RegisterEvent { event } => {
                let e = self.events.get(event).ok_or(Reason::UnknownEvent)?;
                let already = self.circ.registrations.contains_key(event);
                rules::register_for_event(
                    e.capacity,
                    e.seats_taken,
                    e.waitlist,
                    already,
                    e.start,
                    self.now,
                )
                .map(|_| ())
            }
            IntentKind::CancelRegistration { event } => {
                if self.circ.registrations.contains_key(event) {
                    Ok(())
                } else {
                    Err(Reason::NotRegistered)
                }
            }
            // Always the patron's to choose (or to ask).
            IntentKind::SetHistory { .. } | IntentKind::AskLibrarian { .. } => Ok(()),
            // The library checks the answers; a survey is answered once.
            IntentKind::AnswerSurvey { survey, .. } => {
                if self.circ.surveys.contains_key(survey) {
                    Err(Reason::AlreadyAnswered)
                } else {
                    Ok(())
                }
            }
        }
    }
}

pub fn local_day(now: Millis, offset_minutes: i32) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(now + i64::from(offset_minutes) * 60_000)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

fn day(s: &str) -> Option<NaiveDate> {
    s.parse().ok()
}

/// Everything the account screens show. `intents` are the patron's own
/// requests (key, parsed or why not); `received` those the library has.
pub fn build(
    circ: &Circ,
    calendar: &Calendar,
    policy: Policy,
    intents: &[(String, Result<Intent, String>)],
    received: &BTreeSet<String>,
    now: Millis,
) -> Result<AccountView, ReplicaError> {
    let rules = Rules::new(circ.clone(), calendar, policy, now);
    let today = rules.today;
    let patron = circ.patron_facts()?;
    let pending: Vec<PendingView> = intents
        .iter()
        .filter(|(k, _)| !circ.outcomes.contains_key(k))
        .map(|(k, i)| PendingView {
            id: k.clone(),
            kind: i
                .as_ref()
                .map(|i| i.kind.code().to_string())
                .unwrap_or_else(|_| "malformed".into()),
            created_at: i.as_ref().map(|i| i.created_at).unwrap_or(0),
            state: if received.contains(k) {
                PendingState::ReceivedByLibrary
            } else {
                PendingState::WaitingToSend
            },
        })
        .collect();
    let pending_renewals: BTreeSet<String> = intents
        .iter()
        .filter(|(k, _)| !circ.outcomes.contains_key(k))
        .filter_map(|(_, i)| match i {
            Ok(Intent {
                kind: IntentKind::Renew { copy, .. },
                ..
            }) => Some(copy.clone()),
            _ => None,
        })
        .collect();
    let renew_all_pending = intents.iter().any(|(k, i)| {
        !circ.outcomes.contains_key(k)
            && matches!(
                i,
                Ok(Intent {
                    kind: IntentKind::RenewAll,
                    ..
                })
            )
    });

    let mut loans: Vec<LoanView> = circ
        .loans
        .iter()
        .map(|(copy, l)| {
            let due = day(&l.due).unwrap_or(today);
            let quote = rules.renew(copy);
            LoanView {
                copy: copy.clone(),
                title_id: l.title_id.clone(),
                title: l.title.clone(),
                author: l.author.clone(),
                branch: l.branch.clone(),
                due,
                days_left: (due - today).num_days(),
                overdue: due < today,
                renewals_used: l.renewals_used,
                renewals_left: l.renewals_allowed.saturating_sub(l.renewals_used),
                fine: l.fine,
                renew_blocked: quote.as_ref().err().map(|r| r.code().to_string()),
                renew_preview: quote.as_ref().ok().map(|q| q.new_due),
                pending_renewal: renew_all_pending || pending_renewals.contains(copy),
            }
        })
        .collect();
    loans.sort_by(|a, b| a.due.cmp(&b.due).then(a.copy.cmp(&b.copy)));

    let holds = circ
        .holds
        .iter()
        .map(|(id, h)| HoldView {
            id: id.clone(),
            title_id: h.title_id.clone(),
            title: h.title.clone(),
            status: h.status.clone(),
            position: h.position,
            queue_len: h.queue_len,
            copies: h.copies,
            estimated_wait_days: h.estimated_wait_days,
            pickup_branch: h.pickup_branch.clone(),
            pickup_by: h.pickup_by.as_deref().and_then(day),
            suspended_until: h.suspended_until.as_deref().and_then(day),
            captured: h.hold_status().is_ok_and(|s| s.is_captured()),
        })
        .collect();

    let events = events(circ, calendar, now);

    let mut outcomes: Vec<OutcomeView> = circ
        .outcomes
        .iter()
        .map(|(id, o)| outcome_view(id, o))
        .collect();
    outcomes.sort_by_key(|o| std::cmp::Reverse(o.decided_at));

    let mut history: Vec<HistoryView> = circ
        .history
        .values()
        .filter_map(|h| {
            Some(HistoryView {
                title_id: h.title_id.clone(),
                title: h.title.clone(),
                checked_out: day(&h.checked_out)?,
                returned: day(&h.returned)?,
            })
        })
        .collect();
    history.sort_by(|a, b| b.returned.cmp(&a.returned).then(a.title.cmp(&b.title)));

    Ok(AccountView {
        library: rules.policy.library.name.clone(),
        card: circ.patron.card.clone(),
        name: circ.patron.name.clone(),
        today,
        fines_owed: patron.fines_owed,
        account_blocked: rules::check_account(&rules.policy, &patron, today)
            .err()
            .map(|r| r.code().to_string()),
        loans,
        holds,
        events,
        pending,
        outcomes,
        history,
        keep_history: circ.patron.keep_history.unwrap_or(false),
        surveys: surveys(circ, calendar, intents, today),
        questions: {
            let mut q: Vec<pustaka_ipc::QuestionView> = circ
                .questions
                .iter()
                .map(|(id, q)| pustaka_ipc::QuestionView {
                    id: id.clone(),
                    question: q.question.clone(),
                    asked_at: q.asked_at,
                    answer: q.answer.clone(),
                    answered_at: q.answered_at,
                })
                .collect();
            q.sort_by(|a, b| b.asked_at.cmp(&a.asked_at).then(a.id.cmp(&b.id)));
            q
        },
        branches: branches(&rules.policy),
        utc_offset_minutes: rules.policy.library.utc_offset_minutes,
    })
}

/// What the library shows anyone, signed in or not (the website before
/// sign-in): its events, surveys and branches, and no patron.
pub fn public(calendar: &Calendar, policy: &Policy, now: Millis) -> AccountView {
    let nobody = Circ::default();
    let today = local_day(now, policy.library.utc_offset_minutes);
    AccountView {
        library: policy.library.name.clone(),
        card: String::new(),
        name: String::new(),
        today,
        fines_owed: 0,
        account_blocked: None,
        loans: vec![],
        holds: vec![],
        events: events(&nobody, calendar, now),
        pending: vec![],
        outcomes: vec![],
        history: vec![],
        keep_history: false,
        questions: vec![],
        surveys: surveys(&nobody, calendar, &[], today),
        branches: branches(policy),
        utc_offset_minutes: policy.library.utc_offset_minutes,
    }
}

/// Events not yet over, soonest first, with the patron's registration.
fn events(circ: &Circ, calendar: &Calendar, now: Millis) -> Vec<EventView> {
    let mut events: Vec<EventView> = calendar
        .events
        .iter()
        .filter(|(_, e)| e.end >= now)
        .map(|(id, e)| {
            let reg = circ.registrations.get(id);
            EventView {
                id: id.clone(),
                title_id: e.title_id.clone(),
                title_en: e.title_en.clone(),
                category: e.category.clone(),
                branch: e.branch.clone(),
                place: e.place.clone(),
                start: e.start,
                end: e.end,
                capacity: e.capacity,
                seats_left: e.capacity.saturating_sub(e.seats_taken),
                waitlist: e.waitlist,
                registration: reg.map(|r| r.status.clone()),
                waitlist_position: reg.filter(|r| r.position > 0).map(|r| r.position),
                accessibility: e.accessibility.clone(),
            }
        })
        .collect();
    events.sort_by(|a, b| a.start.cmp(&b.start).then(a.id.cmp(&b.id)));
    events
}

/// The library's surveys, and whether the patron answered (or is answering) each.
fn surveys(
    circ: &Circ,
    calendar: &Calendar,
    intents: &[(String, Result<Intent, String>)],
    today: NaiveDate,
) -> Vec<pustaka_ipc::SurveyView> {
    calendar
            .surveys
            .iter()
            .map(|(id, v)| {
                let closes = v.closes.as_deref().and_then(day);
                pustaka_ipc::SurveyView {
                    id: id.clone(),
                    title_id: v.title_id.clone(),
                    title_en: v.title_en.clone(),
                    closes,
                    open: closes.is_none_or(|c| c >= today),
                    answered: circ.surveys.contains_key(id),
                    pending: intents.iter().any(|(k, i)| {
                        !circ.outcomes.contains_key(k)
                            && matches!(i, Ok(Intent { kind: IntentKind::AnswerSurvey { survey, .. }, .. }) if survey == id)
                    }),
                    questions: v
                        .questions
                        .iter()
                        .map(|q| pustaka_ipc::SurveyQuestionView {
                            id: q.id.clone(),
                            kind: q.kind.clone(),
                            text_id: q.text_id.clone(),
                            text_en: q.text_en.clone(),
                            choices_id: q.choices_id.clone(),
                            choices_en: q.choices_en.clone(),
                        })
                        .collect(),
                }
            })
            .collect()
}

fn branches(policy: &Policy) -> Vec<BranchInfo> {
    policy
        .branches
        .iter()
        .map(|b| BranchInfo {
            id: b.id.clone(),
            name: b.name.clone(),
            kind: match b.kind {
                pustaka_domain::policy::BranchKind::BookVan => "book_van".into(),
                _ => "branch".into(),
            },
            pickup: b.pickup_location,
            accessibility_id: b.accessibility_id.clone(),
            accessibility_en: b.accessibility_en.clone(),
        })
        .collect()
}

fn outcome_view(id: &str, o: &OutcomeDoc) -> OutcomeView {
    OutcomeView {
        intent_id: id.to_string(),
        kind: o.kind.clone(),
        accepted: o.status == "accepted",
        reason: o.reason.clone(),
        text_id: o.text_id.clone(),
        text_en: o.text_en.clone(),
        due: o.due.clone(),
        position: o.position,
        decided_at: o.decided_at,
        items: o
            .items
            .iter()
            .map(|(k, v)| (k.clone(), v.status == "accepted", v.reason.clone()))
            .collect(),
    }
}
