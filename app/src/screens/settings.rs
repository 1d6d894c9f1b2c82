use dioxus::prelude::*;
use pustaka_ipc::{
    EmailReminders, ExportData, GetAccount, GetCalendarFeed, GetEmailReminders, NewCalendarFeed,
    Session, SetEmailReminders, SetKeepHistory, SetSettings, SignOut,
};

use crate::components::{ErrorBox, Load, Loading};
use crate::{Notice, T, act, use_backend, use_ctx, use_query};

#[derive(Debug, Clone, PartialEq)]
pub enum SettingsAction {
    Language(String),
    Reminders(Vec<u32>),
    /// Opt in to e-mails at this address, or out with `None`.
    Email(Option<String>),
    /// A new secret calendar address.
    NewFeed,
    /// Keep the loan history, or stop keeping it and delete it.
    KeepHistory(bool),
    /// Save everything the library holds about the patron as JSON.
    Export,
    SignOut,
}

/// The patron's loan-history choice as the replica shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistoryChoice {
    pub keep: bool,
    /// A change was asked and the library has not decided it yet.
    pub pending: bool,
}

pub const LEAD_DAYS: [u32; 4] = [7, 3, 2, 1];

#[component]
pub fn Settings() -> Element {
    let mut ctx = use_ctx();
    let backend = use_backend();
    let session = match &*ctx.session.read() {
        Some(Ok(s)) => Load::Ready(s.clone()),
        Some(Err(e)) => Load::Failed(e.clone()),
        None => Load::Loading,
    };
    let email = use_query(|| GetEmailReminders {});
    let feed = use_query(|| GetCalendarFeed {});
    let account = use_query(|| GetAccount {});
    let history = match &*account.read() {
        Some(Ok(a)) => Some(HistoryChoice {
            keep: a.keep_history,
            pending: a.pending.iter().any(|p| p.kind == "set_history"),
        }),
        _ => None,
    };
    let email = Load::of(&email.read());
    let feed = match &*feed.read() {
        Some(Ok(url)) => url.clone(),
        _ => None,
    };
    rsx! {
        SettingsView {
            t: ctx.t(),
            session,
            email,
            feed,
            history,
            on_action: move |a: SettingsAction| {
                let b = backend.clone();
                // Settings the library keeps: asked of the server, then the
                // screen reloads them.
                match a {
                    SettingsAction::Email(email) => {
                        return act(b, ctx, SetEmailReminders { email }, "done-email");
                    }
                    SettingsAction::NewFeed => return act(b, ctx, NewCalendarFeed {}, "done-feed"),
                    SettingsAction::KeepHistory(keep) => {
                        return act(b, ctx, SetKeepHistory { keep }, "done-history");
                    }
                    SettingsAction::Export => {
                        spawn(async move {
                            let mut ctx = ctx;
                            let notice = match b.call(&ExportData {}).await {
                                Ok(path) => Notice::Text(ctx.t().ta("done-export", &[("path", path)])),
                                Err(e) => Notice::Failed(e),
                            };
                            ctx.notice.set(Some(notice));
                        });
                        return;
                    }
                    _ => {}
                }
                spawn(async move {
                    let current = match &*ctx.session.peek() {
                        Some(Ok(s)) => s.settings.clone(),
                        _ => pustaka_ipc::Settings::default(),
                    };
                    let r = match a {
                        SettingsAction::Language(l) => {
                            let settings = pustaka_ipc::Settings { language: l, ..current };
                            b.call(&SetSettings { settings }).await.map(|s| {
                                ctx.lang.set(crate::i18n::lang_of(&s.language));
                                Some(s)
                            })
                        }
                        SettingsAction::Reminders(days) => {
                            let settings = pustaka_ipc::Settings { reminder_days: days, ..current };
                            b.call(&SetSettings { settings }).await.map(Some)
                        }
                        SettingsAction::SignOut => b.call(&SignOut {}).await.map(|s| {
                            ctx.session.set(Some(Ok(s)));
                            None
                        }),
                        // Handled above, by `act`.
                        SettingsAction::Email(_)
                        | SettingsAction::NewFeed
                        | SettingsAction::KeepHistory(_)
                        | SettingsAction::Export => return,
                    };
                    match r {
                        Ok(Some(s)) => {
                            if let Some(Ok(session)) = &mut *ctx.session.write() {
                                session.settings = s;
                            }
                            ctx.notice.set(Some(Notice::Done("done-settings")));
                        }
                        Ok(None) => ctx.notice.set(None),
                        Err(e) => ctx.notice.set(Some(Notice::Failed(e))),
                    }
                });
            },
        }
    }
}

