//! The metric catalogue, the open standards catalogue, the gaps summary and the methods page.

use super::render;
use super::view::{Choice, Meta, PageQuery, num, period_choices, type_choices};
use crate::app::AppState;
use crate::auth::Auth;
use crate::domain::{Metric, TrustType};
use crate::error::Result;
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics)).route("/gaps", get(gaps)).route("/methods", get(methods))
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
}

async fn metrics(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let f = state.figures();
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
    render(&auth, &MetricsPage { domains })
}

pub struct GapLine {
    pub metric_id: String,
    pub metric: String,
    pub domain: String,
    pub peer_group: String,
    pub n: i64,
    pub n_behind: i64,
    pub share: String,
    pub median_gap: String,
}

pub struct ShareLine {
    pub href: String,
    pub name: String,
    pub behind: usize,
    pub of: usize,
    pub share: String,
}

#[derive(Template)]
#[template(path = "gaps.html")]
pub struct GapsPage {
    pub by_domain: Vec<ShareLine>,
    pub by_trust: Vec<ShareLine>,
    pub findings: Vec<super::findings::FindingView>,
    pub meta: Meta,
    pub period_label: String,
    pub periods: Vec<Choice>,
    pub types: Vec<Choice>,
    pub rows: Vec<GapLine>,
    pub csv_query: String,
}

async fn gaps(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>> {
    let f = state.figures();
    let period = query.period(&f)?;
    let peer = query.peer_group()?;
    let mut rows: Vec<_> = f
        .tables
        .gaps
        .iter()
        .filter(|g| {
            Some(g.period_index) == period.map(|p| p.index()) && peer.is_none_or(|p| p.as_str() == g.peer_group)
        })
        .collect();
    rows.sort_by(|a, b| b.share_behind.total_cmp(&a.share_behind).then(a.metric_id.cmp(&b.metric_id)));
    let rows = rows
        .into_iter()
        .map(|g| {
            let m = f.reference.metric(&g.metric_id);
            GapLine {
                metric_id: g.metric_id.clone(),
                metric: m.map_or(g.metric_id.clone(), |m| m.name.clone()),
                domain: m.and_then(|m| f.reference.domain(&m.domain)).map_or(String::new(), |d| d.name.clone()),
                peer_group: g.peer_group.parse::<TrustType>().map_or(g.peer_group.clone(), |t| t.label().into()),
                n: g.n,
                n_behind: g.n_behind,
                share: format!("{:.0}%", g.share_behind * 100.0),
                median_gap: num(g.median_gap),
            }
        })
        .collect();
    let csv_query = super::view::query_string(&[
        ("period", period.map(|p| p.to_string())),
        ("peer_group", peer.map(|p| p.as_str().to_string())),
    ]);
    // By domain and by trust: how many (trust, metric) positions are behind the exemplar median.
    let positions: Vec<_> = f
        .tables
        .trust_benchmarks
        .iter()
        .filter(|t| {
            Some(t.period_index) == period.map(|p| p.index()) && peer.is_none_or(|p| p.as_str() == t.trust_type)
        })
        .filter(|t| t.behind_best_practice.is_some())
        .collect();
    let share = |behind: usize, of: usize| {
        if of == 0 { String::new() } else { format!("{:.0}%", 100.0 * behind as f64 / of as f64) }
    };
    let by_domain = f
        .reference
        .domains
        .iter()
        .map(|d| {
            let of: Vec<_> = positions.iter().filter(|t| t.domain == d.domain_id).collect();
            let behind = of.iter().filter(|t| t.behind_best_practice == Some(true)).count();
            ShareLine {
                href: String::new(),
                name: d.name.clone(),
                behind,
                of: of.len(),
                share: share(behind, of.len()),
            }
        })
        .collect();
    let mut per_trust: std::collections::BTreeMap<&str, (usize, usize)> = std::collections::BTreeMap::new();
    for t in &positions {
        let e = per_trust.entry(t.org_code.as_str()).or_default();
        e.1 += 1;
        if t.behind_best_practice == Some(true) {
            e.0 += 1;
        }
    }
    let mut by_trust: Vec<ShareLine> = per_trust
        .into_iter()
        .map(|(code, (behind, of))| ShareLine {
            href: format!("/trusts/{code}"),
            name: f.reference.organisation(code).map_or(code.to_string(), |o| o.name.clone()),
            behind,
            of,
            share: share(behind, of),
        })
        .collect();
    by_trust.sort_by(|a, b| (b.behind * a.of.max(1)).cmp(&(a.behind * b.of.max(1))).then(a.name.cmp(&b.name)));
    by_trust.truncate(20);
    let findings = super::findings::views(
        &state,
        state.store.findings().await?.into_iter().filter(|x| x.subject_kind == "domain").collect(),
    );
    render(
        &auth,
        &GapsPage {
            by_domain,
            by_trust,
            findings,
            meta: Meta::of(&f),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            periods: period_choices(&f, period),
            types: type_choices(peer),
            rows,
            csv_query,
        },
    )
}

#[derive(Template)]
#[template(path = "methods.html")]
pub struct MethodsPage;

async fn methods(Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    render(&auth, &MethodsPage)
}
