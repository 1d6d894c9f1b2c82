//! `pustaka-sync`: serve a library, run the demo, or act as the librarian.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use pustaka_sync::{Clock, SystemClock, admin_token, demo, open_hub};

/// mimalloc instead of glibc's malloc: glibc keeps one arena per worker
/// thread and returns little of it, so RSS grew with request concurrency
/// rather than with the hot documents (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pustaka-sync",
    version,
    about = "Pustaka's library sync server"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args)]
struct Admin {
    /// Address of the running server.
    #[arg(long, default_value = "http://127.0.0.1:7878", env = "PUSTAKA_SERVER")]
    server: String,
    /// Admin token (default: read from DATA/admin.token).
    #[arg(long, env = "PUSTAKA_ADMIN_TOKEN")]
    admin_token: Option<String>,
    #[arg(long, default_value = "data/demo")]
    data: PathBuf,
}

/// The library's mail server, for due-date and hold-ready e-mails.
#[derive(clap::Args, Clone)]
struct SmtpArgs {
    /// HOST:PORT of the mail server (e.g. smtp.example.id:587).
    #[arg(long = "smtp")]
    addr: Option<String>,
    #[arg(long = "smtp-security", value_enum, default_value = "starttls")]
    security: pustaka_sync::mail::Security,
    #[arg(long = "smtp-user")]
    user: Option<String>,
    #[arg(
        long = "smtp-password",
        env = "PUSTAKA_SMTP_PASSWORD",
        hide_env_values = true
    )]
    password: Option<String>,
    /// The sender, e.g. "Perpustakaan Kota <pustaka@example.id>".
    #[arg(long = "mail-from", default_value = "Pustaka <pustaka@localhost>")]
    from: String,
    /// Days before the due date to write, e.g. 3,1.
    #[arg(long = "mail-days", value_delimiter = ',', default_value = "3")]
    days: Vec<u32>,
}

impl SmtpArgs {
    fn mailer(&self) -> anyhow::Result<Option<(pustaka_sync::mail::Mailer, Vec<u32>)>> {
        let Some(addr) = &self.addr else {
            return Ok(None);
        };
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .with_context(|| format!("--smtp {addr}: give HOST:PORT"))?;
        let credentials = match (&self.user, &self.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (None, None) => None,
            _ => bail!("--smtp-user and --smtp-password go together"),
        };
        let mailer = pustaka_sync::mail::Mailer::new(&pustaka_sync::mail::SmtpConfig {
            host,
            port,
            security: self.security,
            credentials,
            from: self.from.clone(),
        })?;
        Ok(Some((mailer, self.days.clone())))
    }
}

/// An existing library system that decides circulation over SIP2 (Koha,
/// Evergreen…): this server then mirrors its answers.
#[derive(clap::Args, Clone)]
struct Sip2Args {
    /// The library system's SIP2 server, `host:port`.
    #[arg(long = "sip2", env = "PUSTAKA_SIP2")]
    addr: Option<String>,
    /// SIP2 login (93) user and password, if the ACS wants a login.
    #[arg(long = "sip2-user", env = "PUSTAKA_SIP2_USER")]
    user: Option<String>,
    #[arg(long = "sip2-password", env = "PUSTAKA_SIP2_PASSWORD")]
    password: Option<String>,
    /// Location code (CP) sent with the login.
    #[arg(long = "sip2-location", env = "PUSTAKA_SIP2_LOCATION")]
    location: Option<String>,
    /// Institution id (AO).
    #[arg(
        long = "sip2-institution",
        env = "PUSTAKA_SIP2_INSTITUTION",
        default_value = ""
    )]
    institution: String,
    /// Seconds to wait for the library system.
    #[arg(long = "sip2-timeout", default_value_t = 5)]
    timeout_secs: u64,
}

