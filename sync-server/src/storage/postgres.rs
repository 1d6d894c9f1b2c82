//! The second storage: PostgreSQL, for a library (or a country) that runs
//! several `pustaka-sync` processes against one database.
//!
//! - Every write transaction takes one advisory lock per library
//!   (`pg_advisory_xact_lock`), so decisions are serialised across servers
//!   exactly as SQLite's `BEGIN IMMEDIATE` serialises them in one process:
//!   two servers can never both give the last copy away.
//! - Documents carry a `version`, bumped by every write of their bytes; a
//!   server's cached copy is used only while its version is current
//!   ([`Storage::doc_version`]), so a change committed by another server is
//!   always seen.
//! - A commit announces the documents it changed with `pg_notify`
//!   (delivered only if the transaction commits); every server listens
//!   ([`ChangeFeed`]) and pokes its connected devices.
//!
//! The synchronous `postgres` client blocks its thread, like rusqlite: the
//! hub only ever runs on blocking threads.

use super::*;
use ::postgres::types::ToSql;
use ::postgres::{Client, NoTls, Row, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The notification channel carrying changed document ids.
pub const CHANNEL: &str = "pustaka_docs";
/// The advisory lock serialising write transactions (one library per database).
const WRITE_LOCK: i64 = 0x0050_5553_5441_4b41; // "PUSTAKA"
/// Document ids per notification (a payload must stay under 8000 bytes).
const IDS_PER_NOTIFY: usize = 100;

const SCHEMA: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE seqs (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE patrons (
  card TEXT PRIMARY KEY, name TEXT NOT NULL, patron_type TEXT NOT NULL,
  status TEXT NOT NULL, expires TEXT NOT NULL, home_branch TEXT NOT NULL,
  pin_hash TEXT NOT NULL, email TEXT, fines_charged BIGINT NOT NULL DEFAULT 0,
  circ_doc TEXT NOT NULL, intents_doc TEXT NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, card TEXT NOT NULL, expires_at BIGINT NOT NULL, revoked BOOLEAN NOT NULL DEFAULT FALSE);
CREATE TABLE login_failures (card TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX login_failures_card ON login_failures(card, at);
CREATE TABLE titles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, year INTEGER,
  language TEXT NOT NULL, subjects TEXT NOT NULL, isbn TEXT, item_type TEXT NOT NULL, collection TEXT,
  responsibility TEXT, call_number TEXT, format TEXT, links TEXT NOT NULL DEFAULT '[]',
  marc_control TEXT UNIQUE, isbns TEXT NOT NULL DEFAULT '',
  search tsvector NOT NULL);
CREATE INDEX titles_search ON titles USING GIN (search);
CREATE INDEX titles_online ON titles(format, id) WHERE links <> '[]';
CREATE TABLE title_isbns (isbn TEXT NOT NULL, title_id TEXT NOT NULL, PRIMARY KEY (isbn, title_id));
CREATE INDEX title_isbns_title ON title_isbns(title_id);
CREATE TABLE copies (barcode TEXT PRIMARY KEY, title_id TEXT NOT NULL REFERENCES titles(id), branch TEXT NOT NULL, shelf TEXT NOT NULL, status TEXT NOT NULL, hold_id TEXT);
CREATE INDEX copies_title ON copies(title_id);
CREATE TABLE loans (id TEXT PRIMARY KEY, copy TEXT NOT NULL, card TEXT NOT NULL, checked_out TEXT NOT NULL, due TEXT NOT NULL, renewals_used BIGINT NOT NULL, returned TEXT);
CREATE INDEX loans_card ON loans(card, returned);
CREATE INDEX loans_copy ON loans(copy, returned);
CREATE TABLE holds (id TEXT PRIMARY KEY, title_id TEXT NOT NULL, card TEXT NOT NULL, pickup_branch TEXT NOT NULL, placed_at BIGINT NOT NULL, status TEXT NOT NULL, suspended_until TEXT, copy TEXT, pickup_by TEXT);
CREATE INDEX holds_title ON holds(title_id, placed_at);
CREATE INDEX holds_card ON holds(card);
CREATE INDEX holds_status ON holds(status);
CREATE TABLE events (id TEXT PRIMARY KEY, title_id TEXT NOT NULL, title_en TEXT NOT NULL, description_id TEXT NOT NULL, description_en TEXT NOT NULL, category TEXT NOT NULL, branch TEXT, place TEXT NOT NULL, online_url TEXT, start BIGINT NOT NULL, "end" BIGINT NOT NULL, capacity BIGINT NOT NULL, audience TEXT NOT NULL, accessibility TEXT NOT NULL);
CREATE TABLE registrations (event_id TEXT NOT NULL, card TEXT NOT NULL, status TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (event_id, card));
CREATE INDEX registrations_card ON registrations(card);
CREATE TABLE van_stops (id TEXT PRIMARY KEY, place TEXT NOT NULL, weekday TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL, "from" TEXT NOT NULL, until TEXT NOT NULL);
CREATE TABLE processed_intents (intent_id TEXT PRIMARY KEY, card TEXT NOT NULL, decided_at BIGINT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX processed_intents_card ON processed_intents(card);
CREATE TABLE docs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL, snapshot BYTEA NOT NULL, version BIGINT NOT NULL DEFAULT 0);
CREATE TABLE doc_chunks (doc_id TEXT NOT NULL, seq BIGINT NOT NULL, bytes BYTEA NOT NULL, PRIMARY KEY (doc_id, seq));
CREATE TABLE sync_states (device TEXT NOT NULL, doc_id TEXT NOT NULL, state BYTEA NOT NULL, PRIMARY KEY (device, doc_id));
CREATE TABLE calendar_feeds (card TEXT PRIMARY KEY REFERENCES patrons(card), token_hash TEXT NOT NULL UNIQUE);
CREATE TABLE email_prefs (card TEXT PRIMARY KEY REFERENCES patrons(card), email TEXT NOT NULL, lang TEXT NOT NULL DEFAULT 'id');
CREATE TABLE emails_sent (key TEXT PRIMARY KEY, sent_at BIGINT NOT NULL);
"#,
    r#"
-- 2: a sync state names the patron it was last written for and when, so a
-- patron's devices can be bounded (the least recently used dropped first).
ALTER TABLE sync_states ADD COLUMN card TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_states ADD COLUMN last_used BIGINT NOT NULL DEFAULT 0;
UPDATE sync_states s SET card = d.owner FROM docs d WHERE d.id = s.doc_id;
UPDATE sync_states s SET card = COALESCE((SELECT o.card FROM sync_states o WHERE o.device = s.device AND o.card <> '' LIMIT 1), '') WHERE s.card = '';
CREATE INDEX sync_states_card ON sync_states(card, device);
"#,
    r#"
-- 3: a patron's loan history is kept only if they choose so. Until now it
-- was kept for everyone without asking: returned loans forget their
-- borrower, and patrons who want a history opt in from the app.
ALTER TABLE patrons ADD COLUMN keep_history BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE loans SET card = '' WHERE returned IS NOT NULL;
"#,
    r#"
-- 4: the library's questions and answers (the FAQ assistant), and the
-- questions patrons ask a librarian.
CREATE TABLE faq (
  id TEXT PRIMARY KEY, topic TEXT NOT NULL,
  question_id TEXT NOT NULL, answer_id TEXT NOT NULL,
  question_en TEXT NOT NULL, answer_en TEXT NOT NULL,
  also_id TEXT NOT NULL, also_en TEXT NOT NULL, updated_at BIGINT NOT NULL
);
CREATE TABLE questions (
  id TEXT PRIMARY KEY, card TEXT NOT NULL, asked_at BIGINT NOT NULL,
  lang TEXT NOT NULL, question TEXT NOT NULL,
  answer TEXT, answered_at BIGINT, answered_by TEXT
);
CREATE INDEX questions_card ON questions(card);
CREATE INDEX questions_open ON questions(answered_at, asked_at);
"#,
    r#"
-- 5: surveys the library publishes; who answered each (once), and the
-- answers, kept apart from the card so totals never say who said what.
CREATE TABLE surveys (
  id TEXT PRIMARY KEY, title_id TEXT NOT NULL, title_en TEXT NOT NULL,
  closes TEXT, questions TEXT NOT NULL, updated_at BIGINT NOT NULL
);
CREATE TABLE survey_responses (
  survey TEXT NOT NULL, card TEXT NOT NULL, answered_at BIGINT NOT NULL,
  PRIMARY KEY (survey, card)
);
CREATE INDEX survey_responses_card ON survey_responses(card);
CREATE TABLE survey_answers (survey TEXT NOT NULL, question TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX survey_answers_survey ON survey_answers(survey, question);
"#,
];

struct Conn {
    url: String,
    client: Client,
    statements: HashMap<String, Statement>,
}

pub struct PostgresStorage {
    conn: RefCell<Option<Conn>>,
    /// This process's name in notifications, so it does not poke itself twice.
    instance: String,
}

fn db<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn connect(url: &str) -> StoreResult<Client> {
    Client::connect(url, NoTls)
        .map_err(|e| StoreError::Db(format!("connecting to PostgreSQL: {e}")))
}

fn get<'a, T: ::postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> StoreResult<T> {
    r.try_get(i).map_err(db)
}

fn day(s: String) -> StoreResult<NaiveDate> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad date `{s}`")))
}

