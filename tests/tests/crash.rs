//! Crash tests: the real `pustaka-sync` and `pustaka-device` binaries,
//! built with their crash points armed (`pustaka-crashpoint`), killed with
//! `kill -9` over and over at three places:
//!
//! - `server_before_commit`: the server received and applied a device's
//!   changes (intents decided, documents written) but has not committed;
//! - `server_after_commit`: committed, and no reply sent yet;
//! - `device_before_commit`: the device is inside its SQLite transaction
//!   (recording an intent, or applying the server's reply).
//!
//! After every server death the dead server's database is opened and the
//! devices are checked: no device shows "received by the library" for an
//! intent the server had not committed. At the end, with everything healed,
//! every intent a device committed has exactly one outcome, and renewals
//! took effect exactly once (the loans' renewal counts match the accepted
//! renewals).
//!
//! `PUSTAKA_CRASH_KILLS` sets how many kills (default 100, across points).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pustaka_client::{Device, SystemClock};
use pustaka_ipc::PendingState;
use pustaka_replica::intent::IntentKind;
use pustaka_sync::demo::Rng;
use pustaka_sync::storage::Storage;
use pustaka_sync::storage::sqlite::SqliteStorage;

const CARD: &str = pustaka_sync::demo::DEMO_CARD;
const PIN: &str = pustaka_sync::demo::DEMO_PIN;

struct Bins {
    sync: PathBuf,
    device: PathBuf,
}

/// Builds both binaries with the crash points compiled in (the same
/// target dir as this test, so a warm build is a no-op).
fn bins() -> Bins {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/crash-<hash>
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let target_dir = profile_dir.parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-q",
            "-p",
            "pustaka-sync",
            "-p",
            "pustaka-client",
            "--bins",
            "--features",
            "pustaka-crashpoint/enabled",
            "--target-dir",
        ])
        .arg(&target_dir)
        .status()
        .expect("running cargo build");
    assert!(status.success(), "building the binaries failed");
    Bins {
        sync: profile_dir.join("pustaka-sync"),
        device: profile_dir.join("pustaka-device"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
}

impl Server {
    fn start(bins: &Bins, data: &Path, port: u16, crash_at: Option<&str>) -> Server {
        let mut cmd = Command::new(&bins.sync);
        cmd.args(["demo", "--data"])
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match crash_at {
            Some(c) => cmd.env("PUSTAKA_CRASH_AT", c),
            None => cmd.env_remove("PUSTAKA_CRASH_AT"),
        };
        let mut child = cmd.spawn().expect("starting pustaka-sync");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(s)) = child.try_wait() {
                panic!("pustaka-sync exited while starting: {s}");
            }
            assert!(Instant::now() < deadline, "pustaka-sync did not listen");
            std::thread::sleep(Duration::from_millis(25));
        }
        Server { child }
    }

    /// Whether the server died (killed at its crash point).
    fn died(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// `kill -9` from outside, then reap.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn reap(mut self) {
        let _ = self.child.wait();
    }
}

