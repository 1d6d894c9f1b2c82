//! `pustaka-sync import-marc`: MARC 21 records (ISO 2709 or MARCXML) into
//! the catalogue.
//!
//! Decoding is `pustaka-marc`'s job; this module maps a decoded [`marc::Bib`]
//! onto the library: a title keyed by the record's control number (a
//! re-import updates, never duplicates), its ISBNs, and its copies with the
//! branch and shelf location mapped through a small [`ImportConfig`]. A bad
//! record is counted, reported with its number and reason, and skipped; it
//! never stops the import. The caller owns IO (reading files, the progress
//! bar); this module sees bytes and the storage.

use std::collections::BTreeMap;

use pustaka_domain::Policy;
use pustaka_marc as marc;
use serde::{Deserialize, Serialize};

use crate::storage::{CopyRow, CopyStatus, Storage, StoreError, TitleLink, TitleRow};

/// How the source system's codes map onto this library's policy.
///
/// ```toml
/// default_branch = "pusat"          # copies whose branch is not mapped
/// [branches]                        # source branch code → policy branch
/// CPL = "pusat"
/// [locations]                       # source shelving location → shelf text
/// GEN = "Koleksi Umum"
/// [formats]                         # record format → policy item type
/// serial = "magazine"
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    #[serde(default)]
    pub default_branch: Option<String>,
    #[serde(default)]
    pub branches: BTreeMap<String, String>,
    #[serde(default)]
    pub locations: BTreeMap<String, String>,
    #[serde(default)]
    pub formats: BTreeMap<String, String>,
}

impl ImportConfig {
    pub fn from_toml(text: &str) -> Result<ImportConfig, ImportError> {
        toml::from_str(text).map_err(|e| ImportError::Config(e.to_string()))
    }

