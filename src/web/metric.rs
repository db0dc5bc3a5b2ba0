//! A metric: its definition, distribution across peers, trend of the peer quartiles and the
//! ranked table of trusts.

use super::cached_page;
use super::view::Params;
use super::view::{Choice, Meta, PageQuery, num, period_choices, type_choices};
use crate::analytics::{BenchmarkRow, TrustBenchmarkRow};
use crate::auth::Auth;
use crate::charts::{StripChart, StripGroup, TrendChart, TrendSeries, strip_chart, trend_chart};
use crate::domain::{Metric, Quarter, TrustType};
use crate::figures::Figures;
use crate::figures::groups::GroupFigures;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use std::sync::Arc;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics/{metric_id}", get(metric_page))
}

pub struct PeerRow {
    pub peer_group: String,
    pub n: i64,
    pub min: String,
    pub p25: String,
    pub median: String,
    pub p75: String,
    pub max: String,
    pub exemplar_n: i64,
    pub exemplar_median: String,
    pub national_median: String,
}

pub struct QuarterRow {
    pub quarter: String,
    pub p25: String,
    pub median: String,
    pub p75: String,
    pub exemplar_median: String,
}

/// A trust outside a funnel's limits.
pub struct OutlierRow {
    pub org_code: String,
    pub name: String,
    pub exemplar: bool,
    pub numerator: u32,
    pub denominator: u32,
    pub value: String,
    pub limits: String,
    pub position: &'static str,
}

pub struct RankRow {
    pub value_number: f64,
    pub gap_value: Option<f64>,
    pub org_code: String,
    pub name: String,
    pub exemplar: bool,
    pub value: String,
    pub rank: i64,
    pub quartile: i64,
    pub gap: String,
    pub trend: String,
}

#[derive(Template)]
#[template(path = "metric.html")]
pub struct MetricPage {
    pub meta: Meta,
    pub metric: Metric,
    pub domain: String,
    pub applies_to: String,
    pub period_label: String,
    pub period_value: String,
    pub periods: Vec<Choice>,
    pub peer_groups: Vec<Choice>,
    /// The peer group's trusts in words: `acute trusts`, or `trusts of the peer group ‘North peers’`.
    pub peer_trusts: String,
    /// The export query of a chosen saved group's benchmarks (empty for a trust type).
    pub saved_query: String,
    pub distribution_chart: String,
    pub peers: Vec<PeerRow>,
    pub trend_chart: String,
    pub quarters: Vec<QuarterRow>,
    pub ranks: Vec<RankRow>,
    pub csv_query: String,
    pub flags: Vec<(String, String, String, String)>,
    pub flag_rules: String,
    pub findings: Vec<super::findings::FindingView>,
    /// The link that opens the findings form pre-filled for this page (shown to the board).
    pub record_href: String,
    pub record_what: &'static str,
    pub regions: Vec<Choice>,
    pub cohorts: Vec<Choice>,
    pub headers: Vec<super::view::SortHeader>,
    /// The funnel plot (empty for a metric that is not a proportion), and the trusts outside
    /// its 95 % limits, high then low.
    pub funnel_chart: String,
    pub outliers: Vec<(&'static str, Vec<OutlierRow>)>,
    pub funnel_trusts: usize,
    /// The ten trusts of the peer group that improved most over the last four quarters.
    pub improvers: Vec<ImproverRow>,
    pub improved_since: String,
}

/// A trust among the most improved on a metric (docs/RULES.md §10.3).
pub struct ImproverRow {
    pub org_code: String,
    pub name: String,
    pub from: String,
    pub to: String,
    pub points: String,
    pub significant: &'static str,
    /// Its published blueprint about the metric: (id, title).
    pub blueprint: Option<(i64, String)>,
}

/// The metric an address names, or a 404.
pub fn metric_of(f: &Figures, metric_id: &str) -> Result<Metric> {
    f.reference
        .metric(metric_id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("There is no metric '{metric_id}'.")))
}

