//! What Pustaka keeps from a bibliographic record: [`Bib`].
//!
//! # Mapping
//!
//! | `Bib` field | from |
//! |---|---|
//! | `control_number` / `control_source` | 001 / 003, trimmed |
//! | `title` | 245 $a $b $n $p, joined with spaces, trailing ISBD punctuation (` /`, ` :`, ` ;`, ` =`, `,`, `.`) removed |
//! | `responsibility` | 245 $c, trailing period removed |
//! | `author` | 100/110/111 $a, else the first 700/710/711 $a; trailing comma and period removed (kept after an initial or a known abbreviation such as "Jr.") |
//! | `isbns` | 020 $a (not $z), qualifiers dropped, check digit verified, ISBN-10 converted to ISBN-13, duplicates removed |
//! | `invalid_isbns` | 020 $a values that fail the check (their digits) |
//! | `subjects` | 600/610/611/630/650/651: $a then $v/$x/$y/$z subdivisions joined with " -- ", trailing period removed, duplicates removed |
//! | `language` | 008/35-37 if three letters, else the first code in 041 $a; lowercase |
//! | `year` | 008/07-10 if four digits (not 0000/9999), else the first four-digit run in 264 $c (publication 264s first), then 260 $c |
//! | `format` | see [`BibFormat`] |
//! | `links` | each 856 $u; label from $y, else $3 |
//! | `items` | 952, 852 and 949 fields, see [`Item`] |
//! | `call_number` | the first item's call number; else 090 $a $b, else 082 $a (with `/` marks removed), else 050 $a $b |
//!
//! Text is stripped of control characters (e.g. MARC-8 non-sort markers).

use crate::isbn;
use crate::record::{DataField, Record};

/// A copy or holding, from a holdings field embedded in the bib record.
///
/// | tag | barcode | branch | holding_branch | location | call_number | item_type | not_for_loan / lost |
/// |---|---|---|---|---|---|---|---|
/// | 952 (Koha) | $p | $a (home) | $b | $c (shelving location) | $o | $y | $7 / $1 (set and not "0") |
/// | 852 (MARC holdings) | $p | $b, else $a | – | $c (shelving location) | $h + $i, else $j | – | – |
/// | 949 (local, Sierra/Sirsi/Evergreen style) | $i | $m | – | $l | $a + $b | $t | – |
///
/// 949 has no standard; this follows the common vendor "949 load table"
/// (III/Sierra, and Sirsi-style exports used with Evergreen): $a class number
/// (with $b the item part/cutter), $i barcode, $l location, $m owning library,
/// $t item type. A field with none of barcode, branch, location and call
/// number is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub barcode: Option<String>,
    pub branch: Option<String>,
    pub holding_branch: Option<String>,
    pub location: Option<String>,
    pub call_number: Option<String>,
    pub item_type: Option<String>,
    pub not_for_loan: bool,
    pub lost: bool,
    pub source_tag: String,
}

/// A link from 856.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub label: Option<String>,
}

/// The broad kind of material, for patrons.
///
/// Decided in this order:
/// 1. leader/06 `i` (non-musical sound recording) → Audiobook; `j` (musical
///    sound recording) and `c`/`d` (notated music) → Music; `g` (projected
///    medium) → Video; `e`/`f` (maps) → Map; `m` (computer file) → Ebook when
///    008/26 is `d` (document), else Other; `k`, `o`, `p`, `r` → Other.
/// 2. For text (`a`, `t`, or leader/06 missing): leader/07 `s` → Serial;
///    008/23 `o`, `q`, `s` (online, electronic), 245 $h "[electronic
///    resource]", 300 $a "online resource", or 007 starting `cr` (remote
///    computer resource) → Ebook; 008/23 `f` or 007/00 `f` (tactile) →
///    Braille; 008/23 `d` → LargePrint; else Book.
///
///    A 007 `cr` alone does not turn a record whose 008/23 names a
///    non-electronic form (blank = regular print, microforms, large print,
///    braille) into an ebook: the Library of Congress adds one to
///    print records that link (856) to a digitised copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BibFormat {
    Book,
    LargePrint,
    Braille,
    Ebook,
    Audiobook,
    Serial,
    Video,
    Music,
    Map,
    Other,
}

