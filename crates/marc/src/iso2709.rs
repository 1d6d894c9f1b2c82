//! ISO 2709 ("MARC communications format", `.mrc`) reader.
//!
//! A record is a 24-byte leader, a directory of 12-byte entries (3-byte tag,
//! 4-digit length, 5-digit start) ending with a field terminator (0x1E), the
//! fields (each ending with 0x1E; data fields are indicators then subfields
//! introduced by 0x1F), and a record terminator (0x1D).
//!
//! What the reader tolerates, and how (each repair is written to
//! [`Record::warnings`]):
//!
//! * bytes between records: NUL, whitespace, CR/LF, DOS end-of-file (0x1A)
//!   and stray record terminators are skipped silently;
//! * junk before a leader, when a 5-digit length a few bytes further on
//!   ends exactly at the record terminator: the junk is skipped;
//! * a leader length that disagrees with the record terminator: the
//!   terminator wins;
//! * a wrong base address: the data starts after the directory terminator,
//!   if that sits at a 12-byte boundary; a directory that ends with some other
//!   byte where the base address says: accepted;
//! * a field whose directory length or start is off: the field is read up to
//!   its own field terminator;
//! * bad indicators become ' '; missing ones too; text between the indicators
//!   and the first subfield is dropped; the indicator count in leader/10 is
//!   honoured (DanMARC uses 3, only the first two are kept);
//! * a non-ASCII subfield code loses its accent ('á' → 'a'); empty subfield
//!   delimiters are dropped.
//!
//! What rejects a record ([`RecordError`], then reading resumes after its
//! record terminator): fewer than 24 bytes, a truncated last record, a
//! directory that cannot be found or whose length is not a multiple of 12,
//! a directory entry with a tag that is not 3 letters/digits, a non-numeric
//! length or start, or a field past the end of the record, and a record with
//! no fields.

use crate::encoding::Decoder;
use crate::record::{
    ControlField, DataField, Field, Record, RecordError, Subfield, excerpt, is_control_tag,
    normalise_subfield_code, valid_indicator, valid_tag,
};

const RECORD_TERMINATOR: u8 = 0x1D;
const FIELD_TERMINATOR: u8 = 0x1E;
const DELIMITER: u8 = 0x1F;
const LEADER_LEN: usize = 24;
const MAX_WARNINGS: usize = 100;
/// Longest record (99,999) plus room for junk before its leader.
const MAX_SEARCH: usize = 100_000 + 100;

fn is_filler(b: u8) -> bool {
    matches!(
        b,
        0x00 | b'\t' | b'\n' | b'\r' | b' ' | 0x1A | RECORD_TERMINATOR
    )
}

/// Skip what may sit between records (see module docs). Used by
/// [`crate::Format::detect`] too.
pub(crate) fn skip_filler(data: &[u8]) -> usize {
    data.iter().take_while(|&&b| is_filler(b)).count()
}

fn digits(bytes: Option<&[u8]>) -> Option<usize> {
    let b = bytes?;
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0usize, |n, &d| {
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

fn show_bytes(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        if c.is_ascii_graphic() || c == b' ' {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02X}"));
        }
    }
    s
}

/// Iterator over the records of an ISO 2709 byte slice.
///
/// Yields `Ok(Record)` or `Err(RecordError)` per record and always ends:
/// every step consumes at least one byte.
#[derive(Debug, Clone)]
pub struct Iso2709Reader<'a> {
    data: &'a [u8],
    pos: usize,
    number: usize,
}

impl<'a> Iso2709Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Iso2709Reader {
            data,
            pos: 0,
            number: 0,
        }
    }
}

impl Iterator for Iso2709Reader<'_> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let skip = skip_filler(rest);
        self.pos += skip;
        let rest = rest.get(skip..).unwrap_or(&[]);
        if rest.is_empty() {
            return None;
        }
        self.number += 1;
        let start = self.pos;
        let located = locate(rest);
        // Always make progress, whatever `locate` says.
        self.pos += located.consumed.max(1);
        let result = match located.outcome {
            Ok((junk, len)) => {
                let rec = rest.get(junk..junk + len).unwrap_or(&[]);
                parse(rec, self.number, start + junk, located.warnings)
            }
            Err(reason) => Err(reason),
        };
        Some(result.map_err(|reason| RecordError {
            number: self.number,
            offset: start,
            reason,
        }))
    }
}

impl std::iter::FusedIterator for Iso2709Reader<'_> {}

