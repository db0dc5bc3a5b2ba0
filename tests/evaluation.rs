//! Did the exemplar programme move maturity? (docs/RULES.md §10.2) On the demo's twelve
//! quarters to 2026-Q3, fixed so that the test does not move with the calendar: the demo's fast
//! followers of 2019 gain 0.12 of each metric's scale from 2025-Q1, and the evaluation finds it.

mod common;

use common::{TestApp, parse_csv};
use exemplar::domain::Quarter;

fn table(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let (header, rows) = parse_csv(text);
    rows.into_iter().map(|r| header.iter().cloned().zip(r).collect()).collect()
}

#[tokio::test]
async fn the_evaluation_finds_the_effect_planted_in_the_demo_cohort() {
    let app = TestApp::spawn(false).await;
    let reference = app.state.figures().reference.clone();
    let options =
        exemplar::demo::DemoOptions { trusts: None, quarters: 12, seed: 2016, end: Quarter::parse("2026-Q3").unwrap() };
    let mut csv = Vec::new();
    exemplar::demo::write_demo(&reference, &options, &mut csv).unwrap();
    common::submit_csv(&app.state.store, csv, chrono::Utc::now().date_naive(), false).await;
    app.state.refresh().await.unwrap();

    let (status, text) = app.text("/export/evaluation.csv").await;
    assert_eq!(status, 200, "{text}");
    let rows = table(&text);
    let maturity = rows
        .iter()
        .find(|r| r["cohort"] == "fast_follower_2019" && r["outcome"] == "maturity_index")
        .unwrap_or_else(|| panic!("the demo cohort is evaluated: {rows:?}"));
    let num = |k: &str| maturity[k].parse::<f64>().unwrap();
    assert!(num("ci_lower") > 0.0 && num("estimate") > 5.0, "the planted gain is found: {maturity:?}");
    assert!(num("pre_trend_p") > 0.01, "no pre-trend was planted: {maturity:?}");
    assert_eq!((maturity["n_treated"].as_str(), maturity["n_control"].as_str()), ("11", "11"));
    // The real cohorts started before the data: not evaluated, and so not listed.
    assert!(!rows.iter().any(|r| r["cohort"] == "gde_2016"));

    // Each cohort trust has its own comparison trust: same type, no exemplar status, used once.
    let (_, text) = app.text("/export/evaluation_units.csv").await;
    let units: Vec<_> = table(&text).into_iter().filter(|u| u["cohort"] == "fast_follower_2019").collect();
    let controls: Vec<&String> = units.iter().filter(|u| u["role"] == "control").map(|u| &u["org_code"]).collect();
    let distinct: std::collections::BTreeSet<&&String> = controls.iter().collect();
    assert_eq!((controls.len(), distinct.len()), (11, 11));
    for u in units.iter().filter(|u| u["role"] == "control") {
        let (c, t) =
            (reference.organisation(&u["org_code"]).unwrap(), reference.organisation(&u["matched_to"]).unwrap());
        assert_eq!(c.trust_type, t.trust_type);
        assert!(!c.exemplar.is_exemplar(), "{}", c.ods_code);
        assert_eq!(u["start_period"], "2025-Q1");
    }

    // The event study: the quarter before the start is the reference; later quarters carry the gain.
    let (_, text) = app.text("/export/event_study.csv").await;
    let events: Vec<_> = table(&text)
        .into_iter()
        .filter(|e| e["cohort"] == "fast_follower_2019" && e["outcome"] == "maturity_index")
        .collect();
    let at = |k: &str| events.iter().find(|e| e["relative_quarter"] == k).unwrap_or_else(|| panic!("{k}: {events:?}"));
    assert_eq!(at("-1")["estimate"], "0");
    assert!(at("0")["ci_lower"].parse::<f64>().unwrap() > 0.0, "{:?}", at("0"));
    assert!(at("-2")["ci_lower"].parse::<f64>().unwrap() < 0.0 && at("-2")["ci_upper"].parse::<f64>().unwrap() > 0.0);

    let (status, page) = app.text("/evaluation").await;
    assert_eq!(status, 200);
    assert!(page.contains("rose by") && page.contains("moved in parallel") && page.contains("Not evaluated"), "{page}");
}
