//! Guarded sync steps: bytes in, bytes out, limits enforced before automerge
//! sees anything a patron sent.

use automerge::AutoCommit;
use automerge::sync::{BloomFilter, Message, State, SyncDoc};

use crate::ReplicaError;

/// Limits on what one peer may push in one message or one document.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_changes_per_message: usize,
    pub max_doc_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 1024 * 1024,
            max_changes_per_message: 2_000,
            max_doc_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Decodes a peer's sync message after checking its size and change count.
pub fn decode_message(bytes: &[u8], limits: &Limits) -> Result<Message, ReplicaError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(ReplicaError::Limit(format!(
            "message of {} bytes is over the limit of {}",
            bytes.len(),
            limits.max_message_bytes
        )));
    }
    let msg = Message::decode(bytes).map_err(|e| ReplicaError::Decode(e.to_string()))?;
    if msg.changes.len() > limits.max_changes_per_message {
        return Err(ReplicaError::TooManyChanges {
            changes: msg.changes.len(),
            limit: limits.max_changes_per_message,
        });
    }
    if msg.have.len() > MAX_HAVES {
        return Err(ReplicaError::Limit(format!(
            "{} summaries in one message, the limit is {MAX_HAVES}",
            msg.have.len()
        )));
    }
    for have in &msg.have {
        check_bloom(&have.bloom).map_err(ReplicaError::Decode)?;
    }
    Ok(msg)
}

/// A peer sends one summary per sync; a few cover reconnects.
const MAX_HAVES: usize = 16;
/// automerge's own filters use 7 probes.
const MAX_BLOOM_PROBES: u64 = 64;

/// automerge (0.12) trusts the parameters of a peer's Bloom filter: zero
/// bits per entry makes the next `generate` panic (a remainder by zero,
/// found by `cargo xtask fuzz sync_message`), and a huge probe count makes
/// it allocate gigabytes. Such filters are refused before automerge uses
/// them.
fn check_bloom(bloom: &BloomFilter) -> Result<(), String> {
    let bytes = bloom.to_bytes();
    if bytes.is_empty() {
        return Ok(());
    }
    let mut rest = bytes.as_slice();
    let _entries = leb128_u32(&mut rest)?;
    let _bits_per_entry = leb128_u32(&mut rest)?;
    let probes = leb128_u32(&mut rest)?;
    if rest.is_empty() {
        return Err("a Bloom filter with entries but no bits".into());
    }
    if probes > MAX_BLOOM_PROBES {
        return Err(format!(
            "a Bloom filter with {probes} probes (at most {MAX_BLOOM_PROBES})"
        ));
    }
    Ok(())
}

fn leb128_u32(input: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for (i, byte) in input.iter().enumerate().take(5) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *input = &input[i + 1..];
            return Ok(value);
        }
    }
    Err("a Bloom filter with a malformed header".into())
}

/// Whether a message asks the peer for something or gives it changes,
/// rather than only announcing heads. A message that only announces heads
/// need not be sent: the next session's first message carries them anyway.
pub fn carries_payload(bytes: &[u8]) -> bool {
    Message::decode(bytes).is_ok_and(|m| !m.changes.is_empty() || !m.need.is_empty())
}

/// Applies a peer's message. When it would change the document and a
/// document size limit is set, it is applied to a fork that replaces the
/// document only on success, so a refused message leaves nothing behind;
/// there the changes it adds are counted again (a chunk may hold many).
/// Messages that change nothing (heads, needs, or changes a read-only state
/// ignores) skip the fork.
pub fn receive(
    doc: &mut AutoCommit,
    state: &mut State,
    bytes: &[u8],
    limits: &Limits,
) -> Result<(), ReplicaError> {
    let msg = decode_message(bytes, limits)?;
    let changes_doc = !msg.changes.is_empty() && !state.read_only;
    if !changes_doc || limits.max_doc_bytes == usize::MAX {
        return doc
            .sync()
            .receive_sync_message(state, msg)
            .map_err(|e| ReplicaError::Decode(e.to_string()));
    }
    let before = doc.get_heads();
    let mut trial = doc.fork();
    let mut trial_state = state.clone();
    trial
        .sync()
        .receive_sync_message(&mut trial_state, msg)
        .map_err(|e| ReplicaError::Decode(e.to_string()))?;
    // `decode_message` counted chunks, and one chunk may be a whole
    // document: automerge itself sends one (a v2 message) when more than a
    // third of the document is new. The changes it really added count.
    let added = trial.get_changes_meta(&before).len();
    if added > limits.max_changes_per_message {
        return Err(ReplicaError::TooManyChanges {
            changes: added,
            limit: limits.max_changes_per_message,
        });
    }
    let size = trial.save_nocompress().len();
    if size > limits.max_doc_bytes {
        return Err(ReplicaError::Limit(format!(
            "the document would grow to {size} bytes, over the limit of {}",
            limits.max_doc_bytes
        )));
    }
    *doc = trial;
    *state = trial_state;
    Ok(())
}

