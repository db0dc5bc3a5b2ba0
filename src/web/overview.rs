//! The overview: maturity by trust type, domains for exemplars against the rest, the national
//! trend and the largest best-practice gaps.

use super::cached_page;
use super::view::Params;
use super::view::{Choice, Meta, num, period_choices};
use crate::auth::Auth;
use crate::charts::{StripChart, StripGroup, TrendChart, TrendSeries, strip_chart, trend_chart};
use crate::domain::{Quarter, TrustType};
use crate::figures::Figures;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(overview))
}

pub struct TypeRow {
    pub label: String,
    pub n: usize,
    pub p25: String,
    pub median: String,
    pub p75: String,
    pub exemplar_median: String,
    /// The exemplar median rests on fewer than five trusts (said beside it).
    pub exemplar_thin: bool,
    pub others_median: String,
}

/// Exemplar trusts below this many make a median to read with care (said on the page).
pub const FEW_EXEMPLARS: i64 = 5;

/// Is the exemplar trusts' gap to the rest closing? England's median domain index of the exemplar
/// trusts minus that of the rest, each quarter and domain.
pub struct ExemplarGap {
    pub chart: String,
    /// The domains' names, the table's columns.
    pub headers: Vec<String>,
    pub rows: Vec<TrendRow>,
    /// Some difference rests on fewer than five exemplar trusts (marked "few").
    pub thin: bool,
}

pub fn exemplar_gap(f: &Figures) -> Result<ExemplarGap> {
    let mut rows: Vec<TrendRow> =
        f.periods.iter().map(|q| TrendRow { quarter: q.financial_label(), values: Vec::new() }).collect();
    let mut series = Vec::new();
    let mut thin = false;
    let (mut lo, mut hi) = (0.0f64, 10.0f64);
    for d in &f.reference.domains {
        let mut points = Vec::new();
        for (k, q) in f.periods.iter().enumerate() {
            let of = |group: &str| f.summary(*q, "england", &d.domain_id, group);
            let (e, o) = (of("exemplar"), of("others"));
            let difference = e.and_then(|e| e.median).zip(o.and_then(|o| o.median)).map(|(e, o)| e - o);
            let few = e.is_some_and(|e| e.n < FEW_EXEMPLARS);
            thin |= few && difference.is_some();
            rows[k].values.push(match difference {
                Some(v) if few => format!("{} (few)", num(Some(v))),
                v => num(v),
            });
            if let Some(v) = difference {
                lo = lo.min(v);
                hi = hi.max(v);
                points.push((*q, v));
            }
        }
        series.push(TrendSeries { label: d.name.clone(), points });
    }
    let pad = (hi - lo).max(1.0) * 0.08;
    let chart = trend_chart(&TrendChart {
        id: "exemplar-gap".into(),
        title: "Exemplar trusts' median domain index minus the rest's, England, by quarter".into(),
        y_label: "Difference (index points)".into(),
        y_range: ((lo - pad).floor(), (hi + pad).ceil()),
        series,
    })?;
    Ok(ExemplarGap { chart, headers: f.reference.domains.iter().map(|d| d.name.clone()).collect(), rows, thin })
}

pub struct DomainRow {
    pub name: String,
    pub exemplar: String,
    pub others: String,
    pub difference: String,
}

pub struct TrendRow {
    pub quarter: String,
    pub values: Vec<String>,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub meta: Meta,
    /// The board's findings not yet done, newest first (signed-in readers only).
    pub findings: Vec<super::findings::FindingView>,
    pub period_label: String,
    pub period_value: String,
    pub periods: Vec<Choice>,
    pub maturity_chart: String,
    pub types: Vec<TypeRow>,
    pub domains: Vec<DomainRow>,
    pub domain_chart: String,
    pub trend_chart: String,
    pub trend_headers: Vec<String>,
    pub trend: Vec<TrendRow>,
    /// The largest gaps by the gaps page's priority.
    pub gaps: Vec<super::gaps::GapLine>,
    /// The same gaps rolled up by region and by ICB.
    pub areas: Vec<super::gaps::AreaTable>,
    pub exemplar_gap: Option<ExemplarGap>,
    /// Some exemplar median in the trust-type table rests on fewer than five trusts.
    pub exemplars_thin: bool,
}

async fn overview(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Params(query): Params,
) -> Result<super::Page> {
    // The figures the reader is shown (the banner says which).
    let f = state.shown_figures(&auth.shown).await?;
    let period = query.period(&f)?;
    // What the board has recommended and where it stands: for signed-in readers, not visitors.
    let findings = match auth.user {
        Some(_) => {
            super::findings::views(
                &state,
                state.findings().await?.iter().filter(|x| x.is_live()).take(10).cloned().collect(),
            )
            .await?
        }
        None => Vec::new(),
    };
    let key = super::page_key(&state, &auth, f.data_version, &super::findings::stamp(&findings), &uri);
    cached_page(&state, &auth, key, move || {
        let mut page = build(&f, period)?;
        page.findings = findings;
        Ok(page)
    })
    .await
}

fn maturity_at(f: &Figures, period: Quarter, t: TrustType) -> Vec<(f64, bool)> {
    f.indices_in(period)
        .filter(|i| &*i.domain == "all" && &*i.trust_type == t.as_str())
        .filter_map(|i| {
            let v = i.domain_index?;
            Some((v, f.reference.organisation(&i.org_code).is_some_and(|o| o.exemplar.is_exemplar())))
        })
        .collect()
}

