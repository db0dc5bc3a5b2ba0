//! Where best practice is not followed: trusts' metric positions behind the exemplar median, by
//! domain, by trust and by metric, for a quarter, trust type, region and exemplar cohort.

use super::render;
use super::view::Params;
use super::view::TrustScope;
use super::view::{
    Choice, Meta, SortHeader, exemplar_choices, num, period_choices, query_string, region_choices, sort_headers,
    type_choices,
};
use crate::analytics::{TrustBenchmarkRow, quantile, sorted};
use crate::auth::Auth;
use crate::domain::{Quarter, TrustType};
use crate::figures::Figures;
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
    pub name: String,
    pub behind: usize,
    pub of: usize,
    pub share: String,
}

/// An area's share of positions behind, with its trusts' median maturity index.
pub struct AreaLine {
    pub name: String,
    /// The gaps page for the area alone.
    pub href: String,
    pub trusts: usize,
    pub behind: usize,
    pub of: usize,
    pub share: String,
    pub median_maturity: String,
}

/// A table of areas: its title, its first column's heading and its rows.
pub type AreaTable = (&'static str, &'static str, Vec<AreaLine>);

/// A trust in the ranking of who most needs help.
pub struct TrustLine {
    pub href: String,
    pub name: String,
    pub type_label: String,
    pub maturity_value: Option<f64>,
    pub maturity: String,
    pub behind: usize,
    pub of: usize,
    pub share: String,
    pub median_gap_points: String,
    pub median_gap_points_value: Option<f64>,
    pub worsening: usize,
}

/// How the trusts that most need help are ranked (`sort=need_gap`, `sort=need_worsening`; the
/// lowest maturity index by default): (value of `sort`, words).
pub const NEED_MEASURES: [(&str, &str, &str); 3] = [
    ("", "the lowest maturity index first", "maturity index"),
    ("need_gap", "the largest median gap to the exemplar median in score points first", "median gap in score points"),
    ("need_worsening", "the most metrics worsening first", "metrics worsening"),
];

pub struct GapLine {
    pub metric_id: String,
    pub metric: String,
    pub domain: String,
    pub peer_group: String,
    pub n: usize,
    pub n_behind: usize,
    pub share_value: f64,
    pub share: String,
    /// The median gap in the metric's own unit, with the unit.
    pub median_gap: String,
    /// The median gap in score points (0–100 of the metric's scale).
    pub gap_points_value: Option<f64>,
    pub gap_points: String,
    /// Trusts significantly worse than England (95 %), for a proportion; empty otherwise.
    pub worse: String,
    pub worse_value: usize,
    /// The stated priority: median gap in score points × share of trusts behind.
    pub priority_value: f64,
    pub priority: String,
}

