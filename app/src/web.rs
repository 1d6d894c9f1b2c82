//! The website's transport: the same commands, posted to the library's
//! server (`POST /web/v1/<command>`, see `pustaka_ipc::WEB_API`) instead of
//! Tauri's `invoke`. The page keeps two things in the browser's local
//! storage: the sign-in token and the settings (the language goes with
//! every call, so the FAQ answers in it).
//!
//! What the page does itself is in [`WebState`] (pure, tested natively);
//! [`Web`] adds `fetch` and `localStorage` in the browser.

use pustaka_ipc::{
    Command, GetSession, IpcError, OpenOnline, Session, SetSettings, Settings, SignIn, SignOut,
    WebSignedIn,
};
use serde_json::Value;

/// Local storage keys.
pub const TOKEN_KEY: &str = "pustaka.token";
pub const SETTINGS_KEY: &str = "pustaka.settings";

/// Where the page keeps its token and settings.
pub trait Keep {
    fn get(&self, key: &str) -> Option<String>;
    fn set(&self, key: &str, value: &str);
    fn remove(&self, key: &str);
}

/// What the page decides without the server, and how it reads the
/// server's answers.
pub struct WebState<K: Keep>(pub K);

/// A call as it goes to the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub path: String,
    pub body: String,
    pub token: Option<String>,
    pub lang: String,
}

impl<K: Keep> WebState<K> {
    pub fn settings(&self) -> Settings {
        self.0
            .get(SETTINGS_KEY)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    /// Commands answered in the page: `Some(answer)`; else `None` (ask the
    /// server).
    pub fn local(&self, name: &str, args: &Value) -> Option<Result<Value, IpcError>> {
        match name {
            SetSettings::NAME => Some(
                serde_json::from_value::<SetSettings>(args.clone())
                    .map_err(|e| IpcError::new("encode", e.to_string()))
                    .and_then(|s| {
                        let json = serde_json::to_string(&s.settings)
                            .map_err(|e| IpcError::new("encode", e.to_string()))?;
                        self.0.set(SETTINGS_KEY, &json);
                        serde_json::to_value(s.settings)
                            .map_err(|e| IpcError::new("encode", e.to_string()))
                    }),
            ),
            _ => None,
        }
    }

    pub fn outgoing(&self, name: &str, args: &Value) -> Outgoing {
        Outgoing {
            path: format!("{}/{name}", pustaka_ipc::WEB_API),
            body: args.to_string(),
            token: self.0.get(TOKEN_KEY),
            lang: self.settings().language,
        }
    }

    /// The server's answer to `name`, as the command's response.
    pub fn answered(&self, name: &str, reply: Value) -> Result<Value, IpcError> {
        let decode = |e: serde_json::Error| IpcError::new("decode", format!("{name}: {e}"));
        match name {
            SignIn::NAME => {
                let signed: WebSignedIn = serde_json::from_value(reply).map_err(decode)?;
                self.0.set(TOKEN_KEY, &signed.token);
                self.with_settings(signed.session)
            }
            SignOut::NAME => {
                self.0.remove(TOKEN_KEY);
                self.with_settings(serde_json::from_value(reply).map_err(decode)?)
            }
            GetSession::NAME => {
                let s: Session = serde_json::from_value(reply).map_err(decode)?;
                if !s.signed_in {
                    // Expired or revoked: the page forgets it.
                    self.0.remove(TOKEN_KEY);
                }
                self.with_settings(s)
            }
            _ => Ok(reply),
        }
    }

    /// A refused call: an expired token is forgotten.
    pub fn failed(&self, e: IpcError) -> IpcError {
        if e.code == "unauthorized" {
            self.0.remove(TOKEN_KEY);
        }
        e
    }

    fn with_settings(&self, mut s: Session) -> Result<Value, IpcError> {
        s.settings = self.settings();
        serde_json::to_value(s).map_err(|e| IpcError::new("decode", e.to_string()))
    }
}

/// Links the website opens itself (a new tab), like `OpenOnline` on a device.
pub fn online_link(args: &Value) -> Option<String> {
    serde_json::from_value::<OpenOnline>(args.clone())
        .ok()
        .map(|o| o.url)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

#[cfg(target_arch = "wasm32")]
pub use browser::Web;

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::rc::Rc;

    use futures_util::future::LocalBoxFuture;
    use pustaka_ipc::{Command, IpcError, OpenOnline};
    use serde_json::Value;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{Keep, WebState, online_link};
    use crate::backend::Transport;

    struct LocalStorage;

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok()?
    }

    impl Keep for LocalStorage {
        fn get(&self, key: &str) -> Option<String> {
            storage()?.get_item(key).ok()?
        }
        fn set(&self, key: &str, value: &str) {
            if let Some(s) = storage() {
                let _ = s.set_item(key, value);
            }
        }
        fn remove(&self, key: &str) {
            if let Some(s) = storage() {
                let _ = s.remove_item(key);
            }
        }
    }

    /// The browser transport.
    pub struct Web(Rc<WebState<LocalStorage>>);

    impl Web {
        pub fn new() -> Web {
            Web(Rc::new(WebState(LocalStorage)))
        }
    }

    impl Default for Web {
        fn default() -> Self {
            Web::new()
        }
    }

    fn js(e: JsValue) -> IpcError {
        IpcError::new("offline", e.as_string().unwrap_or_else(|| format!("{e:?}")))
    }

