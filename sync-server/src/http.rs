//! The HTTP edge: axum handlers that authenticate, decode, hand the work to
//! the hub on a blocking thread, and encode. No rules live here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use pustaka_replica::wire;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::error::ApiError;
use crate::hub::{Hub, LoginOk, NewPatron};
use crate::librarian::{EventIn, NewTitle, add_title, upsert_event};
use crate::{catalog, opds};

/// Largest sync body accepted (the envelope of all of a patron's documents).
pub const MAX_SYNC_BODY: usize = 4 * 1024 * 1024;

/// Most sync requests committed together (group commit).
const MAX_BATCH: usize = 256;

struct SyncJob {
    card: String,
    req: wire::SyncRequest,
    reply: oneshot::Sender<Result<wire::SyncResponse, ApiError>>,
}

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Mutex<Hub>>,
    pub poke: broadcast::Sender<Arc<Vec<String>>>,
    pub admin_token: Arc<String>,
    sync_tx: mpsc::Sender<SyncJob>,
    /// Recently checked tokens (by hash) → (card, valid until). Spares every
    /// request a trip to the hub; a logout here removes its entry at once,
    /// and an entry is re-checked against storage after `TOKEN_CACHE_MS`,
    /// or when the token expires if that is sooner.
    tokens: Arc<Mutex<HashMap<String, (String, i64)>>>,
    clock: Arc<dyn crate::Clock>,
}

const TOKEN_CACHE_MS: i64 = 60_000;
const TOKEN_CACHE_MAX: usize = 100_000;

impl AppState {
    /// Must be called inside a tokio runtime: it starts the sync writer.
    pub fn new(hub: Hub, admin_token: String) -> AppState {
        let (poke, _) = broadcast::channel(1024);
        let clock = hub.clock();
        let hub = Arc::new(Mutex::new(hub));
        let sync_tx = spawn_sync_writer(hub.clone(), poke.clone());
        AppState {
            hub,
            poke,
            admin_token: Arc::new(admin_token),
            sync_tx,
            tokens: Arc::default(),
            clock,
        }
    }

    /// Runs `f` on the hub on a blocking thread (SQLite and argon2 block).
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Hub) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let hub = self.hub.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = hub
                .lock()
                .map_err(|_| ApiError::Internal("hub lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
    }

    pub fn clock_now(&self) -> pustaka_domain::Millis {
        self.clock.now()
    }

    /// Tells connected devices which documents changed (after the commit).
    pub fn poke(&self, changed: Vec<String>) {
        if !changed.is_empty() {
            let _ = self.poke.send(Arc::new(changed));
        }
    }
}

/// The sync writer: takes every sync request waiting, decides them in one
/// transaction, and answers each only after that transaction committed.
/// Under load one fsync acknowledges many devices.
fn spawn_sync_writer(
    hub: Arc<Mutex<Hub>>,
    poke: broadcast::Sender<Arc<Vec<String>>>,
) -> mpsc::Sender<SyncJob> {
    let (tx, mut rx) = mpsc::channel::<SyncJob>(4 * MAX_BATCH);
    tokio::task::spawn_blocking(move || {
        while let Some(first) = rx.blocking_recv() {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            let (reqs, replies): (Vec<_>, Vec<_>) =
                jobs.into_iter().map(|j| ((j.card, j.req), j.reply)).unzip();
            let n = reqs.len();
            let (results, changed) = match hub.lock() {
                Ok(mut h) => contained_batch(&mut h, &reqs),
                Err(_) => (
                    (0..n)
                        .map(|_| Err(ApiError::Internal("hub lock poisoned".into())))
                        .collect(),
                    vec![],
                ),
            };
            if !changed.is_empty() {
                let _ = poke.send(Arc::new(changed));
            }
            for (r, reply) in results.into_iter().zip(replies) {
                let _ = reply.send(r);
            }
        }
    });
    tx
}