fn build(f: &Figures, period: Option<Quarter>) -> Result<OverviewPage> {
    let meta = Meta::of(f);
    let periods = period_choices(f, period);
    let Some(period) = period else {
        return Ok(OverviewPage {
            meta,
            findings: Vec::new(),
            period_label: "no data yet".into(),
            period_value: String::new(),
            periods,
            maturity_chart: crate::charts::no_data(
                "maturity",
                "Maturity index by trust type",
                "No values have been submitted yet.",
            )?,
            types: Vec::new(),
            domains: Vec::new(),
            domain_chart: String::new(),
            trend_chart: String::new(),
            trend_headers: Vec::new(),
            trend: Vec::new(),
            gaps: Vec::new(),
            areas: Vec::new(),
            exemplar_gap: None,
            exemplars_thin: false,
        });
    };
    let mut groups = Vec::new();
    let mut types = Vec::new();
    for t in TrustType::ALL {
        let points = maturity_at(f, period, *t);
        let of = |group: &str| f.summary(period, t.as_str(), "all", group);
        let median = |group: &str| of(group).and_then(|s| s.median);
        let all = of("all");
        types.push(TypeRow {
            label: t.label().into(),
            n: points.len(),
            p25: num(all.and_then(|s| s.p25)),
            median: num(all.and_then(|s| s.median)),
            p75: num(all.and_then(|s| s.p75)),
            exemplar_median: num(median("exemplar")),
            exemplar_thin: of("exemplar").is_some_and(|s| s.median.is_some() && s.n < FEW_EXEMPLARS),
            others_median: num(median("others")),
        });
        if let Some((Some(p25), Some(median_all), Some(p75))) = all.map(|s| (s.p25, s.median, s.p75)) {
            groups.push(StripGroup {
                label: t.label().into(),
                points,
                p25,
                median: median_all,
                p75,
                exemplar_median: median("exemplar"),
            });
        }
    }
    let maturity_chart = strip_chart(&StripChart {
        id: "maturity".into(),
        title: format!("Maturity index by trust type, {}", period.financial_label()),
        y_label: "Maturity index (0–100)".into(),
        y_range: (0.0, 100.0),
        groups,
        reference_line: None,
    })?;

    let mut domain_values: (Vec<Option<f64>>, Vec<Option<f64>>) = (Vec::new(), Vec::new());
    let domains: Vec<DomainRow> = f
        .reference
        .domains
        .iter()
        .map(|d| {
            let median = |group: &str| f.summary(period, "england", &d.domain_id, group).and_then(|s| s.median);
            let (e, o) = (median("exemplar"), median("others"));
            domain_values.0.push(e);
            domain_values.1.push(o);
            DomainRow {
                name: d.name.clone(),
                exemplar: num(e),
                others: num(o),
                difference: num(e.zip(o).map(|(e, o)| e - o)),
            }
        })
        .collect();

    let domain_chart = crate::charts::bar_chart(&crate::charts::BarChart {
        id: "domains".into(),
        title: format!("Median domain index: exemplar trusts against the rest, {}", period.financial_label()),
        y_label: "Domain index (0–100)".into(),
        y_range: (0.0, 100.0),
        categories: f.reference.domains.iter().map(|d| d.name.clone()).collect(),
        series: vec![("Exemplar trusts".into(), domain_values.0), ("Other trusts".into(), domain_values.1)],
    })?;
    let mut series = Vec::new();
    let mut trend: Vec<TrendRow> =
        f.periods.iter().map(|q| TrendRow { quarter: q.financial_label(), values: Vec::new() }).collect();
    for t in TrustType::ALL {
        let mut points = Vec::new();
        for (k, q) in f.periods.iter().enumerate() {
            let m = f.summary(*q, t.as_str(), "all", "all").and_then(|s| s.median);
            trend[k].values.push(num(m));
            if let Some(m) = m {
                points.push((*q, m));
            }
        }
        series.push(TrendSeries { label: format!("{} median", t.label()), points });
    }
    let trend_chart = trend_chart(&TrendChart {
        id: "national-trend".into(),
        title: "Median maturity index by trust type over time".into(),
        y_label: "Maturity index (0–100)".into(),
        y_range: (0.0, 100.0),
        series,
    })?;

    let all_gaps = super::gaps::compute(f, Some(period), &Default::default());
    let gaps = all_gaps.rows.into_iter().take(10).collect();
    let areas = vec![
        ("Gaps by region", "Region", all_gaps.by_region),
        ("Gaps by integrated care board", "Integrated care board", all_gaps.by_icb),
    ];
    let exemplars_thin = types.iter().any(|t| t.exemplar_thin);

    Ok(OverviewPage {
        findings: Vec::new(),
        meta,
        period_label: period.financial_label(),
        period_value: period.to_string(),
        periods,
        maturity_chart,
        types,
        domains,
        domain_chart,
        trend_chart,
        trend_headers: TrustType::ALL.iter().map(|t| t.label().to_string()).collect(),
        trend,
        gaps,
        areas,
        exemplar_gap: Some(exemplar_gap(f)?),
        exemplars_thin,
    })
}
