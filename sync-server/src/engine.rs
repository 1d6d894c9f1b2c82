//! The circulation engine: decides intents, performs the librarian's
//! actions, runs the scheduled jobs and projects SQL facts into documents.
//!
//! The SQL tables are the library's facts; `circ` and `calendar` documents
//! are projections of them, rewritten (minimally) in the same transaction
//! that changed the facts. Every function takes `today`/`now` from its
//! caller; none reads a clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use pustaka_domain::{self as domain, Lang, Millis, Policy, Reason, i18n, rules};
use pustaka_replica::{
    AnsweredDoc, Calendar, Circ, EventDoc, FaqDoc, HistoryDoc, HoldDoc, Intent, IntentKind,
    ItemOutcomeDoc, LoanDoc, OutcomeDoc, PatronDoc, QuestionDoc, RegistrationDoc, SurveyDoc,
    SurveyQuestionDoc, VanStopDoc,
};

use crate::circulation::{BuiltIn, Circulation, Renewal};
use crate::storage::*;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("refused: {0}")]
    Refused(Reason),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Reason> for EngineError {
    fn from(r: Reason) -> Self {
        EngineError::Refused(r)
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// Everything a decision needs from outside: storage, policy, time, and
/// where circulation is decided (`None`: the built-in rules).
pub struct Ctx<'a> {
    pub store: &'a mut dyn Storage,
    pub policy: &'a Policy,
    pub today: NaiveDate,
    pub now: Millis,
    pub circ: Option<&'a mut dyn Circulation>,
    /// What an external library system said when it refused (its screen
    /// message), shown with the `ils_refused` outcome.
    pub remote_note: Option<String>,
}

/// Which documents a change touched and must be re-projected.
#[derive(Debug, Default, Clone)]
pub struct Effects {
    pub patrons: BTreeSet<String>,
    pub calendar: bool,
    /// Outcomes recorded in this transaction, per patron card: the
    /// projection adds them to the outcomes the document already shows
    /// instead of reading every outcome again.
    pub outcomes: BTreeMap<String, Vec<(String, OutcomeDoc)>>,
    /// Patrons whose `circ` starts a new epoch in this transaction.
    pub epochs: BTreeSet<String>,
    /// The shared calendar starts a new epoch in this transaction.
    pub calendar_epoch: bool,
    /// Patrons whose `circ` starts a new epoch whose old document is deleted,
    /// not archived (they asked the library to forget their history).
    pub purges: BTreeSet<String>,
}

pub const CONFIRMED: &str = "confirmed";
pub const WAITLISTED: &str = "waitlisted";

fn texts(key: &str, args_id: &[(&str, &str)], args_en: &[(&str, &str)]) -> (String, String) {
    (
        i18n::message(Lang::Id, key, args_id),
        i18n::message(Lang::En, key, args_en),
    )
}

fn dates(d: NaiveDate) -> (String, String) {
    (
        i18n::format_date(Lang::Id, d),
        i18n::format_date(Lang::En, d),
    )
}

impl<'a> Ctx<'a> {
    /// Runs a circulation operation on the configured [`Circulation`] (the
    /// built-in one when none is set).
    fn via<R>(
        &mut self,
        f: impl FnOnce(&mut dyn Circulation, &mut Self) -> EngineResult<R>,
    ) -> EngineResult<R> {
        match self.circ.take() {
            Some(c) => {
                let r = f(&mut *c, self);
                self.circ = Some(c);
                r
            }
            None => f(&mut BuiltIn, self),
        }
    }

    pub(crate) fn patron(&self, card: &str) -> EngineResult<PatronRow> {
        self.store
            .patron(card)?
            .ok_or_else(|| EngineError::NotFound(format!("patron {card}")))
    }

    pub(crate) fn copy_and_title(&self, barcode: &str) -> EngineResult<(CopyRow, TitleRow)> {
        let copy = self.store.copy(barcode)?.ok_or(Reason::UnknownCopy)?;
        let title = self
            .store
            .title(&copy.title_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("copy {barcode} has no title")))?;
        Ok((copy, title))
    }

    /// Fines owed: charged and unpaid plus what open loans accrue today.
    pub fn patron_facts(&self, p: &PatronRow) -> EngineResult<domain::PatronFacts> {
        let mut accruing = 0;
        for l in self.store.open_loans_of(&p.card)? {
            accruing += rules::fine(self.policy, &self.loan_facts(&l)?, self.today).unwrap_or(0);
        }
        Ok(domain::PatronFacts {
            patron_type: p.patron_type.clone(),
            status: domain::AccountStatus::parse(&p.status)
                .ok_or_else(|| StoreError::Corrupt(format!("patron status `{}`", p.status)))?,
            expires: p.expires,
            fines_owed: p.fines_charged + accruing,
            home_branch: p.home_branch.clone(),
        })
    }

    /// Another patron waits for this title and no copy on the shelf can
    /// fill that hold.
    fn others_waiting(&self, title_id: &str, card: &str) -> EngineResult<bool> {
        let waiting = self
            .store
            .holds_on_title(title_id)?
            .iter()
            .any(|h| h.card != card && h.status == domain::HoldStatus::Queued.code());
        if !waiting {
            return Ok(false);
        }
        let on_shelf = self
            .store
            .copies_of(title_id)?
            .iter()
            .any(|c| c.status == CopyStatus::Available);
        Ok(!on_shelf)
    }

    pub fn loan_facts(&self, l: &LoanRow) -> EngineResult<domain::LoanFacts> {
        let (copy, title) = self.copy_and_title(&l.copy)?;
        Ok(domain::LoanFacts {
            others_waiting: self.others_waiting(&title.id, &l.card)?,
            title_id: title.id,
            item_type: title.item_type,
            collection: title.collection,
            branch: copy.branch,
            due: l.due,
            renewals_used: l.renewals_used,
        })
    }

    /// Patrons whose documents show this title: its holders and borrowers.
    pub(crate) fn touch_title(&self, title_id: &str, fx: &mut Effects) -> EngineResult<()> {
        for h in self.store.holds_on_title(title_id)? {
            fx.patrons.insert(h.card);
        }
        for c in self.store.copies_of(title_id)? {
            if let Some(l) = self.store.open_loan_of_copy(&c.barcode)? {
                fx.patrons.insert(l.card);
            }
        }
        Ok(())
    }

    // ---- intents ------------------------------------------------------

    /// Decides one intent and records its outcome. The caller guarantees the
    /// intent was not processed before (and runs this inside a transaction).
    pub fn decide(
        &mut self,
        card: &str,
        intent: &Intent,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        fx.patrons.insert(card.to_string());
        let kind = intent.kind.code().to_string();
        let result = match &intent.kind {
            IntentKind::Renew { copy, seen_due } => self.renew(card, copy, *seen_due, fx),
            IntentKind::RenewAll => self.renew_all(card, fx),
            IntentKind::PlaceHold { title, branch } => self.place_hold(card, title, branch, fx),
            IntentKind::CancelHold { hold } => self.cancel_hold(card, hold, fx),
            IntentKind::SuspendHold { hold, until } => self.suspend_hold(card, hold, *until, fx),
            IntentKind::ResumeHold { hold } => self.resume_hold(card, hold, fx),
            IntentKind::ChangePickup { hold, branch } => self.change_pickup(card, hold, branch, fx),
            IntentKind::RegisterEvent { event } => self.register(card, event, fx),
            IntentKind::CancelRegistration { event } => self.cancel_registration(card, event, fx),
            IntentKind::SetHistory { keep } => self.set_history(card, *keep, fx),
            IntentKind::AskLibrarian { question, lang } => {
                self.ask_librarian(card, &intent.id.to_string(), question, lang)
            }
            IntentKind::AnswerSurvey { survey, answers } => {
                self.answer_survey(card, survey, answers, fx)
            }
        };
        let mut outcome = match result {
            Ok(o) => o,
            Err(EngineError::Refused(r)) => self.rejection(card, &intent.kind, r)?,
            Err(e) => return Err(e),
        };
        outcome.kind = kind;
        outcome.decided_at = self.now;
        self.record(&intent.id.to_string(), card, &outcome, fx)?;
        Ok(outcome)
    }

    /// Records `rejected: malformed` for an entry that could not be parsed.
    pub fn reject_malformed(
        &mut self,
        card: &str,
        key: &str,
        why: &str,
        fx: &mut Effects,
    ) -> EngineResult<()> {
        fx.patrons.insert(card.to_string());
        let (text_id, text_en) = texts("malformed", &[], &[]);
        let outcome = OutcomeDoc {
            kind: "unknown".into(),
            status: "rejected".into(),
            reason: Some(Reason::Malformed.code().into()),
            text_id,
            text_en: format!("{text_en} ({why})"),
            decided_at: self.now,
            ..Default::default()
        };
        self.record(key, card, &outcome, fx)
    }

    fn record(
        &mut self,
        key: &str,
        card: &str,
        outcome: &OutcomeDoc,
        fx: &mut Effects,
    ) -> EngineResult<()> {
        let json =
            serde_json::to_string(outcome).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store.insert_outcome(key, card, self.now, &json)?;
        fx.outcomes
            .entry(card.to_string())
            .or_default()
            .push((key.to_string(), outcome.clone()));
        Ok(())
    }

    fn rejection(&self, card: &str, kind: &IntentKind, r: Reason) -> EngineResult<OutcomeDoc> {
        let (mut args_id, mut args_en) = (vec![], vec![]);
        let (date_id, date_en);
        let (amount_id, amount_en);
        let note_arg;
        match r {
            Reason::TooSoon => {
                if let IntentKind::Renew { copy, .. } = kind
                    && let Some(l) = self.store.open_loan_of_copy(copy)?
                    && let Some(opens) = rules::renewal_opens(self.policy, &self.loan_facts(&l)?)
                {
                    (date_id, date_en) = dates(opens);
                    args_id.push(("date", date_id.as_str()));
                    args_en.push(("date", date_en.as_str()));
                }
            }
            Reason::IlsRefused => {
                let note = self.remote_note.clone().unwrap_or_default();
                note_arg = note;
                args_id.push(("message", note_arg.as_str()));
                args_en.push(("message", note_arg.as_str()));
            }
            Reason::FinesOverThreshold => {
                let owed = self.patron_facts(&self.patron(card)?)?.fines_owed;
                amount_id = i18n::format_amount(Lang::Id, owed);
                amount_en = i18n::format_amount(Lang::En, owed);
                args_id.push(("amount", amount_id.as_str()));
                args_en.push(("amount", amount_en.as_str()));
            }
            _ => {}
        }
        Ok(OutcomeDoc {
            status: "rejected".into(),
            reason: Some(r.code().into()),
            text_id: i18n::reason_text(Lang::Id, r, &args_id),
            text_en: i18n::reason_text(Lang::En, r, &args_en),
            ..Default::default()
        })
    }

    fn accepted(key: &str, args_id: &[(&str, &str)], args_en: &[(&str, &str)]) -> OutcomeDoc {
        let (text_id, text_en) = texts(key, args_id, args_en);
        OutcomeDoc {
            status: "accepted".into(),
            text_id,
            text_en,
            ..Default::default()
        }
    }

    pub(crate) fn renew_one(
        &mut self,
        card: &str,
        copy: &str,
        seen_due: Option<NaiveDate>,
    ) -> EngineResult<(NaiveDate, bool)> {
        let mut loan = match self.store.open_loan_of_copy(copy)? {
            Some(l) if l.card == card => l,
            _ => return Err(Reason::UnknownLoan.into()),
        };
        if let Some(seen) = seen_due
            && loan.due > seen
        {
            // Renewed since the device looked (by another of the patron's
            // devices): the patron's wish is already fulfilled.
            return Ok((loan.due, false));
        }
        let mut patron = self.patron(card)?;
        let quote = rules::check_renew(
            self.policy,
            &self.patron_facts(&patron)?,
            &self.loan_facts(&loan)?,
            self.today,
        )?;
        loan.due = quote.new_due;
        loan.renewals_used += 1;
        self.store.update_loan(&loan)?;
        if quote.fine_charged > 0 {
            patron.fines_charged += quote.fine_charged;
            self.store.update_patron(&patron)?;
        }
        Ok((quote.new_due, true))
    }

    fn renew(
        &mut self,
        card: &str,
        copy: &str,
        seen_due: Option<NaiveDate>,
        _fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let (due, renewed) = self.via(|c, cx| c.renew(cx, card, copy, seen_due))?;
        let (d_id, d_en) = dates(due);
        let key = if renewed {
            "accepted-renew"
        } else {
            "already-renewed"
        };
        let mut o = Self::accepted(key, &[("due", &d_id)], &[("due", &d_en)]);
        o.due = Some(due.to_string());
        Ok(o)
    }

    fn renew_all(&mut self, card: &str, _fx: &mut Effects) -> EngineResult<OutcomeDoc> {
        let mut items = BTreeMap::new();
        let (mut ok, mut refused) = (0, 0);
        for r in self.via(|c, cx| c.renew_all(cx, card))? {
            let item = match r.result {
                Ok(due) => {
                    ok += 1;
                    ItemOutcomeDoc {
                        status: "accepted".into(),
                        reason: None,
                        due: Some(due.to_string()),
                    }
                }
                Err(reason) => {
                    refused += 1;
                    ItemOutcomeDoc {
                        status: "rejected".into(),
                        reason: Some(reason.code().into()),
                        due: Some(r.old_due.to_string()),
                    }
                }
            };
            items.insert(r.copy, item);
        }
        let (a, b) = (ok.to_string(), refused.to_string());
        let args = [("renewed", a.as_str()), ("refused", b.as_str())];
        let mut o = Self::accepted("accepted-renew-all", &args, &args);
        o.items = items;
        Ok(o)
    }

    /// The built-in renew-all: every open loan through [`Ctx::renew_one`].
    pub(crate) fn renew_each(&mut self, card: &str) -> EngineResult<Vec<Renewal>> {
        let mut out = vec![];
        for l in self.store.open_loans_of(card)? {
            let result = match self.renew_one(card, &l.copy, None) {
                Ok((due, _)) => Ok(due),
                Err(EngineError::Refused(r)) => Err(r),
                Err(e) => return Err(e),
            };
            out.push(Renewal {
                copy: l.copy,
                old_due: l.due,
                result,
            });
        }
        Ok(out)
    }

    /// Queue position among holds not yet filled, 1-based.
    fn queue(&self, title_id: &str) -> EngineResult<Vec<HoldRow>> {
        Ok(self
            .store
            .holds_on_title(title_id)?
            .into_iter()
            .filter(|h| !domain::HoldStatus::parse(&h.status).is_some_and(|s| s.is_captured()))
            .collect())
    }

    fn place_hold(
        &mut self,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let (_, position) = self.via(|c, cx| c.place_hold(cx, card, title_id, branch, fx))?;
        let pos = position.to_string();
        let mut o = Self::accepted(
            "accepted-place-hold",
            &[("position", &pos)],
            &[("position", &pos)],
        );
        o.position = Some(position);
        Ok(o)
    }

    /// The built-in hold: the policy's rules, then the queue. Returns the
    /// new hold's id and its place in the queue.
    pub(crate) fn builtin_place_hold(
        &mut self,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<(String, u32)> {
        let title = self.store.title(title_id)?.ok_or(Reason::UnknownTitle)?;
        let patron = self.patron(card)?;
        let copies = self.store.copies_of(title_id)?;
        let holds = self.store.holds_of(card)?;
        let mut has_loan = false;
        for c in &copies {
            if self
                .store
                .open_loan_of_copy(&c.barcode)?
                .is_some_and(|l| l.card == card)
            {
                has_loan = true;
            }
        }
        let facts = domain::TitleFacts {
            holdable_copies: copies.len() as u32,
            on_shelf: copies
                .iter()
                .filter(|c| c.status == CopyStatus::Available)
                .count() as u32,
            item_type: title.item_type.clone(),
        };
        let counts = domain::HoldCounts {
            holds: holds.len() as u32,
            has_hold_on_title: holds.iter().any(|h| h.title_id == title_id),
            has_loan_on_title: has_loan,
        };
        rules::check_place_hold(
            self.policy,
            &self.patron_facts(&patron)?,
            &facts,
            &counts,
            branch,
            self.today,
        )?;
        self.enqueue_hold(card, title_id, branch, fx)
    }

    /// Records a decided hold at the end of the title's queue: its id and
    /// place in the queue.
    pub(crate) fn enqueue_hold(
        &mut self,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<(String, u32)> {
        let id = format!("H{}", self.store.next_seq("hold")?);
        self.store.insert_hold(&HoldRow {
            id: id.clone(),
            title_id: title_id.into(),
            card: card.into(),
            pickup_branch: branch.into(),
            placed_at: self.now,
            status: domain::HoldStatus::Queued.code().into(),
            suspended_until: None,
            copy: None,
            pickup_by: None,
        })?;
        self.touch_title(title_id, fx)?;
        let position = self
            .queue(title_id)?
            .iter()
            .position(|h| h.id == id)
            .map_or(1, |p| p as u32 + 1);
        Ok((id, position))
    }

    /// Records a decided change of pickup branch.
    pub(crate) fn set_pickup(&mut self, hold: &HoldRow, branch: &str) -> EngineResult<()> {
        let mut h = hold.clone();
        h.pickup_branch = branch.into();
        self.store.update_hold(&h)?;
        Ok(())
    }

    fn own_hold(&self, card: &str, hold: &str) -> EngineResult<HoldRow> {
        match self.store.hold(hold)? {
            Some(h) if h.card == card => Ok(h),
            _ => Err(Reason::UnknownHold.into()),
        }
    }

    fn cancel_hold(
        &mut self,
        card: &str,
        hold: &str,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let h = self.own_hold(card, hold)?;
        self.via(|c, cx| c.cancel_hold(cx, &h, fx))?;
        Ok(Self::accepted("accepted-cancel-hold", &[], &[]))
    }

    /// Removes a hold; a copy caught for it goes to the next patron.
    pub(crate) fn drop_hold(&mut self, h: &HoldRow, fx: &mut Effects) -> EngineResult<()> {
        self.touch_title(&h.title_id, fx)?;
        self.store.delete_hold(&h.id)?;
        if let Some(barcode) = &h.copy
            && let Some(copy) = self.store.copy(barcode)?
        {
            let at = h.pickup_branch.clone();
            self.route_copy(copy, &at, fx)?;
        }
        Ok(())
    }

    fn suspend_hold(
        &mut self,
        card: &str,
        hold: &str,
        until: NaiveDate,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let mut h = self.own_hold(card, hold)?;
        if !self.via(|c, _| Ok(c.suspends_holds()))? {
            return Err(Reason::IlsUnsupported.into());
        }
        let status = domain::HoldStatus::parse(&h.status)
            .ok_or_else(|| StoreError::Corrupt(h.status.clone()))?;
        rules::check_suspend(self.policy, status, until, self.today)?;
        h.status = domain::HoldStatus::Suspended.code().into();
        h.suspended_until = Some(until);
        self.store.update_hold(&h)?;
        self.touch_title(&h.title_id, fx)?;
        let (u_id, u_en) = dates(until);
        Ok(Self::accepted(
            "accepted-suspend-hold",
            &[("until", &u_id)],
            &[("until", &u_en)],
        ))
    }

    fn resume_hold(
        &mut self,
        card: &str,
        hold: &str,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let mut h = self.own_hold(card, hold)?;
        let status = domain::HoldStatus::parse(&h.status)
            .ok_or_else(|| StoreError::Corrupt(h.status.clone()))?;
        rules::check_resume(status)?;
        h.status = domain::HoldStatus::Queued.code().into();
        h.suspended_until = None;
        self.store.update_hold(&h)?;
        self.touch_title(&h.title_id, fx)?;
        Ok(Self::accepted("accepted-resume-hold", &[], &[]))
    }

    fn change_pickup(
        &mut self,
        card: &str,
        hold: &str,
        branch: &str,
        _fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let h = self.own_hold(card, hold)?;
        let status = domain::HoldStatus::parse(&h.status)
            .ok_or_else(|| StoreError::Corrupt(h.status.clone()))?;
        rules::check_change_pickup(self.policy, status, branch)?;
        self.via(|c, cx| c.change_pickup(cx, &h, branch))?;
        Ok(Self::accepted("accepted-change-pickup", &[], &[]))
    }

    fn register(
        &mut self,
        card: &str,
        event_id: &str,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let event = self.store.event(event_id)?.ok_or(Reason::UnknownEvent)?;
        let regs = self.store.registrations_for(event_id)?;
        let taken = regs.iter().filter(|r| r.status == CONFIRMED).count() as u32;
        let waiting = regs.iter().filter(|r| r.status == WAITLISTED).count() as u32;
        let already = regs.iter().any(|r| r.card == card);
        let seat = rules::register_for_event(
            event.capacity,
            taken,
            waiting,
            already,
            event.start,
            self.now,
        )?;
        let seq = self.store.next_seq("registration")?;
        let status = match seat {
            rules::Seat::Confirmed => CONFIRMED,
            rules::Seat::Waitlisted(_) => WAITLISTED,
        };
        self.store.upsert_registration(&RegistrationRow {
            event_id: event_id.into(),
            card: card.into(),
            status: status.into(),
            seq,
        })?;
        fx.calendar = true;
        Ok(match seat {
            rules::Seat::Confirmed => Self::accepted("accepted-register-event", &[], &[]),
            rules::Seat::Waitlisted(pos) => {
                let p = pos.to_string();
                let mut o = Self::accepted(
                    "accepted-register-event-waitlist",
                    &[("position", &p)],
                    &[("position", &p)],
                );
                o.position = Some(pos);
                o
            }
        })
    }

    fn cancel_registration(
        &mut self,
        card: &str,
        event_id: &str,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let regs = self.store.registrations_for(event_id)?;
        let Some(mine) = regs.iter().find(|r| r.card == card) else {
            return Err(Reason::NotRegistered.into());
        };
        self.store.delete_registration(event_id, card)?;
        // The waiting list moves up: everyone on it sees a new position, and
        // a freed seat goes to the earliest waiting registration.
        for r in &regs {
            fx.patrons.insert(r.card.clone());
        }
        if mine.status == CONFIRMED
            && let Some(first) = regs.iter().find(|r| r.status == WAITLISTED)
        {
            let mut promoted = first.clone();
            promoted.status = CONFIRMED.into();
            self.store.upsert_registration(&promoted)?;
        }
        fx.calendar = true;
        Ok(Self::accepted("accepted-cancel-registration", &[], &[]))
    }

    /// The patron's choice about their loan history. Opting out forgets
    /// it: their returned loans become anonymous and their `circ` starts
    /// over in a new document, the old one's bytes deleted (a deleted map
    /// entry would stay readable in the document's history).
    pub(crate) fn set_history(
        &mut self,
        card: &str,
        keep: bool,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let mut p = self.patron(card)?;
        p.keep_history = keep;
        self.store.update_patron(&p)?;
        if keep {
            return Ok(Self::accepted("accepted-keep-history", &[], &[]));
        }
        let forgotten = self.store.anonymize_returned_loans(card)?.to_string();
        fx.purges.insert(card.to_string());
        Ok(Self::accepted(
            "accepted-forget-history",
            &[("count", &forgotten)],
            &[("count", &forgotten)],
        ))
    }

    /// A question for a librarian: kept until one answers it (the answer
    /// lands in the patron's `circ`, and their devices notify them).
    fn ask_librarian(
        &mut self,
        card: &str,
        id: &str,
        question: &str,
        lang: &str,
    ) -> EngineResult<OutcomeDoc> {
        self.store.insert_question(&QuestionRow {
            id: id.to_string(),
            card: card.to_string(),
            asked_at: self.now,
            lang: lang.to_string(),
            question: question.to_string(),
            ..Default::default()
        })?;
        Ok(Self::accepted("accepted-ask-librarian", &[], &[]))
    }

    /// A patron's answers to a survey: the first response counts, a second
    /// (another device, answered offline too) is refused; every answer must
    /// fit its question.
    fn answer_survey(
        &mut self,
        card: &str,
        survey: &str,
        answers: &BTreeMap<String, String>,
        fx: &mut Effects,
    ) -> EngineResult<OutcomeDoc> {
        let s = self.store.survey(survey)?.ok_or(Reason::UnknownSurvey)?;
        if s.closes.is_some_and(|last| self.today > last) {
            return Err(Reason::SurveyClosed.into());
        }
        if self.store.survey_answered(survey, card)?.is_some() {
            return Err(Reason::AlreadyAnswered.into());
        }
        let mut clean = vec![];
        for (qid, value) in answers {
            let q = s
                .questions
                .iter()
                .find(|q| &q.id == qid)
                .ok_or(Reason::InvalidAnswer)?;
            let value = value.trim();
            let fits = match q.kind.as_str() {
                "rating" => value.parse::<u8>().is_ok_and(|v| (1..=5).contains(&v)),
                "choice" => value.parse::<usize>().is_ok_and(|i| i < q.choices_id.len()),
                _ => !value.is_empty(),
            };
            if !fits {
                return Err(Reason::InvalidAnswer.into());
            }
            clean.push((qid.clone(), value.to_string()));
        }
        self.store
            .record_survey_response(survey, card, self.now, &clean)?;
        fx.patrons.insert(card.to_string());
        Ok(Self::accepted("accepted-answer-survey", &[], &[]))
    }

    /// A librarian's answer to a patron's question (a second answer
    /// replaces the first: a correction).
    pub fn answer_question(
        &mut self,
        id: &str,
        answer: &str,
        by: &str,
        fx: &mut Effects,
    ) -> EngineResult<QuestionRow> {
        let mut q = self
            .store
            .question(id)?
            .ok_or_else(|| EngineError::NotFound(format!("no question {id}")))?;
        q.answer = Some(answer.to_string());
        q.answered_at = Some(self.now);
        q.answered_by = Some(by.to_string());
        self.store.update_question(&q)?;
        fx.patrons.insert(q.card.clone());
        Ok(q)
    }

    /// A returned loan keeps its borrower only if they keep a history.
    pub(crate) fn close_loan(&mut self, loan: &mut LoanRow) -> EngineResult<()> {
        loan.returned = Some(self.today);
        if !self.patron(&loan.card)?.keep_history {
            loan.card = String::new();
        }
        self.store.update_loan(loan)?;
        Ok(())
    }

    // ---- the librarian's side -------------------------------------------

    /// A renewal at the desk (the librarian's side of the same rules).
    pub fn desk_renew(
        &mut self,
        card: &str,
        copy: &str,
        fx: &mut Effects,
    ) -> EngineResult<NaiveDate> {
        fx.patrons.insert(card.to_string());
        Ok(self.via(|c, cx| c.renew(cx, card, copy, None))?.0)
    }

    /// Places a hold for a patron at the desk.
    pub fn desk_place_hold(
        &mut self,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<String> {
        fx.patrons.insert(card.to_string());
        self.place_hold(card, title_id, branch, fx)?;
        self.store
            .holds_of(card)?
            .into_iter()
            .find(|h| h.title_id == title_id)
            .map(|h| h.id)
            .ok_or_else(|| EngineError::NotFound("hold just placed".into()))
    }

    pub fn desk_suspend_hold(
        &mut self,
        card: &str,
        hold: &str,
        until: NaiveDate,
        fx: &mut Effects,
    ) -> EngineResult<()> {
        self.suspend_hold(card, hold, until, fx).map(|_| ())
    }

    pub fn desk_register(&mut self, card: &str, event: &str, fx: &mut Effects) -> EngineResult<()> {
        fx.patrons.insert(card.to_string());
        self.register(card, event, fx).map(|_| ())
    }

    /// Checks a copy out to a patron (at the desk).
    pub fn checkout(
        &mut self,
        card: &str,
        barcode: &str,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow> {
        self.via(|c, cx| c.checkout(cx, card, barcode, fx))
    }

    pub(crate) fn builtin_checkout(
        &mut self,
        card: &str,
        barcode: &str,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow> {
        let patron = self.patron(card)?;
        let (copy, title) = self.copy_and_title(barcode)?;
        let reserved_for = match (&copy.status, &copy.hold_id) {
            (CopyStatus::Waiting, Some(h)) => self.store.hold(h)?.map(|h| h.card),
            _ => None,
        };
        let current: Vec<(String, Option<String>)> = self
            .store
            .open_loans_of(card)?
            .iter()
            .map(|l| {
                let (_, t) = self.copy_and_title(&l.copy)?;
                Ok((t.item_type, t.collection))
            })
            .collect::<EngineResult<_>>()?;
        let facts = domain::CopyFacts {
            title_id: title.id.clone(),
            item_type: title.item_type.clone(),
            collection: title.collection.clone(),
            branch: copy.branch.clone(),
            on_loan: copy.status == CopyStatus::OnLoan,
            reserved_for,
        };
        let due = rules::check_checkout(
            self.policy,
            &self.patron_facts(&patron)?,
            &facts,
            card,
            &current,
            self.today,
        )?;
        self.record_loan(card, copy, &title.id, due, fx)
    }

    /// Records a decided checkout: the copy goes out to `card` until `due`,
    /// and the patron's hold on the title, if any, is fulfilled.
    pub(crate) fn record_loan(
        &mut self,
        card: &str,
        mut copy: CopyRow,
        title_id: &str,
        due: NaiveDate,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow> {
        if let Some(h) = self
            .store
            .holds_of(card)?
            .into_iter()
            .find(|h| h.title_id == title_id)
        {
            self.store.delete_hold(&h.id)?;
        }
        copy.status = CopyStatus::OnLoan;
        copy.hold_id = None;
        self.store.upsert_copy(&copy)?;
        let loan = LoanRow {
            id: format!("L{}", self.store.next_seq("loan")?),
            copy: copy.barcode.clone(),
            card: card.into(),
            checked_out: self.today,
            due,
            renewals_used: 0,
            returned: None,
        };
        self.store.insert_loan(&loan)?;
        fx.patrons.insert(card.into());
        self.touch_title(title_id, fx)?;
        Ok(loan)
    }

    /// Checks a copy in at `branch`: closes the loan (charging its fine) and
    /// routes the copy to the first hold in the queue or back to the shelf.
    pub fn checkin(
        &mut self,
        barcode: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        self.policy.branch(branch).ok_or(Reason::UnknownBranch)?;
        self.via(|c, cx| c.checkin(cx, barcode, branch, fx))
    }

    pub(crate) fn builtin_checkin(
        &mut self,
        barcode: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        let (copy, title) = self.copy_and_title(barcode)?;
        if let Some(mut loan) = self.store.open_loan_of_copy(barcode)? {
            let fine = rules::fine(self.policy, &self.loan_facts(&loan)?, self.today)?;
            let card = loan.card.clone();
            if fine > 0 {
                let mut p = self.patron(&card)?;
                p.fines_charged += fine;
                self.store.update_patron(&p)?;
            }
            self.close_loan(&mut loan)?;
            fx.patrons.insert(card);
        }
        self.touch_title(&title.id, fx)?;
        // A copy in transit for a hold arrives when checked in at its pickup branch.
        if copy.status == CopyStatus::InTransit
            && let Some(hid) = &copy.hold_id
            && let Some(h) = self.store.hold(hid)?
        {
            if h.pickup_branch == branch {
                return self.make_waiting(copy, h, fx);
            }
            return Ok(copy);
        }
        if copy.status == CopyStatus::Waiting {
            return Ok(copy);
        }
        self.route_copy(copy, branch, fx)
    }

    fn make_waiting(
        &mut self,
        mut copy: CopyRow,
        mut h: HoldRow,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        let pickup = self
            .policy
            .branch(&h.pickup_branch)
            .ok_or(Reason::UnknownBranch)?;
        h.status = domain::HoldStatus::Waiting.code().into();
        h.copy = Some(copy.barcode.clone());
        h.pickup_by = Some(rules::pickup_by(self.policy, pickup, self.today));
        self.store.update_hold(&h)?;
        copy.status = CopyStatus::Waiting;
        copy.hold_id = Some(h.id.clone());
        self.store.upsert_copy(&copy)?;
        fx.patrons.insert(h.card);
        Ok(copy)
    }

    /// Gives a free copy to the first queued (not suspended) hold, or shelves it.
    pub(crate) fn route_copy(
        &mut self,
        mut copy: CopyRow,
        at_branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        let next = self
            .store
            .holds_on_title(&copy.title_id)?
            .into_iter()
            .find(|h| h.status == domain::HoldStatus::Queued.code());
        match next {
            Some(h) if h.pickup_branch == at_branch => self.make_waiting(copy, h, fx),
            Some(mut h) => {
                h.status = domain::HoldStatus::InTransit.code().into();
                h.copy = Some(copy.barcode.clone());
                self.store.update_hold(&h)?;
                copy.status = CopyStatus::InTransit;
                copy.hold_id = Some(h.id.clone());
                self.store.upsert_copy(&copy)?;
                fx.patrons.insert(h.card);
                Ok(copy)
            }
            None => {
                copy.status = CopyStatus::Available;
                copy.hold_id = None;
                self.store.upsert_copy(&copy)?;
                Ok(copy)
            }
        }
    }

    /// The daily jobs: suspended holds resume, ready holds past their
    /// pickup date expire (the copy passes on), overdue loans' fines move.
    pub fn run_jobs(&mut self, fx: &mut Effects) -> EngineResult<JobReport> {
        let mut report = JobReport::default();
        for mut h in self
            .store
            .holds_with_status(domain::HoldStatus::Suspended.code())?
        {
            if h.suspended_until
                .is_none_or(|u| rules::should_auto_resume(u, self.today))
            {
                h.status = domain::HoldStatus::Queued.code().into();
                h.suspended_until = None;
                self.store.update_hold(&h)?;
                self.touch_title(&h.title_id, fx)?;
                report.resumed += 1;
            }
        }
        for h in self
            .store
            .holds_with_status(domain::HoldStatus::Waiting.code())?
        {
            if h.pickup_by
                .is_some_and(|d| rules::pickup_expired(d, self.today))
            {
                fx.patrons.insert(h.card.clone());
                self.drop_hold(&h, fx)?;
                report.expired += 1;
            }
        }
        for card in self.store.cards_with_loans_due_before(self.today)? {
            fx.patrons.insert(card);
            report.overdue_patrons += 1;
        }
        Ok(report)
    }

    // ---- projections --------------------------------------------------

    /// The patron's `circ` from the facts. `shown` is what the document
    /// holds now, if known: its outcomes (immutable once written) plus
    /// `recorded` are used instead of reading every outcome from storage.
    pub fn project_circ(
        &self,
        card: &str,
        shown: Option<&Circ>,
        recorded: &[(String, OutcomeDoc)],
    ) -> EngineResult<Circ> {
        let p = self.patron(card)?;
        let facts = self.patron_facts(&p)?;
        let mut circ = Circ {
            patron: PatronDoc {
                card: p.card.clone(),
                name: p.name.clone(),
                patron_type: p.patron_type.clone(),
                status: p.status.clone(),
                expires: p.expires.to_string(),
                home_branch: p.home_branch.clone(),
                fines_owed: facts.fines_owed,
                keep_history: Some(p.keep_history),
            },
            ..Default::default()
        };
        for l in self.store.open_loans_of(card)? {
            let (_, title) = self.copy_and_title(&l.copy)?;
            let lf = self.loan_facts(&l)?;
            circ.loans.insert(
                l.copy.clone(),
                LoanDoc {
                    title_id: title.id.clone(),
                    title: title.title.clone(),
                    author: title.author.clone(),
                    item_type: title.item_type.clone(),
                    collection: title.collection.clone(),
                    branch: lf.branch.clone(),
                    checked_out: l.checked_out.to_string(),
                    due: l.due.to_string(),
                    renewals_used: l.renewals_used,
                    renewals_allowed: rules::max_renewals(
                        self.policy,
                        &p.patron_type,
                        &title.item_type,
                        title.collection.as_deref(),
                    )
                    .unwrap_or(0),
                    others_waiting: lf.others_waiting,
                    fine: rules::fine(self.policy, &lf, self.today).unwrap_or(0),
                },
            );
        }
        for h in self.store.holds_of(card)? {
            let title = self
                .store
                .title(&h.title_id)?
                .ok_or_else(|| StoreError::Corrupt(format!("hold {} has no title", h.id)))?;
            let queue = self.queue(&h.title_id)?;
            let position = queue
                .iter()
                .position(|q| q.id == h.id)
                .map_or(0, |i| i as u32 + 1);
            let copies = self.store.copies_of(&h.title_id)?.len() as u32;
            let days = rules::loan_days(
                self.policy,
                &p.patron_type,
                &title.item_type,
                title.collection.as_deref(),
            )
            .unwrap_or(0);
            circ.holds.insert(
                h.id.clone(),
                HoldDoc {
                    title_id: title.id.clone(),
                    title: title.title.clone(),
                    author: title.author.clone(),
                    status: h.status.clone(),
                    position,
                    queue_len: queue.len() as u32,
                    copies,
                    pickup_branch: h.pickup_branch.clone(),
                    pickup_by: h.pickup_by.map(|d| d.to_string()),
                    suspended_until: h.suspended_until.map(|d| d.to_string()),
                    placed_at: h.placed_at,
                    estimated_wait_days: rules::estimated_wait_days(position, copies, days),
                },
            );
        }
        for r in self.store.registrations_of(card)? {
            let position = if r.status == WAITLISTED {
                let regs = self.store.registrations_for(&r.event_id)?;
                regs.iter()
                    .filter(|x| x.status == WAITLISTED)
                    .position(|x| x.card == card)
                    .map_or(0, |i| i as u32 + 1)
            } else {
                0
            };
            circ.registrations.insert(
                r.event_id.clone(),
                RegistrationDoc {
                    status: r.status.clone(),
                    position,
                },
            );
        }
        match shown {
            Some(c) => {
                circ.outcomes = c.outcomes.clone();
                circ.outcomes.extend(recorded.iter().cloned());
            }
            None => {
                for (id, json) in self.store.outcomes_of(card)? {
                    let o: OutcomeDoc = serde_json::from_str(&json)
                        .map_err(|e| StoreError::Corrupt(format!("outcome {id}: {e}")))?;
                    circ.outcomes.insert(id, o);
                }
            }
        }
        let kept = if p.keep_history {
            self.store.returned_loans_of(card, 50)?
        } else {
            vec![]
        };
        for q in self.store.questions_of(card)? {
            circ.questions.insert(
                q.id,
                QuestionDoc {
                    question: q.question,
                    lang: q.lang,
                    asked_at: q.asked_at,
                    answer: q.answer,
                    answered_at: q.answered_at,
                },
            );
        }
        for (survey, answered_at) in self.store.surveys_answered_by(card)? {
            circ.surveys.insert(survey, AnsweredDoc { answered_at });
        }
        for l in kept {
            let (_, title) = self.copy_and_title(&l.copy)?;
            circ.history.insert(
                l.id.clone(),
                HistoryDoc {
                    title_id: title.id,
                    title: title.title,
                    checked_out: l.checked_out.to_string(),
                    returned: l.returned.map(|d| d.to_string()).unwrap_or_default(),
                },
            );
        }
        Ok(circ)
    }

    pub fn project_calendar(&self, policy_text: &str) -> EngineResult<Calendar> {
        let mut cal = Calendar {
            library: self.policy.library.name.clone(),
            policy: policy_text.to_string(),
            ..Default::default()
        };
        for e in self.store.events()? {
            let regs = self.store.registrations_for(&e.id)?;
            cal.events.insert(
                e.id.clone(),
                EventDoc {
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
                    seats_taken: regs.iter().filter(|r| r.status == CONFIRMED).count() as u32,
                    waitlist: regs.iter().filter(|r| r.status == WAITLISTED).count() as u32,
                    audience: e.audience,
                    accessibility: e.accessibility,
                },
            );
        }
        for v in self.store.van_stops()? {
            cal.van_stops.insert(
                v.id.clone(),
                VanStopDoc {
                    place: v.place,
                    weekday: v.weekday,
                    start_time: v.start_time,
                    end_time: v.end_time,
                    from: v.from.to_string(),
                    until: v.until.to_string(),
                },
            );
        }
        for v in self.store.surveys()? {
            cal.surveys.insert(
                v.id,
                SurveyDoc {
                    title_id: v.title_id,
                    title_en: v.title_en,
                    closes: v.closes.map(|d| d.to_string()),
                    questions: v
                        .questions
                        .into_iter()
                        .map(|q| SurveyQuestionDoc {
                            id: q.id,
                            kind: q.kind,
                            text_id: q.text_id,
                            text_en: q.text_en,
                            choices_id: q.choices_id,
                            choices_en: q.choices_en,
                        })
                        .collect(),
                },
            );
        }
        for f in self.store.faq_entries()? {
            cal.faq.insert(
                f.id,
                FaqDoc {
                    topic: f.topic,
                    question_id: f.question_id,
                    answer_id: f.answer_id,
                    question_en: f.question_en,
                    answer_en: f.answer_en,
                    also_id: f.also_id,
                    also_en: f.also_en,
                },
            );
        }
        Ok(cal)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobReport {
    pub resumed: u32,
    pub expired: u32,
    pub overdue_patrons: u32,
}
