//! MARC 21 import for Pustaka: read bibliographic records from ISO 2709
//! (`.mrc`) or MARCXML, decode them to Unicode, and extract what a patron
//! catalogue needs ([`Bib`]).
//!
//! The crate is pure: it reads only the byte slices it is given, does no IO,
//! and is meant never to panic or hang on any input (every loop is bounded
//! by the input length; this is property-tested with random and mutated
//! records).
//!
//! ```
//! use pustaka_marc as marc;
//!
//! let bytes = b"00127     2200037   4500245008900000\x1e01\x1faThe pragmatic programmer : \x1fbfrom journeyman to master /\x1fcAndrew Hunt, David Thomas.\x1e\x1d";
//! assert_eq!(marc::Format::detect(bytes), marc::Format::Iso2709);
//! for item in marc::read(bytes).expect("a MARC format") {
//!     let record = item.expect("a good record");
//!     let bib = marc::Bib::from_record(&record).expect("a title");
//!     assert_eq!(bib.title, "The pragmatic programmer : from journeyman to master");
//!     assert_eq!(bib.responsibility.as_deref(), Some("Andrew Hunt, David Thomas"));
//! }
//! ```
//!
//! # Reading
//!
//! [`read`] sniffs the format and returns an iterator of
//! `Result<Record, RecordError>`; a bad record is reported with its number,
//! byte offset and an English reason, and the next records still load. See
//! [`iso2709`] and [`marcxml`] for exactly what is repaired (noted in
//! [`Record::warnings`]) and what rejects a record. MARC-in-JSON and MicroLIF
//! are not supported: [`read`] says so instead of guessing.
//!
//! # Character encodings
//!
//! Each [`Record`] says what it was decoded from ([`Record::encoding`]) and,
//! in [`Record::encoding_note`], when leader/09 lied or bytes could not be
//! decoded (they become U+FFFD; a record is never rejected for its
//! encoding). All text is returned in Unicode Normalization Form C. The
//! detection rules: leader/09 `a` = UTF-8, ` ` = MARC-8; a "MARC-8" record that is valid
//! multibyte UTF-8 without ESC bytes is read as UTF-8; a "UTF-8" record that
//! is not valid UTF-8 is read as MARC-8 when it has MARC-8 escapes or ANSEL
//! diacritics before letters, as damaged UTF-8 when valid multibyte
//! sequences outnumber the bad bytes, else as ISO-8859-1.
//!
//! MARC-8 support ([`marc8`]):
//!
//! * **Supported:** Basic Latin (ASCII), the whole Extended Latin (ANSEL) G1
//!   set (0xA1–0xC8 spacing characters and the 0xE0–0xFE combining
//!   diacritics, reordered after their base letter), the subscript,
//!   superscript and Greek-symbol sets (`ESC b`, `ESC p`, `ESC g`, back with
//!   `ESC s`), the ISO 2022 designations of these into G0 or G1, and the
//!   C1 controls MARC-8 defines (non-sort markers 0x88/0x89, ZWJ 0x8D,
//!   ZWNJ 0x8E).
//! * **Not supported:** Basic and Extended Arabic, Basic Hebrew, Basic and
//!   Extended Cyrillic, Basic Greek and CJK (EACC). Their characters become
//!   U+FFFD and the note says "MARC-8 character set NAME is not
//!   supported". Invalid escape sequences and bytes MARC-8 does not define
//!   become U+FFFD with a note too.
//! * Double-width diacritic halves (ligature 0xEB/0xEC, double tilde
//!   0xFA/0xFB) map to U+FE20–U+FE23 as in LC's tables.
//! * ISO-8859-1 or DanMARC data that claims to be MARC-8 cannot be told
//!   apart from MARC-8 reliably and is decoded as MARC-8 (wrongly).
//!
//! # Extraction
//!
//! [`Bib::from_record`] maps fields as documented in [`bib`]; items come from
//! Koha 952, MARC 852 and local 949 fields ([`Item`]).

pub mod bib;
mod encoding;
mod isbn;
pub mod iso2709;
pub mod marc8;
pub mod marcxml;
mod record;

pub use bib::{Bib, BibFormat, Item, Link};
pub use isbn::{isbn10, isbn13};
pub use iso2709::Iso2709Reader;
pub use marcxml::MarcXmlReader;
pub use record::{ControlField, DataField, Encoding, Field, Record, RecordError, Subfield};

