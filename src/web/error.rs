//! One error type for the app, mapped to an HTTP status in one place. How an error is shown
//! (an HTML page, `application/problem+json` under `/api`, plain text for a download) is the web
//! layer's choice: the response carries a `Problem` for it to render.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The `Accept` header asks for no format this offers.
    #[error("{0}")]
    NotAcceptable(String),
    /// Not ready yet (the figures are loading): try again after this many seconds.
    #[error("{message}")]
    Unavailable { message: String, retry_after: u32 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

/// What went wrong, in words for the person who asked: a title and a detail (RFC 9457's names).
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "Page not found", m.clone()),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "There is a problem with the request", m.clone()),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "You cannot do this", m.clone()),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "This cannot be done now", m.clone()),
            AppError::NotAcceptable(m) => (StatusCode::NOT_ACCEPTABLE, "That format is not offered", m.clone()),
            AppError::Unavailable { message, .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "The figures are not ready yet", message.clone())
            }
            AppError::Internal(e) if crate::store::disk_full(e) => {
                tracing::error!(error = ?e, "the database's disk is full");
                let detail = "The service cannot store anything just now: its database's disk is full. \
                              Nothing of this request was stored. Try again later.";
                (StatusCode::SERVICE_UNAVAILABLE, "The service cannot store anything just now", detail.into())
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                    "Try again later.".into(),
                )
            }
        };
        let mut response =
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{title}: {detail}"))
                .into_response();
        match self {
            AppError::Unavailable { retry_after, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            AppError::Internal(_) if status == StatusCode::SERVICE_UNAVAILABLE => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(60));
            }
            _ => {}
        }
        response.extensions_mut().insert(Problem { status, title, detail });
        response
    }
}
