//! Showing a reminder on a desktop through notify-rust: freedesktop
//! notifications over the D-Bus session bus on Linux (any daemon: GNOME
//! Shell, KDE, dunst), Notification Center on macOS, toasts on Windows.
//! Mobile systems schedule reminders through the Tauri notification
//! plugin instead (see `src-tauri`); there this module only reports that.

use crate::reminders::Reminder;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("no notification service: {0}")]
    Unavailable(String),
}

/// The application name notification daemons show and group by.
pub const APP_NAME: &str = "Pustaka";

#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub fn show(reminder: &Reminder) -> Result<(), NotifyError> {
    let mut n = notify_rust::Notification::new();
    n.appname(APP_NAME)
        .summary(&reminder.title)
        .body(&reminder.body)
        .icon("pustaka");
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        n.hint(notify_rust::Hint::Category("reminder".into()))
            .hint(notify_rust::Hint::Custom(
                "x-pustaka-link".into(),
                reminder.link.clone(),
            ));
    }
    n.show()
        .map(|_| ())
        .map_err(|e| NotifyError::Unavailable(e.to_string()))
}

#[cfg(any(target_os = "android", target_os = "ios"))]
pub fn show(_reminder: &Reminder) -> Result<(), NotifyError> {
    Err(NotifyError::Unavailable(
        "mobile reminders are scheduled by the app's notification plugin".into(),
    ))
}
