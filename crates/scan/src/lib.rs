//! Reading codes from pictures: the shelf scanner behind `pustaka-scan`,
//! the app's camera and `cargo xtask bench scan`.
//!
//! QR codes go through rqrr first, as photographed on the shelf; when it
//! finds nothing the same pixels are retried in other forms (local-mean
//! threshold, a quarter turn, Otsu, scale, inverted) and last through
//! rxing's QR reader. Every decoder call runs under `catch_unwind`: rqrr
//! 0.11 panics inside `detect_grids` on some real photos, and a bad frame
//! must cost a frame, never the app. EAN-13 (the ISBN on a back cover) is
//! read by rxing's 1-D reader.
//!
//! Pure over pixels: no clock, no files except [`load`], so the app feeds
//! camera frames and the tests feed photos through the same [`Scanner`].

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

pub use image::GrayImage;
use image::imageops::{self, FilterType};
use serde::Serialize;

mod variants;

pub use variants::Variant;

/// Largest side a frame is decoded at; bigger pictures are downscaled
/// first (rqrr's grid search grows with the pixel count).
pub const MAX_SIDE: u32 = 1000;

/// Files larger than this many pixels are refused before decoding.
pub const MAX_PIXELS: u64 = 40_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a picture this scanner reads (PNG, JPEG, GIF, WebP): {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path} is too large: {width}×{height} pixels")]
    TooLarge {
        path: String,
        width: u32,
        height: u32,
    },
    #[error("a camera frame of {width}×{height} needs {needed} bytes, got {got}")]
    BadFrame {
        width: u32,
        height: u32,
        needed: usize,
        got: usize,
    },
}

/// The kind of code that was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Qr,
    Ean13,
}

impl Format {
    /// The wire name: `qr` or `ean13` (as in the JSON output).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Qr => "qr",
            Format::Ean13 => "ean13",
        }
    }
}

/// One code found in a picture.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Code {
    pub format: Format,
    pub text: String,
}

/// What a scan found and what it cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub codes: Vec<Code>,
    /// Decoder calls that panicked (and were contained).
    pub panics: u32,
    /// The form of the picture that gave the codes, if any did.
    pub found_by: Option<Variant>,
}

/// Opens a picture file as grayscale, refusing what is not a picture or
/// is too large to decode safely.
pub fn load(path: &Path) -> Result<GrayImage, ScanError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| ScanError::Read {
        path: shown.clone(),
        source,
    })?;
    decode_picture(&bytes).map_err(|e| match e {
        PictureError::Unreadable(reason) => ScanError::Unreadable {
            path: shown,
            reason,
        },
        PictureError::TooLarge(width, height) => ScanError::TooLarge {
            path: shown,
            width,
            height,
        },
    })
}

/// A picture's bytes (a photo taken or picked in the app) as grayscale.
pub fn decode(bytes: &[u8]) -> Result<GrayImage, ScanError> {
    decode_picture(bytes).map_err(|e| match e {
        PictureError::Unreadable(reason) => ScanError::Unreadable {
            path: "the picture".into(),
            reason,
        },
        PictureError::TooLarge(width, height) => ScanError::TooLarge {
            path: "the picture".into(),
            width,
            height,
        },
    })
}

enum PictureError {
    Unreadable(String),
    TooLarge(u32, u32),
}

fn decode_picture(bytes: &[u8]) -> Result<GrayImage, PictureError> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?;
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PictureError::TooLarge(width, height));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| PictureError::Unreadable(e.to_string()))?;
    Ok(picture.to_luma8())
}

/// The largest camera frame accepted (the app's page sends at most 1280 px
/// a side).
pub const MAX_FRAME_PIXELS: usize = 1280 * 1280;

/// A grayscale camera frame (one byte per pixel, row by row), as the app's
/// page sends it: the size must match the bytes and stay within
/// [`MAX_FRAME_PIXELS`].
pub fn from_gray(width: u32, height: u32, gray: Vec<u8>) -> Result<GrayImage, ScanError> {
    let needed = (width as usize).saturating_mul(height as usize);
    if needed > MAX_FRAME_PIXELS {
        return Err(ScanError::TooLarge {
            path: "the camera frame".into(),
            width,
            height,
        });
    }
    let got = gray.len();
    if needed == 0 || got != needed {
        return Err(ScanError::BadFrame {
            width,
            height,
            needed,
            got,
        });
    }
    GrayImage::from_raw(width, height, gray).ok_or(ScanError::BadFrame {
        width,
        height,
        needed,
        got,
    })
}

/// A camera frame as the webview hands it over (RGBA, row by row) in
/// grayscale.
pub fn from_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<GrayImage, ScanError> {
    let needed = (width as usize)
        .saturating_mul(height as usize)
        .saturating_mul(4);
    if rgba.len() != needed || width == 0 || height == 0 {
        return Err(ScanError::BadFrame {
            width,
            height,
            needed,
            got: rgba.len(),
        });
    }
    let gray = rgba
        .chunks_exact(4)
        .map(|p| {
            // ITU-R BT.601 luma, in integers.
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
        })
        .collect();
    GrayImage::from_raw(width, height, gray).ok_or(ScanError::BadFrame {
        width,
        height,
        needed,
        got: rgba.len(),
    })
}

