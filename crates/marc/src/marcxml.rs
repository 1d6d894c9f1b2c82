//! MARCXML (MARC 21 slim) reader, built on quick-xml.
//!
//! Accepts a `<collection>` of `<record>`s or a single `<record>`, with or
//! without a namespace prefix (elements are matched by local name). A
//! `<record>` that wraps another `<record>` before any MARC content (SRU,
//! OAI-PMH envelopes) gives way to the inner one.
//!
//! * A record with a tag that is not 3 letters or digits, or with no fields,
//!   is reported ([`RecordError`]) and skipped; the next record still loads.
//! * Bad or missing indicators become ' '; bad subfield codes are repaired
//!   as in the ISO 2709 reader; a missing or short leader is padded; all of
//!   these are noted in [`Record::warnings`].
//! * Malformed XML (or a file that ends inside a record) ends the iteration
//!   with one error that gives the line, column and byte offset.
//! * The text is UTF-8; a file that declares ISO-8859-1 is transcoded; bytes
//!   that are not valid UTF-8 become U+FFFD (and every record says so).
//!   leader/09 is not consulted: MARCXML is Unicode whatever it says.

use std::borrow::Cow;
use std::io::Cursor;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::encoding::nfc;
use crate::record::{
    ControlField, DataField, Encoding, Field, Record, RecordError, Subfield, excerpt,
    is_control_tag, normalise_subfield_code, valid_indicator, valid_tag,
};

/// Iterator over the records of a MARCXML document.
pub struct MarcXmlReader<'a> {
    reader: Reader<Cursor<Cow<'a, [u8]>>>,
    buf: Vec<u8>,
    number: usize,
    done: bool,
    depth: usize,
    root: Option<String>,
    encoding: Encoding,
    file_note: Option<String>,
    builder: Option<Builder>,
}

impl std::fmt::Debug for MarcXmlReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarcXmlReader")
            .field("number", &self.number)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Builder {
    offset: usize,
    depth: usize,
    leader: Option<String>,
    fields: Vec<Field>,
    warnings: Vec<String>,
    /// Problems that reject the record.
    fatal: Option<String>,
    field: Option<PendingField>,
    /// Code of the open `<subfield>`.
    sub: Option<char>,
    capture: Option<Capture>,
    text: String,
    notes: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    Leader,
    Control,
    Subfield,
}

struct PendingField {
    tag: String,
    control: bool,
    ind1: char,
    ind2: char,
    subfields: Vec<Subfield>,
}

impl Builder {
    fn warn(&mut self, w: String) {
        if self.warnings.len() < 100 {
            self.warnings.push(w);
        }
    }

    fn is_empty(&self) -> bool {
        self.leader.is_none() && self.fields.is_empty() && self.field.is_none()
    }
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(p) => name.get(p + 1..).unwrap_or(&[]),
        None => name,
    }
}

