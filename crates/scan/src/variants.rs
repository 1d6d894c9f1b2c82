//! The forms a picture is decoded in, cheapest and most often useful
//! first (the order measured in `../shared/notes/qr-scanning.md`).

use image::GrayImage;
use image::imageops::{self, FilterType};
use rxing::{BarcodeFormat, DecodeHints};

use crate::{Code, Format, Panicked, contained, payload_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// rqrr on the picture as taken (its own running-average threshold).
    Plain,
    /// Black where a pixel is darker than its neighbourhood's mean.
    LocalMean,
    /// A quarter turn: rqrr thresholds along rows and misses some angles.
    QuarterTurn,
    /// One global threshold chosen by Otsu's method.
    Otsu,
    /// Twice the size, for small or distant codes.
    Double,
    /// Light modules on dark ground.
    Inverted,
    /// Half the size, for codes that fill a large picture.
    Half,
    /// rxing's QR reader (ZXing's hybrid binarizer), trying harder.
    Rxing,
}

impl Variant {
    pub const ALL: &'static [Variant] = &[
        Variant::Plain,
        Variant::LocalMean,
        Variant::QuarterTurn,
        Variant::Otsu,
        Variant::Double,
        Variant::Inverted,
        Variant::Half,
        Variant::Rxing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::LocalMean => "local-mean",
            Variant::QuarterTurn => "quarter-turn",
            Variant::Otsu => "otsu",
            Variant::Double => "double",
            Variant::Inverted => "inverted",
            Variant::Half => "half",
            Variant::Rxing => "rxing",
        }
    }

    /// The codes this form of the picture gives; `None` when the form does
    /// not apply to a picture of this size.
    pub(crate) fn decode(self, p: &GrayImage) -> Option<Result<Vec<Code>, Panicked>> {
        let (w, h) = p.dimensions();
        Some(match self {
            Variant::Plain => rqrr_gray(p),
            Variant::LocalMean => rqrr_bits(&local_mean(p)),
            Variant::QuarterTurn => rqrr_gray(&imageops::rotate90(p)),
            Variant::Otsu => {
                let t = otsu(p);
                rqrr_bits_by(p, |v| v <= t)
            }
            Variant::Double => {
                if w.max(h) > 700 {
                    return None;
                }
                rqrr_gray(&imageops::resize(p, w * 2, h * 2, FilterType::Triangle))
            }
            Variant::Inverted => {
                let mut q = p.clone();
                imageops::invert(&mut q);
                rqrr_gray(&q)
            }
            Variant::Half => {
                if w.min(h) < 300 {
                    return None;
                }
                rqrr_gray(&imageops::resize(p, w / 2, h / 2, FilterType::Triangle))
            }
            Variant::Rxing => contained(|| rxing_read(p, BarcodeFormat::QR_CODE)).map(|t| {
                t.map(|text| Code {
                    format: Format::Qr,
                    text,
                })
                .into_iter()
                .collect()
            }),
        })
    }
}

/// Every grid rqrr finds in a prepared image, decoded (rqrr's buffer type
/// cannot be named outside it, hence a macro rather than a function).
macro_rules! grids_to_codes {
    ($img:expr) => {{
        let mut codes: Vec<Code> = Vec::new();
        for grid in $img.detect_grids() {
            let mut bytes = Vec::new();
            if grid.decode_to(&mut bytes).is_ok() {
                let code = Code {
                    format: Format::Qr,
                    text: payload_text(&bytes),
                };
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        codes
    }};
}

fn rqrr_gray(p: &GrayImage) -> Result<Vec<Code>, Panicked> {
    contained(|| {
        let (w, h) = (p.width() as usize, p.height() as usize);
        let raw = p.as_raw();
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| raw[y * w + x]);
        grids_to_codes!(img)
    })
}

/// `p` already black (0) and white (255).
fn rqrr_bits(p: &GrayImage) -> Result<Vec<Code>, Panicked> {
    rqrr_bits_by(p, |v| v < 128)
}

fn rqrr_bits_by(p: &GrayImage, black: impl Fn(u8) -> bool) -> Result<Vec<Code>, Panicked> {
    contained(|| {
        let (w, h) = (p.width() as usize, p.height() as usize);
        let raw = p.as_raw();
        let mut img = rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| black(raw[y * w + x]));
        grids_to_codes!(img)
    })
}

