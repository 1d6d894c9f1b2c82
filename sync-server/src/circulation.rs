//! Where circulation is decided: behind [`Circulation`], with two
//! implementations.
//!
//! - [`BuiltIn`]: this server is the library's system; the policy's rules
//!   decide (`Ctx::renew_one`, `builtin_place_hold`, …).
//! - [`Sip2Circulation`]: an existing library system (Koha, Evergreen, SLiMS
//!   with a SIP2 server…) decides over SIP2, and this server *mirrors* each
//!   decision into its own tables, so the patron's `circ` document is
//!   projected exactly as with the built-in engine: a renewal accepted by the
//!   library system shows the due date *it* gave.
//!
//! The engine calls these inside the transaction that records the intent's
//! outcome. A library system that cannot be reached refuses the intent with
//! `ils_unavailable` (nothing changed; the patron may ask again) instead of
//! failing the whole sync. Events, suspension of holds and everything SIP2
//! does not speak stay with the built-in rules or are refused with
//! `ils_unsupported`.

use chrono::{NaiveDate, NaiveDateTime};
use pustaka_domain::Reason;
use pustaka_sip2::{
    CirculationStatus, Client, ClientOptions, HoldMode, HoldTarget, LoginCredentials, Sip2Error,
    Summary,
};

use crate::engine::{Ctx, Effects, EngineError, EngineResult};
use crate::storage::{CopyRow, CopyStatus, HoldRow, LoanRow};

/// One loan's answer within "renew all".
#[derive(Debug, Clone, PartialEq)]
pub struct Renewal {
    pub copy: String,
    pub old_due: NaiveDate,
    pub result: Result<NaiveDate, Reason>,
}

/// The circulation engine: the operations whose decision belongs to the
/// library's system of record. Each returns what the engine needs to write
/// the outcome; the facts are in this server's tables afterwards.
pub trait Circulation: Send {
    /// For logs and `/healthz`-style reports.
    fn name(&self) -> &'static str;
    /// Renews one loan: the new due date, and whether this call renewed it
    /// (`false`: it already had been, since `seen_due`).
    fn renew(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        copy: &str,
        seen_due: Option<NaiveDate>,
    ) -> EngineResult<(NaiveDate, bool)>;
    /// Renews every loan of the patron, each with its own answer.
    fn renew_all(&mut self, cx: &mut Ctx<'_>, card: &str) -> EngineResult<Vec<Renewal>>;
    /// Places a hold: its id and place in the queue.
    fn place_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<(String, u32)>;
    fn cancel_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        hold: &HoldRow,
        fx: &mut Effects,
    ) -> EngineResult<()>;
    fn change_pickup(&mut self, cx: &mut Ctx<'_>, hold: &HoldRow, branch: &str)
    -> EngineResult<()>;
    /// Whether holds can be suspended (SIP2 has no message for it).
    fn suspends_holds(&self) -> bool;
    fn checkout(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        barcode: &str,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow>;
    fn checkin(
        &mut self,
        cx: &mut Ctx<'_>,
        barcode: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow>;
}

/// This server decides, by the policy's rules.
#[derive(Debug, Default, Clone, Copy)]
pub struct BuiltIn;

impl Circulation for BuiltIn {
    fn name(&self) -> &'static str {
        "built-in"
    }

    fn renew(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        copy: &str,
        seen_due: Option<NaiveDate>,
    ) -> EngineResult<(NaiveDate, bool)> {
        cx.renew_one(card, copy, seen_due)
    }

    fn renew_all(&mut self, cx: &mut Ctx<'_>, card: &str) -> EngineResult<Vec<Renewal>> {
        cx.renew_each(card)
    }

    fn place_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<(String, u32)> {
        cx.builtin_place_hold(card, title_id, branch, fx)
    }

    fn cancel_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        hold: &HoldRow,
        fx: &mut Effects,
    ) -> EngineResult<()> {
        cx.drop_hold(hold, fx)
    }

    fn change_pickup(
        &mut self,
        cx: &mut Ctx<'_>,
        hold: &HoldRow,
        branch: &str,
    ) -> EngineResult<()> {
        cx.set_pickup(hold, branch)
    }

    fn suspends_holds(&self) -> bool {
        true
    }

    fn checkout(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        barcode: &str,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow> {
        cx.builtin_checkout(card, barcode, fx)
    }

    fn checkin(
        &mut self,
        cx: &mut Ctx<'_>,
        barcode: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        cx.builtin_checkin(barcode, branch, fx)
    }
}

/// How to reach the library system's SIP2 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sip2Config {
    /// `host:port`.
    pub addr: String,
    /// The SC's login (93), if the ACS wants one.
    pub login: Option<LoginCredentials>,
    /// `AO`, the institution id.
    pub institution: String,
    pub terminal_password: Option<String>,
    pub timeout: std::time::Duration,
}

/// An existing library system decides, over SIP2; this server mirrors.
///
/// Patrons are identified by card number (`AA`) without their PIN (`AD`):
/// this server checked the PIN at sign-in, and the SIP2 account it logs in
/// with vouches for them, as self-check machines do. Titles and copies are
/// identified by this server's ids, which are the library system's when the
/// catalogue was imported from it.
pub struct Sip2Circulation {
    config: Sip2Config,
    client: Option<Client>,
}

impl Sip2Circulation {
    pub fn new(config: Sip2Config) -> Sip2Circulation {
        Sip2Circulation {
            config,
            client: None,
        }
    }

