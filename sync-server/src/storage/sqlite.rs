//! The embedded default: SQLite through rusqlite, WAL, numbered migrations.

use super::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::Path;

/// Prepared statements kept per connection: room for every query the
/// storage makes (rusqlite keeps 16 by default, fewer than one sync uses).
const STATEMENT_CACHE: usize = 128;

/// Migrations run in order; `PRAGMA user_version` records how far a database
/// has come. Never edit a released migration: add a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE seqs (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE patrons (
  card TEXT PRIMARY KEY, name TEXT NOT NULL, patron_type TEXT NOT NULL,
  status TEXT NOT NULL, expires TEXT NOT NULL, home_branch TEXT NOT NULL,
  pin_hash TEXT NOT NULL, email TEXT, fines_charged INTEGER NOT NULL DEFAULT 0,
  circ_doc TEXT NOT NULL, intents_doc TEXT NOT NULL);
CREATE TABLE tokens (hash TEXT PRIMARY KEY, card TEXT NOT NULL, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE login_failures (card TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX login_failures_card ON login_failures(card, at);
CREATE TABLE titles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, year INTEGER,
  language TEXT NOT NULL, subjects TEXT NOT NULL, isbn TEXT, item_type TEXT NOT NULL, collection TEXT);
CREATE INDEX titles_isbn ON titles(isbn);
CREATE VIRTUAL TABLE titles_fts USING fts5(title, author, subjects, isbn, content='titles', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER titles_ai AFTER INSERT ON titles BEGIN
  INSERT INTO titles_fts(rowid, title, author, subjects, isbn) VALUES (new.rowid, new.title, new.author, new.subjects, new.isbn);
END;
CREATE TRIGGER titles_ad AFTER DELETE ON titles BEGIN
  INSERT INTO titles_fts(titles_fts, rowid, title, author, subjects, isbn) VALUES ('delete', old.rowid, old.title, old.author, old.subjects, old.isbn);
END;
CREATE TRIGGER titles_au AFTER UPDATE ON titles BEGIN
  INSERT INTO titles_fts(titles_fts, rowid, title, author, subjects, isbn) VALUES ('delete', old.rowid, old.title, old.author, old.subjects, old.isbn);
  INSERT INTO titles_fts(rowid, title, author, subjects, isbn) VALUES (new.rowid, new.title, new.author, new.subjects, new.isbn);
END;
CREATE TABLE copies (barcode TEXT PRIMARY KEY, title_id TEXT NOT NULL REFERENCES titles(id), branch TEXT NOT NULL, shelf TEXT NOT NULL, status TEXT NOT NULL, hold_id TEXT);
CREATE INDEX copies_title ON copies(title_id);
CREATE TABLE loans (id TEXT PRIMARY KEY, copy TEXT NOT NULL, card TEXT NOT NULL, checked_out TEXT NOT NULL, due TEXT NOT NULL, renewals_used INTEGER NOT NULL, returned TEXT);
CREATE INDEX loans_card ON loans(card, returned);
CREATE INDEX loans_copy ON loans(copy, returned);
CREATE TABLE holds (id TEXT PRIMARY KEY, title_id TEXT NOT NULL, card TEXT NOT NULL, pickup_branch TEXT NOT NULL, placed_at INTEGER NOT NULL, status TEXT NOT NULL, suspended_until TEXT, copy TEXT, pickup_by TEXT);
CREATE INDEX holds_title ON holds(title_id, placed_at);
CREATE INDEX holds_card ON holds(card);
CREATE TABLE events (id TEXT PRIMARY KEY, title_id TEXT NOT NULL, title_en TEXT NOT NULL, description_id TEXT NOT NULL, description_en TEXT NOT NULL, category TEXT NOT NULL, branch TEXT, place TEXT NOT NULL, online_url TEXT, start INTEGER NOT NULL, "end" INTEGER NOT NULL, capacity INTEGER NOT NULL, audience TEXT NOT NULL, accessibility TEXT NOT NULL);
CREATE TABLE registrations (event_id TEXT NOT NULL, card TEXT NOT NULL, status TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (event_id, card));
CREATE INDEX registrations_card ON registrations(card);
CREATE TABLE van_stops (id TEXT PRIMARY KEY, place TEXT NOT NULL, weekday TEXT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL, "from" TEXT NOT NULL, until TEXT NOT NULL);
CREATE TABLE processed_intents (intent_id TEXT PRIMARY KEY, card TEXT NOT NULL, decided_at INTEGER NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX processed_intents_card ON processed_intents(card);
CREATE TABLE docs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL, snapshot BLOB NOT NULL);
CREATE TABLE doc_chunks (doc_id TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (doc_id, seq));
CREATE TABLE sync_states (device TEXT NOT NULL, doc_id TEXT NOT NULL, state BLOB NOT NULL, PRIMARY KEY (device, doc_id));
"#,
    r#"
-- 2: catalogue records from MARC: responsibility, call number, format,
-- links (856), the source control number (re-import updates, never
-- duplicates) and every ISBN of a title, searchable and looked up exactly.
ALTER TABLE titles ADD COLUMN responsibility TEXT;
ALTER TABLE titles ADD COLUMN call_number TEXT;
ALTER TABLE titles ADD COLUMN format TEXT;
ALTER TABLE titles ADD COLUMN links TEXT NOT NULL DEFAULT '[]';
ALTER TABLE titles ADD COLUMN marc_control TEXT;
ALTER TABLE titles ADD COLUMN isbns TEXT NOT NULL DEFAULT '';
UPDATE titles SET isbns = COALESCE(isbn, '');
CREATE UNIQUE INDEX titles_marc_control ON titles(marc_control);
CREATE TABLE title_isbns (isbn TEXT NOT NULL, title_id TEXT NOT NULL, PRIMARY KEY (isbn, title_id)) WITHOUT ROWID;
INSERT OR IGNORE INTO title_isbns SELECT isbn, id FROM titles WHERE isbn IS NOT NULL;
DROP TRIGGER titles_ai;
DROP TRIGGER titles_ad;
DROP TRIGGER titles_au;
DROP TABLE titles_fts;
CREATE VIRTUAL TABLE titles_fts USING fts5(title, author, subjects, isbns, content='titles', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER titles_ai AFTER INSERT ON titles BEGIN
  INSERT INTO titles_fts(rowid, title, author, subjects, isbns) VALUES (new.rowid, new.title, new.author, new.subjects, new.isbns);
END;
CREATE TRIGGER titles_ad AFTER DELETE ON titles BEGIN
  INSERT INTO titles_fts(titles_fts, rowid, title, author, subjects, isbns) VALUES ('delete', old.rowid, old.title, old.author, old.subjects, old.isbns);
END;
CREATE TRIGGER titles_au AFTER UPDATE OF title, author, subjects, isbns ON titles BEGIN
  INSERT INTO titles_fts(titles_fts, rowid, title, author, subjects, isbns) VALUES ('delete', old.rowid, old.title, old.author, old.subjects, old.isbns);
  INSERT INTO titles_fts(rowid, title, author, subjects, isbns) VALUES (new.rowid, new.title, new.author, new.subjects, new.isbns);
END;
INSERT INTO titles_fts(titles_fts) VALUES ('rebuild');
"#,
    r#"
-- 3: a title's ISBNs are replaced on every import of its record.
CREATE INDEX title_isbns_title ON title_isbns(title_id);
"#,
    r#"
-- 4: the search index's vocabulary (spelling suggestions) and the online
-- titles of the OPDS feed.
CREATE VIRTUAL TABLE titles_vocab USING fts5vocab(titles_fts, 'row');
CREATE INDEX titles_online ON titles(format, id) WHERE links <> '[]';
"#,
    r#"
-- 5: a patron's secret calendar-feed address (only its hash is kept; one
-- per patron, replaced when the patron asks for a new one).
CREATE TABLE calendar_feeds (
  card TEXT PRIMARY KEY REFERENCES patrons(card),
  token_hash TEXT NOT NULL UNIQUE
);
"#,
    r#"
-- 6: e-mail reminders for patrons who asked for them, and which were sent
-- (each once: the key names the loan or hold and the date it is about).
CREATE TABLE email_prefs (
  card TEXT PRIMARY KEY REFERENCES patrons(card),
  email TEXT NOT NULL,
  lang TEXT NOT NULL DEFAULT 'id'
);
CREATE TABLE emails_sent (
  key TEXT PRIMARY KEY,
  sent_at INTEGER NOT NULL
);
"#,
    r#"
-- 7: a sync state names the patron it was last written for and when, so a
-- patron's devices can be bounded (the least recently used dropped first).
-- Existing states: the owner of their document, or for the calendar the
-- patron of another state of the same device.
ALTER TABLE sync_states ADD COLUMN card TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_states ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;
UPDATE sync_states SET card = COALESCE((SELECT owner FROM docs WHERE docs.id = sync_states.doc_id), '');
UPDATE sync_states SET card = COALESCE((SELECT s.card FROM sync_states s WHERE s.device = sync_states.device AND s.card <> '' LIMIT 1), '') WHERE card = '';
CREATE INDEX sync_states_card ON sync_states(card, device);
"#,
    r#"
-- 8: a patron's loan history is kept only if they choose so. Until now it
-- was kept for everyone without asking: returned loans forget their
-- borrower, and patrons who want a history opt in from the app.
ALTER TABLE patrons ADD COLUMN keep_history INTEGER NOT NULL DEFAULT 0;
UPDATE loans SET card = '' WHERE returned IS NOT NULL;
"#,
    r#"
-- 9: the library's questions and answers (the FAQ assistant), and the
-- questions patrons ask a librarian.
CREATE TABLE faq (
  id TEXT PRIMARY KEY, topic TEXT NOT NULL,
  question_id TEXT NOT NULL, answer_id TEXT NOT NULL,
  question_en TEXT NOT NULL, answer_en TEXT NOT NULL,
  also_id TEXT NOT NULL, also_en TEXT NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE questions (
  id TEXT PRIMARY KEY, card TEXT NOT NULL, asked_at INTEGER NOT NULL,
  lang TEXT NOT NULL, question TEXT NOT NULL,
  answer TEXT, answered_at INTEGER, answered_by TEXT
);
CREATE INDEX questions_card ON questions(card);
CREATE INDEX questions_open ON questions(answered_at, asked_at);
"#,
    r#"
-- 10: surveys the library publishes; who answered each (once), and the
-- answers, kept apart from the card so totals never say who said what.
CREATE TABLE surveys (
  id TEXT PRIMARY KEY, title_id TEXT NOT NULL, title_en TEXT NOT NULL,
  closes TEXT, questions TEXT NOT NULL, updated_at INTEGER NOT NULL
);
CREATE TABLE survey_responses (
  survey TEXT NOT NULL, card TEXT NOT NULL, answered_at INTEGER NOT NULL,
  PRIMARY KEY (survey, card)
);
CREATE INDEX survey_responses_card ON survey_responses(card);
CREATE TABLE survey_answers (survey TEXT NOT NULL, question TEXT NOT NULL, value TEXT NOT NULL);
CREATE INDEX survey_answers_survey ON survey_answers(survey, question);
"#,
];

pub struct SqliteStorage {
    conn: Connection,
}

fn db<E: std::fmt::Display>(e: E) -> StoreError {
    StoreError::Db(e.to_string())
}

fn day(s: String) -> rusqlite::Result<NaiveDate> {
    s.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad date `{s}`").into(),
        )
    })
}

