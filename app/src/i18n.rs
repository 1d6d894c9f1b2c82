//! Every text the patron reads comes from the Fluent files under
//! `assets/locales/{id,en}/`: `app.ftl` for the screens and `reasons.ftl`
//! for the library's decisions (shared with the server and the domain).

use std::rc::Rc;

use chrono::NaiveDate;
use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use pustaka_ipc::Millis;

const APP_ID: &str = include_str!("../../assets/locales/id/app.ftl");
const APP_EN: &str = include_str!("../../assets/locales/en/app.ftl");
const REASONS_ID: &str = include_str!("../../assets/locales/id/reasons.ftl");
const REASONS_EN: &str = include_str!("../../assets/locales/en/reasons.ftl");

/// The patron's language: the domain's, so texts, dates and amounts agree
/// with what the server and the device's rules produce.
pub use pustaka_domain::Lang;

/// `en` selects English; anything else the default, Bahasa Indonesia.
pub fn lang_of(code: &str) -> Lang {
    Lang::parse(code).unwrap_or_default()
}

type Bundle = FluentBundle<FluentResource>;

fn build(lang: Lang) -> Bundle {
    let (tag, sources) = match lang {
        Lang::Id => ("id", [APP_ID, REASONS_ID]),
        Lang::En => ("en", [APP_EN, REASONS_EN]),
    };
    let id: unic_langid::LanguageIdentifier = tag.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new(vec![id]);
    bundle.set_use_isolating(false);
    for src in sources {
        // A syntax error keeps the entries that parsed; tests catch the rest.
        let res = FluentResource::try_new(src.to_string()).unwrap_or_else(|(r, _)| r);
        let _ = bundle.add_resource(res);
    }
    bundle
}

thread_local! {
    static BUNDLES: [Rc<Bundle>; 2] = [Rc::new(build(Lang::Id)), Rc::new(build(Lang::En))];
}

/// The translator for one language; cheap to clone.
#[derive(Clone)]
pub struct T {
    pub lang: Lang,
    /// The website: a `<key>--web` text wins where the device's wording
    /// would be untrue there ("searched on this device, offline too").
    pub web: bool,
    bundle: Rc<Bundle>,
}

impl PartialEq for T {
    fn eq(&self, other: &Self) -> bool {
        self.lang == other.lang && self.web == other.web
    }
}

impl T {
    pub fn new(lang: Lang) -> T {
        let bundle = BUNDLES.with(|b| b[lang as usize].clone());
        T {
            lang,
            web: false,
            bundle,
        }
    }

    /// The same translator, with the website's wording where it differs.
    pub fn on_web(mut self, web: bool) -> T {
        self.web = web;
        self
    }

    pub fn has(&self, key: &str) -> bool {
        self.bundle.has_message(key)
    }

    /// The text for `key`; a missing key shows as itself so a gap is visible.
    pub fn t(&self, key: &str) -> String {
        self.ta(key, &[])
    }

    /// The text for `key`, or `fallback` when the files do not have it
    /// (data-driven keys such as a record's language code).
    pub fn t_or(&self, key: &str, fallback: &str) -> String {
        if self.has(key) {
            self.t(key)
        } else {
            fallback.to_string()
        }
    }

