//! The shell's state: the headless device, the patron's settings and the
//! link the app was opened with. Everything here is plain Rust; `commands`
//! is the thin Tauri layer over it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pustaka_client::household::Household;
use pustaka_client::{Device, DeviceError, SystemClock};
use pustaka_ipc::{IpcError, Session, Settings};

pub struct Shell {
    /// Every library card on this device; the active one is what the
    /// screens show.
    pub household: Household,
    pub data_dir: PathBuf,
    pub settings: Mutex<Settings>,
    pub opened_with: Mutex<Option<String>>,
    /// Prefilled on the sign-in screen (`PUSTAKA_SERVER`).
    pub suggested_server: Option<String>,
}

pub fn ipc(e: DeviceError) -> IpcError {
    IpcError::new(e.code(), e.to_string())
}

/// A link the page may ask the system to open: http(s), short, no spaces or
/// control characters.
pub fn checked_link(url: &str) -> Result<&str, IpcError> {
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IpcError::new(
            "bad_link",
            format!(
                "not an http(s) link: {}",
                url.chars().take(60).collect::<String>()
            ),
        ));
    }
    Ok(url)
}

fn settings_path(dir: &Path) -> PathBuf {
    dir.join("settings.json")
}

impl Shell {
    pub fn open(data_dir: PathBuf) -> Result<Shell, IpcError> {
        std::fs::create_dir_all(&data_dir)
            .map_err(|e| IpcError::new("storage", format!("{}: {e}", data_dir.display())))?;
        // Before households, one card lived in `pustaka.sqlite3`: it
        // becomes the household's first member.
        let household = Household::open_with_legacy(
            &data_dir.join("household"),
            Some(&data_dir.join("pustaka.sqlite3")),
            Arc::new(SystemClock),
        )
        .map_err(ipc)?;
        // Settings are the device owner's, not the patron's data: they
        // survive sign-out. A damaged file falls back to the defaults.
        let settings = std::fs::read_to_string(settings_path(&data_dir))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Ok(Shell {
            household,
            data_dir,
            settings: Mutex::new(settings),
            opened_with: Mutex::new(None),
            suggested_server: std::env::var("PUSTAKA_SERVER").ok(),
        })
    }

    /// The active card's device.
    pub fn device(&self) -> Arc<Device> {
        self.household.active()
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Validates and stores new settings (written atomically).
    pub fn set_settings(&self, mut s: Settings) -> Result<Settings, IpcError> {
        if s.language != "id" && s.language != "en" {
            return Err(IpcError::new(
                "invalid_settings",
                "language must be `id` or `en`",
            ));
        }
        s.reminder_days.retain(|d| (1..=14).contains(d));
        s.reminder_days.sort_unstable_by(|a, b| b.cmp(a));
        s.reminder_days.dedup();
        s.reminder_days.truncate(4);
        let json = serde_json::to_string_pretty(&s)
            .map_err(|e| IpcError::new("storage", e.to_string()))?;
        let tmp = self.data_dir.join("settings.json.tmp");
        std::fs::write(&tmp, json)
            .and_then(|_| std::fs::rename(&tmp, settings_path(&self.data_dir)))
            .map_err(|e| IpcError::new("storage", e.to_string()))?;
        if let Ok(mut cur) = self.settings.lock() {
            *cur = s.clone();
        }
        Ok(s)
    }

    pub fn session(&self) -> Session {
        let who = self.device().signed_in_as();
        Session {
            signed_in: who.is_some(),
            server: who.as_ref().map(|w| w.0.clone()),
            card: who.as_ref().map(|w| w.1.clone()),
            name: who.as_ref().map(|w| w.2.clone()),
            status: self.device().status(),
            settings: self.settings(),
            data_dir: self.data_dir.display().to_string(),
            opened_with: self.opened_with.lock().ok().and_then(|o| o.clone()),
            suggested_server: self.suggested_server.clone(),
            web: false,
        }
    }

    /// Saves the library's export of the patron's data into `dir`.
    pub async fn write_export(&self, dir: &Path) -> Result<String, IpcError> {
        let data = self.device().export_data().await.map_err(ipc)?;
        let card = data["patron"]["card"].as_str().unwrap_or("patron");
        let safe: String = card
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let text = serde_json::to_string_pretty(&data)
            .map_err(|e| IpcError::new("internal", e.to_string()))?;
        std::fs::create_dir_all(dir).map_err(|e| IpcError::new("storage", e.to_string()))?;
        let path = dir.join(format!("pustaka-data-{safe}.json"));
        std::fs::write(&path, text).map_err(|e| IpcError::new("storage", e.to_string()))?;
        Ok(path.display().to_string())
    }

    /// Writes an event's calendar file into `dir`; returns its path.
    pub fn write_event_ics(&self, event: &str, dir: &Path) -> Result<String, IpcError> {
        let view = self.device().view().map_err(ipc)?;
        let e = view
            .events
            .iter()
            .find(|e| e.id == event)
            .ok_or_else(|| IpcError::new("unknown_event", event.to_string()))?;
        let title = if self.settings().language == "en" {
            &e.title_en
        } else {
            &e.title_id
        };
        let branch = e
            .branch
            .as_deref()
            .and_then(|b| view.branches.iter().find(|x| x.id == b))
            .map(|b| format!("{}, {}", e.place, b.name))
            .unwrap_or_else(|| e.place.clone());
        let text = pustaka_client::ics::event(e, title, &branch, "pustaka", self.device().now());
        let safe: String =
            e.id.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
        std::fs::create_dir_all(dir).map_err(|e| IpcError::new("storage", e.to_string()))?;
        let path = dir.join(format!("pustaka-{safe}.ics"));
        std::fs::write(&path, text).map_err(|e| IpcError::new("storage", e.to_string()))?;
        Ok(path.display().to_string())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_web_links_are_opened() {
        assert_eq!(
            checked_link(" https://buku.kemdikbud.go.id/ ").ok(),
            Some("https://buku.kemdikbud.go.id/")
        );
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://a b",
            "pustaka://loans",
            "",
        ] {
            assert_eq!(
                checked_link(bad).map_err(|e| e.code),
                Err("bad_link".to_string()),
                "{bad}"
            );
        }
    }

    use super::*;

    #[test]
    fn settings_are_validated_and_survive_a_restart() {
        let dir = tempfile::tempdir().expect("tmp");
        let shell = Shell::open(dir.path().to_path_buf()).expect("open");
        assert_eq!(shell.settings(), Settings::default());
        let bad = Settings {
            language: "fr".into(),
            ..Settings::default()
        };
        assert_eq!(
            shell.set_settings(bad).map_err(|e| e.code),
            Err("invalid_settings".into())
        );
        let s = shell
            .set_settings(Settings {
                language: "en".into(),
                reminder_days: vec![1, 3, 3, 99],
            })
            .expect("set");
        assert_eq!(s.reminder_days, vec![3, 1]);
        drop(shell);
        let again = Shell::open(dir.path().to_path_buf()).expect("reopen");
        assert_eq!(again.settings().language, "en");
        assert!(!again.session().signed_in);
    }
}
