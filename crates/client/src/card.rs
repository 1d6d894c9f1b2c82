//! The digital membership card's signed code: fetched from the library
//! when online, kept on the device so the card shows (and verifies at a
//! book van) offline. The signature is the library's; the device only
//! carries the token.

use serde::{Deserialize, Serialize};

use crate::{Device, DeviceError};

const KEY: &str = "card.token";
/// A kept token is refreshed after a day, so a block or an extension
/// reaches the card soon after it happens.
const REFRESH_AFTER_MS: i64 = 24 * 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardToken {
    pub token: String,
    /// When this device fetched it (ms).
    pub fetched_at: i64,
}

#[derive(Deserialize)]
struct Reply {
    token: String,
}

impl Device {
    /// The card's signed code as last fetched, if any.
    pub fn card_token(&self) -> Result<Option<CardToken>, DeviceError> {
        Ok(self
            .local_get(KEY)?
            .and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Fetches a freshly signed code from the library and keeps it.
    pub async fn refresh_card_token(&self) -> Result<CardToken, DeviceError> {
        let (server, token) = self.server_and_token()?;
        let reply: Reply = self
            .transport_ref()
            .get_json_as(&format!("{server}/v1/card"), &token)
            .await?;
        let kept = CardToken {
            token: reply.token,
            fetched_at: self.now(),
        };
        let json = serde_json::to_string(&kept).map_err(|e| DeviceError::Storage(e.to_string()))?;
        self.local_set(KEY, &json)?;
        Ok(kept)
    }

    /// The kept code, refreshed first when it is a day old and the library
    /// answers; offline, the kept one.
    pub async fn current_card_token(&self) -> Result<Option<CardToken>, DeviceError> {
        let kept = self.card_token()?;
        if kept
            .as_ref()
            .is_some_and(|k| self.now() - k.fetched_at < REFRESH_AFTER_MS)
        {
            return Ok(kept);
        }
        match self.refresh_card_token().await {
            Ok(fresh) => Ok(Some(fresh)),
            Err(DeviceError::Offline(_)) => Ok(kept),
            Err(e) => Err(e),
        }
    }
}
