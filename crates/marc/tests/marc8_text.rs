//! pymarc's test_marc8.txt and test_utf8.txt are the same 1,515 lines of
//! catalogue text in MARC-8 and in UTF-8 (NFC). Almost all of it is Arabic
//! (ESC ( 3), Hebrew (ESC ( 2) or CJK (ESC $ 1), sets this crate does not
//! decode; only 58 lines are plain Latin. So:
//!
//! * a line that designates no unsupported set must decode exactly to its
//!   UTF-8 twin;
//! * a line that does must carry the "not supported" note, and every run of
//!   text between its U+FFFD characters (the Latin parts: numbers,
//!   punctuation, transliterations) must appear in the UTF-8 twin.

mod common;

use pustaka_marc::marc8;

fn lines(rel: &str) -> Vec<Vec<u8>> {
    common::bytes(rel)
        .split(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// Does this MARC-8 line designate Arabic, Hebrew, Cyrillic, Greek or EACC?
fn uses_unsupported_set(line: &[u8]) -> bool {
    line.windows(3).any(|w| match w {
        [0x1B, b'$', _] => true,
        [0x1B, b'(' | b',' | b')' | b'-', f] => b"234NQS".contains(f),
        _ => false,
    })
}

#[test]
fn marc8_lines_match_their_utf8_twins() {
    let m8 = lines("pymarc/test_marc8.txt");
    let u8 = lines("pymarc/test_utf8.txt");
    assert_eq!(m8.len(), u8.len());
    assert_eq!(m8.len(), 1516, "1,515 lines and a final newline");

    let (mut exact, mut partial) = (0, 0);
    for (n, (m, u)) in m8.iter().zip(&u8).enumerate() {
        let want = String::from_utf8(u.clone()).expect("test_utf8.txt is UTF-8");
        let got = marc8::decode(m);
        if uses_unsupported_set(m) {
            partial += 1;
            assert!(
                got.notes.iter().any(|x| x.ends_with("is not supported")),
                "line {}: {:?}",
                n + 1,
                got.notes
            );
            for piece in got.text.split('\u{FFFD}') {
                let piece = piece.trim();
                assert!(
                    piece.is_empty() || want.contains(piece),
                    "line {}: {piece:?} not in {want:?}",
                    n + 1
                );
            }
        } else {
            exact += 1;
            assert_eq!(got.text, want, "line {}", n + 1);
            assert!(got.notes.is_empty(), "line {}: {:?}", n + 1, got.notes);
        }
    }
    // 58 Latin lines + the empty string after the final newline.
    assert_eq!(exact, 59);
    assert_eq!(partial, 1457);
}
