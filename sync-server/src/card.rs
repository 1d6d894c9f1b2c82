//! Signed membership cards: the QR on the patron's digital card carries a
//! token the library signed with ed25519, so a book van or a branch with
//! no network can check it with the library's public key alone
//! (`pustaka-sync verify-card`).
//!
//! Token: `PK1.<payload>.<signature>`, both base64url without padding; the
//! payload is `card|expires|status|issued` (expiry as a date, status
//! `active` or the block's reason code, issued-at as Unix seconds) and the
//! signature covers the payload bytes exactly as sent. About 150
//! characters: a small QR code, quick to scan on a phone screen.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::NaiveDate;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;

const PREFIX: &str = "PK1";
/// Where the library's signing seed is kept (the library's database meta).
pub const KEY_META: &str = "card_signing_key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardClaims {
    pub card: String,
    pub expires: NaiveDate,
    /// `active`, or why the account is blocked (a reason code).
    pub status: String,
    /// Unix seconds.
    pub issued: i64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CardError {
    #[error("not a Pustaka card code")]
    NotACard,
    #[error("the card code is damaged: {0}")]
    Malformed(String),
    #[error(
        "the signature does not match: this card was not issued by this library, or it was altered"
    )]
    BadSignature,
    #[error("the library's public key is not valid: {0}")]
    BadKey(String),
}

/// The public key as printed for van staff and served at
/// `/v1/card/public-key`: base64url of the 32 bytes.
pub fn public_key_text(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().as_bytes())
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, CardError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|e| CardError::BadKey(e.to_string()))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| CardError::BadKey("not 32 bytes".into()))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| CardError::BadKey(e.to_string()))
}

/// The signing key from its 32-byte seed (hex, as stored).
pub fn signing_key(seed_hex: &str) -> Result<SigningKey, CardError> {
    let bytes = hex::decode(seed_hex.trim()).map_err(|e| CardError::BadKey(e.to_string()))?;
    let seed: [u8; 32] = bytes
        .try_into()
        .map_err(|_| CardError::BadKey("seed is not 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

pub fn issue(key: &SigningKey, claims: &CardClaims) -> String {
    let payload = format!(
        "{}|{}|{}|{}",
        claims.card, claims.expires, claims.status, claims.issued
    );
    let sig = key.sign(payload.as_bytes());
    format!(
        "{PREFIX}.{}.{}",
        B64.encode(payload.as_bytes()),
        B64.encode(sig.to_bytes())
    )
}

/// Checks the signature and reads the claims. Whether the card is still
/// valid (expiry, block, age of the token) is the caller's to judge
/// against its own clock: see [`Verdict`].
pub fn verify(key: &VerifyingKey, token: &str) -> Result<CardClaims, CardError> {
    let mut parts = token.trim().split('.');
    let (Some(PREFIX), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(CardError::NotACard);
    };
    let payload = B64
        .decode(payload)
        .map_err(|e| CardError::Malformed(e.to_string()))?;
    let sig = B64
        .decode(sig)
        .map_err(|e| CardError::Malformed(e.to_string()))?;
    let sig = Signature::from_slice(&sig).map_err(|e| CardError::Malformed(e.to_string()))?;
    key.verify(&payload, &sig)
        .map_err(|_| CardError::BadSignature)?;
    let text = String::from_utf8(payload).map_err(|e| CardError::Malformed(e.to_string()))?;
    let f: Vec<&str> = text.split('|').collect();
    let [card, expires, status, issued] = f[..] else {
        return Err(CardError::Malformed(format!("{} fields", f.len())));
    };
    Ok(CardClaims {
        card: card.to_string(),
        expires: expires
            .parse()
            .map_err(|e| CardError::Malformed(format!("expiry: {e}")))?,
        status: status.to_string(),
        issued: issued
            .parse()
            .map_err(|e| CardError::Malformed(format!("issued-at: {e}")))?,
    })
}

/// What the van's check concludes on `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Expired,
    Blocked,
}

/// A token this many days old still shows its block status, flagged as
/// possibly out of date.
pub const STALE_AFTER_DAYS: i64 = 14;

pub fn judge(claims: &CardClaims, today: NaiveDate) -> Verdict {
    if claims.expires < today {
        Verdict::Expired
    } else if claims.status != "active" {
        Verdict::Blocked
    } else {
        Verdict::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        signing_key(&"11".repeat(32)).expect("seed")
    }

    fn claims() -> CardClaims {
        CardClaims {
            card: "1001".into(),
            expires: "2027-06-30".parse().expect("date"),
            status: "active".into(),
            issued: 1_795_000_000,
        }
    }

    #[test]
    fn issued_cards_verify_with_the_public_key_alone() {
        let token = issue(&key(), &claims());
        assert!(token.starts_with("PK1."));
        assert!(token.len() < 200, "{}", token.len());
        let public = parse_public_key(&public_key_text(&key())).expect("public key");
        assert_eq!(verify(&public, &token), Ok(claims()));
        assert_eq!(
            judge(&claims(), "2026-11-23".parse().expect("d")),
            Verdict::Valid
        );
        assert_eq!(
            judge(&claims(), "2027-07-01".parse().expect("d")),
            Verdict::Expired
        );
    }

    #[test]
    fn forged_and_damaged_cards_are_refused() {
        let public = key().verifying_key();
        let token = issue(&key(), &claims());
        // Someone edits the expiry and keeps the signature.
        let (_, rest) = token.split_once('.').expect("dot");
        let (_, sig) = rest.split_once('.').expect("dot");
        let forged_payload = B64.encode("1001|2099-12-31|active|1795000000");
        assert_eq!(
            verify(&public, &format!("PK1.{forged_payload}.{sig}")),
            Err(CardError::BadSignature)
        );
        // Another library's key.
        let other = signing_key(&"22".repeat(32)).expect("seed");
        assert_eq!(
            verify(&other.verifying_key(), &token),
            Err(CardError::BadSignature)
        );
        assert_eq!(verify(&public, "1001"), Err(CardError::NotACard));
        assert!(matches!(
            verify(&public, "PK1.!!.??"),
            Err(CardError::Malformed(_))
        ));
        assert!(matches!(
            parse_public_key("short"),
            Err(CardError::BadKey(_))
        ));
    }
}
