//! Where best practice is not followed: trusts' metric positions behind the exemplar median, by
//! domain, by trust and by metric, for a quarter, trust type, region and exemplar cohort.

use super::render;
use super::view::Params;
use super::view::{
    Choice, Meta, SortHeader, exemplar_choices, num, period_choices, query_string, region_choices, sort_headers,
    type_choices,
};
use crate::analytics::{TrustBenchmarkRow, quantile, sorted};
use crate::auth::Auth;
use crate::domain::TrustType;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/gaps", get(gaps))
}

pub struct ShareLine {
    pub href: String,
    pub name: String,
    pub behind: usize,
    pub of: usize,
    pub share: String,
}

pub struct GapLine {
    pub metric_id: String,
    pub metric: String,
    pub domain: String,
    pub peer_group: String,
    pub n: usize,
    pub n_behind: usize,
    pub share_value: f64,
    pub share: String,
    pub median_gap_value: Option<f64>,
    pub median_gap: String,
}

#[derive(Template)]
#[template(path = "gaps.html")]
pub struct GapsPage {
    pub meta: Meta,
    pub period_label: String,
    pub periods: Vec<Choice>,
    pub types: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub cohorts: Vec<Choice>,
    pub by_domain: Vec<ShareLine>,
    pub by_trust: Vec<ShareLine>,
    pub headers: Vec<SortHeader>,
    pub rows: Vec<GapLine>,
    pub findings: Vec<super::findings::FindingView>,
    pub csv_query: String,
}

fn share(behind: usize, of: usize) -> String {
    if of == 0 { String::new() } else { format!("{:.0}%", 100.0 * behind as f64 / of as f64) }
}

fn behind(rows: &[&TrustBenchmarkRow]) -> usize {
    rows.iter().filter(|t| t.behind_best_practice == Some(true)).count()
}

async fn gaps(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(query): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let period = query.period(&f)?;
    let peer = query.peer_group()?;
    let region = query.region()?;
    let cohort = query.exemplar()?;
    // Every trust's position on every metric with an exemplar benchmark, under the filters.
    let positions: Vec<&TrustBenchmarkRow> = f
        .trust_benchmarks()
        .filter(|t| {
            Some(t.period_index) == period.map(|p| p.index()) && peer.is_none_or(|p| p.as_str() == &*t.trust_type)
        })
        .filter(|t| t.behind_best_practice.is_some())
        .filter(|t| {
            let o = f.reference.organisation(&t.org_code);
            region.as_deref().is_none_or(|r| o.is_some_and(|o| o.region == r))
                && cohort.is_none_or(|c| o.is_some_and(|o| o.exemplar == c))
        })
        .collect();

    let by_domain = f
        .reference
        .domains
        .iter()
        .map(|d| {
            let of: Vec<&TrustBenchmarkRow> = positions.iter().copied().filter(|t| *t.domain == *d.domain_id).collect();
            let n = behind(&of);
            ShareLine { href: String::new(), name: d.name.clone(), behind: n, of: of.len(), share: share(n, of.len()) }
        })
        .collect();

    let mut per_trust: BTreeMap<&str, Vec<&TrustBenchmarkRow>> = BTreeMap::new();
    let mut per_metric: BTreeMap<(&str, &str), Vec<&TrustBenchmarkRow>> = BTreeMap::new();
    for t in &positions {
        per_trust.entry(&*t.org_code).or_default().push(t);
        per_metric.entry((&*t.metric_id, &*t.trust_type)).or_default().push(t);
    }
    let mut by_trust: Vec<ShareLine> = per_trust
        .into_iter()
        .map(|(code, rows)| {
            let n = behind(&rows);
            ShareLine {
                href: format!("/trusts/{code}"),
                name: f.reference.organisation(code).map_or(code.to_string(), |o| o.name.clone()),
                behind: n,
                of: rows.len(),
                share: share(n, rows.len()),
            }
        })
        .collect();
    by_trust.sort_by(|a, b| (b.behind * a.of.max(1)).cmp(&(a.behind * b.of.max(1))).then(a.name.cmp(&b.name)));
    by_trust.truncate(20);

    let mut rows: Vec<GapLine> = per_metric
        .into_iter()
        .map(|((metric_id, tt), list)| {
            let m = f.reference.metric(metric_id);
            let n_behind = behind(&list);
            let median_gap = quantile(&sorted(list.iter().filter_map(|t| t.gap_to_exemplar).collect()), 0.5);
            GapLine {
                metric_id: metric_id.to_string(),
                metric: m.map_or(metric_id.to_string(), |m| m.name.clone()),
                domain: m.and_then(|m| f.reference.domain(&m.domain)).map_or(String::new(), |d| d.name.clone()),
                peer_group: tt.parse::<TrustType>().map_or(tt.to_string(), |t| t.label().into()),
                n: list.len(),
                n_behind,
                share_value: n_behind as f64 / list.len().max(1) as f64,
                share: share(n_behind, list.len()),
                median_gap_value: median_gap,
                median_gap: num(median_gap),
            }
        })
        .collect();
    let sort = query.sort.as_deref().unwrap_or("share");
    match sort {
        "metric" => rows.sort_by(|a, b| a.metric.cmp(&b.metric)),
        "domain" => rows.sort_by(|a, b| (&a.domain, &a.metric).cmp(&(&b.domain, &b.metric))),
        "peer" => rows.sort_by(|a, b| (&a.peer_group, &a.metric).cmp(&(&b.peer_group, &b.metric))),
        "behind" => rows.sort_by_key(|r| r.n_behind),
        "gap" => rows
            .sort_by(|a, b| a.median_gap_value.unwrap_or(f64::MIN).total_cmp(&b.median_gap_value.unwrap_or(f64::MIN))),
        _ => rows.sort_by(|a, b| a.share_value.total_cmp(&b.share_value).then(a.n_behind.cmp(&b.n_behind))),
    }
    // Largest share first unless the user asks otherwise.
    let descending = query.dir.as_deref().map_or(sort == "share", |d| d == "desc");
    if descending {
        rows.reverse();
    }
    let filters = [
        ("period", period.map(|p| p.to_string())),
        ("peer_group", peer.map(|p| p.as_str().to_string())),
        ("region", region.clone()),
        ("exemplar", cohort.map(|c| c.as_str().to_string())),
    ];
    let headers = sort_headers(
        "/gaps",
        &filters,
        Some(sort),
        descending,
        &[
            ("metric", "Metric", false),
            ("domain", "Domain", false),
            ("peer", "Peer group", false),
            ("behind", "Behind", true),
            ("share", "Share behind", true),
            ("gap", "Median gap", true),
        ],
    );
    let findings = super::findings::views(
        &state,
        state.store.findings().await?.into_iter().filter(|x| x.subject_kind == "domain").collect(),
    );
    render(
        &auth,
        &GapsPage {
            meta: Meta::of(&f),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            periods: period_choices(&f, period),
            types: type_choices(peer),
            regions: region_choices(region.as_deref()),
            cohorts: exemplar_choices(cohort),
            by_domain,
            by_trust,
            headers,
            rows,
            findings,
            csv_query: query_string(&filters),
        },
    )
}
