//! The audit log, for admins: every write, sign-in and account change, newest first.

use super::render;
use crate::auth::Auth;
use crate::store::AuditEntry;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/audit", get(audit))
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

async fn audit(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let entries = state.store.audit_log(1000).await?;
    render(&auth, &AuditPage { entries })
}