/// What to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanner {
    /// Also read EAN-13 (ISBN) barcodes.
    pub ean13: bool,
    /// Try the other forms of the picture when the plain one gives nothing.
    pub retries: bool,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            ean13: true,
            retries: true,
        }
    }
}

impl Scanner {
    /// A still picture: every form until one gives a code. A picture that
    /// had to be downscaled is also read once at full size, where small
    /// codes beside a large one survive.
    pub fn scan(&self, original: &GrayImage) -> Outcome {
        let picture = fit(original);
        let mut out = Outcome::default();
        let forms: &[Variant] = if self.retries {
            Variant::ALL
        } else {
            &[Variant::Plain]
        };
        for &form in forms {
            if self.try_form(&picture, form, &mut out) {
                break;
            }
        }
        if picture.dimensions() != original.dimensions() {
            let found_by = out.found_by;
            self.try_form(original, Variant::Plain, &mut out);
            out.found_by = found_by.or(out.found_by);
        }
        if self.ean13 {
            self.read_ean13(&picture, &mut out);
        }
        out
    }

    /// A live camera frame: the plain form, then one other form chosen
    /// by the frame's number, so a second of frames tries them all while
    /// each frame stays cheap.
    pub fn scan_frame(&self, frame: &GrayImage, number: u64) -> Outcome {
        let frame = fit(frame);
        let mut out = Outcome::default();
        if !self.try_form(&frame, Variant::Plain, &mut out) && self.retries {
            let others = &Variant::ALL[1..];
            let pick = others[(number % others.len() as u64) as usize];
            self.try_form(&frame, pick, &mut out);
        }
        if self.ean13 && number.is_multiple_of(2) {
            self.read_ean13(&frame, &mut out);
        }
        out
    }

    fn try_form(&self, picture: &GrayImage, form: Variant, out: &mut Outcome) -> bool {
        let Some(result) = form.decode(picture) else {
            return false;
        };
        match result {
            Err(Panicked) => {
                out.panics += 1;
                false
            }
            Ok(codes) if codes.is_empty() => false,
            Ok(codes) => {
                for c in codes {
                    if !out.codes.contains(&c) {
                        out.codes.push(c);
                    }
                }
                out.found_by = Some(form);
                true
            }
        }
    }

    fn read_ean13(&self, picture: &GrayImage, out: &mut Outcome) {
        match contained(|| variants::rxing_read(picture, rxing::BarcodeFormat::EAN_13)) {
            Err(Panicked) => out.panics += 1,
            Ok(Some(text)) if is_ean13(&text) => {
                let code = Code {
                    format: Format::Ean13,
                    text,
                };
                if !out.codes.contains(&code) {
                    out.codes.push(code);
                }
            }
            Ok(_) => {}
        }
    }
}

/// Plain rqrr on the picture as given, for comparison in the benchmark.
pub fn rqrr_plain(picture: &GrayImage) -> Outcome {
    let mut out = Outcome::default();
    Scanner {
        ean13: false,
        retries: false,
    }
    .try_form(picture, Variant::Plain, &mut out);
    out
}

/// A decoder call that panicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

pub(crate) fn contained<T>(f: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| Panicked)
}

/// Downscales so the longest side is at most [`MAX_SIDE`].
fn fit(picture: &GrayImage) -> GrayImage {
    let (w, h) = picture.dimensions();
    let side = w.max(h);
    if side <= MAX_SIDE {
        return picture.clone();
    }
    let scale = f64::from(MAX_SIDE) / f64::from(side);
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    imageops::resize(picture, nw, nh, FilterType::Triangle)
}

/// Thirteen digits with a correct check digit.
pub fn is_ean13(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 13 || text.len() != 13 {
        return false;
    }
    let sum: u32 = digits[..12]
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    (10 - sum % 10) % 10 == digits[12]
}