/// Attribute value by local name; `Err` if the attributes are malformed.
fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for a in e.attributes().with_checks(false) {
        let a = a.map_err(|err| format!("malformed attribute: {err}"))?;
        if local(a.key.as_ref().as_bytes()) == key.as_bytes() {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| format!("bad attribute value: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn declared_latin1(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(200)).unwrap_or(&[]);
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.starts_with("<?xml")
        && head.split("?>").next().is_some_and(|decl| {
            decl.contains("iso-8859-1") || decl.contains("latin1") || decl.contains("latin-1")
        })
}

impl<'a> MarcXmlReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let (source, encoding, file_note): (Cow<'a, [u8]>, _, _) = if declared_latin1(bytes) {
            let s: String = bytes.iter().map(|&b| char::from(b)).collect();
            (Cow::Owned(s.into_bytes()), Encoding::Latin1, None)
        } else {
            match std::str::from_utf8(bytes) {
                Ok(_) => (Cow::Borrowed(bytes), Encoding::Utf8, None),
                Err(e) => (
                    Cow::Owned(String::from_utf8_lossy(bytes).into_owned().into_bytes()),
                    Encoding::Utf8,
                    Some(format!(
                        "the XML file is not valid UTF-8 (first bad byte at {}); invalid bytes were replaced with U+FFFD",
                        e.valid_up_to()
                    )),
                ),
            }
        };
        let mut reader = Reader::from_reader(Cursor::new(source));
        let config = reader.config_mut();
        config.trim_text(false);
        config.check_end_names = true;
        config.expand_empty_elements = false;
        MarcXmlReader {
            reader,
            buf: Vec::new(),
            number: 0,
            done: false,
            depth: 0,
            root: None,
            encoding,
            file_note,
            builder: None,
        }
    }

    fn position_text(&self, offset: usize) -> String {
        let src: &[u8] = self.reader.get_ref().get_ref();
        let before = src.get(..offset.min(src.len())).unwrap_or(&[]);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        format!("line {line}, column {col} (byte {offset})")
    }

    fn fail(&mut self, offset: usize, reason: String) -> Option<Result<Record, RecordError>> {
        self.done = true;
        let number = if self.builder.is_some() {
            self.number
        } else {
            self.number + 1
        };
        self.builder = None;
        Some(Err(RecordError {
            number,
            offset,
            reason,
        }))
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: usize) {
        let name = local(e.name().as_ref().as_bytes()).to_vec();
        if name == b"record" {
            // An envelope `<record>` (SRU, OAI-PMH) gives way to a MARC
            // `<record>` inside it; a `<record>` inside MARC content is ignored.
            let fresh = match &self.builder {
                None => {
                    self.number += 1;
                    true
                }
                Some(b) => b.is_empty(),
            };
            if fresh {
                self.builder = Some(Builder {
                    offset,
                    depth: self.depth,
                    ..Builder::default()
                });
            }
            return;
        }
        let Some(b) = self.builder.as_mut() else {
            if self.root.is_none() {
                self.root = Some(String::from_utf8_lossy(&name).into_owned());
            }
            return;
        };
        match name.as_slice() {
            b"leader" => {
                b.capture = Some(Capture::Leader);
                b.text.clear();
            }
            b"controlfield" | b"datafield" => {
                let control = name == b"controlfield";
                let n = b.fields.len() + 1;
                let tag = match attr(e, "tag") {
                    Ok(Some(t)) => t,
                    Ok(None) => {
                        b.fatal
                            .get_or_insert(format!("field {n} has no tag attribute"));
                        String::new()
                    }
                    Err(err) => {
                        b.fatal.get_or_insert(format!("field {n}: {err}"));
                        String::new()
                    }
                };
                if !tag.is_empty() && !valid_tag(tag.as_bytes()) {
                    b.fatal.get_or_insert(format!(
                        "field {n} has tag \"{}\", which is not 3 letters or digits",
                        excerpt(&tag)
                    ));
                }
                let mut ind = |which: &str| -> char {
                    if control {
                        return ' ';
                    }
                    match attr(e, which) {
                        Ok(Some(v)) => {
                            let mut chars = v.chars();
                            match (chars.next(), chars.next()) {
                                (Some(c), None) if valid_indicator(c) => c,
                                (None, _) => ' ',
                                _ => {
                                    b.warnings.push(format!(
                                        "field {tag}: {which} \"{}\" is not a digit, lowercase letter or blank; replaced with a blank",
                                        excerpt(&v)
                                    ));
                                    ' '
                                }
                            }
                        }
                        Ok(None) => ' ',
                        Err(err) => {
                            b.warnings.push(format!("field {tag}: {err}"));
                            ' '
                        }
                    }
                };
                let ind1 = ind("ind1");
                let ind2 = ind("ind2");
                if control {
                    b.capture = Some(Capture::Control);
                    b.text.clear();
                }
                b.field = Some(PendingField {
                    tag,
                    control,
                    ind1,
                    ind2,
                    subfields: Vec::new(),
                });
            }
            b"subfield" if b.field.as_ref().is_some_and(|f| !f.control) => {
                let tag = b.field.as_ref().map(|f| f.tag.clone()).unwrap_or_default();
                let code = match attr(e, "code") {
                    Ok(Some(v)) => {
                        let mut chars = v.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => {
                                let n = normalise_subfield_code(c);
                                if n != c || !n.is_ascii_graphic() {
                                    b.warn(format!("field {tag}: subfield code {c:?} is not an ASCII letter or digit; read as {n:?}"));
                                }
                                n
                            }
                            _ => {
                                let n = v.chars().next().map_or(' ', normalise_subfield_code);
                                b.warn(format!(
                                    "field {tag}: subfield code \"{}\" is not one character; read as {n:?}",
                                    excerpt(&v)
                                ));
                                n
                            }
                        }
                    }
                    Ok(None) => {
                        b.warn(format!("field {tag}: a subfield has no code; read as ' '"));
                        ' '
                    }
                    Err(err) => {
                        b.warn(format!("field {tag}: {err}"));
                        ' '
                    }
                };
                b.sub = Some(code);
                b.capture = Some(Capture::Subfield);
                b.text.clear();
            }
            _ => {}
        }
    }

    /// Handle an end tag; returns a finished record.
    fn end(&mut self, name: &[u8]) -> Option<Result<Record, RecordError>> {
        let name = local(name);
        let depth = self.depth;
        let b = self.builder.as_mut()?;
        match name {
            b"leader" if b.capture == Some(Capture::Leader) => {
                b.capture = None;
                b.leader = Some(std::mem::take(&mut b.text));
            }
            b"controlfield" => {
                b.capture = None;
                let text = nfc(&std::mem::take(&mut b.text));
                if let Some(f) = b.field.take() {
                    if text.contains('\u{1f}') {
                        // Raw subfield delimiters (not even legal XML 1.0,
                        // but seen in Koha's sample data for a DanMARC record).
                        let field = embedded_subfields(&f.tag, &text, &mut b.warnings);
                        b.fields.push(field);
                    } else if is_control_tag(&f.tag) || f.tag.is_empty() {
                        b.fields.push(Field::Control(ControlField {
                            tag: f.tag,
                            value: text,
                        }));
                    } else {
                        b.warnings.push(format!(
                            "controlfield with data-field tag {}; kept as a data field with no subfields",
                            f.tag
                        ));
                        b.fields.push(Field::Data(DataField {
                            tag: f.tag,
                            ind1: ' ',
                            ind2: ' ',
                            subfields: Vec::new(),
                        }));
                    }
                }
            }
            b"subfield" if b.capture == Some(Capture::Subfield) => {
                b.capture = None;
                let value = nfc(&std::mem::take(&mut b.text));
                if let (Some(code), Some(f)) = (b.sub.take(), b.field.as_mut()) {
                    f.subfields.push(Subfield { code, value });
                }
            }
            b"datafield" => {
                if let Some(f) = b.field.take() {
                    b.fields.push(Field::Data(DataField {
                        tag: f.tag,
                        ind1: f.ind1,
                        ind2: f.ind2,
                        subfields: f.subfields,
                    }));
                }
            }
            b"record" if b.depth == depth => {
                let b = self.builder.take()?;
                return Some(self.finish(b));
            }
            _ => {}
        }
        None
    }

    fn finish(&self, mut b: Builder) -> Result<Record, RecordError> {
        let err = |reason: String| RecordError {
            number: self.number,
            offset: b.offset,
            reason,
        };
        if let Some(reason) = b.fatal.take() {
            return Err(err(reason));
        }
        if b.fields.is_empty() {
            return Err(err("the record has no fields".to_string()));
        }
        let leader = match b.leader.take() {
            None => {
                b.warn("the record has no leader; a blank one was used".to_string());
                " ".repeat(24)
            }
            Some(l) => {
                let l: String = l
                    .chars()
                    .map(|c| {
                        if c.is_ascii_graphic() || c == ' ' {
                            c
                        } else {
                            '?'
                        }
                    })
                    .collect();
                let n = l.chars().count();
                if n == 24 {
                    l
                } else {
                    b.warn(format!(
                        "the leader is {n} characters long instead of 24; padded or cut"
                    ));
                    format!("{l:<24}").chars().take(24).collect()
                }
            }
        };
        let mut notes = b.notes;
        if let Some(n) = &self.file_note {
            notes.insert(0, n.clone());
        }
        Ok(Record {
            number: self.number,
            offset: b.offset,
            leader,
            fields: b.fields,
            encoding: self.encoding,
            encoding_note: if notes.is_empty() {
                None
            } else {
                Some(notes.join("; "))
            },
            warnings: b.warnings,
        })
    }
}

