//! What each fuzz target does with its bytes. The cargo-fuzz binaries in
//! `fuzz/` call these, and so does the stable regression test over
//! `fuzz/regressions/<target>/`, so a crasher found once stays fixed.
//!
//! Each function feeds the bytes to a decoder the way the server, the
//! device or an import would, with the same limits, and then uses what came
//! out (reads the documents, answers the sync) so a decoder that accepts
//! garbage which later code trips on is found too. Returning is success;
//! any panic is a finding.

use std::sync::OnceLock;

use automerge::sync::State;
use automerge::{ActorId, AutoCommit};
use pustaka_replica::intent::{Intent, IntentKind, append_intent, read_intents};
use pustaka_replica::sync::{self, Limits};
use pustaka_replica::{Calendar, Circ, outcome_keys, wire};

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// The targets, by the name of their binary and regression folder.
pub const TARGETS: [(&str, Target); 7] = [
    ("sync_envelope", sync_envelope),
    ("sync_message", sync_message),
    ("doc_load", doc_load),
    ("sync_state", sync_state),
    ("marc_record", marc_record),
    ("scan_image", scan_image),
    ("sip2_frame", sip2_frame),
];

/// Small limits keep each run fast; the checks are the same code.
const LIMITS: Limits = Limits {
    max_message_bytes: 256 * 1024,
    max_changes_per_message: 200,
    max_doc_bytes: 512 * 1024,
};

fn actor(name: &str) -> ActorId {
    ActorId::from(name.as_bytes())
}

/// A device's intents document holding one renewal, as the server stores it.
fn intents_doc() -> &'static AutoCommit {
    static DOC: OnceLock<AutoCommit> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = AutoCommit::new().with_actor(actor("device-1"));
        let intent = Intent::new(
            IntentKind::Renew {
                copy: "C0001".into(),
                seen_due: None,
            },
            1_795_000_000_000,
            "device-1",
            [7; 10],
        );
        // Writing into a fresh document cannot fail; an error would only
        // make the seed emptier.
        let _ = append_intent(&mut doc, &intent);
        doc
    })
}

/// The body of `POST /v1/sync` (and its reply on the device).
pub fn sync_envelope(data: &[u8]) {
    if let Ok(req) = wire::decode_request(data) {
        for d in &req.docs {
            if let Some(m) = &d.message {
                let _ = sync::decode_message(m, &LIMITS);
            }
        }
        // What the server would answer with must encode again.
        let _ = wire::encode(&req);
    }
    let _ = wire::decode_response(data);
}

/// A sync message from a patron's device, received into the intents
/// document on the server; and the same bytes as the library's message to
/// a device (circulation and calendar documents, writable there).
pub fn sync_message(data: &[u8]) {
    let mut doc = intents_doc().clone().with_actor(actor("server"));
    let mut state = State::new();
    if sync::receive(&mut doc, &mut state, data, &LIMITS).is_ok() {
        let _ = read_intents(&doc);
        let _ = outcome_keys(&doc);
        let _ = sync::generate(&mut doc, &mut state);
    }
    let mut on_device = AutoCommit::new().with_actor(actor("device-2"));
    let mut state = State::new();
    if sync::receive(&mut on_device, &mut state, data, &LIMITS).is_ok() {
        let _ = Circ::read(&on_device);
        let _ = Calendar::read(&on_device);
        let _ = sync::generate(&mut on_device, &mut state);
    }
}

/// A stored document (server storage or the device's SQLite), loaded and
/// read as every kind of document.
pub fn doc_load(data: &[u8]) {
    if let Ok(mut doc) = sync::load(data, &LIMITS) {
        let _ = read_intents(&doc);
        let _ = Circ::read(&doc);
        let _ = Calendar::read(&doc);
        let _ = outcome_keys(&doc);
        let mut state = State::new();
        let _ = sync::generate(&mut doc, &mut state);
    }
}

/// A persisted sync state, restored and used for the next message.
pub fn sync_state(data: &[u8]) {
    for read_only in [false, true] {
        if let Ok(mut state) = sync::restore_state(Some(data), read_only) {
            let mut doc = intents_doc().clone().with_actor(actor("server"));
            let _ = sync::generate(&mut doc, &mut state);
            let _ = sync::persist_state(&state);
        }
    }
}

/// A catalogue file given to `pustaka-sync import-marc`.
pub fn marc_record(data: &[u8]) {
    if let Ok(records) = pustaka_marc::read(data) {
        for record in records.take(64).flatten() {
            let _ = pustaka_marc::Bib::from_record(&record);
            let _ = pustaka_marc::bib::items(&record);
        }
    }
}

/// A picture given to the scanner (a file, or a photo taken in the app).
pub fn scan_image(data: &[u8]) {
    if let Ok(image) = pustaka_scan::decode(data) {
        let _ = pustaka_scan::Scanner::default().scan(&image);
    }
}

/// A frame from the library's system over SIP2.
pub fn sip2_frame(data: &[u8]) {
    let _ = pustaka_sip2::decode_frame(data);
}

/// Real inputs to start each target from (written into its corpus by
/// `cargo xtask fuzz`): mutations of valid bytes reach deeper than noise.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "sync_message" | "sync_envelope" => {
            let mut device = intents_doc().clone().with_actor(actor("device-3"));
            let mut state = State::new();
            let mut server = AutoCommit::new().with_actor(actor("server"));
            let mut server_state = State::new();
            let mut messages = vec![];
            for _ in 0..4 {
                if let Some(m) = sync::generate(&mut device, &mut state) {
                    let _ = sync::receive(&mut server, &mut server_state, &m, &LIMITS);
                    messages.push(m);
                }
                if let Some(m) = sync::generate(&mut server, &mut server_state) {
                    let _ = sync::receive(&mut device, &mut state, &m, &LIMITS);
                    messages.push(m);
                }
            }
            if target == "sync_message" {
                return messages;
            }
            messages
                .into_iter()
                .map(|m| {
                    wire::encode(&wire::SyncRequest {
                        device: "device-3".into(),
                        docs: vec![wire::DocMessage {
                            doc: "i-1001-0".into(),
                            message: Some(m),
                        }],
                    })
                })
                .collect()
        }
        "doc_load" => vec![intents_doc().clone().save()],
        "sync_state" => {
            let mut doc = intents_doc().clone();
            let mut state = State::new();
            let _ = sync::generate(&mut doc, &mut state);
            vec![sync::persist_state(&state)]
        }
        _ => vec![],
    }
}