    /// The text for `key` with `{ $name }` arguments filled.
    pub fn ta(&self, key: &str, args: &[(&str, String)]) -> String {
        let web_key;
        let key = if self.web && self.has(&format!("{key}--web")) {
            web_key = format!("{key}--web");
            web_key.as_str()
        } else {
            key
        };
        let Some(msg) = self.bundle.get_message(key) else {
            return key.to_string();
        };
        let Some(pattern) = msg.value() else {
            return key.to_string();
        };
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, FluentValue::from(v.clone()));
        }
        let mut errors = vec![];
        self.bundle
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned()
    }

    /// Why the library would refuse or did refuse, from a stable reason code.
    /// The screen-specific short form (`why-<code>`) wins where it exists.
    pub fn reason(&self, code: &str) -> String {
        let short = format!("why-{code}");
        if self.has(&short) {
            self.t(&short)
        } else if self.has(code) {
            self.t(code)
        } else {
            self.ta("why-unknown", &[("code", code.to_string())])
        }
    }

    /// "1 Desember 2026" / "1 December 2026".
    pub fn date(&self, d: NaiveDate) -> String {
        pustaka_domain::i18n::format_date(self.lang, d)
    }

    /// "Sen, 1 Des" style day heading with the weekday.
    pub fn weekday_date(&self, d: NaiveDate) -> String {
        use chrono::Datelike;
        format!(
            "{}, {}",
            self.t(&format!("weekday-{}", d.weekday().number_from_monday())),
            self.date(d)
        )
    }

    /// A clock time in the library's zone, 24-hour as both languages use here.
    pub fn time(&self, at: Millis, offset_minutes: i32) -> String {
        let local = local(at, offset_minutes);
        local.format("%H:%M").to_string()
    }

    /// The day of an instant in the library's zone.
    pub fn day_of(&self, at: Millis, offset_minutes: i32) -> NaiveDate {
        local(at, offset_minutes).date()
    }

    /// Rupiah with the thousands separator of the language.
    pub fn amount(&self, amount: i64) -> String {
        pustaka_domain::i18n::format_amount(self.lang, amount)
    }
}

fn local(at: Millis, offset_minutes: i32) -> chrono::NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(at + i64::from(offset_minutes) * 60_000)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && l.contains('='))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_keys_and_parse() {
        let (id, en) = (keys(APP_ID), keys(APP_EN));
        for k in &id {
            assert!(en.contains(k), "en/app.ftl lacks {k}");
        }
        for k in &en {
            assert!(id.contains(k), "id/app.ftl lacks {k}");
        }
        for src in [APP_ID, APP_EN] {
            assert!(FluentResource::try_new(src.to_string()).is_ok());
        }
    }

    #[test]
    fn every_key_the_code_uses_exists() {
        // Scan the sources for t("…") / ta("…" calls: a literal key missing
        // from the files would show the raw key to a patron.
        let sources = [
            include_str!("lib.rs"),
            include_str!("components.rs"),
            include_str!("screens/signin.rs"),
            include_str!("screens/home.rs"),
            include_str!("screens/loans.rs"),
            include_str!("screens/holds.rs"),
            include_str!("screens/catalogue.rs"),
            include_str!("screens/events.rs"),
            include_str!("screens/card.rs"),
            include_str!("screens/settings.rs"),
            include_str!("screens/faq.rs"),
            include_str!("screens/surveys.rs"),
            include_str!("screens/household.rs"),
        ];
        let t = T::new(Lang::Id);
        let e = T::new(Lang::En);
        let mut checked = 0;
        for src in sources {
            for pat in [".t(\"", ".ta(\""] {
                for (i, _) in src.match_indices(pat) {
                    let rest = &src[i + pat.len()..];
                    let key = &rest[..rest.find('"').unwrap_or(0)];
                    assert!(t.has(key), "id lacks `{key}`");
                    assert!(e.has(key), "en lacks `{key}`");
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 100,
            "only {checked} keys found: is the scan broken?"
        );
    }

    #[test]
    fn every_faq_topic_has_a_name_in_both_languages() {
        for topic in crate::screens::faq::TOPICS {
            for lang in [Lang::Id, Lang::En] {
                assert!(T::new(lang).has(&format!("faq-topic-{topic}")), "{topic}");
            }
        }
    }

    #[test]
    fn dates_amounts_and_reasons_follow_the_language() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(T::new(Lang::Id).date(d), "1 Desember 2026");
        assert_eq!(T::new(Lang::En).date(d), "1 December 2026");
        assert_eq!(T::new(Lang::Id).amount(12500), "Rp12.500");
        assert_eq!(T::new(Lang::En).amount(12500), "Rp12,500");
        assert!(
            T::new(Lang::En)
                .reason("on_hold_for_other")
                .contains("waiting")
        );
        assert!(
            T::new(Lang::Id)
                .reason("no_such_code")
                .contains("no_such_code")
        );
    }
}