/// A controlfield whose text holds 0x1F delimiters: "00\x1faX\x1fbY" is a
/// data field in disguise; otherwise the delimiters are removed.
fn embedded_subfields(tag: &str, text: &str, warnings: &mut Vec<String>) -> Field {
    let chars: Vec<char> = text.chars().collect();
    if chars.get(2) == Some(&'\u{1f}') {
        warnings.push(format!(
            "control field {tag} has subfields (as in DanMARC); read as a data field"
        ));
        let ind = |c: Option<&char>| c.copied().filter(|&c| valid_indicator(c)).unwrap_or(' ');
        let rest: String = chars.get(3..).unwrap_or(&[]).iter().collect();
        let subfields = rest
            .split('\u{1f}')
            .filter_map(|chunk| {
                let mut it = chunk.chars();
                let code = normalise_subfield_code(it.next()?);
                Some(Subfield {
                    code,
                    value: it.as_str().to_string(),
                })
            })
            .collect();
        Field::Data(DataField {
            tag: tag.to_string(),
            ind1: ind(chars.first()),
            ind2: ind(chars.get(1)),
            subfields,
        })
    } else {
        warnings.push(format!(
            "control field {tag} contains a subfield delimiter; removed"
        ));
        Field::Control(ControlField {
            tag: tag.to_string(),
            value: text.replace('\u{1f}', ""),
        })
    }
}

