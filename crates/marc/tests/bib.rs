//! Bib extraction on real records.

mod common;

use std::collections::BTreeMap;

use pustaka_marc::{Bib, BibFormat, Item, Link};

fn bibs(rel: &str) -> Vec<(usize, Bib)> {
    let (records, _) = common::read_all(rel);
    records
        .iter()
        .map(|r| {
            let b = Bib::from_record(r).unwrap_or_else(|e| panic!("{rel} #{}: {e}", r.number));
            (r.number, b)
        })
        .collect()
}

fn bib(rel: &str, number: usize) -> Bib {
    bibs(rel)
        .into_iter()
        .find(|(n, _)| *n == number)
        .unwrap_or_else(|| panic!("{rel}: no record {number}"))
        .1
}

fn formats(all: &[(usize, Bib)]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for (_, b) in all {
        *m.entry(b.format.code()).or_insert(0) += 1;
    }
    m
}

const IND: &str = "lc-booksall-2016/lc_booksall2016_lang_ind.mrc";

#[test]
fn indonesian_lc_records() {
    let all = bibs(IND);
    assert_eq!(all.len(), 2716);
    // The file is every record with 008/35-37 = "ind".
    assert!(
        all.iter()
            .all(|(_, b)| b.language.as_deref() == Some("ind"))
    );
    assert!(all.iter().all(|(_, b)| b.year.is_some()));
    assert!(all.iter().all(|(_, b)| b.invalid_isbns.is_empty()));
    assert_eq!(
        formats(&all),
        BTreeMap::from([("book", 2715), ("ebook", 1)])
    );

    let b = bib(IND, 2);
    assert_eq!(
        b.title,
        "Pengetahuan lingkungan dan sosial budaya daerah Nusa Tenggara Timur : muatan lokal Kupang"
    );
    assert_eq!(
        b.responsibility.as_deref(),
        Some("Djowa Maga, Maria H. Klau")
    );
    assert_eq!(
        (b.control_number.as_deref(), b.control_source.as_deref()),
        (Some("00271630"), Some("DLC"))
    );
    assert_eq!(b.year, Some(1998));

    let b = bib(IND, 418);
    assert_eq!(
        b.title,
        "Hoho famadaya hasi dalam konteks upacara kematian si'ulu di Desa Baw\u{14d}mataluo, Kecamatan Teluk Dalam, Nias : studi deskriptif struktur pertunjukkan, musik, dan teks"
    );
    assert_eq!(b.author.as_deref(), Some("Mana\u{14d}, Dasar"));
    assert_eq!(b.year, Some(1999));

    let b = bib(IND, 2438);
    assert_eq!(b.title, "Baron Sak\u{e8}ndher");
    assert_eq!(
        b.responsibility.as_deref(),
        Some("anggitanipoen Ngab\u{e8}hi Joedasara")
    );

    // The one electronic resource: 245 $h [electronic resource].
    let b = bib(IND, 915);
    assert_eq!(b.format, BibFormat::Ebook);
    assert_eq!(
        b.title,
        "Rencana pengelolaan Taman Nasional Betung Kerihun, Kalimantan Barat, 2000-2024"
    );
    assert_eq!(
        b.subjects,
        vec![
            "Taman Nasional Bentuang Karimun (Indonesia)",
            "National parks and reserves -- Indonesia -- Kalimantan Barat"
        ]
    );

    let b = bib(IND, 2716);
    assert_eq!(
        b.title,
        "Reramputan pelajaran basa Sasak : GBPP KML Provinsi Nusa Tenggara Barat 1994, untuk kelas 1 sekolah lanjutan tingkat pertama"
    );
    assert_eq!(
        b.responsibility.as_deref(),
        Some("oleh H. Lalu Muhammad Azhar")
    );
}

#[test]
fn lc_print_records_with_a_digitised_copy_stay_books() {
    // 176 of the first 1000 LC records are print books (008/23 blank or
    // microform) that carry a 007 "cr" for the digitised copy they link to.
    let (records, _) = common::read_all("lc-booksall-2016/lc_booksall2016_first1000.mrc");
    assert_eq!(records.len(), 1000);
    let with_cr: Vec<_> = records
        .iter()
        .filter(|r| r.controls("007").any(|f| f.starts_with("cr")))
        .collect();
    assert_eq!(with_cr.len(), 176);
    for r in &with_cr {
        let b = Bib::from_record(r).expect("bib");
        assert_eq!(b.format, BibFormat::Book, "#{}", r.number);
        assert!(!b.links.is_empty(), "#{}", r.number);
    }
    let all = bibs("lc-booksall-2016/lc_booksall2016_first1000.mrc");
    assert_eq!(formats(&all), BTreeMap::from([("book", 1000)]));
}

