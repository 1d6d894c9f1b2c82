//! The catalogue as the patron's device sees it: searches go to the
//! library's server; every title page opened is kept on the device, so
//! recently viewed titles (and any title opened before) read offline.

use pustaka_ipc::{Search, SearchResults, TitleDetails, TitleSummary, TitleView};

use crate::{Device, DeviceError};

/// How many recently viewed titles the device keeps.
pub const RECENT_TITLES: usize = 20;

fn encode<T: serde::Serialize>(v: &T) -> Result<String, DeviceError> {
    serde_json::to_string(v).map_err(|e| DeviceError::Storage(e.to_string()))
}

impl Device {
    /// Searches the library's catalogue (needs the network).
    pub async fn search(&self, s: &Search) -> Result<SearchResults, DeviceError> {
        let server = self.server()?;
        let mut q = vec![("q", s.query.clone()), ("limit", "30".to_string())];
        let filters = [
            ("branch", &s.branch),
            ("format", &s.format),
            ("language", &s.language),
        ];
        for (k, v) in filters {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                q.push((k, v.to_string()));
            }
        }
        if s.available_only {
            q.push(("available", "true".to_string()));
        }
        self.transport_ref()
            .get_json(&format!("{server}/v1/catalog/search"), &q)
            .await
    }

    /// A title's details from the server, remembered on the device; when the
    /// server is out of reach, the remembered copy.
    pub async fn title(&self, id: &str) -> Result<TitleView, DeviceError> {
        let server = self.server()?;
        let url = format!("{server}/v1/catalog/titles/{}", urlencode(id));
        match self
            .transport_ref()
            .get_json::<TitleDetails>(&url, &[])
            .await
        {
            Ok(details) => {
                self.remember(&details)?;
                Ok(TitleView {
                    details,
                    from_cache: false,
                })
            }
            Err(DeviceError::Offline(e)) => match self.local_get(&format!("title:{id}"))? {
                Some(json) => Ok(TitleView {
                    details: serde_json::from_str(&json)
                        .map_err(|e| DeviceError::Storage(e.to_string()))?,
                    from_cache: true,
                }),
                None => Err(DeviceError::Offline(e)),
            },
            Err(e) => Err(e),
        }
    }

    /// Titles opened recently, newest first, from the device alone.
    pub fn recent_titles(&self) -> Result<Vec<TitleSummary>, DeviceError> {
        let ids: Vec<String> = match self.local_get("recent")? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => vec![],
        };
        let mut out = vec![];
        for id in ids {
            if let Some(json) = self.local_get(&format!("title:{id}"))?
                && let Ok(d) = serde_json::from_str::<TitleDetails>(&json)
            {
                out.push(d.summary);
            }
        }
        Ok(out)
    }

    fn remember(&self, d: &TitleDetails) -> Result<(), DeviceError> {
        let id = &d.summary.id;
        self.local_set(&format!("title:{id}"), &encode(d)?)?;
        let mut ids: Vec<String> = match self.local_get("recent")? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => vec![],
        };
        ids.retain(|x| x != id);
        ids.insert(0, id.clone());
        ids.truncate(RECENT_TITLES);
        self.local_set("recent", &encode(&ids)?)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