struct Located {
    /// Bytes to move past (junk + record).
    consumed: usize,
    /// (junk bytes before the leader, record length including terminator)
    outcome: Result<(usize, usize), String>,
    warnings: Vec<String>,
}

/// Find where the record starting at `rest[0]` ends.
fn locate(rest: &[u8]) -> Located {
    let declared = digits(rest.get(0..5));
    // The length is right but the terminator is missing: the last byte is
    // a field terminator and there is no record terminator before it.
    if let Some(n) = declared
        && n > LEADER_LEN
        && rest.get(n - 1) == Some(&FIELD_TERMINATOR)
        && !rest.get(..n).unwrap_or(&[]).contains(&RECORD_TERMINATOR)
        && rest.get(n..).is_some_and(|after| {
            let after = after.get(skip_filler(after)..).unwrap_or(&[]);
            after.is_empty() || digits(after.get(..5)).is_some()
        })
    {
        return Located {
            consumed: n,
            outcome: Ok((0, n)),
            warnings: vec!["the record terminator (0x1D) is missing".to_string()],
        };
    }
    // A record is at most 99,999 bytes (5-digit length), so its terminator
    // is never further away than that (plus some junk); bounding the search
    // keeps a file with no terminators linear, not quadratic.
    let window = rest.get(..rest.len().min(MAX_SEARCH)).unwrap_or(rest);
    let term = window.iter().position(|&b| b == RECORD_TERMINATOR);
    let mut warnings = Vec::new();

    // The leader length is right: it ends on a record terminator.
    if let Some(n) = declared
        && n > LEADER_LEN
        && rest.get(n - 1) == Some(&RECORD_TERMINATOR)
    {
        return Located {
            consumed: n,
            outcome: Ok((0, n)),
            warnings,
        };
    }
    match term {
        Some(t) => {
            let end = t + 1;
            // Junk before the leader: a 5-digit length further on that ends
            // exactly at this terminator.
            if declared != Some(end) {
                let limit = t.min(100);
                for k in 1..limit {
                    if let Some(n) = digits(rest.get(k..k + 5))
                        && k + n == end
                        && n > LEADER_LEN
                    {
                        warnings.push(format!(
                            "skipped {k} byte(s) of junk before the leader ({})",
                            excerpt(&show_bytes(rest.get(..k).unwrap_or(&[])))
                        ));
                        return Located {
                            consumed: end,
                            outcome: Ok((k, n)),
                            warnings,
                        };
                    }
                }
            }
            match declared {
                Some(n) => {
                    warnings.push(format!(
                        "leader length {n:05} but the record terminator is at byte {end}; used the terminator"
                    ));
                    Located {
                        consumed: end,
                        outcome: Ok((0, end)),
                        warnings,
                    }
                }
                None => Located {
                    consumed: end,
                    outcome: Err(format!(
                        "the leader does not start with a 5-digit record length (found \"{}\")",
                        show_bytes(rest.get(..5.min(t)).unwrap_or(&[]))
                    )),
                    warnings,
                },
            }
        }
        None => {
            // No terminator before the end of the input (or the window).
            if rest.len() > window.len() {
                return Located {
                    consumed: window.len(),
                    outcome: Err(format!(
                        "no record terminator (0x1D) within {} bytes; skipped them",
                        window.len()
                    )),
                    warnings,
                };
            }
            let reason = match declared {
                Some(n) if n > rest.len() => format!(
                    "the record is truncated: leader length {n:05} but the file ends after {} bytes",
                    rest.len()
                ),
                _ if rest.len() < LEADER_LEN => format!(
                    "{} byte(s) of trailing data after the last record are not a MARC record (\"{}\")",
                    rest.len(),
                    excerpt(&show_bytes(rest))
                ),
                _ => "the data at the end of the file is not a MARC record: it has no record terminator (0x1D)".to_string(),
            };
            Located {
                consumed: rest.len(),
                outcome: Err(reason),
                warnings,
            }
        }
    }
}

struct Entry {
    tag: String,
    start: usize,
    end: usize,
}

