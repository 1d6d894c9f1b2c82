//! Catalogue results as the server's JSON routes send them and the app shows them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BranchAvailability {
    pub branch: String,
    pub available: u32,
    pub total: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TitleSummary {
    pub id: String,
    pub title: String,
    pub author: String,
    pub year: Option<i32>,
    pub language: String,
    pub item_type: String,
    /// The physical or digital form when it is not the item type
    /// (`braille`, `large_print`, `audiobook`, `ebook`…).
    #[serde(default)]
    pub format: Option<String>,
    pub availability: Vec<BranchAvailability>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CopyInfo {
    pub barcode: String,
    pub branch: String,
    pub shelf: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TitleDetails {
    #[serde(flatten)]
    pub summary: TitleSummary,
    pub subjects: Vec<String>,
    pub isbn: Option<String>,
    pub collection: Option<String>,
    pub formats: Vec<String>,
    pub copies: Vec<CopyInfo>,
    pub holds: u32,
    /// Statement of responsibility ("by …; translated by …").
    #[serde(default)]
    pub responsibility: Option<String>,
    #[serde(default)]
    pub call_number: Option<String>,
    /// Where the title can be read or heard online (e-books, e-journals).
    #[serde(default)]
    pub links: Vec<OnlineLink>,
    /// "Borrowed together": titles that at least the library's minimum
    /// number of distinct patrons borrowed along with this one (none below
    /// it, so no one's reading can be inferred); most first.
    #[serde(default)]
    pub borrowed_together: Vec<TitleSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct OnlineLink {
    pub url: String,
    pub label: Option<String>,
}

/// A search's answer: the hits and, when the query found nothing, the same
/// query spelled with words the catalogue knows ("did you mean").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct SearchResults {
    pub hits: Vec<TitleSummary>,
    #[serde(default)]
    pub suggestion: Option<String>,
}
