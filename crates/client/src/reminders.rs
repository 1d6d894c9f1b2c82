//! Reminders computed on the device from the replica alone, so they work
//! offline and follow a renewal or a return at once. Pure: the account
//! view, the policy, the patron's settings and the time go in; the list of
//! reminders with the moment each becomes due comes out. Firing them
//! (notify-rust on desktop, the notification plugin on mobile) and
//! remembering which fired is the caller's IO.
//!
//! A reminder's key names what it is about and the date it depends on
//! (`due-3:<copy>:<due date>`), so a renewal gives new keys: the old ones
//! leave the plan (a scheduler cancels them) and the new ones fire once.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate, NaiveTime};
use pustaka_domain::i18n::{format_date, message};
use pustaka_domain::policy::Branch;
use pustaka_domain::{Lang, Millis, Policy, opening};
use serde::{Deserialize, Serialize};

use crate::view::AccountView;

const HOUR: Millis = 3_600_000;
/// Morning reminders arrive at 08:00 library time.
const MORNING: u32 = 8;
/// "Starting soon" comes this long before a registered event.
const EVENT_LEAD: Millis = 2 * HOUR;
/// A librarian's answer is announced for this long after it came.
const ANSWER_FRESH: Millis = 7 * 24 * HOUR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    DueSoon,
    DueToday,
    Overdue,
    HoldReady,
    HoldExpiring,
    NoRenewal,
    EventSoon,
    /// A librarian answered the patron's question.
    Answer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Stable while what it is about is unchanged; fires once per device.
    pub key: String,
    pub kind: ReminderKind,
    /// When it becomes due (ms since the epoch).
    pub at: Millis,
    /// After this it is pointless (the due date passed, the event began).
    pub until: Millis,
    pub title: String,
    pub body: String,
    /// Where a tap on it leads.
    pub link: String,
}

impl Reminder {
    pub fn is_due(&self, now: Millis) -> bool {
        self.at <= now && now < self.until
    }
}

