//! Due-date and hold-ready e-mails through a real SMTP server on loopback
//! (Python's aiosmtpd, Mailbox handler writing a Maildir), read back with
//! Python's own e-mail parser: the subject and body in the patron's
//! language, each mail once, none for patrons who did not opt in.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pustaka_scenarios::{Library, patron_pin, python};
use pustaka_sync::mail::{Mailer, Security, SmtpConfig};
use serde_json::{Value, json};

struct Smtp {
    child: Child,
    port: u16,
    maildir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp_server() -> Smtp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let maildir = tempfile::tempdir().expect("tempdir");
    let child = Command::new(python())
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir.path().join("Maildir"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("aiosmtpd (cargo xtask pyenv installs it)");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "aiosmtpd did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Smtp {
        child,
        port,
        maildir,
    }
}

fn received(smtp: &Smtp) -> Vec<Value> {
    let dir = smtp.maildir.path().join("Maildir");
    if !dir.exists() {
        return vec![];
    }
    let out = Command::new(python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/mail/maildir_json.py"))
        .arg(&dir)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

async fn opt_in(lib: &Library, card: &str, body: Value) -> (u16, Value) {
    let (_, login) = lib.login_raw(card, &patron_pin(card)).await;
    let token = login["token"].as_str().expect("token").to_string();
    let resp = lib
        .http
        .put(format!("{}/v1/account/email", lib.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("reachable");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn send(lib: &Library, mailer: &std::sync::Arc<Mailer>) -> (u32, Vec<String>) {
    let m = mailer.clone();
    lib.running
        .as_ref()
        .expect("running")
        .state
        .run(move |hub| hub.send_due_mails(&[3], &m))
        .await
        .expect("sent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_by_email_in_each_patrons_language_once() {
    let smtp = smtp_server();
    let lib = Library::start().await;
    let c1 = lib.checkout("1001", "C1").await;
    lib.checkout("1002", "C3").await;
    lib.checkout("1003", "C4").await; // never opted in

    let (status, v) = opt_in(
        &lib,
        "1001",
        json!({"email": "siti@example.id", "lang": "id"}),
    )
    .await;
    assert_eq!((status, &v["lang"]), (200, &json!("id")), "{v}");
    let (status, _) = opt_in(
        &lib,
        "1002",
        json!({"email": "budi@example.id", "lang": "en"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, v) = opt_in(&lib, "1003", json!({"email": "not an address"})).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_email")),
        "{v}"
    );

    let mailer = std::sync::Arc::new(
        Mailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: Security::None,
            credentials: None,
            from: "Perpustakaan Umum Kota Singkawang <pustaka@singkawangkota.go.id>".into(),
        })
        .expect("mailer"),
    );

    // Three days before the due date: both opted-in patrons get one mail.
    let due: chrono::NaiveDate = c1["due"].as_str().expect("due").parse().expect("date");
    let today = chrono::DateTime::from_timestamp_millis(lib.clock_now() + 7 * 3_600_000)
        .expect("now")
        .date_naive();
    lib.advance_days((due - today).num_days() - 3);
    let (sent, failed) = send(&lib, &mailer).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(sent, 2);
    let mails = received(&smtp);
    assert_eq!(mails.len(), 2);
    let siti = mails
        .iter()
        .find(|m| m["to"] == "siti@example.id")
        .expect("to Siti");
    assert_eq!(siti["subject"], "Jatuh tempo 3 hari lagi: Laskar Pelangi");
    assert_eq!(siti["charset"], "utf-8");
    let body = siti["body"].as_str().expect("body");
    assert!(body.starts_with("Yth. Anggota 1001,"), "{body}");
    assert!(body.contains("“Laskar Pelangi” jatuh tempo pada"), "{body}");
    assert!(body.contains("Perpustakaan Umum Kota Singkawang"), "{body}");
    let budi = mails
        .iter()
        .find(|m| m["to"] == "budi@example.id")
        .expect("to Budi");
    assert!(
        budi["subject"]
            .as_str()
            .expect("s")
            .starts_with("Due in 3 days: "),
        "{budi}"
    );
    assert!(mails.iter().all(|m| {
        m["from"]
            .as_str()
            .is_some_and(|f| f.contains("pustaka@singkawangkota.go.id"))
    }));

    // Again the same day: nothing new.
    assert_eq!(send(&lib, &mailer).await, (0, vec![]));
    // Siti opts out; on the due day only Budi hears.
    let (status, _) = opt_in(&lib, "1001", json!({"email": null})).await;
    assert_eq!(status, 200);
    lib.advance_days(3);
    let (sent, _) = send(&lib, &mailer).await;
    assert_eq!(sent, 1);
    let mails = received(&smtp);
    assert_eq!(mails.len(), 3);
    assert!(mails.iter().any(|m| {
        m["to"] == "budi@example.id"
            && m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("Due today: "))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_mail_server_loses_nothing() {
    let lib = Library::start().await;
    let c1 = lib.checkout("1001", "C1").await;
    let (status, _) = opt_in(&lib, "1001", json!({"email": "siti@example.id"})).await;
    assert_eq!(status, 200);
    let due: chrono::NaiveDate = c1["due"].as_str().expect("due").parse().expect("date");
    let today = chrono::DateTime::from_timestamp_millis(lib.clock_now() + 7 * 3_600_000)
        .expect("now")
        .date_naive();
    lib.advance_days((due - today).num_days() - 3);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let dead = std::sync::Arc::new(
        Mailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: Security::None,
            credentials: None,
            from: "pustaka@example.id".into(),
        })
        .expect("mailer"),
    );
    let (sent, failed) = send(&lib, &dead).await;
    assert_eq!(sent, 0);
    assert_eq!(failed.len(), 1, "{failed:?}");
    // The server is back: the mail goes now.
    let smtp = smtp_server();
    let live = std::sync::Arc::new(
        Mailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            security: Security::None,
            credentials: None,
            from: "pustaka@example.id".into(),
        })
        .expect("mailer"),
    );
    assert_eq!(send(&lib, &live).await.0, 1);
    assert_eq!(received(&smtp).len(), 1);
}

/// The app's settings screen goes through these: the device reads, sets and
/// stops the patron's e-mail reminders; a bad address is refused with a
/// reason and changes nothing.
#[tokio::test]
async fn a_device_opts_in_and_out_of_emails() {
    use pustaka_domain::Lang;
    let mut lib = Library::start().await;
    let siti = lib.device("1001", "siti").await;
    let none = siti.email_reminders().await.unwrap();
    assert_eq!(none.email, None);

    let on = siti
        .set_email_reminders(Some(" siti@example.id "), Lang::En)
        .await
        .unwrap();
    assert_eq!(on.email.as_deref(), Some("siti@example.id"));
    let read = siti.email_reminders().await.unwrap();
    assert_eq!(read.email.as_deref(), Some("siti@example.id"));
    assert_eq!(read.lang.as_deref(), Some("en"));

    let err = siti
        .set_email_reminders(Some("not an address"), Lang::Id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_email", "{err}");
    assert!(err.to_string().contains("not an e-mail address"), "{err}");
    let still = siti.email_reminders().await.unwrap();
    assert_eq!(still.email.as_deref(), Some("siti@example.id"));

    let off = siti.set_email_reminders(None, Lang::Id).await.unwrap();
    assert_eq!(off.email, None);
    assert_eq!(siti.email_reminders().await.unwrap().email, None);

    lib.stop().await;
    let err = siti.email_reminders().await.unwrap_err();
    assert_eq!(err.code(), "offline", "{err}");
}