fn opt_day(s: Option<String>) -> StoreResult<Option<NaiveDate>> {
    s.map(day).transpose()
}

fn u32_of(v: i64) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("bad count {v}")))
}

const PATRON_COLS: &str = "card, name, patron_type, status, expires, home_branch, pin_hash, email, fines_charged, circ_doc, intents_doc, keep_history";
fn patron_row(r: &Row) -> StoreResult<PatronRow> {
    Ok(PatronRow {
        card: get(r, 0)?,
        name: get(r, 1)?,
        patron_type: get(r, 2)?,
        status: get(r, 3)?,
        expires: day(get(r, 4)?)?,
        home_branch: get(r, 5)?,
        pin_hash: get(r, 6)?,
        email: get(r, 7)?,
        fines_charged: get(r, 8)?,
        circ_doc: get(r, 9)?,
        intents_doc: get(r, 10)?,
        keep_history: get(r, 11)?,
    })
}

const TITLE_COLS: &str = "id, title, author, year, language, subjects, isbn, item_type, collection, responsibility, call_number, format, links, marc_control, isbns";
fn title_row(r: &Row) -> StoreResult<TitleRow> {
    let links: String = get(r, 12)?;
    let isbns: String = get(r, 14)?;
    Ok(TitleRow {
        id: get(r, 0)?,
        title: get(r, 1)?,
        author: get(r, 2)?,
        year: get(r, 3)?,
        language: get(r, 4)?,
        subjects: get(r, 5)?,
        isbn: get(r, 6)?,
        item_type: get(r, 7)?,
        collection: get(r, 8)?,
        responsibility: get(r, 9)?,
        call_number: get(r, 10)?,
        format: get(r, 11)?,
        links: serde_json::from_str(&links)
            .map_err(|e| StoreError::Corrupt(format!("title links: {e}")))?,
        marc_control: get(r, 13)?,
        isbns: isbns.split_whitespace().map(str::to_string).collect(),
    })
}

const COPY_COLS: &str = "barcode, title_id, branch, shelf, status, hold_id";
fn copy_row(r: &Row) -> StoreResult<CopyRow> {
    let status: String = get(r, 4)?;
    Ok(CopyRow {
        barcode: get(r, 0)?,
        title_id: get(r, 1)?,
        branch: get(r, 2)?,
        shelf: get(r, 3)?,
        status: CopyStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("bad copy status `{status}`")))?,
        hold_id: get(r, 5)?,
    })
}

const LOAN_COLS: &str = "id, copy, card, checked_out, due, renewals_used, returned";
fn loan_row(r: &Row) -> StoreResult<LoanRow> {
    Ok(LoanRow {
        id: get(r, 0)?,
        copy: get(r, 1)?,
        card: get(r, 2)?,
        checked_out: day(get(r, 3)?)?,
        due: day(get(r, 4)?)?,
        renewals_used: u32_of(get(r, 5)?)?,
        returned: opt_day(get(r, 6)?)?,
    })
}

const HOLD_COLS: &str =
    "id, title_id, card, pickup_branch, placed_at, status, suspended_until, copy, pickup_by";
fn hold_row(r: &Row) -> StoreResult<HoldRow> {
    Ok(HoldRow {
        id: get(r, 0)?,
        title_id: get(r, 1)?,
        card: get(r, 2)?,
        pickup_branch: get(r, 3)?,
        placed_at: get(r, 4)?,
        status: get(r, 5)?,
        suspended_until: opt_day(get(r, 6)?)?,
        copy: get(r, 7)?,
        pickup_by: opt_day(get(r, 8)?)?,
    })
}