/// Every reminder the account calls for now or later, earliest first.
/// `days` are the patron's "due in N days" choices (default 3 and 1),
/// counted in the loan branch's open days: a book due on Monday after a
/// closed Sunday gets its one-day reminder on Saturday, the last day it can
/// be brought back in time.
pub fn plan(
    view: &AccountView,
    policy: &Policy,
    days: &[u32],
    lang: Lang,
    now: Millis,
) -> Vec<Reminder> {
    let offset = i64::from(view.utc_offset_minutes) * 60_000;
    let at_hour = |day: NaiveDate, hour: u32| -> Millis {
        let t = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN);
        day.and_time(t).and_utc().timestamp_millis() - offset
    };
    let day_start = |day: NaiveDate| at_hour(day, 0);
    let next = |day: NaiveDate| day.checked_add_days(Days::new(1)).unwrap_or(day);
    let date = |day: NaiveDate| format_date(lang, day);
    let text = |key: &str, args: &[(&str, &str)]| message(lang, key, args);
    let branch_of = |id: &str| -> Option<&Branch> {
        policy.branches.iter().find(|b| b.id == id || b.name == id)
    };
    let branch_name = |id: &str| {
        branch_of(id)
            .map(|b| b.name.clone())
            .unwrap_or(id.to_string())
    };

    let mut days: Vec<u32> = days.iter().copied().filter(|d| *d > 0).collect();
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();

    let mut out = Vec::new();
    for loan in &view.loans {
        let due = loan.due;
        let branch = branch_of(&loan.branch);
        let args = |days_left: i64| {
            [
                ("title", loan.title.clone()),
                ("date", date(due)),
                ("days", days_left.to_string()),
            ]
        };
        let with = |a: &[(&'static str, String)]| -> Vec<(&'static str, String)> { a.to_vec() };
        let fill = |key: &str, a: &[(&'static str, String)]| {
            let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
            text(key, &pairs)
        };
        // Due in N open days: each window runs until the next, smaller
        // one opens, so a patron who was away gets one reminder, not three.
        let mut windows: Vec<(u32, NaiveDate)> = days
            .iter()
            .map(|&n| {
                let mut d = due;
                for _ in 0..n {
                    let before = d.checked_sub_days(Days::new(1)).unwrap_or(d);
                    d = branch.map_or(before, |b| opening::previous_open_day(b, before));
                }
                (n, d)
            })
            .collect();
        windows.dedup_by_key(|(_, d)| *d);
        for (i, (n, fire_day)) in windows.iter().enumerate() {
            if *fire_day >= due {
                continue;
            }
            let until = windows
                .get(i + 1)
                .map_or(day_start(due), |(_, d)| at_hour(*d, MORNING));
            let at = at_hour(*fire_day, MORNING);
            let shown_from = view.today.max(*fire_day);
            let left = (due - shown_from).num_days().max(1);
            let a = with(&args(left));
            out.push(Reminder {
                key: format!("due-{n}:{}:{due}", loan.copy),
                kind: ReminderKind::DueSoon,
                at,
                until,
                title: fill(pustaka_domain::i18n::due_soon_title_key(left), &a),
                body: fill("reminder-due-soon-body", &a),
                link: "pustaka://loans".into(),
            });
        }
        let a = with(&args(0));
        out.push(Reminder {
            key: format!("due-today:{}:{due}", loan.copy),
            kind: ReminderKind::DueToday,
            at: at_hour(due, MORNING),
            until: day_start(next(due)),
            title: fill("reminder-due-today-title", &a),
            body: fill("reminder-due-today-body", &a),
            link: "pustaka://loans".into(),
        });
        out.push(Reminder {
            key: format!("overdue:{}:{due}", loan.copy),
            kind: ReminderKind::Overdue,
            at: at_hour(next(due), MORNING),
            until: Millis::MAX,
            title: fill("reminder-overdue-title", &a),
            body: fill("reminder-overdue-body", &a),
            link: "pustaka://loans".into(),
        });
        if loan.renew_blocked.as_deref() == Some("on_hold_for_other") && due >= view.today {
            out.push(Reminder {
                key: format!("no-renewal:{}:{due}", loan.copy),
                kind: ReminderKind::NoRenewal,
                at: now.min(at_hour(due, MORNING)),
                until: day_start(next(due)),
                title: fill("reminder-no-renewal-title", &a),
                body: fill("reminder-no-renewal-body", &a),
                link: "pustaka://loans".into(),
            });
        }
    }

    // On the pickup shelf ("waiting"), not merely caught and in transit.
    for hold in view.holds.iter().filter(|h| h.status == "waiting") {
        let by = hold.pickup_by;
        let a = [
            ("title", hold.title.clone()),
            ("branch", branch_name(&hold.pickup_branch)),
            ("date", by.map(date).unwrap_or_default()),
        ];
        let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let stamp = by.map(|d| d.to_string()).unwrap_or_default();
        let until = by.map_or(Millis::MAX, |d| day_start(next(d)));
        out.push(Reminder {
            key: format!("hold-ready:{}:{stamp}", hold.id),
            kind: ReminderKind::HoldReady,
            at: now.min(until.saturating_sub(1)),
            until,
            title: text("reminder-hold-ready-title", &pairs),
            body: text(
                pustaka_domain::i18n::hold_ready_body_key(by.is_some()),
                &pairs,
            ),
            link: "pustaka://holds".into(),
        });
        if let Some(by) = by {
            let eve = by.checked_sub_days(Days::new(1)).unwrap_or(by);
            out.push(Reminder {
                key: format!("hold-expiring:{}:{stamp}", hold.id),
                kind: ReminderKind::HoldExpiring,
                at: at_hour(eve, MORNING),
                until,
                title: text("reminder-hold-expiring-title", &pairs),
                body: text("reminder-hold-expiring-body", &pairs),
                link: "pustaka://holds".into(),
            });
        }
    }

    for event in view
        .events
        .iter()
        .filter(|e| e.registration.as_deref() == Some("confirmed"))
    {
        let start = chrono::DateTime::from_timestamp_millis(event.start + offset)
            .map(|d| d.format("%H:%M").to_string())
            .unwrap_or_default();
        let name = match lang {
            Lang::Id => &event.title_id,
            Lang::En => &event.title_en,
        };
        let a = [
            ("title", name.clone()),
            ("time", start),
            ("place", event.place.clone()),
        ];
        let pairs: Vec<(&str, &str)> = a.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.push(Reminder {
            key: format!("event-soon:{}:{}", event.id, event.start),
            kind: ReminderKind::EventSoon,
            at: event.start - EVENT_LEAD,
            until: event.start,
            title: text("reminder-event-soon-title", &pairs),
            body: text("reminder-event-soon-body", &pairs),
            link: "pustaka://events".into(),
        });
    }

    for q in &view.questions {
        let (Some(answer), Some(at)) = (&q.answer, q.answered_at) else {
            continue;
        };
        let short: String = q.question.chars().take(60).collect();
        let body: String = answer.chars().take(160).collect();
        out.push(Reminder {
            key: format!("answer:{}:{at}", q.id),
            kind: ReminderKind::Answer,
            at,
            until: at + ANSWER_FRESH,
            title: text("reminder-answer-title", &[("question", short.as_str())]),
            body,
            link: "pustaka://faq".into(),
        });
    }

    out.retain(|r| r.until > now);
    out.sort_by(|a, b| a.at.cmp(&b.at).then(a.key.cmp(&b.key)));
    out
}

/// The reminders to show now: due, and not already shown on this device.
pub fn to_fire<'a>(
    plan: &'a [Reminder],
    fired: &BTreeSet<String>,
    now: Millis,
) -> Vec<&'a Reminder> {
    plan.iter()
        .filter(|r| r.is_due(now) && !fired.contains(&r.key))
        .collect()
}