fn opt_day(s: Option<String>) -> rusqlite::Result<Option<NaiveDate>> {
    s.map(day).transpose()
}

fn copy_status(s: String) -> rusqlite::Result<CopyStatus> {
    CopyStatus::parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("bad copy status `{s}`").into(),
        )
    })
}

const PATRON_COLS: &str = "card, name, patron_type, status, expires, home_branch, pin_hash, email, fines_charged, circ_doc, intents_doc, keep_history";
fn patron_row(r: &Row) -> rusqlite::Result<PatronRow> {
    Ok(PatronRow {
        card: r.get(0)?,
        name: r.get(1)?,
        patron_type: r.get(2)?,
        status: r.get(3)?,
        expires: day(r.get(4)?)?,
        home_branch: r.get(5)?,
        pin_hash: r.get(6)?,
        email: r.get(7)?,
        fines_charged: r.get(8)?,
        circ_doc: r.get(9)?,
        intents_doc: r.get(10)?,
        keep_history: r.get(11)?,
    })
}

const TITLE_COLS: &str = "id, title, author, year, language, subjects, isbn, item_type, collection, responsibility, call_number, format, links, marc_control, isbns";
fn title_row(r: &Row) -> rusqlite::Result<TitleRow> {
    let links: String = r.get(12)?;
    let isbns: String = r.get(14)?;
    Ok(TitleRow {
        id: r.get(0)?,
        title: r.get(1)?,
        author: r.get(2)?,
        year: r.get(3)?,
        language: r.get(4)?,
        subjects: r.get(5)?,
        isbn: r.get(6)?,
        item_type: r.get(7)?,
        collection: r.get(8)?,
        responsibility: r.get(9)?,
        call_number: r.get(10)?,
        format: r.get(11)?,
        links: serde_json::from_str(&links).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(12, rusqlite::types::Type::Text, e.into())
        })?,
        marc_control: r.get(13)?,
        isbns: isbns.split_whitespace().map(str::to_string).collect(),
    })
}

