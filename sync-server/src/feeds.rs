//! The library's public calendar feed (iCalendar): its events, all or one
//! branch's, and the book van's stops as weekly recurring events, in the
//! library's time zone. `GET /v1/calendar/events.ics[?branch=][&lang=en]`.
//! Checked by `../shared/tools/validate_ics.py` in `tests/tests/ics.rs`.

use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use pustaka_domain::ics::{escape, fold, utc};
use pustaka_domain::policy::BranchKind;
use pustaka_domain::{Lang, Millis, i18n};

use crate::error::ApiError;
use crate::hub::Hub;
use crate::storage::{EventRow, VanStopRow};

fn weekday(code: &str) -> Option<(chrono::Weekday, &'static str)> {
    use chrono::Weekday::*;
    Some(match code {
        "mon" => (Mon, "MO"),
        "tue" => (Tue, "TU"),
        "wed" => (Wed, "WE"),
        "thu" => (Thu, "TH"),
        "fri" => (Fri, "FR"),
        "sat" => (Sat, "SA"),
        "sun" => (Sun, "SU"),
        _ => return None,
    })
}

/// `+0700` for 420 minutes.
fn offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("{sign}{:02}{:02}", m / 60, m % 60)
}

/// One van stop as a weekly event from its first day on or after `from`
/// until `until`, at local times.
fn van_stop(
    v: &VanStopRow,
    tz: &str,
    offset_minutes: i32,
    host: &str,
    title: &str,
    now: Millis,
) -> Option<Vec<String>> {
    let (wd, byday) = weekday(&v.weekday)?;
    let shift =
        (7 + wd.num_days_from_monday() as i64 - v.from.weekday().num_days_from_monday() as i64) % 7;
    let first: NaiveDate = v.from.checked_add_days(Days::new(shift as u64))?;
    if first > v.until {
        return None;
    }
    let start = NaiveTime::parse_from_str(&v.start_time, "%H:%M").ok()?;
    let end = NaiveTime::parse_from_str(&v.end_time, "%H:%M").ok()?;
    // UNTIL is UTC when DTSTART has a TZID (RFC 5545 §3.3.10).
    let until_local = v.until.and_time(end);
    let until_utc = until_local.and_utc().timestamp_millis() - i64::from(offset_minutes) * 60_000;
    Some(vec![
        "BEGIN:VEVENT".into(),
        format!("UID:vanstop-{}@{}", escape(&v.id), escape(host)),
        format!("DTSTAMP:{}", utc(now)),
        format!(
            "DTSTART;TZID={tz}:{}",
            first.and_time(start).format("%Y%m%dT%H%M%S")
        ),
        format!(
            "DTEND;TZID={tz}:{}",
            first.and_time(end).format("%Y%m%dT%H%M%S")
        ),
        format!("RRULE:FREQ=WEEKLY;BYDAY={byday};UNTIL={}", utc(until_utc)),
        format!("SUMMARY:{}", escape(&format!("{title}: {}", v.place))),
        format!("LOCATION:{}", escape(&v.place)),
        "CATEGORIES:BOOK-VAN".into(),
        "END:VEVENT".into(),
    ])
}

/// One library event, in the patron's language; the same UID in the
/// public and the personal feed, so a calendar holding both shows it once.
fn event_lines(e: &EventRow, lang: Lang, host: &str, now: Millis) -> Vec<String> {
    let (title, description) = match lang {
        Lang::En => (&e.title_en, &e.description_en),
        Lang::Id => (&e.title_id, &e.description_id),
    };
    let mut lines = vec![
        "BEGIN:VEVENT".to_string(),
        format!("UID:event-{}@{}", escape(&e.id), escape(host)),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(e.start)),
        format!("DTEND:{}", utc(e.end)),
        format!("SUMMARY:{}", escape(title)),
    ];
    if !description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", escape(description)));
    }
    lines.push(format!("LOCATION:{}", escape(&e.place)));
    if let Some(url) = &e.online_url {
        lines.push(format!("URL:{}", url.replace(['\r', '\n'], "")));
    }
    lines.push(format!("CATEGORIES:{}", escape(&e.category.to_uppercase())));
    lines.push("END:VEVENT".into());
    lines
}

