//! The exports page and the CSV downloads of SPEC §7.

use super::render;
use crate::app::AppState;
use crate::auth::Auth;
use crate::error::{AppError, Result};
use crate::export::{EXPORTS, Filters, write_export};
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/export", get(index)).route("/export/{file}", get(download))
}

#[derive(Template)]
#[template(path = "exports.html")]
pub struct ExportsPage {
    pub exports: Vec<(&'static str, &'static str)>,
    pub data_version: i64,
}

async fn index(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    render(&auth, &ExportsPage { exports: EXPORTS.to_vec(), data_version: state.figures().data_version })
}

async fn download(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(filters): Query<Filters>,
) -> Result<Response> {
    let name = file
        .strip_suffix(".csv")
        .ok_or_else(|| AppError::NotFound(format!("There is no export '{file}'.")))?
        .to_string();
    let f = state.figures();
    let filter = filters.parse(&f.reference).map_err(AppError::BadRequest)?;
    let version = f.data_version;
    let (found, body) = super::blocking(move || {
        let mut body = Vec::new();
        let found = write_export(&name, &f, &filter, &mut body)?;
        Ok((found, body))
    })
    .await?;
    if !found {
        return Err(AppError::NotFound(format!("There is no export '{file}'.")));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
            (header::HeaderName::from_static("x-data-version"), version.to_string()),
        ],
        body,
    )
        .into_response())
}
