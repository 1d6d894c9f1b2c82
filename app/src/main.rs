//! The wasm entry point: the UI over the Tauri transport.

#[cfg(target_arch = "wasm32")]
fn main() {
    use dioxus::prelude::*;
    use pustaka_app::{Backend, Shell};
    dioxus::launch(|| {
        rsx! {
            Shell { backend: Backend::new(pustaka_app::tauri::Tauri) }
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("pustaka-app is the wasm UI: build it with `cargo xtask ui` and run it in the shell");
}