const COPY_COLS: &str = "barcode, title_id, branch, shelf, status, hold_id";
fn copy_row(r: &Row) -> rusqlite::Result<CopyRow> {
    Ok(CopyRow {
        barcode: r.get(0)?,
        title_id: r.get(1)?,
        branch: r.get(2)?,
        shelf: r.get(3)?,
        status: copy_status(r.get(4)?)?,
        hold_id: r.get(5)?,
    })
}

const LOAN_COLS: &str = "id, copy, card, checked_out, due, renewals_used, returned";
fn loan_row(r: &Row) -> rusqlite::Result<LoanRow> {
    Ok(LoanRow {
        id: r.get(0)?,
        copy: r.get(1)?,
        card: r.get(2)?,
        checked_out: day(r.get(3)?)?,
        due: day(r.get(4)?)?,
        renewals_used: r.get(5)?,
        returned: opt_day(r.get(6)?)?,
    })
}

const HOLD_COLS: &str =
    "id, title_id, card, pickup_branch, placed_at, status, suspended_until, copy, pickup_by";
fn hold_row(r: &Row) -> rusqlite::Result<HoldRow> {
    Ok(HoldRow {
        id: r.get(0)?,
        title_id: r.get(1)?,
        card: r.get(2)?,
        pickup_branch: r.get(3)?,
        placed_at: r.get(4)?,
        status: r.get(5)?,
        suspended_until: opt_day(r.get(6)?)?,
        copy: r.get(7)?,
        pickup_by: opt_day(r.get(8)?)?,
    })
}

const EVENT_COLS: &str = "id, title_id, title_en, description_id, description_en, category, branch, place, online_url, start, \"end\", capacity, audience, accessibility";
fn event_row(r: &Row) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        title_id: r.get(1)?,
        title_en: r.get(2)?,
        description_id: r.get(3)?,
        description_en: r.get(4)?,
        category: r.get(5)?,
        branch: r.get(6)?,
        place: r.get(7)?,
        online_url: r.get(8)?,
        start: r.get(9)?,
        end: r.get(10)?,
        capacity: r.get(11)?,
        audience: r.get(12)?,
        accessibility: r.get(13)?,
    })
}

fn reg_row(r: &Row) -> rusqlite::Result<RegistrationRow> {
    Ok(RegistrationRow {
        event_id: r.get(0)?,
        card: r.get(1)?,
        status: r.get(2)?,
        seq: r.get(3)?,
    })
}

/// `a, b` → `t.a, t.b`.
fn prefixed(table: &str, cols: &str) -> String {
    cols.split(", ")
        .map(|c| format!("{table}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns free text into an FTS5 query: every word must match as a prefix,
/// and FTS5 syntax in the input has no effect. Public for the catalogue
/// bench, whose raw-FTS5 baseline must match exactly what search matches.
pub fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(12)
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

impl SqliteStorage {
    /// One ranked FTS5 query with the search filters. Without filters the
    /// index ranks and limits first and only the page's rows are read;
    /// with them every match is joined and filtered, then ranked.
    fn ranked(&self, fts: &str, f: &SearchFilter, limit: u32) -> StoreResult<Vec<TitleRow>> {
        let cols = prefixed("t", TITLE_COLS);
        let unfiltered = f.branch.is_none()
            && f.item_type.is_none()
            && f.language.is_none()
            && f.format.is_none()
            && !f.available_only;
        if unfiltered {
            let sql = format!(
                "WITH hits AS (SELECT rowid AS r, bm25(titles_fts, 10.0, 4.0, 2.0, 1.0) AS score
                               FROM titles_fts WHERE titles_fts MATCH ?1 ORDER BY score LIMIT ?2)
                 SELECT {cols} FROM hits JOIN titles t ON t.rowid = hits.r ORDER BY hits.score"
            );
            return self.many(&sql, params![fts, limit], title_row);
        }
        let sql = format!(
            "SELECT {cols} FROM titles_fts JOIN titles t ON t.rowid = titles_fts.rowid
             WHERE titles_fts MATCH ?1
               AND (?2 IS NULL OR t.item_type = ?2)
               AND (?3 IS NULL OR t.language = ?3)
               AND (?4 IS NULL OR EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.branch = ?4))
               AND (?5 = 0 OR EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.status = 'available' AND (?4 IS NULL OR c.branch = ?4)))
               AND (?7 IS NULL OR COALESCE(t.format, t.item_type) = ?7)
             ORDER BY bm25(titles_fts, 10.0, 4.0, 2.0, 1.0) LIMIT ?6"
        );
        self.many(
            &sql,
            params![
                fts,
                f.item_type,
                f.language,
                f.branch,
                f.available_only as i64,
                limit,
                f.format
            ],
            title_row,
        )
    }

    pub fn open(path: &Path) -> StoreResult<SqliteStorage> {
        let conn = Connection::open(path).map_err(db)?;
        Self::setup(conn)
    }

    pub fn open_in_memory() -> StoreResult<SqliteStorage> {
        Self::setup(Connection::open_in_memory().map_err(db)?)
    }

    fn setup(conn: Connection) -> StoreResult<SqliteStorage> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        // FULL: a reply says "received by the library" only after the commit
        // reached the disk.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        // Every query goes through `prepare_cached`: with too small a cache
        // statements were parsed again on every request.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let mut s = SqliteStorage { conn };
        s.migrate()?;
        Ok(s)
    }

    /// For bulk loads (MARC import): `synchronous = NORMAL`. With WAL a
    /// crash loses at most the last commits, never consistency, and an
    /// import is re-runnable (it updates, never duplicates).
    pub fn bulk_load(&mut self) -> StoreResult<()> {
        self.conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        self.conn
            .pragma_update(None, "cache_size", -65536)
            .map_err(db)
    }

    fn migrate(&mut self) -> StoreResult<()> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::Corrupt(format!(
                "database schema {version} is newer than this server ({known})"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self.conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    fn one<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        let mut st = self.conn.prepare_cached(sql).map_err(db)?;
        st.query_row(p, f).optional().map_err(db)
    }

    fn many<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut st = self.conn.prepare_cached(sql).map_err(db)?;
        let rows = st.query_map(p, f).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> StoreResult<usize> {
        let mut st = self.conn.prepare_cached(sql).map_err(db)?;
        st.execute(p).map_err(db)
    }
}

