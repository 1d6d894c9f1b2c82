//! Headless view tests: each screen rendered with a VirtualDom and SSR,
//! its data coming through the real typed backend from a scripted fake
//! transport, in every state: empty, loading, offline, error and full.

#![allow(non_snake_case)]

use std::cell::RefCell;
use std::time::Duration;

use dioxus::prelude::*;
use pustaka_app::components::Load;
use pustaka_app::fake::{self, FakeTransport};
use pustaka_app::screens::{self, loans::LoansView};
use pustaka_app::{Backend, Lang, T, use_provide_ctx};
use pustaka_ipc::*;

type Screen = fn() -> Element;
type Case = (FakeTransport, bool, Lang, Screen);

thread_local! {
    static CASE: RefCell<Option<Case>> = const { RefCell::new(None) };
}

fn Root() -> Element {
    let (fake, online, lang, screen) = CASE.with(|c| c.borrow().clone()).expect("case set");
    use_context_provider(|| Backend::new(fake));
    let mut session = fake::session(true);
    session.status = fake::status(online);
    session.settings.language = lang.code().into();
    use_provide_ctx(Some(Ok(session)), lang);
    screen()
}

/// Renders `screen` with `fake` behind the backend. With `settle`, lets
/// the backend's answers arrive first (otherwise: the loading state).
fn render(
    fake: FakeTransport,
    online: bool,
    lang: Lang,
    screen: fn() -> Element,
    settle: bool,
) -> String {
    CASE.with(|c| *c.borrow_mut() = Some((fake, online, lang, screen)));
    let mut dom = VirtualDom::new(Root);
    dom.rebuild_in_place();
    if settle {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("rt");
        rt.block_on(async {
            for _ in 0..5 {
                if tokio::time::timeout(Duration::from_millis(100), dom.wait_for_work())
                    .await
                    .is_err()
                {
                    break;
                }
                dom.render_immediate(&mut dioxus_core::NoOpMutations);
            }
        });
    }
    dioxus_ssr::render(&dom)
}

fn account(a: AccountView) -> FakeTransport {
    let f = FakeTransport::new();
    f.answer::<GetAccount>(Ok(a));
    f.answer::<RecentTitles>(Ok(vec![fake::title().details.summary]));
    f.answer::<GetTitle>(Ok(fake::title()));
    f
}

fn failing(code: &str) -> FakeTransport {
    let f = FakeTransport::new();
    f.answer::<GetAccount>(Err(IpcError::new(code, "test")));
    f.answer::<RecentTitles>(Err(IpcError::new(code, "test")));
    f.answer::<GetTitle>(Err(IpcError::new(code, "test")));
    f
}

fn Home() -> Element {
    rsx! { screens::Home {} }
}
fn Loans() -> Element {
    rsx! { screens::Loans {} }
}
fn Holds() -> Element {
    rsx! { screens::Holds {} }
}
fn Catalogue() -> Element {
    rsx! { screens::Catalogue {} }
}
fn Title() -> Element {
    rsx! { screens::Title { id: "T0001".to_string() } }
}
fn Events() -> Element {
    rsx! { screens::Events {} }
}
fn Card() -> Element {
    rsx! { screens::Card {} }
}
fn Settings() -> Element {
    rsx! { screens::Settings {} }
}

const SCREENS: [(&str, Screen); 8] = [
    ("home", Home),
    ("loans", Loans),
    ("holds", Holds),
    ("catalogue", Catalogue),
    ("title", Title),
    ("events", Events),
    ("card", Card),
    ("settings", Settings),
];