/// The next message for the peer, encoded, if there is anything to say.
///
/// A change the peer explicitly asks for is sent again even if this session
/// sent it before: the peer may have lost it (a server holding a change
/// whose dependency had not arrived yet keeps it only in memory, and a
/// restart drops it). Without this, automerge's "already sent" set would
/// leave both sides asking and refusing until the session ends.
pub fn generate(doc: &mut AutoCommit, state: &mut State) -> Option<Vec<u8>> {
    if let Some(need) = &state.their_need {
        for h in need {
            state.sent_hashes.remove(h);
        }
    }
    doc.sync().generate_sync_message(state).map(Message::encode)
}

/// Restores a persisted sync state. A server-owned document is always synced
/// with a read-only state on the server, whatever the bytes said.
pub fn restore_state(bytes: Option<&[u8]>, read_only: bool) -> Result<State, ReplicaError> {
    let mut state = match bytes {
        Some(b) => State::decode(b).map_err(|e| ReplicaError::Decode(e.to_string()))?,
        None => State::new(),
    };
    // automerge encodes heads assuming they are sorted (a debug assertion,
    // found by `cargo xtask fuzz sync_state`); a damaged stored state must
    // not carry unsorted ones into a message.
    state.shared_heads.sort_unstable();
    state.shared_heads.dedup();
    state.set_read_only(read_only);
    Ok(state)
}

pub fn persist_state(state: &State) -> Vec<u8> {
    state.encode()
}

