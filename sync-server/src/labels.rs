//! Printable QR label sheets for the shelves: A4, 3 × 6 labels, each a QR
//! code with the title, call number and branch under it, as SVG (one file
//! per page) and PDF (every page in one file). Pure: labels in, bytes out.
//!
//! The code carries a short link that opens the app at the title
//! (`pustaka://title/<id>`) or, given the library's web address, the https
//! form `<base>/pustaka/title/<id>`, which the app also opens. A copy's
//! label adds `?copy=<barcode>` so scanning it in the library can ask to
//! check that very copy out.

use qrcode::{Color, EcLevel, QrCode};

/// One label.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub payload: String,
    pub title: String,
    pub call_number: String,
    pub branch: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("cannot draw a QR code for `{0}`: {1}")]
    Qr(String, String),
    #[error("not in the catalogue: {0}")]
    Unknown(String),
    #[error("--base-url {0}: give the library's http(s) address")]
    BaseUrl(String),
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    #[error("the stored policy: {0}")]
    Policy(String),
}

/// The labels for `ids` (title ids, or copy barcodes when `copies`), read
/// from the catalogue; unknown ids are all reported and nothing is made.
pub fn from_catalogue(
    store: &dyn crate::storage::Storage,
    base_url: Option<&str>,
    copies: bool,
    ids: &[String],
) -> Result<Vec<Label>, LabelError> {
    if let Some(b) = base_url
        && !b.starts_with("https://")
        && !b.starts_with("http://")
    {
        return Err(LabelError::BaseUrl(b.to_string()));
    }
    let policy = match store.meta("policy")? {
        Some(text) => Some(
            pustaka_domain::Policy::from_toml(&text)
                .map_err(|e| LabelError::Policy(e.to_string()))?,
        ),
        None => None,
    };
    let branch_name = |id: &str| {
        policy
            .as_ref()
            .and_then(|p| p.branches.iter().find(|b| b.id == id))
            .map_or(id.to_string(), |b| b.name.clone())
    };
    let (mut out, mut unknown) = (Vec::new(), Vec::new());
    for id in ids {
        let (title_id, copy) = if copies {
            match store.copy(id)? {
                Some(c) => (c.title_id.clone(), Some(c)),
                None => {
                    unknown.push(id.clone());
                    continue;
                }
            }
        } else {
            (id.clone(), store.copies_of(id)?.into_iter().next())
        };
        let Some(title) = store.title(&title_id)? else {
            unknown.push(id.clone());
            continue;
        };
        out.push(Label {
            payload: payload(base_url, &title.id, copies.then_some(id.as_str())),
            title: title.title.clone(),
            call_number: title
                .call_number
                .clone()
                .or_else(|| copy.as_ref().map(|c| c.shelf.clone()))
                .unwrap_or_default(),
            branch: copy
                .as_ref()
                .map(|c| branch_name(&c.branch))
                .unwrap_or_default(),
        });
    }
    if !unknown.is_empty() {
        return Err(LabelError::Unknown(unknown.join(", ")));
    }
    Ok(out)
}

/// The link a title's (or a copy's) label carries.
pub fn payload(base: Option<&str>, title_id: &str, copy: Option<&str>) -> String {
    let mut s = match base {
        Some(b) => format!("{}/pustaka/title/{title_id}", b.trim_end_matches('/')),
        None => format!("pustaka://title/{title_id}"),
    };
    if let Some(c) = copy {
        s.push_str("?copy=");
        s.push_str(c);
    }
    s
}

// A4 in millimetres, 3 columns × 6 rows of 70 × 49.5 mm.
const PAGE_W: f64 = 210.0;
const PAGE_H: f64 = 297.0;
const COLS: usize = 3;
const ROWS: usize = 6;
pub const PER_PAGE: usize = COLS * ROWS;
const CELL_W: f64 = PAGE_W / COLS as f64;
const CELL_H: f64 = PAGE_H / ROWS as f64;
/// The code's side including its 4-module quiet zone.
const CODE_MM: f64 = 30.0;
const TEXT_PT: f64 = 7.0;
const PT_PER_MM: f64 = 72.0 / 25.4;

