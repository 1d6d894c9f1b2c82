use dioxus::prelude::*;
use pustaka_ipc::{IpcError, Session, SignIn as SignInCommand};

use crate::components::error_text;
use crate::{Lang, T, use_backend, use_ctx};

#[derive(Debug, Clone, PartialEq)]
pub struct Credentials {
    pub server: String,
    pub card: String,
    pub pin: String,
}

#[component]
pub fn SignIn(session: Session) -> Element {
    let mut ctx = use_ctx();
    let backend = use_backend();
    let b2 = backend.clone();
    let mut error: Signal<Option<IpcError>> = use_signal(|| None);
    let mut busy = use_signal(|| false);
    rsx! {
        SignInView {
            t: ctx.t(),
            server: session.suggested_server.clone().or(session.server.clone()).unwrap_or_default(),
            web: session.web,
            error: error(),
            busy: busy(),
            on_language: move |l: String| {
                ctx.lang.set(crate::i18n::lang_of(&l));
                // The website remembers the choice (and sends it with its calls).
                if session.web {
                    let b = backend.clone();
                    let mut settings = session.settings.clone();
                    settings.language = l;
                    spawn(async move {
                        let _ = b.call(&pustaka_ipc::SetSettings { settings }).await;
                    });
                }
            },
            on_submit: move |c: Credentials| {
                let b = b2.clone();
                busy.set(true);
                spawn(async move {
                    match b.call(&SignInCommand { server: c.server, card: c.card, pin: c.pin }).await {
                        Ok(s) => {
                            error.set(None);
                            ctx.status.set(s.status.clone());
                            ctx.session.set(Some(Ok(s)));
                            ctx.bump();
                        }
                        Err(e) => error.set(Some(e)),
                    }
                    busy.set(false);
                });
            },
        }
    }
}

#[component]
pub fn SignInView(
    t: T,
    server: String,
    /// The website: the library is the page's own server, and the screen
    /// sits inside the frame (no `main` of its own).
    #[props(default)]
    web: bool,
    error: Option<IpcError>,
    busy: bool,
    on_language: EventHandler<String>,
    on_submit: EventHandler<Credentials>,
) -> Element {
    let mut server = use_signal(|| server);
    let mut card = use_signal(String::new);
    let mut pin = use_signal(String::new);
    let message = error.as_ref().map(|e| match e.code.as_str() {
        "offline" => t.t("signin-error-offline"),
        _ => error_text(&t, e),
    });
    let body = rsx! {
            div { class: "lang-switch", role: "group", "aria-label": t.t("settings-language"),
                button { class: "link", lang: "id", "aria-pressed": "{t.lang == Lang::Id}", onclick: move |_| on_language.call("id".into()), "Bahasa Indonesia" }
                button { class: "link", lang: "en", "aria-pressed": "{t.lang == Lang::En}", onclick: move |_| on_language.call("en".into()), "English" }
            }
            h1 { {t.t("app-name")} }
            p { class: "muted", {t.t("signin-intro")} }
            form {
                class: "signin-form",
                "aria-describedby": if message.is_some() { "signin-error" } else { "" },
                onsubmit: move |e| {
                    e.prevent_default();
                    on_submit.call(Credentials { server: server().trim().to_string(), card: card().trim().to_string(), pin: pin() });
                },
                if !web {
                    label { r#for: "server", {t.t("signin-server")} }
                    input { id: "server", r#type: "url", required: true, autocomplete: "url", value: "{server}", oninput: move |e| server.set(e.value()) }
                }
                label { r#for: "card", {t.t("signin-card")} }
                input { id: "card", r#type: "text", inputmode: "numeric", required: true, autocomplete: "username", value: "{card}", oninput: move |e| card.set(e.value()) }
                label { r#for: "pin", {t.t("signin-pin")} }
                input { id: "pin", r#type: "password", inputmode: "numeric", required: true, autocomplete: "current-password", value: "{pin}", oninput: move |e| pin.set(e.value()) }
                if let Some(m) = message.clone() {
                    p { id: "signin-error", class: "error-box", role: "alert", "{m}" }
                }
                button { id: "sign-in", r#type: "submit", class: "primary", disabled: busy,
                    {if busy { t.t("signin-busy") } else { t.t("signin-submit") }}
                }
            }
    };
    if web {
        rsx! { section { class: "signin", {body} } }
    } else {
        rsx! { main { id: "content", class: "signin", {body} } }
    }
}