#[component]
pub fn SettingsView(
    t: T,
    session: Load<Session>,
    /// E-mail reminders as the library has them (needs the network).
    email: Load<EmailReminders>,
    /// The secret calendar address this device made, if any.
    feed: Option<String>,
    /// The loan-history choice (`None` before the first sync).
    history: Option<HistoryChoice>,
    on_action: EventHandler<SettingsAction>,
) -> Element {
    let Load::Ready(s) = session else {
        return rsx! { section { class: "screen", h1 { {t.t("settings-title")} } {super::not_ready(&t, &session)} } };
    };
    let days = s.settings.reminder_days.clone();
    rsx! {
        section { class: "screen settings",
            h1 { id: "screen-title", {t.t("settings-title")} }
            section { "aria-labelledby": "h-language",
                h2 { id: "h-language", {t.t("settings-language")} }
                label { r#for: "language", class: "visually-hidden", {t.t("settings-language")} }
                select {
                    id: "language",
                    onchange: move |e| on_action.call(SettingsAction::Language(e.value())),
                    option { value: "id", selected: s.settings.language == "id", lang: "id", "Bahasa Indonesia" }
                    option { value: "en", selected: s.settings.language == "en", lang: "en", "English" }
                }
            }
            fieldset {
                legend { {t.t("settings-reminders")} }
                p { class: "muted", {t.t("settings-reminders-hint")} }
                for d in LEAD_DAYS {
                    label { key: "{d}", class: "check",
                        input {
                            r#type: "checkbox",
                            id: "remind-{d}",
                            checked: days.contains(&d),
                            onchange: {
                                let days = days.clone();
                                move |e: Event<FormData>| {
                                    let mut next: Vec<u32> = days.iter().copied().filter(|x| *x != d).collect();
                                    if e.checked() {
                                        next.push(d);
                                    }
                                    next.sort_unstable_by(|a, b| b.cmp(a));
                                    on_action.call(SettingsAction::Reminders(next));
                                }
                            },
                        }
                        {t.ta("settings-remind-days", &[("n", d.to_string())])}
                    }
                }
            }
            EmailSettings { t: t.clone(), email, on_action }
            section { "aria-labelledby": "h-feed",
                h2 { id: "h-feed", {t.t("settings-feed")} }
                p { class: "muted", id: "feed-hint", {t.t("settings-feed-hint")} }
                if let Some(url) = feed.clone() {
                    label { r#for: "feed-url", {t.t("settings-feed-url")} }
                    input {
                        id: "feed-url",
                        r#type: "url",
                        readonly: true,
                        value: "{url}",
                        "aria-describedby": "feed-hint",
                    }
                    p { class: "muted", {t.t("settings-feed-renew-hint")} }
                }
                button { id: "feed-new", onclick: move |_| on_action.call(SettingsAction::NewFeed),
                    {if feed.is_some() { t.t("settings-feed-renew") } else { t.t("settings-feed-create") }}
                }
            }
            Privacy { t: t.clone(), history, on_action }
            section { "aria-labelledby": "h-account",
                h2 { id: "h-account", {t.t("settings-account")} }
                dl { class: "facts",
                    dt { {t.t("settings-card")} }
                    dd { {s.card.clone().unwrap_or_default()} }
                    dt { {t.t("settings-server")} }
                    dd { {s.server.clone().unwrap_or_default()} }
                    dt { {t.t("settings-data-dir")} }
                    dd { id: "data-dir", "{s.data_dir}" }
                }
                p { class: "muted", {t.t("settings-sign-out-hint")} }
                button { id: "sign-out", class: "danger", onclick: move |_| on_action.call(SettingsAction::SignOut),
                    {t.t("settings-sign-out")}
                }
            }
        }
    }
}

#[component]
fn EmailSettings(
    t: T,
    email: Load<EmailReminders>,
    on_action: EventHandler<SettingsAction>,
) -> Element {
    let current = match &email {
        Load::Ready(r) => r.email.clone(),
        _ => None,
    };
    let mut address = use_signal(|| current.clone().unwrap_or_default());
    // The library's answer arrives after the first render.
    use_effect(use_reactive!(
        |current| address.set(current.unwrap_or_default())
    ));
    rsx! {
        section { "aria-labelledby": "h-email",
            h2 { id: "h-email", {t.t("settings-email")} }
            p { class: "muted", id: "email-hint", {t.t("settings-email-hint")} }
            match email {
                Load::Loading => rsx! { Loading { t: t.clone() } },
                Load::Failed(e) if e.code == "offline" => rsx! {
                    p { class: "muted", id: "email-offline", {t.t("settings-email-offline")} }
                },
                Load::Failed(e) => rsx! { ErrorBox { t: t.clone(), error: e } },
                Load::Ready(r) => rsx! {
                    p { id: "email-status",
                        {match &r.email {
                            Some(a) => t.ta("settings-email-on", &[("email", a.clone())]),
                            None => t.t("settings-email-off"),
                        }}
                    }
                    form {
                        class: "inline-form",
                        onsubmit: move |e| {
                            e.prevent_default();
                            on_action.call(SettingsAction::Email(Some(address())));
                        },
                        label { r#for: "email-address", {t.t("settings-email-address")} }
                        input {
                            id: "email-address",
                            r#type: "email",
                            required: true,
                            autocomplete: "email",
                            "aria-describedby": "email-hint",
                            value: "{address}",
                            oninput: move |e| address.set(e.value()),
                        }
                        button { id: "email-save", r#type: "submit", class: "primary", {t.t("settings-email-save")} }
                    }
                    if r.email.is_some() {
                        button { id: "email-stop", onclick: move |_| on_action.call(SettingsAction::Email(None)),
                            {t.t("settings-email-stop")}
                        }
                    }
                },
            }
        }
    }
}

#[component]
fn Privacy(
    t: T,
    history: Option<HistoryChoice>,
    on_action: EventHandler<SettingsAction>,
) -> Element {
    rsx! {
        section { "aria-labelledby": "h-privacy",
            h2 { id: "h-privacy", {t.t("settings-privacy")} }
            if let Some(h) = history {
                label { class: "check",
                    input {
                        r#type: "checkbox",
                        id: "keep-history",
                        checked: h.keep,
                        disabled: h.pending,
                        "aria-describedby": "keep-history-hint",
                        onchange: move |e: Event<FormData>| on_action.call(SettingsAction::KeepHistory(e.checked())),
                    }
                    {t.t("settings-keep-history")}
                }
                p { class: "muted", id: "keep-history-hint",
                    {if h.keep { t.t("settings-keep-history-on") } else { t.t("settings-keep-history-off") }}
                }
                if h.pending {
                    p { id: "keep-history-pending", role: "status", {t.t("settings-keep-history-pending")} }
                }
            }
            p { class: "muted", id: "export-hint", {t.t("settings-export-hint")} }
            button {
                id: "export-data",
                "aria-describedby": "export-hint",
                onclick: move |_| on_action.call(SettingsAction::Export),
                {t.t("settings-export")}
            }
        }
    }
}
