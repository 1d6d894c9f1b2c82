//! A library's circulation policy, read from a TOML file.
//!
//! Every number a rule needs lives here, so two libraries differ by their
//! policy file, never by code. `Policy::validate` rejects a file whose parts
//! refer to each other wrongly (an unknown item type in a loan rule, say).

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("policy is inconsistent: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub library: LibraryInfo,
    pub branches: Vec<Branch>,
    pub patron_types: Vec<PatronType>,
    pub item_types: Vec<ItemType>,
    #[serde(default)]
    pub loan_rules: Vec<LoanRule>,
    pub fines: FinePolicy,
    pub holds: HoldPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryInfo {
    pub name: String,
    /// Library-local time as an offset from UTC, e.g. 420 for WIB (Asia/Jakarta).
    pub utc_offset_minutes: i32,
    pub timezone: String,
    pub currency: String,
    /// Where a renewal's new loan period starts.
    pub renewal_base: RenewalBase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalBase {
    /// today + loan period (SLiMS).
    Today,
    /// old due date + loan period (a Koha option).
    DueDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    Branch,
    BookVan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    pub id: String,
    pub name: String,
    pub kind: BranchKind,
    /// Weekly closed days, e.g. ["sun"].
    #[serde(default)]
    pub closed_weekdays: Vec<String>,
    /// Specific closed dates (public holidays, stock-taking days).
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    #[serde(default = "yes")]
    pub pickup_location: bool,
    /// Accessibility notes shown to patrons (ramps, wheelchair access,
    /// Braille corner), in Indonesian and English.
    #[serde(default)]
    pub accessibility_id: Option<String>,
    #[serde(default)]
    pub accessibility_en: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatronType {
    pub id: String,
    pub loan_limit: u32,
    pub hold_limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemType {
    pub id: String,
    pub loan_days: u32,
    pub max_renewals: u32,
    /// Renewal opens this many days before the due date (0 = any time).
    #[serde(default)]
    pub no_renewal_before_days: u32,
    #[serde(default = "yes")]
    pub circulates: bool,
    #[serde(default)]
    pub desk_renewal_only: bool,
    pub fine_per_day: i64,
    pub fine_cap: i64,
}

/// A refinement of limits and periods. The most specific matching rule wins:
/// collection+format, then collection, then format, then patron type alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanRule {
    pub patron_type: Option<String>,
    pub item_type: Option<String>,
    pub collection: Option<String>,
    pub loan_limit: Option<u32>,
    pub loan_days: Option<u32>,
    pub max_renewals: Option<u32>,
}

impl LoanRule {
    fn specificity(&self) -> u8 {
        match (&self.collection, &self.item_type) {
            (Some(_), Some(_)) => 3,
            (Some(_), None) => 2,
            (None, Some(_)) => 1,
            (None, None) => 0,
        }
    }

    pub fn matches(&self, patron_type: &str, item_type: &str, collection: Option<&str>) -> bool {
        self.patron_type.as_deref().is_none_or(|p| p == patron_type)
            && self.item_type.as_deref().is_none_or(|t| t == item_type)
            && self
                .collection
                .as_deref()
                .is_none_or(|c| Some(c) == collection)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinePolicy {
    /// Overdue days up to this many cost nothing; past it, every day counts.
    pub grace_days: u32,
    /// Owing more than this blocks renewals, holds and checkouts.
    pub block_threshold: i64,
    #[serde(default)]
    pub exclude_closed_days: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldPolicy {
    pub pickup_days: u32,
    pub default_suspend_days: u32,
    pub max_suspend_days: u32,
    #[serde(default)]
    pub only_when_none_on_shelf: bool,
}

impl Policy {
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text)?;
        policy.validate()?;
        Ok(policy)
    }

    pub fn to_toml(&self) -> String {
        // Serialising our own plain struct cannot fail; fall back to empty on
        // the impossible path rather than panicking.
        toml::to_string(self).unwrap_or_default()
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |m: String| Err(PolicyError::Invalid(m));
        let mut ids = BTreeSet::new();
        for b in &self.branches {
            if !ids.insert(b.id.as_str()) {
                return bad(format!("branch `{}` is defined twice", b.id));
            }
            for d in &b.closed_weekdays {
                if parse_weekday(d).is_none() {
                    return bad(format!("branch `{}`: `{d}` is not a weekday", b.id));
                }
            }
            if b.closed_weekdays.len() >= 7 {
                return bad(format!("branch `{}` is never open", b.id));
            }
        }
        if self.branches.is_empty() || self.patron_types.is_empty() || self.item_types.is_empty() {
            return bad("a policy needs branches, patron types and item types".into());
        }
        for r in &self.loan_rules {
            if let Some(p) = &r.patron_type
                && self.patron_type(p).is_none()
            {
                return bad(format!("loan rule names unknown patron type `{p}`"));
            }
            if let Some(t) = &r.item_type
                && self.item_type(t).is_none()
            {
                return bad(format!("loan rule names unknown item type `{t}`"));
            }
        }
        for t in &self.item_types {
            if t.fine_per_day < 0 || t.fine_cap < 0 {
                return bad(format!("item type `{}` has a negative fine", t.id));
            }
        }
        Ok(())
    }

    pub fn branch(&self, id: &str) -> Option<&Branch> {
        self.branches.iter().find(|b| b.id == id)
    }

    pub fn patron_type(&self, id: &str) -> Option<&PatronType> {
        self.patron_types.iter().find(|p| p.id == id)
    }

    pub fn item_type(&self, id: &str) -> Option<&ItemType> {
        self.item_types.iter().find(|t| t.id == id)
    }

    /// The matching loan rules, most specific first.
    pub fn rules_for<'a>(
        &'a self,
        patron_type: &'a str,
        item_type: &'a str,
        collection: Option<&'a str>,
    ) -> impl Iterator<Item = &'a LoanRule> + 'a {
        let mut v: Vec<&LoanRule> = self
            .loan_rules
            .iter()
            .filter(|r| r.matches(patron_type, item_type, collection))
            .collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.specificity()));
        v.into_iter()
    }
}

pub fn parse_weekday(s: &str) -> Option<Weekday> {
    match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" | "senin" => Some(Weekday::Mon),
        "tue" | "tuesday" | "selasa" => Some(Weekday::Tue),
        "wed" | "wednesday" | "rabu" => Some(Weekday::Wed),
        "thu" | "thursday" | "kamis" => Some(Weekday::Thu),
        "fri" | "friday" | "jumat" => Some(Weekday::Fri),
        "sat" | "saturday" | "sabtu" => Some(Weekday::Sat),
        "sun" | "sunday" | "minggu" => Some(Weekday::Sun),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../assets/demo/policy.toml");

    #[test]
    fn demo_policy_parses_and_validates() {
        let p = Policy::from_toml(DEMO).expect("demo policy");
        assert!(p.branches.len() >= 4);
        assert!(p.branches.iter().any(|b| b.kind == BranchKind::BookVan));
        let again = Policy::from_toml(&p.to_toml()).expect("round trip");
        assert_eq!(p, again);
    }

    #[test]
    fn inconsistent_policies_are_refused_with_a_reason() {
        let cases = [
            (
                DEMO.replace(
                    "closed_weekdays = [\"sun\"]",
                    "closed_weekdays = [\"funday\"]",
                ),
                "not a weekday",
            ),
            (
                format!("{DEMO}\n[[loan_rules]]\nitem_type = \"zeppelin\"\nloan_days = 3\n"),
                "unknown item type",
            ),
            ("library = 3".to_string(), "TOML"),
        ];
        for (text, expect) in cases {
            let err = Policy::from_toml(&text).expect_err(expect).to_string();
            assert!(err.contains(expect), "{err} should mention {expect}");
        }
    }

    #[test]
    fn most_specific_loan_rule_wins() {
        let p = Policy::from_toml(DEMO).unwrap();
        let first = p.rules_for("adult", "book", Some("reference")).next();
        let spec = first.map(|r| r.specificity()).unwrap_or(0);
        assert!(
            p.rules_for("adult", "book", Some("reference"))
                .all(|r| r.specificity() <= spec)
        );
    }
}