/// Parse the directory assuming the data starts at `base`.
fn directory(rec: &[u8], body_end: usize, base: usize) -> Result<Vec<Entry>, String> {
    let dir = rec.get(LEADER_LEN..base - 1).unwrap_or(&[]);
    if !dir.len().is_multiple_of(12) {
        return Err(format!(
            "the directory is {} bytes long, which is not a multiple of 12",
            dir.len()
        ));
    }
    let mut entries = Vec::with_capacity(dir.len() / 12);
    for (k, e) in dir.chunks(12).enumerate() {
        let k = k + 1;
        let tag = e.get(0..3).unwrap_or(&[]);
        if !valid_tag(tag) {
            return Err(format!(
                "directory entry {k} has tag \"{}\", which is not 3 letters or digits",
                show_bytes(tag)
            ));
        }
        let tag = String::from_utf8_lossy(tag).into_owned();
        let (Some(len), Some(start)) = (digits(e.get(3..7)), digits(e.get(7..12))) else {
            return Err(format!(
                "directory entry {k} (tag {tag}) has a length or start that is not a number (\"{}\")",
                show_bytes(e.get(3..).unwrap_or(&[]))
            ));
        };
        let s = base + start;
        let end = s + len;
        if end > body_end {
            return Err(format!(
                "directory entry {k} (tag {tag}) points past the end of the record (field ends at byte {end}, the record data ends at {body_end})"
            ));
        }
        entries.push(Entry { tag, start: s, end });
    }
    if entries.is_empty() {
        return Err("the record has no fields (its directory is empty)".to_string());
    }
    Ok(entries)
}

