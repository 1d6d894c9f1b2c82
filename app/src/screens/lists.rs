//! Reading lists: "want to read" and named lists, kept in the patron's own
//! document (offline, merged across their devices); each can be shared as a
//! QR code or a link, and a shared list opens here to be saved.

use dioxus::prelude::*;
use pustaka_ipc::{
    CreateList, DeleteList, GetLists, GetTitle, ListItemView, ReadingListView, RemoveFromList,
    SaveSharedList, SharedList, decode_list,
};

use super::ScreenHead;
use crate::components::{Empty, Go, Load, QrCode};
use crate::{Route, T, act, use_backend, use_ctx, use_query};

/// What the lists screen asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ListAction {
    Create(String),
    Delete(String),
    Remove(String, String),
}

#[component]
pub fn Lists() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let lists = use_query(|| GetLists {});
    rsx! {
        ListsView {
            t: ctx.t(),
            lists: Load::of(&lists.read()),
            offline: ctx.offline(),
            on_action: move |a: ListAction| {
                let b = backend.clone();
                match a {
                    ListAction::Create(name) => act(b, ctx, CreateList { name }, "done-list-created"),
                    ListAction::Delete(list) => act(b, ctx, DeleteList { list }, "done-list-deleted"),
                    ListAction::Remove(list, title_id) => act(b, ctx, RemoveFromList { list, title_id }, "done-list-removed"),
                }
            },
        }
    }
}

/// A list's name in the patron's language.
pub fn list_name(t: &T, l: &ReadingListView) -> String {
    if l.name.is_empty() {
        t.t("lists-want")
    } else {
        l.name.clone()
    }
}

