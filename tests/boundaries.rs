//! Decisions on a boundary are those of exact decimal arithmetic (docs/RULES.md §4.7): values
//! that sit exactly on the exemplar median or on the trend threshold, where binary floating
//! point alone lands a hair either side.

use exemplar::analytics::compute;
use exemplar::domain::*;
use exemplar::export::Cell;
use exemplar::store::CurrentValue;

fn reference() -> Reference {
    let domain = Domain { domain_id: "d".into(), name: "d".into(), description: String::new() };
    let metric = |id: &str, direction: Direction| Metric {
        metric_id: id.into(),
        domain: "d".into(),
        name: id.into(),
        description: String::new(),
        unit: Unit::Percent,
        scale_min: 0.0,
        scale_max: 100.0,
        direction,
        applies_to: vec![],
        counted: String::new(),
        definition: Default::default(),
    };
    let org = |code: &str, exemplar: Exemplar| Organisation {
        ods_code: code.into(),
        name: code.into(),
        trust_type: if code.starts_with('M') { TrustType::MentalHealth } else { TrustType::Acute },
        region: "London".into(),
        icb: "QMJ".into(),
        exemplar,
        exemplar_cohort: None,
    };
    let orgs = vec![
        org("E1", Exemplar::Gde),
        org("E2", Exemplar::Gde),
        org("T1", Exemplar::None),
        org("T2", Exemplar::None),
        org("T3", Exemplar::None),
        org("M1", Exemplar::None),
        org("M2", Exemplar::None),
    ];
    let metrics = vec![metric("up", Direction::HigherBetter), metric("down", Direction::LowerBetter)];
    Reference::new(orgs, vec![domain], metrics, vec![], vec![], vec![])
}

fn value(org: &str, metric: &str, period: &str, value: f64) -> CurrentValue {
    CurrentValue {
        org_code: org.into(),
        metric_id: metric.into(),
        period: Quarter::parse(period).unwrap(),
        value,
        revision: 1,
        submitted_at: "2025-01-01T00:00:00Z".into(),
        counts: None,
    }
}

#[test]
fn a_trust_whose_value_equals_the_exemplar_median_is_not_behind_and_the_median_reads_as_written() {
    // The exemplar median of 80.1 and 80.3 is 80.2; in floating point it comes out 80.19999999999999.
    let mut values = Vec::new();
    for metric in ["up", "down"] {
        values.extend([
            value("E1", metric, "2025-Q1", 80.1),
            value("E2", metric, "2025-Q1", 80.3),
            value("T1", metric, "2025-Q1", 80.2),
            value("T2", metric, "2025-Q1", 0.3),
            value("T3", metric, "2025-Q1", 0.1),
        ]);
    }
    let tables = compute(&reference(), &values).unwrap();
    for metric in ["up", "down"] {
        let b = tables.benchmarks.iter().find(|b| &*b.metric_id == metric).unwrap();
        assert_eq!(b.exemplar_median, Some(80.2), "{metric}");
        assert_eq!(Cell::opt_number(b.exemplar_median).render(), "80.2");
        let t1 = tables.trust_benchmarks.iter().find(|t| &*t.metric_id == metric && &*t.org_code == "T1").unwrap();
        assert_eq!(t1.gap_to_exemplar, Some(0.0), "{metric}");
        assert_eq!(t1.behind_best_practice, Some(false), "{metric}");
    }
}

#[test]
fn a_value_that_is_not_a_decimal_leaves_other_peer_groups_and_trusts_exact() {
    // A mental health trust's value of a third, the acute trusts' as in the test above, and a
    // mental health trust whose series is of thirds beside an acute one that rises by exactly 1.
    let third = 1.0 / 3.0;
    let mut values = vec![
        value("E1", "up", "2025-Q1", 80.1),
        value("E2", "up", "2025-Q1", 80.3),
        value("T1", "up", "2025-Q1", 80.2),
        value("M1", "up", "2025-Q1", third),
    ];
    for (i, q) in ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"].into_iter().enumerate() {
        values.push(value("T2", "up", q, 0.1 + i as f64));
        values.push(value("M2", "up", q, 10.0 * third * (1 + i) as f64));
    }
    let tables = compute(&reference(), &values).unwrap();
    let q1 = Quarter::parse("2025-Q1").unwrap();
    let acute = tables.benchmarks.iter().find(|b| &*b.peer_group == "acute" && b.period == q1).unwrap();
    assert_eq!(acute.exemplar_median, Some(80.2), "the acute group's figures are snapped to its own values");
    let t1 = tables.trust_benchmarks.iter().find(|t| &*t.org_code == "T1").unwrap();
    assert_eq!((t1.gap_to_exemplar, t1.behind_best_practice), (Some(0.0), Some(false)));
    let trend = |org: &str| tables.trends.iter().find(|t| &*t.org_code == org && t.period == q1).unwrap();
    assert_eq!(trend("T2").trend.as_deref(), Some("stable"), "T2's trend is snapped to its own values");
    assert_eq!(Cell::opt_number(trend("T2").change).render(), "1");
    // The thirds themselves are not decimals: their figures are as floating point has them.
    let m2 = trend("M2");
    assert_eq!(m2.change, Some(10.0 * third * 4.0 - 10.0 * third * 3.0));
    assert_eq!(m2.trend.as_deref(), Some("improving"));
    let mental_health = tables.benchmarks.iter().find(|b| &*b.peer_group == "mental_health" && b.period == q1).unwrap();
    assert_eq!(mental_health.min, third);
}

#[test]
fn a_slope_of_exactly_one_percent_of_the_scale_is_stable() {
    // 0–100 scale: the threshold is a slope of 1 a quarter. Values rising by exactly 1, written
    // with decimals that binary floating point cannot hold.
    let quarters = ["2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"];
    let series: [(&str, &str, [f64; 4]); 4] = [
        ("T1", "up", [0.1, 1.1, 2.1, 3.1]), // slope exactly 1 (1.0000000000000002 in floats): stable
        ("T2", "up", [0.1, 1.11, 2.12, 3.13]), // just over: improving
        ("T3", "down", [0.2, 1.2, 2.2, 3.2]), // rising by exactly 1 on lower-better: stable
        ("E1", "down", [0.2, 1.21, 2.22, 3.23]), // just over: worsening
    ];
    let values: Vec<CurrentValue> = series
        .iter()
        .flat_map(|(org, metric, v)| quarters.iter().zip(v).map(|(q, v)| value(org, metric, q, *v)))
        .collect();
    let tables = compute(&reference(), &values).unwrap();
    let trend = |org: &str| {
        let t = tables
            .trends
            .iter()
            .find(|t| &*t.org_code == org && t.period == Quarter::parse("2025-Q1").unwrap())
            .unwrap();
        (t.trend.as_deref().map(str::to_string), t.change)
    };
    assert_eq!(trend("T1").0.as_deref(), Some("stable"));
    assert_eq!(trend("T2").0.as_deref(), Some("improving"));
    assert_eq!(trend("T3").0.as_deref(), Some("stable"));
    assert_eq!(trend("E1").0.as_deref(), Some("worsening"));
    // The change on the quarter before reads as the decimals give it.
    assert_eq!(Cell::opt_number(trend("T1").1).render(), "1");
    assert_eq!(Cell::opt_number(trend("T3").1).render(), "-1");
}