/// The container format of a file, by sniffing its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Iso2709,
    MarcXml,
    Unknown,
}

impl Format {
    /// XML: an optional UTF-8 byte order mark and whitespace, then `<`.
    /// ISO 2709: five ASCII digits (the record length), after skipping the
    /// filler that may also sit between records (NUL, whitespace, 0x1A,
    /// 0x1D). Anything else is `Unknown`.
    pub fn detect(bytes: &[u8]) -> Format {
        let xml = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let xml = xml.trim_ascii_start();
        if xml.first() == Some(&b'<') {
            return Format::MarcXml;
        }
        let iso = bytes.get(iso2709::skip_filler(bytes)..).unwrap_or(&[]);
        if iso.len() >= 5 && iso.iter().take(5).all(u8::is_ascii_digit) {
            return Format::Iso2709;
        }
        Format::Unknown
    }
}

/// The input is neither ISO 2709 nor MARCXML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported format: {reason}")]
pub struct UnsupportedFormat {
    pub reason: String,
}

/// Records from either reader.
#[derive(Debug)]
pub enum Records<'a> {
    Iso2709(Iso2709Reader<'a>),
    MarcXml(Box<MarcXmlReader<'a>>),
}

impl Iterator for Records<'_> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Records::Iso2709(r) => r.next(),
            Records::MarcXml(r) => r.next(),
        }
    }
}

impl std::iter::FusedIterator for Records<'_> {}

/// Detect the format and iterate over the records, or say why the input is
/// not something this crate reads.
pub fn read(bytes: &[u8]) -> Result<Records<'_>, UnsupportedFormat> {
    match Format::detect(bytes) {
        Format::Iso2709 => Ok(Records::Iso2709(Iso2709Reader::new(bytes))),
        Format::MarcXml => Ok(Records::MarcXml(Box::new(MarcXmlReader::new(bytes)))),
        Format::Unknown => Err(UnsupportedFormat {
            reason: describe_unknown(bytes),
        }),
    }
}

/// A MicroLIF file: a header line, then lines starting "LDR".
fn is_microlif(t: &[u8]) -> bool {
    let head = t.get(..t.len().min(512)).unwrap_or(&[]);
    head.windows(4)
        .any(|w| matches!(w, [b'\n' | b'\r', b'L', b'D', b'R']))
}

fn describe_unknown(bytes: &[u8]) -> String {
    let t = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(bytes)
        .trim_ascii_start();
    let what = if t.is_empty() {
        "the input is empty".to_string()
    } else if matches!(t.first(), Some(b'{' | b'[')) {
        "this looks like JSON (MARC-in-JSON is not supported)".to_string()
    } else if t.starts_with(b"LDR") || is_microlif(t) {
        "this looks like MicroLIF text (\"LDR\" lines), which is not supported".to_string()
    } else if t.starts_with(b"=LDR") {
        "this looks like MarcEdit mnemonic text (.mrk), which is not supported".to_string()
    } else if t.starts_with(b"\xFF\xFE") || t.starts_with(b"\xFE\xFF") {
        "this looks like UTF-16 text, which is not supported".to_string()
    } else {
        let head: String = t
            .iter()
            .take(12)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        format!("it starts with \"{head}\"")
    };
    format!("{what}; only ISO 2709 (a 5-digit record length first) and MARCXML are read")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert_eq!(Format::detect(b"00127     22"), Format::Iso2709);
        assert_eq!(Format::detect(b"\x0000755cam"), Format::Iso2709);
        assert_eq!(Format::detect(b"\xEF\xBB\xBF \n<?xml"), Format::MarcXml);
        assert_eq!(Format::detect(b"LDR00180nam"), Format::Unknown);
        assert_eq!(Format::detect(b"{\"leader\""), Format::Unknown);
        assert_eq!(Format::detect(b"0012"), Format::Unknown);
        assert_eq!(Format::detect(b""), Format::Unknown);
    }

    #[test]
    fn unsupported_reasons() {
        let e = read(b"  {\"x\": 1}").expect_err("json");
        assert!(e.to_string().contains("JSON"), "{e}");
        let e = read(b"LDR00180nam  22").expect_err("lif");
        assert!(e.to_string().contains("MicroLIF"), "{e}");
    }
}