/// A placed label: its code's modules and its three lines.
struct Placed {
    x: f64,
    y: f64,
    modules: usize,
    dark: Vec<bool>,
    lines: [String; 3],
}

fn place(labels: &[Label]) -> Result<Vec<Vec<Placed>>, LabelError> {
    let mut pages = Vec::new();
    for chunk in labels.chunks(PER_PAGE) {
        let mut page = Vec::new();
        for (i, l) in chunk.iter().enumerate() {
            let code = QrCode::with_error_correction_level(l.payload.as_bytes(), EcLevel::M)
                .map_err(|e| LabelError::Qr(l.payload.clone(), e.to_string()))?;
            let (col, row) = ((i % COLS) as f64, (i / COLS) as f64);
            page.push(Placed {
                x: col * CELL_W,
                y: row * CELL_H,
                modules: code.width(),
                dark: code
                    .to_colors()
                    .into_iter()
                    .map(|c| c == Color::Dark)
                    .collect(),
                lines: [
                    clip(&l.title, 38),
                    clip(&l.call_number, 38),
                    clip(&l.branch, 38),
                ],
            });
        }
        pages.push(page);
    }
    Ok(pages)
}

fn clip(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Module size and the code's top-left corner inside its cell (mm).
fn code_box(p: &Placed) -> (f64, f64, f64) {
    let module = CODE_MM / (p.modules + 8) as f64;
    let left = p.x + (CELL_W - CODE_MM) / 2.0 + 4.0 * module;
    let top = p.y + 3.0 + 4.0 * module;
    (module, left, top)
}

/// Baselines of the three lines under the code (mm from the page top).
fn line_y(p: &Placed, i: usize) -> f64 {
    p.y + 3.0 + CODE_MM + 4.0 + i as f64 * (TEXT_PT * 1.3 / PT_PER_MM)
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One SVG document per page of 18 labels.
pub fn svg_pages(labels: &[Label]) -> Result<Vec<String>, LabelError> {
    let mut out = Vec::new();
    for page in place(labels)? {
        let mut s = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{PAGE_W}mm\" height=\"{PAGE_H}mm\" viewBox=\"0 0 {PAGE_W} {PAGE_H}\">\n<rect width=\"{PAGE_W}\" height=\"{PAGE_H}\" fill=\"#fff\"/>\n"
        );
        for p in &page {
            let (m, left, top) = code_box(p);
            s.push_str("<path fill=\"#000\" d=\"");
            for (i, dark) in p.dark.iter().enumerate() {
                if *dark {
                    let (cx, cy) = ((i % p.modules) as f64, (i / p.modules) as f64);
                    s.push_str(&format!(
                        "M{:.3} {:.3}h{m:.3}v{m:.3}h-{m:.3}z",
                        left + cx * m,
                        top + cy * m
                    ));
                }
            }
            s.push_str("\"/>\n");
            let size_mm = TEXT_PT / PT_PER_MM;
            for (i, line) in p.lines.iter().enumerate() {
                let weight = if i == 0 { " font-weight=\"bold\"" } else { "" };
                s.push_str(&format!(
                    "<text x=\"{:.2}\" y=\"{:.2}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"{size_mm:.2}\"{weight} text-anchor=\"middle\">{}</text>\n",
                    p.x + CELL_W / 2.0,
                    line_y(p, i),
                    xml(line)
                ));
            }
        }
        s.push_str("</svg>\n");
        out.push(s);
    }
    Ok(out)
}

/// Text for the PDF's standard Helvetica (WinAnsiEncoding): Latin-1 and
/// the few typographic marks it adds; anything else becomes `?`. Escaped
/// for a PDF string.
fn pdf_text(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for c in s.chars() {
        let b = match c {
            '…' => 0x85,
            '–' => 0x96,
            '—' => 0x97,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            c if (c as u32) < 0x80 && !c.is_control() => c as u8,
            c if (0xA0..=0xFF).contains(&(c as u32)) => c as u32 as u8,
            _ => b'?',
        };
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Helvetica's average glyph width, for centring without font metrics.
fn text_width_pt(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.5
}

/// Every page in one PDF 1.4 file, codes as vector rectangles, text in the
/// standard Helvetica (nothing embedded).
pub fn pdf(labels: &[Label]) -> Result<Vec<u8>, LabelError> {
    let pages = place(labels)?;
    let mm = |v: f64| v * PT_PER_MM;
    let (w, h) = (mm(PAGE_W), mm(PAGE_H));
    // Objects: 1 catalog, 2 pages, 3 font, 4 bold font, then per page its
    // page object and content stream.
    let mut objects: Vec<Vec<u8>> = vec![
        Vec::new(),
        Vec::new(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    ];
    let mut kids = Vec::new();
    for page in &pages {
        let mut c: Vec<u8> = Vec::new();
        c.extend_from_slice(b"0 g\n");
        for p in page {
            let (m, left, top) = code_box(p);
            for (i, dark) in p.dark.iter().enumerate() {
                if *dark {
                    let (cx, cy) = ((i % p.modules) as f64, (i / p.modules) as f64);
                    let x = mm(left + cx * m);
                    let y = h - mm(top + (cy + 1.0) * m);
                    c.extend_from_slice(
                        format!("{x:.2} {y:.2} {:.3} {:.3} re\n", mm(m), mm(m)).as_bytes(),
                    );
                }
            }
            c.extend_from_slice(b"f\n");
            for (i, line) in p.lines.iter().enumerate() {
                let font = if i == 0 { "/F2" } else { "/F1" };
                let x = mm(p.x + CELL_W / 2.0) - text_width_pt(line, TEXT_PT) / 2.0;
                let y = h - mm(line_y(p, i));
                c.extend_from_slice(
                    format!("BT {font} {TEXT_PT} Tf {x:.2} {y:.2} Td (").as_bytes(),
                );
                c.extend_from_slice(&pdf_text(line));
                c.extend_from_slice(b") Tj ET\n");
            }
        }
        let content_id = objects.len() + 2;
        let page_id = objects.len() + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w:.2} {h:.2}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", c.len()).into_bytes();
        stream.extend_from_slice(&c);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
        kids.push(format!("{page_id} 0 R"));
    }
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>".to_vec();
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        kids.len()
    )
    .into_bytes();

    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<Label> {
        (0..n)
            .map(|i| Label {
                payload: payload(None, &format!("t-{i}"), None),
                title: format!("Bumi Manusia (jilid {i})"),
                call_number: "899.221 TOE b".into(),
                branch: "Perpustakaan Pusat".into(),
            })
            .collect()
    }

    #[test]
    fn payloads_open_the_app() {
        assert_eq!(payload(None, "t-1", None), "pustaka://title/t-1");
        assert_eq!(
            payload(Some("https://perpus.example.id/"), "t-1", Some("C1")),
            "https://perpus.example.id/pustaka/title/t-1?copy=C1"
        );
    }

    #[test]
    fn eighteen_labels_a_page() {
        assert_eq!(svg_pages(&labels(18)).expect("svg").len(), 1);
        let pages = svg_pages(&labels(19)).expect("svg");
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[1].matches("<path").count(), 1);
        assert!(pages[0].contains("width=\"210mm\" height=\"297mm\""));
        assert!(pages[0].contains("Bumi Manusia (jilid 0)"));
    }

    #[test]
    fn pdf_structure_is_consistent() {
        let pdf = pdf(&labels(20)).expect("pdf");
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("/Count 2"));
        // startxref points at the xref table.
        let at: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .expect("startxref");
        assert!(pdf[at..].starts_with(b"xref"), "startxref is a byte offset");
        assert!(text.contains("(Bumi Manusia \\(jilid 0\\)) Tj"));
    }

    #[test]
    fn text_outside_latin1_is_replaced_not_dropped() {
        assert_eq!(pdf_text("Café (β)"), b"Caf\xe9 \\(?\\)".to_vec());
    }
}