    /// Connects (and logs in) when there is no usable connection. A
    /// failure is the intent's refusal `ils_unavailable`.
    fn client(&mut self) -> EngineResult<&mut Client> {
        if self.client.is_none() {
            let opts = ClientOptions {
                login: self.config.login.clone(),
                institution: self.config.institution.clone(),
                terminal_password: self.config.terminal_password.clone(),
                error_detection: true,
                timeout: self.config.timeout,
            };
            match Client::connect(&self.config.addr, opts) {
                Ok(c) => self.client = Some(c),
                Err(e) => {
                    tracing::warn!("SIP2 {}: cannot connect: {e}", self.config.addr);
                    return Err(Reason::IlsUnavailable.into());
                }
            }
        }
        self.client
            .as_mut()
            .ok_or(EngineError::Refused(Reason::IlsUnavailable))
    }

    /// One exchange; a broken connection is dropped and tried once more on
    /// a new one (a request refused by the ACS is an answer, not an error).
    fn exchange<R>(
        &mut self,
        what: &str,
        mut f: impl FnMut(&mut Client) -> Result<R, Sip2Error>,
    ) -> EngineResult<R> {
        for attempt in 0..2 {
            let client = self.client()?;
            match f(client) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    tracing::warn!(
                        "SIP2 {} {what} (attempt {}): {e}",
                        self.config.addr,
                        attempt + 1
                    );
                    self.client = None;
                }
            }
        }
        Err(Reason::IlsUnavailable.into())
    }
}

impl Sip2Circulation {
    /// A hold request (15) on a title; a refusal is the intent's
    /// `ils_refused`.
    fn hold(
        &mut self,
        cx: &mut Ctx<'_>,
        mode: HoldMode,
        card: &str,
        title_id: &str,
        pickup: Option<&str>,
    ) -> EngineResult<pustaka_sip2::HoldResponse> {
        let now = local_now(cx);
        let r = self.exchange("hold", |c| {
            c.hold(
                mode,
                card,
                None,
                HoldTarget::Title(title_id),
                pickup,
                None,
                now,
            )
        })?;
        if !r.ok {
            return Err(refused(cx, &r.screen_messages, "hold request refused"));
        }
        Ok(r)
    }
}

/// The transaction time SIP2 wants: the library's local time.
fn local_now(cx: &Ctx<'_>) -> NaiveDateTime {
    let offset = i64::from(cx.policy.library.utc_offset_minutes) * 60_000;
    chrono::DateTime::from_timestamp_millis(cx.now + offset)
        .map(|t| t.naive_utc())
        .unwrap_or_default()
}

