//! Props-only building blocks shared by the screens.

use dioxus::prelude::*;
use pustaka_ipc::{IpcError, SyncStatus};

use crate::{Notice, Route, T};

/// What a screen has to show.
#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Failed(IpcError),
    Ready(T),
}

impl<V: Clone> Load<V> {
    pub fn of(r: &Option<Result<V, IpcError>>) -> Load<V> {
        match r {
            None => Load::Loading,
            Some(Err(e)) => Load::Failed(e.clone()),
            Some(Ok(v)) => Load::Ready(v.clone()),
        }
    }
}

/// Online/offline, last synced and pending requests; always visible.
#[component]
pub fn StatusBar(
    t: T,
    status: SyncStatus,
    utc_offset: i32,
    /// The website: nothing is kept or synced in the page.
    #[props(default)]
    web: bool,
    on_sync: EventHandler<()>,
) -> Element {
    let (class, state) = if status.online {
        ("status online", t.t("status-online"))
    } else {
        ("status offline", t.t("status-offline"))
    };
    let synced = match status.last_synced {
        Some(at) => t.ta("status-last-synced", &[("time", t.time(at, utc_offset))]),
        None => t.t("status-never-synced"),
    };
    let pending = t.ta("status-pending", &[("n", status.pending.to_string())]);
    rsx! {
        div { class, id: "sync-status", role: "status", "aria-live": "polite",
            span { class: "dot", "aria-hidden": "true" }
            strong { id: "online-state", "data-online": "{status.online}", "{state}" }
            if web {
                span { class: "sep", "aria-hidden": "true", "·" }
                span { id: "web-note", {t.t("status-web")} }
            } else {
            span { class: "sep", "aria-hidden": "true", "·" }
            span { id: "last-synced", "{synced}" }
            if status.pending > 0 {
                span { class: "sep", "aria-hidden": "true", "·" }
                span { id: "pending-count", class: "pending", "data-count": "{status.pending}", "{pending}" }
            }
            button { id: "sync-now", class: "sync-now", onclick: move |_| on_sync.call(()), {t.t("status-sync-now")} }
            }
        }
    }
}

/// A link to a screen: a real `<a href>` (focusable, Enter activates it)
/// that navigates inside the app. Reads the router only when clicked, so
/// views render without one (headless tests).
#[component]
pub fn Go(
    to: Route,
    #[props(default)] id: String,
    #[props(default)] class: String,
    #[props(default)] current: bool,
    children: Element,
) -> Element {
    let href = to.to_string();
    // A new screen starts without the previous screen's notice.
    let ctx = try_use_context::<crate::Ctx>();
    rsx! {
        a {
            href: "{href}",
            id: if id.is_empty() { None } else { Some(id) },
            class,
            "aria-current": if current { Some("page") } else { None },
            onclick: move |e| {
                e.prevent_default();
                if let Some(mut c) = ctx {
                    c.notice.set(None);
                }
                navigator().push(to.clone());
            },
            {children}
        }
    }
}

#[component]
pub fn NavBar(
    t: T,
    current: Route,
    #[props(default)] web: bool,
    #[props(default = true)] signed_in: bool,
) -> Element {
    let items = [
        (Route::Home {}, "nav-home"),
        (Route::Loans {}, "nav-loans"),
        (Route::Holds {}, "nav-holds"),
        (Route::Catalogue {}, "nav-catalogue"),
        (Route::Lists {}, "nav-lists"),
        (Route::Scan {}, "nav-scan"),
        (Route::Events {}, "nav-events"),
        (Route::Faq {}, "nav-faq"),
        (Route::Card {}, "nav-card"),
        (Route::Household {}, "nav-household"),
        (Route::Settings {}, "nav-settings"),
    ];
    // The website has no camera scanner, stored card or household; before
    // sign-in, what anyone may read (Home offers the sign-in).
    let items = items.into_iter().filter(|(route, _)| {
        !web || (!on_device_only(route) && (signed_in || !needs_account(route)))
    });
    rsx! {
        nav { class: "nav", "aria-label": t.t("nav-label"),
            ul {
                for (route, key) in items {
                    li { key: "{key}",
                        Go {
                            to: route.clone(),
                            id: key.to_string(),
                            class: if same_screen(&route, &current) { "active" } else { "" },
                            current: same_screen(&route, &current),
                            {t.t(key)}
                        }
                    }
                }
            }
        }
    }
}

