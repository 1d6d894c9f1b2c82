//! Errors as they cross HTTP: a status and a stable `{code, message}` body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::engine::EngineError;
use crate::storage::StoreError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first: the token is missing, expired or revoked")]
    Unauthorized,
    #[error("card number or PIN is wrong")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in {0} minutes")]
    TooManyAttempts(i64),
    #[error("malformed request: {0}")]
    Malformed(String),
    #[error("`{0}` is not an e-mail address")]
    InvalidEmail(String),
    #[error("request body is too large")]
    TooLarge,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("refused: {0}")]
    Refused(pustaka_domain::Reason),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::TooManyAttempts(_) => "too_many_attempts",
            ApiError::Malformed(_) => "malformed_request",
            ApiError::InvalidEmail(_) => "invalid_email",
            ApiError::TooLarge => "body_too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::Refused(r) => r.code(),
            ApiError::Conflict(_) => "conflict",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Malformed(_) | ApiError::InvalidEmail(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Refused(_) | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Refused(r) => ApiError::Refused(r),
            EngineError::NotFound(m) => ApiError::NotFound(m),
            EngineError::Invalid(m) => ApiError::Malformed(m),
            EngineError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(m) = &self {
            tracing::error!("internal error: {m}");
        }
        let body = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        (self.status(), axum::Json(body)).into_response()
    }
}
