//! The board's findings and recommendations: recorded by board members on a metric, a domain or
//! a trust, shown on the pages they refer to, readable by every signed-in user.

use super::render;
use crate::auth::Auth;
use crate::domain::Role;
use crate::store::{FINDING_STATUSES, FINDING_SUBJECTS, Finding, NewFinding};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/findings", get(list).post(add)).route("/findings/{id}/status", post(set_status))
}

/// A finding with the name of what it is about and where that is shown.
pub struct FindingView {
    pub finding: Finding,
    pub subject_name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "findings.html")]
pub struct FindingsPage {
    pub findings: Vec<FindingView>,
    pub can_write: bool,
    pub csrf_token: String,
    pub error: Option<String>,
    pub statuses: Vec<&'static str>,
}

/// What changes when any of these findings changes, for page caches.
pub fn stamp(findings: &[FindingView]) -> String {
    let latest = findings.iter().map(|v| v.finding.updated_at.as_str()).max().unwrap_or_default();
    format!("{}@{latest}", findings.len())
}

/// Names the subject of each finding and links to its page.
pub fn views(state: &AppState, findings: Vec<Finding>) -> Vec<FindingView> {
    let f = state.figures();
    findings
        .into_iter()
        .map(|finding| {
            let (name, href) = match finding.subject_kind.as_str() {
                "metric" => (
                    f.reference.metric(&finding.subject).map_or(finding.subject.clone(), |m| m.name.clone()),
                    format!("/metrics/{}", finding.subject),
                ),
                "trust" => (
                    f.reference.organisation(&finding.subject).map_or(finding.subject.clone(), |o| o.name.clone()),
                    format!("/trusts/{}", finding.subject),
                ),
                _ => (
                    f.reference.domain(&finding.subject).map_or(finding.subject.clone(), |d| d.name.clone()),
                    "/gaps".to_string(),
                ),
            };
            FindingView { finding, subject_name: name, href }
        })
        .collect()
}

async fn list(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    page(&state, &auth, None).await.map(|(_, html)| html)
}

async fn page(state: &AppState, auth: &Auth, error: Option<String>) -> Result<(bool, Html<String>)> {
    let findings = views(state, state.findings().await?.to_vec());
    let can_write = auth.user.as_ref().is_some_and(|u| u.role == Role::Board);
    let page = FindingsPage {
        findings,
        can_write,
        csrf_token: auth.csrf_token().into(),
        error: error.clone(),
        statuses: FINDING_STATUSES.to_vec(),
    };
    Ok((error.is_some(), render(auth, &page)?))
}

#[derive(serde::Deserialize)]
pub struct FindingForm {
    csrf_token: String,
    subject_kind: String,
    subject: String,
    title: String,
    body: String,
    owner: String,
}

async fn add(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Form(form): Form<FindingForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    let f = state.figures();
    let subject = form.subject.trim().to_string();
    let problem = if !FINDING_SUBJECTS.contains(&form.subject_kind.as_str()) {
        Some("Choose whether the finding is about a metric, a domain or a trust.".to_string())
    } else if match form.subject_kind.as_str() {
        "metric" => f.reference.metric(&subject).is_none(),
        "trust" => f.reference.organisation(&subject.to_ascii_uppercase()).is_none(),
        _ => f.reference.domain(&subject).is_none(),
    } {
        Some(format!("There is no {} '{subject}'.", form.subject_kind))
    } else if form.title.trim().is_empty() || form.body.trim().is_empty() || form.owner.trim().is_empty() {
        Some("Give the finding a title, its text and an owner.".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        let (_, html) = page(&state, &auth, Some(problem)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let subject = if form.subject_kind == "trust" { subject.to_ascii_uppercase() } else { subject };
    let new = NewFinding {
        subject_kind: form.subject_kind,
        subject,
        title: form.title.trim().into(),
        body: form.body.trim().into(),
        owner: form.owner.trim().into(),
    };
    state.store.add_finding(&new, &auth.actor()).await?;
    state.forget_findings();
    Ok(Redirect::to("/findings").into_response())
}

#[derive(serde::Deserialize)]
pub struct StatusForm {
    csrf_token: String,
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    super::check_csrf(&auth, &form.csrf_token)?;
    state
        .store
        .set_finding_status(id, &form.status, &auth.actor())
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    state.forget_findings();
    Ok(Redirect::to("/findings").into_response())
}
