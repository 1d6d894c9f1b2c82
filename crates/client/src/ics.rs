//! iCalendar (RFC 5545) text for "add to calendar" on an event.

use pustaka_domain::Millis;
use pustaka_ipc::EventView;

pub use pustaka_domain::ics::{escape, fold, utc};

/// One event as a calendar file; `title` in the patron's language.
pub fn event(e: &EventView, title: &str, place: &str, library: &str, now: Millis) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//Pustaka//Patron app//ID".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:PUBLISH".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}@{}", escape(&e.id), escape(library)),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(e.start)),
        format!("DTEND:{}", utc(e.end)),
        format!("SUMMARY:{}", escape(title)),
        format!("LOCATION:{}", escape(place)),
        format!("CATEGORIES:{}", escape(&e.category.to_uppercase())),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_and_text_escapes() {
        let long = format!("SUMMARY:{}", "é".repeat(60));
        let folded = fold(&long);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(folded.replace("\r\n ", ""), format!("{long}\r\n"));
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(utc(0), "19700101T000000Z");
    }
}
