//! Pustaka's patron UI.
//!
//! Skeleton: the Dioxus screens arrive with the app issue. The crate is in the
//! workspace now so the layout (`app → ipc → domain`) is fixed from the start.
