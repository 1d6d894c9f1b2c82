//! Pustaka's patron UI: one [`Route`] enum, a view per screen, props-only
//! view components, hooks for state and backend calls.
//!
//! Data flow: the shell owns the replica. Screens read it through typed
//! commands ([`pustaka_ipc::Command`]) over a [`Backend`]; the shell's
//! `changed` event bumps [`Ctx::revision`], which refetches what is shown.
//! Actions record intents and return at once: they sync when they can.

#![allow(non_snake_case)] // Dioxus components are PascalCase functions.

pub mod backend;
pub mod components;
pub mod fake;
pub mod i18n;
pub mod page;
pub mod screens;
#[cfg(target_arch = "wasm32")]
pub mod tauri;
pub mod web;

use dioxus::prelude::*;
use pustaka_ipc::{
    Changed, Command, EVENT_CHANGED, EVENT_OPEN_LINK, GetSession, IpcError, OpenLink, Session,
    SyncStatus,
};

pub use backend::{Backend, Transport};
pub use i18n::{Lang, T};
use screens::{
    Card, Catalogue, Events, Faq, Holds, Home, Household, Lists, Loans, Scan, Settings,
    SharedListScreen, Surveys, Title,
};

#[derive(Routable, Clone, PartialEq, Debug)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Frame)]
        #[route("/")]
        Home {},
        #[route("/loans")]
        Loans {},
        #[route("/holds")]
        Holds {},
        #[route("/catalogue")]
        Catalogue {},
        #[route("/title/:id")]
        Title { id: String },
        #[route("/lists")]
        Lists {},
        #[route("/list/:code")]
        SharedListScreen { code: String },
        #[route("/scan")]
        Scan {},
        #[route("/events")]
        Events {},
        #[route("/faq")]
        Faq {},
        #[route("/surveys")]
        Surveys {},
        #[route("/card")]
        Card {},
        #[route("/household")]
        Household {},
        #[route("/settings")]
        Settings {},
    #[end_layout]
    #[route("/:..rest")]
    NotFound { rest: Vec<String> },
}

/// A `pustaka://` link (or the library's https form) as a route:
/// `title/<id>`, or a screen (`loans`, `holds`, `events`, `card`) as
/// reminders and notifications open them.
pub fn route_for_link(url: &str) -> Option<Route> {
    let rest = url
        .strip_prefix("pustaka://")
        .or_else(|| url.split_once("/pustaka/").map(|(_, r)| r))
        // A shared list's link is the library website's own path.
        .or_else(|| url.rfind("/list/").map(|i| &url[i + 1..]))?
        .trim_end_matches('/');
    match rest {
        "loans" => return Some(Route::Loans {}),
        "holds" => return Some(Route::Holds {}),
        "events" => return Some(Route::Events {}),
        "card" => return Some(Route::Card {}),
        "faq" => return Some(Route::Faq {}),
        "household" => return Some(Route::Household {}),
        "surveys" => return Some(Route::Surveys {}),
        "lists" => return Some(Route::Lists {}),
        _ => {}
    }
    // A shared reading list.
    if let Some(code) = rest.strip_prefix("list/") {
        let code = code.split(['?', '#']).next().unwrap_or("");
        return pustaka_ipc::decode_list(code).map(|_| Route::SharedListScreen {
            code: code.to_string(),
        });
    }
    // A copy's label adds `?copy=…`: the title is what opens.
    let id = rest.strip_prefix("title/")?;
    let id = id
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    (!id.is_empty() && id.len() <= 64 && !id.contains('/')).then(|| Route::Title { id: id.into() })
}

/// What the last action said, shown in a polite live region.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Done(&'static str),
    Failed(IpcError),
    Text(String),
}

