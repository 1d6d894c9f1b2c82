//! Every MARC file in shared/data/marc is a regression test: the exact number
//! of records read and rejected, and why. Counts were worked out by taking
//! each file apart byte by byte and cross-checked with pymarc 5.4.0 (run by
//! hand; these tests do not need Python). Where the counts differ from
//! pymarc's permissive reader it is on purpose; see the notes in `EXPECTED`.

mod common;

use pustaka_marc::{Bib, Format};

/// (file, records read, records rejected, why it is in the set)
const EXPECTED: &[(&str, usize, usize, &str)] = &[
    // Library of Congress, UTF-8, clean.
    (
        "lc-booksall-2016/lc_booksall2016_first1000.mrc",
        1000,
        0,
        "clean",
    ),
    (
        "lc-booksall-2016/lc_booksall2016_lang_ind.mrc",
        2716,
        0,
        "clean; one 001 has a stray 0x1F",
    ),
    // MARC::Record (Perl) fixtures.
    (
        "marc-record-perl/baddir.usmarc",
        1,
        0,
        "directory ends with 0x1F, base address right: repaired",
    ),
    (
        "marc-record-perl/badind.usmarc",
        1,
        0,
        "245 indicator '-' becomes ' '",
    ),
    (
        "marc-record-perl/badldr.usmarc",
        6,
        1,
        "stray 0x1D between records skipped; trailing \"7\" rejected",
    ),
    ("marc-record-perl/camel.usmarc", 10, 0, "clean"),
    (
        "marc-record-perl/cameleof.usmarc",
        10,
        0,
        "0x1A before three leaders skipped",
    ),
    (
        "marc-record-perl/filler.usmarc",
        3,
        0,
        "NUL/space/newline filler skipped",
    ),
    ("marc-record-perl/sample1.usmarc", 1, 0, "clean"),
    (
        "marc-record-perl/sample1eof.usmarc",
        1,
        0,
        "trailing 0x1A skipped",
    ),
    ("marc-record-perl/title_proper.usmarc", 5, 0, "clean"),
    // pymarc fixtures.
    (
        "pymarc/1251.dat",
        6,
        0,
        "really windows-1251 flagged MARC-8: decoded as MARC-8, noted",
    ),
    ("pymarc/alphatag.dat", 1, 0, "alphanumeric tags"),
    (
        "pymarc/bad_eacc_encoding.dat",
        1,
        0,
        "EACC not supported: U+FFFD + note",
    ),
    (
        "pymarc/bad_indicator.dat",
        0,
        1,
        "directory entry 1 has tag \"0 2\"",
    ),
    (
        "pymarc/bad_marc8_escape.dat",
        1,
        0,
        "invalid escapes become U+FFFD",
    ),
    (
        "pymarc/bad_records.mrc",
        5,
        4,
        "bad base addresses repaired; 13-byte directories, empty record, truncated tail rejected",
    ),
    (
        "pymarc/bad_subfield_code.dat",
        1,
        0,
        "directory off by one from 245 on; code 'á' read as 'a'",
    ),
    (
        "pymarc/diacritic.dat",
        1,
        0,
        "decomposed UTF-8, returned NFC",
    ),
    ("pymarc/marc.dat", 20, 0, "clean"),
    (
        "pymarc/marc8-to-unicode.dat",
        1,
        0,
        "UTF-8 twin of marc8.dat",
    ),
    ("pymarc/marc8.dat", 1, 0, "MARC-8 diacritics"),
    ("pymarc/multi_isbn.dat", 1, 0, "several 020s"),
    ("pymarc/one.dat", 1, 0, "clean"),
    (
        "pymarc/regression45.dat",
        12,
        0,
        "752 has a stray '\\' before its first subfield",
    ),
    ("pymarc/test.dat", 10, 0, "clean"),
    (
        "pymarc/testunimarc.dat",
        1,
        0,
        "UNIMARC (no 245): the record reads, Bib fails",
    ),
    ("pymarc/utf8_errors.dat", 1, 0, "clean UTF-8"),
    (
        "pymarc/utf8_invalid.mrc",
        1,
        0,
        "a subfield code that is U+FFFD",
    ),
    ("pymarc/utf8_with_leader_flag.dat", 1, 0, "UTF-8, flag 'a'"),
    (
        "pymarc/utf8_without_leader_flag.dat",
        1,
        0,
        "UTF-8, flag ' ': lie detected",
    ),
    ("pymarc/batch.xml", 2, 0, "MARCXML with marc: prefix"),
    ("pymarc/utf8.xml", 1, 0, "MARCXML"),
    ("pymarc/bad_tag.xml", 0, 1, "a datafield with tag \"42\""),
    // yaz fixtures: marc-all.marc is marc0..marc9 concatenated.
    ("yaz/marc-all.marc", 10, 0, "marc0..marc9 back to back"),
    ("yaz/marc0.marc", 1, 0, "indicator 2 is 'á'"),
    (
        "yaz/marc1.marc",
        1,
        0,
        "DanMARC: 3 indicators, 00X fields with subfields",
    ),
    ("yaz/marc2.marc", 1, 0, "DanMARC"),
    (
        "yaz/marc3.marc",
        1,
        0,
        "NORMARC-like, text before first subfield",
    ),
    (
        "yaz/marc4.marc",
        1,
        0,
        "5 junk bytes before the leader: skipped",
    ),
    ("yaz/marc5.marc", 1, 0, "Greek UTF-8"),
    ("yaz/marc6.marc", 1, 0, "MARC-8, ASCII only"),
    ("yaz/marc7.marc", 1, 0, "MARC-8 every ANSEL character"),
    (
        "yaz/marc8.marc",
        1,
        0,
        "MARC-8, leader/09 '^', superscripts",
    ),
    ("yaz/marc9.marc", 1, 0, "MARC-8 with Arabic 880s"),
    ("yaz/marc10.marc", 1, 0, "DanMARC charset flagged MARC-8"),
    ("yaz/marc11.marc", 1, 0, "DanMARC charset flagged MARC-8"),
    ("yaz/marccol1.u8.marc", 19, 0, "UTF-8 collection"),
    ("yaz/marccol2.u8.marc", 1, 0, "UTF-8"),
    ("yaz/marccol3.u8.marc", 1, 0, "UTF-8"),
    ("yaz/marccol4.u8.marc", 1, 0, "UTF-8"),
    ("yaz/marccol5.u8.marc", 11, 0, "UTF-8 collection"),
    ("yaz/marc0.xml", 1, 0, "ind2 'á'"),
    ("yaz/marc1.xml", 1, 0, "ind3 attributes ignored"),
    ("yaz/marc2.xml", 1, 0, ""),
    ("yaz/marc3.xml", 1, 0, ""),
    (
        "yaz/marc4.xml",
        0,
        1,
        "a record with a leader and no fields",
    ),
    ("yaz/marc5.xml", 1, 0, "subfield code 'η'"),
    ("yaz/marc6.xml", 1, 0, ""),
    ("yaz/marc7.xml", 1, 0, ""),
    ("yaz/marc8.xml", 1, 0, ""),
    ("yaz/marc9.xml", 1, 0, ""),
    ("yaz/marc10.xml", 1, 0, ""),
    ("yaz/marc11.xml", 1, 0, ""),
    (
        "koha-misc4dev/koha_sample_biblios.xml",
        436,
        0,
        "one DanMARC record with raw 0x1F in controlfields",
    ),
];

