//! Character decoding against real files: MARC-8 diacritics, leader/09 lies,
//! unsupported MARC-8 sets, and yaz's own MARC-8 → UTF-8 conversions.

mod common;

use pustaka_marc::{Encoding, Field, Record};

fn only(rel: &str) -> Record {
    let (mut good, bad) = common::read_all(rel);
    assert!(bad.is_empty(), "{rel}: {bad:?}");
    assert_eq!(good.len(), 1, "{rel}");
    good.remove(0)
}

fn sub(r: &Record, tag: &str, code: char) -> String {
    r.data_field(tag)
        .and_then(|f| f.subfield(code))
        .unwrap_or_else(|| panic!("no {tag} ${code}"))
        .to_string()
}

/// (tag, code, value) for every subfield and control field.
fn flat(r: &Record) -> Vec<(String, char, String)> {
    let mut out = Vec::new();
    for f in &r.fields {
        match f {
            Field::Control(c) => out.push((c.tag.clone(), ' ', c.value.clone())),
            Field::Data(d) => {
                for s in &d.subfields {
                    out.push((d.tag.clone(), s.code, s.value.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn marc8_diacritics_are_reordered_and_composed() {
    let r = only("pymarc/marc8.dat");
    assert_eq!(r.encoding, Encoding::Marc8);
    assert_eq!(r.encoding_note, None);
    // MARC-8 "\xe1a" (grave before a) and "\xe2e" (acute before e)
    assert_eq!(
        sub(&r, "240", 'a'),
        "De la solitude \u{e0} la communaut\u{e9}."
    );
    // The UTF-8 twin of the same record decodes to the same text.
    let twin = only("pymarc/marc8-to-unicode.dat");
    assert_eq!(twin.encoding, Encoding::Utf8);
    assert_eq!(flat(&r), flat(&twin));
}

#[test]
fn leader_09_lies_are_detected_and_noted() {
    let honest = only("pymarc/utf8_with_leader_flag.dat");
    assert_eq!(
        (honest.encoding, honest.encoding_note.as_deref()),
        (Encoding::Utf8, None)
    );
    let liar = only("pymarc/utf8_without_leader_flag.dat");
    assert_eq!(liar.encoding, Encoding::Utf8);
    assert_eq!(
        liar.encoding_note.as_deref(),
        Some("leader/09 says MARC-8 but the record is valid UTF-8")
    );
    assert_eq!(flat(&honest), flat(&liar));

    let r = only("yaz/marc8.marc");
    assert_eq!(r.encoding, Encoding::Marc8);
    assert_eq!(
        r.encoding_note.as_deref(),
        Some("leader/09 is '^', neither ' ' (MARC-8) nor 'a' (UTF-8); it was read as MARC-8")
    );
    // ESC p 4 ESC ( B ... ESC p 2 (superscripts)
    assert!(
        r.data_fields("500")
            .any(|f| f.subfield('a') == Some("Signatures: A\u{2074} B\u{b2}")),
        "{:?}",
        flat(&r)
    );
}

#[test]
fn decomposed_utf8_comes_back_nfc() {
    let r = only("pymarc/diacritic.dat");
    let contents = sub(&r, "505", 'a');
    assert!(contents.contains("Eva Hemmungs Wirt\u{e9}n"), "{contents}");
    assert!(!contents.contains('\u{301}'));
}

#[test]
fn unsupported_marc8_sets_become_replacement_characters_with_a_note() {
    let r = only("yaz/marc9.marc");
    assert_eq!(r.encoding, Encoding::Marc8);
    assert_eq!(
        r.encoding_note.as_deref(),
        Some("MARC-8 character set Basic Arabic is not supported")
    );
    // The romanised title is Latin and decodes fully (dot below, macron, alif).
    assert_eq!(sub(&r, "245", 'a'), "Qa\u{1e0d}\u{101}\u{2bc} al-usrah :");
    // The 880 in Arabic script does not: every character of the set
    // (punctuation included) is U+FFFD; spaces stay spaces.
    let arabic = sub(&r, "880", 'a');
    assert!(
        arabic.chars().all(|c| c == '\u{FFFD}' || c == ' '),
        "{arabic}"
    );
    assert_eq!(arabic.split(' ').count(), 3);

    let r = only("pymarc/bad_eacc_encoding.dat");
    assert_eq!(
        r.encoding_note.as_deref(),
        Some("MARC-8 character set CJK (EACC) is not supported")
    );
    assert_eq!(sub(&r, "245", 'a'), "Beikoku no t\u{14d}chi no shikumi");
}

#[test]
fn invalid_marc8_escapes_become_replacement_characters() {
    let r = only("pymarc/bad_marc8_escape.dat");
    assert_eq!(
        r.encoding_note.as_deref(),
        Some("invalid MARC-8 escape sequence")
    );
    assert_eq!(
        sub(&r, "245", 'a'),
        "Bulletin de la Soci\u{e9}t\u{e9} linn\u{FFFD}enne de Bordeaux."
    );
}

#[test]
fn marc8_that_is_not_marc8_is_flagged() {
    // pymarc's 1251.dat is windows-1251 Cyrillic with leader/09 ' '.
    let (records, _) = common::read_all("pymarc/1251.dat");
    for r in &records {
        let note = r.encoding_note.as_deref().unwrap_or("");
        assert!(
            note.contains("that MARC-8 does not define became U+FFFD"),
            "{note}"
        );
        assert!(note.contains("may really be in another encoding"), "{note}");
    }
    // yaz marc10/11 are DanMARC-encoded: same story.
    for rel in ["yaz/marc10.marc", "yaz/marc11.marc"] {
        let r = only(rel);
        assert!(
            r.encoding_note
                .as_deref()
                .unwrap_or("")
                .contains("another encoding"),
            "{rel}"
        );
    }
}

/// yaz converted its MARC-8 test records to UTF-8 in marcN.xml. Ours must
/// agree, except where yaz maps the double-width diacritic halves
/// differently (it uses U+0361/U+0360 on the first half and drops the
/// second; LC's table, which we follow, gives U+FE20–U+FE23) and where the
/// set is unsupported (Arabic in marc9).
#[test]
fn marc8_agrees_with_yaz() {
    for n in [6, 7, 8, 9] {
        let iso = only(&format!("yaz/marc{n}.marc"));
        let xml = only(&format!("yaz/marc{n}.xml"));
        let (a, b) = (flat(&iso), flat(&xml));
        assert_eq!(a.len(), b.len(), "marc{n}");
        let mut differ = 0;
        for (x, y) in a.iter().zip(&b) {
            if x == y {
                continue;
            }
            differ += 1;
            let halves = ['\u{FE20}', '\u{FE21}', '\u{FE22}', '\u{FE23}'];
            let arabic = x.0 == "880" && x.2.contains('\u{FFFD}');
            assert!(
                x.2.contains(halves) || arabic,
                "marc{n}: ours {x:?} yaz {y:?}"
            );
        }
        let expected = match n {
            7 => 3,  // the three "VOYAGER COLUMN" notes with ligature/double tilde halves
            9 => 10, // the 880 fields in Arabic script
            _ => 0,
        };
        assert_eq!(differ, expected, "marc{n}");
    }
    // Every ANSEL spacing character, as yaz shows them.
    let r = only("yaz/marc7.marc");
    let all: String = r
        .data_fields("500")
        .filter_map(|f| f.subfield('a'))
        .collect::<Vec<_>>()
        .join("\n");
    for want in [
        "Polish L (\u{141})",
        "Icelandic Thorn (\u{de})",
        "Miagkii Znak (\u{2b9})",
        "Alif (\u{2bc})",
        "alpha \u{3b1}",
        "Ayn (\u{2bb})",
        "Turkish i (\u{131})",
        "Superscript 1 (\u{b9})",
        "Subscript ) (\u{208e})",
        "Pseudo Question Mark (\u{1ecf})",
        "Hacek (\u{1d2})",
        "Circle Above (o\u{30a})",
        "Double Acute (\u{151})",
        "Right Hook (\u{1eb})",
        "Upadhmaniya (o\u{32e})",
    ] {
        assert!(all.contains(want), "missing {want:?} in {all}");
    }
}

#[test]
fn utf8_indicator_letter_is_one_bad_indicator() {
    // yaz marc0: 092 indicators are " á" (a UTF-8 letter, two bytes).
    let r = only("yaz/marc0.marc");
    assert_eq!(r.encoding, Encoding::Utf8);
    assert_eq!(r.encoding_note, None);
    let f = r.data_field("092").expect("092");
    assert_eq!((f.ind1, f.ind2), (' ', ' '));
    assert_eq!(f.subfield('a'), Some("DVD CHI 791.43"));
    assert_eq!(
        r.warnings,
        vec![
            "field 092: indicator 2 'á' is not a digit, lowercase letter or blank; replaced with a blank"
        ]
    );
}

#[test]
fn danmarc_layouts_read_as_data_fields() {
    // Three indicators (leader/10 = 3) and 00X fields with subfields.
    let r = only("yaz/marc1.marc");
    let f001 = r.data_field("001").expect("001 as a data field");
    assert_eq!(f001.subfield('a'), Some("9 181 423 4"));
    assert_eq!(sub(&r, "245", 'a'), "On the road with Bob Dylan");
    let x = only("yaz/marc1.xml");
    assert_eq!(sub(&x, "245", 'e'), "Larry \"Ratso\" Sloman");

    // Koha's sample data has one such record in MARCXML, with raw 0x1F.
    let (records, _) = common::read_all("koha-misc4dev/koha_sample_biblios.xml");
    let r = records
        .iter()
        .find(|r| r.number == 368)
        .expect("record 368");
    assert_eq!(
        r.data_field("001").and_then(|f| f.subfield('a')),
        Some("D000015937")
    );
}