impl Storage for SqliteStorage {
    fn begin(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    fn commit(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("COMMIT").map_err(db)
    }

    fn rollback(&mut self) {
        // Nothing to do if no transaction is open.
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        self.one("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
    }

    fn set_feed_token(&mut self, card: &str, token_hash: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO calendar_feeds(card, token_hash) VALUES (?1, ?2) ON CONFLICT(card) DO UPDATE SET token_hash = excluded.token_hash",
            [card, token_hash],
        )
        .map(|_| ())
    }

    fn set_email_prefs(&mut self, card: &str, prefs: Option<(&str, &str)>) -> StoreResult<()> {
        match prefs {
            Some((email, lang)) => self.exec(
                "INSERT INTO email_prefs(card, email, lang) VALUES (?1, ?2, ?3) ON CONFLICT(card) DO UPDATE SET email = excluded.email, lang = excluded.lang",
                [card, email, lang],
            ),
            None => self.exec("DELETE FROM email_prefs WHERE card = ?1", [card]),
        }
        .map(|_| ())
    }

    fn email_prefs(&self, card: &str) -> StoreResult<Option<(String, String)>> {
        self.one(
            "SELECT email, lang FROM email_prefs WHERE card = ?1",
            [card],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn email_subscribers(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.many(
            "SELECT card, email, lang FROM email_prefs ORDER BY card",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    fn email_sent(&self, key: &str) -> StoreResult<bool> {
        Ok(self
            .one::<i64>("SELECT 1 FROM emails_sent WHERE key = ?1", [key], |r| {
                r.get(0)
            })?
            .is_some())
    }

    fn mark_email_sent(&mut self, key: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT OR IGNORE INTO emails_sent(key, sent_at) VALUES (?1, ?2)",
            params![key, at],
        )
        .map(|_| ())
    }

    fn card_by_feed_token(&self, token_hash: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT card FROM calendar_feeds WHERE token_hash = ?1",
            [token_hash],
            |r| r.get(0),
        )
    }

    fn set_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.exec("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value]).map(|_| ())
    }

    fn next_seq(&mut self, name: &str) -> StoreResult<i64> {
        self.exec("INSERT INTO seqs(name, value) VALUES (?1, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1", [name])?;
        Ok(self
            .one("SELECT value FROM seqs WHERE name = ?1", [name], |r| {
                r.get(0)
            })?
            .unwrap_or(1))
    }

    fn insert_patron(&mut self, p: &PatronRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO patrons({PATRON_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![p.card, p.name, p.patron_type, p.status, p.expires.to_string(), p.home_branch, p.pin_hash, p.email, p.fines_charged, p.circ_doc, p.intents_doc, p.keep_history],
        ).map(|_| ())
    }

    fn update_patron(&mut self, p: &PatronRow) -> StoreResult<()> {
        self.exec(
            "UPDATE patrons SET name = ?2, patron_type = ?3, status = ?4, expires = ?5, home_branch = ?6, pin_hash = ?7, email = ?8, fines_charged = ?9, keep_history = ?10 WHERE card = ?1",
            params![p.card, p.name, p.patron_type, p.status, p.expires.to_string(), p.home_branch, p.pin_hash, p.email, p.fines_charged, p.keep_history],
        ).map(|_| ())
    }

    fn patron(&self, card: &str) -> StoreResult<Option<PatronRow>> {
        self.one(
            &format!("SELECT {PATRON_COLS} FROM patrons WHERE card = ?1"),
            [card],
            patron_row,
        )
    }

    fn patron_cards(&self) -> StoreResult<Vec<String>> {
        self.many("SELECT card FROM patrons ORDER BY card", [], |r| r.get(0))
    }

    fn insert_token(&mut self, hash: &str, card: &str, expires_at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO tokens(hash, card, expires_at) VALUES (?1, ?2, ?3)",
            params![hash, card, expires_at],
        )
        .map(|_| ())
    }

    fn token(&self, hash: &str, now: i64) -> StoreResult<Option<(String, i64)>> {
        self.one(
            "SELECT card, expires_at FROM tokens WHERE hash = ?1 AND revoked = 0 AND expires_at > ?2",
            params![hash, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn revoke_token(&mut self, hash: &str) -> StoreResult<()> {
        self.exec("UPDATE tokens SET revoked = 1 WHERE hash = ?1", [hash])
            .map(|_| ())
    }

    fn record_login_failure(&mut self, card: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO login_failures(card, at) VALUES (?1, ?2)",
            params![card, at],
        )
        .map(|_| ())
    }

    fn login_failures_since(&self, card: &str, since: i64) -> StoreResult<u32> {
        Ok(self
            .one(
                "SELECT COUNT(*) FROM login_failures WHERE card = ?1 AND at >= ?2",
                params![card, since],
                |r| r.get(0),
            )?
            .unwrap_or(0))
    }

    fn clear_login_failures(&mut self, card: &str) -> StoreResult<()> {
        self.exec("DELETE FROM login_failures WHERE card = ?1", [card])
            .map(|_| ())
    }

    fn upsert_title(&mut self, t: &TitleRow) -> StoreResult<()> {
        let links = serde_json::to_string(&t.links).map_err(db)?;
        self.exec(
            &format!("INSERT INTO titles({TITLE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT(id) DO UPDATE SET title = excluded.title, author = excluded.author, year = excluded.year, language = excluded.language, subjects = excluded.subjects, isbn = excluded.isbn, item_type = excluded.item_type, collection = excluded.collection, responsibility = excluded.responsibility, call_number = excluded.call_number, format = excluded.format, links = excluded.links, marc_control = excluded.marc_control, isbns = excluded.isbns"),
            params![t.id, t.title, t.author, t.year, t.language, t.subjects, t.isbn, t.item_type, t.collection, t.responsibility, t.call_number, t.format, links, t.marc_control, t.isbns.join(" ")],
        )?;
        self.exec("DELETE FROM title_isbns WHERE title_id = ?1", [&t.id])?;
        for isbn in t.isbn.iter().chain(&t.isbns) {
            self.exec(
                "INSERT OR IGNORE INTO title_isbns(isbn, title_id) VALUES (?1, ?2)",
                [isbn, &t.id],
            )?;
        }
        Ok(())
    }

    fn title(&self, id: &str) -> StoreResult<Option<TitleRow>> {
        self.one(
            &format!("SELECT {TITLE_COLS} FROM titles WHERE id = ?1"),
            [id],
            title_row,
        )
    }

    fn title_by_isbn(&self, isbn: &str) -> StoreResult<Option<TitleRow>> {
        let cols = prefixed("t", TITLE_COLS);
        self.one(
            &format!("SELECT {cols} FROM title_isbns i JOIN titles t ON t.id = i.title_id WHERE i.isbn = ?1 ORDER BY t.id LIMIT 1"),
            [isbn],
            title_row,
        )
    }

    fn title_id_by_control(&self, control: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT id FROM titles WHERE marc_control = ?1",
            [control],
            |r| r.get(0),
        )
    }

    fn title_count(&self) -> StoreResult<u64> {
        self.one("SELECT COUNT(*) FROM titles", [], |r| r.get::<_, i64>(0))
            .map(|n| n.unwrap_or(0) as u64)
    }

    fn search_titles(
        &self,
        query: &str,
        f: &SearchFilter,
        limit: u32,
    ) -> StoreResult<Vec<TitleRow>> {
        // An ISBN, however it is written (10 or 13 digits, hyphens), is an
        // exact lookup.
        if let Some(isbn) = pustaka_marc::isbn13(query) {
            return Ok(self.title_by_isbn(&isbn)?.into_iter().collect());
        }
        let Some(fts) = fts_query(query) else {
            return Ok(vec![]);
        };
        // Title matches first: a query on the title column alone is several
        // times cheaper than ranking every match of a common word; when it
        // fills the page, those are the answer. Otherwise every column, where
        // bm25 weights title 10, author 4, subjects 2, ISBNs 1.
        let title_first = format!("{{title}} : ({fts})");
        let rows = self.ranked(&title_first, f, limit)?;
        if rows.len() >= limit as usize {
            return Ok(rows);
        }
        self.ranked(&fts, f, limit)
    }

    fn vocabulary_near(&self, word: &str, limit: u32) -> StoreResult<Vec<(String, u64)>> {
        // Terms that share the first letter and are of a similar length:
        // a range scan of the FTS vocabulary, not a full one.
        let Some(first) = word.chars().next() else {
            return Ok(vec![]);
        };
        let lo = first.to_string();
        let hi = char::from_u32(first as u32 + 1)
            .map(|c| c.to_string())
            .unwrap_or_else(|| format!("{first}\u{10FFFF}"));
        let len = word.chars().count() as i64;
        self.many(
            "SELECT term, doc FROM titles_vocab WHERE term >= ?1 AND term < ?2
               AND length(term) BETWEEN ?3 AND ?4 ORDER BY doc DESC LIMIT ?5",
            params![lo, hi, len - 2, len + 2, limit],
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)),
        )
    }

    fn online_titles(
        &self,
        formats: &[&str],
        offset: u32,
        limit: u32,
    ) -> StoreResult<(u64, Vec<TitleRow>)> {
        let list = serde_json::to_string(formats).map_err(db)?;
        let total: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM titles WHERE links <> '[]' AND format IN (SELECT value FROM json_each(?1))",
                [&list],
                |r| r.get(0),
            )
            .map_err(db)?;
        let rows = self.many(
            &format!(
                "SELECT {TITLE_COLS} FROM titles WHERE links <> '[]' AND format IN (SELECT value FROM json_each(?1))
                 ORDER BY id LIMIT ?2 OFFSET ?3"
            ),
            params![list, limit, offset],
            title_row,
        )?;
        Ok((total.max(0) as u64, rows))
    }

    fn upsert_copy(&mut self, c: &CopyRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO copies({COPY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(barcode) DO UPDATE SET title_id = excluded.title_id, branch = excluded.branch, shelf = excluded.shelf, status = excluded.status, hold_id = excluded.hold_id"),
            params![c.barcode, c.title_id, c.branch, c.shelf, c.status.code(), c.hold_id],
        ).map(|_| ())
    }

    fn copy(&self, barcode: &str) -> StoreResult<Option<CopyRow>> {
        self.one(
            &format!("SELECT {COPY_COLS} FROM copies WHERE barcode = ?1"),
            [barcode],
            copy_row,
        )
    }

    fn copies_of(&self, title_id: &str) -> StoreResult<Vec<CopyRow>> {
        self.many(
            &format!("SELECT {COPY_COLS} FROM copies WHERE title_id = ?1 ORDER BY barcode"),
            [title_id],
            copy_row,
        )
    }

    fn borrowed_together(
        &self,
        title_id: &str,
        min_patrons: u32,
        limit: u32,
    ) -> StoreResult<Vec<(String, u32)>> {
        self.many(
            super::BORROWED_TOGETHER_SQL,
            params![title_id, min_patrons, limit],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn insert_loan(&mut self, l: &LoanRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO loans({LOAN_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                l.id,
                l.copy,
                l.card,
                l.checked_out.to_string(),
                l.due.to_string(),
                l.renewals_used,
                l.returned.map(|d| d.to_string())
            ],
        )
        .map(|_| ())
    }

    fn update_loan(&mut self, l: &LoanRow) -> StoreResult<()> {
        self.exec(
            "UPDATE loans SET due = ?2, renewals_used = ?3, returned = ?4, card = ?5 WHERE id = ?1",
            params![
                l.id,
                l.due.to_string(),
                l.renewals_used,
                l.returned.map(|d| d.to_string()),
                l.card
            ],
        )
        .map(|_| ())
    }

    fn open_loans_of(&self, card: &str) -> StoreResult<Vec<LoanRow>> {
        self.many(&format!("SELECT {LOAN_COLS} FROM loans WHERE card = ?1 AND returned IS NULL ORDER BY due, copy"), [card], loan_row)
    }

    fn open_loan_of_copy(&self, copy: &str) -> StoreResult<Option<LoanRow>> {
        self.one(
            &format!("SELECT {LOAN_COLS} FROM loans WHERE copy = ?1 AND returned IS NULL"),
            [copy],
            loan_row,
        )
    }

    fn returned_loans_of(&self, card: &str, limit: u32) -> StoreResult<Vec<LoanRow>> {
        self.many(&format!("SELECT {LOAN_COLS} FROM loans WHERE card = ?1 AND returned IS NOT NULL ORDER BY returned DESC, id LIMIT ?2"), params![card, limit], loan_row)
    }

    fn cards_with_loans_due_before(&self, day: NaiveDate) -> StoreResult<Vec<String>> {
        self.many(
            "SELECT DISTINCT card FROM loans WHERE returned IS NULL AND due < ?1 ORDER BY card",
            [day.to_string()],
            |r| r.get(0),
        )
    }

    fn insert_hold(&mut self, h: &HoldRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT INTO holds({HOLD_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                h.id,
                h.title_id,
                h.card,
                h.pickup_branch,
                h.placed_at,
                h.status,
                h.suspended_until.map(|d| d.to_string()),
                h.copy,
                h.pickup_by.map(|d| d.to_string())
            ],
        )
        .map(|_| ())
    }

    fn update_hold(&mut self, h: &HoldRow) -> StoreResult<()> {
        self.exec(
            "UPDATE holds SET pickup_branch = ?2, status = ?3, suspended_until = ?4, copy = ?5, pickup_by = ?6 WHERE id = ?1",
            params![h.id, h.pickup_branch, h.status, h.suspended_until.map(|d| d.to_string()), h.copy, h.pickup_by.map(|d| d.to_string())],
        ).map(|_| ())
    }

    fn delete_hold(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM holds WHERE id = ?1", [id])
            .map(|_| ())
    }

    fn hold(&self, id: &str) -> StoreResult<Option<HoldRow>> {
        self.one(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE id = ?1"),
            [id],
            hold_row,
        )
    }

    fn holds_of(&self, card: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE card = ?1 ORDER BY placed_at, id"),
            [card],
            hold_row,
        )
    }

    fn holds_on_title(&self, title_id: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE title_id = ?1 ORDER BY placed_at, id"),
            [title_id],
            hold_row,
        )
    }

    fn holds_with_status(&self, status: &str) -> StoreResult<Vec<HoldRow>> {
        self.many(
            &format!("SELECT {HOLD_COLS} FROM holds WHERE status = ?1 ORDER BY placed_at, id"),
            [status],
            hold_row,
        )
    }

    fn upsert_event(&mut self, e: &EventRow) -> StoreResult<()> {
        self.exec(
            &format!("INSERT OR REPLACE INTO events({EVENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            params![e.id, e.title_id, e.title_en, e.description_id, e.description_en, e.category, e.branch, e.place, e.online_url, e.start, e.end, e.capacity, e.audience, e.accessibility],
        ).map(|_| ())
    }

    fn event(&self, id: &str) -> StoreResult<Option<EventRow>> {
        self.one(
            &format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1"),
            [id],
            event_row,
        )
    }

    fn events(&self) -> StoreResult<Vec<EventRow>> {
        self.many(
            &format!("SELECT {EVENT_COLS} FROM events ORDER BY start, id"),
            [],
            event_row,
        )
    }

    fn registrations_for(&self, event_id: &str) -> StoreResult<Vec<RegistrationRow>> {
        self.many("SELECT event_id, card, status, seq FROM registrations WHERE event_id = ?1 ORDER BY seq", [event_id], reg_row)
    }

    fn registrations_of(&self, card: &str) -> StoreResult<Vec<RegistrationRow>> {
        self.many(
            "SELECT event_id, card, status, seq FROM registrations WHERE card = ?1 ORDER BY seq",
            [card],
            reg_row,
        )
    }

    fn upsert_registration(&mut self, r: &RegistrationRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO registrations(event_id, card, status, seq) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(event_id, card) DO UPDATE SET status = excluded.status, seq = excluded.seq",
            params![r.event_id, r.card, r.status, r.seq],
        ).map(|_| ())
    }

    fn delete_registration(&mut self, event_id: &str, card: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM registrations WHERE event_id = ?1 AND card = ?2",
            [event_id, card],
        )
        .map(|_| ())
    }

    fn upsert_van_stop(&mut self, v: &VanStopRow) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO van_stops(id, place, weekday, start_time, end_time, \"from\", until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![v.id, v.place, v.weekday, v.start_time, v.end_time, v.from.to_string(), v.until.to_string()],
        ).map(|_| ())
    }

