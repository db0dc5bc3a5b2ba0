//! The release calendar: every published release with its date, quarter, note and what changed.

use super::render;
use crate::auth::Auth;
use crate::publish::Changes;
use crate::store::Release;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/releases", get(releases))
}

pub struct ReleaseRow {
    pub release: Release,
    pub published: String,
    pub changes: Changes,
}

#[derive(Template)]
#[template(path = "releases.html")]
pub struct ReleasesPage {
    pub releases: Vec<ReleaseRow>,
}

async fn releases(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let releases = state
        .store
        .releases()
        .await?
        .into_iter()
        .map(|release| ReleaseRow {
            published: chrono::NaiveDateTime::parse_from_str(&release.published_at, "%Y-%m-%dT%H:%M:%SZ")
                .map(|t| t.format("%-d %B %Y").to_string())
                .unwrap_or_else(|_| release.published_at.clone()),
            changes: Changes::of(&release),
            release,
        })
        .collect();
    render(&auth, &ReleasesPage { releases })
}
