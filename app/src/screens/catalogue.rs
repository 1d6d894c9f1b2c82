use dioxus::prelude::*;
use pustaka_ipc::{
    AccountView, AddToList, BranchInfo, GetLists, GetTitle, IpcError, OpenOnline, PlaceHold,
    ReadingListView, RecentTitles, Search, SearchResults, TitleSummary, TitleView,
};

use super::{ScreenHead, branch_name, not_ready, use_account};
use crate::components::{Empty, ErrorBox, Load, Loading};
use crate::{Route, T, act, use_backend, use_ctx, use_query};

#[derive(Debug, Clone, PartialEq)]
pub struct SearchInput {
    pub query: String,
    pub branch: Option<String>,
    pub available_only: bool,
    pub format: Option<String>,
    pub language: Option<String>,
}

/// Formats and languages offered as search filters (codes of the catalogue;
/// their names come from the translation files).
pub const FILTER_FORMATS: [&str; 9] = [
    "book",
    "large_print",
    "braille",
    "audiobook",
    "ebook",
    "serial",
    "magazine",
    "dvd",
    "reference",
];
pub const FILTER_LANGUAGES: [&str; 3] = ["ind", "eng", "jav"];

#[component]
pub fn Catalogue() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    let recent = use_query(|| RecentTitles {});
    let mut results: Signal<Option<Load<SearchResults>>> = use_signal(|| None);
    let branches = match &account {
        Load::Ready(a) => a.branches.clone(),
        _ => vec![],
    };
    let recent = Load::of(&recent.read());
    rsx! {
        CatalogueView {
            t: ctx.t(),
            results: results(),
            recent,
            branches,
            offline: ctx.offline(),
            on_search: move |s: SearchInput| {
                let b = backend.clone();
                results.set(Some(Load::Loading));
                spawn(async move {
                    let r = b
                        .call(&Search {
                            query: s.query,
                            branch: s.branch,
                            available_only: s.available_only,
                            format: s.format,
                            language: s.language,
                        })
                        .await;
                    results.set(Some(Load::of(&Some(r))));
                });
            },
        }
    }
}

