//! The FAQ assistant on the device: searched offline over the replica of
//! the shared document ([`pustaka_views::faq`]); a question the FAQ does not
//! answer well goes to a librarian as an intent.

use pustaka_domain::Lang;
use pustaka_ipc::{FaqAnswer, FaqEntryView};
use pustaka_replica::IntentKind;
pub use pustaka_views::faq::{entries, search};

use crate::{Device, DeviceError};

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
        let question = pustaka_replica::intent::question_text(question)
            .map_err(|code| DeviceError::Invalid(code.into()))?;
        self.request(IntentKind::AskLibrarian {
            question: question.to_string(),
            lang: lang.code().to_string(),
        })
    }
}
