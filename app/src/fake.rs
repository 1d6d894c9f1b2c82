//! A scripted [`Transport`] for headless view tests: answers each command
//! from a table and records what the UI sent. Also sample data in the
//! shapes the shell sends, so a test can render every screen's states.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use chrono::NaiveDate;
use futures_util::future::LocalBoxFuture;
use pustaka_ipc::*;
use serde_json::Value;

use crate::backend::Transport;

#[derive(Default, Clone)]
pub struct FakeTransport {
    answers: Rc<RefCell<BTreeMap<&'static str, Result<Value, IpcError>>>>,
    pub sent: Rc<RefCell<Vec<(String, Value)>>>,
}

impl FakeTransport {
    pub fn new() -> FakeTransport {
        FakeTransport::default()
    }

    /// Answers `C` with `reply` from now on.
    pub fn answer<C: Command>(&self, reply: Result<C::Response, IpcError>) -> &Self {
        let v = reply.map(|r| serde_json::to_value(r).unwrap_or(Value::Null));
        self.answers.borrow_mut().insert(C::NAME, v);
        self
    }
}

impl Transport for FakeTransport {
    fn invoke(
        &self,
        name: &'static str,
        args: Value,
    ) -> LocalBoxFuture<'static, Result<Value, IpcError>> {
        self.sent.borrow_mut().push((name.to_string(), args));
        let answer = self
            .answers
            .borrow()
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err(IpcError::new("not_scripted", name)));
        Box::pin(async move { answer })
    }

    fn listen(&self, _event: &'static str, _on_event: Rc<dyn Fn(Value)>) {}
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// 2026-11-23 10:00 in Singkawang (UTC+7).
pub const NOW: Millis = 1_795_402_800_000 - 7 * 3_600_000 + 10 * 3_600_000;

pub fn status(online: bool) -> SyncStatus {
    SyncStatus {
        online,
        last_synced: Some(NOW - 120_000),
        pending: if online { 0 } else { 1 },
        last_error: (!online).then(|| "connection refused".into()),
        signed_in: true,
    }
}

pub fn session(signed_in: bool) -> Session {
    Session {
        signed_in,
        server: signed_in.then(|| "http://127.0.0.1:7878".into()),
        card: signed_in.then(|| "1001".into()),
        name: signed_in.then(|| "Siti Rahayu".into()),
        status: status(true),
        settings: Settings::default(),
        data_dir: "/home/siti/.local/share/id.go.singkawang.pustaka".into(),
        opened_with: None,
        suggested_server: Some("http://127.0.0.1:7878".into()),
        web: false,
    }
}

pub fn branches() -> Vec<BranchInfo> {
    [
        ("pusat", "Perpustakaan Pusat", "branch"),
        ("barat", "Cabang Singkawang Barat", "branch"),
        ("keliling", "Mobil Pustaka Keliling", "book_van"),
    ]
    .into_iter()
    .map(|(id, name, kind)| BranchInfo {
        id: id.into(),
        name: name.into(),
        kind: kind.into(),
        pickup: kind == "branch",
        accessibility_id: (id == "pusat").then(|| "Landai di pintu masuk, pojok Braille.".into()),
        accessibility_en: (id == "pusat").then(|| "Ramp at the entrance, Braille corner.".into()),
    })
    .collect()
}

pub fn empty_account() -> AccountView {
    AccountView {
        library: "Perpustakaan Umum Kota Singkawang".into(),
        card: "1001".into(),
        name: "Siti Rahayu".into(),
        today: day(2026, 11, 23),
        fines_owed: 0,
        account_blocked: None,
        loans: vec![],
        holds: vec![],
        events: vec![],
        pending: vec![],
        outcomes: vec![],
        history: vec![],
        keep_history: false,
        questions: vec![],
        surveys: vec![],
        branches: branches(),
        utc_offset_minutes: 420,
    }
}

pub fn full_account() -> AccountView {
    let loan =
        |copy: &str, title: &str, due: NaiveDate, blocked: Option<&str>, pending: bool| LoanView {
            copy: copy.into(),
            title_id: format!("T-{copy}"),
            title: title.into(),
            author: "Toer, Pramoedya Ananta".into(),
            branch: "pusat".into(),
            due,
            days_left: (due - day(2026, 11, 23)).num_days(),
            overdue: due < day(2026, 11, 23),
            renewals_used: 1,
            renewals_left: 1,
            fine: if due < day(2026, 11, 23) { 1500 } else { 0 },
            renew_blocked: blocked.map(Into::into),
            renew_preview: blocked.is_none().then(|| due + chrono::Duration::days(14)),
            pending_renewal: pending,
        };
    let event = |id: &str, title: &str, cat: &str, start_h: i64, reg: Option<&str>| EventView {
        id: id.into(),
        title_id: title.into(),
        title_en: format!("{title} (EN)"),
        category: cat.into(),
        branch: Some("pusat".into()),
        place: "Ruang Anak".into(),
        start: NOW + start_h * 3_600_000,
        end: NOW + (start_h + 2) * 3_600_000,
        capacity: 20,
        seats_left: if reg.is_some() { 3 } else { 0 },
        waitlist: 2,
        registration: reg.map(Into::into),
        waitlist_position: None,
        accessibility: "Ruang lantai dasar. / Ground floor.".into(),
    };
    AccountView {
        fines_owed: 1500,
        loans: vec![
            loan(
                "C0101",
                "Bumi Manusia",
                day(2026, 11, 20),
                Some("on_hold_for_other"),
                false,
            ),
            loan("C0102", "Laskar Pelangi", day(2026, 11, 25), None, false),
            loan(
                "C0103",
                "Ronggeng Dukuh Paruk",
                day(2026, 12, 4),
                None,
                true,
            ),
        ],
        holds: vec![
            HoldView {
                id: "H1".into(),
                title_id: "T0007".into(),
                title: "Cantik Itu Luka".into(),
                status: "waiting".into(),
                position: 0,
                queue_len: 0,
                copies: 2,
                estimated_wait_days: 0,
                pickup_branch: "pusat".into(),
                pickup_by: Some(day(2026, 11, 27)),
                suspended_until: None,
                captured: true,
            },
            HoldView {
                id: "H2".into(),
                title_id: "T0009".into(),
                title: "Negeri 5 Menara".into(),
                status: "queued".into(),
                position: 2,
                queue_len: 4,
                copies: 1,
                estimated_wait_days: 28,
                pickup_branch: "barat".into(),
                pickup_by: None,
                suspended_until: None,
                captured: false,
            },
        ],
        events: vec![
            event(
                "E1",
                "Dongeng Sabtu Pagi",
                "storytelling",
                48,
                Some("confirmed"),
            ),
            event("E2", "Kelas Literasi Digital", "literacy", 72, None),
        ],
        pending: vec![PendingView {
            id: "I1".into(),
            kind: "renew".into(),
            created_at: NOW - 60_000,
            state: PendingState::WaitingToSend,
        }],
        outcomes: vec![OutcomeView {
            intent_id: "I0".into(),
            kind: "renew".into(),
            accepted: true,
            reason: None,
            text_id: "Diperpanjang. Jatuh tempo sekarang 25 November 2026.".into(),
            text_en: "Renewed. Now due 25 November 2026.".into(),
            due: Some("2026-11-25".into()),
            position: None,
            decided_at: NOW - 86_400_000,
            items: vec![],
        }],
        keep_history: true,
        history: vec![HistoryView {
            title_id: "T0100".into(),
            title: "Siti Nurbaya".into(),
            checked_out: day(2025, 3, 1),
            returned: day(2025, 3, 14),
        }],
        ..empty_account()
    }
}

pub fn title() -> TitleView {
    TitleView {
        details: TitleDetails {
            borrowed_together: vec![],
            summary: TitleSummary {
                id: "T0001".into(),
                title: "Bumi Manusia".into(),
                author: "Toer, Pramoedya Ananta".into(),
                year: Some(1980),
                language: "ind".into(),
                item_type: "book".into(),
                format: None,
                availability: vec![BranchAvailability {
                    branch: "pusat".into(),
                    available: 1,
                    total: 2,
                }],
            },
            subjects: vec!["Fiksi".into(), "Sejarah".into()],
            isbn: Some("9789799731234".into()),
            collection: Some("umum".into()),
            formats: vec!["book".into()],
            responsibility: Some("Pramoedya Ananta Toer".into()),
            call_number: Some("899.221 TOE b".into()),
            links: vec![],
            copies: vec![
                CopyInfo {
                    barcode: "C0001".into(),
                    branch: "pusat".into(),
                    shelf: "899.221 TOE b".into(),
                    status: "available".into(),
                },
                CopyInfo {
                    barcode: "C0002".into(),
                    branch: "pusat".into(),
                    shelf: "899.221 TOE b".into(),
                    status: "on_loan".into(),
                },
            ],
            holds: 1,
        },
        from_cache: false,
    }
}