impl BibFormat {
    pub fn code(self) -> &'static str {
        match self {
            BibFormat::Book => "book",
            BibFormat::LargePrint => "large_print",
            BibFormat::Braille => "braille",
            BibFormat::Ebook => "ebook",
            BibFormat::Audiobook => "audiobook",
            BibFormat::Serial => "serial",
            BibFormat::Video => "video",
            BibFormat::Music => "music",
            BibFormat::Map => "map",
            BibFormat::Other => "other",
        }
    }

    /// Classify a record (see the enum docs).
    pub fn of(record: &Record) -> BibFormat {
        let f008: Vec<char> = record.control("008").unwrap_or("").chars().collect();
        let at008 = |i: usize| f008.get(i).copied().unwrap_or(' ');
        let f007: Vec<&str> = record.controls("007").collect();
        match record.leader_at(6) {
            'i' => BibFormat::Audiobook,
            'j' | 'c' | 'd' => BibFormat::Music,
            'g' => BibFormat::Video,
            'e' | 'f' => BibFormat::Map,
            'm' if at008(26) == 'd' => BibFormat::Ebook,
            'k' | 'o' | 'p' | 'r' | 'm' => BibFormat::Other,
            _ => {
                let form = at008(23);
                // 008/23 says some non-electronic form (regular print,
                // microform, large print, braille).
                let print =
                    !f008.is_empty() && matches!(form, ' ' | 'a' | 'b' | 'c' | 'd' | 'f' | 'r');
                let electronic = matches!(form, 'o' | 'q' | 's')
                    || (!print && f007.iter().any(|f| f.starts_with("cr")))
                    || record
                        .data_fields("245")
                        .flat_map(|f| f.subfields_with('h'))
                        .any(|h| h.to_lowercase().contains("electronic resource"))
                    || record
                        .data_fields("300")
                        .flat_map(|f| f.subfields_with('a'))
                        .any(|a| a.to_lowercase().contains("online resource"));
                if record.leader_at(7) == 's' {
                    BibFormat::Serial
                } else if electronic {
                    BibFormat::Ebook
                } else if form == 'f' || f007.iter().any(|f| f.starts_with('f')) {
                    BibFormat::Braille
                } else if form == 'd' {
                    BibFormat::LargePrint
                } else {
                    BibFormat::Book
                }
            }
        }
    }
}

/// The bibliographic facts Pustaka keeps. See the module docs for the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Bib {
    pub control_number: Option<String>,
    pub control_source: Option<String>,
    pub title: String,
    pub responsibility: Option<String>,
    pub author: Option<String>,
    pub isbns: Vec<String>,
    pub invalid_isbns: Vec<String>,
    pub subjects: Vec<String>,
    pub language: Option<String>,
    pub year: Option<i32>,
    pub format: BibFormat,
    pub links: Vec<Link>,
    pub items: Vec<Item>,
    pub call_number: Option<String>,
}

/// Remove control characters and collapse runs of whitespace.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_control() {
            if c == '\t' || c == '\n' || c == '\r' {
                space = !out.is_empty();
            }
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

const ABBREVIATIONS: [&str; 14] = [
    "jr", "sr", "dr", "st", "mr", "mrs", "ms", "inc", "ltd", "co", "bros", "etc", "ed", "eds",
];

/// Strip one trailing period unless it ends an initial ("B."), an
/// abbreviation ("Jr.", "U.S.") or an ellipsis.
fn strip_period(s: &str) -> &str {
    let Some(body) = s.strip_suffix('.') else {
        return s;
    };
    if body.ends_with('.') {
        return s; // ellipsis
    }
    let last = body.rsplit([' ', '(', '[']).next().unwrap_or("");
    let letters = last.chars().filter(|c| c.is_alphabetic()).count();
    let single_initial =
        letters == 1 && last.chars().count() == 1 && last.chars().all(char::is_uppercase);
    if single_initial || last.contains('.') || ABBREVIATIONS.contains(&last.to_lowercase().as_str())
    {
        return s;
    }
    body
}

/// Remove trailing ISBD punctuation: " /", " :", " ;", " =", ",", then a
/// final period (see [`strip_period`]).
fn strip_isbd(s: &str) -> String {
    let mut t = s.trim_end();
    loop {
        let before = t.len();
        t = t.trim_end_matches(['/', ':', ';', '=', ',']).trim_end();
        if t.len() == before {
            break;
        }
    }
    strip_period(t).trim_end().to_string()
}

fn first_data<'a>(record: &'a Record, tags: &[&str]) -> Option<&'a DataField> {
    tags.iter().find_map(|t| record.data_field(t))
}

fn sub_clean(f: &DataField, code: char) -> Option<String> {
    f.subfield(code).map(clean).and_then(non_empty)
}

fn join_subfields(f: &DataField, codes: &[char], sep: &str) -> String {
    let parts: Vec<String> = f
        .subfields
        .iter()
        .filter(|s| codes.contains(&s.code))
        .map(|s| clean(&s.value))
        .filter(|s| !s.is_empty())
        .collect();
    parts.join(sep)
}