/// What the device must remember it fired: the keys still in the plan
/// (older ones are about renewed or returned loans and are forgotten).
pub fn remembered(plan: &[Reminder], fired: &BTreeSet<String>) -> BTreeSet<String> {
    plan.iter()
        .filter(|r| fired.contains(&r.key))
        .map(|r| r.key.clone())
        .collect()
}

/// What a scheduler that fires ahead of time (the mobile notification
/// plugin) must change: reminders to schedule, and scheduled keys to
/// cancel because what they were about changed.
pub fn reschedule<'a>(
    plan: &'a [Reminder],
    scheduled: &BTreeSet<String>,
    fired: &BTreeSet<String>,
    now: Millis,
) -> (Vec<&'a Reminder>, Vec<String>) {
    let wanted: BTreeSet<&str> = plan
        .iter()
        .filter(|r| r.at > now && !fired.contains(&r.key))
        .map(|r| r.key.as_str())
        .collect();
    let add = plan
        .iter()
        .filter(|r| wanted.contains(r.key.as_str()) && !scheduled.contains(&r.key))
        .collect();
    let cancel = scheduled
        .iter()
        .filter(|k| !wanted.contains(k.as_str()))
        .cloned()
        .collect();
    (add, cancel)
}

/// A stable 32-bit id for a key, for notification systems that want
/// numbers (Android's notification ids).
pub fn numeric_id(key: &str) -> i32 {
    // FNV-1a, folded to a positive i32.
    let mut h: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h & 0x7fff_ffff) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{EventView, HoldView, LoanView};

    const POLICY: &str = include_str!("../../../assets/demo/policy.toml");

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    /// 2026-11-23 (Monday) at `hour`:00 WIB, in ms.
    fn at(date: &str, hour: u32) -> Millis {
        day(date)
            .and_hms_opt(hour, 0, 0)
            .expect("time")
            .and_utc()
            .timestamp_millis()
            - 7 * HOUR
    }

    fn loan(copy: &str, due: &str, branch: &str) -> LoanView {
        LoanView {
            copy: copy.into(),
            title_id: format!("t-{copy}"),
            title: format!("Buku {copy}"),
            author: String::new(),
            branch: branch.into(),
            due: day(due),
            days_left: 0,
            overdue: false,
            renewals_used: 0,
            renewals_left: 2,
            fine: 0,
            renew_blocked: None,
            renew_preview: None,
            pending_renewal: false,
        }
    }

    fn account(today: &str, loans: Vec<LoanView>) -> AccountView {
        AccountView {
            library: "Perpustakaan Kota".into(),
            card: "1001".into(),
            name: "Siti".into(),
            today: day(today),
            fines_owed: 0,
            account_blocked: None,
            loans,
            holds: vec![],
            events: vec![],
            pending: vec![],
            outcomes: vec![],
            history: vec![],
            keep_history: false,
            questions: vec![],
            surveys: vec![],
            branches: vec![],
            utc_offset_minutes: 420,
        }
    }

    fn policy() -> Policy {
        Policy::from_toml(POLICY).expect("demo policy")
    }

    fn keys(plan: &[Reminder]) -> Vec<&str> {
        plan.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn due_reminders_count_open_days_of_the_loan_branch() {
        // Due Monday 30 Nov at `pusat` (closed on Sundays): one open day
        // before is Saturday 28, three open days before is Thursday 26.
        let v = account("2026-11-23", vec![loan("B1", "2026-11-30", "pusat")]);
        let now = at("2026-11-23", 10);
        let plan = plan(&v, &policy(), &[3, 1], Lang::Id, now);
        let by_key = |k: &str| plan.iter().find(|r| r.key == k).expect(k);
        assert_eq!(by_key("due-3:B1:2026-11-30").at, at("2026-11-26", 8));
        assert_eq!(by_key("due-1:B1:2026-11-30").at, at("2026-11-28", 8));
        assert_eq!(by_key("due-today:B1:2026-11-30").at, at("2026-11-30", 8));
        assert_eq!(by_key("overdue:B1:2026-11-30").at, at("2026-12-01", 8));
        // `barat` closes Saturdays too: one open day before Monday is Friday.
        let v = account("2026-11-23", vec![loan("B2", "2026-11-30", "barat")]);
        let plan = super::plan(&v, &policy(), &[1], Lang::Id, now);
        assert_eq!(plan[0].key, "due-1:B2:2026-11-30");
        assert_eq!(plan[0].at, at("2026-11-27", 8));
    }

    #[test]
    fn texts_in_the_chosen_language() {
        let v = account("2026-11-26", vec![loan("B1", "2026-11-30", "pusat")]);
        let now = at("2026-11-26", 9);
        for (lang, title, body) in [
            (
                Lang::Id,
                "Jatuh tempo 4 hari lagi: Buku B1",
                "30 November 2026",
            ),
            (
                Lang::En,
                "Due in 4 days: Buku B1",
                "is due on 30 November 2026",
            ),
        ] {
            let plan = plan(&v, &policy(), &[3, 1], lang, now);
            let due = to_fire(&plan, &BTreeSet::new(), now);
            assert_eq!(due.len(), 1, "{due:?}");
            assert_eq!(due[0].title, title);
            assert!(due[0].body.contains(body), "{}", due[0].body);
        }
    }

    #[test]
    fn a_patron_back_after_days_away_gets_one_reminder_not_three() {
        let v = account("2026-11-29", vec![loan("B1", "2026-11-30", "pusat")]);
        let now = at("2026-11-29", 12); // Sunday, after both windows opened
        let plan = plan(&v, &policy(), &[3, 1], Lang::En, now);
        let due = to_fire(&plan, &BTreeSet::new(), now);
        assert_eq!(
            keys(&due.into_iter().cloned().collect::<Vec<_>>()),
            vec!["due-1:B1:2026-11-30"]
        );
    }

    #[test]
    fn fires_once_and_a_renewal_replaces_what_was_planned() {
        let p = policy();
        let now = at("2026-11-28", 9);
        let v = account("2026-11-28", vec![loan("B1", "2026-11-30", "pusat")]);
        let first = plan(&v, &p, &[3, 1], Lang::Id, now);
        let mut fired = BTreeSet::new();
        let shown: Vec<String> = to_fire(&first, &fired, now)
            .iter()
            .map(|r| r.key.clone())
            .collect();
        assert_eq!(shown, vec!["due-1:B1:2026-11-30"]);
        fired.extend(shown);
        assert!(to_fire(&first, &fired, now + HOUR).is_empty(), "fired once");

        // Renewed to 14 Dec: the old keys are gone, new ones are later.
        let renewed = account("2026-11-28", vec![loan("B1", "2026-12-14", "pusat")]);
        let second = plan(&renewed, &p, &[3, 1], Lang::Id, now);
        assert!(to_fire(&second, &fired, now).is_empty());
        assert!(remembered(&second, &fired).is_empty(), "old keys forgotten");
        let scheduled: BTreeSet<String> = first
            .iter()
            .filter(|r| r.at > now)
            .map(|r| r.key.clone())
            .collect();
        let (add, cancel) = reschedule(&second, &scheduled, &fired, now);
        assert!(cancel.contains(&"due-today:B1:2026-11-30".to_string()));
        assert!(cancel.contains(&"overdue:B1:2026-11-30".to_string()));
        assert!(add.iter().any(|r| r.key == "due-1:B1:2026-12-14"));
        // A return: nothing left for that copy.
        let returned = account("2026-11-28", vec![]);
        let third = plan(&returned, &p, &[3, 1], Lang::Id, now);
        let (add, cancel) = reschedule(&third, &scheduled, &fired, now);
        assert!(add.is_empty());
        assert_eq!(cancel.len(), scheduled.len());
    }

    #[test]
    fn holds_events_and_blocked_renewals() {
        let mut v = account("2026-11-23", vec![loan("B1", "2026-11-30", "pusat")]);
        v.loans[0].renew_blocked = Some("on_hold_for_other".into());
        v.holds.push(HoldView {
            id: "h1".into(),
            title_id: "t-laskar".into(),
            title: "Laskar Pelangi".into(),
            status: "waiting".into(),
            position: 0,
            queue_len: 1,
            copies: 1,
            estimated_wait_days: 0,
            pickup_branch: "pusat".into(),
            pickup_by: Some(day("2026-11-27")),
            suspended_until: None,
            captured: true,
        });
        v.events.push(EventView {
            id: "e1".into(),
            title_id: "Mendongeng untuk anak".into(),
            title_en: "Storytelling for children".into(),
            category: "storytelling".into(),
            branch: Some("pusat".into()),
            place: "Ruang anak".into(),
            start: at("2026-11-24", 15),
            end: at("2026-11-24", 16),
            capacity: 20,
            seats_left: 3,
            waitlist: 0,
            registration: Some("confirmed".into()),
            waitlist_position: None,
            accessibility: String::new(),
        });
        let now = at("2026-11-23", 10);
        let plan = plan(&v, &policy(), &[3, 1], Lang::En, now);
        let due: Vec<&str> = to_fire(&plan, &BTreeSet::new(), now)
            .iter()
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(
            due,
            vec!["hold-ready:h1:2026-11-27", "no-renewal:B1:2026-11-30"]
        );
        let ready = plan
            .iter()
            .find(|r| r.kind == ReminderKind::HoldReady)
            .expect("ready");
        assert_eq!(
            ready.body,
            "“Laskar Pelangi” is waiting for you at Perpustakaan Pusat (Jl. Firdaus) until 27 November 2026."
        );
        let expiring = plan
            .iter()
            .find(|r| r.kind == ReminderKind::HoldExpiring)
            .expect("eve");
        assert_eq!(expiring.at, at("2026-11-26", 8));
        let event = plan
            .iter()
            .find(|r| r.kind == ReminderKind::EventSoon)
            .expect("event");
        assert_eq!(event.at, at("2026-11-24", 13));
        assert_eq!(
            event.body,
            "Storytelling for children starts at 15:00 at Ruang anak."
        );
        assert_eq!(event.link, "pustaka://events");
        // Past its start, the event reminder is dropped.
        let later = super::plan(&v, &policy(), &[3, 1], Lang::En, at("2026-11-24", 15));
        assert!(later.iter().all(|r| r.kind != ReminderKind::EventSoon));
    }

    #[test]
    fn numeric_ids_are_stable_and_positive() {
        assert_eq!(
            numeric_id("due-1:B1:2026-11-30"),
            numeric_id("due-1:B1:2026-11-30")
        );
        assert_ne!(
            numeric_id("due-1:B1:2026-11-30"),
            numeric_id("due-3:B1:2026-11-30")
        );
        assert!(numeric_id("x") >= 0);
    }
}