    fn van_stops(&self) -> StoreResult<Vec<VanStopRow>> {
        self.many("SELECT id, place, weekday, start_time, end_time, \"from\", until FROM van_stops ORDER BY id", [], |r| {
            Ok(VanStopRow { id: r.get(0)?, place: r.get(1)?, weekday: r.get(2)?, start_time: r.get(3)?, end_time: r.get(4)?, from: day(r.get(5)?)?, until: day(r.get(6)?)? })
        })
    }

    fn outcome(&self, intent_id: &str) -> StoreResult<Option<String>> {
        self.one(
            "SELECT outcome FROM processed_intents WHERE intent_id = ?1",
            [intent_id],
            |r| r.get(0),
        )
    }

    fn insert_outcome(
        &mut self,
        intent_id: &str,
        card: &str,
        decided_at: i64,
        json: &str,
    ) -> StoreResult<()> {
        self.exec("INSERT INTO processed_intents(intent_id, card, decided_at, outcome) VALUES (?1, ?2, ?3, ?4)", params![intent_id, card, decided_at, json]).map(|_| ())
    }

    fn outcomes_of(&self, card: &str) -> StoreResult<Vec<(String, String)>> {
        self.many(
            "SELECT intent_id, outcome FROM processed_intents WHERE card = ?1 ORDER BY intent_id",
            [card],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn insert_doc(&mut self, d: &DocRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO docs(id, kind, owner, snapshot) VALUES (?1, ?2, ?3, x'')",
            params![d.id, d.kind, d.owner],
        )
        .map(|_| ())
    }

    fn set_circ_doc(&mut self, card: &str, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE patrons SET circ_doc = ?2 WHERE card = ?1",
            [card, id],
        )
        .map(|_| ())
    }

