//! Due-date and hold-ready e-mails for patrons who opted in, sent by
//! `pustaka-sync send-emails` (run it from cron, or let `serve --smtp` run
//! it every hour). Which mails are due is computed from the library's
//! facts; the texts are the app's reminder texts (`reminder-*` in
//! `reasons.ftl`) in the patron's language, inside a short letter
//! (`mail-*`). Each mail goes once: its key names the loan or hold and the
//! date it is about, so a renewal makes new ones.

use chrono::NaiveDate;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use pustaka_domain::i18n::{due_soon_title_key, format_date, hold_ready_body_key, message};
use pustaka_domain::{HoldStatus, Lang, Policy};

use crate::storage::{Storage, StoreError};

/// One letter to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub key: String,
    pub card: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Every mail due on `today` and not yet sent: loans due in one of `days`
/// days, due today, overdue since yesterday; holds waiting on the shelf.
pub fn due_mails(
    store: &dyn Storage,
    policy: &Policy,
    today: NaiveDate,
    days: &[u32],
) -> Result<Vec<Mail>, StoreError> {
    let mut out = Vec::new();
    let branch_name = |id: &str| policy.branch(id).map_or(id.to_string(), |b| b.name.clone());
    for (card, to, lang) in store.email_subscribers()? {
        let lang = Lang::parse(&lang).unwrap_or_default();
        let Some(patron) = store.patron(&card)? else {
            continue;
        };
        let letter = |key: String, title_key: &str, body_key: &str, args: &[(&str, &str)]| {
            let greeting = message(lang, "mail-greeting", &[("name", &patron.name)]);
            let footer = message(lang, "mail-footer", &[("library", &policy.library.name)]);
            Mail {
                key,
                card: card.clone(),
                to: to.clone(),
                subject: message(lang, title_key, args),
                body: format!(
                    "{greeting}\n\n{}\n\n{footer}\n",
                    message(lang, body_key, args)
                ),
            }
        };
        for loan in store.open_loans_of(&card)? {
            let Some(copy) = store.copy(&loan.copy)? else {
                continue;
            };
            let title = store
                .title(&copy.title_id)?
                .map(|t| t.title)
                .unwrap_or_default();
            let left = (loan.due - today).num_days();
            let (kind, title_key) = match left {
                0 => ("due-today", "reminder-due-today-title"),
                -1 => ("overdue", "reminder-overdue-title"),
                d if d > 0 && days.contains(&(d as u32)) => ("due-soon", due_soon_title_key(d)),
                _ => continue,
            };
            let (date, n) = (format_date(lang, loan.due), left.to_string());
            let args = [("title", title.as_str()), ("date", &date), ("days", &n)];
            out.push(letter(
                format!("mail-{kind}-{left}:{}:{}", loan.copy, loan.due),
                title_key,
                &format!("reminder-{kind}-body"),
                &args,
            ));
        }
        for hold in store.holds_of(&card)? {
            if HoldStatus::parse(&hold.status) != Some(HoldStatus::Waiting) {
                continue;
            }
            let title = store
                .title(&hold.title_id)?
                .map(|t| t.title)
                .unwrap_or_default();
            let date = hold.pickup_by.map(|d| format_date(lang, d));
            let branch = branch_name(&hold.pickup_branch);
            let args = [
                ("title", title.as_str()),
                ("branch", branch.as_str()),
                ("date", date.as_deref().unwrap_or("")),
            ];
            out.push(letter(
                format!(
                    "mail-hold-ready:{}:{}",
                    hold.id,
                    hold.pickup_by.map(|d| d.to_string()).unwrap_or_default()
                ),
                "reminder-hold-ready-title",
                hold_ready_body_key(date.is_some()),
                &args,
            ));
        }
    }
    let mut fresh = Vec::new();
    for m in out {
        if !store.email_sent(&m.key)? {
            fresh.push(m);
        }
    }
    Ok(fresh)
}

/// How to reach the library's mail server.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    pub from: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// Plain SMTP: only for a relay on the same machine or network.
    None,
    /// STARTTLS on the submission port (587).
    Starttls,
    /// TLS from the first byte (465).
    Tls,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("bad address `{0}`: {1}")]
    Address(String, String),
    #[error("cannot build the mail: {0}")]
    Build(String),
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(String),
}

pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    pub fn new(c: &SmtpConfig) -> Result<Mailer, MailError> {
        let from: Mailbox = c.from.parse().map_err(|e: lettre::address::AddressError| {
            MailError::Address(c.from.clone(), e.to_string())
        })?;
        let tls = || TlsParameters::new(c.host.clone()).map_err(|e| MailError::Smtp(e.to_string()));
        let mut b = SmtpTransport::builder_dangerous(&c.host)
            .port(c.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        b = match c.security {
            Security::None => b.tls(Tls::None),
            Security::Starttls => b.tls(Tls::Required(tls()?)),
            Security::Tls => b.tls(Tls::Wrapper(tls()?)),
        };
        if let Some((user, pass)) = &c.credentials {
            b = b.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        Ok(Mailer {
            transport: b.build(),
            from,
        })
    }

    pub fn send(&self, m: &Mail) -> Result<(), MailError> {
        let to: Mailbox = m.to.parse().map_err(|e: lettre::address::AddressError| {
            MailError::Address(m.to.clone(), e.to_string())
        })?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(&email)
            .map(|_| ())
            .map_err(|e| MailError::Smtp(e.to_string()))
    }
}

/// Sends every due mail; each sent one is recorded at once, so a failure
/// half-way loses nothing and repeats nothing. Returns (sent, failed).
pub fn send_due(
    store: &mut dyn Storage,
    policy: &Policy,
    today: NaiveDate,
    now: i64,
    days: &[u32],
    mailer: &Mailer,
) -> Result<(u32, Vec<String>), StoreError> {
    let (mut sent, mut failed) = (0, Vec::new());
    for m in due_mails(store, policy, today, days)? {
        match mailer.send(&m) {
            Ok(()) => {
                store.mark_email_sent(&m.key, now)?;
                sent += 1;
            }
            Err(e) => failed.push(format!("{} to {}: {e}", m.key, m.to)),
        }
    }
    Ok((sent, failed))
}
