//! Peers like us (docs/RULES.md §10.1) on the demo: each trust's 15 nearest trusts of its own
//! type, in the export and on the trust's page, with the reasons.

mod common;

use common::{TestApp, parse_csv};

#[tokio::test]
async fn every_trust_has_fifteen_peers_of_its_own_type_with_reasons() {
    let app = TestApp::spawn(true).await;
    let (status, text) = app.text("/export/peers.csv").await;
    assert_eq!(status, 200, "{text}");
    let (header, rows) = parse_csv(&text);
    assert_eq!(header, ["org_code", "peer_code", "rank", "distance", "reasons"]);
    let reference = &app.state.figures().reference;
    let type_of = |code: &str| reference.organisation(code).map(|o| o.trust_type);
    let mut by_trust: std::collections::BTreeMap<&str, Vec<&Vec<String>>> = Default::default();
    for r in &rows {
        assert_ne!(r[0], r[1], "a trust is not its own peer");
        assert_eq!(type_of(&r[0]), type_of(&r[1]), "{r:?}");
        by_trust.entry(r[0].as_str()).or_default().push(r);
    }
    let cambridge = &by_trust["RGT"];
    assert_eq!(
        cambridge.iter().map(|r| r[2].parse::<usize>().unwrap()).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<_>>()
    );
    let distances: Vec<f64> = cambridge.iter().map(|r| r[3].parse().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
    assert!(cambridge.iter().all(|r| r[4].contains("maturity")), "{cambridge:?}");
    // Size where NHS England's A&E file lists both trusts (Great Ormond Street has no A&E).
    assert!(cambridge.iter().filter(|r| r[4].contains("A&E attendances a month")).count() >= 10, "{cambridge:?}");
    // Ambulance trusts (ten) have nine peers each.
    let ambulance = by_trust.iter().filter(|(code, _)| type_of(code).is_some_and(|t| t.as_str() == "ambulance"));
    assert!(ambulance.clone().count() > 0 && ambulance.clone().all(|(_, peers)| peers.len() == 9));

    // A trust's peers only, and on its page.
    let (_, one) = app.text("/export/peers.csv?org_code=RGT").await;
    assert_eq!(parse_csv(&one).1.len(), 15);
    let (status, page) = app.text("/trusts/RGT").await;
    assert_eq!(status, 200);
    assert!(page.contains("Trusts like this one"), "the page lists peers");
    assert!(
        page.contains("A&amp;E attendances a month") || page.contains("A&#38;E attendances a month"),
        "{}",
        &page[page.find("Trusts like this one").unwrap()..][..3000]
    );
}

#[tokio::test]
async fn the_most_improved_trusts_and_the_peers_that_closed_a_gap_are_named() {
    let app = TestApp::spawn(true).await;
    let f = app.state.figures();
    let latest = f.latest_period().unwrap();
    let metric = "eprescribing_coverage";
    let improvers = f.improvers(metric, latest);
    assert!(!improvers.is_empty());
    for w in improvers.windows(2).filter(|w| w[0].trust_type == w[1].trust_type) {
        assert!(w[0].improvement >= w[1].improvement, "most improved first");
    }
    for i in &improvers {
        let (a, b) =
            (f.value_at(&i.org_code, metric, latest + -4).unwrap(), f.value_at(&i.org_code, metric, latest).unwrap());
        assert_eq!((a.value, b.value), (i.value_from, i.value_to));
        assert!(i.improvement > 0.0);
    }
    assert!(improvers.iter().any(|i| i.significant.is_some()), "a proportion with counts is tested");

    // Every peer said to have closed a gap was behind four quarters before and is not now.
    let peers = f.peers(latest, Some("RGT"));
    let mut closed = 0;
    for m in &f.reference.metrics {
        for p in f.closed_gap(&peers, &m.metric_id, latest) {
            let behind = |q| f.position(&p.peer_code, &m.metric_id, q).and_then(|x| x.behind_best_practice);
            assert_eq!((behind(latest + -4), behind(latest)), (Some(true), Some(false)));
            closed += 1;
        }
    }
    assert!(closed > 0, "some peer of Cambridge closed some gap in the demo");

    let (status, page) = app.text(&format!("/metrics/{metric}?peer_group=acute")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Most improved acute trusts since"), "the metric page names the most improved");
    let (_, page) = app.text("/trusts/RGT").await;
    assert!(page.contains("Trusts like this one that closed this gap"));
}
