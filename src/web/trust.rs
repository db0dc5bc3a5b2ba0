//! A trust's scorecard: spine chart, domain indices against peers and exemplars, trends,
//! deployed systems and its gaps.

use super::cached_page;
use super::view::Params;
use super::view::{Choice, Meta, PageQuery, num, period_choices};
use crate::auth::Auth;
use crate::charts::{SpineChart, SpineRow, spine_chart};
use crate::domain::{Organisation, Quarter};
use crate::figures::Figures;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trusts/{ods_code}", get(trust_page))
        .route("/trusts/{ods_code}/metrics/{metric_id}", get(history_page))
}

pub struct MetricRow {
    pub percentile: f64,
    pub score: f64,
    pub metric_id: String,
    pub name: String,
    pub value: String,
    pub median: String,
    pub exemplar_median: String,
    pub quartile: i64,
    pub rank: String,
    pub gap: String,
    pub trend: String,
    pub revision: i64,
    /// The 95 % interval, or why there is none.
    pub interval: String,
    /// Significance against England at 95 %: `better`, `similar`, `worse` or `not_compared`.
    pub vs_england: crate::analytics::uncertainty::Comparison,
    /// Whether the metric is a proportion (else it has no interval and is not compared).
    pub proportion: bool,
    /// Making Data Count: the variation icon (`common_cause`, `improvement_high`, …) and its
    /// words, the assurance in words (empty without a target), and whether limits are drawn.
    pub variation: &'static str,
    pub variation_words: &'static str,
    pub assurance: &'static str,
    pub run_chart: bool,
}

pub struct DomainRow {
    pub name: String,
    pub index: String,
    pub peer_median: String,
    pub exemplar_median: String,
    pub coverage: String,
}

pub struct SystemRow {
    pub system_id: String,
    pub procurable: bool,
    pub failing: String,
    pub function: String,
    pub product: String,
    pub supplier: String,
    pub version: String,
}

pub struct TargetRow {
    pub metric_id: String,
    pub name: String,
    pub quarter: String,
    pub target: String,
    pub set_in: String,
    pub baseline: String,
    pub latest: String,
    pub progress: String,
}

pub struct HistoryRow {
    pub metric_id: String,
    pub metric: String,
    pub quarter: String,
    pub revision: i64,
    pub value: String,
    pub submission_id: i64,
    pub submitted_at: String,
    pub comment: String,
}

pub struct FlagRow {
    pub metric_id: String,
    pub name: String,
    pub rule: String,
    pub detail: String,
}

pub struct GapItem {
    pub metric_id: String,
    pub name: String,
    pub value: String,
    pub exemplar_median: String,
    pub gap: String,
    /// The gap in score points (0–100 of the metric's scale), by which the list is sorted.
    pub points: String,
    /// Trusts like this one (its peers) that closed the same gap over the last four quarters:
    /// (ODS code, name).
    pub closed_by: Vec<(String, String)>,
    /// Their published blueprints about the metric: (id, title).
    pub blueprints: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "trust.html")]
pub struct TrustPage {
    pub headers: Vec<super::view::SortHeader>,
    pub meta: Meta,
    pub org: Organisation,
    pub type_label: String,
    pub exemplar_label: String,
    pub period_label: String,
    pub period_value: String,
    pub periods: Vec<Choice>,
    pub maturity: String,
    pub coverage: String,
    pub spine_chart: String,
    pub metrics: Vec<MetricRow>,
    pub domains: Vec<DomainRow>,
    pub systems: Vec<SystemRow>,
    pub gaps: Vec<GapItem>,
    /// Its nearest trusts of the same type (docs/RULES.md §10.1).
    pub peers: Vec<PeerLine>,
    pub targets: Vec<TargetRow>,
    pub history: Vec<HistoryRow>,
    pub flags: Vec<FlagRow>,
    pub flag_rules: String,
    pub conformance_rate: String,
    pub conformance_detail: String,
    pub peer_rate: String,
    pub org_results: Vec<(String, String, String)>,
    pub findings: Vec<super::findings::FindingView>,
    /// The link that opens the findings form pre-filled for this page (shown to the board).
    pub record_href: String,
    pub record_what: &'static str,
    /// The maturity index over the quarters against the peer group's and its exemplars' medians.
    pub maturity_chart: String,
    pub maturity_history: Vec<MaturityRow>,
    /// What changed since the quarter before the one shown.
    pub changed: Option<Changed>,
    /// The trust's last submission through Exemplar (for readers who may open it).
    pub last_submission: Option<crate::store::SubmissionRecord>,
}

