//! "Tanya": the library's FAQ, searched on the device (offline, in the
//! app's language), browsable by topic; when nothing answers well, the
//! question goes to a librarian, and the answer comes back here.

use dioxus::prelude::*;
use pustaka_ipc::{AccountView, AskLibrarian, FaqAnswer, FaqEntryView, GetFaq, SearchFaq};

use super::{ScreenHead, use_account};
use crate::components::{Empty, Load};
use crate::{T, act, use_backend, use_ctx, use_query};

pub use pustaka_ipc::FAQ_TOPICS as TOPICS;

#[component]
pub fn Faq() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let mut query = use_signal(String::new);
    let entries = use_query(|| GetFaq {});
    let found = use_query(move || SearchFaq { query: query() });
    let account = use_account();
    let answer = match &*found.read() {
        Some(Ok(a)) if !a.query.trim().is_empty() => Some(a.clone()),
        _ => None,
    };
    rsx! {
        FaqView {
            t: ctx.t(),
            offline: ctx.offline(),
            entries: Load::of(&entries.read()),
            answer,
            account,
            on_query: move |q: String| query.set(q),
            on_ask: move |question: String| {
                act(backend.clone(), ctx, AskLibrarian { question }, "done-ask");
            },
        }
    }
}

#[component]
pub fn FaqView(
    t: T,
    offline: bool,
    entries: Load<Vec<FaqEntryView>>,
    /// What the assistant found for the current question, if one is typed.
    answer: Option<FaqAnswer>,
    account: Load<AccountView>,
    on_query: EventHandler<String>,
    on_ask: EventHandler<String>,
) -> Element {
    let mut text = use_signal(String::new);
    let title = t.t("faq-title");
    let entries = match entries {
        Load::Ready(e) => e,
        _ => vec![],
    };
    rsx! {
        section { class: "screen faq",
            ScreenHead { t: t.clone(), title, offline }
            p { class: "muted", id: "faq-hint", {t.t("faq-hint")} }
            form {
                role: "search",
                class: "search-form",
                onsubmit: move |e| {
                    e.prevent_default();
                    on_query.call(text());
                },
                label { r#for: "faq-query", {t.t("faq-query-label")} }
                input {
                    id: "faq-query",
                    r#type: "search",
                    maxlength: "1000",
                    placeholder: t.t("faq-query-placeholder"),
                    "aria-describedby": "faq-hint",
                    value: "{text}",
                    oninput: move |e| {
                        text.set(e.value());
                        on_query.call(e.value());
                    },
                }
                button { id: "faq-search", r#type: "submit", class: "primary", {t.t("faq-search")} }
            }
            div { id: "faq-results", "aria-live": "polite",
                if let Some(a) = answer {
                    FaqResults { t: t.clone(), answer: a, on_ask }
                }
            }
            MyQuestions { t: t.clone(), account }
            section { "aria-labelledby": "h-faq-topics",
                h2 { id: "h-faq-topics", {t.t("faq-topics")} }
                if entries.is_empty() {
                    Empty { text: t.t("faq-empty") }
                }
                for topic in TOPICS.iter().filter(|k| entries.iter().any(|e| e.topic == **k)) {
                    details { key: "{topic}", class: "faq-topic",
                        summary { {t.t(&format!("faq-topic-{topic}"))} }
                        for e in entries.iter().filter(|e| e.topic == *topic) {
                            details { key: "{e.id}", class: "faq-entry", id: "faq-{e.id}",
                                summary { "{e.question}" }
                                p { "{e.answer}" }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn FaqResults(t: T, answer: FaqAnswer, on_ask: EventHandler<String>) -> Element {
    let question = answer.query.trim().to_string();
    let mut hits = answer.hits.iter();
    let best = if answer.confident { hits.next() } else { None };
    let rest: Vec<&FaqEntryView> = hits.collect();
    rsx! {
        if let Some(b) = best {
            article { class: "faq-best", id: "faq-best", "aria-labelledby": "faq-best-q",
                p { class: "muted", {t.t("faq-best")} }
                h2 { id: "faq-best-q", "{b.question}" }
                p { "{b.answer}" }
            }
        } else {
            p { id: "faq-no-match", {t.t("faq-not-found")} }
        }
        if !rest.is_empty() {
            h2 { {if best.is_some() { t.t("faq-more") } else { t.t("faq-maybe") }} }
            for e in rest {
                details { key: "{e.id}", class: "faq-entry",
                    summary { "{e.question}" }
                    p { "{e.answer}" }
                }
            }
        }
        div { class: "faq-ask",
            p { class: "muted", id: "faq-ask-hint", {t.t("faq-ask-hint")} }
            button {
                id: "faq-ask",
                class: if best.is_none() { "primary" } else { "" },
                "aria-describedby": "faq-ask-hint",
                onclick: move |_| on_ask.call(question.clone()),
                {t.t("faq-ask")}
            }
        }
    }
}

#[component]
fn MyQuestions(t: T, account: Load<AccountView>) -> Element {
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    let waiting = a
        .pending
        .iter()
        .filter(|p| p.kind == "ask_librarian")
        .count();
    if a.questions.is_empty() && waiting == 0 {
        return rsx! {};
    }
    rsx! {
        section { "aria-labelledby": "h-my-questions",
            h2 { id: "h-my-questions", {t.t("faq-mine")} }
            if waiting > 0 {
                p { id: "faq-queued", role: "status", {t.ta("faq-queued", &[("n", waiting.to_string())])} }
            }
            ul { class: "questions",
                for q in a.questions.iter() {
                    li { key: "{q.id}", class: "question",
                        p { strong { "{q.question}" } }
                        match &q.answer {
                            Some(answer) => rsx! {
                                p { class: "answer", span { class: "muted", {t.t("faq-answered")} " " } "{answer}" }
                            },
                            None => rsx! { p { class: "muted", {t.t("faq-waiting")} } },
                        }
                    }
                }
            }
        }
    }
}