    /// Every branch and item type the config names must exist in the policy.
    pub fn check(&self, policy: &Policy) -> Result<(), ImportError> {
        for b in self.default_branch.iter().chain(self.branches.values()) {
            if policy.branch(b).is_none() {
                return Err(ImportError::Config(format!(
                    "branch `{b}` is not in the library's policy"
                )));
            }
        }
        for t in self.formats.values() {
            if policy.item_type(t).is_none() {
                return Err(ImportError::Config(format!(
                    "item type `{t}` is not in the library's policy"
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("import config: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One record that was not imported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejection {
    pub file: String,
    /// 1-based position of the record in its file.
    pub record: usize,
    /// Byte offset of the record in its file.
    pub offset: usize,
    pub reason: String,
}

/// What an import did; printed as JSON at the end.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub files: usize,
    pub records_read: u64,
    pub imported: u64,
    pub updated: u64,
    pub rejected: u64,
    /// The first [`LISTED`] rejections; `rejected` counts them all.
    pub rejections: Vec<Rejection>,
    pub copies_added: u64,
    pub copies_updated: u64,
    pub copies_skipped: u64,
    /// Why copies were skipped (the first [`LISTED`]).
    pub copy_problems: Vec<String>,
    /// Records whose leader/09 lied about the encoding or that had bytes
    /// that could not be decoded (imported, with U+FFFD).
    pub encoding_notes: u64,
    /// Records repaired while reading (e.g. a wrong length in the leader).
    pub repaired: u64,
    /// Files that could not be read at all, with why.
    pub file_errors: Vec<String>,
    /// Titles in the catalogue after the import.
    pub titles_in_catalogue: u64,
    pub elapsed_ms: u64,
    pub records_per_sec: f64,
}

/// How many rejections and copy problems the summary lists one by one.
pub const LISTED: usize = 200;

/// Titles and copies are committed in batches of this many records.
const BATCH: usize = 5_000;

pub struct Importer<'a> {
    store: &'a mut dyn Storage,
    policy: &'a Policy,
    cfg: &'a ImportConfig,
    summary: Summary,
    in_batch: usize,
}

impl<'a> Importer<'a> {
    pub fn new(
        store: &'a mut dyn Storage,
        policy: &'a Policy,
        cfg: &'a ImportConfig,
    ) -> Result<Importer<'a>, ImportError> {
        cfg.check(policy)?;
        Ok(Importer {
            store,
            policy,
            cfg,
            summary: Summary::default(),
            in_batch: 0,
        })
    }

    /// Imports every record of one file's bytes. `progress` is called with
    /// the byte offset reached, now and then.
    pub fn import(
        &mut self,
        file: &str,
        bytes: &[u8],
        progress: &mut dyn FnMut(usize),
    ) -> Result<(), ImportError> {
        let records = match marc::read(bytes) {
            Ok(r) => r,
            Err(e) => {
                self.file_error(file, &e.to_string());
                return Ok(());
            }
        };
        self.summary.files += 1;
        for item in records {
            match item {
                Ok(rec) => {
                    if rec.number % 256 == 0 {
                        progress(rec.offset);
                    }
                    self.record(file, &rec)?;
                }
                Err(e) => {
                    self.summary.records_read += 1;
                    self.reject(file, e.number, e.offset, e.reason);
                }
            }
        }
        progress(bytes.len());
        self.flush()?;
        Ok(())
    }

    /// Commits what is pending and returns the summary.
    pub fn finish(mut self) -> Result<Summary, ImportError> {
        self.flush()?;
        self.summary.titles_in_catalogue = self.store.title_count()?;
        Ok(self.summary)
    }

    /// Notes a file that could not be read or is not MARC; the import goes on.
    pub fn file_error(&mut self, file: &str, error: &str) {
        self.summary.files += 1;
        self.summary.file_errors.push(format!("{file}: {error}"));
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if self.in_batch > 0 {
            self.store.commit()?;
            self.in_batch = 0;
        }
        Ok(())
    }

    fn reject(&mut self, file: &str, record: usize, offset: usize, reason: String) {
        self.summary.rejected += 1;
        if self.summary.rejections.len() < LISTED {
            self.summary.rejections.push(Rejection {
                file: file.to_string(),
                record,
                offset,
                reason,
            });
        }
    }

    fn copy_problem(&mut self, p: String) {
        self.summary.copies_skipped += 1;
        if self.summary.copy_problems.len() < LISTED {
            self.summary.copy_problems.push(p);
        }
    }

    fn record(&mut self, file: &str, rec: &marc::Record) -> Result<(), StoreError> {
        self.summary.records_read += 1;
        if rec.encoding_note.is_some() {
            self.summary.encoding_notes += 1;
        }
        if !rec.warnings.is_empty() {
            self.summary.repaired += 1;
        }
        let bib = match marc::Bib::from_record(rec) {
            Ok(b) => b,
            Err(reason) => {
                self.reject(file, rec.number, rec.offset, reason);
                return Ok(());
            }
        };
        let control = control_key(rec, &bib);
        if self.in_batch == 0 {
            self.store.begin()?;
        }
        self.in_batch += 1;
        let existing = self.store.title_id_by_control(&control)?;
        let id = match &existing {
            Some(id) => id.clone(),
            None => match self.new_id(&control)? {
                Some(id) => id,
                None => {
                    self.reject(
                        file,
                        rec.number,
                        rec.offset,
                        format!("no free title id for control number `{control}`"),
                    );
                    return Ok(());
                }
            },
        };
        let row = self.title_row(id, control, &bib);
        self.store.upsert_title(&row)?;
        if existing.is_some() {
            self.summary.updated += 1;
        } else {
            self.summary.imported += 1;
        }
        for item in &bib.items {
            self.copy(&row, rec.number, item)?;
        }
        if self.in_batch >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn title_row(&self, id: String, control: String, bib: &marc::Bib) -> TitleRow {
        let format = bib.format.code();
        let item_type = self
            .cfg
            .formats
            .get(format)
            .cloned()
            .or_else(|| self.policy.item_type(format).map(|_| format.to_string()))
            .unwrap_or_else(|| {
                self.policy
                    .item_types
                    .first()
                    .map_or_else(|| "book".to_string(), |t| t.id.clone())
            });
        let mut isbns = vec![];
        for i in &bib.isbns {
            isbns.push(i.clone());
            if let Some(ten) = marc::isbn10(i) {
                isbns.push(ten);
            }
        }
        TitleRow {
            id,
            title: bib.title.clone(),
            author: bib.author.clone().unwrap_or_default(),
            year: bib.year,
            language: bib.language.clone().unwrap_or_else(|| "und".into()),
            subjects: bib.subjects.join("; "),
            isbn: bib.isbns.first().cloned(),
            item_type,
            collection: None,
            responsibility: bib.responsibility.clone(),
            call_number: bib.call_number.clone(),
            format: Some(format.to_string()),
            links: bib
                .links
                .iter()
                .map(|l| TitleLink {
                    url: l.url.clone(),
                    label: l.label.clone(),
                })
                .collect(),
            marc_control: Some(control),
            isbns,
        }
    }

    /// A readable, URL-safe id from the control number, unique.
    fn new_id(&mut self, control: &str) -> Result<Option<String>, StoreError> {
        let number = control.rsplit_once(':').map_or(control, |(_, n)| n);
        let slug: String = number
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .chars()
            .take(40)
            .collect();
        let base = if slug.is_empty() {
            "marc".to_string()
        } else {
            slug
        };
        for n in 1..=100 {
            let id = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            if self.store.title(&id)?.is_none() {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    fn copy(
        &mut self,
        title: &TitleRow,
        record: usize,
        item: &marc::Item,
    ) -> Result<(), StoreError> {
        let Some(barcode) = item.barcode.clone().filter(|b| !b.trim().is_empty()) else {
            self.copy_problem(format!(
                "record {record}: an item in {} has no barcode",
                item.source_tag
            ));
            return Ok(());
        };
        let raw = item.branch.clone().or_else(|| item.holding_branch.clone());
        let branch = match raw.as_deref() {
            Some(b) if self.cfg.branches.contains_key(b) => self.cfg.branches.get(b).cloned(),
            Some(b) if self.policy.branch(b).is_some() => Some(b.to_string()),
            _ => self.cfg.default_branch.clone(),
        };
        let Some(branch) = branch else {
            self.copy_problem(format!(
                "record {record}: copy {barcode}: branch `{}` is not in the policy and not mapped in the import config",
                raw.unwrap_or_default()
            ));
            return Ok(());
        };
        let location = item
            .location
            .as_deref()
            .map(|l| self.cfg.locations.get(l).map_or(l, String::as_str));
        let call = item.call_number.as_deref().or(title.call_number.as_deref());
        let shelf = [location, call]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
        let old = self.store.copy(&barcode)?;
        // Circulation state belongs to the library, not to the record.
        let (status, hold_id) = old.as_ref().map_or((CopyStatus::Available, None), |c| {
            (c.status, c.hold_id.clone())
        });
        if old.is_some() {
            self.summary.copies_updated += 1;
        } else {
            self.summary.copies_added += 1;
        }
        self.store.upsert_copy(&CopyRow {
            barcode,
            title_id: title.id.clone(),
            branch,
            shelf,
            status,
            hold_id,
        })
    }
}

/// The key a re-import finds a record by: 003 and 001; else Koha's
/// biblionumber (999 $c); else the first ISBN; else a digest of the title,
/// author, year and format (the same record imported again still matches;
/// a corrected title in such a record becomes a new entry).
fn control_key(rec: &marc::Record, bib: &marc::Bib) -> String {
    let number = bib
        .control_number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(n) = number {
        return match bib.control_source.as_deref().map(str::trim) {
            Some(src) if !src.is_empty() => format!("{src}:{n}"),
            _ => n.to_string(),
        };
    }
    if let Some(c) = rec
        .data_field("999")
        .and_then(|f| f.subfield('c'))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        return format!("koha:{c}");
    }
    if let Some(i) = bib.isbns.first() {
        return format!("isbn:{i}");
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(
        format!(
            "{}\u{1f}{}\u{1f}{:?}\u{1f}{}",
            bib.title,
            bib.author.as_deref().unwrap_or_default(),
            bib.year,
            bib.format.code()
        )
        .as_bytes(),
    );
    format!("sha256:{}", hex::encode(&digest[..10]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;

    const POLICY: &str = crate::demo::DEMO_POLICY;

    fn record(control: &str, title: &str, items: &str) -> Vec<u8> {
        // A MARCXML record is the easiest to write by hand.
        format!(
            r#"<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>
<controlfield tag="001">{control}</controlfield>
<controlfield tag="008">200101s2019    io            000 0 ind d</controlfield>
<datafield tag="020" ind1=" " ind2=" "><subfield code="a">979-3062-79-7 (pbk.)</subfield></datafield>
<datafield tag="245" ind1="1" ind2="0"><subfield code="a">{title} /</subfield><subfield code="c">Andrea Hirata.</subfield></datafield>
{items}</record>"#
        )
        .into_bytes()
    }

    fn import(store: &mut SqliteStorage, cfg: &ImportConfig, bytes: &[u8]) -> Summary {
        let policy = Policy::from_toml(POLICY).unwrap();
        let mut imp = Importer::new(store, &policy, cfg).unwrap();
        imp.import("t.xml", bytes, &mut |_| {}).unwrap();
        imp.finish().unwrap()
    }

    #[test]
    fn reimport_updates_instead_of_duplicating_and_keeps_circulation_state() {
        let mut store = SqliteStorage::open_in_memory().unwrap();
        let cfg = ImportConfig::from_toml("[branches]\nCPL = \"barat\"\n").unwrap();
        let item = r#"<datafield tag="952" ind1=" " ind2=" "><subfield code="a">CPL</subfield><subfield code="c">GEN</subfield><subfield code="o">899.221 HIR l</subfield><subfield code="p">B900001</subfield></datafield>"#;
        let s = import(&mut store, &cfg, &record("ocm123", "Laskar pelangi", item));
        assert_eq!((s.imported, s.updated, s.copies_added), (1, 0, 1));
        let t = store.title("ocm123").unwrap().unwrap();
        assert_eq!(t.title, "Laskar pelangi");
        assert_eq!(t.isbns, vec!["9789793062792", "9793062797"]);
        assert_eq!(
            store.title_by_isbn("9793062797").unwrap().unwrap().id,
            "ocm123"
        );
        let c = store.copy("B900001").unwrap().unwrap();
        assert_eq!(
            (c.branch.as_str(), c.shelf.as_str()),
            ("barat", "GEN · 899.221 HIR l")
        );
        // The copy goes out; the record is corrected and imported again.
        store
            .upsert_copy(&CopyRow {
                status: CopyStatus::OnLoan,
                ..c
            })
            .unwrap();
        let s = import(&mut store, &cfg, &record("ocm123", "Laskar Pelangi", item));
        assert_eq!((s.imported, s.updated, s.copies_updated), (0, 1, 1));
        assert_eq!(store.title_count().unwrap(), 1);
        assert_eq!(
            store.title("ocm123").unwrap().unwrap().title,
            "Laskar Pelangi"
        );
        assert_eq!(
            store.copy("B900001").unwrap().unwrap().status,
            CopyStatus::OnLoan
        );
        let hits = store
            .search_titles("laskar", &Default::default(), 10)
            .unwrap();
        assert_eq!(hits.len(), 1);
    }

    #[test]
    fn unmapped_branches_and_missing_barcodes_skip_the_copy_not_the_title() {
        let mut store = SqliteStorage::open_in_memory().unwrap();
        let items = r#"<datafield tag="952" ind1=" " ind2=" "><subfield code="a">XYZ</subfield><subfield code="p">B1</subfield></datafield>
<datafield tag="952" ind1=" " ind2=" "><subfield code="a">pusat</subfield></datafield>
<datafield tag="952" ind1=" " ind2=" "><subfield code="a">utara</subfield><subfield code="p">B2</subfield></datafield>"#;
        let s = import(
            &mut store,
            &ImportConfig::default(),
            &record("1", "Ayat-ayat cinta", items),
        );
        assert_eq!((s.imported, s.copies_added, s.copies_skipped), (1, 1, 2));
        assert!(
            s.copy_problems[0].contains("`XYZ`"),
            "{:?}",
            s.copy_problems
        );
        assert!(
            s.copy_problems[1].contains("no barcode"),
            "{:?}",
            s.copy_problems
        );
        // With a default branch the unmapped copy lands there.
        let cfg = ImportConfig {
            default_branch: Some("pusat".into()),
            ..Default::default()
        };
        let s = import(&mut store, &cfg, &record("1", "Ayat-ayat cinta", items));
        assert_eq!((s.updated, s.copies_added, s.copies_updated), (1, 1, 1));
        assert_eq!(store.copy("B1").unwrap().unwrap().branch, "pusat");
    }

    #[test]
    fn config_naming_what_the_policy_lacks_is_refused() {
        let policy = Policy::from_toml(POLICY).unwrap();
        let cfg = ImportConfig::from_toml("[branches]\nCPL = \"nowhere\"\n").unwrap();
        assert!(
            cfg.check(&policy)
                .unwrap_err()
                .to_string()
                .contains("nowhere")
        );
        assert!(ImportConfig::from_toml("colour = 1").is_err());
    }

    #[test]
    fn a_record_without_a_title_is_reported_and_the_rest_imported() {
        let mut store = SqliteStorage::open_in_memory().unwrap();
        let bytes = br#"<collection xmlns="http://www.loc.gov/MARC21/slim">
<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">A</controlfield></record>
<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">B</controlfield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">Negeri 5 menara</subfield></datafield></record>
</collection>"#;
        let s = import(&mut store, &ImportConfig::default(), bytes);
        assert_eq!((s.records_read, s.imported, s.rejected), (2, 1, 1));
        assert_eq!(s.rejections[0].record, 1);
        assert!(!s.rejections[0].reason.is_empty());
    }
}
