//! The app's one seam to the outside: a [`Transport`] that carries a
//! command name and JSON arguments, and the typed [`Backend`] over it.
//!
//! In the desktop and mobile shells the transport is Tauri's `invoke`
//! (`tauri.rs`, the only file that touches `window.__TAURI__`); in the
//! headless view tests it is [`crate::fake::FakeTransport`].

use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use pustaka_ipc::{Command, IpcError};
use serde_json::Value;

/// Moves one command to the shell and its answer back.
pub trait Transport {
    fn invoke(
        &self,
        name: &'static str,
        args: Value,
    ) -> LocalBoxFuture<'static, Result<Value, IpcError>>;
    /// Calls `on_event` with the payload of every `event` the shell emits.
    fn listen(&self, event: &'static str, on_event: Rc<dyn Fn(Value)>);
}

/// The typed backend the screens use: `backend.call(&Renew { .. })`.
#[derive(Clone)]
pub struct Backend(Rc<dyn Transport>);

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Backend {
    pub fn new(t: impl Transport + 'static) -> Backend {
        Backend(Rc::new(t))
    }

    pub async fn call<C: Command>(&self, command: &C) -> Result<C::Response, IpcError> {
        let args = serde_json::to_value(command)
            .map_err(|e| IpcError::new("encode", format!("{}: {e}", C::NAME)))?;
        let reply = self.0.invoke(C::NAME, args).await?;
        serde_json::from_value(reply)
            .map_err(|e| IpcError::new("decode", format!("{}: {e}", C::NAME)))
    }

    pub fn listen<T: serde::de::DeserializeOwned + 'static>(
        &self,
        event: &'static str,
        on_event: impl Fn(T) + 'static,
    ) {
        self.0.listen(
            event,
            Rc::new(move |v| {
                if let Ok(t) = serde_json::from_value(v) {
                    on_event(t)
                }
            }),
        );
    }
}
