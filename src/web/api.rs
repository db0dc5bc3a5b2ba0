//! The submission API: `POST /api/v1/submissions` (CSV or FHIR JSON, `?dry_run=true`) and
//! `GET /api/v1/submissions/{id}`, answering JSON.

use crate::auth::Auth;
use crate::domain::Channel;
use crate::domain::Errors;
use crate::domain::Role;
use crate::store::Outcome;
use crate::submit::{Answer, Format, Options, Upload, submit};
use crate::web::AppState;
use crate::web::error::AppError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Serialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/submissions", post(create)).route("/api/v1/submissions/{id}", get(show))
}

#[derive(Debug, Serialize)]
pub struct SubmissionAnswer {
    pub submission_id: Option<i64>,
    pub status: String,
    pub rows: usize,
    #[serde(flatten)]
    pub errors: Errors,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

#[derive(serde::Deserialize)]
pub struct CreateQuery {
    #[serde(default)]
    dry_run: bool,
    kind: Option<String>,
}

fn json_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<CreateQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(role) = auth.user.as_ref().map(|u| u.role) else {
        return json_error(StatusCode::UNAUTHORIZED, "sign in or send an API token");
    };
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = media.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let format = match (media.as_str(), q.kind.as_deref()) {
        ("text/csv", Some("targets")) => Format::TargetsCsv,
        ("text/csv", Some("conformance")) => Format::ConformanceCsv,
        ("text/csv", Some("metrics")) => Format::MetricsCsv,
        ("text/csv", Some("uptake")) => Format::UptakeCsv,
        ("text/csv", None) => match Format::sniff(&body) {
            f @ (Format::ConformanceCsv | Format::TargetsCsv | Format::UptakeCsv) => f,
            _ => Format::MetricsCsv,
        },
        ("application/fhir+json" | "application/json", Some("uptake")) => Format::UptakeMeasureReport,
        ("application/fhir+json" | "application/json", None | Some("metrics" | "conformance")) => {
            match Format::sniff(&body) {
                f @ (Format::TestReport | Format::UptakeMeasureReport) => f,
                _ => Format::MeasureReport,
            }
        }
        ("text/csv" | "application/fhir+json" | "application/json", Some(other)) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("kind '{other}' is not metrics, targets, conformance or uptake"),
            );
        }
        _ => {
            return json_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send text/csv (metric values; targets with ?kind=targets; conformance results with ?kind=conformance) or application/fhir+json (MeasureReport or TestReport)",
            );
        }
    };
    let refused = match format {
        Format::UptakeCsv | Format::UptakeMeasureReport => (!matches!(role, Role::Analyst | Role::Admin))
            .then_some("NHS App uptake is national data: analysts and administrators send it"),
        Format::ConformanceCsv | Format::TestReport => (role == Role::Analyst)
            .then_some("an analyst sends NHS App uptake only: conformance results come from assessors and trusts"),
        _ => (role != Role::Trust).then_some(
            "an assessor or administrator sends conformance results (and an analyst or administrator NHS App uptake): \
             metric values and targets come from trusts",
        ),
    };
    if let Some(message) = refused {
        return json_error(StatusCode::FORBIDDEN, message);
    }
    let actor = auth.actor().via(Channel::Api);
    let f = state.figures();
    let options = Options::on(state.today()).dry_run(q.dry_run);
    let answer =
        match submit(&state.store, &f.reference, &actor, Upload::bytes(format, body.to_vec(), None), options).await {
            Ok(s) => s.answer,
            Err(e) => return AppError::Internal(e).into_response(),
        };
    if matches!(answer, Answer::Stored(Outcome::Accepted { .. }))
        && let Err(e) = state.refresh().await
    {
        return AppError::Internal(e).into_response();
    }
    let forbidden = answer.errors().is_some_and(Errors::forbidden);
    let (status, body) = match answer {
        Answer::Stored(Outcome::Accepted { submission_id, rows, .. }) => (
            StatusCode::CREATED,
            SubmissionAnswer {
                submission_id: Some(submission_id),
                status: "accepted".into(),
                rows,
                errors: Errors::new(),
                dry_run: false,
            },
        ),
        Answer::Stored(Outcome::Duplicate { submission_id, rows, .. }) => (
            StatusCode::OK,
            SubmissionAnswer {
                submission_id: Some(submission_id),
                status: "duplicate".into(),
                rows,
                errors: Errors::new(),
                dry_run: false,
            },
        ),
        Answer::Stored(Outcome::Rejected { submission_id, rows, errors }) => (
            if forbidden { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY },
            SubmissionAnswer {
                submission_id: Some(submission_id),
                status: "rejected".into(),
                rows,
                errors,
                dry_run: false,
            },
        ),
        Answer::Closed { rows, message } => {
            let body = serde_json::json!({ "status": "closed", "rows": rows, "error": message });
            return (StatusCode::CONFLICT, Json(body)).into_response();
        }
        Answer::DryRun { rows, errors, .. } if errors.is_empty() => (
            StatusCode::OK,
            SubmissionAnswer { submission_id: None, status: "accepted".into(), rows, errors, dry_run: true },
        ),
        Answer::DryRun { rows, errors, .. } => (
            if forbidden { StatusCode::FORBIDDEN } else { StatusCode::UNPROCESSABLE_ENTITY },
            SubmissionAnswer { submission_id: None, status: "rejected".into(), rows, errors, dry_run: true },
        ),
    };
    (status, Json(body)).into_response()
}

async fn show(State(state): State<AppState>, Extension(auth): Extension<Auth>, Path(id): Path<i64>) -> Response {
    match super::submit::visible_submission(&state, &auth, id).await {
        Ok(s) => Json(SubmissionAnswer {
            submission_id: Some(s.id),
            status: s.status.to_string(),
            rows: s.rows_total as usize,
            errors: s.errors,
            dry_run: false,
        })
        .into_response(),
        Err(AppError::NotFound(m)) => json_error(StatusCode::NOT_FOUND, &m),
        Err(e) => e.into_response(),
    }
}
