//! One module per screen. Each has a route component (hooks: queries and
//! actions) and a props-only `*View` that the headless tests render.

pub mod card;
pub mod catalogue;
pub mod events;
pub mod faq;
pub mod holds;
pub mod home;
pub mod household;
pub mod lists;
pub mod loans;
pub mod scan;
pub mod settings;
pub mod signin;
pub mod surveys;

pub use card::Card;
pub use catalogue::{Catalogue, Title};
pub use events::Events;
pub use faq::Faq;
pub use holds::Holds;
pub use home::Home;
pub use household::Household;
pub use lists::{Lists, SharedListScreen};
pub use loans::Loans;
pub use scan::Scan;
pub use settings::Settings;
pub use surveys::Surveys;

use dioxus::prelude::*;
use pustaka_ipc::{AccountView, BranchInfo, GetAccount, OutcomeView};

use crate::components::Load;
use crate::{T, use_ctx, use_query};

/// The account from the replica, refetched on every change; also tells the
/// frame the library's time zone.
pub fn use_account() -> Load<AccountView> {
    let mut ctx = use_ctx();
    let res = use_query(|| GetAccount {});
    // The status bar's clock follows the library's zone, once it is known
    // (an effect: a signal is never written while rendering).
    use_effect(move || {
        if let Some(Ok(a)) = &*res.read()
            && *ctx.utc_offset.peek() != a.utc_offset_minutes
        {
            ctx.utc_offset.set(a.utc_offset_minutes);
        }
    });
    Load::of(&res.read())
}

pub fn branch_name(branches: &[BranchInfo], id: &str) -> String {
    branches
        .iter()
        .find(|b| b.id == id)
        .map(|b| b.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// An outcome's text in the patron's language, as the library worded it.
pub fn outcome_text(t: &T, o: &OutcomeView) -> String {
    let text = if t.lang == crate::Lang::En {
        &o.text_en
    } else {
        &o.text_id
    };
    if text.is_empty() {
        o.reason.as_deref().map(|r| t.reason(r)).unwrap_or_default()
    } else {
        text.clone()
    }
}

/// The common head of a screen: its title, and the offline banner or the
/// loading/error state when there is nothing to show yet.
#[component]
pub fn ScreenHead(t: T, title: String, offline: bool) -> Element {
    rsx! {
        h1 { id: "screen-title", "{title}" }
        if offline {
            crate::components::OfflineBanner { t }
        }
    }
}

/// Loading and error states shared by the account screens.
pub fn not_ready<V>(t: &T, load: &Load<V>) -> Option<Element> {
    match load {
        Load::Loading => Some(rsx! { crate::components::Loading { t: t.clone() } }),
        Load::Failed(e) => {
            Some(rsx! { crate::components::ErrorBox { t: t.clone(), error: e.clone() } })
        }
        Load::Ready(_) => None,
    }
}
