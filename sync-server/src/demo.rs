//! `pustaka-sync demo`: a realistic demo library, seeded once into the data
//! directory and served from there (it persists across restarts).
//!
//! Perpustakaan Umum Kota Singkawang: three branches and a book van, 300
//! titles in Indonesian and English, 50 patrons with loans and holds in every
//! state, and two months of events. The history is made by running the real
//! engine with the clock set back, so every fact is one the rules allow.

use std::sync::Arc;

use chrono::{Days, NaiveDate, NaiveTime};
use pustaka_domain::Millis;

use crate::clock::{Clock, ManualClock, local_day};
use crate::engine::EngineError;
use crate::error::ApiError;
use crate::hub::{Hub, NewPatron};
use crate::librarian::{EventIn, NewCopy, NewTitle, add_title, upsert_event};
use crate::storage::{TitleLink, VanStopRow};

pub const DEMO_POLICY: &str = include_str!("../../assets/demo/policy.toml");
/// The demo library's questions and answers.
pub const DEMO_FAQ: &str = include_str!("../../assets/faq/demo-faq.toml");
const TITLES: &str = include_str!("../../assets/demo/titles.tsv");
/// Online-only titles: e-books and e-journals with their links (the OPDS feed).
const DIGITAL: &str = include_str!("../../assets/demo/digital.tsv");
/// Braille, large-print and audiobook editions (physical copies, lent like
/// books; the format comes from the catalogue record).
const ACCESSIBLE: &str = include_str!("../../assets/demo/accessible.tsv");
pub const DEMO_CARD: &str = "1001";
pub const DEMO_PIN: &str = "1234";
const DAY: Millis = 86_400_000;

const NAMES: &[&str] = &[
    "Siti Rahmawati",
    "Budi Santoso",
    "Dewi Lestari Putri",
    "Agus Setiawan",
    "Lim Mei Ling",
    "Yohanes Bong",
    "Nur Aisyah",
    "Rudi Hartono",
    "Fransiska Tjhin",
    "Ahmad Fauzi",
    "Maria Goreti",
    "Hendra Wijaya",
    "Rina Marlina",
    "Teguh Prasetyo",
    "Wulan Sari",
    "Joko Susilo",
    "Fitri Handayani",
    "Bambang Irawan",
    "Sri Wahyuni",
    "Andreas Chin",
    "Dian Permata",
    "Yusuf Hidayat",
    "Kartika Dewi",
    "Fajar Nugroho",
    "Lusiana Thjai",
    "Eko Purnomo",
    "Ratna Sari",
    "Dedi Kurniawan",
    "Melati Anggraini",
    "Imam Syafii",
    "Novita Tan",
    "Rahmat Hidayat",
    "Indah Permatasari",
    "Suryadi",
    "Veronika Lie",
    "Hasan Basri",
    "Putri Ayu",
    "Rizky Ramadhan",
    "Nabila Zahra",
    "Dimas Saputra",
    "Aulia Rahman",
    "Citra Kirana",
    "Galih Pratama",
    "Salsabila",
    "Kevin Wijaya",
    "Intan Nuraini",
    "Bayu Aji",
    "Anisa Fitri",
    "Ketut Sudarma",
    "Oktaviani Lim",
];

/// A small deterministic generator (xorshift), so every demo library is the
/// same; also drives the crash test's choices. The seed must not be zero.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

struct Title {
    id: String,
    item_type: String,
    copies: Vec<(String, String)>,
}

fn call_number(subjects: &str, lang: &str) -> &'static str {
    let s = subjects.to_lowercase();
    if s.contains("fiksi") || s.contains("novel") || s.contains("puisi") {
        "899.221"
    } else if s.contains("fiction") || s.contains("poetry") {
        "823"
    } else if s.contains("anak") || s.contains("children") {
        "398.2"
    } else if s.contains("sejarah") || s.contains("history") {
        "959.8"
    } else if s.contains("agama") || s.contains("islam") || s.contains("religion") {
        "297"
    } else if s.contains("masak") || s.contains("cooking") {
        "641.5"
    } else if s.contains("pertanian") || s.contains("agricult") {
        "630"
    } else if s.contains("kesehatan") || s.contains("health") {
        "613"
    } else if s.contains("komputer") || s.contains("program") || s.contains("computer") {
        "005.1"
    } else if s.contains("sains") || s.contains("science") {
        "500"
    } else if lang == "ind" {
        "300"
    } else {
        "001"
    }
}

