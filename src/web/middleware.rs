//! Errors by audience, and no partial answers while the figures load.
//!
//! Handlers answer `AppError`s; the response carries a `Problem`, rendered here as the person
//! or program that asked expects it: `application/problem+json` (RFC 9457) for everything under
//! `/api`, plain text for a download under `/export/`, and an HTML page for every other page.

use super::ErrorPage;
use crate::web::error::{AppError, Problem};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Who reads an answer, from the path it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Api,
    Download,
    Page,
}

impl Audience {
    fn of(path: &str) -> Self {
        if path == "/api" || path.starts_with("/api/") {
            Audience::Api
        } else if path.starts_with("/export/") {
            Audience::Download
        } else {
            Audience::Page
        }
    }
}

/// Error bodies are small; a larger one is left as it is.
const MOST_ERROR_BYTES: usize = 16 << 20;

/// Whether the figures are loaded, and how long a read waits for them: the front layer's
/// state, one flag rather than the whole `AppState` on every request.
#[derive(Clone)]
pub struct Readiness {
    pub loaded: Arc<AtomicBool>,
    pub wait: std::time::Duration,
}

/// The front of every request: while the figures load after a start, a read that shows
/// figures waits for them (up to the configured `load_wait_seconds`), then answers 503 with
/// `Retry-After` — never a page or export with figures missing; and every error answer is
/// rendered for its audience.
pub async fn front(State(readiness): State<Readiness>, request: Request, next: Next) -> Response {
    let audience = Audience::of(request.uri().path());
    let waits = !readiness.loaded.load(Ordering::Acquire) && reads_figures(&request);
    let response = match if waits { wait_for_figures(&readiness).await } else { Ok(()) } {
        Ok(()) => next.run(request).await,
        Err(unavailable) => unavailable.into_response(),
    };
    for_audience(audience, response).await
}

/// Whether `request` shows figures: a read of anything but the health check, static files,
/// signing in and out, and the methods page.
fn reads_figures(request: &Request) -> bool {
    let path = request.uri().path();
    matches!(*request.method(), Method::GET | Method::HEAD)
        && !["/healthz", "/static/", "/assets/", "/sign-in", "/sign-out", "/methods"]
            .iter()
            .any(|p| path.starts_with(p))
}

async fn wait_for_figures(readiness: &Readiness) -> Result<(), AppError> {
    let deadline = tokio::time::Instant::now() + readiness.wait;
    while !readiness.loaded.load(Ordering::Acquire) {
        if tokio::time::Instant::now() >= deadline {
            let message = "The figures are still being loaded after a start. Try again in a few seconds.";
            return Err(AppError::Unavailable { message: message.into(), retry_after: 5 });
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

/// An error answer rendered for its audience; any other answer as it is.
async fn for_audience(audience: Audience, response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let problem = response.extensions().get::<Problem>().cloned();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("application/problem+json"));
    let (mut parts, body) = response.into_parts();
    let (content_type, body) = match (audience, problem) {
        (Audience::Api, problem) => {
            let Ok(bytes) = axum::body::to_bytes(body, MOST_ERROR_BYTES).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            match problem_json(status, problem, is_json, &bytes) {
                Some(body) => ("application/problem+json", body),
                // A submission's answer (its id, status, rows and every error) is the
                // endpoint's own document, 422 included.
                None => return Response::from_parts(parts, Body::from(bytes)),
            }
        }
        (Audience::Download, Some(p)) => ("text/plain; charset=utf-8", format!("{}\n", p.detail).into_bytes()),
        (Audience::Page, Some(p)) => {
            let page = ErrorPage { title: p.title, message: &p.detail };
            let html = askama::Template::render(&page).unwrap_or_else(|_| format!("{}: {}", p.title, p.detail));
            ("text/html; charset=utf-8", html.into_bytes())
        }
        // Answers that are not `AppError`s (a redirect's page, a form the framework rejected)
        // stay as they are.
        (_, None) => return Response::from_parts(parts, body),
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// An RFC 9457 problem: `type`, `title`, `status` and `detail`. A JSON answer that was already
/// an object keeps its other members beside them; a submission's answer (with `submission_id`)
/// is left as it is (`None`).
fn problem_json(status: StatusCode, problem: Option<Problem>, is_json: bool, bytes: &[u8]) -> Option<Vec<u8>> {
    let mut object = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(o)) if is_json => o,
        _ => serde_json::Map::new(),
    };
    if object.contains_key("submission_id") {
        return None;
    }
    let reason = status.canonical_reason().unwrap_or("Error");
    let detail = match (&problem, object.get("error").and_then(|e| e.as_str())) {
        (Some(p), _) => p.detail.clone(),
        (None, Some(e)) => e.to_string(),
        (None, None) if !is_json => String::from_utf8_lossy(bytes).trim().to_string(),
        (None, None) => reason.to_string(),
    };
    object.insert("type".into(), "about:blank".into());
    object.insert("title".into(), problem.map_or(reason, |p| p.title).into());
    object.insert("status".into(), status.as_u16().into());
    object.insert("detail".into(), detail.into());
    serde_json::to_vec(&object).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_for_the_api_downloads_or_people() {
        assert_eq!(Audience::of("/api/v1/submissions"), Audience::Api);
        assert_eq!(Audience::of("/export/values.csv"), Audience::Download);
        assert_eq!(Audience::of("/export"), Audience::Page);
        assert_eq!(Audience::of("/apiary"), Audience::Page);
    }

    #[test]
    fn a_json_error_becomes_a_problem_that_keeps_its_members() {
        let body = br#"{"error":"too big","limit":5}"#;
        let out: serde_json::Value =
            serde_json::from_slice(&problem_json(StatusCode::PAYLOAD_TOO_LARGE, None, true, body).unwrap()).unwrap();
        assert_eq!(out["status"], 413);
        assert_eq!(out["detail"], "too big");
        assert_eq!(out["title"], "Payload Too Large");
        assert_eq!(out["limit"], 5);
    }

    #[test]
    fn a_submission_answer_stays_the_endpoint_own_document() {
        let body = br#"{"submission_id":3,"status":"rejected","errors":[]}"#;
        assert!(problem_json(StatusCode::UNPROCESSABLE_ENTITY, None, true, body).is_none());
    }

    #[test]
    fn a_text_error_becomes_a_problem_with_its_text_as_detail() {
        let out: serde_json::Value =
            serde_json::from_slice(&problem_json(StatusCode::BAD_REQUEST, None, false, b"bad query").unwrap()).unwrap();
        assert_eq!(out["detail"], "bad query");
        assert_eq!(out["type"], "about:blank");
    }
}