fn parse(
    rec: &[u8],
    number: usize,
    offset: usize,
    mut warnings: Vec<String>,
) -> Result<Record, String> {
    let body_end = if rec.last() == Some(&RECORD_TERMINATOR) {
        rec.len() - 1
    } else {
        rec.len()
    };
    let Some(leader_bytes) = rec.get(..LEADER_LEN).filter(|_| body_end > LEADER_LEN) else {
        return Err(format!(
            "the record is only {} bytes long; a leader alone needs 24",
            rec.len()
        ));
    };
    let leader: String = leader_bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();

    // Where does the data start?
    let raw_base = leader_bytes.get(12..17).unwrap_or(&[]);
    let base = digits(Some(raw_base));
    let dir_end = rec
        .get(LEADER_LEN..body_end)
        .and_then(|b| b.iter().position(|&c| c == FIELD_TERMINATOR))
        .map(|p| p + LEADER_LEN);
    let mut candidates = Vec::new();
    if let Some(b) = base
        && b > LEADER_LEN
        && b <= body_end
        && (b - LEADER_LEN - 1).is_multiple_of(12)
    {
        candidates.push(b);
    }
    if let Some(d) = dir_end
        && (d - LEADER_LEN).is_multiple_of(12)
        && d > LEADER_LEN
        && !candidates.contains(&(d + 1))
    {
        candidates.push(d + 1);
    }
    let mut chosen = None;
    let mut first_error = None;
    for &c in &candidates {
        match directory(rec, body_end, c) {
            Ok(entries) => {
                chosen = Some((c, entries));
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let Some((base_used, entries)) = chosen else {
        return Err(first_error.unwrap_or_else(|| {
            let b = show_bytes(raw_base);
            match base {
                None => format!("the leader base address \"{b}\" is not a number and no directory terminator was found"),
                Some(n) if n <= LEADER_LEN => format!("the leader base address {b} points inside the leader and no directory terminator was found at a 12-byte boundary"),
                Some(n) if n > body_end => format!("the leader base address {b} is past the end of the record ({body_end} bytes) and no directory terminator was found at a 12-byte boundary"),
                Some(n) => format!("the directory is {} bytes long, which is not a multiple of 12", match dir_end { Some(d) if d < n => d - LEADER_LEN, _ => n - LEADER_LEN - 1 }),
            }
        }));
    };
    if Some(base_used) != base {
        warnings.push(format!(
            "leader base address \"{}\" is wrong; the directory ends at byte {}, so the data starts at {base_used}",
            show_bytes(raw_base),
            base_used - 1
        ));
    } else if rec.get(base_used - 1) != Some(&FIELD_TERMINATOR) {
        warnings.push(format!(
            "the directory ends with byte 0x{:02X} instead of a field terminator",
            rec.get(base_used - 1).copied().unwrap_or(0)
        ));
    }

    // Cut each field out, repairing directory slips.
    let mut raw: Vec<(String, &[u8])> = Vec::with_capacity(entries.len());
    for (k, e) in entries.iter().enumerate() {
        let slice = rec.get(e.start..e.end).unwrap_or(&[]);
        let clean = slice.last() == Some(&FIELD_TERMINATOR)
            && !slice
                .get(..slice.len() - 1)
                .unwrap_or(&[])
                .contains(&FIELD_TERMINATOR);
        let data = if clean {
            slice.get(..slice.len() - 1).unwrap_or(&[])
        } else {
            let mut s = e.start;
            if rec.get(s) == Some(&FIELD_TERMINATOR) && s + 1 < body_end {
                s += 1;
            }
            let end = rec
                .get(s..body_end)
                .and_then(|b| b.iter().position(|&c| c == FIELD_TERMINATOR))
                .map_or(body_end, |p| s + p);
            warnings.push(format!(
                "field {} (directory entry {}) does not end with a field terminator where the directory says; read up to its own terminator",
                e.tag,
                k + 1
            ));
            rec.get(s..end).unwrap_or(&[])
        };
        raw.push((e.tag.clone(), data));
    }

    let leader09 = leader_bytes.get(9).copied().unwrap_or(b' ');
    let chunks: Vec<&[u8]> = raw.iter().map(|(_, d)| *d).collect();
    let mut decoder = Decoder::detect(leader09, &chunks);
    let indicator_count = match leader_bytes.get(10) {
        Some(d @ b'0'..=b'9') => usize::from(d - b'0'),
        _ => 2,
    };

    let mut fields = Vec::with_capacity(raw.len());
    for (tag, data) in raw {
        // A 00X field laid out like a data field (indicators, then a
        // subfield delimiter) is one: DanMARC and NORMARC do that.
        let looks_like_data = data.get(indicator_count) == Some(&DELIMITER);
        if is_control_tag(&tag) && !looks_like_data {
            let value = if data.contains(&DELIMITER) {
                warnings.push(format!(
                    "control field {tag} contains a subfield delimiter; removed"
                ));
                let kept: Vec<u8> = data.iter().copied().filter(|&b| b != DELIMITER).collect();
                decoder.decode(&kept)
            } else {
                decoder.decode(data)
            };
            fields.push(Field::Control(ControlField { tag, value }));
        } else {
            if is_control_tag(&tag) {
                warnings.push(format!(
                    "control field {tag} has subfields (as in DanMARC/NORMARC); read as a data field"
                ));
            }
            fields.push(Field::Data(data_field(
                tag,
                data,
                indicator_count,
                &mut decoder,
                &mut warnings,
            )));
        }
    }
    warnings.truncate(MAX_WARNINGS);
    Ok(Record {
        number,
        offset,
        leader,
        fields,
        encoding: decoder.encoding,
        encoding_note: decoder.into_note(),
        warnings,
    })
}

fn data_field(
    tag: String,
    data: &[u8],
    indicator_count: usize,
    decoder: &mut Decoder,
    warnings: &mut Vec<String>,
) -> DataField {
    let first = data
        .iter()
        .position(|&b| b == DELIMITER)
        .unwrap_or(data.len());
    // Indicators are characters: decode first, so a UTF-8 letter where an
    // indicator should be counts as one (bad) indicator, not two bytes.
    let prefix: Vec<char> = decoder
        .decode(data.get(..first).unwrap_or(&[]))
        .chars()
        .collect();
    let (inds, stray) = prefix.split_at(prefix.len().min(indicator_count));
    if inds.len() < indicator_count.min(2) {
        warnings.push(format!(
            "field {tag} has {} indicator(s) instead of {indicator_count}; the missing ones are blank",
            inds.len()
        ));
    }
    if !stray.is_empty() {
        let text: String = stray.iter().collect();
        warnings.push(format!(
            "field {tag}: text before the first subfield was dropped (\"{}\")",
            excerpt(&text)
        ));
    }
    let mut indicator = |n: usize| -> char {
        match inds.get(n) {
            None => ' ',
            Some(&c) if valid_indicator(c) => c,
            Some(&c) => {
                warnings.push(format!(
                    "field {tag}: indicator {} {c:?} is not a digit, lowercase letter or blank; replaced with a blank",
                    n + 1
                ));
                ' '
            }
        }
    };
    let ind1 = indicator(0);
    let ind2 = indicator(1);

    let mut subfields = Vec::new();
    let body = data.get(first..).unwrap_or(&[]);
    for chunk in body.split(|&b| b == DELIMITER).skip(1) {
        if chunk.is_empty() {
            warnings.push(format!(
                "field {tag} has an empty subfield (a delimiter with no code); dropped"
            ));
            continue;
        }
        let (code, used) = decoder.decode_code(chunk);
        let normal = normalise_subfield_code(code);
        if normal != code || !normal.is_ascii_graphic() {
            warnings.push(format!(
                "field {tag}: subfield code {code:?} is not an ASCII letter or digit; read as {normal:?}"
            ));
        }
        let value = decoder.decode(chunk.get(used..).unwrap_or(&[]));
        subfields.push(Subfield {
            code: normal,
            value,
        });
    }
    DataField {
        tag,
        ind1,
        ind2,
        subfields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a well-formed record from (tag, raw field bytes without FT).
    pub(crate) fn build(leader09: u8, fields: &[(&str, &[u8])]) -> Vec<u8> {
        let mut dir = Vec::new();
        let mut data = Vec::new();
        for (tag, f) in fields {
            let start = data.len();
            data.extend_from_slice(f);
            data.push(FIELD_TERMINATOR);
            dir.extend_from_slice(format!("{tag}{:04}{:05}", data.len() - start, start).as_bytes());
        }
        dir.push(FIELD_TERMINATOR);
        let base = LEADER_LEN + dir.len();
        let total = base + data.len() + 1;
        let mut rec =
            format!("{total:05}nam {}22{base:05} a 4500", char::from(leader09)).into_bytes();
        rec.extend_from_slice(&dir);
        rec.extend_from_slice(&data);
        rec.push(RECORD_TERMINATOR);
        rec
    }

    fn read(bytes: &[u8]) -> Vec<Result<Record, RecordError>> {
        Iso2709Reader::new(bytes).collect()
    }

    #[test]
    fn reads_a_clean_record() {
        let rec = build(
            b'a',
            &[
                ("001", b"123 "),
                ("245", b"10\x1faTitle :\x1fbsub /\x1fcMe."),
            ],
        );
        let out = read(&rec);
        assert_eq!(out.len(), 1);
        let r = out[0].as_ref().expect("record");
        assert_eq!(r.control("001"), Some("123 "));
        let f = r.data_field("245").expect("245");
        assert_eq!((f.ind1, f.ind2), ('1', '0'));
        assert_eq!(f.subfield('b'), Some("sub /"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.encoding_note, None);
    }

    #[test]
    fn leader_length_lie_trusts_the_terminator() {
        let mut rec = build(b'a', &[("245", b"00\x1faX")]);
        rec[0..5].copy_from_slice(b"00999");
        let two = [rec.clone(), rec].concat();
        let out = read(&two);
        assert_eq!(out.len(), 2);
        let r = out[1].as_ref().expect("second record");
        assert!(
            r.warnings[0].starts_with("leader length 00999"),
            "{:?}",
            r.warnings
        );
    }

    #[test]
    fn bad_indicators_and_codes_are_repaired() {
        let rec = build(b'a', &[("245", "-\u{e1}\x1f\u{e1}Title".as_bytes())]);
        let r = read(&rec).remove(0).expect("record");
        let f = r.data_field("245").expect("245");
        assert_eq!((f.ind1, f.ind2), (' ', ' '));
        assert_eq!(f.subfields[0].code, 'a');
        assert_eq!(f.subfields[0].value, "Title");
    }

    #[test]
    fn truncated_record_and_trailing_junk_are_errors() {
        let rec = build(b'a', &[("245", b"00\x1faX")]);
        let cut = &rec[..rec.len() - 5];
        let out = read(&[&rec[..], cut].concat());
        assert!(out[0].is_ok());
        let e = out[1].as_ref().expect_err("truncated");
        assert_eq!((e.number, e.offset), (2, rec.len()));
        assert!(e.reason.contains("truncated"), "{}", e.reason);
        let out = read(&[&rec[..], b"\x1a\r\n7"].concat());
        assert_eq!(out.len(), 2);
        assert!(
            out[1]
                .as_ref()
                .expect_err("junk")
                .reason
                .contains("trailing")
        );
    }

    #[test]
    fn missing_record_terminators_with_right_lengths() {
        let rec = build(b'a', &[("245", b"00\x1faX")]);
        let bare = &rec[..rec.len() - 1];
        let mut bad = bare.to_vec();
        bad[0..5].copy_from_slice(format!("{:05}", bare.len()).as_bytes());
        let out = read(&[&bad[..], &bad[..], b"\n"].concat());
        assert_eq!(out.len(), 2);
        for r in &out {
            let r = r.as_ref().expect("record");
            assert_eq!(r.warnings, vec!["the record terminator (0x1D) is missing"]);
        }
    }

    #[test]
    fn many_records_without_terminators_stay_linear() {
        // 2 MB of leader-like text with no 0x1D: must finish promptly.
        let junk = b"00100nam  2200037   4500".repeat(90_000);
        let n = Iso2709Reader::new(&junk).count();
        assert!((1..=30).contains(&n), "{n}");
    }

    #[test]
    fn empty_input_and_only_filler() {
        assert!(read(b"").is_empty());
        assert!(read(b"\x1a\r\n \x00\x1d").is_empty());
    }
}