/// A refusal from the library system, with its screen message kept for the
/// outcome text.
fn refused(cx: &mut Ctx<'_>, messages: &[String], fallback: &str) -> EngineError {
    let text = messages
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    cx.remote_note = Some(if text.is_empty() {
        fallback.to_string()
    } else {
        text.chars().take(200).collect()
    });
    Reason::IlsRefused.into()
}

fn due_of(raw: Option<&str>, what: &str) -> EngineResult<NaiveDate> {
    raw.and_then(pustaka_sip2::parse_date).ok_or_else(|| {
        EngineError::Invalid(format!(
            "the library system's {what} has no readable due date ({raw:?})"
        ))
    })
}

/// Mirrors a due date the library system gave into the loan row.
fn mirror_renewal(cx: &mut Ctx<'_>, card: &str, copy: &str, due: NaiveDate) -> EngineResult<()> {
    if let Some(mut loan) = cx.store.open_loan_of_copy(copy)?
        && loan.card == card
    {
        if loan.due != due {
            loan.due = due;
            loan.renewals_used += 1;
            cx.store.update_loan(&loan)?;
        }
        return Ok(());
    }
    // A loan made at the library system's desk: it becomes visible here.
    let id = format!("L{}", cx.store.next_seq("loan")?);
    cx.store.insert_loan(&LoanRow {
        id,
        copy: copy.into(),
        card: card.into(),
        checked_out: cx.today,
        due,
        renewals_used: 1,
        returned: None,
    })?;
    if let Some(mut c) = cx.store.copy(copy)? {
        c.status = CopyStatus::OnLoan;
        c.hold_id = None;
        cx.store.upsert_copy(&c)?;
    }
    Ok(())
}