/// The feed: every event (or one branch's), and the van's stops in the
/// feed of all branches and in the book van's own.
pub fn events_ics(
    hub: &mut Hub,
    branch: Option<&str>,
    lang: Lang,
    host: &str,
    now: Millis,
) -> Result<String, ApiError> {
    let policy = hub.policy().clone();
    let van_feed = match branch {
        None => true,
        Some(b) => {
            let br = policy
                .branch(b)
                .ok_or_else(|| ApiError::NotFound(format!("branch {b}")))?;
            br.kind == BranchKind::BookVan
        }
    };
    let tz = if policy.library.timezone.is_empty() {
        "Asia/Jakarta".to_string()
    } else {
        policy.library.timezone.clone()
    };
    let off = offset(policy.library.utc_offset_minutes);
    let name = policy.library.name.clone();
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Pustaka//Library events//ID".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!("X-WR-CALNAME:{}", escape(&name)),
        format!("X-WR-TIMEZONE:{tz}"),
        // Indonesia keeps no daylight saving: one fixed offset.
        "BEGIN:VTIMEZONE".into(),
        format!("TZID:{tz}"),
        "BEGIN:STANDARD".into(),
        "DTSTART:19700101T000000".into(),
        format!("TZOFFSETFROM:{off}"),
        format!("TZOFFSETTO:{off}"),
        "END:STANDARD".into(),
        "END:VTIMEZONE".into(),
    ];
    for e in hub.store().events()? {
        if branch.is_some() && e.branch.as_deref() != branch {
            continue;
        }
        lines.extend(event_lines(&e, lang, host, now));
    }
    if van_feed {
        let title = i18n::message(lang, "feed-book-van", &[]);
        for v in hub.store().van_stops()? {
            if let Some(ev) = van_stop(
                &v,
                &tz,
                policy.library.utc_offset_minutes,
                host,
                &title,
                now,
            ) {
                lines.extend(ev);
            }
        }
    }
    lines.push("END:VCALENDAR".into());
    Ok(lines.iter().map(|l| fold(l)).collect())
}

/// A patron's own calendar: each open loan's due date (an all-day event,
/// so it moves when the loan is renewed) and the events they are
/// registered for. Served at a secret address.
pub fn patron_ics(
    hub: &mut Hub,
    card: &str,
    lang: Lang,
    host: &str,
    now: Millis,
) -> Result<String, ApiError> {
    let name = hub.policy().library.name.clone();
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Pustaka//Patron calendar//ID".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        format!(
            "X-WR-CALNAME:{}",
            escape(&i18n::message(
                lang,
                "feed-patron-calendar",
                &[("library", &name)]
            ))
        ),
    ];
    for loan in hub.store().open_loans_of(card)? {
        let title = match hub.store().copy(&loan.copy)? {
            Some(c) => hub.store().title(&c.title_id)?.map(|t| t.title),
            None => None,
        }
        .unwrap_or_else(|| loan.copy.clone());
        let next = loan.due.checked_add_days(Days::new(1)).unwrap_or(loan.due);
        lines.extend([
            "BEGIN:VEVENT".into(),
            format!("UID:loan-{}@{}", escape(&loan.id), escape(host)),
            format!("DTSTAMP:{}", utc(now)),
            format!("DTSTART;VALUE=DATE:{}", loan.due.format("%Y%m%d")),
            format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")),
            format!(
                "SUMMARY:{}",
                escape(&i18n::message(lang, "feed-due", &[("title", &title)]))
            ),
            format!(
                "DESCRIPTION:{}",
                escape(&i18n::message(
                    lang,
                    "feed-due-note",
                    &[("copy", &loan.copy)]
                ))
            ),
            "TRANSP:TRANSPARENT".into(),
            "CATEGORIES:DUE".into(),
            "END:VEVENT".into(),
        ]);
    }
    for r in hub.store().registrations_of(card)? {
        if r.status != crate::engine::CONFIRMED {
            continue;
        }
        let Some(e) = hub.store().event(&r.event_id)? else {
            continue;
        };
        lines.extend(event_lines(&e, lang, host, now));
    }
    lines.push("END:VCALENDAR".into());
    Ok(lines.iter().map(|l| fold(l)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_weekly_van_stops() {
        assert_eq!(offset(420), "+0700");
        assert_eq!(offset(540), "+0900");
        assert_eq!(offset(-90), "-0130");
        let v = VanStopRow {
            id: "V1".into(),
            place: "Pasar, Jl. Diponegoro".into(),
            weekday: "thu".into(),
            start_time: "09:00".into(),
            end_time: "11:30".into(),
            from: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default(),
            until: NaiveDate::from_ymd_opt(2027, 5, 22).unwrap_or_default(),
        };
        let ev = van_stop(&v, "Asia/Pontianak", 420, "lib", "Book van", 0).unwrap_or_default();
        assert!(
            ev.contains(&"DTSTART;TZID=Asia/Pontianak:20261126T090000".to_string()),
            "{ev:?}"
        );
        assert!(
            ev.contains(&"RRULE:FREQ=WEEKLY;BYDAY=TH;UNTIL=20270522T043000Z".to_string()),
            "{ev:?}"
        );
        assert!(ev.contains(&"LOCATION:Pasar\\, Jl. Diponegoro".to_string()));
        let bad = VanStopRow {
            weekday: "someday".into(),
            ..v
        };
        assert!(van_stop(&bad, "Asia/Pontianak", 420, "lib", "x", 0).is_none());
    }
}
