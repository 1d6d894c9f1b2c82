use dioxus::prelude::*;
use pustaka_ipc::AccountView;

use super::{ScreenHead, branch_name, not_ready, outcome_text, use_account};
use crate::components::{Empty, Load};
use crate::{Route, T, use_ctx};

#[component]
pub fn Home() -> Element {
    let ctx = use_ctx();
    let account = use_account();
    rsx! {
        HomeView { t: ctx.t(), account, offline: ctx.offline() }
    }
}

#[component]
pub fn HomeView(t: T, account: Load<AccountView>, offline: bool) -> Element {
    let title = match &account {
        Load::Ready(a) => t.ta("home-hello", &[("name", a.name.clone())]),
        _ => t.t("nav-home"),
    };
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    let overdue: Vec<_> = a.loans.iter().filter(|l| l.overdue).collect();
    let due_soon: Vec<_> = a
        .loans
        .iter()
        .filter(|l| !l.overdue && l.days_left <= 3)
        .collect();
    let ready: Vec<_> = a.holds.iter().filter(|h| h.status == "waiting").collect();
    let events: Vec<_> = a
        .events
        .iter()
        .filter(|e| e.registration.is_some())
        .take(3)
        .collect();
    let offset = a.utc_offset_minutes;
    let open_surveys = a
        .surveys
        .iter()
        .filter(|s| s.open && !s.answered && !s.pending)
        .count();
    rsx! {
        section { class: "screen home",
            ScreenHead { t: t.clone(), title, offline }
            if let Some(code) = &a.account_blocked {
                p { class: "warning", role: "alert", {t.reason(code)} }
            }
            if a.fines_owed > 0 {
                p { class: "fines", {t.ta("fines-owed", &[("amount", t.amount(a.fines_owed))])} }
            }
            if open_surveys > 0 {
                p { class: "surveys-link",
                    crate::components::Go { to: Route::Surveys {}, id: "home-surveys", {t.ta("home-surveys", &[("n", open_surveys.to_string())])} }
                }
            }
            div { class: "tiles",
                Tile { id: "h-overdue", title: t.t("home-overdue"), empty: overdue.is_empty().then(|| t.t("home-none-overdue")),
                    ul {
                        for l in overdue {
                            li { key: "{l.copy}", class: "overdue",
                                strong { "{l.title}" }
                                span { {t.ta("loan-overdue-days", &[("n", (-l.days_left).to_string())])} }
                            }
                        }
                    }
                }
                Tile { id: "h-due-soon", title: t.t("home-due-soon"), empty: due_soon.is_empty().then(|| t.t("home-none-due-soon")),
                    ul {
                        for l in due_soon {
                            li { key: "{l.copy}",
                                strong { "{l.title}" }
                                span { {t.ta("loan-due-on", &[("date", t.date(l.due))])} }
                            }
                        }
                    }
                    crate::components::Go { to: Route::Loans {}, class: "more", {t.t("home-all-loans")} }
                }
                Tile { id: "h-ready", title: t.t("home-holds-ready"), empty: ready.is_empty().then(|| t.t("home-none-ready")),
                    ul {
                        for h in ready {
                            li { key: "{h.id}",
                                strong { "{h.title}" }
                                span { {t.ta("hold-ready-at", &[("branch", branch_name(&a.branches, &h.pickup_branch))])} }
                                if let Some(by) = h.pickup_by {
                                    span { class: "deadline", {t.ta("hold-pickup-by", &[("date", t.date(by))])} }
                                }
                            }
                        }
                    }
                }
                Tile { id: "h-events", title: t.t("home-next-events"), empty: events.is_empty().then(|| t.t("home-none-events")),
                    ul {
                        for e in events {
                            li { key: "{e.id}",
                                strong { {if t.lang == crate::Lang::En { e.title_en.clone() } else { e.title_id.clone() }} }
                                span { {format!("{} {}", t.weekday_date(t.day_of(e.start, offset)), t.time(e.start, offset))} }
                            }
                        }
                    }
                }
            }
            section { class: "decisions", "aria-labelledby": "h-decisions",
                h2 { id: "h-decisions", {t.t("home-decisions")} }
                if a.outcomes.is_empty() && a.pending.is_empty() {
                    Empty { text: t.t("home-none-decisions") }
                }
                if !a.pending.is_empty() {
                    p { class: "pending", {t.ta("home-pending", &[("n", a.pending.len().to_string())])} }
                }
                ul {
                    for o in a.outcomes.iter().take(4) {
                        li { key: "{o.intent_id}", class: if o.accepted { "accepted" } else { "refused" },
                            {outcome_text(&t, o)}
                        }
                    }
                }
            }
        }
    }
}

/// One tile of the home screen: a titled section, or its empty text.
#[component]
fn Tile(id: String, title: String, empty: Option<String>, children: Element) -> Element {
    rsx! {
        section { class: "tile", "aria-labelledby": "{id}",
            h2 { id: "{id}", "{title}" }
            if let Some(text) = empty {
                Empty { text }
            }
            {children}
        }
    }
}