/// Files that are not ISO 2709 or MARCXML: `read` must refuse them clearly.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("marc-record-perl/alphatag.lif", "MicroLIF"),
    ("marc-record-perl/lineendings-0a.lif", "MicroLIF"),
    ("marc-record-perl/lineendings-0d.lif", "MicroLIF"),
    ("marc-record-perl/lineendings-0d0a.lif", "MicroLIF"),
    ("marc-record-perl/sample1.lif", "MicroLIF"),
    ("marc-record-perl/sample100.lif", "MicroLIF"),
    ("marc-record-perl/sample20.lif", "MicroLIF"),
    ("pymarc/batch.json", "JSON"),
    ("pymarc/one.json", "JSON"),
    ("pymarc/test.json", "JSON"),
];

/// Not MARC at all (licences, charset labels, SQL, the MARC-8 text pair).
fn ignored(rel: &str) -> bool {
    rel.ends_with("LICENSE")
        || rel.ends_with(".chr")
        || rel.ends_with(".sql")
        || rel.ends_with(".txt")
}

fn all_files() -> Vec<String> {
    let dir = common::data_dir();
    let mut out = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(&dir).expect("under data dir");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_file_is_accounted_for() {
    for rel in all_files() {
        let known = EXPECTED.iter().any(|e| e.0 == rel)
            || UNSUPPORTED.iter().any(|u| u.0 == rel)
            || ignored(&rel);
        assert!(known, "{rel} is new: add it to EXPECTED or UNSUPPORTED");
    }
}

#[test]
fn record_counts_per_file() {
    let mut failures = Vec::new();
    for &(rel, good, bad, why) in EXPECTED {
        let (records, errors) = common::read_all(rel);
        if (records.len(), errors.len()) != (good, bad) {
            failures.push(format!(
                "{rel} ({why}): expected {good} read / {bad} rejected, got {} / {}: {:?}",
                records.len(),
                errors.len(),
                errors.iter().map(ToString::to_string).collect::<Vec<_>>()
            ));
        }
        // Numbers are 1-based, strictly increasing, and cover good and bad.
        let mut numbers: Vec<usize> = records
            .iter()
            .map(|r| r.number)
            .chain(errors.iter().map(|e| e.number))
            .collect();
        numbers.sort_unstable();
        let want: Vec<usize> = (1..=good + bad).collect();
        if numbers != want {
            failures.push(format!("{rel}: record numbers {numbers:?}"));
        }
        for e in &errors {
            if e.reason.trim().is_empty() {
                failures.push(format!("{rel}: empty reason for record {}", e.number));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn errors(rel: &str) -> Vec<(usize, usize, String)> {
    common::read_all(rel)
        .1
        .into_iter()
        .map(|e| (e.number, e.offset, e.reason))
        .collect()
}

#[test]
fn rejection_reasons_name_the_record_and_the_problem() {
    let e = errors("pymarc/bad_records.mrc");
    let summary: Vec<(usize, usize)> = e.iter().map(|(n, o, _)| (*n, *o)).collect();
    assert_eq!(summary, vec![(4, 381), (5, 509), (7, 764), (9, 917)]);
    assert!(
        e[0].2
            .contains("13 bytes long, which is not a multiple of 12"),
        "{}",
        e[0].2
    );
    assert!(e[2].2.contains("no fields"), "{}", e[2].2);
    assert_eq!(
        e[3].2,
        "the record is truncated: leader length 00127 but the file ends after 100 bytes"
    );

    let e = errors("marc-record-perl/badldr.usmarc");
    assert_eq!((e[0].0, e[0].1), (7, 1717));
    assert!(e[0].2.contains("trailing data"), "{}", e[0].2);

    let e = errors("pymarc/bad_indicator.dat");
    assert_eq!(
        e[0].2,
        "directory entry 1 has tag \"0 2\", which is not 3 letters or digits"
    );

    let e = errors("pymarc/bad_tag.xml");
    assert_eq!(e[0].0, 1);
    assert!(e[0].2.contains("tag \"42\""), "{}", e[0].2);

    let e = errors("yaz/marc4.xml");
    assert_eq!(e[0].2, "the record has no fields");

    // Display form used in import reports.
    let (_, errs) = common::read_all("pymarc/bad_records.mrc");
    assert_eq!(
        errs[3].to_string(),
        "record 9 (byte 917): the record is truncated: leader length 00127 but the file ends after 100 bytes"
    );
}

#[test]
fn repairs_are_reported_as_warnings() {
    let warned = |rel: &str, n: usize| -> Vec<String> {
        common::read_all(rel)
            .0
            .into_iter()
            .find(|r| r.number == n)
            .unwrap_or_else(|| panic!("{rel}: record {n} missing"))
            .warnings
    };
    let w = warned("marc-record-perl/baddir.usmarc", 1);
    assert_eq!(
        w,
        vec!["the directory ends with byte 0x1F instead of a field terminator"]
    );
    let w = warned("marc-record-perl/badind.usmarc", 1);
    assert!(w[0].contains("indicator 1 '-'"), "{w:?}");
    let w = warned("pymarc/bad_records.mrc", 2);
    assert!(w[0].contains("base address \"99937\" is wrong"), "{w:?}");
    let w = warned("yaz/marc4.marc", 1);
    assert!(
        w[0].starts_with("skipped 5 byte(s) of junk before the leader"),
        "{w:?}"
    );
    let w = warned("pymarc/bad_subfield_code.dat", 1);
    assert!(w.iter().any(|x| x.contains("subfield code 'á'")), "{w:?}");
    assert!(
        w.iter()
            .any(|x| x.starts_with("field 245 (directory entry 12) does not end")),
        "{w:?}"
    );
    assert!(warned("marc-record-perl/camel.usmarc", 1).is_empty());
}

#[test]
fn unsupported_formats_are_refused_clearly() {
    for &(rel, word) in UNSUPPORTED {
        let data = common::bytes(rel);
        assert_eq!(Format::detect(&data), Format::Unknown, "{rel}");
        let err = pustaka_marc::read(&data).expect_err(rel);
        let msg = err.to_string();
        assert!(msg.starts_with("unsupported format"), "{rel}: {msg}");
        assert!(msg.contains(word), "{rel}: {msg}");
    }
}

#[test]
fn format_detection_matches_extensions() {
    for &(rel, ..) in EXPECTED {
        let data = common::bytes(rel);
        let want = if rel.ends_with(".xml") {
            Format::MarcXml
        } else {
            Format::Iso2709
        };
        assert_eq!(Format::detect(&data), want, "{rel}");
    }
}

#[test]
fn every_good_record_of_the_clean_files_gives_a_bib() {
    for rel in [
        "lc-booksall-2016/lc_booksall2016_first1000.mrc",
        "lc-booksall-2016/lc_booksall2016_lang_ind.mrc",
        "koha-misc4dev/koha_sample_biblios.xml",
        "pymarc/marc.dat",
        "marc-record-perl/camel.usmarc",
        "yaz/marccol1.u8.marc",
        "yaz/marccol5.u8.marc",
    ] {
        let (records, _) = common::read_all(rel);
        for r in &records {
            let bib = Bib::from_record(r).unwrap_or_else(|e| panic!("{rel} #{}: {e}", r.number));
            assert!(!bib.title.is_empty());
            assert!(
                !bib.title.ends_with(" /") && !bib.title.ends_with(" :"),
                "{}",
                bib.title
            );
        }
    }
    // UNIMARC has no 245.
    let (records, _) = common::read_all("pymarc/testunimarc.dat");
    assert_eq!(
        Bib::from_record(&records[0]).expect_err("no 245"),
        "the record has no title (no 245 field)"
    );
}
