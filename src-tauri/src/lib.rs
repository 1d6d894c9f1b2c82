//! Pustaka's Tauri 2 shell. It owns the headless patron device
//! (`pustaka-client`), exposes it to the Dioxus page through the commands
//! in [`commands`] (the typed contract is `pustaka-ipc`), runs the sync
//! loop in the background and forwards every change to the page as an
//! event. Deep links (`pustaka://title/<id>`) and a single running
//! instance are handled here.

pub mod commands;
pub mod shell;

use std::path::PathBuf;
use std::time::Duration;

use pustaka_ipc::{Changed, EVENT_CHANGED, EVENT_OPEN_LINK, OpenLink};
use tauri::{Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

use shell::Shell;

/// How long the app waits at most between retries while offline.
const RETRY_CEILING: Duration = Duration::from_secs(10);

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

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
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
        .plugin(tauri_plugin_deep_link::init())
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
        ])
        .setup(|app| {
            let shell = Shell::open(data_dir(app)).map_err(|e| e.to_string())?;
            let device = shell.device.clone();
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

            // Background sync, following the server's poke.
            tauri::async_runtime::spawn(device.clone().run_with(RETRY_CEILING));
            // Every change reaches the page as an event.
            let handle = app.handle().clone();
            let mut changes = device.subscribe();
            tauri::async_runtime::spawn(async move {
                while changes.changed().await.is_ok() {
                    let revision = *changes.borrow_and_update();
                    let status = device.status();
                    let _ = handle.emit(EVENT_CHANGED, Changed { status, revision });
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("pustaka: {e}");
        std::process::exit(1);
    }
}
