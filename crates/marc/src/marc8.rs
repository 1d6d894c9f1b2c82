//! MARC-8 to Unicode.
//!
//! MARC-8 is an ISO 2022-style encoding: bytes 0x21–0x7E are looked up in
//! the character set designated as G0, bytes 0xA1–0xFE in the set designated
//! as G1 (by its low 7 bits). Defaults are G0 = Basic Latin (ASCII) and
//! G1 = Extended Latin (ANSEL), and each call starts from the defaults, so a
//! caller decodes one subfield (or control field) at a time, the way MARC
//! records are written.
//!
//! Escape sequences understood (LC "Character Sets: MARC-8 Environment"):
//!
//! * `ESC ( F` / `ESC , F` designate a single-byte set as G0,
//!   `ESC ) F` / `ESC - F` as G1 (an extra `!` before `F` is accepted);
//! * `ESC $ F` / `ESC $ , F` designate a multibyte set as G0,
//!   `ESC $ ) F` / `ESC $ - F` as G1;
//! * the MARC-specific locking escapes `ESC g` (Greek symbols), `ESC b`
//!   (subscripts), `ESC p` (superscripts) and `ESC s` (back to ASCII) for G0.
//!
//! Final characters: `B` Basic Latin, `E` Extended Latin (ANSEL), `b`
//! subscripts, `p` superscripts, `g` Greek symbols, `s` Basic Latin: these are
//! decoded. `2` Basic Hebrew, `3` Basic Arabic, `4` Extended Arabic,
//! `N` Basic Cyrillic, `Q` Extended Cyrillic, `S` Basic Greek and `1`
//! (multibyte) CJK / EACC are recognised but **not supported**: each of their
//! characters becomes U+FFFD and a note names the set. Any other escape is
//! invalid: the ESC byte becomes U+FFFD (with a note) and decoding goes on
//! with the next byte.
//!
//! In MARC-8 a combining diacritic *precedes* the letter it sits on; in
//! Unicode it follows. Marks are held back and written after the next base
//! character, then the text is put in Unicode Normalization Form C.

use unicode_normalization::UnicodeNormalization;

/// Decoded text plus what went wrong, in plain English (empty when clean).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    pub text: String,
    pub notes: Vec<String>,
    /// How many bytes MARC-8 does not define were met (each became U+FFFD)…
    pub undefined_count: usize,
    /// …and the first few distinct ones.
    pub undefined: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    Ascii,
    Ansel,
    Subscript,
    Superscript,
    GreekSymbols,
    /// Recognised but not decoded: (final byte, multibyte).
    Unsupported(u8, bool),
}

impl Set {
    fn single(final_byte: u8) -> Option<Set> {
        match final_byte {
            b'B' | b's' => Some(Set::Ascii),
            b'E' => Some(Set::Ansel),
            b'b' => Some(Set::Subscript),
            b'p' => Some(Set::Superscript),
            b'g' => Some(Set::GreekSymbols),
            b'2' | b'3' | b'4' | b'N' | b'Q' | b'S' => Some(Set::Unsupported(final_byte, false)),
            // EACC is multibyte even when someone designates it without `$`.
            b'1' => Some(Set::Unsupported(b'1', true)),
            _ => None,
        }
    }

    fn multi(final_byte: u8) -> Option<Set> {
        match final_byte {
            b'1' => Some(Set::Unsupported(b'1', true)),
            _ => None,
        }
    }
}

/// The English name of a MARC-8 set final character (for notes and docs).
pub fn set_name(final_byte: u8) -> &'static str {
    match final_byte {
        b'B' | b's' => "Basic Latin (ASCII)",
        b'E' => "Extended Latin (ANSEL)",
        b'b' => "Subscripts",
        b'p' => "Superscripts",
        b'g' => "Greek Symbols",
        b'2' => "Basic Hebrew",
        b'3' => "Basic Arabic",
        b'4' => "Extended Arabic",
        b'N' => "Basic Cyrillic",
        b'Q' => "Extended Cyrillic",
        b'S' => "Basic Greek",
        b'1' => "CJK (EACC)",
        _ => "unknown",
    }
}

