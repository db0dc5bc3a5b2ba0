//! The metric catalogue and the methods page.

use super::render;
use crate::auth::Auth;
use crate::domain::Metric;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics)).route("/methods", get(methods))
}

pub struct DomainGroup {
    pub name: String,
    pub description: String,
    pub metrics: Vec<Metric>,
}

#[derive(Template)]
#[template(path = "metrics.html")]
pub struct MetricsPage {
    pub domains: Vec<DomainGroup>,
    pub app_measures: &'static [crate::domain::uptake::Measure],
}

async fn metrics(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let domains = f
        .reference
        .domains
        .iter()
        .map(|d| DomainGroup {
            name: d.name.clone(),
            description: d.description.clone(),
            metrics: f.reference.metrics.iter().filter(|m| m.domain == d.domain_id).cloned().collect(),
        })
        .collect();
    render(&auth, &MetricsPage { domains, app_measures: crate::domain::uptake::measures() })
}

#[derive(Template)]
#[template(path = "methods.html")]
pub struct MethodsPage;

async fn methods(Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    render(&auth, &MethodsPage)
}
