use dioxus::prelude::*;
use pustaka_ipc::{AccountView, GetCardCode};

use super::{ScreenHead, not_ready, use_account};
use crate::components::{Load, QrCode};
use crate::{T, use_ctx, use_query};

#[component]
pub fn Card() -> Element {
    let ctx = use_ctx();
    let account = use_account();
    // The library's signed code, kept on the device; the card number
    // until one was fetched.
    let signed = use_query(|| GetCardCode {});
    let signed = match &*signed.read() {
        Some(Ok(code)) => code.clone(),
        _ => None,
    };
    rsx! {
        CardView { t: ctx.t(), account, offline: ctx.offline(), signed }
    }
}

#[component]
pub fn CardView(
    t: T,
    account: Load<AccountView>,
    offline: bool,
    #[props(default)] signed: Option<String>,
) -> Element {
    let title = t.t("card-title");
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    rsx! {
        section { class: "screen card-screen",
            ScreenHead { t: t.clone(), title, offline: false }
            div { class: "member-card",
                p { class: "library",
                    {if a.library.is_empty() { t.t("app-name") } else { a.library.clone() }}
                }
                QrCode {
                    payload: signed.clone().unwrap_or_else(|| a.card.clone()),
                    label: t.ta("card-qr-label", &[("card", a.card.clone())]),
                }
                p { class: "name", "{a.name}" }
                p { class: "number", id: "card-number", "{a.card}" }
                if let Some(code) = &a.account_blocked {
                    p { class: "warning", role: "alert", {t.reason(code)} }
                }
            }
            p { class: "muted", {t.t("card-hint")} }
            if signed.is_some() {
                p { class: "muted", id: "card-signed", {t.t("card-signed")} }
            }
        }
    }
}
