//! The page scripts the UI talks to besides Tauri: the shelf scanner's
//! camera and photo reading (`app/static/scanner.js`, loaded by
//! `index.html`: the app's CSP allows no eval). Off the web (headless
//! tests) these do nothing.

/// The scanner's page side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageScanner;

#[cfg(target_arch = "wasm32")]
mod bindings {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = pustakaScanner, js_name = attach, catch)]
        pub fn attach(handler: &Closure<dyn FnMut(JsValue)>) -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = pustakaScanner, js_name = command, catch)]
        pub fn command(cmd: &str) -> Result<(), JsValue>;
    }
}

impl PageScanner {
    /// Routes what the page sends (pictures, frames, "no camera") to
    /// `handler` from now on.
    pub fn attach(self, handler: impl FnMut(serde_json::Value) + 'static) {
        #[cfg(target_arch = "wasm32")]
        {
            use wasm_bindgen::prelude::*;
            let mut handler = handler;
            let cb = Closure::<dyn FnMut(JsValue)>::new(move |v: JsValue| {
                handler(serde_wasm_bindgen::from_value(v).unwrap_or(serde_json::Value::Null));
            });
            let _ = bindings::attach(&cb);
            // The page keeps calling it for the app's lifetime; a later
            // scanner screen attaches its own and this one is dropped by GC
            // of the page's reference.
            cb.forget();
        }
        #[cfg(not(target_arch = "wasm32"))]
        drop(handler);
    }

    /// `start` the camera, or answer a frame: `next` or `stop`.
    pub fn command(self, cmd: &str) {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = bindings::command(cmd);
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = cmd;
    }
}
