//! The website's edge: the same Dioxus UI the apps run, served from
//! `--web <dir>`, and its backend over HTTP. The page's transport posts a
//! command of the app's IPC contract (`pustaka_ipc`) to
//! `POST /web/v1/<command name>`; this module answers it from the library's
//! own data, in the same response types the desktop shell gives.
//!
//! What differs from a device: there is no replica and no queue. Anyone may
//! read the catalogue, the events and the FAQ; with a token the patron's
//! account is the view of the library's copy of their `circ`, and a request
//! (renew, hold, register…) becomes an intent decided at once by the same
//! engine that decides devices' intents, its outcome written to `circ` so
//! the patron's devices see it too. A refusal comes back as `{code,
//! message}` in the page's language.

use std::path::PathBuf;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use pustaka_domain::Lang;
use pustaka_ipc as ipc;
use pustaka_replica::{Intent, IntentKind};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;
use crate::http::{AppState, bearer};
use crate::{catalog, storage::SearchFilter};

/// Largest command body the website sends (a survey's answers at most).
pub const MAX_WEB_BODY: usize = 64 * 1024;

/// The routes: the command endpoint, and the UI's files with every other
/// path answered by its `index.html` (the app's routes are client-side).
pub fn routes(web_dir: Option<PathBuf>) -> axum::Router<AppState> {
    let api = axum::Router::new().route(
        &format!("{}/{{command}}", ipc::WEB_API),
        axum::routing::post(call),
    );
    match web_dir {
        Some(dir) => {
            let index = dir.join("index.html");
            api.fallback_service(
                tower_http::services::ServeDir::new(dir)
                    .fallback(tower_http::services::ServeFile::new(index)),
            )
        }
        None => api,
    }
}

/// An error as the page's transport reads it (an `IpcError`).
fn failed(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let e = ipc::IpcError::new(code, message.into());
    (status, Json(e)).into_response()
}

fn api_error(e: ApiError) -> Response {
    if let ApiError::Internal(m) = &e {
        tracing::error!("website: {m}");
    }
    failed(e.status(), e.code(), e.to_string())
}

fn args<T: DeserializeOwned>(name: &str, body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| ApiError::Malformed(format!("{name}: {e}")))
}

fn ok<T: serde::Serialize>(v: T) -> Result<Response, ApiError> {
    Ok(Json(v).into_response())
}

fn lang(headers: &HeaderMap) -> Lang {
    headers
        .get(ipc::WEB_LANG_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::parse)
        .unwrap_or(Lang::Id)
}

fn online(now: i64) -> ipc::SyncStatus {
    ipc::SyncStatus {
        online: true,
        last_synced: Some(now),
        pending: 0,
        last_error: None,
        signed_in: true,
    }
}

fn session(who: Option<(String, String)>, now: i64) -> ipc::Session {
    let signed_in = who.is_some();
    let (card, name) = who.unzip();
    ipc::Session {
        signed_in,
        server: None,
        card,
        name,
        status: ipc::SyncStatus {
            signed_in,
            ..online(now)
        },
        settings: ipc::Settings::default(),
        data_dir: String::new(),
        opened_with: None,
        suggested_server: None,
        web: true,
    }
}

async fn call(
    State(s): State<AppState>,
    Path(command): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if body.len() > MAX_WEB_BODY {
        return api_error(ApiError::TooLarge);
    }
    match answer(&s, &command, &headers, &body).await {
        Ok(r) => r,
        Err(e) => api_error(e),
    }
}