/// One of a trust's nearest peers, as its page lists it.
pub struct PeerLine {
    pub rank: usize,
    pub href: String,
    pub name: String,
    pub distance: String,
    pub reasons: String,
}

/// What changed for a trust since the quarter before: its maturity index, each domain (the why)
/// and each metric whose value, quartile or rank moved.
pub struct Changed {
    pub since: String,
    pub maturity_before: String,
    pub maturity_now: String,
    pub maturity_change: String,
    /// Domains by the size of their move: (name, before, now, change).
    pub domains: Vec<(String, String, String, String)>,
    pub metrics: Vec<ChangedMetric>,
    /// Metrics with a value in both quarters that did not move.
    pub unchanged: usize,
}

pub struct ChangedMetric {
    pub metric_id: String,
    pub name: String,
    pub before: String,
    pub now: String,
    /// The change in score points (0–100 of the scale), signed so that + is better.
    pub score_change: String,
    pub score_change_value: f64,
    pub quartile_before: i64,
    pub quartile_now: i64,
    pub rank_before: String,
    pub rank_now: String,
}

/// A signed change with one decimal: "+2.5", "−1.0", "0.0".
fn signed(v: f64) -> String {
    if v > 0.05 {
        format!("+{v:.1}")
    } else if v < -0.05 {
        format!("−{:.1}", -v)
    } else {
        "0.0".into()
    }
}

fn what_changed(f: &Figures, org: &Organisation, p: Quarter) -> Option<Changed> {
    let before = p.previous();
    let tt = org.trust_type.as_str();
    let index = |q: Quarter, d: &str| f.index(&org.ods_code, q, d).and_then(|i| i.domain_index);
    let (m0, m1) = (index(before, "all"), index(p, "all"));
    if m0.is_none() && m1.is_none() {
        return None;
    }
    let mut domains: Vec<(f64, (String, String, String, String))> = f
        .reference
        .domains
        .iter()
        .filter_map(|d| {
            let (a, b) = (index(before, &d.domain_id)?, index(p, &d.domain_id)?);
            Some(((b - a).abs(), (d.name.clone(), num(Some(a)), num(Some(b)), signed(b - a))))
        })
        .collect();
    domains.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut metrics = Vec::new();
    let mut unchanged = 0;
    for m in f.reference.metrics.iter().filter(|m| m.applies(org.trust_type)) {
        let (Some(a), Some(b)) =
            (f.position(&org.ods_code, &m.metric_id, before), f.position(&org.ods_code, &m.metric_id, p))
        else {
            continue;
        };
        if a.value == b.value && a.quartile == b.quartile && a.rank == b.rank {
            unchanged += 1;
            continue;
        }
        let of = |q: Quarter| f.benchmark(&m.metric_id, q, tt).map_or(0, |x| x.n);
        metrics.push(ChangedMetric {
            metric_id: m.metric_id.clone(),
            name: m.name.clone(),
            before: num(Some(a.value)),
            now: num(Some(b.value)),
            score_change: signed(b.score - a.score),
            score_change_value: b.score - a.score,
            quartile_before: a.quartile,
            quartile_now: b.quartile,
            rank_before: format!("{} of {}", a.rank, of(before)),
            rank_now: format!("{} of {}", b.rank, of(p)),
        });
    }
    metrics.sort_by(|a, b| b.score_change_value.abs().total_cmp(&a.score_change_value.abs()));
    Some(Changed {
        since: before.financial_label(),
        maturity_before: num(m0),
        maturity_now: num(m1),
        maturity_change: m0.zip(m1).map_or(String::new(), |(a, b)| signed(b - a)),
        domains: domains.into_iter().map(|(_, d)| d).collect(),
        metrics,
        unchanged,
    })
}