/// A batch with every panic contained: a bug reachable from one device's
/// bytes (like automerge's Bloom-filter division by zero, now refused on
/// decoding) must not poison the hub and stop sync for every patron. The
/// transaction is rolled back, then the requests run one by one so only the
/// one that panics fails. The requests are borrowed, so the common path
/// copies nothing.
fn contained_batch(
    hub: &mut Hub,
    reqs: &[(String, wire::SyncRequest)],
) -> (Vec<Result<wire::SyncResponse, ApiError>>, Vec<String>) {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    if let Ok(r) = catch_unwind(AssertUnwindSafe(|| hub.sync_batch(reqs))) {
        return r;
    }
    hub.recover_from_panic();
    tracing::error!(
        "a sync batch of {} panicked; retrying its requests one by one",
        reqs.len()
    );
    let mut results = Vec::with_capacity(reqs.len());
    let mut changed = vec![];
    for req in reqs {
        let one = std::slice::from_ref(req);
        match catch_unwind(AssertUnwindSafe(|| hub.sync_batch(one))) {
            Ok((r, c)) => {
                results.extend(r);
                changed.extend(c);
            }
            Err(_) => {
                hub.recover_from_panic();
                tracing::error!("a sync request from card {} panicked; refused", req.0);
                results.push(Err(ApiError::Internal(
                    "this sync request could not be processed".into(),
                )));
            }
        }
    }
    (results, changed)
}

pub fn router(state: AppState) -> Router {
    router_with_web(state, None)
}

/// The API, and the website (the UI's files in `web_dir`) when given.
pub fn router_with_web(state: AppState, web_dir: Option<std::path::PathBuf>) -> Router {
    let admin = Router::new()
        .route("/patrons", post(admin_add_patron))
        .route("/titles", post(admin_add_title))
        .route("/checkout", post(admin_checkout))
        .route("/checkin", post(admin_checkin))
        .route("/events", post(admin_upsert_event))
        .route("/jobs/run", post(admin_run_jobs))
        .route("/epoch", post(admin_new_epoch))
        .route("/faq", post(admin_upsert_faq))
        .route("/faq/{id}", axum::routing::delete(admin_delete_faq))
        .route("/questions", get(admin_questions))
        .route("/surveys", post(admin_upsert_survey))
        .route("/surveys/{id}/report", get(admin_survey_report))
        .route("/questions/{id}/answer", post(admin_answer_question));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/login", post(login))
        .route("/v1/logout", post(logout))
        .route(
            "/v1/sync",
            post(sync).layer(DefaultBodyLimit::max(MAX_SYNC_BODY)),
        )
        .route("/v1/poke", get(poke))
        .route("/v1/catalog/search", get(search))
        .route("/v1/catalog/titles/{id}", get(title_details))
        .route("/v1/catalog/lookup", get(lookup))
        .route("/opds/v2/catalog.json", get(opds_catalog))
        .route("/v1/calendar/events.ics", get(events_ics))
        .route("/v1/calendar/feed", post(new_patron_feed))
        .route("/v1/card", get(card_token))
        .route("/v1/self-checkout", post(self_checkout))
        .route(
            "/v1/account/email",
            axum::routing::put(set_email_reminders).get(email_reminders),
        )
        .route("/v1/account/export", get(export))
        .route("/v1/card/public-key", get(card_public_key))
        .route("/v1/calendar/patron/{file}", get(patron_feed))
        .route("/opds/v2/publications.json", get(opds_publications))
        .nest("/admin/v1", admin)
        .merge(crate::web::routes(web_dir))
        .layer(DefaultBodyLimit::max(256 * 1024))
        .with_state(state)
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_string())
}

pub(crate) async fn patron(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, String), ApiError> {
    let token = bearer(headers).ok_or(ApiError::Unauthorized)?;
    let hash = crate::hub::token_hash(&token);
    let now = state.clock.now();
    if let Ok(cache) = state.tokens.lock()
        && let Some((card, until)) = cache.get(&hash)
        && *until > now
    {
        return Ok((card.clone(), token));
    }
    let t = token.clone();
    let (card, expires_at) = state.run(move |hub| hub.authenticate_until(&t)).await?;
    if let Ok(mut cache) = state.tokens.lock() {
        if cache.len() >= TOKEN_CACHE_MAX {
            cache.clear();
        }
        // Never past the token's own expiry: an expired token is refused
        // at once, cached or not.
        cache.insert(hash, (card.clone(), (now + TOKEN_CACHE_MS).min(expires_at)));
    }
    Ok((card, token))
}

