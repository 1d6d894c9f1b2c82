//! Account settings the library keeps for the patron: e-mail reminders and
//! the secret address of the personal calendar feed. Both live on the
//! server (it sends the e-mails and serves the feed), so changing them
//! needs the network; the feed address is also kept on the device, where
//! the patron can copy it again offline.

use pustaka_domain::Lang;
use pustaka_ipc::EmailReminders;
use serde::Deserialize;

use crate::{Device, DeviceError};

const FEED_KEY: &str = "calendar.feed";

#[derive(Deserialize)]
struct FeedReply {
    url: String,
}

impl Device {
    /// The patron's e-mail reminders as the library has them.
    pub async fn email_reminders(&self) -> Result<EmailReminders, DeviceError> {
        let (server, token) = self.server_and_token()?;
        self.transport_ref()
            .get_json_as(&format!("{server}/v1/account/email"), &token)
            .await
    }

    /// Opts in at `email` with e-mails in `lang`, or out with `None`. The
    /// library trims and checks the address; a bad one is refused with a
    /// reason.
    pub async fn set_email_reminders(
        &self,
        email: Option<&str>,
        lang: Lang,
    ) -> Result<EmailReminders, DeviceError> {
        let (server, token) = self.server_and_token()?;
        self.transport_ref()
            .put_json_as(
                &format!("{server}/v1/account/email"),
                &token,
                &serde_json::json!({ "email": email, "lang": lang.code() }),
            )
            .await
    }

    /// Everything the library holds about the patron, as the library's
    /// JSON export (needs the network). The device adds nothing of its own:
    /// what it holds is a replica of what the library sent.
    pub async fn export_data(&self) -> Result<serde_json::Value, DeviceError> {
        let (server, token) = self.server_and_token()?;
        self.transport_ref()
            .get_json_as(&format!("{server}/v1/account/export"), &token)
            .await
    }

    /// Asks the library to keep the patron's loan history, or to stop and
    /// delete it. Works offline: an intent the library decides.
    pub fn set_keep_history(&self, keep: bool) -> Result<uuid::Uuid, DeviceError> {
        self.request(pustaka_replica::IntentKind::SetHistory { keep })
    }

    /// Answers a survey (question id → `1`..`5`, a choice's index, or
    /// text). Works offline; the library counts one response per patron.
    pub fn answer_survey(
        &self,
        survey: &str,
        answers: std::collections::BTreeMap<String, String>,
    ) -> Result<uuid::Uuid, DeviceError> {
        let answers: std::collections::BTreeMap<String, String> = answers
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if answers.is_empty() {
            return Err(DeviceError::Invalid("no_answers".into()));
        }
        self.request(pustaka_replica::IntentKind::AnswerSurvey {
            survey: survey.to_string(),
            answers,
        })
    }

    /// The calendar address this device made last, if any.
    pub fn calendar_feed(&self) -> Result<Option<String>, DeviceError> {
        self.local_get(FEED_KEY)
    }

    /// Asks the library for a new secret calendar address (the previous
    /// one stops working) and keeps it on the device.
    pub async fn new_calendar_feed(&self) -> Result<String, DeviceError> {
        let (server, token) = self.server_and_token()?;
        let reply: FeedReply = self
            .transport_ref()
            .post_json_as(
                &format!("{server}/v1/calendar/feed"),
                &token,
                &serde_json::json!({}),
            )
            .await?;
        self.local_set(FEED_KEY, &reply.url)?;
        Ok(reply.url)
    }
}