impl Sip2Args {
    fn config(&self) -> anyhow::Result<Option<pustaka_sync::circulation::Sip2Config>> {
        let Some(addr) = &self.addr else {
            return Ok(None);
        };
        let login = match (&self.user, &self.password) {
            (Some(user), Some(password)) => Some(pustaka_sip2::LoginCredentials {
                user: user.clone(),
                password: password.clone(),
                location: self.location.clone(),
            }),
            (None, None) => None,
            _ => anyhow::bail!("--sip2-user and --sip2-password go together"),
        };
        Ok(Some(pustaka_sync::circulation::Sip2Config {
            addr: addr.clone(),
            login,
            institution: self.institution.clone(),
            terminal_password: None,
            timeout: std::time::Duration::from_secs(self.timeout_secs.clamp(1, 120)),
        }))
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve a library from DATA with the policy in POLICY.
    Serve {
        #[arg(long, default_value = "data/library")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        #[arg(long)]
        policy: PathBuf,
        #[arg(long, env = "PUSTAKA_ADMIN_TOKEN")]
        admin_token: Option<String>,
        /// PostgreSQL instead of SQLite in DATA (`postgres://user@host/db`
        /// or `host=… user=… dbname=…`): several servers may share it.
        #[arg(long, env = "PUSTAKA_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
        /// Also serve the website: the UI's built files (`cargo xtask ui`
        /// writes them to `app/dist`).
        #[arg(long, env = "PUSTAKA_WEB_DIR")]
        web: Option<PathBuf>,
        #[command(flatten)]
        sip2: Sip2Args,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
    /// Asks the SIP2 library system for its status and one patron's account
    /// (99 and 63): proves the connection before `serve --sip2`.
    Sip2Check {
        #[command(flatten)]
        sip2: Sip2Args,
        /// A patron's card number.
        #[arg(long)]
        card: String,
    },
    /// Seed (once) and serve the demo library.
    Demo {
        #[arg(long, default_value = "data/demo")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Also serve the website from this folder (default: `app/dist`
        /// when it holds a built UI).
        #[arg(long, env = "PUSTAKA_WEB_DIR")]
        web: Option<PathBuf>,
    },
    /// Add a patron.
    AddPatron {
        #[command(flatten)]
        admin: Admin,
        #[arg(long)]
        card: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        pin: String,
        #[arg(long, default_value = "adult")]
        patron_type: String,
        #[arg(long)]
        expires: String,
        #[arg(long, default_value = "pusat")]
        home_branch: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Check a copy out to a patron.
    Checkout {
        #[command(flatten)]
        admin: Admin,
        #[arg(long)]
        card: String,
        #[arg(long)]
        copy: String,
    },
    /// Check a copy in at a branch (it goes to the first hold in the queue).
    Checkin {
        #[command(flatten)]
        admin: Admin,
        #[arg(long)]
        copy: String,
        #[arg(long, default_value = "pusat")]
        branch: String,
    },
    /// Add or edit an event from a JSON file.
    AddEvent {
        #[command(flatten)]
        admin: Admin,
        file: PathBuf,
    },
    /// Add or replace the library's FAQ entries from a TOML file of
    /// `[[entry]]` tables (see assets/faq/demo-faq.toml); checked before
    /// anything is sent.
    FaqImport {
        #[command(flatten)]
        admin: Admin,
        file: PathBuf,
    },
    /// Publish (or replace) a survey from a JSON file (see the README).
    AddSurvey {
        #[command(flatten)]
        admin: Admin,
        file: PathBuf,
    },
    /// What patrons answered a survey: totals per question, each patron
    /// counted once; a readable table, or CSV with --csv.
    SurveyReport {
        #[command(flatten)]
        admin: Admin,
        id: String,
        #[arg(long)]
        csv: bool,
    },
    /// List the questions patrons asked that no librarian answered yet.
    Questions {
        #[command(flatten)]
        admin: Admin,
    },
    /// Answer a patron's question (the id `questions` printed); the answer
    /// reaches the patron's devices with a notification.
    Answer {
        #[command(flatten)]
        admin: Admin,
        id: String,
        answer: String,
        /// Who answers (shown to librarians only).
        #[arg(long, default_value = "")]
        by: String,
    },
    /// Run the daily jobs now (overdue fines, pickup expiry, auto-resume).
    RunJobs {
        #[command(flatten)]
        admin: Admin,
    },
    /// Import MARC 21 records (ISO 2709 or MARCXML; UTF-8 or MARC-8) into
    /// the catalogue. Re-importing a record updates it. Prints a JSON
    /// summary; bad records are listed and skipped.
    ImportMarc {
        #[arg(long, default_value = "data/library")]
        data: PathBuf,
        /// The library's policy (default: the one the server last ran with).
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Branch, location and format mapping (TOML; see the README).
        #[arg(long)]
        map: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Send the due-date and hold-ready e-mails due now to patrons who
    /// asked for them (each once). Run it daily from cron, or give `serve`
    /// the same --smtp options to send every hour.
    SendEmails {
        #[arg(long, default_value = "data/library")]
        data: PathBuf,
        #[command(flatten)]
        smtp: SmtpArgs,
    },
    /// Print the library's public key for checking membership cards
    /// offline (give it to book vans and branches for verify-card).
    CardKey {
        #[arg(long, default_value = "data/library")]
        data: PathBuf,
    },
    /// Check a membership card's QR offline with the library's public key:
    /// the signature, the expiry and the block status. Give the code's
    /// text, or a photo of the card with --image. Prints JSON; exits 0 only
    /// for a valid card.
    VerifyCard {
        /// The library's public key (from `card-key` or /v1/card/public-key).
        #[arg(long, env = "PUSTAKA_CARD_KEY")]
        key: String,
        /// A photo or screenshot of the card's QR code.
        #[arg(long)]
        image: Option<PathBuf>,
        /// Judge as of this day (default: today, UTC).
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
        token: Option<String>,
    },
    /// Print QR shelf labels for titles (or copies, with --copies): an A4
    /// sheet of 3 × 6 labels with the title, call number and branch under
    /// each code, as PDF or SVG (by --out's extension; SVG gives one file
    /// per page: labels.svg, labels-2.svg, …).
    Labels {
        #[arg(long, default_value = "data/library")]
        data: PathBuf,
        /// The library's web address: codes carry `<URL>/pustaka/title/<id>`
        /// instead of `pustaka://title/<id>`.
        #[arg(long)]
        base_url: Option<String>,
        /// The ids are copy barcodes, not title ids.
        #[arg(long)]
        copies: bool,
        #[arg(long, default_value = "labels.pdf")]
        out: PathBuf,
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Sends one admin request (`body`: POST it, else GET); the reply's text.
async fn admin_request(
    a: &Admin,
    path: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<(reqwest::StatusCode, String)> {
    let url = format!("{}/admin/v1/{path}", a.server.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let req = match body {
        Some(b) => client.post(&url).json(&b),
        None => client.get(&url),
    };
    let resp = req
        .bearer_auth(client_token(a)?)
        .send()
        .await
        .with_context(|| format!("contacting {url}"))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{status}: {text}");
    }
    Ok((status, text))
}

async fn admin_get(a: &Admin, path: &str) -> anyhow::Result<serde_json::Value> {
    let (_, text) = admin_request(a, path, None).await?;
    serde_json::from_str(&text).with_context(|| format!("{path} answered with something not JSON"))
}

/// The admin token a command sends: given, or the running server's file.
fn client_token(a: &Admin) -> anyhow::Result<String> {
    Ok(match &a.admin_token {
        Some(t) => t.clone(),
        None => std::fs::read_to_string(a.data.join(pustaka_sync::ADMIN_TOKEN_FILE))
            .with_context(|| format!("no --admin-token and no {}/admin.token", a.data.display()))?
            .trim()
            .to_string(),
    })
}

async fn admin_call(a: &Admin, path: &str, body: serde_json::Value) -> anyhow::Result<()> {
    let (status, text) = admin_request(a, path, Some(body)).await?;
    println!(
        "{}",
        if text.is_empty() {
            status.to_string()
        } else {
            text
        }
    );
    Ok(())
}

fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_env_filter(filter).init();
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    data: PathBuf,
    db: pustaka_sync::Database,
    listen: SocketAddr,
    policy_text: String,
    token: Option<String>,
    sip2: Option<pustaka_sync::circulation::Sip2Config>,
    mail: Option<(pustaka_sync::mail::Mailer, Vec<u32>)>,
    web: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut hub =
        pustaka_sync::open_hub_on(&db, &policy_text, Arc::new(SystemClock) as Arc<dyn Clock>)?;
    if let Some(config) = sip2 {
        tracing::info!(
            "circulation is decided by the library system at {} (SIP2)",
            config.addr
        );
        hub.set_circulation(Box::new(pustaka_sync::circulation::Sip2Circulation::new(
            config,
        )));
    }
    let token = admin_token(&data, token)?;
    if let Some(dir) = &web {
        if !dir.join("index.html").is_file() {
            anyhow::bail!(
                "{} holds no built UI (index.html): run `cargo xtask ui` first",
                dir.display()
            );
        }
        tracing::info!("the website is served from {}", dir.display());
    }
    let running = pustaka_sync::start_with_web(hub, listen, token, web).await?;
    tracing::info!(
        "pustaka-sync serving {} on http://{}",
        match &db {
            pustaka_sync::Database::Sqlite(d) => d.display().to_string(),
            pustaka_sync::Database::Postgres(_) => "PostgreSQL".to_string(),
        },
        running.addr
    );
    if let Some((mailer, days)) = mail {
        let state = running.state.clone();
        let mailer = Arc::new(mailer);
        tokio::spawn(async move {
            loop {
                let (m, d) = (mailer.clone(), days.clone());
                match state.run(move |hub| hub.send_due_mails(&d, &m)).await {
                    Ok((sent, failed)) => {
                        if sent > 0 || !failed.is_empty() {
                            tracing::info!("e-mails: {sent} sent, {} failed", failed.len());
                        }
                        for f in failed {
                            tracing::warn!("e-mail not sent: {f}");
                        }
                    }
                    Err(e) => tracing::warn!("e-mails: {e}"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
    }
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}

fn write_labels(
    out: &std::path::Path,
    labels: &[pustaka_sync::labels::Label],
) -> anyhow::Result<Vec<PathBuf>> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let written = match ext.as_str() {
        "pdf" => {
            std::fs::write(out, pustaka_sync::labels::pdf(labels)?)
                .with_context(|| format!("writing {}", out.display()))?;
            vec![out.to_path_buf()]
        }
        "svg" => {
            let mut files = Vec::new();
            for (i, page) in pustaka_sync::labels::svg_pages(labels)?.iter().enumerate() {
                let path = if i == 0 {
                    out.to_path_buf()
                } else {
                    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("labels");
                    out.with_file_name(format!("{stem}-{}.svg", i + 1))
                };
                std::fs::write(&path, page)
                    .with_context(|| format!("writing {}", path.display()))?;
                files.push(path);
            }
            files
        }
        _ => bail!("--out {}: end it in .pdf or .svg", out.display()),
    };
    Ok(written)
}

fn import_marc(
    data: &std::path::Path,
    policy: Option<PathBuf>,
    map: Option<PathBuf>,
    files: &[PathBuf],
) -> anyhow::Result<pustaka_sync::marc_import::Summary> {
    use pustaka_sync::marc_import::{ImportConfig, Importer};
    use pustaka_sync::storage::Storage;
    use std::io::IsTerminal;
    let started = std::time::Instant::now();
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let mut store =
        pustaka_sync::storage::sqlite::SqliteStorage::open(&data.join(pustaka_sync::DB_FILE))?;
    store.bulk_load()?;
    let policy_text = match policy {
        Some(p) => {
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?
        }
        None => store
            .meta("policy")?
            .with_context(|| format!("{} has never been served: pass --policy", data.display()))?,
    };
    let policy = pustaka_domain::Policy::from_toml(&policy_text)?;
    let cfg = match map {
        Some(p) => ImportConfig::from_toml(
            &std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?,
        )?,
        None => ImportConfig::default(),
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut imp = Importer::new(&mut store, &policy, &cfg)?;
    let mut done = 0u64;
    for f in files {
        let name = f.display().to_string();
        bar.set_message(name.clone());
        match std::fs::read(f) {
            Ok(bytes) => {
                imp.import(&name, &bytes, &mut |at| bar.set_position(done + at as u64))?;
                done += bytes.len() as u64;
            }
            Err(e) => imp.file_error(&name, &e.to_string()),
        }
    }
    bar.finish_and_clear();
    let mut summary = imp.finish()?;
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    summary.records_per_sec =
        (summary.records_read as f64 / started.elapsed().as_secs_f64().max(1e-9)).round();
    Ok(summary)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve {
            data,
            listen,
            policy,
            admin_token,
            database,
            web,
            sip2,
            smtp,
        } => {
            let text = std::fs::read_to_string(&policy)
                .with_context(|| format!("reading {}", policy.display()))?;
            let db = pustaka_sync::Database::choose(&data, database.as_deref());
            serve(
                data,
                db,
                listen,
                text,
                admin_token,
                sip2.config()?,
                smtp.mailer()?,
                web,
            )
            .await
        }
        Cmd::SendEmails { data, smtp } => {
            let (mailer, days) = smtp.mailer()?.context("--smtp HOST:PORT is required")?;
            let policy_text = {
                use pustaka_sync::storage::Storage;
                pustaka_sync::storage::sqlite::SqliteStorage::open(
                    &data.join(pustaka_sync::DB_FILE),
                )?
                .meta("policy")?
                .with_context(|| format!("{} has never been served", data.display()))?
            };
            let mut hub = open_hub(&data, &policy_text, Arc::new(SystemClock) as Arc<dyn Clock>)?;
            let (sent, failed) =
                tokio::task::spawn_blocking(move || hub.send_due_mails(&days, &mailer)).await??;
            println!("{}", serde_json::json!({ "sent": sent, "failed": failed }));
            if !failed.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Cmd::Sip2Check { sip2, card } => {
            let config = sip2.config()?.context("--sip2 HOST:PORT is required")?;
            // UTC: this check has no policy to take the library's offset from.
            let now = chrono::DateTime::from_timestamp_millis(SystemClock.now())
                .map(|t| t.naive_utc())
                .unwrap_or_default();
            let report = tokio::task::spawn_blocking(move || {
                pustaka_sync::circulation::patron_check(&config, &card, now)
            })
            .await??;
            println!("{report}");
            Ok(())
        }
        Cmd::Demo { data, listen, web } => {
            // The website too, when the UI was built in this checkout.
            let web = web.or_else(|| {
                let dist = PathBuf::from("app/dist");
                dist.join("index.html").is_file().then_some(dist)
            });
            let now = SystemClock.now();
            let d = data.clone();
            let seeded =
                tokio::task::spawn_blocking(move || demo::ensure_seeded(&d, now)).await??;
            if seeded {
                tracing::info!("seeded the demo library into {}", data.display());
            }
            println!(
                "Demo library: sign in with card {} and PIN {}",
                demo::DEMO_CARD,
                demo::DEMO_PIN
            );
            serve(
                data.clone(),
                pustaka_sync::Database::Sqlite(data),
                listen,
                demo::DEMO_POLICY.to_string(),
                None,
                None,
                None,
                web,
            )
            .await
        }
        Cmd::AddPatron {
            admin,
            card,
            name,
            pin,
            patron_type,
            expires,
            home_branch,
            email,
        } => {
            let body = serde_json::json!({ "card": card, "name": name, "pin": pin, "patron_type": patron_type, "expires": expires, "home_branch": home_branch, "email": email });
            admin_call(&admin, "patrons", body).await
        }
        Cmd::Checkout { admin, card, copy } => {
            admin_call(
                &admin,
                "checkout",
                serde_json::json!({ "card": card, "copy": copy }),
            )
            .await
        }
        Cmd::Checkin {
            admin,
            copy,
            branch,
        } => {
            admin_call(
                &admin,
                "checkin",
                serde_json::json!({ "copy": copy, "branch": branch }),
            )
            .await
        }
        Cmd::AddEvent { admin, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let body: serde_json::Value =
                serde_json::from_str(&text).context("event file is not JSON")?;
            admin_call(&admin, "events", body).await
        }
        Cmd::FaqImport { admin, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let entries = pustaka_sync::librarian::parse_faq_file(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            admin_call(&admin, "faq", serde_json::json!({ "entry": entries })).await
        }
        Cmd::AddSurvey { admin, file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let body: serde_json::Value =
                serde_json::from_str(&text).context("survey file is not JSON")?;
            admin_call(&admin, "surveys", body).await
        }
        Cmd::SurveyReport { admin, id, csv } => {
            let v = admin_get(&admin, &format!("surveys/{id}/report")).await?;
            let r: pustaka_sync::librarian::SurveyReport = serde_json::from_value(v)
                .context("the server's report is not in the expected shape")?;
            if csv {
                print!("{}", pustaka_sync::librarian::survey_report_csv(&r));
            } else {
                print!("{}", pustaka_sync::librarian::survey_report_table(&r));
            }
            Ok(())
        }
        Cmd::Questions { admin } => {
            let v = admin_get(&admin, "questions").await?;
            let open = v["open"].as_array().cloned().unwrap_or_default();
            if open.is_empty() {
                println!("no open questions");
            }
            for q in open {
                println!(
                    "{}  card {}  [{}]  {}",
                    q["id"].as_str().unwrap_or_default(),
                    q["card"].as_str().unwrap_or_default(),
                    q["lang"].as_str().unwrap_or_default(),
                    q["question"].as_str().unwrap_or_default()
                );
            }
            Ok(())
        }
        Cmd::Answer {
            admin,
            id,
            answer,
            by,
        } => {
            admin_call(
                &admin,
                &format!("questions/{id}/answer"),
                serde_json::json!({ "answer": answer, "by": by }),
            )
            .await
        }
        Cmd::RunJobs { admin } => admin_call(&admin, "jobs/run", serde_json::json!({})).await,
        Cmd::ImportMarc {
            data,
            policy,
            map,
            files,
        } => {
            let summary =
                tokio::task::spawn_blocking(move || import_marc(&data, policy, map, &files))
                    .await??;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Cmd::CardKey { data } => {
            let db = data.join(pustaka_sync::DB_FILE);
            if !db.exists() {
                bail!("no library at {}", db.display());
            }
            let seed = {
                use pustaka_sync::storage::Storage;
                let mut store = pustaka_sync::storage::sqlite::SqliteStorage::open(&db)?;
                match store.meta(pustaka_sync::card::KEY_META)? {
                    Some(seed) => seed,
                    None => {
                        let seed = pustaka_sync::hub::random_hex(32)?;
                        store.set_meta(pustaka_sync::card::KEY_META, &seed)?;
                        seed
                    }
                }
            };
            let key = pustaka_sync::card::signing_key(&seed)?;
            println!("{}", pustaka_sync::card::public_key_text(&key));
            Ok(())
        }
        Cmd::VerifyCard {
            key,
            image,
            today,
            token,
        } => {
            use pustaka_sync::card;
            let public = card::parse_public_key(&key)?;
            let token = match (token, image) {
                (Some(t), None) => t,
                (None, Some(path)) => {
                    let picture = pustaka_scan::load(&path)?;
                    let codes = pustaka_scan::Scanner::default().scan(&picture).codes;
                    codes
                        .into_iter()
                        .map(|c| c.text)
                        .find(|t| t.starts_with("PK1."))
                        .with_context(|| format!("no membership card code in {}", path.display()))?
                }
                _ => bail!("give the card's code or --image, one of them"),
            };
            let claims = card::verify(&public, &token)?;
            let today = today.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let verdict = card::judge(&claims, today);
            let issued_day = chrono::DateTime::from_timestamp(claims.issued, 0)
                .map(|d| d.date_naive())
                .unwrap_or(today);
            let stale = (today - issued_day).num_days() > card::STALE_AFTER_DAYS;
            println!(
                "{}",
                serde_json::json!({
                    "verdict": verdict,
                    "card": claims.card,
                    "expires": claims.expires,
                    "status": claims.status,
                    "issued": issued_day,
                    "status_may_be_out_of_date": stale,
                })
            );
            if verdict != card::Verdict::Valid {
                std::process::exit(1);
            }
            Ok(())
        }
        Cmd::Labels {
            data,
            base_url,
            copies,
            out,
            ids,
        } => {
            let db = data.join(pustaka_sync::DB_FILE);
            if !db.exists() {
                bail!("no library at {}", db.display());
            }
            let store = pustaka_sync::storage::sqlite::SqliteStorage::open(&db)?;
            let labels =
                pustaka_sync::labels::from_catalogue(&store, base_url.as_deref(), copies, &ids)?;
            for path in write_labels(&out, &labels)? {
                println!("{}", path.display());
            }
            eprintln!(
                "{} labels on {} page(s)",
                labels.len(),
                labels.len().div_ceil(pustaka_sync::labels::PER_PAGE)
            );
            Ok(())
        }
    }
}