fn admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = bearer(headers).ok_or(ApiError::Unauthorized)?;
    let want = state.admin_token.as_bytes();
    // Compare in constant time for equal lengths.
    let same = given.len() == want.len()
        && given
            .bytes()
            .zip(want.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same && !want.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

#[derive(Deserialize)]
struct LoginReq {
    card: String,
    pin: String,
}

async fn login(
    State(s): State<AppState>,
    body: Result<Json<LoginReq>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LoginOk>, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::Malformed(e.body_text()))?;
    Ok(Json(
        s.run(move |hub| hub.login(&req.card, &req.pin)).await?,
    ))
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    end_session(&s, &headers).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the request's token (sign-out, from a device or the website).
pub(crate) async fn end_session(s: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let (_, token) = patron(s, headers).await?;
    if let Ok(mut cache) = s.tokens.lock() {
        cache.remove(&crate::hub::token_hash(&token));
    }
    s.run(move |hub| hub.logout(&token)).await
}

async fn sync(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::Malformed(e.body_text())
        }
    })?;
    let req = wire::decode_request(&body).map_err(|e| ApiError::Malformed(e.to_string()))?;
    let (tx, rx) = oneshot::channel();
    s.sync_tx
        .send(SyncJob {
            card,
            req,
            reply: tx,
        })
        .await
        .map_err(|_| ApiError::Internal("sync writer stopped".into()))?;
    let resp = rx
        .await
        .map_err(|_| ApiError::Internal("sync writer stopped".into()))??;
    Ok((
        [(header::CONTENT_TYPE, "application/cbor")],
        wire::encode(&resp),
    )
        .into_response())
}

