//! Choosing a record's real encoding and decoding its bytes.
//!
//! leader/09 `a` means UTF-8 and ` ` means MARC-8, but records lie:
//!
//! * flag says MARC-8, yet the data holds valid multibyte UTF-8 and no ESC
//!   byte → UTF-8 (noted);
//! * flag says UTF-8, yet the bytes are not valid UTF-8 → MARC-8 if it holds
//!   MARC-8 escape sequences; UTF-8 with U+FFFD for the bad bytes if valid
//!   multibyte sequences outnumber the invalid bytes (a damaged UTF-8
//!   record); MARC-8 if an ANSEL combining byte stands before a letter;
//!   otherwise ISO-8859-1 (all noted);
//! * any other leader/09 value is read as MARC-8, with the same UTF-8 check.

use crate::marc8;
use crate::record::Encoding;
use unicode_normalization::UnicodeNormalization;

/// (number of valid non-ASCII characters, number of invalid bytes)
fn utf8_stats(mut bytes: &[u8]) -> (usize, usize) {
    let mut multibyte = 0usize;
    let mut invalid = 0usize;
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                multibyte += s.chars().filter(|c| !c.is_ascii()).count();
                return (multibyte, invalid);
            }
            Err(e) => {
                let good = e.valid_up_to();
                let (head, tail) = bytes.split_at(good);
                // `head` is valid by construction.
                multibyte += std::str::from_utf8(head)
                    .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
                    .unwrap_or(0);
                let bad = e.error_len().unwrap_or(tail.len()).max(1);
                invalid += bad;
                bytes = tail.get(bad..).unwrap_or(&[]);
            }
        }
    }
}

fn has_marc8_escape(bytes: &[u8]) -> bool {
    bytes.contains(&0x1B) && marc8::looks_like_marc8_escape(bytes)
}

/// Decodes the fields of one record once its encoding has been chosen.
#[derive(Debug)]
pub(crate) struct Decoder {
    pub encoding: Encoding,
    notes: Vec<String>,
    invalid_utf8: usize,
    undefined_count: usize,
    undefined: Vec<u8>,
    /// MARC-8 chosen from the flag alone (no escape sequences seen).
    marc8_unproven: bool,
}

impl Decoder {
    /// Choose the encoding from leader/09 and the record's field bytes.
    pub fn detect(leader09: u8, chunks: &[&[u8]]) -> Decoder {
        // One buffer, fields separated by a field terminator so nothing
        // spans two fields.
        let all = chunks.join(&0x1E_u8);
        let (multibyte, invalid) = utf8_stats(&all);
        let any_esc = all.contains(&0x1B);
        let escape = has_marc8_escape(&all);
        let mut notes = Vec::new();
        let encoding = if leader09 == b'a' {
            if invalid == 0 {
                Encoding::Utf8
            } else if escape {
                notes.push("leader/09 says UTF-8 but the record is not valid UTF-8; it holds MARC-8 escape sequences, so it was read as MARC-8".to_string());
                Encoding::Marc8
            } else if multibyte > invalid {
                // The count of bad bytes is noted as fields are decoded.
                Encoding::Utf8
            } else if marc8::looks_like_marc8(&all) {
                notes.push("leader/09 says UTF-8 but the record is not valid UTF-8; it looks like MARC-8 (combining diacritics before letters), so it was read as MARC-8".to_string());
                Encoding::Marc8
            } else {
                notes.push("leader/09 says UTF-8 but the record is not valid UTF-8; it was read as ISO-8859-1".to_string());
                Encoding::Latin1
            }
        } else {
            let flag = if leader09 == b' ' {
                "leader/09 says MARC-8".to_string()
            } else {
                format!(
                    "leader/09 is {:?}, neither ' ' (MARC-8) nor 'a' (UTF-8)",
                    char::from(leader09)
                )
            };
            if invalid == 0 && multibyte > 0 && !any_esc {
                notes.push(format!("{flag} but the record is valid UTF-8"));
                Encoding::Utf8
            } else {
                if leader09 != b' ' {
                    notes.push(format!("{flag}; it was read as MARC-8"));
                }
                Encoding::Marc8
            }
        };
        Decoder {
            encoding,
            notes,
            invalid_utf8: 0,
            undefined_count: 0,
            undefined: Vec::new(),
            marc8_unproven: encoding == Encoding::Marc8 && !escape,
        }
    }

