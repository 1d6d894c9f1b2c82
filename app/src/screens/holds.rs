use chrono::NaiveDate;
use dioxus::prelude::*;
use pustaka_ipc::{
    AccountView, BranchInfo, CancelHold, ChangePickup, HoldView, ResumeHold, SuspendHold,
};

use super::{ScreenHead, branch_name, not_ready, use_account};
use crate::components::{Empty, Load};
use crate::{T, act, use_backend, use_ctx};

#[derive(Debug, Clone, PartialEq)]
pub enum HoldAction {
    Cancel(String),
    Suspend(String, NaiveDate),
    Resume(String),
    ChangePickup(String, String),
}

#[component]
pub fn Holds() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    rsx! {
        HoldsView {
            t: ctx.t(),
            account,
            offline: ctx.offline(),
            on_action: move |a: HoldAction| {
                let b = backend.clone();
                match a {
                    HoldAction::Cancel(hold) => act(b, ctx, CancelHold { hold }, "done-cancel-hold"),
                    HoldAction::Suspend(hold, until) => act(b, ctx, SuspendHold { hold, until }, "done-suspend-hold"),
                    HoldAction::Resume(hold) => act(b, ctx, ResumeHold { hold }, "done-resume-hold"),
                    HoldAction::ChangePickup(hold, branch) => act(b, ctx, ChangePickup { hold, branch }, "done-change-pickup"),
                }
            },
        }
    }
}

#[component]
pub fn HoldsView(
    t: T,
    account: Load<AccountView>,
    offline: bool,
    on_action: EventHandler<HoldAction>,
) -> Element {
    let title = t.t("holds-title");
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    rsx! {
        section { class: "screen holds",
            ScreenHead { t: t.clone(), title, offline }
            if a.holds.is_empty() {
                Empty { text: t.t("holds-empty") }
            }
            ul { class: "cards", id: "hold-list",
                for h in a.holds.iter() {
                    HoldItem { key: "{h.id}", t: t.clone(), hold: h.clone(), branches: a.branches.clone(), today: a.today, on_action }
                }
            }
        }
    }
}

/// The suspension lengths offered, in days.
const SUSPEND_DAYS: [i64; 5] = [7, 14, 30, 60, 90];

#[component]
fn HoldItem(
    t: T,
    hold: HoldView,
    branches: Vec<BranchInfo>,
    today: NaiveDate,
    on_action: EventHandler<HoldAction>,
) -> Element {
    let h = hold;
    let mut until = use_signal(|| today + chrono::Duration::days(14));
    let mut pickup = use_signal(|| h.pickup_branch.clone());
    let status = t.t(&format!("hold-status-{}", h.status));
    let (id1, id2, id3, id4) = (h.id.clone(), h.id.clone(), h.id.clone(), h.id.clone());
    let captured = h.captured;
    rsx! {
        li { class: "card hold", id: "hold-{h.id}", "data-status": "{h.status}",
            h2 { class: "card-title", "{h.title}" }
            p { class: "badge status-{h.status}", "{status}" }
            match h.status.as_str() {
                "waiting" => rsx! {
                    p { {t.ta("hold-ready-at", &[("branch", branch_name(&branches, &h.pickup_branch))])} }
                    if let Some(by) = h.pickup_by {
                        p { class: "deadline", {t.ta("hold-pickup-by", &[("date", t.date(by))])} }
                    }
                },
                "in_transit" => rsx! {
                    p { {t.ta("hold-in-transit", &[("branch", branch_name(&branches, &h.pickup_branch))])} }
                },
                _ => rsx! {
                    p { {t.ta("hold-position", &[("position", h.position.to_string()), ("total", h.queue_len.to_string())])} }
                    p { class: "muted", {t.ta("hold-wait", &[("n", h.estimated_wait_days.to_string()), ("copies", h.copies.to_string())])} }
                    p { class: "muted", {t.ta("hold-pickup-at", &[("branch", branch_name(&branches, &h.pickup_branch))])} }
                },
            }
            if let Some(d) = h.suspended_until {
                p { {t.ta("hold-suspended-until", &[("date", t.date(d))])} }
            }
            div { class: "actions",
                if h.status == "suspended" {
                    button { class: "secondary", onclick: move |_| on_action.call(HoldAction::Resume(id1.clone())), {t.t("hold-resume")} }
                } else if !captured {
                    // A choice of dates, not a date field: WebKitGTK's date
                    // field keeps the Tab key inside it (a keyboard trap).
                    label { r#for: "until-{h.id}", {t.t("hold-suspend-until")} }
                    select {
                        id: "until-{h.id}",
                        onchange: move |e| if let Ok(d) = e.value().parse() { until.set(d) },
                        for days in SUSPEND_DAYS {
                            option {
                                key: "{days}",
                                value: "{today + chrono::Duration::days(days)}",
                                selected: today + chrono::Duration::days(days) == until(),
                                {t.ta("hold-suspend-option", &[("n", days.to_string())])}
                            }
                        }
                    }
                    p { class: "muted", id: "until-date-{h.id}", {t.ta("hold-suspend-preview", &[("date", t.date(until()))])} }
                    button { class: "secondary", onclick: move |_| on_action.call(HoldAction::Suspend(id2.clone(), until())), {t.t("hold-suspend")} }
                }
                if !captured {
                    label { r#for: "pickup-{h.id}", {t.t("hold-change-pickup")} }
                    select {
                        id: "pickup-{h.id}",
                        onchange: move |e| pickup.set(e.value()),
                        for b in branches.iter().filter(|b| b.pickup) {
                            option { key: "{b.id}", value: "{b.id}", selected: b.id == h.pickup_branch, "{b.name}" }
                        }
                    }
                    button {
                        class: "secondary",
                        disabled: pickup() == h.pickup_branch,
                        onclick: move |_| on_action.call(HoldAction::ChangePickup(id3.clone(), pickup())),
                        {t.t("hold-change-pickup-save")}
                    }
                }
                button {
                    class: "danger",
                    "aria-label": t.ta("hold-cancel-label", &[("title", h.title.clone())]),
                    onclick: move |_| on_action.call(HoldAction::Cancel(id4.clone())),
                    {t.t("hold-cancel")}
                }
            }
        }
    }
}
