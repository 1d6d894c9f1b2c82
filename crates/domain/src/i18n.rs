//! Outcome and reason texts from the Fluent files under `assets/locales/`.
//!
//! The domain only needs flat messages with `{ $var }` placeholders, so it
//! reads that subset of Fluent itself and stays dependency-free and wasm-safe.
//! The app's screens use the same files through a full Fluent bundle.

use crate::{Lang, Reason};

const ID: &str = include_str!("../../../assets/locales/id/reasons.ftl");
const EN: &str = include_str!("../../../assets/locales/en/reasons.ftl");

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => ID,
        Lang::En => EN,
    }
}

/// Looks a message up and fills its placeholders. A missing key falls back to
/// the key itself so that a gap in a translation is visible, never a crash.
pub fn message(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let template = source(lang)
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim())
        });
    let Some(template) = template else {
        return key.to_string();
    };
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{ ${name} }}"), value);
    }
    out
}

/// The patron-facing explanation of a refusal.
pub fn reason_text(lang: Lang, reason: Reason, args: &[(&str, &str)]) -> String {
    message(lang, reason.code(), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_translated_in_both_languages() {
        for lang in [Lang::Id, Lang::En] {
            for r in Reason::ALL {
                let text = reason_text(lang, *r, &[]);
                assert_ne!(text, r.code(), "{:?} misses {}", lang, r.code());
            }
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            message(Lang::En, "accepted-renew", &[("due", "2026-12-01")]),
            "Renewed. Now due 2026-12-01."
        );
        assert!(message(Lang::Id, "accepted-renew", &[("due", "1 Des")]).contains("1 Des"));
    }
}

/// The title of a "due in N days" reminder: "tomorrow" reads better than
/// "in 1 day". Shared by the device's notifications and the library's
/// e-mails.
pub fn due_soon_title_key(days_left: i64) -> &'static str {
    if days_left == 1 {
        "reminder-due-tomorrow-title"
    } else {
        "reminder-due-soon-title"
    }
}

/// The body of a "hold ready" reminder, with or without a pickup-by date.
pub fn hold_ready_body_key(has_pickup_date: bool) -> &'static str {
    if has_pickup_date {
        "reminder-hold-ready-body"
    } else {
        "reminder-hold-ready-body-open"
    }
}

/// A date as patrons read it: "1 Desember 2026" / "1 December 2026".
pub fn format_date(lang: Lang, day: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let month = message(lang, &format!("month-{}", day.month()), &[]);
    format!("{} {} {}", day.day(), month, day.year())
}

/// An amount in rupiah with the thousands separator of the language.
pub fn format_amount(lang: Lang, amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let sep = match lang {
        Lang::Id => '.',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}Rp{out}")
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn dates_and_amounts_follow_the_language() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(format_date(Lang::Id, d), "1 Desember 2026");
        assert_eq!(format_date(Lang::En, d), "1 December 2026");
        assert_eq!(format_amount(Lang::Id, 12500), "Rp12.500");
        assert_eq!(format_amount(Lang::En, 1_000_000), "Rp1,000,000");
        assert_eq!(format_amount(Lang::En, 500), "Rp500");
    }
}
