//! Completeness of a quarter's collection: which trusts have submitted, signed off, or not
//! started; a trust's submitter signs off its own figures here.

use super::render;
use super::view::{Choice, Params, period_choices};
use crate::auth::Auth;
use crate::domain::{Quarter, Role};
use crate::store::Progress;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/completeness", get(page)).route("/completeness/sign-off", post(sign_off))
}

pub struct Row {
    pub ods_code: String,
    pub name: String,
    pub type_label: String,
    pub progress: Progress,
}

#[derive(Template)]
#[template(path = "completeness.html")]
pub struct CompletenessPage {
    pub quarter: Option<Quarter>,
    pub periods: Vec<Choice>,
    pub window: Option<crate::store::Window>,
    pub window_closed: bool,
    pub rows: Vec<Row>,
    pub counts: Vec<(&'static str, usize)>,
    /// A trust's submitter's own trust, and where it stands, for the sign-off form.
    pub own: Option<(String, Progress)>,
    pub csrf_token: String,
}

async fn page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.figures();
    let quarter = q.quarter(f.latest_period(), true).map_err(AppError::BadRequest)?;
    let orgs: Vec<String> = f.reference.organisations.iter().map(|o| o.ods_code.clone()).collect();
    let (progress, window) = match quarter {
        Some(p) => (state.store.progress(&p, &orgs).await?, state.store.window(&p.to_string()).await?),
        None => (vec![Progress::NotStarted; orgs.len()], None),
    };
    let rows: Vec<Row> = f
        .reference
        .organisations
        .iter()
        .zip(&progress)
        .map(|(o, p)| Row {
            ods_code: o.ods_code.clone(),
            name: o.name.clone(),
            type_label: o.trust_type.label().into(),
            progress: *p,
        })
        .collect();
    let counts = [Progress::SignedOff, Progress::Submitted, Progress::NotStarted]
        .iter()
        .map(|p| (p.label(), rows.iter().filter(|r| r.progress == *p).count()))
        .collect();
    let own = auth
        .user
        .as_ref()
        .filter(|u| u.role == Role::Trust)
        .and_then(|u| u.org_code.clone())
        .map(|o| (o.clone(), rows.iter().find(|r| r.ods_code == o).map_or(Progress::NotStarted, |r| r.progress)));
    let now = crate::store::now_text();
    let page = CompletenessPage {
        periods: period_choices(&f, quarter),
        window_closed: window.as_ref().is_some_and(|w| w.is_closed(&now)),
        quarter,
        window,
        rows,
        counts,
        own,
        csrf_token: auth.csrf_token().into(),
    };
    render(&auth, &page)
}

#[derive(serde::Deserialize)]
pub struct SignOffForm {
    csrf_token: String,
    period: String,
}

async fn sign_off(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<SignOffForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    let org = auth
        .user
        .as_ref()
        .and_then(|u| u.org_code.clone())
        .ok_or_else(|| AppError::Forbidden("Only a trust's submitters sign off its figures.".into()))?;
    let quarter = Quarter::parse(&form.period).map_err(|e| AppError::BadRequest(format!("period: {e}")))?;
    state.store.sign_off(&quarter, &org, &auth.actor()).await.map_err(|e| AppError::Conflict(e.to_string()))?;
    Ok(Redirect::to(&format!("/completeness?period={quarter}")).into_response())
}