async fn poke(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let rx = s.poke.subscribe();
    let mine = s
        .run(move |hub| {
            let p = hub.store().patron(&card)?.ok_or(ApiError::Unauthorized)?;
            Ok(hub.directory(&p))
        })
        .await?;
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let changes = BroadcastStream::new(rx).filter_map(move |msg| {
        let docs: Vec<String> = match msg {
            Ok(ids) => ids
                .iter()
                .filter(|id| {
                    **id == mine.circ
                        || **id == mine.intents
                        || **id == mine.calendar
                        || **id == mine.prefs
                })
                .cloned()
                .collect(),
            // Missed messages: tell the device to sync everything.
            Err(_) => vec![
                mine.circ.clone(),
                mine.intents.clone(),
                mine.calendar.clone(),
                mine.prefs.clone(),
            ],
        };
        if docs.is_empty() {
            return None;
        }
        let data = serde_json::json!({ "docs": docs }).to_string();
        Some(Ok(Event::default().event("changed").data(data)))
    });
    Ok(Sse::new(hello.chain(changes)).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
struct SearchParams {
    q: String,
    branch: Option<String>,
    item_type: Option<String>,
    format: Option<String>,
    language: Option<String>,
    #[serde(default)]
    available: bool,
    limit: Option<u32>,
}

async fn search(
    State(s): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Json<catalog::SearchResults>, ApiError> {
    if p.q.len() > 200 {
        return Err(ApiError::Malformed(
            "query is longer than 200 characters".into(),
        ));
    }
    let filter = crate::storage::SearchFilter {
        branch: p.branch,
        item_type: p.item_type,
        language: p.language,
        available_only: p.available,
        format: p.format.filter(|f| !f.is_empty()),
    };
    let limit = p.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        s.run(move |hub| catalog::search(hub, &p.q, &filter, limit))
            .await?,
    ))
}

async fn title_details(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<catalog::TitleDetails>, ApiError> {
    Ok(Json(s.run(move |hub| catalog::details(hub, &id)).await?))
}

#[derive(Deserialize)]
struct LookupParams {
    code: String,
}

async fn lookup(
    State(s): State<AppState>,
    Query(p): Query<LookupParams>,
) -> Result<Json<catalog::TitleDetails>, ApiError> {
    if p.code.len() > 300 {
        return Err(ApiError::Malformed("code is too long".into()));
    }
    Ok(Json(s.run(move |hub| catalog::lookup(hub, &p.code)).await?))
}

// ---- admin ---------------------------------------------------------------

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

fn body<T>(b: JsonBody<T>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError::Malformed(e.body_text()))
}

async fn admin_add_patron(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<NewPatron>,
) -> Result<StatusCode, ApiError> {
    admin(&s, &headers)?;
    let p = body(b)?;
    s.run(move |hub| hub.add_patron(p)).await?;
    Ok(StatusCode::CREATED)
}

async fn admin_add_title(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<NewTitle>,
) -> Result<StatusCode, ApiError> {
    admin(&s, &headers)?;
    let t = body(b)?;
    s.run(move |hub| add_title(hub, t)).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct CheckoutReq {
    card: String,
    copy: String,
}

#[derive(Serialize)]
struct LoanOut {
    id: String,
    copy: String,
    card: String,
    due: String,
}

async fn admin_checkout(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<CheckoutReq>,
) -> Result<Json<LoanOut>, ApiError> {
    admin(&s, &headers)?;
    let r = body(b)?;
    let (loan, changed) = s
        .run(move |hub| hub.with_engine(|ctx, fx| ctx.checkout(&r.card, &r.copy, fx)))
        .await?;
    s.poke(changed);
    Ok(Json(LoanOut {
        id: loan.id,
        copy: loan.copy,
        card: loan.card,
        due: loan.due.to_string(),
    }))
}

#[derive(Deserialize)]
struct CheckinReq {
    copy: String,
    branch: String,
}

async fn admin_checkin(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<CheckinReq>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&s, &headers)?;
    let r = body(b)?;
    let (copy, changed) = s
        .run(move |hub| hub.with_engine(|ctx, fx| ctx.checkin(&r.copy, &r.branch, fx)))
        .await?;
    s.poke(changed);
    Ok(Json(
        serde_json::json!({ "copy": copy.barcode, "status": copy.status.code(), "hold": copy.hold_id }),
    ))
}

async fn admin_upsert_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<EventIn>,
) -> Result<StatusCode, ApiError> {
    admin(&s, &headers)?;
    let e = body(b)?;
    let changed = s.run(move |hub| upsert_event(hub, e)).await?;
    s.poke(changed);
    Ok(StatusCode::CREATED)
}

/// Adds or replaces FAQ entries: one entry or `{"entry": [...]}`.
async fn admin_upsert_faq(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&s, &headers)?;
    let v = body(b)?;
    let entries: Vec<crate::librarian::FaqIn> = match v.get("entry") {
        Some(list) => serde_json::from_value(list.clone()),
        None => serde_json::from_value(v).map(|e| vec![e]),
    }
    .map_err(|e| ApiError::Malformed(format!("FAQ entry: {e}")))?;
    let n = entries.len();
    let changed = s
        .run(move |hub| crate::librarian::upsert_faq(hub, entries))
        .await?;
    s.poke(changed);
    Ok(Json(serde_json::json!({ "saved": n })))
}

