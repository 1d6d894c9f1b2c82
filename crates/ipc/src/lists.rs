//! Reading lists as the screens show them, and the share code that carries
//! a list in a link or a QR code: `<server>/list/<code>` (the website opens
//! it; the app opens the same path and `pustaka://list/<code>`).
//!
//! The code is base64url (no padding) of `name`, a unit separator, and the
//! title ids joined by commas: short enough for a QR code of a few dozen
//! titles, and nothing about the patron in it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ListItemView {
    pub title_id: String,
    pub title: String,
    pub author: String,
    pub added_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReadingListView {
    pub id: String,
    /// Empty for "want to read" (the screens name it in their language).
    pub name: String,
    pub items: Vec<ListItemView>,
    /// The link that shares this list (empty when it has no titles).
    pub share: String,
}

/// A shared list as decoded from its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SharedList {
    pub name: String,
    pub titles: Vec<String>,
}

/// The id of the built-in "want to read" list.
pub const WANT_LIST: &str = "want";

/// Most titles a share code carries, and its longest accepted length.
pub const MAX_SHARED_TITLES: usize = 100;
pub const MAX_CODE_LEN: usize = 2000;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 3);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The share code of a list.
pub fn encode_list(name: &str, titles: &[String]) -> String {
    let titles: Vec<&str> = titles
        .iter()
        .take(MAX_SHARED_TITLES)
        .map(String::as_str)
        .collect();
    b64(format!("{name}\u{1f}{}", titles.join(",")).as_bytes())
}

/// A share code back as a list; `None` for anything that is not one.
pub fn decode_list(code: &str) -> Option<SharedList> {
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return None;
    }
    let text = String::from_utf8(unb64(code)?).ok()?;
    let (name, ids) = text.split_once('\u{1f}')?;
    let titles: Vec<String> = ids
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let ok = |t: &String| {
        t.len() <= 64
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    (name.chars().count() <= 80
        && !titles.is_empty()
        && titles.len() <= MAX_SHARED_TITLES
        && titles.iter().all(ok))
    .then(|| SharedList {
        name: name.to_string(),
        titles,
    })
}

/// The link for a list on a library's server.
pub fn share_link(server: &str, name: &str, titles: &[String]) -> String {
    format!(
        "{}/list/{}",
        server.trim_end_matches('/'),
        encode_list(name, titles)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_reject_what_is_not_a_list() {
        for name in ["", "Liburan", "Bacaan anak — kelas 3", "a\u{1f}b"] {
            let titles = vec!["T1".to_string(), "B00-12_x".into()];
            let code = encode_list(name, &titles);
            assert!(code.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            let back = decode_list(&code);
            if name.contains('\u{1f}') {
                // The separator in a name moves it into the ids: refused.
                assert!(back.is_none() || back.is_some_and(|b| b.name != name));
            } else {
                assert_eq!(
                    back,
                    Some(SharedList {
                        name: name.into(),
                        titles
                    })
                );
            }
        }
        for bad in ["", "!!!", "QUJD", &"A".repeat(3000)] {
            assert_eq!(decode_list(bad), None, "{bad}");
        }
        let evil = b64("x\u{1f}T1,../etc".as_bytes());
        assert_eq!(decode_list(&evil), None);
        assert_eq!(
            share_link("http://lib.example/", "L", &["T1".into()]),
            format!(
                "http://lib.example/list/{}",
                encode_list("L", &["T1".into()])
            )
        );
    }
}