    async fn post(out: super::Outgoing) -> Result<(u16, String), IpcError> {
        let window = web_sys::window().ok_or_else(|| IpcError::new("offline", "no window"))?;
        let headers = web_sys::Headers::new().map_err(js)?;
        headers
            .set("content-type", "application/json")
            .map_err(js)?;
        headers
            .set(pustaka_ipc::WEB_LANG_HEADER, &out.lang)
            .map_err(js)?;
        if let Some(t) = &out.token {
            headers
                .set("authorization", &format!("Bearer {t}"))
                .map_err(js)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&out.body));
        let resp: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(&out.path, &init))
                .await
                .map_err(js)?
                .dyn_into()
                .map_err(js)?;
        let text = JsFuture::from(resp.text().map_err(js)?)
            .await
            .map_err(js)?
            .as_string()
            .unwrap_or_default();
        Ok((resp.status(), text))
    }

    impl Transport for Web {
        fn invoke(
            &self,
            name: &'static str,
            args: Value,
        ) -> LocalBoxFuture<'static, Result<Value, IpcError>> {
            let state = self.0.clone();
            Box::pin(async move {
                if let Some(answer) = state.local(name, &args) {
                    return answer;
                }
                if name == OpenOnline::NAME {
                    let url = online_link(&args)
                        .ok_or_else(|| IpcError::new("invalid", "not a web link"))?;
                    if let Some(w) = web_sys::window() {
                        let _ = w.open_with_url_and_target(&url, "_blank");
                    }
                    return Ok(Value::Null);
                }
                let (status, text) = post(state.outgoing(name, &args)).await?;
                let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if (200..300).contains(&status) {
                    state.answered(name, value)
                } else {
                    let e = serde_json::from_value::<IpcError>(value).unwrap_or_else(|_| {
                        IpcError::new("http", format!("{name}: HTTP {status}"))
                    });
                    Err(state.failed(e))
                }
            })
        }

        /// The website has no background sync to report: screens refetch
        /// after each action.
        fn listen(&self, _event: &'static str, _on_event: Rc<dyn Fn(Value)>) {}
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use pustaka_ipc::SyncStatus;
    use serde_json::json;

    use super::*;

    #[derive(Default)]
    struct Map(RefCell<BTreeMap<String, String>>);

    impl Keep for Map {
        fn get(&self, key: &str) -> Option<String> {
            self.0.borrow().get(key).cloned()
        }
        fn set(&self, key: &str, value: &str) {
            self.0.borrow_mut().insert(key.into(), value.into());
        }
        fn remove(&self, key: &str) {
            self.0.borrow_mut().remove(key);
        }
    }

    fn session(signed_in: bool) -> Session {
        Session {
            signed_in,
            server: None,
            card: signed_in.then(|| "1001".into()),
            name: None,
            status: SyncStatus::default(),
            settings: Settings::default(),
            data_dir: String::new(),
            opened_with: None,
            suggested_server: None,
            web: true,
        }
    }

    #[test]
    fn the_token_is_kept_from_sign_in_to_sign_out_and_forgotten_when_refused() {
        let w = WebState(Map::default());
        assert_eq!(w.outgoing("get_account", &json!({})).token, None);
        let signed = WebSignedIn {
            session: session(true),
            token: "tok".into(),
        };
        let s = w
            .answered(
                SignIn::NAME,
                serde_json::to_value(&signed).unwrap_or_default(),
            )
            .unwrap_or_default();
        assert_eq!(s["signed_in"], json!(true));
        assert!(s.get("token").is_none(), "the token stays in the transport");
        let out = w.outgoing("get_account", &json!({}));
        assert_eq!(out.token.as_deref(), Some("tok"));
        assert_eq!(out.path, "/web/v1/get_account");
        // The server no longer knows the token: the page forgets it.
        let _ = w.answered(
            GetSession::NAME,
            serde_json::to_value(session(false)).unwrap_or_default(),
        );
        assert_eq!(w.outgoing("x", &json!({})).token, None);
        w.0.set(TOKEN_KEY, "tok2");
        let e = w.failed(IpcError::new("unauthorized", "sign in"));
        assert_eq!(e.code, "unauthorized");
        assert_eq!(w.0.get(TOKEN_KEY), None);
        w.0.set(TOKEN_KEY, "tok3");
        let _ = w.answered(
            SignOut::NAME,
            serde_json::to_value(session(false)).unwrap_or_default(),
        );
        assert_eq!(w.0.get(TOKEN_KEY), None);
    }

    #[test]
    fn settings_stay_in_the_page_and_the_language_goes_with_every_call() {
        let w = WebState(Map::default());
        assert_eq!(w.outgoing("search_faq", &json!({})).lang, "id");
        let settings = Settings {
            language: "en".into(),
            reminder_days: vec![2],
        };
        let r = w.local(
            SetSettings::NAME,
            &serde_json::to_value(SetSettings {
                settings: settings.clone(),
            })
            .unwrap_or_default(),
        );
        assert_eq!(r.and_then(|r| r.ok()), serde_json::to_value(&settings).ok());
        assert_eq!(w.outgoing("search_faq", &json!({})).lang, "en");
        let s = w
            .answered(
                GetSession::NAME,
                serde_json::to_value(session(true)).unwrap_or_default(),
            )
            .unwrap_or_default();
        assert_eq!(s["settings"]["language"], json!("en"));
        assert!(w.local("get_account", &json!({})).is_none());
        assert!(w.answered(SignIn::NAME, json!({"nope": 1})).is_err());
    }

    #[test]
    fn only_web_links_open() {
        assert_eq!(
            online_link(&json!({"url": "https://ebook.example/1"})).as_deref(),
            Some("https://ebook.example/1")
        );
        assert_eq!(online_link(&json!({"url": "javascript:alert(1)"})), None);
        assert_eq!(online_link(&json!({})), None);
    }
}
