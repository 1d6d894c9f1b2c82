//! The decoded record model shared by both readers.

/// The character encoding a record's data was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Marc8,
    Latin1,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Marc8 => "MARC-8",
            Encoding::Latin1 => "ISO-8859-1",
        }
    }
}

/// One subfield: a one-character code and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subfield {
    pub code: char,
    pub value: String,
}

/// A control field (tags 001–009): a tag and unstructured text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlField {
    pub tag: String,
    pub value: String,
}

/// A data field: tag, two indicators (' ' when blank or invalid), subfields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataField {
    pub tag: String,
    pub ind1: char,
    pub ind2: char,
    pub subfields: Vec<Subfield>,
}

impl DataField {
    /// The first subfield with this code.
    pub fn subfield(&self, code: char) -> Option<&str> {
        self.subfields
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.value.as_str())
    }

    /// Every subfield with this code, in order.
    pub fn subfields_with(&self, code: char) -> impl Iterator<Item = &str> + '_ {
        self.subfields
            .iter()
            .filter(move |s| s.code == code)
            .map(|s| s.value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Control(ControlField),
    Data(DataField),
}

impl Field {
    pub fn tag(&self) -> &str {
        match self {
            Field::Control(f) => &f.tag,
            Field::Data(f) => &f.tag,
        }
    }
}

/// One bibliographic record, decoded to Unicode (NFC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based position of the record in its file (rejected records count).
    pub number: usize,
    /// Byte offset of the record's first byte in the input.
    pub offset: usize,
    /// The 24-character leader (non-ASCII bytes shown as '?').
    pub leader: String,
    pub fields: Vec<Field>,
    /// What the data was actually decoded from (which may differ from leader/09).
    pub encoding: Encoding,
    /// Set when leader/09 lied, when some bytes could not be decoded (they
    /// became U+FFFD), or when a MARC-8 character set is not supported.
    pub encoding_note: Option<String>,
    /// Structural problems that were repaired while reading, in English
    /// (e.g. a leader length that disagreed with the record terminator).
    pub warnings: Vec<String>,
}

impl Record {
    /// Leader position `i` (0-based) as a char, ' ' if absent.
    pub fn leader_at(&self, i: usize) -> char {
        self.leader.chars().nth(i).unwrap_or(' ')
    }

    /// The first control field with this tag.
    pub fn control(&self, tag: &str) -> Option<&str> {
        self.fields.iter().find_map(|f| match f {
            Field::Control(c) if c.tag == tag => Some(c.value.as_str()),
            _ => None,
        })
    }

    /// Every control field with this tag.
    pub fn controls<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter_map(move |f| match f {
            Field::Control(c) if c.tag == tag => Some(c.value.as_str()),
            _ => None,
        })
    }

    /// Every data field with this tag, in record order.
    pub fn data_fields<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a DataField> + 'a {
        self.fields.iter().filter_map(move |f| match f {
            Field::Data(d) if d.tag == tag => Some(d),
            _ => None,
        })
    }

    /// The first data field with this tag.
    pub fn data_field(&self, tag: &str) -> Option<&DataField> {
        self.fields.iter().find_map(|f| match f {
            Field::Data(d) if d.tag == tag => Some(d),
            _ => None,
        })
    }
}

/// A record that could not be read. The reader goes on with the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {number} (byte {offset}): {reason}")]
pub struct RecordError {
    /// 1-based record number in the file.
    pub number: usize,
    /// Byte offset where the record (or the problem, for malformed XML) starts.
    pub offset: usize,
    /// What is wrong, in plain English.
    pub reason: String,
}

/// Is this a MARC 21 tag: three ASCII letters or digits?
pub(crate) fn valid_tag(tag: &[u8]) -> bool {
    tag.len() == 3 && tag.iter().all(u8::is_ascii_alphanumeric)
}

/// Control fields are 001–009 (and 000 is not a field anyone uses).
pub(crate) fn is_control_tag(tag: &str) -> bool {
    matches!(tag.as_bytes(), [b'0', b'0', d] if (b'1'..=b'9').contains(d))
}

/// MARC 21 indicators are a digit, a lowercase letter or a blank.
pub(crate) fn valid_indicator(c: char) -> bool {
    c == ' ' || c.is_ascii_digit() || c.is_ascii_lowercase()
}

/// Map a non-conforming subfield code to something usable: an accented
/// letter loses its accent ('á' → 'a', as pymarc does), uppercase folds to
/// lowercase. Returns the code to use and whether it was changed.
pub(crate) fn normalise_subfield_code(c: char) -> char {
    use unicode_normalization::UnicodeNormalization;
    if c.is_ascii_graphic() {
        return c;
    }
    let folded = std::iter::once(c)
        .nfkd()
        .find(|d| d.is_ascii_alphanumeric())
        .map(|d| d.to_ascii_lowercase());
    folded.unwrap_or(c)
}

/// Shorten text for inclusion in a message.
pub(crate) fn excerpt(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX).collect();
        t.push('…');
        t
    }
}