/// App-wide state, provided once by [`Shell`].
#[derive(Clone, Copy, PartialEq)]
pub struct Ctx {
    pub session: Signal<Option<Result<Session, IpcError>>>,
    pub status: Signal<SyncStatus>,
    pub revision: Signal<u64>,
    pub lang: Signal<Lang>,
    pub notice: Signal<Option<Notice>>,
    pub link: Signal<Option<String>>,
    pub utc_offset: Signal<i32>,
}

impl Ctx {
    pub fn t(&self) -> T {
        T::new(*self.lang.read()).on_web(self.web())
    }

    /// The page is the website (no replica, no background sync).
    pub fn web(&self) -> bool {
        matches!(&*self.session.read(), Some(Ok(s)) if s.web)
    }

    /// Refetch what the screens show.
    pub fn bump(&mut self) {
        let r = *self.revision.peek();
        self.revision.set(r + 1);
    }

    pub fn offline(&self) -> bool {
        !self.status.read().online
    }
}

pub fn use_ctx() -> Ctx {
    use_context::<Ctx>()
}

pub fn use_backend() -> Backend {
    use_context::<Backend>()
}

/// Fetches `command` now and again whenever the shell reports a change.
pub fn use_query<C>(command: impl Fn() -> C + 'static) -> Resource<Result<C::Response, IpcError>>
where
    C: Command + 'static,
    C::Response: 'static,
{
    let backend = use_backend();
    let ctx = use_ctx();
    use_resource(move || {
        let _ = (ctx.revision)();
        let b = backend.clone();
        let c = command();
        async move { b.call(&c).await }
    })
}

/// Runs an action; on success shows `done` and refetches, else the reason.
pub fn act<C: Command + 'static>(backend: Backend, mut ctx: Ctx, command: C, done: &'static str) {
    spawn(async move {
        match backend.call(&command).await {
            Ok(_) => {
                ctx.notice.set(Some(Notice::Done(done)));
                ctx.bump();
            }
            Err(e) => ctx.notice.set(Some(Notice::Failed(e))),
        }
    });
}

/// Provides the app-wide state (used by [`Shell`] and by headless tests).
pub fn use_provide_ctx(session: Option<Result<Session, IpcError>>, lang: Lang) -> Ctx {
    use_context_provider(|| Ctx {
        status: Signal::new(match &session {
            Some(Ok(s)) => s.status.clone(),
            _ => SyncStatus::default(),
        }),
        session: Signal::new(session),
        revision: Signal::new(0),
        lang: Signal::new(lang),
        notice: Signal::new(None),
        link: Signal::new(None),
        utc_offset: Signal::new(7 * 60),
    })
}

/// The root: provides the backend and state, follows the shell's events.
#[component]
pub fn Shell(backend: Backend) -> Element {
    let backend = use_context_provider(|| backend);
    let mut ctx = use_provide_ctx(None, Lang::Id);
    use_hook(move || {
        let b = backend.clone();
        b.listen(EVENT_CHANGED, move |c: Changed| {
            let mut ctx = ctx;
            ctx.status.set(c.status);
            ctx.revision.set(c.revision);
        });
        b.listen(EVENT_OPEN_LINK, move |l: OpenLink| {
            let mut ctx = ctx;
            ctx.link.set(Some(l.url))
        });
        spawn(async move {
            let s = b.call(&GetSession {}).await;
            if let Ok(s) = &s {
                ctx.lang.set(crate::i18n::lang_of(&s.settings.language));
                ctx.status.set(s.status.clone());
                if let Some(url) = &s.opened_with {
                    ctx.link.set(Some(url.clone()));
                }
            }
            ctx.session.set(Some(s));
        });
    });
    rsx! {
        Router::<Route> {}
    }
}

