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
    Router::new()
        .route("/completeness", get(page))
        .route("/completeness/sign-off", post(sign_off))
        .route("/completeness/window", post(change_window))
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
    /// Whether the reader may open, close and reopen the window (administrators).
    pub admin: bool,
    /// What the administrator's last change did, or why it was refused.
    pub message: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(q): Params,
) -> Result<Html<String>> {
    let page = build(&state, &auth, &q).await?;
    render(&auth, &page)
}

async fn build(state: &AppState, auth: &Auth, q: &crate::domain::Filters) -> Result<CompletenessPage> {
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
        admin: auth.user.as_ref().is_some_and(|u| u.role == Role::Admin),
        message: None,
    };
    Ok(page)
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

#[derive(serde::Deserialize)]
pub struct WindowForm {
    csrf_token: String,
    period: String,
    /// `open`, `close` or `reopen`.
    action: String,
    #[serde(default)]
    closes: String,
    #[serde(default)]
    org: String,
}

/// An administrator opens, closes or reopens the quarter's window (audited by the store). A
/// refusal is shown on the page, above the forms, with what was typed kept.
async fn change_window(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<WindowForm>,
) -> Result<Response> {
    use crate::store::WindowChange;
    super::check_csrf(&auth, &form.csrf_token)?;
    let quarter = Quarter::parse(&form.period).map_err(|e| AppError::BadRequest(format!("period: {e}")))?;
    let change = match form.action.as_str() {
        "open" => WindowChange::Open { closes: form.closes.clone() },
        "close" => WindowChange::Close,
        "reopen" => WindowChange::Reopen { org: form.org.clone() },
        other => return Err(AppError::BadRequest(format!("action: '{other}' is not open, close or reopen"))),
    };
    let query = crate::domain::Filters { period: Some(quarter.to_string()), ..Default::default() };
    match state.store.change_window(quarter, change, &auth.actor()).await {
        Ok(done) => {
            let mut page = build(&state, &auth, &query).await?;
            page.message = Some(done);
            Ok(render(&auth, &page)?.into_response())
        }
        Err(e) => {
            let mut page = build(&state, &auth, &query).await?;
            let mut why = e.to_string();
            why[..1].make_ascii_uppercase();
            page.message = Some(format!("Nothing was changed: {why}."));
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&auth, &page)?).into_response())
        }
    }
}
