//! Adversarial sync against a real `pustaka-sync` on 127.0.0.1: huge
//! bodies, floods of tiny changes, lying sync summaries, random document
//! ids, a token expiring in the middle of a sync and a flapping network.
//! Each story asserts a clear error (status and `{code, message}`), that
//! nothing was stored or lost, that memory stayed bounded, and that honest
//! patrons go on syncing afterwards. Every loop is bounded in count and
//! every wait in time; only loopback is used.
//!
//! The memory checks read this process's `/proc/self/status` (the server
//! runs in-process), so the tests of this file run one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::sync::{BloomFilter, Have, Message};
use automerge::transaction::Transactable;
use automerge::{ChangeHash, ROOT};
use pustaka_client::{Device, DeviceError, PendingState};
use pustaka_replica::IntentKind;
use pustaka_replica::sync as rsync;
use pustaka_replica::wire::{self, DocMessage, SyncRequest};
use pustaka_scenarios::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// The memory checks need the process to themselves.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The most this process may grow while a test attacks the server.
const MAX_GROWTH_KB: u64 = 64 * 1024;

/// A wait that must end.
async fn bounded<F: std::future::Future>(secs: u64, what: &str, f: F) -> F::Output {
    timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}

/// Peak and current resident memory of this process (server included).
struct Memory {
    hwm: u64,
    rss: u64,
}

impl Memory {
    /// Also restarts the peak (`clear_refs` 5), so each test measures its
    /// own.
    fn now() -> Memory {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        Memory {
            hwm: status_kb("VmHWM:"),
            rss: status_kb("VmRSS:"),
        }
    }

    fn assert_bounded(&self, what: &str) {
        let after = Memory::now();
        let peak = after.hwm.saturating_sub(self.hwm);
        let kept = after.rss.saturating_sub(self.rss);
        eprintln!("{what}: peak grew {peak} kB, resident grew {kept} kB");
        assert!(
            peak < MAX_GROWTH_KB,
            "{what}: peak memory grew by {peak} kB (bound {MAX_GROWTH_KB} kB)"
        );
        assert!(
            kept < MAX_GROWTH_KB,
            "{what}: resident memory grew by {kept} kB (bound {MAX_GROWTH_KB} kB)"
        );
    }
}

/// Seeded SplitMix64: the same faults on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn hash(&mut self) -> ChangeHash {
        let mut h = [0u8; 32];
        for chunk in h.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        ChangeHash(h)
    }
}

