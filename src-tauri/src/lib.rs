//! Pustaka's Tauri 2 shell. It owns the headless patron device
//! (`pustaka-client`), exposes it to the Dioxus page through the commands
//! in [`commands`] (the typed contract is `pustaka-ipc`), runs the sync
//! loop in the background and forwards every change to the page as an
//! event. Deep links (`pustaka://title/<id>`) and a single running
//! instance are handled here.

pub mod commands;
pub mod reminders;
pub mod shell;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pustaka_client::Device;
use pustaka_ipc::{Changed, EVENT_CHANGED, EVENT_OPEN_LINK, OpenLink};
use tauri::{Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

use shell::Shell;

/// How long the app waits at most between retries while offline.
const RETRY_CEILING: Duration = Duration::from_secs(10);

/// A card's background work: its sync loop (after the page is up, when
/// `wait_for_page`), its reminders, and its changes told to the page.
pub(crate) fn start_member(app: &tauri::AppHandle, device: Arc<Device>, wait_for_page: bool) {
    let d = device.clone();
    tauri::async_runtime::spawn(async move {
        if wait_for_page {
            let _ = tokio::time::timeout(SYNC_AFTER_PAGE_AT_MOST, page_loaded().notified()).await;
        }
        d.run_with(RETRY_CEILING).await;
    });
    // Reminders: shown on desktop, scheduled ahead on phones.
    tauri::async_runtime::spawn(reminders::run(app.clone(), device.clone()));
    let handle = app.clone();
    let mut changes = device.subscribe();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            let _ = changes.borrow_and_update();
            announce(&handle, &device);
        }
    });
}

/// Tells the page something changed (it refetches what it shows: the
/// active card's data and the household's list).
pub(crate) fn announce(app: &tauri::AppHandle, device: &Device) {
    // One counter for every card, so two cards' changes never look alike.
    static REVISION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let revision = REVISION.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    // The status bar shows the active card's sync state.
    let status = app
        .try_state::<Shell>()
        .map_or_else(|| device.status(), |s| s.device().status());
    let _ = app.emit(EVENT_CHANGED, Changed { status, revision });
}

fn open_link(app: &tauri::AppHandle, url: String) {
    if !url.starts_with("pustaka://") && !url.starts_with("https://") {
        return;
    }
    if let Some(shell) = app.try_state::<Shell>()
        && let Ok(mut o) = shell.opened_with.lock()
    {
        *o = Some(url.clone());
    }
    let _ = app.emit(EVENT_OPEN_LINK, OpenLink { url });
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_focus();
    }
}

fn data_dir(app: &tauri::App) -> PathBuf {
    if let Ok(dir) = std::env::var("PUSTAKA_DATA_DIR") {
        return PathBuf::from(dir);
    }
    app.path()
        .app_data_dir()
        .unwrap_or_else(|_| PathBuf::from("pustaka-data"))
}

/// Signalled when the page has loaded: background sync waits for it, so the
/// page gets the CPU first (the patron's data is already on the device).
fn page_loaded() -> &'static std::sync::Arc<tokio::sync::Notify> {
    static N: std::sync::OnceLock<std::sync::Arc<tokio::sync::Notify>> = std::sync::OnceLock::new();
    N.get_or_init(Default::default)
}

/// The longest background sync waits for the page to load.
const SYNC_AFTER_PAGE_AT_MOST: Duration = Duration::from_secs(3);