fn first_year_in(s: &str) -> Option<i32> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i).is_some_and(char::is_ascii_digit) {
            let start = i;
            while chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
            if i - start == 4 {
                let y: String = chars.get(start..i)?.iter().collect();
                return y.parse().ok();
            }
        } else {
            i += 1;
        }
    }
    None
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !s.is_empty() && !v.contains(&s) {
        v.push(s);
    }
}

impl Bib {
    /// Extract a [`Bib`]. Fails only when the record has no title (no 245,
    /// or a 245 whose $a/$b/$n/$p are all empty).
    pub fn from_record(record: &Record) -> Result<Bib, String> {
        let f245 = record
            .data_field("245")
            .ok_or_else(|| "the record has no title (no 245 field)".to_string())?;
        let title = strip_isbd(&join_subfields(f245, &['a', 'b', 'n', 'p'], " "));
        if title.is_empty() {
            return Err("the record has no title (245 $a, $b, $n and $p are empty)".to_string());
        }
        let responsibility = sub_clean(f245, 'c')
            .map(|s| strip_isbd(&s))
            .and_then(non_empty);

        let author = first_data(record, &["100", "110", "111"])
            .and_then(|f| sub_clean(f, 'a'))
            .or_else(|| {
                ["700", "710", "711"]
                    .iter()
                    .flat_map(|t| record.data_fields(t))
                    .find_map(|f| sub_clean(f, 'a'))
            })
            .map(|a| {
                let a = a.trim_end_matches([',', ' ']);
                strip_period(a).trim_end_matches([',', ' ']).to_string()
            })
            .and_then(non_empty);

        let mut isbns = Vec::new();
        let mut invalid_isbns = Vec::new();
        for f in record.data_fields("020") {
            for a in f.subfields_with('a') {
                let a = clean(a);
                if a.is_empty() {
                    continue;
                }
                match isbn::isbn13(&a) {
                    Some(i) => push_unique(&mut isbns, i),
                    None => {
                        let c = isbn::candidate(&a);
                        push_unique(&mut invalid_isbns, if c.is_empty() { a } else { c });
                    }
                }
            }
        }

        let mut subjects = Vec::new();
        for tag in ["600", "610", "611", "630", "650", "651"] {
            for f in record.data_fields(tag) {
                let mut parts: Vec<String> = Vec::new();
                let mut seen_a = false;
                for s in &f.subfields {
                    let keep = match s.code {
                        'a' => {
                            let first = !seen_a;
                            seen_a = true;
                            first
                        }
                        'v' | 'x' | 'y' | 'z' => seen_a,
                        _ => false,
                    };
                    if keep {
                        let p = strip_isbd(&clean(&s.value));
                        if !p.is_empty() {
                            parts.push(p);
                        }
                    }
                }
                if seen_a {
                    push_unique(&mut subjects, parts.join(" -- "));
                }
            }
        }

        let f008: Vec<char> = record.control("008").unwrap_or("").chars().collect();
        let lang008: String = f008
            .get(35..38)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        let language =
            if lang008.chars().count() == 3 && lang008.chars().all(|c| c.is_ascii_alphabetic()) {
                Some(lang008.to_ascii_lowercase())
            } else {
                record
                    .data_fields("041")
                    .flat_map(|f| f.subfields_with('a'))
                    .map(|a| a.trim().to_string())
                    .find(|a| a.len() >= 3 && a.chars().take(3).all(|c| c.is_ascii_alphabetic()))
                    .map(|a| a.chars().take(3).collect::<String>().to_ascii_lowercase())
            };

        let date1: String = f008
            .get(7..11)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        let year = if date1.len() == 4
            && date1.chars().all(|c| c.is_ascii_digit())
            && date1 != "0000"
            && date1 != "9999"
        {
            date1.parse().ok()
        } else {
            let f264: Vec<&DataField> = record.data_fields("264").collect();
            f264.iter()
                .filter(|f| f.ind2 == '1')
                .chain(f264.iter().filter(|f| f.ind2 != '1'))
                .copied()
                .chain(record.data_fields("260"))
                .flat_map(|f| f.subfields_with('c'))
                .find_map(first_year_in)
        };

        let mut links = Vec::new();
        for f in record.data_fields("856") {
            let label = sub_clean(f, 'y').or_else(|| sub_clean(f, '3'));
            for u in f.subfields_with('u') {
                let url = clean(u);
                if !url.is_empty() {
                    links.push(Link {
                        url,
                        label: label.clone(),
                    });
                }
            }
        }

        let items = items(record);
        let call_number = items
            .iter()
            .find_map(|i| i.call_number.clone())
            .or_else(|| {
                record
                    .data_field("090")
                    .map(|f| join_subfields(f, &['a', 'b'], " "))
                    .and_then(non_empty)
            })
            .or_else(|| {
                record
                    .data_fields("082")
                    .find_map(|f| sub_clean(f, 'a'))
                    .map(|a| a.replace('/', ""))
            })
            .or_else(|| {
                record
                    .data_field("050")
                    .map(|f| {
                        let a = f.subfield('a').map(clean).unwrap_or_default();
                        let b = f.subfield('b').map(clean).unwrap_or_default();
                        clean(&format!("{a} {b}"))
                    })
                    .and_then(non_empty)
            });

        Ok(Bib {
            control_number: record
                .control("001")
                .map(|s| clean(s.trim()))
                .and_then(non_empty),
            control_source: record
                .control("003")
                .map(|s| clean(s.trim()))
                .and_then(non_empty),
            title,
            responsibility,
            author,
            isbns,
            invalid_isbns,
            subjects,
            language,
            year,
            format: BibFormat::of(record),
            links,
            items,
            call_number,
        })
    }
}

