//! The app's reminders loop: the plan comes from the replica
//! (`pustaka_client::reminders`), recomputed every minute and after every
//! change (a renewal, a return, a hold becoming ready).
//!
//! - Desktop: reminders that are due are shown with notify-rust while the
//!   app (or its window-less background instance) runs, each once.
//! - Android / iOS: the whole plan is handed to the Tauri notification
//!   plugin ahead of time (`Schedule::At`), so reminders fire with the app
//!   closed; keys that left the plan are cancelled. Only Rust calls the
//!   plugin, so the page gets no notification capability; Android 13+
//!   asks the patron for POST_NOTIFICATIONS once (requested here), and
//!   alarms use `allow_while_idle` so Doze does not hold them back. See
//!   README "Reminders on phones".

use std::sync::Arc;
use std::time::Duration;

use pustaka_client::Device;
use pustaka_domain::Lang;
use tauri::{AppHandle, Manager, Runtime};

use crate::shell::Shell;

const EVERY: Duration = Duration::from_secs(60);

pub async fn run<R: Runtime>(app: AppHandle<R>, device: Arc<Device>) {
    let mut changes = device.subscribe();
    loop {
        if device.is_signed_in() {
            let settings = app.state::<Shell>().settings();
            let lang = Lang::parse(&settings.language).unwrap_or_default();
            if let Err(e) = tick(&app, &device, &settings.reminder_days, lang) {
                tracing::warn!("reminders: {e}");
            }
        }
        tokio::select! {
            r = changes.changed() => if r.is_err() { return },
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(desktop)]
fn tick<R: Runtime>(
    _app: &AppHandle<R>,
    device: &Device,
    days: &[u32],
    lang: Lang,
) -> Result<(), String> {
    let (due, plan) = match device.due_reminders(days, lang) {
        Ok(x) => x,
        // Nothing synced yet: nothing to remind of.
        Err(pustaka_client::DeviceError::NoData) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let mut shown = Vec::new();
    for r in &due {
        match pustaka_client::notify::show(r) {
            Ok(()) => shown.push(r.key.clone()),
            // No notification service (no daemon on this desktop): keep it
            // for the next minute rather than lose it.
            Err(e) => tracing::warn!("reminder {} not shown: {e}", r.key),
        }
    }
    device.mark_fired(&plan, &shown).map_err(|e| e.to_string())
}

#[cfg(mobile)]
fn tick<R: Runtime>(
    app: &AppHandle<R>,
    device: &Device,
    days: &[u32],
    lang: Lang,
) -> Result<(), String> {
    use pustaka_client::reminders::{numeric_id, reschedule};
    use tauri_plugin_notification::{NotificationExt, PermissionState, Schedule};

    const SCHEDULED: &str = "reminders.scheduled";
    let n = app.notification();
    if n.permission_state().map_err(|e| e.to_string())? != PermissionState::Granted
        && n.request_permission().map_err(|e| e.to_string())? != PermissionState::Granted
    {
        return Ok(());
    }
    let plan = match device.reminder_plan(days, lang) {
        Ok(p) => p,
        Err(pustaka_client::DeviceError::NoData) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    let now = device.now();
    let fired = device.fired_reminders().map_err(|e| e.to_string())?;
    let scheduled: std::collections::BTreeSet<String> = device
        .local_get(SCHEDULED)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let (add, cancel) = reschedule(&plan, &scheduled, &fired, now);
    if !cancel.is_empty() {
        n.cancel(cancel.iter().map(|k| numeric_id(k)).collect())
            .map_err(|e| e.to_string())?;
    }
    let mut now_scheduled: std::collections::BTreeSet<String> = scheduled
        .into_iter()
        .filter(|k| !cancel.contains(k))
        .collect();
    for r in add {
        let date = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.at) * 1_000_000)
            .map_err(|e| e.to_string())?;
        n.builder()
            .id(numeric_id(&r.key))
            .title(&r.title)
            .body(&r.body)
            .schedule(Schedule::At {
                date,
                repeating: false,
                allow_while_idle: true,
            })
            .show()
            .map_err(|e| e.to_string())?;
        now_scheduled.insert(r.key.clone());
    }
    // Due now: shown at once, then remembered like on desktop.
    let due: Vec<_> = pustaka_client::reminders::to_fire(&plan, &fired, now);
    let mut shown = Vec::new();
    for r in due {
        if now_scheduled.contains(&r.key) {
            continue;
        }
        n.builder()
            .id(numeric_id(&r.key))
            .title(&r.title)
            .body(&r.body)
            .show()
            .map_err(|e| e.to_string())?;
        shown.push(r.key.clone());
    }
    device
        .mark_fired(&plan, &shown)
        .map_err(|e| e.to_string())?;
    let json = serde_json::to_string(&now_scheduled).map_err(|e| e.to_string())?;
    device
        .local_set(SCHEDULED, &json)
        .map_err(|e| e.to_string())
}