#[test]
fn koha_sample_catalogue() {
    let rel = "koha-misc4dev/koha_sample_biblios.xml";
    let all = bibs(rel);
    assert_eq!(all.len(), 436);
    assert_eq!(
        formats(&all),
        BTreeMap::from([("book", 365), ("music", 30), ("serial", 22), ("video", 19)])
    );
    let b = bib(rel, 1);
    assert_eq!(
        b.title,
        "E Street shuffle : the glory days of Bruce Springsteen & the E Street Band"
    );
    assert_eq!(b.author.as_deref(), Some("Heylin, Clinton"));
    assert_eq!(b.isbns, vec!["9780670026623"]);
    assert_eq!(b.call_number.as_deref(), Some("782.42166092"));
    assert_eq!(
        b.subjects,
        vec![
            "Springsteen, Bruce",
            "E Street Band",
            "Rock musicians -- United States -- Biography"
        ]
    );
    // Koha keeps its copies in the items table (items.sql), not in 952:
    // the only holdings field in the MARCXML is one British Library 852.
    let with_items: Vec<&Bib> = all
        .iter()
        .map(|(_, b)| b)
        .filter(|b| !b.items.is_empty())
        .collect();
    assert_eq!(with_items.len(), 1);
    assert_eq!(
        with_items[0].items,
        vec![Item {
            barcode: None,
            branch: Some("HMNTS".into()),
            holding_branch: None,
            location: None,
            call_number: Some("YK.2011.b.6476".into()),
            item_type: None,
            not_for_loan: false,
            lost: false,
            source_tag: "852".into(),
        }]
    );
    // One real ISBN with a wrong check digit (978-92-5-405760-6).
    let bad: Vec<&Vec<String>> = all
        .iter()
        .map(|(_, b)| &b.invalid_isbns)
        .filter(|v| !v.is_empty())
        .collect();
    assert_eq!(bad, vec![&vec!["9789254057606".to_string()]]);
}

#[test]
fn marc_record_perl_and_pymarc_samples() {
    let b = bib("marc-record-perl/camel.usmarc", 1);
    assert_eq!(b.title, "ActivePerl with ASP and ADO");
    assert_eq!(b.responsibility.as_deref(), Some("Tobias Martinsson"));
    assert_eq!(b.author.as_deref(), Some("Martinsson, Tobias"));
    assert_eq!(b.isbns, vec!["9780471383147"]); // from "0471383147 (paper/cd-rom : alk. paper)"
    assert_eq!(b.call_number.as_deref(), Some("005.133")); // 082 "005.13/3"
    assert_eq!(b.year, Some(2000));
    assert_eq!(b.language.as_deref(), Some("eng"));
    assert_eq!(
        b.subjects,
        vec![
            "Active server pages",
            "ActiveX",
            "Perl (Computer program language)"
        ]
    );

    let b = bib("marc-record-perl/baddir.usmarc", 1);
    assert_eq!(b.title, "Green Eggs and Ham");
    assert_eq!(b.author.as_deref(), Some("Seuss, Dr."));
    assert_eq!(b.isbns, vec!["9780394800165"]);
    assert_eq!(b.items.len(), 1);
    let i = &b.items[0];
    assert_eq!(
        (
            i.barcode.as_deref(),
            i.branch.as_deref(),
            i.call_number.as_deref()
        ),
        (Some("2200001741"), Some("CT"), Some("E SEU"))
    );
    assert_eq!(b.call_number.as_deref(), Some("E SEU"));

    // 949 (alphatag.dat): $a542 $bM917 $ljuv
    let b = bib("pymarc/alphatag.dat", 1);
    assert_eq!(b.items.len(), 1);
    assert_eq!(b.items[0].source_tag, "949");
    assert_eq!(b.items[0].call_number.as_deref(), Some("542 M917"));
    assert_eq!(b.items[0].location.as_deref(), Some("juv"));
    assert_eq!(b.author.as_deref(), Some("Mullin, Virginia L."));

    let b = bib("pymarc/multi_isbn.dat", 1);
    assert_eq!(
        b.isbns,
        vec!["9780914378280", "9780914378297", "9780914378266"]
    );

    let b = bib("pymarc/marc.dat", 17);
    assert_eq!(
        b.links,
        vec![Link {
            url: "http://www.loc.gov/catdir/toc/ecip047/2003016400.html".into(),
            label: Some("Table of contents".into()),
        }]
    );

    let b = bib("marc-record-perl/title_proper.usmarc", 4);
    assert_eq!(b.title, "Physical review. B, Condensed matter"); // $a $n $p
    assert_eq!(b.format, BibFormat::Serial);

    let b = bib("pymarc/bad_subfield_code.dat", 1);
    assert_eq!(b.title, "ActivePerl with ASP and ADO");

    let b = bib("pymarc/batch.xml", 1);
    assert_eq!(b.format, BibFormat::Music);
    assert_eq!(b.title, "The Great Ray Charles");

    let b = bib("pymarc/regression45.dat", 1);
    assert_eq!(b.format, BibFormat::Other); // leader/06 k: photographs
    assert_eq!(b.language.as_deref(), Some("rus"));

    let b = bib("yaz/marc5.marc", 1);
    assert_eq!(
        b.title,
        "\u{395}\u{3bb}\u{3bb}\u{3b7}\u{3bd}\u{3b9}\u{3ba}\u{3cc}\u{3bd} \u{3ba}\u{3c1}\u{3c5}\u{3c0}\u{3c4}\u{3bf}\u{3b3}\u{3c1}\u{3b1}\u{3c6}\u{3b9}\u{3ba}\u{3cc}\u{3bd} \u{3bb}\u{3b5}\u{3be}\u{3b9}\u{3ba}\u{3cc}\u{3bd}"
    );
}
