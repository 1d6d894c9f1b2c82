//! Scale-out: two `pustaka-sync` servers sharing one real PostgreSQL
//! database (started by `cargo xtask ci` / `cargo xtask test-postgres`,
//! named by `PUSTAKA_PG`) serve one library. A device connected to one
//! server hears, through its live poke, what the other committed; decisions
//! are serialised across servers, so seats and copies are never given twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use pustaka_scenarios::*;
use serde_json::{Value, json};

/// A second server on the same database, on its own port.
async fn second_server(lib: &Library) -> (pustaka_sync::Running, String) {
    let hub = lib.hub();
    let r = pustaka_sync::start(hub, "127.0.0.1:0".parse().unwrap(), ADMIN.into())
        .await
        .unwrap();
    let url = format!("http://{}", r.addr);
    (r, url)
}

async fn admin_at(lib: &Library, url: &str, path: &str, body: Value) -> Value {
    let resp = lib
        .http
        .post(format!("{url}/admin/v1/{path}"))
        .bearer_auth(ADMIN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap()
}

/// A signed-in, synced device talking to the server at `url`.
async fn device_at(
    lib: &Library,
    url: &str,
    card: &str,
    name: &str,
) -> std::sync::Arc<pustaka_client::Device> {
    let d = lib.offline_device(name);
    d.login(url, card, &patron_pin(card)).await.unwrap();
    d.sync_once().await.unwrap();
    d
}

#[tokio::test]
async fn a_checkin_at_one_server_reaches_a_device_on_the_other_through_its_live_poke() {
    let lib = Library::start_on_postgres().await;
    let (_two, url2) = second_server(&lib).await;
    lib.checkout("1001", "C1").await;
    // Budi's phone talks to server one and follows its poke.
    let budi = lib.device("1002", "budi").await;
    budi.place_hold("T1", "pusat").unwrap();
    budi.sync_once().await.unwrap();
    assert_eq!(budi.view().unwrap().holds[0].status, "queued");
    let task = tokio::spawn(budi.clone().run());
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The desk's check-in goes to server two.
    lib.advance_days(2);
    let r = admin_at(
        &lib,
        &url2,
        "checkin",
        json!({"copy": "C1", "branch": "pusat"}),
    )
    .await;
    assert_eq!(r["status"], "waiting");

    let ready = eventually(10, || {
        budi.view()
            .ok()
            .is_some_and(|v| v.holds.first().is_some_and(|h| h.status == "waiting"))
    })
    .await;
    task.abort();
    assert!(
        ready,
        "server one poked its device about a change server two committed"
    );
}

#[tokio::test]
async fn one_patrons_two_devices_on_two_servers_each_intent_decided_once() {
    let lib = Library::start_on_postgres().await;
    let (_two, url2) = second_server(&lib).await;
    lib.checkout("1001", "C1").await;
    lib.checkout("1001", "C3").await;
    let phone = lib.device("1001", "phone").await;
    let tablet = device_at(&lib, &url2, "1001", "tablet").await;
    let due_before = phone.view().unwrap().loans[0].due;

    // Offline, each asks for something; then both sync, each to its server,
    // several times over (the intents document merges through both).
    lib.advance_days(10); // the renewal window is open
    phone.renew("C1").unwrap();
    tablet.renew("C3").unwrap();
    tablet.register_event("E1").unwrap();
    for _ in 0..3 {
        phone.sync_once().await.unwrap();
        tablet.sync_once().await.unwrap();
    }
    for d in [&phone, &tablet] {
        let v = d.view().unwrap();
        assert!(
            v.pending.is_empty(),
            "nothing left pending: {:?}",
            v.pending
        );
        let circ = d.circ().unwrap().unwrap();
        assert_eq!(circ.outcomes.len(), 3, "one outcome per intent");
        for l in &v.loans {
            assert_eq!(l.renewals_used, 1, "{} renewed exactly once", l.copy);
            assert!(l.due > due_before);
        }
    }
    assert_eq!(
        phone.circ().unwrap().unwrap(),
        tablet.circ().unwrap().unwrap(),
        "both servers give the same circulation document"
    );
}

#[tokio::test]
async fn seats_are_never_given_twice_when_two_servers_decide_at_once() {
    let lib = Library::start_on_postgres().await;
    let (_two, url2) = second_server(&lib).await;
    // E1 has two seats; four patrons ask at the same moment, two through
    // each server.
    let mut devices = vec![];
    for (i, card) in ["1001", "1002", "1003", "1004"].iter().enumerate() {
        let url = if i % 2 == 0 {
            lib.url.clone()
        } else {
            url2.clone()
        };
        let d = device_at(&lib, &url, card, &format!("d{card}")).await;
        d.register_event("E1").unwrap();
        devices.push(d);
    }
    let syncs = devices.iter().map(|d| {
        let d = d.clone();
        tokio::spawn(async move { d.sync_once().await.map(|_| ()) })
    });
    for s in futures_join(syncs).await {
        s.unwrap();
    }
    let mut confirmed = 0;
    let mut waitlisted = 0;
    for d in &devices {
        d.sync_once().await.unwrap();
        let v = d.view().unwrap();
        assert!(v.pending.is_empty());
        let e1 = v.events.iter().find(|e| e.id == "E1").unwrap();
        match e1.registration.as_deref() {
            Some("confirmed") => confirmed += 1,
            Some("waitlisted") => waitlisted += 1,
            other => panic!("unexpected registration {other:?}"),
        }
    }
    assert_eq!((confirmed, waitlisted), (2, 2));
}

/// A load balancer in front of the servers: one address for the devices,
/// forwarding each new connection to the backend of the moment.
struct Balancer {
    url: String,
    backend: std::sync::Arc<std::sync::Mutex<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    async fn start(backend: &str) -> Balancer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let backend = std::sync::Arc::new(std::sync::Mutex::new(
            backend.trim_start_matches("http://").to_string(),
        ));
        let to = backend.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let addr = to.lock().unwrap().clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(addr).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Balancer { url, backend, task }
    }

    fn switch_to(&self, backend: &str) {
        *self.backend.lock().unwrap() = backend.trim_start_matches("http://").to_string();
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn when_one_server_dies_the_balancer_moves_devices_to_the_other_and_nothing_is_lost() {
    let mut lib = Library::start_on_postgres().await;
    let (_two, url2) = second_server(&lib).await;
    let lb = Balancer::start(&lib.url).await;
    lib.checkout("1001", "C1").await;
    let siti = device_at(&lib, &lb.url, "1001", "siti").await;
    lib.advance_days(10);
    siti.renew("C1").unwrap();
    siti.sync_once().await.unwrap();
    assert!(siti.view().unwrap().pending.is_empty());
    // Server one goes away with the device's sync state in the shared
    // database; the balancer sends new connections to server two. The
    // device neither signs in again nor starts cold.
    lib.stop().await;
    lb.switch_to(&url2);
    siti.register_event("E1").unwrap();
    let mut synced = false;
    for _ in 0..5 {
        if siti.sync_once().await.is_ok() {
            synced = true;
            break;
        }
    }
    assert!(
        synced,
        "the device syncs through the balancer to server two"
    );
    let v = siti.view().unwrap();
    assert!(v.pending.is_empty());
    let e1 = v.events.iter().find(|e| e.id == "E1").unwrap();
    assert_eq!(e1.registration.as_deref(), Some("confirmed"));
    let loan = v.loans.iter().find(|l| l.copy == "C1").unwrap();
    assert_eq!(loan.renewals_used, 1, "renewed once, not again");
    assert_eq!(siti.circ().unwrap().unwrap().outcomes.len(), 2);
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = vec![];
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}