#[test]
fn every_screen_renders_every_state_in_both_languages() {
    for lang in [Lang::Id, Lang::En] {
        let t = T::new(lang);
        for (name, screen) in SCREENS {
            let loading = render(account(fake::full_account()), true, lang, screen, false);
            let full = render(account(fake::full_account()), true, lang, screen, true);
            let empty = render(account(fake::empty_account()), true, lang, screen, true);
            let offline = render(account(fake::full_account()), false, lang, screen, true);
            let error = render(failing("no_data"), true, lang, screen, true);
            for (state, html) in [
                ("loading", &loading),
                ("full", &full),
                ("empty", &empty),
                ("offline", &offline),
                ("error", &error),
            ] {
                assert!(
                    html.contains("<h1"),
                    "{lang:?} {name} {state}: no heading in {html}"
                );
                // No raw translation key ever reaches the patron.
                for key in [
                    "loans-",
                    "hold-",
                    "event-",
                    "catalogue-",
                    "why-unknown",
                    "settings-",
                ] {
                    assert!(
                        !html.contains(&format!(">{key}")),
                        "{lang:?} {name} {state}: raw key {key} in {html}"
                    );
                }
            }
            if name != "settings" {
                assert!(
                    loading.contains(&t.t("loading")),
                    "{lang:?} {name}: loading state missing: {loading}"
                );
                assert!(
                    error.contains(&t.t("error-no-data")) || name == "catalogue",
                    "{lang:?} {name}: error state: {error}"
                );
                assert!(
                    offline.contains(&t.t("offline-banner")) || name == "card",
                    "{lang:?} {name}: offline banner: {offline}"
                );
            }
            if !["settings", "title", "catalogue", "card"].contains(&name) {
                assert_ne!(full, empty, "{lang:?} {name}: full and empty look the same");
            }
        }
    }
}

#[test]
fn loans_explain_refusals_before_the_patron_tries() {
    let html = render(account(fake::full_account()), true, Lang::Id, Loans, true);
    let t = T::new(Lang::Id);
    assert!(html.contains("Bumi Manusia"));
    assert!(html.contains(&t.reason("on_hold_for_other")), "{html}");
    // The blocked loan's button is disabled; the renewable one shows its preview.
    assert!(
        html.contains("Jika diperpanjang hari ini: jatuh tempo 9 Desember 2026"),
        "{html}"
    );
    assert!(html.contains(&t.t("loan-renewal-pending")));
    assert!(html.contains(&t.t("pending-waiting")));
    let en = render(account(fake::full_account()), true, Lang::En, Loans, true);
    assert!(
        en.contains("Renewing today would make it due 9 December 2026"),
        "{en}"
    );
    let empty = render(account(fake::empty_account()), true, Lang::Id, Loans, true);
    assert!(empty.contains(&t.t("loans-empty")));
}

#[test]
fn holds_events_and_card_show_what_patrons_asked_for() {
    let t = T::new(Lang::En);
    let holds = render(account(fake::full_account()), true, Lang::En, Holds, true);
    assert!(holds.contains("Collect by 27 November 2026"), "{holds}");
    assert!(holds.contains("Number 2 of 4 in the queue"), "{holds}");
    // Suspension offers dates to choose from, never a date field (which
    // traps the Tab key in WebKitGTK).
    assert!(holds.contains(">14 days<"), "{holds}");
    assert!(holds.contains("Until "), "{holds}");
    assert!(!holds.contains("type=\"date\""), "{holds}");
    let events = render(account(fake::full_account()), true, Lang::En, Events, true);
    assert!(events.contains(&t.t("event-registered")), "{events}");
    assert!(events.contains("Full · 2 on the waiting list"), "{events}");
    let card = render(account(fake::full_account()), true, Lang::En, Card, true);
    assert!(card.contains("<svg") && card.contains("1001"), "{card}");
    // The library's own name, from its policy, not from the translations.
    assert!(card.contains("Perpustakaan Umum Kota Singkawang"), "{card}");
    let title = render(account(fake::full_account()), true, Lang::Id, Title, true);
    assert!(
        title.contains("899.221 TOE b") && title.contains("Perpustakaan Pusat"),
        "{title}"
    );
    // From the catalogue record: call number and statement of responsibility.
    assert!(title.contains("Nomor panggil"), "{title}");
    assert!(
        title.contains("class=\"muted responsibility\">Pramoedya Ananta Toer<"),
        "{title}"
    );
}