impl Circulation for Sip2Circulation {
    fn name(&self) -> &'static str {
        "sip2"
    }

    fn renew(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        copy: &str,
        seen_due: Option<NaiveDate>,
    ) -> EngineResult<(NaiveDate, bool)> {
        if let Some(loan) = cx.store.open_loan_of_copy(copy)?
            && loan.card == card
            && seen_due.is_some_and(|seen| loan.due > seen)
        {
            return Ok((loan.due, false));
        }
        let now = local_now(cx);
        let r = self.exchange("renew", |c| c.renew(card, None, copy, now))?;
        if !(r.ok && r.renewal_ok) {
            return Err(refused(cx, &r.screen_messages, "renewal refused"));
        }
        let due = due_of(r.due_date.as_deref(), "renewal")?;
        mirror_renewal(cx, card, copy, due)?;
        Ok((due, true))
    }

    fn renew_all(&mut self, cx: &mut Ctx<'_>, card: &str) -> EngineResult<Vec<Renewal>> {
        let now = local_now(cx);
        let r = self.exchange("renew all", |c| c.renew_all(card, None, now))?;
        if !r.ok && r.renewed_items.is_empty() {
            return Err(refused(cx, &r.screen_messages, "renewal refused"));
        }
        let mut out = vec![];
        // 66 names the renewed items but not their new due dates: item
        // information (17) gives each.
        for copy in &r.renewed_items {
            let info = self.exchange("item information", |c| c.item_information(copy, now))?;
            let due = due_of(info.due_date.as_deref(), "item information")?;
            let old_due = cx.store.open_loan_of_copy(copy)?.map_or(due, |l| l.due);
            mirror_renewal(cx, card, copy, due)?;
            out.push(Renewal {
                copy: copy.clone(),
                old_due,
                result: Ok(due),
            });
        }
        for copy in &r.unrenewed_items {
            let old_due = cx
                .store
                .open_loan_of_copy(copy)?
                .map_or(cx.today, |l| l.due);
            out.push(Renewal {
                copy: copy.clone(),
                old_due,
                result: Err(Reason::IlsRefused),
            });
        }
        Ok(out)
    }

    fn place_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        title_id: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<(String, u32)> {
        cx.store.title(title_id)?.ok_or(Reason::UnknownTitle)?;
        cx.policy.branch(branch).ok_or(Reason::UnknownBranch)?;
        let r = self.hold(cx, HoldMode::Add, card, title_id, Some(branch))?;
        let pickup = r.pickup_location.as_deref().unwrap_or(branch);
        let (id, ours) = cx.enqueue_hold(card, title_id, pickup, fx)?;
        // The library system's queue position when it gives one.
        let position = r.queue_position.filter(|p| *p > 0).unwrap_or(ours);
        Ok((id, position))
    }

    fn cancel_hold(
        &mut self,
        cx: &mut Ctx<'_>,
        hold: &HoldRow,
        fx: &mut Effects,
    ) -> EngineResult<()> {
        self.hold(cx, HoldMode::Delete, &hold.card, &hold.title_id, None)?;
        cx.touch_title(&hold.title_id, fx)?;
        cx.store.delete_hold(&hold.id)?;
        Ok(())
    }

    fn change_pickup(
        &mut self,
        cx: &mut Ctx<'_>,
        hold: &HoldRow,
        branch: &str,
    ) -> EngineResult<()> {
        self.hold(
            cx,
            HoldMode::Change,
            &hold.card,
            &hold.title_id,
            Some(branch),
        )?;
        cx.set_pickup(hold, branch)
    }

    fn suspends_holds(&self) -> bool {
        false
    }

    fn checkout(
        &mut self,
        cx: &mut Ctx<'_>,
        card: &str,
        barcode: &str,
        fx: &mut Effects,
    ) -> EngineResult<LoanRow> {
        cx.patron(card)?;
        let (copy, title) = cx.copy_and_title(barcode)?;
        let now = local_now(cx);
        let r = self.exchange("checkout", |c| c.checkout(card, None, barcode, now))?;
        if !r.ok {
            return Err(refused(cx, &r.screen_messages, "checkout refused"));
        }
        let due = due_of(r.due_date.as_deref(), "checkout")?;
        cx.record_loan(card, copy, &title.id, due, fx)
    }

    fn checkin(
        &mut self,
        cx: &mut Ctx<'_>,
        barcode: &str,
        branch: &str,
        fx: &mut Effects,
    ) -> EngineResult<CopyRow> {
        let (mut copy, title) = cx.copy_and_title(barcode)?;
        let now = local_now(cx);
        let r = self.exchange("checkin", |c| c.checkin(barcode, branch, now))?;
        if !r.ok {
            return Err(refused(cx, &r.screen_messages, "checkin refused"));
        }
        if let Some(mut loan) = cx.store.open_loan_of_copy(barcode)? {
            // Fines are the library system's business here.
            fx.patrons.insert(loan.card.clone());
            cx.close_loan(&mut loan)?;
        }
        cx.touch_title(&title.id, fx)?;
        // Where the copy goes next is the library system's decision too: it
        // tells through item information.
        let info = self.exchange("item information", |c| c.item_information(barcode, now))?;
        copy.status = match info.circulation_status {
            CirculationStatus::Charged | CirculationStatus::ChargedNoRecall => CopyStatus::OnLoan,
            CirculationStatus::InTransit => CopyStatus::InTransit,
            CirculationStatus::WaitingOnHoldShelf => CopyStatus::Waiting,
            _ => CopyStatus::Available,
        };
        if copy.status == CopyStatus::Available {
            copy.hold_id = None;
        }
        cx.store.upsert_copy(&copy)?;
        Ok(copy)
    }
}

/// The patron's account as the library system sees it (63/64): used by
/// `pustaka-sync sip2-check` to prove a connection works end to end.
pub fn patron_check(
    config: &Sip2Config,
    card: &str,
    now: NaiveDateTime,
) -> Result<String, Sip2Error> {
    let opts = ClientOptions {
        login: config.login.clone(),
        institution: config.institution.clone(),
        terminal_password: config.terminal_password.clone(),
        error_detection: true,
        timeout: config.timeout,
    };
    let mut c = Client::connect(&config.addr, opts)?;
    let status = c.sc_status()?;
    let info = c.patron_information(card, None, Summary::ChargedItems, now)?;
    Ok(format!(
        "ACS online: {}; patron {} ({}): valid {:?}, {} charged, {} holds, {} overdue",
        status.online,
        info.patron,
        info.personal_name,
        info.valid_patron,
        info.charged_items.len(),
        info.hold_items.len(),
        info.overdue_items.len()
    ))
}
