//! `pustaka-device`: the headless patron device on the command line.
//! It is what the app does, without the screens: sign in, look, ask, sync.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pustaka_client::{Device, DeviceClock, SystemClock};

#[derive(Parser)]
#[command(
    name = "pustaka-device",
    version,
    about = "Pustaka's patron device, headless"
)]
struct Cli {
    /// The device's database file.
    #[arg(long, default_value = "data/device.db", env = "PUSTAKA_DEVICE_DB")]
    db: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sign in to a library.
    Login {
        #[arg(long, default_value = "http://127.0.0.1:7878")]
        server: String,
        #[arg(long)]
        card: String,
        #[arg(long)]
        pin: String,
    },
    /// Sync once.
    Sync,
    /// Print the account (loans, holds, events, pending requests) as JSON.
    Show,
    /// Print the sync status.
    Status,
    /// Ask to renew a loan (by copy barcode).
    Renew { copy: String },
    /// Ask to renew every loan.
    RenewAll,
    /// Ask for a hold on a title.
    Hold {
        title: String,
        #[arg(long, default_value = "pusat")]
        branch: String,
    },
    /// Register for an event.
    Register { event: String },
    /// Stay connected: sync, follow the live poke, print changes.
    Watch,
    /// Show the reminders due now (due dates, holds ready, events) as
    /// desktop notifications, each once; computed from the local replica,
    /// no network. Prints one JSON line per reminder shown.
    Remind {
        /// Language of the texts: `id` or `en`.
        #[arg(long, default_value = "id")]
        lang: String,
        /// Days before the due date to remind, counted in open days.
        #[arg(long, value_delimiter = ',', default_value = "3,1")]
        days: Vec<u32>,
        /// Take this moment (RFC 3339) as now: what would fire then.
        #[arg(long)]
        at: Option<String>,
        /// Print the whole plan instead of showing anything.
        #[arg(long)]
        plan: bool,
    },
    /// Sign out and remove the patron's data from this device.
    Logout,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber_init();
    let cli = Cli::parse();
    if let Some(dir) = cli.db.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let clock: Arc<dyn DeviceClock> = match &cli.cmd {
        Cmd::Remind { at: Some(at), .. } => {
            let at = chrono::DateTime::parse_from_rfc3339(at)
                .with_context(|| format!("--at {at}: not an RFC 3339 time"))?
                .timestamp_millis();
            Arc::new(move || at)
        }
        _ => Arc::new(SystemClock),
    };
    let device = Arc::new(Device::open(&cli.db, clock)?);
    match cli.cmd {
        Cmd::Login { server, card, pin } => {
            device.login(&server, &card, &pin).await?;
            let report = device.sync_once().await?;
            println!(
                "signed in; first sync took {} requests, {} bytes",
                report.requests,
                report.bytes_sent + report.bytes_received
            );
        }
        Cmd::Sync => {
            let r = device.sync_once().await;
            println!("{}", serde_json::to_string(&device.status())?);
            r?;
        }
        Cmd::Show => println!("{}", serde_json::to_string_pretty(&device.view()?)?),
        Cmd::Status => println!("{}", serde_json::to_string(&device.status())?),
        Cmd::Renew { copy } => {
            let id = device.renew(&copy)?;
            println!("renewal requested ({id}); it is decided when the library receives it");
            let _ = device.sync_once().await;
        }
        Cmd::RenewAll => {
            device.renew_all()?;
            let _ = device.sync_once().await;
        }
        Cmd::Hold { title, branch } => {
            device.place_hold(&title, &branch)?;
            let _ = device.sync_once().await;
        }
        Cmd::Register { event } => {
            device.register_event(&event)?;
            let _ = device.sync_once().await;
        }
        Cmd::Watch => {
            let d = device.clone();
            let task = tokio::spawn(d.run());
            let mut last = String::new();
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let s = serde_json::to_string(&device.status())?;
                if s != last {
                    println!("{s}");
                    last = s;
                }
                if task.is_finished() {
                    break;
                }
            }
        }
        Cmd::Remind {
            lang, days, plan, ..
        } => {
            let lang = pustaka_domain::Lang::parse(&lang)
                .with_context(|| format!("--lang {lang}: use id or en"))?;
            if plan {
                for r in device.reminder_plan(&days, lang)? {
                    println!("{}", serde_json::to_string(&r)?);
                }
                return Ok(());
            }
            let (due, plan) = device.due_reminders(&days, lang)?;
            let mut shown = Vec::new();
            for r in &due {
                pustaka_client::notify::show(r)?;
                println!("{}", serde_json::to_string(r)?);
                shown.push(r.key.clone());
            }
            device.mark_fired(&plan, &shown)?;
        }
        Cmd::Logout => {
            device.logout().await?;
            println!("signed out; local data removed");
        }
    }
    Ok(())
}

fn tracing_subscriber_init() {}
