use dioxus::prelude::*;
use pustaka_ipc::{Session, SetSettings, SignOut};

use crate::components::Load;
use crate::{Notice, T, use_backend, use_ctx};

#[derive(Debug, Clone, PartialEq)]
pub enum SettingsAction {
    Language(String),
    Reminders(Vec<u32>),
    SignOut,
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
    rsx! {
        SettingsView {
            t: ctx.t(),
            session,
            on_action: move |a: SettingsAction| {
                let b = backend.clone();
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