const EVENT_COLS: &str = "id, title_id, title_en, description_id, description_en, category, branch, place, online_url, start, \"end\", capacity, audience, accessibility";
fn event_row(r: &Row) -> StoreResult<EventRow> {
    Ok(EventRow {
        id: get(r, 0)?,
        title_id: get(r, 1)?,
        title_en: get(r, 2)?,
        description_id: get(r, 3)?,
        description_en: get(r, 4)?,
        category: get(r, 5)?,
        branch: get(r, 6)?,
        place: get(r, 7)?,
        online_url: get(r, 8)?,
        start: get(r, 9)?,
        end: get(r, 10)?,
        capacity: u32_of(get(r, 11)?)?,
        audience: get(r, 12)?,
        accessibility: get(r, 13)?,
    })
}

fn reg_row(r: &Row) -> StoreResult<RegistrationRow> {
    Ok(RegistrationRow {
        event_id: get(r, 0)?,
        card: get(r, 1)?,
        status: get(r, 2)?,
        seq: get(r, 3)?,
    })
}

fn day_text(d: NaiveDate) -> String {
    d.to_string()
}

/// A catalogue query as a `tsquery` over the folded words: every word must
/// match as a prefix; nothing but letters and digits reaches PostgreSQL's
/// query syntax.
pub fn ts_query(q: &str) -> Option<String> {
    let words: Vec<String> = crate::catalog::fold(q)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| format!("'{w}':*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PostgresStorage {
    /// Connects (`postgres://user@host:port/db` or `host=… user=…`) and
    /// brings the schema up to date, once, even when several servers start
    /// together.
    pub fn open(url: &str) -> StoreResult<PostgresStorage> {
        let client = connect(url)?;
        let s = PostgresStorage {
            conn: RefCell::new(Some(Conn {
                url: url.to_string(),
                client,
                statements: HashMap::new(),
            })),
            instance: crate::hub::random_hex(8).map_err(db)?,
        };
        s.migrate()?;
        Ok(s)
    }

    fn migrate(&self) -> StoreResult<()> {
        self.with(|c| {
            c.client
                .batch_execute(&format!(
                    "SELECT pg_advisory_lock({WRITE_LOCK});
                     CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                ))
                .map_err(db)?;
            let result = (|| {
                let version: i32 = c
                    .client
                    .query_opt("SELECT version FROM schema_version", &[])
                    .map_err(db)?
                    .map(|r| get(&r, 0))
                    .transpose()?
                    .unwrap_or(0);
                let known = SCHEMA.len() as i32;
                if version > known {
                    return Err(StoreError::Corrupt(format!(
                        "database schema {version} is newer than this server ({known})"
                    )));
                }
                for (i, sql) in SCHEMA.iter().enumerate().skip(version as usize) {
                    let mut tx = c.client.transaction().map_err(db)?;
                    tx.batch_execute(sql).map_err(db)?;
                    tx.execute("DELETE FROM schema_version", &[]).map_err(db)?;
                    tx.execute(
                        "INSERT INTO schema_version(version) VALUES ($1)",
                        &[&((i + 1) as i32)],
                    )
                    .map_err(db)?;
                    tx.commit().map_err(db)?;
                }
                Ok(())
            })();
            let unlocked = c
                .client
                .batch_execute(&format!("SELECT pg_advisory_unlock({WRITE_LOCK})"))
                .map_err(db);
            result.and(unlocked)
        })
    }

    /// Runs `f` on the connection, reconnecting first if the last one was
    /// lost (a PostgreSQL restart); a transaction in flight fails instead.
    fn with<T>(&self, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        let mut guard = self.conn.borrow_mut();
        let c = guard
            .as_mut()
            .ok_or_else(|| StoreError::Db("connection closed".into()))?;
        if c.client.is_closed() {
            c.client = connect(&c.url)?;
            c.statements.clear();
        }
        f(c)
    }

    fn prepared(c: &mut Conn, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = c.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = c.client.prepare(sql).map_err(db)?;
        c.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    fn one<T>(
        &self,
        sql: &str,
        p: Params,
        f: impl FnOnce(&Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.with(|c| {
            let st = Self::prepared(c, sql)?;
            c.client
                .query_opt(&st, p)
                .map_err(db)?
                .as_ref()
                .map(f)
                .transpose()
        })
    }

    fn many<T>(
        &self,
        sql: &str,
        p: Params,
        f: impl FnMut(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.with(|c| {
            let st = Self::prepared(c, sql)?;
            c.client.query(&st, p).map_err(db)?.iter().map(f).collect()
        })
    }

    fn exec(&self, sql: &str, p: Params) -> StoreResult<u64> {
        self.with(|c| {
            let st = Self::prepared(c, sql)?;
            c.client.execute(&st, p).map_err(db)
        })
    }

    fn batch(&self, sql: &str) -> StoreResult<()> {
        self.with(|c| c.client.batch_execute(sql).map_err(db))
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        // Closing the client blocks on its own runtime, which must not
        // happen on a thread that drives async tasks.
        if let Some(c) = self.conn.get_mut().take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(c));
        }
    }
}

impl Storage for PostgresStorage {
    fn begin(&mut self) -> StoreResult<()> {
        self.batch(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        ))
    }

    fn commit(&mut self) -> StoreResult<()> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) {
        // Nothing to do if no transaction is open (PostgreSQL only warns).
        let _ = self.batch("ROLLBACK");
    }

    fn announce(&mut self, changed: &[String]) -> StoreResult<()> {
        for ids in changed.chunks(IDS_PER_NOTIFY) {
            let payload = format!("{} {}", self.instance, ids.join(" "));
            self.exec("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])?;
        }
        Ok(())
    }

    fn change_feed(&self) -> Option<ChangeFeed> {
        let url = self.conn.borrow().as_ref()?.url.clone();
        Some(ChangeFeed {
            url,
            instance: self.instance.clone(),
        })
    }

    fn doc_version(&self, id: &str) -> StoreResult<Option<i64>> {
        Ok(Some(
            self.one("SELECT version FROM docs WHERE id = $1", &[&id], |r| {
                get(r, 0)
            })?
            .unwrap_or(-1),
        ))
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.one("SELECT value FROM meta WHERE key = $1", &[&key], |r| {
            get(r, 0)
        })
    }

    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )
        .map(|_| ())
    }

    fn set_feed_token(&mut self, card: &str, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO calendar_feeds(card, token_hash) VALUES ($1, $2) ON CONFLICT(card) DO UPDATE SET token_hash = excluded.token_hash",
            &[&card, &token_hash],
        )
        .map(|_| ())
    }

    fn card_by_feed_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT card FROM calendar_feeds WHERE token_hash = $1",
            &[&token_hash],
            |r| get(r, 0),
        )
    }

    fn set_email_prefs(&mut self, card: &str, prefs: Option<(&str, &str)>) -> StoreResult<()> {
        match prefs {
            Some((email, lang)) => self.exec(
                "INSERT INTO email_prefs(card, email, lang) VALUES ($1, $2, $3) ON CONFLICT(card) DO UPDATE SET email = excluded.email, lang = excluded.lang",
                &[&card, &email, &lang],
            ),
            None => self.exec("DELETE FROM email_prefs WHERE card = $1", &[&card]),
        }
        .map(|_| ())
    }

    fn email_prefs(&self, card: &str) -> StoreResult<Option<(String, String)>> {
        self.one(
            "SELECT email, lang FROM email_prefs WHERE card = $1",
            &[&card],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }

    fn email_subscribers(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.many(
            "SELECT card, email, lang FROM email_prefs ORDER BY card",
            &[],
            |r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?)),
        )
    }

    fn email_sent(&self, key: &str) -> StoreResult<bool> {
        Ok(self
            .one("SELECT 1 FROM emails_sent WHERE key = $1", &[&key], |_| {
                Ok(())
            })?
            .is_some())
    }

    fn mark_email_sent(&mut self, key: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO emails_sent(key, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&key, &at],
        )
        .map(|_| ())
    }

    fn next_seq(&mut self, name: &str) -> StoreResult<i64> {
        Ok(self
            .one(
                "INSERT INTO seqs(name, value) VALUES ($1, 1) ON CONFLICT(name) DO UPDATE SET value = seqs.value + 1 RETURNING value",
                &[&name],
                |r| get(r, 0),
            )?
            .unwrap_or(1))
    }

    fn insert_patron(&mut self, p: &PatronRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO patrons({PATRON_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"),
            &[&p.card, &p.name, &p.patron_type, &p.status, &day_text(p.expires), &p.home_branch, &p.pin_hash, &p.email, &p.fines_charged, &p.circ_doc, &p.intents_doc, &p.keep_history],
        )
        .map(|_| ())
    }

    fn update_patron(&mut self, p: &PatronRow) -> StoreResult<()> {
        self.exec(
            "UPDATE patrons SET name = $2, patron_type = $3, status = $4, expires = $5, home_branch = $6, pin_hash = $7, email = $8, fines_charged = $9, keep_history = $10 WHERE card = $1",
            &[&p.card, &p.name, &p.patron_type, &p.status, &day_text(p.expires), &p.home_branch, &p.pin_hash, &p.email, &p.fines_charged, &p.keep_history],
        )
        .map(|_| ())
    }

    fn patron(&self, card: &str) -> StoreResult<Option<PatronRow>> {
        self.one(
            &format!("SELECT {PATRON_COLS} FROM patrons WHERE card = $1"),
            &[&card],
            patron_row,
        )
    }

    fn patron_cards(&self) -> StoreResult<Vec<String>> {
        self.many("SELECT card FROM patrons ORDER BY card", &[], |r| get(r, 0))
    }

    fn insert_token(&mut self, hash: &str, card: &str, expires_at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO tokens(hash, card, expires_at) VALUES ($1, $2, $3)",
            &[&hash, &card, &expires_at],
        )
        .map(|_| ())
    }

    fn token(&self, hash: &str, now: i64) -> StoreResult<Option<(String, i64)>> {
        self.one(
            "SELECT card, expires_at FROM tokens WHERE hash = $1 AND NOT revoked AND expires_at > $2",
            &[&hash, &now],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }

    fn revoke_token(&mut self, hash: &str) -> StoreResult<()> {
        self.exec("UPDATE tokens SET revoked = TRUE WHERE hash = $1", &[&hash])
            .map(|_| ())
    }

    fn record_login_failure(&mut self, card: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO login_failures(card, at) VALUES ($1, $2)",
            &[&card, &at],
        )
        .map(|_| ())
    }

    fn login_failures_since(&self, card: &str, since: i64) -> StoreResult<u32> {
        let n: i64 = self
            .one(
                "SELECT COUNT(*) FROM login_failures WHERE card = $1 AND at >= $2",
                &[&card, &since],
                |r| get(r, 0),
            )?
            .unwrap_or(0);
        u32_of(n)
    }

    fn clear_login_failures(&mut self, card: &str) -> StoreResult<()> {
        self.exec("DELETE FROM login_failures WHERE card = $1", &[&card])
            .map(|_| ())
    }

    fn upsert_title(&mut self, t: &TitleRow) -> StoreResult<()> {
        use crate::catalog::fold;
        let links = serde_json::to_string(&t.links).map_err(db)?;
        let isbns = t.isbns.join(" ");
        // The search document: folded (lower case, no diacritics) like the
        // queries, weighted title A, author B, subjects C, ISBNs D.
        let (ft, fa, fs) = (fold(&t.title), fold(&t.author), fold(&t.subjects));
        let fi = format!("{} {}", t.isbn.as_deref().unwrap_or(""), isbns);
        self.exec(
            &format!("INSERT INTO titles({TITLE_COLS}, search) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                setweight(to_tsvector('simple', $16), 'A') || setweight(to_tsvector('simple', $17), 'B') ||
                setweight(to_tsvector('simple', $18), 'C') || setweight(to_tsvector('simple', $19), 'D'))
              ON CONFLICT(id) DO UPDATE SET title = excluded.title, author = excluded.author, year = excluded.year, language = excluded.language,
                subjects = excluded.subjects, isbn = excluded.isbn, item_type = excluded.item_type, collection = excluded.collection,
                responsibility = excluded.responsibility, call_number = excluded.call_number, format = excluded.format,
                links = excluded.links, marc_control = excluded.marc_control, isbns = excluded.isbns, search = excluded.search"),
            &[&t.id, &t.title, &t.author, &t.year, &t.language, &t.subjects, &t.isbn, &t.item_type, &t.collection,
              &t.responsibility, &t.call_number, &t.format, &links, &t.marc_control, &isbns, &ft, &fa, &fs, &fi],
        )?;
        self.exec("DELETE FROM title_isbns WHERE title_id = $1", &[&t.id])?;
        for isbn in t.isbn.iter().chain(&t.isbns) {
            self.exec(
                "INSERT INTO title_isbns(isbn, title_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[isbn, &t.id],
            )?;
        }
        Ok(())
    }

    fn title(&self, id: &str) -> StoreResult<Option<TitleRow>> {
        self.one(
            &format!("SELECT {TITLE_COLS} FROM titles WHERE id = $1"),
            &[&id],
            title_row,
        )
    }

    fn title_by_isbn(&self, isbn: &str) -> StoreResult<Option<TitleRow>> {
        let cols = TITLE_COLS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.one(
            &format!("SELECT {cols} FROM title_isbns i JOIN titles t ON t.id = i.title_id WHERE i.isbn = $1 ORDER BY t.id LIMIT 1"),
            &[&isbn],
            title_row,
        )
    }

    fn title_id_by_control(&self, control: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT id FROM titles WHERE marc_control = $1",
            &[&control],
            |r| get(r, 0),
        )
    }

    fn title_count(&self) -> StoreResult<u64> {
        let n: i64 = self
            .one("SELECT COUNT(*) FROM titles", &[], |r| get(r, 0))?
            .unwrap_or(0);
        Ok(n.max(0) as u64)
    }

    fn vocabulary_near(&self, word: &str, limit: u32) -> StoreResult<Vec<(String, u64)>> {
        // ts_stat reads every title's search document: a full scan, run
        // only when a search found nothing.
        let Some(first) = word.chars().next() else {
            return Ok(vec![]);
        };
        let lo = first.to_string();
        let hi = char::from_u32(first as u32 + 1)
            .map(|c| c.to_string())
            .unwrap_or_else(|| format!("{first}\u{10FFFF}"));
        let len = word.chars().count() as i32;
        self.many(
            "SELECT word, ndoc FROM ts_stat('SELECT search FROM titles')
              WHERE word >= $1 AND word < $2 AND length(word) BETWEEN $3 AND $4
              ORDER BY ndoc DESC, word LIMIT $5",
            &[&lo, &hi, &(len - 2), &(len + 2), &i64::from(limit)],
            |r| Ok((get(r, 0)?, get::<i32>(r, 1)?.max(0) as u64)),
        )
    }

    fn online_titles(
        &self,
        formats: &[&str],
        offset: u32,
        limit: u32,
    ) -> StoreResult<(u64, Vec<TitleRow>)> {
        let list: Vec<String> = formats.iter().map(|s| s.to_string()).collect();
        let total: i64 = self
            .one(
                "SELECT count(*) FROM titles WHERE links <> '[]' AND format = ANY($1)",
                &[&list],
                |r| get(r, 0),
            )?
            .unwrap_or(0);
        let rows = self.many(
            &format!(
                "SELECT {TITLE_COLS} FROM titles WHERE links <> '[]' AND format = ANY($1)
                 ORDER BY id LIMIT $2 OFFSET $3"
            ),
            &[&list, &i64::from(limit), &i64::from(offset)],
            title_row,
        )?;
        Ok((total.max(0) as u64, rows))
    }

    fn search_titles(
        &self,
        query: &str,
        f: &SearchFilter,
        limit: u32,
    ) -> StoreResult<Vec<TitleRow>> {
        if let Some(isbn) = pustaka_marc::isbn13(query) {
            return Ok(self.title_by_isbn(&isbn)?.into_iter().collect());
        }
        let Some(q) = ts_query(query) else {
            return Ok(vec![]);
        };
        let cols = TITLE_COLS
            .split(", ")
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Weights D, C, B, A: ISBNs 0.1, subjects 0.2, author 0.4, title 1.
        let sql = format!(
            "SELECT {cols} FROM titles t, to_tsquery('simple', $1) q
             WHERE t.search @@ q
               AND ($2::text IS NULL OR t.item_type = $2)
               AND ($3::text IS NULL OR t.language = $3)
               AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.branch = $4))
               AND (NOT $5 OR EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.status = 'available' AND ($4::text IS NULL OR c.branch = $4)))
               AND ($7::text IS NULL OR COALESCE(t.format, t.item_type) = $7)
             ORDER BY ts_rank('{{0.1, 0.2, 0.4, 1.0}}', t.search, q) DESC, t.id LIMIT $6"
        );
        self.many(
            &sql,
            &[
                &q,
                &f.item_type,
                &f.language,
                &f.branch,
                &f.available_only,
                &i64::from(limit),
                &f.format,
            ],
            title_row,
        )
    }

    fn upsert_copy(&mut self, c: &CopyRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO copies({COPY_COLS}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT(barcode) DO UPDATE SET title_id = excluded.title_id, branch = excluded.branch, shelf = excluded.shelf, status = excluded.status, hold_id = excluded.hold_id"),
            &[&c.barcode, &c.title_id, &c.branch, &c.shelf, &c.status.code(), &c.hold_id],
        )
        .map(|_| ())
    }

    fn copy(&self, barcode: &str) -> StoreResult<Option<CopyRow>> {
        self.one(
            &format!("SELECT {COPY_COLS} FROM copies WHERE barcode = $1"),
            &[&barcode],
            copy_row,
        )
    }

    fn copies_of(&self, title_id: &str) -> StoreResult<Vec<CopyRow>> {
        self.many(
            &format!("SELECT {COPY_COLS} FROM copies WHERE title_id = $1 ORDER BY barcode"),
            &[&title_id],
            copy_row,
        )
    }

    fn borrowed_together(
        &self,
        title_id: &str,
        min_patrons: u32,
        limit: u32,
    ) -> StoreResult<Vec<(String, u32)>> {
        let (min, limit) = (i64::from(min_patrons), i64::from(limit));
        self.many(
            &super::BORROWED_TOGETHER_SQL
                .replace("?1", "$1")
                .replace("?2", "$2")
                .replace("?3", "$3"),
            &[&title_id, &min, &limit],
            |r| {
                let n: i64 = get(r, 1)?;
                Ok((get(r, 0)?, u32::try_from(n).unwrap_or(u32::MAX)))
            },
        )
    }

    fn insert_loan(&mut self, l: &LoanRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO loans({LOAN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
            &[
                &l.id,
                &l.copy,
                &l.card,
                &day_text(l.checked_out),
                &day_text(l.due),
                &i64::from(l.renewals_used),
                &l.returned.map(day_text),
            ],
        )
        .map(|_| ())
    }

    fn update_loan(&mut self, l: &LoanRow) -> StoreResult<()> {
        self.exec(
            "UPDATE loans SET due = $2, renewals_used = $3, returned = $4, card = $5 WHERE id = $1",
            &[
                &l.id,
                &day_text(l.due),
                &i64::from(l.renewals_used),
                &l.returned.map(day_text),
                &l.card,
            ],
        )
        .map(|_| ())
    }

    fn open_loans_of(&self, card: &str) -> StoreResult<Vec<LoanRow>> {
        self.many(
            &format!("SELECT {LOAN_COLS} FROM loans WHERE card = $1 AND returned IS NULL ORDER BY due, copy"),
            &[&card],
            loan_row,
        )
    }

    fn open_loan_of_copy(&self, copy: &str) -> StoreResult<Option<LoanRow>> {
        self.one(
            &format!("SELECT {LOAN_COLS} FROM loans WHERE copy = $1 AND returned IS NULL"),
            &[&copy],
            loan_row,
        )
    }

    fn returned_loans_of(&self, card: &str, limit: u32) -> StoreResult<Vec<LoanRow>> {
        self.many(
            &format!("SELECT {LOAN_COLS} FROM loans WHERE card = $1 AND returned IS NOT NULL ORDER BY returned DESC, id LIMIT $2"),
            &[&card, &i64::from(limit)],
            loan_row,
        )
    }

    fn cards_with_loans_due_before(&self, day: NaiveDate) -> StoreResult<Vec<String>> {
        self.many(
            "SELECT DISTINCT card FROM loans WHERE returned IS NULL AND due < $1 ORDER BY card",
            &[&day_text(day)],
            |r| get(r, 0),
        )
    }

    fn insert_hold(&mut self, h: &HoldRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO holds({HOLD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
            &[
                &h.id,
                &h.title_id,
                &h.card,
                &h.pickup_branch,
                &h.placed_at,
                &h.status,
                &h.suspended_until.map(day_text),
                &h.copy,
                &h.pickup_by.map(day_text),
            ],
        )
        .map(|_| ())
    }

    fn update_hold(&mut self, h: &HoldRow) -> StoreResult<()> {
        self.exec(
            "UPDATE holds SET pickup_branch = $2, status = $3, suspended_until = $4, copy = $5, pickup_by = $6 WHERE id = $1",
            &[&h.id, &h.pickup_branch, &h.status, &h.suspended_until.map(day_text), &h.copy, &h.pickup_by.map(day_text)],
        )
        .map(|_| ())
    }

    fn delete_hold(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM holds WHERE id = $1", &[&id])
            .map(|_| ())
    }

    fn hold(&self, id: &str) -> StoreResult<Option<HoldRow>> {
        self.one(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE id = $1"),
            &[&id],
            hold_row,
        )
    }

    fn holds_of(&self, card: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE card = $1 ORDER BY placed_at, id"),
            &[&card],
            hold_row,
        )
    }

    fn holds_on_title(&self, title_id: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE title_id = $1 ORDER BY placed_at, id"),
            &[&title_id],
            hold_row,
        )
    }

    fn holds_with_status(&self, status: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE status = $1 ORDER BY placed_at, id"),
            &[&status],
            hold_row,
        )
    }

    fn upsert_event(&mut self, e: &EventRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO events({EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
              ON CONFLICT(id) DO UPDATE SET title_id = excluded.title_id, title_en = excluded.title_en, description_id = excluded.description_id,
                description_en = excluded.description_en, category = excluded.category, branch = excluded.branch, place = excluded.place,
                online_url = excluded.online_url, start = excluded.start, \"end\" = excluded.\"end\", capacity = excluded.capacity,
                audience = excluded.audience, accessibility = excluded.accessibility"),
            &[&e.id, &e.title_id, &e.title_en, &e.description_id, &e.description_en, &e.category, &e.branch, &e.place,
              &e.online_url, &e.start, &e.end, &i64::from(e.capacity), &e.audience, &e.accessibility],
        )
        .map(|_| ())
    }

    fn event(&self, id: &str) -> StoreResult<Option<EventRow>> {
        self.one(
            &format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"),
            &[&id],
            event_row,
        )
    }

    fn events(&self) -> StoreResult<Vec<EventRow>> {
        self.many(
            &format!("SELECT {EVENT_COLS} FROM events ORDER BY start, id"),
            &[],
            event_row,
        )
    }

    fn registrations_for(&self, event_id: &str) -> StoreResult<Vec<RegistrationRow>> {
        self.many(
            "SELECT event_id, card, status, seq FROM registrations WHERE event_id = $1 ORDER BY seq",
            &[&event_id],
            reg_row,
        )
    }

    fn registrations_of(&self, card: &str) -> StoreResult<Vec<RegistrationRow>> {
        self.many(
            "SELECT event_id, card, status, seq FROM registrations WHERE card = $1 ORDER BY seq",
            &[&card],
            reg_row,
        )
    }

    fn upsert_registration(&mut self, r: &RegistrationRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO registrations(event_id, card, status, seq) VALUES ($1, $2, $3, $4) ON CONFLICT(event_id, card) DO UPDATE SET status = excluded.status, seq = excluded.seq",
            &[&r.event_id, &r.card, &r.status, &r.seq],
        )
        .map(|_| ())
    }

    fn delete_registration(&mut self, event_id: &str, card: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM registrations WHERE event_id = $1 AND card = $2",
            &[&event_id, &card],
        )
        .map(|_| ())
    }

    fn upsert_van_stop(&mut self, v: &VanStopRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO van_stops(id, place, weekday, start_time, end_time, \"from\", until) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT(id) DO UPDATE SET place = excluded.place, weekday = excluded.weekday, start_time = excluded.start_time,
               end_time = excluded.end_time, \"from\" = excluded.\"from\", until = excluded.until",
            &[&v.id, &v.place, &v.weekday, &v.start_time, &v.end_time, &day_text(v.from), &day_text(v.until)],
        )
        .map(|_| ())
    }

    fn van_stops(&self) -> StoreResult<Vec<VanStopRow>> {
        self.many(
            "SELECT id, place, weekday, start_time, end_time, \"from\", until FROM van_stops ORDER BY id",
            &[],
            |r| {
                Ok(VanStopRow {
                    id: get(r, 0)?,
                    place: get(r, 1)?,
                    weekday: get(r, 2)?,
                    start_time: get(r, 3)?,
                    end_time: get(r, 4)?,
                    from: day(get(r, 5)?)?,
                    until: day(get(r, 6)?)?,
                })
            },
        )
    }

    fn outcome(&self, intent_id: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT outcome FROM processed_intents WHERE intent_id = $1",
            &[&intent_id],
            |r| get(r, 0),
        )
    }

    fn insert_outcome(
        &mut self,
        intent_id: &str,
        card: &str,
        decided_at: i64,
        json: &str,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO processed_intents(intent_id, card, decided_at, outcome) VALUES ($1, $2, $3, $4)",
            &[&intent_id, &card, &decided_at, &json],
        )
        .map(|_| ())
    }

    fn outcomes_of(&self, card: &str) -> StoreResult<Vec<(String, String)>> {
        self.many(
            "SELECT intent_id, outcome FROM processed_intents WHERE card = $1 ORDER BY intent_id",
            &[&card],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }

    fn insert_doc(&mut self, d: &DocRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO docs(id, kind, owner, snapshot) VALUES ($1, $2, $3, '')",
            &[&d.id, &d.kind, &d.owner],
        )
        .map(|_| ())
    }

    fn set_circ_doc(&mut self, card: &str, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE patrons SET circ_doc = $2 WHERE card = $1",
            &[&card, &id],
        )
        .map(|_| ())
    }

    fn retire_doc(&mut self, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET kind = 'retired:' || kind, version = version + 1 WHERE id = $1",
            &[&id],
        )?;
        self.exec("DELETE FROM sync_states WHERE doc_id = $1", &[&id])
            .map(|_| ())
    }

    fn doc(&self, id: &str) -> StoreResult<Option<DocRow>> {
        self.one(
            "SELECT id, kind, owner FROM docs WHERE id = $1",
            &[&id],
            |r| {
                Ok(DocRow {
                    id: get(r, 0)?,
                    kind: get(r, 1)?,
                    owner: get(r, 2)?,
                })
            },
        )
    }

    fn doc_bytes(&self, id: &str) -> StoreResult<Option<StoredDoc>> {
        let Some(snapshot) = self.one("SELECT snapshot FROM docs WHERE id = $1", &[&id], |r| {
            get::<Vec<u8>>(r, 0)
        })?
        else {
            return Ok(None);
        };
        let chunks = self.many(
            "SELECT bytes FROM doc_chunks WHERE doc_id = $1 ORDER BY seq",
            &[&id],
            |r| get(r, 0),
        )?;
        Ok(Some((snapshot, chunks)))
    }

    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO doc_chunks(doc_id, seq, bytes) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM doc_chunks WHERE doc_id = $1), $2)",
            &[&id, &bytes],
        )?;
        self.exec(
            "UPDATE docs SET version = version + 1 WHERE id = $1",
            &[&id],
        )
        .map(|_| ())
    }

    fn replace_doc_snapshot(&mut self, id: &str, snapshot: &[u8]) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET snapshot = $2, version = version + 1 WHERE id = $1",
            &[&id, &snapshot],
        )?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = $1", &[&id])
            .map(|_| ())
    }

    fn sync_state(&self, device: &str, doc: &str) -> StoreResult<Option<Vec<u8>>> {
        self.one(
            "SELECT state FROM sync_states WHERE device = $1 AND doc_id = $2",
            &[&device, &doc],
            |r| get(r, 0),
        )
    }

    fn put_sync_state(
        &mut self,
        card: &str,
        device: &str,
        doc: &str,
        state: &[u8],
        now: i64,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO sync_states(device, doc_id, state, card, last_used) VALUES ($1, $2, $3, $4, $5) ON CONFLICT(device, doc_id) DO UPDATE SET state = excluded.state, card = excluded.card, last_used = excluded.last_used",
            &[&device, &doc, &state, &card, &now],
        )
        .map(|_| ())
    }

    fn forget_old_devices(&mut self, card: &str, device: &str, keep: usize) -> StoreResult<usize> {
        let others = i64::try_from(keep.saturating_sub(1)).unwrap_or(i64::MAX);
        let dropped: Vec<String> = self.many(
            "SELECT device FROM sync_states WHERE card = $1 AND device <> $2 GROUP BY device ORDER BY MAX(last_used) DESC, device OFFSET $3",
            &[&card, &device, &others],
            |r| get(r, 0),
        )?;
        for d in &dropped {
            self.exec(
                "DELETE FROM sync_states WHERE card = $1 AND device = $2",
                &[&card, &d],
            )?;
        }
        Ok(dropped.len())
    }

    fn anonymize_returned_loans(&mut self, card: &str) -> StoreResult<u64> {
        self.exec(
            "UPDATE loans SET card = '' WHERE card = $1 AND returned IS NOT NULL",
            &[&card],
        )
    }

    fn purge_doc(&mut self, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET kind = 'purged:' || kind, snapshot = ''::bytea, version = version + 1 WHERE id = $1",
            &[&id],
        )?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = $1", &[&id])?;
        self.exec("DELETE FROM sync_states WHERE doc_id = $1", &[&id])
            .map(|_| ())
    }

    fn devices_of(&self, card: &str) -> StoreResult<Vec<(String, i64)>> {
        self.many(
            "SELECT device, MAX(last_used) FROM sync_states WHERE card = $1 GROUP BY device ORDER BY device",
            &[&card],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }
    fn upsert_faq(&mut self, f: &FaqRow) -> StoreResult<()> {
        let (also_id, also_en) = (f.also_id.join("\n"), f.also_en.join("\n"));
        self.exec(
            "INSERT INTO faq(id, topic, question_id, answer_id, question_en, answer_en, also_id, also_en, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET topic = $2, question_id = $3, answer_id = $4, question_en = $5, answer_en = $6, also_id = $7, also_en = $8, updated_at = $9",
            &[&f.id, &f.topic, &f.question_id, &f.answer_id, &f.question_en, &f.answer_en, &also_id, &also_en, &f.updated_at],
        )
        .map(|_| ())
    }

    fn delete_faq(&mut self, id: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM faq WHERE id = $1", &[&id])
            .map(|n| n > 0)
    }

    fn faq_entries(&self) -> StoreResult<Vec<FaqRow>> {
        self.many(
            "SELECT id, topic, question_id, answer_id, question_en, answer_en, also_id, also_en, updated_at FROM faq ORDER BY id",
            &[],
            |r| {
                Ok(FaqRow {
                    id: get(r, 0)?,
                    topic: get(r, 1)?,
                    question_id: get(r, 2)?,
                    answer_id: get(r, 3)?,
                    question_en: get(r, 4)?,
                    answer_en: get(r, 5)?,
                    also_id: lines(get(r, 6)?),
                    also_en: lines(get(r, 7)?),
                    updated_at: get(r, 8)?,
                })
            },
        )
    }

    fn insert_question(&mut self, q: &QuestionRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO questions(id, card, asked_at, lang, question, answer, answered_at, answered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[&q.id, &q.card, &q.asked_at, &q.lang, &q.question, &q.answer, &q.answered_at, &q.answered_by],
        )
        .map(|_| ())
    }

    fn update_question(&mut self, q: &QuestionRow) -> StoreResult<()> {
        self.exec(
            "UPDATE questions SET answer = $2, answered_at = $3, answered_by = $4 WHERE id = $1",
            &[&q.id, &q.answer, &q.answered_at, &q.answered_by],
        )
        .map(|_| ())
    }

    fn question(&self, id: &str) -> StoreResult<Option<QuestionRow>> {
        self.one(
            &format!("SELECT {QUESTION_COLS} FROM questions WHERE id = $1"),
            &[&id],
            question_row,
        )
    }

    fn questions_of(&self, card: &str) -> StoreResult<Vec<QuestionRow>> {
        self.many(
            &format!("SELECT {QUESTION_COLS} FROM questions WHERE card = $1 ORDER BY asked_at, id"),
            &[&card],
            question_row,
        )
    }

    fn open_questions(&self) -> StoreResult<Vec<QuestionRow>> {
        self.many(&format!("SELECT {QUESTION_COLS} FROM questions WHERE answered_at IS NULL ORDER BY asked_at, id"), &[], question_row)
    }
    fn upsert_survey(&mut self, v: &SurveyRow) -> StoreResult<()> {
        let questions = serde_json::to_string(&v.questions).map_err(db)?;
        let closes = v.closes.map(day_text);
        self.exec(
            "INSERT INTO surveys(id, title_id, title_en, closes, questions, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET title_id = $2, title_en = $3, closes = $4, questions = $5, updated_at = $6",
            &[&v.id, &v.title_id, &v.title_en, &closes, &questions, &v.updated_at],
        )
        .map(|_| ())
    }

    fn survey(&self, id: &str) -> StoreResult<Option<SurveyRow>> {
        self.one(
            &format!("SELECT {SURVEY_COLS} FROM surveys WHERE id = $1"),
            &[&id],
            survey_row,
        )
    }

    fn surveys(&self) -> StoreResult<Vec<SurveyRow>> {
        self.many(
            &format!("SELECT {SURVEY_COLS} FROM surveys ORDER BY id"),
            &[],
            survey_row,
        )
    }

    fn survey_answered(&self, survey: &str, card: &str) -> StoreResult<Option<i64>> {
        self.one(
            "SELECT answered_at FROM survey_responses WHERE survey = $1 AND card = $2",
            &[&survey, &card],
            |r| get(r, 0),
        )
    }

    fn surveys_answered_by(&self, card: &str) -> StoreResult<Vec<(String, i64)>> {
        self.many(
            "SELECT survey, answered_at FROM survey_responses WHERE card = $1 ORDER BY survey",
            &[&card],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }

    fn record_survey_response(
        &mut self,
        survey: &str,
        card: &str,
        at: i64,
        answers: &[(String, String)],
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO survey_responses(survey, card, answered_at) VALUES ($1, $2, $3)",
            &[&survey, &card, &at],
        )?;
        for (q, v) in answers {
            self.exec(
                "INSERT INTO survey_answers(survey, question, value) VALUES ($1, $2, $3)",
                &[&survey, q, v],
            )?;
        }
        Ok(())
    }

    fn survey_response_count(&self, survey: &str) -> StoreResult<u64> {
        self.one(
            "SELECT count(*) FROM survey_responses WHERE survey = $1",
            &[&survey],
            |r| get::<i64>(r, 0),
        )
        .map(|n| n.unwrap_or(0).max(0) as u64)
    }

    fn survey_answers(&self, survey: &str) -> StoreResult<Vec<(String, String)>> {
        self.many(
            "SELECT question, value FROM survey_answers WHERE survey = $1 ORDER BY question, ctid",
            &[&survey],
            |r| Ok((get(r, 0)?, get(r, 1)?)),
        )
    }
}

