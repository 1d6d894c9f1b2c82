//! The FAQ assistant's retrieval, on the device, with no network and no
//! model: the library's questions and answers in the patron's language are
//! tokenised (lower case, diacritics folded, stop words dropped), stemmed
//! (Indonesian affixes, English suffixes) and ranked by BM25, a question's
//! own words and its other phrasings weighing more than its answer's.
//!
//! Each hit carries a **coverage**: the share of the query's information
//! (the inverse document frequency of its words, a word the library never
//! uses counting as the rarest) found in the entry. A hit is *confident*
//! when it covers at least [`CONFIDENT_COVERAGE`] of the query; otherwise
//! the app offers to ask a librarian.
//!
//! Pure: text in, ranked ids out. Builds for `wasm32-unknown-unknown`.

use std::collections::{BTreeMap, BTreeSet};

pub use pustaka_domain::Lang;

/// Share of the query's information an entry must cover to be shown as
/// the answer rather than as "maybe one of these".
pub const CONFIDENT_COVERAGE: f64 = 0.5;

/// Longest query considered (characters); the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 500;

/// Weight of the question and its other phrasings against the answer.
const QUESTION_WEIGHT: u32 = 3;
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// One question and answer in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub question: String,
    pub answer: String,
    /// Other ways patrons ask the same thing.
    pub also: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f64,
    /// Share (0..=1) of the query's information the entry covers.
    pub coverage: f64,
}

impl Hit {
    pub fn confident(&self) -> bool {
        self.coverage >= CONFIDENT_COVERAGE
    }
}

struct Doc {
    id: String,
    /// Weighted term frequencies (question words count [`QUESTION_WEIGHT`] times).
    tf: BTreeMap<String, u32>,
    len: u32,
}

/// The searchable form of a set of entries in one language.
pub struct Index {
    lang: Lang,
    docs: Vec<Doc>,
    df: BTreeMap<String, u32>,
    avg_len: f64,
}

impl Index {
    pub fn build(entries: &[Entry], lang: Lang) -> Index {
        let mut docs = Vec::with_capacity(entries.len());
        let mut df: BTreeMap<String, u32> = BTreeMap::new();
        for e in entries {
            let mut tf: BTreeMap<String, u32> = BTreeMap::new();
            let mut len = 0;
            let asked = std::iter::once(&e.question).chain(e.also.iter());
            for text in asked {
                for t in terms(text, lang) {
                    *tf.entry(t).or_default() += QUESTION_WEIGHT;
                    len += QUESTION_WEIGHT;
                }
            }
            for t in terms(&e.answer, lang) {
                *tf.entry(t).or_default() += 1;
                len += 1;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1;
            }
            docs.push(Doc {
                id: e.id.clone(),
                tf,
                len,
            });
        }
        let total: u64 = docs.iter().map(|d| u64::from(d.len)).sum();
        let avg_len = if docs.is_empty() {
            1.0
        } else {
            (total as f64 / docs.len() as f64).max(1.0)
        };
        Index {
            lang,
            docs,
            df,
            avg_len,
        }
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    fn idf(&self, term: &str) -> f64 {
        let n = self.docs.len() as f64;
        let df = f64::from(self.df.get(term).copied().unwrap_or(0));
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// The best `limit` entries for `query`, best first (ties by id).
    /// Entries sharing no word with the query are never returned.
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        // Each word of the query once: its stems are alternatives.
        let words = query_words(&query, self.lang);
        if words.is_empty() || self.docs.is_empty() {
            return vec![];
        }
        let info: Vec<f64> = words
            .iter()
            .map(|alts| alts.iter().map(|t| self.idf(t)).fold(0.0, f64::max))
            .collect();
        let total_info: f64 = info.iter().sum();
        let mut hits: Vec<Hit> = self
            .docs
            .iter()
            .filter_map(|d| {
                let mut score = 0.0;
                let mut covered = 0.0;
                for (alts, word_info) in words.iter().zip(&info) {
                    let best = alts
                        .iter()
                        .filter_map(|t| d.tf.get(t).map(|tf| (t, *tf)))
                        .map(|(t, tf)| {
                            let tf = f64::from(tf);
                            let norm = K1 * (1.0 - B + B * f64::from(d.len) / self.avg_len);
                            self.idf(t) * tf * (K1 + 1.0) / (tf + norm)
                        })
                        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
                    if let Some(s) = best {
                        score += s;
                        covered += word_info;
                    }
                }
                (score > 0.0).then(|| Hit {
                    id: d.id.clone(),
                    score,
                    coverage: if total_info > 0.0 {
                        covered / total_info
                    } else {
                        0.0
                    },
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        hits
    }
}

/// The query's words, each as its set of candidate stems, stop words and
/// repeats dropped.
fn query_words(text: &str, lang: Lang) -> Vec<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    words(text)
        .filter(|w| !is_stop(w, lang))
        .filter(|w| seen.insert(w.clone()))
        .map(|w| stems(&w, lang).into_iter().collect())
        .collect()
}

/// Every stem of every non-stop word of `text` (a word with two readings
/// gives both).
pub fn terms(text: &str, lang: Lang) -> Vec<String> {
    words(text)
        .filter(|w| !is_stop(w, lang))
        .flat_map(|w| stems(&w, lang))
        .collect()
}

/// Lower-cased words with diacritics folded; digits kept (a fine of
/// "1000", "24 jam").
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().flat_map(char::to_lowercase).map(fold).collect())
}

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        c => c,
    }
}