/// ANSEL (Extended Latin) by low 7 bits, 0x21..=0x7E. `None` = undefined.
/// Combining marks are 0x60..=0x7E (bytes 0xE0..=0xFE in G1).
fn ansel(code: u8) -> Option<char> {
    let c = match code {
        0x21 => '\u{0141}', // Ł
        0x22 => '\u{00D8}', // Ø
        0x23 => '\u{0110}', // Đ
        0x24 => '\u{00DE}', // Þ
        0x25 => '\u{00C6}', // Æ
        0x26 => '\u{0152}', // Œ
        0x27 => '\u{02B9}', // ʹ soft sign
        0x28 => '\u{00B7}', // · middle dot
        0x29 => '\u{266D}', // ♭
        0x2A => '\u{00AE}', // ®
        0x2B => '\u{00B1}', // ±
        0x2C => '\u{01A0}', // Ơ
        0x2D => '\u{01AF}', // Ư
        0x2E => '\u{02BC}', // ʼ alif
        0x30 => '\u{02BB}', // ʻ ayn
        0x31 => '\u{0142}', // ł
        0x32 => '\u{00F8}', // ø
        0x33 => '\u{0111}', // đ
        0x34 => '\u{00FE}', // þ
        0x35 => '\u{00E6}', // æ
        0x36 => '\u{0153}', // œ
        0x37 => '\u{02BA}', // ʺ hard sign
        0x38 => '\u{0131}', // ı
        0x39 => '\u{00A3}', // £
        0x3A => '\u{00F0}', // ð
        0x3C => '\u{01A1}', // ơ
        0x3D => '\u{01B0}', // ư
        0x40 => '\u{00B0}', // °
        0x41 => '\u{2113}', // ℓ
        0x42 => '\u{2117}', // ℗
        0x43 => '\u{00A9}', // ©
        0x44 => '\u{266F}', // ♯
        0x45 => '\u{00BF}', // ¿
        0x46 => '\u{00A1}', // ¡
        0x47 => '\u{00DF}', // ß
        0x48 => '\u{20AC}', // €
        // combining marks
        0x60 => '\u{0309}', // hook above (pseudo question mark)
        0x61 => '\u{0300}', // grave
        0x62 => '\u{0301}', // acute
        0x63 => '\u{0302}', // circumflex
        0x64 => '\u{0303}', // tilde
        0x65 => '\u{0304}', // macron
        0x66 => '\u{0306}', // breve
        0x67 => '\u{0307}', // dot above
        0x68 => '\u{0308}', // diaeresis (umlaut)
        0x69 => '\u{030C}', // caron (hacek)
        0x6A => '\u{030A}', // ring above
        0x6B => '\u{FE20}', // ligature, left half
        0x6C => '\u{FE21}', // ligature, right half
        0x6D => '\u{0315}', // comma above right (high comma, off centre)
        0x6E => '\u{030B}', // double acute
        0x6F => '\u{0310}', // candrabindu
        0x70 => '\u{0327}', // cedilla
        0x71 => '\u{0328}', // ogonek (right hook)
        0x72 => '\u{0323}', // dot below
        0x73 => '\u{0324}', // double dot below
        0x74 => '\u{0325}', // ring below
        0x75 => '\u{0333}', // double underscore
        0x76 => '\u{0332}', // underscore
        0x77 => '\u{0326}', // comma below (left hook)
        0x78 => '\u{031C}', // right cedilla
        0x79 => '\u{032E}', // breve below (upadhmaniya)
        0x7A => '\u{FE22}', // double tilde, left half
        0x7B => '\u{FE23}', // double tilde, right half
        0x7E => '\u{0313}', // comma above (high comma, centred)
        _ => return None,
    };
    Some(c)
}

fn subscript(code: u8) -> Option<char> {
    match code {
        0x28 => Some('\u{208D}'),
        0x29 => Some('\u{208E}'),
        0x2B => Some('\u{208A}'),
        0x2D => Some('\u{208B}'),
        0x30..=0x39 => char::from_u32(0x2080 + u32::from(code - 0x30)),
        _ => None,
    }
}

fn superscript(code: u8) -> Option<char> {
    match code {
        0x28 => Some('\u{207D}'),
        0x29 => Some('\u{207E}'),
        0x2B => Some('\u{207A}'),
        0x2D => Some('\u{207B}'),
        0x30 => Some('\u{2070}'),
        0x31 => Some('\u{00B9}'),
        0x32 => Some('\u{00B2}'),
        0x33 => Some('\u{00B3}'),
        0x34..=0x39 => char::from_u32(0x2074 + u32::from(code - 0x34)),
        _ => None,
    }
}

fn greek_symbol(code: u8) -> Option<char> {
    match code {
        0x61 => Some('\u{03B1}'),
        0x62 => Some('\u{03B2}'),
        0x63 => Some('\u{03B3}'),
        _ => None,
    }
}