const SURVEY_COLS: &str = "id, title_id, title_en, closes, questions, updated_at";
fn survey_row(r: &Row) -> StoreResult<SurveyRow> {
    let questions: String = get(r, 4)?;
    Ok(SurveyRow {
        id: get(r, 0)?,
        title_id: get(r, 1)?,
        title_en: get(r, 2)?,
        closes: opt_day(get(r, 3)?)?,
        questions: serde_json::from_str(&questions)
            .map_err(|e| StoreError::Corrupt(format!("survey questions: {e}")))?,
        updated_at: get(r, 5)?,
    })
}

const QUESTION_COLS: &str = "id, card, asked_at, lang, question, answer, answered_at, answered_by";
fn question_row(r: &Row) -> StoreResult<QuestionRow> {
    Ok(QuestionRow {
        id: get(r, 0)?,
        card: get(r, 1)?,
        asked_at: get(r, 2)?,
        lang: get(r, 3)?,
        question: get(r, 4)?,
        answer: get(r, 5)?,
        answered_at: get(r, 6)?,
        answered_by: get(r, 7)?,
    })
}

fn lines(s: String) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Where a server hears of documents changed by the other servers sharing
/// its database.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    url: String,
    instance: String,
}

/// Stops the listening thread when dropped (within a second).
pub struct Listening {
    stop: Arc<AtomicBool>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl ChangeFeed {
    /// Listens on its own connection, on its own thread, and hands every
    /// batch of document ids committed by *another* server to `on_change`.
    /// A lost connection is re-established every second until dropped.
    pub fn spawn(self, on_change: impl Fn(Vec<String>) + Send + 'static) -> Listening {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if let Err(e) = self.listen(&flag, &on_change) {
                    tracing::warn!("change feed: {e}; reconnecting");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        });
        Listening { stop }
    }

    fn listen(&self, stop: &AtomicBool, on_change: &impl Fn(Vec<String>)) -> StoreResult<()> {
        let mut client = connect(&self.url)?;
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(db)?;
        while !stop.load(Ordering::SeqCst) {
            {
                let mut n = client.notifications();
                let mut it = n.timeout_iter(Duration::from_millis(500));
                while let Some(note) =
                    ::postgres::fallible_iterator::FallibleIterator::next(&mut it).map_err(db)?
                {
                    let mut words = note.payload().split(' ');
                    if words.next() == Some(self.instance.as_str()) {
                        continue;
                    }
                    let ids: Vec<String> = words
                        .filter(|w| !w.is_empty())
                        .map(str::to_string)
                        .collect();
                    if !ids.is_empty() {
                        on_change(ids);
                    }
                }
            }
            if client.is_closed() {
                return Err(StoreError::Db("listening connection closed".into()));
            }
        }
        Ok(())
    }
}
