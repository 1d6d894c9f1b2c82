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
