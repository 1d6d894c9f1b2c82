use std::collections::BTreeMap;

use chrono::NaiveDate;
use dioxus::prelude::*;
use pustaka_ipc::{AccountView, AddToCalendar, CancelRegistration, EventView, RegisterEvent};

use super::{ScreenHead, branch_name, not_ready, use_account};
use crate::components::{Empty, Load};
use crate::{Notice, T, act, use_backend, use_ctx};

pub const CATEGORIES: [&str; 5] = ["storytelling", "literacy", "seminar", "webinar", "book_van"];

#[derive(Debug, Clone, PartialEq)]
pub enum EventAction {
    Register(String),
    Cancel(String),
    AddToCalendar(String),
}

#[component]
pub fn Events() -> Element {
    let mut ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    rsx! {
        EventsView {
            t: ctx.t(),
            account,
            offline: ctx.offline(),
            on_action: move |a: EventAction| {
                let b = backend.clone();
                match a {
                    EventAction::Register(event) => act(b, ctx, RegisterEvent { event }, "done-register"),
                    EventAction::Cancel(event) => act(b, ctx, CancelRegistration { event }, "done-cancel-registration"),
                    EventAction::AddToCalendar(event) => {
                        spawn(async move {
                            let t = ctx.t();
                            match b.call(&AddToCalendar { event }).await {
                                Ok(path) => ctx.notice.set(Some(Notice::Text(t.ta("done-calendar", &[("path", path)])))),
                                Err(e) => ctx.notice.set(Some(Notice::Failed(e))),
                            }
                        });
                    }
                }
            },
        }
    }
}

#[component]
pub fn EventsView(
    t: T,
    account: Load<AccountView>,
    offline: bool,
    on_action: EventHandler<EventAction>,
) -> Element {
    let mut branch = use_signal(String::new);
    let mut category = use_signal(String::new);
    let title = t.t("events-title");
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    let offset = a.utc_offset_minutes;
    let mut days: BTreeMap<NaiveDate, Vec<&EventView>> = BTreeMap::new();
    for e in a.events.iter().filter(|e| {
        (branch().is_empty() || e.branch.as_deref() == Some(branch().as_str()))
            && (category().is_empty() || e.category == category())
    }) {
        days.entry(t.day_of(e.start, offset)).or_default().push(e);
    }
    rsx! {
        section { class: "screen events",
            ScreenHead { t: t.clone(), title, offline }
            div { class: "filters", role: "group", "aria-label": t.t("events-filters"),
                label { r#for: "event-branch", {t.t("events-branch")} }
                select { id: "event-branch", onchange: move |e| branch.set(e.value()),
                    option { value: "", {t.t("filter-all-branches")} }
                    for b in a.branches.iter() {
                        option { key: "{b.id}", value: "{b.id}", "{b.name}" }
                    }
                }
                label { r#for: "event-category", {t.t("events-category")} }
                select { id: "event-category", onchange: move |e| category.set(e.value()),
                    option { value: "", {t.t("filter-all-categories")} }
                    for c in CATEGORIES {
                        option { key: "{c}", value: "{c}", {t.t(&format!("category-{c}"))} }
                    }
                }
            }
            if days.is_empty() {
                Empty { text: t.t("events-empty") }
            }
            for (day, events) in days {
                section { key: "{day}", class: "day", "aria-labelledby": "day-{day}",
                    h2 { id: "day-{day}", {t.weekday_date(day)} }
                    ul { class: "cards",
                        for e in events {
                            EventItem {
                                key: "{e.id}",
                                t: t.clone(),
                                event: e.clone(),
                                place: e.branch.as_deref().map(|b| branch_name(&a.branches, b)),
                                branch_access: e.branch.as_deref().and_then(|b| branch_access(&t, &a.branches, b)),
                                offset,
                                on_action,
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A branch's accessibility notes in the app's language.
pub fn branch_access(t: &T, branches: &[pustaka_ipc::BranchInfo], id: &str) -> Option<String> {
    let b = branches.iter().find(|b| b.id == id)?;
    if t.lang == crate::Lang::En {
        b.accessibility_en.clone()
    } else {
        b.accessibility_id.clone()
    }
}

/// An event's own access note, written "Indonesian / English" by the
/// library: the part in the app's language when it has both.
fn event_access(t: &T, note: &str) -> String {
    match note.split_once(" / ") {
        Some((_, en)) if t.lang == crate::Lang::En => en.trim().to_string(),
        Some((id, _)) => id.trim().to_string(),
        None => note.trim().to_string(),
    }
}

#[component]
fn EventItem(
    t: T,
    event: EventView,
    place: Option<String>,
    /// The accessibility notes of the event's branch.
    branch_access: Option<String>,
    offset: i32,
    on_action: EventHandler<EventAction>,
) -> Element {
    let e = event;
    let name = if t.lang == crate::Lang::En {
        e.title_en.clone()
    } else {
        e.title_id.clone()
    };
    let (id1, id2, id3) = (e.id.clone(), e.id.clone(), e.id.clone());
    let seats = if e.capacity == 0 {
        t.t("event-open")
    } else if e.seats_left > 0 {
        t.ta(
            "event-seats-left",
            &[
                ("n", e.seats_left.to_string()),
                ("capacity", e.capacity.to_string()),
            ],
        )
    } else {
        t.ta("event-full", &[("n", e.waitlist.to_string())])
    };
    rsx! {
        li { class: "card event", id: "event-{e.id}", "data-category": "{e.category}",
            h3 { "{name}" }
            p { class: "badge cat-{e.category}", {t.t(&format!("category-{}", e.category))} }
            p { {format!("{}–{}", t.time(e.start, offset), t.time(e.end, offset))} " · " "{e.place}"
                if let Some(p) = place { " · {p}" }
            }
            p { class: "muted seats", "{seats}" }
            if !e.accessibility.trim().is_empty() || branch_access.is_some() {
                details { class: "access",
                    summary { {t.t("event-access")} }
                    if !e.accessibility.trim().is_empty() {
                        p { {event_access(&t, &e.accessibility)} }
                    }
                    if let Some(note) = branch_access {
                        p { class: "muted", {t.t("branch-access")} " " "{note}" }
                    }
                }
            }
            match e.registration.as_deref() {
                Some("confirmed") => rsx! { p { class: "badge ok registration", {t.t("event-registered")} } },
                Some(_) => rsx! { p { class: "badge pending registration", {t.ta("event-waitlisted", &[("n", e.waitlist_position.unwrap_or(0).to_string())])} } },
                None => rsx! {},
            }
            div { class: "actions",
                if e.registration.is_some() {
                    button { class: "secondary cancel-registration", onclick: move |_| on_action.call(EventAction::Cancel(id1.clone())),
                        {t.t("event-cancel")}
                    }
                } else if e.capacity > 0 {
                    button {
                        class: "primary register",
                        "aria-label": t.ta("event-register-label", &[("title", name.clone())]),
                        onclick: move |_| on_action.call(EventAction::Register(id2.clone())),
                        {if e.seats_left > 0 { t.t("event-register") } else { t.t("event-join-waitlist") }}
                    }
                }
                button { class: "link", onclick: move |_| on_action.call(EventAction::AddToCalendar(id3.clone())),
                    {t.t("event-add-calendar")}
                }
            }
        }
    }
}
