//! The Tauri transport: the only file that touches `window.__TAURI__`.
//! Commands go through `core.invoke(name, {args})`; a rejected promise
//! carries the shell's `{code, message}` error.

use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use pustaka_ipc::IpcError;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::backend::Transport;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<JsValue, JsValue>;
}

pub struct Tauri;

/// Whether the page runs in the app's shell (Tauri injected its global
/// before any page script); in a browser it is the library's website.
pub fn present() -> bool {
    web_sys::window()
        .is_some_and(|w| js_sys::Reflect::has(&w, &JsValue::from_str("__TAURI__")).unwrap_or(false))
}

fn to_js(v: &Value) -> Result<JsValue, IpcError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| IpcError::new("encode", e.to_string()))
}

fn from_js(v: JsValue) -> Value {
    serde_wasm_bindgen::from_value(v).unwrap_or(Value::Null)
}

impl Transport for Tauri {
    fn invoke(
        &self,
        name: &'static str,
        args: Value,
    ) -> LocalBoxFuture<'static, Result<Value, IpcError>> {
        Box::pin(async move {
            let args = to_js(&serde_json::json!({ "args": args }))?;
            match tauri_invoke(name, args).await {
                Ok(v) => Ok(from_js(v)),
                Err(e) => {
                    let v = from_js(e.clone());
                    Err(serde_json::from_value::<IpcError>(v).unwrap_or_else(|_| {
                        IpcError::new("ipc", e.as_string().unwrap_or_else(|| format!("{e:?}")))
                    }))
                }
            }
        })
    }

    fn listen(&self, event: &'static str, on_event: Rc<dyn Fn(Value)>) {
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let v = from_js(e);
            on_event(v.get("payload").cloned().unwrap_or(Value::Null));
        });
        wasm_bindgen_futures::spawn_local(async move {
            let _ = tauri_listen(event, &handler).await;
            // The shell's listener lives as long as the page.
            handler.forget();
        });
    }
}
