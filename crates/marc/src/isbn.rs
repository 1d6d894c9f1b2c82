//! ISBN checking and conversion.

/// The ISBN digits at the start of a 020 $a-style string: "ISBN" prefixes,
/// hyphens and spaces are dropped and anything after them ("(pbk.)", ": $7.99")
/// is ignored. Returns uppercase digits/X, possibly of the wrong length.
pub(crate) fn candidate(s: &str) -> String {
    let mut t = s.trim();
    for p in ["ISBN-13", "ISBN-10", "ISBN13", "ISBN10", "ISBN", "isbn"] {
        if let Some(rest) = t.strip_prefix(p) {
            t = rest.trim_start_matches([':', ' ']);
            break;
        }
    }
    let mut out = String::new();
    for c in t.chars() {
        match c {
            '0'..='9' => out.push(c),
            'X' | 'x' => {
                out.push('X');
                break; // X is only ever the last character
            }
            '-' | ' ' | '\u{2010}' | '\u{2011}' | '\u{2013}' => {
                // A space after 10 or 13 digits ends the number ("0394800168 (pbk.)").
                if c == ' ' && (out.len() == 10 || out.len() == 13) {
                    break;
                }
            }
            _ => break,
        }
    }
    out
}

fn isbn10_check(first9: &[u8]) -> Option<char> {
    let sum: u32 = first9
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    match (11 - sum % 11) % 11 {
        10 => Some('X'),
        n => char::from_digit(n, 10),
    }
}

fn isbn13_check(first12: &[u8]) -> Option<char> {
    let sum: u32 = first12
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    char::from_digit((10 - sum % 10) % 10, 10)
}

fn valid10(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 10
        && b.get(..9).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(..9).and_then(isbn10_check).map(|ch| ch as u8) == b.get(9).copied()
}

fn valid13(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 13
        && b.iter().all(u8::is_ascii_digit)
        && (c.starts_with("978") || c.starts_with("979"))
        && b.get(..12).and_then(isbn13_check).map(|ch| ch as u8) == b.get(12).copied()
}

/// Normalise a valid ISBN-10 or ISBN-13 (hyphens, spaces and qualifiers such
/// as "(pbk.)" allowed) to its 13-digit form. `None` if the check digit is
/// wrong or it is not an ISBN.
///
/// ```
/// assert_eq!(pustaka_marc::isbn13("0-394-80016-8 (pbk.)").as_deref(), Some("9780394800165"));
/// assert_eq!(pustaka_marc::isbn13("9780253325525").as_deref(), Some("9780253325525"));
/// assert_eq!(pustaka_marc::isbn13("0394800169"), None);
/// ```
pub fn isbn13(s: &str) -> Option<String> {
    let c = candidate(s);
    if valid13(&c) {
        return Some(c);
    }
    if valid10(&c) {
        let mut t = String::from("978");
        t.push_str(c.get(..9)?);
        let check = isbn13_check(t.as_bytes())?;
        t.push(check);
        return Some(t);
    }
    None
}

/// The 10-digit form of a valid ISBN: a 978-prefixed ISBN-13 is converted,
/// a valid ISBN-10 is returned tidied. `None` for 979 ISBNs (they have no
/// 10-digit form) and invalid input.
///
/// ```
/// assert_eq!(pustaka_marc::isbn10("978-0-394-80016-5").as_deref(), Some("0394800168"));
/// assert_eq!(pustaka_marc::isbn10("9791034304257"), None);
/// ```
pub fn isbn10(s: &str) -> Option<String> {
    let c = candidate(s);
    if valid10(&c) {
        return Some(c);
    }
    if valid13(&c) && c.starts_with("978") {
        let mut t = c.get(3..12)?.to_string();
        let check = isbn10_check(t.as_bytes())?;
        t.push(check);
        return Some(t);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(
            isbn13("0471383147 (paper/cd-rom : alk. paper)").as_deref(),
            Some("9780471383147")
        );
        assert_eq!(isbn13("1-4000-4596-7").as_deref(), Some("9781400045969"));
        assert_eq!(isbn13("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("080442957x").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("ISBN 978-602-03-1234-5"), None); // bad check digit
        assert_eq!(
            isbn13("979-10-343-0425-7").as_deref(),
            Some("9791034304257")
        );
        assert_eq!(isbn10("9791034304257"), None);
        assert_eq!(isbn10("9780804429573").as_deref(), Some("080442957X"));
        assert_eq!(isbn13(""), None);
        assert_eq!(isbn13("12345"), None);
        assert_eq!(isbn13("X"), None);
        assert_eq!(isbn10("0394800168").as_deref(), Some("0394800168"));
    }

    #[test]
    fn round_trip_every_check_digit() {
        for n in 0..2000u32 {
            let first9 = format!("{:09}", n * 7919 % 1_000_000_000);
            let check = isbn10_check(first9.as_bytes()).expect("check");
            let ten = format!("{first9}{check}");
            let thirteen = isbn13(&ten).expect("valid");
            assert_eq!(isbn10(&thirteen).as_deref(), Some(ten.as_str()));
        }
    }
}