/// Rows of `table` in the server's database, read-only beside the server.
fn rows(lib: &Library, sql_from: &str) -> i64 {
    let path = lib.dir.path().join(pustaka_sync::DB_FILE);
    let db = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    db.query_row(&format!("SELECT count(*) FROM {sql_from}"), [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// What the server has stored: documents, their chunks, sync states, decided
/// intents.
fn stored(lib: &Library) -> [i64; 4] {
    [
        rows(lib, "docs"),
        rows(lib, "doc_chunks"),
        rows(lib, "sync_states"),
        rows(lib, "processed_intents"),
    ]
}

/// A `{code, message}` error body.
fn api_error(status: u16, body: &[u8]) -> (u16, String, String) {
    let v: Value = serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("{status}: not JSON: {}", String::from_utf8_lossy(body)));
    let code = v["code"].as_str().expect("an error has a code").to_string();
    let message = v["message"]
        .as_str()
        .expect("an error has a message")
        .to_string();
    assert!(!message.is_empty(), "{code}: empty message");
    (status, code, message)
}

/// A raw sync POST that reports a broken connection instead of panicking.
async fn post(lib: &Library, token: &str, body: reqwest::Body) -> Result<(u16, Vec<u8>), String> {
    let resp = lib
        .http
        .post(format!("{}/v1/sync", lib.url))
        .bearer_auth(token)
        .body(body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.map_err(|e| format!("{e:?}"))?;
    Ok((status, bytes.to_vec()))
}

struct Patron {
    token: String,
    circ: String,
    intents: String,
    calendar: String,
}

async fn sign_in(lib: &Library, card: &str) -> Patron {
    let (s, login) = lib.login_raw(card, &patron_pin(card)).await;
    assert_eq!(s, 200, "{login}");
    let dir = &login["directory"];
    Patron {
        token: login["token"].as_str().unwrap().into(),
        circ: dir["circ"].as_str().unwrap().into(),
        intents: dir["intents"].as_str().unwrap().into(),
        calendar: dir["calendar"].as_str().unwrap().into(),
    }
}

/// An honest patron renews a loan and sees it decided, in one bounded sync.
async fn honest_renewal_is_decided(dev: &Device, copy: &str) {
    let id = dev.renew(copy).unwrap();
    let report = bounded(30, "an honest sync", dev.sync_once())
        .await
        .unwrap();
    assert!(report.requests <= 8, "{report:?}");
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    let o = v
        .outcomes
        .iter()
        .find(|o| o.intent_id == id.to_string())
        .expect("the honest renewal was decided");
    assert!(o.accepted, "{o:?}");
}

// ---- 1. huge bodies --------------------------------------------------------

#[tokio::test]
async fn a_16_mb_body_or_message_is_refused_before_decoding_and_memory_stays_bounded() {
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    let p = sign_in(&lib, "1001").await;
    let before = stored(&lib);
    let mem = Memory::now();
    const SIXTEEN_MB: usize = 16 * 1024 * 1024;

    // A 16 MB body of garbage, with its length declared.
    let (s, body) = post(&lib, &p.token, vec![0x42u8; SIXTEEN_MB].into())
        .await
        .expect("the server answers a 16 MB body");
    let (s, code, _) = api_error(s, &body);
    assert_eq!((s, code.as_str()), (413, "body_too_large"));

    // A 16 MB automerge "message" inside a well-formed envelope.
    let req = SyncRequest {
        device: "huge".into(),
        docs: vec![DocMessage {
            doc: p.intents.clone(),
            message: Some(vec![0x43u8; SIXTEEN_MB]),
        }],
    };
    let (s, body) = post(&lib, &p.token, wire::encode(&req).into())
        .await
        .expect("the server answers a 16 MB envelope");
    let (s, code, _) = api_error(s, &body);
    assert_eq!((s, code.as_str()), (413, "body_too_large"));

    // The same 16 MB sent chunked, without a declared length: the server
    // stops reading at its limit.
    let chunks = (0..256).map(|_| Ok::<_, std::io::Error>(vec![0x42u8; 64 * 1024]));
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    match post(&lib, &p.token, streamed).await {
        Ok((s, body)) => {
            let (s, code, _) = api_error(s, &body);
            assert_eq!((s, code.as_str()), (413, "body_too_large"));
        }
        // The server may close the connection on the sender once it refused.
        Err(e) => eprintln!("chunked 16 MB body: connection closed by the server: {e}"),
    }

    // Under the body limit but over the message limit (1 MB): that document
    // is refused with a clear code, before automerge decodes it; the other
    // documents of the request still sync.
    let req = SyncRequest {
        device: "huge".into(),
        docs: vec![
            DocMessage {
                doc: p.intents.clone(),
                message: Some(vec![0x42u8; 3 * 1024 * 1024]),
            },
            DocMessage {
                doc: p.calendar.clone(),
                message: None,
            },
        ],
    };
    let (s, bytes) = lib.post_sync(&p.token, wire::encode(&req)).await;
    assert_eq!(s, 200);
    let resp = wire::decode_response(&bytes).unwrap();
    let err = resp.docs[0]
        .error
        .as_ref()
        .expect("the 3 MB message is refused");
    assert_eq!(err.code, "message_too_large");
    assert!(err.message.contains("over the limit"), "{}", err.message);
    assert!(resp.docs[0].message.is_none());
    assert!(resp.docs[1].error.is_none());

    // CBOR that claims a 2^62-byte message, or 2^62 documents, in a few
    // bytes: refused as malformed without allocating what it claims.
    let mut lying = Vec::new();
    lying.extend_from_slice(&[0xa2, 0x66]);
    lying.extend_from_slice(b"device");
    lying.extend_from_slice(&[0x61, b'd', 0x64]);
    lying.extend_from_slice(b"docs");
    let mut claims_bytes = lying.clone();
    claims_bytes.extend_from_slice(&[0x81, 0xa2, 0x63]);
    claims_bytes.extend_from_slice(b"doc");
    claims_bytes.extend_from_slice(&[0x61, b'x', 0x67]);
    claims_bytes.extend_from_slice(b"message");
    claims_bytes.push(0x5b);
    claims_bytes.extend_from_slice(&(1u64 << 62).to_be_bytes());
    claims_bytes.extend_from_slice(&[0u8; 64]);
    let mut claims_docs = lying;
    claims_docs.push(0x9b);
    claims_docs.extend_from_slice(&(1u64 << 62).to_be_bytes());
    for body in [claims_bytes, claims_docs] {
        let (s, bytes) = lib.post_sync(&p.token, body).await;
        let (s, code, _) = api_error(s, &bytes);
        assert_eq!((s, code.as_str()), (400, "malformed_request"));
    }

    mem.assert_bounded("16 MB bodies");
    let after = stored(&lib);
    assert_eq!(after[..2], before[..2], "no document was stored or changed");
    assert_eq!(after[3], before[3], "nothing was decided");

    lib.advance_days(10);
    honest_renewal_is_decided(&siti, "C1").await;
}

// ---- 2. ten thousand tiny changes -------------------------------------------

#[tokio::test]
async fn ten_thousand_tiny_changes_in_one_sync_hit_the_change_limit_and_honest_intents_are_decided()
{
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    let p = sign_in(&lib, "1001").await;
    let mem = Memory::now();

    // A modified app fills the patron's intents document with 10,000 tiny
    // changes, starting from what the server has.
    let mut raw = RawClient::new(&p.token, "flood", &[p.intents.as_str()]);
    raw.settle(&lib).await;
    let base = raw.docs[0].1.get_heads();
    {
        let doc = &mut raw.docs[0].1;
        for i in 0..10_000i64 {
            doc.put(ROOT, "n", i).unwrap();
            doc.commit();
        }
    }
    let before = stored(&lib);

    // As automerge sends it: more than a third of the document is new, so
    // the whole document travels as one chunk.
    let (id, doc, state) = &mut raw.docs[0];
    let as_automerge_sends_it = rsync::generate(doc, state).unwrap();
    // As separate changes (a v1 message), one chunk each.
    let changes: Vec<Vec<u8>> = doc
        .get_changes(&base)
        .into_iter()
        .map(|mut c| c.bytes().to_vec())
        .collect();
    assert_eq!(changes.len(), 10_000);
    let one_chunk_each = Message {
        heads: doc.get_heads(),
        need: vec![],
        have: vec![],
        changes: changes.into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode();
    for (how, message) in [
        ("one chunk", as_automerge_sends_it),
        ("a chunk per change", one_chunk_each),
    ] {
        let req = SyncRequest {
            device: "flood".into(),
            docs: vec![DocMessage {
                doc: id.clone(),
                message: Some(message),
            }],
        };
        let (s, bytes) =
            bounded(60, "the flood", lib.post_sync(&p.token, wire::encode(&req))).await;
        assert_eq!(s, 200, "{how}: {}", String::from_utf8_lossy(&bytes));
        let resp = wire::decode_response(&bytes).unwrap();
        let err = resp.docs[0]
            .error
            .as_ref()
            .unwrap_or_else(|| panic!("{how}: 10,000 changes were accepted"));
        assert_eq!(err.code, "too_many_changes", "{how}");
        assert!(
            err.message
                .contains("10000 changes in one message, the limit is 2000"),
            "{how}: {}",
            err.message
        );
    }
    assert_eq!(stored(&lib), before, "nothing of the flood was stored");
    mem.assert_bounded("10,000 changes");

    // The patron's honest device: its next intents are decided.
    lib.advance_days(10);
    honest_renewal_is_decided(&siti, "C1").await;
    let circ = siti.circ().unwrap().unwrap();
    assert_eq!(circ.loans["C1"].due, "2026-11-26");
    assert!(
        !circ.outcomes.contains_key("n"),
        "no outcome for the flood's key"
    );
}

// ---- 3. lying summaries, endless rounds --------------------------------------

#[tokio::test]
async fn a_peer_that_never_converges_gets_bounded_replies_and_honest_devices_keep_syncing() {
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    siti.register_event("E1").unwrap();
    bounded(30, "sync", siti.sync_once()).await.unwrap();
    let p = sign_in(&lib, "1001").await;
    let before = stored(&lib);
    let mem = Memory::now();
    let mut rng = Rng(0x5EED_0003);

    // Each round the liar claims heads nobody has, asks for changes that do
    // not exist, and summarises with a filter that claims everything, a
    // filter that claims nothing, or a base the server never saw, and it
    // never takes the server's answer into account.
    const ROUNDS: usize = 200;
    let mut largest_reply = 0;
    for round in 0..ROUNDS {
        let mut fakes: Vec<ChangeHash> = (0..64).map(|_| rng.hash()).collect();
        // automerge's encoder wants sorted hashes (the server never
        // re-encodes a peer's lists).
        fakes.sort();
        let have = match round % 4 {
            // Claims every change.
            0 => vec![Have {
                last_sync: vec![],
                bloom: BloomFilter::from_hashes(fakes.iter()),
            }],
            // Claims nothing: the server sends what it has, each time.
            1 => vec![Have {
                last_sync: vec![],
                bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
            }],
            // A base the server never had.
            2 => vec![Have {
                last_sync: fakes[..8].to_vec(),
                bloom: BloomFilter::from_hashes(fakes.iter()),
            }],
            // Many summaries, the later ones stale.
            _ => (0..16)
                .map(|i| Have {
                    last_sync: if i == 0 { vec![] } else { vec![fakes[i]] },
                    bloom: BloomFilter::from_hashes(fakes[i..].iter()),
                })
                .collect(),
        };
        let mut heads = fakes[..4].to_vec();
        heads.sort();
        let lie = Message {
            heads,
            need: fakes.clone(),
            have,
            changes: Vec::<Vec<u8>>::new().into(),
            flags: None,
            version: automerge::sync::MessageVersion::V1,
        }
        .encode();
        let req = SyncRequest {
            device: "liar".into(),
            docs: [&p.circ, &p.intents, &p.calendar]
                .into_iter()
                .map(|d| DocMessage {
                    doc: d.clone(),
                    message: Some(lie.clone()),
                })
                .collect(),
        };
        let (s, bytes) = bounded(
            10,
            "one reply to a lying peer",
            lib.post_sync(&p.token, wire::encode(&req)),
        )
        .await;
        assert_eq!(s, 200, "round {round}: {}", String::from_utf8_lossy(&bytes));
        largest_reply = largest_reply.max(bytes.len());
        let resp = wire::decode_response(&bytes).unwrap();
        assert_eq!(resp.docs.len(), 3, "one reply per document, one round");
        for d in &resp.docs {
            if let Some(e) = &d.error {
                assert_eq!(e.code, "bad_message", "round {round}: {e:?}");
            }
        }
    }
    eprintln!("{ROUNDS} lying rounds, largest reply {largest_reply} bytes");
    // The server answers each request with one round; the whole patron's
    // documents are small, so no reply grows with the lies.
    assert!(largest_reply < 64 * 1024, "{largest_reply}");
    let after = stored(&lib);
    assert_eq!(after[..2], before[..2], "no document changed");
    assert_eq!(after[3], before[3], "nothing was decided");
    assert!(
        after[2] <= before[2] + 3,
        "one sync state per document for the liar, at most: {before:?} -> {after:?}"
    );
    mem.assert_bounded("lying summaries");

    // The honest device goes on, in a bounded number of rounds.
    lib.advance_days(10);
    honest_renewal_is_decided(&siti, "C1").await;
    let again = bounded(30, "sync", siti.sync_once()).await.unwrap();
    assert!(again.requests <= 1, "{again:?}");
}

// ---- 4. random document ids ---------------------------------------------------

#[tokio::test]
async fn two_thousand_random_document_ids_answer_like_missing_docs_and_store_nothing() {
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    let siti = lib.device("1001", "siti").await;
    let p = sign_in(&lib, "1001").await;
    let before = stored(&lib);
    let mem = Memory::now();
    let mut rng = Rng(0x5EED_0004);

    let mut ids: Vec<String> = (0..2_000)
        .map(|i| match i % 50 {
            0 => String::new(),
            1 => "x".repeat(65),
            2 => "é".repeat(10_000),
            3 => "../../etc/passwd".into(),
            _ => format!("{:016x}{:016x}", rng.next(), rng.next()),
        })
        .collect();
    // Another patron's documents answer the same way.
    let budi = sign_in(&lib, "1002").await;
    ids[7] = budi.circ.clone();
    ids[8] = budi.intents.clone();

    let missing = wire::WireError {
        code: "unknown_document".into(),
        message: "no such document".into(),
    };
    let mut answered = 0;
    // 8 ids per request (the envelope's limit), 25 requests at a time.
    for wave in ids.chunks(8 * 25) {
        let requests = wave.chunks(8).map(|batch| {
            let req = SyncRequest {
                device: "prober".into(),
                docs: batch
                    .iter()
                    .map(|id| DocMessage {
                        doc: id.clone(),
                        message: Some(vec![0x42, 0, 0]),
                    })
                    .collect(),
            };
            let body = wire::encode(&req);
            let lib = &lib;
            let token = p.token.clone();
            async move {
                let (s, bytes) = lib.post_sync(&token, body).await;
                (batch, s, bytes)
            }
        });
        let replies = bounded(
            60,
            "a wave of probes",
            futures_util::future::join_all(requests),
        )
        .await;
        for (batch, s, bytes) in replies {
            assert_eq!(s, 200, "{}", String::from_utf8_lossy(&bytes));
            let resp = wire::decode_response(&bytes).unwrap();
            let mut want: Vec<String> = vec![];
            for id in batch {
                let short: String = id.chars().take(64).collect();
                if !want.contains(&short) {
                    want.push(short);
                }
            }
            assert_eq!(
                resp.docs.iter().map(|d| d.doc.clone()).collect::<Vec<_>>(),
                want,
                "each id answered once, at most 64 characters of it"
            );
            for d in &resp.docs {
                assert!(d.message.is_none());
                assert_eq!(d.error.as_ref(), Some(&missing), "{}", d.doc);
                answered += 1;
            }
        }
    }
    assert!(answered >= 1_900, "{answered}");
    assert_eq!(
        stored(&lib),
        before,
        "docs, chunks, sync states and outcomes"
    );
    mem.assert_bounded("2,000 random ids");

    lib.advance_days(10);
    honest_renewal_is_decided(&siti, "C1").await;
}

// ---- a tiny TCP proxy ---------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Fault {
    Pass,
    /// Forward this many bytes of the device's side, then cut.
    CutRequest(usize),
    /// Forward this many bytes of the server's side, then cut.
    CutReply(usize),
    /// Forward the request; when the server answers (after its commit),
    /// cut before a byte of the answer reaches the device.
    DropReply,
}

type Hook = Arc<dyn Fn(usize) + Send + Sync>;

/// A proxy on 127.0.0.1 between devices and the server. While flapping,
/// each new connection gets a fault drawn from a seeded generator. A hook
/// may run before the n-th `POST /v1/sync` is forwarded.
struct Proxy {
    url: String,
    flapping: Arc<AtomicBool>,
    faults: Arc<Mutex<Vec<Fault>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet: every connection ends.
        self.task.abort();
    }
}

impl Proxy {
    async fn start(upstream: &str, seed: u64, hook: Option<Hook>) -> Proxy {
        let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let flapping = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(Mutex::new(vec![]));
        let syncs = Arc::new(AtomicUsize::new(0));
        let (fl, fs) = (flapping.clone(), faults.clone());
        let task = tokio::spawn(async move {
            let mut rng = Rng(seed);
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                while conns.try_join_next().is_some() {}
                let flapping = fl.load(Ordering::SeqCst);
                // Connections are kept alive across requests, so while
                // flapping every connection breaks somewhere: early in a
                // request or a reply, after a few requests, or when the
                // server answers.
                let fault = if flapping {
                    match rng.below(4) {
                        0 => Fault::CutRequest(rng.below(4_000) as usize),
                        1 => Fault::CutReply(rng.below(8_000) as usize),
                        2 => Fault::CutReply(8_000 + rng.below(40_000) as usize),
                        _ => Fault::DropReply,
                    }
                } else {
                    Fault::Pass
                };
                fs.lock().unwrap().push(fault);
                conns.spawn(relay(
                    client,
                    upstream,
                    fault,
                    syncs.clone(),
                    hook.clone(),
                    (fl.clone(), flapping),
                ));
            }
        });
        Proxy {
            url,
            flapping,
            faults,
            task,
        }
    }

    fn flap(&self, on: bool) {
        self.flapping.store(on, Ordering::SeqCst);
    }
}

const SYNC_LINE: &[u8] = b"POST /v1/sync ";

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    fault: Fault,
    syncs: Arc<AtomicUsize>,
    hook: Option<Hook>,
    (flapping, born_flapping): (Arc<AtomicBool>, bool),
) {
    let Ok(Ok(server)) = timeout(Duration::from_secs(5), TcpStream::connect(upstream)).await else {
        return;
    };
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut sent = 0usize;
        // The end of the previous read, so a request line split across two
        // reads is still seen.
        let mut tail: Vec<u8> = vec![];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(h) = &hook {
                let mut seen = tail.clone();
                seen.extend_from_slice(&buf[..n]);
                let lines = seen
                    .windows(SYNC_LINE.len())
                    .filter(|w| *w == SYNC_LINE)
                    .count();
                for _ in 0..lines {
                    h(syncs.fetch_add(1, Ordering::SeqCst) + 1);
                }
                let keep = seen.len().min(SYNC_LINE.len() - 1);
                tail = seen[seen.len() - keep..].to_vec();
            }
            if let Fault::CutRequest(limit) = fault
                && sent + n >= limit
            {
                let _ = sw.write_all(&buf[..limit - sent]).await;
                return;
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                return;
            }
            sent += n;
        }
        let _ = sw.shutdown().await;
    };
    let down = async move {
        let mut buf = vec![0u8; 16 * 1024];
        let mut got = 0usize;
        loop {
            let n = match sr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            match fault {
                Fault::DropReply => return,
                Fault::CutReply(limit) if got + n >= limit => {
                    let _ = cw.write_all(&buf[..limit - got]).await;
                    return;
                }
                _ => {}
            }
            if cw.write_all(&buf[..n]).await.is_err() {
                return;
            }
            got += n;
        }
        let _ = cw.shutdown().await;
    };
    // The network changing (flapping starts or heals) breaks the
    // connections made before.
    let changed = async move {
        while flapping.load(Ordering::SeqCst) == born_flapping {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // Either direction ending ends the connection; nothing lives past a
    // minute.
    let _ = timeout(Duration::from_secs(60), async {
        tokio::select! {
            _ = up => {},
            _ = down => {},
            _ = changed => {},
        }
    })
    .await;
}

// ---- 5. token expiry in the middle of a sync -----------------------------------

#[tokio::test]
async fn a_token_expiring_between_two_rounds_gets_401_and_the_intent_is_decided_once_after_sign_in()
{
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1002", "C1").await;
    let (_, early) = lib.login_raw("1001", &patron_pin("1001")).await;
    let early_token = early["token"].as_str().unwrap().to_string();

    // Before the device's second sync request is forwarded, 31 days pass:
    // its token (30 days) has expired, and so has the server's cache of it.
    let clock = lib.clock.clone();
    let expired = Arc::new(AtomicBool::new(false));
    let armed = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let hook: Hook = {
        let (expired, armed, seen) = (expired.clone(), armed.clone(), seen.clone());
        Arc::new(move |_n| {
            if !armed.load(Ordering::SeqCst) {
                return;
            }
            if seen.fetch_add(1, Ordering::SeqCst) == 1 && !expired.swap(true, Ordering::SeqCst) {
                clock.advance_days(31);
            }
        })
    };
    let proxy = Proxy::start(&lib.url, 5, Some(hook)).await;

    // A device signs in and asks for a hold before its first sync, so its
    // first request learns the server's heads and the second carries the
    // intent.
    let dev = lib.offline_device("siti");
    dev.login(&proxy.url, "1001", &patron_pin("1001"))
        .await
        .unwrap();
    let id = dev
        .request_unchecked(IntentKind::PlaceHold {
            title: "T1".into(),
            branch: "pusat".into(),
        })
        .unwrap();
    armed.store(true, Ordering::SeqCst);
    let r = bounded(30, "the sync", dev.sync_once()).await;
    assert!(
        expired.load(Ordering::SeqCst),
        "the sync had a second round"
    );
    assert_eq!(r, Err(DeviceError::SignedOut));
    assert_eq!(DeviceError::SignedOut.code(), "signed_out");
    assert!(dev.status().last_error.is_some());

    // The server's answer: 401 with a clear code.
    let (s, body) = lib.post_sync(&early_token, vec![]).await;
    let (s, code, message) = api_error(s, &body);
    assert_eq!((s, code.as_str()), (401, "unauthorized"));
    assert!(message.contains("expired"), "{message}");

    // The intent is neither lost nor shown as received.
    let v = dev.view().expect("the first round brought the account");
    assert_eq!(v.pending.len(), 1, "{:?}", v.pending);
    assert_eq!(v.pending[0].id, id.to_string());
    assert_eq!(v.pending[0].state, PendingState::WaitingToSend);
    assert_eq!(dev.status().pending, 1);
    assert_eq!(rows(&lib, "processed_intents WHERE card = '1001'"), 0);

    // Signed in again, the intent is decided, once.
    dev.login(&proxy.url, "1001", &patron_pin("1001"))
        .await
        .unwrap();
    bounded(30, "sync", dev.sync_once()).await.unwrap();
    bounded(30, "sync", dev.sync_once()).await.unwrap();
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    let circ = dev.circ().unwrap().unwrap();
    let o = &circ.outcomes[&id.to_string()];
    assert_eq!(o.status, "accepted", "{o:?}");
    assert_eq!(circ.holds.len(), 1, "one hold, placed once");
    assert_eq!(rows(&lib, "processed_intents WHERE card = '1001'"), 1);
    assert_eq!(rows(&lib, "holds WHERE card = '1001'"), 1);
}

// ---- 6. a flapping network -------------------------------------------------------

#[tokio::test]
async fn a_flapping_network_loses_no_intent_and_renews_exactly_once() {
    let _one = SERIAL.lock().await;
    let lib = Library::start().await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C3").await;
    lib.checkout("1002", "C4").await;
    let proxy = Proxy::start(&lib.url, 0x5EED_0006, None).await;
    let dev = lib.offline_device("flappy");
    dev.login(&proxy.url, "1001", &patron_pin("1001"))
        .await
        .unwrap();
    bounded(30, "sync", dev.sync_once()).await.unwrap();
    lib.advance_days(10); // Thursday 12 November: renewals are open.

    proxy.flap(true);
    let mut rng = Rng(0x5EED_0066);
    let mut asked: BTreeMap<String, IntentKind> = BTreeMap::new();
    let mut failures = 0;
    const ROUNDS: usize = 40;
    for _ in 0..ROUNDS {
        let seen_due = |copy: &str| {
            dev.circ()
                .unwrap()
                .and_then(|c| c.loans.get(copy).and_then(|l| l.due.parse().ok()))
        };
        let kind = match rng.below(5) {
            0 => IntentKind::Renew {
                copy: "C1".into(),
                seen_due: seen_due("C1"),
            },
            1 => IntentKind::Renew {
                copy: "C3".into(),
                seen_due: seen_due("C3"),
            },
            2 => IntentKind::RegisterEvent { event: "E1".into() },
            3 => IntentKind::CancelRegistration { event: "E1".into() },
            _ => IntentKind::PlaceHold {
                title: "T4".into(),
                branch: "pusat".into(),
            },
        };
        let id = dev.request_unchecked(kind.clone()).unwrap();
        asked.insert(id.to_string(), kind);
        match bounded(45, "a sync over the flapping network", dev.sync_once()).await {
            Ok(_) => {}
            Err(DeviceError::Offline(_)) => failures += 1,
            Err(e) => panic!("a cut connection must look offline, not {e:?}"),
        }
    }
    let faults = proxy.faults.lock().unwrap().clone();
    eprintln!(
        "{ROUNDS} rounds, {failures} failed syncs, {} connections: {faults:?}",
        faults.len()
    );
    assert!(failures > 0, "the network did flap");

    // The network heals.
    proxy.flap(false);
    let mut healed = false;
    for _ in 0..10 {
        if bounded(30, "a sync after healing", dev.sync_once())
            .await
            .is_ok()
            && dev.view().unwrap().pending.is_empty()
        {
            healed = true;
            break;
        }
    }
    assert!(healed, "the device settled after the network healed");

    let circ = dev.circ().unwrap().unwrap();
    let v = dev.view().unwrap();
    assert!(v.pending.is_empty(), "{:?}", v.pending);
    for id in asked.keys() {
        assert!(circ.outcomes.contains_key(id), "no outcome for {id}");
    }
    // One decision per intent on the server, none twice, none extra.
    assert_eq!(
        rows(&lib, "processed_intents WHERE card = '1001'"),
        asked.len() as i64
    );
    // Renewals took effect exactly once. A renewal asked while an earlier
    // one's outcome had not reached the device carries a stale `seen_due`:
    // the server answers it "accepted, already renewed" without renewing
    // again. So: any accepted renewal means the loan was renewed, and it was
    // renewed once (renewals are refused a second time on one day anyway),
    // and no accepted renewal means it was not renewed at all.
    for copy in ["C1", "C3"] {
        let accepted = asked
            .iter()
            .filter(|(id, k)| {
                matches!(k, IntentKind::Renew { copy: c, .. } if c == copy)
                    && circ.outcomes[*id].status == "accepted"
            })
            .count() as u32;
        let loan = &circ.loans[copy];
        let renewed = u32::from(accepted > 0);
        assert_eq!(
            loan.renewals_used, renewed,
            "{copy}: {accepted} accepted renewals, {loan:?}"
        );
        let want = if renewed == 1 {
            "2026-11-26"
        } else {
            "2026-11-16"
        };
        assert_eq!(loan.due, want, "{copy}");
    }
    assert!(circ.holds.len() <= 1, "{:?}", circ.holds);
    assert!(circ.registrations.len() <= 1);
    // A device that never saw the flapping sees the same facts.
    let other = lib.device("1001", "steady").await;
    assert_eq!(other.circ().unwrap().unwrap(), circ);
}