#[test]
fn props_only_views_render_without_a_backend() {
    fn View() -> Element {
        rsx! {
            LoansView {
                t: T::new(Lang::Id),
                account: Load::Failed(IpcError::new("offline", "x")),
                offline: true,
                on_renew: |_| {},
                on_renew_all: |_| {},
            }
        }
    }
    let mut dom = VirtualDom::new(View);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    assert!(
        html.contains(&T::new(Lang::Id).t("error-offline")),
        "{html}"
    );
}

#[test]
fn online_titles_link_out_and_misspelt_searches_offer_a_spelling() {
    use pustaka_app::screens::catalogue::{CatalogueView, TitlePage};
    fn Digital() -> Element {
        let mut v = fake::title();
        v.details.summary.item_type = "digital".into();
        v.details.formats = vec!["ebook".into()];
        v.details.copies.clear();
        v.details.summary.availability.clear();
        v.details.links = vec![OnlineLink {
            url: "https://buku.kemdikbud.go.id/".into(),
            label: Some("SIBI".into()),
        }];
        rsx! {
            TitlePage {
                t: T::new(Lang::En),
                title: Load::Ready(v),
                account: Load::Ready(fake::full_account()),
                offline: false,
                on_place_hold: |_| {},
                on_open_link: |_| {},
            }
        }
    }
    let mut dom = VirtualDom::new(Digital);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    let t = T::new(Lang::En);
    assert!(html.contains(&t.t("title-online")), "{html}");
    assert!(
        html.contains("href=\"https://buku.kemdikbud.go.id/\"") && html.contains(">SIBI<"),
        "{html}"
    );
    assert!(html.contains(&t.t("title-no-copies")), "{html}");
    assert!(html.contains("E-book"), "{html}");
    assert!(
        !html.contains("place-hold"),
        "no hold on an online-only title: {html}"
    );

    fn Suggest() -> Element {
        rsx! {
            CatalogueView {
                t: T::new(Lang::Id),
                results: Some(Load::Ready(SearchResults { hits: vec![], suggestion: Some("bumi manusia".into()) })),
                recent: Load::Ready(vec![]),
                branches: vec![],
                offline: false,
                on_search: |_| {},
            }
        }
    }
    let mut dom = VirtualDom::new(Suggest);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    let t = T::new(Lang::Id);
    assert!(html.contains(&t.t("catalogue-did-you-mean")), "{html}");
    assert!(html.contains("id=\"search-suggestion\""), "{html}");
    assert!(html.contains(">bumi manusia<"), "{html}");
    // The format and language filters, named in the patron's language.
    assert!(
        html.contains(">Buku elektronik<") && html.contains(">Bahasa Jawa<"),
        "{html}"
    );
}

/// A copy's label as the scanner reports it, opened from the library or
/// (offline) from the device's kept titles.
fn copy_label(from_cache: bool) -> (ScannedCode, Result<CodeTarget, IpcError>) {
    (
        ScannedCode {
            format: "qr".into(),
            text: "pustaka://title/T0001?copy=C0001".into(),
        },
        Ok(CodeTarget {
            title_id: "T0001".into(),
            title: "Bumi Manusia".into(),
            copy: Some("C0001".into()),
            from_cache,
        }),
    )
}

fn ScanFoundScreen() -> Element {
    let t = T::new(Lang::Id);
    let found = vec![
        copy_label(false),
        (
            ScannedCode {
                format: "ean13".into(),
                text: "9789794339657".into(),
            },
            Err(IpcError::new("not_found", "no title for code")),
        ),
    ];
    rsx! {
        screens::scan::ScanView {
            t,
            state: screens::scan::ScanState::Found(found),
            camera_on: false,
            no_camera: true,
            offline: false,
            on_camera: |_| {},
            on_checkout: |_| {},
        }
    }
}

fn ScanOfflineScreen() -> Element {
    let t = T::new(Lang::En);
    let found = vec![copy_label(true)];
    rsx! {
        screens::scan::ScanView {
            t,
            state: screens::scan::ScanState::Found(found),
            camera_on: true,
            no_camera: false,
            offline: true,
            on_camera: |_| {},
            on_checkout: |_| {},
        }
    }
}