/// When `run` began, for the start-up milestones.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Logs a start-up milestone reported by the page: the time since `run`
/// began and the wall-clock time (the start-up bench compares it with the
/// process start in `/proc`). Each mark is logged once per process.
pub fn startup_mark(mark: &str) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    if let Ok(mut seen) = SEEN.lock() {
        if seen.iter().any(|m| m == mark) || seen.len() > 16 {
            return;
        }
        seen.push(mark.to_string());
    }
    let since = STARTED.get().map(|s| s.elapsed().as_millis()).unwrap_or(0);
    let epoch_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    tracing::info!(target: "pustaka::startup", "startup mark {mark} after_ms={since} epoch_ms={epoch_ms}");
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let started = *STARTED.get_or_init(std::time::Instant::now);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PUSTAKA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .try_init();
    let mut builder = tauri::Builder::default();
    #[cfg(desktop)]
    {
        // First, so a second launch (e.g. a clicked pustaka:// link) hands
        // its link to the running app instead of opening a second window.
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            if let Some(url) = argv.iter().skip(1).find(|a| a.starts_with("pustaka://")) {
                open_link(app, url.clone());
            } else if let Some(w) = app.get_webview_window("main") {
                let _ = w.set_focus();
            }
        }));
    }
    let result = builder
        .on_page_load(move |_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                page_loaded().notify_one();
            }
            tracing::info!(
                "page {:?} {} after_ms={}",
                payload.event(),
                payload.url(),
                started.elapsed().as_millis()
            );
        })
        .plugin(tauri_plugin_deep_link::init())
        // Rust side only: the page asks through `open_online`, which admits
        // http(s) links; no opener permission is granted to the page.
        .plugin(tauri_plugin_opener::init())
        // Mobile reminders are scheduled through it (see reminders.rs);
        // desktop shows them with notify-rust.
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            commands::get_session,
            commands::sign_in,
            commands::sign_out,
            commands::get_account,
            commands::sync_now,
            commands::renew,
            commands::renew_all,
            commands::place_hold,
            commands::cancel_hold,
            commands::suspend_hold,
            commands::resume_hold,
            commands::change_pickup,
            commands::register_event,
            commands::cancel_registration,
            commands::search,
            commands::get_title,
            commands::recent_titles,
            commands::add_to_calendar,
            commands::set_settings,
            commands::startup_mark,
            commands::open_online,
            commands::scan_frame,
            commands::scan_picture,
            commands::resolve_code,
            commands::self_checkout,
            commands::get_card_code,
            commands::get_email_reminders,
            commands::set_keep_history,
            commands::get_household,
            commands::add_card,
            commands::switch_card,
            commands::remove_card,
            commands::get_faq,
            commands::search_faq,
            commands::ask_librarian,
            commands::answer_survey,
            commands::export_data,
            commands::set_email_reminders,
            commands::get_calendar_feed,
            commands::new_calendar_feed,
            commands::get_lists,
            commands::create_list,
            commands::rename_list,
            commands::delete_list,
            commands::add_to_list,
            commands::remove_from_list,
            commands::save_shared_list,
        ])
        .setup(move |app| {
            tracing::info!("setup after_ms={}", started.elapsed().as_millis());
            let shell = Shell::open(data_dir(app)).map_err(|e| e.to_string())?;
            tracing::info!("device opened after_ms={}", started.elapsed().as_millis());
            let members = shell.household.devices().map_err(|e| e.to_string())?;
            let device = shell.device();
            app.manage(shell);

            // The link the app was started with, and those that arrive later.
            if let Ok(Some(urls)) = app.deep_link().get_current()
                && let Some(u) = urls.first()
            {
                open_link(app.handle(), u.to_string());
            }
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                if let Some(u) = event.urls().first() {
                    open_link(&handle, u.to_string());
                }
            });
            #[cfg(all(desktop, not(target_os = "macos")))]
            if std::env::var_os("PUSTAKA_REGISTER_SCHEME").is_some() {
                let _ = app.deep_link().register_all();
            }

            // Demo only: sign in with the card given in the environment.
            if let Ok(spec) = std::env::var("PUSTAKA_DEMO_SIGN_IN")
                && !device.is_signed_in()
                && let [server, card, pin] = spec.split_whitespace().collect::<Vec<_>>()[..]
            {
                let (d, s, c, p) = (
                    device.clone(),
                    server.to_string(),
                    card.to_string(),
                    pin.to_string(),
                );
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = d.login(&s, &c, &p).await {
                        tracing::warn!("demo sign-in failed: {e}");
                    }
                });
            }

            // Every card of the household syncs, reminds and tells the page.
            for d in members {
                start_member(app.handle(), d, true);
            }
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("pustaka: {e}");
        std::process::exit(1);
    }
}