async fn metric_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path(metric_id): Path<String>,
    Params(query): Params,
) -> Result<super::Page> {
    let f = state.shown_figures(&auth.shown).await?;
    let metric = metric_of(&f, &metric_id)?;
    let period = query.period(&f)?;
    let groups = super::peer_groups::visible(&state, &auth).await?;
    let chosen = super::peer_groups::chosen(&groups, &query)?;
    let peer = if chosen.is_some() { None } else { query.peer_group()? };
    let findings = state.findings().await?;
    let findings = super::findings::views(
        &state,
        findings.iter().filter(|x| x.subject_kind == "metric" && x.subject == metric_id).cloned().collect(),
    )
    .await?;
    let (blueprints, stamp) = super::blueprints::published(&state).await?;
    let stamp = format!("{}/{stamp}", super::findings::stamp(&findings));
    let stamp = format!("{stamp}/{}", super::peer_groups::stamp(&groups));
    let key = super::page_key(&state, &auth, f.data_version, &stamp, &uri);
    cached_page(&state, &auth, key, move || {
        let saved = match &chosen {
            Some(g) => Some((g.name.clone(), f.group(&g.key(), &g.members)?)),
            None => None,
        };
        let mut page = build(&f, metric, period, peer, saved, &groups, &query)?;
        for i in page.improvers.iter_mut() {
            i.blueprint = super::blueprints::about(&blueprints, &i.org_code, &page.metric.metric_id);
        }
        page.findings = findings;
        page.record_href = super::findings::record_link(&format!("metric:{}", page.metric.metric_id), period);
        Ok(page)
    })
    .await
}

/// The funnel plot of a proportion metric in a quarter, with the trusts beyond its 95 % limits.
fn funnel(
    f: &Figures,
    metric: &Metric,
    period: Option<Quarter>,
    unit_label: &str,
) -> Result<(String, Vec<OutlierRow>, Vec<OutlierRow>, usize)> {
    use crate::analytics::uncertainty::Position;
    let Some(period) = period.filter(|_| metric.is_proportion()) else {
        return Ok((String::new(), Vec::new(), Vec::new(), 0));
    };
    let rows: Vec<_> = f
        .statistics(period)
        .map(|s| s.funnels.iter().filter(|x| *x.metric_id == *metric.metric_id).collect())
        .unwrap_or_default();
    let exemplar = |code: &str| f.reference.organisation(code).is_some_and(|o| o.exemplar.is_exemplar());
    let pooled = rows.first().map_or(0.0, |x| x.pooled_value / 100.0);
    let largest = rows.iter().map(|x| f64::from(x.counts.denominator)).fold(10.0, f64::max);
    let count = |p: &[Position]| rows.iter().filter(|x| p.contains(&x.point.position)).count();
    let chart = crate::charts::funnel_chart(&crate::charts::FunnelChart {
        id: "funnel".into(),
        words: crate::charts::TRUSTS,
        title: format!("{}: funnel plot, {}", metric.name, period.financial_label()),
        y_label: unit_label.to_string(),
        pooled: 100.0 * pooled,
        points: rows
            .iter()
            .map(|x| crate::charts::FunnelPoint {
                denominator: f64::from(x.counts.denominator),
                value: x.value,
                beyond: matches!(x.point.position, Position::Above998 | Position::Below998),
                exemplar: exemplar(&x.org_code),
            })
            .collect(),
        limits: crate::analytics::uncertainty::funnel_lines(pooled, largest),
        summary: format!(
            "{} above the 99.8% limit, {} between the 95% and 99.8% limits above, {} within the 95% limits, {} between the limits below, {} below the 99.8% limit.",
            count(&[Position::Above998]),
            count(&[Position::Above95]),
            count(&[Position::Within]),
            count(&[Position::Below95]),
            count(&[Position::Below998])
        ),
    })?;
    let outlier = |x: &&crate::figures::statistics::FunnelRow| OutlierRow {
        org_code: x.org_code.to_string(),
        name: f.reference.organisation(&x.org_code).map_or(x.org_code.to_string(), |o| o.name.clone()),
        exemplar: exemplar(&x.org_code),
        numerator: x.counts.numerator,
        denominator: x.counts.denominator,
        value: num(Some(x.value)),
        limits: format!(
            "{} to {} (99.8%: {} to {})",
            num(Some(x.point.lower_95)),
            num(Some(x.point.upper_95)),
            num(Some(x.point.lower_998)),
            num(Some(x.point.upper_998))
        ),
        position: match x.point.position {
            Position::Above998 => "Above the 99.8% limit",
            Position::Above95 => "Above the 95% limit",
            Position::Below95 => "Below the 95% limit",
            Position::Below998 => "Below the 99.8% limit",
            Position::Within => "Within the limits",
        },
    };
    let mut high: Vec<_> =
        rows.iter().filter(|x| matches!(x.point.position, Position::Above95 | Position::Above998)).collect();
    let mut low: Vec<_> =
        rows.iter().filter(|x| matches!(x.point.position, Position::Below95 | Position::Below998)).collect();
    high.sort_by(|a, b| b.value.total_cmp(&a.value));
    low.sort_by(|a, b| a.value.total_cmp(&b.value));
    Ok((chart, high.into_iter().map(outlier).collect(), low.into_iter().map(outlier).collect(), rows.len()))
}

