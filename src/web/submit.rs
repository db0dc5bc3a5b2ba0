//! Submitting through the web: upload a file or paste CSV, preview what would be stored (or
//! every error), confirm; and the history of submissions.

use super::render;
use crate::auth::Auth;
use crate::domain::Errors;
use crate::domain::{Quarter, Role};
use crate::figures::quality::QualityFlag;
use crate::store::{Outcome, SubmissionRecord};
use crate::submit::{Format, Options, Upload, Validated, submit, validate};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/submit", get(form).post(preview))
        .route("/submit/{upload_id}/confirm", post(confirm))
        .route("/submissions", get(list))
        .route("/submissions/{id}", get(detail))
}

#[derive(Template)]
#[template(path = "submit.html")]
pub struct SubmitPage {
    pub csrf_token: String,
    pub org_code: String,
    pub error: Option<String>,
}

pub struct QuarterSummary {
    pub quarter: String,
    pub rows: usize,
    pub new: usize,
    pub revised: usize,
    pub unchanged: usize,
}

pub struct Revision {
    pub org_code: String,
    pub metric_id: String,
    pub metric: String,
    pub quarter: String,
    pub old: String,
    pub new: String,
}

#[derive(Template)]
#[template(path = "preview.html")]
pub struct PreviewPage {
    pub csrf_token: String,
    pub upload_id: i64,
    pub format: String,
    pub filename: String,
    pub rows: usize,
    pub errors: Errors,
    pub quarters: Vec<QuarterSummary>,
    pub metrics: Vec<(String, usize)>,
    pub revisions: Vec<Revision>,
    pub flags: Vec<QualityFlag>,
    pub rules: String,
}

fn trust_of(auth: &Auth) -> Result<(i64, String)> {
    match &auth.user {
        Some(u) if u.role == Role::Trust => Ok((u.id, u.org_code.clone().unwrap_or_default())),
        _ => Err(AppError::Forbidden("Only a trust's submitters may submit.".into())),
    }
}

async fn form(Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let (_, org_code) = trust_of(&auth)?;
    render(&auth, &SubmitPage { csrf_token: auth.csrf_token().into(), org_code, error: None })
}

async fn preview(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    mut multipart: Multipart,
) -> Result<Response> {
    let (user_id, org_code) = trust_of(&auth)?;
    let (mut csrf, mut file, mut filename, mut pasted) = (String::new(), Vec::new(), None, String::new());
    while let Some(field) =
        multipart.next_field().await.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?
    {
        match field.name().unwrap_or_default() {
            "csrf_token" => csrf = field.text().await.unwrap_or_default(),
            "pasted" => pasted = field.text().await.unwrap_or_default(),
            "file" => {
                filename = field.file_name().filter(|n| !n.is_empty()).map(str::to_string);
                file = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::BadRequest(format!("the file could not be read: {e}")))?
                    .to_vec();
            }
            _ => {}
        }
    }
    super::check_csrf(&auth, &csrf)?;
    let bytes = if file.is_empty() { pasted.into_bytes() } else { file };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let page = SubmitPage {
            csrf_token: auth.csrf_token().into(),
            org_code,
            error: Some("Choose a file or paste CSV rows.".into()),
        };
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&auth, &page)?).into_response());
    }
    let format = Format::sniff(&bytes);
    let f = state.figures();
    let today = state.today();
    let bytes = std::sync::Arc::new(bytes);
    let Validated { rows: total, parsed, .. } =
        validate(&f.reference, today, bytes.clone(), format, &auth.actor().for_org(Some(org_code))).await?;
    let upload_id = match &parsed {
        Ok(_) => state.store.save_upload(user_id, format.as_str(), filename.as_deref(), &bytes).await?,
        Err(_) => 0,
    };
    let mut page = PreviewPage {
        csrf_token: auth.csrf_token().into(),
        upload_id,
        format: format.label().into(),
        filename: filename.unwrap_or_else(|| "pasted rows".into()),
        rows: total,
        errors: Errors::new(),
        quarters: Vec::new(),
        metrics: Vec::new(),
        revisions: Vec::new(),
        flags: Vec::new(),
        rules: crate::figures::quality::rules_text(),
    };
    match parsed {
        Err(errors) => page.errors = errors,
        Ok(crate::submit::Parsed::Conformance(rows)) => {
            page.rows = rows.len();
            let mut by_standard: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rows {
                *by_standard.entry(format!("{} ({})", r.standard_id, r.result)).or_default() += 1;
            }
            page.metrics = by_standard.into_iter().collect();
        }
        Ok(crate::submit::Parsed::Organisations(orgs)) => page.rows = orgs.len(),
        Ok(crate::submit::Parsed::Values(rows)) => {
            page.rows = rows.len();
            let mut by_quarter: BTreeMap<Quarter, QuarterSummary> = BTreeMap::new();
            let mut by_metric: BTreeMap<String, usize> = BTreeMap::new();
            for r in &rows {
                *by_metric.entry(r.metric_id.clone()).or_default() += 1;
                let q = by_quarter.entry(r.period).or_insert_with(|| QuarterSummary {
                    quarter: r.period.financial_label(),
                    rows: 0,
                    new: 0,
                    revised: 0,
                    unchanged: 0,
                });
                q.rows += 1;
                if format == Format::TargetsCsv {
                    q.new += 1;
                    continue;
                }
                match f.value_at(&r.org_code, &r.metric_id, r.period.index()) {
                    None => q.new += 1,
                    Some(old) if old.value == r.value => q.unchanged += 1,
                    Some(old) => {
                        q.revised += 1;
                        page.revisions.push(Revision {
                            org_code: r.org_code.clone(),
                            metric: f.reference.metric(&r.metric_id).map_or(r.metric_id.clone(), |m| m.name.clone()),
                            metric_id: r.metric_id.clone(),
                            quarter: r.period.financial_label(),
                            old: format!("{} (revision {})", old.value, old.revision),
                            new: r.value.to_string(),
                        });
                    }
                }
                page.flags.extend(crate::figures::quality::check(&f, &r.org_code, &r.metric_id, r.period, r.value));
            }
            page.quarters = by_quarter.into_values().collect();
            page.metrics = by_metric.into_iter().collect();
        }
    }
    let status =
        if page.errors.is_empty() { axum::http::StatusCode::OK } else { axum::http::StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, render(&auth, &page)?).into_response())
}

