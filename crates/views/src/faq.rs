//! The FAQ assistant's answers: the library's questions and answers come in
//! the shared document, so they are searched where that document is (the
//! device, offline; the server, for the website), in the patron's language
//! ([`pustaka_faq`]).

use pustaka_domain::Lang;
use pustaka_ipc::{FaqAnswer, FaqEntryView};
use pustaka_replica::{Calendar, FaqDoc};

/// Hits returned for one question.
const MAX_HITS: usize = 5;

fn view(id: &str, f: &FaqDoc, lang: Lang) -> FaqEntryView {
    let (question, answer) = match lang {
        Lang::Id => (&f.question_id, &f.answer_id),
        Lang::En => (&f.question_en, &f.answer_en),
    };
    FaqEntryView {
        id: id.to_string(),
        topic: f.topic.clone(),
        question: question.clone(),
        answer: answer.clone(),
    }
}

/// The entries in `lang`, by topic then question.
pub fn entries(cal: &Calendar, lang: Lang) -> Vec<FaqEntryView> {
    let mut all: Vec<FaqEntryView> = cal.faq.iter().map(|(id, f)| view(id, f, lang)).collect();
    all.sort_by(|a, b| a.topic.cmp(&b.topic).then(a.question.cmp(&b.question)));
    all
}

/// Ranked retrieval over the entries in `lang` (pure).
pub fn search(cal: &Calendar, query: &str, lang: Lang) -> FaqAnswer {
    let docs: Vec<pustaka_faq::Entry> = cal
        .faq
        .iter()
        .map(|(id, f)| {
            let v = view(id, f, lang);
            pustaka_faq::Entry {
                id: v.id,
                question: v.question,
                answer: v.answer,
                also: match lang {
                    Lang::Id => f.also_id.clone(),
                    Lang::En => f.also_en.clone(),
                },
            }
        })
        .collect();
    let hits = pustaka_faq::Index::build(&docs, lang).search(query, MAX_HITS);
    FaqAnswer {
        query: query.to_string(),
        confident: hits.first().is_some_and(pustaka_faq::Hit::confident),
        hits: hits
            .iter()
            .filter_map(|h| cal.faq.get(&h.id).map(|f| view(&h.id, f, lang)))
            .collect(),
    }
}