/// A peer group's label, benchmark and values (with whether each is an exemplar's) in a quarter.
type Distribution<'a> = (String, Option<&'a BenchmarkRow>, Vec<(f64, bool)>);

/// The peer group a metric's page ranks within: a trust type, or a saved group (its name and
/// figures).
struct Peer<'a> {
    of_type: TrustType,
    saved: Option<(String, Arc<GroupFigures>)>,
    f: &'a Figures,
}

impl Peer<'_> {
    fn benchmark(&self, metric_id: &str, period: Quarter) -> Option<&BenchmarkRow> {
        match &self.saved {
            Some((_, g)) => g.benchmark(metric_id, period),
            None => self.f.benchmark(metric_id, period, self.of_type.as_str()),
        }
    }

    /// The trusts' positions within the group on a metric in a quarter.
    fn positions(&self, metric_id: &str, period: Quarter) -> Vec<TrustBenchmarkRow> {
        let mine = |r: &&TrustBenchmarkRow| *r.metric_id == *metric_id && r.period == period;
        match &self.saved {
            Some((_, g)) => g.trust_benchmarks.iter().filter(mine).cloned().collect(),
            None => self.f.positions_on(metric_id, period, Some(self.of_type.as_str())).collect(),
        }
    }

    fn contains(&self, org_code: &str, trust_type: &str) -> bool {
        match &self.saved {
            Some((_, g)) => g.contains(org_code),
            None => trust_type == self.of_type.as_str(),
        }
    }

    /// The value of `peer_group` that chooses it.
    fn value(&self) -> String {
        match &self.saved {
            Some((_, g)) => g.key.clone(),
            None => self.of_type.as_str().to_string(),
        }
    }

    fn trusts(&self) -> String {
        match &self.saved {
            Some((name, _)) => format!("trusts of the peer group ‘{name}’"),
            None => format!("{} trusts", self.of_type.label().to_lowercase()),
        }
    }
}

