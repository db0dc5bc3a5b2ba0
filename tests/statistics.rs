//! The statistics against the reference implementations' own output (tests/reference): Making
//! Data Count charts as NHSRplotthedots computes them, Wilson intervals and funnel limits as
//! PHStatsMethods computes them.

mod common;

use common::{TestApp, parse_csv};
use exemplar::analytics::spc::{self, PointType, Rule};
use exemplar::analytics::uncertainty::{Level, Position, funnel_point, wilson};
use exemplar::domain::Direction;

fn reference(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(name);
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

fn number(text: &str) -> f64 {
    if text == "NA" || text == "NaN" { f64::NAN } else { text.parse().unwrap() }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn spc_charts_match_nhsrplotthedots_point_by_point() {
    let rows = reference("spc_nhsrplotthedots.csv");
    let mut cases: std::collections::BTreeMap<u32, Vec<&std::collections::HashMap<String, String>>> =
        Default::default();
    for r in &rows {
        cases.entry(r["case"].parse().unwrap()).or_default().push(r);
    }
    let mut rules_seen = std::collections::BTreeSet::new();
    for (case, points) in &cases {
        let direction = if points[0]["direction"] == "1" { Direction::HigherBetter } else { Direction::LowerBetter };
        let values: Vec<f64> = points.iter().map(|p| number(&p["y"])).collect();
        let chart = spc::chart(&values, direction, None).unwrap();
        let (lower, upper) = chart.limits.expect("every reference series has 12 points or more");
        assert!(same(chart.mean, number(&points[0]["mean"])), "case {case}: mean");
        assert!(
            same(lower, number(&points[0]["lpl"])) && same(upper, number(&points[0]["upl"])),
            "case {case}: limits"
        );
        for (i, (p, ours)) in points.iter().zip(&chart.points).enumerate() {
            let theirs = p["special_cause_type"].as_str();
            let rule = match theirs {
                "Above UCL" | "Below LCL" => Rule::OutsideLimits,
                t if t.starts_with("7 Point Trend") => Rule::Trend,
                t if t.starts_with("2 in 3") => Rule::TwoInThree,
                t if t.starts_with("7 Points") => Rule::Shift,
                _ => Rule::None,
            };
            rules_seen.insert(rule.as_str());
            assert_eq!(ours.rule, rule, "case {case}, point {}: {theirs}", i + 1);
            assert_eq!(ours.point_type.as_str(), p["point_type"], "case {case}, point {}", i + 1);
        }
    }
    assert_eq!(rules_seen.len(), 5, "every rule fires in the reference data: {rules_seen:?}");
}

#[test]
fn where_rules_overlap_the_higher_in_precedence_names_the_point() {
    // Seven points rising whose last ones are also beyond the upper limit, after points below
    // the mean that are part of a shift and of two-in-three at once. NHSRplotthedots gives
    // exactly this (run through its own functions as tests/reference describes).
    let y = [10.0, 10.4, 9.8, 10.1, 9.9, 10.2, 10.0, 10.1, 9.9, 10.0, 10.3, 10.6, 10.9, 11.2, 11.5, 11.8, 14.0];
    let c = spc::chart(&y, Direction::HigherBetter, None).unwrap();
    let rules: Vec<&str> = c.points.iter().map(|p| p.rule.as_str()).collect();
    let mut expected = vec!["shift", "shift", "outside_limits", "two_in_three", "two_in_three", "shift"];
    expected.extend(["two_in_three", "two_in_three"]);
    expected.extend(["trend"; 6]);
    expected.extend(["outside_limits"; 3]);
    assert_eq!(rules, expected);
    assert!(c.points[..8].iter().all(|p| p.point_type == PointType::Concern));
    assert!(c.points[8..].iter().all(|p| p.point_type == PointType::Improvement));
    assert_eq!(c.variation_icon, "improvement_high");
}

#[test]
fn wilson_intervals_and_funnel_limits_match_phstatsmethods() {
    let rows = reference("proportions_phstatsmethods.csv");
    assert!(rows.len() > 200);
    for r in &rows {
        let (n, d, pooled) = (number(&r["numerator"]), number(&r["denominator"]), number(&r["pooled"]));
        let (l95, u95) = wilson(n, d, Level::P95).unwrap();
        let (l998, u998) = wilson(n, d, Level::P998).unwrap();
        let context = format!("{n} of {d}");
        assert!(
            same(100.0 * l95, number(&r["ci95_lower"])) && same(100.0 * u95, number(&r["ci95_upper"])),
            "{context}"
        );
        assert!(
            same(100.0 * l998, number(&r["ci998_lower"])) && same(100.0 * u998, number(&r["ci998_upper"])),
            "{context}"
        );
        let point = funnel_point(n, d, pooled).unwrap();
        for (ours, theirs) in [
            (point.lower_95, "lower_95"),
            (point.upper_95, "upper_95"),
            (point.lower_998, "lower_998"),
            (point.upper_998, "upper_998"),
        ] {
            assert!((ours - number(&r[theirs])).abs() <= 1e-7, "{context}: {theirs} {ours} against {}", r[theirs]);
        }
        let expected = match r["significance"].as_str() {
            "High (0.001)" => Position::Above998,
            "High (0.025)" => Position::Above95,
            "Low (0.025)" => Position::Below95,
            "Low (0.001)" => Position::Below998,
            _ => Position::Within,
        };
        assert_eq!(point.position, expected, "{context} around {pooled}");
    }
}

#[tokio::test]
async fn the_demo_shows_intervals_funnels_and_charts_on_pages_and_in_exports() {
    let app = TestApp::spawn(true).await;
    let column = |header: &[String], name: &str| header.iter().position(|h| h == name).unwrap();

    // Intervals: every proportion value of the demo has counts; scores have none.
    let (status, body) = app.text("/export/intervals.csv?org_code=RGT").await;
    assert_eq!(status, 200);
    let (h, rows) = parse_csv(&body);
    assert_eq!(
        h.join(","),
        "org_code,metric_id,period,numerator,denominator,value,ci95_lower,ci95_upper,ci998_lower,ci998_upper,\
         england_value,vs_england_95,vs_england_998,peer_value,vs_peers_95,vs_peers_998"
    );
    let proportion = rows.iter().find(|r| r[1] == "eprescribing_coverage").unwrap();
    let (n, d): (f64, f64) = (proportion[3].parse().unwrap(), proportion[4].parse().unwrap());
    assert!(d >= 100.0, "a denominator sized to the trust: {d}");
    let (lower, upper) = wilson(n, d, Level::P95).unwrap();
    assert!((proportion[6].parse::<f64>().unwrap() - 100.0 * lower).abs() < 1e-9);
    assert!((proportion[7].parse::<f64>().unwrap() - 100.0 * upper).abs() < 1e-9);
    assert!(["better", "similar", "worse"].contains(&proportion[column(&h, "vs_england_95")].as_str()));
    let score = rows.iter().find(|r| r[1] == "digital_leadership_capability").unwrap();
    assert_eq!((score[3].as_str(), score[6].as_str(), score[11].as_str()), ("", "", "not_compared"));

    // England's value is the pooled proportion of every trust's counts.
    let (_, body) = app.text("/export/intervals.csv?metric_id=eprescribing_coverage&period=2025-Q2").await;
    let (_, all) = parse_csv(&body);
    let (sum_n, sum_d) =
        all.iter().fold((0.0, 0.0), |(a, b), r| (a + r[3].parse::<f64>().unwrap(), b + r[4].parse::<f64>().unwrap()));
    assert!((all[0][10].parse::<f64>().unwrap() - 100.0 * sum_n / sum_d).abs() < 1e-9);

    // Funnels: one row per value with counts, limits around the pooled value.
    let (_, body) = app.text("/export/funnels.csv?metric_id=eprescribing_coverage&period=2025-Q2").await;
    let (h, funnel) = parse_csv(&body);
    assert_eq!(
        h.join(","),
        "metric_id,period,org_code,denominator,value,pooled_value,lower_95,upper_95,lower_998,upper_998,position"
    );
    assert_eq!(funnel.len(), all.len());
    for r in &funnel {
        let v: Vec<f64> = (5..10).map(|i| r[i].parse().unwrap()).collect();
        assert!(v[3] <= v[1] && v[1] <= v[2] && v[2] <= v[4], "99.8% outside 95% around the pooled value: {r:?}");
    }

    // SPC: twelve demo quarters, so every full series has limits.
    let (_, body) = app.text("/export/spc.csv?org_code=RGT&metric_id=eprescribing_coverage").await;
    let (h, spc_rows) = parse_csv(&body);
    assert_eq!(
        h.join(","),
        "org_code,metric_id,period,value,mean,lower_limit,upper_limit,special_cause,point_type,variation_icon,assurance_icon"
    );
    let values: Vec<f64> = spc_rows.iter().map(|r| r[3].parse().unwrap()).collect();
    let chart = spc::chart(&values, Direction::HigherBetter, None).unwrap();
    assert_eq!(spc_rows.len() >= 12, chart.limits.is_some());
    assert!((spc_rows[0][4].parse::<f64>().unwrap() - chart.mean).abs() < 1e-9);
    let (_, body) = app.text("/export/spc_groups.csv?peer_group=acute&metric_id=eprescribing_coverage").await;
    let (h, groups) = parse_csv(&body);
    assert_eq!(h[0], "peer_group");
    assert_eq!(groups.len(), 12, "one point per demo quarter");

    // Pages: the scorecard's significance and icons, the funnel, the trust's chart.
    let (_, trust) = app.text("/trusts/RGT").await;
    assert!(trust.contains("Against England") && trust.contains("app-sig--"), "significance on the scorecard");
    assert!(trust.contains("/trusts/RGT/metrics/eprescribing_coverage"));
    let (_, metric) = app.text("/metrics/eprescribing_coverage").await;
    assert!(metric.contains("Funnel plot") && metric.contains("id=\"funnel-title\""), "a funnel plot");
    let (status, history) = app.text("/trusts/RGT/metrics/eprescribing_coverage").await;
    assert_eq!(status, 200);
    assert!(history.contains("id=\"spc-title\"") && history.contains("Variation"));
    assert_eq!(app.text("/trusts/RGT/metrics/epcr_completion").await.0, 404, "an ambulance metric at an acute trust");
    let (status, compare) = app.text("/compare?orgs=RGT,R0A,RJ1&colour=significance").await;
    assert_eq!(status, 200);
    assert!(compare.contains("coloured by its significance against England"), "the rug by significance");
    assert!(compare.contains("Better than England") && compare.contains("app-worse"), "{}", compare.len());
    assert_eq!(app.text("/compare?orgs=RGT&colour=rainbow").await.0, 400);
    let (_, yes_no) = app.text("/metrics/digital_strategy_approved").await;
    assert!(
        yes_no.contains("share of trusts saying yes") && yes_no.contains("Trusts saying yes (%)"),
        "a yes/no metric as shares"
    );
    let (_, methods) = app.text("/methods").await;
    assert!(methods.contains("id=\"funnels\"") && methods.contains("id=\"spc\""));
}