/// One looked-up character: `Ok((char, is_combining))`, or the set that
/// could not decode it.
fn lookup(set: Set, code: u8) -> Result<(char, bool), Set> {
    let found = match set {
        Set::Ascii => Some(char::from(code)),
        Set::Ansel => ansel(code),
        Set::Subscript => subscript(code),
        Set::Superscript => superscript(code),
        Set::GreekSymbols => greek_symbol(code),
        Set::Unsupported(..) => None,
    };
    match found {
        Some(c) => Ok((c, set == Set::Ansel && code >= 0x60)),
        None => Err(set),
    }
}

struct Out {
    text: String,
    pending: Vec<char>,
    notes: Vec<String>,
    /// Distinct undefined bytes seen (first few) and how many in all.
    undefined: Vec<u8>,
    undefined_count: usize,
}

impl Out {
    fn base(&mut self, c: char) {
        self.text.push(c);
        self.text.extend(self.pending.drain(..));
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) && self.notes.len() < 8 {
            self.notes.push(note);
        }
    }

    fn invalid(&mut self, set: Set, byte: u8) {
        match set {
            Set::Unsupported(f, _) => self.note(format!(
                "MARC-8 character set {} is not supported",
                set_name(f)
            )),
            Set::Subscript | Set::Superscript | Set::GreekSymbols => self.note(format!(
                "byte 0x{byte:02X} is not defined in the MARC-8 {} set",
                match set {
                    Set::Subscript => "subscript",
                    Set::Superscript => "superscript",
                    _ => "Greek symbol",
                }
            )),
            Set::Ascii | Set::Ansel => {
                self.undefined_count += 1;
                if !self.undefined.contains(&byte) && self.undefined.len() < 8 {
                    self.undefined.push(byte);
                }
            }
        }
        self.base('\u{FFFD}');
    }
}

/// Decode MARC-8 bytes (one subfield's worth) to NFC Unicode. Never fails:
/// undecodable bytes become U+FFFD and are described in `notes`.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut out = Out {
        text: String::with_capacity(bytes.len()),
        pending: Vec::new(),
        notes: Vec::new(),
        undefined: Vec::new(),
        undefined_count: 0,
    };
    let mut g0 = Set::Ascii;
    let mut g1 = Set::Ansel;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        match b {
            0x1B => {
                // Every branch advances i by at least one.
                let (step, designation) = parse_escape(bytes.get(i + 1..).unwrap_or(&[]));
                match designation {
                    Some((true, set)) => g0 = set,
                    Some((false, set)) => g1 = set,
                    None => {
                        out.note("invalid MARC-8 escape sequence".to_string());
                        out.base('\u{FFFD}');
                    }
                }
                i += step;
            }
            0x20 => {
                out.base(' ');
                i += 1;
            }
            0x21..=0x7E => {
                if let Set::Unsupported(_, true) = g0 {
                    // Multibyte: up to three graphic bytes per character.
                    out.invalid(g0, b);
                    i += multibyte_len(bytes, i, 0x21..=0x7E);
                } else {
                    match lookup(g0, b) {
                        Ok((c, true)) => out.pending.push(c),
                        Ok((c, false)) => out.base(c),
                        Err(set) => out.invalid(set, b),
                    }
                    i += 1;
                }
            }
            0xA1..=0xFE => {
                if let Set::Unsupported(_, true) = g1 {
                    out.invalid(g1, b);
                    i += multibyte_len(bytes, i, 0xA1..=0xFE);
                } else {
                    match lookup(g1, b & 0x7F) {
                        Ok((c, true)) => out.pending.push(c),
                        Ok((c, false)) => out.base(c),
                        Err(set) => out.invalid(set, b),
                    }
                    i += 1;
                }
            }
            // The C1 controls MARC-8 defines: non-sort begin/end, joiners.
            0x88 => {
                out.base('\u{0098}');
                i += 1;
            }
            0x89 => {
                out.base('\u{009C}');
                i += 1;
            }
            0x8D => {
                out.base('\u{200D}');
                i += 1;
            }
            0x8E => {
                out.base('\u{200C}');
                i += 1;
            }
            _ => {
                // Other C0/C1 controls, DEL, 0xA0 and 0xFF.
                out.invalid(Set::Ascii, b);
                i += 1;
            }
        }
    }
    // Marks with no letter after them stay, attached to what precedes them.
    let trailing: Vec<char> = out.pending.drain(..).collect();
    out.text.extend(trailing);
    if out.undefined_count > 0 {
        let list: Vec<String> = out.undefined.iter().map(|b| format!("0x{b:02X}")).collect();
        out.notes
            .push(undefined_note(out.undefined_count, &list.join(" ")));
    }
    Decoded {
        text: out.text.nfc().collect(),
        notes: out.notes,
        undefined_count: out.undefined_count,
        undefined: out.undefined,
    }
}

