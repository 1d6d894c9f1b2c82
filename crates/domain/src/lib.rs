//! Pustaka's library vocabulary and circulation rules.
//!
//! This crate is the pure core shared by the server (which decides) and the
//! device (which explains before the patron asks). It does no IO and never
//! reads a clock: every rule takes `today` (a library-local date) or `now`
//! (milliseconds since the Unix epoch) as a parameter, so it builds for
//! `wasm32-unknown-unknown` and its tests are plain data tables.

pub mod i18n;
pub mod ics;
pub mod model;
pub mod opening;
pub mod policy;
pub mod reason;
pub mod rules;

pub use chrono::NaiveDate;
pub use model::*;
pub use policy::{Policy, PolicyError};
pub use reason::Reason;

/// Milliseconds since the Unix epoch. Time is always passed in, never read.
pub type Millis = i64;

/// The two languages Pustaka speaks. Bahasa Indonesia is the default.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}