#[derive(serde::Deserialize)]
pub struct ConfirmForm {
    csrf_token: String,
}

async fn confirm(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(upload_id): Path<i64>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response> {
    let (user_id, org_code) = trust_of(&auth)?;
    super::check_csrf(&auth, &form.csrf_token)?;
    let (format, filename, bytes) = state
        .store
        .take_upload(upload_id, user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("This upload has already been confirmed, or it is not yours.".into()))?;
    let format =
        Format::parse(&format).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown upload format {format}")))?;
    let actor = auth.actor().for_org(Some(org_code));
    let f = state.figures();
    let upload = Upload::bytes(format, bytes, filename);
    let answer = submit(&state.store, &f.reference, &actor, upload, Options::on(state.today())).await?.answer;
    if let crate::submit::Answer::Closed { message, .. } = &answer {
        return Err(AppError::Conflict(format!("This file cannot be stored: {message}")));
    }
    if matches!(answer, crate::submit::Answer::Stored(Outcome::Accepted { .. })) {
        state.refresh().await?;
    }
    let id = answer.submission_id().unwrap_or_default();
    Ok(Redirect::to(&format!("/submissions/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "submissions.html")]
pub struct SubmissionsPage {
    pub scope: String,
    pub submissions: Vec<SubmissionRecord>,
}

/// A trust's submitter sees its own trust's submissions; the other roles see all.
fn scope(auth: &Auth) -> Option<String> {
    auth.user.as_ref().filter(|u| u.role == Role::Trust).and_then(|u| u.org_code.clone())
}

async fn list(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let own = scope(&auth);
    let submissions = state.store.submissions(own.as_deref(), 500).await?;
    let scope = own.map_or("every trust and the command line".into(), |o| format!("trust {o}"));
    render(&auth, &SubmissionsPage { scope, submissions })
}

#[derive(Template)]
#[template(path = "submission.html")]
pub struct SubmissionPage {
    pub s: SubmissionRecord,
}

async fn detail(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<i64>,
) -> Result<Html<String>> {
    let s = visible_submission(&state, &auth, id).await?;
    render(&auth, &SubmissionPage { s })
}

/// A submission the user may see.
pub async fn visible_submission(state: &AppState, auth: &Auth, id: i64) -> Result<SubmissionRecord> {
    // One answer for "no such submission" and "another trust's": the answer must not tell a
    // trust which ids exist.
    let hidden = || AppError::NotFound(format!("There is no submission {id} that you can see."));
    let s = state.store.submission(id).await?.ok_or_else(hidden)?;
    match scope(auth) {
        Some(own) if s.org_code.as_deref() != Some(own.as_str()) => Err(hidden()),
        _ => Ok(s),
    }
}