/// rxing's reader for one format on the luma pixels; its text is decoded
/// in the code's own character set (ECI, or ZXing's guess).
pub(crate) fn rxing_read(p: &GrayImage, format: BarcodeFormat) -> Option<String> {
    let mut hints = DecodeHints {
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    rxing::helpers::detect_in_luma_slice_with_hints(
        p.as_raw(),
        p.width(),
        p.height(),
        Some(format),
        &mut hints,
    )
    .ok()
    .map(|r| r.getText().to_string())
}

/// Black (0) where a pixel is darker than the mean of the square around it
/// (side about an eighth of the picture) by a small margin; from a summed
/// area table, so linear in the pixel count.
pub(crate) fn local_mean(p: &GrayImage) -> GrayImage {
    let (w, h) = (p.width() as usize, p.height() as usize);
    let raw = p.as_raw();
    let mut sums = vec![0u64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0u64;
        for x in 0..w {
            row += u64::from(raw[y * w + x]);
            sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
        }
    }
    let r = (w.max(h) / 16).max(4);
    let mut out = GrayImage::new(p.width(), p.height());
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let area = ((y1 - y0) * (x1 - x0)) as u64;
            let sum = sums[y1 * (w + 1) + x1] + sums[y0 * (w + 1) + x0]
                - sums[y0 * (w + 1) + x1]
                - sums[y1 * (w + 1) + x0];
            // darker than 95 % of the local mean
            let dark = u64::from(raw[y * w + x]) * 100 * area < sum * 95;
            out.put_pixel(
                x as u32,
                y as u32,
                image::Luma([if dark { 0 } else { 255 }]),
            );
        }
    }
    out
}

/// Otsu's threshold: the gray level that best splits the histogram in two.
pub(crate) fn otsu(p: &GrayImage) -> u8 {
    let mut hist = [0u64; 256];
    for v in p.as_raw() {
        hist[usize::from(*v)] += 1;
    }
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, n)| i as f64 * *n as f64)
        .sum();
    let (mut weight_b, mut sum_b, mut best, mut best_t) = (0u64, 0f64, -1f64, 0u8);
    for (t, n) in hist.iter().enumerate() {
        weight_b += n;
        if weight_b == 0 {
            continue;
        }
        let weight_f = total - weight_b;
        if weight_f == 0 {
            break;
        }
        sum_b += t as f64 * *n as f64;
        let mean_b = sum_b / weight_b as f64;
        let mean_f = (sum_all - sum_b) / weight_f as f64;
        let between = weight_b as f64 * weight_f as f64 * (mean_b - mean_f).powi(2);
        if between > best {
            best = between;
            best_t = t as u8;
        }
    }
    best_t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_two_levels() {
        let mut p = GrayImage::new(10, 10);
        for (i, px) in p.pixels_mut().enumerate() {
            px.0[0] = if i % 2 == 0 { 40 } else { 200 };
        }
        let t = otsu(&p);
        assert!((40..200).contains(&t), "threshold {t}");
    }

    #[test]
    fn local_mean_finds_dark_on_light() {
        let mut p = GrayImage::from_pixel(40, 40, image::Luma([200]));
        p.put_pixel(20, 20, image::Luma([60]));
        let b = local_mean(&p);
        assert_eq!(b.get_pixel(20, 20).0[0], 0);
        assert_eq!(b.get_pixel(5, 5).0[0], 255);
    }
}