/// Length (1 to 3) of the multibyte character starting at `i`: it stops
/// early at a byte outside `range` (an escape, a space, the end).
fn multibyte_len(bytes: &[u8], i: usize, range: std::ops::RangeInclusive<u8>) -> usize {
    let mut n = 1;
    while n < 3 && bytes.get(i + n).is_some_and(|b| range.contains(b)) {
        n += 1;
    }
    n
}

/// The note for bytes MARC-8 does not define.
pub(crate) fn undefined_note(count: usize, list: &str) -> String {
    format!("{count} byte(s) that MARC-8 does not define became U+FFFD ({list})")
}

/// Parse the bytes after an ESC. Returns how many bytes (ESC included) to
/// skip and the designation: `(is_g0, set)`, or `None` if invalid (then the
/// step is 1: only the ESC is dropped).
fn parse_escape(rest: &[u8]) -> (usize, Option<(bool, Set)>) {
    let at = |k: usize| rest.get(k).copied();
    match at(0) {
        Some(b'g') => (2, Some((true, Set::GreekSymbols))),
        Some(b'b') => (2, Some((true, Set::Subscript))),
        Some(b'p') => (2, Some((true, Set::Superscript))),
        Some(b's') => (2, Some((true, Set::Ascii))),
        Some(inter @ (b'(' | b',' | b')' | b'-')) => {
            let g0 = matches!(inter, b'(' | b',');
            let (extra, fin) = match at(1) {
                Some(b'!') => (1, at(2)),
                other => (0, other),
            };
            match fin.and_then(Set::single) {
                Some(set) => (3 + extra, Some((g0, set))),
                None => (1, None),
            }
        }
        Some(b'$') => {
            let (g0, extra, fin) = match at(1) {
                Some(b',') => (true, 1, at(2)),
                Some(b')' | b'-') => (false, 1, at(2)),
                other => (true, 0, other),
            };
            match fin.and_then(Set::multi) {
                Some(set) => (3 + extra, Some((g0, set))),
                None => (1, None),
            }
        }
        _ => (1, None),
    }
}

/// Does this hold at least one valid MARC-8 escape sequence?
pub fn looks_like_marc8_escape(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == 0x1B && parse_escape(bytes.get(i + 1..).unwrap_or(&[])).1.is_some())
}

