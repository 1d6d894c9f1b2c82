//! The read model: what the screens show, computed from the replica's
//! documents (`circ`, `calendar`, the patron's intents) and the library's
//! policy alone. Pure: the device runs it on its local replica (offline),
//! the server runs it for the website on its own copy of the same documents.

pub mod account;
pub mod faq;

pub use account::*;