/// The signed-in patron's card, if the request carries a valid token.
async fn who(s: &AppState, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    if bearer(headers).is_none() {
        return Ok(None);
    }
    match crate::http::patron(s, headers).await {
        Ok((card, _)) => Ok(Some(card)),
        Err(ApiError::Unauthorized) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn card(s: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    who(s, headers).await?.ok_or(ApiError::Unauthorized)
}

async fn answer(
    s: &AppState,
    command: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    use ipc::Command;
    let now = s.clock_now();
    let lang = lang(headers);
    match command {
        ipc::GetSession::NAME => {
            let card = who(s, headers).await?;
            let who = match card {
                Some(card) => {
                    s.run(move |hub| {
                        Ok(hub
                            .store()
                            .patron(&card)?
                            .map(|p| (p.card.clone(), p.name.clone())))
                    })
                    .await?
                }
                None => None,
            };
            ok(session(who, now))
        }
        ipc::SignIn::NAME => {
            let a: ipc::SignIn = args(command, body)?;
            let card = a.card.trim().to_string();
            let done = s.run(move |hub| hub.login(&card, &a.pin)).await?;
            ok(ipc::WebSignedIn {
                session: session(Some((done.card, done.name)), now),
                token: done.token,
            })
        }
        ipc::SignOut::NAME => {
            if bearer(headers).is_some() {
                crate::http::end_session(s, headers).await?;
            }
            ok(session(None, now))
        }
        ipc::SyncNow::NAME => {
            let signed_in = who(s, headers).await?.is_some();
            ok(ipc::SyncStatus {
                signed_in,
                ..online(now)
            })
        }
        ipc::GetAccount::NAME => {
            let card = who(s, headers).await?;
            ok(s.run(move |hub| hub.web_view(card.as_deref())).await?)
        }
        ipc::Search::NAME => {
            let a: ipc::Search = args(command, body)?;
            if a.query.len() > 200 {
                return Err(ApiError::Malformed(
                    "query is longer than 200 characters".into(),
                ));
            }
            let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
            let filter = SearchFilter {
                branch: nonempty(a.branch),
                item_type: None,
                language: nonempty(a.language),
                available_only: a.available_only,
                format: nonempty(a.format),
            };
            ok(
                s.run(move |hub| catalog::search(hub, &a.query, &filter, 30))
                    .await?,
            )
        }
        ipc::GetTitle::NAME => {
            let a: ipc::GetTitle = args(command, body)?;
            let details = s.run(move |hub| catalog::details(hub, &a.id)).await?;
            ok(ipc::TitleView {
                details,
                from_cache: false,
            })
        }
        // The website keeps nothing in the browser but the token.
        ipc::RecentTitles::NAME => ok(Vec::<Value>::new()),
        ipc::GetFaq::NAME => {
            let cal = s.run(|hub| hub.calendar()).await?;
            ok(pustaka_views::faq::entries(&cal, lang))
        }
        ipc::SearchFaq::NAME => {
            let a: ipc::SearchFaq = args(command, body)?;
            if a.query.chars().count() > pustaka_replica::intent::MAX_TEXT_CHARS {
                return Err(ApiError::Malformed("question_too_long".into()));
            }
            let cal = s.run(|hub| hub.calendar()).await?;
            ok(pustaka_views::faq::search(&cal, &a.query, lang))
        }
        ipc::GetCardCode::NAME => {
            let card = card(s, headers).await?;
            let (token, _) = s.run(move |hub| hub.card_token(&card)).await?;
            ok(Some(token))
        }
        _ => match request(command, body, lang)? {
            Some(kind) => {
                let card = card(s, headers).await?;
                decide(s, card, kind, now, lang).await
            }
            None => Err(ApiError::NotFound(format!(
                "`{command}` is not available on the website"
            ))),
        },
    }
}

/// The requests a patron makes, as the intents a device would record.
fn request(command: &str, body: &[u8], lang: Lang) -> Result<Option<IntentKind>, ApiError> {
    use ipc::Command;
    Ok(Some(match command {
        ipc::Renew::NAME => {
            let a: ipc::Renew = args(command, body)?;
            IntentKind::Renew {
                copy: a.copy,
                seen_due: None,
            }
        }
        ipc::RenewAll::NAME => IntentKind::RenewAll,
        ipc::PlaceHold::NAME => {
            let a: ipc::PlaceHold = args(command, body)?;
            IntentKind::PlaceHold {
                title: a.title,
                branch: a.branch,
            }
        }
        ipc::CancelHold::NAME => {
            let a: ipc::CancelHold = args(command, body)?;
            IntentKind::CancelHold { hold: a.hold }
        }
        ipc::SuspendHold::NAME => {
            let a: ipc::SuspendHold = args(command, body)?;
            IntentKind::SuspendHold {
                hold: a.hold,
                until: a.until,
            }
        }
        ipc::ResumeHold::NAME => {
            let a: ipc::ResumeHold = args(command, body)?;
            IntentKind::ResumeHold { hold: a.hold }
        }
        ipc::ChangePickup::NAME => {
            let a: ipc::ChangePickup = args(command, body)?;
            IntentKind::ChangePickup {
                hold: a.hold,
                branch: a.branch,
            }
        }
        ipc::RegisterEvent::NAME => {
            let a: ipc::RegisterEvent = args(command, body)?;
            IntentKind::RegisterEvent { event: a.event }
        }
        ipc::CancelRegistration::NAME => {
            let a: ipc::CancelRegistration = args(command, body)?;
            IntentKind::CancelRegistration { event: a.event }
        }
        ipc::SetKeepHistory::NAME => {
            let a: ipc::SetKeepHistory = args(command, body)?;
            IntentKind::SetHistory { keep: a.keep }
        }
        ipc::AskLibrarian::NAME => {
            let a: ipc::AskLibrarian = args(command, body)?;
            let question = pustaka_replica::intent::question_text(&a.question)
                .map_err(|code| ApiError::Malformed(code.into()))?;
            IntentKind::AskLibrarian {
                question: question.to_string(),
                lang: lang.code().to_string(),
            }
        }
        ipc::AnswerSurvey::NAME => {
            let a: ipc::AnswerSurvey = args(command, body)?;
            IntentKind::AnswerSurvey {
                survey: a.survey,
                answers: a.answers,
            }
        }
        _ => return Ok(None),
    }))
}

/// Decides a website request now, like a device's intent: the outcome is
/// recorded and written to the patron's `circ` (their devices see it).
async fn decide(
    s: &AppState,
    card: String,
    kind: IntentKind,
    now: i64,
    lang: Lang,
) -> Result<Response, ApiError> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(|e| ApiError::Internal(e.to_string()))?;
    let id = uuid::Builder::from_unix_timestamp_millis(now.max(0) as u64, &random).into_uuid();
    let intent = Intent {
        id,
        kind,
        created_at: now,
        device: "web".into(),
    };
    let (outcome, changed) = s
        .run(move |hub| hub.with_engine(|ctx, fx| ctx.decide(&card, &intent, fx)))
        .await?;
    s.poke(changed);
    if outcome.status == "accepted" {
        return ok(ipc::Requested { id: id.to_string() });
    }
    let text = match lang {
        Lang::Id => outcome.text_id,
        Lang::En => outcome.text_en,
    };
    Ok(failed(
        StatusCode::CONFLICT,
        outcome.reason.as_deref().unwrap_or("rejected"),
        text,
    ))
}