/// A quarter's maturity index: (quarter, the trust, the peer median, the peer exemplars' median).
pub type MaturityRow = (String, String, String, String);

/// The trust's maturity index in every quarter beside its peer group's median and its peer
/// exemplars' median: the chart, and its numbers newest first (quarter, trust, peers, exemplars).
fn maturity_over_time(f: &Figures, org: &Organisation) -> Result<(String, Vec<MaturityRow>)> {
    use crate::charts::{TrendChart, TrendSeries, trend_chart};
    let tt = org.trust_type.as_str();
    let mut series: Vec<TrendSeries> = [org.name.as_str(), "Peer median", "Peer exemplars' median"]
        .iter()
        .map(|l| TrendSeries { label: (*l).to_string(), points: Vec::new() })
        .collect();
    let mut rows = Vec::new();
    for q in &f.periods {
        let own = f.index(&org.ods_code, *q, "all").and_then(|i| i.domain_index);
        let median = |group: &str| f.summary(*q, tt, "all", group).and_then(|x| x.median);
        let (peers, exemplars) = (median("all"), median("exemplar"));
        for (k, v) in [own, peers, exemplars].into_iter().enumerate() {
            if let Some(v) = v {
                series[k].points.push((*q, v));
            }
        }
        if own.is_some() {
            rows.push((q.financial_label(), num(own), num(peers), num(exemplars)));
        }
    }
    rows.reverse();
    let chart = trend_chart(&TrendChart {
        id: "maturity-history".into(),
        title: format!(
            "{}: maturity index by quarter against {} peers",
            org.name,
            org.trust_type.label().to_lowercase()
        ),
        y_label: "Maturity index (0–100)".into(),
        y_range: (0.0, 100.0),
        series,
    })?;
    Ok((chart, rows))
}

/// The trust an address names (its ODS code in any case), or a 404.
fn organisation(f: &Figures, code: &str) -> Result<Organisation> {
    let code = code.to_ascii_uppercase();
    f.reference
        .organisation(&code)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("There is no trust with the ODS code '{code}'.")))
}

async fn trust_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path(code): Path<String>,
    Params(query): Params,
) -> Result<super::Page> {
    let f = state.shown_figures(&auth.shown).await?;
    let org = organisation(&f, &code)?;
    let period = query.period(&f)?;
    let findings = state.findings().await?;
    let findings = super::findings::views(
        &state,
        findings.iter().filter(|x| x.subject_kind == "trust" && x.subject == org.ods_code).cloned().collect(),
    )
    .await?;
    let (blueprints, stamp) = super::blueprints::published(&state).await?;
    let stamp = format!("{}/{stamp}", super::findings::stamp(&findings));
    let key = super::page_key(&state, &auth, f.data_version, &stamp, &uri);
    if let Some(html) = super::cached(&state, &auth, &key) {
        return Ok(html);
    }
    let revised = state.store.revised_values(&org.ods_code).await?;
    // The last accepted submission (which changed the data version, so the key names it), for
    // readers of provisional figures: they may open it. A trust's user on another trust's page
    // sees a release, and no link that would answer 404.
    let last_submission = match auth.shown {
        crate::auth::Shown::Provisional => state
            .store
            .submissions(Some(&org.ods_code), 20)
            .await?
            .into_iter()
            .find(|s| s.kind == "metrics" && s.status == crate::domain::SubmissionStatus::Accepted),
        _ => None,
    };
    let today = state.today();
    cached_page(&state, &auth, key, move || {
        let mut page = build(&f, org, period, &query, today)?;
        for g in page.gaps.iter_mut() {
            g.blueprints = g
                .closed_by
                .iter()
                .filter_map(|(code, _)| super::blueprints::about(&blueprints, code, &g.metric_id))
                .collect();
        }
        page.findings = findings;
        page.record_href = super::findings::record_link(&format!("trust:{}", page.org.ods_code), period);
        page.last_submission = last_submission;
        page.history = revised
            .into_iter()
            .map(|(metric_id, r)| HistoryRow {
                metric: f.reference.metric(&metric_id).map_or(metric_id.clone(), |m| m.name.clone()),
                metric_id,
                quarter: r.period.financial_label(),
                revision: r.revision,
                value: num(Some(r.value)),
                submission_id: r.submission_id,
                submitted_at: r.submitted_at,
                comment: r.comment.unwrap_or_default(),
            })
            .collect();
        Ok(page)
    })
    .await
}