/// Screens that need the device (camera, stored card, several cards).
pub fn on_device_only(route: &Route) -> bool {
    matches!(
        route,
        Route::Scan {} | Route::Card {} | Route::Household {} | Route::Lists {}
    )
}

/// Screens about the patron's own account.
pub fn needs_account(route: &Route) -> bool {
    matches!(
        route,
        Route::Loans {} | Route::Holds {} | Route::Surveys {} | Route::Settings {}
    )
}

fn same_screen(a: &Route, b: &Route) -> bool {
    match (a, b) {
        (Route::Catalogue {}, Route::Title { .. }) => true,
        (Route::Lists {}, Route::SharedListScreen { .. }) => true,
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// The result of the last action, announced politely.
#[component]
pub fn NoticeBar(t: T, notice: Option<Notice>) -> Element {
    let (class, text) = match &notice {
        None => {
            return rsx! { div { id: "notice", class: "notice empty", role: "status", "aria-live": "polite" } };
        }
        Some(Notice::Done(key)) => ("notice ok", t.t(key)),
        Some(Notice::Text(s)) => ("notice ok", s.clone()),
        Some(Notice::Failed(e)) => ("notice error", error_text(&t, e)),
    };
    rsx! {
        div { id: "notice", class, role: "status", "aria-live": "polite", "{text}" }
    }
}

/// A failure as the patron reads it: the reason for a refusal, or what to do.
pub fn error_text(t: &T, e: &IpcError) -> String {
    match e.code.as_str() {
        "offline" => t.t("error-offline"),
        "no_data" => t.t("error-no-data"),
        "signed_out" | "not_signed_in" | "unauthorized" => t.t("error-signed-out"),
        "invalid_credentials" => t.t("signin-error-pin"),
        "too_many_attempts" => t.t("signin-error-blocked"),
        "not_found" => t.t("error-not-found"),
        "storage" | "replica" | "internal" | "ipc" | "encode" | "decode" => {
            t.ta("error-internal", &[("detail", e.message.clone())])
        }
        code => t.reason(code),
    }
}

#[component]
pub fn Loading(t: T) -> Element {
    rsx! {
        p { class: "loading", role: "status", "aria-live": "polite", "aria-busy": "true", {t.t("loading")} }
    }
}

#[component]
pub fn ErrorBox(t: T, error: IpcError) -> Element {
    rsx! {
        div { class: "error-box", role: "alert",
            p { {error_text(&t, &error)} }
        }
    }
}

#[component]
pub fn Empty(text: String) -> Element {
    rsx! {
        p { class: "empty", "{text}" }
    }
}

/// Shown above data read from the device while the library is out of reach.
#[component]
pub fn OfflineBanner(t: T) -> Element {
    rsx! {
        p { class: "offline-banner", id: "offline-banner", {t.t("offline-banner")} }
    }
}

/// A QR code drawn as inline SVG (crisp at any size, printable).
#[component]
pub fn QrCode(payload: String, label: String) -> Element {
    let svg = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(240, 240)
                .quiet_zone(true)
                .build()
        })
        .map(|svg| match svg.find("<svg") {
            // Inline SVG in HTML takes no XML declaration.
            Some(i) => svg[i..].to_string(),
            None => svg,
        })
        .unwrap_or_default();
    rsx! {
        div { class: "qr", role: "img", "aria-label": "{label}", dangerous_inner_html: "{svg}" }
    }
}
