//! Every figure of docs/RULES.md §4 on a small dataset computed by hand.

use exemplar::analytics::{Tables, compute};
use exemplar::domain::*;
use exemplar::store::CurrentValue;

fn metric(
    id: &str,
    domain: &str,
    unit: Unit,
    min: f64,
    max: f64,
    direction: Direction,
    applies_to: Vec<TrustType>,
) -> Metric {
    Metric {
        metric_id: id.into(),
        domain: domain.into(),
        name: id.into(),
        description: String::new(),
        unit,
        scale_min: min,
        scale_max: max,
        direction,
        applies_to,
        counted: String::new(),
        definition: Default::default(),
    }
}

fn org(code: &str, trust_type: TrustType, exemplar: Exemplar) -> Organisation {
    Organisation {
        ods_code: code.into(),
        name: code.into(),
        trust_type,
        region: "London".into(),
        icb: "QMJ".into(),
        exemplar,
        exemplar_cohort: None,
    }
}

fn reference() -> Reference {
    let domains = ["d1", "d2"]
        .iter()
        .map(|d| Domain { domain_id: (*d).into(), name: (*d).into(), description: String::new() })
        .collect();
    let metrics = vec![
        metric("m_hi", "d1", Unit::Score, 1.0, 5.0, Direction::HigherBetter, vec![]),
        metric("m_lo", "d1", Unit::Days, 0.0, 100.0, Direction::LowerBetter, vec![]),
        metric("m_two", "d2", Unit::Percent, 0.0, 100.0, Direction::HigherBetter, vec![]),
        metric("m_acute", "d2", Unit::Percent, 0.0, 100.0, Direction::HigherBetter, vec![TrustType::Acute]),
    ];
    let orgs = vec![
        org("A1", TrustType::Acute, Exemplar::Gde),
        org("A2", TrustType::Acute, Exemplar::FastFollower),
        org("A3", TrustType::Acute, Exemplar::None),
        org("A4", TrustType::Acute, Exemplar::None),
        org("M1", TrustType::MentalHealth, Exemplar::None),
    ];
    Reference::new(orgs, domains, metrics, vec![], vec![], vec![])
}

fn q(text: &str) -> Quarter {
    Quarter::parse(text).unwrap()
}

fn values() -> Vec<CurrentValue> {
    let v = |org: &str, metric: &str, period: &str, value: f64| CurrentValue {
        org_code: org.into(),
        metric_id: metric.into(),
        period: q(period),
        value,
        revision: 1,
        submitted_at: "2025-01-01T00:00:00Z".into(),
        counts: None,
    };
    vec![
        // The quarter under test, 2024-Q4.
        v("A1", "m_hi", "2024-Q4", 4.0),
        v("A2", "m_hi", "2024-Q4", 3.0),
        v("A3", "m_hi", "2024-Q4", 3.0),
        v("A4", "m_hi", "2024-Q4", 1.0),
        v("M1", "m_hi", "2024-Q4", 2.0),
        v("A1", "m_lo", "2024-Q4", 10.0),
        v("A2", "m_lo", "2024-Q4", 20.0),
        v("A3", "m_lo", "2024-Q4", 40.0),
        v("A4", "m_lo", "2024-Q4", 40.0),
        v("M1", "m_lo", "2024-Q4", 50.0),
        v("A1", "m_two", "2024-Q4", 80.0),
        v("A2", "m_two", "2024-Q4", 60.0),
        v("A4", "m_two", "2024-Q4", 20.0),
        v("M1", "m_two", "2024-Q4", 50.0),
        v("A1", "m_acute", "2024-Q4", 90.0),
        // History for the trends.
        v("A1", "m_hi", "2024-Q1", 1.0),
        v("A1", "m_hi", "2024-Q2", 2.0),
        v("A1", "m_lo", "2024-Q2", 30.0),
        v("A1", "m_lo", "2024-Q3", 20.0),
        v("A2", "m_two", "2024-Q1", 60.0),
        v("A2", "m_two", "2024-Q2", 60.0),
        v("A2", "m_two", "2024-Q3", 60.0),
        v("A4", "m_two", "2024-Q2", 40.0),
        v("A4", "m_two", "2024-Q3", 30.0),
    ]
}