    fn retire_doc(&mut self, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET kind = 'retired:' || kind WHERE id = ?1",
            [id],
        )?;
        self.exec("DELETE FROM sync_states WHERE doc_id = ?1", [id])
            .map(|_| ())
    }

    fn doc(&self, id: &str) -> StoreResult<Option<DocRow>> {
        self.one(
            "SELECT id, kind, owner FROM docs WHERE id = ?1",
            [id],
            |r| {
                Ok(DocRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    owner: r.get(2)?,
                })
            },
        )
    }

    fn doc_bytes(&self, id: &str) -> StoreResult<Option<StoredDoc>> {
        let Some(snapshot) = self.one("SELECT snapshot FROM docs WHERE id = ?1", [id], |r| {
            r.get::<_, Vec<u8>>(0)
        })?
        else {
            return Ok(None);
        };
        let chunks = self.many(
            "SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq",
            [id],
            |r| r.get(0),
        )?;
        Ok(Some((snapshot, chunks)))
    }

    fn append_doc_chunk(&mut self, id: &str, bytes: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO doc_chunks(doc_id, seq, bytes) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM doc_chunks WHERE doc_id = ?1), ?2)",
            params![id, bytes],
        ).map(|_| ())
    }

    fn replace_doc_snapshot(&mut self, id: &str, snapshot: &[u8]) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET snapshot = ?2 WHERE id = ?1",
            params![id, snapshot],
        )?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = ?1", [id])
            .map(|_| ())
    }

    fn sync_state(&self, device: &str, doc: &str) -> StoreResult<Option<Vec<u8>>> {
        self.one(
            "SELECT state FROM sync_states WHERE device = ?1 AND doc_id = ?2",
            [device, doc],
            |r| r.get(0),
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
            "INSERT INTO sync_states(device, doc_id, state, card, last_used) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(device, doc_id) DO UPDATE SET state = excluded.state, card = excluded.card, last_used = excluded.last_used",
            params![device, doc, state, card, now],
        ).map(|_| ())
    }

    fn forget_old_devices(&mut self, card: &str, device: &str, keep: usize) -> StoreResult<usize> {
        let others = i64::try_from(keep.saturating_sub(1)).unwrap_or(i64::MAX);
        let dropped: Vec<String> = self.many(
            "SELECT device FROM sync_states WHERE card = ?1 AND device <> ?2 GROUP BY device ORDER BY MAX(last_used) DESC, device LIMIT -1 OFFSET ?3",
            params![card, device, others],
            |r| r.get(0),
        )?;
        for d in &dropped {
            self.exec(
                "DELETE FROM sync_states WHERE card = ?1 AND device = ?2",
                [card, d.as_str()],
            )?;
        }
        Ok(dropped.len())
    }
    fn anonymize_returned_loans(&mut self, card: &str) -> StoreResult<u64> {
        self.exec(
            "UPDATE loans SET card = '' WHERE card = ?1 AND returned IS NOT NULL",
            [card],
        )
        .map(|n| n as u64)
    }

    fn purge_doc(&mut self, id: &str) -> StoreResult<()> {
        self.exec(
            "UPDATE docs SET kind = 'purged:' || kind, snapshot = x'' WHERE id = ?1",
            [id],
        )?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = ?1", [id])?;
        self.exec("DELETE FROM sync_states WHERE doc_id = ?1", [id])
            .map(|_| ())
    }

    fn devices_of(&self, card: &str) -> StoreResult<Vec<(String, i64)>> {
        self.many(
            "SELECT device, MAX(last_used) FROM sync_states WHERE card = ?1 GROUP BY device ORDER BY device",
            [card],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
    fn upsert_faq(&mut self, f: &FaqRow) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO faq(id, topic, question_id, answer_id, question_en, answer_en, also_id, also_en, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![f.id, f.topic, f.question_id, f.answer_id, f.question_en, f.answer_en, f.also_id.join("\n"), f.also_en.join("\n"), f.updated_at],
        )
        .map(|_| ())
    }

    fn delete_faq(&mut self, id: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM faq WHERE id = ?1", [id])
            .map(|n| n > 0)
    }

    fn faq_entries(&self) -> StoreResult<Vec<FaqRow>> {
        self.many(
            "SELECT id, topic, question_id, answer_id, question_en, answer_en, also_id, also_en, updated_at FROM faq ORDER BY id",
            [],
            |r| {
                Ok(FaqRow {
                    id: r.get(0)?,
                    topic: r.get(1)?,
                    question_id: r.get(2)?,
                    answer_id: r.get(3)?,
                    question_en: r.get(4)?,
                    answer_en: r.get(5)?,
                    also_id: lines(r.get(6)?),
                    also_en: lines(r.get(7)?),
                    updated_at: r.get(8)?,
                })
            },
        )
    }

    fn insert_question(&mut self, q: &QuestionRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO questions(id, card, asked_at, lang, question, answer, answered_at, answered_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![q.id, q.card, q.asked_at, q.lang, q.question, q.answer, q.answered_at, q.answered_by],
        )
        .map(|_| ())
    }

    fn update_question(&mut self, q: &QuestionRow) -> StoreResult<()> {
        self.exec(
            "UPDATE questions SET answer = ?2, answered_at = ?3, answered_by = ?4 WHERE id = ?1",
            params![q.id, q.answer, q.answered_at, q.answered_by],
        )
        .map(|_| ())
    }

    fn question(&self, id: &str) -> StoreResult<Option<QuestionRow>> {
        self.one(
            &format!("SELECT {QUESTION_COLS} FROM questions WHERE id = ?1"),
            [id],
            question_row,
        )
    }

    fn questions_of(&self, card: &str) -> StoreResult<Vec<QuestionRow>> {
        self.many(
            &format!("SELECT {QUESTION_COLS} FROM questions WHERE card = ?1 ORDER BY asked_at, id"),
            [card],
            question_row,
        )
    }

    fn open_questions(&self) -> StoreResult<Vec<QuestionRow>> {
        self.many(&format!("SELECT {QUESTION_COLS} FROM questions WHERE answered_at IS NULL ORDER BY asked_at, id"), [], question_row)
    }
    fn upsert_survey(&mut self, v: &SurveyRow) -> StoreResult<()> {
        let questions = serde_json::to_string(&v.questions).map_err(db)?;
        self.exec(
            "INSERT OR REPLACE INTO surveys(id, title_id, title_en, closes, questions, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![v.id, v.title_id, v.title_en, v.closes.map(|d| d.to_string()), questions, v.updated_at],
        )
        .map(|_| ())
    }

    fn survey(&self, id: &str) -> StoreResult<Option<SurveyRow>> {
        self.one(
            &format!("SELECT {SURVEY_COLS} FROM surveys WHERE id = ?1"),
            [id],
            survey_row,
        )
    }

    fn surveys(&self) -> StoreResult<Vec<SurveyRow>> {
        self.many(
            &format!("SELECT {SURVEY_COLS} FROM surveys ORDER BY id"),
            [],
            survey_row,
        )
    }

    fn survey_answered(&self, survey: &str, card: &str) -> StoreResult<Option<i64>> {
        self.one(
            "SELECT answered_at FROM survey_responses WHERE survey = ?1 AND card = ?2",
            [survey, card],
            |r| r.get(0),
        )
    }

    fn surveys_answered_by(&self, card: &str) -> StoreResult<Vec<(String, i64)>> {
        self.many(
            "SELECT survey, answered_at FROM survey_responses WHERE card = ?1 ORDER BY survey",
            [card],
            |r| Ok((r.get(0)?, r.get(1)?)),
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
            "INSERT INTO survey_responses(survey, card, answered_at) VALUES (?1, ?2, ?3)",
            params![survey, card, at],
        )?;
        for (q, v) in answers {
            self.exec(
                "INSERT INTO survey_answers(survey, question, value) VALUES (?1, ?2, ?3)",
                params![survey, q, v],
            )?;
        }
        Ok(())
    }

    fn survey_response_count(&self, survey: &str) -> StoreResult<u64> {
        self.one(
            "SELECT count(*) FROM survey_responses WHERE survey = ?1",
            [survey],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n.unwrap_or(0).max(0) as u64)
    }

    fn survey_answers(&self, survey: &str) -> StoreResult<Vec<(String, String)>> {
        self.many(
            "SELECT question, value FROM survey_answers WHERE survey = ?1 ORDER BY question, rowid",
            [survey],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }
}

const SURVEY_COLS: &str = "id, title_id, title_en, closes, questions, updated_at";
fn survey_row(r: &Row) -> rusqlite::Result<SurveyRow> {
    let questions: String = r.get(4)?;
    Ok(SurveyRow {
        id: r.get(0)?,
        title_id: r.get(1)?,
        title_en: r.get(2)?,
        closes: opt_day(r.get(3)?)?,
        questions: serde_json::from_str(&questions).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into())
        })?,
        updated_at: r.get(5)?,
    })
}

