use dioxus::prelude::*;
use pustaka_ipc::{AccountView, LoanView, PendingState, Renew, RenewAll, StartupMark};

use super::{ScreenHead, not_ready, outcome_text, use_account};
use crate::components::{Empty, Load};
use crate::{T, act, use_backend, use_ctx};

#[component]
pub fn Loans() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    let b2 = backend.clone();
    let b3 = backend.clone();
    // After the first render with the patron's loans: a start-up milestone,
    // sent once per page load (not on every visit to Loans).
    static MARKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let ready = matches!(account, Load::Ready(_));
    use_effect(use_reactive!(|ready| {
        if ready && !MARKED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            let b = b3.clone();
            spawn(async move {
                let _ = b
                    .call(&StartupMark {
                        mark: "loans-visible".into(),
                    })
                    .await;
            });
        }
    }));
    rsx! {
        LoansView {
            t: ctx.t(),
            account,
            offline: ctx.offline(),
            on_renew: move |copy: String| act(backend.clone(), ctx, Renew { copy }, "done-renew"),
            on_renew_all: move |_| act(b2.clone(), ctx, RenewAll {}, "done-renew-all"),
        }
    }
}

#[component]
pub fn LoansView(
    t: T,
    account: Load<AccountView>,
    offline: bool,
    on_renew: EventHandler<String>,
    on_renew_all: EventHandler<()>,
) -> Element {
    let title = t.t("loans-title");
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    let any_renewable = a
        .loans
        .iter()
        .any(|l| l.renew_blocked.is_none() && !l.pending_renewal);
    let results: Vec<_> = a
        .outcomes
        .iter()
        .filter(|o| o.kind == "renew" || o.kind == "renew_all")
        .take(3)
        .collect();
    rsx! {
        section { class: "screen loans",
            ScreenHead { t: t.clone(), title, offline }
            if let Some(code) = &a.account_blocked {
                p { class: "warning", role: "alert", {t.reason(code)} }
            }
            if a.loans.is_empty() {
                Empty { text: t.t("loans-empty") }
            } else {
                div { class: "toolbar",
                    p { {t.ta("loans-count", &[("n", a.loans.len().to_string())])} }
                    button {
                        id: "renew-all",
                        class: "secondary",
                        disabled: !any_renewable,
                        onclick: move |_| on_renew_all.call(()),
                        {t.t("loans-renew-all")}
                    }
                }
                ul { class: "cards", id: "loan-list",
                    for l in a.loans.iter() {
                        LoanItem { key: "{l.copy}", t: t.clone(), loan: l.clone(), on_renew }
                    }
                }
            }
            if !results.is_empty() {
                section { "aria-labelledby": "h-results",
                    h2 { id: "h-results", {t.t("loans-results")} }
                    ul { class: "results",
                        for o in results {
                            li { key: "{o.intent_id}", class: if o.accepted { "accepted" } else { "refused" },
                                p { {outcome_text(&t, o)} }
                                if !o.items.is_empty() {
                                    ul {
                                        for (copy, ok, reason) in o.items.iter() {
                                            li { key: "{copy}",
                                                {item_result(&t, &a, copy, *ok, reason.as_deref())}
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            if !a.pending.is_empty() {
                section { "aria-labelledby": "h-pending",
                    h2 { id: "h-pending", {t.t("pending-title")} }
                    ul { class: "pending-list",
                        for p in a.pending.iter() {
                            li { key: "{p.id}", class: "pending",
                                {t.t(&format!("kind-{}", p.kind))}
                                " — "
                                {match p.state {
                                    PendingState::WaitingToSend => t.t("pending-waiting"),
                                    PendingState::ReceivedByLibrary => t.t("pending-received"),
                                }}
                            }
                        }
                    }
                }
            }
            details { class: "history",
                summary { {t.ta("history-title", &[("n", a.history.len().to_string())])} }
                if !a.keep_history {
                    p { class: "muted", id: "history-off", {t.t("history-not-kept")} }
                } else if a.history.is_empty() {
                    Empty { text: t.t("history-empty") }
                }
                ul {
                    for h in a.history.iter().take(200) {
                        li { key: "{h.title_id}-{h.checked_out}",
                            strong { "{h.title}" }
                            span { {t.ta("history-dates", &[("from", t.date(h.checked_out)), ("to", t.date(h.returned))])} }
                        }
                    }
                }
            }
        }
    }
}

fn item_result(t: &T, a: &AccountView, copy: &str, ok: bool, reason: Option<&str>) -> String {
    let title = a
        .loans
        .iter()
        .find(|l| l.copy == copy)
        .map(|l| l.title.clone())
        .unwrap_or_else(|| copy.to_string());
    if ok {
        t.ta("loans-item-renewed", &[("title", title)])
    } else {
        t.ta(
            "loans-item-refused",
            &[
                ("title", title),
                ("why", reason.map(|r| t.reason(r)).unwrap_or_default()),
            ],
        )
    }
}

#[component]
fn LoanItem(t: T, loan: LoanView, on_renew: EventHandler<String>) -> Element {
    let l = loan;
    let copy = l.copy.clone();
    let due_class = if l.overdue {
        "due overdue"
    } else if l.days_left <= 3 {
        "due soon"
    } else {
        "due"
    };
    let days = if l.overdue {
        t.ta("loan-overdue-days", &[("n", (-l.days_left).to_string())])
    } else if l.days_left == 0 {
        t.t("loan-due-today")
    } else {
        t.ta("loan-days-left", &[("n", l.days_left.to_string())])
    };
    let can_renew = l.renew_blocked.is_none() && !l.pending_renewal;
    rsx! {
        li { class: "card loan", id: "loan-{l.copy}", "data-copy": "{l.copy}",
            h2 { class: "card-title", "{l.title}" }
            p { class: "muted", "{l.author}" }
            p { class: due_class,
                span { class: "due-date", "data-due": "{l.due}", {t.ta("loan-due-on", &[("date", t.date(l.due))])} }
                " · "
                span { "{days}" }
            }
            p { class: "muted", {t.ta("loan-renewals-left", &[("n", l.renewals_left.to_string())])} }
            if l.fine > 0 {
                p { class: "fines", {t.ta("loan-fine", &[("amount", t.amount(l.fine))])} }
            }
            if l.pending_renewal {
                p { class: "badge pending", id: "pending-{l.copy}", role: "status",
                    {t.t("loan-renewal-pending")}
                }
            } else if let Some(code) = &l.renew_blocked {
                p { class: "why", id: "why-{l.copy}", {t.reason(code)} }
            } else if let Some(new_due) = l.renew_preview {
                p { class: "preview", id: "why-{l.copy}", {t.ta("loan-preview", &[("date", t.date(new_due))])} }
            }
            button {
                class: "primary renew",
                "data-copy": "{l.copy}",
                disabled: !can_renew,
                "aria-describedby": "why-{l.copy}",
                "aria-label": t.ta("loan-renew-label", &[("title", l.title.clone())]),
                onclick: move |_| on_renew.call(copy.clone()),
                {t.t("loan-renew")}
            }
        }
    }
}
