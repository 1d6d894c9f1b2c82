use dioxus::prelude::*;
use pustaka_ipc::AccountView;

use super::{ScreenHead, not_ready, use_account};
use crate::components::{Load, QrCode};
use crate::{T, use_ctx};

#[component]
pub fn Card() -> Element {
    let ctx = use_ctx();
    let account = use_account();
    rsx! {
        CardView { t: ctx.t(), account, offline: ctx.offline() }
    }
}

#[component]
pub fn CardView(t: T, account: Load<AccountView>, offline: bool) -> Element {
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
                QrCode { payload: a.card.clone(), label: t.ta("card-qr-label", &[("card", a.card.clone())]) }
                p { class: "name", "{a.name}" }
                p { class: "number", id: "card-number", "{a.card}" }
                if let Some(code) = &a.account_blocked {
                    p { class: "warning", role: "alert", {t.reason(code)} }
                }
            }
            p { class: "muted", {t.t("card-hint")} }
        }
    }
}