impl Iterator for MarcXmlReader<'_> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Each loop reads one event; quick-xml consumes input on every call
        // and reports Eof at the end, so this terminates.
        while !self.done {
            let before = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(ev) => ev.into_owned(),
                Err(e) => {
                    let at = usize::try_from(self.reader.error_position()).unwrap_or(before);
                    let reason = format!("malformed XML at {}: {e}", self.position_text(at));
                    return self.fail(at, reason);
                }
            };
            match event {
                Event::Start(e) => {
                    self.start(&e, before);
                    self.depth += 1;
                }
                Event::Empty(e) => {
                    self.start(&e, before);
                    let name = e.name().as_ref().as_bytes().to_vec();
                    if let Some(done) = self.end(&name) {
                        return Some(done);
                    }
                }
                Event::End(e) => {
                    self.depth = self.depth.saturating_sub(1);
                    let name = e.name().as_ref().as_bytes().to_vec();
                    if let Some(done) = self.end(&name) {
                        return Some(done);
                    }
                }
                Event::Text(t) => {
                    if let Some(b) = self.builder.as_mut()
                        && b.capture.is_some()
                    {
                        b.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(t) => {
                    if let Some(b) = self.builder.as_mut()
                        && b.capture.is_some()
                    {
                        b.text.push_str(&t.xml10_content());
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(b) = self.builder.as_mut()
                        && b.capture.is_some()
                    {
                        if r.is_char_ref() {
                            match r.resolve_char_ref() {
                                Ok(Some(c)) => b.text.push(c),
                                _ => {
                                    b.text.push('\u{FFFD}');
                                    let n =
                                        format!("invalid character reference &{};", excerpt(&r));
                                    if !b.notes.contains(&n) {
                                        b.notes.push(n);
                                    }
                                }
                            }
                        } else if let Some(s) = resolve_predefined_entity(&r) {
                            b.text.push_str(s);
                        } else {
                            b.text.push('\u{FFFD}');
                            let n = format!("unknown entity &{};", excerpt(&r));
                            if !b.notes.contains(&n) {
                                b.notes.push(n);
                            }
                        }
                    }
                }
                Event::Eof => {
                    self.done = true;
                    if self.builder.is_some() {
                        let at = self.builder.as_ref().map_or(before, |b| b.offset);
                        let reason = format!(
                            "the file ends inside record {} (started at {}; no </record>)",
                            self.number,
                            self.position_text(at)
                        );
                        return self.fail(at, reason);
                    }
                    if self.number == 0 {
                        let root = self.root.clone().unwrap_or_default();
                        if root != "collection" {
                            let reason = if root.is_empty() {
                                "no MARCXML records found: the document has no elements".to_string()
                            } else {
                                format!(
                                    "no MARCXML records found: the root element is <{}>, not <collection> or <record>",
                                    excerpt(&root)
                                )
                            };
                            return self.fail(0, reason);
                        }
                    }
                    return None;
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        None
    }
}

impl std::iter::FusedIterator for MarcXmlReader<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Vec<Result<Record, RecordError>> {
        MarcXmlReader::new(s.as_bytes()).collect()
    }

    #[test]
    fn single_record_with_prefix() {
        let out = read(
            r#"<?xml version="1.0"?><m:record xmlns:m="http://www.loc.gov/MARC21/slim">
            <m:leader>00000nam a2200000 a 4500</m:leader>
            <m:controlfield tag="001">42</m:controlfield>
            <m:datafield tag="245" ind1="1" ind2="0"><m:subfield code="a">Tom &amp; Jerry &#233;</m:subfield><m:subfield code="b"/></m:datafield>
            </m:record>"#,
        );
        assert_eq!(out.len(), 1);
        let r = out[0].as_ref().expect("record");
        assert_eq!(r.control("001"), Some("42"));
        let f = r.data_field("245").expect("245");
        assert_eq!(f.subfield('a'), Some("Tom & Jerry \u{e9}"));
        assert_eq!(f.subfield('b'), Some(""));
        assert_eq!((f.ind1, f.ind2), ('1', '0'));
    }

    #[test]
    fn bad_tag_rejects_only_that_record() {
        let out = read(
            r#"<collection><record><datafield tag="42"><subfield code="a">x</subfield></datafield></record>
            <record><datafield tag="245" ind1="0" ind2="z"><subfield code="a">ok</subfield></datafield></record></collection>"#,
        );
        assert_eq!(out.len(), 2);
        let e = out[0].as_ref().expect_err("bad tag");
        assert_eq!(e.number, 1);
        assert!(e.reason.contains("\"42\""), "{}", e.reason);
        let r = out[1].as_ref().expect("second");
        assert_eq!(r.number, 2);
    }

    #[test]
    fn malformed_xml_stops_with_position() {
        let out =
            read("<collection>\n<record>\n<leader>x</leader>\n<datafield tag=\"245\"></record>");
        assert_eq!(out.len(), 1);
        let e = out[0].as_ref().expect_err("malformed");
        assert!(e.reason.contains("line 4"), "{}", e.reason);
        let out = read("<collection><record><controlfield tag=\"001\">1</controlfield>");
        assert!(
            out[0]
                .as_ref()
                .expect_err("eof")
                .reason
                .contains("ends inside record 1")
        );
        let out = read("<html><body/></html>");
        assert!(
            out[0]
                .as_ref()
                .expect_err("not marc")
                .reason
                .contains("<html>")
        );
        assert!(read("<collection/>").is_empty());
    }
}
