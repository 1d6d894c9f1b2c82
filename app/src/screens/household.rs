//! "Keluarga": every library card on this device (a parent's and the
//! children's), one list of all their due dates and ready holds (offline),
//! one tap to show another card, and adding or removing a card.

use dioxus::prelude::*;
use pustaka_ipc::{AddCard, GetHousehold, HouseholdView, RemoveCard, Session, SwitchCard};

use super::{ScreenHead, not_ready};
use crate::components::{Empty, Load};
use crate::{Notice, T, use_backend, use_ctx, use_query};

#[derive(Debug, Clone, PartialEq)]
pub enum HouseholdAction {
    Switch(String),
    Remove(String),
    Add {
        server: String,
        card: String,
        pin: String,
    },
}

#[component]
pub fn Household() -> Element {
    let mut ctx = use_ctx();
    let backend = use_backend();
    let view = use_query(|| GetHousehold {});
    let server = match &*ctx.session.read() {
        Some(Ok(s)) => s.server.clone().unwrap_or_default(),
        _ => String::new(),
    };
    rsx! {
        HouseholdScreen {
            t: ctx.t(),
            offline: ctx.offline(),
            view: Load::of(&view.read()),
            server,
            on_action: move |a: HouseholdAction| {
                let b = backend.clone();
                spawn(async move {
                    let r: Result<Session, _> = match a {
                        HouseholdAction::Switch(card) => b.call(&SwitchCard { card }).await,
                        HouseholdAction::Remove(card) => b.call(&RemoveCard { card }).await,
                        HouseholdAction::Add { server, card, pin } => {
                            b.call(&AddCard { server, card, pin }).await
                        }
                    };
                    match r {
                        Ok(s) => {
                            ctx.status.set(s.status.clone());
                            ctx.session.set(Some(Ok(s)));
                            ctx.notice.set(Some(Notice::Done("done-household")));
                            ctx.bump();
                        }
                        Err(e) => ctx.notice.set(Some(Notice::Failed(e))),
                    }
                });
            },
        }
    }
}

#[component]
pub fn HouseholdScreen(
    t: T,
    offline: bool,
    view: Load<HouseholdView>,
    /// The library the cards belong to (the add form's default).
    server: String,
    on_action: EventHandler<HouseholdAction>,
) -> Element {
    let title = t.t("household-title");
    let mut card = use_signal(String::new);
    let mut pin = use_signal(String::new);
    if let Some(e) = not_ready(&t, &view) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(v) = view else {
        return rsx! {};
    };
    rsx! {
        section { class: "screen household",
            ScreenHead { t: t.clone(), title, offline }
            p { class: "muted", {t.t("household-hint")} }
            section { "aria-labelledby": "h-household-cards",
                h2 { id: "h-household-cards", {t.t("household-cards")} }
                ul { class: "cards members",
                    for m in v.members.iter() {
                        li { key: "{m.card}", class: "card member", id: "member-{m.card}",
                            h3 { "{m.name}" }
                            p { class: "muted", {t.ta("household-card-no", &[("card", m.card.clone())])} }
                            p {
                                {t.ta("household-counts", &[
                                    ("loans", m.loans.to_string()),
                                    ("overdue", m.overdue.to_string()),
                                    ("ready", m.ready.to_string()),
                                ])}
                            }
                            if !m.synced {
                                p { class: "muted", {t.t("household-not-synced")} }
                            }
                            div { class: "actions",
                                if m.active {
                                    p { class: "badge ok", "aria-current": "true", {t.t("household-shown")} }
                                } else {
                                    button {
                                        class: "primary",
                                        id: "show-{m.card}",
                                        "aria-label": t.ta("household-show-label", &[("name", m.name.clone())]),
                                        onclick: {
                                            let c = m.card.clone();
                                            move |_| on_action.call(HouseholdAction::Switch(c.clone()))
                                        },
                                        {t.t("household-show")}
                                    }
                                }
                                button {
                                    class: "secondary danger",
                                    id: "remove-{m.card}",
                                    "aria-label": t.ta("household-remove-label", &[("name", m.name.clone())]),
                                    onclick: {
                                        let c = m.card.clone();
                                        move |_| on_action.call(HouseholdAction::Remove(c.clone()))
                                    },
                                    {t.t("household-remove")}
                                }
                            }
                        }
                    }
                }
            }
            section { "aria-labelledby": "h-household-dates",
                h2 { id: "h-household-dates", {t.t("household-dates")} }
                if v.items.is_empty() {
                    Empty { text: t.t("household-nothing") }
                }
                ul { class: "household-items",
                    for i in v.items.iter() {
                        li { key: "{i.card}-{i.kind}-{i.title}", class: if i.overdue { "overdue" } else { "" },
                            strong { "{i.title}" }
                            " · {i.name} · "
                            {if i.kind == "hold_ready" {
                                t.ta("household-pickup-by", &[("date", t.date(i.date))])
                            } else if i.overdue {
                                t.ta("household-overdue", &[("date", t.date(i.date))])
                            } else {
                                t.ta("household-due", &[("date", t.date(i.date))])
                            }}
                        }
                    }
                }
            }
            section { "aria-labelledby": "h-household-add",
                h2 { id: "h-household-add", {t.t("household-add")} }
                p { class: "muted", {t.t("household-add-hint")} }
                form {
                    class: "inline-form",
                    onsubmit: move |e| {
                        e.prevent_default();
                        on_action.call(HouseholdAction::Add { server: server.clone(), card: card(), pin: pin() });
                        pin.set(String::new());
                    },
                    label { r#for: "add-card", {t.t("signin-card")} }
                    input { id: "add-card", inputmode: "numeric", autocomplete: "off", required: true,
                        value: "{card}", oninput: move |e| card.set(e.value()) }
                    label { r#for: "add-pin", {t.t("signin-pin")} }
                    input { id: "add-pin", r#type: "password", inputmode: "numeric", autocomplete: "off", required: true,
                        value: "{pin}", oninput: move |e| pin.set(e.value()) }
                    button { id: "add-card-go", r#type: "submit", class: "primary", {t.t("household-add-go")} }
                }
            }
        }
    }
}
