//! One error type for the app, mapped to an HTTP status in one place.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "Page not found", m.clone()),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "There is a problem with the request", m.clone()),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "You cannot do this", m.clone()),
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Sorry, there is a problem with the service",
                    "Try again later.".to_string(),
                )
            }
        };
        let page = crate::web::ErrorPage { title, message: &message };
        let body = askama::Template::render(&page).unwrap_or_else(|_| format!("{title}: {message}"));
        (status, Html(body)).into_response()
    }
}
