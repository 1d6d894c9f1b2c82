//! A minimal samod 0.16 sync server for `cargo xtask bench load`: the
//! automerge-repo protocol over a WebSocket (axum), documents kept with
//! samod's tokio filesystem storage (the automerge-repo-storage-nodefs layout).
//!
//! Usage: pustaka-bench-samod-server PORT DATA_DIR
//! Listens on 127.0.0.1 only.

use axum::{Router, extract::ws::WebSocketUpgrade, routing::get};
use samod::storage::TokioFilesystemStorage;
use samod::{Repo, ShareConfig};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let port: u16 = args
        .next()
        .and_then(|p| p.parse().ok())
        .expect("usage: pustaka-bench-samod-server PORT DATA_DIR");
    let dir = args
        .next()
        .expect("usage: pustaka-bench-samod-server PORT DATA_DIR");
    let repo = Repo::build_tokio()
        .with_peer_id("samod-bench-server".into())
        .with_storage(TokioFilesystemStorage::new(dir))
        // Like automerge-repo-sync-server (sharePolicy: false): accept every
        // peer's documents and answer requests, but never announce a document
        // to peers that did not ask for it (else every patron's document is
        // offered to every connected patron).
        .with_share_policy(ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("binding the port");
    let url: samod::Url = format!("ws://127.0.0.1:{port}/").parse().expect("a ws url");
    let acceptor = repo.make_acceptor(url).expect("an acceptor");
    let app = Router::new().route(
        "/",
        get(move |upgrade: WebSocketUpgrade| {
            let acceptor = acceptor.clone();
            async move {
                upgrade.on_upgrade(move |socket| async move {
                    if let Err(e) = acceptor.accept_axum(socket, None) {
                        eprintln!("accept: {e:?}");
                    }
                })
            }
        }),
    );
    println!("listening on 127.0.0.1:{port}");
    axum::serve(listener, app).await.expect("serving");
}
