//! The catalogue as the patron's device sees it: searches go to the
//! library's server; every title page opened is kept on the device, so
//! recently viewed titles (and any title opened before) read offline.

use pustaka_ipc::{
    CodeTarget, Search, SearchResults, SelfCheckedOut, TitleDetails, TitleSummary, TitleView,
};

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

    /// Where a scanned code leads: a label's title (and copy), or the title
    /// an ISBN or a copy barcode belongs to. Online the library answers;
    /// offline, the titles this device kept.
    pub async fn resolve_code(&self, code: &str) -> Result<CodeTarget, DeviceError> {
        let parsed = parse_code(code);
        if let ScannedCode::Title { id, copy } = &parsed {
            let view = self.title(id).await?;
            return Ok(CodeTarget {
                title_id: view.details.summary.id.clone(),
                title: view.details.summary.title.clone(),
                copy: copy.clone(),
                from_cache: view.from_cache,
            });
        }
        let server = self.server()?;
        let query = [("code", code.trim().to_string())];
        match self
            .transport_ref()
            .get_json::<TitleDetails>(&format!("{server}/v1/catalog/lookup"), &query)
            .await
        {
            Ok(details) => {
                self.remember(&details)?;
                Ok(CodeTarget {
                    title_id: details.summary.id.clone(),
                    title: details.summary.title.clone(),
                    copy: match parsed {
                        ScannedCode::Other(c) => Some(c),
                        _ => None,
                    },
                    from_cache: false,
                })
            }
            Err(DeviceError::Offline(e)) => {
                let ScannedCode::Isbn(isbn) = parsed else {
                    return Err(DeviceError::Offline(e));
                };
                self.kept_titles()?
                    .into_iter()
                    .find(|d| d.isbn.as_deref() == Some(isbn.as_str()))
                    .map(|d| CodeTarget {
                        title_id: d.summary.id.clone(),
                        title: d.summary.title.clone(),
                        copy: None,
                        from_cache: true,
                    })
                    .ok_or(DeviceError::Offline(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Checks `copy` out to the signed-in patron (online only; the
    /// library's rules decide), then syncs so the loan shows.
    pub async fn self_checkout(&self, copy: &str) -> Result<SelfCheckedOut, DeviceError> {
        let (server, token) = self.server_and_token()?;
        let out: SelfCheckedOut = self
            .transport_ref()
            .post_json_as(
                &format!("{server}/v1/self-checkout"),
                &token,
                &serde_json::json!({ "copy": copy }),
            )
            .await?;
        self.kick();
        Ok(out)
    }

    fn kept_titles(&self) -> Result<Vec<TitleDetails>, DeviceError> {
        let ids: Vec<String> = match self.local_get("recent")? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => vec![],
        };
        let mut out = vec![];
        for id in ids {
            if let Some(json) = self.local_get(&format!("title:{id}"))?
                && let Ok(d) = serde_json::from_str::<TitleDetails>(&json)
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Titles opened recently, newest first, from the device alone.
    pub fn recent_titles(&self) -> Result<Vec<TitleSummary>, DeviceError> {
        Ok(self.kept_titles()?.into_iter().map(|d| d.summary).collect())
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

/// What a scanned text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedCode {
    /// A label's link: `pustaka://title/<id>[?copy=<barcode>]` or the
    /// library's `https://…/pustaka/title/<id>[?copy=…]`.
    Title { id: String, copy: Option<String> },
    /// An ISBN-13 (EAN-13 starting 978 or 979).
    Isbn(String),
    /// Anything else: a copy's barcode, perhaps.
    Other(String),
}

pub fn parse_code(code: &str) -> ScannedCode {
    let code = code.trim();
    let rest = code.strip_prefix("pustaka://title/").or_else(|| {
        (code.starts_with("https://") || code.starts_with("http://"))
            .then(|| code.split_once("/pustaka/title/").map(|(_, r)| r))
            .flatten()
    });
    if let Some(rest) = rest {
        let (id, query) = rest.split_once('?').unwrap_or((rest, ""));
        let id = id.trim_end_matches('/');
        let copy = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("copy="))
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if !id.is_empty() && !id.contains('/') {
            return ScannedCode::Title {
                id: id.to_string(),
                copy,
            };
        }
    }
    if code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && (code.starts_with("978") || code.starts_with("979"))
    {
        return ScannedCode::Isbn(code.to_string());
    }
    ScannedCode::Other(code.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_texts() {
        assert_eq!(
            parse_code("pustaka://title/T2?copy=C2b"),
            ScannedCode::Title {
                id: "T2".into(),
                copy: Some("C2b".into())
            }
        );
        assert_eq!(
            parse_code("https://perpus.example.id/pustaka/title/T2"),
            ScannedCode::Title {
                id: "T2".into(),
                copy: None
            }
        );
        assert_eq!(
            parse_code("9789794339657"),
            ScannedCode::Isbn("9789794339657".into())
        );
        assert_eq!(parse_code("C1"), ScannedCode::Other("C1".into()));
        assert_eq!(
            parse_code("pustaka://title/a/b"),
            ScannedCode::Other("pustaka://title/a/b".into())
        );
    }
}
