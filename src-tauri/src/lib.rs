//! Pustaka's Tauri 2 shell.
//!
//! Skeleton: the shell (commands delegating to `pustaka-client`, the background
//! sync task, deep links) arrives with the app issue. Until then the headless
//! device is driven by the `pustaka-device` command-line tool.