const STOP_ID: &[&str] = &[
    "ada",
    "adalah",
    "agar",
    "akan",
    "aku",
    "anda",
    "apa",
    "apakah",
    "atau",
    "bagaimana",
    "bagaimanakah",
    "bahwa",
    "bapak",
    "belum",
    "berapa",
    "biar",
    "bila",
    "bisa",
    "bisakah",
    "boleh",
    "bolehkah",
    "buat",
    "bu",
    "cara",
    "dan",
    "dapat",
    "dari",
    "dengan",
    "di",
    "dia",
    "dimana",
    "gimana",
    "hal",
    "harus",
    "ibu",
    "ini",
    "itu",
    "jadi",
    "jika",
    "juga",
    "kak",
    "kalau",
    "kami",
    "kamu",
    "kapan",
    "ke",
    "kita",
    "mana",
    "mau",
    "mohon",
    "nya",
    "oleh",
    "pada",
    "pak",
    "para",
    "perlu",
    "saja",
    "saya",
    "sebuah",
    "sudah",
    "tanya",
    "tidak",
    "tolong",
    "untuk",
    "yang",
    "ya",
];

const STOP_EN: &[&str] = &[
    "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "by", "can", "could", "did",
    "do", "does", "for", "from", "get", "have", "how", "i", "if", "in", "is", "it", "me", "much",
    "my", "of", "on", "or", "please", "should", "so", "the", "there", "this", "to", "want", "we",
    "what", "when", "where", "which", "who", "will", "with", "would", "you", "your",
];

fn is_stop(w: &str, lang: Lang) -> bool {
    let list = match lang {
        Lang::Id => STOP_ID,
        Lang::En => STOP_EN,
    };
    list.contains(&w)
}

/// The stems of one word: usually one; two or three when an Indonesian
/// prefix hides the root's first letter (`mengambil` → `ambil`, but
/// `mengembalikan` → `kembali`).
pub fn stems(word: &str, lang: Lang) -> Vec<String> {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return vec![word.to_string()];
    }
    match lang {
        Lang::Id => stem_id(word),
        Lang::En => vec![stem_en(word)],
    }
}

fn stem_en(w: &str) -> String {
    let w = w.strip_suffix("'s").unwrap_or(w);
    let n = w.chars().count();
    if n <= 3 {
        return w.to_string();
    }
    for (suffix, repl) in [("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")] {
        if let Some(root) = w.strip_suffix(suffix)
            && root.chars().count() >= 3
            && !(suffix == "s" && root.ends_with('s'))
            // `-es` only where English adds it (`classes`), not `fines`.
            && (suffix != "es" || ["s", "x", "z", "ch", "sh"].iter().any(|e| root.ends_with(e)))
        {
            return format!("{root}{repl}");
        }
    }
    w.to_string()
}