fn tables() -> Tables {
    compute(&reference(), &values()).unwrap()
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

fn close_opt(actual: Option<f64>, expected: Option<f64>) {
    match (actual, expected) {
        (Some(a), Some(e)) => close(a, e),
        (a, e) => assert_eq!(a, e),
    }
}

#[test]
fn peer_statistics_interpolate_quartiles_linearly_and_take_the_exemplar_median() {
    let t = tables();
    let b = t
        .benchmarks
        .iter()
        .find(|b| &*b.metric_id == "m_hi" && b.period == q("2024-Q4") && &*b.peer_group == "acute")
        .unwrap();
    assert_eq!(b.n, 4);
    close(b.min, 1.0);
    close(b.p25, 2.5);
    close(b.median, 3.0);
    close(b.p75, 3.25);
    close(b.max, 4.0);
    close(b.mean, 2.75);
    assert_eq!(b.exemplar_n, 2);
    close_opt(b.exemplar_median, Some(3.5));
    close(b.national_median, 3.0);
    assert_eq!(&*b.domain, "d1");

    let lo = t
        .benchmarks
        .iter()
        .find(|b| &*b.metric_id == "m_lo" && b.period == q("2024-Q4") && &*b.peer_group == "acute")
        .unwrap();
    close(lo.p25, 17.5);
    close(lo.median, 30.0);
    close(lo.p75, 40.0);
    close_opt(lo.exemplar_median, Some(15.0));
    close(lo.national_median, 40.0);
}

#[test]
fn a_peer_group_without_exemplars_has_no_exemplar_median_and_no_gap() {
    let t = tables();
    let b = t
        .benchmarks
        .iter()
        .find(|b| &*b.metric_id == "m_hi" && b.period == q("2024-Q4") && &*b.peer_group == "mental_health")
        .unwrap();
    assert_eq!((b.n, b.exemplar_n, b.exemplar_median), (1, 0, None));
    let m1 = t.trust_benchmarks.iter().find(|r| &*r.org_code == "M1" && &*r.metric_id == "m_hi").unwrap();
    assert_eq!((m1.rank, m1.quartile, m1.gap_to_exemplar, m1.behind_best_practice), (1, 1, None, None));
    close(m1.percentile, 100.0);
}

#[test]
fn tied_values_share_the_smallest_rank_and_percentiles_follow() {
    let t = tables();
    let row = |org: &str, metric: &str| {
        t.trust_benchmarks
            .iter()
            .find(|r| &*r.org_code == org && &*r.metric_id == metric && r.period == q("2024-Q4"))
            .unwrap()
    };
    assert_eq!(
        [row("A1", "m_hi").rank, row("A2", "m_hi").rank, row("A3", "m_hi").rank, row("A4", "m_hi").rank],
        [1, 2, 2, 4]
    );
    close(row("A1", "m_hi").percentile, 100.0);
    close(row("A2", "m_hi").percentile, 200.0 / 3.0);
    close(row("A4", "m_hi").percentile, 0.0);
    assert_eq!(
        [
            row("A1", "m_hi").quartile,
            row("A2", "m_hi").quartile,
            row("A3", "m_hi").quartile,
            row("A4", "m_hi").quartile
        ],
        [1, 2, 2, 4]
    );
    close_opt(row("A1", "m_hi").gap_to_exemplar, Some(-0.5));
    close_opt(row("A2", "m_hi").gap_to_exemplar, Some(0.5));
    close(row("A4", "m_hi").gap_to_median, 2.0);
    assert_eq!(row("A1", "m_hi").behind_best_practice, Some(false));
    assert_eq!(row("A2", "m_hi").behind_best_practice, Some(true));
    close(row("A1", "m_hi").score, 75.0);
    close(row("A4", "m_hi").score, 0.0);
}

#[test]
fn lower_is_better_mirrors_ranks_quartiles_gaps_and_scores() {
    let t = tables();
    let row = |org: &str| {
        t.trust_benchmarks
            .iter()
            .find(|r| &*r.org_code == org && &*r.metric_id == "m_lo" && r.period == q("2024-Q4"))
            .unwrap()
    };
    assert_eq!([row("A1").rank, row("A2").rank, row("A3").rank, row("A4").rank], [1, 2, 3, 3]);
    assert_eq!([row("A1").quartile, row("A2").quartile, row("A3").quartile, row("A4").quartile], [1, 2, 3, 3]);
    close(row("A3").percentile, 100.0 / 3.0);
    close_opt(row("A1").gap_to_exemplar, Some(-5.0));
    close_opt(row("A3").gap_to_exemplar, Some(25.0));
    close(row("A1").gap_to_median, -20.0);
    close(row("A3").gap_to_median, 10.0);
    assert_eq!(row("A2").behind_best_practice, Some(true));
    close(row("A1").score, 90.0);
    close(row("A3").score, 60.0);
}

#[test]
fn a_gap_of_exactly_zero_is_not_behind() {
    let t = tables();
    let a1 = t.trust_benchmarks.iter().find(|r| &*r.org_code == "A1" && &*r.metric_id == "m_acute").unwrap();
    close_opt(a1.gap_to_exemplar, Some(0.0));
    assert_eq!(a1.behind_best_practice, Some(false));
}

#[test]
fn domain_indices_need_half_their_metrics_and_maturity_averages_the_domains() {
    let t = tables();
    let idx = |org: &str, domain: &str| {
        t.indices.iter().find(|i| &*i.org_code == org && &*i.domain == domain && i.period == q("2024-Q4")).unwrap()
    };
    close_opt(idx("A1", "d1").domain_index, Some(82.5));
    close_opt(idx("A1", "d2").domain_index, Some(85.0));
    close_opt(idx("A1", "all").domain_index, Some(83.75));
    // One of two metrics is half: enough.
    close_opt(idx("A2", "d2").domain_index, Some(60.0));
    assert_eq!((idx("A2", "d2").n_metrics, idx("A2", "d2").n_applicable), (1, 2));
    // None of two: empty, and the maturity index averages only the non-empty domain.
    assert_eq!(idx("A3", "d2").domain_index, None);
    assert_eq!(idx("A3", "d2").n_metrics, 0);
    close_opt(idx("A3", "all").domain_index, Some(55.0));
    assert_eq!((idx("A3", "all").n_metrics, idx("A3", "all").n_applicable), (2, 4));
    close_opt(idx("A4", "all").domain_index, Some(25.0));
    // The acute-only metric does not count against a mental health trust.
    assert_eq!(idx("M1", "d2").n_applicable, 1);
    close_opt(idx("M1", "d1").domain_index, Some(37.5));
    close_opt(idx("M1", "all").domain_index, Some(43.75));
    assert!((idx("A2", "all").coverage() - 0.75).abs() < 1e-12);
}

#[test]
fn trends_take_the_change_and_the_least_squares_slope_over_four_quarters() {
    let t = tables();
    let tr = |org: &str, metric: &str, period: &str| {
        t.trends.iter().find(|r| &*r.org_code == org && &*r.metric_id == metric && r.period == q(period)).unwrap()
    };
    // 1, 2, (none), 4: no previous quarter, slope 1 from three points.
    let a = tr("A1", "m_hi", "2024-Q4");
    assert_eq!(a.change, None);
    close_opt(a.slope, Some(1.0));
    assert_eq!(a.trend.as_deref(), Some("improving"));
    let early = tr("A1", "m_hi", "2024-Q2");
    close_opt(early.change, Some(1.0));
    assert_eq!((early.slope, early.trend.as_deref()), (None, None));
    // Lower is better: 30, 20, 10 days is improving.
    let lo = tr("A1", "m_lo", "2024-Q4");
    close_opt(lo.change, Some(10.0));
    close_opt(lo.slope, Some(10.0));
    assert_eq!(lo.trend.as_deref(), Some("improving"));
    let flat = tr("A2", "m_two", "2024-Q4");
    close_opt(flat.change, Some(0.0));
    close_opt(flat.slope, Some(0.0));
    assert_eq!(flat.trend.as_deref(), Some("stable"));
    let down = tr("A4", "m_two", "2024-Q4");
    close_opt(down.change, Some(-10.0));
    close_opt(down.slope, Some(-10.0));
    assert_eq!(down.trend.as_deref(), Some("worsening"));
}

#[test]
fn the_gap_summary_counts_the_trusts_behind_the_exemplar_median() {
    let t = tables();
    let g = t
        .gaps
        .iter()
        .find(|g| &*g.metric_id == "m_hi" && g.period == q("2024-Q4") && &*g.peer_group == "acute")
        .unwrap();
    assert_eq!((g.n, g.n_behind), (4, 3));
    close(g.share_behind, 0.75);
    // gaps -0.5, 0.5, 0.5, 2.5: median 0.5
    close_opt(g.median_gap, Some(0.5));
}

#[test]
fn index_summaries_give_the_quartiles_of_each_index_by_type_and_for_england_by_group() {
    let t = tables();
    let r = reference();
    let p = q("2024-Q4");
    let type7 = |mut v: Vec<f64>, prob: f64| {
        v.sort_by(f64::total_cmp);
        let h = (v.len() - 1) as f64 * prob;
        let lo = h.floor() as usize;
        v[lo] + (h - lo as f64) * (v[h.ceil() as usize] - v[lo])
    };
    let mut checked = 0;
    for s in t.summaries.iter().filter(|s| s.period == p) {
        let members: Vec<f64> = t
            .indices
            .iter()
            .filter(|i| i.period == p && i.domain == s.domain)
            .filter(|i| &*s.scope == "england" || i.trust_type == s.scope)
            .filter(|i| {
                let exemplar = r.organisation(&i.org_code).unwrap().exemplar.is_exemplar();
                match &*s.group {
                    "all" => true,
                    "exemplar" => exemplar,
                    _ => !exemplar,
                }
            })
            .filter_map(|i| i.domain_index)
            .collect();
        assert_eq!(s.n as usize, members.len(), "{s:?}");
        close(s.median.unwrap(), type7(members.clone(), 0.5));
        close(s.p25.unwrap(), type7(members.clone(), 0.25));
        close(s.p75.unwrap(), type7(members, 0.75));
        checked += 1;
    }
    // Acute and mental health, and England; each with all, exemplar (acute and England only) and others.
    assert!(t.summaries.iter().any(|s| &*s.scope == "england" && &*s.domain == "all" && &*s.group == "exemplar"));
    assert!(checked >= 10, "{checked}");
}