fn build(
    f: &Figures,
    metric: Metric,
    period: Option<Quarter>,
    peer: Option<TrustType>,
    saved: Option<(String, Arc<GroupFigures>)>,
    saved_groups: &[crate::store::PeerGroup],
    query: &PageQuery,
) -> Result<MetricPage> {
    let region = query.region()?;
    let cohort = query.exemplar()?;
    let applicable: Vec<TrustType> = TrustType::ALL.iter().copied().filter(|t| metric.applies(*t)).collect();
    let of_type =
        peer.filter(|p| applicable.contains(p)).or_else(|| applicable.first().copied()).unwrap_or(TrustType::Acute);
    let peer = Peer { of_type, saved, f };
    let unit_label = unit_label(&metric);
    let (mut groups, mut peers, mut ranks) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(period) = period {
        let exemplar = |code: &str| f.reference.organisation(code).is_some_and(|o| o.exemplar.is_exemplar());
        // Each trust type's distribution, then the saved group's.
        let mut kinds: Vec<Distribution> = applicable
            .iter()
            .map(|t| {
                let points = f
                    .positions_on(&metric.metric_id, period, Some(t.as_str()))
                    .map(|r| (r.value, exemplar(&r.org_code)))
                    .collect();
                (t.label().to_string(), f.benchmark(&metric.metric_id, period, t.as_str()), points)
            })
            .collect();
        if let Some((name, _)) = &peer.saved {
            let points =
                peer.positions(&metric.metric_id, period).iter().map(|r| (r.value, exemplar(&r.org_code))).collect();
            kinds.push((name.clone(), peer.benchmark(&metric.metric_id, period), points));
        }
        for (label, b, points) in kinds {
            let Some(b) = b else { continue };
            groups.push(StripGroup {
                label: axis_label(&label),
                points,
                p25: b.p25,
                median: b.median,
                p75: b.p75,
                exemplar_median: b.exemplar_median,
            });
            peers.push(PeerRow {
                peer_group: label,
                n: b.n,
                min: num(Some(b.min)),
                p25: num(Some(b.p25)),
                median: num(Some(b.median)),
                p75: num(Some(b.p75)),
                max: num(Some(b.max)),
                exemplar_n: b.exemplar_n,
                exemplar_median: num(b.exemplar_median),
                national_median: num(Some(b.national_median)),
            });
        }
        for r in peer.positions(&metric.metric_id, period) {
            let org = f.reference.organisation(&r.org_code);
            if region.as_deref().is_some_and(|x| org.is_none_or(|o| o.region != x))
                || cohort.is_some_and(|c| org.is_none_or(|o| o.exemplar != c))
            {
                continue;
            }
            ranks.push(RankRow {
                gap_value: r.gap_to_exemplar,
                value_number: r.value,
                org_code: r.org_code.to_string(),
                name: org.map_or(r.org_code.to_string(), |o| o.name.clone()),
                exemplar: org.is_some_and(|o| o.exemplar.is_exemplar()),
                value: num(Some(r.value)),
                rank: r.rank,
                quartile: r.quartile,
                gap: num(r.gap_to_exemplar),
                trend: f
                    .trend(&r.org_code, &metric.metric_id, period)
                    .and_then(|t| t.trend.as_deref().map(str::to_string))
                    .unwrap_or_default(),
            });
        }
        match query.sort.as_deref() {
            Some("name") => ranks.sort_by(|a, b| a.name.cmp(&b.name)),
            Some("value") => ranks.sort_by(|a, b| a.value_number.total_cmp(&b.value_number)),
            Some("gap") => {
                ranks.sort_by(|a, b| a.gap_value.unwrap_or(f64::MIN).total_cmp(&b.gap_value.unwrap_or(f64::MIN)))
            }
            Some("quartile") => ranks.sort_by_key(|r| (r.quartile, r.rank)),
            _ => ranks.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.name.cmp(&b.name))),
        }
        if query.descending() {
            ranks.reverse();
        }
    }
    let period_label = period.map_or("no data yet".into(), |p| p.financial_label());
    let national = period.and_then(|p| {
        applicable.iter().find_map(|t| f.benchmark(&metric.metric_id, p, t.as_str())).map(|b| b.national_median)
    });
    // A yes/no metric is the share of trusts saying yes, not a strip of 0s and 1s.
    let distribution_chart = if metric.unit == crate::domain::Unit::Boolean {
        let share = |points: &[(f64, bool)], exemplar: Option<bool>| {
            let kept: Vec<f64> =
                points.iter().filter(|(_, e)| exemplar.is_none_or(|x| x == *e)).map(|(v, _)| *v).collect();
            (!kept.is_empty()).then(|| 100.0 * kept.iter().filter(|v| **v >= 0.5).count() as f64 / kept.len() as f64)
        };
        crate::charts::bar_chart(&crate::charts::BarChart {
            id: "distribution".into(),
            title: format!("{}: share of trusts saying yes, {period_label}", metric.name),
            y_label: "Trusts saying yes (%)".into(),
            y_range: (0.0, 100.0),
            categories: groups.iter().map(|g| g.label.clone()).collect(),
            series: vec![
                ("Exemplar trusts".into(), groups.iter().map(|g| share(&g.points, Some(true))).collect()),
                ("Other trusts".into(), groups.iter().map(|g| share(&g.points, Some(false))).collect()),
                ("All trusts".into(), groups.iter().map(|g| share(&g.points, None)).collect()),
            ],
        })?
    } else {
        strip_chart(&StripChart {
            id: "distribution".into(),
            title: format!("{} across peer groups, {period_label}", metric.name),
            y_label: unit_label.clone(),
            y_range: (metric.scale_min, metric.scale_max),
            groups,
            reference_line: national.map(|v| (v, "National median".to_string())),
        })?
    };
    let mut quarters = Vec::new();
    let mut series: Vec<TrendSeries> = ["Lower quartile", "Median", "Upper quartile", "Exemplar median"]
        .iter()
        .map(|l| TrendSeries { label: (*l).into(), points: Vec::new() })
        .collect();
    for q in &f.periods {
        if let Some(b) = peer.benchmark(&metric.metric_id, *q) {
            for (k, v) in [Some(b.p25), Some(b.median), Some(b.p75), b.exemplar_median].into_iter().enumerate() {
                if let Some(v) = v {
                    series[k].points.push((*q, v));
                }
            }
            quarters.push(QuarterRow {
                quarter: q.financial_label(),
                p25: num(Some(b.p25)),
                median: num(Some(b.median)),
                p75: num(Some(b.p75)),
                exemplar_median: num(b.exemplar_median),
            });
        }
    }
    let trend_chart = trend_chart(&TrendChart {
        id: "peer-trend".into(),
        title: format!("{}: quartiles and exemplar median of {} by quarter", metric.name, peer.trusts()),
        y_label: unit_label.clone(),
        y_range: (metric.scale_min, metric.scale_max),
        series,
    })?;
    let (funnel_chart, outliers_high, outliers_low, funnel_trusts) = funnel(f, &metric, period, &unit_label)?;
    let csv_query = super::view::query_string(&[
        ("metric_id", Some(metric.metric_id.clone())),
        ("period", period.map(|p| p.to_string())),
        ("peer_group", Some(peer.value())),
        ("region", region.clone()),
    ]);
    let flags = f
        .quality()
        .filter(|q| *q.metric_id == *metric.metric_id && Some(q.period) == period)
        .map(|q| {
            let name = f.reference.organisation(&q.org_code).map_or(q.org_code.to_string(), |o| o.name.clone());
            (q.org_code.to_string(), name, q.rule.to_string(), q.detail.to_string())
        })
        .collect();
    let filters = [
        ("period", period.map(|p| p.to_string())),
        ("peer_group", Some(peer.value())),
        ("region", region.clone()),
        ("exemplar", cohort.map(|c| c.as_str().to_string())),
    ];
    let headers = super::view::sort_headers(
        &format!("/metrics/{}", metric.metric_id),
        &filters,
        Some(query.sort.as_deref().unwrap_or("rank")),
        query.descending(),
        &[
            ("rank", "Rank", true),
            ("name", "Trust", false),
            ("value", "Value", true),
            ("quartile", "Quartile", false),
            ("gap", "Gap to exemplar", true),
        ],
    );
    let improvers = period
        .map(|p| f.improvers(&metric.metric_id, p))
        .unwrap_or_default()
        .into_iter()
        .filter(|i| peer.contains(&i.org_code, &i.trust_type))
        .take(10)
        .map(|i| ImproverRow {
            name: f.reference.organisation(&i.org_code).map_or(i.org_code.clone(), |o| o.name.clone()),
            org_code: i.org_code,
            from: num(Some(i.value_from)),
            to: num(Some(i.value_to)),
            points: format!("+{:.1}", i.improvement),
            significant: match i.significant {
                Some(true) => "yes (95 %)",
                Some(false) => "no",
                None => "not tested (no counts)",
            },
            blueprint: None,
        })
        .collect();
    let improved_since = period.map(|p| (p + -4).financial_label()).unwrap_or_default();
    Ok(MetricPage {
        improvers,
        improved_since,
        regions: super::view::region_choices(region.as_deref()),
        cohorts: super::view::exemplar_choices(cohort),
        headers,
        funnel_chart,
        outliers: vec![("Above the limits", outliers_high), ("Below the limits", outliers_low)],
        funnel_trusts,
        findings: Vec::new(),
        record_href: String::new(),
        record_what: "metric",
        flags,
        flag_rules: crate::figures::quality::rules_text(),
        meta: Meta::of(f),
        domain: f.reference.domain(&metric.domain).map_or(metric.domain.clone(), |d| d.name.clone()),
        applies_to: if metric.applies_to.is_empty() {
            "all trust types".into()
        } else {
            metric.applies_to.iter().map(|t| t.label().to_lowercase()).collect::<Vec<_>>().join(", ")
        },
        period_value: period.map(|p| p.to_string()).unwrap_or_default(),
        period_label,
        periods: period_choices(f, period),
        peer_groups: type_choices(peer.saved.is_none().then_some(peer.of_type))
            .into_iter()
            .filter(|c| applicable.iter().any(|t| t.as_str() == c.value))
            .chain(super::peer_groups::choices(saved_groups, peer.saved.as_ref().map(|(_, g)| g.key.as_str())))
            .collect(),
        peer_trusts: peer.trusts(),
        saved_query: match &peer.saved {
            Some((_, g)) => super::view::query_string(&[
                ("metric_id", Some(metric.metric_id.clone())),
                ("peer_group", Some(g.key.clone())),
            ]),
            None => String::new(),
        },
        distribution_chart,
        peers,
        trend_chart,
        quarters,
        ranks,
        csv_query,
        metric,
    })
}

/// A peer group's name short enough for its place under the distribution chart (the table
/// beside it has the whole name).
fn axis_label(name: &str) -> String {
    const LONGEST: usize = 18;
    if name.chars().count() <= LONGEST {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(LONGEST - 1).collect::<String>().trim_end())
    }
}

/// The axis label for a metric's values.
pub fn unit_label(m: &Metric) -> String {
    use crate::domain::Unit;
    let unit = match m.unit {
        Unit::Score => format!("score ({} to {})", m.scale_min, m.scale_max),
        Unit::Percent => "per cent".into(),
        Unit::Count => "count".into(),
        Unit::Days => "days".into(),
        Unit::Boolean => "yes (1) or no (0)".into(),
        Unit::Gbp => "£".into(),
    };
    let better = match m.direction {
        crate::domain::Direction::HigherBetter => "higher is better",
        crate::domain::Direction::LowerBetter => "lower is better",
    };
    format!("{}, {unit}, {better}", m.name)
}