/// A QR payload's bytes as text: UTF-8 when they are, else Shift_JIS when
/// they decode cleanly as double-byte text, else ISO-8859-1 (QR's default).
pub fn payload_text(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    if looks_shift_jis(bytes)
        && let Some(s) =
            encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return s.into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Every high byte is Shift_JIS (a half-width katakana 0xA1–0xDF, or a
/// lead 0x81–0x9F / 0xE0–0xEF with a valid trail byte), and there is some
/// evidence for it: a double-byte character or a run of three katakana
/// (ZXing's guess, simplified). Latin-1 text rarely passes: its accented
/// letters sit alone where Shift_JIS wants pairs.
fn looks_shift_jis(bytes: &[u8]) -> bool {
    let (mut i, mut pairs, mut run, mut longest) = (0, 0, 0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            run = 0;
            i += 1;
            continue;
        }
        if (0xA1..=0xDF).contains(&b) {
            run += 1;
            longest = longest.max(run);
            i += 1;
            continue;
        }
        run = 0;
        let lead = (0x81..=0x9F).contains(&b) || (0xE0..=0xEF).contains(&b);
        let trail = bytes
            .get(i + 1)
            .is_some_and(|t| (0x40..=0xFC).contains(t) && *t != 0x7F);
        if !(lead && trail) {
            return false;
        }
        pairs += 1;
        i += 2;
    }
    pairs > 0 || longest >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean13_check_digit() {
        assert!(is_ean13("9789794339657"));
        assert!(!is_ean13("9789794339658"));
        assert!(!is_ean13("978979433965"));
        assert!(!is_ean13("97897943396５7"));
    }

    #[test]
    fn payload_texts() {
        assert_eq!(payload_text(b"pustaka://title/t-1"), "pustaka://title/t-1");
        // 日本 in Shift_JIS
        assert_eq!(payload_text(&[0x93, 0xFA, 0x96, 0x7B]), "日本");
        // é in ISO-8859-1
        assert_eq!(payload_text(&[b'c', b'a', b'f', 0xE9]), "café");
        // ﾃﾞｻﾞｲﾝ: half-width katakana, one byte each
        assert_eq!(
            payload_text(&[0xC3, 0xDE, 0xBB, 0xDE, 0xB2, 0xDD, b'Q', b'R']),
            "ﾃﾞｻﾞｲﾝQR"
        );
        // two accented Latin-1 letters stay Latin-1
        assert_eq!(payload_text(&[b'p', 0xE2, b't', 0xE9]), "pâté");
    }

    #[test]
    fn frames_must_match_their_size() {
        assert!(from_rgba(2, 2, &[0; 16]).is_ok());
        assert!(matches!(
            from_rgba(2, 2, &[0; 15]),
            Err(ScanError::BadFrame { needed: 16, .. })
        ));
        assert!(from_rgba(0, 0, &[]).is_err());
    }

    #[test]
    fn gray_frames_must_match_their_size_and_stay_small() {
        assert!(from_gray(4, 2, vec![0; 8]).is_ok());
        assert!(matches!(
            from_gray(4, 2, vec![0; 7]),
            Err(ScanError::BadFrame {
                needed: 8,
                got: 7,
                ..
            })
        ));
        assert!(matches!(
            from_gray(0, 0, vec![]),
            Err(ScanError::BadFrame { .. })
        ));
        assert!(matches!(
            from_gray(5000, 5000, vec![]),
            Err(ScanError::TooLarge { .. })
        ));
    }

    /// An EAN-13 barcode drawn from its standard tables, 3 px per module.
    fn ean13_picture(digits: &str) -> GrayImage {
        const L: [&str; 10] = [
            "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
            "0110111", "0001011",
        ];
        const PARITY: [&str; 10] = [
            "LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG",
            "LGLGGL", "LGGLGL",
        ];
        let d: Vec<usize> = digits.bytes().map(|b| usize::from(b - b'0')).collect();
        let r = |n: usize| -> String {
            L[n].chars()
                .map(|c| if c == '0' { '1' } else { '0' })
                .collect()
        };
        let mut bars = String::from("101");
        for (i, p) in PARITY[d[0]].chars().enumerate() {
            let code = if p == 'L' {
                L[d[i + 1]].to_string()
            } else {
                r(d[i + 1]).chars().rev().collect()
            };
            bars.push_str(&code);
        }
        bars.push_str("01010");
        for &n in &d[7..] {
            bars.push_str(&r(n));
        }
        bars.push_str("101");
        let bars: Vec<bool> = bars.chars().map(|c| c == '1').collect();
        let (scale, quiet) = (3u32, 30u32);
        GrayImage::from_fn(bars.len() as u32 * scale + 2 * quiet, 120, |x, _| {
            let module = x.checked_sub(quiet).map(|v| (v / scale) as usize);
            match module.and_then(|m| bars.get(m)) {
                Some(true) => image::Luma([15]),
                _ => image::Luma([240]),
            }
        })
    }

    #[test]
    fn reads_the_isbn_on_a_back_cover() {
        let out = Scanner::default().scan(&ean13_picture("9789794339657"));
        assert_eq!(
            out.codes,
            vec![Code {
                format: Format::Ean13,
                text: "9789794339657".into()
            }]
        );
        let qr_only = Scanner {
            ean13: false,
            ..Scanner::default()
        };
        assert!(
            qr_only
                .scan(&ean13_picture("9789794339657"))
                .codes
                .is_empty()
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let Err(PictureError::Unreadable(_)) = decode_picture(b"not a picture at all") else {
            panic!("garbage decoded");
        };
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Noise of any size is never a code and never takes the scanner
        /// down, in stills and in live frames.
        #[test]
        fn noise_reads_nothing(w in 1u32..160, h in 1u32..160, seed in any::<u64>(), frame in any::<u64>()) {
            let mut state = seed | 1;
            let noise = GrayImage::from_fn(w, h, |_, _| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                image::Luma([(state >> 56) as u8])
            });
            let s = Scanner::default();
            prop_assert!(s.scan(&noise).codes.is_empty());
            prop_assert!(s.scan_frame(&noise, frame).codes.is_empty());
        }
    }
}