/// Loads a document from stored bytes (snapshot followed by chunks).
pub fn load(bytes: &[u8], limits: &Limits) -> Result<AutoCommit, ReplicaError> {
    if bytes.len() > limits.max_doc_bytes {
        return Err(ReplicaError::Limit(format!(
            "stored document of {} bytes is over the limit",
            bytes.len()
        )));
    }
    AutoCommit::load(bytes).map_err(|e| ReplicaError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{ROOT, ReadDoc, transaction::Transactable};

    /// Found by the fuzzer: a summary whose Bloom filter has entries and
    /// zero bits made automerge panic when the reply was generated. It is
    /// now refused on decoding, and the document is untouched.
    #[test]
    fn a_poisoned_bloom_filter_is_refused_before_automerge_uses_it() {
        let bytes =
            include_bytes!("../../../fuzz/regressions/sync_message/bloom-zero-bits-per-entry.bin");
        let err = decode_message(bytes, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("Bloom filter"), "{err}");
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "k", "v").unwrap();
        let heads = doc.get_heads();
        let mut state = State::new();
        assert!(receive(&mut doc, &mut state, bytes, &Limits::default()).is_err());
        assert_eq!(doc.get_heads(), heads);
        // An honest peer's summary still passes.
        let mut peer = AutoCommit::new();
        peer.put(ROOT, "x", 1).unwrap();
        let mut ps = State::new();
        let first = generate(&mut peer, &mut ps).unwrap();
        receive(&mut doc, &mut state, &first, &Limits::default()).unwrap();
        let reply = generate(&mut doc, &mut state).unwrap();
        receive(&mut peer, &mut ps, &reply, &Limits::default()).unwrap();
        let again = generate(&mut peer, &mut ps).unwrap();
        assert!(!Message::decode(&again).unwrap().have.is_empty());
        decode_message(&again, &Limits::default()).unwrap();
    }

    fn until_quiet(
        server: &mut AutoCommit,
        ss: &mut State,
        client: &mut AutoCommit,
        cs: &mut State,
    ) -> usize {
        let limits = Limits::default();
        for rounds in 0..20 {
            let c = generate(client, cs);
            if let Some(m) = &c {
                receive(server, ss, m, &limits).unwrap();
            }
            let s = generate(server, ss);
            if let Some(m) = &s {
                receive(client, cs, m, &limits).unwrap();
            }
            if c.is_none() && s.is_none() {
                return rounds;
            }
        }
        panic!("sync did not settle");
    }

    #[test]
    fn read_only_server_state_never_applies_a_forged_change() {
        let mut server = AutoCommit::new();
        server.put(ROOT, "due", "2026-12-01").unwrap();
        let mut ss = restore_state(None, true).unwrap();
        let mut client = AutoCommit::new();
        let mut cs = State::new();
        until_quiet(&mut server, &mut ss, &mut client, &mut cs);
        assert_eq!(client.get_heads(), server.get_heads());

        client.put(ROOT, "due", "2099-01-01").unwrap();
        client.commit();
        until_quiet(&mut server, &mut ss, &mut client, &mut cs);
        let (v, _) = server.get(ROOT, "due").unwrap().unwrap();
        assert_eq!(v.as_str(), Some("2026-12-01"));
        // A restored state stays read-only.
        let mut restored = restore_state(Some(&persist_state(&ss)), true).unwrap();
        let msg = generate(&mut client, &mut cs);
        if let Some(m) = msg {
            receive(&mut server, &mut restored, &m, &Limits::default()).unwrap();
        }
        let (v, _) = server.get(ROOT, "due").unwrap().unwrap();
        assert_eq!(v.as_str(), Some("2026-12-01"));
    }

    #[test]
    fn a_change_the_peer_lost_is_sent_again_when_it_asks() {
        use automerge::sync::{BloomFilter, Have};
        let limits = Limits::default();
        let mut client = AutoCommit::new();
        for i in 0..10 {
            client.put(ROOT, format!("k{i}"), i).unwrap();
            client.commit();
        }
        let mut server = AutoCommit::new();
        let (mut ss, mut cs) = (State::new(), State::new());
        until_quiet(&mut server, &mut ss, &mut client, &mut cs);
        let base = server.get_heads();
        client.put(ROOT, "x", 1).unwrap();
        client.commit();
        let x = client.get_heads()[0];
        client.put(ROOT, "y", 2).unwrap();
        client.commit();
        // A Bloom-filter false positive: the client believes the server has X,
        // so it sends only Y, which the server cannot apply and holds in memory.
        cs.their_heads = Some(base.clone());
        cs.their_need = Some(vec![]);
        cs.their_have = Some(vec![Have {
            last_sync: base.clone(),
            bloom: BloomFilter::from_hashes([x].iter()),
        }]);
        let stored = server.save();
        let persisted = persist_state(&ss);
        let m = generate(&mut client, &mut cs).unwrap();
        receive(&mut server, &mut ss, &m, &limits).unwrap();
        assert_eq!(server.get_heads(), base);
        // The server restarts from what it had stored: Y is gone.
        let mut server = AutoCommit::load(&stored).unwrap();
        let mut ss = restore_state(Some(&persisted), false).unwrap();
        for _ in 0..8 {
            if let Some(m) = generate(&mut server, &mut ss) {
                receive(&mut client, &mut cs, &m, &limits).unwrap();
            }
            if let Some(m) = generate(&mut client, &mut cs) {
                receive(&mut server, &mut ss, &m, &limits).unwrap();
            }
        }
        assert_eq!(
            server.get_heads(),
            client.get_heads(),
            "the lost changes were sent again"
        );
    }

    /// Found by `tests/tests/adversarial.rs`: the change limit counted a
    /// message's chunks, and automerge sends a whole document as one chunk
    /// (a v2 message) once more than a third of it is new, so thousands of
    /// changes passed as "one". The changes a message adds are what count.
    #[test]
    fn a_whole_document_chunk_counts_every_change_in_it() {
        let mut client = AutoCommit::new();
        for i in 0..50 {
            client.put(ROOT, "n", i).unwrap();
            client.commit();
        }
        let mut server = AutoCommit::new();
        let (mut ss, mut cs) = (State::new(), State::new());
        let first = generate(&mut server, &mut ss).unwrap();
        receive(&mut client, &mut cs, &first, &Limits::default()).unwrap();
        let big = generate(&mut client, &mut cs).unwrap();
        assert_eq!(
            Message::decode(&big).unwrap().changes.len(),
            1,
            "automerge sent the whole document as one chunk"
        );
        let tight = Limits {
            max_changes_per_message: 10,
            ..Limits::default()
        };
        let err = receive(&mut server, &mut ss, &big, &tight).unwrap_err();
        assert!(
            matches!(
                &err,
                ReplicaError::TooManyChanges {
                    changes: 50,
                    limit: 10
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("50 changes"), "{err}");
        assert!(server.get_heads().is_empty(), "nothing was applied");
        // Within the limit the same message applies.
        receive(&mut server, &mut ss, &big, &Limits::default()).unwrap();
        assert_eq!(server.get_heads(), client.get_heads());
    }

    #[test]
    fn limits_refuse_before_decoding() {
        let limits = Limits {
            max_message_bytes: 10,
            ..Limits::default()
        };
        let err = decode_message(&[0u8; 11], &limits).unwrap_err();
        assert!(matches!(err, ReplicaError::Limit(_)));
        let err = decode_message(&[0x42, 1, 2], &Limits::default()).unwrap_err();
        assert!(matches!(err, ReplicaError::Decode(_)));
        assert!(restore_state(Some(&[1, 2, 3]), false).is_err());
    }

    #[test]
    fn too_many_changes_are_refused_and_the_doc_is_unchanged() {
        let mut client = AutoCommit::new();
        for i in 0..50 {
            client.put(ROOT, "n", i).unwrap();
            client.commit();
        }
        let mut server = AutoCommit::new();
        let mut ss = State::new();
        let mut cs = State::new();
        // First round: server announces its (empty) heads.
        let first = generate(&mut server, &mut ss).unwrap();
        receive(&mut client, &mut cs, &first, &Limits::default()).unwrap();
        let big = generate(&mut client, &mut cs).unwrap();
        let tight = Limits {
            max_changes_per_message: 10,
            ..Limits::default()
        };
        let before = server.get_heads();
        // A v2 message may carry the whole doc as one chunk; then the doc size
        // limit is the guard instead.
        let tiny_doc = Limits {
            max_doc_bytes: 64,
            ..tight
        };
        assert!(receive(&mut server, &mut ss, &big, &tiny_doc).is_err());
        assert_eq!(server.get_heads(), before);
    }
}