/// The frame around every signed-in screen: skip link, status, navigation.
#[component]
fn Frame() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let t = ctx.t();
    let nav = navigator();
    let route = use_route::<Route>();
    use_effect(move || {
        let link = (ctx.link)();
        if let Some(route) = link.as_deref().and_then(route_for_link) {
            nav.push(route);
        }
    });
    let lang = t.lang.code();
    let session = ctx.session.read().clone();
    match session {
        None => rsx! {
            div { class: "splash", lang, role: "status", "aria-live": "polite", {t.t("app-loading")} }
        },
        Some(Err(e)) => rsx! {
            div { class: "splash", lang, role: "alert",
                h1 { {t.t("app-name")} }
                p { {t.t("error-device")} }
                p { class: "muted", "{e}" }
            }
        },
        Some(Ok(s)) if !s.signed_in && !s.web => rsx! {
            div { lang, screens::signin::SignIn { session: s } }
        },
        Some(Ok(s)) => {
            // The website before sign-in: the catalogue, events and FAQ are
            // open to anyone; account screens (and Home) ask to sign in.
            let sign_in_here = s.web
                && !s.signed_in
                && (components::needs_account(&route) || matches!(route, Route::Home {}));
            let device_only = s.web && components::on_device_only(&route);
            rsx! {
                div { class: "app", lang, "data-link": (ctx.link)().unwrap_or_default(),
                    a { class: "skip-link", href: "#content", {t.t("skip-to-content")} }
                    header { class: "topbar",
                        span { class: "brand", {t.t("app-name")} }
                        components::StatusBar {
                            t: t.clone(),
                            status: (ctx.status)(),
                            utc_offset: (ctx.utc_offset)(),
                            web: s.web,
                            on_sync: move |_| {
                                let b = backend.clone();
                                let mut ctx = ctx;
                                spawn(async move {
                                    if let Ok(status) = b.call(&pustaka_ipc::SyncNow {}).await {
                                        ctx.status.set(status);
                                    }
                                });
                            },
                        }
                    }
                    components::NavBar { t: t.clone(), current: route, web: s.web, signed_in: s.signed_in }
                    main { id: "content", tabindex: "-1",
                        components::NoticeBar { t: t.clone(), notice: (ctx.notice)() }
                        if sign_in_here {
                            screens::signin::SignIn { session: s.clone() }
                        } else if device_only {
                            section { class: "screen",
                                h1 { {t.t("web-app-only")} }
                                p { {t.t("web-app-only-body")} }
                            }
                        } else {
                            Outlet::<Route> {}
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn NotFound(rest: Vec<String>) -> Element {
    let t = use_ctx().t();
    rsx! {
        main { id: "content", class: "screen",
            h1 { {t.t("not-found")} }
            Link { to: Route::Home {}, {t.t("nav-home")} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_open_titles_and_nothing_else() {
        assert_eq!(
            route_for_link("pustaka://title/T42"),
            Some(Route::Title { id: "T42".into() })
        );
        assert_eq!(
            route_for_link("https://perpustakaan.singkawangkota.go.id/pustaka/title/T42"),
            Some(Route::Title { id: "T42".into() })
        );
        assert_eq!(route_for_link("pustaka://title/"), None);
        assert_eq!(
            route_for_link("pustaka://title/T42?copy=C1"),
            Some(Route::Title { id: "T42".into() })
        );
        assert_eq!(route_for_link("pustaka://title/a/b"), None);
        assert_eq!(route_for_link("https://example.org/title/T1"), None);
        assert_eq!(route_for_link("pustaka://loan/C1"), None);
        assert_eq!(route_for_link("pustaka://loans"), Some(Route::Loans {}));
        assert_eq!(route_for_link("pustaka://holds/"), Some(Route::Holds {}));
        let code = pustaka_ipc::encode_list("Liburan", &["T1".into(), "T2".into()]);
        for link in [
            format!("pustaka://list/{code}"),
            format!("https://perpustakaan.example/list/{code}"),
        ] {
            assert_eq!(
                route_for_link(&link),
                Some(Route::SharedListScreen { code: code.clone() }),
                "{link}"
            );
        }
        assert_eq!(route_for_link("pustaka://list/!!"), None);
        assert_eq!(route_for_link("pustaka://lists"), Some(Route::Lists {}));
    }
}
