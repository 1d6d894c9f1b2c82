//! The sync wire envelope: one HTTP body carries all of a patron's documents.
//!
//! Encoded as CBOR (compact, binary-safe, self-describing). Decoding is
//! strict and bounded: unknown fields are refused and the number of
//! documents per request is capped.

use serde::{Deserialize, Serialize};

/// At most this many documents in one request (a patron has three).
pub const MAX_DOCS_PER_REQUEST: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// The device's install id; the server keeps one sync state per device
    /// and document.
    pub device: String,
    pub docs: Vec<DocMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocMessage {
    pub doc: String,
    /// An automerge sync message, or none when this side has nothing to say
    /// but wants the other side's news.
    #[serde(with = "serde_bytes")]
    pub message: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncResponse {
    pub docs: Vec<DocReply>,
    /// The patron's current document ids (they change on an epoch rollover).
    pub directory: Directory,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocReply {
    pub doc: String,
    #[serde(with = "serde_bytes")]
    pub message: Option<Vec<u8>>,
    /// A per-document refusal; the other documents still sync.
    pub error: Option<WireError>,
}

/// `{code, message}`: the error shape across HTTP and IPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    pub circ: String,
    pub intents: String,
    pub calendar: String,
    /// The patron's own `prefs` (reading lists); empty from a server that
    /// has none.
    #[serde(default)]
    pub prefs: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WireDecodeError {
    #[error("body is not a valid sync envelope: {0}")]
    Cbor(String),
    #[error("too many documents in one request ({0}, at most {MAX_DOCS_PER_REQUEST})")]
    TooManyDocs(usize),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail for these plain types.
    let _ = ciborium::into_writer(value, &mut out);
    out
}

pub fn decode_request(bytes: &[u8]) -> Result<SyncRequest, WireDecodeError> {
    let req: SyncRequest =
        ciborium::from_reader(bytes).map_err(|e| WireDecodeError::Cbor(e.to_string()))?;
    if req.docs.len() > MAX_DOCS_PER_REQUEST {
        return Err(WireDecodeError::TooManyDocs(req.docs.len()));
    }
    Ok(req)
}

pub fn decode_response(bytes: &[u8]) -> Result<SyncResponse, WireDecodeError> {
    ciborium::from_reader(bytes).map_err(|e| WireDecodeError::Cbor(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_and_garbage_is_refused() {
        let req = SyncRequest {
            device: "d1".into(),
            docs: vec![DocMessage {
                doc: "x".into(),
                message: Some(vec![1, 2, 3]),
            }],
        };
        let bytes = encode(&req);
        assert_eq!(decode_request(&bytes).unwrap(), req);
        assert!(decode_request(b"{\"device\":1}").is_err());
        assert!(decode_request(&bytes[..bytes.len() - 1]).is_err());
        let many = SyncRequest {
            device: "d".into(),
            docs: vec![
                DocMessage {
                    doc: "x".into(),
                    message: None
                };
                9
            ],
        };
        assert!(matches!(
            decode_request(&encode(&many)),
            Err(WireDecodeError::TooManyDocs(9))
        ));
    }
}