fn build(
    f: &Figures,
    org: Organisation,
    period: Option<Quarter>,
    query: &PageQuery,
    today: chrono::NaiveDate,
) -> Result<TrustPage> {
    let tt = org.trust_type.as_str();
    let (mut rows, mut metrics, mut gaps) = (Vec::new(), Vec::new(), Vec::new());
    let mut domains = Vec::new();
    let (mut maturity, mut coverage) = (String::new(), String::new());
    if let Some(p) = period {
        for m in f.reference.metrics.iter().filter(|m| m.applies(org.trust_type)) {
            let (Some(pos), Some(b)) = (f.position(&org.ods_code, &m.metric_id, p), f.benchmark(&m.metric_id, p, tt))
            else {
                continue;
            };
            let s = |v: f64| m.score(v);
            let interval = f.interval(&org.ods_code, &m.metric_id, p);
            let (a, z) = (s(b.min), s(b.max));
            let (lo, hi) = (s(b.p25), s(b.p75));
            rows.push(SpineRow {
                label: m.name.clone(),
                worst: a.min(z),
                p_low: lo.min(hi),
                median: s(b.median),
                p_high: lo.max(hi),
                best: a.max(z),
                exemplar: b.exemplar_median.map(s),
                value: pos.score,
                quartile: pos.quartile,
                interval: interval.and_then(|i| i.ci95).map(|(lo, hi)| (s(lo), s(hi))),
                significance: interval.and_then(|i| {
                    use crate::analytics::uncertainty::Comparison;
                    match i.vs_england_95 {
                        Comparison::Better => Some(crate::charts::Significance::Better),
                        Comparison::Similar => Some(crate::charts::Significance::Similar),
                        Comparison::Worse => Some(crate::charts::Significance::Worse),
                        Comparison::NotCompared => None,
                    }
                }),
            });
            let revision = f.value_at(&org.ods_code, &m.metric_id, p).map_or(0, |v| v.revision);
            let spc = f.spc(&org.ods_code, &m.metric_id).map(|(_, c)| c);
            metrics.push(MetricRow {
                percentile: pos.percentile,
                score: pos.score,
                metric_id: m.metric_id.clone(),
                name: m.name.clone(),
                value: num(Some(pos.value)),
                median: num(Some(b.median)),
                exemplar_median: num(b.exemplar_median),
                quartile: pos.quartile,
                rank: format!("{} of {}", pos.rank, b.n),
                gap: num(pos.gap_to_exemplar),
                trend: f
                    .trend(&org.ods_code, &m.metric_id, p)
                    .and_then(|t| t.trend.as_deref().map(str::to_string))
                    .unwrap_or_default(),
                revision,
                interval: super::view::interval_text(interval.and_then(|i| i.ci95), m.is_proportion()),
                vs_england: interval
                    .map_or(crate::analytics::uncertainty::Comparison::NotCompared, |i| i.vs_england_95),
                proportion: m.is_proportion(),
                variation: spc.as_ref().map_or("common_cause", |c| c.variation_icon),
                variation_words: crate::analytics::spc::variation_short(
                    spc.as_ref().map_or("common_cause", |c| c.variation_icon),
                ),
                assurance: crate::analytics::spc::assurance_short(spc.as_ref().and_then(|c| c.assurance_icon)),
                run_chart: spc.as_ref().is_none_or(|c| c.limits.is_none()),
            });
            if pos.behind_best_practice == Some(true) {
                let points = 100.0 * pos.gap_to_exemplar.unwrap_or(0.0) / (m.scale_max - m.scale_min);
                gaps.push((
                    points,
                    GapItem {
                        metric_id: m.metric_id.clone(),
                        name: m.name.clone(),
                        value: num(Some(pos.value)),
                        exemplar_median: num(b.exemplar_median),
                        gap: num(pos.gap_to_exemplar),
                        points: format!("{points:.1}"),
                        closed_by: Vec::new(),
                        blueprints: Vec::new(),
                    },
                ));
            }
        }
        for d in &f.reference.domains {
            let Some(own) = f.index(&org.ods_code, p, &d.domain_id) else {
                continue;
            };
            let median = |group: &str| f.summary(p, tt, &d.domain_id, group).and_then(|s| s.median);
            domains.push(DomainRow {
                name: d.name.clone(),
                index: num(own.domain_index),
                peer_median: num(median("all")),
                exemplar_median: num(median("exemplar")),
                coverage: format!("{} of {}", own.n_metrics, own.n_applicable),
            });
        }
        if let Some(all) = f.index(&org.ods_code, p, "all") {
            maturity = num(all.domain_index);
            coverage = format!("{:.0}%", all.coverage() * 100.0);
        }
    }
    gaps.sort_by(|a, b| b.0.total_cmp(&a.0));
    // The scorecard in catalogue order, or sorted by a column.
    let sort = query.sort.as_deref().unwrap_or("order");
    match sort {
        "metric" => metrics.sort_by(|a, b| a.name.cmp(&b.name)),
        "quartile" => metrics.sort_by_key(|m| m.quartile),
        "percentile" => metrics.sort_by(|a, b| b.percentile.total_cmp(&a.percentile)),
        "score" => metrics.sort_by(|a, b| a.score.total_cmp(&b.score)),
        _ => {}
    }
    if query.descending() {
        metrics.reverse();
    }
    let headers = super::view::sort_headers(
        &format!("/trusts/{}", org.ods_code),
        &[("period", period.map(|p| p.to_string()))],
        Some(sort),
        query.descending(),
        &[
            ("metric", "Metric", false),
            ("score", "Score (0–100)", true),
            ("quartile", "Quartile", false),
            ("percentile", "Rank", true),
        ],
    );
    let period_label = period.map_or("no data yet".into(), |p| p.financial_label());
    let spine_chart = spine_chart(&SpineChart {
        id: "spine".into(),
        title: format!(
            "{}: each metric against {} peers, {period_label}",
            org.name,
            org.trust_type.label().to_lowercase()
        ),
        rows,
    })?;
    let current = crate::conformance::Current::on(&f.conformance, today);
    let own = crate::conformance::trust_conformance(&f.reference, &current, &org.ods_code, today);
    let peer_rates = crate::analytics::sorted(
        f.reference
            .organisations
            .iter()
            .filter(|o| o.trust_type == org.trust_type)
            .filter_map(|o| crate::conformance::trust_conformance(&f.reference, &current, &o.ods_code, today).rate())
            .collect(),
    );
    let org_results = f
        .reference
        .standards
        .iter()
        .filter(|s| s.assessed_at == crate::domain::AssessedAt::Organisation)
        .map(|s| match current.get(&org.ods_code, &s.standard_id) {
            Some(r) => (s.standard_id.clone(), r.result.clone(), r.assessed_on.clone()),
            None => (s.standard_id.clone(), "no result".into(), String::new()),
        })
        .collect();
    let systems = f
        .reference
        .deployments
        .iter()
        .filter(|d| d.ods_code == org.ods_code)
        .filter_map(|d| {
            let s = f.reference.systems.iter().find(|s| s.system_id == d.system_id)?;
            let st = crate::conformance::system_status(&f.reference, &current, &s.system_id, today);
            Some(SystemRow {
                system_id: s.system_id.clone(),
                procurable: st.procurable,
                failing: st.failing.join(", "),
                function: d.function.clone(),
                product: s.product.clone(),
                supplier: s.supplier.clone(),
                version: s.version.clone(),
            })
        })
        .collect();
    let name_of = |id: &str| f.reference.metric(id).map_or(id.to_string(), |m| m.name.clone());
    let targets = f
        .targets
        .iter()
        .filter(|t| t.org_code == org.ods_code)
        .map(|t| {
            let (latest, baseline, progress) = f.progress(t);
            TargetRow {
                metric_id: t.metric_id.clone(),
                name: name_of(&t.metric_id),
                quarter: t.period.financial_label(),
                target: num(Some(t.target)),
                set_in: t.set_in.financial_label(),
                baseline: num(baseline),
                latest: num(latest),
                progress: progress.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_default(),
            }
        })
        .collect();
    let flags = f
        .quality()
        .filter(|q| *q.org_code == *org.ods_code && Some(q.period) == period)
        .map(|q| FlagRow {
            metric_id: q.metric_id.to_string(),
            name: name_of(&q.metric_id),
            rule: q.rule.into(),
            detail: q.detail.to_string(),
        })
        .collect();
    let (maturity_chart, maturity_history) = maturity_over_time(f, &org)?;
    let changed = period.and_then(|p| what_changed(f, &org, p));
    let peer_list = period.map(|p| f.peers(p, Some(&org.ods_code))).unwrap_or_default();
    if let Some(p) = period {
        for (_, g) in gaps.iter_mut() {
            g.closed_by = f
                .closed_gap(&peer_list, &g.metric_id, p)
                .into_iter()
                .map(|x| {
                    let name = f.reference.organisation(&x.peer_code).map_or(x.peer_code.clone(), |o| o.name.clone());
                    (x.peer_code.clone(), name)
                })
                .collect();
        }
    }
    let peers = peer_list
        .into_iter()
        .map(|p| PeerLine {
            rank: p.rank,
            href: format!("/trusts/{}?period={}", p.peer_code, period.map(|q| q.to_string()).unwrap_or_default()),
            name: f.reference.organisation(&p.peer_code).map_or(p.peer_code.clone(), |o| o.name.clone()),
            distance: format!("{:.2}", p.distance),
            reasons: p.reasons,
        })
        .collect();
    Ok(TrustPage {
        peers,
        headers,
        findings: Vec::new(),
        record_href: String::new(),
        record_what: "trust",
        maturity_chart,
        maturity_history,
        changed,
        last_submission: None,
        conformance_rate: own.rate().map(|r| format!("{:.0}%", r * 100.0)).unwrap_or_default(),
        conformance_detail: format!("{} of {} required results are current passes", own.passed, own.required),
        peer_rate: crate::analytics::quantile(&peer_rates, 0.5)
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_default(),
        org_results,
        targets,
        history: Vec::new(),
        flags,
        flag_rules: crate::figures::quality::rules_text(),
        meta: Meta::of(f),
        type_label: org.trust_type.label().into(),
        exemplar_label: org.exemplar.label().into(),
        period_value: period.map(|p| p.to_string()).unwrap_or_default(),
        period_label,
        periods: period_choices(f, period),
        maturity,
        coverage,
        spine_chart,
        metrics,
        domains,
        systems,
        gaps: gaps.into_iter().map(|g| g.1).collect(),
        org,
    })
}