/// Heuristic used by encoding detection: does this look like MARC-8 rather
/// than ISO-8859-1? True when it holds a valid escape sequence; or when ANSEL
/// combining bytes (0xE0–0xFE) stand before letters they compose with in
/// Unicode (0xE2 'e' → é) more often than before letters they do not
/// (ISO-8859-1 "cr\xE8me" read as MARC-8 would put a diaeresis on 'm'), and
/// no byte appears that MARC-8 leaves undefined (such as ISO-8859-1 'É',
/// 0xC9).
pub fn looks_like_marc8(bytes: &[u8]) -> bool {
    if looks_like_marc8_escape(bytes) {
        return true;
    }
    let (mut composing, mut other) = (0usize, 0usize);
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or(0);
        if undefined_g1(b) {
            return false;
        }
        if (0xE0..=0xFE).contains(&b) {
            let mut marks = String::new();
            let mut j = i;
            while let Some(&n) = bytes.get(j) {
                if !(0xE0..=0xFE).contains(&n) {
                    break;
                }
                if let Some(m) = ansel(n & 0x7F) {
                    marks.push(m);
                }
                j += 1;
            }
            if let Some(&n) = bytes.get(j)
                && n.is_ascii_alphabetic()
            {
                let mut s = String::from(char::from(n));
                s.push_str(&marks);
                if s.nfc().count() == 1 {
                    composing += 1;
                } else {
                    other += 1;
                }
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    composing > 0 && composing > other
}

/// Bytes 0x80–0xFF that MARC-8 (with ANSEL as G1) does not define.
fn undefined_g1(b: u8) -> bool {
    match b {
        0x88 | 0x89 | 0x8D | 0x8E => false,
        0x80..=0xA0 | 0xFF => true,
        0xA1..=0xFE => ansel(b & 0x7F).is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(b: &[u8]) -> String {
        decode(b).text
    }

    #[test]
    fn ascii_passes_through() {
        assert_eq!(d(b"Hello, world!"), "Hello, world!");
        assert!(decode(b"plain").notes.is_empty());
    }

    #[test]
    fn combining_marks_move_after_their_letter_and_compose() {
        // "De la solitude \xe1a la communaut\xe2e" from pymarc's marc8.dat
        assert_eq!(
            d(b"De la solitude \xe1a la communaut\xe2e."),
            "De la solitude \u{e0} la communaut\u{e9}."
        );
        // two marks on one letter: dot below + macron (Arabic romanisation)
        assert_eq!(d(b"Qa\xf2d\xe5a"), "Qa\u{1e0d}\u{101}");
        // a mark before a space is a spacing diacritic: space first, mark after
        assert_eq!(d(b"a\xe8 b"), "a \u{308}b");
        // dangling mark at the end is kept
        assert_eq!(d(b"x\xe2"), "x\u{301}");
    }

    #[test]
    fn ansel_spacing_letters() {
        assert_eq!(d(b"\xa1\xa2\xa5\xb5\xb8\xc3\xc7\xc8"), "ŁØÆæı©ß€");
        assert_eq!(d(b"\xae\xb0"), "\u{2bc}\u{2bb}");
    }

    #[test]
    fn technique_one_sets() {
        assert_eq!(d(b"H\x1bb2\x1bsO"), "H\u{2082}O");
        assert_eq!(d(b"E=mc\x1bp2\x1bs"), "E=mc\u{b2}");
        assert_eq!(d(b"\x1bgabc\x1bs!"), "\u{3b1}\u{3b2}\u{3b3}!");
        // ESC ( B also returns to ASCII
        assert_eq!(d(b"A\x1bp4\x1b(B B"), "A\u{2074} B");
        // undefined in the superscript set
        let r = decode(b"\x1bpx");
        assert_eq!(r.text, "\u{FFFD}");
        assert!(r.notes[0].contains("superscript"), "{:?}", r.notes);
    }

    #[test]
    fn g1_and_g0_redesignation() {
        // ANSEL designated into G0: 0x21 is then Ł
        assert_eq!(d(b"\x1b(E!\x1b(BA"), "ŁA");
        // ASCII designated into G1: 0xC1 is then 'A'
        assert_eq!(d(b"\x1b)B\xc1"), "A");
    }

    #[test]
    fn unsupported_sets_become_replacement_characters_with_a_note() {
        let r = decode(b"\x1b(3GdWHYI\x1b(B 1.");
        assert_eq!(
            r.text,
            "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD} 1."
        );
        assert_eq!(
            r.notes,
            vec!["MARC-8 character set Basic Arabic is not supported"]
        );
        let r = decode(b"\x1b$1!S+!#!\x1b(B.");
        assert_eq!(r.text, "\u{FFFD}\u{FFFD}.");
        assert!(r.notes[0].contains("CJK"));
        // truncated multibyte character at the end: no panic, one U+FFFD
        assert_eq!(d(b"\x1b$1!S"), "\u{FFFD}");
    }

    #[test]
    fn invalid_escapes_and_bytes() {
        let r = decode(b"Soci\x1bt\xe2e");
        assert_eq!(r.text, "Soci\u{FFFD}t\u{e9}");
        assert_eq!(r.notes, vec!["invalid MARC-8 escape sequence"]);
        assert_eq!(d(b"\x1b"), "\u{FFFD}");
        assert_eq!(d(b"\x1b("), "\u{FFFD}(");
        let r = decode(b"\xff\x80\xff");
        assert_eq!(r.text, "\u{FFFD}\u{FFFD}\u{FFFD}");
        assert_eq!(
            r.notes,
            vec!["3 byte(s) that MARC-8 does not define became U+FFFD (0xFF 0x80)"]
        );
        assert_eq!(d(b"\x88The\x89 end"), "\u{98}The\u{9c} end");
    }

    #[test]
    fn marc8_sniffing() {
        assert!(looks_like_marc8(b"communaut\xe2e"));
        assert!(!looks_like_marc8(b"caf\xe9 cr\xe8me"));
        assert!(!looks_like_marc8(b"\xc9t\xe9"));
        assert!(looks_like_marc8(b"x\x1b(3abc"));
        assert!(!looks_like_marc8(b"caf\xe9 au lait")); // Latin-1 é before a space
        assert!(!looks_like_marc8(b"plain ascii"));
    }
}
