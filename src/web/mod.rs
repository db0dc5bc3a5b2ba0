//! HTTP: one router per area, merged here; handlers parse, call the layers below, and render.

mod catalogue;
mod exports;
mod metric;
mod overview;
mod trust;
mod view;

use crate::app::AppState;
use crate::error::{AppError, Result};
use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let static_dir = state.config.static_dir.clone();
    Router::new()
        .merge(overview::router())
        .merge(metric::router())
        .merge(trust::router())
        .merge(catalogue::router())
        .merge(exports::router())
        .route("/healthz", get(healthz))
        .nest_service("/static", ServeDir::new(&static_dir))
        .nest_service("/assets", ServeDir::new(static_dir.join("assets")))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// Renders a template; a failure becomes a 500, logged once.
pub fn render<T: Template>(page: &T) -> Result<Html<String>> {
    Ok(Html(page.render()?))
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let f = state.figures();
    Json(
        serde_json::json!({ "status": "ok", "data_version": f.data_version, "computed_at": f.computed_at }),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound("There is no page at this address.".into())
}

/// Runs CPU-heavy page work (charts) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
}