/// One point of a trust's series of a metric.
pub struct PointRow {
    pub quarter: String,
    pub value: String,
    pub counts: String,
    pub interval: String,
    pub vs_england: crate::analytics::uncertainty::Comparison,
    pub special_cause: &'static str,
    pub point_type: &'static str,
}

/// A trust's history of one metric: its Making Data Count chart and each quarter's value with
/// its counts, interval and significance.
#[derive(Template)]
#[template(path = "trust_metric.html")]
pub struct HistoryPage {
    pub meta: Meta,
    pub org: Organisation,
    pub metric: crate::domain::Metric,
    pub unit_label: String,
    pub chart: String,
    pub points: Vec<PointRow>,
    pub variation: &'static str,
    pub variation_words: &'static str,
    pub assurance: &'static str,
    pub target: String,
    pub run_chart: bool,
    pub mean: String,
    pub limits: String,
}

async fn history_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path((code, metric_id)): Path<(String, String)>,
    Params(_query): Params,
) -> Result<super::Page> {
    let f = state.shown_figures(&auth.shown).await?;
    let org = organisation(&f, &code)?;
    let metric = super::metric::metric_of(&f, &metric_id)?;
    if !metric.applies(org.trust_type) {
        return Err(AppError::NotFound(format!(
            "{} does not apply to {} trusts like {}.",
            metric.name,
            org.trust_type.label().to_lowercase(),
            org.name
        )));
    }
    let key = super::page_key(&state, &auth, f.data_version, "", &uri);
    cached_page(&state, &auth, key, move || history(&f, org, metric)).await
}

