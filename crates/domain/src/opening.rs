//! Open and closed days per branch: closed days move due dates and, when the
//! policy says so, do not count towards fines.

use crate::policy::{Branch, parse_weekday};
use chrono::{Datelike, Days, NaiveDate};

/// A branch is open at most 366 days ahead; the policy guarantees at least one
/// open weekday, so scanning a year always finds an open day unless the
/// holiday list covers a whole year, in which case the date is left as is.
const MAX_SCAN_DAYS: u32 = 366;

pub fn is_closed(branch: &Branch, day: NaiveDate) -> bool {
    branch.holidays.contains(&day)
        || branch
            .closed_weekdays
            .iter()
            .filter_map(|d| parse_weekday(d))
            .any(|w| w == day.weekday())
}

/// The first open day on or after `day`.
pub fn next_open_day(branch: &Branch, day: NaiveDate) -> NaiveDate {
    let mut d = day;
    for _ in 0..MAX_SCAN_DAYS {
        if !is_closed(branch, d) {
            return d;
        }
        match d.checked_add_days(Days::new(1)) {
            Some(n) => d = n,
            None => return day,
        }
    }
    day
}

/// The last open day on or before `day`.
pub fn previous_open_day(branch: &Branch, day: NaiveDate) -> NaiveDate {
    let mut d = day;
    for _ in 0..MAX_SCAN_DAYS {
        if !is_closed(branch, d) {
            return d;
        }
        match d.checked_sub_days(Days::new(1)) {
            Some(n) => d = n,
            None => return day,
        }
    }
    day
}

/// Days strictly after `from` up to and including `to`, optionally skipping
/// closed days.
pub fn days_between(branch: &Branch, from: NaiveDate, to: NaiveDate, skip_closed: bool) -> u32 {
    if to <= from {
        return 0;
    }
    let total = (to - from).num_days().clamp(0, i64::from(u32::MAX)) as u32;
    if !skip_closed {
        return total;
    }
    (1..=total)
        .filter_map(|i| from.checked_add_days(Days::new(u64::from(i))))
        .filter(|d| !is_closed(branch, *d))
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::BranchKind;

    fn branch() -> Branch {
        Branch {
            id: "b".into(),
            name: "B".into(),
            kind: BranchKind::Branch,
            closed_weekdays: vec!["sun".into()],
            holidays: vec![d("2026-12-25"), d("2026-12-24")],
            pickup_location: true,
            accessibility_id: None,
            accessibility_en: None,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn open_day_table() {
        let b = branch();
        // (input, next open, previous open)
        let table = [
            ("2026-12-23", "2026-12-23", "2026-12-23"), // Wednesday, open
            ("2026-12-24", "2026-12-26", "2026-12-23"), // holiday, holiday, then Saturday
            ("2026-12-27", "2026-12-28", "2026-12-26"), // Sunday
        ];
        for (day, next, prev) in table {
            assert_eq!(next_open_day(&b, d(day)), d(next), "next after {day}");
            assert_eq!(
                previous_open_day(&b, d(day)),
                d(prev),
                "previous before {day}"
            );
        }
    }

    #[test]
    fn closed_days_can_be_left_out_of_a_count() {
        let b = branch();
        assert_eq!(days_between(&b, d("2026-12-22"), d("2026-12-28"), false), 6);
        // 23 open, 24 25 closed, 26 open, 27 Sunday, 28 open
        assert_eq!(days_between(&b, d("2026-12-22"), d("2026-12-28"), true), 3);
        assert_eq!(days_between(&b, d("2026-12-28"), d("2026-12-22"), true), 0);
    }
}