fn parse_accessible() -> Vec<NewTitle> {
    ACCESSIBLE
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 9 {
                return None;
            }
            let mut copies = vec![];
            for part in f[8].split(',') {
                let (branch, count) = part.split_once(':')?;
                for _ in 0..count.trim().parse::<u32>().unwrap_or(0) {
                    copies.push(NewCopy {
                        barcode: format!("B{}{}", &f[0][1..], copies.len() + 1),
                        branch: branch.trim().to_string(),
                        shelf: format!("{} {}", f[6].to_uppercase(), &f[0][1..]),
                    });
                }
            }
            Some(NewTitle {
                id: f[0].into(),
                title: f[1].into(),
                author: f[2].into(),
                year: f[3].parse().ok(),
                language: f[4].into(),
                subjects: f[5].into(),
                isbn: None,
                item_type: "book".into(),
                collection: Some(f[7].into()),
                copies,
                format: Some(f[6].into()),
                links: vec![],
            })
        })
        .collect()
}

fn parse_titles() -> Vec<(NewTitle, Title)> {
    let mut out = vec![];
    for line in TITLES.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 9 {
            continue;
        }
        let author_code: String = f[2]
            .chars()
            .filter(|c| c.is_alphabetic())
            .take(3)
            .collect::<String>()
            .to_uppercase();
        let title_letter: String = f[1]
            .chars()
            .filter(|c| c.is_alphabetic())
            .take(1)
            .collect::<String>()
            .to_lowercase();
        let shelf = format!(
            "{} {} {}",
            call_number(f[5], f[4]),
            author_code,
            title_letter
        );
        let mut copies = vec![];
        let mut n = 0;
        for part in f[8].split(',') {
            let Some((branch, count)) = part.split_once(':') else {
                continue;
            };
            for _ in 0..count.trim().parse::<u32>().unwrap_or(0) {
                n += 1;
                copies.push((format!("B{}{}", &f[0][1..], n), branch.trim().to_string()));
            }
        }
        let nt = NewTitle {
            id: f[0].into(),
            title: f[1].into(),
            author: f[2].into(),
            year: f[3].parse().ok(),
            language: f[4].into(),
            subjects: f[5].into(),
            isbn: None,
            item_type: f[6].into(),
            collection: Some(f[7].into()),
            copies: copies
                .iter()
                .map(|(b, br)| NewCopy {
                    barcode: b.clone(),
                    branch: br.clone(),
                    shelf: shelf.clone(),
                })
                .collect(),
            format: None,
            links: vec![],
        };
        out.push((
            nt,
            Title {
                id: f[0].into(),
                item_type: f[6].into(),
                copies,
            },
        ));
    }
    out
}

fn parse_digital() -> Vec<NewTitle> {
    DIGITAL
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let [
                id,
                title,
                author,
                year,
                language,
                subjects,
                format,
                url,
                label,
            ] = f[..]
            else {
                return None;
            };
            Some(NewTitle {
                id: id.into(),
                title: title.into(),
                author: author.into(),
                year: year.parse().ok(),
                language: language.into(),
                subjects: subjects.into(),
                isbn: None,
                item_type: "digital".into(),
                collection: None,
                copies: vec![],
                format: Some(format.into()),
                links: vec![TitleLink {
                    url: url.into(),
                    label: Some(label.into()),
                }],
            })
        })
        .collect()
}

fn at(day: NaiveDate, hh: u32, mm: u32, offset_minutes: i32) -> Millis {
    let t = NaiveTime::from_hms_opt(hh, mm, 0).unwrap_or_default();
    day.and_time(t).and_utc().timestamp_millis() - i64::from(offset_minutes) * 60_000
}