#[derive(Template)]
#[template(path = "gaps.html")]
pub struct GapsPage {
    pub meta: Meta,
    pub period_label: String,
    pub periods: Vec<Choice>,
    pub types: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub icbs: Vec<Choice>,
    pub cohorts: Vec<Choice>,
    pub by_domain: Vec<ShareLine>,
    /// (table title, first column's heading, rows): by region, then by ICB.
    pub areas: Vec<AreaTable>,
    pub by_trust: Vec<TrustLine>,
    /// How the trusts are ranked, in words, and links to the other rankings.
    pub need_words: &'static str,
    pub need_links: Vec<(String, &'static str)>,
    pub trust_page: usize,
    pub trust_pages: usize,
    pub trusts_total: usize,
    /// Links to the previous and next pages of trusts, keeping the filters.
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub priority_chart: String,
    pub headers: Vec<SortHeader>,
    pub rows: Vec<GapLine>,
    pub findings: Vec<super::findings::FindingView>,
    /// The link that opens the findings form pre-filled for this page (shown to the board).
    pub record_href: String,
    pub record_what: &'static str,
    /// The quarter shown, as the findings form takes it (`2026-Q3`).
    pub period_code: String,
    pub csv_query: String,
}

/// The gaps page with `filters`, at page `page` of the trusts.
fn page_href(filters: &[(&str, Option<String>)], page: usize) -> String {
    let mut all: Vec<(&str, Option<String>)> = filters.to_vec();
    all.push(("page", Some(page.to_string())));
    format!("/gaps{}#by-trust", query_string(&all))
}

fn share(behind: usize, of: usize) -> String {
    if of == 0 { String::new() } else { format!("{:.0}%", 100.0 * behind as f64 / of as f64) }
}

fn behind(rows: &[&TrustBenchmarkRow]) -> usize {
    rows.iter().filter(|t| t.behind_best_practice == Some(true)).count()
}

/// Every gap under the filters: by domain, each trust (who most needs help first) and each
/// metric and peer group (the largest priority first). The gaps page and the board pack show it.
pub struct Gaps {
    pub by_domain: Vec<ShareLine>,
    /// The same positions rolled up by NHS England region and by integrated care board.
    pub by_region: Vec<AreaLine>,
    pub by_icb: Vec<AreaLine>,
    pub by_trust: Vec<TrustLine>,
    pub rows: Vec<GapLine>,
}

/// The top ten of `rows` (in priority order) as a chart.
pub fn priority_chart(rows: &[GapLine]) -> Result<String> {
    Ok(crate::charts::ranking_chart(&crate::charts::RankingChart {
        id: "priority".into(),
        title: "The ten largest gaps by priority: median gap in score points × share of trusts behind".into(),
        x_label: "Priority (score points × share behind)".into(),
        items: rows.iter().take(10).map(|r| (format!("{} ({})", r.metric, r.peer_group), r.priority_value)).collect(),
    })?)
}

pub fn compute(f: &Figures, period: Option<Quarter>, scope: &TrustScope) -> Gaps {
    // Every trust's position on every metric with an exemplar benchmark, under the filters.
    let positions: Vec<TrustBenchmarkRow> = period
        .into_iter()
        .flat_map(|p| f.trust_benchmarks_in(p))
        .filter(|t| t.behind_best_practice.is_some())
        .filter(|t| f.reference.organisation(&t.org_code).is_some_and(|o| scope.keeps(o)))
        .collect();

    let by_domain = f
        .reference
        .domains
        .iter()
        .map(|d| {
            let of: Vec<&TrustBenchmarkRow> = positions.iter().filter(|t| *t.domain == *d.domain_id).collect();
            let n = behind(&of);
            ShareLine { name: d.name.clone(), behind: n, of: of.len(), share: share(n, of.len()) }
        })
        .collect();

    let mut per_trust: BTreeMap<&str, Vec<&TrustBenchmarkRow>> = BTreeMap::new();
    let mut per_metric: BTreeMap<(&str, &str), Vec<&TrustBenchmarkRow>> = BTreeMap::new();
    for t in &positions {
        per_trust.entry(&*t.org_code).or_default().push(t);
        per_metric.entry((&*t.metric_id, &*t.trust_type)).or_default().push(t);
    }
    // A gap in score points: 100 × gap ÷ the metric's scale span (a score is linear in the value).
    let points = |metric_id: &str, gap: f64| {
        f.reference.metric(metric_id).map(|m| 100.0 * gap / (m.scale_max - m.scale_min).max(f64::MIN_POSITIVE))
    };
    // Who most needs help: the lowest maturity index first (then the largest share behind).
    let mut by_trust: Vec<TrustLine> = per_trust
        .into_iter()
        .map(|(code, rows)| {
            let n = behind(&rows);
            let org = f.reference.organisation(code);
            let maturity = period.and_then(|p| f.index(code, p, "all")).and_then(|i| i.domain_index);
            let gaps: Vec<f64> = rows.iter().filter_map(|t| points(&t.metric_id, t.gap_to_exemplar?)).collect();
            let worsening = period.map_or(0, |p| {
                rows.iter()
                    .filter(|t| f.trend(code, &t.metric_id, p).is_some_and(|x| x.trend.as_deref() == Some("worsening")))
                    .count()
            });
            TrustLine {
                href: format!("/trusts/{code}"),
                name: org.map_or(code.to_string(), |o| o.name.clone()),
                type_label: org.map_or(String::new(), |o| o.trust_type.label().to_string()),
                maturity_value: maturity,
                maturity: num(maturity),
                behind: n,
                of: rows.len(),
                share: share(n, rows.len()),
                median_gap_points: num(quantile(&sorted(gaps.clone()), 0.5)),
                median_gap_points_value: quantile(&sorted(gaps), 0.5),
                worsening,
            }
        })
        .collect();
    by_trust.sort_by(|a, b| {
        a.maturity_value
            .unwrap_or(f64::MAX)
            .total_cmp(&b.maturity_value.unwrap_or(f64::MAX))
            .then((b.behind * a.of.max(1)).cmp(&(a.behind * b.of.max(1))))
            .then(a.name.cmp(&b.name))
    });
    let unit = |metric_id: &str| {
        use crate::domain::Unit;
        match f.reference.metric(metric_id).map(|m| m.unit) {
            Some(Unit::Percent) => " percentage points",
            Some(Unit::Days) => " days",
            Some(Unit::Gbp) => " £",
            Some(Unit::Score) => " points",
            Some(Unit::Boolean) => " (yes = 1)",
            _ => "",
        }
    };
    let mut rows: Vec<GapLine> = per_metric
        .into_iter()
        .map(|((metric_id, tt), list)| {
            let m = f.reference.metric(metric_id);
            let n_behind = behind(&list);
            let median_gap = quantile(&sorted(list.iter().filter_map(|t| t.gap_to_exemplar).collect()), 0.5);
            let gap_points = median_gap.and_then(|g| points(metric_id, g));
            let worse_value = period.map_or(0, |p| {
                list.iter()
                    .filter(|t| {
                        f.interval(&t.org_code, metric_id, p)
                            .is_some_and(|i| i.vs_england_95 == crate::analytics::uncertainty::Comparison::Worse)
                    })
                    .count()
            });
            let share_value = n_behind as f64 / list.len().max(1) as f64;
            let priority_value = gap_points.unwrap_or(0.0).max(0.0) * share_value;
            GapLine {
                metric_id: metric_id.to_string(),
                metric: m.map_or(metric_id.to_string(), |m| m.name.clone()),
                domain: m.and_then(|m| f.reference.domain(&m.domain)).map_or(String::new(), |d| d.name.clone()),
                peer_group: tt.parse::<TrustType>().map_or(tt.to_string(), |t| t.label().into()),
                n: list.len(),
                n_behind,
                share_value,
                share: share(n_behind, list.len()),
                median_gap: median_gap.map_or(String::new(), |g| format!("{}{}", num(Some(g)), unit(metric_id))),
                gap_points_value: gap_points,
                gap_points: num(gap_points),
                worse: if m.is_some_and(|m| m.is_proportion()) { worse_value.to_string() } else { String::new() },
                worse_value,
                priority_value,
                priority: format!("{priority_value:.1}"),
            }
        })
        .collect();
    // The priority ranking, largest first: its top ten as a chart, whatever the table's sort.
    rows.sort_by(|a, b| {
        b.priority_value
            .total_cmp(&a.priority_value)
            .then(b.worse_value.cmp(&a.worse_value))
            .then(a.metric.cmp(&b.metric))
    });
    // Rolled up by area: every position of the area's trusts pooled (not an average of shares).
    let area = |name: String, href: String, trusts: Vec<&str>| {
        let of: Vec<&TrustBenchmarkRow> = positions.iter().filter(|t| trusts.contains(&&*t.org_code)).collect();
        let n = behind(&of);
        let maturity: Vec<f64> = trusts
            .iter()
            .filter_map(|c| period.and_then(|p| f.index(c, p, "all")).and_then(|i| i.domain_index))
            .collect();
        AreaLine {
            name,
            href,
            trusts: trusts.len(),
            behind: n,
            of: of.len(),
            share: share(n, of.len()),
            median_maturity: num(quantile(&sorted(maturity), 0.5)),
        }
    };
    let with_positions: std::collections::BTreeSet<&str> = positions.iter().map(|t| &*t.org_code).collect();
    let in_area = |keep: &dyn Fn(&crate::domain::Organisation) -> bool| -> Vec<&str> {
        f.reference
            .organisations
            .iter()
            .filter(|o| keep(o) && with_positions.contains(o.ods_code.as_str()))
            .map(|o| o.ods_code.as_str())
            .collect()
    };
    let by_region = crate::domain::REGIONS
        .iter()
        .map(|(_, r)| {
            area(r.to_string(), format!("/gaps?region={}", r.replace(' ', "+")), in_area(&|o| o.region == *r))
        })
        .filter(|a| a.trusts > 0)
        .collect();
    let mut by_icb: Vec<AreaLine> = crate::domain::icbs()
        .iter()
        .map(|i| {
            area(
                format!("{} ({})", i.short_name(), i.icb_code),
                format!("/gaps?icb={}", i.icb_code),
                in_area(&|o| o.icb == i.icb_code),
            )
        })
        .filter(|a| a.trusts > 0)
        .collect();
    by_icb.sort_by(|a, b| a.name.cmp(&b.name));
    Gaps { by_domain, by_region, by_icb, by_trust, rows }
}

async fn gaps(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(query): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let period = query.period(&f)?;
    let scope = TrustScope::of(&query)?;
    let Gaps { by_domain, by_region, by_icb, mut by_trust, mut rows } = compute(&f, period, &scope);
    // The trusts' ranking: by maturity index (as computed), or by the measure `sort` names.
    let need = match query.sort.as_deref() {
        Some("need_gap") => {
            by_trust.sort_by(|a, b| {
                b.median_gap_points_value
                    .unwrap_or(f64::MIN)
                    .total_cmp(&a.median_gap_points_value.unwrap_or(f64::MIN))
                    .then(a.name.cmp(&b.name))
            });
            "need_gap"
        }
        Some("need_worsening") => {
            by_trust.sort_by(|a, b| b.worsening.cmp(&a.worsening).then(a.name.cmp(&b.name)));
            "need_worsening"
        }
        _ => "",
    };
    const PER_PAGE: usize = 25;
    let trusts_total = by_trust.len();
    let trust_pages = trusts_total.div_ceil(PER_PAGE).max(1);
    let trust_page = match query.page.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p.parse::<usize>().ok().filter(|p| (1..=trust_pages).contains(p)).ok_or_else(|| {
            crate::web::error::AppError::BadRequest(format!("page: '{p}' is not a page from 1 to {trust_pages}"))
        })?,
    };
    let by_trust: Vec<TrustLine> = by_trust.into_iter().skip((trust_page - 1) * PER_PAGE).take(PER_PAGE).collect();
    let priority_chart = priority_chart(&rows)?;
    let sort = query.sort.as_deref().filter(|s| !s.starts_with("need_")).unwrap_or("priority");
    match sort {
        "metric" => rows.sort_by(|a, b| a.metric.cmp(&b.metric)),
        "domain" => rows.sort_by(|a, b| (&a.domain, &a.metric).cmp(&(&b.domain, &b.metric))),
        "peer" => rows.sort_by(|a, b| (&a.peer_group, &a.metric).cmp(&(&b.peer_group, &b.metric))),
        "behind" => rows.sort_by_key(|r| r.n_behind),
        "share" => rows.sort_by(|a, b| a.share_value.total_cmp(&b.share_value).then(a.n_behind.cmp(&b.n_behind))),
        "points" => rows
            .sort_by(|a, b| a.gap_points_value.unwrap_or(f64::MIN).total_cmp(&b.gap_points_value.unwrap_or(f64::MIN))),
        "worse" => rows.sort_by_key(|r| r.worse_value),
        _ => rows.sort_by(|a, b| a.priority_value.total_cmp(&b.priority_value).then(a.worse_value.cmp(&b.worse_value))),
    }
    // Largest priority first unless the user asks otherwise.
    let descending = query.dir.as_deref().map_or(sort == "priority", |d| d == "desc");
    if descending {
        rows.reverse();
    }
    let [peer_group, region, icb, cohort] = scope.parameters();
    let filters = [("period", period.map(|p| p.to_string())), peer_group, region, icb, cohort];
    let mut need_filters = filters.to_vec();
    need_filters.push(("sort", Some(need.to_string())));
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
            ("points", "Median gap (score points)", true),
            ("worse", "Worse than England", true),
            ("priority", "Priority", true),
        ],
    );
    let findings = super::findings::views(
        &state,
        state.findings().await?.iter().filter(|x| x.subject_kind == "domain").cloned().collect(),
    )
    .await?;
    render(
        &auth,
        &GapsPage {
            meta: Meta::of(&f),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            periods: period_choices(&f, period),
            types: type_choices(scope.peer),
            regions: region_choices(scope.region.as_deref()),
            icbs: super::view::icb_choices(scope.icb.as_deref()),
            cohorts: exemplar_choices(scope.cohort),
            by_domain,
            areas: vec![
                ("Gaps by NHS England region", "Region", by_region),
                ("Gaps by integrated care board", "Integrated care board", by_icb),
            ],
            by_trust,
            trust_page,
            trust_pages,
            trusts_total,
            prev_href: (trust_page > 1).then(|| page_href(&need_filters, trust_page - 1)),
            next_href: (trust_page < trust_pages).then(|| page_href(&need_filters, trust_page + 1)),
            need_words: NEED_MEASURES.iter().find(|(k, _, _)| *k == need).map_or("", |(_, w, _)| w),
            need_links: NEED_MEASURES
                .iter()
                .filter(|(k, _, _)| *k != need)
                .map(|(k, _, w)| {
                    let mut all = filters.to_vec();
                    all.push(("sort", Some(k.to_string())));
                    (format!("/gaps{}#by-trust", query_string(&all)), *w)
                })
                .collect(),
            priority_chart,
            headers,
            rows,
            findings,
            record_href: super::findings::record_link("", period),
            record_what: "quarter's gaps",
            period_code: period.map(|p| p.to_string()).unwrap_or_default(),
            csv_query: query_string(&filters),
        },
    )
}
