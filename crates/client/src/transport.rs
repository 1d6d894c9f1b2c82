//! The device's HTTP edge (reqwest): sign-in, sync, and the live poke.

use std::time::Duration;

use futures_util::StreamExt;
use pustaka_replica::wire::{self, Directory, SyncRequest, SyncResponse};
use serde::Deserialize;

use crate::DeviceError;

#[derive(Debug, Clone, Deserialize)]
pub struct LoginReply {
    pub token: String,
    pub expires_at: i64,
    pub card: String,
    pub name: String,
    pub directory: Directory,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

#[derive(Clone)]
pub struct Transport {
    http: reqwest::Client,
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new()
    }
}

fn offline(e: reqwest::Error) -> DeviceError {
    DeviceError::Offline(e.to_string())
}

async fn server_error(resp: reqwest::Response) -> DeviceError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) if status == reqwest::StatusCode::UNAUTHORIZED && b.code == "unauthorized" => {
            DeviceError::SignedOut
        }
        Ok(b) => DeviceError::Server {
            code: b.code,
            message: b.message,
        },
        Err(_) if status.is_server_error() => {
            DeviceError::Offline(format!("server answered {status}"))
        }
        Err(_) => DeviceError::Server {
            code: "http".into(),
            message: format!("{status}: {}", text.chars().take(200).collect::<String>()),
        },
    }
}

/// A JSON answer, or the server's `{code, message}` error.
async fn json_reply<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
) -> Result<T, DeviceError> {
    if !resp.status().is_success() {
        return Err(server_error(resp).await);
    }
    resp.json().await.map_err(|e| DeviceError::Server {
        code: "bad_reply".into(),
        message: e.to_string(),
    })
}

impl Transport {
    pub fn new() -> Transport {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Transport { http }
    }

    pub async fn login(
        &self,
        server: &str,
        card: &str,
        pin: &str,
    ) -> Result<LoginReply, DeviceError> {
        let resp = self
            .http
            .post(format!("{server}/v1/login"))
            .json(&serde_json::json!({ "card": card, "pin": pin }))
            .send()
            .await
            .map_err(offline)?;
        json_reply(resp).await
    }

    /// A public JSON read (the catalogue).
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<T, DeviceError> {
        let resp = self
            .http
            .get(url)
            .query(query)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(offline)?;
        json_reply(resp).await
    }

    /// A JSON read on the patron's behalf.
    pub async fn get_json_as<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &str,
    ) -> Result<T, DeviceError> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(offline)?;
        json_reply(resp).await
    }

    /// A JSON request on the patron's behalf that changes something.
    pub async fn post_json_as<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<T, DeviceError> {
        self.send_json_as(reqwest::Method::POST, url, token, body)
            .await
    }

    /// A JSON request on the patron's behalf that replaces a setting.
    pub async fn put_json_as<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<T, DeviceError> {
        self.send_json_as(reqwest::Method::PUT, url, token, body)
            .await
    }

    async fn send_json_as<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<T, DeviceError> {
        let resp = self
            .http
            .request(method, url)
            .bearer_auth(token)
            .json(body)
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(offline)?;
        json_reply(resp).await
    }

    pub async fn logout(&self, server: &str, token: &str) -> Result<(), DeviceError> {
        let resp = self
            .http
            .post(format!("{server}/v1/logout"))
            .bearer_auth(token)
            .send()
            .await
            .map_err(offline)?;
        if !resp.status().is_success() {
            return Err(server_error(resp).await);
        }
        Ok(())
    }

    /// One sync round trip. Returns the reply and the bytes sent and received.
    pub async fn sync(
        &self,
        server: &str,
        token: &str,
        req: &SyncRequest,
    ) -> Result<(SyncResponse, usize, usize), DeviceError> {
        let body = wire::encode(req);
        let sent = body.len();
        let resp = self
            .http
            .post(format!("{server}/v1/sync"))
            .bearer_auth(token)
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .await
            .map_err(offline)?;
        if !resp.status().is_success() {
            return Err(server_error(resp).await);
        }
        let bytes = resp.bytes().await.map_err(offline)?;
        let reply = wire::decode_response(&bytes).map_err(|e| DeviceError::Server {
            code: "bad_reply".into(),
            message: e.to_string(),
        })?;
        Ok((reply, sent, bytes.len()))
    }

    /// Listens to the live poke until the stream ends, calling `on_change`
    /// with the changed document ids for each event (and once at connect).
    pub async fn listen(
        &self,
        server: &str,
        token: &str,
        mut on_change: impl FnMut(Vec<String>),
    ) -> Result<(), DeviceError> {
        let resp = self
            .http
            .get(format!("{server}/v1/poke"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(24 * 3600))
            .send()
            .await
            .map_err(offline)?;
        if !resp.status().is_success() {
            return Err(server_error(resp).await);
        }
        let mut stream = resp.bytes_stream();
        let mut buf = String::new();
        let mut event = String::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(offline)?;
            buf.push_str(&String::from_utf8_lossy(&chunk));
            if buf.len() > 1 << 20 {
                return Err(DeviceError::Offline(
                    "poke stream sent an oversized event".into(),
                ));
            }
            while let Some(pos) = buf.find('\n') {
                let line = buf[..pos].trim_end_matches('\r').to_string();
                buf.drain(..=pos);
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(data) = line.strip_prefix("data:") {
                    let docs = serde_json::from_str::<serde_json::Value>(data.trim())
                        .ok()
                        .and_then(|v| v.get("docs").cloned())
                        .and_then(|d| serde_json::from_value::<Vec<String>>(d).ok())
                        .unwrap_or_default();
                    if event == "changed" || event == "ready" {
                        on_change(docs);
                    }
                }
            }
        }
        Err(DeviceError::Offline("poke stream ended".into()))
    }
}