#[test]
fn scanner_shows_what_it_read_and_offers_self_checkout_online() {
    let html = render(FakeTransport::new(), true, Lang::Id, ScanFoundScreen, false);
    assert!(html.contains("Pindai buku"), "{html}");
    assert!(html.contains(r#"href="/title/T0001""#), "{html}");
    assert!(html.contains("Pinjam eksemplar ini (C0001)"), "{html}");
    assert!(html.contains("ISBN 9789794339657"), "{html}");
    assert!(html.contains("Kamera tidak tersedia"), "{html}");
    assert!(html.contains(r#"id="scan-file""#) && html.contains(r#"for="scan-file""#));
    assert!(html.contains(r#"role="status""#) && html.contains(r#"aria-live="polite""#));

    let html = render(
        FakeTransport::new(),
        false,
        Lang::En,
        ScanOfflineScreen,
        false,
    );
    assert!(
        html.contains("From the data on this device (offline)."),
        "{html}"
    );
    assert!(html.contains("Self-checkout needs a connection"), "{html}");
    assert!(
        !html.contains("Check out this copy"),
        "no checkout offline: {html}"
    );
    assert!(html.contains(r#"aria-pressed="true""#), "{html}");
}

#[test]
fn settings_offer_email_reminders_and_the_calendar_address() {
    let opted_in = FakeTransport::new();
    opted_in.answer::<GetEmailReminders>(Ok(EmailReminders {
        email: Some("siti@example.id".into()),
        lang: Some("id".into()),
    }));
    opted_in.answer::<GetCalendarFeed>(Ok(Some(
        "http://127.0.0.1:7878/v1/calendar/patron/abc.ics".into(),
    )));
    let html = render(opted_in, true, Lang::Id, Settings, true);
    assert!(
        html.contains("E-mail dikirim ke siti@example.id."),
        "{html}"
    );
    assert!(html.contains(r#"value="siti@example.id""#), "{html}");
    assert!(html.contains(r#"id="email-stop""#), "{html}");
    assert!(
        html.contains(r#"value="http://127.0.0.1:7878/v1/calendar/patron/abc.ics""#),
        "{html}"
    );
    assert!(html.contains(r#"for="feed-url""#) && html.contains(r#"for="email-address""#));
    assert!(html.contains("Buat alamat baru"), "{html}");

    let offline = FakeTransport::new();
    offline.answer::<GetEmailReminders>(Err(IpcError::new("offline", "no route")));
    offline.answer::<GetCalendarFeed>(Ok(None));
    let html = render(offline, false, Lang::En, Settings, true);
    assert!(
        html.contains("E-mail reminders can be changed when the device is online."),
        "{html}"
    );
    assert!(!html.contains(r#"id="email-stop""#), "{html}");
    assert!(!html.contains(r#"id="feed-url""#), "{html}");
    assert!(html.contains("Make calendar address"), "{html}");
}

fn faq_entries() -> Vec<FaqEntryView> {
    vec![
        FaqEntryView {
            id: "denda-jumlah".into(),
            topic: "fines".into(),
            question: "Berapa denda keterlambatan?".into(),
            answer: "Rp500 per hari.".into(),
        },
        FaqEntryView {
            id: "koleksi-braille".into(),
            topic: "accessibility".into(),
            question: "Apakah ada koleksi Braille?".into(),
            answer: "Ada, di Pojok Braille.".into(),
        },
    ]
}

fn FaqResultsScreen() -> Element {
    let (confident, lang) = FAQ_CASE.with(|c| *c.borrow());
    let mut a = fake::full_account();
    a.questions = vec![
        QuestionView {
            id: "q1".into(),
            question: "Bolehkah membawa kucing?".into(),
            asked_at: 1,
            answer: Some("Tidak, kecuali anjing pemandu.".into()),
            answered_at: Some(2),
        },
        QuestionView {
            id: "q2".into(),
            question: "Ada kelas menulis?".into(),
            asked_at: 3,
            answer: None,
            answered_at: None,
        },
    ];
    rsx! {
        screens::faq::FaqView {
            t: T::new(lang),
            offline: true,
            entries: Load::Ready(faq_entries()),
            answer: Some(FaqAnswer {
                query: "denda telat".into(),
                hits: faq_entries(),
                confident,
            }),
            account: Load::Ready(a),
            on_query: |_| {},
            on_ask: |_| {},
        }
    }
}

thread_local! {
    static FAQ_CASE: RefCell<(bool, Lang)> = const { RefCell::new((true, Lang::Id)) };
}

fn render_faq(confident: bool, lang: Lang) -> String {
    FAQ_CASE.with(|c| *c.borrow_mut() = (confident, lang));
    let mut dom = VirtualDom::new(FaqResultsScreen);
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

#[test]
fn the_faq_shows_the_best_answer_or_offers_a_librarian_and_lists_my_questions() {
    let html = render_faq(true, Lang::Id);
    assert!(html.contains(r#"id="faq-best""#), "{html}");
    assert!(html.contains("Rp500 per hari."), "{html}");
    assert!(html.contains("Jawaban yang paling cocok"), "{html}");
    assert!(!html.contains(r#"id="faq-no-match""#), "{html}");
    // Asking stays possible, as a secondary button.
    assert!(html.contains(r#"id="faq-ask""#), "{html}");
    // Browsing by topic, named in the language.
    assert!(html.contains("Aksesibilitas dan Braille"), "{html}");
    // My questions: the answer, and the one still waiting.
    assert!(html.contains("Tidak, kecuali anjing pemandu."), "{html}");
    assert!(html.contains("Menunggu jawaban pustakawan"), "{html}");
    assert!(html.contains(r#"role="search""#) && html.contains(r#"for="faq-query""#));
    assert!(html.contains(r#"aria-live="polite""#), "{html}");

    let html = render_faq(false, Lang::En);
    assert!(!html.contains(r#"id="faq-best""#), "{html}");
    assert!(
        html.contains("We have not found an answer that fits this question yet."),
        "{html}"
    );
    assert!(html.contains("Maybe one of these"), "{html}");
    assert!(html.contains("Ask a librarian"), "{html}");
    assert!(html.contains(r#"class="primary""#), "{html}");
    assert!(html.contains("Accessibility and Braille"), "{html}");
}

#[test]
fn settings_offer_the_history_choice_and_the_export() {
    fn Kept() -> Element {
        rsx! { screens::Settings {} }
    }
    let mut a = fake::full_account();
    a.keep_history = true;
    let f = account(a);
    f.answer::<GetEmailReminders>(Ok(EmailReminders::default()));
    f.answer::<GetCalendarFeed>(Ok(None));
    let html = render(f, true, Lang::Id, Kept, true);
    assert!(html.contains(r#"id="keep-history""#), "{html}");
    assert!(html.contains("Simpan riwayat pinjaman saya"), "{html}");
    assert!(html.contains("Hapus centang untuk menghapusnya"), "{html}");
    assert!(html.contains(r#"id="export-data""#), "{html}");

    let mut a = fake::full_account();
    a.keep_history = false;
    a.pending.push(PendingView {
        id: "i1".into(),
        kind: "set_history".into(),
        created_at: 1,
        state: PendingState::WaitingToSend,
    });
    let f = account(a);
    f.answer::<GetEmailReminders>(Ok(EmailReminders::default()));
    f.answer::<GetCalendarFeed>(Ok(None));
    let html = render(f, false, Lang::En, Kept, true);
    assert!(
        html.contains("does not keep the books you returned"),
        "{html}"
    );
    assert!(html.contains(r#"id="keep-history-pending""#), "{html}");
    assert!(html.contains(r#"disabled"#), "{html}");
}

#[test]
fn events_show_access_notes_and_search_offers_accessible_formats() {
    let html = render(account(fake::full_account()), true, Lang::En, Events, true);
    assert!(html.contains("Accessibility"), "{html}");
    assert!(html.contains("Ground floor."), "{html}");
    assert!(!html.contains("Ruang lantai dasar."), "{html}");
    assert!(
        html.contains("Ramp at the entrance, Braille corner."),
        "{html}"
    );
    let html = render(
        account(fake::full_account()),
        true,
        Lang::Id,
        Catalogue,
        true,
    );
    for f in ["braille", "large_print", "audiobook"] {
        assert!(html.contains(&format!(r#"value="{f}""#)), "{f}: {html}");
    }
}

fn HouseholdShown() -> Element {
    let lang = FAQ_CASE.with(|c| c.borrow().1);
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    rsx! {
        screens::household::HouseholdScreen {
            t: T::new(lang),
            offline: true,
            view: Load::Ready(HouseholdView {
                members: vec![
                    HouseholdMember { card: "1001".into(), name: "Ibu Siti".into(), active: true, synced: true, loans: 2, overdue: 1, ready: 0 },
                    HouseholdMember { card: "1002".into(), name: "Adi".into(), active: false, synced: true, loans: 1, overdue: 0, ready: 1 },
                ],
                items: vec![
                    HouseholdItem { card: "1001".into(), name: "Ibu Siti".into(), kind: "loan".into(), title: "Bumi Manusia".into(), date: day(20), days_left: -3, overdue: true, branch: "pusat".into() },
                    HouseholdItem { card: "1002".into(), name: "Adi".into(), kind: "hold_ready".into(), title: "Laskar Pelangi".into(), date: day(27), days_left: 4, overdue: false, branch: "barat".into() },
                ],
            }),
            server: "http://127.0.0.1:7878".to_string(),
            on_action: |_| {},
        }
    }
}

#[test]
fn the_household_lists_every_cards_dates_and_switches_in_one_tap() {
    FAQ_CASE.with(|c| *c.borrow_mut() = (true, Lang::Id));
    let mut dom = VirtualDom::new(HouseholdShown);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    assert!(html.contains("Bumi Manusia"), "{html}");
    assert!(html.contains("terlambat sejak 20 November 2026"), "{html}");
    assert!(
        html.contains("siap diambil, paling lambat 27 November 2026"),
        "{html}"
    );
    assert!(html.contains(r#"id="show-1002""#), "{html}");
    assert!(
        !html.contains(r#"id="show-1001""#),
        "the shown card has no switch: {html}"
    );
    assert!(html.contains("Sedang ditampilkan"), "{html}");
    assert!(html.contains(r#"for="add-card""#) && html.contains(r#"for="add-pin""#));
    FAQ_CASE.with(|c| *c.borrow_mut() = (true, Lang::En));
    let mut dom = VirtualDom::new(HouseholdShown);
    dom.rebuild_in_place();
    let html = dioxus_ssr::render(&dom);
    assert!(
        html.contains("Show Adi&#39;s card") || html.contains("Show Adi's card"),
        "{html}"
    );
    assert!(
        html.contains("ready for pickup until 27 November 2026"),
        "{html}"
    );
}

/// The website before sign-in: the navigation offers what anyone may read,
/// the sign-in asks no server address, and device-only wording is replaced.
#[test]
fn the_website_shows_the_public_screens_and_its_own_wording() {
    fn Nav() -> Element {
        rsx! {
            pustaka_app::components::NavBar {
                t: T::new(Lang::Id).on_web(true),
                current: pustaka_app::Route::Catalogue {},
                web: true,
                signed_in: false,
            }
        }
    }
    let nav = render_root(Nav);
    assert!(!nav.contains("id=\"nav-lists\""), "{nav}");
    for shown in ["nav-home", "nav-catalogue", "nav-events", "nav-faq"] {
        assert!(nav.contains(&format!("id=\"{shown}\"")), "{shown}: {nav}");
    }
    for hidden in [
        "nav-loans",
        "nav-scan",
        "nav-card",
        "nav-household",
        "nav-settings",
    ] {
        assert!(
            !nav.contains(&format!("id=\"{hidden}\"")),
            "{hidden}: {nav}"
        );
    }
    fn SignedInNav() -> Element {
        rsx! {
            pustaka_app::components::NavBar {
                t: T::new(Lang::Id).on_web(true),
                current: pustaka_app::Route::Loans {},
                web: true,
                signed_in: true,
            }
        }
    }
    let nav = render_root(SignedInNav);
    assert!(nav.contains("id=\"nav-loans\"") && !nav.contains("id=\"nav-scan\""));
    assert!(
        !nav.contains("id=\"nav-lists\""),
        "reading lists live on the device"
    );

    fn WebSignIn() -> Element {
        rsx! {
            screens::signin::SignInView {
                t: T::new(Lang::En).on_web(true),
                server: String::new(),
                web: true,
                error: None,
                busy: false,
                on_language: |_| {},
                on_submit: |_| {},
            }
        }
    }
    let page = render_root(WebSignIn);
    assert!(
        !page.contains("id=\"server\"") && page.contains("id=\"card\""),
        "{page}"
    );
    assert!(!page.contains("<main"), "inside the frame's main: {page}");

    let (device, web) = (T::new(Lang::En), T::new(Lang::En).on_web(true));
    assert!(device.t("faq-hint").contains("this device"));
    assert!(
        !web.t("faq-hint").contains("this device"),
        "{}",
        web.t("faq-hint")
    );
    assert_eq!(web.t("faq-title"), device.t("faq-title"));
}

fn render_root(root: fn() -> Element) -> String {
    let mut dom = VirtualDom::new(root);
    dom.rebuild_in_place();
    dioxus_ssr::render(&dom)
}

/// Reading lists: "want to read" named in the page's language, titles with
/// remove buttons, share offered only for a list with titles; a shared
/// link that is not a list says so; the website cannot save one.
#[test]
fn reading_lists_show_their_titles_and_shared_lists_open() {
    fn Screen() -> Element {
        let lists = vec![
            ReadingListView {
                id: WANT_LIST.into(),
                name: String::new(),
                items: vec![ListItemView {
                    title_id: "T1".into(),
                    title: "Laskar Pelangi".into(),
                    author: "Andrea Hirata".into(),
                    added_at: 1,
                }],
                share: "http://lib.example/list/abc".into(),
            },
            ReadingListView {
                id: "a1".into(),
                name: "Liburan".into(),
                items: vec![],
                share: String::new(),
            },
        ];
        rsx! {
            screens::lists::ListsView {
                t: T::new(Lang::En),
                lists: Load::Ready(lists),
                offline: true,
                on_action: |_| {},
            }
        }
    }
    let html = render_root(Screen);
    assert!(
        html.contains("Want to read") && html.contains("Liburan"),
        "{html}"
    );
    assert!(
        html.contains("Laskar Pelangi") && html.contains("Remove Laskar Pelangi from the list")
    );
    assert_eq!(
        html.matches("share-list").count(),
        1,
        "share only a list with titles"
    );
    assert!(html.contains("Delete the list Liburan") && !html.contains("Delete the list Want"));

    fn Bad() -> Element {
        rsx! {
            screens::lists::SharedListView { t: T::new(Lang::Id), shared: None, items: None, on_save: |_| {} }
        }
    }
    assert!(render_root(Bad).contains("bukan daftar baca"));
    fn OnWeb() -> Element {
        let shared = decode_list(&encode_list("Liburan", &["T1".into()]));
        let items = vec![ListItemView {
            title_id: "T1".into(),
            title: "Laskar Pelangi".into(),
            ..Default::default()
        }];
        rsx! {
            screens::lists::SharedListView { t: T::new(Lang::En).on_web(true), shared, items: Some(items), on_save: |_| {} }
        }
    }
    let web = render_root(OnWeb);
    assert!(
        web.contains("Shared list: Liburan") && web.contains("Laskar Pelangi"),
        "{web}"
    );
    assert!(!web.contains("save-shared-list") && web.contains("Pustaka app"));
}
