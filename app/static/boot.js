// Loads the Dioxus UI (wasm-bindgen output) into #main.
import init from "./pustaka-app.js";
// Resolved against this module, not the page: a deep link such as
// /title/T0001 on the website must not look for /title/pustaka-app_bg.wasm.
init({ module_or_path: new URL("./pustaka-app_bg.wasm", import.meta.url) });