#[component]
pub fn ListsView(
    t: T,
    lists: Load<Vec<ReadingListView>>,
    offline: bool,
    on_action: EventHandler<ListAction>,
) -> Element {
    let title = t.t("lists-title");
    let mut name = use_signal(String::new);
    let mut sharing: Signal<Option<String>> = use_signal(|| None);
    let body = match &lists {
        Load::Loading => rsx! { crate::components::Loading { t: t.clone() } },
        Load::Failed(e) => rsx! { crate::components::ErrorBox { t: t.clone(), error: e.clone() } },
        Load::Ready(ls) if ls.is_empty() => rsx! { Empty { text: t.t("lists-empty") } },
        Load::Ready(ls) => rsx! {
            for l in ls.iter() {
                section { key: "{l.id}", class: "card reading-list", id: "list-{l.id}", "aria-labelledby": "h-list-{l.id}",
                    h2 { id: "h-list-{l.id}", {list_name(&t, l)} }
                    if l.items.is_empty() {
                        p { class: "muted", {t.t("lists-no-titles")} }
                    }
                    ul { class: "list-items",
                        for i in l.items.iter() {
                            li { key: "{i.title_id}",
                                Go { to: Route::Title { id: i.title_id.clone() }, class: "title-link", "{i.title}" }
                                span { class: "muted", " · {i.author}" }
                                button {
                                    class: "link remove-from-list",
                                    "aria-label": t.ta("lists-remove-label", &[("title", i.title.clone())]),
                                    onclick: {
                                        let (list, id) = (l.id.clone(), i.title_id.clone());
                                        move |_| on_action.call(ListAction::Remove(list.clone(), id.clone()))
                                    },
                                    {t.t("lists-remove")}
                                }
                            }
                        }
                    }
                    div { class: "actions",
                        if !l.share.is_empty() {
                            button {
                                class: "secondary share-list",
                                "aria-expanded": "{sharing() == Some(l.id.clone())}",
                                onclick: {
                                    let id = l.id.clone();
                                    move |_| {
                                        let open = sharing() == Some(id.clone());
                                        sharing.set(if open { None } else { Some(id.clone()) });
                                    }
                                },
                                {t.t("lists-share")}
                            }
                        }
                        if !l.name.is_empty() {
                            button {
                                class: "link delete-list",
                                onclick: {
                                    let id = l.id.clone();
                                    move |_| on_action.call(ListAction::Delete(id.clone()))
                                },
                                {t.ta("lists-delete", &[("name", l.name.clone())])}
                            }
                        }
                    }
                    if sharing() == Some(l.id.clone()) {
                        div { class: "share",
                            p { {t.t("lists-share-hint")} }
                            QrCode { payload: l.share.clone(), label: t.ta("lists-share-qr", &[("name", list_name(&t, l))]) }
                            p { class: "share-link", a { href: "{l.share}", "{l.share}" } }
                        }
                    }
                }
            }
        },
    };
    rsx! {
        section { class: "screen lists",
            ScreenHead { t: t.clone(), title, offline }
            p { class: "muted", {t.t("lists-hint")} }
            form {
                class: "new-list",
                onsubmit: move |e| {
                    e.prevent_default();
                    let n = name().trim().to_string();
                    if !n.is_empty() {
                        on_action.call(ListAction::Create(n));
                        name.set(String::new());
                    }
                },
                label { r#for: "new-list-name", {t.t("lists-new-label")} }
                input { id: "new-list-name", r#type: "text", maxlength: "80", value: "{name}", oninput: move |e| name.set(e.value()) }
                button { id: "new-list", r#type: "submit", class: "primary", {t.t("lists-new")} }
            }
            {body}
        }
    }
}

/// A list someone shared (`/list/<code>`): its titles, and saving it.
#[component]
pub fn SharedListScreen(code: String) -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let shared = decode_list(&code);
    let ids = shared
        .as_ref()
        .map(|s| s.titles.clone())
        .unwrap_or_default();
    let b = backend.clone();
    // Each title from the library (or the device's copy when offline).
    let titles = use_resource(move || {
        let (b, ids) = (b.clone(), ids.clone());
        async move {
            let mut out = vec![];
            for id in ids {
                if let Ok(v) = b.call(&GetTitle { id: id.clone() }).await {
                    out.push(ListItemView {
                        title_id: id,
                        title: v.details.summary.title,
                        author: v.details.summary.author,
                        added_at: 0,
                    });
                }
            }
            out
        }
    });
    let items = titles.read().clone();
    rsx! {
        SharedListView {
            t: ctx.t(),
            shared,
            items,
            on_save: move |(name, items): (String, Vec<ListItemView>)| {
                act(backend.clone(), ctx, SaveSharedList { name, items }, "done-list-saved");
            },
        }
    }
}

#[component]
pub fn SharedListView(
    t: T,
    shared: Option<SharedList>,
    items: Option<Vec<ListItemView>>,
    on_save: EventHandler<(String, Vec<ListItemView>)>,
) -> Element {
    let Some(s) = shared else {
        return rsx! {
            section { class: "screen shared-list",
                h1 { id: "screen-title", {t.t("lists-shared-title")} }
                p { class: "error-box", role: "alert", {t.t("lists-shared-bad")} }
            }
        };
    };
    let name = if s.name.is_empty() {
        t.t("lists-want")
    } else {
        s.name.clone()
    };
    rsx! {
        section { class: "screen shared-list",
            h1 { id: "screen-title", {t.ta("lists-shared-heading", &[("name", name.clone())])} }
            p { class: "muted", {t.ta("lists-shared-count", &[("n", s.titles.len().to_string())])} }
            match items {
                None => rsx! { crate::components::Loading { t: t.clone() } },
                Some(items) => rsx! {
                    ul { class: "list-items",
                        for i in items.iter() {
                            li { key: "{i.title_id}",
                                Go { to: Route::Title { id: i.title_id.clone() }, class: "title-link", "{i.title}" }
                                span { class: "muted", " · {i.author}" }
                            }
                        }
                    }
                    if t.web {
                        p { {t.t("lists-shared-app")} }
                    } else if !items.is_empty() {
                        button {
                            id: "save-shared-list",
                            class: "primary",
                            onclick: move |_| on_save.call((name.clone(), items.clone())),
                            {t.t("lists-shared-save")}
                        }
                    }
                },
            }
        }
    }
}