fn history(f: &Figures, org: Organisation, metric: crate::domain::Metric) -> Result<HistoryPage> {
    use crate::analytics::spc::PointType;
    let unit_label = super::metric::unit_label(&metric);
    let spc = f.spc(&org.ods_code, &metric.metric_id);
    let target = f.latest_target(&org.ods_code, &metric.metric_id);
    let (periods, chart) = match spc {
        Some((periods, chart)) => (periods, Some(chart)),
        None => (Vec::new(), None),
    };
    let svg = crate::charts::spc_chart(&crate::charts::SpcChart {
        id: "spc".into(),
        title: format!("{}: {} by quarter, Making Data Count chart", org.name, metric.name),
        y_label: unit_label.clone(),
        points: periods
            .iter()
            .zip(chart.iter().flat_map(|c| c.points.iter()))
            .map(|(p, point)| crate::charts::SpcPoint {
                when: crate::charts::When::Quarter(*p),
                value: point.value,
                point_type: point.point_type.into(),
            })
            .collect(),
        mean: chart.as_ref().map_or(0.0, |c| c.mean),
        limits: chart.as_ref().and_then(|c| c.limits),
        target,
        scale: (metric.scale_min, metric.scale_max),
    })?;
    let points = periods
        .iter()
        .zip(chart.iter().flat_map(|c| c.points.iter()))
        .map(|(p, point)| {
            let q = *p;
            let interval = f.interval(&org.ods_code, &metric.metric_id, q);
            PointRow {
                quarter: q.financial_label(),
                value: num(Some(point.value)),
                counts: interval
                    .and_then(|i| i.counts)
                    .map_or(String::new(), |c| format!("{} of {}", c.numerator, c.denominator)),
                interval: super::view::interval_text(interval.and_then(|i| i.ci95), metric.is_proportion()),
                vs_england: interval
                    .map_or(crate::analytics::uncertainty::Comparison::NotCompared, |i| i.vs_england_95),
                special_cause: match point.rule {
                    crate::analytics::spc::Rule::OutsideLimits => "A point outside the process limits",
                    crate::analytics::spc::Rule::Trend => "Seven points in a row rising or falling",
                    crate::analytics::spc::Rule::TwoInThree => "Two of three points close to a limit",
                    crate::analytics::spc::Rule::Shift => "Seven points in a row on one side of the mean",
                    crate::analytics::spc::Rule::None => "",
                },
                point_type: match point.point_type {
                    PointType::Improvement => "Special cause improvement",
                    PointType::Concern => "Special cause concern",
                    PointType::CommonCause => "Common cause",
                },
            }
        })
        .collect::<Vec<_>>();
    let points = points.into_iter().rev().collect();
    let icon = chart.as_ref().map_or("common_cause", |c| c.variation_icon);
    Ok(HistoryPage {
        meta: Meta::of(f),
        unit_label,
        chart: svg,
        points,
        variation: icon,
        variation_words: crate::analytics::spc::variation_words(icon),
        assurance: crate::analytics::spc::assurance_words(chart.as_ref().and_then(|c| c.assurance_icon)),
        target: num(target),
        run_chart: chart.as_ref().is_none_or(|c| c.limits.is_none()),
        mean: num(chart.as_ref().map(|c| c.mean)),
        limits: chart
            .as_ref()
            .and_then(|c| c.limits)
            .map_or(String::new(), |(l, u)| format!("{} to {}", num(Some(l)), num(Some(u)))),
        org,
        metric,
    })
}