/// The intents the (dead) server has durably stored for the patron.
fn server_committed(data: &Path) -> BTreeSet<String> {
    let store = SqliteStorage::open(&data.join(pustaka_sync::DB_FILE)).unwrap();
    let patron = store.patron(CARD).unwrap().expect("demo patron");
    let Some((snapshot, chunks)) = store.doc_bytes(&patron.intents_doc).unwrap() else {
        return BTreeSet::new();
    };
    let mut bytes = snapshot;
    for c in chunks {
        bytes.extend(c);
    }
    let doc = automerge::AutoCommit::load(&bytes).expect("the server's intents document loads");
    pustaka_replica::intent::read_intents(&doc)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// Opens a device's database (no other process has it open now).
fn open_device(db: &Path) -> Arc<Device> {
    Arc::new(Device::open(db, Arc::new(SystemClock)).expect("the device's database opens"))
}

/// Intent ids the device shows as received by the library.
fn shown_received(d: &Device) -> BTreeSet<String> {
    match d.view() {
        Ok(v) => v
            .pending
            .into_iter()
            .filter(|p| p.state == PendingState::ReceivedByLibrary)
            .map(|p| p.id)
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

fn pending_ids(d: &Device) -> BTreeSet<String> {
    d.view()
        .map(|v| v.pending.into_iter().map(|p| p.id).collect())
        .unwrap_or_default()
}

fn device_cli(bins: &Bins, db: &Path, args: &[&str], crash_at: &str) -> std::process::ExitStatus {
    let mut child = Command::new(&bins.device)
        .arg("--db")
        .arg(db)
        .args(args)
        .env("PUSTAKA_CRASH_AT", crash_at)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting pustaka-device");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pustaka-device {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn killed(s: std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    s.signal() == Some(9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_at_every_point_loses_no_intent_and_applies_none_twice() {
    let kills_wanted: usize = std::env::var("PUSTAKA_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let bins = tokio::task::spawn_blocking(bins).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("library");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut rng = Rng(0x5eed_1234_abcd_0001);

    // Seed the demo library, sign in both devices: A in this process,
    // B through the command line.
    let server = Server::start(&bins, &data, port, None);
    let db_a = tmp.path().join("a.db");
    let db_b = tmp.path().join("b.db");
    let a = open_device(&db_a);
    a.login(&url, CARD, PIN).await.unwrap();
    a.sync_once().await.unwrap();
    let status = device_cli(
        &bins,
        &db_b,
        &["login", "--server", &url, "--card", CARD, "--pin", PIN],
        "",
    );
    assert!(status.success(), "device B signs in");
    let circ = a.circ().unwrap().expect("synced");
    let copies: Vec<String> = circ.loans.keys().cloned().collect();
    assert!(!copies.is_empty(), "the demo patron has loans");
    let renewals_before: BTreeMap<String, u32> = circ
        .loans
        .iter()
        .map(|(c, l)| (c.clone(), l.renewals_used))
        .collect();
    let events: Vec<String> = a
        .calendar()
        .unwrap()
        .map(|c| c.events.keys().cloned().collect())
        .unwrap_or_default();
    assert!(!events.is_empty(), "the demo library has events");
    server.kill();

    let mut committed_a: BTreeSet<String> = BTreeSet::new();
    let mut seen_b: BTreeSet<String> = BTreeSet::new();
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    let mut violations: Vec<String> = vec![];
    let started = Instant::now();
    let mut round = 0u64;
    // Two server rounds for every device round.
    while kills.values().sum::<usize>() < kills_wanted {
        round += 1;
        assert!(round < 1_000, "kills are not happening: {kills:?}");
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "out of time after {kills:?}"
        );
        if !round.is_multiple_of(3) {
            // --- A server round: device A asks, syncs, the server dies.
            let point = if rng.below(2) == 0 {
                "server_before_commit"
            } else {
                "server_after_commit"
            };
            let nth = 1 + rng.below(3);
            let mut server = Server::start(&bins, &data, port, Some(&format!("{point}:{nth}")));
            for _ in 0..1 + rng.below(3) {
                let kind = match rng.below(3) {
                    0 => IntentKind::Renew {
                        copy: copies[rng.below(copies.len() as u64) as usize].clone(),
                        seen_due: None,
                    },
                    1 => IntentKind::RegisterEvent {
                        event: events[rng.below(events.len() as u64) as usize].clone(),
                    },
                    _ => IntentKind::CancelRegistration {
                        event: events[rng.below(events.len() as u64) as usize].clone(),
                    },
                };
                committed_a.insert(a.request_unchecked(kind).unwrap().to_string());
            }
            let mut died = false;
            for _ in 0..6 {
                let _ = a.sync_once().await;
                if server.died() {
                    died = true;
                    break;
                }
            }
            if died {
                *kills.entry(point).or_default() += 1;
                server.reap();
            } else {
                *kills.entry("external_between_requests").or_default() += 1;
                server.kill();
            }
            // The server is dead: what it committed is all it has.
            let on_server = server_committed(&data);
            let b = open_device(&db_b);
            for (name, d) in [("A", &a), ("B", &b)] {
                for id in shown_received(d) {
                    if !on_server.contains(&id) {
                        violations.push(format!(
                            "device {name} shows {id} received, the server never committed it (round {round}, {point}:{nth})"
                        ));
                    }
                }
            }
        } else {
            // --- A device round: B is killed inside its transaction.
            let server = Server::start(&bins, &data, port, None);
            let copy = copies[rng.below(copies.len() as u64) as usize].clone();
            let event = events[rng.below(events.len() as u64) as usize].clone();
            let (args, nth): (Vec<&str>, u64) = match rng.below(3) {
                0 => (vec!["renew", &copy], 1),
                1 => (vec!["register", &event], 1),
                _ => (vec!["sync"], 1 + rng.below(2)),
            };
            let status = device_cli(&bins, &db_b, &args, &format!("device_before_commit:{nth}"));
            if killed(status) {
                *kills.entry("device_before_commit").or_default() += 1;
            }
            // The killed device opens again; what it committed stays.
            let b = open_device(&db_b);
            seen_b.extend(pending_ids(&b));
            drop(b);
            // And it goes on syncing (most of the time).
            if rng.below(2) == 0 {
                let _ = device_cli(&bins, &db_b, &["sync"], "");
            }
            let b = open_device(&db_b);
            seen_b.extend(pending_ids(&b));
            drop(b);
            server.kill();
        }
    }
    eprintln!(
        "crash: {} kills in {round} rounds, {:.1} s: {kills:?}",
        kills.values().sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    assert!(violations.is_empty(), "{violations:#?}");

    // Heal: the server up for good, both devices sync until nothing is
    // pending (bounded).
    let server = Server::start(&bins, &data, port, None);
    let b = open_device(&db_b);
    let mut quiet = false;
    for _ in 0..30 {
        let _ = a.sync_once().await;
        let _ = b.sync_once().await;
        if pending_ids(&a).is_empty() && pending_ids(&b).is_empty() {
            quiet = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        quiet,
        "still pending after healing: A {:?}, B {:?}",
        pending_ids(&a),
        pending_ids(&b)
    );
    let circ_a = a.circ().unwrap().unwrap();
    let circ_b = b.circ().unwrap().unwrap();
    assert_eq!(circ_a.outcomes, circ_b.outcomes, "both devices agree");
    // Every intent either device committed has its one outcome.
    let all: BTreeSet<String> = committed_a.union(&seen_b).cloned().collect();
    let missing: Vec<_> = all
        .iter()
        .filter(|id| !circ_a.outcomes.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "intents without an outcome: {missing:?}"
    );
    // Exactly once: each loan was renewed as many times as renewals were
    // accepted, never more.
    let accepted_renewals = circ_a
        .outcomes
        .values()
        .filter(|o| o.kind == "renew" && o.status == "accepted")
        .count() as u32;
    let renewed: u32 = circ_a
        .loans
        .iter()
        .map(|(c, l)| {
            let before = renewals_before.get(c).copied().unwrap_or(0);
            assert!(l.renewals_used >= before, "{c}: renewals went backwards");
            l.renewals_used - before
        })
        .sum();
    assert_eq!(
        renewed, accepted_renewals,
        "renewals applied ({renewed}) differ from renewals accepted ({accepted_renewals})"
    );
    eprintln!(
        "crash: {} intents, each with one outcome; {accepted_renewals} renewals accepted and applied once",
        all.len()
    );
    server.kill();
}
