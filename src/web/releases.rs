//! The release calendar: every published release with its date, quarter, note and what changed.

use super::render;
use super::view::{Choice, period_choices};
use crate::auth::Auth;
use crate::domain::{Quarter, Role};
use crate::publish::Changes;
use crate::store::Release;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/releases", get(releases).post(publish))
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
    /// For a publisher: the quarters that may be published, and the form's token.
    pub publisher: Option<Vec<Choice>>,
    pub csrf_token: String,
    pub error: Option<String>,
    /// The next planned publication date, in words.
    pub next: Option<String>,
}

/// Whether the signed-in user may publish.
async fn is_publisher(state: &AppState, auth: &Auth) -> Result<bool> {
    Ok(match &auth.user {
        Some(u) if matches!(u.role, Role::Analyst | Role::Admin) => state.store.can_publish(u.id).await?,
        _ => false,
    })
}

#[derive(serde::Deserialize)]
pub struct PublishForm {
    csrf_token: String,
    period: String,
    #[serde(default)]
    note: String,
    /// Publish even though some trusts have not signed off.
    confirm: Option<String>,
}

async fn publish(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<PublishForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    if !is_publisher(&state, &auth).await? {
        return Err(AppError::Forbidden(
            "Only an analyst or administrator with the publisher permission publishes.".into(),
        ));
    }
    let quarter = Quarter::parse(&form.period).map_err(|e| AppError::BadRequest(format!("period: {e}")))?;
    match crate::publish::publish(&state.store, quarter, &form.note, form.confirm.is_some(), &auth.actor()).await {
        Ok(_) => {
            state.forget_releases();
            Ok(Redirect::to("/releases").into_response())
        }
        Err(e) => {
            let mut page = page(&state, &auth).await?;
            page.error = Some(e.to_string());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&auth, &page)?).into_response())
        }
    }
}

async fn releases(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    render(&auth, &page(&state, &auth).await?)
}

async fn page(state: &AppState, auth: &Auth) -> Result<ReleasesPage> {
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
    let publisher = if is_publisher(state, auth).await? {
        let f = state.figures();
        Some(period_choices(&f, f.latest_period()))
    } else {
        None
    };
    let next = state.store.state("next_release").await?.and_then(|d| {
        chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok().map(|d| d.format("%-d %B %Y").to_string())
    });
    Ok(ReleasesPage { releases, publisher, csrf_token: auth.csrf_token().into(), error: None, next })
}