    pub fn note(&mut self, note: String) {
        if !self.notes.contains(&note) && self.notes.len() < 12 {
            self.notes.push(note);
        }
    }

    /// Decode one field's or subfield's bytes to NFC text. Never fails.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        match self.encoding {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => nfc(s),
                Err(_) => {
                    self.invalid_utf8 += utf8_stats(bytes).1;
                    nfc(&String::from_utf8_lossy(bytes))
                }
            },
            Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            Encoding::Marc8 => {
                let d = marc8::decode(bytes);
                self.undefined_count += d.undefined_count;
                for b in d.undefined {
                    if !self.undefined.contains(&b) && self.undefined.len() < 8 {
                        self.undefined.push(b);
                    }
                }
                for n in d.notes {
                    if d.undefined_count == 0 || !n.contains("does not define") {
                        self.note(n);
                    }
                }
                d.text
            }
        }
    }

    /// Decode one character from the start of `bytes` (for subfield codes),
    /// returning it and how many bytes it used (at least 1).
    pub fn decode_code(&self, bytes: &[u8]) -> (char, usize) {
        let first = bytes.first().copied().unwrap_or(b' ');
        if first.is_ascii() {
            return (char::from(first), 1);
        }
        if self.encoding == Encoding::Utf8 {
            let len = match first {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 1,
            };
            if let Some(c) = bytes
                .get(..len)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|s| s.chars().next())
            {
                return (c, len);
            }
        }
        (char::from(first), 1)
    }

    pub fn into_note(mut self) -> Option<String> {
        if self.invalid_utf8 > 0 {
            self.notes.push(format!(
                "{} byte(s) are not valid UTF-8 and were replaced with U+FFFD",
                self.invalid_utf8
            ));
        }
        if self.undefined_count > 0 {
            let list: Vec<String> = self
                .undefined
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            let mut n = marc8::undefined_note(self.undefined_count, &list.join(" "));
            if self.marc8_unproven {
                n.push_str("; the record may really be in another encoding (such as ISO-8859-1 or a national one)");
            }
            self.notes.push(n);
        }
        if self.notes.is_empty() {
            None
        } else {
            Some(self.notes.join("; "))
        }
    }
}

pub(crate) fn nfc(s: &str) -> String {
    // Fast path: ASCII is always NFC.
    if s.is_ascii() {
        s.to_string()
    } else {
        s.nfc().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats() {
        assert_eq!(utf8_stats(b"abc"), (0, 0));
        assert_eq!(utf8_stats("é€".as_bytes()), (2, 0));
        assert_eq!(utf8_stats(b"a\xffb\xc3"), (0, 2));
        assert_eq!(utf8_stats(b"\xc3\xa9\xe9x"), (1, 1));
    }

    #[test]
    fn detection_rules() {
        let d = Decoder::detect(b'a', &[b"plain"]);
        assert_eq!((d.encoding, d.notes.len()), (Encoding::Utf8, 0));
        let d = Decoder::detect(b' ', &["caf\u{e9}".as_bytes()]);
        assert_eq!(d.encoding, Encoding::Utf8);
        assert_eq!(
            d.notes,
            vec!["leader/09 says MARC-8 but the record is valid UTF-8"]
        );
        let d = Decoder::detect(b' ', &[b"communaut\xe2e"]);
        assert_eq!((d.encoding, d.notes.len()), (Encoding::Marc8, 0));
        let d = Decoder::detect(b'a', &[b"communaut\xe2e"]);
        assert_eq!(d.encoding, Encoding::Marc8);
        let d = Decoder::detect(b'a', &[b"caf\xe9 cr\xe8me"]);
        assert_eq!(d.encoding, Encoding::Latin1);
        let d = Decoder::detect(
            b'a',
            &["ok \u{e9}\u{e9}\u{e9} and one bad".as_bytes(), b"\xff"],
        );
        assert_eq!(d.encoding, Encoding::Utf8);
        let d = Decoder::detect(b'^', &[b"x"]);
        assert_eq!(d.encoding, Encoding::Marc8);
        assert!(d.notes[0].contains("neither"));
    }
}
