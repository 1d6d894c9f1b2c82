//! The wasm entry point: the UI over the Tauri transport.

#[cfg(target_arch = "wasm32")]
fn main() {
    use dioxus::prelude::*;
    use pustaka_app::{Backend, Shell};
    dioxus::launch(|| {
        // After launch's own hook: a panic also leaves its message on
        // <body data-panic> (the end-to-end run reads it; no console there).
        use_hook(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                previous(info);
                if let Some(body) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.body())
                {
                    let _ = body.set_attribute("data-panic", &info.to_string());
                }
            }));
        });
        // In the app's shell, Tauri; in a browser, the library's server.
        let backend = use_hook(|| {
            let in_shell = pustaka_app::tauri::present();
            if in_shell {
                Backend::new(pustaka_app::tauri::Tauri)
            } else {
                Backend::new(pustaka_app::web::Web::new())
            }
        });
        rsx! {
            Shell { backend }
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("pustaka-app is the wasm UI: build it with `cargo xtask ui` and run it in the shell");
}