/// Ignores refusals (the demo tries plausible actions; the rules decide).
fn soft<T>(r: Result<(T, Vec<String>), ApiError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok((v, _)) => Ok(Some(v)),
        Err(ApiError::Refused(_)) | Err(ApiError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Seeds the demo library into `hub` (once). `clock` must be the hub's clock;
/// it is moved back and forth through the last six weeks and left at `now`.
pub fn seed(hub: &mut Hub, clock: &ManualClock, now: Millis) -> Result<bool, ApiError> {
    if hub.store().meta("demo_seeded")?.is_some() {
        return Ok(false);
    }
    let offset = hub.policy().library.utc_offset_minutes;
    let today = local_day(now, offset);
    let day = |d: i64| now + d * DAY;
    clock.set(day(-45));

    let titles = parse_titles();
    for (nt, _) in &titles {
        add_title(hub, nt.clone())?;
    }
    for nt in parse_digital() {
        add_title(hub, nt)?;
    }
    for nt in parse_accessible() {
        add_title(hub, nt)?;
    }
    let titles: Vec<Title> = titles.into_iter().map(|(_, t)| t).collect();
    let lendable: Vec<&Title> = titles
        .iter()
        .filter(|t| t.item_type == "book" && !t.copies.is_empty())
        .collect();
    let single: Vec<&Title> = lendable
        .iter()
        .copied()
        .filter(|t| t.copies.len() == 1)
        .collect();

    for (i, name) in NAMES.iter().enumerate() {
        let card = format!("{}", 1001 + i);
        let patron_type = match i {
            0..=34 => "adult",
            35..=42 => "student",
            _ => "child",
        };
        let expires = if i == 48 {
            today - Days::new(10)
        } else {
            today + Days::new(365 + (i as u64 * 7) % 300)
        };
        let branches = ["pusat", "barat", "utara"];
        hub.add_patron(NewPatron {
            card: card.clone(),
            name: (*name).into(),
            pin: if i == 0 {
                DEMO_PIN.into()
            } else {
                format!("{}", 2000 + i)
            },
            patron_type: patron_type.into(),
            expires,
            home_branch: branches[i % 3].into(),
            email: Some(format!("anggota{card}@contoh.id")),
            status: if i == 49 {
                "restricted".into()
            } else {
                "active".into()
            },
        })?;
    }

    let demo = DEMO_CARD;
    let checkout = |hub: &mut Hub, card: &str, copy: &str| {
        soft(hub.with_engine(|c, fx| c.checkout(card, copy, fx)))
    };
    let renew = |hub: &mut Hub, card: &str, copy: &str| {
        soft(hub.with_engine(|c, fx| c.desk_renew(card, copy, fx)))
    };
    let hold = |hub: &mut Hub, card: &str, title: &str, branch: &str| {
        soft(hub.with_engine(|c, fx| c.desk_place_hold(card, title, branch, fx)))
    };
    let checkin = |hub: &mut Hub, copy: &str, branch: &str| {
        soft(hub.with_engine(|c, fx| c.checkin(copy, branch, fx)))
    };

    // A reading circle two months ago: five patrons who keep their loan
    // history read the first three books of Pramoedya's Buru quartet, so
    // their title pages show "often borrowed together" (it needs at least
    // `RECOMMEND_MIN_PATRONS` distinct patrons).
    let quartet: Vec<String> = ["T0001", "T0002", "T0003"]
        .iter()
        .filter_map(|id| titles.iter().find(|t| t.id == *id))
        .filter_map(|t| t.copies.first().map(|c| c.0.clone()))
        .collect();
    for (i, card) in ["1041", "1042", "1043", "1044", "1045"].iter().enumerate() {
        clock.set(day(-70 + 2 * i as i64));
        hub.with_engine(|c, fx| c.set_history(card, true, fx).map(|_| ()))?;
        for copy in &quartet {
            checkout(hub, card, copy)?;
        }
        clock.set(day(-69 + 2 * i as i64));
        for copy in &quartet {
            checkin(hub, copy, "pusat")?;
        }
    }

    // The demo patron, Siti: one loan in every state.
    let pick = |i: usize| {
        single
            .get(i % single.len().max(1))
            .map(|t| t.copies[0].0.clone())
            .unwrap_or_default()
    };
    let pick_title = |i: usize| {
        single
            .get(i % single.len().max(1))
            .map(|t| t.id.clone())
            .unwrap_or_default()
    };
    // Renewed to the limit: out 26 days ago, renewed 14 days ago and yesterday.
    clock.set(day(-26));
    checkout(hub, demo, &pick(0))?;
    clock.set(day(-14));
    renew(hub, demo, &pick(0))?;
    clock.set(day(-1));
    renew(hub, demo, &pick(0))?;
    // Overdue: out 20 days ago.
    clock.set(day(-20));
    checkout(hub, demo, &pick(1))?;
    // Due soon: out 12 days ago.
    clock.set(day(-12));
    checkout(hub, demo, &pick(2))?;
    // Blocked by a hold: out 10 days ago, another patron now waits for it.
    clock.set(day(-10));
    checkout(hub, demo, &pick(3))?;
    clock.set(day(-3));
    hold(hub, "1002", &pick_title(3), "pusat")?;
    // A fresh loan.
    clock.set(day(-2));
    checkout(hub, demo, &pick(4))?;

    // Siti's holds: one ready for pickup, one in transit, one queued as #2,
    // one suspended.
    clock.set(day(-9));
    checkout(hub, "1003", &pick(5))?;
    checkout(hub, "1004", &pick(6))?;
    checkout(hub, "1005", &pick(7))?;
    checkout(hub, "1006", &pick(8))?;
    clock.set(day(-8));
    hold(hub, demo, &pick_title(5), "pusat")?;
    hold(hub, demo, &pick_title(6), "pusat")?;
    hold(hub, "1007", &pick_title(7), "barat")?;
    hold(hub, demo, &pick_title(7), "pusat")?;
    if let Some(Some(h)) = hold(hub, demo, &pick_title(8), "utara")?.map(Some) {
        let until = today + Days::new(20);
        soft(hub.with_engine(|c, fx| c.desk_suspend_hold(demo, &h, until, fx)))?;
    }
    clock.set(day(-1));
    checkin(hub, &pick(5), "pusat")?; // ready at Siti's branch
    checkin(hub, &pick(6), "barat")?; // caught at another branch: in transit

    // Everyone else: 0-4 loans over the last weeks, some overdue, some holds.
    let mut rng = Rng(0x5eed_b00c);
    for i in 1..NAMES.len() {
        let card = format!("{}", 1001 + i);
        let n = if i == 47 { 3 } else { rng.below(5) };
        for k in 0..n {
            let back = if i == 47 {
                40
            } else {
                1 + rng.below(28) as i64
            };
            clock.set(day(-back));
            let t = lendable[rng.below(lendable.len() as u64) as usize];
            let copy = &t.copies[rng.below(t.copies.len() as u64) as usize].0;
            checkout(hub, &card, copy)?;
            if k == 0 && rng.below(4) == 0 {
                clock.set(day(-1));
                renew(hub, &card, copy)?;
            }
        }
        if rng.below(3) == 0 {
            clock.set(day(-(1 + rng.below(10) as i64)));
            let t = lendable[rng.below(lendable.len() as u64) as usize];
            hold(
                hub,
                &card,
                &t.id,
                ["pusat", "barat", "utara"][rng.below(3) as usize],
            )?;
        }
    }
    // A few returns, so loan history is not empty: the demo patron chose
    // to keep theirs (everyone else's returned loans become anonymous).
    hub.with_engine(|c, fx| c.set_history(demo, true, fx).map(|_| ()))?;
    clock.set(day(-4));
    checkin(hub, &pick(9), "pusat")?;
    for c in ["B00021", "B00331", "B00501"] {
        checkin(hub, c, "pusat")?;
    }

    // Two months of events, from today.
    clock.set(day(-7));
    seed_events(hub, today, offset)?;
    crate::librarian::upsert_faq(hub, crate::librarian::parse_faq_file(DEMO_FAQ)?)?;
    seed_survey(hub, today)?;
    // Registrations: a small storytelling session is full with a waiting list.
    clock.set(day(-2));
    for card in ["1044", "1045", "1046", demo] {
        soft(hub.with_engine(|c, fx| c.desk_register(card, "E-DONGENG-1", fx)))?;
    }
    soft(hub.with_engine(|c, fx| c.desk_register(demo, "E-SEMINAR-HAKKA", fx)))?;

    clock.set(now);
    soft(hub.with_engine(|c, fx| c.run_jobs(fx)))?;
    hub.with_engine(|c, _| {
        c.store.set_meta("demo_seeded", &today.to_string())?;
        Ok::<_, EngineError>(())
    })?;
    Ok(true)
}

/// A service survey, open for a month.
fn seed_survey(hub: &mut Hub, today: NaiveDate) -> Result<(), ApiError> {
    use crate::storage::SurveyQuestion;
    let q = |id: &str, kind: &str, t: (&str, &str), choices: (&[&str], &[&str])| SurveyQuestion {
        id: id.into(),
        kind: kind.into(),
        text_id: t.0.into(),
        text_en: t.1.into(),
        choices_id: choices.0.iter().map(|s| s.to_string()).collect(),
        choices_en: choices.1.iter().map(|s| s.to_string()).collect(),
    };
    crate::librarian::upsert_survey(
        hub,
        crate::librarian::SurveyIn {
            id: "layanan-2026".into(),
            title_id: "Survei kepuasan layanan 2026".into(),
            title_en: "Service satisfaction survey 2026".into(),
            closes: today.checked_add_days(Days::new(30)),
            questions: vec![
                q(
                    "puas",
                    "rating",
                    (
                        "Seberapa puas Anda dengan layanan perpustakaan?",
                        "How satisfied are you with the library's services?",
                    ),
                    (&[], &[]),
                ),
                q(
                    "cabang",
                    "choice",
                    (
                        "Cabang mana yang paling sering Anda kunjungi?",
                        "Which branch do you visit most?",
                    ),
                    (
                        &[
                            "Pusat",
                            "Singkawang Barat",
                            "Singkawang Utara",
                            "Perpustakaan keliling",
                        ],
                        &["Central", "Singkawang West", "Singkawang North", "Book van"],
                    ),
                ),
                q(
                    "saran",
                    "text",
                    (
                        "Apa yang sebaiknya kami tambah atau perbaiki?",
                        "What should we add or improve?",
                    ),
                    (&[], &[]),
                ),
            ],
        },
    )?;
    Ok(())
}

fn seed_events(hub: &mut Hub, today: NaiveDate, offset: i32) -> Result<(), ApiError> {
    let mut events = vec![];
    let ev = |id: String,
              day: NaiveDate,
              (h1, m1, h2, m2): (u32, u32, u32, u32),
              cat: &str,
              branch: Option<&str>,
              place: &str,
              t: (&str, &str),
              d: (&str, &str),
              cap: u32,
              audience: &str| EventIn {
        id,
        title_id: t.0.into(),
        title_en: t.1.into(),
        description_id: d.0.into(),
        description_en: d.1.into(),
        category: cat.into(),
        branch: branch.map(Into::into),
        place: place.into(),
        online_url: None,
        start: at(day, h1, m1, offset),
        end: at(day, h2, m2, offset),
        capacity: cap,
        audience: audience.into(),
        accessibility:
            "Ruang lantai dasar, dapat diakses kursi roda. / Ground floor, wheelchair accessible."
                .into(),
    };
    let mut n_story = 0;
    for d in 0..61u64 {
        let day = today + Days::new(d);
        use chrono::Datelike;
        match day.weekday() {
            chrono::Weekday::Sat => {
                n_story += 1;
                let cap = if n_story == 1 { 3 } else { 25 };
                events.push(ev(
                    format!("E-DONGENG-{n_story}"),
                    day,
                    (9, 0, 10, 0),
                    "storytelling",
                    Some("pusat"),
                    "Ruang Anak, Perpustakaan Pusat",
                    ("Dongeng Sabtu Pagi", "Saturday Morning Storytelling"),
                    (
                        "Kak Rina membacakan cerita rakyat Kalimantan Barat untuk anak 4–8 tahun.",
                        "Kak Rina reads West Kalimantan folk tales for children aged 4–8.",
                    ),
                    cap,
                    "anak",
                ));
            }
            chrono::Weekday::Wed => {
                events.push(ev(format!("E-LITERASI-{d}"), day, (14, 0, 16, 0), "literacy", Some("barat"), "Lab Komputer, Cabang Singkawang Barat",
                    ("Kelas Literasi Digital", "Digital Literacy Class"),
                    ("Belajar mencari informasi yang benar di internet, mengenali hoaks, dan memakai layanan perpustakaan digital.", "Learn to find reliable information online, spot hoaxes and use the digital library."),
                    15, "dewasa"));
            }
            chrono::Weekday::Tue | chrono::Weekday::Thu => {
                let (place, label) = if day.weekday() == chrono::Weekday::Tue {
                    ("Halaman SDN 12 Singkawang", "SDN 12")
                } else {
                    ("Pasar Hongkong, Jl. Diponegoro", "Pasar Hongkong")
                };
                events.push(ev(
                    format!("E-PUSLING-{d}"),
                    day,
                    (9, 0, 11, 30),
                    "book_van",
                    Some("pusling"),
                    place,
                    (
                        &format!("Mobil Perpustakaan Keliling: {label}"),
                        &format!("Book van stop: {label}"),
                    ),
                    (
                        "Pinjam dan kembalikan buku, daftar anggota baru.",
                        "Borrow and return books, join the library.",
                    ),
                    0,
                    "umum",
                ));
            }
            _ => {}
        }
    }
    let seminar_day = today + Days::new(12);
    events.push(ev(
        "E-SEMINAR-HAKKA".into(),
        seminar_day,
        (13, 0, 16, 0),
        "seminar",
        Some("pusat"),
        "Aula Perpustakaan Pusat",
        (
            "Seminar: Sejarah Singkawang dan Budaya Hakka",
            "Seminar: The History of Singkawang and Hakka Culture",
        ),
        (
            "Bersama sejarawan lokal membahas kota seribu kelenteng dari masa kongsi hingga kini.",
            "Local historians on the city of a thousand temples, from the kongsi era to today.",
        ),
        80,
        "umum",
    ));
    events.push(ev(
        "E-BEDAH-BUKU".into(),
        today + Days::new(26),
        (15, 0, 17, 0),
        "seminar",
        Some("utara"),
        "Ruang Baca, Cabang Singkawang Utara",
        (
            "Bedah Buku: Laut Bercerita",
            "Book Talk: The Sea Speaks His Name",
        ),
        (
            "Diskusi novel Leila S. Chudori bersama klub buku Singkawang.",
            "A discussion of Leila S. Chudori's novel with the Singkawang book club.",
        ),
        30,
        "dewasa",
    ));
    let mut webinar = ev(
        "E-WEBINAR-MENULIS".into(),
        today + Days::new(19),
        (19, 30, 21, 0),
        "webinar",
        None,
        "Daring / Online",
        (
            "Webinar: Menulis Cerita Anak",
            "Webinar: Writing Stories for Children",
        ),
        (
            "Penulis cerita anak berbagi cara menulis dan menerbitkan buku anak.",
            "A children's author on writing and publishing children's books.",
        ),
        300,
        "umum",
    );
    webinar.online_url = Some("https://pustaka.example/webinar/menulis-cerita-anak".into());
    events.push(webinar);
    for e in events {
        upsert_event(hub, e)?;
    }
    let stops = [
        ("V1", "Halaman SDN 12 Singkawang", "tue", "09:00", "11:30"),
        (
            "V2",
            "Pasar Hongkong, Jl. Diponegoro",
            "thu",
            "09:00",
            "11:30",
        ),
        ("V3", "Kelurahan Sedau", "mon", "13:00", "15:00"),
        ("V4", "Pantai Pasir Panjang", "fri", "14:00", "16:00"),
    ];
    let until = today + Days::new(180);
    hub.with_engine(|c, fx| {
        for (id, place, wd, s, e) in stops {
            c.store.upsert_van_stop(&VanStopRow {
                id: id.into(),
                place: place.into(),
                weekday: wd.into(),
                start_time: s.into(),
                end_time: e.into(),
                from: today,
                until,
            })?;
        }
        fx.calendar = true;
        Ok::<_, EngineError>(())
    })?;
    Ok(())
}

/// Opens the data dir with a seeding clock, seeds if needed, and returns
/// whether it seeded. The caller then opens the hub with the real clock.
pub fn ensure_seeded(data: &std::path::Path, now: Millis) -> anyhow::Result<bool> {
    let clock = Arc::new(ManualClock::new(now));
    let mut hub = crate::open_hub(data, DEMO_POLICY, clock.clone() as Arc<dyn Clock>)?;
    Ok(seed(&mut hub, &clock, now)?)
}