/// Indonesian: particles and possessives off the end, then a derivational
/// suffix, then up to two prefixes (`memperpanjang` → `panjang`).
fn stem_id(w: &str) -> Vec<String> {
    let mut root = w.to_string();
    let mut had_an = false;
    for suffixes in [
        &["lah", "kah", "tah", "pun"][..],
        &["nya", "ku", "mu"][..],
        &["kan", "an"][..],
    ] {
        for s in suffixes {
            if let Some(r) = root.strip_suffix(s)
                && r.chars().count() >= 4
            {
                had_an = *s == "an";
                root = r.to_string();
                break;
            }
        }
    }
    let mut out = BTreeSet::new();
    for first in strip_prefix_id(&root, had_an) {
        // A second prefix only after a first (`memper-`, `diper-`, `keter-`).
        if first != root && ["per", "ber", "ter"].iter().any(|p| first.starts_with(p)) {
            out.extend(strip_prefix_id(&first, false));
        } else {
            out.insert(first);
        }
    }
    out.into_iter().collect()
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// One prefix off, with the root's first letter restored where the prefix
/// swallowed it; the word itself when it has no prefix.
fn strip_prefix_id(w: &str, had_an: bool) -> Vec<String> {
    let keep = |r: &str| r.chars().count() >= 3;
    let vowel_after = |r: &str| r.chars().next().is_some_and(is_vowel);
    // Nasal prefixes: (prefix, letters the root may have started with
    // when a vowel follows).
    for (prefix, lost) in [
        ("meny", &["s"][..]),
        ("peny", &["s"][..]),
        ("meng", &["k", ""][..]),
        ("peng", &["k", ""][..]),
        ("mem", &["p", "m"][..]),
        ("pem", &["p", "m"][..]),
        ("men", &["t", "n"][..]),
        ("pen", &["t", "n"][..]),
    ] {
        if let Some(r) = w.strip_prefix(prefix)
            && keep(r)
        {
            if vowel_after(r) {
                return lost.iter().map(|l| format!("{l}{r}")).collect();
            }
            if prefix.starts_with("meny") || prefix.starts_with("peny") {
                continue;
            }
            return vec![r.to_string()];
        }
    }
    for prefix in ["ber", "per", "ter", "me", "pe", "be", "di", "ke", "se"] {
        if let Some(r) = w.strip_prefix(prefix)
            && keep(r)
            // `ke-`/`se-` only as the `ke-…-an` circumfix (`keanggotaan`),
            // not in roots (`kembali`, `sewa`).
            && (!matches!(prefix, "ke" | "se") || had_an)
            // `me`/`pe` before a consonant other than l, r, w, y is a
            // nasal prefix already handled (or the root itself: `merah`).
            && (!matches!(prefix, "me" | "pe" | "be")
                || r.starts_with(['l', 'r', 'w', 'y']))
        {
            return vec![r.to_string()];
        }
    }
    vec![w.to_string()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, q: &str, a: &str, also: &[&str]) -> Entry {
        Entry {
            id: id.into(),
            question: q.into(),
            answer: a.into(),
            also: also.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn indonesian_affixes_come_off() {
        let s = |w: &str| stems(w, Lang::Id);
        assert_eq!(s("peminjaman"), ["minjam", "pinjam"]);
        assert!(s("meminjam").contains(&"pinjam".to_string()));
        assert!(s("pinjam").contains(&"pinjam".to_string()));
        assert!(s("mengembalikan").contains(&"kembali".to_string()));
        assert!(s("pengembalian").contains(&"kembali".to_string()));
        assert!(s("mengambil").contains(&"ambil".to_string()));
        assert_eq!(s("pendaftaran"), ["daftar"]);
        assert_eq!(s("mendaftar"), ["daftar"]);
        assert!(s("memperpanjang").contains(&"panjang".to_string()));
        assert!(s("perpanjangan").contains(&"panjang".to_string()));
        assert_eq!(s("dendanya"), ["denda"]);
        assert_eq!(s("bukunya"), ["buku"]);
        assert_eq!(s("keanggotaan"), ["anggota"]);
        assert_eq!(s("kembali"), ["kembali"]);
        assert!(s("keterlambatan").contains(&"lambat".to_string()));
        assert_eq!(s("perpustakaan"), ["pustaka"]);
        assert_eq!(s("menyewa"), ["sewa"]);
        assert_eq!(s("24"), ["24"]);
    }

    #[test]
    fn english_suffixes_come_off() {
        assert_eq!(stem_en("renewing"), "renew");
        assert_eq!(stem_en("renewed"), "renew");
        assert_eq!(stem_en("libraries"), "library");
        assert_eq!(stem_en("books"), "book");
        assert_eq!(stem_en("class"), "class");
        assert_eq!(stem_en("fee"), "fee");
        assert_eq!(stem_en("fines"), "fine");
        assert_eq!(stem_en("classes"), "class");
    }

    fn corpus_id() -> Vec<Entry> {
        vec![
            e(
                "denda",
                "Berapa denda keterlambatan?",
                "Denda Rp500 per buku per hari.",
                &["denda telat mengembalikan buku"],
            ),
            e(
                "perpanjang",
                "Bagaimana cara memperpanjang pinjaman?",
                "Perpanjang di aplikasi atau di meja layanan.",
                &["perpanjangan buku"],
            ),
            e(
                "jam",
                "Kapan perpustakaan buka?",
                "Senin sampai Sabtu pukul 08.00-16.00.",
                &["jam buka", "jam layanan"],
            ),
            e(
                "braille",
                "Apakah ada koleksi Braille?",
                "Ada, di Pojok Braille lantai 1.",
                &["buku untuk tunanetra"],
            ),
        ]
    }

    #[test]
    fn indonesian_questions_find_their_answers() {
        let idx = Index::build(&corpus_id(), Lang::Id);
        let top = |q: &str| idx.search(q, 3).into_iter().next();
        let h = top("dendanya berapa kalau telat?").unwrap();
        assert_eq!(h.id, "denda");
        assert!(h.confident(), "{h:?}");
        assert_eq!(top("saya mau perpanjang buku").unwrap().id, "perpanjang");
        assert_eq!(top("jam buka perpustakaan").unwrap().id, "jam");
        assert_eq!(top("buku tunanetra").unwrap().id, "braille");
    }

    #[test]
    fn an_unrelated_question_is_not_confident_and_stop_words_find_nothing() {
        let idx = Index::build(&corpus_id(), Lang::Id);
        assert!(idx.search("apakah saya bisa", 3).is_empty());
        assert!(idx.search("", 3).is_empty());
        assert!(idx.search("parkir motor di basement gedung", 3).is_empty());
        // One common word among unknown ones: shown, but not as the answer.
        let hits = idx.search("parkir motor dekat rak buku", 3);
        assert!(!hits.is_empty());
        assert!(hits.iter().all(|h| !h.confident()), "{hits:?}");
    }

    #[test]
    fn english_questions_find_their_answers() {
        let idx = Index::build(
            &[
                e(
                    "fines",
                    "How much is the late fine?",
                    "Rp500 per book per day.",
                    &["overdue fee"],
                ),
                e(
                    "renew",
                    "How do I renew a loan?",
                    "Renew in the app or at the desk.",
                    &["renewing books"],
                ),
            ],
            Lang::En,
        );
        let h = &idx.search("what are the fees for overdue books", 2)[0];
        assert_eq!(h.id, "fines");
        assert!(h.confident(), "{h:?}");
        assert_eq!(idx.search("renewed loans", 2)[0].id, "renew");
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_searched_without_panicking(q in ".{0,600}", a in ".{0,200}") {
            let idx = Index::build(&[e("x", &a, &a, &[&a])], Lang::Id);
            for h in idx.search(&q, 5) {
                proptest::prop_assert!(h.coverage >= 0.0 && h.coverage <= 1.0 + 1e-9);
                proptest::prop_assert!(h.score.is_finite());
            }
            let idx = Index::build(&[e("x", &a, &a, &[])], Lang::En);
            let _ = idx.search(&q, 5);
        }
    }
}