fn flag(f: &DataField, code: char) -> bool {
    f.subfield(code)
        .map(str::trim)
        .is_some_and(|v| !v.is_empty() && v != "0")
}

/// Holdings fields to [`Item`]s (mapping in the [`Item`] docs).
pub fn items(record: &Record) -> Vec<Item> {
    let mut out = Vec::new();
    for f in record.fields.iter().filter_map(|f| match f {
        crate::Field::Data(d) if matches!(d.tag.as_str(), "952" | "852" | "949") => Some(d),
        _ => None,
    }) {
        let item = match f.tag.as_str() {
            "952" => Item {
                barcode: sub_clean(f, 'p'),
                branch: sub_clean(f, 'a'),
                holding_branch: sub_clean(f, 'b'),
                location: sub_clean(f, 'c'),
                call_number: sub_clean(f, 'o'),
                item_type: sub_clean(f, 'y'),
                not_for_loan: flag(f, '7'),
                lost: flag(f, '1'),
                source_tag: f.tag.clone(),
            },
            "852" => {
                let mut call = join_subfields(f, &['h', 'i'], " ");
                if call.is_empty() {
                    call = join_subfields(f, &['j'], " ");
                }
                Item {
                    barcode: sub_clean(f, 'p'),
                    branch: sub_clean(f, 'b').or_else(|| sub_clean(f, 'a')),
                    holding_branch: None,
                    location: sub_clean(f, 'c'),
                    call_number: non_empty(call),
                    item_type: None,
                    not_for_loan: false,
                    lost: false,
                    source_tag: f.tag.clone(),
                }
            }
            _ => Item {
                barcode: sub_clean(f, 'i'),
                branch: sub_clean(f, 'm'),
                holding_branch: None,
                location: sub_clean(f, 'l'),
                call_number: non_empty(join_subfields(f, &['a', 'b'], " ")),
                item_type: sub_clean(f, 't'),
                not_for_loan: false,
                lost: false,
                source_tag: f.tag.clone(),
            },
        };
        if item.barcode.is_some()
            || item.branch.is_some()
            || item.location.is_some()
            || item.call_number.is_some()
        {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbd_stripping() {
        assert_eq!(
            strip_isbd("The pragmatic programmer : from journeyman to master /"),
            "The pragmatic programmer : from journeyman to master"
        );
        assert_eq!(strip_isbd("Green Eggs and Ham"), "Green Eggs and Ham");
        assert_eq!(strip_isbd("All about whales."), "All about whales");
        assert_eq!(strip_isbd("Wait for it..."), "Wait for it...");
        assert_eq!(strip_isbd("History of the U.S.A."), "History of the U.S.A.");
        assert_eq!(strip_isbd("Title ="), "Title");
        assert_eq!(strip_period("Gatewood, Willard B."), "Gatewood, Willard B.");
        assert_eq!(strip_period("Tournier, Paul."), "Tournier, Paul");
        assert_eq!(
            strip_period("King, Martin Luther, Jr."),
            "King, Martin Luther, Jr."
        );
    }

    #[test]
    fn years() {
        assert_eq!(first_year_in("c1987."), Some(1987));
        assert_eq!(first_year_in("[199-?]"), None);
        assert_eq!(first_year_in("12345 2001"), Some(2001));
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean("\u{98}The\u{9c}  title\n here "), "The title here");
    }
}