async fn admin_delete_faq(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    admin(&s, &headers)?;
    let changed = s
        .run(move |hub| crate::librarian::delete_faq(hub, &id))
        .await?;
    s.poke(changed);
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_upsert_survey(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<crate::librarian::SurveyIn>,
) -> Result<StatusCode, ApiError> {
    admin(&s, &headers)?;
    let v = body(b)?;
    let changed = s
        .run(move |hub| crate::librarian::upsert_survey(hub, v))
        .await?;
    s.poke(changed);
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct ReportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// Totals per question: JSON, or CSV with `?format=csv`.
async fn admin_survey_report(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    admin(&s, &headers)?;
    let r = s
        .run(move |hub| crate::librarian::survey_report(hub, &id))
        .await?;
    Ok(match q.format.as_deref() {
        Some("csv") => (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            crate::librarian::survey_report_csv(&r),
        )
            .into_response(),
        _ => Json(r).into_response(),
    })
}

fn question_json(q: &crate::storage::QuestionRow) -> serde_json::Value {
    serde_json::json!({
        "id": q.id, "card": q.card, "asked_at": q.asked_at, "lang": q.lang,
        "question": q.question, "answer": q.answer, "answered_at": q.answered_at,
        "answered_by": q.answered_by,
    })
}

/// Questions patrons asked that no librarian has answered yet, oldest first.
async fn admin_questions(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&s, &headers)?;
    let open = s.run(|hub| Ok(hub.store().open_questions()?)).await?;
    Ok(Json(serde_json::json!({
        "open": open.iter().map(question_json).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
struct AnswerReq {
    answer: String,
    #[serde(default)]
    by: String,
}

async fn admin_answer_question(
    State(s): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    b: JsonBody<AnswerReq>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&s, &headers)?;
    let a = body(b)?;
    let (q, changed) = s
        .run(move |hub| crate::librarian::answer_question(hub, &id, &a.answer, &a.by))
        .await?;
    s.poke(changed);
    Ok(Json(question_json(&q)))
}

#[derive(Deserialize)]
struct EpochReq {
    /// The patron whose `circ` starts a new epoch.
    #[serde(default)]
    card: Option<String>,
    /// The shared calendar starts a new epoch.
    #[serde(default)]
    calendar: bool,
}

/// A new epoch of a patron's `circ` and/or of the calendar: fresh
/// documents with the current state; devices follow the new ids.
async fn admin_new_epoch(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<EpochReq>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&s, &headers)?;
    let r = body(b)?;
    if r.card.is_none() && !r.calendar {
        return Err(ApiError::Malformed(
            "name a card, the calendar, or both".into(),
        ));
    }
    let (changed, dir) = s
        .run(move |hub| {
            let changed = hub.new_epoch(r.card.as_deref(), r.calendar)?;
            let dir = match &r.card {
                Some(c) => hub.store().patron(c)?.map(|p| hub.directory(&p)),
                None => None,
            };
            Ok((changed, dir))
        })
        .await?;
    s.poke(changed);
    Ok(Json(serde_json::json!({ "directory": dir })))
}

async fn admin_run_jobs(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<crate::engine::JobReport>, ApiError> {
    admin(&s, &headers)?;
    let (report, changed) = s
        .run(|hub| hub.with_engine(|ctx, fx| ctx.run_jobs(fx)))
        .await?;
    s.poke(changed);
    Ok(Json(report))
}

/// This server's address as the client reached it (for the absolute links
/// of OPDS feeds): the `Host` header when it is a plain host\[:port\],
/// `https` when a proxy says so.
fn base_url(headers: &HeaderMap) -> String {
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    format!(
        "{}://{}",
        if https { "https" } else { "http" },
        request_host(headers)
    )
}

/// The `Host` header when it is a plain host\[:port\], else `localhost`
/// (also the domain part of calendar UIDs).
fn request_host(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost")
}

fn calendar_text(text: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        text,
    )
        .into_response()
}

fn opds_json(v: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/opds+json; charset=utf-8")],
        Json(v),
    )
        .into_response()
}

async fn opds_catalog(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    Ok(opds_json(
        s.run(move |hub| opds::catalog(hub, &base)).await?,
    ))
}

#[derive(Deserialize)]
struct OpdsParams {
    format: Option<String>,
    page: Option<u32>,
}

async fn opds_publications(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<OpdsParams>,
) -> Result<Response, ApiError> {
    let base = base_url(&headers);
    let page = p.page.unwrap_or(1).clamp(1, 100_000);
    Ok(opds_json(
        s.run(move |hub| opds::publications(hub, &base, p.format.as_deref(), page))
            .await?,
    ))
}

#[derive(Deserialize)]
struct IcsParams {
    branch: Option<String>,
    lang: Option<String>,
}

/// `lang=en` for English texts; Bahasa Indonesia otherwise.
fn feed_lang(p: &IcsParams) -> pustaka_domain::Lang {
    p.lang
        .as_deref()
        .and_then(pustaka_domain::Lang::parse)
        .unwrap_or_default()
}

/// The library's public events calendar (iCalendar), all branches or one.
async fn events_ics(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<IcsParams>,
) -> Result<Response, ApiError> {
    let host = request_host(&headers).to_string();
    let lang = feed_lang(&p);
    let text = s
        .run(move |hub| {
            let now = hub.now();
            crate::feeds::events_ics(hub, p.branch.as_deref(), lang, &host, now)
        })
        .await?;
    Ok(calendar_text(text))
}

#[derive(serde::Deserialize)]
struct EmailReminders {
    /// `null` stops the e-mails.
    email: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

/// `{"email", "lang"}` as stored; both `null` when not opted in.
fn email_json(prefs: Option<(String, String)>) -> Json<serde_json::Value> {
    let (email, lang) = prefs.unzip();
    Json(serde_json::json!({ "email": email, "lang": lang }))
}

/// The patron's e-mail reminders.
async fn email_reminders(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    Ok(email_json(
        s.run(move |hub| hub.email_reminders(&card)).await?,
    ))
}

/// Opt in to (or out of) due-date and hold-ready e-mails.
async fn set_email_reminders(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<EmailReminders>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let r = body(b)?;
    let lang = match r.lang.as_deref() {
        None => pustaka_domain::Lang::Id,
        Some(l) => pustaka_domain::Lang::parse(l)
            .ok_or_else(|| ApiError::Malformed(format!("lang `{l}`: id or en")))?,
    };
    let stored = s
        .run(move |hub| hub.set_email_reminders(&card, r.email.as_deref().map(|e| (e, lang))))
        .await?;
    Ok(email_json(stored))
}

#[derive(Deserialize)]
struct SelfCheckoutReq {
    copy: String,
}

/// A patron checks out the copy in their hands by scanning its label: the
/// same rules as the desk (limits, blocks, a copy kept for someone else).
async fn self_checkout(
    State(s): State<AppState>,
    headers: HeaderMap,
    b: JsonBody<SelfCheckoutReq>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let r = body(b)?;
    let (loan, changed) = s
        .run(move |hub| hub.with_engine(|ctx, fx| ctx.checkout(&card, &r.copy, fx)))
        .await?;
    s.poke(changed);
    Ok(Json(
        serde_json::json!({ "copy": loan.copy, "due": loan.due }),
    ))
}

/// The patron's signed card for the QR on the digital card.
async fn card_token(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let (token, claims) = s.run(move |hub| hub.card_token(&card)).await?;
    Ok(Json(
        serde_json::json!({ "token": token, "claims": claims }),
    ))
}

/// Everything the library holds about the signed-in patron, as JSON.
async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    Ok(Json(s.run(move |hub| hub.export(&card)).await?))
}

/// The key that verifies cards offline (book vans, branches).
async fn card_public_key(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let key = s.run(|hub| hub.card_key()).await?;
    Ok(Json(serde_json::json!({
        "alg": "ed25519",
        "key": crate::card::public_key_text(&key),
    })))
}

/// A new secret address for the signed-in patron's calendar (due dates and
/// registered events); the previous address stops working.
async fn new_patron_feed(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (card, _) = patron(&s, &headers).await?;
    let base = base_url(&headers);
    let token = s.run(move |hub| hub.new_feed_token(&card)).await?;
    Ok(Json(
        serde_json::json!({ "url": format!("{base}/v1/calendar/patron/{token}.ics") }),
    ))
}

async fn patron_feed(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    Query(p): Query<IcsParams>,
) -> Result<Response, ApiError> {
    let lang = feed_lang(&p);
    let token = file.strip_suffix(".ics").unwrap_or(&file).to_string();
    let host = request_host(&headers).to_string();
    let text = s
        .run(move |hub| {
            // An unknown or replaced secret answers like a missing page.
            let card = hub
                .feed_owner(&token)?
                .ok_or_else(|| ApiError::NotFound("calendar feed".into()))?;
            let now = hub.now();
            crate::feeds::patron_ics(hub, &card, lang, &host, now)
        })
        .await?;
    Ok(calendar_text(text))
}