#[component]
pub fn CatalogueView(
    t: T,
    results: Option<Load<SearchResults>>,
    recent: Load<Vec<TitleSummary>>,
    branches: Vec<BranchInfo>,
    offline: bool,
    on_search: EventHandler<SearchInput>,
) -> Element {
    let mut query = use_signal(String::new);
    let mut branch = use_signal(String::new);
    let mut available = use_signal(|| false);
    let mut format = use_signal(String::new);
    let mut language = use_signal(String::new);
    let input = move |q: String| SearchInput {
        query: q,
        branch: Some(branch()).filter(|b| !b.is_empty()),
        available_only: available(),
        format: Some(format()).filter(|f| !f.is_empty()),
        language: Some(language()).filter(|l| !l.is_empty()),
    };
    rsx! {
        section { class: "screen catalogue",
            ScreenHead { t: t.clone(), title: t.t("catalogue-title"), offline }
            form {
                class: "search",
                role: "search",
                onsubmit: move |e| {
                    e.prevent_default();
                    let q = query().trim().to_string();
                    if !q.is_empty() {
                        on_search.call(input(q));
                    }
                },
                label { r#for: "search-q", class: "visually-hidden", {t.t("catalogue-search-label")} }
                input {
                    id: "search-q",
                    r#type: "search",
                    placeholder: t.t("catalogue-search-placeholder"),
                    value: "{query}",
                    oninput: move |e| query.set(e.value()),
                }
                span { class: "field",
                    label { r#for: "search-branch", {t.t("catalogue-branch")} }
                    select { id: "search-branch", onchange: move |e| branch.set(e.value()),
                        option { value: "", {t.t("filter-all-branches")} }
                        for b in branches.iter() {
                            option { key: "{b.id}", value: "{b.id}", "{b.name}" }
                        }
                    }
                }
                span { class: "field",
                    label { r#for: "search-format", {t.t("catalogue-format")} }
                    select { id: "search-format", onchange: move |e| format.set(e.value()),
                        option { value: "", {t.t("filter-all-formats")} }
                        for f in FILTER_FORMATS {
                            option { key: "{f}", value: "{f}", {t.t(&format!("format-{f}"))} }
                        }
                    }
                }
                span { class: "field",
                    label { r#for: "search-language", {t.t("catalogue-language")} }
                    select { id: "search-language", onchange: move |e| language.set(e.value()),
                        option { value: "", {t.t("filter-all-languages")} }
                        for l in FILTER_LANGUAGES {
                            option { key: "{l}", value: "{l}", {t.t(&format!("language-{l}"))} }
                        }
                    }
                }
                label { class: "check",
                    input { r#type: "checkbox", id: "search-available", checked: available(), onchange: move |e| available.set(e.checked()) }
                    {t.t("catalogue-available-only")}
                }
                button { r#type: "submit", class: "primary", id: "search-go", {t.t("catalogue-search")} }
            }
            match results {
                None => rsx! {},
                Some(Load::Loading) => rsx! { Loading { t: t.clone() } },
                Some(Load::Failed(e)) if e.code == "offline" => rsx! {
                    p { class: "error-box", role: "alert", {t.t("catalogue-offline")} }
                },
                Some(Load::Failed(e)) => rsx! { ErrorBox { t: t.clone(), error: e } },
                Some(Load::Ready(SearchResults { hits, suggestion })) => rsx! {
                    h2 { class: "visually-hidden", {t.t("catalogue-results")} }
                    p { role: "status", {t.ta("catalogue-found", &[("n", hits.len().to_string())])} }
                    if let Some(s) = suggestion {
                        p { class: "suggestion",
                            {t.t("catalogue-did-you-mean")}
                            " "
                            button {
                                r#type: "button",
                                class: "link",
                                id: "search-suggestion",
                                onclick: move |_| {
                                    query.set(s.clone());
                                    on_search.call(input(s.clone()));
                                },
                                "{s}"
                            }
                        }
                    }
                    ul { class: "cards", id: "search-results",
                        for h in hits.iter() {
                            TitleHit { key: "{h.id}", t: t.clone(), hit: h.clone(), branches: branches.clone() }
                        }
                    }
                },
            }
            section { "aria-labelledby": "h-recent",
                h2 { id: "h-recent", {t.t("catalogue-recent")} }
                match recent {
                    Load::Loading => rsx! { Loading { t: t.clone() } },
                    Load::Failed(_) => rsx! { Empty { text: t.t("catalogue-recent-empty") } },
                    Load::Ready(recent) if recent.is_empty() => rsx! { Empty { text: t.t("catalogue-recent-empty") } },
                    Load::Ready(recent) => rsx! {
                        ul { class: "cards",
                            for h in recent.iter() {
                                TitleHit { key: "{h.id}", t: t.clone(), hit: h.clone(), branches: branches.clone() }
                            }
                        }
                    },
                }
            }
        }
    }
}

#[component]
fn TitleHit(t: T, hit: TitleSummary, branches: Vec<BranchInfo>) -> Element {
    let h = hit;
    let available: u32 = h.availability.iter().map(|a| a.available).sum();
    rsx! {
        li { class: "card hit", "data-title": "{h.id}",
            h3 { crate::components::Go { to: Route::Title { id: h.id.clone() }, class: "title-link", "{h.title}" } }
            p { class: "muted",
                "{h.author}"
                if let Some(y) = h.year { " · {y}" }
                " · "
                {
                    let f = h.format.as_deref().unwrap_or(&h.item_type);
                    t.t_or(&format!("format-{f}"), f)
                }
            }
            p { class: if available > 0 { "avail yes" } else { "avail no" },
                {if available > 0 { t.ta("avail-now", &[("n", available.to_string())]) } else { t.t("avail-none") }}
            }
            ul { class: "branches",
                for a in h.availability.iter() {
                    li { key: "{a.branch}",
                        {t.ta("avail-branch", &[("branch", branch_name(&branches, &a.branch)), ("available", a.available.to_string()), ("total", a.total.to_string())])}
                    }
                }
            }
        }
    }
}

#[component]
pub fn Title(id: String) -> Element {
    rsx! {
        TitleFor { id }
    }
}

/// `id` is a signal: when a pustaka:// link moves the route from one title
/// to another, this component stays mounted (a key on a single child does
/// not remount it) and the query must follow the new id — a plain `String`
/// captured by the query kept fetching the first title (seen in the e2e run).
#[component]
fn TitleFor(id: ReadSignal<String>) -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    let res = use_query(move || GetTitle { id: id() });
    let title = Load::of(&res.read());
    let backend2 = backend.clone();
    let backend3 = backend.clone();
    // The patron's lists (none on the website: they live on the device).
    let lists = use_query(|| GetLists {});
    let lists = match &*lists.read() {
        Some(Ok(l)) => l.clone(),
        _ => vec![],
    };
    rsx! {
        TitlePage {
            t: ctx.t(),
            title,
            account,
            lists,
            on_add_to_list: move |a: AddToList| act(backend3.clone(), ctx, a, "done-list-added"),
            offline: ctx.offline(),
            on_place_hold: move |(title, branch): (String, String)| {
                act(backend.clone(), ctx, PlaceHold { title, branch }, "done-place-hold")
            },
            on_open_link: move |url: String| {
                act(backend2.clone(), ctx, OpenOnline { url }, "done-open-link")
            },
        }
    }
}

#[component]
pub fn TitlePage(
    t: T,
    title: Load<TitleView>,
    account: Load<AccountView>,
    offline: bool,
    on_place_hold: EventHandler<(String, String)>,
    on_open_link: EventHandler<String>,
    /// The patron's reading lists, to add this title to.
    #[props(default)]
    lists: Vec<ReadingListView>,
    #[props(default)] on_add_to_list: EventHandler<AddToList>,
) -> Element {
    let heading = match &title {
        Load::Ready(v) => v.details.summary.title.clone(),
        _ => t.t("title-title"),
    };
    if let Some(e) = not_ready(&t, &title) {
        let e = match &title {
            Load::Failed(IpcError { code, .. }) if code == "offline" => {
                rsx! { p { class: "error-box", role: "alert", {t.t("title-offline")} } }
            }
            _ => e,
        };
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title: heading, offline } {e} } };
    }
    let Load::Ready(v) = title else {
        return rsx! {};
    };
    let d = v.details;
    let (branches, held, loaned) = match &account {
        Load::Ready(a) => (
            a.branches.clone(),
            a.holds.iter().any(|h| h.title_id == d.summary.id),
            a.loans.iter().any(|l| l.title_id == d.summary.id),
        ),
        _ => (vec![], false, false),
    };
    let first_pickup = branches
        .iter()
        .find(|b| b.pickup)
        .map(|b| b.id.clone())
        .unwrap_or_default();
    let mut pickup = use_signal(|| first_pickup);
    let mut chosen_list = use_signal(|| pustaka_ipc::WANT_LIST.to_string());
    let title_id = d.summary.id.clone();
    let on_lists: Vec<String> = lists
        .iter()
        .filter(|l| l.items.iter().any(|i| i.title_id == d.summary.id))
        .map(|l| super::lists::list_name(&t, l))
        .collect();
    let add = AddToList {
        list: String::new(),
        title_id: d.summary.id.clone(),
        title: d.summary.title.clone(),
        author: d.summary.author.clone(),
    };
    rsx! {
        section { class: "screen title-page", "data-title": "{d.summary.id}",
            ScreenHead { t: t.clone(), title: heading, offline }
            if v.from_cache {
                p { class: "offline-banner", {t.t("title-from-cache")} }
            }
            p { class: "muted", "{d.summary.author}" if let Some(y) = d.summary.year { " · {y}" } }
            if let Some(r) = &d.responsibility {
                p { class: "muted responsibility", "{r}" }
            }
            dl { class: "facts",
                if let Some(c) = &d.call_number {
                    dt { {t.t("title-call-number")} }
                    dd { class: "call-number", "{c}" }
                }
                dt { {t.t("title-format")} }
                dd { {t.t_or(&format!("format-{}", d.summary.item_type), &d.summary.item_type)} }
                if !d.formats.is_empty() {
                    dt { {t.t("title-formats")} }
                    dd { {d.formats.iter().map(|f| t.t_or(&format!("format-{f}"), f)).collect::<Vec<_>>().join(", ")} }
                }
                dt { {t.t("title-language")} }
                dd { {t.t_or(&format!("language-{}", d.summary.language), &d.summary.language)} }
                if let Some(isbn) = &d.isbn {
                    dt { "ISBN" }
                    dd { "{isbn}" }
                }
                if !d.subjects.is_empty() {
                    dt { {t.t("title-subjects")} }
                    dd { {d.subjects.join(" · ")} }
                }
                dt { {t.t("title-holds")} }
                dd { "{d.holds}" }
            }
            if !d.links.is_empty() {
                section { class: "online", "aria-labelledby": "h-online",
                    h2 { id: "h-online", {t.t("title-online")} }
                    ul { class: "links",
                        for (i, l) in d.links.iter().enumerate() {
                            OnlineLinkItem {
                                key: "{i}",
                                url: l.url.clone(),
                                label: l.label.clone().unwrap_or_else(|| t.t("title-read-online")),
                                on_open: on_open_link,
                            }
                        }
                    }
                }
            }
            if d.copies.is_empty() {
                p { class: "muted no-copies", {t.t("title-no-copies")} }
            } else {
            table { class: "copies",
                caption { {t.t("title-copies")} }
                thead {
                    tr {
                        th { scope: "col", {t.t("title-branch")} }
                        th { scope: "col", {t.t("title-shelf")} }
                        th { scope: "col", {t.t("title-status")} }
                    }
                }
                tbody {
                    for c in d.copies.iter() {
                        tr { key: "{c.barcode}",
                            td { {branch_name(&branches, &c.branch)} }
                            td { "{c.shelf}" }
                            td { {t.t(&format!("copy-{}", c.status))} }
                        }
                    }
                }
            }
            }
            if !d.copies.is_empty() {
            section { class: "place-hold", "aria-labelledby": "h-place-hold",
                h2 { id: "h-place-hold", {t.t("title-place-hold")} }
                if held {
                    p { {t.t("title-already-held")} }
                } else if loaned {
                    p { {t.t("title-already-loaned")} }
                } else {
                    label { r#for: "hold-pickup", {t.t("title-pickup-branch")} }
                    select { id: "hold-pickup", onchange: move |e| pickup.set(e.value()),
                        for b in branches.iter().filter(|b| b.pickup) {
                            option { key: "{b.id}", value: "{b.id}", "{b.name}" }
                        }
                    }
                    button {
                        id: "place-hold",
                        class: "primary",
                        onclick: move |_| on_place_hold.call((title_id.clone(), pickup())),
                        {t.t("title-place-hold")}
                    }
                }
            }
            }
            if !lists.is_empty() {
                section { class: "add-to-list", "aria-labelledby": "h-add-to-list",
                    h2 { id: "h-add-to-list", {t.t("title-lists")} }
                    if !on_lists.is_empty() {
                        p { id: "on-lists", {t.ta("title-on-lists", &[("lists", on_lists.join(", "))])} }
                    }
                    label { r#for: "list-choice", {t.t("title-list-choice")} }
                    select { id: "list-choice", onchange: move |e| chosen_list.set(e.value()),
                        for l in lists.iter() {
                            option { key: "{l.id}", value: "{l.id}", {super::lists::list_name(&t, l)} }
                        }
                    }
                    button {
                        id: "add-to-list",
                        class: "secondary",
                        onclick: move |_| on_add_to_list.call(AddToList { list: chosen_list(), ..add.clone() }),
                        {t.t("title-add-to-list")}
                    }
                }
            }
            if !d.borrowed_together.is_empty() {
                section { class: "borrowed-together", "aria-labelledby": "h-together",
                    h2 { id: "h-together", {t.t("title-together")} }
                    p { class: "muted", {t.t("title-together-why")} }
                    ul { class: "together",
                        for o in d.borrowed_together.iter() {
                            li { key: "{o.id}",
                                crate::components::Go { to: Route::Title { id: o.id.clone() }, class: "title-link", "{o.title}" }
                                span { class: "muted", " · {o.author}" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A link to the online resource; opened by the system (browser or reader),
/// never inside the app's own window.
#[component]
fn OnlineLinkItem(url: String, label: String, on_open: EventHandler<String>) -> Element {
    let u = url.clone();
    rsx! {
        li {
            a {
                class: "online-link",
                href: "{url}",
                onclick: move |e| {
                    e.prevent_default();
                    on_open.call(u.clone());
                },
                "{label}"
            }
        }
    }
}
