//! The FAQ assistant on the device: the library's questions and answers
//! come in the shared document, so they are searched offline, in the
//! patron's language ([`pustaka_faq`]); a question the FAQ does not answer
//! well goes to a librarian as an intent.

use pustaka_domain::Lang;
use pustaka_ipc::{FaqAnswer, FaqEntryView};
use pustaka_replica::{Calendar, FaqDoc, IntentKind};

use crate::{Device, DeviceError};

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

impl Device {
    /// The library's FAQ in `lang` (empty before the first sync).
    pub fn faq(&self, lang: Lang) -> Result<Vec<FaqEntryView>, DeviceError> {
        Ok(self
            .calendar()?
            .map(|c| entries(&c, lang))
            .unwrap_or_default())
    }

    /// The FAQ assistant: answers from the replica, no network.
    pub fn search_faq(&self, query: &str, lang: Lang) -> Result<FaqAnswer, DeviceError> {
        Ok(match self.calendar()? {
            Some(c) => search(&c, query, lang),
            None => FaqAnswer {
                query: query.to_string(),
                ..Default::default()
            },
        })
    }

    /// Asks a librarian (an intent: queued offline, decided once).
    pub fn ask_librarian(&self, question: &str, lang: Lang) -> Result<uuid::Uuid, DeviceError> {
        let question = question.trim();
        if question.is_empty() {
            return Err(DeviceError::Invalid("empty_question".into()));
        }
        if question.chars().count() > pustaka_replica::intent::MAX_TEXT_CHARS {
            return Err(DeviceError::Invalid("question_too_long".into()));
        }
        self.request(IntentKind::AskLibrarian {
            question: question.to_string(),
            lang: lang.code().to_string(),
        })
    }
}