const QUESTION_COLS: &str = "id, card, asked_at, lang, question, answer, answered_at, answered_by";
fn question_row(r: &Row) -> rusqlite::Result<QuestionRow> {
    Ok(QuestionRow {
        id: r.get(0)?,
        card: r.get(1)?,
        asked_at: r.get(2)?,
        lang: r.get(3)?,
        question: r.get(4)?,
        answer: r.get(5)?,
        answered_at: r.get(6)?,
        answered_by: r.get(7)?,
    })
}

fn lines(s: String) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent_and_search_ignores_diacritics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let mut s = SqliteStorage::open(&path).unwrap();
            s.upsert_title(&TitleRow {
                id: "T1".into(),
                title: "Négeri 5 Menara".into(),
                author: "Fuadi, Ahmad".into(),
                year: Some(2009),
                language: "ind".into(),
                subjects: "Fiksi".into(),
                isbn: None,
                item_type: "book".into(),
                collection: None,
                ..Default::default()
            })
            .unwrap();
        }
        let s = SqliteStorage::open(&path).unwrap();
        let hits = s
            .search_titles("negeri menara", &SearchFilter::default(), 10)
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert!(
            s.search_titles("\"*)(", &SearchFilter::default(), 10)
                .unwrap()
                .is_empty()
        );
    }
}
