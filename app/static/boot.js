// Loads the Dioxus UI (wasm-bindgen output) into #main.
import init from "./pustaka-app.js";
init({ module_or_path: "./pustaka-app_bg.wasm" });
