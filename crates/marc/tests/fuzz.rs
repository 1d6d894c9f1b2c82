//! Property tests: random bytes and random damage to real records must never
//! make a reader or the MARC-8 decoder panic, and every iterator must end
//! (each item consumes input, so a file of n bytes yields at most n + 1).

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use pustaka_marc::{Bib, Iso2709Reader, MarcXmlReader, Record, RecordError, marc8};

/// Drain an iterator, failing if it yields more than `limit` items (which
/// would mean it does not end), and extract a Bib from every good record.
fn drain(it: impl Iterator<Item = Result<Record, RecordError>>, limit: usize) -> usize {
    let mut n = 0;
    for item in it {
        n += 1;
        assert!(n <= limit, "the iterator did not end after {limit} items");
        match item {
            Ok(r) => {
                let _ = Bib::from_record(&r);
                assert_eq!(r.leader.chars().count(), 24);
            }
            Err(e) => assert!(!e.reason.is_empty()),
        }
    }
    n
}

fn check_all(bytes: &[u8]) {
    let limit = bytes.len() + 1;
    drain(Iso2709Reader::new(bytes), limit);
    drain(MarcXmlReader::new(bytes), limit);
    if let Ok(r) = pustaka_marc::read(bytes) {
        drain(r, limit);
    }
    let _ = marc8::decode(bytes);
    let _ = marc8::looks_like_marc8(bytes);
    let _ = pustaka_marc::isbn13(&String::from_utf8_lossy(bytes));
}

fn iso_sample() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| {
        // A few real records with MARC-8, UTF-8, repairs and rejects.
        let mut v = common::bytes("pymarc/marc8.dat");
        v.extend(common::bytes("pymarc/bad_records.mrc"));
        v.extend(common::bytes("yaz/marc7.marc"));
        v.extend(common::bytes("yaz/marc1.marc"));
        v.extend(common::bytes("pymarc/diacritic.dat"));
        v
    })
}

fn xml_sample() -> &'static [u8] {
    static S: OnceLock<Vec<u8>> = OnceLock::new();
    S.get_or_init(|| common::bytes("pymarc/batch.xml"))
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(0x1D_u8),
        Just(0x1E),
        Just(0x1F),
        Just(0x1B),
        Just(b'<'),
        Just(b'>'),
        Just(b'&'),
        Just(b'"'),
        b'0'..=b'9',
        0xE0_u8..=0xFE,
        any::<u8>(),
    ]
}

/// Edits: (where, byte, what) with what 0 = replace, 1 = insert, 2 = delete.
fn edits() -> impl Strategy<Value = Vec<(Index, u8, u8)>> {
    prop::collection::vec((any::<Index>(), interesting_byte(), 0u8..3), 1..24)
}

fn mutate(base: &[u8], edits: &[(Index, u8, u8)], cut: Option<Index>) -> Vec<u8> {
    let mut v = base.to_vec();
    for (at, byte, what) in edits {
        if v.is_empty() {
            v.push(*byte);
            continue;
        }
        let i = at.index(v.len());
        match what {
            0 => v[i] = *byte,
            1 => v.insert(i, *byte),
            _ => {
                v.remove(i);
            }
        }
    }
    if let Some(c) = cut
        && !v.is_empty()
    {
        v.truncate(c.index(v.len()));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1500)) {
        check_all(&bytes);
    }

    #[test]
    fn random_structured_bytes_never_panic(bytes in prop::collection::vec(interesting_byte(), 0..1500)) {
        check_all(&bytes);
    }

    #[test]
    fn damaged_iso2709_never_panics(e in edits(), cut in proptest::option::of(any::<Index>())) {
        let v = mutate(iso_sample(), &e, cut);
        check_all(&v);
        // Damage stays local: every record is still accounted for, and a
        // handful of edits cannot lose more than a few records.
        let n = Iso2709Reader::new(&v).count();
        prop_assert!(n <= v.len() + 1);
    }

    #[test]
    fn damaged_marcxml_never_panics(e in edits(), cut in proptest::option::of(any::<Index>())) {
        let v = mutate(xml_sample(), &e, cut);
        check_all(&v);
    }

    #[test]
    fn leader_and_directory_digits_lie(
        len in 0usize..100_000,
        base in 0usize..100_000,
        entries in prop::collection::vec((0usize..10_000, 0usize..100_000), 0..6),
    ) {
        // A syntactically plausible record whose numbers are all random.
        let mut rec = format!("{len:05}nam a22{base:05} a 4500").into_bytes();
        for (l, s) in &entries {
            rec.extend_from_slice(format!("245{l:04}{s:05}").as_bytes());
        }
        rec.extend_from_slice(b"\x1e10\x1faTitle\x1e\x1d");
        check_all(&rec);
        check_all(&[rec.clone(), rec].concat());
    }
}

#[test]
fn pathological_inputs() {
    // Deep XML nesting, huge declared lengths, endless escapes.
    let deep = "<a>".repeat(5000);
    check_all(deep.as_bytes());
    check_all(format!("<collection>{}", "<record>".repeat(2000)).as_bytes());
    check_all(b"99999");
    check_all(&[0x1B; 3000]);
    check_all(&[0x1D; 3000]);
    check_all(&b"\x1b$1".repeat(1000));
    check_all(&[0xE1; 3000]);
}
