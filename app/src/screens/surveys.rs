//! Surveys the library publishes: answered offline, sent like any request,
//! counted once per patron by the library.

use std::collections::BTreeMap;

use dioxus::prelude::*;
use pustaka_ipc::{AccountView, AnswerSurvey, SurveyQuestionView, SurveyView};

use super::{ScreenHead, not_ready, use_account};
use crate::components::{Empty, Load};
use crate::{T, act, use_backend, use_ctx};

#[component]
pub fn Surveys() -> Element {
    let ctx = use_ctx();
    let backend = use_backend();
    let account = use_account();
    rsx! {
        SurveysView {
            t: ctx.t(),
            account,
            offline: ctx.offline(),
            on_answer: move |(survey, answers): (String, BTreeMap<String, String>)| {
                act(backend.clone(), ctx, AnswerSurvey { survey, answers }, "done-survey");
            },
        }
    }
}

#[component]
pub fn SurveysView(
    t: T,
    account: Load<AccountView>,
    offline: bool,
    on_answer: EventHandler<(String, BTreeMap<String, String>)>,
) -> Element {
    let title = t.t("surveys-title");
    if let Some(e) = not_ready(&t, &account) {
        return rsx! { section { class: "screen", ScreenHead { t: t.clone(), title, offline } {e} } };
    }
    let Load::Ready(a) = account else {
        return rsx! {};
    };
    let open: Vec<&SurveyView> = a.surveys.iter().filter(|s| s.open).collect();
    rsx! {
        section { class: "screen surveys",
            ScreenHead { t: t.clone(), title, offline }
            p { class: "muted", {t.t("surveys-hint")} }
            if open.is_empty() {
                Empty { text: t.t("surveys-empty") }
            }
            for s in open {
                SurveyForm { key: "{s.id}", t: t.clone(), survey: s.clone(), on_answer }
            }
        }
    }
}

#[component]
fn SurveyForm(
    t: T,
    survey: SurveyView,
    on_answer: EventHandler<(String, BTreeMap<String, String>)>,
) -> Element {
    let mut answers = use_signal(BTreeMap::<String, String>::new);
    let en = t.lang == crate::Lang::En;
    let title = if en {
        &survey.title_en
    } else {
        &survey.title_id
    };
    let id = survey.id.clone();
    rsx! {
        article { class: "card survey", id: "survey-{survey.id}", "aria-labelledby": "survey-{survey.id}-title",
            h2 { id: "survey-{survey.id}-title", "{title}" }
            if let Some(c) = survey.closes {
                p { class: "muted", {t.ta("survey-closes", &[("date", t.date(c))])} }
            }
            if survey.answered {
                p { class: "badge ok", role: "status", {t.t("survey-answered")} }
            } else if survey.pending {
                p { class: "badge pending", role: "status", {t.t("survey-pending")} }
            } else {
                form {
                    onsubmit: move |e| {
                        e.prevent_default();
                        on_answer.call((id.clone(), answers()));
                    },
                    for q in survey.questions.iter() {
                        SurveyQuestion {
                            key: "{q.id}",
                            t: t.clone(),
                            survey: survey.id.clone(),
                            question: q.clone(),
                            value: answers().get(&q.id).cloned().unwrap_or_default(),
                            on_change: move |(q, v): (String, String)| {
                                answers.write().insert(q, v);
                            },
                        }
                    }
                    button { r#type: "submit", class: "primary", id: "survey-{survey.id}-send",
                        disabled: answers().values().all(|v| v.trim().is_empty()),
                        {t.t("survey-send")}
                    }
                }
            }
        }
    }
}

#[component]
fn SurveyQuestion(
    t: T,
    survey: String,
    question: SurveyQuestionView,
    value: String,
    on_change: EventHandler<(String, String)>,
) -> Element {
    let q = question;
    let en = t.lang == crate::Lang::En;
    let text = if en { &q.text_en } else { &q.text_id };
    let name = format!("{survey}-{}", q.id);
    match q.kind.as_str() {
        "rating" | "choice" => {
            let options: Vec<(String, String)> = if q.kind == "rating" {
                (1..=5)
                    .map(|n| {
                        (
                            n.to_string(),
                            t.ta("survey-rating", &[("n", n.to_string())]),
                        )
                    })
                    .collect()
            } else {
                let labels = if en { &q.choices_en } else { &q.choices_id };
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (i.to_string(), l.clone()))
                    .collect()
            };
            rsx! {
                fieldset { class: "survey-question {q.kind}",
                    legend { "{text}" }
                    for (v, label) in options {
                        label { key: "{v}", class: "check",
                            input {
                                r#type: "radio",
                                name: "{name}",
                                id: "{name}-{v}",
                                value: "{v}",
                                checked: value == v,
                                onchange: {
                                    let (qid, v) = (q.id.clone(), v.clone());
                                    move |_| on_change.call((qid.clone(), v.clone()))
                                },
                            }
                            "{label}"
                        }
                    }
                }
            }
        }
        _ => rsx! {
            div { class: "survey-question text",
                label { r#for: "{name}", "{text}" }
                textarea {
                    id: "{name}",
                    maxlength: "1000",
                    value: "{value}",
                    oninput: {
                        let qid = q.id.clone();
                        move |e: Event<FormData>| on_change.call((qid.clone(), e.value()))
                    },
                }
            }
        },
    }
}
